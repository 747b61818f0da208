/* plugins/x64-codegen/x64_isel_mem.c -- instruction selection for linear memory (loads, stores,
 * size, grow, bulk operations), tables, globals and the reference instructions without control
 * flow. 32-bit memories rely on the 4 GiB + 2 GiB guard reservation (the access is a registered
 * trap site); memory64 and `bounds_checks = explicit` emit compare-and-branch checks.
 * Depends on: x64_int.h, x64_emit.h, vm.h (vmctx layout, weft_vm_memory / weft_vm_table).
 */
#include "x64_int.h"

/* -- Addresses ------------------------------------------------------------------------------- */

static int32_t mems_off(x64_fn *c, uint32_t k) { return (int32_t)(c->mc->lay.mems + 8 * k); }

/* Compute the operand for an access of `size` bytes at idx + offset of memory `k`. idx has been
 * popped and is in a register or a constant. *tmp receives a register to free afterwards (or
 * X64_NOREG). Uses r11. */
static x64_mem mem_operand(x64_fn *c, const weft_instr *in, uint32_t size, x64_val *idx, int *tmp) {
  uint32_t k = in->imm.mem.mem;
  uint64_t off = in->imm.mem.offset;
  const weft_memory *mm = &c->m->mems[k];
  bool is64 = mm->limits.is64;
  *tmp = X64_NOREG;
  bool guard = !is64 && !c->mc->st->explicit_bounds && off <= INT32_MAX;
  if (guard) {
    int base = X64_MEMBASE;
    if (k != 0) {
      x64_emit_load(c->b, true, X64_SCRATCH, x64_m(X64_VMCTX, mems_off(c, k)));
      x64_emit_load(c->b, true, X64_SCRATCH, x64_m(X64_SCRATCH, 0));
      base = X64_SCRATCH;
    }
    if (idx->kind == X64_VK_CONST && (uint64_t)(uint32_t)idx->imm + off <= INT32_MAX)
      return x64_m(base, (int32_t)((uint32_t)idx->imm + off));
    if (idx->kind != X64_VK_PIN) x64_to_reg(c, idx, 0); /* only read */
    return x64_mi(base, idx->reg, 0, (int32_t)off);
  }
  /* explicit: t = idx + off + size, checked against the length, then [base + t - size] */
  int t = x64_alloc_gpr(c, 0);
  *tmp = t;
  if (idx->kind == X64_VK_CONST)
    x64_emit_mov_ri(c->b, t, is64 ? idx->imm : (uint32_t)idx->imm);
  else if (idx->kind == X64_VK_MEM)
    x64_emit_load(c->b, is64, t, x64_slot(c, idx->depth));
  else
    x64_emit_mov_rr(c->b, is64, t, idx->reg);
  if (off) {
    if (off <= INT32_MAX) {
      x64_emit_alu_ri(c->b, X64_ADD, true, t, (int32_t)off);
    } else {
      x64_emit_mov_ri(c->b, X64_SCRATCH, off);
      x64_emit_alu_rr(c->b, X64_ADD, true, t, X64_SCRATCH);
    }
    if (is64) x64_trap_if(c, X64_CC_B, WEFT_TRAP_MEMORY_OOB);
  }
  x64_emit_alu_ri(c->b, X64_ADD, true, t, (int32_t)size);
  if (is64) x64_trap_if(c, X64_CC_B, WEFT_TRAP_MEMORY_OOB);
  x64_emit_load(c->b, true, X64_SCRATCH, x64_m(X64_VMCTX, mems_off(c, k)));
  x64_emit_alu_rm(c->b, X64_CMP, true, t, x64_m(X64_SCRATCH, 8));
  x64_trap_if(c, X64_CC_A, WEFT_TRAP_MEMORY_OOB);
  x64_emit_load(c->b, true, X64_SCRATCH, x64_m(X64_SCRATCH, 0));
  return x64_mi(X64_SCRATCH, t, 0, -(int32_t)size);
}

