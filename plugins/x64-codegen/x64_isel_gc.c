/* plugins/x64-codegen/x64_isel_gc.c -- GC instructions (0xFB prefix): ref.i31, i31.get_s/u,
 * ref.test, ref.cast, br_on_cast(_fail); struct.new(_default), struct.get(_s/_u), struct.set,
 * array.new(_default/_fixed), array.get(_s/_u), array.set, array.len; array.fill/copy/init_data/
 * init_elem/new_data/new_elem through the GC_ARRAY_OP libcall. struct.new and small
 * array.new_fixed bump-allocate inline from the store's region for their cell size (vm.h
 * weft_gc_region, layouts from the vmctx's gc_types) and fall back to the allocation libcalls
 * (GC_STRUCT_NEW, GC_ARRAY_NEW, GC_ARRAY_NEW_FIXED, core/gcroots.c); accesses are inline at the
 * offsets of the shared layout rule (weft_gc_field_offset_in, plugin/gc.h). v128 and continuation
 * fields and elements are 16 bytes (a continuation's {contref, revision} whole), moved with movdqu.
 * Representation: an i31ref is (v << 1) | 1; any other non-null value of the any hierarchy is a
 * gc-plugin object whose header starts with a weft_gc_type pointer, whose first word is the
 * canonical weft_rtt (subtyping: supers[depth] of the value's rtt). No stack maps from here: every
 * allocation libcall is reached with all values spilled. any.convert_extern / extern.convert_any
 * go through the GC_EXTERN_CONVERT libcall (boxes for host values entering any and i31 entering
 * extern). Depends on: x64_int.h, plugin/gc.h, vm.h.
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
  for (uint32_t i = 0; i < j->n; i++)
    x64_patch_rel32(c->b, j->at[i], c->b->len);
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
    case WEFT_AHT_ANY:
    case WEFT_AHT_FUNC:
    case WEFT_AHT_EXTERN:
    case WEFT_AHT_EXN:
    case WEFT_AHT_CONT:
      jump_add(&yes, x64_emit_jmp(b)); /* every non-null value of the hierarchy */
      break;
    case WEFT_AHT_I31:
      i31_bit(c, v);
      jump_add(&yes, x64_emit_jcc(b, X64_CC_NE));
      jump_add(&no, x64_emit_jmp(b));
      break;
    case WEFT_AHT_EQ:
    case WEFT_AHT_STRUCT:
    case WEFT_AHT_ARRAY:
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
    x64_emit_load(b, true, X64_SCRATCH, x64_m(v, 0));           /* weft_gc_type */
    x64_emit_load(b, true, X64_SCRATCH, x64_m(X64_SCRATCH, 0)); /* its weft_rtt */
    x64_emit_alu_rm(b, X64_CMP, true, X64_SCRATCH, expect);
    jump_add(&yes, x64_emit_jcc(b, X64_CC_E));
    x64_emit_alu_mi(b, X64_CMP, false, x64_m(X64_SCRATCH, 4), (int32_t)depth); /* rtt depth */
    jump_add(&no, x64_emit_jcc(b, X64_CC_B));
    x64_emit_load(b, true, X64_SCRATCH, x64_m(X64_SCRATCH, 8)); /* supers */
    x64_emit_load(b, true, X64_SCRATCH, x64_m(X64_SCRATCH, (int32_t)(8u * depth)));
    x64_emit_alu_rm(b, X64_CMP, true, X64_SCRATCH, expect);
    jump_add(&yes, x64_emit_jcc(b, X64_CC_E));
    jump_add(&no, x64_emit_jmp(b));
  }
  jumps_here(c, &yes);
  x64_emit_mov_ri32(b, res, 1);
  jumps_here(c, &no);
}

/* Whether heap type ht is a concrete function type (tested through FUNC_SUBTYPE). */
static bool func_type(x64_fn *c, uint32_t ht) {
  return !WEFT_HT_IS_ABSTRACT(ht) && ht < c->m->ntypes && c->m->types[ht].comp == WEFT_COMP_FUNC;
}

/* eax = 1 when the funcref on top of the (spilled) stack matches (ref null? ht), else 0: null
 * checks and an exact id match inline, subtyping through the FUNC_SUBTYPE libcall. The value stays
 * in its operand slot; rax is marked used. */
