/* tests/unit/codegen-simd/test_x64_emit_simd.c -- the SIMD byte encoders of x64-codegen
 * (x64_emit_simd.c) checked against the capstone disassembler: every packed form the SIMD
 * instruction selection uses, over all XMM register pairs, with immediates, memory operands
 * (every base register, short and long displacements, an index) and the GPR<->XMM lane moves.
 * Depends on: plugins/x64-codegen/x64_emit.h, libcapstone, cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x64_emit.h"

/* -- Fake host (allocation only) ------------------------------------------------------------- */

static void *h_alloc(void *h, size_t n) { (void)h; return malloc(n); }
static void *h_realloc(void *h, void *p, size_t n) { (void)h; return realloc(p, n); }
static void h_free(void *h, void *p) { (void)h; free(p); }
static weft_host_api host = {.alloc = h_alloc, .realloc = h_realloc, .free = h_free};

static const char *const r64[] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                  "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"};
static const char *const r32[] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
                                  "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d"};

/* -- Checking -------------------------------------------------------------------------------- */

static csh cs;
static x64_buf buf;
static unsigned nchecked;

static void begin(void) { buf.len = 0; }

/* Exactly one instruction covering all bytes, with the text `want`. */
static void check(const char *want) {
  cs_insn *insn = NULL;
  size_t n = cs_disasm(cs, buf.p, buf.len, 0x1000, 0, &insn);
  char got[160] = "<undecodable>";
  size_t used = 0;
  if (n > 0) {
    snprintf(got, sizeof got, "%.24s%s%.120s", insn[0].mnemonic, insn[0].op_str[0] ? " " : "", insn[0].op_str);
    used = insn[0].size;
  }
  if (n != 1 || used != buf.len || strcmp(got, want) != 0) {
    char hex[64] = "";
    for (size_t i = 0; i < buf.len && i < 20; i++) snprintf(hex + 3 * i, 4, "%02x ", buf.p[i]);
    print_error("want '%s' got '%s' (%zu insns, bytes %s)\n", want, got, n, hex);
    if (n) cs_free(insn, n);
    fail();
  }
  cs_free(insn, n);
  nchecked++;
}

static void fmt_imm(char *out, size_t sz, unsigned v) {
  if (v <= 9)
    snprintf(out, sz, "%u", v);
  else
    snprintf(out, sz, "0x%x", v);
}

static void fmt_mem(char *out, size_t sz, const char *size, x64_mem m) {
  char d[32] = "";
  if (m.disp) {
    int64_t v = m.disp < 0 ? -(int64_t)m.disp : m.disp;
    if (v <= 9)
      snprintf(d, sizeof d, " %c %lld", m.disp < 0 ? '-' : '+', (long long)v);
    else
      snprintf(d, sizeof d, " %c 0x%llx", m.disp < 0 ? '-' : '+', (long long)v);
  }
  if (m.index != X64_NOREG)
    snprintf(out, sz, "%s ptr [%s + %s%s]", size, r64[m.base], r64[m.index], d);
  else
    snprintf(out, sz, "%s ptr [%s%s]", size, r64[m.base], d);
}

static int setup(void **state) {
  (void)state;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) return -1;
  x64_buf_init(&buf, &host);
  return 0;
}

static int teardown(void **state) {
  (void)state;
  x64_buf_free(&buf);
  cs_close(&cs);
  return 0;
}

/* -- Register-register forms ----------------------------------------------------------------- */

typedef struct form {
  unsigned flags;
  uint32_t op;
  const char *mn;
} form;

