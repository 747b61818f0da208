/* tests/wat/backtrace/test_bt_cont.c -- the walker on a real continuation stack: with the contstacks
 * plugin loaded, the host runs export "inner" of cont.wat as a continuation (cont_new, then the
 * resume protocol of docs/STACK-SWITCHING.md §4 over the plugin's stack_switch slot, as generated
 * code will do inline), and "inner" calls back into the host, which walks the live frames through
 * the host table's walk_frames: inner on the continuation, then, across the control context,
 * outer on the initial stack. Depends on: libweft (weft-core-obj), tests/common/wat_api; the
 * validator, x64-codegen, contstacks and backtrace plugins.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "runtime_int.h"
#include "wat_api.h"
#include "weft/plugin/backtrace.h"
#include "weft/plugin/contstacks.h"
#include "weft/weft.h"

typedef struct fixture {
  weft_engine *engine;
  weft_store_t *store;
  weft_module_t *module;
  weft_instance_t *inst;
} fixture;

static fixture fx;
static weft_common_stack_info initial_csi; /* the initial stack's csi (the chain's payload) */
static uintptr_t initial_lo;               /* a bound below every initial-stack frame */

/* What the walk from inside the continuation saw. */
static struct {
  int status;
  size_t n;
  uint32_t funcs[8], stack[8], kinds[8], flags[8];
} seen;

static bool visit(void *ud, const weft_frame *f) {
  const weft_host_api *h = ud;
  uint32_t func = UINT32_MAX;
  h->code_func(h->host, f->pc - 1, &func, NULL, NULL);
  if (seen.n < 8) {
    seen.funcs[seen.n] = func;
    seen.stack[seen.n] = f->stack;
    seen.kinds[seen.n] = f->stack_kind;
    seen.flags[seen.n] = f->flags;
  }
  seen.n++;
  return true;
}

/* env.walk(x): runs on the continuation's stack. */
static weft_trap_t *walk(void *env, weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                         weft_val_t *results, size_t nresults) {
  (void)env, (void)nargs, (void)nresults;
  weft_store_t *s = weft_caller_store(caller);
  weft_store_ctx *ctx = s->ctx;
  const weft_host_api *h = core_engine_host(s->engine);
  weft_activation act = {.pc = ctx->last_wasm_exit_pc,
                         .fp = ctx->last_wasm_exit_fp,
                         .entry_fp = ctx->limits.last_wasm_entry_fp,
                         .stack_lo = initial_lo,
                         .stack_hi = initial_csi.limits.last_wasm_entry_fp + 16,
                         .chain = ctx->stack_chain};
  weft_frame_visitor v = {(void *)(uintptr_t)h, visit, false, UINT32_MAX};
  seen.n = 0;
  seen.status = h->walk_frames(h->host, &act, NULL, &v);
  results[0] = (weft_val_t){.kind = WEFT_VAL_I32, .of.i32 = args[0].of.i32 * 2};
  return NULL;
}

/* Resume a Fresh continuation (docs/STACK-SWITCHING.md §4, steps 2-7) and return the effect. */
static uint64_t resume(weft_store_ctx *ctx, const weft_contstacks_iface *ci, weft_contref *c) {
  weft_contref *la = c->last_ancestor;
  weft_stack_chain orig = ctx->stack_chain;
  weft_common_stack_info *ocsi = orig.payload;
  la->parent_chain = orig;
  c->last_ancestor = NULL;
  ctx->stack_chain = (weft_stack_chain){WEFT_CHAIN_CONTINUATION, c};
  c->csi.state = WEFT_STACK_RUNNING;
  ocsi->state = WEFT_STACK_PARENT;
  ocsi->limits = ctx->limits;
  ctx->limits = c->csi.limits;
  uint64_t e = ci->stack_switch(weft_contref_cc(la), weft_contref_cc(la),
                                WEFT_EFFECT_MAKE(WEFT_EFFECT_RESUME, 0));
  if (WEFT_EFFECT_KIND(e) == WEFT_EFFECT_TRAP) { /* before the chain is restored */
    const weft_host_api *h = core_engine_host(core_rt_store_of_ctx(ctx)->engine);
    if (WEFT_HAS(h, weft_host_api, capture_trap)) h->capture_trap(h->host, ctx);
  }
  weft_contref *nc = ctx->stack_chain.payload;
  ctx->stack_chain = orig;
  ocsi->state = WEFT_STACK_RUNNING;
  ctx->limits = ocsi->limits;
  if (e == WEFT_EFFECT_RETURN) nc->csi.state = WEFT_STACK_RETURNED;
  return e;
}

