/* plugins/x64-codegen/x64_isel_num.c -- instruction selection for the numeric instructions:
 * i32/i64 arithmetic, comparisons (fused with a following br_if / if), division with explicit
 * trap checks, f32/f64 arithmetic with Wasm's NaN and signed-zero rules, conversions (trapping and
 * saturating), reinterpretations and sign extension.
 * Depends on: x64_int.h (value stack, traps), x64_emit.h.
 */
#include "x64_int.h"

/* -- Helpers --------------------------------------------------------------------------------- */

static bool imm_fits(const x64_val *v, bool w) {
  if (v->kind != X64_VK_CONST) return false;
  if (!w) return true;
  int64_t s = (int64_t)v->imm;
  return s >= INT32_MIN && s <= INT32_MAX;
}

static int swap_cc(int cc) {
  switch (cc) {
  case X64_CC_L: return X64_CC_G;
  case X64_CC_G: return X64_CC_L;
  case X64_CC_LE: return X64_CC_GE;
  case X64_CC_GE: return X64_CC_LE;
  case X64_CC_B: return X64_CC_A;
  case X64_CC_A: return X64_CC_B;
  case X64_CC_BE: return X64_CC_AE;
  case X64_CC_AE: return X64_CC_BE;
  default: return cc;
  }
}

static unsigned fsz(int type) { return type == X64_T_F64 ? X64_PF2 : X64_PF3; }

/* xmm15 = the constant `bits`. */
static void xconst(x64_fn *c, bool dbl, uint64_t bits) {
  x64_emit_mov_ri(c->b, X64_SCRATCH, bits);
  x64_emit_movd_xr(c->b, dbl, X64_XSCRATCH, X64_SCRATCH);
}

static bool fusable(const weft_instr *next) {
  return next && (next->op == WEFT_OP_BR_IF || next->op == WEFT_OP_IF);
}

/* Flags are about to be set for condition `cc`: do what the fused branch needs first. */
static void fuse_prepare(x64_fn *c, const weft_instr *next) {
  if (next->op == WEFT_OP_BR_IF)
    x64_br_prepare(c, next->imm.x.a);
  else
    x64_spill_all(c);
}

static void fuse_finish(x64_fn *c, const weft_instr *next, int cc) {
  if (next->op == WEFT_OP_BR_IF)
    x64_br_if_cc(c, next->imm.x.a, cc);
  else
    x64_if_cc(c, next, cc);
}

/* Materialise condition `cc` (flags set) as an i32 0/1 in a new register. */
static void push_setcc(x64_fn *c, int cc, int reg) {
  x64_emit_setcc(c->b, cc, reg);
  x64_emit_movzx8_rr(c->b, reg, reg);
  x64_push_reg(c, X64_T_I32, reg);
}

/* -- Integer --------------------------------------------------------------------------------- */

static void int_binop(x64_fn *c, int aluop, bool w, bool mul) {
  x64_val b = x64_pop(c), a = x64_pop(c);
  if (a.kind == X64_VK_CONST && b.kind != X64_VK_CONST && aluop != X64_SUB) {
    x64_val t = a;
    a = b, b = t;
  }
  /* pinned local +/- constant: one lea into a fresh register instead of a copy and an add */
  if (!mul && a.kind == X64_VK_PIN && imm_fits(&b, w) && (aluop == X64_ADD || aluop == X64_SUB) &&
      (int32_t)b.imm != INT32_MIN) {
    int r = x64_alloc_gpr(c, 0);
    int32_t d = aluop == X64_ADD ? (int32_t)b.imm : -(int32_t)b.imm;
    x64_emit_lea(c->b, w, r, x64_m(a.reg, d));
    x64_push_reg(c, a.type, r);
    return;
  }
  x64_to_reg(c, &a, 0);
  if (mul) {
    if (imm_fits(&b, w)) {
      x64_emit_imul_rri(c->b, w, a.reg, a.reg, (int32_t)b.imm);
    } else {
      if (b.kind != X64_VK_PIN) x64_to_reg(c, &b, 0);
      x64_emit_imul_rr(c->b, w, a.reg, b.reg);
    }
  } else if (imm_fits(&b, w)) {
    x64_emit_alu_ri(c->b, aluop, w, a.reg, (int32_t)b.imm);
  } else if (b.kind == X64_VK_MEM) {
    x64_emit_alu_rm(c->b, aluop, w, a.reg, x64_slot(c, b.depth));
  } else {
    if (b.kind != X64_VK_PIN) x64_to_reg(c, &b, 0);
    x64_emit_alu_rr(c->b, aluop, w, a.reg, b.reg);
  }
  x64_free_val(c, &b);
  x64_push_reg(c, a.type, a.reg);
}

