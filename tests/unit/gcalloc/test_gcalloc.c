/* tests/unit/gcalloc/test_gcalloc.c -- rooted handles (weft_root_*) and weft_store_gc /
 * weft_store_gc_stats: rooted structs made by Wasm (allocated inline) survive forced collections
 * and garbage that reuses freed cells, unrooted ones are freed, freed roots stop keeping objects,
 * the same under gc.stress, misuse. Depends on: weft-core-obj, weft-text-obj, tests/common/wat_api,
 * the built plugins.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "wat_api.h"
#include "weft/weft.h"

/* -- Fixture ----------------------------------------------------------------------------------- */

/* mk(v): a fresh struct {v, null} (inline bump allocation); val(r): its v; churn(n): n garbage
 * structs whose v is n (so a reused cell of a freed object would read back as n). */
static const char wat[] =
    "(module\n"
    "  (type $p (struct (field $v (mut i32)) (field $next (ref null $p))))\n"
    "  (func (export \"mk\") (param i32) (result anyref)\n"
    "    (struct.new $p (local.get 0) (ref.null $p)))\n"
    "  (func (export \"val\") (param anyref) (result i32)\n"
    "    (struct.get $p $v (ref.cast (ref $p) (local.get 0))))\n"
    "  (func (export \"churn\") (param $n i32) (local $i i32)\n"
    "    (loop $l\n"
    "      (drop (struct.new $p (local.get $n) (ref.null $p)))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))))\n";

typedef tw_fixture fixture;

static int setup_with(void **state, const char *extra) {
  *state = tw_fixture_new(extra, wat, sizeof wat - 1, false, "gcalloc.wat");
  return *state != NULL ? 0 : -1;
}

static int setup(void **state) { return setup_with(state, NULL); }
static int setup_stress(void **state) { return setup_with(state, "gc.stress=yes"); }

static int teardown(void **state) {
  tw_fixture_free(*state); /* the store frees the roots a test left */
  return 0;
}

/* Calls export `name` with one argument and returns its result (kind 0xff: none). */
static weft_val_t call(fixture *f, const char *name, const weft_val_t *arg, size_t nres) {
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(f->inst, name, &ex), WEFT_OK);
  weft_val_t res;
  memset(&res, 0, sizeof res);
  res.kind = 0xff;
  weft_trap_t *t = NULL;
  assert_int_equal(weft_func_call(f->store, ex.of.func, arg, 1, &res, nres, &t), WEFT_OK);
  if (t != NULL) fail_msg("%s trapped: %s", name, weft_trap_message(t));
  return res;
}

static void *mk(fixture *f, int32_t v) {
  weft_val_t a = {.kind = WEFT_VAL_I32, .of.i32 = v};
  weft_val_t r = call(f, "mk", &a, 1);
  assert_int_equal(r.kind, WEFT_VAL_ANYREF);
  assert_non_null(r.of.ref);
  return r.of.ref;
}

static int32_t val(fixture *f, const weft_val_t *any) {
  weft_val_t r = call(f, "val", any, 1);
  assert_int_equal(r.kind, WEFT_VAL_I32);
  return r.of.i32;
}

static void churn(fixture *f, int32_t n) {
  weft_val_t a = {.kind = WEFT_VAL_I32, .of.i32 = n};
  (void)call(f, "churn", &a, 0);
}

static weft_store_gc_stats_t stats(fixture *f) {
  weft_store_gc_stats_t s;
  assert_int_equal(weft_store_gc_stats(f->store, &s), WEFT_OK);
  return s;
}

/* The host keeps unrooted references only masked in heap memory, so the conservative scan of the C
 * stack cannot see them (the test is about what the handles keep alive). */
#define MASK ((uintptr_t)0x5a5a5a5a5a5a5a5aull)
#define N 1000

/* -- Tests ------------------------------------------------------------------------------------- */

/* N structs from Wasm; the even ones rooted. A forced collection keeps exactly the rooted ones (a
 * few unrooted may stay, seen conservatively on the stack), frees the rest; after garbage that
 * reuses the freed cells every rooted struct still reads its own value. */
static void test_rooted_survive_unrooted_freed(void **state) {
  fixture *f = *state;
  weft_root_t **roots = calloc(N, sizeof *roots);
  uintptr_t *masked = calloc(N, sizeof *masked);
  assert_non_null(roots);
  assert_non_null(masked);
  for (int i = 0; i < N; i++) {
    weft_val_t v = {.kind = WEFT_VAL_ANYREF};
    v.of.ref = mk(f, 1000 + i);
    if (i % 2 == 0) {
      roots[i] = weft_root_new(f->store, &v);
      assert_non_null(roots[i]);
    } else {
      masked[i] = (uintptr_t)v.of.ref ^ MASK;
    }
  }
  assert_int_equal(stats(f).roots, N / 2);
  weft_store_gc_stats_t before = stats(f);
  assert_int_equal(weft_store_gc(f->store), WEFT_OK);
  weft_store_gc_stats_t after = stats(f);
  assert_true(after.collections > before.collections);
  assert_true(after.live_objects >= N / 2);
  assert_true(after.live_objects <= N / 2 + 8);
  assert_true(after.freed_objects - before.freed_objects >= N / 2 - 8);
  for (int k = 0; k < 5; k++) { /* garbage reusing the freed cells, more collections */
    churn(f, 100000);
    assert_int_equal(weft_store_gc(f->store), WEFT_OK);
  }
  for (int i = 0; i < N; i += 2) {
    weft_val_t v;
    assert_int_equal(weft_root_get(roots[i], &v), WEFT_OK);
    assert_int_equal(v.kind, WEFT_VAL_ANYREF);
    assert_int_equal(val(f, &v), 1000 + i);
  }
  /* freeing the roots lets the objects go */
  for (int i = 0; i < N; i += 2) weft_root_free(roots[i]);
  assert_int_equal(stats(f).roots, 0);
  assert_int_equal(weft_store_gc(f->store), WEFT_OK);
  assert_true(stats(f).live_objects <= 8);
  free(roots);
  free(masked);
}

