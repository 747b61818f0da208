/* plugins/x64-codegen/x64_isel_gc.c -- GC instructions (0xFB prefix) that need no heap access
 * beyond reading an object's header: ref.i31, i31.get_s/u, ref.test, ref.cast, br_on_cast and
 * br_on_cast_fail.
 *
 * Representation (include/weft/plugin/gc.h): an i31ref is (v << 1) | 1; any other non-null value
 * of the any hierarchy is a gc-plugin object whose header starts with a weft_gc_type pointer, whose
 * first word is the canonical weft_rtt (subtyping: supers[depth] of the value's rtt). struct.*,
 * array.* and the extern conversions are not compiled yet (the module is refused as unsupported).
 * Depends on: x64_int.h, x64_emit.h, plugin/gc.h (object layout), vm.h.
 */
#include "weft/plugin/gc.h"
#include "x64_int.h"

/* -- i31 ------------------------------------------------------------------------------------- */

static void ref_i31(x64_fn *c) {
  x64_val v = x64_pop(c);
  x64_to_reg(c, &v, 0);
  x64_emit_shift_ri(c->b, X64_SHL, false, v.reg, 1); /* 32-bit: the upper half becomes 0 */
  x64_emit_alu_ri(c->b, X64_OR, false, v.reg, (int32_t)WEFT_GC_I31_TAG);
  x64_push_reg(c, X64_T_REF, v.reg);
}

static void i31_get(x64_fn *c, bool sign) {
  x64_val v = x64_pop(c);
  x64_to_reg(c, &v, 0);
  x64_emit_test_rr(c->b, true, v.reg, v.reg);
  x64_trap_if(c, X64_CC_E, WEFT_TRAP_NULL_I31);
  x64_emit_shift_ri(c->b, sign ? X64_SAR : X64_SHR, false, v.reg, 1);
  x64_push_reg(c, X64_T_I32, v.reg);
}

/* -- Type tests ------------------------------------------------------------------------------ */

/* Forward jumps inside one test sequence. */
typedef struct jumps {
  size_t at[8];
  uint32_t n;
} jumps;

static void jump_add(jumps *j, size_t at) {
  if (j->n < 8) j->at[j->n++] = at;
}

static void jumps_here(x64_fn *c, const jumps *j) {
  for (uint32_t i = 0; i < j->n; i++) x64_patch_rel32(c->b, j->at[i], c->b->len);
}

/* Whether the test of heap type `ht` can be compiled: abstract types, and struct/array types with
 * a canonical rtt. Function types (a funcref's type_index) are not done yet. */
static bool test_supported(x64_fn *c, uint32_t ht) {
  if (WEFT_HT_IS_ABSTRACT(ht)) return true;
  if (ht >= c->m->ntypes) return false;
  const weft_type *t = &c->m->types[ht];
  return (t->comp == WEFT_COMP_STRUCT || t->comp == WEFT_COMP_ARRAY) && t->rtt != NULL &&
         t->rtt->depth < (1u << 24);
}

/* r11 = v & 1 (nonzero for an i31). */
static void i31_bit(x64_fn *c, int v) {
  x64_emit_mov_rr(c->b, true, X64_SCRATCH, v);
  x64_emit_alu_ri(c->b, X64_AND, false, X64_SCRATCH, (int32_t)WEFT_GC_I31_TAG);
}

/* res (a GPR of the caller's) = 1 when the reference in `v` (kept) matches (ref null? ht), else 0.
 * Uses r11; the flags are clobbered. */