/* A compare that feeds `select` of two integer values (below its operands on the stack). */
static bool sel_fusable(x64_fn *c, const weft_instr *next) {
  if (!next || next->op != WEFT_OP_SELECT || c->stk.n < 4) return false;
  const x64_val *sa = &c->stk.v[c->stk.n - 4], *sb = &c->stk.v[c->stk.n - 3];
  return !X64_IS_XMM(sa->type) && !X64_IS_XMM(sb->type);
}

static bool int_cmp(x64_fn *c, bool w, int cc, const weft_instr *next) {
  bool fuse = fusable(next), sel = !fuse && sel_fusable(c, next);
  x64_val b = x64_pop(c), a = x64_pop(c), sa, sb;
  if (sel) {
    /* cmp + cmov: the select's operands are materialised first (loads may clobber flags) */
    sb = x64_pop(c), sa = x64_pop(c);
    x64_to_reg(c, &sa, 0);
    if (sb.kind != X64_VK_PIN) x64_to_reg(c, &sb, 0);
  }
  if (a.kind == X64_VK_CONST && b.kind != X64_VK_CONST) {
    x64_val t = a;
    a = b, b = t;
    cc = swap_cc(cc);
  }
  if (!((fuse || sel) && a.kind == X64_VK_PIN)) x64_to_reg(c, &a, 0); /* setcc writes a's register */
  if (!imm_fits(&b, w) && b.kind != X64_VK_MEM && b.kind != X64_VK_PIN) x64_to_reg(c, &b, 0);
  if (fuse) fuse_prepare(c, next);
  if (imm_fits(&b, w))
    x64_emit_alu_ri(c->b, X64_CMP, w, a.reg, (int32_t)b.imm);
  else if (b.kind == X64_VK_MEM)
    x64_emit_alu_rm(c->b, X64_CMP, w, a.reg, x64_slot(c, b.depth));
  else
    x64_emit_alu_rr(c->b, X64_CMP, w, a.reg, b.reg);
  x64_free_val(c, &b);
  if (fuse) {
    x64_free_val(c, &a);
    fuse_finish(c, next, cc);
    return true;
  }
  if (sel) {
    x64_free_val(c, &a);
    x64_emit_cmov(c->b, X64_CC_NEGATE(cc), true, sa.reg, sb.reg); /* condition false: the second */
    x64_free_val(c, &sb);
    x64_push_reg(c, sa.type, sa.reg);
    return true;
  }
  push_setcc(c, cc, a.reg);
  return false;
}

static bool int_eqz(x64_fn *c, bool w, const weft_instr *next) {
  x64_val a = x64_pop(c);
  bool fuse = fusable(next);
  if (!(fuse && a.kind == X64_VK_PIN)) x64_to_reg(c, &a, 0);
  if (fuse) fuse_prepare(c, next);
  x64_emit_test_rr(c->b, w, a.reg, a.reg);
  if (fuse) {
    x64_free_val(c, &a);
    fuse_finish(c, next, X64_CC_E);
    return true;
  }
  push_setcc(c, X64_CC_E, a.reg);
  return false;
}

static void int_shift(x64_fn *c, int kind, bool w) {
  x64_val b = x64_pop(c), a = x64_pop(c);
  if (b.kind == X64_VK_CONST) {
    x64_to_reg(c, &a, 0);
    x64_emit_shift_ri(c->b, kind, w, a.reg, (uint8_t)(b.imm & (w ? 63 : 31)));
  } else {
    x64_evict(c, X64_RCX);
    x64_to_reg(c, &a, 1u << X64_RCX);
    x64_to_reg_fixed(c, &b, X64_RCX);
    x64_emit_shift_cl(c->b, kind, w, a.reg);
    x64_free_val(c, &b);
  }
  x64_push_reg(c, a.type, a.reg);
}

