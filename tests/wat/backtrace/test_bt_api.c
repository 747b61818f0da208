/* tests/wat/backtrace/test_bt_api.c -- end-to-end backtraces through the embedding API: real traps
 * in code compiled by x64-codegen (the build tree's plugins validator, x64-codegen, backtrace),
 * checked frame by frame: plain recursion, a trap raised in a libcall, a host function's trap,
 * Wasm -> host -> Wasm reentry (two activations), stack exhaustion with max_frames, an unnamed
 * function, no frames without the plugin, and a walk of live frames through the host table's
 * walk_frames slot (no trap). Module: bt.wat. Depends on: libweft (weft-core-obj), tests/common/wat_api.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"      /* core_engine_host: the host table, for the walk_frames test */
#include "runtime_int.h" /* core_rt_signals_reinstall: put the fault handlers before cmocka's */
#include "wat_api.h"
#include "weft/plugin/backtrace.h"
#include "weft/weft.h"

typedef struct fixture {
  weft_engine *engine;
  weft_store_t *store;
  weft_module_t *module;
  weft_instance_t *inst;
} fixture;

/* What the walk from inside env.host saw (the host table's walk_frames slot, as the gc uses it). */
static struct {
  int status;
  size_t n;
  uint32_t funcs[16];
} live;

static bool live_visit(void *ud, const weft_frame *f) {
  const weft_host_api *h = ud;
  uint32_t func = UINT32_MAX;
  h->code_func(h->host, f->pc - 1, &func, NULL, NULL);
  if (live.n < 16) live.funcs[live.n] = func;
  live.n++;
  return true;
}

/* Walks the Wasm frames below this host call, from the exit point the import trampoline saved up
 * to the entry, without any trap. */
static void walk_live(weft_caller_t *caller) {
  weft_store_t *s = weft_caller_store(caller);
  weft_store_ctx *ctx = s->ctx;
  const weft_host_api *h = core_engine_host(s->engine);
  live.n = 0;
  live.status = -1;
  if (!WEFT_HAS(h, weft_host_api, walk_frames) || !WEFT_HAS(h, weft_host_api, code_func)) return;
  weft_activation act = {.pc = ctx->last_wasm_exit_pc,
                         .fp = ctx->last_wasm_exit_fp,
                         .entry_fp = ctx->limits.last_wasm_entry_fp,
                         .stack_lo = ctx->last_wasm_exit_fp,
                         .stack_hi = ctx->limits.last_wasm_entry_fp + 16,
                         .chain = ctx->stack_chain};
  weft_frame_visitor v = {(void *)(uintptr_t)h, live_visit, false, UINT32_MAX};
  live.status = h->walk_frames(h->host, &act, NULL, &v);
}

/* env.host(x): x < 0 traps with its own message; x == 1000 walks the live frames and returns 0;
 * otherwise calls back into "start"(x), whose trap it returns as its own. */
static weft_trap_t *host(void *env, weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                         weft_val_t *results, size_t nresults) {
  (void)env, (void)nargs, (void)nresults;
  if (args[0].of.i32 < 0) return weft_trap_new("host says no");
  if (args[0].of.i32 == 1000) {
    walk_live(caller);
    results[0] = (weft_val_t){.kind = WEFT_VAL_I32, .of.i32 = 0};
    return NULL;
  }
  weft_extern_t start;
  if (weft_caller_export(caller, "start", &start) != WEFT_OK) return weft_trap_new("no start");
  weft_trap_t *t = NULL;
  if (weft_func_call(weft_caller_store(caller), start.of.func, args, 1, results, 1, &t) != WEFT_OK)
    return weft_trap_new("misuse");
  return t;
}

static int open_engine(fixture *f, const char *plugins, const char *max_frames) {
  /* Only the plugins named: the build's default.ini may list (and configure) others. */
  char text[512], mf[64];
  snprintf(text, sizeof text, "[core]\nplugin_dir = %s\nplugins = %s\n", WEFT_BT_PLUGIN_DIR,
           plugins);
  snprintf(mf, sizeof mf, "backtrace.max_frames=%s", max_frames ? max_frames : "");
  const char *extra[] = {max_frames != NULL ? mf : NULL, NULL};
  f->engine = tw_engine(text, "test_bt_api", extra);
  if (f->engine == NULL) return -1;
  f->store = weft_store_new(f->engine);
  if (tw_module_file(f->engine, WEFT_BT_WASM, &f->module) != WEFT_OK) return -1;
  weft_error err;
  memset(&err, 0, sizeof err);
  weft_valtype i32 = WEFT_VT_I32;
  weft_extern_t imp = {.kind = WEFT_EXTERN_FUNC};
  if (weft_func_new(f->store, &i32, 1, &i32, 1, host, NULL, NULL, &imp.of.func) != WEFT_OK)
    return -1;
  weft_trap_t *t = NULL;
  if (weft_instance_new(f->store, f->module, &imp, 1, &f->inst, &t, &err) != WEFT_OK || t != NULL)
    return -1;
  return 0;
}

