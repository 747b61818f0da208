/* plugins/x64-codegen/x64_isel_cont.c -- stack switching in the single-pass compiler: cont.new,
 * cont.bind, suspend, resume, resume_throw[_ref], switch, and get/set of continuation tables. A
 * contref is one 8-byte word here (core/cont.h). Each switching instruction: spill, a first-half
 * libcall over its operand slots, the switch sequence inline, a second-half libcall; resume then
 * branches on the effect to its handler labels. Depends on: x64_int.h, vm.h, plugin/contstacks.h.
 */
#include <string.h>

#include "weft/plugin/contstacks.h"
#include "x64_int.h"

/* -- Helpers --------------------------------------------------------------------------------- */

/* The function type behind continuation type `ct` (or a function type index), NULL after a fail. */
static const weft_type *cont_ft(x64_fn *c, uint32_t ct) {
  const weft_module *m = c->m;
  if (ct >= m->ntypes) goto bad;
  const weft_type *t = &m->types[ct];
  if (t->comp == WEFT_COMP_CONT) {
    if (t->u.cont_func >= m->ntypes) goto bad;
    t = &m->types[t->u.cont_func];
  }
  if (t->comp != WEFT_COMP_FUNC) goto bad;
  return t;
bad:
  x64_fail(c, WEFT_ERR_INVALID, "function %u: type %u is not a continuation type", c->fidx, ct);
  return NULL;
}

static const weft_type *tag_ft(x64_fn *c, uint32_t tag) {
  if (tag >= c->m->ntags || c->m->tags[tag].type >= c->m->ntypes ||
      c->m->types[c->m->tags[tag].type].comp != WEFT_COMP_FUNC) {
    x64_fail(c, WEFT_ERR_INVALID, "function %u: unknown tag %u", c->fidx, tag);
    return NULL;
  }
  return &c->m->types[c->m->tags[tag].type];
}

static bool has_v128(x64_fn *c, const weft_valtype *t, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    if (x64_type_of(t[i]) == X64_T_V128) {
      x64_fail(c, WEFT_ERR_UNSUPPORTED,
               "function %u: v128 values through continuations are not supported by x64-codegen",
               c->fidx);
      return true;
    }
  return false;
}

static uint32_t umax(uint32_t a, uint32_t b) { return a > b ? a : b; }

/* Spills everything, checks `nops` operands exist, reserves `words` operand slots from the first
 * operand's slot (the libcall's io area) and pops the operands. Returns that first slot's depth. */
static bool begin(x64_fn *c, uint32_t nops, uint32_t words, uint32_t *base) {
  if (nops > c->stk.n) {
    x64_fail(c, WEFT_ERR_INVALID, "function %u: continuation instruction without its %u operands",
             c->fidx, nops);
    return false;
  }
  x64_save_pinned(c);
  x64_spill_all(c);
  *base = c->stk.n - nops;
  (void)x64_slot(c, *base + (words > nops ? words : nops)); /* reserves the io area */
  while (c->stk.n > *base) {
    x64_val v = x64_pop(c);
    x64_free_val(c, &v);
  }
  return true;
}

static void after(x64_fn *c) {
  x64_reload_membase(c);
  x64_after_libcall(c);
}

static void push_slots(x64_fn *c, const weft_valtype *t, uint32_t n, bool with_ref) {
  for (uint32_t i = 0; i < n + (with_ref ? 1u : 0u); i++) {
    x64_val v;
    memset(&v, 0, sizeof v);
    v.kind = X64_VK_MEM;
    v.type = (uint8_t)(i < n ? x64_type_of(t[i]) : X64_T_REF);
    v.depth = c->stk.n;
    X64_PUSH(c, c->stk, v);
  }
}

static void drop_to(x64_fn *c, uint32_t h) {
  while (c->stk.n > h) {
    x64_val v = x64_pop(c);
    x64_free_val(c, &v);
  }
}