/* The two-operand packed forms x64_isel_simd.c emits (prefix, opcode, capstone mnemonic). */
static const form rr_forms[] = {
  {X64_P66, 0x0FFC, "paddb"}, {X64_P66, 0x0FFD, "paddw"}, {X64_P66, 0x0FFE, "paddd"},
  {X64_P66, 0x0FD4, "paddq"}, {X64_P66, 0x0FF8, "psubb"}, {X64_P66, 0x0FF9, "psubw"},
  {X64_P66, 0x0FFA, "psubd"}, {X64_P66, 0x0FFB, "psubq"}, {X64_P66, 0x0FEC, "paddsb"},
  {X64_P66, 0x0FDC, "paddusb"}, {X64_P66, 0x0FE8, "psubsb"}, {X64_P66, 0x0FD8, "psubusb"},
  {X64_P66, 0x0FED, "paddsw"}, {X64_P66, 0x0FDD, "paddusw"}, {X64_P66, 0x0FE9, "psubsw"},
  {X64_P66, 0x0FD9, "psubusw"}, {X64_P66, 0x0FD5, "pmullw"}, {X64_P66, 0x0F3840, "pmulld"},
  {X64_P66, 0x0FF4, "pmuludq"}, {X64_P66, 0x0F3828, "pmuldq"}, {X64_P66, 0x0FF5, "pmaddwd"},
  {X64_P66, 0x0F3804, "pmaddubsw"}, {X64_P66, 0x0F380B, "pmulhrsw"}, {X64_P66, 0x0F3801, "phaddw"},
  {X64_P66, 0x0F3838, "pminsb"}, {X64_P66, 0x0FDA, "pminub"}, {X64_P66, 0x0F383C, "pmaxsb"},
  {X64_P66, 0x0FDE, "pmaxub"}, {X64_P66, 0x0FEA, "pminsw"}, {X64_P66, 0x0F383A, "pminuw"},
  {X64_P66, 0x0FEE, "pmaxsw"}, {X64_P66, 0x0F383E, "pmaxuw"}, {X64_P66, 0x0F3839, "pminsd"},
  {X64_P66, 0x0F383B, "pminud"}, {X64_P66, 0x0F383D, "pmaxsd"}, {X64_P66, 0x0F383F, "pmaxud"},
  {X64_P66, 0x0FE0, "pavgb"}, {X64_P66, 0x0FE3, "pavgw"}, {X64_P66, 0x0F74, "pcmpeqb"},
  {X64_P66, 0x0F75, "pcmpeqw"}, {X64_P66, 0x0F76, "pcmpeqd"}, {X64_P66, 0x0F3829, "pcmpeqq"},
  {X64_P66, 0x0F64, "pcmpgtb"}, {X64_P66, 0x0F65, "pcmpgtw"}, {X64_P66, 0x0F66, "pcmpgtd"},
  {X64_P66, 0x0F3837, "pcmpgtq"}, {X64_P66, 0x0FDB, "pand"}, {X64_P66, 0x0FDF, "pandn"},
  {X64_P66, 0x0FEB, "por"}, {X64_P66, 0x0FEF, "pxor"}, {X64_P66, 0x0F63, "packsswb"},
  {X64_P66, 0x0F67, "packuswb"}, {X64_P66, 0x0F6B, "packssdw"}, {X64_P66, 0x0F382B, "packusdw"},
  {X64_P66, 0x0F3820, "pmovsxbw"}, {X64_P66, 0x0F3830, "pmovzxbw"}, {X64_P66, 0x0F3823, "pmovsxwd"},
  {X64_P66, 0x0F3833, "pmovzxwd"}, {X64_P66, 0x0F3825, "pmovsxdq"}, {X64_P66, 0x0F3835, "pmovzxdq"},
  {X64_P66, 0x0F381C, "pabsb"}, {X64_P66, 0x0F381D, "pabsw"}, {X64_P66, 0x0F381E, "pabsd"},
  {X64_P66, 0x0F3800, "pshufb"}, {X64_P66, 0x0F3817, "ptest"}, {X64_P66, 0x0F6C, "punpcklqdq"},
  {X64_P66, 0x0F60, "punpcklbw"}, {X64_P66, 0x0F68, "punpckhbw"}, {X64_P66, 0x0FF1, "psllw"},
  {X64_P66, 0x0FF2, "pslld"}, {X64_P66, 0x0FF3, "psllq"}, {X64_P66, 0x0FD1, "psrlw"},
  {X64_P66, 0x0FD2, "psrld"}, {X64_P66, 0x0FD3, "psrlq"}, {X64_P66, 0x0FE1, "psraw"},
  {X64_P66, 0x0FE2, "psrad"},
  {0, 0x0F58, "addps"}, {0, 0x0F5C, "subps"}, {0, 0x0F59, "mulps"}, {0, 0x0F5E, "divps"},
  {0, 0x0F5D, "minps"}, {0, 0x0F5F, "maxps"}, {0, 0x0F51, "sqrtps"}, {0, 0x0F54, "andps"},
  {0, 0x0F55, "andnps"}, {0, 0x0F56, "orps"}, {0, 0x0F57, "xorps"}, {0, 0x0F5B, "cvtdq2ps"},
  {0, 0x0F5A, "cvtps2pd"}, {0, 0x0F14, "unpcklps"}, {0, 0x0F16, "movlhps"},
  {X64_P66, 0x0F58, "addpd"}, {X64_P66, 0x0F5C, "subpd"}, {X64_P66, 0x0F59, "mulpd"},
  {X64_P66, 0x0F5E, "divpd"}, {X64_P66, 0x0F5D, "minpd"}, {X64_P66, 0x0F5F, "maxpd"},
  {X64_P66, 0x0F51, "sqrtpd"}, {X64_P66, 0x0F5A, "cvtpd2ps"}, {X64_P66, 0x0FE6, "cvttpd2dq"},
  {X64_PF3, 0x0F5B, "cvttps2dq"}, {X64_PF3, 0x0FE6, "cvtdq2pd"}, {X64_PF3, 0x0F7E, "movq"},
  {X64_PF2, 0x0F10, "movsd"},
};

