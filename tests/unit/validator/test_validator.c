/* tests/unit/validator/test_validator.c -- the validator plugin against a fake host and hand-built IR.
 *
 * Never uses the real plugin loader: links weft-validator-obj and calls weft_plugin_entry_validator.
 * This file: numeric and stack typing, locals and globals, control, memory, module-level rules, the
 * plugin ABI and failure paths; test_validator_ref.c: references, GC, stack switching, robustness.
 * Depends on: vtest.h (fake host and IR builder in vtest_support.c).
 */
#include "vtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

/* -- Tests: numeric and stack ---------------------------------------------------------------- */

static void test_add_valid(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, vt_i32x2, 2, vt_i32x2, 1);
  weft_instr body[] = {OPA(LOCAL_GET, 0), OPA(LOCAL_GET, 1), OP(I32_ADD)};
  vt_add_func(b, t, NULL, 0, body, 3);
  vt_expect_valid(b);
}

static void test_add_mismatch(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, vt_i32x2, 1);
  weft_instr body[] = {CONST32(1), CONST64(2), OP(I32_ADD)};
  vt_add_func(b, t, NULL, 0, body, 3);
  vt_expect_invalid(b, "type mismatch");
}


static void test_throw_message(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t tt = vt_add_functype(b, vt_i32x2, 1, NULL, 0);
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  b->tags[0] = (weft_tag){.type = tt, .import = WEFT_NONE};
  b->m.ntags = 1;
  weft_instr body[] = {CONST64(5), OPA(THROW, 0)};
  vt_add_func(b, t, NULL, 0, body, 2);
  vt_expect_invalid(b, "type mismatch: instruction requires [i32] but stack has [i64]");
}

static void test_diag_offset(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {CONST32(1), OP(DROP), OP(DROP)};
  body[2].off = 4242;
  vt_add_func(b, t, NULL, 0, body, 3);
  weft_diag d;
  assert_int_equal(vt_validate(b, &d), WEFT_ERR_INVALID);
  assert_int_equal(d.offset, 4242);
  assert_true(strncmp(d.message, "type mismatch", 13) == 0);
  free(b);
}

static void test_unreachable_polymorphic(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, vt_i32x2, 1);
  /* unreachable; i32.add; -- the operands come from the polymorphic stack */
  weft_instr body[] = {OP(UNREACHABLE), OP(I32_ADD)};
  vt_add_func(b, t, NULL, 0, body, 2);
  vt_expect_valid(b);
  b = vt_new_mod();
  t = vt_add_functype(b, NULL, 0, vt_i32x2, 1);
  weft_instr body2[] = {OP(UNREACHABLE), CONST64(1), OP(I32_ADD)};
  vt_add_func(b, t, NULL, 0, body2, 3);
  vt_expect_invalid(b, "type mismatch");
}

static void test_leftover_value(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {CONST32(1)};
  vt_add_func(b, t, NULL, 0, body, 1);
  vt_expect_invalid(b, "type mismatch");
}

/* -- Tests: locals and globals --------------------------------------------------------------- */

static void test_unknown_local(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, vt_i32x2, 2, NULL, 0);
  static const weft_valtype loc[] = {I64};
  weft_instr body[] = {OPA(LOCAL_GET, 3), OP(DROP)};
  vt_add_func(b, t, loc, 1, body, 2);
  vt_expect_invalid(b, "unknown local 3");
}

static void test_uninitialized_local(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t ft = vt_add_functype(b, NULL, 0, NULL, 0);
  static weft_valtype loc[1];
  loc[0] = REFN(ft);
  weft_instr body[] = {OPA(LOCAL_GET, 0), OP(DROP)};
  vt_add_func(b, ft, loc, 1, body, 2);
  vt_expect_invalid(b, "uninitialized local");
}

