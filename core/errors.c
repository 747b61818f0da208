/* core/errors.c -- the texts of status and trap codes, generated from the X-macro lists in errors.h. */
#include "weft/weft.h"

static const char *const status_text[] = {
#define STATUS_TEXT(id, str) str,
    WEFT_STATUS_LIST(STATUS_TEXT)
#undef STATUS_TEXT
};

static const char *const trap_text[] = {
#define TRAP_TEXT(id, str) str,
    WEFT_TRAP_LIST(TRAP_TEXT)
#undef TRAP_TEXT
};

const char *weft_version(void) { return WEFT_VERSION_STRING; }

const char *weft_status_str(int status) {
  if (status < 0 || status >= WEFT_STATUS_COUNT) return "unknown status";
  return status_text[status];
}

const char *weft_trap_str(int trap_code) {
  if (trap_code < 0 || trap_code >= WEFT_TRAP_COUNT) return "unknown trap";
  return trap_text[trap_code];
}