static void emit_test(x64_fn *c, int v, int res, uint32_t ht, bool nullable) {
  x64_buf *b = c->b;
  jumps yes = {{0}, 0}, no = {{0}, 0};
  x64_emit_mov_ri32(b, res, 0);
  x64_emit_test_rr(b, true, v, v);
  jump_add(nullable ? &yes : &no, x64_emit_jcc(b, X64_CC_E));
  if (WEFT_HT_IS_ABSTRACT(ht)) {
    uint32_t code = ht & 0xFFu;
    switch (code) {
    case WEFT_AHT_ANY: case WEFT_AHT_FUNC: case WEFT_AHT_EXTERN: case WEFT_AHT_EXN:
    case WEFT_AHT_CONT:
      jump_add(&yes, x64_emit_jmp(b)); /* every non-null value of the hierarchy */
      break;
    case WEFT_AHT_I31:
      i31_bit(c, v);
      jump_add(&yes, x64_emit_jcc(b, X64_CC_NE));
      jump_add(&no, x64_emit_jmp(b));
      break;
    case WEFT_AHT_EQ: case WEFT_AHT_STRUCT: case WEFT_AHT_ARRAY:
      i31_bit(c, v);
      jump_add(code == WEFT_AHT_EQ ? &yes : &no, x64_emit_jcc(b, X64_CC_NE));
      x64_emit_load(b, true, X64_SCRATCH, x64_m(v, 0)); /* the object's weft_gc_type */
      if (code == WEFT_AHT_EQ) {
        x64_emit_alu_mi(b, X64_CMP, false, x64_m(X64_SCRATCH, 8), (int32_t)WEFT_GC_EXTERN);
        jump_add(&yes, x64_emit_jcc(b, X64_CC_NE));
      } else {
        x64_emit_alu_mi(b, X64_CMP, false, x64_m(X64_SCRATCH, 8),
                        code == WEFT_AHT_STRUCT ? (int32_t)WEFT_GC_STRUCT : (int32_t)WEFT_GC_ARRAY);
        jump_add(&yes, x64_emit_jcc(b, X64_CC_E));
      }
      jump_add(&no, x64_emit_jmp(b));
      break;
    default: /* none, nofunc, noextern, noexn, nocont: only null */
      jump_add(&no, x64_emit_jmp(b));
      break;
    }
  } else {
    /* a concrete struct/array type: the value's rtt is the expected one or has it among its
     * supertypes at the expected one's depth */
    uint32_t depth = c->m->types[ht].rtt->depth;
    x64_mem expect = x64_m(X64_VMCTX, (int32_t)(c->mc->lay.rtts + 8u * ht));
    i31_bit(c, v);
    jump_add(&no, x64_emit_jcc(b, X64_CC_NE));
    x64_emit_load(b, true, X64_SCRATCH, x64_m(v, 0));            /* weft_gc_type */
    x64_emit_load(b, true, X64_SCRATCH, x64_m(X64_SCRATCH, 0));  /* its weft_rtt */
    x64_emit_alu_rm(b, X64_CMP, true, X64_SCRATCH, expect);
    jump_add(&yes, x64_emit_jcc(b, X64_CC_E));
    x64_emit_alu_mi(b, X64_CMP, false, x64_m(X64_SCRATCH, 4), (int32_t)depth); /* rtt depth */
    jump_add(&no, x64_emit_jcc(b, X64_CC_B));
    x64_emit_load(b, true, X64_SCRATCH, x64_m(X64_SCRATCH, 8));  /* supers */
    x64_emit_load(b, true, X64_SCRATCH, x64_m(X64_SCRATCH, (int32_t)(8u * depth)));
    x64_emit_alu_rm(b, X64_CMP, true, X64_SCRATCH, expect);
    jump_add(&yes, x64_emit_jcc(b, X64_CC_E));
    jump_add(&no, x64_emit_jmp(b));
  }
  jumps_here(c, &yes);
  x64_emit_mov_ri32(b, res, 1);
  jumps_here(c, &no);
}

/* ref.test / ref.cast: the value stays in its register; the result replaces it (test) or the
 * value is kept after a check that traps with "cast failure" (cast). */
static int ref_test_cast(x64_fn *c, const weft_instr *in, bool cast, bool nullable) {
  uint32_t ht = WEFT_VT_HEAP(in->imm.x.a);
  if (!test_supported(c, ht))
    return x64_fail(c, WEFT_ERR_UNSUPPORTED,
                    "function %u: %s to a function type is not supported by x64-codegen yet",
                    c->fidx, cast ? "ref.cast" : "ref.test");
  x64_val v = x64_pop(c);
  x64_to_reg(c, &v, 0);
  int res = x64_alloc_gpr(c, (uint16_t)(1u << v.reg));
  emit_test(c, v.reg, res, ht, nullable);
  if (cast) {
    x64_emit_test_rr(c->b, false, res, res);
    x64_trap_if(c, X64_CC_E, WEFT_TRAP_CAST_FAILURE);
    c->gpr_used &= (uint16_t)~(1u << res);
    x64_push_reg(c, X64_T_REF, v.reg);
  } else {
    x64_free_val(c, &v);
    x64_push_reg(c, X64_T_I32, res);
  }
  return 1;
}

/* br_on_cast (branch when the value matches) / br_on_cast_fail (when it does not); the value stays
 * on the stack either way. weft_instr.b bit 1: the target type is nullable. */
static int br_on_cast(x64_fn *c, const weft_instr *in, bool on_fail) {
  uint32_t ht = WEFT_VT_HEAP(in->imm.x.c);
  bool nullable = (in->b & 2u) != 0;
  if (!test_supported(c, ht))
    return x64_fail(c, WEFT_ERR_UNSUPPORTED,
                    "function %u: br_on_cast to a function type is not supported by x64-codegen yet",
                    c->fidx);
  x64_val v = x64_pop(c);
  x64_to_reg(c, &v, 0);
  int res = x64_alloc_gpr(c, (uint16_t)(1u << v.reg));
  emit_test(c, v.reg, res, ht, nullable);
  x64_push_reg(c, X64_T_REF, v.reg);
  x64_br_prepare(c, in->imm.x.a);
  x64_emit_test_rr(c->b, false, res, res);
  x64_br_if_cc(c, in->imm.x.a, on_fail ? X64_CC_E : X64_CC_NE);
  c->gpr_used &= (uint16_t)~(1u << res);
  return 1;
}

/* -- Dispatch -------------------------------------------------------------------------------- */

int x64_isel_gc(x64_fn *c, const weft_instr *in) {
  switch (in->op) {
  case WEFT_OP_REF_I31: ref_i31(c); return 1;
  case WEFT_OP_I31_GET_S: i31_get(c, true); return 1;
  case WEFT_OP_I31_GET_U: i31_get(c, false); return 1;
  case WEFT_OP_REF_TEST: return ref_test_cast(c, in, false, false);
  case WEFT_OP_REF_TEST_NULL: return ref_test_cast(c, in, false, true);
  case WEFT_OP_REF_CAST: return ref_test_cast(c, in, true, false);
  case WEFT_OP_REF_CAST_NULL: return ref_test_cast(c, in, true, true);
  case WEFT_OP_BR_ON_CAST: return br_on_cast(c, in, false);
  case WEFT_OP_BR_ON_CAST_FAIL: return br_on_cast(c, in, true);
  default: return 0;
  }
}
