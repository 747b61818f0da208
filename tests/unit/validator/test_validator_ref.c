/* tests/unit/validator/test_validator_ref.c -- validator unit tests: references, subtyping, GC,
 * stack switching, segments and tables, and random-IR robustness.
 *
 * Part of the test-validator executable (main in test_validator.c). Depends on: vtest.h.
 */
#include "vtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -- Tests: references and subtyping --------------------------------------------------------- */

static void test_heap_subtyping(void **s) {
  (void)s;
  /* (ref null none) flows into anyref; (ref null extern) does not */
  mod *b = vt_new_mod();
  static weft_valtype r[1];
  r[0] = REFNULL(ABS(ANY));
  uint32_t t = vt_add_functype(b, NULL, 0, r, 1);
  weft_instr body[] = {OPA(REF_NULL, REFNULL(ABS(NONE)))};
  vt_add_func(b, t, NULL, 0, body, 1);
  vt_expect_valid(b);
  b = vt_new_mod();
  t = vt_add_functype(b, NULL, 0, r, 1);
  weft_instr body2[] = {OPA(REF_NULL, REFNULL(ABS(EXTERN)))};
  vt_add_func(b, t, NULL, 0, body2, 1);
  vt_expect_invalid(b, "type mismatch");
  /* (ref cont) is not a subtype of anyref (separate hierarchy) */
  b = vt_new_mod();
  t = vt_add_functype(b, NULL, 0, r, 1);
  weft_instr body3[] = {OPA(REF_NULL, REFNULL(ABS(NOCONT)))};
  vt_add_func(b, t, NULL, 0, body3, 1);
  vt_expect_invalid(b, "type mismatch");
}

static void test_rtt_subtyping(void **s) {
  (void)s;
  /* Two struct types with rtts: $b <: $a declared through rtt supers. */
  static weft_rtt ra, rb;
  static const weft_rtt *sa[1], *sb[2];
  ra = (weft_rtt){.id = 1, .depth = 0, .supers = sa, .comp = WEFT_COMP_STRUCT};
  rb = (weft_rtt){.id = 2, .depth = 1, .supers = sb, .comp = WEFT_COMP_STRUCT};
  sa[0] = &ra;
  sb[0] = &ra;
  sb[1] = &rb;
  mod *b = vt_new_mod();
  uint32_t ta = vt_add_type(b, WEFT_COMP_STRUCT, false, WEFT_NONE);
  uint32_t tb = vt_add_type(b, WEFT_COMP_STRUCT, true, ta);
  b->types[ta].rtt = &ra;
  b->types[tb].rtt = &rb;
  static weft_valtype r[1];
  r[0] = REFNULL(ta);
  uint32_t t = vt_add_functype(b, NULL, 0, r, 1);
  weft_instr body[] = {OPA(STRUCT_NEW, tb)};
  vt_add_func(b, t, NULL, 0, body, 1);
  vt_expect_valid(b);
  /* the other direction is a mismatch */
  b = vt_new_mod();
  ta = vt_add_type(b, WEFT_COMP_STRUCT, false, WEFT_NONE);
  tb = vt_add_type(b, WEFT_COMP_STRUCT, true, ta);
  b->types[ta].rtt = &ra;
  b->types[tb].rtt = &rb;
  r[0] = REFNULL(tb);
  t = vt_add_functype(b, NULL, 0, r, 1);
  weft_instr body2[] = {OPA(STRUCT_NEW, ta)};
  vt_add_func(b, t, NULL, 0, body2, 1);
  vt_expect_invalid(b, "type mismatch");
}

static void test_br_on_null(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  static weft_valtype p[1], r[1];
  p[0] = REFNULL(ABS(FUNC));
  r[0] = REFN(ABS(FUNC));
  uint32_t t = vt_add_functype(b, p, 1, r, 1);
  weft_instr body[] = {OPA(LOCAL_GET, 0), OPA(BR_ON_NULL, 0), OP(RETURN)};
  vt_add_func(b, t, NULL, 0, body, 3);
  /* label 0 (the function) expects [(ref func)] but br_on_null passes [] when null: mismatch */
  vt_expect_invalid(b, "type mismatch");
  b = vt_new_mod();
  t = vt_add_functype(b, p, 1, r, 1);
  weft_instr body2[] = {OPA(BLOCK, WEFT_BT_EMPTY), OPA(LOCAL_GET, 0), OPA(BR_ON_NULL, 0), OP(RETURN),
                        OP(END), OP(UNREACHABLE)};
  vt_add_func(b, t, NULL, 0, body2, 6);
  vt_expect_valid(b);
}

