/* plugins/x64-codegen/x64_isel_cont.c -- stack switching in the single-pass compiler: cont.new,
 * cont.bind, suspend, resume, resume_throw[_ref], switch, continuation tables and the null tests of
 * continuation references, which are 16 bytes {contref, revision} (X64_T_V128 on the value stack).
 * Each switching instruction: spill, a first-half libcall over its operands as 16-byte values,
 * the switch sequence inline, a second-half libcall. Depends on: x64_int.h, vm.h, core/cont.h.
 */
#include <stddef.h>
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

static uint32_t umax(uint32_t a, uint32_t b) { return a > b ? a : b; }

/* 16-byte moves through xmm15 (SSE2 movdqu). */
static void copy16(x64_fn *c, x64_mem dst, x64_mem src) {
  x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_LD, X64_XSCRATCH, src);
  x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_ST, X64_XSCRATCH, dst);
}

/* The io area: value i is 16 bytes at operand slot base + 2 i (weft_val_raw, core/cont.h). */
static x64_mem io_at(x64_fn *c, uint32_t base, uint32_t i) { return x64_slot(c, base + 2 * i); }

/* Spills everything, checks `nops` operands exist, reserves `words` 8-byte operand slots from the
 * first operand's slot (the libcall's io area), moves operand i to io value i (last first: value i
 * only lands on slots of operands above i) and pops the operands. Returns the first slot's depth. */