static void int_divrem(x64_fn *c, bool w, bool sgn, bool rem) {
  x64_val b = x64_pop(c), a = x64_pop(c);
  bool bconst = b.kind == X64_VK_CONST;
  uint64_t bimm = w ? b.imm : (uint32_t)b.imm;
  /* Move stack values out of rax and rdx without moving one into the other: both are marked busy
   * while evicting, then only the popped operands' claims remain. */
  uint16_t pair = (uint16_t)((1u << X64_RAX) | (1u << X64_RDX)), held = 0;
  if (a.kind == X64_VK_REG && (pair & (1u << a.reg))) held |= (uint16_t)(1u << a.reg);
  if (b.kind == X64_VK_REG && (pair & (1u << b.reg))) held |= (uint16_t)(1u << b.reg);
  c->gpr_used |= pair;
  x64_evict(c, X64_RAX);
  c->gpr_used |= pair;
  x64_evict(c, X64_RDX);
  c->gpr_used = (uint16_t)((c->gpr_used & ~pair) | held);
  if (b.kind != X64_VK_PIN) x64_to_reg(c, &b, (1u << X64_RAX) | (1u << X64_RDX)); /* only read */
  if (a.kind == X64_VK_REG && a.reg == X64_RDX) {
    x64_to_reg_fixed(c, &a, X64_RAX);
  } else {
    x64_to_reg_fixed(c, &a, X64_RAX);
  }
  c->gpr_used |= (1u << X64_RDX);
  if (!bconst || bimm == 0) {
    x64_emit_test_rr(c->b, w, b.reg, b.reg);
    x64_trap_if(c, X64_CC_E, WEFT_TRAP_INT_DIV_ZERO);
  }
  size_t done = SIZE_MAX, normal = SIZE_MAX;
  bool maybe_m1 = sgn && (!bconst || bimm == (w ? UINT64_MAX : 0xFFFFFFFFu));
  if (maybe_m1) {
    x64_emit_alu_ri(c->b, X64_CMP, w, b.reg, -1);
    normal = x64_emit_jcc(c->b, X64_CC_NE);
    if (rem) {
      x64_emit_alu_rr(c->b, X64_XOR, false, X64_RDX, X64_RDX);
    } else {
      x64_emit_unary(c->b, X64_NEG, w, X64_RAX);
      x64_trap_if(c, X64_CC_O, WEFT_TRAP_INT_OVERFLOW);
    }
    done = x64_emit_jmp(c->b);
    x64_patch_rel32(c->b, normal, c->b->len);
  }
  if (sgn) {
    x64_emit_cdq(c->b, w);
    x64_emit_unary(c->b, X64_IDIV, w, b.reg);
  } else {
    x64_emit_alu_rr(c->b, X64_XOR, false, X64_RDX, X64_RDX);
    x64_emit_unary(c->b, X64_DIV, w, b.reg);
  }
  if (done != SIZE_MAX) x64_patch_rel32(c->b, done, c->b->len);
  x64_free_val(c, &b);
  if (rem) {
    c->gpr_used &= (uint16_t)~(1u << X64_RAX);
    x64_push_reg(c, a.type, X64_RDX);
  } else {
    c->gpr_used &= (uint16_t)~(1u << X64_RDX);
    x64_push_reg(c, a.type, X64_RAX);
  }
}

static void int_unop_bits(x64_fn *c, uint32_t op, bool w) {
  x64_val a = x64_pop(c);
  x64_to_reg(c, &a, 0);
  x64_emit_bitcount(c->b, op, w, a.reg, a.reg);
  x64_push_reg(c, a.type, a.reg);
}

/* Re-type the top value in place (an i32 register already has zero upper bits). */
static void retype(x64_fn *c, int type) {
  x64_val a = x64_pop(c);
  x64_to_reg(c, &a, 0);
  x64_push_reg(c, type, a.reg);
}

static void int_ext(x64_fn *c, int type, uint32_t kind) {
  x64_val a = x64_pop(c);
  x64_to_reg(c, &a, 0);
  if (kind == 0x63)
    x64_emit_movsxd_rr(c->b, a.reg, a.reg);
  else if (kind == 0x89)
    x64_emit_mov_rr(c->b, false, a.reg, a.reg);
  else
    x64_emit_movx_rr(c->b, kind, type == X64_T_I64, a.reg, a.reg);
  x64_push_reg(c, type, a.reg);
}

/* -- Float ----------------------------------------------------------------------------------- */

static void f_binop(x64_fn *c, uint32_t op) {
  x64_val b = x64_pop(c), a = x64_pop(c);
  x64_to_reg(c, &a, 0);
  if (b.kind == X64_VK_MEM) {
    x64_emit_sse_rm(c->b, fsz(a.type), op, a.reg, x64_slot(c, b.depth));
  } else {
    if (b.kind != X64_VK_PIN) x64_to_reg(c, &b, 0);
    x64_emit_sse_rr(c->b, fsz(a.type), op, a.reg, b.reg);
  }
  x64_free_val(c, &b);
  x64_push_reg(c, a.type, a.reg);
}

/* min/max: NaN if either is NaN; -0 < +0. */
static void f_minmax(x64_fn *c, bool max) {
  x64_val b = x64_pop(c), a = x64_pop(c);
  x64_to_reg(c, &a, 0);
  if (b.kind != X64_VK_PIN) x64_to_reg(c, &b, 0); /* only read */
  bool dbl = a.type == X64_T_F64;
  x64_emit_sse_rr(c->b, dbl ? X64_P66 : 0, X64_SSE_UCOMI, a.reg, b.reg);
  size_t jnan = x64_emit_jcc(c->b, X64_CC_P);
  size_t jne = x64_emit_jcc(c->b, X64_CC_NE);
  /* equal: +0/-0 differ only in sign; or the sign bits for min, and them for max */
  x64_emit_sse_rr(c->b, dbl ? X64_P66 : 0, max ? X64_SSE_AND : X64_SSE_OR, a.reg, b.reg);
  size_t d1 = x64_emit_jmp(c->b);
  x64_patch_rel32(c->b, jne, c->b->len);
  x64_emit_sse_rr(c->b, fsz(a.type), max ? X64_SSE_MAX : X64_SSE_MIN, a.reg, b.reg);
  size_t d2 = x64_emit_jmp(c->b);
  x64_patch_rel32(c->b, jnan, c->b->len);
  x64_emit_sse_rr(c->b, fsz(a.type), X64_SSE_ADD, a.reg, b.reg);
  x64_patch_rel32(c->b, d1, c->b->len);
  x64_patch_rel32(c->b, d2, c->b->len);
  x64_free_val(c, &b);
  x64_push_reg(c, a.type, a.reg);
}