static int setup_full(void **state) {
  static fixture f;
  memset(&f, 0, sizeof f);
  *state = &f;
  return open_engine(&f, "validator, x64-codegen, backtrace", NULL);
}

static int teardown(void **state) {
  fixture *f = *state;
  weft_store_free(f->store);
  weft_module_free(f->module);
  weft_engine_free(f->engine);
  return 0;
}

/* Calls export `name`(x) and returns the trap (never NULL: every call here traps). */
static weft_trap_t *call_trap(fixture *f, const char *name, int32_t x) {
  assert_int_equal(core_rt_signals_reinstall(), WEFT_OK);
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(f->inst, name, &ex), WEFT_OK);
  weft_val_t arg = {.kind = WEFT_VAL_I32, .of.i32 = x}, res;
  weft_trap_t *t = NULL;
  assert_int_equal(weft_func_call(f->store, ex.of.func, &arg, 1, &res, 1, &t), WEFT_OK);
  assert_non_null(t);
  return t;
}

static void expect_names(const weft_trap_t *t, const char *const *names, size_t n) {
  for (size_t i = 0; i < weft_trap_frame_count(t) && i < n; i++)
    if (strcmp(weft_trap_frame_func_name(t, i), names[i]) != 0)
      fail_msg("frame %zu: %s, expected %s", i, weft_trap_frame_func_name(t, i), names[i]);
  assert_int_equal(weft_trap_frame_count(t), n);
}

/* -- Tests ------------------------------------------------------------------------------------- */

static void test_plain_recursion(void **state) {
  fixture *f = *state;
  weft_trap_t *t = call_trap(f, "start", 3);
  assert_string_equal(weft_trap_message(t), "integer divide by zero");
  static const char *const want[] = {"bt!down", "bt!down", "bt!down",
                                     "bt!down", "bt!middle", "bt!start"};
  expect_names(t, want, 6);
  assert_false(weft_trap_frames_truncated(t));
  static const uint32_t idx[] = {1, 1, 1, 1, 2, 3};
  for (size_t i = 0; i < 6; i++) {
    assert_int_equal(weft_trap_frame_func_index(t, i), idx[i]);
    assert_int_equal(weft_trap_frame_stack_kind(t, i), WEFT_CHAIN_INITIAL_STACK);
    assert_int_equal(weft_trap_frame_boundary(t, i), WEFT_BOUNDARY_NONE);
    assert_true(weft_trap_frame_module_offset(t, i) != UINT64_MAX);
  }
  /* frame 0 is the trapping instruction; frames 1-3 are the same call site in down */
  assert_int_equal(weft_trap_frame_module_offset(t, 0), weft_trap_wasm_offset(t));
  assert_int_equal(weft_trap_frame_module_offset(t, 1), weft_trap_frame_module_offset(t, 3));
  assert_true(weft_trap_frame_module_offset(t, 1) > weft_trap_frame_module_offset(t, 0));
  assert_true(weft_trap_frame_module_offset(t, 4) > weft_trap_frame_module_offset(t, 1));
  /* out of range */
  assert_null(weft_trap_frame_func_name(t, 6));
  assert_int_equal(weft_trap_frame_func_index(t, 6), UINT32_MAX);
  assert_int_equal(weft_trap_frame_module_offset(t, 99), UINT64_MAX);
  assert_int_equal(weft_trap_frame_stack_kind(t, 6), WEFT_CHAIN_ABSENT);
  weft_trap_free(t);
  /* the store is usable after a trap, and the next backtrace is the new one */
  t = call_trap(f, "start", 0);
  static const char *const want0[] = {"bt!down", "bt!middle", "bt!start"};
  expect_names(t, want0, 3);
  weft_trap_free(t);
}

static void test_libcall_trap(void **state) {
  fixture *f = *state;
  weft_trap_t *t = call_trap(f, "viafill", 100);
  assert_string_equal(weft_trap_message(t), "out of bounds memory access");
  static const char *const want[] = {"bt!fill", "bt!viafill"};
  expect_names(t, want, 2);
  weft_trap_free(t);
}