/* The switch itself, inline (docs/STACK-SWITCHING.md §3): the first-half libcall left the control
 * context(s) in rax:rdx -- {cc, effect} with S = L = cc, or {S, L} for switch (effect SWITCH).
 * No call or return crosses stacks: one indirect jmp. Whoever switches back lands right after it
 * with the effect in rdi and every register but rsp/rbp clobbered, so vmctx is reloaded. */
static void emit_switch(x64_fn *c, bool same) {
  static const uint8_t seq[] = {
      0x48, 0x8b, 0x06,                         /* mov rax, [rsi]      new rsp */
      0x48, 0x8b, 0x4e, 0x08,                   /* mov rcx, [rsi+8]    new rbp */
      0x48, 0x8b, 0x56, 0x10,                   /* mov rdx, [rsi+16]   new rip */
      0x49, 0x89, 0x20,                         /* mov [r8], rsp */
      0x49, 0x89, 0x68, 0x08,                   /* mov [r8+8], rbp */
      0x4c, 0x8d, 0x1d, 0x0c, 0x00, 0x00, 0x00, /* lea r11, [rip+12]   the byte after jmp */
      0x4d, 0x89, 0x58, 0x10,                   /* mov [r8+16], r11 */
      0x48, 0x89, 0xc4,                         /* mov rsp, rax */
      0x48, 0x89, 0xcd,                         /* mov rbp, rcx */
      0xff, 0xe2,                               /* jmp rdx */
  };
  if (same) {
    x64_emit_mov_rr(c->b, true, X64_RDI, X64_RDX);
    x64_emit_mov_rr(c->b, true, X64_RSI, X64_RAX);
    x64_emit_mov_rr(c->b, true, X64_R8, X64_RAX);
  } else {
    x64_emit_mov_rr(c->b, true, X64_RSI, X64_RDX);
    x64_emit_mov_rr(c->b, true, X64_R8, X64_RAX);
    x64_emit_mov_ri(c->b, X64_RDI, WEFT_EFFECT_MAKE(WEFT_EFFECT_SWITCH, 0));
  }
  if (!x64_buf_reserve(c->b, sizeof seq)) return;
  for (size_t i = 0; i < sizeof seq; i++) x64_emit_u8(c->b, seq[i]);
  x64_emit_load(c->b, true, X64_VMCTX, x64_m(X64_RBP, -8));
  /* second half: rsi = the effect that arrived */
  x64_emit_mov_rr(c->b, true, X64_RSI, X64_RDI);
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
}

/* -- cont.new, cont.bind --------------------------------------------------------------------- */

static void do_cont_new(x64_fn *c, uint32_t ct) {
  const weft_type *ft = cont_ft(c, ct);
  uint32_t base;
  if (!ft || !begin(c, 1, 1, &base)) return;
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  x64_emit_load(c->b, true, X64_RSI, x64_slot(c, base));
  x64_emit_mov_ri32(c->b, X64_RDX, ft->u.func.nparams);
  x64_emit_mov_ri32(c->b, X64_RCX, ft->u.func.nresults);
  x64_call_libcall(c, WEFT_LC_CONT_NEW_REF);
  after(c);
  x64_push_reg(c, X64_T_REF, X64_RAX);
}

static void do_cont_bind(x64_fn *c, uint32_t src, uint32_t dst) {
  const weft_type *fs = cont_ft(c, src), *fd = cont_ft(c, dst);
  if (!fs || !fd) return;
  if (fd->u.func.nparams > fs->u.func.nparams) {
    x64_fail(c, WEFT_ERR_INVALID, "function %u: cont.bind to a type with more params", c->fidx);
    return;
  }
  uint32_t n = fs->u.func.nparams - fd->u.func.nparams, base;
  if (!begin(c, n + 1, n + 1, &base)) return;
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  x64_emit_load(c->b, true, X64_RSI, x64_slot(c, base + n));
  x64_emit_lea(c->b, true, X64_RDX, x64_slot(c, base));
  x64_emit_mov_ri32(c->b, X64_RCX, src);
  x64_emit_mov_ri32(c->b, X64_R8, dst);
  x64_call_libcall(c, WEFT_LC_CONT_BIND);
  after(c);
  x64_push_reg(c, X64_T_REF, X64_RAX);
}

