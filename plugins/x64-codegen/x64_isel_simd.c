/* plugins/x64-codegen/x64_isel_simd.c -- instruction selection for SIMD (0xFD 0x00-0xFF) and
 * relaxed SIMD (0xFD 0x100-0x113) on SSE2/SSSE3/SSE4.1 (SSE4.2's pcmpgtq when the CPU has it).
 * v128 values live in XMM registers and spill to 16-byte slots (x64_vslot); xmm15 is scratch.
 * The relaxed instructions use the deterministic choices documented in README.md.
 * Depends on: x64_int.h, x64_emit.h (x64_emit_simd.c encoders), module.h.
 */
#include <stdbool.h>
#include <string.h>

#include "x64_int.h"

#define XS X64_XSCRATCH
#define P66 X64_P66

/* -- Helpers --------------------------------------------------------------------------------- */

static void rr(x64_fn *c, unsigned fl, uint32_t op, int d, int s) { x64_emit_simd_rr(c->b, fl, op, d, s); }
static void rri(x64_fn *c, unsigned fl, uint32_t op, int d, int s, uint8_t i) {
  x64_emit_simd_rri(c->b, fl, op, d, s, i);
}
static void movx(x64_fn *c, int d, int s) {
  if (d != s) x64_emit_sse_rr(c->b, 0, X64_SSE_MOVAPS, d, s);
}

/* Pop a v128 into a register this instruction may overwrite. */
static x64_val pop_v(x64_fn *c) {
  x64_val v = x64_pop(c);
  x64_to_reg(c, &v, 0);
  return v;
}

static void push_v(x64_fn *c, int reg) { x64_push_reg(c, X64_T_V128, reg); }

/* xmm = the 128-bit constant lo | hi << 64 (through r11). */
static void const128(x64_fn *c, int x, uint64_t lo, uint64_t hi) {
  if (lo == 0 && hi == 0) {
    rr(c, P66, 0x0FEF, x, x);
    return;
  }
  x64_emit_mov_ri(c->b, X64_SCRATCH, lo);
  x64_emit_movd_xr(c->b, true, x, X64_SCRATCH);
  if (hi == lo) {
    rr(c, P66, 0x0F6C, x, x); /* punpcklqdq */
  } else if (hi) {
    x64_emit_mov_ri(c->b, X64_SCRATCH, hi);
    x64_emit_pinsrq(c->b, x, X64_SCRATCH, 1);
  }
}

static void splat64(x64_fn *c, int x, uint64_t v) { const128(c, x, v, v); }

static void ones(x64_fn *c, int x) { rr(c, P66, 0x0F76, x, x); } /* pcmpeqd */

/* a = a OP b, both v128 */
static void bin(x64_fn *c, unsigned fl, uint32_t op) {
  x64_val b = pop_v(c), a = pop_v(c);
  rr(c, fl, op, a.reg, b.reg);
  x64_free_val(c, &b);
  push_v(c, a.reg);
}

/* result = b OP a (the operands swapped), in b's register */
static void bin_swapped(x64_fn *c, unsigned fl, uint32_t op) {
  x64_val b = pop_v(c), a = pop_v(c);
  rr(c, fl, op, b.reg, a.reg);
  x64_free_val(c, &a);
  push_v(c, b.reg);
}

static void bin_imm(x64_fn *c, unsigned fl, uint32_t op, uint8_t imm, bool swap) {
  x64_val b = pop_v(c), a = pop_v(c);
  if (swap) {
    rri(c, fl, op, b.reg, a.reg, imm);
    x64_free_val(c, &a);
    push_v(c, b.reg);
  } else {
    rri(c, fl, op, a.reg, b.reg, imm);
    x64_free_val(c, &b);
    push_v(c, a.reg);
  }
}

static void not_reg(x64_fn *c, int x) {
  ones(c, XS);
  rr(c, P66, 0x0FEF, x, XS);
}

/* -- Compares -------------------------------------------------------------------------------- */

/* eq/gt opcodes by lane width index (0 i8, 1 i16, 2 i32, 3 i64) */
static const uint32_t op_eq[4] = {0x0F74, 0x0F75, 0x0F76, 0x0F3829};
static const uint32_t op_gt[4] = {0x0F64, 0x0F65, 0x0F66, 0x0F3837};
static const uint32_t op_minu[4] = {0x0FDA, 0x0F383A, 0x0F383B, 0};
static const uint32_t op_maxu[4] = {0x0FDE, 0x0F383E, 0x0F383F, 0};

/* CPU features, read once per compile: SSE4.1 is required, SSE4.2 (pcmpgtq) optional. */
static bool cpu_has(int sse42) {
  __builtin_cpu_init();
  return sse42 ? __builtin_cpu_supports("sse4.2") : __builtin_cpu_supports("sse4.1");
}

/* d = d > s per lane, signed. i64 lanes without SSE4.2: the sign of
 * (s & ~d) | (~(d ^ s) & (s - d)), i.e. of s - d when the signs agree, else of s. */
static void pcmpgt(x64_fn *c, int w, int d, int s) {
  if (w < 3 || cpu_has(1)) {
    rr(c, P66, op_gt[w], d, s);
    return;
  }
  int t = x64_alloc_xmm(c);
  movx(c, t, s);
  rr(c, P66, 0x0FFB, t, d);   /* t = s - d */
  movx(c, XS, d);
  rr(c, P66, 0x0FEF, XS, s);  /* XS = d ^ s */
  rr(c, P66, 0x0FDF, XS, t);  /* XS = ~(d ^ s) & (s - d) */
  movx(c, t, d);
  rr(c, P66, 0x0FDF, t, s);   /* t = ~d & s */
  rr(c, P66, 0x0FEB, XS, t);
  x64_emit_simd_shift_ri(c->b, 0x0F72, 4, XS, 31);
  rri(c, P66, 0x0F70, d, XS, 0xF5); /* broadcast each high dword's sign */
  c->xmm_used &= (uint16_t)~(1u << t);
}

/* kind: 0 eq 1 ne 2 lt_s 3 lt_u 4 gt_s 5 gt_u 6 le_s 7 le_u 8 ge_s 9 ge_u */
static void icmp(x64_fn *c, int w, int kind) {
  x64_val b = pop_v(c), a = pop_v(c);
  int d = a.reg;
  switch (kind) {
  case 0: rr(c, P66, op_eq[w], a.reg, b.reg); break;
  case 1: rr(c, P66, op_eq[w], a.reg, b.reg); not_reg(c, a.reg); break;
  case 2: pcmpgt(c, w, b.reg, a.reg); d = b.reg; break;
  case 4: pcmpgt(c, w, a.reg, b.reg); break;
  case 6: pcmpgt(c, w, a.reg, b.reg); not_reg(c, a.reg); break;
  case 8: pcmpgt(c, w, b.reg, a.reg); not_reg(c, b.reg); d = b.reg; break;
  case 7: case 5: /* le_u: min(a,b) == a; gt_u = !le_u */
    movx(c, XS, a.reg);
    rr(c, P66, op_minu[w], XS, b.reg);
    rr(c, P66, op_eq[w], a.reg, XS);
    if (kind == 5) not_reg(c, a.reg);
    break;
  default: /* 9 ge_u: max(a,b) == a; 3 lt_u = !ge_u */
    movx(c, XS, a.reg);
    rr(c, P66, op_maxu[w], XS, b.reg);
    rr(c, P66, op_eq[w], a.reg, XS);
    if (kind == 3) not_reg(c, a.reg);
    break;
  }
  if (d == a.reg) {
    x64_free_val(c, &b);
  } else {
    x64_free_val(c, &a);
  }
  push_v(c, d);
}

/* cmpps/cmppd predicates: eq 0, lt 1, le 2, neq 4; gt/ge swap lt/le */
static void fcmp(x64_fn *c, bool dbl, int kind) {
  static const uint8_t pred[6] = {0, 4, 1, 1, 2, 2};
  bin_imm(c, dbl ? P66 : 0, 0x0FC2, pred[kind], kind == 3 || kind == 5);
}

/* -- Float min/max with Wasm NaN and signed-zero rules ---------------------------------------- */