static void test_local_init_scoped_to_block(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t ft = vt_add_functype(b, NULL, 0, NULL, 0);
  static weft_valtype loc[1];
  loc[0] = REFN(ABS(FUNC));
  /* set inside a block, read after it: invalid (initialisation does not survive `end`) */
  weft_instr body[] = {OPA(BLOCK, WEFT_BT_EMPTY), OPA(REF_FUNC, 0), OPA(LOCAL_SET, 0), OP(END),
                       OPA(LOCAL_GET, 0), OP(DROP)};
  vt_add_func(b, ft, loc, 1, body, 6);
  b->exports[0] = (weft_export){.name = {"f", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0};
  b->m.nexports = 1;
  vt_expect_invalid(b, "uninitialized local");
  /* read inside the same block: valid */
  b = vt_new_mod();
  ft = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr body2[] = {OPA(BLOCK, WEFT_BT_EMPTY), OPA(REF_FUNC, 0), OPA(LOCAL_SET, 0),
                        OPA(LOCAL_GET, 0), OP(DROP), OP(END)};
  vt_add_func(b, ft, loc, 1, body2, 6);
  b->exports[0] = (weft_export){.name = {"f", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0};
  b->m.nexports = 1;
  vt_expect_valid(b);
}

static void test_global_immutable(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr gi[] = {CONST32(0)};
  vt_add_global(b, I32, false, gi, 1);
  weft_instr body[] = {CONST32(1), OPA(GLOBAL_SET, 0)};
  vt_add_func(b, t, NULL, 0, body, 2);
  vt_expect_invalid(b, "immutable global 0");
}

static void test_const_expr_required(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  weft_instr gi[] = {CONST32(1), OP(I32_CLZ)};
  vt_add_global(b, I32, false, gi, 2);
  vt_expect_invalid(b, "constant expression required");
  /* extended constants: i32.add is allowed */
  b = vt_new_mod();
  weft_instr gi2[] = {CONST32(1), CONST32(2), OP(I32_ADD)};
  vt_add_global(b, I32, false, gi2, 3);
  vt_expect_valid(b);
}

static void test_const_global_order(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  /* global 0 reads global 1, defined later */
  weft_instr gi0[] = {OPA(GLOBAL_GET, 1)};
  weft_instr gi1[] = {CONST32(1)};
  vt_add_global(b, I32, false, gi0, 1);
  vt_add_global(b, I32, false, gi1, 1);
  vt_expect_invalid(b, "unknown global 1");
  /* an earlier immutable global is fine in Wasm 3.0; a mutable one is not */
  b = vt_new_mod();
  vt_add_global(b, I32, false, gi1, 1);
  weft_instr gi2[] = {OPA(GLOBAL_GET, 0)};
  vt_add_global(b, I32, false, gi2, 1);
  vt_expect_valid(b);
  b = vt_new_mod();
  vt_add_global(b, I32, true, gi1, 1);
  vt_add_global(b, I32, false, gi2, 1);
  vt_expect_invalid(b, "constant expression required");
}

static void test_global_init_type(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  weft_instr gi[] = {CONST64(1)};
  vt_add_global(b, I32, false, gi, 1);
  vt_expect_invalid(b, "type mismatch");
}

/* -- Tests: control -------------------------------------------------------------------------- */

static void test_unknown_label(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {OPA(BLOCK, WEFT_BT_EMPTY), OPA(BR, 2), OP(END)};
  vt_add_func(b, t, NULL, 0, body, 3);
  vt_expect_invalid(b, "unknown label");
}

static void test_block_results(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, vt_i32x2, 1);
  weft_instr body[] = {OPA(BLOCK, I32), CONST32(1), OPA(BR, 0), OP(END)};
  vt_add_func(b, t, NULL, 0, body, 4);
  vt_expect_valid(b);
  b = vt_new_mod();
  t = vt_add_functype(b, NULL, 0, vt_i32x2, 1);
  weft_instr body2[] = {OPA(BLOCK, I32), CONST64(1), OPA(BR, 0), OP(END)};
  vt_add_func(b, t, NULL, 0, body2, 4);
  vt_expect_invalid(b, "type mismatch");
}

static void test_if_without_else(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, vt_i32x2, 1);
  /* if (result i32) without else cannot produce its result on the false branch */
  weft_instr body[] = {CONST32(1), OPA(IF, I32), CONST32(2), OP(END)};
  vt_add_func(b, t, NULL, 0, body, 4);
  vt_expect_invalid(b, "type mismatch");
  /* with a block type [i32] -> [i32] it passes the param through: valid */
  b = vt_new_mod();
  t = vt_add_functype(b, NULL, 0, vt_i32x2, 1);
  uint32_t bt = vt_add_functype(b, vt_i32x2, 1, vt_i32x2, 1);
  weft_instr body2[] = {CONST32(7), CONST32(1), OPA(IF, WEFT_BT_MAKE_TYPEIDX(bt)), OP(I32_EQZ),
                        OP(END)};
  vt_add_func(b, t, NULL, 0, body2, 5);
  vt_expect_valid(b);
}

