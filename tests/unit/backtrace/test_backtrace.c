/* tests/unit/backtrace/test_backtrace.c -- the backtrace plugin in isolation: a fake host table
 * (config, allocation with scripted failures, a fake code registry of 48 functions of 64 bytes and
 * a trampoline area) and synthetic frames laid out in buffers: a plain chain, a chain crossing two
 * continuation stacks, a suspended chain, corrupt frame pointers, random stack contents, max depth,
 * older activations, names, the perf map, and the ABI checks of the entry and init.
 * Depends on: weft-backtrace-obj (WEFT_PLUGIN_STATIC), cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "weft/plugin.h"
#include "weft/plugin/backtrace.h"
#include "weft/plugin/codegen.h"

const weft_plugin_desc *weft_plugin_entry_backtrace(uint32_t host_abi);

/* -- Fake code registry ------------------------------------------------------------------------ */

#define FUNC_SIZE 64u
#define NFUNCS 48u               /* functions at [i * 64, (i + 1) * 64) */
#define TRAMP_AT (NFUNCS * 64u)  /* [3072, 4096): trampolines, registered code but no function */
#define CODE_SIZE 4096u

static _Alignas(64) uint8_t fake_code[CODE_SIZE];
static const char *fake_func_names[NFUNCS];
static weft_module fake_mod;

static uintptr_t fpc(uint32_t func, uint32_t at) { /* an address inside function `func` */
  return (uintptr_t)fake_code + func * FUNC_SIZE + at;
}
static uintptr_t ret_in(uint32_t func) { return fpc(func, 9); } /* a return address */
static uintptr_t tramp_pc(void) { return (uintptr_t)fake_code + TRAMP_AT + 17; }
static uintptr_t host_pc(void) { return (uintptr_t)&fpc; } /* not registered code */

static bool fake_code_func(void *host, uintptr_t pc, uint32_t *out_func, uint32_t *out_off,
                           const weft_module **out_m) {
  (void)host;
  uintptr_t base = (uintptr_t)fake_code;
  if (pc < base || pc >= base + TRAMP_AT) return false;
  if (out_func) *out_func = (uint32_t)((pc - base) / FUNC_SIZE);
  if (out_off) *out_off = (uint32_t)(pc - base) + 0x1000; /* a recognisable fake module offset */
  if (out_m) *out_m = &fake_mod;
  return true;
}

static bool fake_code_lookup(void *host, uintptr_t pc, uint32_t *trap, uint32_t *off) {
  (void)host;
  *trap = 0;
  *off = UINT32_MAX;
  return pc >= (uintptr_t)fake_code && pc < (uintptr_t)fake_code + CODE_SIZE;
}

/* -- Fake host --------------------------------------------------------------------------------- */

static int64_t cfg_max_frames = 1000;
static bool cfg_perfmap = false;
static int allocs_left = -1; /* -1: never fail */

static void *fake_alloc(void *h, size_t n) {
  (void)h;
  if (allocs_left == 0) return NULL;
  if (allocs_left > 0) allocs_left--;
  return malloc(n);
}
static void *fake_realloc(void *h, void *p, size_t n) { (void)h; return realloc(p, n); }
static void fake_free(void *h, void *p) { (void)h; free(p); }
static void fake_log(void *h, weft_log_level l, const char *o, const char *fmt, va_list ap) {
  (void)h, (void)l, (void)o, (void)fmt, (void)ap;
}
static int fake_diag(void *h, weft_diag *d, int code, uint64_t off, const char *origin,
                     const char *fmt, va_list ap) {
  (void)h, (void)off, (void)origin;
  if (d != NULL) {
    d->code = code;
    vsnprintf(d->message, sizeof d->message, fmt, ap);
  }
  return code;
}
static int fake_cfg_bool(void *h, const weft_plugin_cfg *c, const char *k, bool *out) {
  (void)h, (void)c;
  if (strcmp(k, "perfmap") != 0) return WEFT_ERR_CONFIG;
  *out = cfg_perfmap;
  return WEFT_OK;
}
static int fake_cfg_int(void *h, const weft_plugin_cfg *c, const char *k, int64_t *out) {
  (void)h, (void)c;
  if (strcmp(k, "max_frames") != 0) return WEFT_ERR_CONFIG;
  *out = cfg_max_frames;
  return WEFT_OK;
}

static weft_host_api fake_host = {
    WEFT_ABI_INIT(weft_host_api),
    .alloc = fake_alloc,
    .realloc = fake_realloc,
    .free = fake_free,
    .log = fake_log,
    .diag = fake_diag,
    .cfg_bool = fake_cfg_bool,
    .cfg_int = fake_cfg_int,
    .code_lookup = fake_code_lookup,
    .code_func = fake_code_func,
};

static const weft_plugin_cfg *const fake_cfg = (const weft_plugin_cfg *)(uintptr_t)0x10;

typedef struct fixture {
  const weft_plugin_desc *desc;
  const weft_backtrace_iface *bi;
  void *st;
} fixture;

static int open_plugin(fixture *f) {
  f->desc = weft_plugin_entry_backtrace(WEFT_ABI_VERSION);
  if (f->desc == NULL) return -1;
  f->bi = f->desc->iface;
  weft_diag d;
  memset(&d, 0, sizeof d);
  return f->desc->init(&fake_host, fake_cfg, &f->st, &d);
}

