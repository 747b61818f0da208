/* plugins/x64-codegen/x64_isel_exn.c -- exception handling in the single-pass compiler: throw,
 * throw_ref, try_table and the handler table (weft_handler_entry, plugin/codegen.h).
 * Zero cost until thrown: entering a try_table emits nothing; its catch clauses become handler
 * entries keyed by the code range of its body, and out-of-line landing stubs at the function's end
 * (reload vmctx, memory base and pinned locals, then jump to the catch label, whose end is made a
 * merge point). The core's unwinder (core/exn.c) writes the payload into the label's operand slots.
 * Depends on: x64_int.h, x64_emit.h, module.h, vm.h (libcall ids).
 */
#include <string.h>

#include "x64_int.h"

/* -- Per-function state ---------------------------------------------------------------------- */

typedef struct exn_try {
  uint32_t start;                 /* code offset of the body */
  uint32_t first, n;              /* its clauses */
} exn_try;

typedef struct exn_clause {
  uint32_t kind, tag;             /* weft_catch_kind, module tag index */
  uint32_t target;                /* control-stack index of the target label */
  uint32_t slot, nvals;           /* where the values go (label height) and how many */
  bool func_target;               /* the function's own label: the stub returns */
  bool resolved;                  /* label_off is known */
  bool wide;                      /* the tag has a v128 parameter: the stub places the payload */
  size_t label_off;
  uint32_t handler;               /* index in mc->handlers once the try_table ended */
} exn_clause;

struct x64_exn_fn {
  X64_VEC(exn_try) tries;
  X64_VEC(exn_clause) clauses;
};

static struct x64_exn_fn *state(x64_fn *c) {
  if (c->exn) return c->exn;
  struct x64_exn_fn *e = c->host->alloc(c->host->host, sizeof *e);
  if (!e) {
    c->oom = true;
    return NULL;
  }
  memset(e, 0, sizeof *e);
  c->exn = e;
  return e;
}

void x64_exn_free(x64_fn *c) {
  struct x64_exn_fn *e = c->exn;
  if (!e) return;
  if (e->tries.v) c->host->free(c->host->host, e->tries.v);
  if (e->clauses.v) c->host->free(c->host->host, e->clauses.v);
  c->host->free(c->host->host, e);
  c->exn = NULL;
}

static uint32_t tag_nparams(x64_fn *c, uint32_t tag) {
  const weft_type *t = &c->m->types[c->m->tags[tag].type];
  return t->u.func.nparams;
}

/* Payload values travel in 8-byte operand slots (the throw reads them, the unwinder writes them),
 * except for tags with a v128 parameter: v128 values live in 16-byte slots (x64_vslot), so those
 * throw with 16-byte cells and are caught by a landing stub that places the payload itself. */
static bool tag_wide(x64_fn *c, uint32_t tag) {
  const weft_type *t = &c->m->types[c->m->tags[tag].type];
  for (uint32_t i = 0; i < t->u.func.nparams; i++)
    if (x64_type_of(t->u.func.params[i]) == X64_T_V128) return true; /* v128 or a contref */
  return false;
}

static int tag_param_type(x64_fn *c, uint32_t tag, uint32_t i) {
  return x64_type_of(c->m->types[c->m->tags[tag].type].u.func.params[i]);
}

/* Pops everything down to the current block's height and marks the rest unreachable. */
static void end_reachable(x64_fn *c) {
  uint32_t h = c->ctl.n ? c->ctl.v[c->ctl.n - 1].height : 0;
  while (c->stk.n > h) {
    x64_val v = x64_pop(c);
    x64_free_val(c, &v);
  }
  c->unreachable = true;
}

/* -- throw, throw_ref ------------------------------------------------------------------------ */

