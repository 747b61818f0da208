/* plugins/backtrace/backtrace_int.h -- the backtrace plugin's internals (prefix bt_), shared by
 * backtrace.c (descriptor), backtrace_walk.c (the frame walker), backtrace_sym.c (names) and
 * backtrace_perf.c (perf map). Depends on: weft/plugin.h, weft/plugin/backtrace.h, vm.h.
 */
#ifndef WEFT_BACKTRACE_INT_H
#define WEFT_BACKTRACE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "weft/plugin.h"
#include "weft/plugin/backtrace.h"
#include "weft/plugin/codegen.h"
#include "weft/vm.h"

#define BT_ORIGIN "backtrace"

/* The plugin state: read-only after init, so any thread may walk at once. */
typedef struct bt_state {
  const weft_host_api *host;
  uint32_t max_frames; /* [backtrace] max_frames: most frames one walk reports */
  bool perfmap;        /* [backtrace] perfmap: write /tmp/perf-PID.map lines */
  bool has_code_func;  /* the host has the 1.2 code_func slot */
} bt_state;

/* -- backtrace_walk.c ------------------------------------------------------------------------ */

int bt_walk(void *state, const weft_activation *act, const weft_frame_visitor *v);
int bt_walk_suspended(void *state, const weft_contref *c, const weft_frame_visitor *v);

/* -- backtrace_sym.c ------------------------------------------------------------------------- */

/* True when pc (already adjusted: a return address minus 1) lies in a Wasm function. */
bool bt_pc_is_wasm(const bt_state *st, uintptr_t pc);
bool bt_symbolize(void *state, const weft_frame *f, weft_frame_sym *out);
size_t bt_format_name(void *state, const weft_frame_sym *sym, char *buf, size_t cap);

/* -- backtrace_perf.c ------------------------------------------------------------------------ */

void bt_code_added(void *state, const weft_module *m, const struct weft_code_info *ci);
void bt_code_removed(void *state, const weft_module *m, const struct weft_code_info *ci);

#endif /* WEFT_BACKTRACE_INT_H */