static int setup(void **state) {
  static fixture f;
  cfg_max_frames = 1000;
  cfg_perfmap = false;
  allocs_left = -1;
  fake_mod.names.module = "m";
  fake_mod.names.nfuncs = NFUNCS;
  fake_mod.names.funcs = fake_func_names;
  fake_mod.nfunc_imports = 0;
  for (uint32_t i = 0; i < NFUNCS; i++) fake_func_names[i] = NULL;
  fake_func_names[1] = "f1";
  fake_func_names[2] = "f2";
  if (open_plugin(&f) != WEFT_OK) return -1;
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  f->desc->fini(f->st);
  return 0;
}

/* -- Synthetic stacks -------------------------------------------------------------------------- */

/* A stack: words, 16-aligned; frame k's record (saved rbp, return address) sits at word 2k..2k+1
 * counted from a base, so addresses grow with k like real callers'. */
typedef struct fake_stack {
  _Alignas(16) uintptr_t w[1024];
} fake_stack;

static uintptr_t slot(fake_stack *s, size_t word) { return (uintptr_t)&s->w[word]; }

/* Writes a frame record at word `at`: [fp] = next_fp, [fp + 8] = ret. Returns fp. */
static uintptr_t put(fake_stack *s, size_t at, uintptr_t next_fp, uintptr_t ret) {
  s->w[at] = next_fp;
  s->w[at + 1] = ret;
  return slot(s, at);
}

/* The visitor: records what it is given. */
typedef struct seen {
  weft_frame f[256];
  size_t n;
  size_t stop_after; /* 0: never stop */
} seen;

static bool record(void *ud, const weft_frame *f) {
  seen *s = ud;
  if (s->n < 256) s->f[s->n] = *f;
  s->n++;
  return s->stop_after == 0 || s->n < s->stop_after;
}

static uint32_t func_of(const weft_frame *f) {
  uintptr_t pc = (f->flags & WEFT_FRAME_TRAP_PC) ? f->pc : f->pc - 1;
  return (uint32_t)((pc - (uintptr_t)fake_code) / FUNC_SIZE);
}

static void init_contref(weft_contref *c, fake_stack *stk, uint32_t state) {
  memset(c, 0, sizeof *c);
  c->csi.state = state;
  c->stack_top = (uint8_t *)(void *)&stk->w[1024];
  c->stack_size = sizeof stk->w;
}

/* -- Walking ----------------------------------------------------------------------------------- */

/* trap in func 5 <- func 2 <- func 7 <- trampoline frame <- entry. */
static void test_plain_chain(void **state) {
  fixture *fx = *state;
  static fake_stack s;
  uintptr_t entry = slot(&s, 900);
  uintptr_t tr = put(&s, 300, entry, host_pc());     /* the array-call trampoline's frame */
  uintptr_t f7 = put(&s, 200, tr, tramp_pc());
  uintptr_t f2 = put(&s, 120, f7, ret_in(7));
  uintptr_t f5 = put(&s, 40, f2, ret_in(2));
  weft_activation act = {.pc = fpc(5, 3), .fp = f5, .entry_fp = entry, .stack_lo = slot(&s, 0),
                         .stack_hi = slot(&s, 1024), .chain = {WEFT_CHAIN_INITIAL_STACK, NULL},
                         .flags = WEFT_ACT_TRAP_PC};
  seen v = {0};
  weft_frame_visitor vis = {&v, record, false, 0};
  assert_int_equal(fx->bi->walk(fx->st, &act, &vis), WEFT_OK);
  assert_int_equal(v.n, 3);
  assert_int_equal(func_of(&v.f[0]), 5);
  assert_int_equal(func_of(&v.f[1]), 2);
  assert_int_equal(func_of(&v.f[2]), 7);
  assert_true(v.f[0].flags & WEFT_FRAME_TRAP_PC);
  assert_false(v.f[1].flags & WEFT_FRAME_TRAP_PC);
  for (size_t i = 0; i < 3; i++) {
    assert_true(v.f[i].flags & WEFT_FRAME_WASM);
    assert_int_equal(v.f[i].stack, 0);
    assert_int_equal(v.f[i].stack_kind, WEFT_CHAIN_INITIAL_STACK);
  }
  assert_int_equal(v.f[1].fp, f2);
  /* with host frames: the trampoline frame shows up too, without the WASM flag */
  seen h = {0};
  weft_frame_visitor hv = {&h, record, true, 0};
  assert_int_equal(fx->bi->walk(fx->st, &act, &hv), WEFT_OK);
  assert_int_equal(h.n, 4);
  assert_false(h.f[3].flags & WEFT_FRAME_WASM);
  assert_int_equal(h.f[3].fp, tr);
}