/* -- Loads and stores ------------------------------------------------------------------------ */

static void do_load(x64_fn *c, const weft_instr *in) {
  int type, size;
  switch (in->op) {
  case WEFT_OP_I32_LOAD: type = X64_T_I32, size = 4; break;
  case WEFT_OP_I64_LOAD: type = X64_T_I64, size = 8; break;
  case WEFT_OP_F32_LOAD: type = X64_T_F32, size = 4; break;
  case WEFT_OP_F64_LOAD: type = X64_T_F64, size = 8; break;
  case WEFT_OP_I32_LOAD8_S: case WEFT_OP_I32_LOAD8_U: type = X64_T_I32, size = 1; break;
  case WEFT_OP_I32_LOAD16_S: case WEFT_OP_I32_LOAD16_U: type = X64_T_I32, size = 2; break;
  case WEFT_OP_I64_LOAD8_S: case WEFT_OP_I64_LOAD8_U: type = X64_T_I64, size = 1; break;
  case WEFT_OP_I64_LOAD16_S: case WEFT_OP_I64_LOAD16_U: type = X64_T_I64, size = 2; break;
  default: type = X64_T_I64, size = 4; break; /* i64.load32_s/u */
  }
  x64_val idx = x64_pop(c);
  if (idx.kind == X64_VK_MEM) x64_to_reg(c, &idx, 0);
  int r = X64_IS_FLOAT(type) ? x64_alloc_xmm(c) : x64_alloc_gpr(c, 0);
  int tmp;
  x64_mem m = mem_operand(c, in, (uint32_t)size, &idx, &tmp);
  x64_trap_site_here(c, WEFT_TRAP_MEMORY_OOB);
  switch (in->op) {
  case WEFT_OP_I32_LOAD: case WEFT_OP_I64_LOAD32_U: x64_emit_load(c->b, false, r, m); break;
  case WEFT_OP_I64_LOAD: x64_emit_load(c->b, true, r, m); break;
  case WEFT_OP_F32_LOAD: x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVLD, r, m); break;
  case WEFT_OP_F64_LOAD: x64_emit_sse_rm(c->b, X64_PF2, X64_SSE_MOVLD, r, m); break;
  case WEFT_OP_I32_LOAD8_S: x64_emit_loadx(c->b, 0xBE, false, r, m); break;
  case WEFT_OP_I32_LOAD8_U: case WEFT_OP_I64_LOAD8_U: x64_emit_loadx(c->b, 0xB6, false, r, m); break;
  case WEFT_OP_I32_LOAD16_S: x64_emit_loadx(c->b, 0xBF, false, r, m); break;
  case WEFT_OP_I32_LOAD16_U: case WEFT_OP_I64_LOAD16_U: x64_emit_loadx(c->b, 0xB7, false, r, m); break;
  case WEFT_OP_I64_LOAD8_S: x64_emit_loadx(c->b, 0xBE, true, r, m); break;
  case WEFT_OP_I64_LOAD16_S: x64_emit_loadx(c->b, 0xBF, true, r, m); break;
  default: x64_emit_movsxd_load(c->b, r, m); break; /* i64.load32_s */
  }
  if (tmp != X64_NOREG) c->gpr_used &= (uint16_t)~(1u << tmp);
  x64_free_val(c, &idx);
  x64_push_reg(c, type, r);
}

