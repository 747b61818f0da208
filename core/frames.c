/* core/frames.c -- the core side of backtraces: the code table behind the host's code_func slot,
 * the frame-walking service (walk_frames: the backtrace plugin's walker), trap-time capture into
 * weft_trap, and the trap-frame accessors of the embedding API (runtime.h).
 * Capture runs in core_rt_entry_call after the landing pad returned (never in the signal handler),
 * on stack memory below the innermost trapped frame so it overwrites none of the frames it walks.
 * Depends on: core/frames.h, core/engine.h, core/runtime_int.h, weft/plugin/backtrace.h, pthreads.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "frames.h"

/* initial-exec, like the signal handler's context (core/signals.c): entering Wasm reads and writes
 * it, so it must not cost a __tls_get_addr call in libweft.so. */
__thread core_frames_act *core_frames_top __attribute__((tls_model("initial-exec")));

/* -- Plugin access ---------------------------------------------------------------------------- */

static const weft_backtrace_iface *bt_iface(const weft_engine *e, void **out_state) {
  if (e == NULL) return NULL;
  const weft_backtrace_iface *bi = core_engine_iface(e, WEFT_PLUGIN_BACKTRACE);
  if (bi == NULL || !WEFT_HAS(bi, weft_backtrace_iface, format_name) || bi->walk == NULL ||
      bi->symbolize == NULL || bi->format_name == NULL)
    return NULL;
  *out_state = core_engine_state(e, WEFT_PLUGIN_BACKTRACE);
  return bi;
}

/* The engine whose host table `host` (weft_host_api.host) is: the table lives inside the engine. */
static const weft_engine *engine_of_host(void *host) {
  return (const weft_engine *)(const void *)((const char *)host - offsetof(weft_engine, host));
}

/* -- Code table ------------------------------------------------------------------------------- */

typedef struct code_entry {
  uintptr_t start, end;
  const weft_code_info *ci;
  const weft_module *m;
} code_entry;

/* An immutable sorted snapshot, swapped whole by writers (under code_lock) and read without locks:
 * a writer frees the snapshot it replaced once no reader is inside (as core/registry.c does). */
typedef struct code_snap {
  size_t n;
  code_entry e[];
} code_snap;

static pthread_mutex_t code_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(code_snap *) code_cur;
static atomic_uint code_readers;

/* Bumped after each swap; a thread's one-function cache is valid while it holds the same value. */
static atomic_uint_fast64_t code_gen = 1;

static void publish(code_snap *t) {
  code_snap *old = atomic_exchange(&code_cur, t);
  atomic_fetch_add(&code_gen, 1);
  while (atomic_load(&code_readers) != 0) sched_yield();
  free(old);
}

void core_frames_code_added(const weft_engine *e, const weft_module *m, const weft_code_info *ci) {
  if (m == NULL || ci == NULL || ci->code == NULL || ci->code_size == 0) return;
  pthread_mutex_lock(&code_lock);
  code_snap *old = atomic_load(&code_cur);
  size_t n = old != NULL ? old->n : 0;
  code_snap *t = malloc(sizeof *t + (n + 1) * sizeof(code_entry));
  if (t != NULL) { /* else frames of this module stay unnamed; nothing else breaks */
    uintptr_t start = (uintptr_t)ci->code;
    size_t j = 0;
    for (size_t i = 0; i < n && old->e[i].start < start; i++) t->e[j++] = old->e[i];
    t->e[j++] = (code_entry){start, start + ci->code_size, ci, m};
    for (size_t i = j - 1; i < n; i++) t->e[j++] = old->e[i];
    t->n = j;
    publish(t);
  }
  pthread_mutex_unlock(&code_lock);
  void *bs = NULL;
  const weft_backtrace_iface *bi = bt_iface(e, &bs);
  if (bi != NULL && bi->code_added != NULL) bi->code_added(bs, m, ci);
}

