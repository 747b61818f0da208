/* plugins/x64-codegen/x64_isel.c -- the single-pass function compiler: value stack with a register
 * cache, control flow, calls, returns, tail calls, traps and the frame.
 *
 *   weft_instr[] --(one pass)--> value stack {CONST | REG | MEM slot} --> x64_emit_* --> bytes
 *                                control stack {block, loop, if}      --> fixups, trap stubs
 *
 * Frame (rbp-based, every function):  [rbp+16+16i] param i (the caller's area, popped by ret)
 *   [rbp+8] return address  [rbp] saved rbp  [rbp-8] vmctx  [rbp-16] results pointer
 *   [rbp-32-16j] declared local j (16 bytes)   [x64_vslot] v128 operand slots
 *   ...   [rsp+8d] operand slot d   (below: outgoing areas)
 * At a merge point (block entry, branch, end) every live value is in its operand slot, so each
 * label has one canonical state. Numeric and memory instructions live in x64_isel_num.c and
 * x64_isel_mem.c. Depends on: x64_int.h, x64_emit.h, module.h, vm.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "x64_int.h"

/* -- Helpers --------------------------------------------------------------------------------- */

bool x64_vec_grow(const weft_host_api *h, void **v, uint32_t *cap, uint32_t need, size_t elem) {
  if (need <= *cap) return true;
  uint32_t ncap = *cap ? *cap : 16;
  while (ncap < need) {
    if (ncap > UINT32_MAX / 2) return false;
    ncap *= 2;
  }
  void *p = h->realloc(h->host, *v, (size_t)ncap * elem);
  if (!p) return false;
  *v = p;
  *cap = ncap;
  return true;
}

int x64_fail(x64_fn *c, int code, const char *fmt, ...) {
  x64_module_cc *mc = c->mc;
  if (mc->err) return mc->err;
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  mc->err = weft_host_diag(mc->host, mc->d, code, c->cur_off, "x64-codegen", "%s", msg);
  if (!mc->err) mc->err = code;
  return mc->err;
}

/* The module whose types x64_type_of resolves (continuation references are 16 bytes: they take
 * the v128 path), set by x64_module.c before it compiles anything of `m`. */
static _Thread_local const weft_module *type_mod;

void x64_set_type_module(const weft_module *m) { type_mod = m; }

bool x64_is_cont_heap(const weft_module *m, uint32_t h) {
  if (WEFT_HT_IS_ABSTRACT(h)) {
    uint32_t code = h & 0xFFu;
    return code == WEFT_AHT_CONT || code == WEFT_AHT_NOCONT;
  }
  return m != NULL && h < m->ntypes && m->types[h].comp == WEFT_COMP_CONT;
}

int x64_type_of(weft_valtype t) {
  switch (WEFT_VT_KIND(t)) {
  case WEFT_VT_I32: return X64_T_I32;
  case WEFT_VT_I64: return X64_T_I64;
  case WEFT_VT_F32: return X64_T_F32;
  case WEFT_VT_F64: return X64_T_F64;
  case WEFT_VT_V128: return X64_T_V128;
  default: return x64_is_cont_heap(type_mod, WEFT_VT_HEAP(t)) ? X64_T_V128 : X64_T_REF;
  }
}

x64_mem x64_slot(x64_fn *c, uint32_t depth) {
  if (depth + 1 > c->max_depth) c->max_depth = depth + 1;
  return x64_m(X64_RSP, c->sp_off + (int32_t)(8 * depth));
}

/* Parameters and declared locals take 16 bytes each so that a v128 fits (scalars use the low 8). */
x64_mem x64_local_mem(x64_fn *c, uint32_t idx) {
  if (idx < c->nparams) return x64_m(X64_RBP, (int32_t)(16 + 16 * idx));
  return x64_m(X64_RBP, -32 - (int32_t)(16 * (idx - c->nparams)));
}

/* v128 operand slots sit below the declared locals, addressed from rbp (the 8-byte slots are
 * rsp-relative at the bottom of the frame, so the two areas never meet). */
x64_mem x64_vslot(x64_fn *c, uint32_t depth) {
  if (depth + 1 > c->max_vdepth) c->max_vdepth = depth + 1;
  return x64_m(X64_RBP, -32 - (int32_t)(16 * (c->nlocals - c->nparams)) - (int32_t)(16 * depth));
}

static void store_xmm(x64_fn *c, int type, int reg, x64_mem m) {
  if (type == X64_T_V128)
    x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_ST, reg, m);
  else
    x64_emit_sse_rm(c->b, X64_PF2, X64_SSE_MOVST, reg, m);
}

static void block_sig(x64_fn *c, weft_blocktype bt, uint32_t *np, uint32_t *nr) {
  if (bt == WEFT_BT_EMPTY) {
    *np = 0, *nr = 0;
  } else if (WEFT_BT_IS_TYPEIDX(bt)) {
    const weft_type *t = &c->m->types[WEFT_BT_TYPEIDX(bt)];
    *np = t->u.func.nparams, *nr = t->u.func.nresults;
  } else {
    *np = 0, *nr = 1;
  }
}

/* After an allocation failure the stacks may be short; emitters that index them bail out. */
static bool bad(x64_fn *c) { return c->oom || c->mc->oom || c->b->oom || c->mc->err; }

static uint32_t label_arity(const x64_ctrl *k) { return k->kind == X64_CTRL_LOOP ? k->nparams : k->nresults; }

static const uint8_t gpr_order[] = {X64_RBX, X64_RSI, X64_RDI, X64_R8, X64_R9, X64_R10,
                                    X64_R12, X64_R13, X64_RAX, X64_RDX, X64_RCX, X64_R14};

/* -- Local cache ----------------------------------------------------------------------------- */

void x64_cache_clear(x64_fn *c) {
  c->gpr_cached = c->xmm_cached = 0;
  c->pin_clean = 0; /* a join: some way in may have changed a pinned register */
  memset(c->gcache, 0, sizeof c->gcache);
  memset(c->xcache, 0, sizeof c->xcache);
}

static void cache_drop_gpr(x64_fn *c, int r) {
  c->gpr_cached &= (uint16_t)~(1u << r);
  c->gcache[r] = 0;
}

static void cache_drop_xmm(x64_fn *c, int r) {
  c->xmm_cached &= (uint16_t)~(1u << r);
  c->xcache[r] = 0;
}

static void cache_forget_local(x64_fn *c, uint32_t i) {
  for (int r = 0; r < 16; r++) {
    if (c->gcache[r] == i + 1) cache_drop_gpr(c, r);
    if (c->xcache[r] == i + 1) cache_drop_xmm(c, r);
  }
}

static int cache_find(x64_fn *c, uint32_t i, bool fl) {
  for (int r = 0; r < 16; r++)
    if ((fl ? c->xcache[r] : c->gcache[r]) == i + 1) return r;
  return -1;
}

/* -- Registers and the value stack ----------------------------------------------------------- */

static void spill_entry(x64_fn *c, uint32_t i) {
  x64_val *v = &c->stk.v[i];
  x64_mem m = v->type == X64_T_V128 ? x64_vslot(c, i) : x64_slot(c, i);
  if (X64_IN_REG(v)) {
    bool own = v->kind == X64_VK_REG;
    if (X64_IS_XMM(v->type)) {
      store_xmm(c, v->type, v->reg, m);
      if (own) c->xmm_used &= (uint16_t)~(1u << v->reg);
    } else {
      x64_emit_store(c->b, true, m, v->reg);
      if (own) c->gpr_used &= (uint16_t)~(1u << v->reg);
    }
  } else if (v->kind == X64_VK_CONST) {
    int64_t s = (int64_t)v->imm;
    if (s >= INT32_MIN && s <= INT32_MAX) {
      x64_emit_store_imm32(c->b, true, m, (int32_t)s);
    } else {
      x64_emit_mov_ri(c->b, X64_SCRATCH, v->imm);
      x64_emit_store(c->b, true, m, X64_SCRATCH);
    }
  }
  v->kind = X64_VK_MEM;
  v->depth = i;
}

void x64_spill_all(x64_fn *c) {
  for (uint32_t i = 0; i < c->stk.n; i++)
    if (c->stk.v[i].kind != X64_VK_MEM) spill_entry(c, i);
}

int x64_alloc_gpr(x64_fn *c, uint16_t avoid) {
  uint16_t used = c->gpr_used | avoid | c->pinned_gpr;
  if (c->has_mem0) used |= 1u << X64_MEMBASE;
  for (int pass = 0; pass < 2; pass++) {
    uint16_t busy = pass == 0 ? (uint16_t)(used | c->gpr_cached) : used;
    for (size_t i = 0; i < sizeof gpr_order; i++) {
      int r = gpr_order[i];
      if (!(busy & (1u << r))) {
        cache_drop_gpr(c, r);
        c->gpr_used |= (uint16_t)(1u << r);
        return r;
      }
    }
  }
  /* spill the deepest register value that is not avoided */
  for (uint32_t i = 0; i < c->stk.n; i++) {
    x64_val *v = &c->stk.v[i];
    if (v->kind == X64_VK_REG && !X64_IS_XMM(v->type) && !(avoid & (1u << v->reg))) {
      int r = v->reg;
      spill_entry(c, i);
      c->gpr_used |= (uint16_t)(1u << r);
      return r;
    }
  }
  x64_fail(c, WEFT_ERR_INTERNAL, "out of registers");
  return X64_RAX;
}