static void emit_func_test(x64_fn *c, uint32_t ht, bool nullable) {
  x64_buf *b = c->b;
  x64_save_pinned(c);
  x64_spill_all(c);
  jumps done = {{0}, 0};
  x64_emit_load(b, true, X64_SCRATCH, x64_slot(c, c->stk.n - 1));
  x64_emit_mov_ri32(b, X64_RAX, nullable ? 1u : 0u);
  x64_emit_test_rr(b, true, X64_SCRATCH, X64_SCRATCH);
  jump_add(&done, x64_emit_jcc(b, X64_CC_E));
  x64_emit_mov_ri32(b, X64_RAX, 1);
  x64_emit_load(b, false, X64_RDX, x64_m(X64_VMCTX, (int32_t)(c->mc->lay.type_ids + 4u * ht)));
  x64_emit_load(b, false, X64_RSI, x64_m(X64_SCRATCH, 16)); /* weft_funcref.type_index */
  x64_emit_alu_rr(b, X64_CMP, false, X64_RSI, X64_RDX);
  jump_add(&done, x64_emit_jcc(b, X64_CC_E));
  x64_emit_mov_rr(b, true, X64_RDI, X64_VMCTX);
  x64_call_libcall(c, WEFT_LC_FUNC_SUBTYPE);
  x64_after_libcall(c);
  jumps_here(c, &done);
  c->gpr_used |= 1u << X64_RAX;
}

/* ref.test / ref.cast: the value stays in its register; the result replaces it (test) or the
 * value is kept after a check that traps with "cast failure" (cast). */
static int ref_test_cast(x64_fn *c, const weft_instr *in, bool cast, bool nullable) {
  uint32_t ht = WEFT_VT_HEAP(in->imm.x.a);
  if (func_type(c, ht)) {
    emit_func_test(c, ht, nullable);
    if (cast) {
      x64_emit_test_rr(c->b, false, X64_RAX, X64_RAX);
      x64_trap_if(c, X64_CC_E, WEFT_TRAP_CAST_FAILURE);
      c->gpr_used &= (uint16_t)~(1u << X64_RAX);
    } else {
      x64_val v = x64_pop(c);
      x64_free_val(c, &v);
      x64_push_reg(c, X64_T_I32, X64_RAX);
    }
    return 1;
  }
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
    c->gpr_used &= (uint16_t) ~(1u << res);
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
  if (func_type(c, ht)) {
    emit_func_test(c, ht, nullable);
    x64_br_prepare(c, in->imm.x.a);
    x64_emit_test_rr(c->b, false, X64_RAX, X64_RAX);
    x64_br_if_cc(c, in->imm.x.a, on_fail ? X64_CC_E : X64_CC_NE);
    c->gpr_used &= (uint16_t)~(1u << X64_RAX);
    return 1;
  }
  if (!test_supported(c, ht))
    return x64_fail(
        c, WEFT_ERR_UNSUPPORTED,
        "function %u: br_on_cast to a function type is not supported by x64-codegen yet", c->fidx);
  x64_val v = x64_pop(c);
  x64_to_reg(c, &v, 0);
  int res = x64_alloc_gpr(c, (uint16_t)(1u << v.reg));
  emit_test(c, v.reg, res, ht, nullable);
  x64_push_reg(c, X64_T_REF, v.reg);
  x64_br_prepare(c, in->imm.x.a);
  x64_emit_test_rr(c->b, false, res, res);
  x64_br_if_cc(c, in->imm.x.a, on_fail ? X64_CC_E : X64_CC_NE);
  c->gpr_used &= (uint16_t) ~(1u << res);
  return 1;
}

/* -- Heap objects ---------------------------------------------------------------------------- */

/* Fields and elements of 16 bytes: v128 and continuation references ({contref, revision}). Their
 * values are X64_T_V128 on the value stack and spill to 16-byte slots (x64_vslot). */
static bool wide16(x64_fn *c, weft_valtype st) {
  return WEFT_VT_KIND(st) == WEFT_VT_V128 || x64_cont_field(c, st);
}

static void call_prologue(x64_fn *c) {
  x64_save_pinned(c);
  x64_spill_all(c);
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
}

static void push_rax_ref(x64_fn *c) {
  c->gpr_used |= 1u << X64_RAX;
  x64_push_reg(c, X64_T_REF, X64_RAX);
}

static bool struct_type(x64_fn *c, uint32_t t) {
  return t < c->m->ntypes && c->m->types[t].comp == WEFT_COMP_STRUCT;
}
static bool array_type(x64_fn *c, uint32_t t) {
  return t < c->m->ntypes && c->m->types[t].comp == WEFT_COMP_ARRAY;
}

static int unsupported(x64_fn *c, const char *what) {
  return x64_fail(c, WEFT_ERR_UNSUPPORTED, "function %u: %s is not supported by x64-codegen yet",
                  c->fidx, what);
}

/* The spilled 16-byte value at operand depth `depth` stored at m (after a libcall: the operand's
 * 16-byte slot is still intact). Uses xmm15. */
static void store_wide_slot(x64_fn *c, uint32_t depth, x64_mem m) {
  x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_LD, X64_XSCRATCH, x64_vslot(c, depth));
  x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_ST, X64_XSCRATCH, m);
}

/* -- Inline allocation ----------------------------------------------------------------------- */