void core_frames_code_removed(const weft_engine *e, const weft_module *m, const weft_code_info *ci) {
  if (ci == NULL) return;
  void *bs = NULL;
  const weft_backtrace_iface *bi = bt_iface(e, &bs);
  if (bi != NULL && bi->code_removed != NULL) bi->code_removed(bs, m, ci);
  pthread_mutex_lock(&code_lock);
  code_snap *old = atomic_load(&code_cur);
  if (old != NULL) {
    code_snap *t = malloc(sizeof *t + old->n * sizeof(code_entry));
    if (t == NULL) {
      /* cannot shrink: blank the entry in place (readers see either the old or the blank range) */
      for (size_t i = 0; i < old->n; i++)
        if (old->e[i].ci == ci) old->e[i].end = old->e[i].start;
    } else {
      size_t j = 0;
      for (size_t i = 0; i < old->n; i++)
        if (old->e[i].ci != ci) t->e[j++] = old->e[i];
      t->n = j;
      publish(t);
    }
  }
  pthread_mutex_unlock(&code_lock);
}

/* The module offset at code offset `off`: the trap site there, else the pc map entry covering it. */
static uint32_t wasm_off_at(const weft_code_info *ci, uint32_t off) {
  size_t a = 0, b = ci->ntrap_sites;
  while (a < b) {
    size_t mid = a + (b - a) / 2;
    if (ci->trap_sites[mid].code_off < off) a = mid + 1;
    else b = mid;
  }
  if (a < ci->ntrap_sites && ci->trap_sites[a].code_off == off) return ci->trap_sites[a].wasm_off;
  a = 0, b = ci->npc_map;
  while (a < b) {
    size_t mid = a + (b - a) / 2;
    if (ci->pc_map[mid].code_off <= off) a = mid + 1;
    else b = mid;
  }
  return a > 0 ? ci->pc_map[a - 1].wasm_off : UINT32_MAX;
}

/* The function the last lookup on this thread found: a walk asks about the same function again and
 * again (recursion, and the symbolize pass after the walk), so most lookups end here. */
static __thread struct {
  uint_fast64_t gen; /* code_gen when filled; 0: empty */
  uintptr_t lo, hi;  /* the function's code */
  uintptr_t base;    /* its module's code start */
  const weft_code_info *ci;
  const weft_module *m;
  uint32_t func;
} last_hit;

bool core_frames_host_code_func(void *host, uintptr_t pc, uint32_t *out_func, uint32_t *out_wasm_off,
                                const struct weft_module **out_module) {
  (void)host;
  bool found = false;
  uint32_t func = UINT32_MAX, woff = UINT32_MAX;
  const weft_module *m = NULL;
  uint_fast64_t gen = atomic_load(&code_gen);
  if (last_hit.gen == gen && pc >= last_hit.lo && pc < last_hit.hi) {
    found = true;
    m = last_hit.m;
    func = last_hit.func;
    if (out_wasm_off != NULL) woff = wasm_off_at(last_hit.ci, (uint32_t)(pc - last_hit.base));
    goto done;
  }
  atomic_fetch_add(&code_readers, 1);
  const code_snap *t = atomic_load(&code_cur);
  size_t lo = 0, hi = t != NULL ? t->n : 0;
  while (lo < hi) { /* last entry with start <= pc */
    size_t mid = lo + (hi - lo) / 2;
    if (t->e[mid].start <= pc) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && pc < t->e[lo - 1].end) {
    const code_entry *e = &t->e[lo - 1];
    uint32_t off = (uint32_t)(pc - e->start);
    size_t a = 0, b = e->ci->nfuncs; /* functions are laid out in index order */
    while (a < b) {
      size_t mid = a + (b - a) / 2;
      if (e->ci->func_start[mid] <= off) a = mid + 1;
      else b = mid;
    }
    if (a > 0 && off < e->ci->func_end[a - 1]) {
      found = true;
      m = e->m;
      func = m->nfunc_imports + (uint32_t)(a - 1);
      if (out_wasm_off != NULL) woff = wasm_off_at(e->ci, off);
      last_hit.gen = gen;
      last_hit.lo = e->start + e->ci->func_start[a - 1];
      last_hit.hi = e->start + e->ci->func_end[a - 1];
      last_hit.base = e->start;
      last_hit.ci = e->ci;
      last_hit.m = m;
      last_hit.func = func;
    }
  }
  atomic_fetch_sub(&code_readers, 1);
done:
  if (out_func != NULL) *out_func = func;
  if (out_wasm_off != NULL) *out_wasm_off = woff;
  if (out_module != NULL) *out_module = m;
  return found;
}