int x64_alloc_xmm(x64_fn *c) {
  for (int pass = 0; pass < 2; pass++) {
    uint16_t busy = (uint16_t)((pass == 0 ? (c->xmm_used | c->xmm_cached) : c->xmm_used) | c->pinned_xmm);
    for (int r = 0; r < 15; r++) {
      if (!(busy & (1u << r))) {
        cache_drop_xmm(c, r);
        c->xmm_used |= (uint16_t)(1u << r);
        return r;
      }
    }
  }
  for (uint32_t i = 0; i < c->stk.n; i++) {
    x64_val *v = &c->stk.v[i];
    if (v->kind == X64_VK_REG && X64_IS_XMM(v->type)) {
      int r = v->reg;
      spill_entry(c, i);
      c->xmm_used |= (uint16_t)(1u << r);
      return r;
    }
  }
  x64_fail(c, WEFT_ERR_INTERNAL, "out of xmm registers");
  return 0;
}

void x64_push_reg(x64_fn *c, int type, int reg) {
  x64_val v = {X64_VK_REG, (uint8_t)type, (uint8_t)reg, c->stk.n, 0};
  if (X64_IS_XMM(type)) {
    cache_drop_xmm(c, reg);
    c->xmm_used |= (uint16_t)(1u << reg);
  } else {
    cache_drop_gpr(c, reg);
    c->gpr_used |= (uint16_t)(1u << reg);
  }
  X64_PUSH(c, c->stk, v);
}

void x64_push_const(x64_fn *c, int type, uint64_t imm) {
  x64_val v = {X64_VK_CONST, (uint8_t)type, 0, c->stk.n, imm};
  X64_PUSH(c, c->stk, v);
}

static void push_mem(x64_fn *c, int type) {
  x64_val v = {X64_VK_MEM, (uint8_t)type, 0, c->stk.n, 0};
  X64_PUSH(c, c->stk, v);
}

x64_val x64_pop(x64_fn *c) {
  x64_val v = {X64_VK_CONST, X64_T_I32, 0, 0, 0};
  if (c->stk.n == 0) {
    x64_fail(c, WEFT_ERR_INTERNAL, "value stack underflow");
    return v;
  }
  v = c->stk.v[--c->stk.n];
  v.depth = c->stk.n;
  return v;
}

void x64_free_val(x64_fn *c, const x64_val *v) {
  if (v->kind != X64_VK_REG) return;
  if (X64_IS_XMM(v->type))
    c->xmm_used &= (uint16_t)~(1u << v->reg);
  else
    c->gpr_used &= (uint16_t)~(1u << v->reg);
}

static void truncate_stack(x64_fn *c, uint32_t h) {
  while (c->stk.n > h) {
    x64_val v = x64_pop(c);
    x64_free_val(c, &v);
  }
}

void x64_load_const(x64_fn *c, int type, int reg, uint64_t imm) {
  if (X64_IS_FLOAT(type)) {
    if (imm == 0) {
      x64_emit_sse_rr(c->b, 0, X64_SSE_XOR, reg, reg);
    } else {
      x64_emit_mov_ri(c->b, X64_SCRATCH, imm);
      x64_emit_movd_xr(c->b, type == X64_T_F64, reg, X64_SCRATCH);
    }
  } else {
    x64_emit_mov_ri(c->b, reg, imm);
  }
}

static void load_val_into(x64_fn *c, const x64_val *v, int reg) {
  bool fl = X64_IS_XMM(v->type);
  if (v->kind == X64_VK_CONST) {
    x64_load_const(c, v->type, reg, v->imm);
  } else if (v->kind == X64_VK_MEM) {
    if (v->type == X64_T_V128)
      x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_LD, reg, x64_vslot(c, v->depth));
    else if (fl)
      x64_emit_sse_rm(c->b, v->type == X64_T_F64 ? X64_PF2 : X64_PF3, X64_SSE_MOVLD, reg, x64_slot(c, v->depth));
    else
      x64_emit_load(c->b, true, reg, x64_slot(c, v->depth));
  } else if (v->reg != reg) {
    if (fl)
      x64_emit_sse_rr(c->b, 0, X64_SSE_MOVAPS, reg, v->reg);
    else
      x64_emit_mov_rr(c->b, true, reg, v->reg);
  }
}

void x64_to_reg(x64_fn *c, x64_val *v, uint16_t avoid) {
  if (v->kind == X64_VK_REG && (X64_IS_XMM(v->type) || !(avoid & (1u << v->reg)))) return;
  int r = X64_IS_XMM(v->type) ? x64_alloc_xmm(c) : x64_alloc_gpr(c, avoid);
  load_val_into(c, v, r);
  x64_free_val(c, v);
  v->kind = X64_VK_REG;
  v->reg = (uint8_t)r;
}

/* Move whatever stack entry holds GPR `reg` elsewhere so the caller may use it. */
void x64_evict(x64_fn *c, int reg) {
  cache_drop_gpr(c, reg);
  for (uint32_t i = 0; i < c->stk.n; i++) {
    x64_val *v = &c->stk.v[i];
    if (v->kind == X64_VK_REG && !X64_IS_XMM(v->type) && v->reg == reg) {
      int r = x64_alloc_gpr(c, (uint16_t)(1u << reg));
      x64_emit_mov_rr(c->b, true, r, reg);
      v->reg = (uint8_t)r;
      c->gpr_used &= (uint16_t)~(1u << reg);
      return;
    }
  }
}

/* Put a popped GPR value into exactly `reg` (which the caller has evicted), owning it. */
void x64_to_reg_fixed(x64_fn *c, x64_val *v, int reg) {
  if (v->kind == X64_VK_REG && v->reg == reg) return;
  cache_drop_gpr(c, reg);
  load_val_into(c, v, reg);
  x64_free_val(c, v);
  v->kind = X64_VK_REG;
  v->reg = (uint8_t)reg;
  c->gpr_used |= (uint16_t)(1u << reg);
}

/* -- Traps, libcalls ------------------------------------------------------------------------- */

static void add_trap_site(x64_fn *c, size_t pos, uint32_t trap, uint32_t wasm_off) {
  weft_trap_site s = {(uint32_t)pos, trap, wasm_off};
  if (!X64_PUSH(c->mc, c->mc->traps, s)) c->oom = true;
}

void x64_trap_site_here(x64_fn *c, uint32_t trap) { add_trap_site(c, c->b->len, trap, c->cur_off); }

void x64_trap_if(x64_fn *c, int cc, uint32_t trap) {
  x64_trap_stub s = {x64_emit_jcc(c->b, cc), trap, c->cur_off};
  X64_PUSH(c, c->stubs, s);
}

/* The stub of funcref_from_table's null check, the only x64_trap_if of UNINITIALIZED_ELEMENT: the
 * message names the table index, still in rax, so it goes through the TRAP libcall after storing
 * the index in store_ctx->trap_elem. Out of line: the hot path keeps its single jcc. */
static void elem_trap_stub(x64_fn *c, const x64_trap_stub *s) {
  add_trap_site(c, c->b->len, s->trap, s->wasm_off);
  int32_t sc = (int32_t)offsetof(weft_vmctx_header, store_ctx);
  x64_emit_load(c->b, true, X64_RCX, x64_m(X64_VMCTX, sc));
  x64_emit_store(c->b, true, x64_m(X64_RCX, (int32_t)offsetof(weft_store_ctx, trap_elem)), X64_RAX);
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  x64_emit_mov_ri(c->b, X64_RSI, WEFT_TRAP_UNINITIALIZED_ELEMENT);
  x64_call_libcall(c, WEFT_LC_TRAP);
  x64_emit_ud2(c->b); /* not reached: the libcall unwinds */
}

static void trap_now(x64_fn *c, uint32_t trap) {
  x64_trap_site_here(c, trap);
  x64_emit_ud2(c->b);
}

void x64_call_libcall(x64_fn *c, uint32_t id) {
  void *addr = c->mc->libcalls[id];
  if (!addr) {
    x64_fail(c, WEFT_ERR_UNSUPPORTED, "the host provides no libcall %u", id);
    return;
  }
  x64_emit_mov_ri(c->b, X64_RAX, (uint64_t)(uintptr_t)addr);
  x64_emit_call_r(c->b, X64_RAX);
  if (x64_libcall_is_safepoint(id)) x64_record_map(c, NULL, true);
  x64_cache_clear(c);
}

/* -- Pinned locals --------------------------------------------------------------------------- */

static int pin_of(x64_fn *c, uint32_t i) {
  for (uint32_t k = 0; k < c->npin; k++)
    if (c->pin_local[k] == i) return c->pin_reg[k];
  return -1;
}