static void do_throw(x64_fn *c, uint32_t tag) {
  if (tag >= c->m->ntags) {
    x64_fail(c, WEFT_ERR_INVALID, "function %u: throw of unknown tag %u", c->fidx, tag);
    return;
  }
  uint32_t n = tag_nparams(c, tag);
  if (n > c->stk.n) {
    x64_fail(c, WEFT_ERR_INVALID, "function %u: throw without its %u values", c->fidx, n);
    return;
  }
  x64_save_pinned(c);
  x64_spill_all(c);
  uint32_t base = c->stk.n - n, flag = 0;
  if (tag_wide(c, tag)) {
    /* 16-byte cells below rsp, filled from the 8- and 16-byte operand slots */
    uint32_t area = 16 * n;
    x64_emit_alu_ri(c->b, X64_SUB, true, X64_RSP, (int32_t)area);
    c->sp_off += (int32_t)area;
    if ((uint32_t)c->sp_off > c->max_out) c->max_out = (uint32_t)c->sp_off;
    for (uint32_t i = 0; i < n; i++) {
      x64_mem cell = x64_m(X64_RSP, (int32_t)(16 * i));
      if (c->stk.v[base + i].type == X64_T_V128) {
        x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_LD, X64_XSCRATCH, x64_vslot(c, base + i));
        x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_ST, X64_XSCRATCH, cell);
      } else {
        x64_emit_load(c->b, true, X64_SCRATCH, x64_slot(c, base + i));
        x64_emit_store(c->b, true, cell, X64_SCRATCH);
      }
    }
    x64_emit_mov_rr(c->b, true, X64_RDX, X64_RSP);
    c->sp_off -= (int32_t)area; /* never returns: the area is not popped */
    flag = WEFT_THROW_WIDE_PAYLOAD;
  } else {
    /* the payload is the top n operand slots, contiguous once everything is spilled */
    x64_emit_lea(c->b, true, X64_RDX, x64_slot(c, base));
  }
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  x64_emit_mov_ri32(c->b, X64_RSI, tag | flag);
  x64_emit_mov_rr(c->b, true, X64_RCX, X64_RBP);
  x64_call_libcall(c, WEFT_LC_THROW);
  x64_emit_ud2(c->b);
  end_reachable(c);
}

static void do_throw_ref(x64_fn *c) {
  if (c->stk.n == 0) {
    x64_fail(c, WEFT_ERR_INVALID, "function %u: throw_ref without its operand", c->fidx);
    return;
  }
  x64_val r = x64_pop(c);
  x64_save_pinned(c);
  x64_spill_all(c);
  x64_to_reg_fixed(c, &r, X64_RSI);
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  x64_emit_mov_rr(c->b, true, X64_RDX, X64_RBP);
  x64_call_libcall(c, WEFT_LC_THROW_REF);
  x64_emit_ud2(c->b);
  x64_free_val(c, &r);
  end_reachable(c);
}

int x64_isel_exn(x64_fn *c, const weft_instr *in) {
  switch (in->op) {
  case WEFT_OP_THROW: do_throw(c, in->imm.x.a); return 1;
  case WEFT_OP_THROW_REF: do_throw_ref(c); return 1;
  default: return 0;
  }
}

/* -- try_table ------------------------------------------------------------------------------- */

/* The block of the try_table is on top of the control stack; its catch labels count from the
 * block around it (the try_table's own label is not in their scope). */
