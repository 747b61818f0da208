/* plugins/x64-codegen/x64_tramp.c -- trampolines between the array-call ABI and the internal
 * wasm_call convention (x64_target.h):
 *   array -> wasm  one per defined function: saves/sets the entry state, owns the landing pad
 *   wasm -> array  one per imported function type (and on demand for host funcrefs)
 * Depends on: x64_int.h, x64_emit.h, vm.h (weft_store_ctx / weft_funcref offsets).
 */
#include <stddef.h>

#include "x64_int.h"

/* weft_store_ctx offsets used here (vm.h asserts them) */
#define SC_ENTRY_FP 8
#define SC_ENTRY_SP 16
#define SC_ENTRY_HANDLER 24
#define SC_EXIT_PC 32
#define SC_EXIT_FP 40
_Static_assert(offsetof(weft_store_ctx, limits.last_wasm_entry_fp) == SC_ENTRY_FP, "store ctx");
_Static_assert(offsetof(weft_store_ctx, limits.last_wasm_entry_sp) == SC_ENTRY_SP, "store ctx");
_Static_assert(offsetof(weft_store_ctx, limits.last_wasm_entry_trap_handler) == SC_ENTRY_HANDLER, "store ctx");
_Static_assert(offsetof(weft_store_ctx, last_wasm_exit_pc) == SC_EXIT_PC, "store ctx");
_Static_assert(offsetof(weft_store_ctx, last_wasm_exit_fp) == SC_EXIT_FP, "store ctx");
_Static_assert(offsetof(weft_vmctx_header, store_ctx) == 8, "vmctx header");

/* -- Array -> wasm --------------------------------------------------------------------------- */

/* Frame: [rbp-8..-40] rbx r12 r13 r14 r15, [rbp-48] slots, [rbp-56] saved entry fp,
 * [rbp-64] saved entry sp, [rbp-72] saved handler, [rbp-80] store ctx, [rbp-88] callee vmctx. */
static const uint8_t saved_regs[] = {X64_RBX, X64_R12, X64_R13, X64_R14, X64_R15};

static void restore_and_return(x64_buf *b, bool ok) {
  x64_emit_load(b, true, X64_RAX, x64_m(X64_RBP, -80));
  x64_emit_load(b, true, X64_SCRATCH, x64_m(X64_RBP, -56));
  x64_emit_store(b, true, x64_m(X64_RAX, SC_ENTRY_FP), X64_SCRATCH);
  x64_emit_load(b, true, X64_SCRATCH, x64_m(X64_RBP, -64));
  x64_emit_store(b, true, x64_m(X64_RAX, SC_ENTRY_SP), X64_SCRATCH);
  x64_emit_load(b, true, X64_SCRATCH, x64_m(X64_RBP, -72));
  x64_emit_store(b, true, x64_m(X64_RAX, SC_ENTRY_HANDLER), X64_SCRATCH);
  if (ok)
    x64_emit_mov_ri32(b, X64_RAX, 1);
  else
    x64_emit_alu_rr(b, X64_XOR, false, X64_RAX, X64_RAX);
  x64_emit_lea(b, true, X64_RSP, x64_m(X64_RBP, -40));
  for (int i = 4; i >= 0; i--) x64_emit_pop(b, saved_regs[i]);
  x64_emit_pop(b, X64_RBP);
  x64_emit_ret(b, 0);
}