static void reload_pinned(x64_fn *c) {
  for (uint32_t k = 0; k < c->npin; k++) {
    uint32_t i = c->pin_local[k];
    int t = x64_type_of(c->ltypes[i]);
    if (X64_IS_FLOAT(t))
      x64_emit_sse_rm(c->b, t == X64_T_F64 ? X64_PF2 : X64_PF3, X64_SSE_MOVLD, c->pin_reg[k], x64_local_mem(c, i));
    else
      x64_emit_load(c->b, true, c->pin_reg[k], x64_local_mem(c, i));
  }
}

/* After a reload that every way to this point went through (a call's or a switch's return, not
 * one arm of an allocation's slow path): each pinned register equals its memory home. */
void x64_pins_clean(x64_fn *c) { c->pin_clean = (uint16_t)((1u << c->npin) - 1u); }

/* Pinned locals live only in their registers; their memory homes are brought up to date before
 * anything that clobbers registers (calls, libcalls) and read back afterwards. A register known
 * to equal its home (pin_clean: x64_pins_clean, then no local.set of it and no join) is not
 * stored again. */
void x64_save_pinned(x64_fn *c) {
  for (uint32_t k = 0; k < c->npin; k++) {
    uint32_t i = c->pin_local[k];
    if (c->pin_clean & (1u << k)) continue;
    if (X64_IS_FLOAT(x64_type_of(c->ltypes[i])))
      x64_emit_sse_rm(c->b, X64_PF2, X64_SSE_MOVST, c->pin_reg[k], x64_local_mem(c, i));
    else
      x64_emit_store(c->b, true, x64_local_mem(c, i), c->pin_reg[k]);
  }
}

static bool is_callish(uint16_t op) {
  switch (op) {
  case WEFT_OP_CALL: case WEFT_OP_CALL_INDIRECT: case WEFT_OP_CALL_REF: case WEFT_OP_MEMORY_GROW:
  case WEFT_OP_MEMORY_FILL: case WEFT_OP_MEMORY_COPY: case WEFT_OP_MEMORY_INIT: case WEFT_OP_DATA_DROP:
  case WEFT_OP_TABLE_GROW: case WEFT_OP_TABLE_FILL: case WEFT_OP_TABLE_COPY: case WEFT_OP_TABLE_INIT:
  case WEFT_OP_ELEM_DROP:
    return true;
  default:
    return false;
  }
}

/* Choose the locals to pin (when `pin`): uses weighted by loop depth must clearly beat the reloads
 * that the calls (weighted the same way) would cost. Also finds whether memory 0 is accessed. */
static void choose_pins(x64_fn *c, const weft_expr *body, bool pin) {
  static const uint8_t gregs[] = {X64_RBX, X64_R12, X64_R13, X64_RSI, X64_RDI};
  static const uint8_t xregs[] = {8, 9, 10, 11, 12, 13, 14};
  uint64_t *w = c->host->alloc(c->host->host, sizeof(uint64_t) * (c->nlocals + 1));
  uint8_t *loopbits = c->host->alloc(c->host->host, body->ninstrs + 2);
  if (!w || !loopbits) goto out;
  memset(w, 0, sizeof(uint64_t) * (c->nlocals + 1));
  uint64_t callw = 0;
  uint32_t nest = 0, loops = 0;
  for (uint32_t pc = 0; pc < body->ninstrs; pc++) {
    const weft_instr *in = &body->code[pc];
    uint64_t weight = loops == 0 ? 1 : loops == 1 ? 16 : 256;
    switch (in->op) {
    case WEFT_OP_BLOCK: case WEFT_OP_IF: case WEFT_OP_TRY_TABLE: case WEFT_OP_LOOP:
      if (nest <= body->ninstrs) loopbits[nest] = in->op == WEFT_OP_LOOP;
      nest++;
      if (in->op == WEFT_OP_LOOP) loops++;
      break;
    case WEFT_OP_END:
      if (nest > 0) {
        nest--;
        if (loopbits[nest]) loops--;
      }
      break;
    case WEFT_OP_LOCAL_GET: case WEFT_OP_LOCAL_SET: case WEFT_OP_LOCAL_TEE:
      if (in->imm.x.a < c->nlocals) w[in->imm.x.a] += weight;
      break;
    default:
      if (((in->op >= WEFT_OP_I32_LOAD && in->op <= WEFT_OP_I64_STORE32) ||
           (in->op >= WEFT_OP_V128_LOAD && in->op <= WEFT_OP_V128_STORE) ||
           (in->op >= WEFT_OP_V128_LOAD8_LANE && in->op <= WEFT_OP_V128_LOAD64_ZERO)) &&
          in->imm.mem.mem == 0)
        c->uses_mem0 = true;
      if (is_callish(in->op)) callw += weight;
      break;
    }
  }
  uint32_t ng = 0, nx = 0;
  while (pin) {
    uint32_t best = UINT32_MAX;
    for (uint32_t i = 0; i < c->nlocals; i++) {
      bool fl = X64_IS_FLOAT(x64_type_of(c->ltypes[i]));
      if (x64_type_of(c->ltypes[i]) == X64_T_V128) continue; /* v128 locals stay in memory */
      if ((fl ? nx >= sizeof xregs : ng >= sizeof gregs) || w[i] <= callw + 4) continue;
      if (best == UINT32_MAX || w[i] > w[best]) best = i;
    }
    if (best == UINT32_MAX) break;
    bool fl = X64_IS_FLOAT(x64_type_of(c->ltypes[best]));
    uint8_t r = fl ? xregs[nx++] : gregs[ng++];
    c->pin_local[c->npin] = best;
    c->pin_reg[c->npin++] = r;
    if (fl)
      c->pinned_xmm |= (uint16_t)(1u << r);
    else
      c->pinned_gpr |= (uint16_t)(1u << r);
    w[best] = 0;
  }
out:
  if (w) c->host->free(c->host->host, w);
  if (loopbits) c->host->free(c->host->host, loopbits);
}

void x64_after_libcall(x64_fn *c) {
  x64_cache_clear(c);
  reload_pinned(c);
}

void x64_reload_membase(x64_fn *c) {
  if (!c->has_mem0) return;
  x64_emit_load(c->b, true, X64_MEMBASE, x64_m(X64_VMCTX, (int32_t)c->mc->lay.mems));
  x64_emit_load(c->b, true, X64_MEMBASE, x64_m(X64_MEMBASE, 0));
}

/* -- Branches -------------------------------------------------------------------------------- */

static x64_ctrl *label(x64_fn *c, uint32_t depth) { return &c->ctl.v[c->ctl.n - 1 - depth]; }

static void add_fixup(x64_fn *c, x64_ctrl *k, size_t at) {
  uint32_t kidx = (uint32_t)(k - c->ctl.v);
  x64_fixup f = {at, 0};
  f.next = c->ctl.v[kidx].fixups;
  if (X64_PUSH(c, c->fix, f)) c->ctl.v[kidx].fixups = c->fix.n;
}

/* Store the top n values to operand slots [h, h+n); the stack itself is left unchanged. */
static void move_top_to(x64_fn *c, uint32_t n, uint32_t h) {
  if (bad(c)) return;
  if (n > c->stk.n) {
    x64_fail(c, WEFT_ERR_INVALID, "function %u: branch without its %u values", c->fidx, n);
    return;
  }
  uint32_t base = c->stk.n - n;
  for (uint32_t i = 0; i < n; i++) {
    x64_val *v = &c->stk.v[base + i];
    if (v->type == X64_T_V128) {
      x64_mem vd = x64_vslot(c, h + i);
      if (X64_IN_REG(v)) {
        store_xmm(c, X64_T_V128, v->reg, vd);
      } else if (base + i != h + i) {
        x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_LD, X64_XSCRATCH, x64_vslot(c, base + i));
        store_xmm(c, X64_T_V128, X64_XSCRATCH, vd);
      }
      continue;
    }
    x64_mem dst = x64_slot(c, h + i);
    if (X64_IN_REG(v)) {
      if (X64_IS_FLOAT(v->type))
        x64_emit_sse_rm(c->b, X64_PF2, X64_SSE_MOVST, v->reg, dst);
      else
        x64_emit_store(c->b, true, dst, v->reg);
    } else if (v->kind == X64_VK_CONST) {
      int64_t s = (int64_t)v->imm;
      if (s >= INT32_MIN && s <= INT32_MAX) {
        x64_emit_store_imm32(c->b, true, dst, (int32_t)s);
      } else {
        x64_emit_mov_ri(c->b, X64_SCRATCH, v->imm);
        x64_emit_store(c->b, true, dst, X64_SCRATCH);
      }
    } else if (base + i != h + i) {
      x64_emit_load(c->b, true, X64_SCRATCH, x64_slot(c, base + i));
      x64_emit_store(c->b, true, dst, X64_SCRATCH);
    }
  }
}

