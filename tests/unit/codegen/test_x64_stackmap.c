/* tests/unit/codegen/test_x64_stackmap.c -- the stack maps of the x64-codegen plugin (part gcroots):
 * small hand-built modules compiled through the plugin's descriptor against the fake host, and the
 * map published in weft_code_info at each call checked slot by slot: exactly the homes of the
 * reference locals and parameters, the spilled reference operands and the outgoing reference
 * arguments (8-byte), the continuation locals (16-byte, typed), nothing for numbers and v128.
 * Depends on: fake_host.h, the x64-codegen OBJECT library (WEFT_PLUGIN_STATIC), cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "fake_host.h"
#include "x64_int.h"

const weft_plugin_desc *weft_plugin_entry_x64_codegen(uint32_t host_abi);

#define ANYREF WEFT_VT_MAKE_REF(1, WEFT_HT_ABS(WEFT_AHT_ANY))
#define EXTERNREF WEFT_VT_MAKE_REF(1, WEFT_HT_ABS(WEFT_AHT_EXTERN))

/* -- Compiling ------------------------------------------------------------------------------- */

typedef struct compiled {
  const weft_plugin_desc *desc;
  const weft_codegen_iface *cg;
  void *state;
  weft_code_info *ci;
} compiled;

static void compile(compiled *r, const weft_module *m) {
  weft_diag d;
  memset(&d, 0, sizeof d);
  fake_host_init();
  r->desc = weft_plugin_entry_x64_codegen(WEFT_ABI_VERSION);
  assert_non_null(r->desc);
  r->cg = r->desc->iface;
  assert_int_equal(r->desc->init(&fake_host, NULL, &r->state, &d), WEFT_OK);
  assert_int_equal(r->cg->compile(r->state, m, &r->ci, &d), WEFT_OK);
  assert_true(WEFT_HAS(r->ci, weft_code_info, stack_map_slots));
}

static void release(compiled *r) {
  r->cg->release(r->state, r->ci);
  r->desc->fini(r->state);
}

/* The fixed frame size of defined function `def` (index among defined functions), read from its
 * prologue: push rbp; mov rbp, rsp; sub rsp, imm32 (x64_isel.c). */
static int32_t frame_of(const weft_code_info *ci, uint32_t def) {
  const uint8_t *p = (const uint8_t *)ci->code + ci->func_start[def];
  assert_int_equal(p[0], 0x55);
  assert_int_equal(p[4], 0x48);
  assert_int_equal(p[5], 0x81);
  assert_int_equal(p[6], 0xEC);
  uint32_t f;
  memcpy(&f, p + 7, 4);
  return (int32_t)f;
}

/* The maps inside defined function `def`. */
static uint32_t maps_in(const weft_code_info *ci, uint32_t def, const weft_stack_map_entry **out) {
  uint32_t n = 0;
  *out = NULL;
  for (uint32_t i = 0; i < ci->nstack_maps; i++) {
    const weft_stack_map_entry *e = &ci->stack_maps[i];
    if (e->code_off > ci->func_start[def] && e->code_off <= ci->func_end[def]) {
      if (n++ == 0) *out = e;
    }
    if (i > 0) assert_true(ci->stack_maps[i - 1].code_off < e->code_off); /* sorted, unique */
  }
  return n;
}

static int cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

/* The n slots from `first` equal `want` as sets. */
static void same_slots(const weft_code_info *ci, uint32_t first, uint32_t n, int32_t *want,
                       uint32_t nwant) {
  assert_int_equal(n, nwant);
  assert_true(first + n <= ci->nstack_map_slots);
  int32_t got[16];
  assert_true(n <= 16);
  memcpy(got, ci->stack_map_slots + first, n * sizeof *got);
  qsort(got, n, sizeof *got, cmp_i32);
  qsort(want, nwant, sizeof *want, cmp_i32);
  for (uint32_t i = 0; i < n; i++) assert_int_equal(got[i], want[i]);
}

/* -- A call with references everywhere ------------------------------------------------------- */

/* type 0: (func (param anyref))   type 1: (func (param anyref i32))
 * func 0 $callee (type 0): empty
 * func 1 $main (type 1), locals: anyref, i64, externref, v128
 *   local.get 0 ; i32.const 7 ; local.get 2 ; call $callee ; drop ; drop */
