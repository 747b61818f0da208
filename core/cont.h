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
#include "weft/vm.h"

/* Inside generated code a continuation reference is one 8-byte word: the contref's address in
 * bits 0-47 and the low 16 bits of its revision in bits 48-63 (0 is null); the array-call slots,
 * tables and globals carry it in weft_val_raw.cont.contref. Known hole: only 16 bits of the
 * revision are checked (docs/STACK-SWITCHING.md); the embedding API converts (below). */
#define CORE_CONT_REV_SHIFT 48
#define CORE_CONT_ADDR_MASK ((UINT64_C(1) << CORE_CONT_REV_SHIFT) - 1)

static inline uint64_t core_cont_pack(const weft_contref *c) {
  return (uint64_t)(uintptr_t)c | ((c->revision & 0xFFFFu) << CORE_CONT_REV_SHIFT);
}

/* The embedding API's contref value is the real {contref, revision} (core/func.c converts at the
 * boundary). From generated code's word: the full revision is the newest one <= the object's
 * current revision with those low 16 bits (exact for a live reference; a stale one stays stale).
 * Into generated code's word: a reference whose revision is not the current one gets low bits
 * that do not match now, so a host-held stale reference traps even if its low 16 bits agree. */
static inline weft_val_raw core_cont_word_to_val(uint64_t word) {
  weft_val_raw v;
  v.cont.contref = NULL;
  v.cont.revision = 0;
  weft_contref *c = (weft_contref *)(uintptr_t)(word & CORE_CONT_ADDR_MASK);
  if (c == NULL) return v;
  uint64_t cur = c->revision, low = word >> CORE_CONT_REV_SHIFT;
  v.cont.contref = c;
  v.cont.revision = cur - ((cur - low) & 0xFFFFu);
  return v;
}

static inline uint64_t core_cont_val_to_word(const weft_contref *c, uint64_t revision) {
  if (c == NULL) return 0;
  uint64_t low = revision == c->revision ? revision : c->revision + 1;
  return (uint64_t)(uintptr_t)c | ((low & 0xFFFFu) << CORE_CONT_REV_SHIFT);
}

/* Entry hooks (core/entry.c): install `csi` as the running initial stack of ctx (host frames are
 * barriers: a suspension reaching it traps "unhandled tag"; an outermost entry keeps one already
 * installed in the store); after an outermost entry returns,
 * recycle the continuations that finished on this thread. */
void core_cont_entry_begin(weft_store_ctx *ctx, weft_common_stack_info *csi, bool outermost);
void core_cont_entry_end(weft_store_ctx *ctx, bool outermost);

/* At module load (core/engine.c): every continuation type's arity must fit the configured stack
 * (contstacks' check_arity); WEFT_ERR_LIMIT with d naming the type otherwise. */
struct weft_engine;
int core_cont_check_module(const struct weft_engine *e, const weft_module *m, weft_diag *d);

/* The libcalls. `io` points at the caller's operand slots (8 bytes each) holding the operands and
 * receiving the results, followed by what must survive the switch; its size is what
 * x64_isel_cont.c reserves by the rules in core/cont.c. `tc` packs (typeidx << 32 | handler
 * count), `pt` (pool index << 32 | tag index; UINT32_MAX - 1 for plain resume, UINT32_MAX for
 * resume_throw_ref). `fp` is the caller's rbp. Each switching instruction is a pair: the first
 * half returns in rax:rdx what generated code needs for its inline switch (docs/
 * STACK-SWITCHING.md §3), the second half gets the effect that arrived (rdi after the switch).
 *   CONT_BIND     uint64_t (vmctx, ref, io, src typeidx, dst typeidx)   the new reference
 *   RESUME, RESUME_THROW  {cc, effect} (vmctx, ref, io, tc, pt, fp)    switch with S = L = cc
 *   RESUME_END    uint64_t (vmctx, effect, io, tc, pt, fp)   0: returned (results in io);
 *                 SUSPEND<<32|clause: the tag's params then the continuation in io; traps and
 *                 exceptions propagate from here
 *   SUSPEND       {cc, effect} (vmctx, tagidx, io, fp);  SUSPEND_END void (vmctx, effect, io, tagidx, fp)
 *   SWITCH        {S, L} (vmctx, ref, io, typeidx, tagidx, fp), effect SWITCH;
 *   SWITCH_END    void (vmctx, effect, io, typeidx, fp) */
typedef struct core_cont_pair {
  uint64_t a, b; /* rax, rdx */
} core_cont_pair;
uint64_t core_cont_lc_bind(void *vmctx, uint64_t ref, uint64_t *io, uint32_t src, uint32_t dst);
core_cont_pair core_cont_lc_resume(void *vmctx, uint64_t ref, uint64_t *io, uint64_t tc, uint64_t pt,
                                   uintptr_t fp);
core_cont_pair core_cont_lc_resume_throw(void *vmctx, uint64_t ref, uint64_t *io, uint64_t tc,
                                         uint64_t pt, uintptr_t fp);
uint64_t core_cont_lc_resume_end(void *vmctx, uint64_t effect, uint64_t *io, uint64_t tc, uint64_t pt,
                                 uintptr_t fp);
core_cont_pair core_cont_lc_suspend(void *vmctx, uint32_t tagidx, uint64_t *io, uintptr_t fp);
void core_cont_lc_suspend_end(void *vmctx, uint64_t effect, uint64_t *io, uint32_t tagidx, uintptr_t fp);
core_cont_pair core_cont_lc_switch(void *vmctx, uint64_t ref, uint64_t *io, uint32_t typeidx,
                                   uint32_t tagidx, uintptr_t fp);
void core_cont_lc_switch_end(void *vmctx, uint64_t effect, uint64_t *io, uint32_t typeidx, uintptr_t fp);
/* cont.new: CONT_NEW's contref packed as above. */
uint64_t core_cont_lc_new(void *vmctx, const weft_funcref *f, uint32_t nparams, uint32_t nresults);

#endif
