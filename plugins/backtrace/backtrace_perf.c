/* plugins/backtrace/backtrace_perf.c -- the perf map: with [backtrace] perfmap = yes, one line
 * "START SIZE NAME" (hex, hex, text) per compiled function is appended to /tmp/perf-PID.map when a
 * module's code is registered, which is the file `perf report` reads to name JIT code.
 * Depends on: backtrace_int.h, weft/plugin/codegen.h (function ranges), stdio, unistd.
 */
#include <stdio.h>
#include <unistd.h>

#include "backtrace_int.h"

/* -- Notifications --------------------------------------------------------------------------- */

void bt_code_added(void *state, const weft_module *m, const struct weft_code_info *ci) {
  bt_state *st = state;
  if (st == NULL || !st->perfmap || m == NULL || ci == NULL || ci->code == NULL) return;
  char path[64];
  snprintf(path, sizeof path, "/tmp/perf-%ld.map", (long)getpid());
  FILE *f = fopen(path, "a");
  if (f == NULL) {
    weft_host_log(st->host, WEFT_LOG_WARN, BT_ORIGIN, "cannot open %s for the perf map", path);
    return;
  }
  for (uint32_t i = 0; i < ci->nfuncs; i++) {
    if (ci->func_end[i] <= ci->func_start[i] || ci->func_end[i] > ci->code_size) continue;
    uint32_t idx = m->nfunc_imports + i;
    weft_frame_sym sym = {idx, UINT32_MAX, m->names.module,
                          idx < m->names.nfuncs && m->names.funcs ? m->names.funcs[idx] : NULL};
    char name[256];
    bt_format_name(st, &sym, name, sizeof name);
    fprintf(f, "%lx %x %s\n", (unsigned long)((uintptr_t)ci->code + ci->func_start[i]),
            ci->func_end[i] - ci->func_start[i], name);
  }
  /* the array-call trampolines, so samples in them are not "[unknown]" either */
  for (uint32_t i = 0; ci->array_call != NULL && i < ci->nfuncs; i++) {
    uint32_t start = ci->array_call[i];
    uint32_t end = i + 1 < ci->nfuncs ? ci->array_call[i + 1] : start;
    if (end <= start || end > ci->code_size) continue;
    fprintf(f, "%lx %x wasm-trampoline[%u]\n", (unsigned long)((uintptr_t)ci->code + start),
            end - start, m->nfunc_imports + i);
  }
  fclose(f);
}

void bt_code_removed(void *state, const weft_module *m, const struct weft_code_info *ci) {
  /* perf maps are append-only; a later mapping at the same address simply shadows the lines. */
  (void)state, (void)m, (void)ci;
}
