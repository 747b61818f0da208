/* core/exn.c -- exception handling in the core: exception objects (exnref), the THROW / THROW_REF
 * libcalls, the unwinder, and the embedding API for exceptions (runtime.h).
 * The unwinder walks the frame-pointer chain from the throw point; each return address is looked up
 * in the code registry and the module's handler table (weft_handler_entry, filled by the codegen).
 * The first matching catch clause gets the payload written into its label's operand slots and
 * control jumps to its landing stub; with none, the exception unwinds to the innermost entry as a
 * trap of kind exception. Depends on: exn.h, runtime_int.h, unwind.S (core_rt_unwind_jump).
 */
#include <stdlib.h>
#include <string.h>

#include "exn.h"
#include "gcroots.h"
#include "gcscan.h"
#include "runtime_int.h"

/* -- Exception objects ------------------------------------------------------------------------ */

#define MAX_PAYLOAD 100000u /* far above any validated tag (a function type's params) */

/* A throw collects once this many exception objects live, at the least (see collect_exns). */
#define EXN_COLLECT_MIN 10000u

core_exn *core_exn_new(weft_store_ctx *ctx, const weft_vm_tag *tag, uint32_t n) {
  if (ctx == NULL || n > MAX_PAYLOAD) return NULL;
  core_exn *e = calloc(1, sizeof *e + (size_t)n * sizeof(weft_val_raw));
  if (e == NULL) return NULL;
  e->tag = tag;
  e->nvals = n;
  e->next = ctx->exn_objects;
  ctx->exn_objects = e;
  weft_store_t *s = core_rt_store_of_ctx(ctx);
  if (s != NULL) s->exn.live++;
  return e;
}

void core_exn_freed(weft_store_ctx *ctx, core_exn *e) {
  weft_store_t *s = core_rt_store_of_ctx(ctx);
  if (s != NULL && s->exn.live > 0) s->exn.live--;
  free(e);
}

bool core_exn_owned(const weft_store_ctx *ctx, const void *p) {
  if (ctx == NULL || p == NULL) return false;
  for (const core_exn *e = ctx->exn_objects; e != NULL; e = e->next)
    if (e == p) return true;
  return false;
}

void core_exn_trap_attach(weft_store_t *s, weft_trap_t *t, core_exn *e) {
  t->exn = e;
  core_exn_hold(e);
  t->exn_store = s;
  t->exn_prev = NULL;
  t->exn_next = s->exn.traps;
  if (s->exn.traps != NULL) s->exn.traps->exn_prev = t;
  s->exn.traps = t;
}

void core_exn_trap_detach(weft_trap_t *t) {
  weft_store_t *s = t->exn_store;
  if (s == NULL) return;
  if (t->exn != NULL) core_exn_release(t->exn);
  if (t->exn_prev != NULL)
    t->exn_prev->exn_next = t->exn_next;
  else
    s->exn.traps = t->exn_next;
  if (t->exn_next != NULL) t->exn_next->exn_prev = t->exn_prev;
  t->exn_store = NULL;
  t->exn_prev = t->exn_next = NULL;
}

void core_exn_store_free(weft_store_ctx *ctx) {
  if (ctx == NULL) return;
  weft_store_t *st = core_rt_store_of_ctx(ctx);
  /* traps outlive stores: the ones still holding an exception of this store forget it */
  for (weft_trap_t *t = st != NULL ? st->exn.traps : NULL, *next; t != NULL; t = next) {
    next = t->exn_next;
    t->exn = NULL;
    t->exn_store = NULL;
    t->exn_prev = t->exn_next = NULL;
  }
  if (st != NULL) st->exn.traps = NULL;
  core_exn *e = ctx->exn_objects;
  while (e != NULL) {
    core_exn *next = e->next;
    free(e);
    e = next;
  }
  ctx->exn_objects = NULL;
  weft_store_t *s = core_rt_store_of_ctx(ctx);
  if (s != NULL) s->exn.live = 0;
}

/* -- The unwinder ----------------------------------------------------------------------------- */

