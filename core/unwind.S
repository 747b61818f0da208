/* core/unwind.S -- the one assembly helper of the runtime: jump to the innermost entry's landing pad.
 * Called by core/trap.c after a trap from C code (a libcall or a host function) has been recorded in
 * the store context. Depends on nothing; System V x86-64.
 *
 *   core_rt_unwind_jump(uintptr_t sp, uintptr_t fp, uintptr_t pc): rsp = sp, rbp = fp, jmp pc
 */
        .text
        .globl  core_rt_unwind_jump
        .hidden core_rt_unwind_jump
        .type   core_rt_unwind_jump, @function
core_rt_unwind_jump:
        .cfi_startproc
        movq    %rdi, %rsp
        movq    %rsi, %rbp
        jmpq    *%rdx
        .cfi_endproc
        .size   core_rt_unwind_jump, .-core_rt_unwind_jump

        .section .note.GNU-stack,"",@progbits