/* -- suspend, switch ------------------------------------------------------------------------- */

static void do_suspend(x64_fn *c, uint32_t tag) {
  const weft_type *tt = tag_ft(c, tag);
  if (!tt) return;
  uint32_t np = tt->u.func.nparams, nr = tt->u.func.nresults, base;
  if (has_v128(c, tt->u.func.params, np) || has_v128(c, tt->u.func.results, nr)) return;
  /* io doubles as the suspender's payload buffer: max(1, np, nr) 16-byte slots */
  if (!begin(c, np, 2 * umax(1, umax(np, nr)), &base)) return;
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  x64_emit_mov_ri32(c->b, X64_RSI, tag);
  x64_emit_lea(c->b, true, X64_RDX, x64_slot(c, base));
  x64_emit_mov_rr(c->b, true, X64_RCX, X64_RBP);
  x64_call_libcall(c, WEFT_LC_SUSPEND);
  emit_switch(c, true);
  x64_emit_lea(c->b, true, X64_RDX, x64_slot(c, base));
  x64_emit_mov_ri32(c->b, X64_RCX, tag);
  x64_emit_mov_rr(c->b, true, X64_R8, X64_RBP);
  x64_call_libcall(c, WEFT_LC_SUSPEND_END);
  after(c);
  push_slots(c, tt->u.func.results, nr, false);
}

static void do_switch(x64_fn *c, uint32_t ct, uint32_t tag) {
  const weft_type *ft = cont_ft(c, ct);
  if (!ft || !tag_ft(c, tag)) return;
  uint32_t np1 = ft->u.func.nparams;
  if (np1 == 0 || !WEFT_VT_IS_REF(ft->u.func.params[np1 - 1])) {
    x64_fail(c, WEFT_ERR_INVALID, "function %u: switch type %u takes no continuation", c->fidx, ct);
    return;
  }
  const weft_type *f2 = cont_ft(c, WEFT_VT_HEAP(ft->u.func.params[np1 - 1]));
  if (!f2) return;
  uint32_t n2 = f2->u.func.nparams, base;
  if (has_v128(c, ft->u.func.params, np1) || has_v128(c, f2->u.func.params, n2)) return;
  /* io: the operands / the switcher's payload buffer, then the switchee's old control context */
  uint32_t words = umax(np1, 2 * umax(1, n2));
  if (!begin(c, np1, words + 3, &base)) return;
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  x64_emit_load(c->b, true, X64_RSI, x64_slot(c, base + np1 - 1));
  x64_emit_lea(c->b, true, X64_RDX, x64_slot(c, base));
  x64_emit_mov_ri32(c->b, X64_RCX, ct);
  x64_emit_mov_ri32(c->b, X64_R8, tag);
  x64_emit_mov_rr(c->b, true, X64_R9, X64_RBP);
  x64_call_libcall(c, WEFT_LC_SWITCH);
  emit_switch(c, false);
  x64_emit_lea(c->b, true, X64_RDX, x64_slot(c, base));
  x64_emit_mov_ri32(c->b, X64_RCX, ct);
  x64_emit_mov_rr(c->b, true, X64_R8, X64_RBP);
  x64_call_libcall(c, WEFT_LC_SWITCH_END);
  after(c);
  push_slots(c, f2->u.func.params, n2, false);
}

/* -- resume, resume_throw, resume_throw_ref -------------------------------------------------- */

/* `nops` operands below the reference (resume: the continuation's params; resume_throw: the
 * tag's params; resume_throw_ref: the exnref); tag = UINT32_MAX for resume_throw_ref, and
 * UINT32_MAX - 1 for plain resume. */