#if defined(__SANITIZE_ADDRESS__)
#define EXN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EXN_ASAN 1
#endif
#endif
#ifdef EXN_ASAN
void __asan_handle_no_return(void);
#endif

/* Like core_rt_unwind_jump, with rax = `rax` for a landing stub that places the payload itself. */
static _Noreturn void jump_with_rax(uintptr_t sp, uintptr_t fp, uintptr_t pc, void *rax) {
  __asm__ volatile("mov %1, %%rbp\n\tmov %0, %%rsp\n\tjmp *%2"
                   :
                   : "r"(sp), "r"(fp), "r"(pc), "a"(rax)
                   : "memory");
  __builtin_unreachable();
}

/* The innermost handler of `ci` covering return address offset `off` (inside a function that
 * ends at `fend`) that catches `e` in the frame of instance vmctx `vmctx`, or NULL. The codegen
 * appends a try_table's clauses when the try_table ends, so `end` never decreases along the table:
 * binary search the first entry that can cover `off`, then scan up to the function's end. */
static const weft_handler_entry *find_handler(const weft_code_info *ci, uint32_t off, uint32_t fend,
                                              void *vmctx, const core_exn *e) {
  if (!WEFT_HAS(ci, weft_code_info, handlers) || ci->handlers == NULL) return NULL;
  uint32_t lo = 0, hi = ci->nhandlers;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (ci->handlers[mid].end < off) lo = mid + 1;
    else hi = mid;
  }
  for (uint32_t i = lo; i < ci->nhandlers && ci->handlers[i].end <= fend; i++) {
    const weft_handler_entry *h = &ci->handlers[i];
    if (off <= h->start || off > h->end) continue;
    uint32_t kind = h->kind & 0xFFu;
    if (kind == WEFT_CATCH_ALL || kind == WEFT_CATCH_ALL_REF) return h;
    weft_instance_t *inst = core_rt_instance_of(vmctx);
    if (inst == NULL || h->tag >= inst->ir->ntags) continue;
    if (inst->tags[h->tag]->vm == e->tag) return h;
  }
  return NULL;
}

/* When `off` lies inside the code of a defined function (not a trampoline), true with *fend the
 * function's end. Functions are laid out in index order, so func_start ascends. */
static bool in_function(const weft_code_info *ci, uint32_t off, uint32_t *fend) {
  uint32_t lo = 0, hi = ci->nfuncs;
  while (lo < hi) { /* last function starting at or before off */
    uint32_t mid = lo + (hi - lo) / 2;
    if (ci->func_start[mid] <= off) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0 || off >= ci->func_end[lo - 1]) return false;
  *fend = ci->func_end[lo - 1];
  return true;
}

