/* plugins/x64-codegen/x64_emit.c -- x86-64 byte encoders (the "emit" layer of the backend).
 * Prefixes, REX, ModRM/SIB/displacement and the instruction forms the code generator uses.
 * Knows nothing about Wasm. Depends on: x64_emit.h, the host table's realloc.
 */
#include <string.h>

#include "x64_emit.h"

/* -- Buffer ---------------------------------------------------------------------------------- */

void x64_buf_init(x64_buf *b, const weft_host_api *host) {
  memset(b, 0, sizeof *b);
  b->host = host;
}

void x64_buf_free(x64_buf *b) {
  if (b->p) b->host->free(b->host->host, b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

bool x64_buf_reserve(x64_buf *b, size_t extra) {
  if (b->oom) return false;
  if (b->len + extra <= b->cap) return true;
  size_t ncap = b->cap ? b->cap * 2 : 4096;
  while (ncap < b->len + extra) ncap *= 2;
  uint8_t *np = b->host->realloc(b->host->host, b->p, ncap);
  if (!np) {
    b->oom = true;
    return false;
  }
  b->p = np;
  b->cap = ncap;
  return true;
}

void x64_emit_u8(x64_buf *b, uint8_t v) {
  if (b->len >= b->cap && !x64_buf_reserve(b, 1)) return;
  b->p[b->len++] = v;
}

void x64_emit_u16(x64_buf *b, uint16_t v) {
  x64_emit_u8(b, (uint8_t)v);
  x64_emit_u8(b, (uint8_t)(v >> 8));
}

void x64_emit_u32(x64_buf *b, uint32_t v) {
  if (!x64_buf_reserve(b, 4)) return;
  memcpy(b->p + b->len, &v, 4);
  b->len += 4;
}

void x64_emit_u64(x64_buf *b, uint64_t v) {
  if (!x64_buf_reserve(b, 8)) return;
  memcpy(b->p + b->len, &v, 8);
  b->len += 8;
}

void x64_patch_u32(x64_buf *b, size_t at, uint32_t v) {
  if (b->oom || at + 4 > b->len) return;
  memcpy(b->p + at, &v, 4);
}

void x64_patch_rel32(x64_buf *b, size_t at, size_t target) {
  x64_patch_u32(b, at, (uint32_t)(int32_t)((int64_t)target - (int64_t)(at + 4)));
}

/* -- Prefixes, REX, ModRM -------------------------------------------------------------------- */

/* The helpers below write without bounds checks: every instruction form first reserves the
 * longest x86 instruction (15 bytes) with room(). */
#define PUT(b, v) ((b)->p[(b)->len++] = (uint8_t)(v))
static bool room(x64_buf *b) { return b->len + 16 <= b->cap || x64_buf_reserve(b, 16); }
static void put32(x64_buf *b, uint32_t v) {
  memcpy(b->p + b->len, &v, 4);
  b->len += 4;
}

static void prefixes(x64_buf *b, unsigned flags) {
  if (flags & X64_P66) PUT(b, 0x66);
  if (flags & X64_PF2) PUT(b, 0xF2);
  if (flags & X64_PF3) PUT(b, 0xF3);
}

static void rex(x64_buf *b, unsigned flags, int reg, int index, int base, bool byteregs) {
  uint8_t r = 0x40;
  if (flags & X64_W) r |= 8;
  if (reg >= 0 && (reg & 8)) r |= 4;
  if (index >= 0 && index != X64_NOREG && (index & 8)) r |= 2;
  if (base >= 0 && base != X64_NOREG && base != X64_RIP && (base & 8)) r |= 1;
  bool need = r != 0x40;
  if (byteregs && ((reg >= 4 && reg < 8) || (base >= 4 && base < 8))) need = true;
  if (need) PUT(b, r);
}

static void opcode(x64_buf *b, uint32_t op) {
  if (op > 0xFFFF) PUT(b, (uint8_t)(op >> 16));
  if (op > 0xFF) PUT(b, (uint8_t)(op >> 8));
  PUT(b, (uint8_t)op);
}

static void modrm_mem(x64_buf *b, int reg, x64_mem m) {
  int r = reg & 7;
  if (m.base == X64_RIP) {
    PUT(b, (uint8_t)(0x05 | r << 3));
    put32(b, (uint32_t)m.disp);
    return;
  }
  int mod;
  if (m.disp == 0 && (m.base & 7) != 5)
    mod = 0;
  else if (m.disp >= -128 && m.disp <= 127)
    mod = 1;
  else
    mod = 2;
  if (m.index != X64_NOREG || (m.base & 7) == 4) {
    int idx = m.index == X64_NOREG ? 4 : (m.index & 7);
    PUT(b, (uint8_t)(mod << 6 | r << 3 | 4));
    PUT(b, (uint8_t)((m.scale & 3) << 6 | idx << 3 | (m.base & 7)));
  } else {
    PUT(b, (uint8_t)(mod << 6 | r << 3 | (m.base & 7)));
  }
  if (mod == 1)
    PUT(b, (uint8_t)(int8_t)m.disp);
  else if (mod == 2)
    put32(b, (uint32_t)m.disp);
}

void x64_emit_rr(x64_buf *b, unsigned flags, uint32_t op, int reg, int rm) {
  if (!room(b)) return;
  prefixes(b, flags);
  rex(b, flags, reg, -1, rm, (flags & X64_B8) != 0);
  opcode(b, op);
  PUT(b, (uint8_t)(0xC0 | (reg & 7) << 3 | (rm & 7)));
}

void x64_emit_rm(x64_buf *b, unsigned flags, uint32_t op, int reg, x64_mem m) {
  if (!room(b)) return;
  prefixes(b, flags);
  bool byteregs = (flags & X64_B8) != 0;
  /* byte registers only matter for the reg field here; the base is a 64-bit address register */
  uint8_t r = 0x40;
  if (flags & X64_W) r |= 8;
  if (reg & 8) r |= 4;
  if (m.index != X64_NOREG && (m.index & 8)) r |= 2;
  if (m.base != X64_RIP && (m.base & 8)) r |= 1;
  if (r != 0x40 || (byteregs && reg >= 4 && reg < 8)) PUT(b, r);
  opcode(b, op);
  modrm_mem(b, reg, m);
}

/* -- Integer instructions -------------------------------------------------------------------- */

static unsigned wf(bool w) { return w ? X64_W : 0; }

void x64_emit_mov_rr(x64_buf *b, bool w, int dst, int src) { x64_emit_rr(b, wf(w), 0x8B, dst, src); }
void x64_emit_load(x64_buf *b, bool w, int dst, x64_mem m) { x64_emit_rm(b, wf(w), 0x8B, dst, m); }
void x64_emit_store(x64_buf *b, bool w, x64_mem m, int src) { x64_emit_rm(b, wf(w), 0x89, src, m); }
void x64_emit_store8(x64_buf *b, x64_mem m, int src) { x64_emit_rm(b, X64_B8, 0x88, src, m); }
void x64_emit_store16(x64_buf *b, x64_mem m, int src) { x64_emit_rm(b, X64_P66, 0x89, src, m); }

void x64_emit_store_imm32(x64_buf *b, bool w, x64_mem m, int32_t imm) {
  x64_emit_rm(b, wf(w), 0xC7, 0, m);
  x64_emit_u32(b, (uint32_t)imm);
}

void x64_emit_mov_ri32(x64_buf *b, int dst, uint32_t imm) {
  if (dst & 8) x64_emit_u8(b, 0x41);
  x64_emit_u8(b, (uint8_t)(0xB8 + (dst & 7)));
  x64_emit_u32(b, imm);
}

void x64_emit_mov_ri(x64_buf *b, int dst, uint64_t imm) {
  if (imm == 0) {
    x64_emit_alu_rr(b, X64_XOR, false, dst, dst);
  } else if (imm <= 0xFFFFFFFFu) {
    x64_emit_mov_ri32(b, dst, (uint32_t)imm);
  } else if ((int64_t)imm >= INT32_MIN && (int64_t)imm <= INT32_MAX) {
    x64_emit_rr(b, X64_W, 0xC7, 0, dst);
    x64_emit_u32(b, (uint32_t)imm);
  } else {
    x64_emit_u8(b, (uint8_t)(0x48 | ((dst & 8) ? 1 : 0)));
    x64_emit_u8(b, (uint8_t)(0xB8 + (dst & 7)));
    x64_emit_u64(b, imm);
  }
}

void x64_emit_alu_rr(x64_buf *b, int aluop, bool w, int dst, int src) {
  x64_emit_rr(b, wf(w), (uint32_t)(aluop * 8 + 3), dst, src);
}

void x64_emit_alu_ri(x64_buf *b, int aluop, bool w, int dst, int32_t imm) {
  if (imm >= -128 && imm <= 127) {
    x64_emit_rr(b, wf(w), 0x83, aluop, dst);
    x64_emit_u8(b, (uint8_t)(int8_t)imm);
  } else {
    x64_emit_rr(b, wf(w), 0x81, aluop, dst);
    x64_emit_u32(b, (uint32_t)imm);
  }
}

void x64_emit_alu_rm(x64_buf *b, int aluop, bool w, int dst, x64_mem m) {
  x64_emit_rm(b, wf(w), (uint32_t)(aluop * 8 + 3), dst, m);
}

void x64_emit_alu_mr(x64_buf *b, int aluop, bool w, x64_mem m, int src) {
  x64_emit_rm(b, wf(w), (uint32_t)(aluop * 8 + 1), src, m);
}

void x64_emit_alu_mi(x64_buf *b, int aluop, bool w, x64_mem m, int32_t imm) {
  if (imm >= -128 && imm <= 127) {
    x64_emit_rm(b, wf(w), 0x83, aluop, m);
    x64_emit_u8(b, (uint8_t)(int8_t)imm);
  } else {
    x64_emit_rm(b, wf(w), 0x81, aluop, m);
    x64_emit_u32(b, (uint32_t)imm);
  }
}

void x64_emit_test_rr(x64_buf *b, bool w, int a, int c) { x64_emit_rr(b, wf(w), 0x85, c, a); }
void x64_emit_shift_cl(x64_buf *b, int kind, bool w, int dst) { x64_emit_rr(b, wf(w), 0xD3, kind, dst); }

void x64_emit_shift_ri(x64_buf *b, int kind, bool w, int dst, uint8_t n) {
  x64_emit_rr(b, wf(w), 0xC1, kind, dst);
  x64_emit_u8(b, n);
}

void x64_emit_unary(x64_buf *b, int kind, bool w, int r) { x64_emit_rr(b, wf(w), 0xF7, kind, r); }
void x64_emit_imul_rr(x64_buf *b, bool w, int dst, int src) { x64_emit_rr(b, wf(w), 0x0FAF, dst, src); }

void x64_emit_imul_rri(x64_buf *b, bool w, int dst, int src, int32_t imm) {
  if (imm >= -128 && imm <= 127) {
    x64_emit_rr(b, wf(w), 0x6B, dst, src);
    x64_emit_u8(b, (uint8_t)(int8_t)imm);
  } else {
    x64_emit_rr(b, wf(w), 0x69, dst, src);
    x64_emit_u32(b, (uint32_t)imm);
  }
}

void x64_emit_lea(x64_buf *b, bool w, int dst, x64_mem m) { x64_emit_rm(b, wf(w), 0x8D, dst, m); }
void x64_emit_setcc(x64_buf *b, int cc, int dst) { x64_emit_rr(b, X64_B8, 0x0F90u + (uint32_t)cc, 0, dst); }

void x64_emit_movzx8_rr(x64_buf *b, int dst, int src) {
  /* the byte register is the r/m operand: spl..dil need a REX even when dst is low */
  if (!room(b)) return;
  prefixes(b, 0);
  uint8_t r = 0x40;
  if (dst & 8) r |= 4;
  if (src & 8) r |= 1;
  if (r != 0x40 || (src >= 4 && src < 8)) x64_emit_u8(b, r);
  opcode(b, 0x0FB6);
  x64_emit_u8(b, (uint8_t)(0xC0 | (dst & 7) << 3 | (src & 7)));
}

void x64_emit_cmov(x64_buf *b, int cc, bool w, int dst, int src) {
  x64_emit_rr(b, wf(w), 0x0F40u + (uint32_t)cc, dst, src);
}

void x64_emit_bitcount(x64_buf *b, uint32_t op, bool w, int dst, int src) {
  x64_emit_rr(b, X64_PF3 | wf(w), op, dst, src);
}

void x64_emit_cdq(x64_buf *b, bool w) {
  if (w) x64_emit_u8(b, 0x48);
  x64_emit_u8(b, 0x99);
}

void x64_emit_loadx(x64_buf *b, uint32_t kind, bool w, int dst, x64_mem m) {
  x64_emit_rm(b, wf(w), 0x0F00u | kind, dst, m);
}

void x64_emit_movx_rr(x64_buf *b, uint32_t kind, bool w, int dst, int src) {
  if (kind == 0xB6 || kind == 0xBE) {
    /* byte source register: needs REX for spl..dil */
    if (!room(b)) return;
    uint8_t r = 0x40;
    if (w) r |= 8;
    if (dst & 8) r |= 4;
    if (src & 8) r |= 1;
    if (r != 0x40 || (src >= 4 && src < 8)) x64_emit_u8(b, r);
    opcode(b, 0x0F00u | kind);
    x64_emit_u8(b, (uint8_t)(0xC0 | (dst & 7) << 3 | (src & 7)));
  } else {
    x64_emit_rr(b, wf(w), 0x0F00u | kind, dst, src);
  }
}

void x64_emit_movsxd_rr(x64_buf *b, int dst, int src) { x64_emit_rr(b, X64_W, 0x63, dst, src); }
void x64_emit_movsxd_load(x64_buf *b, int dst, x64_mem m) { x64_emit_rm(b, X64_W, 0x63, dst, m); }

void x64_emit_push(x64_buf *b, int r) {
  if (r & 8) x64_emit_u8(b, 0x41);
  x64_emit_u8(b, (uint8_t)(0x50 + (r & 7)));
}

void x64_emit_pop(x64_buf *b, int r) {
  if (r & 8) x64_emit_u8(b, 0x41);
  x64_emit_u8(b, (uint8_t)(0x58 + (r & 7)));
}

/* -- Control transfer ------------------------------------------------------------------------ */

size_t x64_emit_jcc(x64_buf *b, int cc) {
  x64_emit_u8(b, 0x0F);
  x64_emit_u8(b, (uint8_t)(0x80 + cc));
  size_t at = b->len;
  x64_emit_u32(b, 0);
  return at;
}

size_t x64_emit_jmp(x64_buf *b) {
  x64_emit_u8(b, 0xE9);
  size_t at = b->len;
  x64_emit_u32(b, 0);
  return at;
}

size_t x64_emit_call_rel(x64_buf *b) {
  x64_emit_u8(b, 0xE8);
  size_t at = b->len;
  x64_emit_u32(b, 0);
  return at;
}

void x64_emit_call_r(x64_buf *b, int r) { x64_emit_rr(b, 0, 0xFF, 2, r); }
void x64_emit_call_m(x64_buf *b, x64_mem m) { x64_emit_rm(b, 0, 0xFF, 2, m); }
void x64_emit_jmp_r(x64_buf *b, int r) { x64_emit_rr(b, 0, 0xFF, 4, r); }
void x64_emit_jmp_m(x64_buf *b, x64_mem m) { x64_emit_rm(b, 0, 0xFF, 4, m); }

void x64_emit_ret(x64_buf *b, uint16_t pop) {
  if (pop) {
    x64_emit_u8(b, 0xC2);
    x64_emit_u16(b, pop);
  } else {
    x64_emit_u8(b, 0xC3);
  }
}

void x64_emit_ud2(x64_buf *b) {
  x64_emit_u8(b, 0x0F);
  x64_emit_u8(b, 0x0B);
}

size_t x64_emit_lea_rip(x64_buf *b, int dst) {
  x64_emit_rm(b, X64_W, 0x8D, dst, x64_m(X64_RIP, 0));
  return b->len - 4;
}

/* -- SSE ------------------------------------------------------------------------------------- */

void x64_emit_sse_rr(x64_buf *b, unsigned flags, uint32_t op, int dst, int src) {
  x64_emit_rr(b, flags, op, dst, src);
}

void x64_emit_sse_rm(x64_buf *b, unsigned flags, uint32_t op, int dst, x64_mem m) {
  x64_emit_rm(b, flags, op, dst, m);
}

void x64_emit_movd_xr(x64_buf *b, bool w, int xmm, int gpr) {
  x64_emit_rr(b, X64_P66 | wf(w), 0x0F6E, xmm, gpr);
}

void x64_emit_movd_rx(x64_buf *b, bool w, int gpr, int xmm) {
  x64_emit_rr(b, X64_P66 | wf(w), 0x0F7E, xmm, gpr);
}

void x64_emit_round(x64_buf *b, bool dbl, int dst, int src, uint8_t mode) {
  x64_emit_rr(b, X64_P66, dbl ? 0x0F3A0Bu : 0x0F3A0Au, dst, src);
  x64_emit_u8(b, mode);
}