static void do_resume(x64_fn *c, const weft_instr *in, uint32_t tag) {
  uint32_t ct = in->imm.x.a, pool = in->imm.x.b, count = in->imm.x.c;
  const weft_type *ft = cont_ft(c, ct);
  if (!ft) return;
  if (pool > c->m->npool || count > (c->m->npool - pool) / 3) {
    x64_fail(c, WEFT_ERR_INVALID, "function %u: resume handlers outside the pool", c->fidx);
    return;
  }
  uint32_t nops;
  if (tag == UINT32_MAX - 1) {
    nops = ft->u.func.nparams;
    if (has_v128(c, ft->u.func.params, nops)) return;
  } else if (tag == UINT32_MAX) {
    nops = 1;
  } else {
    const weft_type *tt = tag_ft(c, tag);
    if (!tt) return;
    nops = tt->u.func.nparams;
    if (has_v128(c, tt->u.func.params, nops)) return;
  }
  uint32_t nr = ft->u.func.nresults;
  if (has_v128(c, ft->u.func.results, nr)) return;
  uint32_t words = umax(1, umax(nops, nr));
  const uint32_t *w = c->m->pool + pool;
  for (uint32_t i = 0; i < count; i++) {
    if (w[3 * i] == WEFT_HANDLER_ON_SWITCH) continue;
    const weft_type *tt = tag_ft(c, w[3 * i + 1]);
    if (!tt) return;
    if (w[3 * i + 2] + 1 > c->ctl.n) {
      x64_fail(c, WEFT_ERR_INVALID, "function %u: resume handler label out of range", c->fidx);
      return;
    }
    if (has_v128(c, tt->u.func.params, tt->u.func.nparams)) return;
    words = umax(words, tt->u.func.nparams + 1);
  }
  uint32_t base;
  /* io: operands / results / handler payloads, then the handler list, the original chain and an
   * ASan slot (core/cont.c) */
  if (!begin(c, nops + 1, words + count + 3, &base)) return;
  uint32_t libcall = tag == UINT32_MAX - 1 ? WEFT_LC_RESUME : WEFT_LC_RESUME_THROW;
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  x64_emit_load(c->b, true, X64_RSI, x64_slot(c, base + nops));
  x64_emit_lea(c->b, true, X64_RDX, x64_slot(c, base));
  x64_emit_mov_ri(c->b, X64_RCX, ((uint64_t)ct << 32) | count);
  x64_emit_mov_ri(c->b, X64_R8, ((uint64_t)pool << 32) | tag);
  x64_emit_mov_rr(c->b, true, X64_R9, X64_RBP);
  x64_call_libcall(c, libcall);
  emit_switch(c, true);
  x64_emit_lea(c->b, true, X64_RDX, x64_slot(c, base));
  x64_emit_mov_ri(c->b, X64_RCX, ((uint64_t)ct << 32) | count);
  x64_emit_mov_ri(c->b, X64_R8, ((uint64_t)pool << 32) | tag);
  x64_emit_mov_rr(c->b, true, X64_R9, X64_RBP);
  x64_call_libcall(c, WEFT_LC_RESUME_END);
  after(c);
  /* rax = 0: returned, results in io; SUSPEND << 32 | clause: the tag's params and the
   * continuation in io, for that clause's label */
  for (uint32_t i = 0; i < count; i++) {
    if (w[3 * i] == WEFT_HANDLER_ON_SWITCH) continue;
    const weft_type *tt = &c->m->types[c->m->tags[w[3 * i + 1]].type];
    push_slots(c, tt->u.func.params, tt->u.func.nparams, true);
    uint32_t depth = w[3 * i + 2];
    x64_br_prepare(c, depth);
    x64_emit_mov_ri(c->b, X64_SCRATCH, WEFT_EFFECT_MAKE(WEFT_EFFECT_SUSPEND, i));
    x64_emit_alu_rr(c->b, X64_CMP, true, X64_RAX, X64_SCRATCH);
    x64_br_if_cc(c, depth, X64_CC_E);
    drop_to(c, base);
  }
  push_slots(c, ft->u.func.results, nr, false);
}

/* -- Tables of continuations ----------------------------------------------------------------- */

/* Elements of a continuation table are 16-byte slots (weft_vm_table.elem_size); generated code
 * keeps the packed reference in the low 8 bytes. */