static void f_unop(x64_fn *c, int kind) {
  x64_val a = x64_pop(c);
  x64_to_reg(c, &a, 0);
  bool dbl = a.type == X64_T_F64;
  uint64_t sign = dbl ? 0x8000000000000000ull : 0x80000000ull;
  switch (kind) {
  case 0: /* abs */
    xconst(c, dbl, ~sign & (dbl ? UINT64_MAX : 0xFFFFFFFFull));
    x64_emit_sse_rr(c->b, 0, X64_SSE_AND, a.reg, X64_XSCRATCH);
    break;
  case 1: /* neg */
    xconst(c, dbl, sign);
    x64_emit_sse_rr(c->b, 0, X64_SSE_XOR, a.reg, X64_XSCRATCH);
    break;
  case 2: x64_emit_sse_rr(c->b, fsz(a.type), X64_SSE_SQRT, a.reg, a.reg); break;
  default: x64_emit_round(c->b, dbl, a.reg, a.reg, (uint8_t)(kind - 3)); break; /* 3 nearest 4 floor 5 ceil 6 trunc */
  }
  x64_push_reg(c, a.type, a.reg);
}

static void f_copysign(x64_fn *c) {
  x64_val b = x64_pop(c), a = x64_pop(c);
  x64_to_reg(c, &a, 0);
  x64_to_reg(c, &b, 0);
  bool dbl = a.type == X64_T_F64;
  uint64_t sign = dbl ? 0x8000000000000000ull : 0x80000000ull;
  xconst(c, dbl, sign);
  x64_emit_sse_rr(c->b, 0, X64_SSE_AND, b.reg, X64_XSCRATCH);
  x64_emit_sse_rr(c->b, 0, X64_SSE_ANDN, X64_XSCRATCH, a.reg);
  x64_emit_sse_rr(c->b, 0, X64_SSE_OR, X64_XSCRATCH, b.reg);
  x64_emit_sse_rr(c->b, 0, X64_SSE_MOVAPS, a.reg, X64_XSCRATCH);
  x64_free_val(c, &b);
  x64_push_reg(c, a.type, a.reg);
}

/* kind: 0 eq 1 ne 2 lt 3 gt 4 le 5 ge */
static bool f_cmp(x64_fn *c, int kind, const weft_instr *next) {
  x64_val b = x64_pop(c), a = x64_pop(c);
  if (a.kind != X64_VK_PIN) x64_to_reg(c, &a, 0); /* both only read */
  if (b.kind != X64_VK_PIN) x64_to_reg(c, &b, 0);
  bool dbl = a.type == X64_T_F64;
  int l = a.reg, r = b.reg, cc = X64_CC_A;
  if (kind == 2 || kind == 4) l = b.reg, r = a.reg; /* a < b  <=>  b > a (false if unordered) */
  if (kind == 4 || kind == 5) cc = X64_CC_AE;
  bool fuse = kind >= 2 && fusable(next);
  if (fuse) fuse_prepare(c, next);
  x64_emit_sse_rr(c->b, dbl ? X64_P66 : 0, X64_SSE_UCOMI, l, r);
  x64_free_val(c, &a);
  x64_free_val(c, &b);
  if (fuse) {
    fuse_finish(c, next, cc);
    return true;
  }
  int g = x64_alloc_gpr(c, 0);
  if (kind == 0) {
    x64_emit_setcc(c->b, X64_CC_E, g);
    x64_emit_setcc(c->b, X64_CC_NP, X64_SCRATCH);
    x64_emit_rr(c->b, X64_B8, 0x22, g, X64_SCRATCH); /* and g8, r11b */
  } else if (kind == 1) {
    x64_emit_setcc(c->b, X64_CC_NE, g);
    x64_emit_setcc(c->b, X64_CC_P, X64_SCRATCH);
    x64_emit_rr(c->b, X64_B8, 0x0A, g, X64_SCRATCH); /* or g8, r11b */
  } else {
    x64_emit_setcc(c->b, cc, g);
  }
  x64_emit_movzx8_rr(c->b, g, g);
  x64_push_reg(c, X64_T_I32, g);
  return false;
}

/* -- Conversions ----------------------------------------------------------------------------- */

