/* plugins/contstacks/cs_switch.S -- the stack-switch primitive and the start trampoline (x86-64
 * System V, AT&T syntax). The eight-instruction core of cs_stack_switch is exactly what the codegen
 * inlines (docs/STACK-SWITCHING.md §3); cs_cont_start is where a Fresh continuation's first resume
 * lands. Depends on: cs_cont_run (cs_cont.c), the TOS layout in weft/plugin/contstacks.h.
 */
        .text

/* -- cs_stack_switch(store=rdi, load=rsi, effect=rdx) -> rax ------------------------------------ */
/* Saves rsp/rbp/resume-rip into *store, loads *load, delivers the effect in rdi. store may equal
 * load: all three words of *load are read before any is written. The C wrapper preserves the
 * callee-saved registers around the switch, which inline code does not need to (the codegen
 * treats a switch as clobbering every register). */
        .globl  cs_stack_switch
        .hidden cs_stack_switch
        .type   cs_stack_switch, @function
cs_stack_switch:
        .cfi_startproc
        pushq   %rbp
        .cfi_def_cfa_offset 16
        .cfi_offset %rbp, -16
        movq    %rsp, %rbp
        .cfi_def_cfa_register %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        subq    $8, %rsp
        movq    %rdi, %r8               /* r8 = store */
        movq    %rdx, %rdi              /* rdi = effect (the fixed register) */
        /* ---- the inline sequence: r8 = store, rsi = load, rdi = effect ---- */
        movq    0(%rsi), %rax           /* new rsp */
        movq    8(%rsi), %rcx           /* new rbp */
        movq    16(%rsi), %rdx          /* new rip */
        movq    %rsp, 0(%r8)
        movq    %rbp, 8(%r8)
        leaq    1f(%rip), %r11
        movq    %r11, 16(%r8)
        movq    %rax, %rsp
        movq    %rcx, %rbp
        jmpq    *%rdx
1:      /* resumed here: rsp/rbp are ours again, rdi = the effect delivered to us */
        /* ---- end of the inline sequence ---- */
        movq    %rdi, %rax
        addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        .cfi_def_cfa %rsp, 8
        ret
        .cfi_endproc
        .size   cs_stack_switch, .-cs_stack_switch

/* -- cs_cont_start: first resume of a Fresh continuation ---------------------------------------- */
/* Entered by a switch with rsp = the launch record (16-aligned; [rsp] = the cs_cont *), rbp =
 * TOS-0x10 (the control context's rbp slot) and rdi = the effect (RESUME). Calls cs_cont_run,
 * which runs the function and returns RETURN or TRAP; then switches to the parent through the
 * control context at TOS-0x18 -- which by then holds the resume point of whoever resumed this
 * stack last -- delivering that effect. Nothing is saved: this stack is finished. */
        .globl  cs_cont_start
        .hidden cs_cont_start
        .type   cs_cont_start, @function
cs_cont_start:
        .cfi_startproc
        .cfi_undefined %rip             /* the bottom of this stack: unwinders stop here */
        movq    0(%rsp), %rdi           /* the cs_cont * */
        call    cs_cont_run             /* rsp is 16-aligned at the call, as the ABI wants */
        movq    %rax, %rdi              /* the effect for the parent */
        movq    8(%rbp), %rcx           /* cc.rip */
        movq    -8(%rbp), %rsp          /* cc.rsp */
        movq    0(%rbp), %rbp           /* cc.rbp */
        jmpq    *%rcx
        .cfi_endproc
        .size   cs_cont_start, .-cs_cont_start

        .section .note.GNU-stack,"",@progbits
