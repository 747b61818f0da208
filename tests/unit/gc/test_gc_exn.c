/* tests/unit/gc/test_gc_exn.c -- exception objects are collected like heap objects: an exnref that
 * Wasm caught with catch_ref and dropped is freed by a collection; one held in a global, a table,
 * a struct field, another exception's payload or a suspended continuation's frame survives it
 * with its payload intact; one the host got through a trap is never freed. Real plugins of the
 * build tree's conf/default.ini, a WAT module, weft_store_gc, and the store's list of exception
 * objects counted through core internals (exn.h). Depends on: weft-core-obj, weft-text-obj.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "exn.h"
#include "runtime_int.h"
#include "wat_api.h"
#include "weft/weft.h"

/* -- Fixture ----------------------------------------------------------------------------------- */

/* make(v): an exnref of $e carrying (v, a list of 10 nodes summing 55), caught with catch_ref;
 * drop_many(n): n made and dropped; keep_*: one kept in a global / table slot / struct field /
 * the payload of an exception kept in the global; sum_*: throw_ref the kept one, catch it by
 * value and return v + the list's sum; park(v): a continuation suspended with one in a local;
 * unpark(): resumes it, which rethrows and returns v + sum; escape(v): throws to the host. */
static const char wat[] =
    "(module\n"
    "  (type $node (struct (field $v i32) (field $next (ref null $node))))\n"
    "  (type $box (struct (field $x (mut exnref))))\n"
    "  (tag $e (param i32 (ref null $node)))\n"
    "  (tag $w (param exnref))\n"
    "  (tag $yield)\n"
    "  (type $f (func (result i32)))\n"
    "  (type $c (cont $f))\n"
    "  (global $g (mut exnref) (ref.null exn))\n"
    "  (global $bx (mut (ref null $box)) (ref.null $box))\n"
    "  (global $k (mut (ref null $c)) (ref.null $c))\n"
    "  (table $t 4 exnref)\n"
    "  (func $list (param $n i32) (result (ref null $node)) (local $l (ref null $node))\n"
    "    (loop $l1 (local.set $l (struct.new $node (local.get $n) (local.get $l)))\n"
    "      (local.set $n (i32.sub (local.get $n) (i32.const 1)))\n"
    "      (br_if $l1 (i32.gt_s (local.get $n) (i32.const 0))))\n"
    "    (local.get $l))\n"
    "  (func $sum (param $l (ref null $node)) (result i32) (local $s i32)\n"
    "    (block $d (loop $l1 (br_if $d (ref.is_null (local.get $l)))\n"
    "      (local.set $s (i32.add (local.get $s) (struct.get $node $v (local.get $l))))\n"
    "      (local.set $l (struct.get $node $next (local.get $l))) (br $l1)))\n"
    "    (local.get $s))\n"
    "  (func $make (export \"make\") (param $v i32) (result exnref)\n"
    "    (block $h (result i32 (ref null $node) exnref)\n"
    "      (try_table (catch_ref $e $h) (throw $e (local.get $v) (call $list (i32.const 10))))\n"
    "      (unreachable))\n"
    "    (return))\n"
    "  (func $open (param $x exnref) (result i32)\n"
    "    (block $h (result i32 (ref null $node))\n"
    "      (try_table (catch $e $h) (throw_ref (local.get $x)))\n"
    "      (unreachable))\n"
    "    (call $sum) (i32.add))\n"
    "  (func (export \"drop_many\") (param $n i32) (local $i i32)\n"
    "    (loop $l1 (drop (call $make (local.get $i)))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l1 (i32.lt_u (local.get $i) (local.get $n)))))\n"
    "  (func (export \"keep_global\") (param $v i32) (global.set $g (call $make (local.get $v))))\n"
    "  (func (export \"sum_global\") (result i32) (call $open (global.get $g)))\n"
    "  (func (export \"keep_table\") (param $v i32) (table.set $t (i32.const 2) (call $make (local.get $v))))\n"
    "  (func (export \"sum_table\") (result i32) (call $open (table.get $t (i32.const 2))))\n"
    "  (func (export \"keep_field\") (param $v i32)\n"
    "    (global.set $bx (struct.new $box (call $make (local.get $v)))))\n"
    "  (func (export \"sum_field\") (result i32) (call $open (struct.get $box $x (global.get $bx))))\n"
    "  (func (export \"keep_nested\") (param $v i32) (local $inner exnref)\n"
    "    (local.set $inner (call $make (local.get $v)))\n"
    "    (block $h (result exnref exnref)\n"
    "      (try_table (catch_ref $w $h) (throw $w (local.get $inner))) (unreachable))\n"
    "    (global.set $g) (drop))\n"
    "  (func (export \"sum_nested\") (result i32)\n"
    "    (block $h (result exnref)\n"
    "      (try_table (catch $w $h) (throw_ref (global.get $g))) (unreachable))\n"
    "    (call $open))\n"
    "  (func $parked (result i32) (local $x exnref)\n"
    "    (local.set $x (call $make (i32.const 5)))\n"
    "    (suspend $yield)\n"
    "    (call $open (local.get $x)))\n"
    "  (elem declare func $parked)\n"
    "  (func (export \"park\")\n"
    "    (block $h (result (ref $c))\n"
    "      (drop (resume $c (on $yield $h) (cont.new $c (ref.func $parked)))) (unreachable))\n"
    "    (global.set $k))\n"
    "  (func (export \"unpark\") (result i32) (resume $c (global.get $k)))\n"
    "  (func (export \"escape\") (param $v i32) (throw $e (local.get $v) (call $list (i32.const 3))))\n"
    "  (func (export \"open\") (param exnref) (result i32) (call $open (local.get 0)))\n"
    "  (func (export \"make_exn\") (result exnref) (call $make (i32.const 9)))\n"
    "  (func (export \"node\") (result (ref null $node)) (call $list (i32.const 3)))\n"
    "  (func (export \"box\") (result (ref null $box)) (struct.new_default $box))\n"
    "  (func (export \"first\") (param (ref null $node)) (result i32)\n"
    "    (struct.get $node $v (local.get 0)))\n"
    "  (tag $p (param i32))\n"
    "  (func $seven (result i32) (i32.const 7))\n"
    "  (elem declare func $seven)\n"
    "  (func (export \"drop_rt\") (param $n i32) (local $i i32)\n"
    "    (loop $l1\n"
    "      (block $h (result i32 (ref null $node) exnref)\n"
    "        (try_table (catch_ref $e $h)\n"
    "          (drop (resume_throw $c $e (local.get $i) (ref.null $node)\n"
    "                  (cont.new $c (ref.func $seven)))))\n"
    "        (unreachable))\n"
    "      (drop) (drop) (drop)\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l1 (i32.lt_u (local.get $i) (local.get $n)))))\n"
    "  (func (export \"drop_bare\") (param $n i32) (local $i i32)\n"
    "    (loop $l1\n"
    "      (block $h (result i32 exnref)\n"
    "        (try_table (catch_ref $p $h) (throw $p (local.get $i))) (unreachable))\n"
    "      (drop) (drop)\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l1 (i32.lt_u (local.get $i) (local.get $n)))))\n"
    "  (func (export \"check_many\") (param $n i32) (result i32) (local $i i32) (local $bad i32)\n"
    "    (local $x exnref)\n"
    "    (loop $l1\n"
    "      (local.set $x (call $make (local.get $i)))\n"
    "      (drop (call $list (i32.const 4000)))\n"
    "      (if (i32.ne (call $open (local.get $x)) (i32.add (local.get $i) (i32.const 55)))\n"
    "        (then (local.set $bad (i32.add (local.get $bad) (i32.const 1)))))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l1 (i32.lt_u (local.get $i) (local.get $n))))\n"
    "    (local.get $bad)))\n";