void x64_emit_array_tramp(x64_module_cc *mc, uint32_t fidx) {
  x64_buf *b = &mc->buf;
  const weft_type *ft = &mc->m->types[mc->m->funcs[fidx].type];
  uint32_t np = ft->u.func.nparams, nr = ft->u.func.nresults;
  uint32_t area = x64_area_size(np), rarea = nr > 1 ? x64_area_size(nr) : 0;
  x64_emit_push(b, X64_RBP);
  x64_emit_mov_rr(b, true, X64_RBP, X64_RSP);
  for (int i = 0; i < 5; i++) x64_emit_push(b, saved_regs[i]);
  x64_emit_alu_ri(b, X64_SUB, true, X64_RSP, 56);
  x64_emit_store(b, true, x64_m(X64_RBP, -48), X64_RDX);
  x64_emit_store(b, true, x64_m(X64_RBP, -88), X64_RDI);
  x64_emit_load(b, true, X64_RAX, x64_m(X64_RDI, 8));
  x64_emit_store(b, true, x64_m(X64_RBP, -80), X64_RAX);
  static const int32_t fields[] = {SC_ENTRY_FP, SC_ENTRY_SP, SC_ENTRY_HANDLER};
  for (int i = 0; i < 3; i++) {
    x64_emit_load(b, true, X64_SCRATCH, x64_m(X64_RAX, fields[i]));
    x64_emit_store(b, true, x64_m(X64_RBP, -56 - 8 * i), X64_SCRATCH);
  }
  x64_emit_store(b, true, x64_m(X64_RAX, SC_ENTRY_FP), X64_RBP);
  x64_emit_store(b, true, x64_m(X64_RAX, SC_ENTRY_SP), X64_RSP);
  size_t lea_at = x64_emit_lea_rip(b, X64_SCRATCH);
  x64_emit_store(b, true, x64_m(X64_RAX, SC_ENTRY_HANDLER), X64_SCRATCH);
  if (rarea + area) x64_emit_alu_ri(b, X64_SUB, true, X64_RSP, (int32_t)(rarea + area));
  for (uint32_t i = 0; i < np; i++) {
    bool wide = x64_type_of(ft->u.func.params[i]) != X64_T_I32 && x64_type_of(ft->u.func.params[i]) != X64_T_F32;
    x64_emit_load(b, wide, X64_SCRATCH, x64_m(X64_RDX, (int32_t)(16 * i)));
    x64_emit_store(b, true, x64_m(X64_RSP, (int32_t)(16 * i)), X64_SCRATCH);
    if (x64_type_of(ft->u.func.params[i]) == X64_T_V128) {
      x64_emit_load(b, true, X64_SCRATCH, x64_m(X64_RDX, (int32_t)(16 * i + 8)));
      x64_emit_store(b, true, x64_m(X64_RSP, (int32_t)(16 * i + 8)), X64_SCRATCH);
    }
  }
  if (nr > 1) x64_emit_lea(b, true, X64_RSI, x64_m(X64_RSP, (int32_t)area));
  x64_emit_load(b, true, X64_RDI, x64_m(X64_RBP, -88));
  x64_call_fix f = {x64_emit_call_rel(b), fidx};
  if (!X64_PUSH(mc, mc->calls, f)) mc->oom = true;
  if (nr == 1 && x64_type_of(ft->u.func.results[0]) == X64_T_V128) {
    /* a v128 result comes back in rdx:rax */
    x64_emit_load(b, true, X64_SCRATCH, x64_m(X64_RBP, -48));
    x64_emit_store(b, true, x64_m(X64_SCRATCH, 0), X64_RAX);
    x64_emit_store(b, true, x64_m(X64_SCRATCH, 8), X64_RDX);
    x64_emit_mov_rr(b, true, X64_RDX, X64_SCRATCH);
  } else if (nr == 1) {
    x64_emit_load(b, true, X64_RDX, x64_m(X64_RBP, -48));
    x64_emit_store(b, true, x64_m(X64_RDX, 0), X64_RAX);
  } else {
    x64_emit_load(b, true, X64_RDX, x64_m(X64_RBP, -48));
    bool wide = x64_wide_results(ft); /* 16 bytes a result: copy both halves */
    for (uint32_t i = 0; i < nr; i++)
      for (uint32_t h = 0; h < (wide ? 2u : 1u); h++) {
        x64_emit_load(b, true, X64_SCRATCH, x64_m(X64_RSP, (int32_t)((wide ? 16 : 8) * i + 8 * h)));
        x64_emit_store(b, true, x64_m(X64_RDX, (int32_t)(16 * i + 8 * h)), X64_SCRATCH);
      }
  }
  restore_and_return(b, true);
  /* landing pad: the trap handler resumes here with rsp/rbp = the entry sp/fp set above */
  x64_patch_rel32(b, lea_at, b->len);
  restore_and_return(b, false);
}

/* -- Wasm -> array --------------------------------------------------------------------------- */