static void fminmax(x64_fn *c, bool dbl, bool max) {
  unsigned fl = dbl ? P66 : 0;
  uint32_t op = max ? 0x0F5F : 0x0F5D;
  x64_val b = pop_v(c), a = pop_v(c);
  /* XS = b op a, a = a op b: x86 returns the second operand on NaN or equal zeros */
  movx(c, XS, b.reg);
  rr(c, fl, op, XS, a.reg);
  rr(c, fl, op, a.reg, b.reg);
  if (!max) {
    rr(c, fl, 0x0F56, XS, a.reg);         /* orps: -0 and NaN win */
    rri(c, fl, 0x0FC2, a.reg, XS, 3);     /* a = unord(a, XS) */
    rr(c, fl, 0x0F56, XS, a.reg);         /* NaN lanes all ones */
  } else {
    rr(c, fl, 0x0F57, a.reg, XS);         /* a = discrepancies */
    rr(c, fl, 0x0F56, XS, a.reg);         /* propagate NaN */
    rr(c, fl, 0x0F5C, XS, a.reg);         /* resolve +0/-0, quiet NaN */
    rri(c, fl, 0x0FC2, a.reg, XS, 3);     /* a = unord(a, XS) */
  }
  /* clear the NaN payload below the quiet bit: a = mask >> (exp+1 bits); result = ~a & XS */
  x64_emit_simd_shift_ri(c->b, dbl ? 0x0F73 : 0x0F72, 2, a.reg, dbl ? 13 : 10);
  rr(c, fl, 0x0F55, a.reg, XS);           /* andnps */
  x64_free_val(c, &b);
  push_v(c, a.reg);
}

/* pmin(a, b) = b < a ? b : a  -> minps b, a (x86 keeps the second operand unless the first is less) */
static void fpminmax(x64_fn *c, bool dbl, bool max) {
  bin_swapped(c, dbl ? P66 : 0, max ? 0x0F5F : 0x0F5D);
}

/* -- Lanes ----------------------------------------------------------------------------------- */

static void extract(x64_fn *c, const weft_instr *in) {
  uint8_t l = in->b;
  x64_val v = x64_pop(c);
  x64_to_reg(c, &v, 0);
  int r;
  switch (in->op) {
  case WEFT_OP_I8X16_EXTRACT_LANE_S: case WEFT_OP_I8X16_EXTRACT_LANE_U:
    r = x64_alloc_gpr(c, 0);
    rri(c, P66, 0x0F3A14, v.reg, r, l); /* pextrb r32 (zero-extended) */
    if (in->op == WEFT_OP_I8X16_EXTRACT_LANE_S) x64_emit_movx_rr(c->b, 0xBE, false, r, r);
    x64_free_val(c, &v);
    x64_push_reg(c, X64_T_I32, r);
    return;
  case WEFT_OP_I16X8_EXTRACT_LANE_S: case WEFT_OP_I16X8_EXTRACT_LANE_U:
    r = x64_alloc_gpr(c, 0);
    rri(c, P66, 0x0FC5, r, v.reg, l); /* pextrw */
    if (in->op == WEFT_OP_I16X8_EXTRACT_LANE_S) x64_emit_movx_rr(c->b, 0xBF, false, r, r);
    x64_free_val(c, &v);
    x64_push_reg(c, X64_T_I32, r);
    return;
  case WEFT_OP_I32X4_EXTRACT_LANE:
    r = x64_alloc_gpr(c, 0);
    rri(c, P66, 0x0F3A16, v.reg, r, l);
    x64_free_val(c, &v);
    x64_push_reg(c, X64_T_I32, r);
    return;
  case WEFT_OP_I64X2_EXTRACT_LANE:
    r = x64_alloc_gpr(c, 0);
    x64_emit_pextrq(c->b, r, v.reg, l);
    x64_free_val(c, &v);
    x64_push_reg(c, X64_T_I64, r);
    return;
  case WEFT_OP_F32X4_EXTRACT_LANE:
    /* insertps v, v, lane -> 0, zero lanes 1-3 */
    rri(c, P66, 0x0F3A21, v.reg, v.reg, (uint8_t)(l << 6 | 0x0E));
    x64_push_reg(c, X64_T_F32, v.reg);
    return;
  default: /* f64x2 */
    if (l) rri(c, P66, 0x0F70, v.reg, v.reg, 0xEE); /* pshufd: high qword down */
    rr(c, X64_PF3, 0x0F7E, v.reg, v.reg);           /* movq: clear the high qword */
    x64_push_reg(c, X64_T_F64, v.reg);
    return;
  }
}

static void replace(x64_fn *c, const weft_instr *in) {
  uint8_t l = in->b;
  x64_val s = x64_pop(c);
  x64_val v = pop_v(c);
  x64_to_reg(c, &s, 0);
  switch (in->op) {
  case WEFT_OP_I8X16_REPLACE_LANE: rri(c, P66, 0x0F3A20, v.reg, s.reg, l); break;
  case WEFT_OP_I16X8_REPLACE_LANE: rri(c, P66, 0x0FC4, v.reg, s.reg, l); break;
  case WEFT_OP_I32X4_REPLACE_LANE: rri(c, P66, 0x0F3A22, v.reg, s.reg, l); break;
  case WEFT_OP_I64X2_REPLACE_LANE: x64_emit_pinsrq(c->b, v.reg, s.reg, l); break;
  case WEFT_OP_F32X4_REPLACE_LANE: rri(c, P66, 0x0F3A21, v.reg, s.reg, (uint8_t)(l << 4)); break;
  default: /* f64x2 */
    if (l == 0)
      rr(c, X64_PF2, 0x0F10, v.reg, s.reg); /* movsd: low qword */
    else
      rr(c, 0, 0x0F16, v.reg, s.reg);       /* movlhps */
    break;
  }
  x64_free_val(c, &s);
  push_v(c, v.reg);
}

static void splat(x64_fn *c, uint16_t op) {
  x64_val s = x64_pop(c);
  x64_to_reg(c, &s, 0);
  if (op == WEFT_OP_F32X4_SPLAT || op == WEFT_OP_F64X2_SPLAT) {
    int x = x64_alloc_xmm(c);
    rri(c, P66, 0x0F70, x, s.reg, op == WEFT_OP_F32X4_SPLAT ? 0x00 : 0x44);
    x64_free_val(c, &s);
    push_v(c, x);
    return;
  }
  int x = x64_alloc_xmm(c);
  x64_emit_movd_xr(c->b, op == WEFT_OP_I64X2_SPLAT, x, s.reg);
  switch (op) {
  case WEFT_OP_I8X16_SPLAT: rr(c, P66, 0x0FEF, XS, XS); rr(c, P66, 0x0F3800, x, XS); break;
  case WEFT_OP_I16X8_SPLAT: rri(c, X64_PF2, 0x0F70, x, x, 0); rri(c, P66, 0x0F70, x, x, 0); break;
  case WEFT_OP_I32X4_SPLAT: rri(c, P66, 0x0F70, x, x, 0); break;
  default: rr(c, P66, 0x0F6C, x, x); break;
  }
  x64_free_val(c, &s);
  push_v(c, x);
}

/* -- Shifts ---------------------------------------------------------------------------------- */