typedef tw_fixture fixture;

static int setup(void **state) {
  *state = tw_fixture_new(NULL, wat, sizeof wat - 1, false, "exn.wat");
  return *state != NULL ? 0 : -1;
}

static int teardown(void **state) {
  tw_fixture_free(*state);
  return 0;
}

/* Calls export `name` with 0 or 1 i32 argument and 0 or 1 i32 result; returns the trap, if any. */
static weft_trap_t *call_t(fixture *f, const char *name, const int32_t *arg, int32_t *res) {
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(f->inst, name, &ex), WEFT_OK);
  weft_val_t a = {.kind = WEFT_VAL_I32, .of.i32 = arg ? *arg : 0}, r;
  memset(&r, 0, sizeof r);
  weft_trap_t *t = NULL;
  assert_int_equal(weft_func_call(f->store, ex.of.func, &a, arg ? 1 : 0, &r, res ? 1 : 0, &t),
                   WEFT_OK);
  if (res != NULL && t == NULL) *res = r.of.i32;
  return t;
}

static int32_t call(fixture *f, const char *name, int32_t arg, bool has_arg, bool has_res) {
  int32_t res = 0;
  weft_trap_t *t = call_t(f, name, has_arg ? &arg : NULL, has_res ? &res : NULL);
  if (t != NULL) fail_msg("%s trapped: %s", name, weft_trap_message(t));
  return res;
}

