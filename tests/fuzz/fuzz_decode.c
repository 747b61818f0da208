/* tests/fuzz/fuzz_decode.c -- libFuzzer target: core_decode on arbitrary bytes, then (when the
 * validator plugin's object library is linked in, WEFT_FUZZ_WITH_VALIDATOR) validation of every
 * module that decodes. The validator gets a small fake host table defined here.
 * Build: -DWEFT_FUZZ=ON with clang-14 (see tests/fuzz/CMakeLists.txt). Seeds: decode-seeds/.
 * Environment: WEFT_FUZZ_NO_VALIDATE=1 skips the validator (to fuzz the decoder alone).
 * Depends on: core/decode.h, core/types.h, optionally plugins/validator (WEFT_PLUGIN_STATIC).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef WEFT_FUZZ_WITH_VALIDATOR
#include "weft/plugin.h"
#include "weft/plugin/validator.h"

const weft_plugin_desc *weft_plugin_entry_validator(uint32_t host_abi);

/* -- Fake host -------------------------------------------------------------------------------- */

static void *h_alloc(void *host, size_t size) {
  (void)host;
  return malloc(size);
}
static void *h_realloc(void *host, void *p, size_t size) {
  (void)host;
  return realloc(p, size);
}
static void h_free(void *host, void *p) {
  (void)host;
  free(p);
}
static void h_log(void *host, weft_log_level level, const char *origin, const char *fmt, va_list ap) {
  (void)host;
  (void)level;
  (void)origin;
  (void)fmt;
  (void)ap;
}
static int h_diag(void *host, weft_diag *d, int code, uint64_t offset, const char *origin,
                  const char *fmt, va_list ap) {
  (void)host;
  if (d) {
    d->code = code;
    d->offset = offset;
    snprintf(d->origin, sizeof d->origin, "%s", origin ? origin : "");
    vsnprintf(d->message, sizeof d->message, fmt, ap);
  }
  return code;
}
static int h_cfg_bool(void *host, const weft_plugin_cfg *cfg, const char *key, bool *out) {
  (void)host, (void)cfg, (void)key, (void)out;
  return WEFT_ERR_CONFIG;
}
static int h_cfg_int(void *host, const weft_plugin_cfg *cfg, const char *key, int64_t *out) {
  (void)host, (void)cfg, (void)key, (void)out;
  return WEFT_ERR_CONFIG;
}
static int h_cfg_size(void *host, const weft_plugin_cfg *cfg, const char *key, uint64_t *out) {
  (void)host, (void)cfg, (void)key, (void)out;
  return WEFT_ERR_CONFIG;
}
static int h_cfg_string(void *host, const weft_plugin_cfg *cfg, const char *key, const char **out) {
  (void)host, (void)cfg, (void)key, (void)out;
  return WEFT_ERR_CONFIG;
}
static int h_code_map(void *host, size_t size, void **out) {
  (void)host, (void)size, (void)out;
  return WEFT_ERR_UNSUPPORTED;
}
static int h_code_publish(void *host, void *mem, size_t size) {
  (void)host, (void)mem, (void)size;
  return WEFT_ERR_UNSUPPORTED;
}
static void h_code_unmap(void *host, void *mem, size_t size) { (void)host, (void)mem, (void)size; }
static void *h_libcall(void *host, uint32_t id) {
  (void)host, (void)id;
  return NULL;
}

static const weft_host_api fake_host = {
    WEFT_ABI_INIT(weft_host_api), .host = NULL,  .alloc = h_alloc,         .realloc = h_realloc,
    .free = h_free,               .log = h_log,  .diag = h_diag,           .cfg_bool = h_cfg_bool,
    .cfg_int = h_cfg_int,         .cfg_size = h_cfg_size, .cfg_string = h_cfg_string,
    .code_map = h_code_map,       .code_publish = h_code_publish, .code_unmap = h_code_unmap,
    .libcall = h_libcall,
};

static const weft_validator_iface *vld;
static void *vld_state;

static void validator_init(void) {
  if (vld) return;
  const weft_plugin_desc *desc = weft_plugin_entry_validator(WEFT_ABI_VERSION);
  weft_diag d;
  if (!desc || desc->init(&fake_host, NULL, &vld_state, &d) != WEFT_OK) abort();
  vld = desc->iface;
}
#endif

/* -- Target ----------------------------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static core_types *reg;
  static unsigned runs;
  if (!reg || ++runs % 20000 == 0) { /* bound the registry's growth over a long run */
    core_types_free(reg);
    reg = core_types_new();
    if (!reg) abort();
  }
  weft_module *m = NULL;
  weft_diag d;
  int rc = core_decode(reg, data, size, &m, &d);
  if (rc == WEFT_OK) {
    if (!m) abort();
#ifdef WEFT_FUZZ_WITH_VALIDATOR
    static int skip = -1; /* WEFT_FUZZ_NO_VALIDATE=1 fuzzes the decoder alone */
    if (skip < 0) skip = getenv("WEFT_FUZZ_NO_VALIDATE") != NULL;
    if (!skip) {
      validator_init();
      weft_diag vd;
      (void)vld->validate(vld_state, m, &vd);
    }
#endif
    core_module_free(m);
  } else if (m != NULL || d.message[0] == 0 || strcmp(d.origin, "decode") != 0) {
    abort(); /* an error must leave no module and one message */
  }
  return 0;
}