/* env.run_cont(x): inner(x) on a continuation, or bad(x) when x < 0; returns its result, or a
 * trap when the continuation trapped. */
static weft_trap_t *run_cont(void *env, weft_caller_t *caller, const weft_val_t *args,
                             size_t nargs, weft_val_t *results, size_t nresults) {
  (void)env, (void)nargs, (void)nresults;
  weft_store_t *s = weft_caller_store(caller);
  const weft_contstacks_iface *ci = core_engine_iface(s->engine, WEFT_PLUGIN_CONTSTACKS);
  void *cst = core_engine_state(s->engine, WEFT_PLUGIN_CONTSTACKS);
  weft_extern_t inner;
  if (ci == NULL || weft_caller_export(caller, args[0].of.i32 < 0 ? "bad" : "inner", &inner) != WEFT_OK)
    return weft_trap_new("no contstacks or no inner");
  weft_contref *c = NULL;
  weft_diag d;
  if (ci->cont_new(cst, fx.inst->vmctx, inner.of.func.ref, 1, 1, &c, &d) != WEFT_OK)
    return weft_trap_new(d.message);
  c->args.data[c->args.length++].i32 = args[0].of.i32;
  initial_lo = (uintptr_t)__builtin_frame_address(0) - 65536;
  uint64_t e = resume(s->ctx, ci, c);
  if (WEFT_EFFECT_KIND(e) == WEFT_EFFECT_TRAP) {
    ci->collect(cst);
    return weft_trap_new("the continuation trapped"); /* generated code re-raises with RAISE */
  }
  if (e != WEFT_EFFECT_RETURN) return weft_trap_new("the continuation did not return");
  results[0] = (weft_val_t){.kind = WEFT_VAL_I32, .of.i32 = c->args.data[0].i32};
  ci->collect(cst);
  return NULL;
}

static int setup(void **state) {
  (void)state;
  fx.engine = tw_engine_plugins(WEFT_BT_PLUGIN_DIR, "validator, x64-codegen, contstacks, backtrace",
                                "test_bt_cont");
  if (fx.engine == NULL) return -1;
  fx.store = weft_store_new(fx.engine);
  if (tw_module_file(fx.engine, WEFT_BT_CONT_WASM, &fx.module) != WEFT_OK) return -1;
  weft_error err;
  memset(&err, 0, sizeof err);
  weft_valtype i32 = WEFT_VT_I32;
  weft_extern_t imps[2] = {{.kind = WEFT_EXTERN_FUNC}, {.kind = WEFT_EXTERN_FUNC}};
  if (weft_func_new(fx.store, &i32, 1, &i32, 1, run_cont, NULL, NULL, &imps[0].of.func) ||
      weft_func_new(fx.store, &i32, 1, &i32, 1, walk, NULL, NULL, &imps[1].of.func))
    return -1;
  weft_trap_t *t = NULL;
  if (weft_instance_new(fx.store, fx.module, imps, 2, &fx.inst, &t, &err) != WEFT_OK || t != NULL)
    return -1;
  /* the initial stack's csi, which resume saves the limits into (the store starts with none) */
  fx.store->ctx->stack_chain.payload = &initial_csi;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  weft_store_free(fx.store);
  weft_module_free(fx.module);
  weft_engine_free(fx.engine);
  return 0;
}