/* The inline fast path of an allocation of `bytes` (header included) of module type t, with every
 * operand already spilled: rcx = the type's weft_gc_type from the vmctx (NULL until the libcall has
 * met the type), rdx = the store context, rax = the region's ptr for the object's cell size, bumped
 * unless it would pass end; then the header {type, length, flags 0}. Returns the number of jumps
 * to the slow path written to slow[0..2). Uses rax, rcx, rdx, r8 (never pinned: the pinned GPRs
 * are rbx, r12, r13, rsi, rdi) and r11. */
static uint32_t inline_alloc_head(x64_fn *c, uint32_t t, uint64_t bytes, uint32_t length,
                                  size_t slow[2]) {
  x64_buf *b = c->b;
  uint32_t cell = (uint32_t)((bytes + 15u) & ~(uint64_t)15u);
  uint32_t k = cell / 16u - 1u;
  int32_t rg = (int32_t)(offsetof(weft_store_ctx, gc_regions) + 16u * k);
  x64_emit_load(b, true, X64_RCX, x64_m(X64_VMCTX, (int32_t)(c->mc->lay.gc_types + 8u * t)));
  x64_emit_test_rr(b, true, X64_RCX, X64_RCX);
  slow[0] = x64_emit_jcc(b, X64_CC_E);
  x64_emit_load(b, true, X64_RDX, x64_m(X64_VMCTX, (int32_t)offsetof(weft_vmctx_header, store_ctx)));
  x64_emit_load(b, true, X64_RAX, x64_m(X64_RDX, rg));
  x64_emit_lea(b, true, X64_R8, x64_m(X64_RAX, (int32_t)cell));
  x64_emit_alu_rm(b, X64_CMP, true, X64_R8, x64_m(X64_RDX, rg + 8));
  slow[1] = x64_emit_jcc(b, X64_CC_A);
  x64_emit_store(b, true, x64_m(X64_RDX, rg), X64_R8);
  x64_emit_store(b, true, x64_m(X64_RAX, 0), X64_RCX);
  if (length == 0) {
    x64_emit_store_imm32(b, true, x64_m(X64_RAX, 8), 0);
  } else {
    x64_emit_store_imm32(b, false, x64_m(X64_RAX, 8), (int32_t)length);
    x64_emit_store_imm32(b, false, x64_m(X64_RAX, 12), 0);
  }
  return 2;
}

/* Copy the spilled operand at `depth` (storage type st) to m, or store zero when `zero`. */
static void inline_field(x64_fn *c, weft_valtype st, uint32_t depth, bool zero, x64_mem m) {
  x64_buf *b = c->b;
  if (wide16(c, st)) {
    if (zero) {
      x64_emit_store_imm32(b, true, m, 0);
      m.disp += 8;
      x64_emit_store_imm32(b, true, m, 0);
    } else {
      store_wide_slot(c, depth, m);
    }
    return;
  }
  uint32_t sz = weft_gc_storage_size(st);
  if (zero) {
    x64_emit_mov_ri32(b, X64_R8, 0);
  } else {
    x64_emit_load(b, sz == 8, X64_R8, x64_slot(c, depth));
  }
  switch (sz) {
  case 1: x64_emit_store8(b, m, X64_R8); break;
  case 2: x64_emit_store16(b, m, X64_R8); break;
  case 4: x64_emit_store(b, false, m, X64_R8); break;
  default: x64_emit_store(b, true, m, X64_R8); break;
  }
}

/* Whether this allocation may be inline: a small object and the vmctx has the gc_types array. */
static bool inline_ok(x64_fn *c, uint64_t bytes) {
  return bytes <= 16u * WEFT_GC_NREGIONS && c->mc->lay.gc_types != 0 && c->m->ntypes > 0;
}

static uint8_t scale_of(uint32_t size) { return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3; }

/* The inline fast path of array.new / array.new_default whose length is only known at run time
 * (every operand spilled): r9 = the length from its slot; taken when the array fits a region's
 * cell (16 + length * esz <= 512 bytes): r10 = the cell size, r11 = its region in the store
 * context, rax = the bumped object, then the header and a loop storing the init value (form 0:
 * from its slot) or zero into every element. Jumps to the slow path are written to slow[0..3).
 * Uses rax, rcx, rdx, r8-r11 and xmm15 (none pinned). */