static size_t exn_count(fixture *f) {
  size_t n = 0;
  for (core_exn *e = f->store->ctx->exn_objects; e != NULL; e = e->next) n++;
  return n;
}

/* -- Tests ------------------------------------------------------------------------------------ */

/* 2,000 exnrefs caught with catch_ref and dropped stay listed until a collection frees them. */
static void test_dropped_freed(void **state) {
  fixture *f = *state;
  call(f, "drop_many", 2000, true, false);
  assert_true(exn_count(f) >= 2000);
  assert_int_equal(weft_store_gc(f->store), WEFT_OK);
  assert_int_equal(exn_count(f), 0);
}

/* Held in a global, a table, a struct field, another exception's payload, a suspended frame:
 * each survives collections amid 3,000 dropped ones, with its payload's list intact. */
static void test_held_survive(void **state) {
  fixture *f = *state;
  call(f, "keep_global", 1000, true, false);
  call(f, "keep_table", 2000, true, false);
  call(f, "keep_field", 3000, true, false);
  call(f, "park", 0, false, false);
  for (int round = 0; round < 3; round++) {
    call(f, "drop_many", 1000, true, false);
    assert_int_equal(weft_store_gc(f->store), WEFT_OK);
  }
  assert_int_equal(exn_count(f), 4); /* global, table, field, parked */
  assert_int_equal(call(f, "sum_global", 0, false, true), 1055);
  assert_int_equal(call(f, "sum_table", 0, false, true), 2055);
  assert_int_equal(call(f, "sum_field", 0, false, true), 3055);
  assert_int_equal(call(f, "unpark", 0, false, true), 60);
  /* nested: the inner exception lives only in the outer one's payload */
  call(f, "keep_nested", 4000, true, false);
  call(f, "drop_many", 500, true, false);
  assert_int_equal(weft_store_gc(f->store), WEFT_OK);
  assert_int_equal(call(f, "sum_nested", 0, false, true), 4055);
}

/* Exception objects are not in the heap, so dropping them adds no heap pressure: 50,000 exnrefs
 * caught and dropped in a loop that allocates nothing else used to stay listed until the store
 * died (49 MB for 1,000,000). A throw now collects once their count passes a threshold. */
static void test_throw_collects(void **state) {
  fixture *f = *state;
  weft_store_gc_stats_t before, after;
  assert_int_equal(weft_store_gc_stats(f->store, &before), WEFT_OK);
  call(f, "drop_bare", 50000, true, false);
  assert_int_equal(weft_store_gc_stats(f->store, &after), WEFT_OK);
  assert_true(after.collections > before.collections);
  assert_true(exn_count(f) <= 20000);
  assert_int_equal(f->store->exn.live, exn_count(f));
  /* resume_throw into fresh continuations makes its exception objects the same way */
  call(f, "drop_rt", 50000, true, false);
  assert_true(exn_count(f) <= 20000);
  assert_int_equal(f->store->exn.live, exn_count(f));
}

/* The payload of the exception being thrown lives only in the throw's operands when a throw
 * collects: 200 times, the threshold is set so that the next throw -- of a fresh 10-node list --
 * collects; the exception is caught, 4,000 more nodes are allocated (they would reuse freed ones),
 * then the caught list is summed: every sum is intact. */
