/* tests/wat/exceptions/test_exn_api.c -- exceptions at the host boundary, end to end through the
 * embedding API with the build tree's validator and x64-codegen: an uncaught exception is a trap of
 * kind exception whose tag and payload the host reads; a Wasm exception crossing a host function
 * (Wasm -> host -> Wasm throw, propagated by the host) is caught by Wasm; a host function throws
 * its own exception of a host tag; a plain host trap is not catchable. Module: exn_api.wat.
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

#include "exn.h"         /* core_exn: the store's exception objects, counted */
#include "runtime_int.h" /* core_rt_signals_reinstall: the fault handlers before cmocka's */
#include "wat_api.h"
#include "weft/weft.h"

typedef struct fixture {
  weft_engine *engine;
  weft_store_t *store;
  weft_module_t *module;
  weft_instance_t *inst;
  weft_tag_t host_tag;
} fixture;

static fixture fx;

/* env.host(x): 0 -> 42; 1 -> calls export "throw"(5) and returns its exception trap; 2 -> throws
 * (7, 8) of the host tag; 3 -> a plain host trap. */
static weft_trap_t *host(void *env, weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                         weft_val_t *results, size_t nresults) {
  (void)env, (void)nargs, (void)nresults;
  weft_store_t *s = weft_caller_store(caller);
  switch (args[0].of.i32) {
  case 0:
    results[0] = (weft_val_t){.kind = WEFT_VAL_I32, .of.i32 = 42};
    return NULL;
  case 1: {
    weft_extern_t f;
    if (weft_caller_export(caller, "throw", &f) != WEFT_OK) return weft_trap_new("no export");
    weft_val_t a = {.kind = WEFT_VAL_I32, .of.i32 = 5}, r;
    weft_trap_t *t = NULL;
    if (weft_func_call(s, f.of.func, &a, 1, &r, 1, &t) != WEFT_OK) return weft_trap_new("misuse");
    if (t == NULL || weft_trap_kind_of(t) != WEFT_TRAPKIND_EXCEPTION) {
      weft_trap_free(t);
      return weft_trap_new("expected an exception");
    }
    return t; /* propagated: thrown again at our call site */
  }
  case 2: {
    weft_val_raw p[2];
    memset(p, 0, sizeof p);
    p[0].i32 = 7;
    p[1].i64 = 8;
    return weft_trap_new_exception(s, fx.host_tag, p, 2);
  }
  default: return weft_trap_new("plain host error");
  }
}

static int setup(void **state) {
  *state = &fx;
  memset(&fx, 0, sizeof fx);
  fx.engine = tw_engine_plugins(WEFT_EXN_PLUGIN_DIR, "validator, x64-codegen", "test_exn_api");
  if (fx.engine == NULL) return -1;
  fx.store = weft_store_new(fx.engine);
  if (tw_module_file(fx.engine, WEFT_EXN_WAT, &fx.module) != WEFT_OK) return -1;
  weft_error err;
  memset(&err, 0, sizeof err);
  weft_valtype i32 = WEFT_VT_I32, tagp[2] = {WEFT_VT_I32, WEFT_VT_I64};
  weft_extern_t imp[2] = {{.kind = WEFT_EXTERN_FUNC}, {.kind = WEFT_EXTERN_TAG}};
  if (weft_func_new(fx.store, &i32, 1, &i32, 1, host, NULL, NULL, &imp[0].of.func) != WEFT_OK) return -1;
  if (weft_tag_new(fx.store, tagp, 2, &fx.host_tag) != WEFT_OK) return -1;
  imp[1].of.tag = fx.host_tag;
  weft_trap_t *t = NULL;
  if (weft_instance_new(fx.store, fx.module, imp, 2, &fx.inst, &t, &err) != WEFT_OK || t != NULL) {
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

/* Calls export `name` with i32 args; returns the trap, or NULL with *out the i32 result. */
static weft_trap_t *call(const char *name, const weft_val_t *args, size_t nargs, int32_t *out,
                         size_t nres) {
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(fx.inst, name, &ex), WEFT_OK);
  weft_val_t res[2];
  memset(res, 0, sizeof res);
  weft_trap_t *t = NULL;
  assert_int_equal(weft_func_call(fx.store, ex.of.func, args, nargs, res, nres, &t), WEFT_OK);
  if (t == NULL && out != NULL && nres > 0) *out = res[0].of.i32;
  return t;
}

static weft_trap_t *call1(const char *name, int32_t x, int32_t *out) {
  weft_val_t a = {.kind = WEFT_VAL_I32, .of.i32 = x};
  return call(name, &a, 1, out, 1);
}

/* -- Tests ------------------------------------------------------------------------------------- */

static void test_uncaught_module_tag(void **state) {
  (void)state;
  weft_trap_t *t = call1("throw", 9, NULL);
  assert_non_null(t);
  assert_int_equal(weft_trap_kind_of(t), WEFT_TRAPKIND_EXCEPTION);
  assert_int_equal(weft_trap_get_code(t), WEFT_TRAP_EXCEPTION);
  void *exn = weft_trap_exnref(t);
  assert_non_null(exn);
  weft_tag_t tag, exported;
  assert_int_equal(weft_exn_get_tag(fx.store, exn, &tag), WEFT_OK);
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(fx.inst, "e", &ex), WEFT_OK);
  exported = ex.of.tag;
  assert_ptr_equal(tag.obj, exported.obj);
  assert_ptr_not_equal(tag.obj, fx.host_tag.obj);
  uint32_t n = 0;
  const weft_val_raw *v = NULL;
  assert_int_equal(weft_exn_get_payload(exn, &n, &v), WEFT_OK);
  assert_int_equal(n, 1);
  assert_int_equal(v[0].i32, 9);
  weft_trap_free(t);
}