static void test_br_table_arity(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  b->pool[0] = 0; /* label 0: the i32 block */
  b->pool[1] = 1; /* default: the empty outer block */
  b->m.npool = 2;
  weft_instr body[] = {OPA(BLOCK, WEFT_BT_EMPTY), OPA(BLOCK, I32), CONST32(1), CONST32(0),
                       OPAB(BR_TABLE, 0, 1), OP(END), OP(DROP), OP(END)};
  vt_add_func(b, t, NULL, 0, body, 8);
  vt_expect_invalid(b, "type mismatch");
}

static void test_br_table_pool_bounds(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  b->m.npool = 0;
  weft_instr body[] = {CONST32(0), OPAB(BR_TABLE, 5, 1000000)};
  vt_add_func(b, t, NULL, 0, body, 2);
  weft_diag d;
  assert_int_equal(vt_validate(b, &d), WEFT_ERR_INVALID);
  free(b);
}

static void test_select(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {OPA(REF_NULL, REFNULL(ABS(FUNC))), OPA(REF_NULL, REFNULL(ABS(FUNC))),
                       CONST32(1), OP(SELECT), OP(DROP)};
  vt_add_func(b, t, NULL, 0, body, 5);
  vt_expect_invalid(b, "type mismatch");
  b = vt_new_mod();
  t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr body2[] = {CONST32(1), CONST32(1), CONST32(1), OPAB(SELECT_T, 2, I32), OP(DROP)};
  vt_add_func(b, t, NULL, 0, body2, 5);
  vt_expect_invalid(b, "invalid result arity");
}

static void test_return_call_results(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  static const weft_valtype r64[] = {I64};
  uint32_t t32 = vt_add_functype(b, NULL, 0, vt_i32x2, 1);
  uint32_t t64 = vt_add_functype(b, NULL, 0, r64, 1);
  weft_instr body0[] = {OPA(RETURN_CALL, 1)};
  vt_add_func(b, t32, NULL, 0, body0, 1);
  weft_instr body1[] = {CONST64(1)};
  vt_add_func(b, t64, NULL, 0, body1, 1);
  vt_expect_invalid(b, "type mismatch");
}

static void test_unknown_function(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {OPA(CALL, 7)};
  vt_add_func(b, t, NULL, 0, body, 1);
  vt_expect_invalid(b, "unknown function 7");
}

static void test_nesting_limit(void **s) {
  (void)s;
  vt_cfg_max_nesting = 3;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {OPA(BLOCK, WEFT_BT_EMPTY), OPA(BLOCK, WEFT_BT_EMPTY), OPA(BLOCK, WEFT_BT_EMPTY),
                       OP(END), OP(END), OP(END)};
  vt_add_func(b, t, NULL, 0, body, 6);
  weft_diag d;
  assert_int_equal(vt_validate(b, &d), WEFT_ERR_LIMIT);
  assert_non_null(strstr(d.message, "max_nesting"));
  free(b);
  vt_cfg_max_nesting = -1;
}

static void test_locals_limit(void **s) {
  (void)s;
  vt_cfg_max_locals = 2;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, vt_i32x2, 2, NULL, 0);
  static const weft_valtype loc[] = {I32};
  vt_add_func(b, t, loc, 1, NULL, 0);
  weft_diag d;
  assert_int_equal(vt_validate(b, &d), WEFT_ERR_LIMIT);
  assert_non_null(strstr(d.message, "max_locals"));
  free(b);
  vt_cfg_max_locals = -1;
}