static bool begin(x64_fn *c, uint32_t nops, uint32_t words, uint32_t *base) {
  if (nops > c->stk.n) {
    x64_fail(c, WEFT_ERR_INVALID, "function %u: continuation instruction without its %u operands",
             c->fidx, nops);
    return false;
  }
  x64_save_pinned(c);
  x64_spill_all(c);
  *base = c->stk.n - nops;
  (void)x64_slot(c, *base + (words > 2 * nops ? words : 2 * nops)); /* reserves the io area */
  for (uint32_t i = nops; i-- > 0;) {
    const x64_val *v = &c->stk.v[*base + i];
    if (v->type == X64_T_V128) {
      copy16(c, io_at(c, *base, i), x64_vslot(c, *base + i));
    } else if (i > 0) {
      x64_emit_load(c->b, true, X64_SCRATCH, x64_slot(c, *base + i));
      x64_emit_store(c->b, true, io_at(c, *base, i), X64_SCRATCH);
    }
  }
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

static void push_mem(x64_fn *c, int type) {
  x64_val v;
  memset(&v, 0, sizeof v);
  v.kind = X64_VK_MEM;
  v.type = (uint8_t)type;
  v.depth = c->stk.n;
  X64_PUSH(c, c->stk, v);
}

/* Pushes io values 0..n (and a continuation reference after them when with_ref), each moved from
 * the io area at `base` to its own operand slot (first first: slot base + i <= io slot base + 2 i). */
static void push_slots(x64_fn *c, uint32_t base, const weft_valtype *t, uint32_t n, bool with_ref) {
  for (uint32_t i = 0; i < n + (with_ref ? 1u : 0u); i++) {
    int type = i < n ? x64_type_of(t[i]) : X64_T_V128;
    if (type == X64_T_V128) {
      copy16(c, x64_vslot(c, base + i), io_at(c, base, i));
    } else if (i > 0) {
      x64_emit_load(c->b, true, X64_SCRATCH, io_at(c, base, i));
      x64_emit_store(c->b, true, x64_slot(c, base + i), X64_SCRATCH);
    }
    push_mem(c, type);
  }
}

/* rax:rdx = {contref, revision} from a libcall: to the 16-byte slot of a new top value. */
static void push_rax_rdx(x64_fn *c) {
  uint32_t d = c->stk.n;
  x64_emit_store(c->b, true, x64_vslot(c, d), X64_RAX);
  x64_mem hi = x64_vslot(c, d);
  hi.disp += 8;
  x64_emit_store(c->b, true, hi, X64_RDX);
  push_mem(c, X64_T_V128);
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
  if (!ft || !begin(c, 1, 2, &base)) return;
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  x64_emit_load(c->b, true, X64_RSI, x64_slot(c, base));
  x64_emit_mov_ri32(c->b, X64_RDX, ft->u.func.nparams);
  x64_emit_mov_ri32(c->b, X64_RCX, ft->u.func.nresults);
  x64_call_libcall(c, WEFT_LC_CONT_NEW_REF);
  after(c);
  push_rax_rdx(c);
}

static void do_cont_bind(x64_fn *c, uint32_t src, uint32_t dst) {
  const weft_type *fs = cont_ft(c, src), *fd = cont_ft(c, dst);
  if (!fs || !fd) return;
  if (fd->u.func.nparams > fs->u.func.nparams) {
    x64_fail(c, WEFT_ERR_INVALID, "function %u: cont.bind to a type with more params", c->fidx);
    return;
  }
  uint32_t n = fs->u.func.nparams - fd->u.func.nparams, base;
  if (!begin(c, n + 1, 2 * (n + 1), &base)) return;
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  x64_emit_lea(c->b, true, X64_RSI, io_at(c, base, 0));
  x64_emit_mov_ri32(c->b, X64_RDX, src);
  x64_emit_mov_ri32(c->b, X64_RCX, dst);
  x64_call_libcall(c, WEFT_LC_CONT_BIND);
  after(c);
  push_rax_rdx(c);
}

/* -- suspend, switch ------------------------------------------------------------------------- */

static void do_suspend(x64_fn *c, uint32_t tag) {
  const weft_type *tt = tag_ft(c, tag);
  if (!tt) return;
  uint32_t np = tt->u.func.nparams, nr = tt->u.func.nresults, base;
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
  push_slots(c, base, tt->u.func.results, nr, false);
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
  /* io: the operands / the switcher's payload buffer, then the switchee's old control context */
  uint32_t words = umax(np1, umax(1, n2));
  if (!begin(c, np1, 2 * words + 3, &base)) return;
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  x64_emit_lea(c->b, true, X64_RSI, io_at(c, base, np1 - 1));
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
  push_slots(c, base, f2->u.func.params, n2, false);
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
  } else if (tag == UINT32_MAX) {
    nops = 1;
  } else {
    const weft_type *tt = tag_ft(c, tag);
    if (!tt) return;
    nops = tt->u.func.nparams;
  }
  uint32_t nr = ft->u.func.nresults;
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
    words = umax(words, tt->u.func.nparams + 1);
  }
  uint32_t base;
  /* io: operands / results / handler payloads, then the handler list, the original chain and an
   * ASan slot (core/cont.c) */
  if (!begin(c, nops + 1, 2 * words + count + 3, &base)) return;
  uint32_t libcall = tag == UINT32_MAX - 1 ? WEFT_LC_RESUME : WEFT_LC_RESUME_THROW;
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  x64_emit_lea(c->b, true, X64_RSI, io_at(c, base, nops));
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
    /* not this clause: skip the moves out of io, which the next clause reads again */
    x64_emit_mov_ri(c->b, X64_SCRATCH, WEFT_EFFECT_MAKE(WEFT_EFFECT_SUSPEND, i));
    x64_emit_alu_rr(c->b, X64_CMP, true, X64_RAX, X64_SCRATCH);
    size_t skip = x64_emit_jcc(c->b, X64_CC_NE);
    push_slots(c, base, tt->u.func.params, tt->u.func.nparams, true);
    uint32_t depth = w[3 * i + 2];
    x64_br_prepare(c, depth);
    x64_emit_mov_ri(c->b, X64_SCRATCH, WEFT_EFFECT_MAKE(WEFT_EFFECT_SUSPEND, i));
    x64_emit_alu_rr(c->b, X64_CMP, true, X64_RAX, X64_SCRATCH);
    x64_br_if_cc(c, depth, X64_CC_E);
    drop_to(c, base);
    x64_patch_rel32(c->b, skip, c->b->len);
  }
  push_slots(c, base, ft->u.func.results, nr, false);
}