/* Float -> int. sat: saturate instead of trapping. Bounds are exclusive: valid iff lo < x < hi. */
static void f2i(x64_fn *c, bool src64, bool dst64, bool sgn, bool sat) {
  x64_val a = x64_pop(c);
  x64_to_reg(c, &a, 0);
  int r = x64_alloc_gpr(c, 0);
  unsigned p = src64 ? X64_PF2 : X64_PF3;
  unsigned pc = src64 ? X64_P66 : 0;
  uint64_t lo, hi;
  if (src64) {
    double dl = sgn ? (dst64 ? -9223372036854777856.0 : -2147483649.0) : -1.0;
    double dh = sgn ? (dst64 ? 9223372036854775808.0 : 2147483648.0) : (dst64 ? 18446744073709551616.0 : 4294967296.0);
    __builtin_memcpy(&lo, &dl, 8);
    __builtin_memcpy(&hi, &dh, 8);
  } else {
    float fl = sgn ? (dst64 ? -9223373136366403584.0f : -2147483904.0f) : -1.0f;
    float fh = sgn ? (dst64 ? 9223372036854775808.0f : 2147483648.0f) : (dst64 ? 18446744073709551616.0f : 4294967296.0f);
    uint32_t l32, h32;
    __builtin_memcpy(&l32, &fl, 4);
    __builtin_memcpy(&h32, &fh, 4);
    lo = l32, hi = h32;
  }
  size_t jnan, jlo, jhi, done1 = SIZE_MAX, done2 = SIZE_MAX, done3 = SIZE_MAX;
  x64_emit_sse_rr(c->b, pc, X64_SSE_UCOMI, a.reg, a.reg);
  if (sat) jnan = x64_emit_jcc(c->b, X64_CC_P);
  else { x64_trap_if(c, X64_CC_P, WEFT_TRAP_BAD_CONVERSION); jnan = SIZE_MAX; }
  xconst(c, src64, lo);
  x64_emit_sse_rr(c->b, pc, X64_SSE_UCOMI, a.reg, X64_XSCRATCH);
  if (sat) jlo = x64_emit_jcc(c->b, X64_CC_BE);
  else { x64_trap_if(c, X64_CC_BE, WEFT_TRAP_INT_OVERFLOW); jlo = SIZE_MAX; }
  xconst(c, src64, hi);
  x64_emit_sse_rr(c->b, pc, X64_SSE_UCOMI, a.reg, X64_XSCRATCH);
  if (sat) jhi = x64_emit_jcc(c->b, X64_CC_AE);
  else { x64_trap_if(c, X64_CC_AE, WEFT_TRAP_INT_OVERFLOW); jhi = SIZE_MAX; }
  if (dst64 && !sgn) {
    /* x in [0, 2^64): below 2^63 convert directly, else convert x - 2^63 and set the top bit */
    uint64_t two63;
    if (src64) { double d = 9223372036854775808.0; __builtin_memcpy(&two63, &d, 8); }
    else { float f = 9223372036854775808.0f; uint32_t u; __builtin_memcpy(&u, &f, 4); two63 = u; }
    xconst(c, src64, two63);
    x64_emit_sse_rr(c->b, pc, X64_SSE_UCOMI, a.reg, X64_XSCRATCH);
    size_t big = x64_emit_jcc(c->b, X64_CC_AE);
    x64_emit_sse_rr(c->b, p | X64_W, X64_SSE_CVTT2SI, r, a.reg);
    size_t d = x64_emit_jmp(c->b);
    x64_patch_rel32(c->b, big, c->b->len);
    x64_emit_sse_rr(c->b, p, X64_SSE_SUB, a.reg, X64_XSCRATCH);
    x64_emit_sse_rr(c->b, p | X64_W, X64_SSE_CVTT2SI, r, a.reg);
    x64_emit_mov_ri(c->b, X64_SCRATCH, 0x8000000000000000ull);
    x64_emit_alu_rr(c->b, X64_XOR, true, r, X64_SCRATCH);
    x64_patch_rel32(c->b, d, c->b->len);
  } else if (!dst64 && sgn) {
    x64_emit_sse_rr(c->b, p, X64_SSE_CVTT2SI, r, a.reg);
  } else {
    x64_emit_sse_rr(c->b, p | X64_W, X64_SSE_CVTT2SI, r, a.reg);
    if (!dst64) x64_emit_mov_rr(c->b, false, r, r);
  }
  if (sat) {
    done1 = x64_emit_jmp(c->b);
    x64_patch_rel32(c->b, jnan, c->b->len);
    x64_emit_alu_rr(c->b, X64_XOR, false, r, r);
    done2 = x64_emit_jmp(c->b);
    x64_patch_rel32(c->b, jlo, c->b->len);
    x64_emit_mov_ri(c->b, r, sgn ? (dst64 ? 0x8000000000000000ull : 0x80000000ull) : 0);
    done3 = x64_emit_jmp(c->b);
    x64_patch_rel32(c->b, jhi, c->b->len);
    x64_emit_mov_ri(c->b, r, sgn ? (dst64 ? 0x7FFFFFFFFFFFFFFFull : 0x7FFFFFFFull)
                                 : (dst64 ? UINT64_MAX : 0xFFFFFFFFull));
    x64_patch_rel32(c->b, done1, c->b->len);
    x64_patch_rel32(c->b, done2, c->b->len);
    x64_patch_rel32(c->b, done3, c->b->len);
  }
  x64_free_val(c, &a);
  x64_push_reg(c, dst64 ? X64_T_I64 : X64_T_I32, r);
}