static void test_bad_config_value(void **s) {
  (void)s;
  vt_cfg_max_locals = 0;
  const weft_plugin_desc *desc = weft_plugin_entry_validator(WEFT_ABI_VERSION);
  void *st = NULL;
  weft_diag d;
  memset(&d, 0, sizeof d);
  assert_int_equal(desc->init(&vt_host, vt_fake_cfg, &st, &d), WEFT_ERR_CONFIG);
  assert_non_null(strstr(d.message, "max_locals"));
  assert_null(st);
  vt_cfg_max_locals = -1;
}

/* -- Tests: memory --------------------------------------------------------------------------- */

static void test_alignment(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  vt_add_memory(b, 1, false);
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {CONST32(0), MEMOP(I32_LOAD, 3, 0), OP(DROP)};
  vt_add_func(b, t, NULL, 0, body, 3);
  vt_expect_invalid(b, "alignment must not be larger than natural");
}

static void test_unknown_memory(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {CONST32(0), MEMOP(I32_LOAD, 2, 0), OP(DROP)};
  vt_add_func(b, t, NULL, 0, body, 3);
  vt_expect_invalid(b, "unknown memory 0");
}

static void test_memory64(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  vt_add_memory(b, 1, true);
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {CONST64(0), MEMOP(I32_LOAD, 2, 0x100000000ull), OP(DROP)};
  vt_add_func(b, t, NULL, 0, body, 3);
  vt_expect_valid(b);
  b = vt_new_mod();
  vt_add_memory(b, 1, false);
  t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr body2[] = {CONST32(0), MEMOP(I32_LOAD, 2, 0x100000000ull), OP(DROP)};
  vt_add_func(b, t, NULL, 0, body2, 3);
  vt_expect_invalid(b, "offset out of range");
  b = vt_new_mod();
  vt_add_memory(b, 1, true);
  t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr body3[] = {CONST32(0), MEMOP(I32_LOAD, 2, 0), OP(DROP)};
  vt_add_func(b, t, NULL, 0, body3, 3);
  vt_expect_invalid(b, "type mismatch");
}

static void test_memory_limits(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  vt_add_memory(b, 65537, false);
  vt_expect_invalid(b, "memory size");
  b = vt_new_mod();
  vt_add_memory(b, 2, false);
  b->mems[0].limits.has_max = true;
  b->mems[0].limits.max = 1;
  vt_expect_invalid(b, "size minimum must not be greater than maximum");
}

static void test_data_count(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  vt_add_memory(b, 1, false);
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  b->m.has_data_count = true;
  b->m.data_count = 0;
  weft_instr body[] = {OPA(DATA_DROP, 1)};
  vt_add_func(b, t, NULL, 0, body, 1);
  vt_expect_invalid(b, "unknown data segment 1");
}

static void test_lane_index(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr v = {.op = WEFT_OP_V128_CONST};
  weft_instr ex = {.op = WEFT_OP_I32X4_EXTRACT_LANE, .b = 4};
  weft_instr body[] = {v, ex, OP(DROP)};
  vt_add_func(b, t, NULL, 0, body, 3);
  vt_expect_invalid(b, "invalid lane index");
}

/* -- Tests: module-level rules --------------------------------------------------------------- */