static void test_uncaught_host_tag_from_wasm(void **state) {
  (void)state;
  weft_val_t a[2] = {{.kind = WEFT_VAL_I32, .of.i32 = -3}, {.kind = WEFT_VAL_I64, .of.i64 = 1LL << 40}};
  weft_trap_t *t = call("throw2", a, 2, NULL, 0);
  assert_non_null(t);
  assert_int_equal(weft_trap_kind_of(t), WEFT_TRAPKIND_EXCEPTION);
  weft_tag_t tag;
  assert_int_equal(weft_exn_get_tag(fx.store, weft_trap_exnref(t), &tag), WEFT_OK);
  assert_ptr_equal(tag.obj, fx.host_tag.obj);
  uint32_t n = 0;
  const weft_val_raw *v = NULL;
  assert_int_equal(weft_exn_get_payload(weft_trap_exnref(t), &n, &v), WEFT_OK);
  assert_int_equal(n, 2);
  assert_int_equal(v[0].i32, -3);
  assert_true(v[1].i64 == (1LL << 40));
  weft_trap_free(t);
}

static void test_host_returns_normally(void **state) {
  (void)state;
  int32_t r = 0;
  assert_null(call1("via_host", 0, &r));
  assert_int_equal(r, 42);
}

/* Wasm -> host -> Wasm throw: the inner entry hands the host an exception trap; the host returns
 * it, and the outer Wasm catches it with catch $e. */
static void test_wasm_exception_crosses_host(void **state) {
  (void)state;
  int32_t r = 0;
  assert_null(call1("via_host", 1, &r));
  assert_int_equal(r, 1005);
}

static void test_host_throws(void **state) {
  (void)state;
  int32_t r = 0;
  assert_null(call1("via_host", 2, &r));
  assert_int_equal(r, 2015);
  /* caught by catch_all too, and reported when nobody catches it */
  assert_null(call1("via_host_all", 2, &r));
  assert_int_equal(r, -1);
  weft_trap_t *t = call1("uncaught_via_host", 2, NULL);
  assert_non_null(t);
  assert_int_equal(weft_trap_kind_of(t), WEFT_TRAPKIND_EXCEPTION);
  uint32_t n = 0;
  const weft_val_raw *v = NULL;
  assert_int_equal(weft_exn_get_payload(weft_trap_exnref(t), &n, &v), WEFT_OK);
  assert_int_equal(n, 2);
  assert_int_equal(v[0].i32, 7);
  assert_true(v[1].i64 == 8);
  weft_trap_free(t);
}

/* The store's exception objects (core internals). */
static size_t exn_count(void) {
  size_t n = 0;
  for (core_exn *e = fx.store->ctx->exn_objects; e != NULL; e = e->next) n++;
  return n;
}

/* An exception the host throws and Wasm catches by value is freed at once, as one Wasm throws:
 * it was pinned for the store's life, so a host that throws in a loop grew the store by one
 * object per throw (10,000 here). */
