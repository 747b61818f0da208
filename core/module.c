/* core/module.c -- weft_module_new: decode -> [wasm] switches -> validate -> plugin check ->
 * compile, through the engine's wrappers, timing each phase in wall and thread CPU time
 * (weft_module_stats); the compiled
 * module's lifetime (reference-counted; its code is registered with the code registry while it
 * lives) and its import/export listings.
 * Depends on: core/decode.h, core/engine.h, core/host.h, core/runtime_int.h.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode.h"
#include "engine.h"
#include "frames.h"
#include "host.h"
#include "runtime_int.h"

/* -- Statistics ------------------------------------------------------------------------------- */

static uint64_t now_ns(clockid_t clock) {
  struct timespec ts;
  if (clock_gettime(clock, &ts) != 0) return 0;
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Payload size of the code section (id 10) of a binary that decoded successfully; 0 if none. */
static uint64_t code_section_size(const uint8_t *b, size_t len) {
  size_t pos = 8;
  while (pos < len) {
    uint8_t id = b[pos++];
    uint64_t size = 0;
    for (unsigned shift = 0; pos < len && shift < 35; shift += 7) {
      uint8_t byte = b[pos++];
      size |= (uint64_t)(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) break;
    }
    if (id == 10) return size;
    if (size > len - pos) break;
    pos += (size_t)size;
  }
  return 0;
}

int weft_module_stats(const weft_module_t *m, weft_module_stats_t *out) {
  if (m == NULL || out == NULL) return WEFT_ERR_MISUSE;
  *out = m->stats;
  return WEFT_OK;
}

/* -- Creation --------------------------------------------------------------------------------- */

int weft_module_new(struct weft_engine *engine, const uint8_t *bytes, size_t len,
                    weft_module_t **out_module, weft_error *err) {
  weft_diag local;
  weft_diag *d = err != NULL ? err : &local;
  if (out_module == NULL || engine == NULL || (bytes == NULL && len > 0))
    return core_diagf(d, WEFT_ERR_MISUSE, UINT64_MAX, "module", "NULL argument");
  *out_module = NULL;
  weft_module_t *m = calloc(1, sizeof *m);
  if (m == NULL) return core_diagf(d, WEFT_ERR_NOMEM, UINT64_MAX, "module", "out of memory");
  atomic_init(&m->refs, 1);
  m->engine = engine;
  uint64_t t0 = now_ns(CLOCK_MONOTONIC), c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
  int rc = core_decode(core_engine_types(engine), bytes, len, &m->ir, d);
  if (rc == WEFT_OK) rc = core_engine_check_switches(engine, m->ir, d);
  uint64_t t1 = now_ns(CLOCK_MONOTONIC), c1 = now_ns(CLOCK_THREAD_CPUTIME_ID);
  if (rc == WEFT_OK) rc = core_engine_validate(engine, m->ir, d);
  if (rc == WEFT_OK) rc = core_engine_check_features(engine, m->ir, d);
  uint64_t t2 = now_ns(CLOCK_MONOTONIC), c2 = now_ns(CLOCK_THREAD_CPUTIME_ID);
  /* A module without function bodies has nothing to compile (it may still import functions,
   * define memories and segments, and name an imported start function). */
  if (rc == WEFT_OK && m->ir->nfuncs > m->ir->nfunc_imports)
    rc = core_engine_compile(engine, m->ir, &m->code, d);
  uint64_t t3 = now_ns(CLOCK_MONOTONIC), c3 = now_ns(CLOCK_THREAD_CPUTIME_ID);
  if (rc == WEFT_OK && core_rt_registry_add(m->code) != WEFT_OK)
    rc = core_diagf(d, WEFT_ERR_NOMEM, UINT64_MAX, "module", "out of memory");
  if (rc != WEFT_OK) {
    if (m->code != NULL) core_engine_release_code(engine, m->code);
    core_module_free(m->ir);
    free(m);
    return rc;
  }
  core_frames_code_added(engine, m->ir, m->code); /* names for backtraces, perf map */
  m->stats.decode_ns = t1 - t0;
  m->stats.validate_ns = t2 - t1;
  m->stats.compile_ns = t3 - t2;
  m->stats.register_ns = now_ns(CLOCK_MONOTONIC) - t3;
  m->stats.decode_cpu_ns = c1 - c0;
  m->stats.validate_cpu_ns = c2 - c1;
  m->stats.compile_cpu_ns = c3 - c2;
  m->stats.code_section_bytes = code_section_size(m->ir->bytes, m->ir->size);
  m->stats.machine_code_bytes = m->code != NULL ? m->code->code_size : 0;
  m->stats.ndefined_funcs = m->ir->nfuncs - m->ir->nfunc_imports;
  *out_module = m;
  return WEFT_OK;
}

void core_rt_module_retain(const weft_module_t *m) {
  atomic_fetch_add(&((weft_module_t *)m)->refs, 1);
}

void weft_module_free(weft_module_t *m) {
  if (m == NULL || atomic_fetch_sub(&m->refs, 1) != 1) return;
  if (m->code != NULL) {
    core_frames_code_removed(m->engine, m->ir, m->code);
    core_rt_registry_remove(m->code);
    core_engine_release_code(m->engine, m->code);
  }
  core_module_free(m->ir);
  free(m);
}

const struct weft_module *weft_module_ir(const weft_module_t *m) { return m != NULL ? m->ir : NULL; }

/* -- Listings --------------------------------------------------------------------------------- */

uint32_t weft_module_import_count(const weft_module_t *m) { return m != NULL ? m->ir->nimports : 0; }
uint32_t weft_module_export_count(const weft_module_t *m) { return m != NULL ? m->ir->nexports : 0; }

int weft_module_import_get(const weft_module_t *m, uint32_t i, weft_module_item_t *out) {
  if (m == NULL || out == NULL || i >= m->ir->nimports) return WEFT_ERR_MISUSE;
  const weft_import *im = &m->ir->imports[i];
  *out = (weft_module_item_t){im->module.str, im->module.len, im->name.str, im->name.len,
                              im->kind, im->index};
  return WEFT_OK;
}

int weft_module_export_get(const weft_module_t *m, uint32_t i, weft_module_item_t *out) {
  if (m == NULL || out == NULL || i >= m->ir->nexports) return WEFT_ERR_MISUSE;
  const weft_export *ex = &m->ir->exports[i];
  *out = (weft_module_item_t){NULL, 0, ex->name.str, ex->name.len, ex->kind, ex->index};
  return WEFT_OK;
}