void x64_exn_try_begin(x64_fn *c, const weft_instr *in) {
  struct x64_exn_fn *e = state(c);
  if (!e || c->ctl.n == 0) return;
  uint32_t pool = in->imm.x.b, ncatch = in->imm.x.c;
  if (pool > c->m->npool || ncatch > (c->m->npool - pool) / 3) {
    x64_fail(c, WEFT_ERR_INVALID, "function %u: try_table catches outside the pool", c->fidx);
    return;
  }
  exn_try t = {(uint32_t)c->b->len, e->clauses.n, ncatch};
  if (!X64_PUSH(c, e->tries, t)) return;
  c->ctl.v[c->ctl.n - 1].exn_try = e->tries.n;
  for (uint32_t i = 0; i < ncatch; i++) {
    const uint32_t *w = c->m->pool + pool + 3 * i;
    uint32_t kind = w[0], tag = w[1], depth = w[2];
    if (depth + 2 > c->ctl.n || kind > WEFT_CATCH_ALL_REF ||
        ((kind == WEFT_CATCH || kind == WEFT_CATCH_REF) && tag >= c->m->ntags)) {
      x64_fail(c, WEFT_ERR_INVALID, "function %u: bad catch clause %u", c->fidx, i);
      return;
    }
    bool wide = (kind == WEFT_CATCH || kind == WEFT_CATCH_REF) && tag_wide(c, tag);
    uint32_t ti = c->ctl.n - 2 - depth;
    x64_ctrl *k = &c->ctl.v[ti];
    uint32_t arity = k->kind == X64_CTRL_LOOP ? k->nparams : k->nresults;
    uint32_t want = kind == WEFT_CATCH ? tag_nparams(c, tag)
                    : kind == WEFT_CATCH_REF ? tag_nparams(c, tag) + 1
                    : kind == WEFT_CATCH_ALL ? 0 : 1;
    if (arity != want) {
      x64_fail(c, WEFT_ERR_INVALID, "function %u: catch clause %u: label takes %u values, not %u",
               c->fidx, i, arity, want);
      return;
    }
    exn_clause cl;
    memset(&cl, 0, sizeof cl);
    cl.kind = kind;
    cl.tag = kind == WEFT_CATCH || kind == WEFT_CATCH_REF ? tag : UINT32_MAX;
    cl.target = ti;
    cl.slot = k->kind == X64_CTRL_FUNC ? 0 : k->height;
    cl.nvals = arity;
    cl.handler = UINT32_MAX;
    cl.wide = wide;
    /* These slots are written at the landing even if no other code in the function touches them
     * (the values may be dropped unread): make the frame hold them. */
    for (uint32_t j = 0; j < arity; j++) {
      if (wide && j < arity - (kind == WEFT_CATCH_REF) && tag_param_type(c, tag, j) == X64_T_V128)
        (void)x64_vslot(c, cl.slot + j);
      else
        (void)x64_slot(c, cl.slot + j);
    }
    if (k->kind == X64_CTRL_FUNC) {
      cl.func_target = true;
    } else if (k->kind == X64_CTRL_LOOP) {
      cl.resolved = true;
      cl.label_off = k->loop_pc;
    } else {
      k->exn_target = true;
    }
    if (!X64_PUSH(c, e->clauses, cl)) return;
  }
}

/* The body ends here: its clauses become handler entries (inner try_tables end first, so their
 * entries come first, which is the order the unwinder searches). */
void x64_exn_try_end(x64_fn *c, const x64_ctrl *k) {
  struct x64_exn_fn *e = c->exn;
  if (!e || k->exn_try == 0 || k->exn_try > e->tries.n) return;
  exn_try *t = &e->tries.v[k->exn_try - 1];
  for (uint32_t i = t->first; i < t->first + t->n && i < e->clauses.n; i++) {
    exn_clause *cl = &e->clauses.v[i];
    uint32_t kind = cl->kind | (cl->wide ? WEFT_HANDLER_STUB_PAYLOAD : 0u);
    weft_handler_entry h = {t->start, (uint32_t)c->b->len, cl->tag, kind, 0, 0, cl->slot, 0};
    if (!X64_PUSH(c->mc, c->mc->handlers, h)) {
      c->oom = true;
      return;
    }
    cl->handler = c->mc->handlers.n - 1;
  }
}

void x64_exn_label_end(x64_fn *c, uint32_t kidx) {
  struct x64_exn_fn *e = c->exn;
  if (!e) return;
  for (uint32_t i = 0; i < e->clauses.n; i++) {
    exn_clause *cl = &e->clauses.v[i];
    if (!cl->resolved && !cl->func_target && cl->target == kidx) {
      cl->resolved = true;
      cl->label_off = c->b->len;
    }
  }
}

/* -- Landing stubs --------------------------------------------------------------------------- */

/* The function's own label: return the values the unwinder put in slots [0, n). */
static void stub_return(x64_fn *c, uint32_t n) {
  if (n == 1) {
    x64_emit_load(c->b, true, X64_RAX, x64_m(X64_RSP, 0));
  } else if (n > 1) {
    x64_emit_load(c->b, true, X64_SCRATCH, x64_m(X64_RBP, -16));
    for (uint32_t i = 0; i < n; i++) {
      x64_emit_load(c->b, true, X64_RAX, x64_m(X64_RSP, (int32_t)(8 * i)));
      x64_emit_store(c->b, true, x64_m(X64_SCRATCH, (int32_t)(8 * i)), X64_RAX);
    }
  }
  x64_emit_mov_rr(c->b, true, X64_RSP, X64_RBP);
  x64_emit_pop(c->b, X64_RBP);
  x64_emit_ret(c->b, (uint16_t)c->area);
}

