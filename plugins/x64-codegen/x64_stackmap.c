/* plugins/x64-codegen/x64_stackmap.c -- the stack maps of the single-pass compiler (part
 * gcroots): at each safepoint the frame slots holding references, recorded into the module's
 * weft_stack_map_entry table (x64_module.c shares equal lists and publishes it in
 * weft_code_info). Depends on: x64_int.h (value stack, frame layout of x64_isel.c), codegen.h.
 */
#include "x64_int.h"

/* -- Recording ------------------------------------------------------------------------------- */

/* One slot of the map being recorded: an fp-relative offset, or (from_bottom) an offset from the
 * frame's bottom, rbp - frame, which is known only when the function ends (compile_body). */
static void sm_slot(x64_fn *c, int32_t off, bool from_bottom) {
  x64_module_cc *mc = c->mc;
  if (from_bottom && !X64_PUSH(c, c->sm_fix, mc->smslots.n)) return;
  if (!X64_PUSH(mc, mc->smslots, off)) c->oom = true;
}

/* Records the map at the current offset: reference locals and spilled reference operands (8-byte
 * slots), continuation locals and spilled 16-byte operands (16-byte slots); with `ft`, also the
 * reference parameters in the outgoing area of the call just emitted (the callee's own map covers
 * them too, but an import trampoline and the host function behind it have none), and the 16-byte
 * operand slots (nvals: continuation references or v128 values). `popped16`: also
 * the 16-byte slots above the value stack, up to the most used so far -- a libcall's operands were
 * popped before the call, and a continuation operand of struct.new / array.new_fixed stays in its
 * slot until the code after the call stores it (x64_isel_gc.c). */
void x64_record_map(x64_fn *c, const weft_type *ft, bool popped16) {
  x64_module_cc *mc = c->mc;
  if (c->oom || mc->oom || c->b->oom || mc->err) return;
  uint32_t off = (uint32_t)c->b->len;
  if (mc->smaps.n > 0 && mc->smaps.v[mc->smaps.n - 1].code_off == off) {
    /* a second map at one offset replaces the first */
    const weft_stack_map_entry *e = &mc->smaps.v[mc->smaps.n - 1];
    if (e->first + e->nrefs + e->nconts + e->nvals == mc->smslots.n) {
      while (c->sm_fix.n > 0 && c->sm_fix.v[c->sm_fix.n - 1] >= e->first) c->sm_fix.n--;
      mc->smslots.n = e->first;
    }
    mc->smaps.n--;
  }
  weft_stack_map_entry e = {off, mc->smslots.n, 0, 0, 0};
  for (int pass = 0; pass < 2; pass++) { /* 0: 8-byte references, 1: continuation type */
    uint32_t before = mc->smslots.n;
    for (uint32_t i = 0; i < c->nlocals; i++) {
      weft_valtype t = c->ltypes[i];
      if (WEFT_VT_IS_REF(t) && (x64_type_of(t) == X64_T_REF) == (pass == 0))
        sm_slot(c, x64_local_mem(c, i).disp, false);
    }
    for (uint32_t i = 0; pass == 0 && i < c->stk.n; i++) {
      const x64_val *v = &c->stk.v[i];
      if (v->kind == X64_VK_MEM && v->type == X64_T_REF) {
        (void)x64_slot(c, i);
        sm_slot(c, (int32_t)(8 * i), true);
      }
    }
    for (uint32_t i = 0; ft != NULL && i < ft->u.func.nparams; i++) {
      weft_valtype t = ft->u.func.params[i];
      if (WEFT_VT_IS_REF(t) && (x64_type_of(t) == X64_T_REF) == (pass == 0))
        sm_slot(c, -c->sp_off + (int32_t)(16 * i), true);
    }
    if (pass == 0)
      e.nrefs = mc->smslots.n - before;
    else
      e.nconts = mc->smslots.n - before;
  }
  /* 16-byte operand slots: continuation references or v128 values (the value stack does not say) */
  uint32_t before = mc->smslots.n;
  for (uint32_t i = 0; i < c->stk.n; i++)
    if (c->stk.v[i].kind == X64_VK_MEM && c->stk.v[i].type == X64_T_V128)
      sm_slot(c, x64_vslot(c, i).disp, false);
  if (popped16)
    for (uint32_t i = c->stk.n; i < c->max_vdepth; i++) sm_slot(c, x64_vslot(c, i).disp, false);
  e.nvals = mc->smslots.n - before;
  if (!X64_PUSH(mc, mc->smaps, e)) c->oom = true;
}

void x64_safepoint(x64_fn *c) { x64_record_map(c, NULL, false); }

/* Whether a libcall may reach the heap or switch stacks, so its return address is a safepoint.
 * The others never return (TRAP, RAISE, THROW_REF) or only compare types. THROW never returns
 * either, but may collect before it allocates the exception object (core/exn.c). */
bool x64_libcall_is_safepoint(uint32_t id) {
  switch (id) {
  case WEFT_LC_TRAP: case WEFT_LC_RAISE: case WEFT_LC_THROW_REF:
  case WEFT_LC_FUNC_SUBTYPE:
    return false;
  default:
    return true;
  }
}