/* -- The walking service ---------------------------------------------------------------------- */

int core_frames_host_walk(void *host, const struct weft_activation *act,
                          const struct weft_contref *suspended, const struct weft_frame_visitor *v) {
  void *bs = NULL;
  const weft_backtrace_iface *bi = bt_iface(engine_of_host(host), &bs);
  if (bi == NULL) return WEFT_ERR_UNSUPPORTED;
  if (suspended != NULL)
    return bi->walk_suspended != NULL ? bi->walk_suspended(bs, suspended, v) : WEFT_ERR_UNSUPPORTED;
  return bi->walk(bs, act, v);
}

/* -- Capture ---------------------------------------------------------------------------------- */

/* Raw frames of the last capture on this thread, waiting for core_frames_attach. */
typedef struct pending {
  weft_store_ctx *ctx;
  weft_frame *frames;
  size_t n, cap;
  bool oom;
  int status; /* of the walk */
  /* set by a capture at a resume site: the trap it describes, which the entry's capture keeps */
  bool at_resume;
  const core_frames_act *act;
  uintptr_t trap_pc, trap_fp;
} pending;

static __thread pending tls_pending;

static void pending_clear(pending *p) {
  free(p->frames);
  p->frames = NULL;
  p->n = p->cap = 0;
  p->ctx = NULL;
  p->oom = false;
  p->status = WEFT_OK;
  p->at_resume = false;
  p->act = NULL;
  p->trap_pc = p->trap_fp = 0;
}

/* True when `p` holds the frames a resume site captured for the trap now pending in ctx. */
static bool pending_is_this_trap(const pending *p, const weft_store_ctx *ctx,
                                 const core_frames_act *act) {
  return p->at_resume && p->frames != NULL && p->ctx == ctx && p->act == act &&
         p->trap_pc == ctx->trap_pc && p->trap_fp == ctx->trap_fp;
}

static bool collect(void *ud, const weft_frame *f) {
  pending *p = ud;
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 128;
    weft_frame *t = realloc(p->frames, cap * sizeof *t);
    if (t == NULL) {
      p->oom = true;
      return false;
    }
    p->frames = t;
    p->cap = cap;
  }
  p->frames[p->n++] = *f;
  return true;
}

/* Most older activations one capture links (they live on the stack of capture_body). */
#define MAX_ACTS 64
/* The largest distance between the entry and a trapped frame that capture trusts when the stack
 * limit is unknown. */
#define MAX_SPAN ((uintptr_t)1 << 30)
/* Host code called by Wasm runs below the Wasm stack limit; core/entry.c keeps at least this much
 * of the thread's stack under the limit (its HOST_MARGIN), so frames there are still on it. */
#define BELOW_LIMIT ((uintptr_t)128 * 1024)
/* Gap left between the frames being walked and the stack the walk runs on. */
#define GAP 512

/* Whether `fp` can be the innermost frame of the activation whose entry frame is at `end`: on the
 * same stack, below the entry. Anything else (e.g. a trap pc/fp left on a continuation stack that
 * is no longer in the chain) means this activation shows no frames: reading there could fault. */
__attribute__((always_inline)) static inline bool start_ok(const weft_store_ctx *ctx, uintptr_t fp,
                                                           uintptr_t end) {
  if (fp == 0 || fp >= end) return false;
  if (ctx->stack_chain.kind == WEFT_CHAIN_CONTINUATION) {
    /* the host re-entered Wasm on a continuation stack: fp and the entry both lie on it */
    const weft_contref *c = ctx->stack_chain.payload;
    if (c == NULL) return false;
    uintptr_t top = (uintptr_t)c->stack_top;
    return c->stack_size <= top && fp >= top - c->stack_size && end < top;
  }
  uintptr_t limit = ctx->limits.stack_limit;
  if (limit == 0) return end - fp < MAX_SPAN;
  return fp >= (limit > BELOW_LIMIT ? limit - BELOW_LIMIT : 0);
}