static void test_rr_forms(void **state) {
  (void)state;
  char want[96];
  for (size_t f = 0; f < sizeof rr_forms / sizeof rr_forms[0]; f++)
    for (int d = 0; d < 16; d++)
      for (int s = 0; s < 16; s++) {
        begin();
        x64_emit_simd_rr(&buf, rr_forms[f].flags, rr_forms[f].op, d, s);
        snprintf(want, sizeof want, "%s xmm%d, xmm%d", rr_forms[f].mn, d, s);
        check(want);
      }
}

/* Register forms with an immediate byte. */
static const form rri_forms[] = {
  {X64_P66, 0x0F70, "pshufd"}, {X64_PF2, 0x0F70, "pshuflw"}, {0, 0x0FC2, "cmpps"},
  {X64_P66, 0x0FC2, "cmppd"}, {X64_P66, 0x0F3A08, "roundps"}, {X64_P66, 0x0F3A09, "roundpd"},
  {X64_P66, 0x0F3A0E, "pblendw"}, {X64_P66, 0x0F3A21, "insertps"}, {0, 0x0FC6, "shufps"},
};

static void test_rri_forms(void **state) {
  (void)state;
  static const uint8_t imms[] = {0, 1, 3, 0x0A, 0x55, 0x88, 0xEE, 0xF5};
  char want[96], imm[16];
  for (size_t f = 0; f < sizeof rri_forms / sizeof rri_forms[0]; f++)
    for (int d = 0; d < 16; d++)
      for (int s = 0; s < 16; s += 5)
        for (size_t k = 0; k < sizeof imms; k++) {
          uint8_t i = imms[k];
          begin();
          x64_emit_simd_rri(&buf, rri_forms[f].flags, rri_forms[f].op, d, s, i);
          /* capstone names the cmp predicates (cmpeqps ...) instead of printing an immediate */
          if (rri_forms[f].op == 0x0FC2) {
            static const char *const pred[8] = {"eq", "lt", "le", "unord", "neq", "nlt", "nle", "ord"};
            if (i > 7) continue;
            snprintf(want, sizeof want, "cmp%s%s xmm%d, xmm%d", pred[i], rri_forms[f].flags ? "pd" : "ps", d, s);
          } else {
            fmt_imm(imm, sizeof imm, i);
            snprintf(want, sizeof want, "%s xmm%d, xmm%d, %s", rri_forms[f].mn, d, s, imm);
          }
          check(want);
        }
}

