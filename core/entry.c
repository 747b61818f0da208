/* core/entry.c -- entering Wasm from the host: the one place that saves and restores the entry state
 * (DESIGN §5 "Entry state"), sets the stack limit at the outermost entry, and turns a failed
 * array_call into a weft_trap. Every host -> Wasm call goes through core_rt_entry_call.
 * Depends on: core/runtime_int.h, core/engine.h (max_wasm_stack).
 */
#include <pthread.h>

#include "cont.h"
#include "engine.h"
#include "exn.h"
#include "frames.h"
#include "runtime_int.h"

/* -- Entry state ------------------------------------------------------------------------------ */

/* Everything entering and leaving Wasm changes, saved as one unit. */
typedef struct entry_state {
  weft_stack_limits limits;
  uintptr_t exit_pc, exit_fp;
  weft_stack_chain chain; /* a trap inside a continuation lands here with the chain still on it */
  weft_store_ctx *tls_ctx;
} entry_state;

static void entry_save(weft_store_ctx *ctx, entry_state *st) {
  st->limits = ctx->limits;
  st->exit_pc = ctx->last_wasm_exit_pc;
  st->exit_fp = ctx->last_wasm_exit_fp;
  st->chain = ctx->stack_chain;
  st->tls_ctx = core_rt_current_ctx();
}

static void entry_restore(weft_store_ctx *ctx, const entry_state *st) {
  ctx->limits = st->limits;
  ctx->last_wasm_exit_pc = st->exit_pc;
  ctx->last_wasm_exit_fp = st->exit_fp;
  ctx->stack_chain = st->chain;
  core_rt_set_current_ctx(st->tls_ctx);
}

/* -- Traps ------------------------------------------------------------------------------------ */

static weft_trap_t *take_trap(weft_store_t *s) {
  weft_store_ctx *ctx = s->ctx;
  weft_trap_t *t;
  if (s->pending_trap != NULL) {
    t = s->pending_trap;
    s->pending_trap = NULL;
  } else {
    uint32_t code = ctx->trap_code;
    if (code == WEFT_TRAP_NONE || code >= WEFT_TRAP_COUNT) code = WEFT_TRAP_HOST;
    t = core_rt_trap_make(code == WEFT_TRAP_EXCEPTION ? WEFT_TRAPKIND_EXCEPTION : WEFT_TRAPKIND_TRAP,
                          (int)code, NULL);
    uint32_t site = WEFT_TRAP_NONE, off = UINT32_MAX;
    if (ctx->trap_pc != 0 && core_rt_registry_lookup(ctx->trap_pc, &site, &off) &&
        off != UINT32_MAX && t->message != NULL && t->code == (int)code)
      t->wasm_off = off;
    if (code == WEFT_TRAP_EXCEPTION && t->code == (int)code) {
      /* kept while the trap lives (pinned for good if the host asks it for the exnref) */
      if (ctx->pending_exn != NULL) core_exn_trap_attach(s, t, ctx->pending_exn);
    }
  }
  ctx->pending_exn = NULL;
  ctx->trap_code = WEFT_TRAP_NONE;
  ctx->trap_pc = 0;
  ctx->trap_fp = 0;
  return t;
}

/* -- Stack bounds ----------------------------------------------------------------------------- */

/* The lowest usable address of this thread's stack (0 when unknown), found once per thread. Wasm's
 * limit never goes below it plus a margin for the host code Wasm calls, so a thread with a stack
 * smaller than max_wasm_stack gets "call stack exhausted", not a crash. */
#define HOST_MARGIN ((uintptr_t)128 * 1024)
static __thread uintptr_t tls_stack_low;
static __thread bool tls_stack_known;

static uintptr_t stack_low(void) {
  if (tls_stack_known) return tls_stack_low;
  tls_stack_known = true;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return 0;
  void *addr = NULL;
  size_t size = 0;
  if (pthread_attr_getstack(&attr, &addr, &size) == 0) tls_stack_low = (uintptr_t)addr;
  pthread_attr_destroy(&attr);
  return tls_stack_low;
}

/* -- Entry ------------------------------------------------------------------------------------ */

weft_trap_t *core_rt_entry_call(weft_store_t *s, weft_funcref *f, weft_val_raw *slots, size_t n) {
  weft_store_ctx *ctx = s->ctx;
  int rc = core_rt_signals_ensure();
  if (rc != WEFT_OK)
    return core_rt_trap_make(WEFT_TRAPKIND_HOST, WEFT_TRAP_HOST,
                             "cannot install the fault handlers (sigaction/sigaltstack failed)");
  entry_state saved;
  entry_save(ctx, &saved);
  if (s->entry_depth == 0) {
    /* The outermost entry: Wasm may use max_wasm_stack bytes below this frame. */
    uint64_t max = s->engine != NULL && s->engine->max_wasm_stack != 0 ? s->engine->max_wasm_stack
                                                                       : (uint64_t)1 << 20;
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    uintptr_t limit = sp > max ? sp - (uintptr_t)max : 0;
    uintptr_t low = stack_low();
    if (low != 0 && low + HOST_MARGIN < sp && limit < low + HOST_MARGIN) limit = low + HOST_MARGIN;
    ctx->limits.stack_limit = limit;
  }
  s->entry_depth++;
  core_rt_set_current_ctx(ctx);
  ctx->trap_code = WEFT_TRAP_NONE;
  /* The activation record first: it keeps the outer activation's stack chain (the continuation
   * the host re-entered Wasm from), which core_cont_entry_begin then replaces with this entry's
   * initial stack. In the other order a trace lost the outer continuation's boundary. */
  core_frames_act act; /* this activation, for backtraces (core/frames.h) */
  core_frames_enter(&act, ctx, (uintptr_t)__builtin_frame_address(0));
  weft_common_stack_info initial; /* this entry's initial stack: host frames are barriers */
  core_cont_entry_begin(ctx, &initial, s->entry_depth == 1);
  bool ok = f->array_call(f->vmctx, NULL, slots, n);
  if (!ok) core_frames_capture(&act); /* first: the trapped frames below are still intact */
  core_frames_leave(&act);
  s->entry_depth--;
  entry_restore(ctx, &saved);
  core_cont_entry_end(ctx, s->entry_depth == 0);
  if (ok && s->pending_trap == NULL) return NULL;
  weft_trap_t *t = take_trap(s);
  core_frames_attach(s, t);
  return t;
}