/* Starting in host code (a libcall's frames) and stepping over them into Wasm. */
static void test_host_frames_skipped(void **state) {
  fixture *fx = *state;
  static fake_stack s;
  uintptr_t entry = slot(&s, 900);
  uintptr_t f3 = put(&s, 200, entry, tramp_pc());
  uintptr_t lc = put(&s, 60, f3, ret_in(3)); /* the libcall's frame, called from func 3 */
  uintptr_t tr = put(&s, 20, lc, host_pc()); /* the raising C function */
  weft_activation act = {.pc = 0, .fp = tr, .entry_fp = entry, .stack_lo = slot(&s, 0),
                         .stack_hi = slot(&s, 1024), .chain = {WEFT_CHAIN_INITIAL_STACK, NULL}};
  seen v = {0};
  weft_frame_visitor vis = {&v, record, false, 0};
  assert_int_equal(fx->bi->walk(fx->st, &act, &vis), WEFT_OK);
  assert_int_equal(v.n, 1);
  assert_int_equal(func_of(&v.f[0]), 3);
}

/* Running chain c1 (head) -> c2 -> initial stack: c1's frames, then c2's from c1's control
 * context, then the initial stack's from c2's, up to the initial stack's saved entry fp. */
static void test_two_continuations(void **state) {
  fixture *fx = *state;
  static fake_stack s1, s2, s0;
  static weft_contref c1, c2;
  static weft_common_stack_info initial;
  init_contref(&c1, &s1, WEFT_STACK_RUNNING);
  init_contref(&c2, &s2, WEFT_STACK_PARENT);
  memset(&initial, 0, sizeof initial);
  c1.parent_chain = (weft_stack_chain){WEFT_CHAIN_CONTINUATION, &c2};
  c2.parent_chain = (weft_stack_chain){WEFT_CHAIN_INITIAL_STACK, &initial};
  uintptr_t bottom1 = (uintptr_t)c1.stack_top - 16, bottom2 = (uintptr_t)c2.stack_top - 16;
  /* c1: trap in 11 <- 12 <- start trampoline frame at the bottom */
  uintptr_t t1 = put(&s1, 700, bottom1, tramp_pc());
  uintptr_t a1 = put(&s1, 500, t1, tramp_pc());
  uintptr_t a0 = put(&s1, 100, a1, ret_in(12));
  /* c2: resumed c1 from func 20, called by 21 */
  uintptr_t b1 = put(&s2, 600, bottom2, tramp_pc());
  uintptr_t b0 = put(&s2, 300, b1, ret_in(21));
  weft_contref_cc(&c1)->rip = ret_in(20);
  weft_contref_cc(&c1)->rbp = b0;
  /* initial stack: resumed c2 from func 30, called by 31, entered through a trampoline */
  uintptr_t entry = slot(&s0, 1000);
  uintptr_t i1 = put(&s0, 500, entry, tramp_pc());
  uintptr_t i0 = put(&s0, 200, i1, ret_in(31));
  initial.limits.last_wasm_entry_fp = entry;
  weft_contref_cc(&c2)->rip = ret_in(30);
  weft_contref_cc(&c2)->rbp = i0;
  weft_activation act = {.pc = fpc(11, 0), .fp = a0, .entry_fp = 0, .stack_lo = slot(&s0, 0),
                         .stack_hi = slot(&s0, 1024), .chain = {WEFT_CHAIN_CONTINUATION, &c1},
                         .flags = WEFT_ACT_TRAP_PC};
  seen v = {0};
  weft_frame_visitor vis = {&v, record, false, 0};
  assert_int_equal(fx->bi->walk(fx->st, &act, &vis), WEFT_OK);
  assert_int_equal(v.n, 6);
  const uint32_t funcs[6] = {11, 12, 20, 21, 30, 31};
  const uint32_t stacks[6] = {0, 0, 1, 1, 2, 2};
  const uint32_t kinds[6] = {WEFT_CHAIN_CONTINUATION, WEFT_CHAIN_CONTINUATION,
                             WEFT_CHAIN_CONTINUATION, WEFT_CHAIN_CONTINUATION,
                             WEFT_CHAIN_INITIAL_STACK, WEFT_CHAIN_INITIAL_STACK};
  for (size_t i = 0; i < 6; i++) {
    assert_int_equal(func_of(&v.f[i]), funcs[i]);
    assert_int_equal(v.f[i].stack, stacks[i]);
    assert_int_equal(v.f[i].stack_kind, kinds[i]);
    assert_int_equal((v.f[i].flags & WEFT_FRAME_RESUMED) != 0, i == 2 || i == 4);
  }
  /* the initial stack's walk ends at its saved entry fp: move it and the trace gets shorter */
  initial.limits.last_wasm_entry_fp = i1;
  seen w = {0};
  weft_frame_visitor wv = {&w, record, false, 0};
  assert_int_equal(fx->bi->walk(fx->st, &act, &wv), WEFT_OK);
  assert_int_equal(w.n, 5); /* ends before func 31's frame */
  initial.limits.last_wasm_entry_fp = i0;
  seen x = {0};
  weft_frame_visitor xv = {&x, record, false, 0};
  assert_int_equal(fx->bi->walk(fx->st, &act, &xv), WEFT_OK);
  assert_int_equal(x.n, 4); /* stops before func 30's frame */
}

/* What contstacks really lays out: each continuation runs its function through an array-call
 * trampoline (whose fp is the stack's saved entry fp) called from C start code whose frame sits on
 * the control context. Reaching such a base entry, the walk goes on in the parent; reaching an
 * entry with Wasm frames above it (the host re-entered Wasm on the continuation), it stops: those
 * frames belong to an older activation. */