_Noreturn void core_exn_throw(weft_store_ctx *ctx, core_exn *e, uintptr_t fp, uintptr_t pc) {
  uintptr_t start_fp = fp, start_pc = pc;
  /* Wasm frames lie below the innermost entry's frame (and, on a continuation, below its top). */
  uintptr_t bound = ctx->limits.last_wasm_entry_fp;
  if (ctx->stack_chain.kind == WEFT_CHAIN_CONTINUATION && ctx->stack_chain.payload != NULL) {
    uintptr_t top = (uintptr_t)((weft_contref *)ctx->stack_chain.payload)->stack_top;
    if (top != 0 && (bound == 0 || top < bound)) bound = top;
  }
  while (fp != 0 && (fp & 7) == 0 && (bound == 0 || fp < bound)) {
    uintptr_t base = 0;
    const weft_code_info *ci = core_rt_registry_find(pc, &base);
    if (ci == NULL) break;
    uint32_t off = (uint32_t)(pc - base);
    uint32_t fend = 0;
    if (!in_function(ci, off, &fend)) break;
    void *vmctx = *(void **)(fp - 8);
    const weft_handler_entry *h = find_handler(ci, off, fend, vmctx, e);
    if (h != NULL && (h->kind & WEFT_HANDLER_STUB_PAYLOAD) != 0) {
      core_exn_expose(e); /* the stub reads it after the jump */
#ifdef EXN_ASAN
      __asan_handle_no_return();
#endif
      jump_with_rax(fp - h->frame, fp, base + h->landing, e);
    }
    if (h != NULL) {
      uint64_t *slots = (uint64_t *)(fp - h->frame) + h->slot;
      uint32_t k = 0;
      if (h->kind == WEFT_CATCH || h->kind == WEFT_CATCH_REF) /* 8-byte values only here */
        for (; k < e->nvals; k++) memcpy(&slots[k], &e->vals[k], 8);
      if (h->kind == WEFT_CATCH_REF || h->kind == WEFT_CATCH_ALL_REF) {
        uintptr_t ref = (uintptr_t)e;
        memcpy(&slots[k], &ref, 8);
        core_exn_expose(e);
      } else if (!e->exposed && e->held == 0 && ctx->exn_objects == e) {
        /* Caught by value and never seen as an exnref: nothing can refer to it any more, so a
         * throw-and-catch loop does not grow the store. */
        ctx->exn_objects = e->next;
        core_exn_freed(ctx, e);
      }
#ifdef EXN_ASAN
      __asan_handle_no_return();
#endif
      core_rt_unwind_jump(fp - h->frame, fp, base + h->landing);
    }
    uintptr_t next = *(uintptr_t *)fp;
    pc = *(uintptr_t *)(fp + 8);
    if (next <= fp) break;
    fp = next;
  }
  /* Uncaught here: the innermost entry reports it (core/entry.c makes the exception trap). */
  core_exn_expose(e);
  ctx->trap_code = WEFT_TRAP_EXCEPTION;
  ctx->pending_exn = e;
  ctx->trap_pc = start_pc - 1; /* inside the call that threw: its wasm offset, as for a fault */
  ctx->trap_fp = start_fp;
  core_rt_unwind(ctx);
}

/* -- Libcalls --------------------------------------------------------------------------------- */

/* Exception objects are the core's mallocs: allocating them adds nothing to the gc plugin's heap,
 * so a loop that catches exnrefs (catch_ref, catch_all_ref) and drops them would grow the store
 * until the next collection the heap happens to run -- never, in a program without GC objects.
 * So a throw runs one itself once the live count reaches collect_at, which then becomes twice what
 * survived (at least EXN_COLLECT_MIN): amortised, a constant cost per throw. The throw site is a
 * safepoint (x64_stackmap.c), so the frames are scanned by their maps; the payload about to be
 * copied is passed as the libcall's operands. Without a gc plugin nothing is collected and the
 * threshold still moves on, so throws do not keep trying. */
static void collect_exns(weft_store_ctx *ctx, weft_store_t *s, const uint64_t *payload,
                         size_t nwords, uintptr_t pc, uintptr_t fp) {
  core_gcscan_lc lc = {.ctx = ctx, .pc = pc, .fp = fp, .io = payload, .nio = nwords};
  core_gcscan_lc_enter(&lc);
  (void)core_gc_collect_now(ctx);
  core_gcscan_lc_leave(&lc);
  size_t next = 2 * s->exn.live;
  s->exn.collect_at = next > EXN_COLLECT_MIN ? next : EXN_COLLECT_MIN;
}

void core_exn_pressure(weft_store_ctx *ctx, const uint64_t *payload, size_t nwords, uintptr_t pc,
                       uintptr_t fp) {
  weft_store_t *s = core_rt_store_of_ctx(ctx);
  if (s != NULL && s->exn.live >= s->exn.collect_at) collect_exns(ctx, s, payload, nwords, pc, fp);
}