static void do_store(x64_fn *c, const weft_instr *in) {
  x64_val v = x64_pop(c);
  x64_val idx = x64_pop(c);
  if (v.kind != X64_VK_PIN) x64_to_reg(c, &v, 0); /* only read */
  if (idx.kind == X64_VK_MEM) x64_to_reg(c, &idx, 0);
  uint32_t size;
  switch (in->op) {
  case WEFT_OP_I32_STORE8: case WEFT_OP_I64_STORE8: size = 1; break;
  case WEFT_OP_I32_STORE16: case WEFT_OP_I64_STORE16: size = 2; break;
  case WEFT_OP_I64_STORE: case WEFT_OP_F64_STORE: size = 8; break;
  default: size = 4; break;
  }
  int tmp;
  x64_mem m = mem_operand(c, in, size, &idx, &tmp);
  x64_trap_site_here(c, WEFT_TRAP_MEMORY_OOB);
  switch (in->op) {
  case WEFT_OP_I32_STORE: case WEFT_OP_I64_STORE32: x64_emit_store(c->b, false, m, v.reg); break;
  case WEFT_OP_I64_STORE: x64_emit_store(c->b, true, m, v.reg); break;
  case WEFT_OP_F32_STORE: x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVST, v.reg, m); break;
  case WEFT_OP_F64_STORE: x64_emit_sse_rm(c->b, X64_PF2, X64_SSE_MOVST, v.reg, m); break;
  case WEFT_OP_I32_STORE8: case WEFT_OP_I64_STORE8: x64_emit_store8(c->b, m, v.reg); break;
  default: x64_emit_store16(c->b, m, v.reg); break;
  }
  if (tmp != X64_NOREG) c->gpr_used &= (uint16_t)~(1u << tmp);
  x64_free_val(c, &idx);
  x64_free_val(c, &v);
}

/* -- Libcall helpers ------------------------------------------------------------------------- */

/* Everything is spilled; load the top n values into the System V argument registers `regs`
 * (deepest first) and pop them. */
static void pop_args(x64_fn *c, uint32_t n, const int *regs) {
  uint32_t base = c->stk.n - n;
  for (uint32_t i = 0; i < n; i++) x64_emit_load(c->b, true, regs[i], x64_slot(c, base + i));
  for (uint32_t i = 0; i < n; i++) (void)x64_pop(c);
}

static void lc_prologue(x64_fn *c) {
  x64_save_pinned(c);
  x64_spill_all(c);
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
}

static void push_rax(x64_fn *c, int type) {
  c->gpr_used |= 1u << X64_RAX;
  x64_push_reg(c, type, X64_RAX);
}

/* -- Tables ---------------------------------------------------------------------------------- */

static int32_t tables_off(x64_fn *c, uint32_t t) { return (int32_t)(c->mc->lay.tables + 8 * t); }

/* r = element address register: base + idx * 8, after a bounds check. idx in a register. */
static void table_elem(x64_fn *c, uint32_t t, x64_val *idx) {
  x64_to_reg(c, idx, 0);
  if (!c->m->tables[t].type.limits.is64) x64_emit_mov_rr(c->b, false, idx->reg, idx->reg);
  x64_emit_load(c->b, true, X64_SCRATCH, x64_m(X64_VMCTX, tables_off(c, t)));
  x64_emit_alu_rm(c->b, X64_CMP, true, idx->reg, x64_m(X64_SCRATCH, 8));
  x64_trap_if(c, X64_CC_AE, WEFT_TRAP_TABLE_OOB);
  x64_emit_load(c->b, true, X64_SCRATCH, x64_m(X64_SCRATCH, 0));
}

/* -- Dispatch -------------------------------------------------------------------------------- */

