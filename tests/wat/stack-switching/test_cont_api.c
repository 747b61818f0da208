/* tests/wat/stack-switching/test_cont_api.c -- stack switching at the host boundary, end to end
 * through the embedding API with the build tree's plugins: continuation references returned to
 * the host, passed back in, stored by the host in a global and a table and resumed from there
 * (one-shot still enforced); a host frame between a suspension and its handler is a barrier
 * ("unhandled tag"); a host function called on a continuation stack. Module: cont_api.wat.
 * Depends on: libweft (weft-core-obj), the text front end (weft-text-obj), tests/common/wat_api,
 * cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime_int.h" /* core_rt_signals_reinstall: the fault handlers before cmocka's */
#include "weft/vm.h"
#include "wat_api.h"
#include "weft/weft.h"

typedef struct fixture {
  weft_engine *engine;
  weft_store_t *store;
  weft_module_t *module;
  weft_instance_t *inst;
} fixture;

static fixture fx;

/* env.host(x): 0 -> 123; 1 -> calls export "suspender" and returns its trap */
static weft_trap_t *host(void *env, weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                         weft_val_t *results, size_t nresults) {
  (void)env, (void)nargs, (void)nresults;
  if (args[0].of.i32 == 0) {
    results[0] = (weft_val_t){.kind = WEFT_VAL_I32, .of.i32 = 123};
    return NULL;
  }
  weft_extern_t f;
  if (weft_caller_export(caller, "suspender", &f) != WEFT_OK) return weft_trap_new("no export");
  weft_val_t r;
  weft_trap_t *t = NULL;
  if (weft_func_call(weft_caller_store(caller), f.of.func, NULL, 0, &r, 1, &t) != WEFT_OK)
    return weft_trap_new("misuse");
  if (t == NULL) return weft_trap_new("the suspension crossed the host frame");
  return t;
}

static int setup(void **state) {
  *state = &fx;
  memset(&fx, 0, sizeof fx);
  fx.engine = tw_engine_plugins(WEFT_CONT_PLUGIN_DIR, "validator, x64-codegen, contstacks",
                                "test_cont_api");
  if (fx.engine == NULL) return -1;
  fx.store = weft_store_new(fx.engine);
  if (tw_module_file(fx.engine, WEFT_CONT_WAT, &fx.module) != WEFT_OK) return -1;
  weft_error err;
  memset(&err, 0, sizeof err);
  weft_valtype i32 = WEFT_VT_I32;
  weft_extern_t imp[1] = {{.kind = WEFT_EXTERN_FUNC}};
  if (weft_func_new(fx.store, &i32, 1, &i32, 1, host, NULL, NULL, &imp[0].of.func) != WEFT_OK) return -1;
  weft_trap_t *t = NULL;
  if (weft_instance_new(fx.store, fx.module, imp, 1, &fx.inst, &t, &err) != WEFT_OK || t != NULL) {
    fprintf(stderr, "instance: %s\n", err.message);
    return -1;
  }
  core_rt_signals_reinstall();
  return 0;
}

static int teardown(void **state) {
  (void)state;
  weft_store_free(fx.store);
  weft_module_free(fx.module);
  weft_engine_free(fx.engine);
  return 0;
}

static weft_func_t export_func(const char *name) {
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(fx.inst, name, &ex), WEFT_OK);
  assert_int_equal(ex.kind, WEFT_EXTERN_FUNC);
  return ex.of.func;
}

/* start(): a suspended continuation as a host value */
static weft_val_t start(void) {
  weft_val_t k;
  memset(&k, 0, sizeof k);
  weft_trap_t *t = NULL;
  assert_int_equal(weft_func_call(fx.store, export_func("start"), NULL, 0, &k, 1, &t), WEFT_OK);
  if (t != NULL) fail_msg("start trapped: %s", weft_trap_message(t));
  assert_int_equal(k.kind, WEFT_VAL_CONTREF);
  assert_non_null(k.of.cont.contref);
  return k;
}