static void i2f(x64_fn *c, bool src64, bool dst64, bool sgn) {
  x64_val a = x64_pop(c);
  x64_to_reg(c, &a, 0);
  int x = x64_alloc_xmm(c);
  unsigned p = dst64 ? X64_PF2 : X64_PF3;
  x64_emit_sse_rr(c->b, 0, X64_SSE_XOR, x, x);
  if (!src64 && sgn) {
    x64_emit_sse_rr(c->b, p, X64_SSE_CVTSI2, x, a.reg);
  } else if (!src64 || sgn) {
    /* u32 is zero-extended: a 64-bit signed conversion is exact */
    x64_emit_sse_rr(c->b, p | X64_W, X64_SSE_CVTSI2, x, a.reg);
  } else {
    x64_emit_test_rr(c->b, true, a.reg, a.reg);
    size_t neg = x64_emit_jcc(c->b, X64_CC_S);
    x64_emit_sse_rr(c->b, p | X64_W, X64_SSE_CVTSI2, x, a.reg);
    size_t d = x64_emit_jmp(c->b);
    x64_patch_rel32(c->b, neg, c->b->len);
    /* halve with the low bit folded in (round-to-odd), convert, double */
    x64_emit_mov_rr(c->b, true, X64_SCRATCH, a.reg);
    x64_emit_shift_ri(c->b, X64_SHR, true, X64_SCRATCH, 1);
    x64_emit_alu_ri(c->b, X64_AND, true, a.reg, 1);
    x64_emit_alu_rr(c->b, X64_OR, true, X64_SCRATCH, a.reg);
    x64_emit_sse_rr(c->b, p | X64_W, X64_SSE_CVTSI2, x, X64_SCRATCH);
    x64_emit_sse_rr(c->b, p, X64_SSE_ADD, x, x);
    x64_patch_rel32(c->b, d, c->b->len);
  }
  x64_free_val(c, &a);
  x64_push_reg(c, dst64 ? X64_T_F64 : X64_T_F32, x);
}

static void f2f(x64_fn *c, bool to64) {
  x64_val a = x64_pop(c);
  x64_to_reg(c, &a, 0);
  x64_emit_sse_rr(c->b, to64 ? X64_PF3 : X64_PF2, X64_SSE_CVTF, a.reg, a.reg);
  x64_push_reg(c, to64 ? X64_T_F64 : X64_T_F32, a.reg);
}

static void reinterpret(x64_fn *c, int to) {
  x64_val a = x64_pop(c);
  if (a.kind == X64_VK_CONST) {
    x64_push_const(c, to, a.imm);
    return;
  }
  x64_to_reg(c, &a, 0);
  bool w = to == X64_T_I64 || to == X64_T_F64;
  if (X64_IS_FLOAT(to)) {
    int x = x64_alloc_xmm(c);
    x64_emit_movd_xr(c->b, w, x, a.reg);
    x64_free_val(c, &a);
    x64_push_reg(c, to, x);
  } else {
    int r = x64_alloc_gpr(c, 0);
    x64_emit_movd_rx(c->b, w, r, a.reg);
    x64_free_val(c, &a);
    x64_push_reg(c, to, r);
  }
}

/* -- Dispatch -------------------------------------------------------------------------------- */