/* The newest activation: where the trap left Wasm. */
static weft_activation newest(const core_frames_act *act) {
  weft_store_ctx *ctx = act->ctx;
  uintptr_t pc, fp, end = act->entry_call_fp;
  uint32_t flags = 0;
  if (ctx->trap_pc != 0) { /* a fault in Wasm code */
    pc = ctx->trap_pc;
    fp = ctx->trap_fp;
    flags = WEFT_ACT_TRAP_PC;
  } else if (ctx->trap_fp != 0) { /* raised from C (a libcall): host frames first, stepped over */
    pc = 0;
    fp = ctx->trap_fp;
  } else { /* a host function's trap: Wasm left through an import trampoline */
    pc = ctx->last_wasm_exit_pc;
    fp = ctx->last_wasm_exit_fp;
  }
  if (!start_ok(ctx, fp, end)) fp = end; /* nothing of this activation */
  return (weft_activation){.pc = pc,
                           .fp = fp,
                           .entry_fp = end,
                           .stack_lo = fp,
                           .stack_hi = end + 16,
                           .chain = ctx->stack_chain,
                           .flags = flags};
}

/* Walks `first` and the older activations behind `act` into the pending frames. */
static void walk_into(pending *p, const core_frames_act *act, const weft_activation *first) {
  weft_store_ctx *ctx = act->ctx;
  weft_store_t *s = core_rt_store_of_ctx(ctx);
  void *bs = NULL;
  const weft_backtrace_iface *bi = bt_iface(s->engine, &bs);
  if (bi == NULL) return;
  weft_activation acts[MAX_ACTS];
  acts[0] = *first;
  uint32_t n = 1;
  /* older activations of this store: each entry remembered where its predecessor left Wasm */
  for (const core_frames_act *a = act; a->prev != NULL && n < MAX_ACTS; a = a->prev) {
    if (a->prev->ctx != ctx) break; /* another store's Wasm: not part of this trace */
    acts[n] = (weft_activation){.pc = a->outer_exit_pc,
                                .fp = a->outer_exit_fp,
                                .entry_fp = a->prev->entry_call_fp,
                                .stack_lo = a->entry_call_fp,
                                .stack_hi = a->prev->entry_call_fp + 16,
                                .chain = a->outer_chain};
    if (acts[n].fp <= a->entry_call_fp || acts[n].fp >= a->prev->entry_call_fp)
      acts[n].fp = acts[n].entry_fp; /* no Wasm frames in it (or no exit point known) */
    acts[n - 1].older = &acts[n];
    n++;
  }
  weft_frame_visitor v = {p, collect, false, 0};
  p->ctx = ctx;
  p->status = bi->walk(bs, &acts[0], &v);
}

/* Runs on the stack region below the trapped frames; called only by core_frames_capture (the
 * assembly below), hence not static: a static function's assembler name is not guaranteed. */
__attribute__((visibility("hidden"))) void core_frames_capture_body(const core_frames_act *act);
void core_frames_capture_body(const core_frames_act *act) {
  pending *p = &tls_pending;
  if (pending_is_this_trap(p, act->ctx, act)) return; /* a resume site saw it with its stacks */
  pending_clear(p);
  weft_activation first = newest(act);
  walk_into(p, act, &first);
}

/* -- Capture at a resume site ------------------------------------------------------------------ */

/* The lowest frame the initial stack's part of the running chain from `c` can have: the rbp in
 * the control context of the continuation whose parent is the initial stack (where that stack
 * resumed it); 0 when the chain does not reach the initial stack below `entry`. */
