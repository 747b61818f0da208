/* core/host.c -- the weft_host_api table: allocation (with a fault hook for tests), logging through
 * the embedder's sink, diagnostics, config lookups, W^X code memory and libcall addresses.
 * Sits between the engine (core/engine.c), which owns one core_host, and every plugin.
 * Depends on: core/config.h (value parsing), core/libcalls.h, core/runtime_int.h (code registry),
 * mmap/mprotect.
 */
#include "host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"
#include "frames.h"
#include "libcalls.h"
#include "runtime_int.h"

/* -- Diagnostics ------------------------------------------------------------------------------ */

int core_diagv(weft_diag *d, int code, uint64_t offset, const char *origin, const char *fmt,
               va_list ap) {
  if (d == NULL) return code;
  d->code = code;
  d->offset = offset;
  snprintf(d->origin, sizeof d->origin, "%s", origin != NULL ? origin : "");
  vsnprintf(d->message, sizeof d->message, fmt, ap);
  /* One line only: a newline in a plugin's text would split the CLI's message. */
  for (char *p = d->message; *p != '\0'; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
  return code;
}

int core_diagf(weft_diag *d, int code, uint64_t offset, const char *origin, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  core_diagv(d, code, offset, origin, fmt, ap);
  va_end(ap);
  return code;
}

static int host_diag(void *host, weft_diag *d, int code, uint64_t offset, const char *origin,
                     const char *fmt, va_list ap) {
  (void)host;
  return core_diagv(d, code, offset, origin, fmt, ap);
}

/* -- Memory ----------------------------------------------------------------------------------- */

/* True when the fault hook says this allocation must fail. */
static bool alloc_should_fail(core_host *h) {
  h->alloc_count++;
  return h->alloc_fail_at != 0 && h->alloc_count == h->alloc_fail_at;
}

static void *host_alloc(void *host, size_t size) {
  core_host *h = host;
  if (alloc_should_fail(h)) return NULL;
  return malloc(size == 0 ? 1 : size);
}

static void *host_realloc(void *host, void *ptr, size_t size) {
  core_host *h = host;
  if (alloc_should_fail(h)) return NULL;
  return realloc(ptr, size == 0 ? 1 : size);
}

static void host_free(void *host, void *ptr) {
  (void)host;
  free(ptr);
}

void core_host_fail_alloc(core_host *h, uint64_t nth) {
  h->alloc_fail_at = nth == 0 ? 0 : h->alloc_count + nth;
}

/* -- Logging ---------------------------------------------------------------------------------- */

static void host_log(void *host, weft_log_level level, const char *origin, const char *fmt,
                     va_list ap) {
  core_host *h = host;
  if (h->sink == NULL) return;
  char line[512];
  vsnprintf(line, sizeof line, fmt, ap);
  for (char *p = line; *p != '\0'; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
  h->sink(h->sink_ud, level, origin != NULL ? origin : "", line);
}

void core_host_logf(core_host *h, weft_log_level level, const char *origin, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  host_log(h, level, origin, fmt, ap);
  va_end(ap);
}

/* -- Config lookups --------------------------------------------------------------------------- */

/* The declared key `key` of `cfg` and its effective text, or NULL when undeclared. */
static const char *cfg_value(const weft_plugin_cfg *cfg, const char *key, weft_cfg_type *out_type) {
  if (cfg == NULL || key == NULL) return NULL;
  for (uint32_t i = 0; i < cfg->nkeys; i++) {
    if (strcmp(cfg->keys[i].name, key) == 0) {
      *out_type = cfg->keys[i].type;
      return cfg->values[i] != NULL ? cfg->values[i] : "";
    }
  }
  return NULL;
}

static int host_cfg_bool(void *host, const weft_plugin_cfg *cfg, const char *key, bool *out) {
  (void)host;
  weft_cfg_type t;
  const char *v = cfg_value(cfg, key, &t);
  if (v == NULL || t != WEFT_CFG_BOOL || !core_cfg_parse_bool(v, out)) return WEFT_ERR_CONFIG;
  return WEFT_OK;
}

static int host_cfg_int(void *host, const weft_plugin_cfg *cfg, const char *key, int64_t *out) {
  (void)host;
  weft_cfg_type t;
  const char *v = cfg_value(cfg, key, &t);
  if (v == NULL || t != WEFT_CFG_INT || !core_cfg_parse_int(v, out)) return WEFT_ERR_CONFIG;
  return WEFT_OK;
}

static int host_cfg_size(void *host, const weft_plugin_cfg *cfg, const char *key, uint64_t *out) {
  (void)host;
  weft_cfg_type t;
  const char *v = cfg_value(cfg, key, &t);
  if (v == NULL || t != WEFT_CFG_SIZE || !core_cfg_parse_size(v, out)) return WEFT_ERR_CONFIG;
  return WEFT_OK;
}

/* Any declared key can be read as text (enums are read this way). */
static int host_cfg_string(void *host, const weft_plugin_cfg *cfg, const char *key,
                           const char **out) {
  (void)host;
  weft_cfg_type t;
  const char *v = cfg_value(cfg, key, &t);
  if (v == NULL) return WEFT_ERR_CONFIG;
  *out = v;
  return WEFT_OK;
}

/* -- Code memory (W^X) ------------------------------------------------------------------------ */

static size_t page_round(size_t size, bool *ok) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  *ok = size != 0 && size <= SIZE_MAX - page;
  return *ok ? (size + page - 1) & ~(page - 1) : 0;
}

static int host_code_map(void *host, size_t size, void **out_rw) {
  core_host *h = host;
  bool ok;
  size_t len = page_round(size, &ok);
  *out_rw = NULL;
  if (!ok) return WEFT_ERR_LIMIT;
  if (alloc_should_fail(h)) return WEFT_ERR_NOMEM;
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return WEFT_ERR_NOMEM;
  *out_rw = p;
  return WEFT_OK;
}

static int host_code_publish(void *host, void *mem, size_t size) {
  (void)host;
  bool ok;
  size_t len = page_round(size, &ok);
  if (!ok || mem == NULL) return WEFT_ERR_MISUSE;
  if (mprotect(mem, len, PROT_READ | PROT_EXEC) != 0)
    return errno == ENOMEM ? WEFT_ERR_NOMEM : WEFT_ERR_MISUSE;
  __builtin___clear_cache((char *)mem, (char *)mem + size);
  return WEFT_OK;
}

static void host_code_unmap(void *host, void *mem, size_t size) {
  (void)host;
  bool ok;
  size_t len = page_round(size, &ok);
  if (ok && mem != NULL) munmap(mem, len);
}

/* -- Libcalls --------------------------------------------------------------------------------- */

static void *host_libcall(void *host, uint32_t id) {
  (void)host;
  return core_libcall_addr(id);
}

/* -- Code registry ---------------------------------------------------------------------------- */

static bool host_code_lookup(void *host, uintptr_t pc, uint32_t *out_trap, uint32_t *out_wasm_off) {
  (void)host;
  uint32_t trap = WEFT_TRAP_NONE, off = UINT32_MAX;
  bool found = core_rt_registry_lookup(pc, &trap, &off);
  if (out_trap != NULL) *out_trap = found ? trap : WEFT_TRAP_NONE;
  if (out_wasm_off != NULL) *out_wasm_off = found ? off : UINT32_MAX;
  return found;
}

/* -- The table -------------------------------------------------------------------------------- */

void core_host_init(core_host *h, weft_log_sink sink, void *sink_ud) {
  memset(h, 0, sizeof *h);
  h->sink = sink;
  h->sink_ud = sink_ud;
  h->api = (weft_host_api){
      WEFT_ABI_INIT(weft_host_api),
      .host = h,
      .alloc = host_alloc,
      .realloc = host_realloc,
      .free = host_free,
      .log = host_log,
      .diag = host_diag,
      .cfg_bool = host_cfg_bool,
      .cfg_int = host_cfg_int,
      .cfg_size = host_cfg_size,
      .cfg_string = host_cfg_string,
      .code_map = host_code_map,
      .code_publish = host_code_publish,
      .code_unmap = host_code_unmap,
      .libcall = host_libcall,
      .code_lookup = host_code_lookup,
      .code_func = core_frames_host_code_func, /* core/frames.c */
      .walk_frames = core_frames_host_walk,
      .capture_trap = core_frames_host_capture_trap,
  };
}