static uint32_t inline_array_dyn(x64_fn *c, uint32_t t, weft_valtype et, uint32_t base, int form,
                                 size_t slow[3]) {
  x64_buf *b = c->b;
  uint32_t esz = weft_gc_storage_size_in(c->m, et);
  bool wide = esz == 16u;
  uint32_t most = (16u * WEFT_GC_NREGIONS - WEFT_GC_HEADER_SIZE) / esz;
  x64_emit_load(b, false, X64_R9, x64_slot(c, form == 0 ? base + 1 : base));
  x64_emit_alu_ri(b, X64_CMP, false, X64_R9, (int32_t)most);
  slow[0] = x64_emit_jcc(b, X64_CC_A);
  /* r10 = (16 + 15 + len * esz) & ~15: the cell */
  uint8_t shift = wide ? 4 : scale_of(esz);
  x64_emit_mov_rr(b, true, X64_R10, X64_R9);
  if (shift > 0) x64_emit_shift_ri(b, X64_SHL, true, X64_R10, shift);
  x64_emit_alu_ri(b, X64_ADD, true, X64_R10, (int32_t)(WEFT_GC_HEADER_SIZE + 15u));
  x64_emit_alu_ri(b, X64_AND, true, X64_R10, -16);
  x64_emit_load(b, true, X64_RCX, x64_m(X64_VMCTX, (int32_t)(c->mc->lay.gc_types + 8u * t)));
  x64_emit_test_rr(b, true, X64_RCX, X64_RCX);
  slow[1] = x64_emit_jcc(b, X64_CC_E);
  x64_emit_load(b, true, X64_RDX, x64_m(X64_VMCTX, (int32_t)offsetof(weft_vmctx_header, store_ctx)));
  /* region of cell size r10: gc_regions + 16 * (r10 / 16 - 1) = gc_regions - 16 + r10 */
  x64_emit_lea(b, true, X64_R11,
               x64_mi(X64_RDX, X64_R10, 0, (int32_t)offsetof(weft_store_ctx, gc_regions) - 16));
  x64_emit_load(b, true, X64_RAX, x64_m(X64_R11, 0));
  x64_emit_lea(b, true, X64_R8, x64_mi(X64_RAX, X64_R10, 0, 0));
  x64_emit_alu_rm(b, X64_CMP, true, X64_R8, x64_m(X64_R11, 8));
  slow[2] = x64_emit_jcc(b, X64_CC_A);
  x64_emit_store(b, true, x64_m(X64_R11, 0), X64_R8);
  x64_emit_store(b, true, x64_m(X64_RAX, 0), X64_RCX);
  x64_emit_store(b, false, x64_m(X64_RAX, 8), X64_R9);
  x64_emit_store_imm32(b, false, x64_m(X64_RAX, 12), 0);
  /* r10 = first element, r11 = end of the elements; the value in r8 / xmm15 */
  x64_emit_lea(b, true, X64_R10, x64_m(X64_RAX, (int32_t)WEFT_GC_HEADER_SIZE));
  if (wide) {
    x64_emit_mov_rr(b, true, X64_R11, X64_R9);
    x64_emit_shift_ri(b, X64_SHL, true, X64_R11, 4);
    x64_emit_alu_rr(b, X64_ADD, true, X64_R11, X64_R10);
    if (form == 0)
      x64_emit_sse_rm(b, X64_PF3, X64_SSE_MOVDQU_LD, X64_XSCRATCH, x64_vslot(c, base));
  } else {
    x64_emit_lea(b, true, X64_R11, x64_mi(X64_R10, X64_R9, scale_of(esz), 0));
    if (form == 0)
      x64_emit_load(b, esz == 8u, X64_R8, x64_slot(c, base));
    else
      x64_emit_mov_ri32(b, X64_R8, 0);
  }
  size_t top = b->len;
  x64_emit_alu_rr(b, X64_CMP, true, X64_R10, X64_R11);
  size_t out = x64_emit_jcc(b, X64_CC_AE);
  x64_mem at = x64_m(X64_R10, 0);
  switch (esz) {
  case 1: x64_emit_store8(b, at, X64_R8); break;
  case 2: x64_emit_store16(b, at, X64_R8); break;
  case 4: x64_emit_store(b, false, at, X64_R8); break;
  case 8: x64_emit_store(b, true, at, X64_R8); break;
  default:
    if (form == 0) {
      x64_emit_sse_rm(b, X64_PF3, X64_SSE_MOVDQU_ST, X64_XSCRATCH, at);
    } else {
      x64_emit_store_imm32(b, true, at, 0);
      x64_emit_store_imm32(b, true, x64_m(X64_R10, 8), 0);
    }
    break;
  }
  x64_emit_alu_ri(b, X64_ADD, true, X64_R10, (int32_t)esz);
  x64_patch_rel32(b, x64_emit_jmp(b), top);
  x64_patch_rel32(b, out, b->len);
  return 3;
}

/* -- struct.new, array.new ------------------------------------------------------------------- */

/* struct.new / struct.new_default: inline bump allocation (inline_alloc_head) with the fields
 * copied from their operand slots, else GC_STRUCT_NEW with the fields as the top operand slots (the
 * libcall stores the low word of 16-byte fields, the code after it the whole value). */