static void test_continuation_entries(void **state) {
  fixture *fx = *state;
  static fake_stack s1, s2, s0;
  static weft_contref c1, c2;
  init_contref(&c1, &s1, WEFT_STACK_RUNNING);
  init_contref(&c2, &s2, WEFT_STACK_PARENT);
  c1.parent_chain = (weft_stack_chain){WEFT_CHAIN_CONTINUATION, &c2};
  c2.parent_chain = (weft_stack_chain){WEFT_CHAIN_INITIAL_STACK, NULL};
  uintptr_t bottom1 = (uintptr_t)c1.stack_top - 16, bottom2 = (uintptr_t)c2.stack_top - 16;
  /* c1: func 11 <- array-call trampoline (entry) <- cs_cont_run (C) <- start code at the bottom */
  uintptr_t run1 = put(&s1, 900, bottom1, host_pc());
  uintptr_t tr1 = put(&s1, 800, run1, host_pc());
  uintptr_t a0 = put(&s1, 100, tr1, tramp_pc());
  /* c2: resumed c1 from func 20; same base entry below it */
  uintptr_t run2 = put(&s2, 900, bottom2, host_pc());
  uintptr_t tr2 = put(&s2, 800, run2, host_pc());
  uintptr_t b0 = put(&s2, 300, tr2, tramp_pc());
  c2.csi.limits.last_wasm_entry_fp = tr2;
  weft_contref_cc(&c1)->rip = ret_in(20);
  weft_contref_cc(&c1)->rbp = b0;
  /* initial stack: resumed c2 from func 30 */
  uintptr_t entry = slot(&s0, 1000);
  uintptr_t i0 = put(&s0, 200, entry, tramp_pc());
  weft_contref_cc(&c2)->rip = ret_in(30);
  weft_contref_cc(&c2)->rbp = i0;
  /* no csi for the initial stack (a store's initial chain): the bounds' top is its entry */
  weft_activation act = {.pc = fpc(11, 0), .fp = a0, .entry_fp = tr1, .stack_lo = slot(&s0, 0),
                         .stack_hi = entry + 16, .chain = {WEFT_CHAIN_CONTINUATION, &c1},
                         .flags = WEFT_ACT_TRAP_PC};
  seen v = {0};
  weft_frame_visitor vis = {&v, record, false, 0};
  assert_int_equal(fx->bi->walk(fx->st, &act, &vis), WEFT_OK);
  assert_int_equal(v.n, 3);
  assert_int_equal(func_of(&v.f[0]), 11);
  assert_int_equal(func_of(&v.f[1]), 20);
  assert_int_equal(func_of(&v.f[2]), 30);
  assert_int_equal(v.f[2].stack, 2);
  /* bottom frames overwritten (a trap captured after the start code ran on): the chain still
   * leads to the parent */
  s1.w[800] = 3;
  seen o = {0};
  weft_frame_visitor ov = {&o, record, false, 0};
  act.entry_fp = 0;
  assert_int_equal(fx->bi->walk(fx->st, &act, &ov), WEFT_OK);
  assert_int_equal(o.n, 3);
  assert_int_equal(func_of(&o.f[2]), 30);
  act.entry_fp = tr1;
  s1.w[800] = run1;
  /* re-entry: a Wasm frame (func 15, which called the host) lies between c1's entry and bottom */
  put(&s1, 850, run1, ret_in(15)); /* the host function's frame, returning into func 15 */
  s1.w[800] = slot(&s1, 850);      /* the trampoline's caller is now that host frame */
  seen r = {0};
  weft_frame_visitor rv = {&r, record, false, 0};
  assert_int_equal(fx->bi->walk(fx->st, &act, &rv), WEFT_OK);
  assert_int_equal(r.n, 1);
  assert_int_equal(func_of(&r.f[0]), 11);
}

/* Suspended chain c (innermost, did the suspend) -> la (last ancestor, parent cut off): c's frames
 * from the suspension point in la's control context, then la's from c's control context. */