static void emit_return(x64_fn *c) {
  uint32_t nr = c->ft->u.func.nresults;
  if (bad(c)) return;
  if (nr > c->stk.n) {
    x64_fail(c, WEFT_ERR_INVALID, "function %u: return without its %u results", c->fidx, nr);
    return;
  }
  if (nr == 1 && c->stk.v[c->stk.n - 1].type == X64_T_V128) {
    /* a single v128 result travels in rdx:rax */
    x64_val *v = &c->stk.v[c->stk.n - 1];
    if (X64_IN_REG(v)) {
      x64_emit_movd_rx(c->b, true, X64_RAX, v->reg);
      x64_emit_pextrq(c->b, X64_RDX, v->reg, 1);
    } else {
      x64_emit_load(c->b, true, X64_RAX, x64_vslot(c, v->depth));
      x64_mem hi = x64_vslot(c, v->depth);
      hi.disp += 8;
      x64_emit_load(c->b, true, X64_RDX, hi);
    }
  } else if (nr == 1) {
    x64_val *v = &c->stk.v[c->stk.n - 1];
    if (X64_IN_REG(v) && X64_IS_FLOAT(v->type))
      x64_emit_movd_rx(c->b, true, X64_RAX, v->reg);
    else if (X64_IN_REG(v) && v->reg != X64_RAX)
      x64_emit_mov_rr(c->b, true, X64_RAX, v->reg);
    else if (X64_IN_REG(v))
      ;
    else if (v->kind == X64_VK_CONST)
      x64_emit_mov_ri(c->b, X64_RAX, v->imm);
    else
      x64_emit_load(c->b, true, X64_RAX, x64_slot(c, v->depth));
  } else if (nr > 1 && x64_wide_results(c->ft)) {
    /* 16-byte result slots: register values first, then slots and constants through rax/xmm15 */
    uint32_t base = c->stk.n - nr;
    x64_emit_load(c->b, true, X64_SCRATCH, x64_m(X64_RBP, -16));
    for (uint32_t pass = 0; pass < 2; pass++)
      for (uint32_t i = 0; i < nr; i++) {
        x64_val *v = &c->stk.v[base + i];
        x64_mem dst = x64_m(X64_SCRATCH, (int32_t)(16 * i));
        if (X64_IN_REG(v) != (pass == 0)) continue;
        if (X64_IN_REG(v) && X64_IS_XMM(v->type)) {
          store_xmm(c, v->type, v->reg, dst);
        } else if (X64_IN_REG(v)) {
          x64_emit_store(c->b, true, dst, v->reg);
        } else if (v->type == X64_T_V128) {
          x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_LD, X64_XSCRATCH, x64_vslot(c, base + i));
          store_xmm(c, X64_T_V128, X64_XSCRATCH, dst);
        } else {
          if (v->kind == X64_VK_CONST)
            x64_emit_mov_ri(c->b, X64_RAX, v->imm);
          else
            x64_emit_load(c->b, true, X64_RAX, x64_slot(c, base + i));
          x64_emit_store(c->b, true, dst, X64_RAX);
        }
      }
  } else if (nr > 1) {
    uint32_t base = c->stk.n - nr;
    x64_emit_load(c->b, true, X64_SCRATCH, x64_m(X64_RBP, -16));
    /* Two passes: register values first, then constants and slots through rax, which may itself
     * hold one of the results (a call's). */
    for (uint32_t pass = 0; pass < 2; pass++)
    for (uint32_t i = 0; i < nr; i++) {
      x64_val *v = &c->stk.v[base + i];
      x64_mem dst = x64_m(X64_SCRATCH, (int32_t)(8 * i));
      if (X64_IN_REG(v) != (pass == 0)) continue;
      if (X64_IN_REG(v) && X64_IS_FLOAT(v->type)) {
        x64_emit_sse_rm(c->b, X64_PF2, X64_SSE_MOVST, v->reg, dst);
      } else if (X64_IN_REG(v)) {
        x64_emit_store(c->b, true, dst, v->reg);
      } else {
        if (v->kind == X64_VK_CONST)
          x64_emit_mov_ri(c->b, X64_RAX, v->imm);
        else
          x64_emit_load(c->b, true, X64_RAX, x64_slot(c, base + i));
        x64_emit_store(c->b, true, dst, X64_RAX);
      }
    }
  }
  x64_emit_mov_rr(c->b, true, X64_RSP, X64_RBP);
  x64_emit_pop(c->b, X64_RBP);
  x64_emit_ret(c->b, (uint16_t)c->area);
}

/* Jump to label `depth`, its values already placed. */
static void jump_to(x64_fn *c, uint32_t depth) {
  x64_ctrl *k = label(c, depth);
  if (k->kind == X64_CTRL_FUNC) {
    emit_return(c);
  } else if (k->kind == X64_CTRL_LOOP) {
    size_t at = x64_emit_jmp(c->b);
    x64_patch_rel32(c->b, at, k->loop_pc);
  } else {
    add_fixup(c, k, x64_emit_jmp(c->b));
  }
}

static bool br_trivial(x64_fn *c, uint32_t depth) {
  x64_ctrl *k = label(c, depth);
  if (k->kind == X64_CTRL_FUNC) return false;
  return c->stk.n - label_arity(k) == k->height;
}

void x64_br_prepare(x64_fn *c, uint32_t depth) {
  if (!br_trivial(c, depth)) return;
  x64_ctrl *k = label(c, depth);
  for (uint32_t i = k->height; i < c->stk.n; i++)
    if (c->stk.v[i].kind != X64_VK_MEM) spill_entry(c, i);
}

void x64_br_if_cc(x64_fn *c, uint32_t depth, int cc) {
  x64_ctrl *k = label(c, depth);
  if (br_trivial(c, depth)) {
    size_t at = x64_emit_jcc(c->b, cc);
    if (k->kind == X64_CTRL_LOOP)
      x64_patch_rel32(c->b, at, k->loop_pc);
    else
      add_fixup(c, k, at);
    return;
  }
  size_t skip = x64_emit_jcc(c->b, X64_CC_NEGATE(cc));
  if (k->kind != X64_CTRL_FUNC) move_top_to(c, label_arity(k), k->height);
  jump_to(c, depth);
  x64_patch_rel32(c->b, skip, c->b->len);
}

static void set_unreachable(x64_fn *c) {
  truncate_stack(c, c->ctl.v[c->ctl.n - 1].height);
  c->unreachable = true;
}

static void do_br(x64_fn *c, uint32_t depth) {
  x64_ctrl *k = label(c, depth);
  if (k->kind != X64_CTRL_FUNC) move_top_to(c, label_arity(k), k->height);
  jump_to(c, depth);
  set_unreachable(c);
}

static void do_br_table(x64_fn *c, const weft_instr *in) {
  uint32_t n = in->imm.x.b;
  const uint32_t *labels = c->m->pool + in->imm.x.a;
  x64_val idx = x64_pop(c);
  x64_spill_all(c);
  x64_to_reg_fixed(c, &idx, X64_RAX);
  x64_free_val(c, &idx);
  /* rax = min(idx, n): the default is the last table entry */
  x64_emit_mov_ri(c->b, X64_SCRATCH, n);
  x64_emit_alu_rr(c->b, X64_CMP, false, X64_RAX, X64_SCRATCH);
  x64_emit_cmov(c->b, X64_CC_A, false, X64_RAX, X64_SCRATCH);
  size_t lea_at = x64_emit_lea_rip(c->b, X64_SCRATCH);
  x64_emit_movsxd_load(c->b, X64_RAX, x64_mi(X64_SCRATCH, X64_RAX, 2, 0));
  x64_emit_alu_rr(c->b, X64_ADD, true, X64_RAX, X64_SCRATCH);
  x64_emit_jmp_r(c->b, X64_RAX);
  while (c->b->len & 3) x64_emit_u8(c->b, 0xCC);
  size_t table = c->b->len;
  x64_patch_rel32(c->b, lea_at, table);
  for (uint32_t i = 0; i <= n; i++) x64_emit_u32(c->b, 0);
  for (uint32_t i = 0; i <= n && !c->b->oom; i++) {
    x64_patch_u32(c->b, table + 4 * i, (uint32_t)(c->b->len - table));
    uint32_t depth = labels[i];
    x64_ctrl *k = label(c, depth);
    if (k->kind != X64_CTRL_FUNC) move_top_to(c, label_arity(k), k->height);
    jump_to(c, depth);
  }
  set_unreachable(c);
}

/* -- Blocks ---------------------------------------------------------------------------------- */

static bool push_ctrl(x64_fn *c, int kind, weft_blocktype bt) {
  x64_ctrl k;
  memset(&k, 0, sizeof k);
  k.kind = (uint8_t)kind;
  k.bt = bt;
  block_sig(c, bt, &k.nparams, &k.nresults);
  k.height = c->stk.n - k.nparams;
  k.else_jcc = SIZE_MAX;
  if (k.nparams > c->stk.n) return x64_fail(c, WEFT_ERR_INVALID, "block parameters missing"), false;
  return X64_PUSH(c, c->ctl, k);
}

static void block_results_types(x64_fn *c, weft_blocktype bt, uint32_t n, bool params, uint32_t h) {
  for (uint32_t i = 0; i < n; i++) {
    weft_valtype t;
    if (WEFT_BT_IS_TYPEIDX(bt)) {
      const weft_type *ft = &c->m->types[WEFT_BT_TYPEIDX(bt)];
      t = params ? ft->u.func.params[i] : ft->u.func.results[i];
    } else {
      t = bt;
    }
    (void)h;
    push_mem(c, x64_type_of(t));
  }
}