/* -- Lane moves between general and XMM registers -------------------------------------------- */

static void test_lane_moves(void **state) {
  (void)state;
  char want[96];
  for (int x = 0; x < 16; x++)
    for (int g = 0; g < 16; g++)
      for (uint8_t l = 0; l < 2; l++) {
        begin();
        x64_emit_pextrq(&buf, g, x, l);
        snprintf(want, sizeof want, "pextrq %s, xmm%d, %u", r64[g], x, l);
        check(want);
        begin();
        x64_emit_pinsrq(&buf, x, g, l);
        snprintf(want, sizeof want, "pinsrq xmm%d, %s, %u", x, r64[g], l);
        check(want);
        begin();
        x64_emit_simd_rri(&buf, X64_P66, 0x0F3A14, x, g, (uint8_t)(l * 15));
        snprintf(want, sizeof want, "pextrb %s, xmm%d, %s", r32[g], x, l ? "0xf" : "0");
        check(want);
        begin();
        x64_emit_simd_rri(&buf, X64_P66, 0x0FC5, g, x, (uint8_t)(l * 7));
        snprintf(want, sizeof want, "pextrw %s, xmm%d, %u", r32[g], x, l * 7);
        check(want);
        begin();
        x64_emit_simd_rri(&buf, X64_P66, 0x0F3A20, x, g, (uint8_t)(l * 15));
        snprintf(want, sizeof want, "pinsrb xmm%d, %s, %s", x, r32[g], l ? "0xf" : "0");
        check(want);
        begin();
        x64_emit_simd_rr(&buf, X64_P66, 0x0FD7, g, x);
        snprintf(want, sizeof want, "pmovmskb %s, xmm%d", r32[g], x);
        check(want);
      }
}

/* -- Shifts by immediate --------------------------------------------------------------------- */

static void test_shift_imm(void **state) {
  (void)state;
  static const struct { uint32_t op; int digit; const char *mn; } sh[] = {
    {0x0F71, 2, "psrlw"}, {0x0F71, 4, "psraw"}, {0x0F71, 6, "psllw"}, {0x0F72, 2, "psrld"},
    {0x0F72, 4, "psrad"}, {0x0F72, 6, "pslld"}, {0x0F73, 2, "psrlq"}, {0x0F73, 6, "psllq"},
  };
  static const uint8_t ns[] = {1, 4, 8, 10, 13, 31, 32, 63};
  char want[96], imm[16];
  for (size_t k = 0; k < sizeof sh / sizeof sh[0]; k++)
    for (int x = 0; x < 16; x++)
      for (size_t i = 0; i < sizeof ns; i++) {
        begin();
        x64_emit_simd_shift_ri(&buf, sh[k].op, sh[k].digit, x, ns[i]);
        fmt_imm(imm, sizeof imm, ns[i]);
        snprintf(want, sizeof want, "%s xmm%d, %s", sh[k].mn, x, imm);
        check(want);
      }
}

/* -- Memory operands ------------------------------------------------------------------------- */

