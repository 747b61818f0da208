/* core/cont.h -- the core side of stack switching: the initial stack's common stack info at each
 * host entry, and the continuation instructions (resume, suspend, switch, cont.bind,
 * resume_throw[_ref]) as libcalls over the contstacks plugin's switch primitive
 * (docs/STACK-SWITCHING.md §4). Implemented in core/cont.c; used by core/entry.c, core/libcalls.c.
 * Depends on: weft/vm.h.
 */
#ifndef WEFT_CORE_CONT_H
#define WEFT_CORE_CONT_H

#include <stdbool.h>
#include <stdint.h>

#include "weft/module.h"
#include "weft/runtime.h"
#include "weft/vm.h"

/* A continuation reference is 16 bytes everywhere, weft_val_raw.cont = {contref, revision}: in
 * generated code (an XMM register or a 16-byte slot), payloads, tables, globals and the embedding
 * API. Consuming it compares all 64 bits of the revision. */

/* Entry hooks (core/entry.c): install `csi` as the running initial stack of ctx (host frames are
 * barriers: a suspension reaching it traps "unhandled tag"; an outermost entry keeps one already
 * installed in the store); after an outermost entry returns,
 * recycle the continuations that finished on this thread. */
void core_cont_entry_begin(weft_store_ctx *ctx, weft_common_stack_info *csi, bool outermost);
void core_cont_entry_end(weft_store_ctx *ctx, bool outermost);

/* At store creation (core/store.c): keep the contstacks plugin's cont_new slot and state in the
 * store for CONT_NEW. */
struct weft_store;
void core_cont_store_init(struct weft_store *s);

/* At module load (core/engine.c): every continuation type's arity must fit the configured stack
 * (contstacks' check_arity); WEFT_ERR_LIMIT with d naming the type otherwise. */
struct weft_engine;
int core_cont_check_module(const struct weft_engine *e, const weft_module *m, weft_diag *d);

/* The libcalls. `io` points at the caller's operand area, as 16-byte values (weft_val_raw) holding
 * the operands and receiving the results, followed by what must survive the switch; its size is
 * what x64_isel_cont.c reserves by the rules in core/cont.c. `ref` points at the consumed
 * reference (inside io). `tc` packs (typeidx << 32 | handler count), `pt` (pool index << 32 | tag
 * index; UINT32_MAX - 1 for plain resume, UINT32_MAX for resume_throw_ref). `fp` is the caller's
 * rbp. Each switching instruction is a pair: the first half returns in rax:rdx what generated
 * code needs for its inline switch (docs/STACK-SWITCHING.md §3), the second half gets the effect
 * that arrived (rdi after the switch). Generated code of a normal build does the common cases of
 * RESUME, SUSPEND, SWITCH and their second halves inline (x64_isel_cont.c) and calls these only
 * for what is off that path; sanitizer builds call them always.
 *   CONT_NEW_REF  {contref, revision} (vmctx, funcref, nparams, nresults)
 *   CONT_BIND     {contref, revision} (vmctx, io, src typeidx, dst typeidx); the ref is io[n]
 *   RESUME, RESUME_THROW  {cc, effect} (vmctx, ref, io, tc, pt, fp)    switch with S = L = cc
 *   RESUME_END    uint64_t (vmctx, effect, io, tc, pt, fp)   0: returned (results in io);
 *                 SUSPEND<<32|k (the k-th suspend clause): the tag's params then the continuation in io; traps and
 *                 exceptions propagate from here
 *   SUSPEND       {cc, effect} (vmctx, tagidx, io, fp);  SUSPEND_END void (vmctx, effect, io, tagidx, fp)
 *   SWITCH        {S, L} (vmctx, ref, io, typeidx, tagidx, fp), effect SWITCH;
 *   SWITCH_END    void (vmctx, effect, io, typeidx, fp) */
typedef struct core_cont_pair {
  uint64_t a, b; /* rax, rdx */
} core_cont_pair;
core_cont_pair core_cont_lc_new(void *vmctx, const weft_funcref *f, uint32_t nparams, uint32_t nresults);
core_cont_pair core_cont_lc_bind(void *vmctx, weft_val_raw *io, uint32_t src, uint32_t dst);
core_cont_pair core_cont_lc_resume(void *vmctx, const weft_val_raw *ref, weft_val_raw *io, uint64_t tc,
                                   uint64_t pt, uintptr_t fp);
core_cont_pair core_cont_lc_resume_throw(void *vmctx, const weft_val_raw *ref, weft_val_raw *io,
                                         uint64_t tc, uint64_t pt, uintptr_t fp);
uint64_t core_cont_lc_resume_end(void *vmctx, uint64_t effect, weft_val_raw *io, uint64_t tc, uint64_t pt,
                                 uintptr_t fp);
core_cont_pair core_cont_lc_suspend(void *vmctx, uint32_t tagidx, weft_val_raw *io, uintptr_t fp);
void core_cont_lc_suspend_end(void *vmctx, uint64_t effect, weft_val_raw *io, uint32_t tagidx,
                              uintptr_t fp);
core_cont_pair core_cont_lc_switch(void *vmctx, const weft_val_raw *ref, weft_val_raw *io,
                                   uint32_t typeidx, uint32_t tagidx, uintptr_t fp);
void core_cont_lc_switch_end(void *vmctx, uint64_t effect, weft_val_raw *io, uint32_t typeidx,
                             uintptr_t fp);

/* Whether `c`, a continuation reference the embedder hands in (an argument, a global or table
 * value), is a live continuation of store `s` (the contstacks plugin's owns slot): generated code
 * dereferences it without a check. false without a plugin that can tell. */
bool core_cont_ref_ok(weft_store_t *s, const void *c);

#endif