/* -- Tables of continuations ----------------------------------------------------------------- */

/* Elements of a continuation table are 16-byte slots (weft_vm_table.elem_size), the whole
 * {contref, revision}. */
static bool is_cont_table(x64_fn *c, uint32_t t) {
  return t < c->m->ntables && x64_is_cont_heap(c->m, WEFT_VT_HEAP(c->m->tables[t].type.elem));
}

/* idx (in a register) becomes the byte offset of its element after a bounds check; the scratch
 * register holds the table's base. */
static void cont_elem(x64_fn *c, uint32_t t, x64_val *idx) {
  x64_to_reg(c, idx, 0);
  if (idx->kind != X64_VK_REG) { /* a pinned local read in place: shifted below, so copy it */
    int r = x64_alloc_gpr(c, (uint16_t)(1u << idx->reg));
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
  int x = x64_alloc_xmm(c); /* first: a spill may use r11 */
  x64_val idx = x64_pop(c);
  cont_elem(c, t, &idx);
  x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_LD, x, x64_mi(X64_SCRATCH, idx.reg, 0, 0));
  x64_free_val(c, &idx);
  x64_push_reg(c, X64_T_V128, x);
}

static void cont_table_set(x64_fn *c, uint32_t t) {
  x64_val v = x64_pop(c);
  x64_val idx = x64_pop(c);
  x64_to_reg(c, &v, 0);
  cont_elem(c, t, &idx);
  x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_ST, v.reg, x64_mi(X64_SCRATCH, idx.reg, 0, 0));
  x64_free_val(c, &idx);
  x64_free_val(c, &v);
}

/* table.grow (init, delta) and table.fill (i, value, n): the libcalls take a pointer to the
 * 16-byte value, here its spill slot. */
static void cont_table_grow(x64_fn *c, uint32_t t) {
  x64_save_pinned(c);
  x64_spill_all(c);
  uint32_t d = c->stk.n - 2;
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  x64_emit_lea(c->b, true, X64_RDX, x64_vslot(c, d));
  x64_emit_load(c->b, true, X64_RCX, x64_slot(c, d + 1));
  drop_to(c, d);
  x64_emit_mov_ri(c->b, X64_RSI, t);
  x64_call_libcall(c, WEFT_LC_TABLE_GROW);
  x64_after_libcall(c);
  bool is64 = c->m->tables[t].type.limits.is64;
  if (!is64) x64_emit_mov_rr(c->b, false, X64_RAX, X64_RAX);
  c->gpr_used |= 1u << X64_RAX;
  x64_push_reg(c, is64 ? X64_T_I64 : X64_T_I32, X64_RAX);
}

static void cont_table_fill(x64_fn *c, uint32_t t) {
  x64_save_pinned(c);
  x64_spill_all(c);
  uint32_t d = c->stk.n - 3;
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  x64_emit_load(c->b, true, X64_RDX, x64_slot(c, d));
  x64_emit_lea(c->b, true, X64_RCX, x64_vslot(c, d + 1));
  x64_emit_load(c->b, true, X64_R8, x64_slot(c, d + 2));
  drop_to(c, d);
  x64_emit_mov_ri(c->b, X64_RSI, t);
  x64_call_libcall(c, WEFT_LC_TABLE_FILL);
  x64_after_libcall(c);
}

/* -- Null tests of continuation references ---------------------------------------------------- */

/* The contref half of a 16-byte value into GPR r (null iff 0). */
static void low_word(x64_fn *c, const x64_val *v, int r) {
  if (v->kind == X64_VK_MEM)
    x64_emit_load(c->b, true, r, x64_vslot(c, v->depth));
  else
    x64_emit_movd_rx(c->b, true, r, v->reg);
}

static bool top_is_cont(x64_fn *c) { return c->stk.n > 0 && c->stk.v[c->stk.n - 1].type == X64_T_V128; }