/* w: 0 i8 .. 3 i64; kind 0 shl 1 shr_s 2 shr_u */
static void shift(x64_fn *c, int w, int kind) {
  static const uint32_t sll[4] = {0, 0x0FF1, 0x0FF2, 0x0FF3};
  static const uint32_t srl[4] = {0, 0x0FD1, 0x0FD2, 0x0FD3};
  static const uint32_t sra[4] = {0, 0x0FE1, 0x0FE2, 0};
  x64_val n = x64_pop(c);
  x64_val v = pop_v(c);
  int r = x64_alloc_gpr(c, 0);
  if (n.kind == X64_VK_CONST) {
    x64_emit_mov_ri32(c->b, r, (uint32_t)n.imm);
  } else {
    x64_to_reg(c, &n, 0);
    x64_emit_mov_rr(c->b, false, r, n.reg);
  }
  x64_free_val(c, &n);
  x64_emit_alu_ri(c->b, X64_AND, false, r, (8 << w) - 1);
  if (w == 0) {
    /* bytes: shift as 16-bit lanes, then fix the bits that crossed a byte boundary */
    if (kind == 1) {
      /* shr_s: widen each byte to 16 bits with its sign (punpck{l,h}bw x, x keeps the value in
       * the high byte), arithmetic shift by n+8, pack back with signed saturation */
      int t = x64_alloc_xmm(c);
      x64_emit_alu_ri(c->b, X64_ADD, false, r, 8);
      x64_emit_movd_xr(c->b, false, XS, r);
      movx(c, t, v.reg);
      rr(c, P66, 0x0F60, v.reg, v.reg); /* punpcklbw */
      rr(c, P66, 0x0F68, t, t);         /* punpckhbw */
      rr(c, P66, 0x0FE1, v.reg, XS);
      rr(c, P66, 0x0FE1, t, XS);
      rr(c, P66, 0x0F63, v.reg, t);     /* packsswb */
      c->xmm_used &= (uint16_t)~(1u << t);
    } else {
      /* shift as words, then clear the bits that crossed into the neighbouring byte with the
       * byte mask 0xFF shifted the same way, broadcast by pshufb */
      int t = x64_alloc_xmm(c);
      uint32_t op = kind == 0 ? 0x0FF1 : 0x0FD1;
      x64_emit_movd_xr(c->b, false, XS, r);
      rr(c, P66, op, v.reg, XS);
      x64_emit_mov_ri32(c->b, X64_SCRATCH, 0xFF);
      x64_emit_movd_xr(c->b, false, t, X64_SCRATCH);
      rr(c, P66, op, t, XS);
      rr(c, P66, 0x0FEF, XS, XS);
      rr(c, P66, 0x0F3800, t, XS);
      rr(c, P66, 0x0FDB, v.reg, t);
      c->xmm_used &= (uint16_t)~(1u << t);
    }
  } else if (w == 3 && kind == 1) {
    /* i64 shr_s: (x >>u n) ^ m - m with m = sign bit >>u n */
    int t = x64_alloc_xmm(c);
    x64_emit_movd_xr(c->b, false, t, r);
    rr(c, P66, 0x0FD3, v.reg, t);
    x64_emit_mov_ri(c->b, X64_SCRATCH, 0x8000000000000000ull);
    x64_emit_movd_xr(c->b, true, XS, X64_SCRATCH);
    rr(c, P66, 0x0F6C, XS, XS);
    rr(c, P66, 0x0FD3, XS, t);
    rr(c, P66, 0x0FEF, v.reg, XS);
    rr(c, P66, 0x0FFB, v.reg, XS);
    c->xmm_used &= (uint16_t)~(1u << t);
  } else {
    x64_emit_movd_xr(c->b, false, XS, r);
    rr(c, P66, kind == 0 ? sll[w] : kind == 1 ? sra[w] : srl[w], v.reg, XS);
  }
  c->gpr_used &= (uint16_t)~(1u << r);
  push_v(c, v.reg);
}

/* -- Unary, reductions ----------------------------------------------------------------------- */

static void ineg(x64_fn *c, uint32_t subop) {
  x64_val v = pop_v(c);
  rr(c, P66, 0x0FEF, XS, XS);
  rr(c, P66, subop, XS, v.reg);
  movx(c, v.reg, XS);
  push_v(c, v.reg);
}

static void un(x64_fn *c, unsigned fl, uint32_t op) {
  x64_val v = pop_v(c);
  rr(c, fl, op, v.reg, v.reg);
  push_v(c, v.reg);
}

static void un_imm(x64_fn *c, unsigned fl, uint32_t op, uint8_t imm) {
  x64_val v = pop_v(c);
  rri(c, fl, op, v.reg, v.reg, imm);
  push_v(c, v.reg);
}

/* fabs / fneg: and with ~sign or xor with the sign */
static void fsign(x64_fn *c, bool dbl, bool neg) {
  x64_val v = pop_v(c);
  ones(c, XS);
  if (neg)
    x64_emit_simd_shift_ri(c->b, dbl ? 0x0F73 : 0x0F72, 6, XS, dbl ? 63 : 31);
  else
    x64_emit_simd_shift_ri(c->b, dbl ? 0x0F73 : 0x0F72, 2, XS, 1);
  rr(c, 0, neg ? 0x0F57 : 0x0F54, v.reg, XS);
  push_v(c, v.reg);
}

static void any_true(x64_fn *c) {
  x64_val v = pop_v(c);
  int r = x64_alloc_gpr(c, 0);
  x64_emit_alu_rr(c->b, X64_XOR, false, r, r);
  rr(c, P66, 0x0F3817, v.reg, v.reg); /* ptest */
  x64_emit_setcc(c->b, X64_CC_NE, r);
  x64_free_val(c, &v);
  x64_push_reg(c, X64_T_I32, r);
}

static void all_true(x64_fn *c, int w) {
  x64_val v = pop_v(c);
  int r = x64_alloc_gpr(c, 0);
  x64_emit_alu_rr(c->b, X64_XOR, false, r, r);
  rr(c, P66, 0x0FEF, XS, XS);
  rr(c, P66, op_eq[w], XS, v.reg);
  rr(c, P66, 0x0F3817, XS, XS);
  x64_emit_setcc(c->b, X64_CC_E, r);
  x64_free_val(c, &v);
  x64_push_reg(c, X64_T_I32, r);
}

static void bitmask(x64_fn *c, int w) {
  x64_val v = pop_v(c);
  int r = x64_alloc_gpr(c, 0);
  switch (w) {
  case 0: rr(c, P66, 0x0FD7, r, v.reg); break;            /* pmovmskb */
  case 1:
    movx(c, XS, v.reg);
    rr(c, P66, 0x0F63, XS, XS);                           /* packsswb keeps the signs */
    rr(c, P66, 0x0FD7, r, XS);
    x64_emit_movx_rr(c->b, 0xB6, false, r, r);
    break;
  case 2: rr(c, 0, 0x0F50, r, v.reg); break;              /* movmskps */
  default: rr(c, P66, 0x0F50, r, v.reg); break;           /* movmskpd */
  }
  x64_free_val(c, &v);
  x64_push_reg(c, X64_T_I32, r);
}

static void popcnt(x64_fn *c) {
  x64_val v = pop_v(c);
  int t = x64_alloc_xmm(c), lut = x64_alloc_xmm(c);
  const128(c, lut, 0x0302020102010100ull, 0x0403030203020201ull);
  splat64(c, XS, 0x0F0F0F0F0F0F0F0Full);
  movx(c, t, v.reg);
  x64_emit_simd_shift_ri(c->b, 0x0F71, 2, t, 4);
  rr(c, P66, 0x0FDB, t, XS);       /* high nibbles */
  rr(c, P66, 0x0FDB, v.reg, XS);   /* low nibbles */
  movx(c, XS, lut);
  rr(c, P66, 0x0F3800, XS, v.reg);
  rr(c, P66, 0x0F3800, lut, t);
  rr(c, P66, 0x0FFC, lut, XS);     /* paddb */
  movx(c, v.reg, lut);
  c->xmm_used &= (uint16_t)~((1u << t) | (1u << lut));
  push_v(c, v.reg);
}

/* -- Widening, narrowing, multiplies --------------------------------------------------------- */

/* pmovsx/pmovzx of the low (or, after pshufd, high) half */
static void extend(x64_fn *c, uint32_t op, bool high) {
  x64_val v = pop_v(c);
  if (high) rri(c, P66, 0x0F70, v.reg, v.reg, 0xEE);
  rr(c, P66, op, v.reg, v.reg);
  push_v(c, v.reg);
}

/* w: result lane width 1 i16, 2 i32, 3 i64 */
static void extmul(x64_fn *c, int w, bool high, bool sgn) {
  x64_val b = pop_v(c), a = pop_v(c);
  if (w == 3) {
    uint8_t sh = high ? 0xFA : 0x50; /* dwords (2,2,3,3) or (0,0,1,1) */
    rri(c, P66, 0x0F70, a.reg, a.reg, sh);
    rri(c, P66, 0x0F70, b.reg, b.reg, sh);
    rr(c, P66, sgn ? 0x0F3828 : 0x0FF4, a.reg, b.reg); /* pmuldq / pmuludq */
  } else {
    static const uint32_t sx[3] = {0, 0x0F3820, 0x0F3823}, zx[3] = {0, 0x0F3830, 0x0F3833};
    if (high) {
      rri(c, P66, 0x0F70, a.reg, a.reg, 0xEE);
      rri(c, P66, 0x0F70, b.reg, b.reg, 0xEE);
    }
    uint32_t op = sgn ? sx[w] : zx[w];
    rr(c, P66, op, a.reg, a.reg);
    rr(c, P66, op, b.reg, b.reg);
    rr(c, P66, w == 1 ? 0x0FD5 : 0x0F3840, a.reg, b.reg); /* pmullw / pmulld */
  }
  x64_free_val(c, &b);
  push_v(c, a.reg);
}