static void test_cast_to_cont_invalid(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t ft = vt_add_functype(b, NULL, 0, NULL, 0);
  uint32_t ct = vt_add_type(b, WEFT_COMP_CONT, true, WEFT_NONE);
  b->types[ct].u.cont_func = ft;
  weft_instr body[] = {OPA(REF_NULL, REFNULL(ABS(CONT))), OPA(REF_CAST_NULL, REFNULL(ct)), OP(DROP)};
  vt_add_func(b, ft, NULL, 0, body, 3);
  vt_expect_invalid(b, "invalid cast");
}

/* -- Tests: stack switching ------------------------------------------------------------------ */

static void test_cont_of_non_function(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t st = vt_add_type(b, WEFT_COMP_STRUCT, true, WEFT_NONE);
  uint32_t ct = vt_add_type(b, WEFT_COMP_CONT, true, WEFT_NONE);
  b->types[ct].u.cont_func = st;
  vt_expect_invalid(b, "non-function type 0");
}

/* types: 0 = func [i32] -> [], 1 = cont 0, 2 = func [] -> [] */
static mod *cont_mod(void) {
  mod *b = vt_new_mod();
  uint32_t ft = vt_add_functype(b, vt_i32x2, 1, NULL, 0);
  uint32_t ct = vt_add_type(b, WEFT_COMP_CONT, true, WEFT_NONE);
  b->types[ct].u.cont_func = ft;
  vt_add_functype(b, NULL, 0, NULL, 0);
  return b;
}