void x64_if_cc(x64_fn *c, const weft_instr *in, int cc) {
  if (!push_ctrl(c, X64_CTRL_IF, in->imm.x.a)) return;
  c->ctl.v[c->ctl.n - 1].else_jcc = x64_emit_jcc(c->b, X64_CC_NEGATE(cc));
}

static void do_else(x64_fn *c) {
  x64_ctrl *k = &c->ctl.v[c->ctl.n - 1];
  if (!c->unreachable) {
    move_top_to(c, k->nresults, k->height);
    add_fixup(c, k, x64_emit_jmp(c->b));
  }
  k = &c->ctl.v[c->ctl.n - 1];
  x64_cache_clear(c);
  k->has_else = true;
  truncate_stack(c, k->height);
  if (k->else_jcc != SIZE_MAX) x64_patch_rel32(c->b, k->else_jcc, c->b->len);
  k->else_jcc = SIZE_MAX;
  block_results_types(c, k->bt, k->nparams, true, k->height);
  c->unreachable = false;
}

static void patch_list(x64_fn *c, uint32_t head, size_t target) {
  while (head) {
    x64_fixup *f = &c->fix.v[head - 1];
    x64_patch_rel32(c->b, f->at, target);
    head = f->next;
  }
}

/* `end` of a block, loop or if. Returns true at the function's final end. */
static bool do_end(x64_fn *c) {
  x64_ctrl k = c->ctl.v[c->ctl.n - 1];
  if (k.exn_try) x64_exn_try_end(c, &k);
  if (k.kind == X64_CTRL_FUNC) {
    if (!c->unreachable) emit_return(c);
    c->ctl.n--;
    return true;
  }
  bool merge = k.fixups != 0 || k.kind == X64_CTRL_IF || k.exn_target;
  bool reach = !c->unreachable;
  if (reach && merge) {
    move_top_to(c, k.nresults, k.height);
    truncate_stack(c, k.height);
    block_results_types(c, k.bt, k.nresults, false, k.height);
  } else if (!reach) {
    truncate_stack(c, k.height);
    block_results_types(c, k.bt, k.nresults, false, k.height);
  }
  if (merge || !reach) x64_cache_clear(c);
  if (k.exn_target) x64_exn_label_end(c, c->ctl.n - 1);
  patch_list(c, k.fixups, c->b->len);
  if (k.else_jcc != SIZE_MAX) x64_patch_rel32(c->b, k.else_jcc, c->b->len);
  c->ctl.n--;
  c->unreachable = !(reach || k.fixups != 0 || k.exn_target || (k.kind == X64_CTRL_IF && !k.has_else));
  if (c->unreachable) truncate_stack(c, c->ctl.v[c->ctl.n - 1].height);
  return false;
}

/* -- Calls ----------------------------------------------------------------------------------- */

uint32_t x64_area_size(uint32_t nparams) { return 16 * nparams; } /* 16 bytes per parameter */

/* Several results with a v128 among them are stored 16 bytes apart ([rsi + 16 i]); other result
 * lists keep 8-byte slots so that they land directly in the caller's operand slots. */
bool x64_wide_results(const weft_type *ft) {
  if (ft->u.func.nresults < 2) return false;
  for (uint32_t i = 0; i < ft->u.func.nresults; i++)
    if (x64_type_of(ft->u.func.results[i]) == X64_T_V128) return true;
  return false;
}

/* Store the top `np` values into a fresh outgoing area [rsp, rsp+area) and pop them. Values
 * below them must already be spilled. */
static void store_args(x64_fn *c, uint32_t np, uint32_t area) {
  if (bad(c) || np > c->stk.n) return;
  if (area) {
    x64_emit_alu_ri(c->b, X64_SUB, true, X64_RSP, (int32_t)area);
    c->sp_off += (int32_t)area;
    if ((uint32_t)c->sp_off > c->max_out) c->max_out = (uint32_t)c->sp_off;
  }
  uint32_t base = c->stk.n - np;
  for (uint32_t i = 0; i < np; i++) {
    x64_val *v = &c->stk.v[base + i];
    x64_mem dst = x64_m(X64_RSP, (int32_t)(16 * i));
    if (v->type == X64_T_V128) {
      if (!X64_IN_REG(v)) {
        x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_LD, X64_XSCRATCH, x64_vslot(c, base + i));
        store_xmm(c, X64_T_V128, X64_XSCRATCH, dst);
      } else {
        store_xmm(c, X64_T_V128, v->reg, dst);
      }
    } else if (X64_IN_REG(v) && X64_IS_FLOAT(v->type)) {
      x64_emit_sse_rm(c->b, X64_PF2, X64_SSE_MOVST, v->reg, dst);
    } else if (X64_IN_REG(v)) {
      x64_emit_store(c->b, true, dst, v->reg);
    } else if (v->kind == X64_VK_CONST) {
      x64_emit_mov_ri(c->b, X64_SCRATCH, v->imm);
      x64_emit_store(c->b, true, dst, X64_SCRATCH);
    } else {
      x64_emit_load(c->b, true, X64_SCRATCH, x64_slot(c, base + i));
      x64_emit_store(c->b, true, dst, X64_SCRATCH);
    }
  }
  truncate_stack(c, base);
}

static void spill_below(x64_fn *c, uint32_t n) {
  for (uint32_t i = 0; i + n < c->stk.n; i++)
    if (c->stk.v[i].kind != X64_VK_MEM) spill_entry(c, i);
}

static void after_call(x64_fn *c, const weft_type *ft, uint32_t area) {
  c->sp_off -= (int32_t)area;
  x64_cache_clear(c);
  x64_emit_load(c->b, true, X64_VMCTX, x64_m(X64_RBP, -8));
  x64_reload_membase(c);
  reload_pinned(c);
  x64_pins_clean(c);
  uint32_t nr = ft->u.func.nresults;
  if (nr == 1) {
    int t = x64_type_of(ft->u.func.results[0]);
    if (t == X64_T_V128) {
      int x = x64_alloc_xmm(c);
      x64_emit_movd_xr(c->b, true, x, X64_RAX);
      x64_emit_pinsrq(c->b, x, X64_RDX, 1);
      x64_push_reg(c, t, x);
    } else if (X64_IS_FLOAT(t)) {
      int x = x64_alloc_xmm(c);
      x64_emit_movd_xr(c->b, true, x, X64_RAX);
      x64_push_reg(c, t, x);
    } else {
      c->gpr_used |= 1u << X64_RAX;
      x64_push_reg(c, t, X64_RAX);
    }
  } else if (x64_wide_results(ft)) {
    /* results came back in 16-byte slots over operand slots [base, base + 2 nr): move result i
     * to its own slot (ascending, so nothing is overwritten before it is read) */
    uint32_t base = c->stk.n;
    for (uint32_t i = 0; i < nr; i++) {
      int t = x64_type_of(ft->u.func.results[i]);
      if (t == X64_T_V128) {
        x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_LD, X64_XSCRATCH, x64_slot(c, base + 2 * i));
        store_xmm(c, X64_T_V128, X64_XSCRATCH, x64_vslot(c, base + i));
      } else if (i > 0) {
        x64_emit_load(c->b, true, X64_SCRATCH, x64_slot(c, base + 2 * i));
        x64_emit_store(c->b, true, x64_slot(c, base + i), X64_SCRATCH);
      }
      push_mem(c, t);
    }
  } else {
    for (uint32_t i = 0; i < nr; i++) push_mem(c, x64_type_of(ft->u.func.results[i]));
  }
}

static void results_ptr(x64_fn *c, const weft_type *ft) {
  if (ft->u.func.nresults > 1 && x64_wide_results(ft))
    (void)x64_slot(c, c->stk.n + 2 * ft->u.func.nresults - 1); /* 16 bytes a result */
  if (ft->u.func.nresults > 1)
    x64_emit_lea(c->b, true, X64_RSI, x64_slot(c, c->stk.n));
}

static void do_call(x64_fn *c, uint32_t fidx) {
  const weft_type *ft = &c->m->types[c->m->funcs[fidx].type];
  x64_save_pinned(c);
  uint32_t np = ft->u.func.nparams, area = x64_area_size(np);
  spill_below(c, np);
  store_args(c, np, area);
  if (ft->u.func.nresults > 1) (void)x64_slot(c, c->stk.n + ft->u.func.nresults - 1);
  results_ptr(c, ft);
  if (fidx < c->m->nfunc_imports) {
    x64_emit_load(c->b, true, X64_RCX, x64_m(X64_VMCTX, (int32_t)(c->mc->lay.funcs + 8 * fidx)));
    x64_emit_load(c->b, true, X64_RDI, x64_m(X64_RCX, 24));
    x64_emit_call_m(c->b, x64_m(X64_RCX, 8));
  } else {
    x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
    x64_call_fix f = {x64_emit_call_rel(c->b), fidx};
    if (!X64_PUSH(c->mc, c->mc->calls, f)) c->oom = true;
  }
  x64_record_map(c, ft, false);
  after_call(c, ft, area);
}

