/* core/gcscan.h -- root scanning for the gc plugin (part gcroots): the frames of the running chain
 * and of suspended continuations through the codegen's stack maps, payload buffers, globals,
 * tables, exceptions, and continuations traced as nodes so that unreachable suspended ones are
 * released (docs/STACK-SWITCHING.md §8). Implemented in core/gcscan.c; core/gcroots.c wires it
 * into each heap's weft_gc_roots. Depends on: weft/plugin/gc.h, weft/vm.h.
 */
#ifndef WEFT_CORE_GCSCAN_H
#define WEFT_CORE_GCSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/plugin/gc.h"
#include "weft/vm.h"

/* -- The provider's slots (weft_gc_roots, ud = the store context) ----------------------------- */

/* Marks every root of the store of `ctx`; `reclaim`: continuations are traced as nodes (the heap
 * reports continuation fields through core_gcscan_cont_field), else every suspended one is a
 * root. The collection's state lives on this thread until core_gcscan_marked. */
void core_gcscan_enumerate(weft_store_ctx *ctx, weft_gc_tracer *t, bool reclaim, bool reclaim_exn);
/* weft_gc_roots.foreign (ABI 1.4): a reference the plugin does not own; notes an exception object */
void core_gcscan_foreign(void *ud, const void *ref);
/* Whether the roots can all be found now (false: nested host -> Wasm entries, an unknown stack). */
bool core_gcscan_can_collect(weft_store_ctx *ctx);
/* A continuation field or element ({contref, revision}) of an object the heap marked. */
void core_gcscan_cont_field(void *ud, const void *slot);
/* Scans what the continuations found since the last call hold; true when it marked anything. */
bool core_gcscan_mark_more(void *ud, weft_gc_tracer *t);
/* Marking is done: releases the unreachable suspended (and fresh) continuations of the store. */
void core_gcscan_marked(void *ud);
/* A continuation reference the host roots (a rooted handle, core/gchandles.c), during
 * enumerate: it keeps the continuation alive like any live slot. */
void core_gcscan_cont_root(weft_store_ctx *ctx, void *contref, uint64_t revision);
/* The 8-byte reference slots of the safepoint at `pc` (weft_gc_roots.stack_map). */
bool core_gcscan_stack_map(void *ud, uintptr_t pc, weft_gc_stack_map *out);

/* -- Allocation libcalls ---------------------------------------------------------------------- */

/* Where generated code called an allocation libcall: its return address, the calling frame's fp
 * and the operands it passed by address (io: n 8-byte words, kept alive during the call).
 * core_gcscan_lc_leave before returning or raising a trap. */
typedef struct core_gcscan_lc {
  weft_store_ctx *ctx;
  uintptr_t pc, fp;
  const uint64_t *io;
  size_t nio;
  void *extra; /* one more reference held by the libcall itself (array.new_elem's array) */
  struct core_gcscan_lc *prev;
} core_gcscan_lc;

void core_gcscan_lc_enter(core_gcscan_lc *lc);
void core_gcscan_lc_leave(core_gcscan_lc *lc);
/* Forget every libcall record of this thread: a trap raised by a libcall unwinds them all. */
void core_gcscan_lc_clear(void);

/* Fills lc with the caller's return address and frame: used in the libcall generated code calls
 * itself (not in a helper), which then keeps a frame pointer. */
#define CORE_GCSCAN_LC_INIT(lc, ctx_, io_, nio_)                                                   \
  do {                                                                                             \
    (lc)->ctx = (ctx_);                                                                            \
    (lc)->pc = (uintptr_t)__builtin_return_address(0);                                             \
    (lc)->fp = *(const uintptr_t *)__builtin_frame_address(0);                                     \
    (lc)->io = (io_);                                                                              \
    (lc)->nio = (nio_);                                                                            \
    (lc)->extra = NULL;                                                                            \
    core_gcscan_lc_enter(lc);                                                                      \
  } while (0)

#endif /* WEFT_CORE_GCSCAN_H */