static void test_memory_forms(void **state) {
  (void)state;
  static const int32_t disps[] = {0, 8, -16, 127, -128, 0x1000, -0x7FFF0000};
  char want[160], mem[96];
  for (int base = 0; base < 16; base++)
    for (size_t k = 0; k < sizeof disps / sizeof disps[0]; k++)
      for (int x = 0; x < 16; x += 3) {
        x64_mem m = x64_m(base, disps[k]);
        if (k == 2 && base != X64_RSP) m = x64_mi(base, (base + 1) % 16 == X64_RSP ? X64_RAX : (base + 1) % 16, 0, disps[k]);
        fmt_mem(mem, sizeof mem, "xmmword", m);
        begin();
        x64_emit_sse_rm(&buf, X64_PF3, X64_SSE_MOVDQU_LD, x, m);
        snprintf(want, sizeof want, "movdqu xmm%d, %s", x, mem);
        check(want);
        begin();
        x64_emit_sse_rm(&buf, X64_PF3, X64_SSE_MOVDQU_ST, x, m);
        snprintf(want, sizeof want, "movdqu %s, xmm%d", mem, x);
        check(want);
        fmt_mem(mem, sizeof mem, "qword", m);
        begin();
        x64_emit_sse_rm(&buf, X64_P66, 0x0F3820, x, m);
        snprintf(want, sizeof want, "pmovsxbw xmm%d, %s", x, mem);
        check(want);
        begin();
        x64_emit_simd_rmi(&buf, X64_P66 | X64_W, 0x0F3A22, x, m, 1);
        snprintf(want, sizeof want, "pinsrq xmm%d, %s, 1", x, mem);
        check(want);
        begin();
        x64_emit_simd_rmi(&buf, X64_P66 | X64_W, 0x0F3A16, x, m, 1);
        snprintf(want, sizeof want, "pextrq %s, xmm%d, 1", mem, x);
        check(want);
        fmt_mem(mem, sizeof mem, "byte", m);
        begin();
        x64_emit_simd_rmi(&buf, X64_P66, 0x0F3A20, x, m, 0x0F);
        snprintf(want, sizeof want, "pinsrb xmm%d, %s, 0xf", x, mem);
        check(want);
        begin();
        x64_emit_simd_rmi(&buf, X64_P66, 0x0F3A14, x, m, 3);
        snprintf(want, sizeof want, "pextrb %s, xmm%d, 3", mem, x);
        check(want);
        fmt_mem(mem, sizeof mem, "word", m);
        begin();
        x64_emit_simd_rmi(&buf, X64_P66, 0x0FC4, x, m, 7);
        snprintf(want, sizeof want, "pinsrw xmm%d, %s, 7", x, mem);
        check(want);
        begin();
        x64_emit_simd_rmi(&buf, X64_P66, 0x0F3A15, x, m, 5);
        snprintf(want, sizeof want, "pextrw %s, xmm%d, 5", mem, x);
        check(want);
        fmt_mem(mem, sizeof mem, "dword", m);
        begin();
        x64_emit_simd_rmi(&buf, X64_P66, 0x0F3A22, x, m, 2);
        snprintf(want, sizeof want, "pinsrd xmm%d, %s, 2", x, mem);
        check(want);
        begin();
        x64_emit_sse_rm(&buf, X64_P66, 0x0F6E, x, m);
        snprintf(want, sizeof want, "movd xmm%d, %s", x, mem);
        check(want);
      }
}

/* A shrunken buffer is grown; an allocation failure is recorded, never a crash. */
static void *fail_realloc(void *h, void *p, size_t n) { (void)h, (void)p, (void)n; return NULL; }

static void test_oom(void **state) {
  (void)state;
  weft_host_api bad = host;
  bad.realloc = fail_realloc;
  x64_buf b;
  x64_buf_init(&b, &bad);
  for (int i = 0; i < 8; i++) x64_emit_simd_rri(&b, X64_P66, 0x0F70, i, i, 0);
  x64_emit_pinsrq(&b, 1, 2, 1);
  assert_true(b.oom);
  x64_buf_free(&b);
}

static void test_count(void **state) {
  (void)state;
  /* every table entry above was checked */
  assert_true(nchecked > 40000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_rr_forms),     cmocka_unit_test(test_rri_forms),
    cmocka_unit_test(test_lane_moves),   cmocka_unit_test(test_shift_imm),
    cmocka_unit_test(test_memory_forms), cmocka_unit_test(test_oom),
    cmocka_unit_test(test_count),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
