/* tests/unit/hostref/test_hostref.c -- the embedding API's host values in the any hierarchy:
 * weft_val_any_from_extern boxes a host pointer as any.convert_extern does, weft_val_any_to_extern
 * reads it back, and both agree with generated code (any.convert_extern / extern.convert_any of a
 * hand-assembled module); misuse, the no-gc-plugin case, and a box held on the C stack surviving
 * collections under gc.stress. Depends on: weft-core-obj, tests/common/wat_api,
 * the built plugins, cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wat_api.h"
#include "weft/weft.h"

/* -- Fixture ----------------------------------------------------------------------------------- */

/* (type 0 (func (param externref) (result anyref)))  (type 1 (func (param anyref) (result externref)))
 * (type 2 (struct))  (type 3 (func (result anyref)))
 * "in"  = any.convert_extern (local 0)   "out" = extern.convert_any (local 0)
 * "st"  = struct.new 2                   "i31" = ref.i31 (i32.const 5) */
static const uint8_t module_bytes[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x11, 0x04, 0x60, 0x01, 0x6f, 0x01, 0x6e, 0x60, 0x01, 0x6e, 0x01, 0x6f, 0x5f, 0x00,
    0x60, 0x00, 0x01, 0x6e,
    0x03, 0x05, 0x04, 0x00, 0x01, 0x03, 0x03,
    0x07, 0x17, 0x04, 0x02, 'i', 'n', 0x00, 0x00, 0x03, 'o', 'u', 't', 0x00, 0x01,
    0x02, 's', 't', 0x00, 0x02, 0x03, 'i', '3', '1', 0x00, 0x03,
    0x0a, 0x1c, 0x04, 0x06, 0x00, 0x20, 0x00, 0xfb, 0x1a, 0x0b, 0x06, 0x00, 0x20, 0x00, 0xfb, 0x1b,
    0x0b, 0x05, 0x00, 0xfb, 0x00, 0x02, 0x0b, 0x06, 0x00, 0x41, 0x05, 0xfb, 0x1c, 0x0b,
};

typedef tw_fixture fixture;

static int setup_with(void **state, const char *extra) {
  *state = tw_fixture_new(extra, module_bytes, sizeof module_bytes, true, "hostref.wasm");
  return *state != NULL ? 0 : -1;
}

static int setup(void **state) { return setup_with(state, NULL); }
static int setup_stress(void **state) { return setup_with(state, "gc.stress=yes"); }

static int teardown(void **state) {
  tw_fixture_free(*state);
  return 0;
}

/* Calls export `name` with one argument (arg NULL: none) and returns its one result. */
static weft_val_t call1(fixture *f, const char *name, const weft_val_t *arg) {
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(f->inst, name, &ex), WEFT_OK);
  weft_val_t res;
  memset(&res, 0, sizeof res);
  weft_trap_t *t = NULL;
  assert_int_equal(weft_func_call(f->store, ex.of.func, arg, arg != NULL ? 1 : 0, &res, 1, &t),
                   WEFT_OK);
  if (t != NULL) fail_msg("%s trapped: %s", name, weft_trap_message(t));
  return res;
}

static void *host(uintptr_t n) { return (void *)(0x7000000ull + n * 8); }

/* -- Tests ------------------------------------------------------------------------------------- */

/* A host pointer made an anyref by the API is a box (not the pointer), reads back as that pointer,
 * and extern.convert_any in Wasm unboxes it to the same externref. */
static void test_roundtrip_api_and_wasm(void **state) {
  fixture *f = *state;
  weft_val_t a;
  assert_int_equal(weft_val_any_from_extern(f->store, host(1), &a), WEFT_OK);
  assert_int_equal(a.kind, WEFT_VAL_ANYREF);
  assert_non_null(a.of.ref);
  assert_ptr_not_equal(a.of.ref, host(1));
  void *ext = NULL;
  bool is_host = false;
  assert_int_equal(weft_val_any_to_extern(f->store, &a, &ext, &is_host), WEFT_OK);
  assert_true(is_host);
  assert_ptr_equal(ext, host(1));

  weft_val_t e = call1(f, "out", &a);
  assert_int_equal(e.kind, WEFT_VAL_EXTERNREF);
  assert_ptr_equal(e.of.ref, host(1));

  /* any.convert_extern in Wasm makes a box the API reads the same way */
  weft_val_t x = {.kind = WEFT_VAL_EXTERNREF, .of.ref = host(2)};
  weft_val_t b = call1(f, "in", &x);
  assert_int_equal(b.kind, WEFT_VAL_ANYREF);
  assert_int_equal(weft_val_any_to_extern(f->store, &b, &ext, &is_host), WEFT_OK);
  assert_true(is_host);
  assert_ptr_equal(ext, host(2));
}

/* GC values are not host values; converting one that went out to extern brings it back as itself,
 * and so does an i31 (boxed on the way out). */