static uintptr_t initial_resume_fp(const weft_contref *c, uintptr_t entry) {
  for (uint32_t n = 0; c != NULL && n < (1u << 20); n++) {
    if (c->parent_chain.kind == WEFT_CHAIN_INITIAL_STACK) {
      uintptr_t rbp = weft_contref_cc(c)->rbp;
      return rbp != 0 && rbp < entry ? rbp : 0;
    }
    if (c->parent_chain.kind != WEFT_CHAIN_CONTINUATION) return 0;
    c = c->parent_chain.payload;
  }
  return 0;
}

/* A trap inside a continuation unwinds stack by stack (docs/STACK-SWITCHING.md §5): by the time it
 * reaches the host entry the chain is gone. The resume site that receives the TRAP effect calls
 * this (host slot capture_trap) before it restores the chain: ctx->stack_chain still starts at the
 * trapped continuation, whose frames are dead but intact, and its control context still holds the
 * resume site this runs in, whose frames are live above this one. Outer resume sites and the entry
 * keep what the innermost one captured for the same trap. */
void core_frames_host_capture_trap(void *host, weft_store_ctx *ctx) {
  (void)host;
  const core_frames_act *act = core_frames_top;
  pending *p = &tls_pending;
  if (ctx == NULL || act == NULL || act->ctx != ctx) return;
  if (pending_is_this_trap(p, ctx, act)) return;
  if (ctx->stack_chain.kind != WEFT_CHAIN_CONTINUATION) return;
  const weft_contref *c = ctx->stack_chain.payload;
  uintptr_t fp = ctx->trap_fp, top = c != NULL ? (uintptr_t)c->stack_top : 0;
  if (top == 0 || c->stack_size > top || fp < top - c->stack_size || fp >= top) return;
  pending_clear(p);
  /* The initial stack's frames lie between its resume point and the entry. This function runs
   * on the resumer's stack, which is that stack only when the resumer is not a continuation;
   * when the host re-entered Wasm from a continuation, the initial stack is memory of that
   * continuation and can lie below the resumer's, so the bound comes from the chain. */
  uintptr_t lo = (uintptr_t)__builtin_frame_address(0);
  uintptr_t base = initial_resume_fp(c, act->entry_call_fp);
  if (base != 0 && base < lo) lo = base;
  weft_activation first = {.pc = ctx->trap_pc,
                           .fp = fp,
                           .entry_fp = 0, /* to the continuation's bottom */
                           .stack_lo = lo,
                           .stack_hi = act->entry_call_fp + 16,
                           .chain = ctx->stack_chain,
                           .flags = ctx->trap_pc != 0 ? WEFT_ACT_TRAP_PC : 0u};
  walk_into(p, act, &first);
  p->at_resume = true;
  p->act = act;
  p->trap_pc = ctx->trap_pc;
  p->trap_fp = ctx->trap_fp;
}

/* -- Capture entry (assembly) ------------------------------------------------------------------ */

/* core_frames_capture(act) in assembly, so that nothing but its return address is written below
 * the entry before the switch, whatever the optimization level (at -O0 a C frame here plus a call
 * overwrote the outermost Wasm frame's saved rbp, and every trace after it was cut). It picks the
 * stack top as start_ok does -- the innermost trapped frame, or 4 KiB below the entry when that is
 * higher, minus GAP, 16-aligned -- then runs core_frames_capture_body(act) there and comes back.
 * The word offsets it reads are checked against the C layouts here. */
