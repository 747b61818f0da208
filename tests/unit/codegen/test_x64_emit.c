/* tests/unit/codegen/test_x64_emit.c -- the x64-codegen byte encoders (x64_emit.c) checked against
 * the capstone disassembler: a wide sample of instructions over every register combination is
 * encoded, disassembled and compared with the expected Intel-syntax text.
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
static const char *const r8n[] = {"al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
                                  "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b"};
static const char *const ccn[] = {"o", "no", "b", "ae", "e", "ne", "be", "a",
                                  "s", "ns", "p", "np", "l", "ge", "le", "g"};

/* -- Checking -------------------------------------------------------------------------------- */

static csh cs;
static x64_buf buf;
static unsigned nchecked;

static void begin(void) { buf.len = 0; }

/* Disassemble the buffer: exactly one instruction covering all bytes, with text `want`. */
static void check(const char *want) {
  cs_insn *insn;
  size_t n = cs_disasm(cs, buf.p, buf.len, 0x1000, 0, &insn);
  char got[120] = "<undecodable>";
  cs_insn *first;
  size_t used = 0;
  if (n > 0) {
    first = &insn[0];
    snprintf(got, sizeof got, "%.24s%s%.90s", first->mnemonic, first->op_str[0] ? " " : "", first->op_str);
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

static void fmt_disp(char *out, size_t sz, const char *base, const char *index, int scale, int32_t disp) {
  char d[32] = "";
  if (disp) {
    int64_t v = disp < 0 ? -(int64_t)disp : disp;
    if (v <= 9)
      snprintf(d, sizeof d, " %c %lld", disp < 0 ? '-' : '+', (long long)v);
    else
      snprintf(d, sizeof d, " %c 0x%llx", disp < 0 ? '-' : '+', (long long)v);
  }
  if (index && scale)
    snprintf(out, sz, "[%s + %s*%d%s]", base, index, 1 << scale, d);
  else if (index)
    snprintf(out, sz, "[%s + %s%s]", base, index, d);
  else
    snprintf(out, sz, "[%s%s]", base, d);
}

static void fmt_imm(char *out, size_t sz, int64_t v) {
  if (v < 0) {
    if (-v <= 9)
      snprintf(out, sz, "-%lld", (long long)-v);
    else
      snprintf(out, sz, "-0x%llx", (unsigned long long)-v);
  } else if (v <= 9) {
    snprintf(out, sz, "%lld", (long long)v);
  } else {
    snprintf(out, sz, "0x%llx", (unsigned long long)v);
  }
}

static int setup(void **st) {
  (void)st;
  if (cs_open(CS_ARCH_X86, CS_MODE_64, &cs) != CS_ERR_OK) return -1;
  x64_buf_init(&buf, &host);
  return 0;
}

static int teardown(void **st) {
  (void)st;
  cs_close(&cs);
  x64_buf_free(&buf);
  return 0;
}

/* -- Tests ----------------------------------------------------------------------------------- */

static void test_mov_rr(void **st) {
  (void)st;
  char want[96];
  for (int d = 0; d < 16; d++)
    for (int s = 0; s < 16; s++) {
      begin(), x64_emit_mov_rr(&buf, true, d, s);
      snprintf(want, sizeof want, "mov %s, %s", r64[d], r64[s]), check(want);
      begin(), x64_emit_mov_rr(&buf, false, d, s);
      snprintf(want, sizeof want, "mov %s, %s", r32[d], r32[s]), check(want);
    }
}

static void test_alu(void **st) {
  (void)st;
  static const char *const names[] = {"add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"};
  static const int32_t imms[] = {1, -1, 127, -128, 128, 0x12345, -100000};
  char want[96], im[32];
  for (int op = 0; op < 8; op++)
    for (int d = 0; d < 16; d++) {
      for (int s = 0; s < 16; s += 3) {
        begin(), x64_emit_alu_rr(&buf, op, true, d, s);
        snprintf(want, sizeof want, "%s %s, %s", names[op], r64[d], r64[s]), check(want);
        begin(), x64_emit_alu_rr(&buf, op, false, d, s);
        snprintf(want, sizeof want, "%s %s, %s", names[op], r32[d], r32[s]), check(want);
      }
      for (size_t i = 0; i < sizeof imms / sizeof *imms; i++) {
        begin(), x64_emit_alu_ri(&buf, op, true, d, imms[i]);
        fmt_imm(im, sizeof im, imms[i]);
        /* capstone shows negative immediates of the logical ops as unsigned */
        bool logical = op == X64_OR || op == X64_AND || op == X64_XOR;
        if (logical && imms[i] < 0)
          snprintf(want, sizeof want, "%s %s, 0x%llx", names[op], r64[d], (unsigned long long)(int64_t)imms[i]);
        else
          snprintf(want, sizeof want, "%s %s, %s", names[op], r64[d], im);
        check(want);
        begin(), x64_emit_alu_ri(&buf, op, false, d, imms[i]);
        /* capstone shows imm8 forms signed, imm32 forms of 32-bit ops unsigned */
        if (imms[i] >= 0 || (imms[i] >= -128 && !logical))
          snprintf(want, sizeof want, "%s %s, %s", names[op], r32[d], im);
        else
          snprintf(want, sizeof want, "%s %s, 0x%x", names[op], r32[d], (uint32_t)imms[i]);
        check(want);
      }
    }
}

static void test_mem_forms(void **st) {
  (void)st;
  static const int32_t disps[] = {0, 8, -8, 127, -128, 128, 0x1000, -0x10000};
  char want[128], m[64];
  for (int base = 0; base < 16; base++)
    for (size_t i = 0; i < sizeof disps / sizeof *disps; i++) {
      int d = (base * 7 + (int)i) & 15;
      fmt_disp(m, sizeof m, r64[base], NULL, 0, disps[i]);
      begin(), x64_emit_load(&buf, true, d, x64_m(base, disps[i]));
      snprintf(want, sizeof want, "mov %s, qword ptr %s", r64[d], m), check(want);
      begin(), x64_emit_store(&buf, false, x64_m(base, disps[i]), d);
      snprintf(want, sizeof want, "mov dword ptr %s, %s", m, r32[d]), check(want);
      begin(), x64_emit_store8(&buf, x64_m(base, disps[i]), d);
      snprintf(want, sizeof want, "mov byte ptr %s, %s", m, r8n[d]), check(want);
      begin(), x64_emit_store16(&buf, x64_m(base, disps[i]), d);
      snprintf(want, sizeof want, "mov word ptr %s, %s", m, r32[d] /* replaced below */);
      {
        static const char *const r16[] = {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w",
                                          "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w"};
        snprintf(want, sizeof want, "mov word ptr %s, %s", m, r16[d]);
      }
      check(want);
      begin(), x64_emit_lea(&buf, true, d, x64_m(base, disps[i]));
      snprintf(want, sizeof want, "lea %s, %s", r64[d], m), check(want);
      begin(), x64_emit_loadx(&buf, 0xB6, false, d, x64_m(base, disps[i]));
      snprintf(want, sizeof want, "movzx %s, byte ptr %s", r32[d], m), check(want);
      begin(), x64_emit_loadx(&buf, 0xBF, true, d, x64_m(base, disps[i]));
      snprintf(want, sizeof want, "movsx %s, word ptr %s", r64[d], m), check(want);
      begin(), x64_emit_movsxd_load(&buf, d, x64_m(base, disps[i]));
      snprintf(want, sizeof want, "movsxd %s, dword ptr %s", r64[d], m), check(want);
      begin(), x64_emit_alu_rm(&buf, X64_CMP, true, d, x64_m(base, disps[i]));
      snprintf(want, sizeof want, "cmp %s, qword ptr %s", r64[d], m), check(want);
      begin(), x64_emit_store_imm32(&buf, true, x64_m(base, disps[i]), 5);
      snprintf(want, sizeof want, "mov qword ptr %s, 5", m), check(want);
      begin(), x64_emit_sse_rm(&buf, X64_PF2, X64_SSE_MOVLD, d, x64_m(base, disps[i]));
      snprintf(want, sizeof want, "movsd xmm%d, qword ptr %s", d, m), check(want);
      begin(), x64_emit_sse_rm(&buf, X64_PF3, X64_SSE_MOVST, d, x64_m(base, disps[i]));
      snprintf(want, sizeof want, "movss dword ptr %s, xmm%d", m, d), check(want);
      begin(), x64_emit_call_m(&buf, x64_m(base, disps[i]));
      snprintf(want, sizeof want, "call qword ptr %s", m), check(want);
    }
  /* base + index * scale + disp */
  for (int base = 0; base < 16; base++)
    for (int index = 0; index < 16; index++) {
      if (index == X64_RSP) continue;
      int scale = (base + index) & 3;
      int32_t disp = (index & 1) ? 0 : -24;
      fmt_disp(m, sizeof m, r64[base], r64[index], scale, disp);
      begin(), x64_emit_load(&buf, false, X64_RAX, x64_mi(base, index, scale, disp));
      snprintf(want, sizeof want, "mov eax, dword ptr %s", m), check(want);
      begin(), x64_emit_store(&buf, true, x64_mi(base, index, scale, disp), X64_R9);
      snprintf(want, sizeof want, "mov qword ptr %s, r9", m), check(want);
    }
}

static void test_unary_shift(void **st) {
  (void)st;
  static const char *const sh[] = {"rol", "ror", "", "", "shl", "shr", "", "sar"};
  static const char *const un[] = {"", "", "not", "neg", "mul", "imul", "div", "idiv"};
  char want[96];
  for (int r = 0; r < 16; r++) {
    for (int k = 0; k < 8; k++) {
      if (sh[k][0]) {
        begin(), x64_emit_shift_cl(&buf, k, true, r);
        snprintf(want, sizeof want, "%s %s, cl", sh[k], r64[r]), check(want);
        begin(), x64_emit_shift_ri(&buf, k, false, r, 5);
        snprintf(want, sizeof want, "%s %s, 5", sh[k], r32[r]), check(want);
      }
      if (un[k][0]) {
        begin(), x64_emit_unary(&buf, k, true, r);
        snprintf(want, sizeof want, "%s %s", un[k], r64[r]), check(want);
      }
    }
    for (int s = 0; s < 16; s += 5) {
      begin(), x64_emit_imul_rr(&buf, true, r, s);
      snprintf(want, sizeof want, "imul %s, %s", r64[r], r64[s]), check(want);
      begin(), x64_emit_imul_rri(&buf, false, r, s, 1000);
      snprintf(want, sizeof want, "imul %s, %s, 0x3e8", r32[r], r32[s]), check(want);
      begin(), x64_emit_bitcount(&buf, X64_LZCNT, true, r, s);
      snprintf(want, sizeof want, "lzcnt %s, %s", r64[r], r64[s]), check(want);
      begin(), x64_emit_bitcount(&buf, X64_TZCNT, false, r, s);
      snprintf(want, sizeof want, "tzcnt %s, %s", r32[r], r32[s]), check(want);
      begin(), x64_emit_bitcount(&buf, X64_POPCNT, true, r, s);
      snprintf(want, sizeof want, "popcnt %s, %s", r64[r], r64[s]), check(want);
      begin(), x64_emit_test_rr(&buf, true, r, s);
      snprintf(want, sizeof want, "test %s, %s", r64[r], r64[s]), check(want);
      begin(), x64_emit_movx_rr(&buf, 0xBE, true, r, s);
      snprintf(want, sizeof want, "movsx %s, %s", r64[r], r8n[s]), check(want);
      begin(), x64_emit_movsxd_rr(&buf, r, s);
      snprintf(want, sizeof want, "movsxd %s, %s", r64[r], r32[s]), check(want);
    }
    begin(), x64_emit_push(&buf, r);
    snprintf(want, sizeof want, "push %s", r64[r]), check(want);
    begin(), x64_emit_pop(&buf, r);
    snprintf(want, sizeof want, "pop %s", r64[r]), check(want);
    begin(), x64_emit_call_r(&buf, r);
    snprintf(want, sizeof want, "call %s", r64[r]), check(want);
    begin(), x64_emit_jmp_r(&buf, r);
    snprintf(want, sizeof want, "jmp %s", r64[r]), check(want);
    for (int cc = 0; cc < 16; cc++) {
      begin(), x64_emit_setcc(&buf, cc, r);
      snprintf(want, sizeof want, "set%s %s", ccn[cc], r8n[r]), check(want);
      begin(), x64_emit_cmov(&buf, cc, true, r, 15 - r);
      snprintf(want, sizeof want, "cmov%s %s, %s", ccn[cc], r64[r], r64[15 - r]), check(want);
    }
    begin(), x64_emit_movzx8_rr(&buf, r, r);
    snprintf(want, sizeof want, "movzx %s, %s", r32[r], r8n[r]), check(want);
  }
}

static void test_mov_imm(void **st) {
  (void)st;
  static const uint64_t vals[] = {0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFFull,
                                  0xFFFFFFFF80000000ull, 0x123456789ull, 0x8000000000000000ull};
  char want[96];
  for (int r = 0; r < 16; r++)
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
      uint64_t v = vals[i];
      begin(), x64_emit_mov_ri(&buf, r, v);
      if (v == 0)
        snprintf(want, sizeof want, "xor %s, %s", r32[r], r32[r]);
      else if (v <= 0xFFFFFFFF)
        snprintf(want, sizeof want, "mov %s, 0x%llx", r32[r], (unsigned long long)v);
      else if ((int64_t)v >= INT32_MIN && (int64_t)v < 0) {
        char im[32];
        fmt_imm(im, sizeof im, (int64_t)v);
        snprintf(want, sizeof want, "mov %s, %s", r64[r], im);
      }
      else
        snprintf(want, sizeof want, "movabs %s, 0x%llx", r64[r], (unsigned long long)v);
      if (v == 1) snprintf(want, sizeof want, "mov %s, 1", r32[r]);
      check(want);
    }
}

static void test_control(void **st) {
  (void)st;
  char want[64];
  for (int cc = 0; cc < 16; cc++) {
    begin();
    size_t at = x64_emit_jcc(&buf, cc);
    x64_patch_rel32(&buf, at, 0x40);
    snprintf(want, sizeof want, "j%s 0x1040", ccn[cc]);
    check(want);
  }
  begin();
  size_t at = x64_emit_jmp(&buf);
  x64_patch_rel32(&buf, at, 0);
  check("jmp 0x1000");
  begin();
  at = x64_emit_call_rel(&buf);
  x64_patch_rel32(&buf, at, 0x105);
  check("call 0x1105");
  begin(), x64_emit_ret(&buf, 0), check("ret");
  begin(), x64_emit_ret(&buf, 32), check("ret 0x20");
  begin(), x64_emit_ud2(&buf), check("ud2");
  begin(), x64_emit_cdq(&buf, false), check("cdq");
  begin(), x64_emit_cdq(&buf, true), check("cqo");
  begin();
  at = x64_emit_lea_rip(&buf, X64_R11);
  x64_patch_rel32(&buf, at, 0x20);
  check("lea r11, [rip + 0x19]");
}

static void test_sse(void **st) {
  (void)st;
  static const struct { uint32_t op; const char *n; } ops[] = {
      {X64_SSE_ADD, "add"}, {X64_SSE_SUB, "sub"}, {X64_SSE_MUL, "mul"}, {X64_SSE_DIV, "div"},
      {X64_SSE_MIN, "min"}, {X64_SSE_MAX, "max"}, {X64_SSE_SQRT, "sqrt"}};
  char want[96];
  for (int d = 0; d < 16; d++)
    for (int s = 0; s < 16; s += 3) {
      for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
        begin(), x64_emit_sse_rr(&buf, X64_PF3, ops[i].op, d, s);
        snprintf(want, sizeof want, "%sss xmm%d, xmm%d", ops[i].n, d, s), check(want);
        begin(), x64_emit_sse_rr(&buf, X64_PF2, ops[i].op, d, s);
        snprintf(want, sizeof want, "%ssd xmm%d, xmm%d", ops[i].n, d, s), check(want);
      }
      begin(), x64_emit_sse_rr(&buf, 0, X64_SSE_UCOMI, d, s);
      snprintf(want, sizeof want, "ucomiss xmm%d, xmm%d", d, s), check(want);
      begin(), x64_emit_sse_rr(&buf, X64_P66, X64_SSE_UCOMI, d, s);
      snprintf(want, sizeof want, "ucomisd xmm%d, xmm%d", d, s), check(want);
      begin(), x64_emit_sse_rr(&buf, 0, X64_SSE_XOR, d, s);
      snprintf(want, sizeof want, "xorps xmm%d, xmm%d", d, s), check(want);
      begin(), x64_emit_sse_rr(&buf, X64_P66, X64_SSE_AND, d, s);
      snprintf(want, sizeof want, "andpd xmm%d, xmm%d", d, s), check(want);
      begin(), x64_emit_sse_rr(&buf, 0, X64_SSE_ANDN, d, s);
      snprintf(want, sizeof want, "andnps xmm%d, xmm%d", d, s), check(want);
      begin(), x64_emit_sse_rr(&buf, 0, X64_SSE_MOVAPS, d, s);
      snprintf(want, sizeof want, "movaps xmm%d, xmm%d", d, s), check(want);
      begin(), x64_emit_sse_rr(&buf, X64_PF3, X64_SSE_CVTF, d, s);
      snprintf(want, sizeof want, "cvtss2sd xmm%d, xmm%d", d, s), check(want);
      begin(), x64_emit_sse_rr(&buf, X64_PF2, X64_SSE_CVTF, d, s);
      snprintf(want, sizeof want, "cvtsd2ss xmm%d, xmm%d", d, s), check(want);
      begin(), x64_emit_round(&buf, false, d, s, 1);
      snprintf(want, sizeof want, "roundss xmm%d, xmm%d, 1", d, s), check(want);
      begin(), x64_emit_round(&buf, true, d, s, 0);
      snprintf(want, sizeof want, "roundsd xmm%d, xmm%d, 0", d, s), check(want);
      /* gpr <-> xmm */
      begin(), x64_emit_movd_xr(&buf, true, d, s);
      snprintf(want, sizeof want, "movq xmm%d, %s", d, r64[s]), check(want);
      begin(), x64_emit_movd_xr(&buf, false, d, s);
      snprintf(want, sizeof want, "movd xmm%d, %s", d, r32[s]), check(want);
      begin(), x64_emit_movd_rx(&buf, true, s, d);
      snprintf(want, sizeof want, "movq %s, xmm%d", r64[s], d), check(want);
      begin(), x64_emit_sse_rr(&buf, X64_PF2 | X64_W, X64_SSE_CVTSI2, d, s);
      snprintf(want, sizeof want, "cvtsi2sd xmm%d, %s", d, r64[s]), check(want);
      begin(), x64_emit_sse_rr(&buf, X64_PF3, X64_SSE_CVTSI2, d, s);
      snprintf(want, sizeof want, "cvtsi2ss xmm%d, %s", d, r32[s]), check(want);
      begin(), x64_emit_sse_rr(&buf, X64_PF3 | X64_W, X64_SSE_CVTT2SI, s, d);
      snprintf(want, sizeof want, "cvttss2si %s, xmm%d", r64[s], d), check(want);
      begin(), x64_emit_sse_rr(&buf, X64_PF2, X64_SSE_CVTT2SI, s, d);
      snprintf(want, sizeof want, "cvttsd2si %s, xmm%d", r32[s], d), check(want);
    }
}

static void test_count(void **st) {
  (void)st;
  /* the sample above really is wide */
  assert_true(nchecked > 5000);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_mov_rr),      cmocka_unit_test(test_alu),
      cmocka_unit_test(test_mem_forms),   cmocka_unit_test(test_unary_shift),
      cmocka_unit_test(test_mov_imm),     cmocka_unit_test(test_control),
      cmocka_unit_test(test_sse),         cmocka_unit_test(test_count),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