static void i64_mul(x64_fn *c) {
  x64_val b = pop_v(c), a = pop_v(c);
  int t = x64_alloc_xmm(c);
  /* lo(a)*lo(b) + ((hi(a)*lo(b) + lo(a)*hi(b)) << 32) */
  movx(c, t, a.reg);
  x64_emit_simd_shift_ri(c->b, 0x0F73, 2, t, 32);
  rr(c, P66, 0x0FF4, t, b.reg);                   /* hi(a)*lo(b) */
  movx(c, XS, b.reg);
  x64_emit_simd_shift_ri(c->b, 0x0F73, 2, XS, 32);
  rr(c, P66, 0x0FF4, XS, a.reg);                  /* hi(b)*lo(a) */
  rr(c, P66, 0x0FD4, t, XS);
  x64_emit_simd_shift_ri(c->b, 0x0F73, 6, t, 32);
  rr(c, P66, 0x0FF4, a.reg, b.reg);
  rr(c, P66, 0x0FD4, a.reg, t);
  c->xmm_used &= (uint16_t)~(1u << t);
  x64_free_val(c, &b);
  push_v(c, a.reg);
}

static void extadd(x64_fn *c, uint16_t op) {
  x64_val v = pop_v(c);
  switch (op) {
  case WEFT_OP_I16X8_EXTADD_PAIRWISE_I8X16_S: /* pmaddubsw ones(u8), v(s8) */
    splat64(c, XS, 0x0101010101010101ull);
    rr(c, P66, 0x0F3804, XS, v.reg);
    movx(c, v.reg, XS);
    break;
  case WEFT_OP_I16X8_EXTADD_PAIRWISE_I8X16_U: /* pmaddubsw v(u8), ones(s8) */
    splat64(c, XS, 0x0101010101010101ull);
    rr(c, P66, 0x0F3804, v.reg, XS);
    break;
  case WEFT_OP_I32X4_EXTADD_PAIRWISE_I16X8_S:
    splat64(c, XS, 0x0001000100010001ull);
    rr(c, P66, 0x0FF5, v.reg, XS);
    break;
  default: /* _u: flip to signed, pmaddwd with ones, add 2 * 32768 back */
    splat64(c, XS, 0x8000800080008000ull);
    rr(c, P66, 0x0FEF, v.reg, XS);
    splat64(c, XS, 0x0001000100010001ull);
    rr(c, P66, 0x0FF5, v.reg, XS);
    splat64(c, XS, 0x0001000000010000ull);
    rr(c, P66, 0x0FFE, v.reg, XS);
    break;
  }
  push_v(c, v.reg);
}

static void q15mulr(x64_fn *c) {
  x64_val b = pop_v(c), a = pop_v(c);
  rr(c, P66, 0x0F380B, a.reg, b.reg); /* pmulhrsw: only 0x8000 * 0x8000 overflows, to 0x8000 */
  splat64(c, XS, 0x8000800080008000ull);
  rr(c, P66, 0x0F75, XS, a.reg);
  rr(c, P66, 0x0FEF, a.reg, XS);
  x64_free_val(c, &b);
  push_v(c, a.reg);
}

/* -- Conversions ----------------------------------------------------------------------------- */

static void trunc_sat_f32_s(x64_fn *c, int v) {
  movx(c, XS, v);
  rri(c, 0, 0x0FC2, XS, XS, 0);   /* cmpeqps: not-NaN mask */
  rr(c, 0, 0x0F54, v, XS);        /* NaN -> 0 */
  rr(c, P66, 0x0FEF, XS, v);      /* XS = ~input (0 in NaN lanes) */
  rr(c, X64_PF3, 0x0F5B, v, v);   /* cvttps2dq: overflow -> 0x80000000 */
  rr(c, P66, 0x0FDB, XS, v);
  x64_emit_simd_shift_ri(c->b, 0x0F72, 4, XS, 31);
  rr(c, P66, 0x0FEF, v, XS);      /* positive overflow -> 0x7FFFFFFF */
}

static void trunc_sat_f32_u(x64_fn *c, int v) {
  int t = x64_alloc_xmm(c);
  rr(c, 0, 0x0F57, XS, XS);
  rr(c, 0, 0x0F5F, v, XS);        /* maxps: NaN and negatives -> 0 */
  ones(c, XS);
  x64_emit_simd_shift_ri(c->b, 0x0F72, 2, XS, 1);
  rr(c, 0, 0x0F5B, XS, XS);       /* cvtdq2ps: 2^31 */
  movx(c, t, v);
  rr(c, 0, 0x0F5C, t, XS);        /* t = v - 2^31 */
  rri(c, 0, 0x0FC2, XS, t, 2);    /* XS = 2^31 <= t  (t >= 2^31: beyond u32) */
  rr(c, X64_PF3, 0x0F5B, t, t);   /* cvttps2dq t */
  rr(c, P66, 0x0FEF, t, XS);      /* beyond -> 0x7FFFFFFF ^ ... */
  rr(c, P66, 0x0FEF, XS, XS);
  rr(c, P66, 0x0F383D, t, XS);    /* pmaxsd t, 0 */
  rr(c, X64_PF3, 0x0F5B, v, v);   /* cvttps2dq v: >= 2^31 -> 0x80000000 */
  rr(c, P66, 0x0FFE, v, t);       /* paddd */
  c->xmm_used &= (uint16_t)~(1u << t);
}

static void convert_u32_to_f32(x64_fn *c, int v) {
  rr(c, P66, 0x0FEF, XS, XS);
  rri(c, P66, 0x0F3A0E, XS, v, 0x55); /* pblendw: low 16 bits of each lane */
  rr(c, P66, 0x0FFA, v, XS);          /* psubd: high 16 bits */
  rr(c, 0, 0x0F5B, XS, XS);           /* exact */
  x64_emit_simd_shift_ri(c->b, 0x0F72, 2, v, 1);
  rr(c, 0, 0x0F5B, v, v);             /* exact (even value / 2) */
  rr(c, 0, 0x0F58, v, v);
  rr(c, 0, 0x0F58, v, XS);            /* one rounding */
}

static void conv(x64_fn *c, uint16_t op) {
  x64_val v = pop_v(c);
  int r = v.reg;
  switch (op) {
  case WEFT_OP_F32X4_CONVERT_I32X4_S: rr(c, 0, 0x0F5B, r, r); break;
  case WEFT_OP_F32X4_CONVERT_I32X4_U: convert_u32_to_f32(c, r); break;
  case WEFT_OP_F64X2_CONVERT_LOW_I32X4_S: rr(c, X64_PF3, 0x0FE6, r, r); break;
  case WEFT_OP_F64X2_CONVERT_LOW_I32X4_U:
    splat64(c, XS, 0x4330000043300000ull);
    rr(c, 0, 0x0F14, r, XS);           /* unpcklps: doubles 2^52 + x */
    splat64(c, XS, 0x4330000000000000ull);
    rr(c, P66, 0x0F5C, r, XS);         /* subpd 2^52 */
    break;
  case WEFT_OP_I32X4_TRUNC_SAT_F32X4_S: case WEFT_OP_I32X4_RELAXED_TRUNC_F32X4_S: trunc_sat_f32_s(c, r); break;
  case WEFT_OP_I32X4_TRUNC_SAT_F32X4_U: case WEFT_OP_I32X4_RELAXED_TRUNC_F32X4_U: trunc_sat_f32_u(c, r); break;
  case WEFT_OP_I32X4_TRUNC_SAT_F64X2_S_ZERO: case WEFT_OP_I32X4_RELAXED_TRUNC_F64X2_S_ZERO:
    movx(c, XS, r);
    rri(c, P66, 0x0FC2, XS, XS, 0);    /* not-NaN mask */
    {
      int t = x64_alloc_xmm(c);
      splat64(c, t, 0x41DFFFFFFFC00000ull); /* 2147483647.0 */
      rr(c, P66, 0x0F54, XS, t);
      c->xmm_used &= (uint16_t)~(1u << t);
    }
    rr(c, P66, 0x0F5D, r, XS);         /* minpd: NaN -> 0, clamp high */
    rr(c, P66, 0x0FE6, r, r);          /* cvttpd2dq (upper lanes zero) */
    break;
  case WEFT_OP_I32X4_TRUNC_SAT_F64X2_U_ZERO: case WEFT_OP_I32X4_RELAXED_TRUNC_F64X2_U_ZERO:
    rr(c, P66, 0x0F57, XS, XS);
    rr(c, P66, 0x0F5F, r, XS);         /* maxpd: NaN, negatives -> 0 */
    splat64(c, XS, 0x41EFFFFFFFE00000ull); /* 4294967295.0 */
    rr(c, P66, 0x0F5D, r, XS);
    rri(c, P66, 0x0F3A09, r, r, 3);    /* roundpd toward zero */
    splat64(c, XS, 0x4330000000000000ull);
    rr(c, P66, 0x0F58, r, XS);         /* low dword of each = the u32 */
    rr(c, P66, 0x0F57, XS, XS);
    rri(c, 0, 0x0FC6, r, XS, 0x88);    /* shufps: dwords 0, 2, then zeros */
    break;
  case WEFT_OP_F32X4_DEMOTE_F64X2_ZERO: rr(c, P66, 0x0F5A, r, r); break;
  default: rr(c, 0, 0x0F5A, r, r); break; /* f64x2.promote_low_f32x4 */
  }
  push_v(c, r);
}