#define CAP_ACT_CTX 8
#define CAP_ACT_ENTRY 16
#define CAP_CTX_LIMIT 0
#define CAP_CTX_EXIT_FP 40
#define CAP_CTX_CHAIN_KIND 48
#define CAP_CTX_CHAIN_PAYLOAD 56
#define CAP_CTX_TRAP_PC 72
#define CAP_CTX_TRAP_FP 80
#define CAP_CONT_TOP 96
#define CAP_CONT_SIZE 104
#define CAP_CHAIN_CONT 2
#define CAP_MAX_SPAN 0x40000000
#define CAP_BELOW_LIMIT 0x20000
#define CAP_GAP 512
_Static_assert(offsetof(core_frames_act, ctx) == CAP_ACT_CTX, "capture stub layout");
_Static_assert(offsetof(core_frames_act, entry_call_fp) == CAP_ACT_ENTRY, "capture stub layout");
_Static_assert(offsetof(weft_store_ctx, limits.stack_limit) == CAP_CTX_LIMIT, "capture stub layout");
_Static_assert(offsetof(weft_store_ctx, last_wasm_exit_fp) == CAP_CTX_EXIT_FP, "capture stub layout");
_Static_assert(offsetof(weft_store_ctx, stack_chain.kind) == CAP_CTX_CHAIN_KIND, "capture stub layout");
_Static_assert(offsetof(weft_store_ctx, stack_chain.payload) == CAP_CTX_CHAIN_PAYLOAD,
               "capture stub layout");
_Static_assert(offsetof(weft_store_ctx, trap_pc) == CAP_CTX_TRAP_PC, "capture stub layout");
_Static_assert(offsetof(weft_store_ctx, trap_fp) == CAP_CTX_TRAP_FP, "capture stub layout");
_Static_assert(offsetof(weft_contref, stack_top) == CAP_CONT_TOP, "capture stub layout");
_Static_assert(offsetof(weft_contref, stack_size) == CAP_CONT_SIZE, "capture stub layout");
_Static_assert(WEFT_CHAIN_CONTINUATION == CAP_CHAIN_CONT, "capture stub layout");
_Static_assert(MAX_SPAN == CAP_MAX_SPAN && BELOW_LIMIT == CAP_BELOW_LIMIT && GAP == CAP_GAP,
               "capture stub constants");

#define CAP_S(x) #x
#define CAP_STR(x) CAP_S(x)
/* rdi = act throughout; rax = ctx, rcx = end (the entry), rdx = fp, r8 = the new stack top. */
__asm__(".pushsection .text\n"
        ".globl core_frames_capture\n"
        ".hidden core_frames_capture\n"
        ".type core_frames_capture, @function\n"
        ".p2align 4\n"
        "core_frames_capture:\n"
        "  .cfi_startproc\n"
        "  movq " CAP_STR(CAP_ACT_CTX) "(%rdi), %rax\n"
        "  movq " CAP_STR(CAP_ACT_ENTRY) "(%rdi), %rcx\n"
        "  leaq -4096(%rcx), %r8\n"
        /* fp: the trap's (fault or raised in C), else the last exit to the host */
        "  movq " CAP_STR(CAP_CTX_TRAP_FP) "(%rax), %rdx\n"
        "  cmpq $0, " CAP_STR(CAP_CTX_TRAP_PC) "(%rax)\n"
        "  jne 1f\n"
        "  testq %rdx, %rdx\n"
        "  jne 1f\n"
        "  movq " CAP_STR(CAP_CTX_EXIT_FP) "(%rax), %rdx\n"
        /* start_ok(ctx, fp, end), else 9f */
        "1:\n"
        "  testq %rdx, %rdx\n"
        "  je 9f\n"
        "  cmpq %rcx, %rdx\n"
        "  jae 9f\n"
        "  cmpq $" CAP_STR(CAP_CHAIN_CONT) ", " CAP_STR(CAP_CTX_CHAIN_KIND) "(%rax)\n"
        "  jne 3f\n"
        "  movq " CAP_STR(CAP_CTX_CHAIN_PAYLOAD) "(%rax), %rsi\n"
        "  testq %rsi, %rsi\n"
        "  je 9f\n"
        "  movq " CAP_STR(CAP_CONT_TOP) "(%rsi), %r9\n"
        "  movq " CAP_STR(CAP_CONT_SIZE) "(%rsi), %r10\n"
        "  cmpq %r9, %r10\n" /* size > top */
        "  ja 9f\n"
        "  cmpq %r9, %rcx\n" /* end >= top */
        "  jae 9f\n"
        "  movq %r9, %r11\n"
        "  subq %r10, %r11\n"
        "  cmpq %r11, %rdx\n" /* fp < top - size */
        "  jb 9f\n"
        "  jmp 8f\n"
        "3:\n"
        "  movq " CAP_STR(CAP_CTX_LIMIT) "(%rax), %r9\n"
        "  testq %r9, %r9\n"
        "  jne 4f\n"
        "  movq %rcx, %r11\n"
        "  subq %rdx, %r11\n"
        "  cmpq $" CAP_STR(CAP_MAX_SPAN) ", %r11\n" /* end - fp >= MAX_SPAN */
        "  jae 9f\n"
        "  jmp 8f\n"
        "4:\n"
        "  xorl %r11d, %r11d\n"
        "  cmpq $" CAP_STR(CAP_BELOW_LIMIT) ", %r9\n"
        "  jbe 5f\n"
        "  leaq -" CAP_STR(CAP_BELOW_LIMIT) "(%r9), %r11\n"
        "5:\n"
        "  cmpq %r11, %rdx\n" /* fp below limit - BELOW_LIMIT */
        "  jb 9f\n"
        "8:\n" /* fp is a frame of this activation: below it if that is lower */
        "  cmpq %r8, %rdx\n"
        "  jae 9f\n"
        "  movq %rdx, %r8\n"
        "9:\n"
        "  subq $" CAP_STR(CAP_GAP) ", %r8\n"
        "  andq $-16, %r8\n"
        "  movq %rsp, %r9\n"
        "  movq %r8, %rsp\n"
        "  pushq %r9\n"
        "  subq $8, %rsp\n"
        "  call core_frames_capture_body@PLT\n"
        "  addq $8, %rsp\n"
        "  popq %rsp\n"
        "  ret\n"
        "  .cfi_endproc\n"
        ".size core_frames_capture, .-core_frames_capture\n"
        ".popsection\n");

