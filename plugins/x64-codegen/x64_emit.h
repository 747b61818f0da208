/* plugins/x64-codegen/x64_emit.h -- x86-64 byte encoders over a growable code buffer.
 * The instruction-selection files call these; nothing here knows about Wasm. The buffer grows
 * through the host table's realloc and records exhaustion in `oom` instead of failing each call.
 * Depends on: x64_target.h, plugin.h (host allocation).
 */
#ifndef WEFT_X64_EMIT_H
#define WEFT_X64_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/plugin.h"
#include "x64_target.h"

typedef struct x64_buf {
  uint8_t *p;
  size_t len, cap;
  bool oom;
  const weft_host_api *host;
} x64_buf;

/* A memory operand: [base + index << scale + disp]. index = X64_NOREG for none; base = X64_RIP for
 * rip-relative (disp relative to the end of the instruction). */
typedef struct x64_mem {
  uint8_t base, index, scale;
  int32_t disp;
} x64_mem;

static inline x64_mem x64_m(int base, int32_t disp) {
  x64_mem m = {(uint8_t)base, X64_NOREG, 0, disp};
  return m;
}
static inline x64_mem x64_mi(int base, int index, int scale, int32_t disp) {
  x64_mem m = {(uint8_t)base, (uint8_t)index, (uint8_t)scale, disp};
  return m;
}

/* Encoding flags for the generic encoders. */
#define X64_W 0x01u    /* REX.W: 64-bit operand size */
#define X64_P66 0x02u  /* operand-size / SSE mandatory prefix 66 */
#define X64_PF2 0x04u  /* F2 */
#define X64_PF3 0x08u  /* F3 */
#define X64_B8 0x10u   /* byte registers: spl/bpl/sil/dil need a REX prefix */

/* ALU groups (the /n digit of 81/83 and op = n*8+1 / n*8+3). */
enum { X64_ADD = 0, X64_OR = 1, X64_ADC = 2, X64_SBB = 3, X64_AND = 4, X64_SUB = 5, X64_XOR = 6, X64_CMP = 7 };
/* Shift group digits (C1 / D3). */
enum { X64_ROL = 0, X64_ROR = 1, X64_SHL = 4, X64_SHR = 5, X64_SAR = 7 };
/* F7 group digits. */
enum { X64_NOT = 2, X64_NEG = 3, X64_MUL = 4, X64_IMUL1 = 5, X64_DIV = 6, X64_IDIV = 7 };

/* -- Buffer ---------------------------------------------------------------------------------- */
void x64_buf_init(x64_buf *b, const weft_host_api *host);
void x64_buf_free(x64_buf *b);
bool x64_buf_reserve(x64_buf *b, size_t extra);
void x64_emit_u8(x64_buf *b, uint8_t v);
void x64_emit_u16(x64_buf *b, uint16_t v);
void x64_emit_u32(x64_buf *b, uint32_t v);
void x64_emit_u64(x64_buf *b, uint64_t v);
void x64_patch_u32(x64_buf *b, size_t at, uint32_t v);
/* Point the rel32 field at `at` (the last 4 bytes of an instruction) to `target`. */
void x64_patch_rel32(x64_buf *b, size_t at, size_t target);

/* -- Generic forms --------------------------------------------------------------------------- */
/* op: 1-3 opcode bytes, most significant first (0x0FAF, 0x0F3A0A). `reg` is the ModRM reg field
 * (register or /digit). */
void x64_emit_rr(x64_buf *b, unsigned flags, uint32_t op, int reg, int rm);
void x64_emit_rm(x64_buf *b, unsigned flags, uint32_t op, int reg, x64_mem m);

/* -- Integer instructions -------------------------------------------------------------------- */
void x64_emit_mov_rr(x64_buf *b, bool w, int dst, int src);
void x64_emit_load(x64_buf *b, bool w, int dst, x64_mem m);  /* mov r, [m] */
void x64_emit_store(x64_buf *b, bool w, x64_mem m, int src); /* mov [m], r */
void x64_emit_store8(x64_buf *b, x64_mem m, int src);
void x64_emit_store16(x64_buf *b, x64_mem m, int src);
void x64_emit_store_imm32(x64_buf *b, bool w, x64_mem m, int32_t imm); /* mov dword/qword [m], imm */
void x64_emit_mov_ri(x64_buf *b, int dst, uint64_t imm); /* shortest form; 32-bit values zero-extend */
void x64_emit_mov_ri32(x64_buf *b, int dst, uint32_t imm);
void x64_emit_alu_rr(x64_buf *b, int aluop, bool w, int dst, int src);
void x64_emit_alu_ri(x64_buf *b, int aluop, bool w, int dst, int32_t imm);
void x64_emit_alu_rm(x64_buf *b, int aluop, bool w, int dst, x64_mem m);
void x64_emit_alu_mi(x64_buf *b, int aluop, bool w, x64_mem m, int32_t imm);
void x64_emit_alu_mr(x64_buf *b, int aluop, bool w, x64_mem m, int src);
void x64_emit_test_rr(x64_buf *b, bool w, int a, int c);
void x64_emit_shift_cl(x64_buf *b, int kind, bool w, int dst);
void x64_emit_shift_ri(x64_buf *b, int kind, bool w, int dst, uint8_t n);
void x64_emit_unary(x64_buf *b, int kind, bool w, int r); /* F7 group: not/neg/mul/imul/div/idiv */
void x64_emit_imul_rr(x64_buf *b, bool w, int dst, int src);
void x64_emit_imul_rri(x64_buf *b, bool w, int dst, int src, int32_t imm);
void x64_emit_lea(x64_buf *b, bool w, int dst, x64_mem m);
void x64_emit_setcc(x64_buf *b, int cc, int dst); /* dst8 = cc */
void x64_emit_movzx8_rr(x64_buf *b, int dst, int src); /* movzx r32, r8 */
void x64_emit_cmov(x64_buf *b, int cc, bool w, int dst, int src);
void x64_emit_bitcount(x64_buf *b, uint32_t op, bool w, int dst, int src); /* lzcnt/tzcnt/popcnt */
#define X64_LZCNT 0x0FBDu
#define X64_TZCNT 0x0FBCu
#define X64_POPCNT 0x0FB8u
void x64_emit_cdq(x64_buf *b, bool w); /* cdq / cqo */
/* Loads with extension: kind 0xB6 movzx8, 0xB7 movzx16, 0xBE movsx8, 0xBF movsx16; w = 64-bit dst */
void x64_emit_loadx(x64_buf *b, uint32_t kind, bool w, int dst, x64_mem m);
void x64_emit_movx_rr(x64_buf *b, uint32_t kind, bool w, int dst, int src);
void x64_emit_movsxd_rr(x64_buf *b, int dst, int src);
void x64_emit_movsxd_load(x64_buf *b, int dst, x64_mem m);
void x64_emit_push(x64_buf *b, int r);
void x64_emit_pop(x64_buf *b, int r);