/* Calls `name`(args) expecting one i32; returns it, or -1000 with *trap set. */
static int32_t call_i32(const char *name, const weft_val_t *args, size_t nargs, weft_trap_t **trap) {
  weft_val_t r;
  memset(&r, 0, sizeof r);
  *trap = NULL;
  assert_int_equal(weft_func_call(fx.store, export_func(name), args, nargs, &r, 1, trap), WEFT_OK);
  return *trap != NULL ? -1000 : r.of.i32;
}

static void test_pass_back(void **state) {
  (void)state;
  weft_val_t a[2] = {start(), {.kind = WEFT_VAL_I32, .of.i32 = 21}};
  weft_trap_t *t = NULL;
  assert_int_equal(call_i32("finish", a, 2, &t), 42);
  /* the same reference again: consumed */
  assert_int_equal(call_i32("finish", a, 2, &t), -1000);
  assert_non_null(t);
  assert_string_equal(weft_trap_message(t), "continuation already consumed");
  weft_trap_free(t);
}

static void test_global_and_table(void **state) {
  (void)state;
  weft_extern_t g, tab;
  assert_int_equal(weft_instance_export(fx.inst, "g", &g), WEFT_OK);
  assert_int_equal(weft_instance_export(fx.inst, "tab", &tab), WEFT_OK);
  weft_val_t k1 = start(), k2 = start(), back;
  assert_int_equal(weft_global_set(fx.store, g.of.global, &k1), WEFT_OK);
  assert_int_equal(weft_global_get(fx.store, g.of.global, &back), WEFT_OK);
  assert_int_equal(back.kind, WEFT_VAL_CONTREF);
  assert_ptr_equal(back.of.cont.contref, k1.of.cont.contref);
  assert_int_equal(weft_table_set(fx.store, tab.of.table, 2, &k2), WEFT_OK);
  weft_trap_t *t = NULL;
  weft_val_t x = {.kind = WEFT_VAL_I32, .of.i32 = 4};
  assert_int_equal(call_i32("finish-global", &x, 1, &t), 8);
  weft_val_t a[2] = {{.kind = WEFT_VAL_I32, .of.i32 = 2}, {.kind = WEFT_VAL_I32, .of.i32 = 50}};
  assert_int_equal(call_i32("finish-table", a, 2, &t), 100);
  assert_int_equal(call_i32("finish-table", a, 2, &t), -1000);
  assert_string_equal(weft_trap_message(t), "continuation already consumed");
  weft_trap_free(t);
  /* a null element */
  a[0].of.i32 = 0;
  assert_int_equal(call_i32("finish-table", a, 2, &t), -1000);
  assert_string_equal(weft_trap_message(t), "null continuation reference");
  weft_trap_free(t);
}

/* A continuation reference the embedder made up (not an object of the contstacks plugin, or off
 * its alignment) is refused as misuse by calls, globals and tables: generated code would
 * dereference it. Regression: it used to reach the inline resume and crash. */
static void test_forged_refused(void **state) {
  (void)state;
  static uint64_t fake[32];
  weft_val_t k = start();
  weft_val_t bad = {.kind = WEFT_VAL_CONTREF};
  bad.of.cont.contref = fake;
  bad.of.cont.revision = 0;
  weft_val_t off = k;
  off.of.cont.contref = (char *)k.of.cont.contref + 8;
  weft_val_t a[2] = {bad, {.kind = WEFT_VAL_I32, .of.i32 = 1}}, r;
  weft_trap_t *t = NULL;
  assert_int_equal(weft_func_call(fx.store, export_func("finish"), a, 2, &r, 1, &t), WEFT_ERR_MISUSE);
  assert_null(t);
  a[0] = off;
  assert_int_equal(weft_func_call(fx.store, export_func("finish"), a, 2, &r, 1, &t), WEFT_ERR_MISUSE);
  weft_extern_t g, tab;
  assert_int_equal(weft_instance_export(fx.inst, "g", &g), WEFT_OK);
  assert_int_equal(weft_instance_export(fx.inst, "tab", &tab), WEFT_OK);
  assert_int_equal(weft_global_set(fx.store, g.of.global, &bad), WEFT_ERR_MISUSE);
  assert_int_equal(weft_table_set(fx.store, tab.of.table, 1, &bad), WEFT_ERR_MISUSE);
  /* the real one still works */
  a[0] = k;
  assert_int_equal(call_i32("finish", a, 2, &t), 2);
}