static int struct_new(x64_fn *c, const weft_instr *in, bool dflt) {
  uint32_t t = in->imm.x.a;
  if (!struct_type(c, t)) return unsupported(c, "struct.new of a non-struct type");
  const weft_type *ty = &c->m->types[t];
  uint32_t n = dflt ? 0 : ty->u.strct.nfields;
  if (n > c->stk.n)
    return x64_fail(c, WEFT_ERR_INVALID, "function %u: struct.new without its fields", c->fidx);
  x64_spill_all(c);
  x64_cache_clear(c);
  uint32_t base = c->stk.n - n;
  (void)x64_slot(c, base + n);
  uint64_t bytes = weft_gc_struct_size_in(c->m, ty);
  size_t slow[2], done = 0;
  uint32_t nslow = 0;
  bool inl = inline_ok(c, bytes);
  if (inl) {
    nslow = inline_alloc_head(c, t, bytes, 0, slow);
    for (uint32_t i = 0; i < ty->u.strct.nfields; i++)
      inline_field(c, ty->u.strct.fields[i].type, base + i, dflt,
                   x64_m(X64_RAX, (int32_t)weft_gc_field_offset_in(c->m, ty, i)));
    done = x64_emit_jmp(c->b);
    for (uint32_t i = 0; i < nslow; i++) x64_patch_rel32(c->b, slow[i], c->b->len);
  }
  x64_save_pinned(c);
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  if (dflt)
    x64_emit_mov_ri32(c->b, X64_RDX, 0);
  else
    x64_emit_lea(c->b, true, X64_RDX, x64_slot(c, base));
  x64_emit_mov_ri32(c->b, X64_RSI, t);
  x64_call_libcall(c, WEFT_LC_GC_STRUCT_NEW);
  x64_after_libcall(c);
  for (uint32_t i = 0; i < n; i++)
    if (wide16(c, ty->u.strct.fields[i].type))
      store_wide_slot(c, base + i, x64_m(X64_RAX, (int32_t)weft_gc_field_offset_in(c->m, ty, i)));
  if (inl) x64_patch_rel32(c->b, done, c->b->len);
  for (uint32_t i = 0; i < n; i++)
    (void)x64_pop(c);
  push_rax_ref(c);
  return 1;
}

/* array.new / array.new_default / array.new_fixed. A 16-byte init value is passed by the address
 * of its 16-byte slot; array.new_fixed's 16-byte elements are stored after the call. A small
 * array.new_fixed, and array.new(_default) of a constant length up to 16, are allocated inline. */
static int array_new(x64_fn *c, const weft_instr *in, int form) {
  uint32_t t = in->imm.x.a;
  if (!array_type(c, t)) return unsupported(c, "array.new of a non-array type");
  weft_valtype et = c->m->types[t].u.array.type;
  uint32_t nin = form == 0 ? 2 : form == 1 ? 1 : in->imm.x.b;
  if (nin > c->stk.n)
    return x64_fail(c, WEFT_ERR_INVALID, "function %u: array.new without its operands", c->fidx);
  /* the length of array.new(_default) when it is a small constant (before the spill forgets it) */
  uint32_t len = form == 2 ? nin : UINT32_MAX;
  if (form != 2) { /* nin >= 1 operands are on the stack, the length on top */
    const x64_val *top = &c->stk.v[c->stk.n - 1];
    if (top->kind == X64_VK_CONST && (uint32_t)top->imm <= 16u) len = (uint32_t)top->imm;
  }
  x64_spill_all(c);
  x64_cache_clear(c);
  uint32_t base = c->stk.n - nin;
  (void)x64_slot(c, base + nin);
  bool wide = wide16(c, et);
  uint32_t esz = weft_gc_storage_size_in(c->m, et);
  uint64_t bytes = WEFT_GC_HEADER_SIZE + (uint64_t)esz * (len == UINT32_MAX ? 0 : len);
  size_t slow[2], done = 0;
  uint32_t nslow = 0;
  size_t slow3[3];
  bool dyn = len == UINT32_MAX && inline_ok(c, 0);
  bool inl = len != UINT32_MAX && inline_ok(c, bytes);
  if (dyn) { /* a length known at run time */
    nslow = inline_array_dyn(c, t, et, base, form, slow3);
    done = x64_emit_jmp(c->b);
    for (uint32_t i = 0; i < nslow; i++) x64_patch_rel32(c->b, slow3[i], c->b->len);
  }
  if (inl) { /* fixed: element i from operand i; array.new: each the init operand; _default: 0 */
    nslow = inline_alloc_head(c, t, bytes, len, slow);
    for (uint32_t i = 0; i < len; i++)
      inline_field(c, et, form == 2 ? base + i : base, form == 1,
                   x64_m(X64_RAX, (int32_t)(WEFT_GC_HEADER_SIZE + esz * i)));
    done = x64_emit_jmp(c->b);
    for (uint32_t i = 0; i < nslow; i++) x64_patch_rel32(c->b, slow[i], c->b->len);
  }
  x64_save_pinned(c);
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  if (form == 0) { /* [init, len] */
    x64_emit_load(c->b, false, X64_RDX, x64_slot(c, base + 1));
    x64_emit_lea(c->b, true, X64_RCX, wide ? x64_vslot(c, base) : x64_slot(c, base));
  } else if (form == 1) { /* [len] */
    x64_emit_load(c->b, false, X64_RDX, x64_slot(c, base));
    x64_emit_mov_ri32(c->b, X64_RCX, 0);
  } else { /* [v0 .. vn-1] */
    x64_emit_mov_ri32(c->b, X64_RDX, nin);
    x64_emit_lea(c->b, true, X64_RCX, x64_slot(c, base));
  }
  x64_emit_mov_ri32(c->b, X64_RSI, t);
  x64_call_libcall(c, form == 2 ? WEFT_LC_GC_ARRAY_NEW_FIXED : WEFT_LC_GC_ARRAY_NEW);
  x64_after_libcall(c);
  if (wide && form == 2)
    for (uint32_t i = 0; i < nin; i++)
      store_wide_slot(c, base + i, x64_m(X64_RAX, (int32_t)(WEFT_GC_HEADER_SIZE + 16u * i)));
  if (inl || dyn) x64_patch_rel32(c->b, done, c->b->len);
  for (uint32_t i = 0; i < nin; i++)
    (void)x64_pop(c);
  push_rax_ref(c);
  return 1;
}

