/* core/frames.c -- the core side of backtraces: the code table behind the host's code_func slot,
 * the frame-walking service (walk_frames: the backtrace plugin's walker), trap-time capture into
 * weft_trap, and the trap-frame accessors of the embedding API (runtime.h).
 * Capture runs in core_rt_entry_call after the landing pad returned (never in the signal handler),
 * on stack memory below the innermost trapped frame so it overwrites none of the frames it walks.
 * Depends on: core/frames.h, core/engine.h, core/runtime_int.h, weft/plugin/backtrace.h, pthreads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "frames.h"

__thread core_frames_act *core_frames_top;

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

static pthread_mutex_t code_lock = PTHREAD_MUTEX_INITIALIZER;
static code_entry *code_tab;
static size_t code_n, code_cap;

void core_frames_code_added(const weft_engine *e, const weft_module *m, const weft_code_info *ci) {
  if (m == NULL || ci == NULL || ci->code == NULL || ci->code_size == 0) return;
  pthread_mutex_lock(&code_lock);
  if (code_n == code_cap) {
    size_t cap = code_cap ? code_cap * 2 : 16;
    code_entry *t = realloc(code_tab, cap * sizeof *t);
    if (t == NULL) goto out; /* frames of this module stay unnamed; nothing else breaks */
    code_tab = t;
    code_cap = cap;
  }
  uintptr_t start = (uintptr_t)ci->code;
  size_t i = code_n;
  while (i > 0 && code_tab[i - 1].start > start) {
    code_tab[i] = code_tab[i - 1];
    i--;
  }
  code_tab[i] = (code_entry){start, start + ci->code_size, ci, m};
  code_n++;
out:
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
  size_t j = 0;
  for (size_t i = 0; i < code_n; i++)
    if (code_tab[i].ci != ci) code_tab[j++] = code_tab[i];
  code_n = j;
  if (code_n == 0) {
    free(code_tab);
    code_tab = NULL;
    code_cap = 0;
  }
  pthread_mutex_unlock(&code_lock);
}

bool core_frames_host_code_func(void *host, uintptr_t pc, uint32_t *out_func, uint32_t *out_wasm_off,
                                const struct weft_module **out_module) {
  (void)host;
  bool found = false;
  uint32_t func = UINT32_MAX;
  const weft_module *m = NULL;
  pthread_mutex_lock(&code_lock);
  size_t lo = 0, hi = code_n;
  while (lo < hi) { /* last entry with start <= pc */
    size_t mid = lo + (hi - lo) / 2;
    if (code_tab[mid].start <= pc) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && pc < code_tab[lo - 1].end) {
    const code_entry *e = &code_tab[lo - 1];
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
    }
  }
  pthread_mutex_unlock(&code_lock);
  uint32_t trap = WEFT_TRAP_NONE, off = UINT32_MAX;
  if (found && out_wasm_off != NULL && !core_rt_registry_lookup(pc, &trap, &off)) off = UINT32_MAX;
  if (out_func != NULL) *out_func = func;
  if (out_wasm_off != NULL) *out_wasm_off = found ? off : UINT32_MAX;
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
} pending;

static __thread pending tls_pending;

static void pending_clear(pending *p) {
  free(p->frames);
  p->frames = NULL;
  p->n = p->cap = 0;
  p->ctx = NULL;
  p->oom = false;
}