static bool is_cont_table(x64_fn *c, uint32_t t) {
  if (t >= c->m->ntables) return false;
  uint32_t h = WEFT_VT_HEAP(c->m->tables[t].type.elem);
  if (WEFT_HT_IS_ABSTRACT(h)) {
    uint32_t code = h & 0xFFu;
    return code == WEFT_AHT_CONT || code == WEFT_AHT_NOCONT;
  }
  return h < c->m->ntypes && c->m->types[h].comp == WEFT_COMP_CONT;
}

/* idx (in a register) becomes the byte offset of its element after a bounds check; the scratch
 * register holds the table's base. */
static void cont_elem(x64_fn *c, uint32_t t, x64_val *idx, uint16_t avoid) {
  x64_to_reg(c, idx, avoid);
  if (idx->kind != X64_VK_REG) { /* a pinned local read in place: shifted below, so copy it */
    int r = x64_alloc_gpr(c, (uint16_t)(avoid | (1u << idx->reg)));
    x64_emit_mov_rr(c->b, true, r, idx->reg);
    idx->kind = X64_VK_REG;
    idx->reg = (uint8_t)r;
  }
  if (!c->m->tables[t].type.limits.is64) x64_emit_mov_rr(c->b, false, idx->reg, idx->reg);
  x64_emit_load(c->b, true, X64_SCRATCH, x64_m(X64_VMCTX, (int32_t)(c->mc->lay.tables + 8 * t)));
  x64_emit_alu_rm(c->b, X64_CMP, true, idx->reg, x64_m(X64_SCRATCH, 8));
  x64_trap_if(c, X64_CC_AE, WEFT_TRAP_TABLE_OOB);
  x64_emit_load(c->b, true, X64_SCRATCH, x64_m(X64_SCRATCH, 0));
  x64_emit_shift_ri(c->b, X64_SHL, true, idx->reg, 4);
}

static void cont_table_get(x64_fn *c, uint32_t t) {
  x64_val idx = x64_pop(c);
  cont_elem(c, t, &idx, 0);
  x64_emit_load(c->b, true, idx.reg, x64_mi(X64_SCRATCH, idx.reg, 0, 0));
  x64_push_reg(c, X64_T_REF, idx.reg);
}

static void cont_table_set(x64_fn *c, uint32_t t) {
  x64_val v = x64_pop(c);
  x64_val idx = x64_pop(c);
  x64_to_reg(c, &v, 0);
  cont_elem(c, t, &idx, X64_IN_REG(&v) ? (uint16_t)(1u << v.reg) : 0);
  x64_emit_store(c->b, true, x64_mi(X64_SCRATCH, idx.reg, 0, 0), v.reg);
  x64_free_val(c, &idx);
  x64_free_val(c, &v);
}

/* -- Dispatch -------------------------------------------------------------------------------- */

int x64_isel_cont(x64_fn *c, const weft_instr *in) {
  switch (in->op) {
  case WEFT_OP_CONT_NEW: do_cont_new(c, in->imm.x.a); return 1;
  case WEFT_OP_CONT_BIND: do_cont_bind(c, in->imm.x.a, in->imm.x.b); return 1;
  case WEFT_OP_SUSPEND: do_suspend(c, in->imm.x.a); return 1;
  case WEFT_OP_SWITCH: do_switch(c, in->imm.x.a, in->imm.x.b); return 1;
  case WEFT_OP_RESUME: do_resume(c, in, UINT32_MAX - 1); return 1;
  case WEFT_OP_RESUME_THROW: do_resume(c, in, in->imm.x.d); return 1;
  case WEFT_OP_RESUME_THROW_REF: do_resume(c, in, UINT32_MAX); return 1;
  case WEFT_OP_TABLE_GET:
    if (!is_cont_table(c, in->imm.x.a)) return 0;
    cont_table_get(c, in->imm.x.a);
    return 1;
  case WEFT_OP_TABLE_SET:
    if (!is_cont_table(c, in->imm.x.a)) return 0;
    cont_table_set(c, in->imm.x.a);
    return 1;
  default: return 0;
  }
}