static void test_suspended_chain(void **state) {
  fixture *fx = *state;
  static fake_stack sc, sla;
  static weft_contref c, la;
  init_contref(&c, &sc, WEFT_STACK_SUSPENDED);
  init_contref(&la, &sla, WEFT_STACK_SUSPENDED);
  c.last_ancestor = &la;
  c.parent_chain = (weft_stack_chain){WEFT_CHAIN_CONTINUATION, &la};
  la.parent_chain = (weft_stack_chain){WEFT_CHAIN_ABSENT, NULL};
  la.last_ancestor = &la;
  uintptr_t cb = (uintptr_t)c.stack_top - 16, lb = (uintptr_t)la.stack_top - 16;
  uintptr_t s1 = put(&sc, 600, cb, tramp_pc());
  uintptr_t s0 = put(&sc, 200, s1, ret_in(41));
  weft_contref_cc(&la)->rip = fpc(40, 5); /* the suspend instruction's resume point */
  weft_contref_cc(&la)->rbp = s0;
  uintptr_t l1 = put(&sla, 800, lb, tramp_pc());
  uintptr_t l0 = put(&sla, 400, l1, ret_in(43));
  weft_contref_cc(&c)->rip = ret_in(42); /* la resumed c from func 42 */
  weft_contref_cc(&c)->rbp = l0;
  seen v = {0};
  weft_frame_visitor vis = {&v, record, false, 0};
  assert_int_equal(fx->bi->walk_suspended(fx->st, &c, &vis), WEFT_OK);
  assert_int_equal(v.n, 4);
  const uint32_t funcs[4] = {40, 41, 42, 43};
  for (size_t i = 0; i < 4; i++) {
    assert_int_equal(func_of(&v.f[i]), funcs[i]);
    assert_int_equal(v.f[i].stack, i < 2 ? 0 : 1);
    assert_int_equal(v.f[i].stack_kind, WEFT_CHAIN_CONTINUATION);
  }
  assert_true(v.f[2].flags & WEFT_FRAME_RESUMED);
  /* a fresh (never run) continuation has no frames; a broken chain is reported, not followed */
  c.csi.state = WEFT_STACK_FRESH;
  seen f = {0};
  weft_frame_visitor fv = {&f, record, false, 0};
  assert_int_equal(fx->bi->walk_suspended(fx->st, &c, &fv), WEFT_OK);
  assert_int_equal(f.n, 0);
  c.csi.state = WEFT_STACK_SUSPENDED;
  c.parent_chain = (weft_stack_chain){WEFT_CHAIN_ABSENT, NULL};
  seen b = {0};
  weft_frame_visitor bv = {&b, record, false, 0};
  assert_int_equal(fx->bi->walk_suspended(fx->st, &c, &bv), WEFT_ERR_MALFORMED);
  assert_int_equal(b.n, 2);
  c.last_ancestor = NULL;
  assert_int_equal(fx->bi->walk_suspended(fx->st, &c, &bv), WEFT_ERR_MALFORMED);
}

/* Each kind of corrupt frame pointer ends the walk with WEFT_ERR_MALFORMED after the good frames,
 * without reading outside the stack. */
static void test_corrupt_fp(void **state) {
  fixture *fx = *state;
  static fake_stack s;
  uintptr_t entry = slot(&s, 900);
  const uintptr_t bad[] = {
      0,                      /* NULL */
      slot(&s, 100) + 4,      /* unaligned */
      slot(&s, 10),           /* below the current frame: not increasing */
      slot(&s, 100),          /* itself: a loop */
      (uintptr_t)&s + sizeof s + 4096, /* above the stack */
      (uintptr_t)0xdead000000000000ull, /* wild */
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    memset(&s, 0, sizeof s);
    uintptr_t f2 = put(&s, 100, bad[k], ret_in(9));
    uintptr_t f1 = put(&s, 50, f2, ret_in(2));
    weft_activation act = {.pc = fpc(1, 0), .fp = f1, .entry_fp = entry, .stack_lo = slot(&s, 0),
                           .stack_hi = slot(&s, 1024), .chain = {WEFT_CHAIN_INITIAL_STACK, NULL},
                           .flags = WEFT_ACT_TRAP_PC};
    seen v = {0};
    weft_frame_visitor vis = {&v, record, false, 0};
    assert_int_equal(fx->bi->walk(fx->st, &act, &vis), WEFT_ERR_MALFORMED);
    assert_int_equal(v.n, 2);
    assert_int_equal(func_of(&v.f[1]), 2);
  }
  /* a start fp outside the bounds reports nothing */
  weft_activation act = {.pc = fpc(1, 0), .fp = slot(&s, 0) - 64, .entry_fp = entry,
                         .stack_lo = slot(&s, 0), .stack_hi = slot(&s, 1024),
                         .chain = {WEFT_CHAIN_INITIAL_STACK, NULL}};
  seen v = {0};
  weft_frame_visitor vis = {&v, record, false, 0};
  assert_int_equal(fx->bi->walk(fx->st, &act, &vis), WEFT_ERR_MALFORMED);
  assert_int_equal(v.n, 0);
  /* a continuation whose stack fields cannot describe a stack */
  static weft_contref c;
  memset(&c, 0, sizeof c);
  c.stack_top = (uint8_t *)(uintptr_t)0x1003;
  act.chain = (weft_stack_chain){WEFT_CHAIN_CONTINUATION, &c};
  assert_int_equal(fx->bi->walk(fx->st, &act, &vis), WEFT_ERR_MALFORMED);
  act.chain = (weft_stack_chain){WEFT_CHAIN_CONTINUATION, NULL};
  assert_int_equal(fx->bi->walk(fx->st, &act, &vis), WEFT_ERR_MALFORMED);
  assert_int_equal(v.n, 0);
  /* misuse */
  assert_int_equal(fx->bi->walk(fx->st, NULL, &vis), WEFT_ERR_MISUSE);
  assert_int_equal(fx->bi->walk(fx->st, &act, NULL), WEFT_ERR_MISUSE);
}

