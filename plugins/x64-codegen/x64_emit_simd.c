/* plugins/x64-codegen/x64_emit_simd.c -- byte encoders for the packed SSE2/SSSE3/SSE4.1 forms the
 * SIMD instruction selection (x64_isel_simd.c) needs, on top of the generic ModRM encoders of
 * x64_emit.c. Nothing here knows about Wasm. Tested against capstone in tests/unit/codegen-simd.
 * Depends on: x64_emit.h.
 */
#include "x64_emit.h"

/* -- Register and memory forms --------------------------------------------------------------- */

void x64_emit_simd_rr(x64_buf *b, unsigned flags, uint32_t op, int dst, int src) {
  x64_emit_rr(b, flags, op, dst, src);
}

void x64_emit_simd_rri(x64_buf *b, unsigned flags, uint32_t op, int dst, int src, uint8_t imm) {
  x64_emit_rr(b, flags, op, dst, src);
  x64_emit_u8(b, imm);
}

/* The immediate follows the ModRM/displacement bytes; never used with rip-relative operands. */
void x64_emit_simd_rmi(x64_buf *b, unsigned flags, uint32_t op, int reg, x64_mem m, uint8_t imm) {
  x64_emit_rm(b, flags, op, reg, m);
  x64_emit_u8(b, imm);
}

/* -- Lanes to and from general registers ------------------------------------------------------ */

void x64_emit_pextrq(x64_buf *b, int gpr, int xmm, uint8_t lane) {
  x64_emit_simd_rri(b, X64_P66 | X64_W, 0x0F3A16u, xmm, gpr, lane);
}

void x64_emit_pinsrq(x64_buf *b, int xmm, int gpr, uint8_t lane) {
  x64_emit_simd_rri(b, X64_P66 | X64_W, 0x0F3A22u, xmm, gpr, lane);
}

/* -- Shifts by immediate --------------------------------------------------------------------- */

void x64_emit_simd_shift_ri(x64_buf *b, uint32_t op, int digit, int xmm, uint8_t n) {
  x64_emit_simd_rri(b, X64_P66, op, digit, xmm, n);
}