int x64_isel_num(x64_fn *c, const weft_instr *in, const weft_instr *next, bool *consumed) {
  bool f = false;
  switch (in->op) {
  case WEFT_OP_I32_CONST: x64_push_const(c, X64_T_I32, (uint32_t)in->imm.i32); break;
  case WEFT_OP_I64_CONST: x64_push_const(c, X64_T_I64, (uint64_t)in->imm.i64); break;
  case WEFT_OP_F32_CONST: x64_push_const(c, X64_T_F32, in->imm.f32); break;
  case WEFT_OP_F64_CONST: x64_push_const(c, X64_T_F64, in->imm.f64); break;

  case WEFT_OP_I32_EQZ: f = int_eqz(c, false, next); break;
  case WEFT_OP_I64_EQZ: f = int_eqz(c, true, next); break;
#define CMP(OP, W, CC) case WEFT_OP_##OP: f = int_cmp(c, W, X64_CC_##CC, next); break;
  CMP(I32_EQ, false, E) CMP(I32_NE, false, NE) CMP(I32_LT_S, false, L) CMP(I32_LT_U, false, B)
  CMP(I32_GT_S, false, G) CMP(I32_GT_U, false, A) CMP(I32_LE_S, false, LE) CMP(I32_LE_U, false, BE)
  CMP(I32_GE_S, false, GE) CMP(I32_GE_U, false, AE)
  CMP(I64_EQ, true, E) CMP(I64_NE, true, NE) CMP(I64_LT_S, true, L) CMP(I64_LT_U, true, B)
  CMP(I64_GT_S, true, G) CMP(I64_GT_U, true, A) CMP(I64_LE_S, true, LE) CMP(I64_LE_U, true, BE)
  CMP(I64_GE_S, true, GE) CMP(I64_GE_U, true, AE)
#undef CMP
  case WEFT_OP_F32_EQ: case WEFT_OP_F64_EQ: f = f_cmp(c, 0, next); break;
  case WEFT_OP_F32_NE: case WEFT_OP_F64_NE: f = f_cmp(c, 1, next); break;
  case WEFT_OP_F32_LT: case WEFT_OP_F64_LT: f = f_cmp(c, 2, next); break;
  case WEFT_OP_F32_GT: case WEFT_OP_F64_GT: f = f_cmp(c, 3, next); break;
  case WEFT_OP_F32_LE: case WEFT_OP_F64_LE: f = f_cmp(c, 4, next); break;
  case WEFT_OP_F32_GE: case WEFT_OP_F64_GE: f = f_cmp(c, 5, next); break;

  case WEFT_OP_I32_CLZ: int_unop_bits(c, X64_LZCNT, false); break;
  case WEFT_OP_I32_CTZ: int_unop_bits(c, X64_TZCNT, false); break;
  case WEFT_OP_I32_POPCNT: int_unop_bits(c, X64_POPCNT, false); break;
  case WEFT_OP_I64_CLZ: int_unop_bits(c, X64_LZCNT, true); break;
  case WEFT_OP_I64_CTZ: int_unop_bits(c, X64_TZCNT, true); break;
  case WEFT_OP_I64_POPCNT: int_unop_bits(c, X64_POPCNT, true); break;
#define BIN(OP, ALU, W, MUL) case WEFT_OP_##OP: int_binop(c, X64_##ALU, W, MUL); break;
  BIN(I32_ADD, ADD, false, false) BIN(I32_SUB, SUB, false, false) BIN(I32_MUL, ADD, false, true)
  BIN(I32_AND, AND, false, false) BIN(I32_OR, OR, false, false) BIN(I32_XOR, XOR, false, false)
  BIN(I64_ADD, ADD, true, false) BIN(I64_SUB, SUB, true, false) BIN(I64_MUL, ADD, true, true)
  BIN(I64_AND, AND, true, false) BIN(I64_OR, OR, true, false) BIN(I64_XOR, XOR, true, false)
#undef BIN
  case WEFT_OP_I32_DIV_S: int_divrem(c, false, true, false); break;
  case WEFT_OP_I32_DIV_U: int_divrem(c, false, false, false); break;
  case WEFT_OP_I32_REM_S: int_divrem(c, false, true, true); break;
  case WEFT_OP_I32_REM_U: int_divrem(c, false, false, true); break;
  case WEFT_OP_I64_DIV_S: int_divrem(c, true, true, false); break;
  case WEFT_OP_I64_DIV_U: int_divrem(c, true, false, false); break;
  case WEFT_OP_I64_REM_S: int_divrem(c, true, true, true); break;
  case WEFT_OP_I64_REM_U: int_divrem(c, true, false, true); break;
  case WEFT_OP_I32_SHL: int_shift(c, X64_SHL, false); break;
  case WEFT_OP_I32_SHR_S: int_shift(c, X64_SAR, false); break;
  case WEFT_OP_I32_SHR_U: int_shift(c, X64_SHR, false); break;
  case WEFT_OP_I32_ROTL: int_shift(c, X64_ROL, false); break;
  case WEFT_OP_I32_ROTR: int_shift(c, X64_ROR, false); break;
  case WEFT_OP_I64_SHL: int_shift(c, X64_SHL, true); break;
  case WEFT_OP_I64_SHR_S: int_shift(c, X64_SAR, true); break;
  case WEFT_OP_I64_SHR_U: int_shift(c, X64_SHR, true); break;
  case WEFT_OP_I64_ROTL: int_shift(c, X64_ROL, true); break;
  case WEFT_OP_I64_ROTR: int_shift(c, X64_ROR, true); break;

  case WEFT_OP_F32_ABS: case WEFT_OP_F64_ABS: f_unop(c, 0); break;
  case WEFT_OP_F32_NEG: case WEFT_OP_F64_NEG: f_unop(c, 1); break;
  case WEFT_OP_F32_SQRT: case WEFT_OP_F64_SQRT: f_unop(c, 2); break;
  case WEFT_OP_F32_NEAREST: case WEFT_OP_F64_NEAREST: f_unop(c, 3); break;
  case WEFT_OP_F32_FLOOR: case WEFT_OP_F64_FLOOR: f_unop(c, 4); break;
  case WEFT_OP_F32_CEIL: case WEFT_OP_F64_CEIL: f_unop(c, 5); break;
  case WEFT_OP_F32_TRUNC: case WEFT_OP_F64_TRUNC: f_unop(c, 6); break;
  case WEFT_OP_F32_ADD: case WEFT_OP_F64_ADD: f_binop(c, X64_SSE_ADD); break;
  case WEFT_OP_F32_SUB: case WEFT_OP_F64_SUB: f_binop(c, X64_SSE_SUB); break;
  case WEFT_OP_F32_MUL: case WEFT_OP_F64_MUL: f_binop(c, X64_SSE_MUL); break;
  case WEFT_OP_F32_DIV: case WEFT_OP_F64_DIV: f_binop(c, X64_SSE_DIV); break;
  case WEFT_OP_F32_MIN: case WEFT_OP_F64_MIN: f_minmax(c, false); break;
  case WEFT_OP_F32_MAX: case WEFT_OP_F64_MAX: f_minmax(c, true); break;
  case WEFT_OP_F32_COPYSIGN: case WEFT_OP_F64_COPYSIGN: f_copysign(c); break;

  case WEFT_OP_I32_WRAP_I64: int_ext(c, X64_T_I32, 0x89); break;
  case WEFT_OP_I64_EXTEND_I32_S: int_ext(c, X64_T_I64, 0x63); break;
  case WEFT_OP_I64_EXTEND_I32_U: retype(c, X64_T_I64); break;
  case WEFT_OP_I32_EXTEND8_S: int_ext(c, X64_T_I32, 0xBE); break;
  case WEFT_OP_I32_EXTEND16_S: int_ext(c, X64_T_I32, 0xBF); break;
  case WEFT_OP_I64_EXTEND8_S: int_ext(c, X64_T_I64, 0xBE); break;
  case WEFT_OP_I64_EXTEND16_S: int_ext(c, X64_T_I64, 0xBF); break;
  case WEFT_OP_I64_EXTEND32_S: int_ext(c, X64_T_I64, 0x63); break;

#define F2I(OP, S64, D64, SGN, SAT) case WEFT_OP_##OP: f2i(c, S64, D64, SGN, SAT); break;
  F2I(I32_TRUNC_F32_S, false, false, true, false) F2I(I32_TRUNC_F32_U, false, false, false, false)
  F2I(I32_TRUNC_F64_S, true, false, true, false) F2I(I32_TRUNC_F64_U, true, false, false, false)
  F2I(I64_TRUNC_F32_S, false, true, true, false) F2I(I64_TRUNC_F32_U, false, true, false, false)
  F2I(I64_TRUNC_F64_S, true, true, true, false) F2I(I64_TRUNC_F64_U, true, true, false, false)
  F2I(I32_TRUNC_SAT_F32_S, false, false, true, true) F2I(I32_TRUNC_SAT_F32_U, false, false, false, true)
  F2I(I32_TRUNC_SAT_F64_S, true, false, true, true) F2I(I32_TRUNC_SAT_F64_U, true, false, false, true)
  F2I(I64_TRUNC_SAT_F32_S, false, true, true, true) F2I(I64_TRUNC_SAT_F32_U, false, true, false, true)
  F2I(I64_TRUNC_SAT_F64_S, true, true, true, true) F2I(I64_TRUNC_SAT_F64_U, true, true, false, true)
#undef F2I
  case WEFT_OP_F32_CONVERT_I32_S: i2f(c, false, false, true); break;
  case WEFT_OP_F32_CONVERT_I32_U: i2f(c, false, false, false); break;
  case WEFT_OP_F32_CONVERT_I64_S: i2f(c, true, false, true); break;
  case WEFT_OP_F32_CONVERT_I64_U: i2f(c, true, false, false); break;
  case WEFT_OP_F64_CONVERT_I32_S: i2f(c, false, true, true); break;
  case WEFT_OP_F64_CONVERT_I32_U: i2f(c, false, true, false); break;
  case WEFT_OP_F64_CONVERT_I64_S: i2f(c, true, true, true); break;
  case WEFT_OP_F64_CONVERT_I64_U: i2f(c, true, true, false); break;
  case WEFT_OP_F32_DEMOTE_F64: f2f(c, false); break;
  case WEFT_OP_F64_PROMOTE_F32: f2f(c, true); break;
  case WEFT_OP_I32_REINTERPRET_F32: reinterpret(c, X64_T_I32); break;
  case WEFT_OP_I64_REINTERPRET_F64: reinterpret(c, X64_T_I64); break;
  case WEFT_OP_F32_REINTERPRET_I32: reinterpret(c, X64_T_F32); break;
  case WEFT_OP_F64_REINTERPRET_I64: reinterpret(c, X64_T_F64); break;
  default: return 0;
  }
  *consumed = f;
  return 1;
}
