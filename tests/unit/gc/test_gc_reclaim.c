/* tests/unit/gc/test_gc_reclaim.c -- unreachable suspended continuations are reclaimed, seen from
 * the host (part gcroots): real validator, x64-codegen, contstacks, backtrace and gc plugins of the
 * build tree's conf/default.ini, a WAT module, weft_store_gc / weft_store_gc_stats, and the
 * contstacks plugin's counters (live continuations, free stacks in the pool) read through its
 * vtable (core/engine.h: no public call exposes them). Depends on: weft-core-obj, weft-text-obj.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "weft/plugin/contstacks.h"
#include "wat_api.h"
#include "weft/weft.h"

/* -- Fixture ----------------------------------------------------------------------------------- */

/* suspended(): a continuation run to its suspend, holding a list of 10 (sum 55) in a local;
 * drop_many(n): n of them dropped; keep(n): n kept in the table; resume_kept(n): the sum of the
 * first n kept ones, resumed; drop_fresh(n): n fresh continuations made and dropped. */
static const char wat[] =
    "(module\n"
    "  (type $node (struct (field $v i32) (field $next (ref null $node))))\n"
    "  (type $f (func (result i32)))\n"
    "  (type $c (cont $f))\n"
    "  (tag $yield)\n"
    "  (table $keep 64 (ref null $c))\n"
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
    "  (func $body (result i32) (local $mine (ref null $node))\n"
    "    (local.set $mine (call $list (i32.const 10)))\n"
    "    (suspend $yield)\n"
    "    (call $sum (local.get $mine)))\n"
    "  (func (export \"one\") (result (ref null $c)) (call $suspended))\n"
    "  (func (export \"resume_it\") (param (ref null $c)) (result i32) (resume $c (local.get 0)))\n"
    "  (func $seven (result i32) (i32.const 7))\n"
    "  (func $bare (result i32) (suspend $yield) (i32.const 1))\n"
    "  (elem declare func $body $seven $bare)\n"
    "  (func (export \"drop_bare\") (param $n i32) (local $i i32)\n"
    "    (loop $l1\n"
    "      (block $h (result (ref $c))\n"
    "        (drop (resume $c (on $yield $h) (cont.new $c (ref.func $bare)))) (unreachable))\n"
    "      (drop)\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l1 (i32.lt_u (local.get $i) (local.get $n)))))\n"
    "  (func (export \"drop_fresh\") (param $n i32) (local $i i32)\n"
    "    (loop $l1 (drop (cont.new $c (ref.func $seven)))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l1 (i32.lt_u (local.get $i) (local.get $n)))))\n"
    "  (func $suspended (result (ref $c))\n"
    "    (block $h (result (ref $c))\n"
    "      (drop (resume $c (on $yield $h) (cont.new $c (ref.func $body)))) (unreachable)))\n"
    "  (func (export \"drop_many\") (param $n i32) (local $i i32)\n"
    "    (loop $l1 (drop (call $suspended))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l1 (i32.lt_u (local.get $i) (local.get $n)))))\n"
    "  (func (export \"keep\") (param $n i32) (local $i i32)\n"
    "    (loop $l1 (table.set $keep (local.get $i) (call $suspended))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l1 (i32.lt_u (local.get $i) (local.get $n)))))\n"
    "  (func (export \"resume_kept\") (param $n i32) (result i32) (local $i i32) (local $s i32)\n"
    "    (loop $l1 (local.set $s (i32.add (local.get $s)\n"
    "                 (resume $c (table.get $keep (local.get $i)))))\n"
    "      (local.set $i (i32.add (local.get $i) (i32.const 1)))\n"
    "      (br_if $l1 (i32.lt_u (local.get $i) (local.get $n))))\n"
    "    (local.get $s)))\n";

typedef tw_fixture fixture;

static int setup(void **state) {
  *state = tw_fixture_new(NULL, wat, sizeof wat - 1, false, "reclaim.wat");
  return *state != NULL ? 0 : -1;
}

static int teardown(void **state) {
  tw_fixture_free(*state);
  return 0;
}

static int32_t call(fixture *f, const char *name, int32_t arg, size_t nres) {
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(f->inst, name, &ex), WEFT_OK);
  weft_val_t a = {.kind = WEFT_VAL_I32, .of.i32 = arg}, res;
  memset(&res, 0, sizeof res);
  weft_trap_t *t = NULL;
  assert_int_equal(weft_func_call(f->store, ex.of.func, &a, 1, &res, nres, &t), WEFT_OK);
  if (t != NULL) fail_msg("%s trapped: %s", name, weft_trap_message(t));
  return nres ? res.of.i32 : 0;
}

static weft_contstacks_stats cs_stats(fixture *f) {
  const weft_contstacks_iface *cs = core_engine_iface(f->engine, WEFT_PLUGIN_CONTSTACKS);
  assert_non_null(cs);
  weft_contstacks_stats s;
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  cs->stats(core_engine_state(f->engine, WEFT_PLUGIN_CONTSTACKS), &s);
  return s;
}

/* -- Tests ------------------------------------------------------------------------------------ */

/* 3,000 dropped suspended continuations stay live until a collection, which gives every stack
 * back to the pool; 40 kept in a table survive it and resume with their frames' lists intact. */