/* rcx = the funcref of table `tab` at the index in rax; traps on a bad index, a null element or a
 * type mismatch against module type `typeidx`. */
static void funcref_from_table(x64_fn *c, uint32_t typeidx, uint32_t tab) {
  const weft_table *t = &c->m->tables[tab];
  x64_emit_load(c->b, true, X64_SCRATCH, x64_m(X64_VMCTX, (int32_t)(c->mc->lay.tables + 8 * tab)));
  x64_emit_alu_rm(c->b, X64_CMP, true, X64_RAX, x64_m(X64_SCRATCH, 8));
  x64_trap_if(c, X64_CC_AE, WEFT_TRAP_UNDEFINED_ELEMENT);
  (void)t;
  x64_emit_load(c->b, true, X64_SCRATCH, x64_m(X64_SCRATCH, 0));
  x64_emit_load(c->b, true, X64_RCX, x64_mi(X64_SCRATCH, X64_RAX, 3, 0));
  x64_emit_test_rr(c->b, true, X64_RCX, X64_RCX);
  x64_trap_if(c, X64_CC_E, WEFT_TRAP_UNINITIALIZED_ELEMENT);
  x64_emit_load(c->b, false, X64_RAX, x64_m(X64_VMCTX, (int32_t)(c->mc->lay.type_ids + 4 * typeidx)));
  x64_emit_alu_rm(c->b, X64_CMP, false, X64_RAX, x64_m(X64_RCX, 16));
  const weft_type *ty = &c->m->types[typeidx];
  if (ty->final) {
    x64_trap_if(c, X64_CC_NE, WEFT_TRAP_INDIRECT_TYPE_MISMATCH);
    return;
  }
  size_t ok = x64_emit_jcc(c->b, X64_CC_E);
  x64_emit_mov_rr(c->b, true, X64_RBX, X64_RCX);
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  x64_emit_load(c->b, false, X64_RSI, x64_m(X64_RCX, 16));
  x64_emit_mov_rr(c->b, false, X64_RDX, X64_RAX);
  x64_call_libcall(c, WEFT_LC_FUNC_SUBTYPE);
  x64_emit_test_rr(c->b, false, X64_RAX, X64_RAX);
  x64_trap_if(c, X64_CC_E, WEFT_TRAP_INDIRECT_TYPE_MISMATCH);
  x64_emit_mov_rr(c->b, true, X64_RCX, X64_RBX);
  x64_patch_rel32(c->b, ok, c->b->len);
}

/* Replace this frame by a call to the target set up by `how`: 0 direct `fidx`, 1 funcref in rcx.
 * Every value is in its slot. See x64_target.h for why the callee pops its parameter area. */
static void tail_call(x64_fn *c, const weft_type *ft, int how, uint32_t fidx) {
  uint32_t np = ft->u.func.nparams, ag = x64_area_size(np);
  int32_t af = (int32_t)c->area;
  uint32_t base = c->stk.n - np;
  if (ag) {
    x64_emit_alu_ri(c->b, X64_SUB, true, X64_RSP, (int32_t)ag);
    c->sp_off += (int32_t)ag;
    if ((uint32_t)c->sp_off > c->max_out) c->max_out = (uint32_t)c->sp_off;
  }
  for (uint32_t i = 0; i < np; i++) {
    if (c->stk.v[base + i].type == X64_T_V128) {
      x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_LD, X64_XSCRATCH, x64_vslot(c, base + i));
      store_xmm(c, X64_T_V128, X64_XSCRATCH, x64_m(X64_RSP, (int32_t)(16 * i)));
      continue;
    }
    x64_emit_load(c->b, true, X64_RAX, x64_slot(c, base + i));
    x64_emit_store(c->b, true, x64_m(X64_RSP, (int32_t)(16 * i)), X64_RAX);
  }
  x64_emit_load(c->b, true, X64_RSI, x64_m(X64_RBP, -16));
  x64_emit_load(c->b, true, X64_RDX, x64_m(X64_RBP, 8));
  x64_emit_load(c->b, true, X64_R10, x64_m(X64_RBP, 0));
  int32_t dst = 16 + af - (int32_t)ag;
  for (uint32_t i = np; i-- > 0;) {
    x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_LD, X64_XSCRATCH, x64_m(X64_RSP, (int32_t)(16 * i)));
    store_xmm(c, X64_T_V128, X64_XSCRATCH, x64_m(X64_RBP, dst + (int32_t)(16 * i)));
  }
  x64_emit_store(c->b, true, x64_m(X64_RBP, dst - 8), X64_RDX);
  x64_emit_lea(c->b, true, X64_RSP, x64_m(X64_RBP, dst - 8));
  x64_emit_mov_rr(c->b, true, X64_RBP, X64_R10);
  c->sp_off -= (int32_t)ag;
  if (how == 0 && fidx >= c->m->nfunc_imports) {
    x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
    x64_emit_u8(c->b, 0xE9);
    x64_call_fix f = {c->b->len, fidx};
    x64_emit_u32(c->b, 0);
    if (!X64_PUSH(c->mc, c->mc->calls, f)) c->oom = true;
  } else {
    if (how == 0)
      x64_emit_load(c->b, true, X64_RCX, x64_m(X64_VMCTX, (int32_t)(c->mc->lay.funcs + 8 * fidx)));
    x64_emit_load(c->b, true, X64_RDI, x64_m(X64_RCX, 24));
    x64_emit_jmp_m(c->b, x64_m(X64_RCX, 8));
  }
  set_unreachable(c);
}

static void do_call_indirect(x64_fn *c, const weft_instr *in, bool tail) {
  uint32_t typeidx = in->imm.x.a, tab = in->imm.x.b;
  const weft_type *ft = &c->m->types[typeidx];
  uint32_t np = ft->u.func.nparams, area = x64_area_size(np);
  x64_val idx = x64_pop(c);
  if (tail) {
    x64_spill_all(c);
    x64_to_reg_fixed(c, &idx, X64_RAX);
    x64_free_val(c, &idx);
    if (!c->m->tables[tab].type.limits.is64) x64_emit_mov_rr(c->b, false, X64_RAX, X64_RAX);
    funcref_from_table(c, typeidx, tab);
    tail_call(c, ft, 1, 0);
    return;
  }
  x64_save_pinned(c);
  spill_below(c, np);
  store_args(c, np, area);
  x64_to_reg_fixed(c, &idx, X64_RAX);
  x64_free_val(c, &idx);
  if (!c->m->tables[tab].type.limits.is64) x64_emit_mov_rr(c->b, false, X64_RAX, X64_RAX);
  funcref_from_table(c, typeidx, tab);
  if (ft->u.func.nresults > 1) (void)x64_slot(c, c->stk.n + ft->u.func.nresults - 1);
  results_ptr(c, ft);
  x64_emit_load(c->b, true, X64_RDI, x64_m(X64_RCX, 24));
  x64_emit_call_m(c->b, x64_m(X64_RCX, 8));
  x64_record_map(c, ft, false);
  after_call(c, ft, area);
}

static void do_call_ref(x64_fn *c, const weft_instr *in, bool tail) {
  const weft_type *ft = &c->m->types[in->imm.x.a];
  uint32_t np = ft->u.func.nparams, area = x64_area_size(np);
  x64_val ref = x64_pop(c);
  if (tail) {
    x64_spill_all(c);
  } else {
    x64_save_pinned(c);
    spill_below(c, np);
    store_args(c, np, area);
  }
  x64_to_reg_fixed(c, &ref, X64_RCX);
  x64_free_val(c, &ref);
  x64_emit_test_rr(c->b, true, X64_RCX, X64_RCX);
  x64_trap_if(c, X64_CC_E, WEFT_TRAP_NULL_FUNC);
  if (tail) {
    tail_call(c, ft, 1, 0);
    return;
  }
  if (ft->u.func.nresults > 1) (void)x64_slot(c, c->stk.n + ft->u.func.nresults - 1);
  results_ptr(c, ft);
  x64_emit_load(c->b, true, X64_RDI, x64_m(X64_RCX, 24));
  x64_emit_call_m(c->b, x64_m(X64_RCX, 8));
  x64_record_map(c, ft, false);
  after_call(c, ft, area);
}

/* -- Variables, parametric ------------------------------------------------------------------- */

static void local_get(x64_fn *c, uint32_t i) {
  int t = x64_type_of(c->ltypes[i]);
  if (t == X64_T_V128) {
    int x = x64_alloc_xmm(c);
    x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_LD, x, x64_local_mem(c, i));
    x64_push_reg(c, t, x);
    return;
  }
  int pr = pin_of(c, i);
  if (pr >= 0) {
    x64_val v = {X64_VK_PIN, (uint8_t)t, (uint8_t)pr, c->stk.n, 0};
    X64_PUSH(c, c->stk, v);
    return;
  }
  int cr = cache_find(c, i, X64_IS_FLOAT(t));
  if (cr >= 0) {
    /* a register copy: keep the cache entry for the next read */
    if (X64_IS_FLOAT(t)) {
      c->xmm_used |= (uint16_t)(1u << cr);
      int x = x64_alloc_xmm(c);
      c->xmm_used &= (uint16_t)~(1u << cr);
      x64_emit_sse_rr(c->b, 0, X64_SSE_MOVAPS, x, cr);
      x64_push_reg(c, t, x);
    } else {
      int r = x64_alloc_gpr(c, (uint16_t)(1u << cr));
      x64_emit_mov_rr(c->b, true, r, cr);
      x64_push_reg(c, t, r);
    }
    return;
  }
  if (X64_IS_FLOAT(t)) {
    int x = x64_alloc_xmm(c);
    x64_emit_sse_rm(c->b, t == X64_T_F64 ? X64_PF2 : X64_PF3, X64_SSE_MOVLD, x, x64_local_mem(c, i));
    x64_push_reg(c, t, x);
  } else {
    int r = x64_alloc_gpr(c, 0);
    x64_emit_load(c->b, true, r, x64_local_mem(c, i));
    x64_push_reg(c, t, r);
  }
}