/* -- Shuffles -------------------------------------------------------------------------------- */

static void swizzle(x64_fn *c) {
  x64_val s = pop_v(c), a = pop_v(c);
  splat64(c, XS, 0x7070707070707070ull);
  rr(c, P66, 0x0FDC, s.reg, XS);       /* paddusb: >= 16 sets bit 7 -> zero */
  rr(c, P66, 0x0F3800, a.reg, s.reg);  /* pshufb */
  x64_free_val(c, &s);
  push_v(c, a.reg);
}

static void shuffle(x64_fn *c, const weft_instr *in) {
  x64_val b = pop_v(c), a = pop_v(c);
  uint8_t ma[16], mb[16];
  for (int i = 0; i < 16; i++) {
    uint8_t k = in->imm.v128[i] & 31;
    ma[i] = k < 16 ? k : 0x80;
    mb[i] = k >= 16 ? (uint8_t)(k - 16) : 0x80;
  }
  uint64_t lo, hi;
  memcpy(&lo, ma, 8), memcpy(&hi, ma + 8, 8);
  const128(c, XS, lo, hi);
  rr(c, P66, 0x0F3800, a.reg, XS);
  memcpy(&lo, mb, 8), memcpy(&hi, mb + 8, 8);
  const128(c, XS, lo, hi);
  rr(c, P66, 0x0F3800, b.reg, XS);
  rr(c, P66, 0x0FEB, a.reg, b.reg);
  x64_free_val(c, &b);
  push_v(c, a.reg);
}

/* bitselect(v1, v2, m) = (v1 & m) | (v2 & ~m) */
static void bitselect(x64_fn *c) {
  x64_val m = pop_v(c), v2 = pop_v(c), v1 = pop_v(c);
  rr(c, P66, 0x0FDB, v1.reg, m.reg);
  rr(c, P66, 0x0FDF, m.reg, v2.reg);   /* pandn: ~m & v2 */
  rr(c, P66, 0x0FEB, v1.reg, m.reg);
  x64_free_val(c, &m);
  x64_free_val(c, &v2);
  push_v(c, v1.reg);
}

/* relaxed madd: a * b + c, not fused (both roundings; one of the allowed results) */
static void madd(x64_fn *c, bool dbl, bool neg) {
  unsigned fl = dbl ? P66 : 0;
  x64_val cc = pop_v(c), b = pop_v(c), a = pop_v(c);
  rr(c, fl, 0x0F59, a.reg, b.reg);
  if (neg) {
    rr(c, fl, 0x0F5C, cc.reg, a.reg);
    x64_free_val(c, &a);
    x64_free_val(c, &b);
    push_v(c, cc.reg);
    return;
  }
  rr(c, fl, 0x0F58, a.reg, cc.reg);
  x64_free_val(c, &cc);
  x64_free_val(c, &b);
  push_v(c, a.reg);
}

/* relaxed dot i8x16 x i7x16: both operands taken as signed bytes (products summed exactly,
 * wrapping to 16 bits) */
static void relaxed_dot(x64_fn *c, bool add) {
  x64_val acc = {0};
  if (add) acc = pop_v(c);
  x64_val b = pop_v(c), a = pop_v(c);
  int t = x64_alloc_xmm(c), u = x64_alloc_xmm(c);
  rri(c, P66, 0x0F70, t, a.reg, 0xEE);
  rri(c, P66, 0x0F70, u, b.reg, 0xEE);
  rr(c, P66, 0x0F3820, t, t);
  rr(c, P66, 0x0F3820, u, u);
  rr(c, P66, 0x0FD5, t, u);             /* high 8 products */
  rr(c, P66, 0x0F3820, a.reg, a.reg);
  rr(c, P66, 0x0F3820, b.reg, b.reg);
  rr(c, P66, 0x0FD5, a.reg, b.reg);     /* low 8 products */
  rr(c, P66, 0x0F3801, a.reg, t);       /* phaddw */
  if (add) {
    splat64(c, XS, 0x0001000100010001ull);
    rr(c, P66, 0x0FF5, a.reg, XS);      /* pairs of i16 -> i32 */
    rr(c, P66, 0x0FFE, a.reg, acc.reg);
    x64_free_val(c, &acc);
  }
  c->xmm_used &= (uint16_t)~((1u << t) | (1u << u));
  x64_free_val(c, &b);
  push_v(c, a.reg);
}

/* -- Memory ---------------------------------------------------------------------------------- */

static uint32_t access_size(uint16_t op) {
  switch (op) {
  case WEFT_OP_V128_LOAD: case WEFT_OP_V128_STORE: return 16;
  case WEFT_OP_V128_LOAD8_SPLAT: case WEFT_OP_V128_LOAD8_LANE: case WEFT_OP_V128_STORE8_LANE: return 1;
  case WEFT_OP_V128_LOAD16_SPLAT: case WEFT_OP_V128_LOAD16_LANE: case WEFT_OP_V128_STORE16_LANE: return 2;
  case WEFT_OP_V128_LOAD32_SPLAT: case WEFT_OP_V128_LOAD32_LANE: case WEFT_OP_V128_STORE32_LANE:
  case WEFT_OP_V128_LOAD32_ZERO: return 4;
  default: return 8;
  }
}

static void load(x64_fn *c, const weft_instr *in) {
  uint16_t op = in->op;
  bool lane = op >= WEFT_OP_V128_LOAD8_LANE && op <= WEFT_OP_V128_LOAD64_LANE;
  x64_val v = {0};
  if (lane) v = pop_v(c);
  x64_val idx = x64_pop(c);
  if (idx.kind == X64_VK_MEM) x64_to_reg(c, &idx, 0);
  int x = lane ? v.reg : x64_alloc_xmm(c);
  int tmp;
  x64_mem m = x64_mem_operand(c, in, access_size(op), &idx, &tmp);
  x64_trap_site_here(c, WEFT_TRAP_MEMORY_OOB);
  switch (op) {
  case WEFT_OP_V128_LOAD: x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_LD, x, m); break;
  case WEFT_OP_V128_LOAD8X8_S: x64_emit_sse_rm(c->b, P66, 0x0F3820, x, m); break;
  case WEFT_OP_V128_LOAD8X8_U: x64_emit_sse_rm(c->b, P66, 0x0F3830, x, m); break;
  case WEFT_OP_V128_LOAD16X4_S: x64_emit_sse_rm(c->b, P66, 0x0F3823, x, m); break;
  case WEFT_OP_V128_LOAD16X4_U: x64_emit_sse_rm(c->b, P66, 0x0F3833, x, m); break;
  case WEFT_OP_V128_LOAD32X2_S: x64_emit_sse_rm(c->b, P66, 0x0F3825, x, m); break;
  case WEFT_OP_V128_LOAD32X2_U: x64_emit_sse_rm(c->b, P66, 0x0F3835, x, m); break;
  case WEFT_OP_V128_LOAD8_SPLAT:
    x64_emit_simd_rmi(c->b, P66, 0x0F3A20, x, m, 0);
    rr(c, P66, 0x0FEF, XS, XS);
    rr(c, P66, 0x0F3800, x, XS);
    break;
  case WEFT_OP_V128_LOAD16_SPLAT:
    x64_emit_simd_rmi(c->b, P66, 0x0FC4, x, m, 0);
    rri(c, X64_PF2, 0x0F70, x, x, 0);
    rri(c, P66, 0x0F70, x, x, 0);
    break;
  case WEFT_OP_V128_LOAD32_SPLAT:
    x64_emit_sse_rm(c->b, P66, 0x0F6E, x, m);
    rri(c, P66, 0x0F70, x, x, 0);
    break;
  case WEFT_OP_V128_LOAD64_SPLAT:
    x64_emit_sse_rm(c->b, X64_PF3, 0x0F7E, x, m);
    rr(c, P66, 0x0F6C, x, x);
    break;
  case WEFT_OP_V128_LOAD32_ZERO: x64_emit_sse_rm(c->b, P66, 0x0F6E, x, m); break;
  case WEFT_OP_V128_LOAD64_ZERO: x64_emit_sse_rm(c->b, X64_PF3, 0x0F7E, x, m); break;
  case WEFT_OP_V128_LOAD8_LANE: x64_emit_simd_rmi(c->b, P66, 0x0F3A20, x, m, in->b); break;
  case WEFT_OP_V128_LOAD16_LANE: x64_emit_simd_rmi(c->b, P66, 0x0FC4, x, m, in->b); break;
  case WEFT_OP_V128_LOAD32_LANE: x64_emit_simd_rmi(c->b, P66, 0x0F3A22, x, m, in->b); break;
  default: x64_emit_simd_rmi(c->b, P66 | X64_W, 0x0F3A22, x, m, in->b); break; /* load64_lane */
  }
  if (tmp != X64_NOREG) c->gpr_used &= (uint16_t)~(1u << tmp);
  x64_free_val(c, &idx);
  push_v(c, x);
}