static void test_collection_reclaims_dropped(void **state) {
  fixture *f = *state;
  call(f, "keep", 40, 0);
  call(f, "drop_many", 3000, 0);
  weft_contstacks_stats before = cs_stats(f);
  assert_true(before.live >= 3040); /* 4 MB min_heap: no collection ran yet */
  weft_store_gc_stats_t g0;
  assert_int_equal(weft_store_gc_stats(f->store, &g0), WEFT_OK);

  assert_int_equal(weft_store_gc(f->store), WEFT_OK);
  weft_contstacks_stats after = cs_stats(f);
  weft_store_gc_stats_t g1;
  assert_int_equal(weft_store_gc_stats(f->store, &g1), WEFT_OK);
  assert_int_equal(g1.collections, g0.collections + 1);
  assert_int_equal(after.live, 40);                       /* only the kept ones */
  assert_int_equal(after.stacks_mapped, before.stacks_mapped); /* nothing new carved */
  assert_true(after.stacks_warm + after.stacks_cold >=
              before.stacks_warm + before.stacks_cold + 3000); /* the stacks went back */
  assert_true(g1.freed_objects >= g0.freed_objects + 30000); /* their frames' lists died */

  /* the kept ones: 40 x 55 */
  assert_int_equal(call(f, "resume_kept", 40, 1), 40 * 55);
}

/* Continuation stacks are no heap pressure: 25,000 suspended continuations whose bodies allocate
 * nothing, dropped, used to stay live until max_continuations or the stack pool ran out (with
 * guard_pages = no, 200,000 of them took 853 MB). cont.new now collects when the live count
 * has doubled since the last collection (at least 10,000). */
static void test_cont_new_collects(void **state) {
  fixture *f = *state;
  weft_store_gc_stats_t g0, g1;
  assert_int_equal(weft_store_gc_stats(f->store, &g0), WEFT_OK);
  call(f, "drop_bare", 25000, 0);
  assert_int_equal(weft_store_gc_stats(f->store, &g1), WEFT_OK);
  assert_true(g1.collections > g0.collections);
  assert_true(cs_stats(f).live <= 15000);
}

/* Dropping more than ever fits at once: the pool reuses the reclaimed stacks. */
static void test_pool_reused_after_reclaim(void **state) {
  fixture *f = *state;
  for (int round = 0; round < 5; round++) {
    call(f, "drop_many", 2000, 0);
    assert_int_equal(weft_store_gc(f->store), WEFT_OK);
    assert_int_equal(cs_stats(f).live, 0);
  }
  weft_contstacks_stats s = cs_stats(f);
  assert_true(s.stacks_mapped <= 2100); /* one round's worth, reused four times */
}

/* Fresh continuations (cont.new, never resumed) that nothing holds are released too. */
static void test_fresh_reclaimed(void **state) {
  fixture *f = *state;
  call(f, "drop_fresh", 2500, 0);
  assert_true(cs_stats(f).live >= 2500);
  assert_int_equal(weft_store_gc(f->store), WEFT_OK);
  assert_int_equal(cs_stats(f).live, 0);
}

/* A continuation the host holds: in a rooted handle it survives collections and resumes; held
 * only in the host's own memory it is released (resuming it then traps). */
static weft_val_t one(fixture *f) {
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(f->inst, "one", &ex), WEFT_OK);
  weft_val_t res;
  memset(&res, 0, sizeof res);
  weft_trap_t *t = NULL;
  assert_int_equal(weft_func_call(f->store, ex.of.func, NULL, 0, &res, 1, &t), WEFT_OK);
  assert_null(t);
  assert_int_equal(res.kind, WEFT_VAL_CONTREF);
  assert_non_null(res.of.cont.contref);
  return res;
}

static weft_trap_t *resume_it(fixture *f, const weft_val_t *k, int32_t *out) {
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(f->inst, "resume_it", &ex), WEFT_OK);
  weft_val_t res;
  memset(&res, 0, sizeof res);
  weft_trap_t *t = NULL;
  assert_int_equal(weft_func_call(f->store, ex.of.func, k, 1, &res, 1, &t), WEFT_OK);
  *out = res.of.i32;
  return t;
}

/* The host's own memory, not its stack: a collection from the host (entry depth 0) still reads
 * the C stack conservatively, for the constant-expression evaluator and the lifetime rule of
 * weft/runtime.h, so a reference left there would be found. */
__attribute__((noinline)) static void stash_one(fixture *f, weft_val_t *cell) { *cell = one(f); }
__attribute__((noinline)) static void scrub_stack(void) {
  volatile char buf[32768];
  memset((char *)buf, 0, sizeof buf);
}

static void test_host_roots_keep_continuations(void **state) {
  fixture *f = *state;
  weft_val_t *cells = calloc(2, sizeof *cells);
  assert_non_null(cells);
  stash_one(f, &cells[0]);
  stash_one(f, &cells[1]);
  weft_root_t *root = weft_root_new(f->store, &cells[0]);
  assert_non_null(root);
  call(f, "drop_many", 500, 0);
  scrub_stack(); /* cells[1] is held only in the heap cell */
  assert_int_equal(weft_store_gc(f->store), WEFT_OK);
  assert_int_equal(cs_stats(f).live, 1); /* the rooted one */
  weft_val_t back;
  assert_int_equal(weft_root_get(root, &back), WEFT_OK);
  int32_t v = 0;
  assert_null(resume_it(f, &back, &v));
  assert_int_equal(v, 55);
  weft_trap_t *t = resume_it(f, &cells[1], &v);
  assert_non_null(t);
  assert_non_null(strstr(weft_trap_message(t), "continuation already consumed"));
  weft_trap_free(t);
  weft_root_free(root);
  free(cells);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_cont_new_collects, setup, teardown),
      cmocka_unit_test_setup_teardown(test_collection_reclaims_dropped, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pool_reused_after_reclaim, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fresh_reclaimed, setup, teardown),
      cmocka_unit_test_setup_teardown(test_host_roots_keep_continuations, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
