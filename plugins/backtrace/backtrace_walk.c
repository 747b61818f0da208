/* plugins/backtrace/backtrace_walk.c -- the frame walker: the rbp chain of each stack of a stack
 * chain, innermost first, crossing continuation boundaries through the control contexts (vm.h) and
 * older activations through the entry points the core links (weft_activation.older).
 * Follows notes/stack-switching-wasmtime.md §5 (running chains) and §6 (suspended chains, with the
 * suspension point in the last ancestor's control context). Allocates nothing.
 * Depends on: backtrace_int.h, vm.h.
 */
#include "backtrace_int.h"

/* -- Reading stack words --------------------------------------------------------------------- */

/* Stack memory below the current sp may hold sanitizer redzones of frames a trap unwound without
 * returning; the walker only reads words inside bounds it checked, so it skips the instrumentation. */
#if defined(__has_attribute)
#if __has_attribute(no_sanitize)
#define BT_NO_ASAN __attribute__((no_sanitize("address")))
#endif
#endif
#ifndef BT_NO_ASAN
#define BT_NO_ASAN
#endif

/* Likewise memcheck considers the stack below sp undefined once the trap unwound past it, though
 * the words are intact: tell it so (a no-op outside valgrind). */
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define BT_MARK_DEFINED(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#endif
#endif
#ifndef BT_MARK_DEFINED
#define BT_MARK_DEFINED(p, n) ((void)0)
#endif

BT_NO_ASAN static uintptr_t load_word(uintptr_t addr) {
  BT_MARK_DEFINED((const void *)addr, sizeof(uintptr_t));
  return *(const volatile uintptr_t *)(const void *)addr;
}

/* -- Walk state ------------------------------------------------------------------------------ */

typedef enum seg_end {
  SEG_NEXT,    /* (report only) go on with the next frame */
  SEG_ENTRY,   /* reached the stack's entry fp: the activation ends here */
  SEG_BOTTOM,  /* reached the bottom of a continuation stack: go on in the parent */
  SEG_CORRUPT, /* a frame pointer failed a check */
  SEG_LIMIT,   /* max_frames reached */
  SEG_STOPPED  /* the visitor asked to stop */
} seg_end;

typedef struct walk {
  const bt_state *st;
  const weft_frame_visitor *v;
  uint32_t max;      /* most frames to report */
  uint32_t reported; /* frames handed to the visitor */
  uint32_t stack;    /* current stack number */
} walk;

/* One stack: every fp on it lies in [lo, hi - 16]. */
typedef struct seg {
  uintptr_t lo, hi;
  uintptr_t entry_fp;  /* 0: none */
  uintptr_t bottom_fp; /* continuation: stack_top - 16, where [fp] / [fp + 8] are the control
                          context's rbp / rip; 0 for the initial stack */
  uint32_t kind;       /* weft_chain_kind */
} seg;

static bool initial_seg(const weft_activation *act, uintptr_t entry_fp, seg *out) {
  if (act->stack_hi < 32 || act->stack_lo >= act->stack_hi) return false;
  *out = (seg){act->stack_lo, act->stack_hi, entry_fp, 0, WEFT_CHAIN_INITIAL_STACK};
  return true;
}

/* The bounds of continuation `c`'s stack; false when its fields cannot describe a stack. */
static bool cont_seg(const weft_contref *c, uintptr_t entry_fp, seg *out) {
  if (c == NULL) return false;
  uintptr_t top = (uintptr_t)c->stack_top;
  if (top == 0 || (top & 7) != 0 || c->stack_size < 64 || c->stack_size > top) return false;
  *out = (seg){top - (uintptr_t)c->stack_size, top - 16, entry_fp, top - 16,
               WEFT_CHAIN_CONTINUATION};
  return true;
}

static uint32_t max_of(const bt_state *st, const weft_frame_visitor *v) {
  return v->max_frames != 0 ? v->max_frames : st->max_frames;
}

/* -- One stack ------------------------------------------------------------------------------- */

static seg_end report(walk *w, uintptr_t pc, uintptr_t fp, uint32_t flags, uint32_t kind) {
  uintptr_t look = (flags & WEFT_FRAME_TRAP_PC) || pc == 0 ? pc : pc - 1;
  bool wasm = pc != 0 && bt_pc_is_wasm(w->st, look);
  if (!wasm && !w->v->host_frames) return SEG_NEXT; /* a host frame: stepped over */
  if (w->reported >= w->max) return SEG_LIMIT;
  weft_frame f = {pc, fp, w->stack, flags | (wasm ? WEFT_FRAME_WASM : 0u), kind, 0};
  w->reported++;
  if (!w->v->visit(w->v->ud, &f)) return SEG_STOPPED;
  return SEG_NEXT;
}

/* Walks from (pc, fp) until fp reaches the segment's entry fp or bottom. Every fp must be inside
 * the bounds, 8-aligned and strictly greater than the one before (the stack grows down, so callers
 * sit at higher addresses); anything else is a corrupt chain and ends the walk. The marker flags
 * (TRAP_PC, RESUMED, ACTIVATION) go on the first frame reported from this segment. */
static seg_end walk_seg(walk *w, uintptr_t pc, uintptr_t fp, const seg *s, uint32_t flags,
                        uintptr_t *out_fp) {
  uintptr_t prev = 0;
  for (;;) {
    *out_fp = fp;
    if (s->entry_fp != 0 && fp == s->entry_fp) return SEG_ENTRY;
    if (s->bottom_fp != 0 && fp == s->bottom_fp) return SEG_BOTTOM;
    if (fp == 0 || (fp & 7) != 0 || fp < s->lo || fp > s->hi - 16 || fp <= prev)
      return SEG_CORRUPT;
    uint32_t before = w->reported;
    seg_end r = report(w, pc, fp, flags, s->kind);
    if (r != SEG_NEXT) return r;
    /* the first *reported* frame carries the marker; trap pc only ever applies to the first */
    if (w->reported != before) flags = 0;
    flags &= ~WEFT_FRAME_TRAP_PC;
    prev = fp;
    pc = load_word(fp + 8);
    fp = load_word(fp);
  }
}

/* At a continuation's entry fp: true when only host frames (the array-call trampoline, the
 * contstacks start code) lie between it and the stack's bottom, so this is the continuation's own
 * first entry and the walk goes on in the parent. False when Wasm frames follow: the host
 * re-entered Wasm on this stack, and the frames above belong to an older activation. */
static bool base_entry(const bt_state *st, uintptr_t fp, const seg *s) {
  for (int i = 0; i < 16; i++) {
    if (fp == s->bottom_fp) return true;
    if ((fp & 7) != 0 || fp < s->lo || fp > s->hi - 16) return false;
    uintptr_t pc = load_word(fp + 8), next = load_word(fp);
    if (pc != 0 && bt_pc_is_wasm(st, pc - 1)) return false;
    if (next <= fp) return false;
    fp = next;
  }
  return false;
}

/* -- Chains ---------------------------------------------------------------------------------- */

/* Most stacks one walk crosses: a cycle in a corrupt chain ends here. */
#define MAX_STACKS (1u << 20)

static int status_of(seg_end r) {
  switch (r) {
  case SEG_CORRUPT: return WEFT_ERR_MALFORMED;
  case SEG_LIMIT: return WEFT_ERR_LIMIT;
  default: return WEFT_OK;
  }
}

/* One activation: its running stack from (pc, fp), then each parent from the child's control
 * context up to the parent's saved entry fp (parent csi.limits). Returns a seg_end: SEG_ENTRY when
 * the activation was walked to its end. */
static seg_end walk_activation(walk *w, const weft_activation *act, uint32_t flags) {
  seg s;
  const weft_contref *c = NULL;
  if (act->chain.kind == WEFT_CHAIN_CONTINUATION) {
    c = act->chain.payload;
    if (!cont_seg(c, act->entry_fp, &s)) return SEG_CORRUPT;
  } else if (!initial_seg(act, act->entry_fp, &s)) {
    return SEG_CORRUPT;
  }
  uintptr_t pc = act->pc, fp = act->fp, at = 0;
  for (uint32_t n = 0; n < MAX_STACKS; n++) {
    seg_end r = walk_seg(w, pc, fp, &s, flags, &at);
    if (r == SEG_ENTRY && s.bottom_fp != 0 && base_entry(w->st, at, &s)) r = SEG_BOTTOM;
    /* A continuation's bottom frames may be overwritten by the time a trap is captured (its start
     * code kept running after the entry returned): the chain, not the frames, says where the
     * parent is, so the walk goes on there. */
    if (r == SEG_CORRUPT && c != NULL) r = SEG_BOTTOM;
    if (r != SEG_BOTTOM) return r; /* the entry, corrupt, limit or stopped */
    /* c's bottom: its control context holds the parent's resume point */
    const weft_control_ctx *cc = weft_contref_cc(c);
    pc = cc->rip;
    fp = cc->rbp;
    flags = WEFT_FRAME_RESUMED;
    w->stack++;
    const weft_stack_chain *parent = &c->parent_chain;
    if (parent->kind == WEFT_CHAIN_CONTINUATION) {
      c = parent->payload;
      if (!cont_seg(c, c != NULL ? c->csi.limits.last_wasm_entry_fp : 0, &s)) return SEG_CORRUPT;
    } else if (parent->kind == WEFT_CHAIN_INITIAL_STACK) {
      /* the initial stack's saved entry fp; without a csi, the activation's entry when it is on
       * the initial stack, else the top of the bounds the caller gave */
      const weft_common_stack_info *csi = parent->payload;
      uintptr_t entry = act->entry_fp;
      if (csi != NULL) entry = csi->limits.last_wasm_entry_fp;
      else if (entry < act->stack_lo || act->stack_hi < 16 || entry > act->stack_hi - 16)
        entry = act->stack_hi - 16;
      if (!initial_seg(act, entry, &s)) return SEG_CORRUPT;
      c = NULL;
      r = walk_seg(w, pc, fp, &s, flags, &at);
      return r == SEG_BOTTOM ? SEG_ENTRY : r;
    } else {
      return SEG_ENTRY; /* absent: nothing above */
    }
  }
  return SEG_CORRUPT;
}

int bt_walk(void *state, const weft_activation *act, const weft_frame_visitor *v) {
  if (state == NULL || act == NULL || v == NULL || v->visit == NULL) return WEFT_ERR_MISUSE;
  walk w = {state, v, max_of(state, v), 0, 0};
  uint32_t flags = (act->flags & WEFT_ACT_TRAP_PC) ? WEFT_FRAME_TRAP_PC : 0u;
  for (uint32_t n = 0; act != NULL && n < MAX_STACKS; n++, act = act->older) {
    seg_end r = walk_activation(&w, act, flags);
    if (r != SEG_ENTRY) return status_of(r);
    w.stack++;
    flags = WEFT_FRAME_ACTIVATION;
  }
  return WEFT_OK;
}

/* A suspended chain c -> ... -> la (c the innermost, la = c->last_ancestor the outermost, cut off
 * its parent): c's stack from the suspension point in la's control context, then for each x from c
 * up to la's child, parent(x)'s stack from x's control context (its resume point). */
int bt_walk_suspended(void *state, const weft_contref *c, const weft_frame_visitor *v) {
  if (state == NULL || c == NULL || v == NULL || v->visit == NULL) return WEFT_ERR_MISUSE;
  if (c->csi.state != WEFT_STACK_SUSPENDED) return WEFT_OK; /* nothing on its stack to walk */
  const weft_contref *la = c->last_ancestor;
  if (la == NULL) return WEFT_ERR_MALFORMED;
  walk w = {state, v, max_of(state, v), 0, 0};
  const weft_contref *x = c;
  seg s;
  if (!cont_seg(x, x->csi.limits.last_wasm_entry_fp, &s) || !cont_seg(la, 0, &(seg){0}))
    return WEFT_ERR_MALFORMED;
  const weft_control_ctx *cc = weft_contref_cc(la);
  uintptr_t pc = cc->rip, fp = cc->rbp;
  uint32_t flags = 0;
  for (uint32_t n = 0; n < MAX_STACKS; n++) {
    uintptr_t at = 0;
    seg_end r = walk_seg(&w, pc, fp, &s, flags, &at);
    if (r != SEG_BOTTOM && r != SEG_ENTRY) return status_of(r);
    if (x == la) return WEFT_OK;
    if (x->parent_chain.kind != WEFT_CHAIN_CONTINUATION) return WEFT_ERR_MALFORMED;
    cc = weft_contref_cc(x);
    pc = cc->rip;
    fp = cc->rbp;
    x = x->parent_chain.payload;
    if (!cont_seg(x, x != NULL ? x->csi.limits.last_wasm_entry_fp : 0, &s))
      return WEFT_ERR_MALFORMED;
    flags = WEFT_FRAME_RESUMED;
    w.stack++;
  }
  return WEFT_ERR_MALFORMED;
}