/* weft_root_set replaces the kept value: the old object may go, the new one stays. */
static void test_root_set(void **state) {
  fixture *f = *state;
  weft_val_t a = {.kind = WEFT_VAL_ANYREF}, b = {.kind = WEFT_VAL_ANYREF};
  a.of.ref = mk(f, 7);
  weft_root_t *r = weft_root_new(f->store, &a);
  assert_non_null(r);
  b.of.ref = mk(f, 8);
  assert_int_equal(weft_root_set(r, &b), WEFT_OK);
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  churn(f, 50000);
  assert_int_equal(weft_store_gc(f->store), WEFT_OK);
  churn(f, 50000);
  weft_val_t v;
  assert_int_equal(weft_root_get(r, &v), WEFT_OK);
  assert_int_equal(val(f, &v), 8);
  assert_true(stats(f).live_objects <= 8 + 50000);
  /* left for weft_store_free (teardown) to free */
}

/* Under gc.stress every allocation collects (no inline regions): a rooted struct survives
 * thousands of collections. */
static void test_stress(void **state) {
  fixture *f = *state;
  weft_val_t a = {.kind = WEFT_VAL_ANYREF};
  a.of.ref = mk(f, 4242);
  weft_root_t *r = weft_root_new(f->store, &a);
  assert_non_null(r);
  memset(&a, 0, sizeof a);
  uint64_t c0 = stats(f).collections;
  churn(f, 2000);
  assert_true(stats(f).collections >= c0 + 2000);
  weft_val_t v;
  assert_int_equal(weft_root_get(r, &v), WEFT_OK);
  assert_int_equal(val(f, &v), 4242);
  weft_root_free(r);
}

static void test_misuse(void **state) {
  fixture *f = *state;
  weft_val_t v = {.kind = WEFT_VAL_I32, .of.i32 = 3};
  assert_null(weft_root_new(NULL, &v));
  assert_null(weft_root_new(f->store, NULL));
  weft_val_t bad = {.kind = 77};
  assert_null(weft_root_new(f->store, &bad));
  weft_root_t *r = weft_root_new(f->store, &v); /* a number is held, never traced */
  assert_non_null(r);
  weft_val_t out;
  assert_int_equal(weft_root_get(r, &out), WEFT_OK);
  assert_int_equal(out.of.i32, 3);
  assert_int_equal(weft_root_get(NULL, &out), WEFT_ERR_MISUSE);
  assert_int_equal(weft_root_get(r, NULL), WEFT_ERR_MISUSE);
  assert_int_equal(weft_root_set(r, &bad), WEFT_ERR_MISUSE);
  assert_int_equal(weft_root_set(NULL, &v), WEFT_ERR_MISUSE);
  weft_root_free(r);
  weft_root_free(NULL);
  assert_int_equal(weft_store_gc(NULL), WEFT_ERR_MISUSE);
  weft_store_gc_stats_t s;
  assert_int_equal(weft_store_gc_stats(NULL, &s), WEFT_ERR_MISUSE);
  assert_int_equal(weft_store_gc_stats(f->store, NULL), WEFT_ERR_MISUSE);
}

/* Without the gc plugin the heap calls are unsupported; handles still hold values. */
static void test_no_gc_plugin(void **state) {
  (void)state;
  const char *extra[] = {"core.plugins=validator,x64-codegen", NULL};
  weft_engine *e = tw_engine(NULL, "test_gcalloc", extra);
  assert_non_null(e);
  weft_store_t *s = weft_store_new(e);
  assert_non_null(s);
  assert_int_equal(weft_store_gc(s), WEFT_ERR_UNSUPPORTED);
  weft_store_gc_stats_t st;
  assert_int_equal(weft_store_gc_stats(s, &st), WEFT_ERR_UNSUPPORTED);
  weft_val_t v = {.kind = WEFT_VAL_EXTERNREF, .of.ref = (void *)0x1000};
  weft_root_t *r = weft_root_new(s, &v);
  assert_non_null(r);
  weft_store_free(s); /* frees r */
  weft_engine_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_rooted_survive_unrooted_freed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_root_set, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stress, setup_stress, teardown),
      cmocka_unit_test_setup_teardown(test_misuse, setup, teardown),
      cmocka_unit_test(test_no_gc_plugin),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