/* 60 frames deep. */
static void deep_chain(fake_stack *s, weft_activation *act) {
  uintptr_t entry = slot(s, 1000);
  uintptr_t next = put(s, 960, entry, tramp_pc());
  for (int k = 59; k >= 0; k--)
    next = put(s, 10 + 14 * (size_t)k, next, k == 59 ? tramp_pc() : ret_in((uint32_t)k % 40));
  *act = (weft_activation){.pc = fpc(3, 0), .fp = next, .entry_fp = entry, .stack_lo = slot(s, 0),
                           .stack_hi = slot(s, 1024), .chain = {WEFT_CHAIN_INITIAL_STACK, NULL},
                           .flags = WEFT_ACT_TRAP_PC};
}

static void test_max_depth(void **state) {
  fixture *fx = *state;
  static fake_stack s;
  weft_activation act;
  deep_chain(&s, &act);
  seen all = {0};
  weft_frame_visitor av = {&all, record, false, 0};
  assert_int_equal(fx->bi->walk(fx->st, &act, &av), WEFT_OK);
  assert_int_equal(all.n, 60);
  /* max_frames = 10: ten frames, then WEFT_ERR_LIMIT */
  fixture small;
  cfg_max_frames = 10;
  assert_int_equal(open_plugin(&small), WEFT_OK);
  seen v = {0};
  weft_frame_visitor vis = {&v, record, false, 0};
  assert_int_equal(small.bi->walk(small.st, &act, &vis), WEFT_ERR_LIMIT);
  assert_int_equal(v.n, 10);
  small.desc->fini(small.st);
  /* the visitor's own cap beats the config; UINT32_MAX lifts it */
  seen cap = {0};
  weft_frame_visitor cv = {&cap, record, false, 7};
  assert_int_equal(fx->bi->walk(fx->st, &act, &cv), WEFT_ERR_LIMIT);
  assert_int_equal(cap.n, 7);
  cfg_max_frames = 10;
  assert_int_equal(open_plugin(&small), WEFT_OK);
  seen un = {0};
  weft_frame_visitor uv = {&un, record, false, UINT32_MAX};
  assert_int_equal(small.bi->walk(small.st, &act, &uv), WEFT_OK);
  assert_int_equal(un.n, 60);
  small.desc->fini(small.st);
  /* the visitor may stop early: not an error */
  seen st = {.stop_after = 5};
  weft_frame_visitor sv = {&st, record, false, 0};
  assert_int_equal(fx->bi->walk(fx->st, &act, &sv), WEFT_OK);
  assert_int_equal(st.n, 5);
}

/* Two activations: the newest ends at its entry; the older one starts at its exit point and its
 * first frame carries WEFT_FRAME_ACTIVATION. */
static void test_older_activation(void **state) {
  fixture *fx = *state;
  static fake_stack s;
  uintptr_t entry_old = slot(&s, 1000), entry_new = slot(&s, 500);
  uintptr_t o1 = put(&s, 900, entry_old, tramp_pc());
  uintptr_t o0 = put(&s, 700, o1, ret_in(16)); /* older Wasm: 15 called the host from 16 */
  uintptr_t n1 = put(&s, 300, entry_new, tramp_pc());
  uintptr_t n0 = put(&s, 100, n1, ret_in(18));
  weft_activation older = {.pc = ret_in(15), .fp = o0, .entry_fp = entry_old,
                           .stack_lo = entry_new, .stack_hi = slot(&s, 1024),
                           .chain = {WEFT_CHAIN_INITIAL_STACK, NULL}};
  weft_activation act = {.pc = fpc(17, 0), .fp = n0, .entry_fp = entry_new,
                         .stack_lo = slot(&s, 0), .stack_hi = entry_new + 16,
                         .chain = {WEFT_CHAIN_INITIAL_STACK, NULL}, .older = &older,
                         .flags = WEFT_ACT_TRAP_PC};
  seen v = {0};
  weft_frame_visitor vis = {&v, record, false, 0};
  assert_int_equal(fx->bi->walk(fx->st, &act, &vis), WEFT_OK);
  assert_int_equal(v.n, 4);
  const uint32_t funcs[4] = {17, 18, 15, 16};
  for (size_t i = 0; i < 4; i++) assert_int_equal(func_of(&v.f[i]), funcs[i]);
  assert_true(v.f[2].flags & WEFT_FRAME_ACTIVATION);
  assert_false(v.f[2].flags & WEFT_FRAME_TRAP_PC);
  assert_int_equal(v.f[2].stack, 1);
}

/* Random stack contents (addresses inside the stack, aligned or not, code addresses, junk), walked
 * from random frames, on the initial stack and on a continuation whose control context is junk too:
 * every walk ends, reads nothing outside its stacks (ASan/valgrind runs check that), and reports
 * only frames inside the bounds, each higher than the one before on its stack. */