static void store(x64_fn *c, const weft_instr *in) {
  uint16_t op = in->op;
  x64_val v = pop_v(c);
  x64_val idx = x64_pop(c);
  if (idx.kind == X64_VK_MEM) x64_to_reg(c, &idx, 0);
  int tmp;
  x64_mem m = x64_mem_operand(c, in, access_size(op), &idx, &tmp);
  x64_trap_site_here(c, WEFT_TRAP_MEMORY_OOB);
  switch (op) {
  case WEFT_OP_V128_STORE: x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_ST, v.reg, m); break;
  case WEFT_OP_V128_STORE8_LANE: x64_emit_simd_rmi(c->b, P66, 0x0F3A14, v.reg, m, in->b); break;
  case WEFT_OP_V128_STORE16_LANE: x64_emit_simd_rmi(c->b, P66, 0x0F3A15, v.reg, m, in->b); break;
  case WEFT_OP_V128_STORE32_LANE: x64_emit_simd_rmi(c->b, P66, 0x0F3A16, v.reg, m, in->b); break;
  default: x64_emit_simd_rmi(c->b, P66 | X64_W, 0x0F3A16, v.reg, m, in->b); break;
  }
  if (tmp != X64_NOREG) c->gpr_used &= (uint16_t)~(1u << tmp);
  x64_free_val(c, &idx);
  x64_free_val(c, &v);
}

static int global(x64_fn *c, const weft_instr *in) {
  uint32_t g = in->imm.x.a;
  if (g >= c->m->nglobals || x64_type_of(c->m->globals[g].type.type) != X64_T_V128) return 0;
  x64_mem cell = x64_m(X64_VMCTX, (int32_t)(c->mc->lay.globals + 8 * g));
  if (in->op == WEFT_OP_GLOBAL_GET) {
    int x = x64_alloc_xmm(c);
    x64_emit_load(c->b, true, X64_SCRATCH, cell);
    x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_LD, x, x64_m(X64_SCRATCH, 0));
    push_v(c, x);
  } else {
    x64_val v = pop_v(c);
    x64_emit_load(c->b, true, X64_SCRATCH, cell);
    x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_ST, v.reg, x64_m(X64_SCRATCH, 0));
    x64_free_val(c, &v);
  }
  return 1;
}

/* -- Dispatch -------------------------------------------------------------------------------- */

/* Plain two-operand forms: a = a OP b. flags 0xFF marks "not in this table". */
typedef struct simd_bin {
  uint16_t op;
  uint8_t flags;
  uint32_t code;
} simd_bin;

static const simd_bin bins[] = {
  {WEFT_OP_V128_AND, X64_P66, 0x0FDB}, {WEFT_OP_V128_OR, X64_P66, 0x0FEB}, {WEFT_OP_V128_XOR, X64_P66, 0x0FEF},
  {WEFT_OP_I8X16_ADD, X64_P66, 0x0FFC}, {WEFT_OP_I8X16_SUB, X64_P66, 0x0FF8},
  {WEFT_OP_I8X16_ADD_SAT_S, X64_P66, 0x0FEC}, {WEFT_OP_I8X16_ADD_SAT_U, X64_P66, 0x0FDC},
  {WEFT_OP_I8X16_SUB_SAT_S, X64_P66, 0x0FE8}, {WEFT_OP_I8X16_SUB_SAT_U, X64_P66, 0x0FD8},
  {WEFT_OP_I8X16_MIN_S, X64_P66, 0x0F3838}, {WEFT_OP_I8X16_MIN_U, X64_P66, 0x0FDA},
  {WEFT_OP_I8X16_MAX_S, X64_P66, 0x0F383C}, {WEFT_OP_I8X16_MAX_U, X64_P66, 0x0FDE},
  {WEFT_OP_I8X16_AVGR_U, X64_P66, 0x0FE0},
  {WEFT_OP_I8X16_NARROW_I16X8_S, X64_P66, 0x0F63}, {WEFT_OP_I8X16_NARROW_I16X8_U, X64_P66, 0x0F67},
  {WEFT_OP_I16X8_ADD, X64_P66, 0x0FFD}, {WEFT_OP_I16X8_SUB, X64_P66, 0x0FF9}, {WEFT_OP_I16X8_MUL, X64_P66, 0x0FD5},
  {WEFT_OP_I16X8_ADD_SAT_S, X64_P66, 0x0FED}, {WEFT_OP_I16X8_ADD_SAT_U, X64_P66, 0x0FDD},
  {WEFT_OP_I16X8_SUB_SAT_S, X64_P66, 0x0FE9}, {WEFT_OP_I16X8_SUB_SAT_U, X64_P66, 0x0FD9},
  {WEFT_OP_I16X8_MIN_S, X64_P66, 0x0FEA}, {WEFT_OP_I16X8_MIN_U, X64_P66, 0x0F383A},
  {WEFT_OP_I16X8_MAX_S, X64_P66, 0x0FEE}, {WEFT_OP_I16X8_MAX_U, X64_P66, 0x0F383E},
  {WEFT_OP_I16X8_AVGR_U, X64_P66, 0x0FE3},
  {WEFT_OP_I16X8_NARROW_I32X4_S, X64_P66, 0x0F6B}, {WEFT_OP_I16X8_NARROW_I32X4_U, X64_P66, 0x0F382B},
  {WEFT_OP_I32X4_ADD, X64_P66, 0x0FFE}, {WEFT_OP_I32X4_SUB, X64_P66, 0x0FFA}, {WEFT_OP_I32X4_MUL, X64_P66, 0x0F3840},
  {WEFT_OP_I32X4_MIN_S, X64_P66, 0x0F3839}, {WEFT_OP_I32X4_MIN_U, X64_P66, 0x0F383B},
  {WEFT_OP_I32X4_MAX_S, X64_P66, 0x0F383D}, {WEFT_OP_I32X4_MAX_U, X64_P66, 0x0F383F},
  {WEFT_OP_I32X4_DOT_I16X8_S, X64_P66, 0x0FF5},
  {WEFT_OP_I64X2_ADD, X64_P66, 0x0FD4}, {WEFT_OP_I64X2_SUB, X64_P66, 0x0FFB},
  {WEFT_OP_F32X4_ADD, 0, 0x0F58}, {WEFT_OP_F32X4_SUB, 0, 0x0F5C}, {WEFT_OP_F32X4_MUL, 0, 0x0F59},
  {WEFT_OP_F32X4_DIV, 0, 0x0F5E},
  {WEFT_OP_F64X2_ADD, X64_P66, 0x0F58}, {WEFT_OP_F64X2_SUB, X64_P66, 0x0F5C}, {WEFT_OP_F64X2_MUL, X64_P66, 0x0F59},
  {WEFT_OP_F64X2_DIV, X64_P66, 0x0F5E},
};