/* Load a value of storage type `st` at m into a fresh stack entry; `gpr` is a register the caller
 * owns and gives up (the base of m may be it). */
static void load_field(x64_fn *c, weft_valtype st, bool sign, int gpr, x64_mem m) {
  x64_buf *b = c->b;
  switch (WEFT_VT_KIND(st)) {
  case WEFT_VT_I8:
    x64_emit_loadx(b, sign ? 0xBEu : 0xB6u, false, gpr, m);
    x64_push_reg(c, X64_T_I32, gpr);
    return;
  case WEFT_VT_I16:
    x64_emit_loadx(b, sign ? 0xBFu : 0xB7u, false, gpr, m);
    x64_push_reg(c, X64_T_I32, gpr);
    return;
  case WEFT_VT_I32:
    x64_emit_load(b, false, gpr, m);
    x64_push_reg(c, X64_T_I32, gpr);
    return;
  case WEFT_VT_I64:
    x64_emit_load(b, true, gpr, m);
    x64_push_reg(c, X64_T_I64, gpr);
    return;
  case WEFT_VT_F32:
  case WEFT_VT_F64: {
    bool w = WEFT_VT_KIND(st) == WEFT_VT_F64;
    x64_emit_load(b, w, gpr, m);
    int x = x64_alloc_xmm(c);
    x64_emit_movd_xr(b, w, x, gpr);
    c->gpr_used &= (uint16_t) ~(1u << gpr);
    x64_push_reg(c, w ? X64_T_F64 : X64_T_F32, x);
    return;
  }
  default:
    if (wide16(c, st)) { /* v128, or the whole {contref, revision} */
      int x = x64_alloc_xmm(c);
      x64_emit_sse_rm(b, X64_PF3, X64_SSE_MOVDQU_LD, x, m);
      c->gpr_used &= (uint16_t) ~(1u << gpr);
      x64_push_reg(c, X64_T_V128, x);
      return;
    }
    x64_emit_load(b, true, gpr, m);
    x64_push_reg(c, X64_T_REF, gpr);
    return;
  }
}

/* Store value v (in a register) of storage type st at m; v is freed. Uses r11 for floats. A
 * continuation reference (X64_T_V128) is stored whole. */
static void store_field(x64_fn *c, weft_valtype st, x64_val *v, x64_mem m) {
  x64_buf *b = c->b;
  int r = v->reg;
  if (v->type == X64_T_V128) {
    x64_emit_sse_rm(b, X64_PF3, X64_SSE_MOVDQU_ST, v->reg, m);
    x64_free_val(c, v);
    return;
  }
  if (X64_IS_FLOAT(v->type)) {
    x64_emit_movd_rx(b, v->type == X64_T_F64, X64_SCRATCH, v->reg);
    r = X64_SCRATCH;
  }
  switch (weft_gc_storage_size(st)) {
  case 1: x64_emit_store8(b, m, r); break;
  case 2: x64_emit_store16(b, m, r); break;
  case 4: x64_emit_store(b, false, m, r); break;
  default: x64_emit_store(b, true, m, r); break;
  }
  x64_free_val(c, v);
}

static int struct_get(x64_fn *c, const weft_instr *in, bool sign) {
  uint32_t t = in->imm.x.a, f = in->imm.x.b;
  if (!struct_type(c, t) || f >= c->m->types[t].u.strct.nfields)
    return unsupported(c, "struct.get of a bad field");
  const weft_type *ty = &c->m->types[t];
  weft_valtype st = ty->u.strct.fields[f].type;
  x64_val r = x64_pop(c);
  x64_to_reg(c, &r, 0);
  x64_emit_test_rr(c->b, true, r.reg, r.reg);
  x64_trap_if(c, X64_CC_E, WEFT_TRAP_NULL_STRUCT);
  load_field(c, st, sign, r.reg, x64_m(r.reg, (int32_t)weft_gc_field_offset_in(c->m, ty, f)));
  return 1;
}