static void test_random_stacks(void **state) {
  fixture *fx = *state;
  static fake_stack s, cs;
  static weft_contref c;
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (int iter = 0; iter < 3000; iter++) {
    for (size_t i = 0; i < 1024; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      uintptr_t r;
      switch (x % 5) {
      case 0: r = slot(&s, (size_t)(x >> 8) % 1024); break;
      case 1: r = slot(&cs, (size_t)(x >> 8) % 1024); break;
      case 2: r = fpc((uint32_t)(x >> 8) % NFUNCS, (uint32_t)(x >> 20) % FUNC_SIZE); break;
      case 3: r = slot(&s, (size_t)(x >> 8) % 1024) + (uintptr_t)(x >> 40) % 8; break;
      default: r = (uintptr_t)x; break;
      }
      if (iter & 1) s.w[i] = r;
      else cs.w[i] = r;
    }
    init_contref(&c, &cs, WEFT_STACK_RUNNING);
    c.parent_chain = (weft_stack_chain){WEFT_CHAIN_INITIAL_STACK, NULL};
    bool on_cont = (iter % 3) == 0;
    fake_stack *start = on_cont ? &cs : &s;
    weft_activation act = {.pc = fpc(1, 0), .fp = slot(start, (size_t)(x >> 12) % 1000),
                           .entry_fp = slot(&s, 1000), .stack_lo = slot(&s, 0),
                           .stack_hi = slot(&s, 1024),
                           .chain = on_cont ? (weft_stack_chain){WEFT_CHAIN_CONTINUATION, &c}
                                            : (weft_stack_chain){WEFT_CHAIN_INITIAL_STACK, NULL}};
    seen v = {0};
    weft_frame_visitor vis = {&v, record, true, 0};
    int rc = fx->bi->walk(fx->st, &act, &vis);
    assert_true(rc == WEFT_OK || rc == WEFT_ERR_MALFORMED || rc == WEFT_ERR_LIMIT);
    assert_true(v.n <= 1000);
    for (size_t i = 0; i < v.n && i < 256; i++) {
      const weft_frame *f = &v.f[i];
      fake_stack *on = f->stack_kind == WEFT_CHAIN_CONTINUATION ? &cs : &s;
      assert_true(f->fp >= slot(on, 0) && f->fp <= slot(on, 1022));
      assert_int_equal(f->fp & 7, 0);
      if (i > 0 && v.f[i - 1].stack == f->stack) assert_true(f->fp > v.f[i - 1].fp);
    }
  }
}

/* -- Names ------------------------------------------------------------------------------------- */

static void test_symbolize(void **state) {
  fixture *fx = *state;
  weft_frame_sym sym;
  char buf[64];
  /* a return address at the very start of function 2 belongs to the call in function 1 */
  weft_frame f = {fpc(2, 0), 0, 0, WEFT_FRAME_WASM, WEFT_CHAIN_INITIAL_STACK, 0};
  assert_true(fx->bi->symbolize(fx->st, &f, &sym));
  assert_int_equal(sym.func_index, 1);
  assert_int_equal(sym.wasm_off, FUNC_SIZE * 2 - 1 + 0x1000);
  fx->bi->format_name(fx->st, &sym, buf, sizeof buf);
  assert_string_equal(buf, "m!f1");
  /* the same address as a trap pc is function 2 */
  f.flags |= WEFT_FRAME_TRAP_PC;
  assert_true(fx->bi->symbolize(fx->st, &f, &sym));
  assert_int_equal(sym.func_index, 2);
  fx->bi->format_name(fx->st, &sym, buf, sizeof buf);
  assert_string_equal(buf, "m!f2");
  /* no name: wasm-function[N]; no module name: <unknown> */
  f.pc = fpc(7, 4);
  assert_true(fx->bi->symbolize(fx->st, &f, &sym));
  fx->bi->format_name(fx->st, &sym, buf, sizeof buf);
  assert_string_equal(buf, "m!wasm-function[7]");
  fake_mod.names.module = NULL;
  assert_true(fx->bi->symbolize(fx->st, &f, &sym));
  size_t need = fx->bi->format_name(fx->st, &sym, buf, sizeof buf);
  assert_string_equal(buf, "<unknown>!wasm-function[7]");
  assert_int_equal(need, strlen("<unknown>!wasm-function[7]"));
  /* truncation keeps the buffer terminated and reports the length needed */
  char tiny[5];
  assert_int_equal(fx->bi->format_name(fx->st, &sym, tiny, sizeof tiny), need);
  assert_string_equal(tiny, "<unk");
  /* a trampoline or host pc is no Wasm function */
  f.pc = tramp_pc();
  assert_false(fx->bi->symbolize(fx->st, &f, &sym));
  assert_int_equal(sym.func_index, UINT32_MAX);
  f.pc = host_pc();
  assert_false(fx->bi->symbolize(fx->st, &f, &sym));
}

/* A 1.1 host (no code_func): frames in registered code are still found, but cannot be named. */
static void test_old_host(void **state) {
  (void)state;
  weft_host_api old = fake_host;
  old.abi_version = WEFT_ABI_MAKE(1, 1);
  old.struct_size = (uint32_t)(offsetof(weft_host_api, code_lookup) + sizeof(void *));
  const weft_plugin_desc *d = weft_plugin_entry_backtrace(WEFT_ABI_VERSION);
  const weft_backtrace_iface *bi = d->iface;
  void *st = NULL;
  weft_diag diag;
  assert_int_equal(d->init(&old, NULL, &st, &diag), WEFT_OK);
  static fake_stack s;
  uintptr_t entry = slot(&s, 900);
  uintptr_t f2 = put(&s, 120, entry, ret_in(7));
  weft_activation act = {.pc = fpc(5, 3), .fp = f2, .entry_fp = entry, .stack_lo = slot(&s, 0),
                         .stack_hi = slot(&s, 1024), .chain = {WEFT_CHAIN_INITIAL_STACK, NULL},
                         .flags = WEFT_ACT_TRAP_PC};
  seen v = {0};
  weft_frame_visitor vis = {&v, record, false, 0};
  assert_int_equal(bi->walk(st, &act, &vis), WEFT_OK);
  assert_int_equal(v.n, 1);
  weft_frame_sym sym;
  assert_false(bi->symbolize(st, &v.f[0], &sym));
  d->fini(st);
}