int x64_isel_mem(x64_fn *c, const weft_instr *in) {
  static const int A[] = {X64_RSI, X64_RDX, X64_RCX, X64_R8, X64_R9};
  switch (in->op) {
  case WEFT_OP_I32_LOAD: case WEFT_OP_I64_LOAD: case WEFT_OP_F32_LOAD: case WEFT_OP_F64_LOAD:
  case WEFT_OP_I32_LOAD8_S: case WEFT_OP_I32_LOAD8_U: case WEFT_OP_I32_LOAD16_S:
  case WEFT_OP_I32_LOAD16_U: case WEFT_OP_I64_LOAD8_S: case WEFT_OP_I64_LOAD8_U:
  case WEFT_OP_I64_LOAD16_S: case WEFT_OP_I64_LOAD16_U: case WEFT_OP_I64_LOAD32_S:
  case WEFT_OP_I64_LOAD32_U:
    do_load(c, in);
    return 1;
  case WEFT_OP_I32_STORE: case WEFT_OP_I64_STORE: case WEFT_OP_F32_STORE: case WEFT_OP_F64_STORE:
  case WEFT_OP_I32_STORE8: case WEFT_OP_I32_STORE16: case WEFT_OP_I64_STORE8:
  case WEFT_OP_I64_STORE16: case WEFT_OP_I64_STORE32:
    do_store(c, in);
    return 1;
  case WEFT_OP_MEMORY_SIZE: {
    uint32_t k = in->imm.x.a;
    int r = x64_alloc_gpr(c, 0);
    x64_emit_load(c->b, true, r, x64_m(X64_VMCTX, mems_off(c, k)));
    x64_emit_load(c->b, true, r, x64_m(r, 8));
    x64_emit_shift_ri(c->b, X64_SHR, true, r, 16);
    x64_push_reg(c, c->m->mems[k].limits.is64 ? X64_T_I64 : X64_T_I32, r);
    return 1;
  }
  case WEFT_OP_MEMORY_GROW: {
    uint32_t k = in->imm.x.a;
    lc_prologue(c);
    pop_args(c, 1, A + 1); /* delta -> rdx */
    bool is64 = c->m->mems[k].limits.is64;
    if (!is64) x64_emit_mov_rr(c->b, false, X64_RDX, X64_RDX);
    x64_emit_mov_ri(c->b, X64_RSI, k);
    x64_call_libcall(c, WEFT_LC_MEMORY_GROW);
    x64_after_libcall(c);
    if (!is64) x64_emit_mov_rr(c->b, false, X64_RAX, X64_RAX);
    x64_reload_membase(c);
    push_rax(c, is64 ? X64_T_I64 : X64_T_I32);
    return 1;
  }
  case WEFT_OP_MEMORY_FILL: {
    static const int R[] = {X64_RDX, X64_RCX, X64_R8};
    lc_prologue(c);
    pop_args(c, 3, R);
    x64_emit_mov_ri(c->b, X64_RSI, in->imm.x.a);
    x64_call_libcall(c, WEFT_LC_MEMORY_FILL);
    x64_after_libcall(c);
    return 1;
  }
  case WEFT_OP_MEMORY_COPY: {
    static const int R[] = {X64_RCX, X64_R8, X64_R9};
    lc_prologue(c);
    pop_args(c, 3, R);
    x64_emit_mov_ri(c->b, X64_RSI, in->imm.x.a);
    x64_emit_mov_ri(c->b, X64_RDX, in->imm.x.b);
    x64_call_libcall(c, WEFT_LC_MEMORY_COPY);
    x64_after_libcall(c);
    return 1;
  }
  case WEFT_OP_MEMORY_INIT: {
    static const int R[] = {X64_RCX, X64_R8, X64_R9};
    lc_prologue(c);
    pop_args(c, 3, R);
    x64_emit_mov_ri(c->b, X64_RSI, in->imm.x.b);
    x64_emit_mov_ri(c->b, X64_RDX, in->imm.x.a);
    x64_call_libcall(c, WEFT_LC_MEMORY_INIT);
    x64_after_libcall(c);
    return 1;
  }
  case WEFT_OP_DATA_DROP:
    lc_prologue(c);
    x64_emit_mov_ri(c->b, X64_RSI, in->imm.x.a);
    x64_call_libcall(c, WEFT_LC_DATA_DROP);
    x64_after_libcall(c);
    return 1;
  case WEFT_OP_ELEM_DROP:
    lc_prologue(c);
    x64_emit_mov_ri(c->b, X64_RSI, in->imm.x.a);
    x64_call_libcall(c, WEFT_LC_ELEM_DROP);
    x64_after_libcall(c);
    return 1;
  case WEFT_OP_TABLE_GROW: {
    uint32_t t = in->imm.x.a;
    lc_prologue(c);
    uint32_t d = c->stk.n - 2; /* init value's slot */
    (void)x64_slot(c, d + 2);
    x64_emit_lea(c->b, true, X64_RDX, x64_slot(c, d));
    x64_emit_load(c->b, true, X64_RCX, x64_slot(c, d + 1));
    (void)x64_pop(c), (void)x64_pop(c);
    x64_emit_mov_ri(c->b, X64_RSI, t);
    x64_call_libcall(c, WEFT_LC_TABLE_GROW);
    x64_after_libcall(c);
    bool is64 = c->m->tables[t].type.limits.is64;
    if (!is64) x64_emit_mov_rr(c->b, false, X64_RAX, X64_RAX);
    push_rax(c, is64 ? X64_T_I64 : X64_T_I32);
    return 1;
  }
  case WEFT_OP_TABLE_FILL: {
    lc_prologue(c);
    uint32_t d = c->stk.n - 3;
    (void)x64_slot(c, d + 3);
    x64_emit_load(c->b, true, X64_RDX, x64_slot(c, d));
    x64_emit_lea(c->b, true, X64_RCX, x64_slot(c, d + 1));
    x64_emit_load(c->b, true, X64_R8, x64_slot(c, d + 2));
    (void)x64_pop(c), (void)x64_pop(c), (void)x64_pop(c);
    x64_emit_mov_ri(c->b, X64_RSI, in->imm.x.a);
    x64_call_libcall(c, WEFT_LC_TABLE_FILL);
    x64_after_libcall(c);
    return 1;
  }
  case WEFT_OP_TABLE_COPY: {
    static const int R[] = {X64_RCX, X64_R8, X64_R9};
    lc_prologue(c);
    pop_args(c, 3, R);
    x64_emit_mov_ri(c->b, X64_RSI, in->imm.x.a);
    x64_emit_mov_ri(c->b, X64_RDX, in->imm.x.b);
    x64_call_libcall(c, WEFT_LC_TABLE_COPY);
    x64_after_libcall(c);
    return 1;
  }
  case WEFT_OP_TABLE_INIT: {
    static const int R[] = {X64_RCX, X64_R8, X64_R9};
    lc_prologue(c);
    pop_args(c, 3, R);
    x64_emit_mov_ri(c->b, X64_RSI, in->imm.x.b);
    x64_emit_mov_ri(c->b, X64_RDX, in->imm.x.a);
    x64_call_libcall(c, WEFT_LC_TABLE_INIT);
    x64_after_libcall(c);
    return 1;
  }
  case WEFT_OP_TABLE_SIZE: {
    uint32_t t = in->imm.x.a;
    int r = x64_alloc_gpr(c, 0);
    x64_emit_load(c->b, true, r, x64_m(X64_VMCTX, tables_off(c, t)));
    x64_emit_load(c->b, true, r, x64_m(r, 8));
    x64_push_reg(c, c->m->tables[t].type.limits.is64 ? X64_T_I64 : X64_T_I32, r);
    return 1;
  }
  case WEFT_OP_TABLE_GET: {
    x64_val idx = x64_pop(c);
    table_elem(c, in->imm.x.a, &idx);
    x64_emit_load(c->b, true, idx.reg, x64_mi(X64_SCRATCH, idx.reg, 3, 0));
    x64_push_reg(c, X64_T_REF, idx.reg);
    return 1;
  }
  case WEFT_OP_TABLE_SET: {
    x64_val v = x64_pop(c);
    x64_val idx = x64_pop(c);
    x64_to_reg(c, &v, 0);
    table_elem(c, in->imm.x.a, &idx);
    x64_emit_store(c->b, true, x64_mi(X64_SCRATCH, idx.reg, 3, 0), v.reg);
    x64_free_val(c, &idx);
    x64_free_val(c, &v);
    return 1;
  }
  case WEFT_OP_GLOBAL_GET: {
    uint32_t g = in->imm.x.a;
    int t = x64_type_of(c->m->globals[g].type.type);
    if (X64_IS_FLOAT(t)) {
      int x = x64_alloc_xmm(c);
      x64_emit_load(c->b, true, X64_SCRATCH, x64_m(X64_VMCTX, (int32_t)(c->mc->lay.globals + 8 * g)));
      x64_emit_sse_rm(c->b, t == X64_T_F64 ? X64_PF2 : X64_PF3, X64_SSE_MOVLD, x, x64_m(X64_SCRATCH, 0));
      x64_push_reg(c, t, x);
    } else {
      /* allocate first: a spill may use r11 */
      int r = x64_alloc_gpr(c, 0);
      x64_emit_load(c->b, true, X64_SCRATCH, x64_m(X64_VMCTX, (int32_t)(c->mc->lay.globals + 8 * g)));
      x64_emit_load(c->b, t != X64_T_I32, r, x64_m(X64_SCRATCH, 0));
      x64_push_reg(c, t, r);
    }
    return 1;
  }
  case WEFT_OP_GLOBAL_SET: {
    uint32_t g = in->imm.x.a;
    x64_val v = x64_pop(c);
    x64_to_reg(c, &v, 0);
    x64_emit_load(c->b, true, X64_SCRATCH, x64_m(X64_VMCTX, (int32_t)(c->mc->lay.globals + 8 * g)));
    if (X64_IS_FLOAT(v.type))
      x64_emit_sse_rm(c->b, X64_PF2, X64_SSE_MOVST, v.reg, x64_m(X64_SCRATCH, 0));
    else
      x64_emit_store(c->b, true, x64_m(X64_SCRATCH, 0), v.reg);
    x64_free_val(c, &v);
    return 1;
  }
  case WEFT_OP_REF_NULL: x64_push_const(c, X64_T_REF, 0); return 1;
  case WEFT_OP_REF_IS_NULL: {
    x64_val a = x64_pop(c);
    x64_to_reg(c, &a, 0);
    x64_emit_test_rr(c->b, true, a.reg, a.reg);
    x64_emit_setcc(c->b, X64_CC_E, a.reg);
    x64_emit_movzx8_rr(c->b, a.reg, a.reg);
    x64_push_reg(c, X64_T_I32, a.reg);
    return 1;
  }
  case WEFT_OP_REF_EQ: {
    x64_val b = x64_pop(c), a = x64_pop(c);
    x64_to_reg(c, &a, 0);
    x64_to_reg(c, &b, 0);
    x64_emit_alu_rr(c->b, X64_CMP, true, a.reg, b.reg);
    x64_emit_setcc(c->b, X64_CC_E, a.reg);
    x64_emit_movzx8_rr(c->b, a.reg, a.reg);
    x64_free_val(c, &b);
    x64_push_reg(c, X64_T_I32, a.reg);
    return 1;
  }
  case WEFT_OP_REF_FUNC: {
    int r = x64_alloc_gpr(c, 0);
    x64_emit_load(c->b, true, r, x64_m(X64_VMCTX, (int32_t)(c->mc->lay.funcs + 8 * in->imm.x.a)));
    x64_push_reg(c, X64_T_REF, r);
    return 1;
  }
  case WEFT_OP_REF_AS_NON_NULL: {
    x64_val a = x64_pop(c);
    x64_to_reg(c, &a, 0);
    x64_emit_test_rr(c->b, true, a.reg, a.reg);
    x64_trap_if(c, X64_CC_E, WEFT_TRAP_NULL_REF);
    x64_push_reg(c, a.type, a.reg);
    return 1;
  }
  default: (void)A; return 0;
  }
}

/* -- For x64_isel_simd.c --------------------------------------------------------------------- */

x64_mem x64_mem_operand(x64_fn *c, const weft_instr *in, uint32_t size, x64_val *idx, int *tmp) {
  return mem_operand(c, in, size, idx, tmp);
}