static void test_walk_across_continuation(void **state) {
  (void)state;
#ifdef WEFT_SANITIZE
  print_message("skipped: the hand-written resume makes no ASan fiber annotations\n");
  skip();
#endif
  assert_int_equal(core_rt_signals_reinstall(), WEFT_OK);
  weft_extern_t outer;
  assert_int_equal(weft_instance_export(fx.inst, "outer", &outer), WEFT_OK);
  weft_val_t arg = {.kind = WEFT_VAL_I32, .of.i32 = 20}, res;
  weft_trap_t *t = NULL;
  assert_int_equal(weft_func_call(fx.store, outer.of.func, &arg, 1, &res, 1, &t), WEFT_OK);
  if (t != NULL) fail_msg("trap: %s", weft_trap_message(t));
  assert_int_equal(res.of.i32, 42); /* (20 * 2 + 1) + 1: it really ran on the continuation */
  assert_int_equal(seen.status, WEFT_OK);
  assert_int_equal(seen.n, 2);
  assert_int_equal(seen.funcs[0], 2); /* inner, on the continuation's stack */
  assert_int_equal(seen.kinds[0], WEFT_CHAIN_CONTINUATION);
  assert_int_equal(seen.stack[0], 0);
  assert_int_equal(seen.funcs[1], 3); /* outer, the resumer, on the initial stack */
  assert_int_equal(seen.kinds[1], WEFT_CHAIN_INITIAL_STACK);
  assert_int_equal(seen.stack[1], 1);
  assert_true(seen.flags[1] & WEFT_FRAME_RESUMED);
}

/* A trap two frames deep in a continuation: captured at the resume site, it carries the frames of
 * the continuation and, across the boundary, of the resumer. */
static void test_trap_in_continuation(void **state) {
  (void)state;
#ifdef WEFT_SANITIZE
  print_message("skipped: the hand-written resume makes no ASan fiber annotations\n");
  skip();
#endif
  assert_int_equal(core_rt_signals_reinstall(), WEFT_OK);
  weft_extern_t outer;
  assert_int_equal(weft_instance_export(fx.inst, "outer", &outer), WEFT_OK);
  weft_val_t arg = {.kind = WEFT_VAL_I32, .of.i32 = -1}, res;
  weft_trap_t *t = NULL;
  assert_int_equal(weft_func_call(fx.store, outer.of.func, &arg, 1, &res, 1, &t), WEFT_OK);
  assert_non_null(t);
  assert_string_equal(weft_trap_message(t), "the continuation trapped");
  assert_int_equal(weft_trap_frame_count(t), 3);
  assert_string_equal(weft_trap_frame_func_name(t, 0), "cont!boom");
  assert_string_equal(weft_trap_frame_func_name(t, 1), "cont!bad");
  assert_string_equal(weft_trap_frame_func_name(t, 2), "cont!outer");
  assert_int_equal(weft_trap_frame_stack_kind(t, 0), WEFT_CHAIN_CONTINUATION);
  assert_int_equal(weft_trap_frame_stack_kind(t, 1), WEFT_CHAIN_CONTINUATION);
  assert_int_equal(weft_trap_frame_stack_kind(t, 2), WEFT_CHAIN_INITIAL_STACK);
  assert_int_equal(weft_trap_frame_boundary(t, 1), WEFT_BOUNDARY_NONE);
  assert_int_equal(weft_trap_frame_boundary(t, 2), WEFT_BOUNDARY_CONTINUATION);
  assert_false(weft_trap_frames_truncated(t));
  weft_trap_free(t);
  /* the next trap, elsewhere, gets its own frames (the resume site's capture was used up) */
  assert_int_equal(weft_instance_export(fx.inst, "bad", &outer), WEFT_OK);
  assert_int_equal(weft_func_call(fx.store, outer.of.func, &arg, 1, &res, 1, &t), WEFT_OK);
  assert_non_null(t);
  assert_string_equal(weft_trap_message(t), "unreachable");
  assert_int_equal(weft_trap_frame_count(t), 2);
  assert_string_equal(weft_trap_frame_func_name(t, 0), "cont!boom");
  assert_int_equal(weft_trap_frame_stack_kind(t, 0), WEFT_CHAIN_INITIAL_STACK);
  weft_trap_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_walk_across_continuation, setup, teardown),
      cmocka_unit_test_setup_teardown(test_trap_in_continuation, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