static void test_call_map_names_exactly_the_refs(void **state) {
  (void)state;
  static const weft_valtype p0[] = {ANYREF}, p1[] = {ANYREF, WEFT_VT_I32};
  static const weft_valtype locals[] = {ANYREF, WEFT_VT_I64, EXTERNREF, WEFT_VT_V128};
  static const weft_instr callee_body[] = {{.op = WEFT_OP_END}};
  static const weft_instr main_body[] = {
      {.op = WEFT_OP_LOCAL_GET, .imm.x = {0, 0, 0, 0}},
      {.op = WEFT_OP_I32_CONST, .imm.i32 = 7},
      {.op = WEFT_OP_LOCAL_GET, .imm.x = {2, 0, 0, 0}},
      {.op = WEFT_OP_CALL, .imm.x = {0, 0, 0, 0}},
      {.op = WEFT_OP_DROP},
      {.op = WEFT_OP_DROP},
      {.op = WEFT_OP_END},
  };
  weft_type types[2];
  weft_func funcs[2];
  weft_module m;
  memset(types, 0, sizeof types);
  memset(funcs, 0, sizeof funcs);
  memset(&m, 0, sizeof m);
  types[0].comp = types[1].comp = WEFT_COMP_FUNC;
  types[0].super = types[1].super = WEFT_NONE;
  types[0].u.func.params = p0;
  types[0].u.func.nparams = 1;
  types[1].u.func.params = p1;
  types[1].u.func.nparams = 2;
  funcs[0] = (weft_func){.type = 0, .import = WEFT_NONE, .body = {1, callee_body}};
  funcs[1] = (weft_func){.type = 1, .import = WEFT_NONE, .body = {7, main_body}, .nlocals = 4,
                         .locals = locals};
  m.types = types;
  m.ntypes = 2;
  m.funcs = funcs;
  m.nfuncs = 2;
  m.start = WEFT_NONE;

  compiled r;
  compile(&r, &m);
  const weft_stack_map_entry *e, *none;
  assert_int_equal(maps_in(r.ci, 0, &none), 0); /* the callee calls nothing */
  assert_int_equal(maps_in(r.ci, 1, &e), 1);
  /* keyed by the return address of the direct call */
  assert_int_equal(((const uint8_t *)r.ci->code)[e->code_off - 5], 0xE8);
  int32_t frame = frame_of(r.ci, 1);
  /* param 0 at rbp+16; declared locals j at rbp-32-16j: anyref j=0, externref j=2; the anyref
   * operand at depth 0 (rbp - frame); the outgoing argument at the bottom of the 16-byte area
   * below the frame */
  int32_t want[] = {16, -32, -64, -frame, -frame - 16};
  same_slots(r.ci, e->first, e->nrefs, want, 5);
  assert_int_equal(e->nconts, 0);
  assert_int_equal(e->nvals, 0); /* the v128 local is no reference; no 16-byte operand is live */
  release(&r);
}

/* -- Continuation locals --------------------------------------------------------------------- */

/* type 0: (func)  type 1: (cont 0)
 * func 0 (type 0): empty     func 1 (type 0), locals: (ref null 1), i32, anyref
 *   call 0 */
static void test_cont_locals_are_16_byte_slots(void **state) {
  (void)state;
  static const weft_valtype locals[] = {WEFT_VT_MAKE_REF(1, 1), WEFT_VT_I32, ANYREF};
  static const weft_instr empty[] = {{.op = WEFT_OP_END}};
  static const weft_instr body[] = {{.op = WEFT_OP_CALL, .imm.x = {0, 0, 0, 0}},
                                    {.op = WEFT_OP_END}};
  weft_type types[2];
  weft_func funcs[2];
  weft_module m;
  memset(types, 0, sizeof types);
  memset(&m, 0, sizeof m);
  types[0].comp = WEFT_COMP_FUNC;
  types[0].super = WEFT_NONE;
  types[1].comp = WEFT_COMP_CONT;
  types[1].super = WEFT_NONE;
  types[1].u.cont_func = 0;
  funcs[0] = (weft_func){.type = 0, .import = WEFT_NONE, .body = {1, empty}};
  funcs[1] = (weft_func){.type = 0, .import = WEFT_NONE, .body = {2, body}, .nlocals = 3,
                         .locals = locals};
  m.types = types;
  m.ntypes = 2;
  m.funcs = funcs;
  m.nfuncs = 2;
  m.start = WEFT_NONE;

  compiled r;
  compile(&r, &m);
  const weft_stack_map_entry *e;
  assert_int_equal(maps_in(r.ci, 1, &e), 1);
  int32_t refs[] = {-64}, conts[] = {-32};
  same_slots(r.ci, e->first, e->nrefs, refs, 1);
  same_slots(r.ci, e->first + e->nrefs, e->nconts, conts, 1);
  assert_int_equal(e->nvals, 0);
  release(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_call_map_names_exactly_the_refs),
      cmocka_unit_test(test_cont_locals_are_16_byte_slots),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