void x64_emit_import_tramp(x64_buf *b, const weft_type *ft, void *raise_addr) {
  uint32_t np = ft->u.func.nparams, nr = ft->u.func.nresults;
  uint32_t n = np > nr ? np : nr;
  uint32_t frame = 16 * (n ? n : 1) + 16;
  x64_emit_push(b, X64_RBP);
  x64_emit_mov_rr(b, true, X64_RBP, X64_RSP);
  x64_emit_alu_ri(b, X64_SUB, true, X64_RSP, (int32_t)frame);
  x64_emit_store(b, true, x64_m(X64_RBP, -8), X64_RSI);
  x64_emit_load(b, true, X64_SCRATCH, x64_m(X64_VMCTX, 8));
  x64_emit_load(b, true, X64_RAX, x64_m(X64_RBP, 8));
  x64_emit_store(b, true, x64_m(X64_SCRATCH, SC_EXIT_PC), X64_RAX);
  x64_emit_load(b, true, X64_RAX, x64_m(X64_RBP, 0));
  x64_emit_store(b, true, x64_m(X64_SCRATCH, SC_EXIT_FP), X64_RAX);
  for (uint32_t i = 0; i < np; i++) {
    x64_emit_load(b, true, X64_RAX, x64_m(X64_RBP, (int32_t)(16 + 16 * i)));
    x64_emit_store(b, true, x64_m(X64_RSP, (int32_t)(16 * i)), X64_RAX);
    x64_emit_load(b, true, X64_RAX, x64_m(X64_RBP, (int32_t)(16 + 16 * i + 8)));
    x64_emit_store(b, true, x64_m(X64_RSP, (int32_t)(16 * i + 8)), X64_RAX);
  }
  x64_emit_load(b, true, X64_RAX, x64_m(X64_RCX, 0));
  x64_emit_load(b, true, X64_RDI, x64_m(X64_RCX, 24));
  x64_emit_mov_rr(b, true, X64_RSI, X64_VMCTX);
  x64_emit_mov_rr(b, true, X64_RDX, X64_RSP);
  x64_emit_mov_ri32(b, X64_RCX, n);
  x64_emit_call_r(b, X64_RAX);
  x64_emit_rr(b, X64_B8, 0x84, X64_RAX, X64_RAX); /* test al, al */
  size_t raise = x64_emit_jcc(b, X64_CC_E);
  if (nr == 1) {
    int t = x64_type_of(ft->u.func.results[0]);
    x64_emit_load(b, t != X64_T_I32 && t != X64_T_F32, X64_RAX, x64_m(X64_RSP, 0));
    if (t == X64_T_V128) x64_emit_load(b, true, X64_RDX, x64_m(X64_RSP, 8));
  } else if (nr > 1) {
    x64_emit_load(b, true, X64_RSI, x64_m(X64_RBP, -8));
    bool wide = x64_wide_results(ft);
    for (uint32_t i = 0; i < nr; i++) {
      int t = x64_type_of(ft->u.func.results[i]);
      x64_emit_load(b, t != X64_T_I32 && t != X64_T_F32, X64_RAX, x64_m(X64_RSP, (int32_t)(16 * i)));
      x64_emit_store(b, true, x64_m(X64_RSI, (int32_t)((wide ? 16 : 8) * i)), X64_RAX);
      if (t == X64_T_V128) {
        x64_emit_load(b, true, X64_RAX, x64_m(X64_RSP, (int32_t)(16 * i + 8)));
        x64_emit_store(b, true, x64_m(X64_RSI, (int32_t)(16 * i + 8)), X64_RAX);
      }
    }
  }
  x64_emit_mov_rr(b, true, X64_RSP, X64_RBP);
  x64_emit_pop(b, X64_RBP);
  x64_emit_ret(b, (uint16_t)x64_area_size(np));
  x64_patch_rel32(b, raise, b->len);
  x64_emit_mov_rr(b, true, X64_RDI, X64_VMCTX);
  x64_emit_mov_ri(b, X64_RAX, (uint64_t)(uintptr_t)raise_addr);
  x64_emit_call_r(b, X64_RAX);
  x64_emit_ud2(b);
}