static int struct_set(x64_fn *c, const weft_instr *in) {
  uint32_t t = in->imm.x.a, f = in->imm.x.b;
  if (!struct_type(c, t) || f >= c->m->types[t].u.strct.nfields)
    return unsupported(c, "struct.set of a bad field");
  const weft_type *ty = &c->m->types[t];
  weft_valtype st = ty->u.strct.fields[f].type;
  x64_val v = x64_pop(c), r = x64_pop(c);
  x64_to_reg(c, &v, 0);
  x64_to_reg(c, &r, X64_IS_XMM(v.type) ? 0 : (uint16_t)(1u << v.reg));
  x64_emit_test_rr(c->b, true, r.reg, r.reg);
  x64_trap_if(c, X64_CC_E, WEFT_TRAP_NULL_STRUCT);
  store_field(c, st, &v, x64_m(r.reg, (int32_t)weft_gc_field_offset_in(c->m, ty, f)));
  x64_free_val(c, &r);
  return 1;
}

/* Null and bounds checks of array ref r with index idx (both in registers); idx zero-extended. */
static void array_check(x64_fn *c, const x64_val *r, const x64_val *idx) {
  x64_emit_test_rr(c->b, true, r->reg, r->reg);
  x64_trap_if(c, X64_CC_E, WEFT_TRAP_NULL_ARRAY);
  x64_emit_mov_rr(c->b, false, idx->reg, idx->reg);
  x64_emit_alu_rm(c->b, X64_CMP, false, idx->reg, x64_m(r->reg, 8));
  x64_trap_if(c, X64_CC_AE, WEFT_TRAP_ARRAY_OOB);
}

/* The element at idx (checked, zero-extended) of array r. 16-byte elements have no SIB scale: their
 * byte offset is formed in r11. */
static x64_mem elem_at(x64_fn *c, weft_valtype st, const x64_val *r, const x64_val *idx) {
  uint32_t sz = weft_gc_storage_size_in(c->m, st);
  if (sz <= 8) return x64_mi(r->reg, idx->reg, scale_of(sz), (int32_t)WEFT_GC_HEADER_SIZE);
  x64_emit_mov_rr(c->b, true, X64_SCRATCH, idx->reg);
  x64_emit_shift_ri(c->b, X64_SHL, true, X64_SCRATCH, 4);
  return x64_mi(r->reg, X64_SCRATCH, 0, (int32_t)WEFT_GC_HEADER_SIZE);
}

static int array_get(x64_fn *c, const weft_instr *in, bool sign) {
  uint32_t t = in->imm.x.a;
  if (!array_type(c, t)) return unsupported(c, "array.get of a non-array type");
  weft_valtype st = c->m->types[t].u.array.type;
  x64_val idx = x64_pop(c), r = x64_pop(c);
  x64_to_reg(c, &idx, 0);
  x64_to_reg(c, &r, (uint16_t)(1u << idx.reg));
  array_check(c, &r, &idx);
  x64_mem m = elem_at(c, st, &r, &idx);
  x64_free_val(c, &idx);
  load_field(c, st, sign, r.reg, m);
  return 1;
}

static int array_set(x64_fn *c, const weft_instr *in) {
  uint32_t t = in->imm.x.a;
  if (!array_type(c, t)) return unsupported(c, "array.set of a non-array type");
  weft_valtype st = c->m->types[t].u.array.type;
  x64_val v = x64_pop(c), idx = x64_pop(c), r = x64_pop(c);
  x64_to_reg(c, &v, 0);
  uint16_t avoid = X64_IS_XMM(v.type) ? 0 : (uint16_t)(1u << v.reg);
  x64_to_reg(c, &idx, avoid);
  x64_to_reg(c, &r, (uint16_t)(avoid | (1u << idx.reg)));
  array_check(c, &r, &idx);
  store_field(c, st, &v, elem_at(c, st, &r, &idx));
  x64_free_val(c, &idx);
  x64_free_val(c, &r);
  return 1;
}

static void array_len(x64_fn *c) {
  x64_val r = x64_pop(c);
  x64_to_reg(c, &r, 0);
  x64_emit_test_rr(c->b, true, r.reg, r.reg);
  x64_trap_if(c, X64_CC_E, WEFT_TRAP_NULL_ARRAY);
  x64_emit_load(c->b, false, r.reg, x64_m(r.reg, 8));
  x64_push_reg(c, X64_T_I32, r.reg);
}

/* array.fill/copy/init_data/init_elem/new_data/new_elem through GC_ARRAY_OP: rsi = the opcode,
 * edx/ecx = its immediates, r8 = its operands (the top `n` operand slots). */