/* A wide clause to the function's own label: return the payload straight from the exception
 * object in rax, as `return` would (x64_target.h): one 16-byte value in rdx:rax, several in
 * 16-byte result slots at [rbp - 16], and the exnref last for catch_ref. */
static void stub_return_wide(x64_fn *c, const exn_clause *cl) {
  uint32_t n = tag_nparams(c, cl->tag);
  int32_t off = (int32_t)WEFT_EXN_PAYLOAD_OFFSET;
  if (cl->nvals == 1) { /* the one value is wide */
    x64_emit_load(c->b, true, X64_RDX, x64_m(X64_RAX, off + 8));
    x64_emit_load(c->b, true, X64_RAX, x64_m(X64_RAX, off));
  } else {
    x64_emit_load(c->b, true, X64_SCRATCH, x64_m(X64_RBP, -16));
    for (uint32_t i = 0; i < n; i++) {
      x64_mem src = x64_m(X64_RAX, off + (int32_t)(16 * i));
      x64_mem dst = x64_m(X64_SCRATCH, (int32_t)(16 * i));
      if (tag_param_type(c, cl->tag, i) == X64_T_V128) {
        x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_LD, X64_XSCRATCH, src);
        x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_ST, X64_XSCRATCH, dst);
      } else {
        x64_emit_load(c->b, true, X64_RCX, src);
        x64_emit_store(c->b, true, dst, X64_RCX);
      }
    }
    if (cl->kind == WEFT_CATCH_REF)
      x64_emit_store(c->b, true, x64_m(X64_SCRATCH, (int32_t)(16 * n)), X64_RAX);
  }
  x64_emit_mov_rr(c->b, true, X64_RSP, X64_RBP);
  x64_emit_pop(c->b, X64_RBP);
  x64_emit_ret(c->b, (uint16_t)c->area);
}

/* A wide clause: rax = the exception object (the reloads above leave rax alone); copy each payload
 * value into its slot, then the exnref for catch_ref. */
static void stub_payload(x64_fn *c, const exn_clause *cl) {
  uint32_t n = tag_nparams(c, cl->tag);
  for (uint32_t i = 0; i < n; i++) {
    x64_mem src = x64_m(X64_RAX, (int32_t)(WEFT_EXN_PAYLOAD_OFFSET + 16 * i));
    if (tag_param_type(c, cl->tag, i) == X64_T_V128) {
      x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_LD, X64_XSCRATCH, src);
      x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_ST, X64_XSCRATCH, x64_vslot(c, cl->slot + i));
    } else {
      x64_emit_load(c->b, true, X64_SCRATCH, src);
      x64_emit_store(c->b, true, x64_slot(c, cl->slot + i), X64_SCRATCH);
    }
  }
  if (cl->kind == WEFT_CATCH_REF) x64_emit_store(c->b, true, x64_slot(c, cl->slot + n), X64_RAX);
}

void x64_exn_func_end(x64_fn *c, uint32_t frame) {
  struct x64_exn_fn *e = c->exn;
  if (!e) return;
  for (uint32_t i = 0; i < e->clauses.n; i++) {
    exn_clause *cl = &e->clauses.v[i];
    if (cl->handler == UINT32_MAX || cl->handler >= c->mc->handlers.n) continue;
    if (!cl->func_target && !cl->resolved) {
      x64_fail(c, WEFT_ERR_INTERNAL, "function %u: catch label never ended", c->fidx);
      return;
    }
    weft_handler_entry *h = &c->mc->handlers.v[cl->handler];
    h->landing = (uint32_t)c->b->len;
    h->frame = frame;
    x64_emit_load(c->b, true, X64_VMCTX, x64_m(X64_RBP, -8));
    x64_reload_membase(c);
    x64_after_libcall(c);
    if (cl->wide && cl->func_target) {
      stub_return_wide(c, cl);
      continue;
    }
    if (cl->wide) stub_payload(c, cl);
    if (cl->func_target) {
      stub_return(c, cl->nvals);
    } else {
      size_t at = x64_emit_jmp(c->b);
      x64_patch_rel32(c->b, at, cl->label_off);
    }
  }
}