/* -- Control transfer ------------------------------------------------------------------------ */
size_t x64_emit_jcc(x64_buf *b, int cc);   /* rel32; returns the offset of the rel32 field */
size_t x64_emit_jmp(x64_buf *b);           /* rel32 */
size_t x64_emit_call_rel(x64_buf *b);      /* rel32 */
void x64_emit_call_r(x64_buf *b, int r);
void x64_emit_call_m(x64_buf *b, x64_mem m);
void x64_emit_jmp_r(x64_buf *b, int r);
void x64_emit_jmp_m(x64_buf *b, x64_mem m);
void x64_emit_ret(x64_buf *b, uint16_t pop);
void x64_emit_ud2(x64_buf *b);
size_t x64_emit_lea_rip(x64_buf *b, int dst); /* lea dst, [rip+rel32]; returns the rel32 offset */

/* -- SSE ------------------------------------------------------------------------------------- */
/* flags carry the mandatory prefix: X64_PF3 single, X64_PF2 double, X64_P66 packed-double ops. */
void x64_emit_sse_rr(x64_buf *b, unsigned flags, uint32_t op, int dst, int src);
void x64_emit_sse_rm(x64_buf *b, unsigned flags, uint32_t op, int dst, x64_mem m);
void x64_emit_movd_xr(x64_buf *b, bool w, int xmm, int gpr); /* movd/movq xmm, r */
void x64_emit_movd_rx(x64_buf *b, bool w, int gpr, int xmm); /* movd/movq r, xmm */
void x64_emit_round(x64_buf *b, bool dbl, int dst, int src, uint8_t mode);
#define X64_SSE_MOVLD 0x0F10u  /* movss/movsd xmm, xmm/m */
#define X64_SSE_MOVST 0x0F11u
#define X64_SSE_SQRT 0x0F51u
#define X64_SSE_AND 0x0F54u
#define X64_SSE_ANDN 0x0F55u
#define X64_SSE_OR 0x0F56u
#define X64_SSE_XOR 0x0F57u
#define X64_SSE_ADD 0x0F58u
#define X64_SSE_MUL 0x0F59u
#define X64_SSE_CVTF 0x0F5Au  /* cvtss2sd / cvtsd2ss */
#define X64_SSE_SUB 0x0F5Cu
#define X64_SSE_MIN 0x0F5Du
#define X64_SSE_DIV 0x0F5Eu
#define X64_SSE_MAX 0x0F5Fu
#define X64_SSE_UCOMI 0x0F2Eu
#define X64_SSE_CVTSI2 0x0F2Au
#define X64_SSE_CVTT2SI 0x0F2Cu
#define X64_SSE_MOVAPS 0x0F28u
#define X64_SSE_MOVDQU_LD 0x0F6Fu /* with X64_PF3 */
#define X64_SSE_MOVDQU_ST 0x0F7Fu /* with X64_PF3 */

/* -- SIMD (x64_emit_simd.c) ------------------------------------------------------------------ */
/* SSE2..SSE4.1 packed forms; `op` is the opcode after the mandatory prefix (0x0FFE, 0x0F3840). */
void x64_emit_simd_rr(x64_buf *b, unsigned flags, uint32_t op, int dst, int src);
void x64_emit_simd_rri(x64_buf *b, unsigned flags, uint32_t op, int dst, int src, uint8_t imm);
void x64_emit_simd_rmi(x64_buf *b, unsigned flags, uint32_t op, int reg, x64_mem m, uint8_t imm);
void x64_emit_pextrq(x64_buf *b, int gpr, int xmm, uint8_t lane); /* pextrq r64, xmm, imm8 */
void x64_emit_pinsrq(x64_buf *b, int xmm, int gpr, uint8_t lane); /* pinsrq xmm, r64, imm8 */
/* Shift by immediate: 66 0F 71/72/73 /digit ib (digit 2 srl, 4 sra, 6 sll, 3 psrldq, 7 pslldq). */
void x64_emit_simd_shift_ri(x64_buf *b, uint32_t op, int digit, int xmm, uint8_t n);

#endif