static int array_op(x64_fn *c, const weft_instr *in, uint32_t n, bool result) {
  if (c->stk.n < n) return 0;
  call_prologue(c);
  uint32_t base = c->stk.n - n;
  (void)x64_slot(c, base + n);
  if (in->op == WEFT_OP_ARRAY_FILL && wide16(c, c->m->types[in->imm.x.a].u.array.type)) {
    /* array.fill's 16-byte value goes by the address of its slot, in its 8-byte operand slot */
    x64_emit_lea(c->b, true, X64_SCRATCH, x64_vslot(c, base + 2));
    x64_emit_store(c->b, true, x64_slot(c, base + 2), X64_SCRATCH);
  }
  x64_emit_lea(c->b, true, X64_R8, x64_slot(c, base));
  for (uint32_t i = 0; i < n; i++)
    (void)x64_pop(c);
  x64_emit_mov_ri32(c->b, X64_RSI, in->op);
  x64_emit_mov_ri32(c->b, X64_RDX, in->imm.x.a);
  x64_emit_mov_ri32(c->b, X64_RCX, in->imm.x.b);
  x64_call_libcall(c, WEFT_LC_GC_ARRAY_OP);
  x64_after_libcall(c);
  if (result) push_rax_ref(c);
  return 1;
}

/* any.convert_extern / extern.convert_any through GC_EXTERN_CONVERT (host values and i31 values
 * cross in boxes, core/gcroots.c). */
static int extern_convert(x64_fn *c, bool to_any) {
  call_prologue(c);
  x64_emit_load(c->b, true, X64_RSI, x64_slot(c, c->stk.n - 1));
  (void)x64_pop(c);
  x64_emit_mov_ri32(c->b, X64_RDX, to_any ? 1u : 0u);
  x64_call_libcall(c, WEFT_LC_GC_EXTERN_CONVERT);
  x64_after_libcall(c);
  push_rax_ref(c);
  return 1;
}

/* -- Dispatch -------------------------------------------------------------------------------- */

/* Operands an instruction pops (those with a count in their immediate check it themselves). */
static uint32_t operands(uint16_t op) {
  switch (op) {
  case WEFT_OP_STRUCT_SET:
  case WEFT_OP_ARRAY_GET:
  case WEFT_OP_ARRAY_GET_S:
  case WEFT_OP_ARRAY_GET_U:
  case WEFT_OP_ARRAY_NEW: return 2;
  case WEFT_OP_ARRAY_SET: return 3;
  case WEFT_OP_STRUCT_NEW:
  case WEFT_OP_ARRAY_NEW_FIXED: return 0;
  default: return 1;
  }
}

int x64_isel_gc(x64_fn *c, const weft_instr *in) {
  /* an operand stack too short means an unvalidated module: leave it to the caller's refusal */
  if (c->stk.n < operands(in->op) && in->op != WEFT_OP_STRUCT_NEW_DEFAULT) return 0;
  switch (in->op) {
  case WEFT_OP_REF_I31: ref_i31(c); return 1;
  case WEFT_OP_STRUCT_NEW: return struct_new(c, in, false);
  case WEFT_OP_STRUCT_NEW_DEFAULT: return struct_new(c, in, true);
  case WEFT_OP_STRUCT_GET:
  case WEFT_OP_STRUCT_GET_U: return struct_get(c, in, false);
  case WEFT_OP_STRUCT_GET_S: return struct_get(c, in, true);
  case WEFT_OP_STRUCT_SET: return struct_set(c, in);
  case WEFT_OP_ARRAY_NEW: return array_new(c, in, 0);
  case WEFT_OP_ARRAY_NEW_DEFAULT: return array_new(c, in, 1);
  case WEFT_OP_ARRAY_NEW_FIXED: return array_new(c, in, 2);
  case WEFT_OP_ARRAY_GET:
  case WEFT_OP_ARRAY_GET_U: return array_get(c, in, false);
  case WEFT_OP_ARRAY_GET_S: return array_get(c, in, true);
  case WEFT_OP_ARRAY_SET: return array_set(c, in);
  case WEFT_OP_ARRAY_LEN: array_len(c); return 1;
  case WEFT_OP_ANY_CONVERT_EXTERN:
  case WEFT_OP_EXTERN_CONVERT_ANY:
    return extern_convert(c, in->op == WEFT_OP_ANY_CONVERT_EXTERN);
  case WEFT_OP_ARRAY_FILL:
  case WEFT_OP_ARRAY_COPY:
  case WEFT_OP_ARRAY_INIT_DATA:
  case WEFT_OP_ARRAY_INIT_ELEM:
  case WEFT_OP_ARRAY_NEW_DATA:
  case WEFT_OP_ARRAY_NEW_ELEM: {
    if (!array_type(c, in->imm.x.a))
      return unsupported(c, "a bulk array instruction on a non-array type");
    bool made = in->op == WEFT_OP_ARRAY_NEW_DATA || in->op == WEFT_OP_ARRAY_NEW_ELEM;
    uint32_t n = made ? 2 : in->op == WEFT_OP_ARRAY_COPY ? 5 : 4;
    return array_op(c, in, n, made);
  }
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