/* -- Trap frames ------------------------------------------------------------------------------ */

typedef struct core_trap_frame {
  uint32_t func_index;
  uint32_t wasm_off;
  uint32_t stack;      /* stack number, innermost 0 */
  uint32_t stack_kind; /* weft_chain_kind */
  uint32_t boundary;   /* weft_trap_boundary */
  uint32_t name_off;   /* "<module>!<func>" at names + name_off */
} core_trap_frame;

struct core_frames {
  size_t n;
  bool truncated;
  char *names; /* every distinct name once, NUL-terminated */
  core_trap_frame f[];
};

void core_frames_free(struct core_frames *f) {
  if (f == NULL) return;
  free(f->names);
  free(f);
}

/* A growing text buffer for the names. */
typedef struct namebuf {
  char *p;
  size_t len, cap;
} namebuf;

/* Appends the display name of `sym`; returns its offset, or UINT32_MAX when out of memory. */
static uint32_t add_name(namebuf *nb, const weft_backtrace_iface *bi, void *bs,
                         const weft_frame_sym *sym) {
  for (int tries = 0; tries < 2; tries++) {
    size_t room = nb->cap - nb->len;
    size_t need = bi->format_name(bs, sym, nb->p != NULL ? nb->p + nb->len : NULL,
                                  nb->p != NULL ? room : 0) + 1;
    if (nb->p != NULL && need <= room) {
      uint32_t off = (uint32_t)nb->len;
      nb->len += need;
      return off;
    }
    size_t cap = nb->cap * 2 > nb->len + need + 256 ? nb->cap * 2 : nb->len + need + 256;
    if (cap > UINT32_MAX) return UINT32_MAX;
    char *q = realloc(nb->p, cap);
    if (q == NULL) return UINT32_MAX;
    nb->p = q;
    nb->cap = cap;
  }
  return UINT32_MAX;
}