static void test_gc_values_are_not_host(void **state) {
  fixture *f = *state;
  void *ext = host(9);
  bool is_host = true;
  weft_val_t s = call1(f, "st", NULL);
  assert_non_null(s.of.ref);
  assert_int_equal(weft_val_any_to_extern(f->store, &s, &ext, &is_host), WEFT_OK);
  assert_false(is_host);
  assert_null(ext);
  weft_val_t se = call1(f, "out", &s);
  weft_val_t back;
  assert_int_equal(weft_val_any_from_extern(f->store, se.of.ref, &back), WEFT_OK);
  assert_ptr_equal(back.of.ref, s.of.ref);

  weft_val_t i = call1(f, "i31", NULL);
  is_host = true;
  assert_int_equal(weft_val_any_to_extern(f->store, &i, &ext, &is_host), WEFT_OK);
  assert_false(is_host);
  weft_val_t ie = call1(f, "out", &i);
  assert_int_equal(weft_val_any_from_extern(f->store, ie.of.ref, &back), WEFT_OK);
  assert_ptr_equal(back.of.ref, i.of.ref);
}

/* Null converts to null; NULL arguments and wrong kinds are misuse. */
static void test_null_and_misuse(void **state) {
  fixture *f = *state;
  weft_val_t v;
  memset(&v, 0xAA, sizeof v);
  assert_int_equal(weft_val_any_from_extern(f->store, NULL, &v), WEFT_OK);
  assert_int_equal(v.kind, WEFT_VAL_ANYREF);
  assert_null(v.of.ref);
  void *ext = host(3);
  bool is_host = true;
  assert_int_equal(weft_val_any_to_extern(f->store, &v, &ext, &is_host), WEFT_OK);
  assert_false(is_host);
  assert_null(ext);
  assert_int_equal(weft_val_any_from_extern(NULL, host(1), &v), WEFT_ERR_MISUSE);
  assert_int_equal(weft_val_any_from_extern(f->store, host(1), NULL), WEFT_ERR_MISUSE);
  weft_val_t e = {.kind = WEFT_VAL_EXTERNREF, .of.ref = host(1)};
  assert_int_equal(weft_val_any_to_extern(f->store, &e, &ext, &is_host), WEFT_ERR_MISUSE);
  assert_int_equal(weft_val_any_to_extern(f->store, NULL, &ext, &is_host), WEFT_ERR_MISUSE);
  assert_int_equal(weft_val_any_to_extern(NULL, &v, &ext, &is_host), WEFT_ERR_MISUSE);
  assert_int_equal(weft_val_any_to_extern(f->store, &v, NULL, &is_host), WEFT_ERR_MISUSE);
  assert_int_equal(weft_val_any_to_extern(f->store, &v, &ext, NULL), WEFT_ERR_MISUSE);
  /* an address that is no object of the heap is not a host box */
  weft_val_t bogus = {.kind = WEFT_VAL_ANYREF, .of.ref = host(4)};
  assert_int_equal(weft_val_any_to_extern(f->store, &bogus, &ext, &is_host), WEFT_OK);
  assert_false(is_host);
}

/* Under gc.stress every allocation collects: boxes held in values on the C stack (the documented
 * lifetime rule) survive the allocations and calls that follow. */
static void test_boxes_on_c_stack_survive_collections(void **state) {
  fixture *f = *state;
  weft_val_t held[16];
  for (uintptr_t i = 0; i < 16; i++)
    assert_int_equal(weft_val_any_from_extern(f->store, host(100 + i), &held[i]), WEFT_OK);
  for (int k = 0; k < 4; k++) (void)call1(f, "st", NULL);
  for (uintptr_t i = 0; i < 16; i++) {
    void *ext = NULL;
    bool is_host = false;
    assert_int_equal(weft_val_any_to_extern(f->store, &held[i], &ext, &is_host), WEFT_OK);
    assert_true(is_host);
    assert_ptr_equal(ext, host(100 + i));
    weft_val_t e = call1(f, "out", &held[i]);
    assert_ptr_equal(e.of.ref, host(100 + i));
  }
}

/* Without the gc plugin no host value can enter any; null still converts. */
static void test_without_gc_plugin(void **state) {
  (void)state;
  const char *extra[] = {"core.plugins=validator,x64-codegen", NULL};
  weft_engine *e = tw_engine(NULL, "test_hostref", extra);
  assert_non_null(e);
  weft_store_t *s = weft_store_new(e);
  assert_non_null(s);
  weft_val_t v;
  assert_int_equal(weft_val_any_from_extern(s, host(1), &v), WEFT_ERR_UNSUPPORTED);
  assert_int_equal(weft_val_any_from_extern(s, NULL, &v), WEFT_OK);
  assert_null(v.of.ref);
  void *ext;
  bool is_host;
  assert_int_equal(weft_val_any_to_extern(s, &v, &ext, &is_host), WEFT_OK);
  assert_false(is_host);
  weft_val_t bogus = {.kind = WEFT_VAL_ANYREF, .of.ref = host(4)};
  assert_int_equal(weft_val_any_to_extern(s, &bogus, &ext, &is_host), WEFT_ERR_UNSUPPORTED);
  weft_store_free(s);
  weft_engine_free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_roundtrip_api_and_wasm, setup, teardown),
      cmocka_unit_test_setup_teardown(test_gc_values_are_not_host, setup, teardown),
      cmocka_unit_test_setup_teardown(test_null_and_misuse, setup, teardown),
      cmocka_unit_test_setup_teardown(test_boxes_on_c_stack_survive_collections, setup_stress,
                                      teardown),
      cmocka_unit_test(test_without_gc_plugin),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
