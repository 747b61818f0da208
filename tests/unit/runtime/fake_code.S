/* tests/unit/runtime/fake_code.S -- hand-written "generated code" for the runtime's unit tests: an
 * array-call trampoline per the codegen contract (entry state saved in its frame, a landing pad)
 * and bodies that fault, trap or call C at known trap sites, so entry, signals, registry and
 * unwinding are tested without a codegen. vmctx: 0 magic, 8 store_ctx, 32 weft_vm_memory*, 40 TRAP,
 * 48 host funcref*, 56 RAISE. slots[0].i32 selects the body, slots[1] is its operand.
 */
        .text
        .globl  fake_code_start, fake_code_end, fake_array_call, fake_sites, fake_nsites
        .hidden fake_code_start, fake_code_end, fake_array_call, fake_sites, fake_nsites
fake_code_start:
fake_array_call:
        pushq   %rbp
        movq    %rsp, %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        subq    $40, %rsp
        movq    8(%rdi), %r14           /* store context */
        movq    %rdi, 24(%rsp)
        movq    8(%r14), %rax           /* save the entry state */
        movq    %rax, 0(%rsp)
        movq    16(%r14), %rax
        movq    %rax, 8(%rsp)
        movq    24(%r14), %rax
        movq    %rax, 16(%rsp)
        movq    %rbp, 8(%r14)           /* and become the innermost entry */
        movq    %rsp, 16(%r14)
        leaq    .Llanding(%rip), %rax
        movq    %rax, 24(%r14)
        movq    %rdi, %r13
        movq    %rdx, %r12
        movl    (%r12), %eax
        movq    16(%r12), %rcx
        movq    32(%r13), %rdx
        movq    (%rdx), %rdx            /* memory base */
        cmpl    $1, %eax
        je      .Lload8
        cmpl    $2, %eax
        je      .Lload16
        cmpl    $3, %eax
        je      .Lload32
        cmpl    $4, %eax
        je      .Lload64
        cmpl    $5, %eax
        je      .Lunreachable
        cmpl    $6, %eax
        je      .Lrec
        cmpl    $7, %eax
        je      .Ltrap
        cmpl    $8, %eax
        je      .Lhost
        cmpl    $9, %eax
        je      .Lstore32
        cmpl    $10, %eax
        je      .Ldiv
        cmpl    $11, %eax
        je      fake_chain_trap
        xorl    %eax, %eax
        jmp     .Lok
.Lload8:
site_load8:
        movzbl  (%rdx,%rcx), %eax
        jmp     .Lok
.Lload16:
site_load16:
        movzwl  (%rdx,%rcx), %eax
        jmp     .Lok
.Lload32:
site_load32:
        movl    (%rdx,%rcx), %eax
        jmp     .Lok
.Lload64:
site_load64:
        movq    (%rdx,%rcx), %rax
        jmp     .Lok
.Lunreachable:
site_ud2:
        ud2
.Lstore32:
site_store32:
        movl    $0x12345678, (%rdx,%rcx)
        xorl    %eax, %eax
        jmp     .Lok
.Ldiv:
        movl    $1, %eax
        cltd
site_div:
        idivl   %ecx
        jmp     .Lok
.Lrec:
        call    fake_rec
        xorl    %eax, %eax
        jmp     .Lok
.Ltrap:
        movq    %r13, %rdi
        movl    16(%r12), %esi
        call    *40(%r13)
        ud2
.Lhost:
        movq    48(%r13), %rax          /* funcref */
        movq    24(%rax), %rdi          /* callee vmctx */
        movq    %r13, %rsi              /* caller vmctx */
        leaq    16(%r12), %rdx          /* slots + 1 */
        movl    $1, %ecx
        call    *(%rax)                 /* array_call */
        testb   %al, %al
        jz      .Lraise
        movq    16(%r12), %rax
        jmp     .Lok
.Lraise:
        movq    %r13, %rdi
        call    *56(%r13)
        ud2
.Lok:
        movq    %rax, (%r12)
        movq    0(%rsp), %rax           /* restore the entry state */
        movq    %rax, 8(%r14)
        movq    8(%rsp), %rax
        movq    %rax, 16(%r14)
        movq    16(%rsp), %rax
        movq    %rax, 24(%r14)
        movl    $1, %eax
        jmp     .Lepilogue
.Llanding:                              /* rsp, rbp as saved above */
        movq    24(%rsp), %rcx
        movq    8(%rcx), %rcx
        movq    0(%rsp), %rax
        movq    %rax, 8(%rcx)
        movq    8(%rsp), %rax
        movq    %rax, 16(%rcx)
        movq    16(%rsp), %rax
        movq    %rax, 24(%rcx)
        xorl    %eax, %eax
.Lepilogue:
        addq    $40, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret

/* Recurses until the stack limit (r14 = store context), like a Wasm prologue check. */
fake_rec:
        pushq   %rbp
        movq    %rsp, %rbp
        subq    $256, %rsp
        cmpq    0(%r14), %rsp
        jae     1f
site_stack:
        ud2
1:      call    fake_rec
        leave
        ret

/* Traps while the stack chain says "on a continuation" (as a trap inside one would). */
fake_chain_trap:
        movq    $2, 48(%r14)
        movq    %r13, 56(%r14)
site_chain:
        ud2
fake_code_end:

        .section .rodata
        .p2align 2
/* weft_trap_site {code_off, trap, wasm_off}, sorted by code_off. Trap codes: 5 MEMORY_OOB,
 * 1 UNREACHABLE, 2 INT_DIV_ZERO, 20 STACK_EXHAUSTED (checked against errors.h by the test). */
fake_sites:
        .long   site_load8 - fake_code_start, 5, 100
        .long   site_load16 - fake_code_start, 5, 101
        .long   site_load32 - fake_code_start, 5, 102
        .long   site_load64 - fake_code_start, 5, 103
        .long   site_ud2 - fake_code_start, 1, 104
        .long   site_store32 - fake_code_start, 5, 105
        .long   site_div - fake_code_start, 2, 106
        .long   site_stack - fake_code_start, 20, 107
        .long   site_chain - fake_code_start, 1, 108
fake_nsites:
        .long   9

        .section .note.GNU-stack,"",@progbits
