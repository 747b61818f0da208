/* plugins/x64-codegen/x64_target.h -- x86-64 target description: registers, condition codes, the
 * register roles of weft's internal calling convention. Pure constants; the emitter (x64_emit.c) and
 * instruction selection (x64_isel_*.c) both use them. Depends on: nothing.
 */
#ifndef WEFT_X64_TARGET_H
#define WEFT_X64_TARGET_H

/* -- Registers ------------------------------------------------------------------------------- */

/* General-purpose registers by hardware number. XMM registers are numbered 0-15 separately. */
enum {
  X64_RAX = 0, X64_RCX = 1, X64_RDX = 2, X64_RBX = 3, X64_RSP = 4, X64_RBP = 5, X64_RSI = 6,
  X64_RDI = 7, X64_R8 = 8, X64_R9 = 9, X64_R10 = 10, X64_R11 = 11, X64_R12 = 12, X64_R13 = 13,
  X64_R14 = 14, X64_R15 = 15
};
#define X64_NOREG 0xFF
#define X64_RIP 0xFE /* pseudo base register: rip-relative memory operand */

/* Condition codes (the low nibble of Jcc/SETcc/CMOVcc). */
enum {
  X64_CC_O = 0x0, X64_CC_NO = 0x1, X64_CC_B = 0x2, X64_CC_AE = 0x3, X64_CC_E = 0x4, X64_CC_NE = 0x5,
  X64_CC_BE = 0x6, X64_CC_A = 0x7, X64_CC_S = 0x8, X64_CC_NS = 0x9, X64_CC_P = 0xA, X64_CC_NP = 0xB,
  X64_CC_L = 0xC, X64_CC_GE = 0xD, X64_CC_LE = 0xE, X64_CC_G = 0xF
};
#define X64_CC_NEGATE(cc) ((cc) ^ 1)

/* -- Internal calling convention (wasm_call) ------------------------------------------------ *
 *  rdi  callee vmctx                 rsi  results pointer (functions with 2+ results)
 *  rcx  callee funcref (calls made through a funcref; trampolines read array_call/vmctx from it)
 *  r15  the caller's vmctx at the call (wasm->host trampolines use it as caller_vmctx)
 *  params: on the machine stack, [rsp+8] = param 0 at entry, 16 bytes each (a v128 fills one;
 *          scalars use the low 8); the area is 16 * nparams bytes and the callee pops it
 *          (ret imm16), which is what lets return_call replace a frame with one whose parameter
 *          area is larger.
 *  results: one result in rax (raw bits, floats too; a v128 in rdx:rax); 2+ results stored at
 *          [rsi + 8 * i], or at [rsi + 16 * i] when a v128 is among them (x64_wide_results).
 *  Every register is caller-saved. Inside a function r15 holds its vmctx and r14 the base of
 *  memory 0 (when the module has one); r11 and xmm15 are scratch, never allocated. */
#define X64_VMCTX X64_R15
#define X64_MEMBASE X64_R14
#define X64_SCRATCH X64_R11
#define X64_XSCRATCH 15

#endif
