/* core/frames.h -- the core side of backtraces (prefix core_frames_): the table of compiled code
 * that names functions (host slot code_func), the frame-walking service (host slot walk_frames,
 * which is the backtrace plugin's walker), the per-thread list of activations (one per host -> Wasm
 * entry), and trap-time capture into weft_trap. Implemented in core/frames.c.
 * Depends on: core/runtime_int.h, core/engine.h, weft/plugin/backtrace.h.
 */
#ifndef WEFT_CORE_FRAMES_H
#define WEFT_CORE_FRAMES_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime_int.h"
#include "weft/plugin/backtrace.h"

/* -- Activations ------------------------------------------------------------------------------ */

/* One host -> Wasm entry, living in core_rt_entry_call's frame; linked per thread, newest first.
 * It remembers where the entry is (so a walk knows where this activation ends) and the exit point
 * of the activation it interrupted (so a walk can step over the host frames into the older one). */
typedef struct core_frames_act {
  struct core_frames_act *prev;
  weft_store_ctx *ctx;
  uintptr_t entry_call_fp;        /* frame address of core_rt_entry_call; the array-call trampoline
                                     saved it as its caller's rbp, so a walk ends when fp reaches it */
  uintptr_t outer_exit_pc;        /* ctx->last_wasm_exit_pc/fp when this entry began: where the */
  uintptr_t outer_exit_fp;        /*   older activation called out to the host */
  weft_stack_chain outer_chain;   /* ctx->stack_chain when this entry began */
} core_frames_act;

extern __thread core_frames_act *core_frames_top __attribute__((tls_model("initial-exec")));

/* Two stores and a load per entry: what code that never traps pays. */
static inline void core_frames_enter(core_frames_act *a, weft_store_ctx *ctx, uintptr_t fp) {
  a->prev = core_frames_top;
  a->ctx = ctx;
  a->entry_call_fp = fp;
  a->outer_exit_pc = ctx->last_wasm_exit_pc;
  a->outer_exit_fp = ctx->last_wasm_exit_fp;
  a->outer_chain = ctx->stack_chain;
  core_frames_top = a;
}

static inline void core_frames_leave(core_frames_act *a) { core_frames_top = a->prev; }

/* -- Trap-time capture ------------------------------------------------------------------------ */

/* Called by core_rt_entry_call right after the array call returned false, before anything else
 * runs (the Wasm frames below the entry are dead but intact). Walks them with the backtrace plugin
 * on a stack region below the innermost frame and keeps the raw frames for core_frames_attach.
 * Does nothing (beyond a lookup) without a backtrace plugin. */
void core_frames_capture(const core_frames_act *act);
/* Moves the frames captured for store `s` onto trap `t` (symbolized), unless t already has frames
 * (a host function returned a trap that an inner entry captured). Frees them otherwise. */
void core_frames_attach(weft_store_t *s, weft_trap_t *t);
/* Frees a trap's frames (weft_trap_free). NULL is ignored. */
void core_frames_free(struct core_frames *f);

/* -- Code table ------------------------------------------------------------------------------- */

/* Called when a module's code is registered / before it is unregistered (core/module.c). Keeps
 * the (code range -> module) table behind code_func and tells the backtrace plugin (perf map). */
void core_frames_code_added(const weft_engine *e, const weft_module *m, const weft_code_info *ci);
void core_frames_code_removed(const weft_engine *e, const weft_module *m, const weft_code_info *ci);

/* -- Host slots (core/host.c puts them in the table) ------------------------------------------ */

bool core_frames_host_code_func(void *host, uintptr_t pc, uint32_t *out_func, uint32_t *out_wasm_off,
                                const struct weft_module **out_module);
int core_frames_host_walk(void *host, const struct weft_activation *act,
                          const struct weft_contref *suspended, const struct weft_frame_visitor *v);
void core_frames_host_capture_trap(void *host, weft_store_ctx *ctx);

#endif /* WEFT_CORE_FRAMES_H */