/* -- Perf map ---------------------------------------------------------------------------------- */

static void test_perfmap(void **state) {
  (void)state;
  char path[64];
  snprintf(path, sizeof path, "/tmp/perf-%ld.map", (long)getpid());
  unlink(path);
  uint32_t starts[3] = {0, 64, 128}, ends[3] = {40, 100, 128}, tramps[3] = {3072, 3100, 3130};
  weft_code_info ci = {WEFT_ABI_INIT(weft_code_info), .code = fake_code, .code_size = CODE_SIZE,
                       .nfuncs = 3, .func_start = starts, .func_end = ends, .array_call = tramps};
  fake_mod.nfunc_imports = 1; /* defined function i is module function i + 1 */
  /* off by default: no file */
  fixture off;
  assert_int_equal(open_plugin(&off), WEFT_OK);
  off.bi->code_added(off.st, &fake_mod, &ci);
  assert_int_equal(access(path, F_OK), -1);
  off.desc->fini(off.st);
  fixture on;
  cfg_perfmap = true;
  assert_int_equal(open_plugin(&on), WEFT_OK);
  on.bi->code_added(on.st, &fake_mod, &ci);
  on.bi->code_removed(on.st, &fake_mod, &ci);
  on.desc->fini(on.st);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char text[1024] = {0};
  size_t len = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  unlink(path);
  assert_true(len > 0);
  char want[256];
  snprintf(want, sizeof want, "%lx 28 m!f1\n%lx 24 m!f2\n%lx 1c wasm-trampoline[1]\n%lx 1e "
           "wasm-trampoline[2]\n", (unsigned long)(uintptr_t)fake_code,
           (unsigned long)((uintptr_t)fake_code + 64), (unsigned long)((uintptr_t)fake_code + 3072),
           (unsigned long)((uintptr_t)fake_code + 3100));
  assert_string_equal(text, want); /* the empty function 3 is left out */
}

/* -- ABI and init ------------------------------------------------------------------------------ */

static void test_abi_and_init(void **state) {
  (void)state;
  assert_null(weft_plugin_entry_backtrace(WEFT_ABI_MAKE(WEFT_ABI_MAJOR + 1, 0)));
  const weft_plugin_desc *d = weft_plugin_entry_backtrace(WEFT_ABI_MAKE(WEFT_ABI_MAJOR, 0));
  assert_non_null(d);
  assert_string_equal(d->name, "backtrace");
  assert_int_equal(d->kind, WEFT_PLUGIN_BACKTRACE);
  assert_int_equal(d->nkeys, 2);
  const weft_backtrace_iface *bi = d->iface;
  assert_int_equal(WEFT_ABI_MAJOR_OF(bi->abi_version), WEFT_ABI_MAJOR);
  assert_int_equal(bi->struct_size, sizeof(weft_backtrace_iface));
  void *st = NULL;
  weft_diag diag;
  memset(&diag, 0, sizeof diag);
  cfg_max_frames = 0;
  assert_int_equal(d->init(&fake_host, fake_cfg, &st, &diag), WEFT_ERR_CONFIG);
  assert_non_null(strstr(diag.message, "max_frames = 0"));
  cfg_max_frames = 2000000;
  assert_int_equal(d->init(&fake_host, fake_cfg, &st, &diag), WEFT_ERR_CONFIG);
  cfg_max_frames = 1000;
  allocs_left = 0;
  assert_int_equal(d->init(&fake_host, fake_cfg, &st, &diag), WEFT_ERR_NOMEM);
  allocs_left = -1;
  assert_int_equal(d->init(&fake_host, fake_cfg, &st, &diag), WEFT_OK);
  d->fini(st);
  d->fini(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_plain_chain, setup, teardown),
      cmocka_unit_test_setup_teardown(test_host_frames_skipped, setup, teardown),
      cmocka_unit_test_setup_teardown(test_two_continuations, setup, teardown),
      cmocka_unit_test_setup_teardown(test_continuation_entries, setup, teardown),
      cmocka_unit_test_setup_teardown(test_suspended_chain, setup, teardown),
      cmocka_unit_test_setup_teardown(test_corrupt_fp, setup, teardown),
      cmocka_unit_test_setup_teardown(test_max_depth, setup, teardown),
      cmocka_unit_test_setup_teardown(test_older_activation, setup, teardown),
      cmocka_unit_test_setup_teardown(test_random_stacks, setup, teardown),
      cmocka_unit_test_setup_teardown(test_symbolize, setup, teardown),
      cmocka_unit_test_setup_teardown(test_old_host, setup, teardown),
      cmocka_unit_test_setup_teardown(test_perfmap, setup, teardown),
      cmocka_unit_test_setup_teardown(test_abi_and_init, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