static void test_host_trap(void **state) {
  fixture *f = *state;
  weft_trap_t *t = call_trap(f, "outer", -1);
  assert_string_equal(weft_trap_message(t), "host says no");
  static const char *const want[] = {"bt!tohost", "bt!outer"};
  expect_names(t, want, 2);
  weft_trap_free(t);
}

/* outer -> tohost -> host -> start -> middle -> down x3 traps: one trace over two activations,
 * with the host frames in between marked. */
static void test_reentry(void **state) {
  fixture *f = *state;
  weft_trap_t *t = call_trap(f, "outer", 2);
  assert_string_equal(weft_trap_message(t), "integer divide by zero");
  static const char *const want[] = {"bt!down", "bt!down",  "bt!down",  "bt!middle",
                                     "bt!start", "bt!tohost", "bt!outer"};
  expect_names(t, want, 7);
  for (size_t i = 0; i < 7; i++)
    assert_int_equal(weft_trap_frame_boundary(t, i), i == 5 ? WEFT_BOUNDARY_HOST : WEFT_BOUNDARY_NONE);
  weft_trap_free(t);
}

static void test_unnamed(void **state) {
  fixture *f = *state;
  weft_trap_t *t = call_trap(f, "anon", 0);
  static const char *const want[] = {"bt!down", "bt!wasm-function[9]"};
  expect_names(t, want, 2);
  weft_trap_free(t);
}

static void test_stack_exhausted(void **state) {
  fixture *f = *state;
  weft_trap_t *t = call_trap(f, "deep", 0);
  assert_string_equal(weft_trap_message(t), "call stack exhausted");
  assert_int_equal(weft_trap_frame_count(t), 1000); /* [backtrace] max_frames default */
  assert_true(weft_trap_frames_truncated(t));
  for (size_t i = 0; i < 1000; i++) assert_string_equal(weft_trap_frame_func_name(t, i), "bt!deep");
  weft_trap_free(t);
}

/* No trap: a host function walks the frames of the Wasm that called it (outer -> tohost). */
static void test_live_walk(void **state) {
  fixture *f = *state;
  assert_int_equal(core_rt_signals_reinstall(), WEFT_OK);
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(f->inst, "outer", &ex), WEFT_OK);
  weft_val_t arg = {.kind = WEFT_VAL_I32, .of.i32 = 1000}, res;
  weft_trap_t *t = NULL;
  assert_int_equal(weft_func_call(f->store, ex.of.func, &arg, 1, &res, 1, &t), WEFT_OK);
  assert_null(t);
  assert_int_equal(live.status, WEFT_OK);
  assert_int_equal(live.n, 2);
  assert_int_equal(live.funcs[0], 6); /* tohost */
  assert_int_equal(live.funcs[1], 7); /* outer */
}

static void test_max_frames(void **state) {
  (void)state;
  fixture g;
  memset(&g, 0, sizeof g);
  assert_int_equal(open_engine(&g, "validator, x64-codegen, backtrace", "4"), 0);
  weft_trap_t *t = call_trap(&g, "start", 10);
  static const char *const want[] = {"bt!down", "bt!down", "bt!down", "bt!down"};
  expect_names(t, want, 4);
  assert_true(weft_trap_frames_truncated(t));
  weft_trap_free(t);
  void *p = &g;
  teardown(&p);
}

static void test_without_plugin(void **state) {
  (void)state;
  fixture g;
  memset(&g, 0, sizeof g);
  assert_int_equal(open_engine(&g, "validator, x64-codegen", NULL), 0);
  weft_trap_t *t = call_trap(&g, "start", 3);
  assert_string_equal(weft_trap_message(t), "integer divide by zero");
  assert_int_equal(weft_trap_frame_count(t), 0);
  assert_false(weft_trap_frames_truncated(t));
  assert_null(weft_trap_frame_func_name(t, 0));
  weft_trap_free(t);
  void *p = &g;
  teardown(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_plain_recursion, setup_full, teardown),
      cmocka_unit_test_setup_teardown(test_libcall_trap, setup_full, teardown),
      cmocka_unit_test_setup_teardown(test_host_trap, setup_full, teardown),
      cmocka_unit_test_setup_teardown(test_reentry, setup_full, teardown),
      cmocka_unit_test_setup_teardown(test_unnamed, setup_full, teardown),
      cmocka_unit_test_setup_teardown(test_stack_exhausted, setup_full, teardown),
      cmocka_unit_test_setup_teardown(test_live_walk, setup_full, teardown),
      cmocka_unit_test(test_max_frames),
      cmocka_unit_test(test_without_plugin),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