_Noreturn void core_exn_lc_throw(void *vmctx, uint32_t tag, const uint64_t *payload, uintptr_t fp) {
  uintptr_t pc = (uintptr_t)__builtin_return_address(0);
  weft_store_ctx *ctx = ((weft_vmctx_header *)vmctx)->store_ctx;
  bool wide = (tag & WEFT_THROW_WIDE_PAYLOAD) != 0;
  tag &= ~WEFT_THROW_WIDE_PAYLOAD;
  weft_instance_t *inst = core_rt_instance_of(vmctx);
  if (inst == NULL || tag >= inst->ir->ntags) core_rt_trap_raise(ctx, WEFT_TRAP_UNREACHABLE);
  const weft_module *m = inst->ir;
  uint32_t n = m->types[m->tags[tag].type].u.func.nparams;
  core_exn_pressure(ctx, payload, (size_t)n * (wide ? 2u : 1u), pc, fp);
  core_exn *e = core_exn_new(ctx, inst->tags[tag]->vm, n);
  if (e == NULL) core_rt_trap_raise(ctx, WEFT_TRAP_OUT_OF_MEMORY);
  if (wide)
    memcpy(e->vals, payload, (size_t)n * sizeof(weft_val_raw));
  else
    for (uint32_t i = 0; i < n; i++) memcpy(&e->vals[i], &payload[i], 8);
  core_exn_throw(ctx, e, fp, pc);
}

_Noreturn void core_exn_lc_throw_ref(void *vmctx, void *exnref, uintptr_t fp) {
  uintptr_t pc = (uintptr_t)__builtin_return_address(0);
  weft_store_ctx *ctx = ((weft_vmctx_header *)vmctx)->store_ctx;
  if (exnref == NULL) core_rt_trap_raise(ctx, WEFT_TRAP_NULL_EXN);
  core_exn_throw(ctx, exnref, fp, pc);
}

_Noreturn void core_exn_raise(weft_store_ctx *ctx) {
  weft_store_t *s = core_rt_store_of_ctx(ctx);
  weft_trap_t *t = s != NULL ? s->pending_trap : NULL;
  if (t != NULL && t->kind == WEFT_TRAPKIND_EXCEPTION && t->exn != NULL &&
      ctx->last_wasm_exit_fp != 0) {
    core_exn *e = t->exn;
    s->pending_trap = NULL;
    weft_trap_free(t);
    /* Thrown at the Wasm call site of the host function (the trampoline recorded it). */
    core_exn_throw(ctx, e, ctx->last_wasm_exit_fp, ctx->last_wasm_exit_pc);
  }
  core_rt_unwind(ctx);
}

/* -- Embedding API ---------------------------------------------------------------------------- */

weft_trap_t *weft_trap_new_exception(weft_store_t *store, weft_tag_t tag, const weft_val_raw *payload,
                                     uint32_t n) {
  if (store == NULL || tag.store_id != store->id || tag.obj == NULL || (n > 0 && payload == NULL))
    return NULL;
  uint32_t want = 0;
  if (weft_tag_get_type(store, tag, &want, NULL) != WEFT_OK || want != n) return NULL;
  core_exn *e = core_exn_new(store->ctx, tag.obj->vm, n);
  if (e == NULL) return NULL;
  if (n > 0) memcpy(e->vals, payload, (size_t)n * sizeof *payload);
  weft_trap_t *t = core_rt_trap_make(WEFT_TRAPKIND_EXCEPTION, WEFT_TRAP_EXCEPTION, NULL);
  if (!core_rt_trap_owned(t)) return NULL;
  core_exn_trap_attach(store, t, e);
  return t;
}

int weft_exn_get_tag(weft_store_t *store, const void *exnref, weft_tag_t *out_tag) {
  if (store == NULL || exnref == NULL || out_tag == NULL) return WEFT_ERR_MISUSE;
  const core_exn *e = exnref;
  for (size_t i = 0; i < store->tags.n; i++) {
    core_tag *t = store->tags.items[i];
    if (t != NULL && t->vm == e->tag) {
      *out_tag = (weft_tag_t){store->id, t};
      return WEFT_OK;
    }
  }
  return WEFT_ERR_MISUSE;
}

int weft_exn_get_payload(const void *exnref, uint32_t *out_n, const weft_val_raw **out_vals) {
  if (exnref == NULL) return WEFT_ERR_MISUSE;
  const core_exn *e = exnref;
  if (out_n != NULL) *out_n = e->nvals;
  if (out_vals != NULL) *out_vals = e->vals;
  return WEFT_OK;
}