static void cont_ref_null(x64_fn *c) {
  int x = x64_alloc_xmm(c);
  x64_emit_sse_rr(c->b, 0, X64_SSE_XOR, x, x);
  x64_push_reg(c, X64_T_V128, x);
}

static void cont_is_null(x64_fn *c) {
  int r = x64_alloc_gpr(c, 0);
  x64_val a = x64_pop(c);
  low_word(c, &a, r);
  x64_free_val(c, &a);
  x64_emit_test_rr(c->b, true, r, r);
  x64_emit_setcc(c->b, X64_CC_E, r);
  x64_emit_movzx8_rr(c->b, r, r);
  x64_push_reg(c, X64_T_I32, r);
}

static void cont_as_non_null(x64_fn *c) {
  low_word(c, &c->stk.v[c->stk.n - 1], X64_SCRATCH);
  x64_emit_test_rr(c->b, true, X64_SCRATCH, X64_SCRATCH);
  x64_trap_if(c, X64_CC_E, WEFT_TRAP_NULL_REF);
}

void x64_cont_br_on_null(x64_fn *c, const weft_instr *in, bool on_non_null) {
  if (!on_non_null) {
    int r = x64_alloc_gpr(c, 0); /* holds the test word across the label's moves */
    low_word(c, &c->stk.v[c->stk.n - 1], r);
    x64_val v = x64_pop(c);
    x64_br_prepare(c, in->imm.x.a);
    x64_emit_test_rr(c->b, true, r, r);
    x64_br_if_cc(c, in->imm.x.a, X64_CC_E);
    c->gpr_used &= (uint16_t)~(1u << r);
    X64_PUSH(c, c->stk, v);
  } else {
    x64_br_prepare(c, in->imm.x.a);
    low_word(c, &c->stk.v[c->stk.n - 1], X64_SCRATCH);
    x64_emit_test_rr(c->b, true, X64_SCRATCH, X64_SCRATCH);
    x64_br_if_cc(c, in->imm.x.a, X64_CC_NE);
    x64_val v = x64_pop(c);
    x64_free_val(c, &v);
  }
}

/* -- Continuation references in GC fields ------------------------------------------------ */

/* A struct or array field of continuation type: 16 bytes {contref, revision} in the gc layout
 * (plugin/gc.h), moved whole by x64_isel_gc.c with the full revision. */
bool x64_cont_field(x64_fn *c, weft_valtype st) {
  return WEFT_VT_IS_REF(st) && x64_is_cont_heap(c->m, WEFT_VT_HEAP(st));
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
  case WEFT_OP_TABLE_GROW:
    if (!is_cont_table(c, in->imm.x.a) || c->stk.n < 2) return 0;
    cont_table_grow(c, in->imm.x.a);
    return 1;
  case WEFT_OP_TABLE_FILL:
    if (!is_cont_table(c, in->imm.x.a) || c->stk.n < 3) return 0;
    cont_table_fill(c, in->imm.x.a);
    return 1;
  case WEFT_OP_REF_NULL:
    if (!x64_is_cont_heap(c->m, WEFT_VT_HEAP(in->imm.x.a))) return 0;
    cont_ref_null(c);
    return 1;
  case WEFT_OP_REF_IS_NULL:
    if (!top_is_cont(c)) return 0;
    cont_is_null(c);
    return 1;
  case WEFT_OP_REF_AS_NON_NULL:
    if (!top_is_cont(c)) return 0;
    cont_as_non_null(c);
    return 1;
  case WEFT_OP_REF_TEST: case WEFT_OP_REF_TEST_NULL: case WEFT_OP_REF_CAST: case WEFT_OP_REF_CAST_NULL:
  case WEFT_OP_BR_ON_CAST: case WEFT_OP_BR_ON_CAST_FAIL:
    if (!top_is_cont(c)) return 0; /* x64_isel_gc.c casts 8-byte references only */
    x64_fail(c, WEFT_ERR_UNSUPPORTED,
             "function %u: casts of continuation references are not supported by x64-codegen",
             c->fidx);
    return 1;
  default: return 0;
  }
}