static bool collect(void *ud, const weft_frame *f) {
  pending *p = ud;
  if (p->n == p->cap) {
    size_t cap = p->cap ? p->cap * 2 : 32;
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
/* The largest distance between the entry and a trapped frame that capture trusts (the Wasm stack
 * limit plus the host margin the entry reserves, with room to spare). */
#define MAX_SPAN ((uintptr_t)1 << 30)
/* Gap left between the frames being walked and the stack the walk runs on. */
#define GAP 512

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
  bool on_cont = ctx->stack_chain.kind == WEFT_CHAIN_CONTINUATION;
  if (!on_cont && (fp >= end || end - fp > MAX_SPAN)) fp = end; /* nothing of this activation */
  return (weft_activation){.pc = pc,
                           .fp = fp,
                           .entry_fp = end,
                           .stack_lo = fp,
                           .stack_hi = end + 16,
                           .chain = ctx->stack_chain,
                           .flags = flags};
}

/* Runs on the stack region below the trapped frames. */
static void capture_body(void *arg) {
  const core_frames_act *act = arg;
  weft_store_ctx *ctx = act->ctx;
  weft_store_t *s = core_rt_store_of_ctx(ctx);
  pending *p = &tls_pending;
  pending_clear(p);
  void *bs = NULL;
  const weft_backtrace_iface *bi = bt_iface(s->engine, &bs);
  if (bi == NULL) return;
  weft_activation acts[MAX_ACTS];
  acts[0] = newest(act);
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
  weft_frame_visitor v = {p, collect, false};
  p->ctx = ctx;
  (void)bi->walk(bs, &acts[0], &v);
}

/* Calls fn(arg) with rsp = top (16-aligned), then comes back. */
static void call_on(uintptr_t top, void (*fn)(void *), void *arg) {
  __asm__ volatile("movq %%rsp, %%rbx\n\t"
                   "movq %[top], %%rsp\n\t"
                   "callq *%[fn]\n\t"
                   "movq %%rbx, %%rsp\n\t"
                   : "+D"(arg)
                   : [top] "r"(top), [fn] "r"(fn)
                   : "rax", "rbx", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", "memory", "cc",
                     "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",
                     "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

/* Kept tiny, out of line and free of calls: its frame sits just below the entry, where only the
 * array-call trampoline's saved registers were, never a Wasm frame. Everything else runs on the
 * stack below the innermost trapped frame (or 4 KiB below the entry when that is higher), which
 * lies inside the host margin the entry keeps below the Wasm stack limit. */
__attribute__((noinline)) void core_frames_capture(const core_frames_act *act) {
  const weft_store_ctx *ctx = act->ctx;
  uintptr_t below = act->entry_call_fp - 4096;
  uintptr_t fp = (ctx->trap_pc != 0 || ctx->trap_fp != 0) ? ctx->trap_fp : ctx->last_wasm_exit_fp;
  if (fp != 0 && fp < below && below - fp < MAX_SPAN) below = fp;
  call_on((below - GAP) & ~(uintptr_t)15, capture_body, (void *)(uintptr_t)act);
}

/* -- Trap frames ------------------------------------------------------------------------------ */

typedef struct core_trap_frame {
  uint32_t func_index;
  uint32_t wasm_off;
  uint32_t stack;      /* stack number, innermost 0 */
  uint32_t stack_kind; /* weft_chain_kind */
  uint32_t boundary;   /* weft_trap_boundary */
  char *name;          /* "<module>!<func>" */
} core_trap_frame;

struct core_frames {
  size_t n;
  core_trap_frame f[];
};

void core_frames_free(struct core_frames *f) {
  if (f == NULL) return;
  for (size_t i = 0; i < f->n; i++) free(f->f[i].name);
  free(f);
}

void core_frames_attach(weft_store_t *s, weft_trap_t *t) {
  pending *p = &tls_pending;
  if (p->ctx != s->ctx || p->frames == NULL) goto out;
  if (t == NULL || !core_rt_trap_owned(t) || t->frames != NULL || t->kind == WEFT_TRAPKIND_EXIT)
    goto out;
  void *bs = NULL;
  const weft_backtrace_iface *bi = bt_iface(s->engine, &bs);
  if (bi == NULL) goto out;
  struct core_frames *fr = calloc(1, sizeof *fr + p->n * sizeof(core_trap_frame));
  if (fr == NULL) goto out;
  uint32_t carry = WEFT_BOUNDARY_NONE;
  for (size_t i = 0; i < p->n; i++) {
    const weft_frame *f = &p->frames[i];
    if (f->flags & WEFT_FRAME_RESUMED) carry = WEFT_BOUNDARY_CONTINUATION;
    if (f->flags & WEFT_FRAME_ACTIVATION) carry = WEFT_BOUNDARY_HOST;
    weft_frame_sym sym;
    if (!bi->symbolize(bs, f, &sym)) continue; /* a trampoline: its marker moves on */
    char buf[256];
    bi->format_name(bs, &sym, buf, sizeof buf);
    core_trap_frame *o = &fr->f[fr->n];
    o->name = strdup(buf);
    if (o->name == NULL) break;
    o->func_index = sym.func_index;
    o->wasm_off = sym.wasm_off;
    o->stack = f->stack;
    o->stack_kind = f->stack_kind;
    o->boundary = carry;
    carry = WEFT_BOUNDARY_NONE;
    fr->n++;
  }
  t->frames = fr;
out:
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
  return f != NULL ? f->name : NULL;
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