void core_frames_attach(weft_store_t *s, weft_trap_t *t) {
  pending *p = &tls_pending;
  namebuf nb = {NULL, 0, 0};
  struct core_frames *fr = NULL;
  if (p->ctx != s->ctx || p->frames == NULL) goto out;
  if (t == NULL || !core_rt_trap_owned(t) || t->frames != NULL || t->kind == WEFT_TRAPKIND_EXIT)
    goto out;
  void *bs = NULL;
  const weft_backtrace_iface *bi = bt_iface(s->engine, &bs);
  if (bi == NULL) goto out;
  fr = malloc(sizeof *fr + p->n * sizeof(core_trap_frame));
  if (fr == NULL) goto out;
  fr->n = 0;
  fr->names = NULL;
  fr->truncated = p->oom || p->status != WEFT_OK;
  /* Names repeat (recursion): a small cache of the last distinct ones keeps each once. */
  enum { CACHE = 8 };
  weft_frame_sym seen[CACHE];
  uint32_t seen_off[CACHE], nseen = 0;
  uint32_t carry = WEFT_BOUNDARY_NONE;
  for (size_t i = 0; i < p->n; i++) {
    const weft_frame *f = &p->frames[i];
    if (f->flags & WEFT_FRAME_RESUMED) carry = WEFT_BOUNDARY_CONTINUATION;
    if (f->flags & WEFT_FRAME_ACTIVATION) carry = WEFT_BOUNDARY_HOST;
    weft_frame_sym sym;
    if (!bi->symbolize(bs, f, &sym)) continue; /* a trampoline: its marker moves on */
    uint32_t off = UINT32_MAX;
    for (uint32_t k = 0; k < nseen && k < CACHE; k++)
      if (seen[k].func_index == sym.func_index && seen[k].module == sym.module &&
          seen[k].func == sym.func) {
        off = seen_off[k];
        break;
      }
    if (off == UINT32_MAX) {
      off = add_name(&nb, bi, bs, &sym);
      if (off == UINT32_MAX) {
        fr->truncated = true;
        break;
      }
      seen[nseen % CACHE] = sym;
      seen_off[nseen % CACHE] = off;
      nseen++;
    }
    fr->f[fr->n++] = (core_trap_frame){sym.func_index, sym.wasm_off, f->stack, f->stack_kind,
                                       carry, off};
    carry = WEFT_BOUNDARY_NONE;
  }
  fr->names = nb.p;
  nb.p = NULL;
  t->frames = fr;
  fr = NULL;
out:
  free(nb.p);
  free(fr);
  pending_clear(p);
}

/* -- Embedding API ---------------------------------------------------------------------------- */

static const core_trap_frame *frame_at(const weft_trap_t *t, size_t i) {
  if (t == NULL || t->frames == NULL || i >= t->frames->n) return NULL;
  return &t->frames->f[i];
}

size_t weft_trap_frame_count(const weft_trap_t *trap) {
  return trap != NULL && trap->frames != NULL ? trap->frames->n : 0;
}

uint32_t weft_trap_frame_func_index(const weft_trap_t *trap, size_t i) {
  const core_trap_frame *f = frame_at(trap, i);
  return f != NULL ? f->func_index : UINT32_MAX;
}

const char *weft_trap_frame_func_name(const weft_trap_t *trap, size_t i) {
  const core_trap_frame *f = frame_at(trap, i);
  return f != NULL ? trap->frames->names + f->name_off : NULL;
}

uint64_t weft_trap_frame_module_offset(const weft_trap_t *trap, size_t i) {
  const core_trap_frame *f = frame_at(trap, i);
  return f != NULL && f->wasm_off != UINT32_MAX ? f->wasm_off : UINT64_MAX;
}

uint32_t weft_trap_frame_stack_kind(const weft_trap_t *trap, size_t i) {
  const core_trap_frame *f = frame_at(trap, i);
  return f != NULL ? f->stack_kind : WEFT_CHAIN_ABSENT;
}

uint32_t weft_trap_frame_boundary(const weft_trap_t *trap, size_t i) {
  const core_trap_frame *f = frame_at(trap, i);
  return f != NULL ? f->boundary : WEFT_BOUNDARY_NONE;
}

bool weft_trap_frames_truncated(const weft_trap_t *trap) {
  return trap != NULL && trap->frames != NULL && trap->frames->truncated;
}