/* The API value is the real {contref, revision}: the address of a weft_contref whose current
 * revision it carries. A copy with any other revision is stale, also one 65,536 apart (all 64
 * bits are compared), and using it leaves the real one intact. */
static void test_real_revision(void **state) {
  (void)state;
  weft_val_t k = start();
  const weft_contref *c = k.of.cont.contref;
  assert_int_equal((uintptr_t)c >> 48, 0);
  assert_int_equal(k.of.cont.revision, c->revision);
  weft_trap_t *t = NULL;
  static const int64_t off[] = {1, -1, 65536, -65536};
  for (size_t i = 0; i < sizeof off / sizeof off[0]; i++) {
    weft_val_t a[2] = {k, {.kind = WEFT_VAL_I32, .of.i32 = 21}};
    a[0].of.cont.revision = k.of.cont.revision + (uint64_t)off[i];
    assert_int_equal(call_i32("finish", a, 2, &t), -1000);
    assert_string_equal(weft_trap_message(t), "continuation already consumed");
    weft_trap_free(t);
  }
  weft_val_t a[2] = {k, {.kind = WEFT_VAL_I32, .of.i32 = 21}};
  assert_int_equal(call_i32("finish", a, 2, &t), 42);
  assert_true(c->revision > k.of.cont.revision);
}

/* A global of continuation type set from Wasm and read by the host, then set by the host and
 * resumed by Wasm: the value keeps both words. */
static void test_global_from_wasm(void **state) {
  (void)state;
  weft_extern_t g;
  assert_int_equal(weft_instance_export(fx.inst, "g", &g), WEFT_OK);
  weft_trap_t *t = NULL;
  weft_val_t r;
  assert_int_equal(weft_func_call(fx.store, export_func("start-into-global"), NULL, 0, &r, 0, &t),
                   WEFT_OK);
  assert_null(t);
  weft_val_t k;
  assert_int_equal(weft_global_get(fx.store, g.of.global, &k), WEFT_OK);
  assert_int_equal(k.kind, WEFT_VAL_CONTREF);
  const weft_contref *c = k.of.cont.contref;
  assert_non_null(c);
  assert_int_equal(k.of.cont.revision, c->revision);
  weft_val_t x = {.kind = WEFT_VAL_I32, .of.i32 = 8};
  assert_int_equal(call_i32("finish-global", &x, 1, &t), 16);
  /* the host puts the (now consumed) value back: stale */
  assert_int_equal(weft_global_set(fx.store, g.of.global, &k), WEFT_OK);
  assert_int_equal(call_i32("finish-global", &x, 1, &t), -1000);
  assert_string_equal(weft_trap_message(t), "continuation already consumed");
  weft_trap_free(t);
  /* a fresh one set by the host round-trips with both words */
  weft_val_t k2 = start(), back;
  assert_int_equal(weft_global_set(fx.store, g.of.global, &k2), WEFT_OK);
  assert_int_equal(weft_global_get(fx.store, g.of.global, &back), WEFT_OK);
  assert_ptr_equal(back.of.cont.contref, k2.of.cont.contref);
  assert_int_equal(back.of.cont.revision, k2.of.cont.revision);
  assert_int_equal(call_i32("finish-global", &x, 1, &t), 16);
}

static void test_host_barrier(void **state) {
  (void)state;
  weft_trap_t *t = NULL;
  assert_int_equal(call_i32("barrier", NULL, 0, &t), -1000);
  assert_non_null(t);
  assert_string_equal(weft_trap_message(t), "unhandled tag");
  weft_trap_free(t);
  /* the store still works: a host call on a continuation stack */
  assert_int_equal(call_i32("host-on-cont", NULL, 0, &t), 123);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pass_back),
      cmocka_unit_test(test_forged_refused),
      cmocka_unit_test(test_global_and_table),
      cmocka_unit_test(test_real_revision),
      cmocka_unit_test(test_global_from_wasm),
      cmocka_unit_test(test_host_barrier),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