static void test_cont_new_resume(void **s) {
  (void)s;
  mod *b = cont_mod();
  vt_add_func(b, 0, NULL, 0, NULL, 0); /* func 0: [i32] -> [] */
  weft_instr body[] = {CONST32(5), OPA(REF_FUNC, 0), OPA(CONT_NEW, 1), OPABC(RESUME, 1, 0, 0)};
  vt_add_func(b, 2, NULL, 0, body, 4);
  b->exports[0] = (weft_export){.name = {"f", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0};
  b->m.nexports = 1;
  vt_expect_valid(b);

  b = cont_mod();
  vt_add_func(b, 0, NULL, 0, NULL, 0);
  weft_instr body2[] = {CONST64(5), OPA(REF_FUNC, 0), OPA(CONT_NEW, 1), OPABC(RESUME, 1, 0, 0)};
  vt_add_func(b, 2, NULL, 0, body2, 4);
  b->exports[0] = (weft_export){.name = {"f", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0};
  b->m.nexports = 1;
  vt_expect_invalid(b, "type mismatch");

  b = cont_mod();
  weft_instr body3[] = {OPA(CONT_NEW, 0)};
  vt_add_func(b, 2, NULL, 0, body3, 1);
  vt_expect_invalid(b, "non-continuation type 0");
}

static void test_cont_bind(void **s) {
  (void)s;
  mod *b = cont_mod();
  /* type 3 = func [i32 i32] -> [], type 4 = cont 3 */
  uint32_t f2 = vt_add_functype(b, vt_i32x2, 2, NULL, 0);
  uint32_t c2 = vt_add_type(b, WEFT_COMP_CONT, true, WEFT_NONE);
  b->types[c2].u.cont_func = f2;
  /* binding from cont [i32] to cont [i32 i32] needs more params than there are */
  weft_instr body[] = {OPA(REF_NULL, REFNULL(1)), OPAB(CONT_BIND, 1, c2), OP(DROP)};
  vt_add_func(b, 2, NULL, 0, body, 3);
  vt_expect_invalid(b, "type mismatch in continuation arguments");

  b = cont_mod();
  f2 = vt_add_functype(b, vt_i32x2, 2, NULL, 0);
  c2 = vt_add_type(b, WEFT_COMP_CONT, true, WEFT_NONE);
  b->types[c2].u.cont_func = f2;
  weft_instr body2[] = {CONST32(1), OPA(REF_NULL, REFNULL(c2)), OPAB(CONT_BIND, c2, 1), OP(DROP)};
  vt_add_func(b, 2, NULL, 0, body2, 4);
  vt_expect_valid(b);
}

static void test_handler_label_concrete(void **s) {
  (void)s;
  mod *b = cont_mod();
  b->tags[0] = (weft_tag){.type = 2, .import = WEFT_NONE};
  b->m.ntags = 1;
  b->pool[0] = WEFT_HANDLER_ON_LABEL;
  b->pool[1] = 0;
  b->pool[2] = 0;
  b->m.npool = 3;
  /* block (result (ref cont)) with a handler targeting it: the label must be a concrete cont */
  weft_instr body[] = {OPA(BLOCK, REFN(ABS(CONT))), CONST32(1), OPA(REF_NULL, REFNULL(1)),
                       OPABC(RESUME, 1, 0, 1), OP(UNREACHABLE), OP(END), OP(DROP)};
  vt_add_func(b, 2, NULL, 0, body, 7);
  vt_expect_invalid(b, "type mismatch: instruction requires concrete continuation reference type but "
                    "label has [(ref cont)]");
}

static void test_switch_tag(void **s) {
  (void)s;
  mod *b = cont_mod();
  b->tags[0] = (weft_tag){.type = 0, .import = WEFT_NONE}; /* tag with a param: invalid for switch */
  b->m.ntags = 1;
  weft_instr body[] = {OPA(REF_NULL, REFNULL(1)), OPAB(SWITCH, 1, 0)};
  vt_add_func(b, 2, NULL, 0, body, 2);
  vt_expect_invalid(b, "type mismatch in switch tag");
}

static void test_suspend(void **s) {
  (void)s;
  mod *b = cont_mod();
  uint32_t tt = vt_add_functype(b, vt_i32x2, 1, vt_i32x2, 1); /* tag [i32] -> [i32]: results allowed */
  b->tags[0] = (weft_tag){.type = tt, .import = WEFT_NONE};
  b->m.ntags = 1;
  weft_instr body[] = {CONST32(1), OPA(SUSPEND, 0), OP(DROP)};
  vt_add_func(b, 2, NULL, 0, body, 3);
  vt_expect_valid(b);
  b = cont_mod();
  weft_instr body2[] = {OPA(SUSPEND, 0)};
  vt_add_func(b, 2, NULL, 0, body2, 1);
  vt_expect_invalid(b, "unknown tag 0");
}

/* -- Tests: more rules ----------------------------------------------------------------------- */


static void test_try_table_catches(void **s) {
  (void)s;
  /* catch $e (params [i32]) to a block (result i32): valid */
  mod *b = vt_new_mod();
  uint32_t tt = vt_add_functype(b, vt_i32x2, 1, NULL, 0);
  uint32_t t = vt_add_functype(b, NULL, 0, vt_i32x2, 1);
  b->tags[0] = (weft_tag){.type = tt, .import = WEFT_NONE};
  b->m.ntags = 1;
  b->pool[0] = WEFT_CATCH;
  b->pool[1] = 0;
  b->pool[2] = 0;
  b->m.npool = 3;
  weft_instr body[] = {OPA(BLOCK, I32), OPABC(TRY_TABLE, WEFT_BT_EMPTY, 0, 1), OP(END),
                       CONST32(0), OP(END)};
  vt_add_func(b, t, NULL, 0, body, 5);
  vt_expect_valid(b);
  /* catch_ref needs [i32 exnref] at the label: mismatch */
  b = vt_new_mod();
  tt = vt_add_functype(b, vt_i32x2, 1, NULL, 0);
  t = vt_add_functype(b, NULL, 0, vt_i32x2, 1);
  b->tags[0] = (weft_tag){.type = tt, .import = WEFT_NONE};
  b->m.ntags = 1;
  b->pool[0] = WEFT_CATCH_REF;
  b->pool[1] = 0;
  b->pool[2] = 0;
  b->m.npool = 3;
  vt_add_func(b, t, NULL, 0, body, 5);
  vt_expect_invalid(b, "type mismatch");
}

static void test_call_indirect_table(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  vt_add_table(b, WEFT_VT_EXTERNREF, 1, false);
  weft_instr body[] = {CONST32(0), OPAB(CALL_INDIRECT, t, 0)};
  vt_add_func(b, t, NULL, 0, body, 2);
  vt_expect_invalid(b, "type mismatch");
  b = vt_new_mod();
  t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr body2[] = {CONST32(0), OPAB(CALL_INDIRECT, t, 0)};
  vt_add_func(b, t, NULL, 0, body2, 2);
  vt_expect_invalid(b, "unknown table 0");
  /* table64 takes an i64 index */
  b = vt_new_mod();
  t = vt_add_functype(b, NULL, 0, NULL, 0);
  vt_add_table(b, WEFT_VT_FUNCREF, 1, true);
  weft_instr body3[] = {CONST64(0), OPAB(CALL_INDIRECT, t, 0)};
  vt_add_func(b, t, NULL, 0, body3, 2);
  vt_expect_valid(b);
}

static void test_table_rules(void **s) {
  (void)s;
  /* a table of non-nullable references needs an initializer */
  mod *b = vt_new_mod();
  vt_add_table(b, REFN(ABS(FUNC)), 1, false);
  vt_expect_invalid(b, "type mismatch");
  /* table.copy from externref to funcref */
  b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  vt_add_table(b, WEFT_VT_FUNCREF, 1, false);
  vt_add_table(b, WEFT_VT_EXTERNREF, 1, false);
  weft_instr body[] = {CONST32(0), CONST32(0), CONST32(0), OPAB(TABLE_COPY, 0, 1)};
  vt_add_func(b, t, NULL, 0, body, 4);
  vt_expect_invalid(b, "type mismatch");
  /* table size limits */
  b = vt_new_mod();
  vt_add_table(b, WEFT_VT_FUNCREF, 0x100000000ull, false);
  vt_expect_invalid(b, "table size");
}

static void test_elem_segments(void **s) {
  (void)s;
  static weft_instr item[2], offs[2];
  static weft_expr items[1];
  static weft_elem el[1];
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  vt_add_func(b, t, NULL, 0, NULL, 0);
  vt_add_table(b, REFNULL(t), 1, false);
  item[0] = OPA(REF_FUNC, 0);
  item[1] = OP(END);
  items[0] = (weft_expr){2, item};
  offs[0] = CONST32(0);
  offs[1] = OP(END);
  el[0] = (weft_elem){.mode = WEFT_SEG_ACTIVE, .table = 0, .offset = {2, offs},
                      .type = WEFT_VT_FUNCREF, .nitems = 1, .items = items, .off = 77};
  b->m.elems = el;
  b->m.nelems = 1;
  weft_diag d;
  assert_int_equal(vt_validate(b, &d), WEFT_ERR_INVALID); /* funcref is not <: (ref null $t) */
  assert_true(strncmp(d.message, "type mismatch", 13) == 0);
  assert_int_equal(d.offset, 77);
  free(b);
  /* with the element type (ref $t) it fits, and the ref.func declares function 0 */
  b = vt_new_mod();
  t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {OPA(REF_FUNC, 0), OP(DROP)};
  vt_add_func(b, t, NULL, 0, body, 2);
  vt_add_table(b, REFNULL(t), 1, false);
  el[0].type = REFN(t);
  b->m.elems = el;
  b->m.nelems = 1;
  vt_expect_valid(b);
  /* elem.drop of a missing segment */
  b = vt_new_mod();
  t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr body2[] = {OPA(ELEM_DROP, 4)};
  vt_add_func(b, t, NULL, 0, body2, 1);
  vt_expect_invalid(b, "unknown elem segment 4");
}

static void test_data_segments(void **s) {
  (void)s;
  static weft_instr offs[2];
  static weft_data ds[1];
  offs[0] = CONST32(0);
  offs[1] = OP(END);
  ds[0] = (weft_data){.mode = WEFT_SEG_ACTIVE, .mem = 0, .offset = {2, offs}, .off = 55};
  mod *b = vt_new_mod();
  b->m.datas = ds;
  b->m.ndatas = 1;
  vt_expect_invalid(b, "unknown memory 0");
  /* memory64 wants an i64 offset */
  b = vt_new_mod();
  vt_add_memory(b, 1, true);
  b->m.datas = ds;
  b->m.ndatas = 1;
  vt_expect_invalid(b, "type mismatch");
}

static void test_imports_and_exports(void **s) {
  (void)s;
  static weft_import im[1];
  mod *b = vt_new_mod();
  uint32_t st = vt_add_type(b, WEFT_COMP_STRUCT, true, WEFT_NONE);
  b->funcs[0] = (weft_func){.type = st, .import = 0};
  b->m.nfuncs = b->m.nfunc_imports = 1;
  im[0] = (weft_import){.module = {"m", 1}, .name = {"f", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0,
                        .off = 33};
  b->m.imports = im;
  b->m.nimports = 1;
  weft_diag d;
  assert_int_equal(vt_validate(b, &d), WEFT_ERR_INVALID); /* an imported function of a struct type */
  assert_int_equal(d.offset, 33);
  free(b);
  b = vt_new_mod();
  b->exports[0] = (weft_export){.name = {"g", 1}, .kind = WEFT_EXTERN_GLOBAL, .index = 0};
  b->m.nexports = 1;
  vt_expect_invalid(b, "unknown global 0");
  /* the same name for different kinds is still a duplicate; distinct names are fine */
  b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  vt_add_func(b, t, NULL, 0, NULL, 0);
  vt_add_memory(b, 1, false);
  b->exports[0] = (weft_export){.name = {"x", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0};
  b->exports[1] = (weft_export){.name = {"x", 1}, .kind = WEFT_EXTERN_MEMORY, .index = 0};
  b->m.nexports = 2;
  vt_expect_invalid(b, "duplicate export name");
  b = vt_new_mod();
  t = vt_add_functype(b, NULL, 0, NULL, 0);
  vt_add_func(b, t, NULL, 0, NULL, 0);
  vt_add_memory(b, 1, false);
  b->exports[0] = (weft_export){.name = {"x", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0};
  b->exports[1] = (weft_export){.name = {"xy", 2}, .kind = WEFT_EXTERN_MEMORY, .index = 0};
  b->m.nexports = 2;
  vt_expect_valid(b);
}

static void test_br_on_cast(void **s) {
  (void)s;
  /* br_on_cast 0 anyref -> (ref i31) inside block (result (ref i31)): valid */
  mod *b = vt_new_mod();
  static weft_valtype p[1];
  p[0] = REFNULL(ABS(ANY));
  uint32_t t = vt_add_functype(b, p, 1, NULL, 0);
  weft_instr cast = {.op = WEFT_OP_BR_ON_CAST, .b = 1, .imm.x = {.a = 0, .b = REFNULL(ABS(ANY)),
                                                                 .c = REFN(ABS(I31))}};
  weft_instr body[] = {OPA(BLOCK, REFN(ABS(I31))), OPA(LOCAL_GET, 0), cast, OP(DROP), OP(UNREACHABLE),
                       OP(END), OP(DROP)};
  vt_add_func(b, t, NULL, 0, body, 7);
  vt_expect_valid(b);
  /* the target must be a subtype of the source: (ref extern) is not <: anyref */
  b = vt_new_mod();
  t = vt_add_functype(b, p, 1, NULL, 0);
  cast.imm.x.c = REFN(ABS(EXTERN));
  weft_instr body2[] = {OPA(BLOCK, REFN(ABS(EXTERN))), OPA(LOCAL_GET, 0), cast, OP(DROP),
                        OP(UNREACHABLE), OP(END), OP(DROP)};
  vt_add_func(b, t, NULL, 0, body2, 7);
  vt_expect_invalid(b, "type mismatch");
}

static void test_ref_test_source_hierarchy(void **s) {
  (void)s;
  /* ref.test (ref i31) on an externref operand: different hierarchies */
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {OPA(REF_NULL, WEFT_VT_EXTERNREF), OPA(REF_TEST, REFN(ABS(I31))), OP(DROP)};
  vt_add_func(b, t, NULL, 0, body, 3);
  vt_expect_invalid(b, "type mismatch");
}

static void test_struct_new_default(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t st = vt_add_type(b, WEFT_COMP_STRUCT, true, WEFT_NONE);
  b->fields[0][0] = (weft_fieldtype){REFN(ABS(ANY)), false};
  b->types[st].u.strct.nfields = 1;
  b->types[st].u.strct.fields = b->fields[0];
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {OPA(STRUCT_NEW_DEFAULT, st), OP(DROP)};
  vt_add_func(b, t, NULL, 0, body, 2);
  vt_expect_invalid(b, "type mismatch");
}

static void test_array_new_data_numeric(void **s) {
  (void)s;
  mod *b = vt_new_mod();
  uint32_t at = vt_add_type(b, WEFT_COMP_ARRAY, true, WEFT_NONE);
  b->types[at].u.array = (weft_fieldtype){WEFT_VT_FUNCREF, true};
  uint32_t t = vt_add_functype(b, NULL, 0, NULL, 0);
  b->m.has_data_count = true;
  b->m.data_count = 1;
  static weft_data ds[1];
  ds[0] = (weft_data){.mode = WEFT_SEG_PASSIVE};
  b->m.datas = ds;
  b->m.ndatas = 1;
  weft_instr body[] = {CONST32(0), CONST32(0), OPAB(ARRAY_NEW_DATA, at, 0), OP(DROP)};
  vt_add_func(b, t, NULL, 0, body, 4);
  vt_expect_invalid(b, "array type is not numeric or vector");
}

static void test_call_ref_and_tail(void **s) {
  (void)s;
  /* call_ref $t on a (ref null $t) local; return_call_ref with matching results */
  mod *b = vt_new_mod();
  uint32_t t = vt_add_functype(b, NULL, 0, vt_i32x2, 1);
  static weft_valtype p[1];
  p[0] = REFNULL(t);
  uint32_t t2 = vt_add_functype(b, p, 1, vt_i32x2, 1);
  weft_instr body[] = {OPA(LOCAL_GET, 0), OPA(CALL_REF, t), OP(DROP), OPA(LOCAL_GET, 0),
                       OPA(RETURN_CALL_REF, t)};
  vt_add_func(b, t2, NULL, 0, body, 5);
  vt_expect_valid(b);
  /* call_ref with the wrong reference type */
  b = vt_new_mod();
  t = vt_add_functype(b, NULL, 0, vt_i32x2, 1);
  p[0] = REFNULL(ABS(FUNC));
  t2 = vt_add_functype(b, p, 1, vt_i32x2, 1);
  weft_instr body2[] = {OPA(LOCAL_GET, 0), OPA(CALL_REF, t)};
  vt_add_func(b, t2, NULL, 0, body2, 2);
  vt_expect_invalid(b, "type mismatch");
}

static void test_resume_with_handler(void **s) {
  (void)s;
  /* types: 0 = func [] -> [], 1 = cont 0 */
  mod *b = vt_new_mod();
  uint32_t ft = vt_add_functype(b, NULL, 0, NULL, 0);
  uint32_t ct = vt_add_type(b, WEFT_COMP_CONT, true, WEFT_NONE);
  b->types[ct].u.cont_func = ft;
  b->tags[0] = (weft_tag){.type = ft, .import = WEFT_NONE};
  b->m.ntags = 1;
  b->pool[0] = WEFT_HANDLER_ON_LABEL;
  b->pool[1] = 0;
  b->pool[2] = 0;
  b->m.npool = 3;
  static weft_valtype p[1];
  p[0] = REFN(ct);
  uint32_t t = vt_add_functype(b, p, 1, NULL, 0);
  /* block $h (result (ref $ct)) (resume $ct (on $e $h) (local.get 0)) return end drop */
  weft_instr body[] = {OPA(BLOCK, REFN(ct)), OPA(LOCAL_GET, 0), OPABC(RESUME, ct, 0, 1), OP(RETURN),
                       OP(END), OP(DROP)};
  vt_add_func(b, t, NULL, 0, body, 6);
  vt_expect_valid(b);
  /* a handler label of a function reference type: "non-continuation type" */
  b = vt_new_mod();
  ft = vt_add_functype(b, NULL, 0, NULL, 0);
  ct = vt_add_type(b, WEFT_COMP_CONT, true, WEFT_NONE);
  b->types[ct].u.cont_func = ft;
  b->tags[0] = (weft_tag){.type = ft, .import = WEFT_NONE};
  b->m.ntags = 1;
  b->pool[0] = WEFT_HANDLER_ON_LABEL;
  b->pool[1] = 0;
  b->pool[2] = 0;
  b->m.npool = 3;
  p[0] = REFN(ct);
  t = vt_add_functype(b, p, 1, NULL, 0);
  weft_instr body2[] = {OPA(BLOCK, REFN(ft)), OPA(LOCAL_GET, 0), OPABC(RESUME, ct, 0, 1), OP(RETURN),
                        OP(END), OP(DROP)};
  vt_add_func(b, t, NULL, 0, body2, 6);
  vt_expect_invalid(b, "non-continuation type");
}

static void test_switch_valid(void **s) {
  (void)s;
  /* rec: 0 = func [(ref null 1)] -> [], 1 = cont 0; tag 0: [] -> [] */
  mod *b = vt_new_mod();
  static weft_valtype p[1];
  p[0] = REFNULL(1);
  uint32_t ft = vt_add_functype(b, p, 1, NULL, 0);
  b->types[ft].rec_size = 2;
  uint32_t ct = vt_add_type(b, WEFT_COMP_CONT, true, WEFT_NONE);
  b->types[ct].u.cont_func = ft;
  b->types[ct].rec_start = 0;
  b->types[ct].rec_size = 2;
  uint32_t et = vt_add_functype(b, NULL, 0, NULL, 0);
  b->tags[0] = (weft_tag){.type = et, .import = WEFT_NONE};
  b->m.ntags = 1;
  /* switch $ct $e: pops (ref null $ct), pushes the params of the captured type: [(ref null 1)] */
  weft_instr body[] = {OPA(REF_NULL, REFNULL(ct)), OPAB(SWITCH, ct, 0), OP(DROP)};
  vt_add_func(b, et, NULL, 0, body, 3);
  vt_expect_valid(b);
}

static void test_types_limit(void **s) {
  (void)s;
  vt_cfg_max_types = 3;
  mod *b = vt_new_mod();
  for (int k = 0; k < 3; k++) vt_add_functype(b, NULL, 0, NULL, 0);
  vt_expect_valid(b);
  b = vt_new_mod();
  for (int k = 0; k < 4; k++) vt_add_functype(b, NULL, 0, NULL, 0);
  weft_diag d;
  assert_int_equal(vt_validate(b, &d), WEFT_ERR_LIMIT);
  assert_non_null(strstr(d.message, "max_types"));
  free(b);
  vt_cfg_max_types = -1;
}

static void test_cont_subtyping(void **s) {
  (void)s;
  /* 0 = func (sub), 1 = func (sub 0), 2 = cont 0 (sub), 3 = cont 1 (sub 2): valid since 1 <: 0 */
  mod *b = vt_new_mod();
  uint32_t f0 = vt_add_type(b, WEFT_COMP_FUNC, false, WEFT_NONE);
  uint32_t f1 = vt_add_type(b, WEFT_COMP_FUNC, false, f0);
  uint32_t c0 = vt_add_type(b, WEFT_COMP_CONT, false, WEFT_NONE);
  b->types[c0].u.cont_func = f0;
  uint32_t c1 = vt_add_type(b, WEFT_COMP_CONT, false, c0);
  b->types[c1].u.cont_func = f1;
  vt_expect_valid(b);
  /* the other way round (cont 0 under cont 1) does not match */
  b = vt_new_mod();
  f0 = vt_add_type(b, WEFT_COMP_FUNC, false, WEFT_NONE);
  f1 = vt_add_type(b, WEFT_COMP_FUNC, false, f0);
  c0 = vt_add_type(b, WEFT_COMP_CONT, false, WEFT_NONE);
  b->types[c0].u.cont_func = f1;
  c1 = vt_add_type(b, WEFT_COMP_CONT, false, c0);
  b->types[c1].u.cont_func = f0;
  vt_expect_invalid(b, "sub type 3 does not match super type 2");
  /* (ref cont) is not a subtype of (ref func) nor the other way */
  b = vt_new_mod();
  static weft_valtype r[1];
  r[0] = REFNULL(ABS(FUNC));
  uint32_t t = vt_add_functype(b, NULL, 0, r, 1);
  weft_instr body[] = {OPA(REF_NULL, REFNULL(ABS(CONT)))};
  vt_add_func(b, t, NULL, 0, body, 1);
  vt_expect_invalid(b, "type mismatch");
}

/* -- Tests: robustness ------------------------------------------------------------------------ */

static const uint16_t all_ops[] = {
#define OPCODE_VALUE(id, code, text, imm, sig) (uint16_t)(code),
    WEFT_OPCODE_LIST(OPCODE_VALUE)
#undef OPCODE_VALUE
};

static uint32_t rnd_state = 12345;
static uint32_t rnd(void) {
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 17;
  rnd_state ^= rnd_state << 5;
  return rnd_state;
}

/* Small immediates most of the time, huge ones sometimes: indices, counts and pool ranges. */
static uint32_t rnd_imm(void) {
  switch (rnd() % 6) {
  case 0: return UINT32_MAX - rnd() % 4;
  case 1: return rnd();
  default: return rnd() % 6;
  }
}

/* Random instruction sequences with random immediates over a module with a bit of everything:
 * validation must return (valid or not) without crashing, hanging or leaking. */
static void test_random_ir_never_crashes(void **s) {
  (void)s;
  size_t nops = sizeof all_ops / sizeof all_ops[0];
  int valid = 0, invalid = 0;
  for (int iter = 0; iter < 3000; iter++) {
    mod *b = vt_new_mod();
    uint32_t ft = vt_add_functype(b, vt_i32x2, 2, vt_i32x2, 1);
    uint32_t st = vt_add_type(b, WEFT_COMP_STRUCT, false, WEFT_NONE);
    b->fields[0][0] = (weft_fieldtype){WEFT_VT_I8, true};
    b->fields[0][1] = (weft_fieldtype){REFNULL(ft), false};
    b->types[st].u.strct.nfields = 2;
    b->types[st].u.strct.fields = b->fields[0];
    uint32_t at = vt_add_type(b, WEFT_COMP_ARRAY, false, WEFT_NONE);
    b->types[at].u.array = (weft_fieldtype){I32, true};
    uint32_t ct = vt_add_type(b, WEFT_COMP_CONT, true, WEFT_NONE);
    b->types[ct].u.cont_func = ft;
    /* Now and then, type-section damage a decoder could let through: a cont of anything (even out
     * of range), forward or self supertypes, odd field types. */
    if (rnd() % 4 == 0) b->types[ct].u.cont_func = rnd_imm();
    if (rnd() % 4 == 0) {
      b->types[at].nsupers = 1;
      b->types[at].super = rnd_imm();
    }
    if (rnd() % 4 == 0)
      b->fields[0][1].type = (weft_valtype)WEFT_VT_MAKE_REF(rnd() & 1, rnd() % 2 ? rnd_imm() % 0x1000000u
                                                                                : WEFT_HT_ABS(rnd() % 256));
    vt_add_memory(b, 1, iter & 1);
    b->tables[0].type.elem = WEFT_VT_FUNCREF;
    b->tables[0].import = WEFT_NONE;
    b->m.ntables = 1;
    b->tags[0] = (weft_tag){.type = ft, .import = WEFT_NONE};
    b->m.ntags = 1;
    weft_instr gi[] = {CONST32(1)};
    vt_add_global(b, I32, true, gi, 1);
    for (uint32_t k = 0; k < 32; k++) b->pool[k] = rnd() % 5;
    b->m.npool = 32;
    b->m.has_data_count = true;
    static weft_valtype loc[2];
    loc[0] = I64;
    loc[1] = REFN(ft);
    weft_instr body[40];
    uint32_t n = 1 + rnd() % 40;
    for (uint32_t k = 0; k < n; k++) {
      weft_instr in;
      memset(&in, 0, sizeof in);
      in.op = all_ops[rnd() % nops];
      in.b = (uint8_t)rnd();
      if (rnd() % 3 == 0) {
        in.imm.x.a = (uint32_t)WEFT_VT_MAKE_REF(rnd() & 1, rnd() % 2 ? rnd() % 6 : WEFT_HT_ABS(0x68 + rnd() % 14));
        if (rnd() % 4 == 0) in.imm.x.a = rnd() % 2 ? WEFT_BT_EMPTY : I32;
      } else {
        in.imm.x.a = rnd_imm();
      }
      in.imm.x.b = rnd_imm();
      in.imm.x.c = rnd_imm();
      in.imm.x.d = rnd_imm();
      body[k] = in;
    }
    vt_add_func(b, ft, loc, 2, body, n > 39 ? 39 : n);
    plugin p = vt_load();
    int before = vt_live_allocs;
    weft_diag d;
    memset(&d, 0, sizeof d);
    int rc = p.vi->validate(p.state, &b->m, &d);
    assert_true(rc == WEFT_OK || rc == WEFT_ERR_INVALID || rc == WEFT_ERR_LIMIT);
    if (rc == WEFT_OK) valid++;
    else {
      invalid++;
      assert_true(d.message[0] != 0);
    }
    assert_int_equal(vt_live_allocs, before);
    vt_unload(&p);
    free(b);
  }
  assert_true(invalid > 0);
  (void)valid;
}

int vt_run_ref_tests(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_heap_subtyping),
      cmocka_unit_test(test_rtt_subtyping),
      cmocka_unit_test(test_br_on_null),
      cmocka_unit_test(test_cast_to_cont_invalid),
      cmocka_unit_test(test_cont_of_non_function),
      cmocka_unit_test(test_cont_new_resume),
      cmocka_unit_test(test_cont_bind),
      cmocka_unit_test(test_handler_label_concrete),
      cmocka_unit_test(test_switch_tag),
      cmocka_unit_test(test_suspend),
      cmocka_unit_test(test_try_table_catches),
      cmocka_unit_test(test_call_indirect_table),
      cmocka_unit_test(test_table_rules),
      cmocka_unit_test(test_elem_segments),
      cmocka_unit_test(test_data_segments),
      cmocka_unit_test(test_imports_and_exports),
      cmocka_unit_test(test_br_on_cast),
      cmocka_unit_test(test_ref_test_source_hierarchy),
      cmocka_unit_test(test_struct_new_default),
      cmocka_unit_test(test_array_new_data_numeric),
      cmocka_unit_test(test_call_ref_and_tail),
      cmocka_unit_test(test_resume_with_handler),
      cmocka_unit_test(test_switch_valid),
      cmocka_unit_test(test_types_limit),
      cmocka_unit_test(test_cont_subtyping),
      cmocka_unit_test(test_random_ir_never_crashes),
  };
  return cmocka_run_group_tests_name("validator-ref", tests, NULL, NULL);
}