static void local_set(x64_fn *c, uint32_t i, bool tee) {
  x64_val v = x64_pop(c);
  x64_mem dst = x64_local_mem(c, i);
  int pr = pin_of(c, i);
  if (pr >= 0) {
    /* the register is the value; x64_save_pinned writes it home before calls. Earlier reads of
     * the local still on the stack keep the old value: spill them first. */
    bool fl = X64_IS_FLOAT(v.type);
    (void)dst;
    if (v.kind == X64_VK_PIN && v.reg == pr) { /* local.set $x (local.get $x) */
      if (tee) X64_PUSH(c, c->stk, v);
      return;
    }
    for (uint32_t j = 0; j < c->stk.n; j++)
      if (c->stk.v[j].kind == X64_VK_PIN && c->stk.v[j].reg == pr) spill_entry(c, j);
    for (uint32_t k = 0; k < c->npin; k++)
      if (c->pin_local[k] == i) c->pin_clean &= (uint16_t)~(1u << k);
    if (v.kind == X64_VK_CONST) {
      x64_load_const(c, v.type, pr, v.imm);
    } else {
      if (v.kind == X64_VK_MEM) x64_to_reg(c, &v, 0);
      if (fl)
        x64_emit_sse_rr(c->b, 0, X64_SSE_MOVAPS, pr, v.reg);
      else
        x64_emit_mov_rr(c->b, true, pr, v.reg);
    }
    if (!tee) {
      x64_free_val(c, &v);
    } else if (v.kind == X64_VK_REG) {
      x64_push_reg(c, v.type, v.reg);
    } else {
      v.depth = c->stk.n;
      X64_PUSH(c, c->stk, v); /* a constant or another pinned local's register */
    }
    return;
  }
  cache_forget_local(c, i);
  if (v.type == X64_T_V128) {
    x64_to_reg(c, &v, 0);
    store_xmm(c, X64_T_V128, v.reg, dst);
    if (tee)
      x64_push_reg(c, v.type, v.reg);
    else
      x64_free_val(c, &v);
    return;
  }
  if (v.kind == X64_VK_CONST) {
    int64_t s = (int64_t)v.imm;
    if (s >= INT32_MIN && s <= INT32_MAX) {
      x64_emit_store_imm32(c->b, true, dst, (int32_t)s);
    } else {
      x64_emit_mov_ri(c->b, X64_SCRATCH, v.imm);
      x64_emit_store(c->b, true, dst, X64_SCRATCH);
    }
    if (tee) x64_push_const(c, v.type, v.imm);
    return;
  }
  x64_to_reg(c, &v, 0);
  if (X64_IS_FLOAT(v.type))
    x64_emit_sse_rm(c->b, X64_PF2, X64_SSE_MOVST, v.reg, dst);
  else
    x64_emit_store(c->b, true, dst, v.reg);
  if (tee) {
    x64_push_reg(c, v.type, v.reg);
    return;
  }
  /* the register now only mirrors the local */
  x64_free_val(c, &v);
  if (c->mc->st->no_opt) return;
  if (X64_IS_FLOAT(v.type)) {
    c->xmm_cached |= (uint16_t)(1u << v.reg);
    c->xcache[v.reg] = i + 1;
  } else {
    c->gpr_cached |= (uint16_t)(1u << v.reg);
    c->gcache[v.reg] = i + 1;
  }
}

static void do_select(x64_fn *c) {
  x64_val cond = x64_pop(c);
  x64_val b = x64_pop(c);
  x64_val a = x64_pop(c);
  x64_to_reg(c, &cond, 0);
  x64_to_reg(c, &a, 0);
  if (X64_IS_XMM(a.type)) {
    x64_to_reg(c, &b, 0);
    x64_emit_test_rr(c->b, false, cond.reg, cond.reg);
    size_t j = x64_emit_jcc(c->b, X64_CC_NE);
    x64_emit_sse_rr(c->b, 0, X64_SSE_MOVAPS, a.reg, b.reg);
    x64_patch_rel32(c->b, j, c->b->len);
  } else {
    x64_to_reg(c, &b, 0);
    x64_emit_test_rr(c->b, false, cond.reg, cond.reg);
    x64_emit_cmov(c->b, X64_CC_E, true, a.reg, b.reg);
  }
  x64_free_val(c, &b);
  x64_free_val(c, &cond);
  x64_push_reg(c, a.type, a.reg);
}

/* -- References with control flow ------------------------------------------------------------ */

static void br_on_null(x64_fn *c, const weft_instr *in, bool on_non_null) {
  if (bad(c) || c->stk.n == 0) return;
  if (c->stk.v[c->stk.n - 1].type == X64_T_V128) { /* a continuation reference */
    x64_cont_br_on_null(c, in, on_non_null);
    return;
  }
  x64_val r = x64_pop(c);
  x64_to_reg(c, &r, 0);
  if (!on_non_null) {
    x64_br_prepare(c, in->imm.x.a);
    x64_emit_test_rr(c->b, true, r.reg, r.reg);
    x64_br_if_cc(c, in->imm.x.a, X64_CC_E);
    x64_push_reg(c, r.type, r.reg);
  } else {
    x64_push_reg(c, r.type, r.reg);
    if (bad(c)) return;
    x64_br_prepare(c, in->imm.x.a);
    x64_val *top = &c->stk.v[c->stk.n - 1];
    if (top->kind == X64_VK_MEM) {
      x64_emit_load(c->b, true, X64_SCRATCH, x64_slot(c, top->depth));
      x64_emit_test_rr(c->b, true, X64_SCRATCH, X64_SCRATCH);
    } else {
      x64_emit_test_rr(c->b, true, top->reg, top->reg);
    }
    x64_br_if_cc(c, in->imm.x.a, X64_CC_NE);
    x64_val v = x64_pop(c);
    x64_free_val(c, &v);
  }
}

/* -- The function ---------------------------------------------------------------------------- */

static void prologue(x64_fn *c) {
  x64_buf *b = c->b;
  x64_emit_push(b, X64_RBP);
  x64_emit_mov_rr(b, true, X64_RBP, X64_RSP);
  x64_emit_alu_ri(b, X64_SUB, true, X64_RSP, 0x10000);
  c->frame_at = b->len - 4;
  x64_emit_store(b, true, x64_m(X64_RBP, -8), X64_RDI);
  if (c->ft->u.func.nresults > 1) x64_emit_store(b, true, x64_m(X64_RBP, -16), X64_RSI);
  x64_emit_mov_rr(b, true, X64_VMCTX, X64_RDI);
  x64_emit_load(b, true, X64_SCRATCH, x64_m(X64_VMCTX, 8));
  x64_emit_lea(b, true, X64_RAX, x64_m(X64_RSP, -0x10000));
  c->limit_at = b->len - 4;
  x64_emit_alu_rm(b, X64_CMP, true, X64_RAX, x64_m(X64_SCRATCH, 0));
  x64_trap_if(c, X64_CC_B, WEFT_TRAP_STACK_EXHAUSTED);
  uint32_t nd = c->nlocals - c->nparams;
  if (nd > 0 && nd <= 8) {
    for (uint32_t j = 0; j < nd; j++) {
      x64_mem m = x64_local_mem(c, c->nparams + j);
      x64_emit_store_imm32(b, true, m, 0);
      m.disp += 8;
      if (x64_type_of(c->ltypes[c->nparams + j]) == X64_T_V128) x64_emit_store_imm32(b, true, m, 0);
    }
  } else if (nd > 8) {
    x64_emit_alu_rr(b, X64_XOR, false, X64_RAX, X64_RAX);
    x64_emit_mov_ri(b, X64_RCX, (uint64_t)nd * 2);
    x64_emit_lea(b, true, X64_RDI, x64_local_mem(c, c->nlocals - 1));
    x64_emit_u8(b, 0xF3), x64_emit_u8(b, 0x48), x64_emit_u8(b, 0xAB); /* rep stosq */
  }
  x64_reload_membase(c);
  reload_pinned(c);
}