static int compare(x64_fn *c, uint16_t op) {
  if (op >= WEFT_OP_I8X16_EQ && op <= WEFT_OP_I32X4_GE_U) {
    int w = (op - WEFT_OP_I8X16_EQ) / 10, k = (op - WEFT_OP_I8X16_EQ) % 10;
    icmp(c, w, k);
    return 1;
  }
  if (op >= WEFT_OP_F32X4_EQ && op <= WEFT_OP_F64X2_GE) {
    int k = (op - WEFT_OP_F32X4_EQ) % 6;
    fcmp(c, op >= WEFT_OP_F64X2_EQ, k);
    return 1;
  }
  if (op >= WEFT_OP_I64X2_EQ && op <= WEFT_OP_I64X2_GE_S) {
    static const int kinds[6] = {0, 1, 2, 4, 6, 8};
    icmp(c, 3, kinds[op - WEFT_OP_I64X2_EQ]);
    return 1;
  }
  return 0;
}

int x64_isel_simd(x64_fn *c, const weft_instr *in) {
  uint16_t op = in->op;
  if (op == WEFT_OP_GLOBAL_GET || op == WEFT_OP_GLOBAL_SET) return global(c, in);
  if (op < 0x400 || op > 0x5FF) return 0;
  if (!cpu_has(0)) {
    x64_fail(c, WEFT_ERR_UNSUPPORTED, "function %u: SIMD instruction 0x%x needs SSE4.1, which this CPU lacks",
             c->fidx, op);
    return 1;
  }
  for (size_t i = 0; i < sizeof bins / sizeof bins[0]; i++)
    if (bins[i].op == op) {
      bin(c, bins[i].flags, bins[i].code);
      return 1;
    }
  if (compare(c, op)) return 1;
  switch (op) {
  case WEFT_OP_V128_CONST: {
    uint64_t lo, hi;
    memcpy(&lo, in->imm.v128, 8);
    memcpy(&hi, in->imm.v128 + 8, 8);
    int x = x64_alloc_xmm(c);
    const128(c, x, lo, hi);
    push_v(c, x);
    return 1;
  }
  case WEFT_OP_V128_LOAD: case WEFT_OP_V128_LOAD8X8_S: case WEFT_OP_V128_LOAD8X8_U:
  case WEFT_OP_V128_LOAD16X4_S: case WEFT_OP_V128_LOAD16X4_U: case WEFT_OP_V128_LOAD32X2_S:
  case WEFT_OP_V128_LOAD32X2_U: case WEFT_OP_V128_LOAD8_SPLAT: case WEFT_OP_V128_LOAD16_SPLAT:
  case WEFT_OP_V128_LOAD32_SPLAT: case WEFT_OP_V128_LOAD64_SPLAT: case WEFT_OP_V128_LOAD32_ZERO:
  case WEFT_OP_V128_LOAD64_ZERO: case WEFT_OP_V128_LOAD8_LANE: case WEFT_OP_V128_LOAD16_LANE:
  case WEFT_OP_V128_LOAD32_LANE: case WEFT_OP_V128_LOAD64_LANE:
    load(c, in);
    return 1;
  case WEFT_OP_V128_STORE: case WEFT_OP_V128_STORE8_LANE: case WEFT_OP_V128_STORE16_LANE:
  case WEFT_OP_V128_STORE32_LANE: case WEFT_OP_V128_STORE64_LANE:
    store(c, in);
    return 1;
  case WEFT_OP_I8X16_SHUFFLE: shuffle(c, in); return 1;
  case WEFT_OP_I8X16_SWIZZLE: case WEFT_OP_I8X16_RELAXED_SWIZZLE: swizzle(c); return 1;
  case WEFT_OP_I8X16_SPLAT: case WEFT_OP_I16X8_SPLAT: case WEFT_OP_I32X4_SPLAT: case WEFT_OP_I64X2_SPLAT:
  case WEFT_OP_F32X4_SPLAT: case WEFT_OP_F64X2_SPLAT:
    splat(c, op);
    return 1;
  case WEFT_OP_I8X16_EXTRACT_LANE_S: case WEFT_OP_I8X16_EXTRACT_LANE_U: case WEFT_OP_I16X8_EXTRACT_LANE_S:
  case WEFT_OP_I16X8_EXTRACT_LANE_U: case WEFT_OP_I32X4_EXTRACT_LANE: case WEFT_OP_I64X2_EXTRACT_LANE:
  case WEFT_OP_F32X4_EXTRACT_LANE: case WEFT_OP_F64X2_EXTRACT_LANE:
    extract(c, in);
    return 1;
  case WEFT_OP_I8X16_REPLACE_LANE: case WEFT_OP_I16X8_REPLACE_LANE: case WEFT_OP_I32X4_REPLACE_LANE:
  case WEFT_OP_I64X2_REPLACE_LANE: case WEFT_OP_F32X4_REPLACE_LANE: case WEFT_OP_F64X2_REPLACE_LANE:
    replace(c, in);
    return 1;
  case WEFT_OP_V128_NOT: {
    x64_val v = pop_v(c);
    not_reg(c, v.reg);
    push_v(c, v.reg);
    return 1;
  }
  case WEFT_OP_V128_ANDNOT: bin_swapped(c, P66, 0x0FDF); return 1; /* pandn b, a = ~b & a */
  case WEFT_OP_V128_BITSELECT: case WEFT_OP_I8X16_RELAXED_LANESELECT: case WEFT_OP_I16X8_RELAXED_LANESELECT:
  case WEFT_OP_I32X4_RELAXED_LANESELECT: case WEFT_OP_I64X2_RELAXED_LANESELECT:
    bitselect(c);
    return 1;
  case WEFT_OP_V128_ANY_TRUE: any_true(c); return 1;
  case WEFT_OP_I8X16_ALL_TRUE: all_true(c, 0); return 1;
  case WEFT_OP_I16X8_ALL_TRUE: all_true(c, 1); return 1;
  case WEFT_OP_I32X4_ALL_TRUE: all_true(c, 2); return 1;
  case WEFT_OP_I64X2_ALL_TRUE: all_true(c, 3); return 1;
  case WEFT_OP_I8X16_BITMASK: bitmask(c, 0); return 1;
  case WEFT_OP_I16X8_BITMASK: bitmask(c, 1); return 1;
  case WEFT_OP_I32X4_BITMASK: bitmask(c, 2); return 1;
  case WEFT_OP_I64X2_BITMASK: bitmask(c, 3); return 1;
  case WEFT_OP_I8X16_ABS: un(c, P66, 0x0F381C); return 1;
  case WEFT_OP_I16X8_ABS: un(c, P66, 0x0F381D); return 1;
  case WEFT_OP_I32X4_ABS: un(c, P66, 0x0F381E); return 1;
  case WEFT_OP_I64X2_ABS: {
    x64_val v = pop_v(c);
    rri(c, P66, 0x0F70, XS, v.reg, 0xF5);         /* high dwords */
    x64_emit_simd_shift_ri(c->b, 0x0F72, 4, XS, 31); /* XS = v < 0 per lane */
    rr(c, P66, 0x0FEF, v.reg, XS);
    rr(c, P66, 0x0FFB, v.reg, XS);
    push_v(c, v.reg);
    return 1;
  }
  case WEFT_OP_I8X16_NEG: ineg(c, 0x0FF8); return 1;
  case WEFT_OP_I16X8_NEG: ineg(c, 0x0FF9); return 1;
  case WEFT_OP_I32X4_NEG: ineg(c, 0x0FFA); return 1;
  case WEFT_OP_I64X2_NEG: ineg(c, 0x0FFB); return 1;
  case WEFT_OP_I8X16_POPCNT: popcnt(c); return 1;
  case WEFT_OP_I8X16_SHL: shift(c, 0, 0); return 1;
  case WEFT_OP_I8X16_SHR_S: shift(c, 0, 1); return 1;
  case WEFT_OP_I8X16_SHR_U: shift(c, 0, 2); return 1;
  case WEFT_OP_I16X8_SHL: shift(c, 1, 0); return 1;
  case WEFT_OP_I16X8_SHR_S: shift(c, 1, 1); return 1;
  case WEFT_OP_I16X8_SHR_U: shift(c, 1, 2); return 1;
  case WEFT_OP_I32X4_SHL: shift(c, 2, 0); return 1;
  case WEFT_OP_I32X4_SHR_S: shift(c, 2, 1); return 1;
  case WEFT_OP_I32X4_SHR_U: shift(c, 2, 2); return 1;
  case WEFT_OP_I64X2_SHL: shift(c, 3, 0); return 1;
  case WEFT_OP_I64X2_SHR_S: shift(c, 3, 1); return 1;
  case WEFT_OP_I64X2_SHR_U: shift(c, 3, 2); return 1;
  case WEFT_OP_I64X2_MUL: i64_mul(c); return 1;
  case WEFT_OP_I16X8_Q15MULR_SAT_S: case WEFT_OP_I16X8_RELAXED_Q15MULR_S: q15mulr(c); return 1;
  case WEFT_OP_I16X8_EXTEND_LOW_I8X16_S: extend(c, 0x0F3820, false); return 1;
  case WEFT_OP_I16X8_EXTEND_HIGH_I8X16_S: extend(c, 0x0F3820, true); return 1;
  case WEFT_OP_I16X8_EXTEND_LOW_I8X16_U: extend(c, 0x0F3830, false); return 1;
  case WEFT_OP_I16X8_EXTEND_HIGH_I8X16_U: extend(c, 0x0F3830, true); return 1;
  case WEFT_OP_I32X4_EXTEND_LOW_I16X8_S: extend(c, 0x0F3823, false); return 1;
  case WEFT_OP_I32X4_EXTEND_HIGH_I16X8_S: extend(c, 0x0F3823, true); return 1;
  case WEFT_OP_I32X4_EXTEND_LOW_I16X8_U: extend(c, 0x0F3833, false); return 1;
  case WEFT_OP_I32X4_EXTEND_HIGH_I16X8_U: extend(c, 0x0F3833, true); return 1;
  case WEFT_OP_I64X2_EXTEND_LOW_I32X4_S: extend(c, 0x0F3825, false); return 1;
  case WEFT_OP_I64X2_EXTEND_HIGH_I32X4_S: extend(c, 0x0F3825, true); return 1;
  case WEFT_OP_I64X2_EXTEND_LOW_I32X4_U: extend(c, 0x0F3835, false); return 1;
  case WEFT_OP_I64X2_EXTEND_HIGH_I32X4_U: extend(c, 0x0F3835, true); return 1;
  case WEFT_OP_I16X8_EXTMUL_LOW_I8X16_S: extmul(c, 1, false, true); return 1;
  case WEFT_OP_I16X8_EXTMUL_HIGH_I8X16_S: extmul(c, 1, true, true); return 1;
  case WEFT_OP_I16X8_EXTMUL_LOW_I8X16_U: extmul(c, 1, false, false); return 1;
  case WEFT_OP_I16X8_EXTMUL_HIGH_I8X16_U: extmul(c, 1, true, false); return 1;
  case WEFT_OP_I32X4_EXTMUL_LOW_I16X8_S: extmul(c, 2, false, true); return 1;
  case WEFT_OP_I32X4_EXTMUL_HIGH_I16X8_S: extmul(c, 2, true, true); return 1;
  case WEFT_OP_I32X4_EXTMUL_LOW_I16X8_U: extmul(c, 2, false, false); return 1;
  case WEFT_OP_I32X4_EXTMUL_HIGH_I16X8_U: extmul(c, 2, true, false); return 1;
  case WEFT_OP_I64X2_EXTMUL_LOW_I32X4_S: extmul(c, 3, false, true); return 1;
  case WEFT_OP_I64X2_EXTMUL_HIGH_I32X4_S: extmul(c, 3, true, true); return 1;
  case WEFT_OP_I64X2_EXTMUL_LOW_I32X4_U: extmul(c, 3, false, false); return 1;
  case WEFT_OP_I64X2_EXTMUL_HIGH_I32X4_U: extmul(c, 3, true, false); return 1;
  case WEFT_OP_I16X8_EXTADD_PAIRWISE_I8X16_S: case WEFT_OP_I16X8_EXTADD_PAIRWISE_I8X16_U:
  case WEFT_OP_I32X4_EXTADD_PAIRWISE_I16X8_S: case WEFT_OP_I32X4_EXTADD_PAIRWISE_I16X8_U:
    extadd(c, op);
    return 1;
  case WEFT_OP_F32X4_ABS: fsign(c, false, false); return 1;
  case WEFT_OP_F32X4_NEG: fsign(c, false, true); return 1;
  case WEFT_OP_F64X2_ABS: fsign(c, true, false); return 1;
  case WEFT_OP_F64X2_NEG: fsign(c, true, true); return 1;
  case WEFT_OP_F32X4_SQRT: un(c, 0, 0x0F51); return 1;
  case WEFT_OP_F64X2_SQRT: un(c, P66, 0x0F51); return 1;
  case WEFT_OP_F32X4_CEIL: un_imm(c, P66, 0x0F3A08, 0x0A); return 1;
  case WEFT_OP_F32X4_FLOOR: un_imm(c, P66, 0x0F3A08, 0x09); return 1;
  case WEFT_OP_F32X4_TRUNC: un_imm(c, P66, 0x0F3A08, 0x0B); return 1;
  case WEFT_OP_F32X4_NEAREST: un_imm(c, P66, 0x0F3A08, 0x08); return 1;
  case WEFT_OP_F64X2_CEIL: un_imm(c, P66, 0x0F3A09, 0x0A); return 1;
  case WEFT_OP_F64X2_FLOOR: un_imm(c, P66, 0x0F3A09, 0x09); return 1;
  case WEFT_OP_F64X2_TRUNC: un_imm(c, P66, 0x0F3A09, 0x0B); return 1;
  case WEFT_OP_F64X2_NEAREST: un_imm(c, P66, 0x0F3A09, 0x08); return 1;
  case WEFT_OP_F32X4_MIN: case WEFT_OP_F32X4_RELAXED_MIN: fminmax(c, false, false); return 1;
  case WEFT_OP_F32X4_MAX: case WEFT_OP_F32X4_RELAXED_MAX: fminmax(c, false, true); return 1;
  case WEFT_OP_F64X2_MIN: case WEFT_OP_F64X2_RELAXED_MIN: fminmax(c, true, false); return 1;
  case WEFT_OP_F64X2_MAX: case WEFT_OP_F64X2_RELAXED_MAX: fminmax(c, true, true); return 1;
  case WEFT_OP_F32X4_PMIN: fpminmax(c, false, false); return 1;
  case WEFT_OP_F32X4_PMAX: fpminmax(c, false, true); return 1;
  case WEFT_OP_F64X2_PMIN: fpminmax(c, true, false); return 1;
  case WEFT_OP_F64X2_PMAX: fpminmax(c, true, true); return 1;
  case WEFT_OP_F32X4_CONVERT_I32X4_S: case WEFT_OP_F32X4_CONVERT_I32X4_U:
  case WEFT_OP_F64X2_CONVERT_LOW_I32X4_S: case WEFT_OP_F64X2_CONVERT_LOW_I32X4_U:
  case WEFT_OP_I32X4_TRUNC_SAT_F32X4_S: case WEFT_OP_I32X4_TRUNC_SAT_F32X4_U:
  case WEFT_OP_I32X4_TRUNC_SAT_F64X2_S_ZERO: case WEFT_OP_I32X4_TRUNC_SAT_F64X2_U_ZERO:
  case WEFT_OP_I32X4_RELAXED_TRUNC_F32X4_S: case WEFT_OP_I32X4_RELAXED_TRUNC_F32X4_U:
  case WEFT_OP_I32X4_RELAXED_TRUNC_F64X2_S_ZERO: case WEFT_OP_I32X4_RELAXED_TRUNC_F64X2_U_ZERO:
  case WEFT_OP_F32X4_DEMOTE_F64X2_ZERO: case WEFT_OP_F64X2_PROMOTE_LOW_F32X4:
    conv(c, op);
    return 1;
  case WEFT_OP_F32X4_RELAXED_MADD: madd(c, false, false); return 1;
  case WEFT_OP_F32X4_RELAXED_NMADD: madd(c, false, true); return 1;
  case WEFT_OP_F64X2_RELAXED_MADD: madd(c, true, false); return 1;
  case WEFT_OP_F64X2_RELAXED_NMADD: madd(c, true, true); return 1;
  case WEFT_OP_I16X8_RELAXED_DOT_I8X16_I7X16_S: relaxed_dot(c, false); return 1;
  case WEFT_OP_I32X4_RELAXED_DOT_I8X16_I7X16_ADD_S: relaxed_dot(c, true); return 1;
  default: return 0;
  }
}