static void test_host_throws_in_a_loop(void **state) {
  (void)state;
  size_t before = exn_count();
  int32_t r = 0;
  assert_null(call1("via_host_loop", 10000, &r));
  assert_int_equal(r, 10000 * 2015);
  assert_int_equal(exn_count(), before);
}

/* An exnref the host took from a trap stays valid after Wasm caught it with catch_ref and dropped
 * it (the catch used to unpin it for the next collection); a trap freed after its store forgets
 * its exception instead of touching freed memory. */
static void test_trap_exnref_lifetime(void **state) {
  (void)state;
  weft_trap_t *t = call1("uncaught_via_host", 2, NULL);
  assert_non_null(t);
  void *x = weft_trap_exnref(t);
  assert_non_null(x);
  weft_trap_free(t);
  weft_extern_t f;
  assert_int_equal(weft_instance_export(fx.inst, "catch_ref_drop", &f), WEFT_OK);
  weft_val_t a = {.kind = WEFT_VAL_EXNREF, .of.ref = x};
  weft_trap_t *t2 = NULL;
  assert_int_equal(weft_func_call(fx.store, f.of.func, &a, 1, NULL, 0, &t2), WEFT_OK);
  assert_null(t2);
  assert_true(((core_exn *)x)->exposed == CORE_EXN_PINNED);
  uint32_t n = 0;
  const weft_val_raw *v = NULL;
  assert_int_equal(weft_exn_get_payload(x, &n, &v), WEFT_OK);
  assert_int_equal(v[0].i32, 7);

  /* a store of its own, freed before the trap */
  weft_store_t *s = weft_store_new(fx.engine);
  assert_non_null(s);
  weft_valtype tagp[2] = {WEFT_VT_I32, WEFT_VT_I64};
  weft_tag_t tag;
  assert_int_equal(weft_tag_new(s, tagp, 2, &tag), WEFT_OK);
  weft_val_raw q[2];
  memset(q, 0, sizeof q);
  weft_trap_t *t3 = weft_trap_new_exception(s, tag, q, 2);
  assert_non_null(t3);
  assert_non_null(weft_trap_exnref(t3));
  weft_store_free(s);
  assert_null(weft_trap_exnref(t3));
  weft_trap_free(t3);
}

static void test_host_trap_not_catchable(void **state) {
  (void)state;
  weft_trap_t *t = call1("via_host_all", 3, NULL);
  assert_non_null(t);
  assert_int_equal(weft_trap_kind_of(t), WEFT_TRAPKIND_HOST);
  assert_string_equal(weft_trap_message(t), "plain host error");
  assert_null(weft_trap_exnref(t));
  weft_trap_free(t);
  /* the store keeps working */
  int32_t r = 0;
  assert_null(call1("via_host", 1, &r));
  assert_int_equal(r, 1005);
}

static void test_api_misuse(void **state) {
  (void)state;
  weft_val_raw p[1];
  memset(p, 0, sizeof p);
  assert_null(weft_trap_new_exception(fx.store, fx.host_tag, p, 1)); /* wrong count */
  assert_null(weft_trap_new_exception(NULL, fx.host_tag, p, 2));
  weft_tag_t tag;
  assert_int_equal(weft_exn_get_tag(fx.store, NULL, &tag), WEFT_ERR_MISUSE);
  assert_int_equal(weft_exn_get_payload(NULL, NULL, NULL), WEFT_ERR_MISUSE);
  /* an exception made by the host and never thrown is still an exception trap */
  weft_val_raw q[2];
  memset(q, 0, sizeof q);
  weft_trap_t *t = weft_trap_new_exception(fx.store, fx.host_tag, q, 2);
  assert_non_null(t);
  assert_int_equal(weft_trap_kind_of(t), WEFT_TRAPKIND_EXCEPTION);
  weft_trap_free(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_uncaught_module_tag),
      cmocka_unit_test(test_uncaught_host_tag_from_wasm),
      cmocka_unit_test(test_host_returns_normally),
      cmocka_unit_test(test_wasm_exception_crosses_host),
      cmocka_unit_test(test_host_throws),
      cmocka_unit_test(test_host_throws_in_a_loop),
      cmocka_unit_test(test_trap_exnref_lifetime),
      cmocka_unit_test(test_host_trap_not_catchable),
      cmocka_unit_test(test_api_misuse),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