static int compile_body(x64_fn *c) {
  const weft_func *f = &c->m->funcs[c->fidx];
  const weft_instr *code = f->body.code;
  uint32_t n = f->body.ninstrs;
  uint32_t skip = 0;
  if (!push_ctrl(c, X64_CTRL_FUNC, WEFT_BT_EMPTY)) return x64_fail(c, WEFT_ERR_NOMEM, "out of memory");
  c->ctl.v[0].nresults = c->ft->u.func.nresults;
  c->ctl.v[0].height = 0;
  c->cur_off = n ? code[0].off : f->body_off; /* the stack check's trap site */
  prologue(c);
  for (uint32_t pc = 0; pc < n; pc++) {
    const weft_instr *in = &code[pc];
    if (bad(c)) break;
    if (c->unreachable) {
      switch (in->op) {
      case WEFT_OP_BLOCK: case WEFT_OP_LOOP: case WEFT_OP_IF: case WEFT_OP_TRY_TABLE:
        skip++;
        continue;
      case WEFT_OP_ELSE:
        if (skip) continue;
        break;
      case WEFT_OP_END:
        if (skip) {
          skip--;
          continue;
        }
        break;
      default:
        continue;
      }
    }
    c->cur_off = in->off;
    weft_pc_map_entry pe = {(uint32_t)c->b->len, in->off};
    x64_module_cc *mc = c->mc;
    if (mc->pcmap.n && mc->pcmap.v[mc->pcmap.n - 1].code_off == pe.code_off)
      mc->pcmap.v[mc->pcmap.n - 1].wasm_off = pe.wasm_off;
    else if (!X64_PUSH(mc, mc->pcmap, pe))
      c->oom = true;
    const weft_instr *next = pc + 1 < n ? &code[pc + 1] : NULL;
    switch (in->op) {
    case WEFT_OP_UNREACHABLE: trap_now(c, WEFT_TRAP_UNREACHABLE); set_unreachable(c); break;
    case WEFT_OP_NOP: break;
    case WEFT_OP_BLOCK: {
      x64_spill_all(c);
      push_ctrl(c, X64_CTRL_BLOCK, in->imm.x.a);
      break;
    }
    case WEFT_OP_LOOP: {
      x64_spill_all(c);
      x64_cache_clear(c);
      if (push_ctrl(c, X64_CTRL_LOOP, in->imm.x.a)) c->ctl.v[c->ctl.n - 1].loop_pc = c->b->len;
      break;
    }
    case WEFT_OP_IF: {
      x64_val cond = x64_pop(c);
      x64_to_reg(c, &cond, 0);
      x64_spill_all(c);
      x64_emit_test_rr(c->b, false, cond.reg, cond.reg);
      x64_free_val(c, &cond);
      x64_if_cc(c, in, X64_CC_NE);
      break;
    }
    case WEFT_OP_TRY_TABLE: {
      x64_spill_all(c);
      if (push_ctrl(c, X64_CTRL_BLOCK, in->imm.x.a)) x64_exn_try_begin(c, in);
      break;
    }
    case WEFT_OP_THROW: case WEFT_OP_THROW_REF: x64_isel_exn(c, in); break;
    case WEFT_OP_ELSE: do_else(c); break;
    case WEFT_OP_END:
      if (do_end(c)) pc = n;
      break;
    case WEFT_OP_BR: do_br(c, in->imm.x.a); break;
    case WEFT_OP_BR_IF: {
      x64_val cond = x64_pop(c);
      x64_to_reg(c, &cond, 0);
      x64_br_prepare(c, in->imm.x.a);
      x64_emit_test_rr(c->b, false, cond.reg, cond.reg);
      x64_free_val(c, &cond);
      x64_br_if_cc(c, in->imm.x.a, X64_CC_NE);
      break;
    }
    case WEFT_OP_BR_TABLE: do_br_table(c, in); break;
    case WEFT_OP_RETURN: emit_return(c); set_unreachable(c); break;
    case WEFT_OP_CALL: do_call(c, in->imm.x.a); break;
    case WEFT_OP_RETURN_CALL: {
      x64_spill_all(c);
      tail_call(c, &c->m->types[c->m->funcs[in->imm.x.a].type], 0, in->imm.x.a);
      break;
    }
    case WEFT_OP_CALL_INDIRECT: do_call_indirect(c, in, false); break;
    case WEFT_OP_RETURN_CALL_INDIRECT: do_call_indirect(c, in, true); break;
    case WEFT_OP_CALL_REF: do_call_ref(c, in, false); break;
    case WEFT_OP_RETURN_CALL_REF: do_call_ref(c, in, true); break;
    case WEFT_OP_DROP: {
      x64_val v = x64_pop(c);
      x64_free_val(c, &v);
      break;
    }
    case WEFT_OP_SELECT: case WEFT_OP_SELECT_T: do_select(c); break;
    case WEFT_OP_LOCAL_GET: local_get(c, in->imm.x.a); break;
    case WEFT_OP_LOCAL_SET: local_set(c, in->imm.x.a, false); break;
    case WEFT_OP_LOCAL_TEE: local_set(c, in->imm.x.a, true); break;
    case WEFT_OP_BR_ON_NULL: br_on_null(c, in, false); break;
    case WEFT_OP_BR_ON_NON_NULL: br_on_null(c, in, true); break;
    default: {
      bool consumed = false;
      if (x64_isel_num(c, in, next, &consumed)) {
        if (consumed) pc++;
        break;
      }
      if (x64_isel_simd(c, in)) break;
      if (x64_isel_cont(c, in)) break;
      if (x64_isel_gc(c, in)) {
        if (c->mc->err) return c->mc->err;
        break;
      }
      if (x64_isel_mem(c, in)) break;
      return x64_fail(c, WEFT_ERR_UNSUPPORTED, "function %u: instruction 0x%x not supported by x64-codegen",
                      c->fidx, in->op);
    }
    }
  }
  if (c->mc->err) return c->mc->err;
  /* out-of-line trap stubs */
  for (uint32_t i = 0; i < c->stubs.n; i++) {
    x64_trap_stub *s = &c->stubs.v[i];
    x64_patch_rel32(c->b, s->jcc_at, c->b->len);
    if (s->trap == WEFT_TRAP_UNINITIALIZED_ELEMENT) {
      elem_trap_stub(c, s);
      continue;
    }
    add_trap_site(c, c->b->len, s->trap, s->wasm_off);
    x64_emit_ud2(c->b);
  }
  uint32_t frame = 16 + 16 * (c->nlocals - c->nparams) + 16 * c->max_vdepth + 8 * c->max_depth;
  frame = (frame + 15) & ~15u;
  x64_exn_func_end(c, frame);
  /* the map slots counted from the frame's bottom become fp-relative */
  for (uint32_t i = 0; i < c->sm_fix.n && !bad(c); i++)
    if (c->sm_fix.v[i] < c->mc->smslots.n) c->mc->smslots.v[c->sm_fix.v[i]] -= (int32_t)frame;
  x64_patch_u32(c->b, c->frame_at, frame);
  x64_patch_u32(c->b, c->limit_at, (uint32_t)-(int32_t)(c->max_out + 64));
  if (c->oom || c->b->oom || c->mc->oom) return x64_fail(c, WEFT_ERR_NOMEM, "out of memory");
  return WEFT_OK;
}

int x64_compile_func(x64_module_cc *mc, uint32_t fidx) {
  x64_fn c;
  memset(&c, 0, sizeof c);
  c.mc = mc;
  c.host = mc->host;
  c.m = mc->m;
  c.b = &mc->buf;
  c.fidx = fidx;
  const weft_func *f = &mc->m->funcs[fidx];
  c.ft = &mc->m->types[f->type];
  c.nparams = c.ft->u.func.nparams;
  c.area = x64_area_size(c.nparams);
  c.has_mem0 = mc->m->nmems > 0;
  int rc = WEFT_OK;
  if ((uint64_t)c.nparams + f->nlocals > 1000000u) {
    rc = x64_fail(&c, WEFT_ERR_LIMIT, "function %u: too many locals", fidx);
    goto out;
  }
  c.nlocals = c.nparams + f->nlocals;
  c.ltypes = mc->host->alloc(mc->host->host, sizeof(weft_valtype) * (c.nlocals + 1));
  if (!c.ltypes) {
    rc = x64_fail(&c, WEFT_ERR_NOMEM, "out of memory");
    goto out;
  }
  for (uint32_t i = 0; i < c.nparams; i++) c.ltypes[i] = c.ft->u.func.params[i];
  for (uint32_t i = 0; i < f->nlocals; i++) c.ltypes[c.nparams + i] = f->locals[i];
  choose_pins(&c, &f->body, !mc->st->no_opt);
  /* r14 caches memory 0's base only in functions that access memory 0 */
  c.has_mem0 = c.has_mem0 && c.uses_mem0;
  rc = compile_body(&c);
out:
  if (c.ltypes) mc->host->free(mc->host->host, c.ltypes);
  if (c.stk.v) mc->host->free(mc->host->host, c.stk.v);
  if (c.ctl.v) mc->host->free(mc->host->host, c.ctl.v);
  if (c.fix.v) mc->host->free(mc->host->host, c.fix.v);
  if (c.stubs.v) mc->host->free(mc->host->host, c.stubs.v);
  if (c.sm_fix.v) mc->host->free(mc->host->host, c.sm_fix.v);
  x64_exn_free(&c);
  return rc;
}