static void test_duplicate_export(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  vt_add_func(b, t, NULL, 0, NULL, 0);
  b->exports[0] = (weft_export){.name = {"a", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0};
  b->exports[1] = (weft_export){.name = {"a", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0};
  b->m.nexports = 2;
  vt_expect_invalid(b, "duplicate export name");
}

static void test_undeclared_ref_func(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {OPA(REF_FUNC, 0), OP(DROP)};
  vt_add_func(b, t, NULL, 0, body, 2);
  vt_expect_invalid(b, "undeclared function reference");
  /* an export declares it */
  b = vt_new_mod();
  t = vt_add_functype(b, NULL, 0, NULL, 0);
  vt_add_func(b, t, NULL, 0, body, 2);
  b->exports[0] = (weft_export){.name = {"f", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0};
  b->m.nexports = 1;
  vt_expect_valid(b);
}

static void test_start_function(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, vt_i32x2, 1);
  weft_instr body[] = {CONST32(0)};
  vt_add_func(b, t, NULL, 0, body, 1);
  b->m.start = 0;
  vt_expect_invalid(b, "start function");
}

static void test_sub_type(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  vt_add_type(b, WEFT_COMP_STRUCT, true, WEFT_NONE); /* final: cannot be extended */
  vt_add_type(b, WEFT_COMP_STRUCT, true, 0);
  vt_expect_invalid(b, "sub type 1 does not match super type 0");
  b = vt_new_mod();
  vt_add_type(b, WEFT_COMP_STRUCT, false, WEFT_NONE);
  vt_add_type(b, WEFT_COMP_ARRAY, true, 0);
  b->types[1].u.array.type = I32;
  vt_expect_invalid(b, "sub type 1 does not match super type 0");
  b = vt_new_mod();
  vt_add_type(b, WEFT_COMP_STRUCT, false, WEFT_NONE);
  vt_add_type(b, WEFT_COMP_STRUCT, true, 0);
  vt_expect_valid(b);
}

static void test_struct_width_depth(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t0 = vt_add_type(b, WEFT_COMP_STRUCT, false, WEFT_NONE);
  b->fields[0][0] = (weft_fieldtype){I32, true};
  b->types[t0].u.strct.nfields = 1;
  b->types[t0].u.strct.fields = b->fields[0];
  uint32_t t1 = vt_add_type(b, WEFT_COMP_STRUCT, false, t0);
  b->fields[1][0] = (weft_fieldtype){I64, true}; /* mutable field changes type: invalid */
  b->types[t1].u.strct.nfields = 1;
  b->types[t1].u.strct.fields = b->fields[1];
  vt_expect_invalid(b, "sub type 1 does not match super type 0");
}

static void test_field_and_array_mutability(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t st = vt_add_type(b, WEFT_COMP_STRUCT, true, WEFT_NONE);
  b->fields[0][0] = (weft_fieldtype){I32, false};
  b->types[st].u.strct.nfields = 1;
  b->types[st].u.strct.fields = b->fields[0];
  static weft_valtype ps[1];
  ps[0] = REFN(st);
  uint32_t t = vt_add_functype(b, ps, 1, NULL, 0);
  weft_instr body[] = {OPA(LOCAL_GET, 0), CONST32(1), OPAB(STRUCT_SET, st, 0)};
  vt_add_func(b, t, NULL, 0, body, 3);
  vt_expect_invalid(b, "field is immutable");

  b = vt_new_mod();
  uint32_t at = vt_add_type(b, WEFT_COMP_ARRAY, true, WEFT_NONE);
  b->types[at].u.array = (weft_fieldtype){WEFT_VT_I8, false};
  ps[0] = REFN(at);
  t = vt_add_functype(b, ps, 1, NULL, 0);
  weft_instr body2[] = {OPA(LOCAL_GET, 0), CONST32(0), CONST32(1), OPA(ARRAY_SET, at)};
  vt_add_func(b, t, NULL, 0, body2, 4);
  vt_expect_invalid(b, "array is immutable");
}

static void test_array_copy_types(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t a8 = vt_add_type(b, WEFT_COMP_ARRAY, true, WEFT_NONE);
  b->types[a8].u.array = (weft_fieldtype){WEFT_VT_I8, true};
  uint32_t a32 = vt_add_type(b, WEFT_COMP_ARRAY, true, WEFT_NONE);
  b->types[a32].u.array = (weft_fieldtype){I32, true};
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {OPA(REF_NULL, REFNULL(a8)), CONST32(0), OPA(REF_NULL, REFNULL(a32)),
                       CONST32(0), CONST32(0), OPAB(ARRAY_COPY, a8, a32)};
  vt_add_func(b, t, NULL, 0, body, 6);
  vt_expect_invalid(b, "array types do not match");
}

static void test_packed_get(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t a8 = vt_add_type(b, WEFT_COMP_ARRAY, true, WEFT_NONE);
  b->types[a8].u.array = (weft_fieldtype){WEFT_VT_I16, true};
  uint32_t t = vt_add_functype(b, NULL, 0, vt_i32x2, 1);
  weft_instr body[] = {OPA(REF_NULL, REFNULL(a8)), CONST32(0), OPA(ARRAY_GET_U, a8)};
  vt_add_func(b, t, NULL, 0, body, 3);
  vt_expect_valid(b);
  b = vt_new_mod();
  a8 = vt_add_type(b, WEFT_COMP_ARRAY, true, WEFT_NONE);
  b->types[a8].u.array = (weft_fieldtype){WEFT_VT_I16, true};
  t = vt_add_functype(b, NULL, 0, vt_i32x2, 1);
  weft_instr body2[] = {OPA(REF_NULL, REFNULL(a8)), CONST32(0), OPA(ARRAY_GET, a8)};
  vt_add_func(b, t, NULL, 0, body2, 3);
  vt_expect_invalid(b, "type mismatch");
}

/* -- Tests: plugin ABI and failure paths ----------------------------------------------------- */

static void test_abi_mismatch(void **s) {
  (void)s;
  assert_null(weft_plugin_entry_validator(WEFT_ABI_MAKE(WEFT_ABI_MAJOR + 1, 0)));
  const weft_plugin_desc *d = weft_plugin_entry_validator(WEFT_ABI_MAKE(WEFT_ABI_MAJOR, 99));
  assert_non_null(d);
  assert_int_equal(d->kind, WEFT_PLUGIN_VALIDATOR);
  assert_string_equal(d->name, "validator");
  assert_int_equal(d->nkeys, 4);
  const weft_validator_iface *vi = d->iface;
  assert_true(WEFT_HAS(vi, weft_validator_iface, validate));
}

static void test_init_oom(void **s) {
  (void)s;
  const weft_plugin_desc *desc = weft_plugin_entry_validator(WEFT_ABI_VERSION);
  void *st = NULL;
  weft_diag d;
  memset(&d, 0, sizeof d);
  vt_script_allocs = true;
  will_return(vt_alloc_gate, 1);
  assert_int_equal(desc->init(&vt_host, vt_fake_cfg, &st, &d), WEFT_ERR_NOMEM);
  vt_script_allocs = false;
  assert_null(st);
}

/* The Nth allocation during validation fails: NOMEM, no leak, no crash, for every N until the
 * validation needs fewer allocations than N (then it succeeds). */
static void test_validate_oom_every_allocation(void **s) {
  (void)s;
  int nomem = 0;
  for (int n = 0; n < 64; n++) {
    mod *b = vt_new_mod();
    uint32_t t = vt_add_functype(b, vt_i32x2, 2, vt_i32x2, 1);
    weft_instr body[] = {OPA(BLOCK, I32), OPA(LOCAL_GET, 0), OPA(LOCAL_GET, 1), OP(I32_ADD),
                         OP(END)};
    vt_add_func(b, t, NULL, 0, body, 5);
    b->exports[0] = (weft_export){.name = {"f", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0};
    b->m.nexports = 1;
    plugin p = vt_load();
    int before = vt_live_allocs;
    vt_fail_nth = n;
    weft_diag d;
    memset(&d, 0, sizeof d);
    int rc = p.vi->validate(p.state, &b->m, &d);
    vt_fail_nth = -1;
    assert_int_equal(vt_live_allocs, before);
    vt_unload(&p);
    free(b);
    if (rc == WEFT_OK) break;
    assert_int_equal(rc, WEFT_ERR_NOMEM);
    assert_non_null(strstr(d.message, "out of memory"));
    nomem++;
  }
  assert_true(nomem >= 3); /* refs bitmap, export set, value stack, ... */
}

/* Scripted: the first allocation of validate() (the C.refs bitmap) fails. */
static void test_validate_first_alloc_fails(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  vt_add_func(b, t, NULL, 0, NULL, 0);
  plugin p = vt_load();
  vt_script_allocs = true;
  will_return(vt_alloc_gate, 1);
  weft_diag d;
  memset(&d, 0, sizeof d);
  assert_int_equal(p.vi->validate(p.state, &b->m, &d), WEFT_ERR_NOMEM);
  vt_script_allocs = false;
  vt_unload(&p);
  free(b);
}

/* -- Tests: threads ----------------------------------------------------------------------------- */

typedef struct job {
  const weft_validator_iface *vi;
  void *state;
  mod *b;
  int rc[200];
} job;

static void *validate_many(void *arg) {
  job *j = arg;
  for (int k = 0; k < 200; k++) {
    weft_diag d;
    memset(&d, 0, sizeof d);
    j->rc[k] = j->vi->validate(j->state, &j->b->m, &d);
  }
  return NULL;
}

/* One plugin state, four threads, distinct modules (two valid, two invalid): every answer is right.
 * pthreads rather than C11 threads so that ThreadSanitizer sees the threads start. */
static void test_concurrent_validation(void **s) {
  (void)s;
  plugin p = vt_load();
  job jobs[4];
  pthread_t th[4];
  for (int t = 0; t < 4; t++) {
    mod *b = vt_new_mod();
    uint32_t ft = vt_add_functype(b, vt_i32x2, 2, vt_i32x2, 1);
    weft_instr good[] = {OPA(LOCAL_GET, 0), OPA(LOCAL_GET, 1), OP(I32_ADD)};
    weft_instr bad[] = {OPA(LOCAL_GET, 0), CONST64(1), OP(I32_ADD)};
    vt_add_func(b, ft, NULL, 0, t % 2 ? bad : good, 3);
    jobs[t] = (job){.vi = p.vi, .state = p.state, .b = b};
    assert_int_equal(pthread_create(&th[t], NULL, validate_many, &jobs[t]), 0);
  }
  for (int t = 0; t < 4; t++) {
    assert_int_equal(pthread_join(th[t], NULL), 0);
    for (int k = 0; k < 200; k++)
      assert_int_equal(jobs[t].rc[k], t % 2 ? WEFT_ERR_INVALID : WEFT_OK);
    free(jobs[t].b);
  }
  vt_unload(&p);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_add_valid),
      cmocka_unit_test(test_add_mismatch),
      cmocka_unit_test(test_throw_message),
      cmocka_unit_test(test_diag_offset),
      cmocka_unit_test(test_unreachable_polymorphic),
      cmocka_unit_test(test_leftover_value),
      cmocka_unit_test(test_unknown_local),
      cmocka_unit_test(test_uninitialized_local),
      cmocka_unit_test(test_local_init_scoped_to_block),
      cmocka_unit_test(test_global_immutable),
      cmocka_unit_test(test_const_expr_required),
      cmocka_unit_test(test_const_global_order),
      cmocka_unit_test(test_global_init_type),
      cmocka_unit_test(test_unknown_label),
      cmocka_unit_test(test_block_results),
      cmocka_unit_test(test_if_without_else),
      cmocka_unit_test(test_br_table_arity),
      cmocka_unit_test(test_br_table_pool_bounds),
      cmocka_unit_test(test_select),
      cmocka_unit_test(test_return_call_results),
      cmocka_unit_test(test_unknown_function),
      cmocka_unit_test(test_nesting_limit),
      cmocka_unit_test(test_locals_limit),
      cmocka_unit_test(test_bad_config_value),
      cmocka_unit_test(test_alignment),
      cmocka_unit_test(test_unknown_memory),
      cmocka_unit_test(test_memory64),
      cmocka_unit_test(test_memory_limits),
      cmocka_unit_test(test_data_count),
      cmocka_unit_test(test_lane_index),
      cmocka_unit_test(test_duplicate_export),
      cmocka_unit_test(test_undeclared_ref_func),
      cmocka_unit_test(test_start_function),
      cmocka_unit_test(test_sub_type),
      cmocka_unit_test(test_struct_width_depth),
      cmocka_unit_test(test_field_and_array_mutability),
      cmocka_unit_test(test_array_copy_types),
      cmocka_unit_test(test_packed_get),
      cmocka_unit_test(test_abi_mismatch),
      cmocka_unit_test(test_init_oom),
      cmocka_unit_test(test_validate_oom_every_allocation),
      cmocka_unit_test(test_validate_first_alloc_fails),
      cmocka_unit_test(test_concurrent_validation),
  };
  int failed = cmocka_run_group_tests_name("validator", tests, NULL, NULL);
  return failed + vt_run_ref_tests();
}