static void test_throw_collect_keeps_payload(void **state) {
  fixture *f = *state;
  weft_store_gc_stats_t before, after;
  assert_int_equal(weft_store_gc_stats(f->store, &before), WEFT_OK);
  for (int round = 0; round < 200; round++) {
    f->store->exn.collect_at = f->store->exn.live;
    assert_int_equal(call(f, "check_many", 1, true, true), 0);
  }
  assert_int_equal(weft_store_gc_stats(f->store, &after), WEFT_OK);
  assert_true(after.collections >= before.collections + 200);
}

/* An exception that reached the host as a trap is pinned: its exnref stays valid after the trap
 * is freed and collections ran (the host may have kept it). */
static void test_host_pinned(void **state) {
  fixture *f = *state;
  int32_t v = 77;
  weft_trap_t *t = call_t(f, "escape", &v, NULL);
  assert_non_null(t);
  void *exnref = weft_trap_exnref(t);
  assert_non_null(exnref);
  weft_trap_free(t);
  call(f, "drop_many", 500, true, false);
  assert_int_equal(weft_store_gc(f->store), WEFT_OK);
  size_t n = 0;
  for (core_exn *e = f->store->ctx->exn_objects; e != NULL; e = e->next) n += e == exnref;
  assert_int_equal(n, 1);
  assert_int_equal(((core_exn *)exnref)->vals[0].i32, 77);
}

/* Calls export `name` with one reference argument and one i32 result. */
static int call_ref(fixture *f, const char *name, const weft_val_t *arg, int32_t *out) {
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(f->inst, name, &ex), WEFT_OK);
  weft_val_t r;
  memset(&r, 0, sizeof r);
  weft_trap_t *t = NULL;
  int rc = weft_func_call(f->store, ex.of.func, arg, 1, &r, 1, &t);
  if (t != NULL) fail_msg("%s trapped: %s", name, weft_trap_message(t));
  *out = r.of.i32;
  return rc;
}

static weft_val_t result_of(fixture *f, const char *name) {
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(f->inst, name, &ex), WEFT_OK);
  weft_val_t r;
  memset(&r, 0, sizeof r);
  weft_trap_t *t = NULL;
  assert_int_equal(weft_func_call(f->store, ex.of.func, NULL, 0, &r, 1, &t), WEFT_OK);
  assert_null(t);
  return r;
}

/* References the embedder made up are refused as misuse before Wasm dereferences them: an exnref
 * that is no exception object of the store, an anyref that is no object of its heap, an object of
 * another type than the parameter's, an i31 where a struct type is expected. Regression: each
 * used to reach generated code (throw_ref, struct.get) and crash. */
static void test_forged_refs_refused(void **state) {
  fixture *f = *state;
  static uint64_t fake[16];
  int32_t out = 0;
  weft_val_t e = {.kind = WEFT_VAL_EXNREF, .of.ref = fake};
  assert_int_equal(call_ref(f, "open", &e, &out), WEFT_ERR_MISUSE);
  weft_val_t real = result_of(f, "make_exn");
  assert_int_equal(call_ref(f, "open", &real, &out), WEFT_OK);
  assert_int_equal(out, 9 + 55);
  weft_val_t a = {.kind = WEFT_VAL_ANYREF, .of.ref = fake};
  assert_int_equal(call_ref(f, "first", &a, &out), WEFT_ERR_MISUSE);
  weft_val_t box = result_of(f, "box");
  assert_int_equal(call_ref(f, "first", &box, &out), WEFT_ERR_MISUSE);
  weft_val_t i31 = {.kind = WEFT_VAL_ANYREF, .of.ref = (void *)(uintptr_t)((7u << 1) | 1u)};
  assert_int_equal(call_ref(f, "first", &i31, &out), WEFT_ERR_MISUSE);
  weft_val_t node = result_of(f, "node");
  assert_int_equal(call_ref(f, "first", &node, &out), WEFT_OK);
  assert_int_equal(out, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_dropped_freed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_held_survive, setup, teardown),
      cmocka_unit_test_setup_teardown(test_host_pinned, setup, teardown),
      cmocka_unit_test_setup_teardown(test_throw_collects, setup, teardown),
      cmocka_unit_test_setup_teardown(test_throw_collect_keeps_payload, setup, teardown),
      cmocka_unit_test_setup_teardown(test_forged_refs_refused, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
