/* plugins/validator/validator_func.c -- the spec's validation algorithm over instruction sequences.
 *
 *   weft_instr[] --> dispatch: simple signature table (opcodes.h) | control | variables | memory
 *                    | tables | calls | validator_ref.c (references, GC, stack switching)
 *                --> value stack + control stack (reused across bodies, no per-instruction allocation)
 * Also validates constant expressions with the same machinery. Depends on: validator_int.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <threads.h>

#include "validator_int.h"

/* -- Errors ---------------------------------------------------------------------------------- */

int vld_fail(vld_ctx *c, int code, const char *fmt, ...) {
  if (c->status != WEFT_OK) return c->status;
  va_list ap;
  va_start(ap, fmt);
  c->host->diag(c->host->host, c->d, code, c->off, VLD_ORIGIN, fmt, ap);
  va_end(ap);
  c->status = code;
  return code;
}

int vld_nomem(vld_ctx *c) {
  return vld_fail(c, WEFT_ERR_NOMEM, "out of memory while validating");
}

/* "type mismatch: instruction requires [ts] but stack has [top avail]" */
static int mismatch_list(vld_ctx *c, const weft_valtype *ts, uint32_t n, uint32_t avail) {
  char req[128], has[128];
  size_t a = 0, b = 0;
  for (uint32_t i = 0; i < n && a + 24 < sizeof req; i++) {
    if (i) req[a++] = ' ';
    a += vld_fmt_type(c, ts[i], req + a, sizeof req - a);
  }
  req[a] = 0;
  uint32_t shown = avail < n ? avail : n;
  for (uint32_t i = 0; i < shown && b + 24 < sizeof has; i++) {
    if (i) has[b++] = ' ';
    b += vld_fmt_type(c, c->vals[c->nvals - shown + i], has + b, sizeof has - b);
  }
  has[b] = 0;
  return vld_fail(c, WEFT_ERR_INVALID, "type mismatch: instruction requires [%s] but stack has [%s]",
                  req, has);
}

/* -- Value stack ----------------------------------------------------------------------------- */

static int grow(vld_ctx *c, void **p, uint32_t *cap, uint32_t need, size_t elem) {
  if (need <= *cap) return WEFT_OK;
  uint64_t n = *cap ? (uint64_t)*cap * 2 : 64;
  while (n < need) n *= 2;
  if (n > UINT32_MAX) return vld_fail(c, WEFT_ERR_LIMIT, "validator stack too large");
  void *q = c->host->realloc(c->host->host, *p, (size_t)n * elem);
  if (!q) return vld_nomem(c);
  *p = q;
  *cap = (uint32_t)n;
  return WEFT_OK;
}

static inline vld_ctrl *top_ctrl(vld_ctx *c) { return &c->ctrls[c->nctrls - 1]; }

int vld_push(vld_ctx *c, weft_valtype t) {
  if (c->nvals == c->capvals &&
      grow(c, (void **)&c->vals, &c->capvals, c->nvals + 1, sizeof(weft_valtype)))
    return c->status;
  c->vals[c->nvals++] = t;
  return WEFT_OK;
}

int vld_push_list(vld_ctx *c, const weft_valtype *ts, uint32_t n) {
  if (n == 0) return WEFT_OK;
  if (c->nvals + (uint64_t)n > c->capvals &&
      grow(c, (void **)&c->vals, &c->capvals, c->nvals + n, sizeof(weft_valtype)))
    return c->status;
  memcpy(c->vals + c->nvals, ts, (size_t)n * sizeof *ts);
  c->nvals += n;
  return WEFT_OK;
}

int vld_pop(vld_ctx *c, weft_valtype *out) {
  vld_ctrl *f = top_ctrl(c);
  if (c->nvals > f->height) {
    *out = c->vals[--c->nvals];
    return WEFT_OK;
  }
  *out = VLD_BOT;
  if (f->unreachable) return WEFT_OK;
  return vld_fail(c, WEFT_ERR_INVALID, "type mismatch: instruction requires a value but stack has []");
}

int vld_pop_expect(vld_ctx *c, weft_valtype expect, weft_valtype *out) {
  vld_ctrl *f = top_ctrl(c);
  if (c->nvals > f->height) {
    weft_valtype a = c->vals[c->nvals - 1];
    if (a != expect && !vld_val_sub(c, a, expect)) return mismatch_list(c, &expect, 1, 1);
    c->nvals--;
    if (out) *out = a;
    return WEFT_OK;
  }
  if (out) *out = VLD_BOT;
  if (f->unreachable) return WEFT_OK;
  return mismatch_list(c, &expect, 1, 0);
}

/* Checks that the top of the stack matches ts without popping (br_table, peeks). */
static int peek_list(vld_ctx *c, const weft_valtype *ts, uint32_t n, uint32_t *out_avail) {
  vld_ctrl *f = top_ctrl(c);
  uint32_t avail = c->nvals - f->height;
  for (uint32_t i = 0; i < n; i++) {
    if (i < avail) {
      weft_valtype a = c->vals[c->nvals - 1 - i], e = ts[n - 1 - i];
      if (a != e && !vld_val_sub(c, a, e)) return mismatch_list(c, ts, n, avail);
    } else if (!f->unreachable) {
      return mismatch_list(c, ts, n, avail);
    } else {
      break;
    }
  }
  *out_avail = avail;
  return WEFT_OK;
}

int vld_pop_list(vld_ctx *c, const weft_valtype *ts, uint32_t n) {
  uint32_t avail;
  if (peek_list(c, ts, n, &avail)) return c->status;
  c->nvals -= avail < n ? avail : n;
  return WEFT_OK;
}

int vld_pop_ref(vld_ctx *c, weft_valtype *out) {
  weft_valtype t;
  if (vld_pop(c, &t)) return c->status;
  if (t == VLD_BOT) {
    *out = WEFT_VT_MAKE_REF(0, VLD_HT_BOT);
    return WEFT_OK;
  }
  if (!WEFT_VT_IS_REF(t)) {
    char b[48];
    vld_fmt_type(c, t, b, sizeof b);
    return vld_fail(c, WEFT_ERR_INVALID,
                    "type mismatch: instruction requires reference type but stack has [%s]", b);
  }
  *out = t;
  return WEFT_OK;
}

int vld_set_unreachable(vld_ctx *c) {
  vld_ctrl *f = top_ctrl(c);
  c->nvals = f->height;
  f->unreachable = true;
  return WEFT_OK;
}

/* -- Control stack --------------------------------------------------------------------------- */

static const weft_valtype *ctrl_results(vld_ctrl *f) { return f->results ? f->results : &f->single; }

int vld_label(vld_ctx *c, uint32_t depth, const weft_valtype **out_ts, uint32_t *out_n) {
  if (depth >= c->nctrls) return vld_fail(c, WEFT_ERR_INVALID, "unknown label %u", depth);
  vld_ctrl *f = &c->ctrls[c->nctrls - 1 - depth];
  if (f->op == WEFT_OP_LOOP) {
    *out_ts = f->params;
    *out_n = f->nparams;
  } else {
    *out_ts = ctrl_results(f);
    *out_n = f->nresults;
  }
  return WEFT_OK;
}

/* Decodes a block type into a frame's params/results. */
static int blocktype(vld_ctx *c, weft_blocktype bt, vld_ctrl *f) {
  f->params = NULL;
  f->nparams = 0;
  f->results = NULL;
  f->nresults = 0;
  f->single = VLD_BOT;
  if (bt == WEFT_BT_EMPTY) return WEFT_OK;
  if (WEFT_BT_IS_TYPEIDX(bt)) {
    const weft_type *t = vld_type(c, WEFT_BT_TYPEIDX(bt));
    if (!t) return vld_fail(c, WEFT_ERR_INVALID, "unknown type %u", WEFT_BT_TYPEIDX(bt));
    if (t->comp != WEFT_COMP_FUNC)
      return vld_fail(c, WEFT_ERR_INVALID, "non-function type %u", WEFT_BT_TYPEIDX(bt));
    f->params = t->u.func.params;
    f->nparams = t->u.func.nparams;
    f->results = t->u.func.results;
    f->nresults = t->u.func.nresults;
    return WEFT_OK;
  }
  if (vld_check_valtype(c, (weft_valtype)bt, c->m->ntypes)) return c->status;
  if (bt == WEFT_VT_I8 || bt == WEFT_VT_I16) return vld_fail(c, WEFT_ERR_INVALID, "malformed value type");
  f->single = (weft_valtype)bt;
  f->nresults = 1;
  return WEFT_OK;
}

/* Pops the block's params from the enclosing frame and enters the block. */
static int push_ctrl(vld_ctx *c, uint16_t op, const vld_ctrl *proto) {
  if (c->nctrls >= c->st->max_nesting)
    return vld_fail(c, WEFT_ERR_LIMIT, "control nesting deeper than max_nesting = %u",
                    c->st->max_nesting);
  if (c->nctrls && vld_pop_list(c, proto->params, proto->nparams)) return c->status;
  if (c->nctrls == c->capctrls &&
      grow(c, (void **)&c->ctrls, &c->capctrls, c->nctrls + 1, sizeof(vld_ctrl)))
    return c->status;
  vld_ctrl *f = &c->ctrls[c->nctrls++];
  *f = *proto;
  f->op = op;
  f->unreachable = false;
  f->height = c->nvals;
  f->init_height = c->ninit;
  return vld_push_list(c, f->params, f->nparams);
}

static void reset_locals(vld_ctx *c, uint32_t init_height) {
  while (c->ninit > init_height) c->local_init[c->init_stack[--c->ninit]] = 0;
}

/* Checks the frame's results and leaves it; *out receives a copy. */
static int pop_ctrl(vld_ctx *c, vld_ctrl *out) {
  vld_ctrl *f = top_ctrl(c);
  if (vld_pop_list(c, ctrl_results(f), f->nresults)) return c->status;
  if (c->nvals != f->height) {
    char b[48];
    vld_fmt_type(c, c->vals[c->nvals - 1], b, sizeof b);
    return vld_fail(c, WEFT_ERR_INVALID,
                    "type mismatch: block requires [] but stack has [%s] left over", b);
  }
  *out = *f;
  reset_locals(c, f->init_height);
  c->nctrls--;
  return WEFT_OK;
}

/* -- Index helpers --------------------------------------------------------------------------- */

int vld_check_tag(vld_ctx *c, uint32_t tag, const weft_type **out) {
  if (tag >= c->m->ntags) return vld_fail(c, WEFT_ERR_INVALID, "unknown tag %u", tag);
  const weft_type *t = vld_func_type(c, c->m->tags[tag].type);
  if (!t) return c->status;
  *out = t;
  return WEFT_OK;
}

static int check_mem(vld_ctx *c, uint32_t mem, weft_valtype *out_at) {
  if (mem >= c->m->nmems) return vld_fail(c, WEFT_ERR_INVALID, "unknown memory %u", mem);
  *out_at = c->m->mems[mem].limits.is64 ? WEFT_VT_I64 : WEFT_VT_I32;
  return WEFT_OK;
}

static int check_table(vld_ctx *c, uint32_t t, weft_valtype *out_at, weft_valtype *out_elem) {
  if (t >= c->m->ntables) return vld_fail(c, WEFT_ERR_INVALID, "unknown table %u", t);
  *out_at = c->m->tables[t].type.limits.is64 ? WEFT_VT_I64 : WEFT_VT_I32;
  *out_elem = c->m->tables[t].type.elem;
  return WEFT_OK;
}

static int check_data(vld_ctx *c, uint32_t d) {
  if (!c->m->has_data_count)
    return vld_fail(c, WEFT_ERR_INVALID, "data count section required");
  if (d >= c->m->data_count) return vld_fail(c, WEFT_ERR_INVALID, "unknown data segment %u", d);
  return WEFT_OK;
}

/* log2 of the natural alignment of a memory access, or -1 when op is not one. */
static int natural_align(uint16_t op) {
  switch (op) {
  case WEFT_OP_I32_LOAD8_S: case WEFT_OP_I32_LOAD8_U: case WEFT_OP_I64_LOAD8_S:
  case WEFT_OP_I64_LOAD8_U: case WEFT_OP_I32_STORE8: case WEFT_OP_I64_STORE8:
  case WEFT_OP_V128_LOAD8_SPLAT: case WEFT_OP_V128_LOAD8_LANE: case WEFT_OP_V128_STORE8_LANE:
    return 0;
  case WEFT_OP_I32_LOAD16_S: case WEFT_OP_I32_LOAD16_U: case WEFT_OP_I64_LOAD16_S:
  case WEFT_OP_I64_LOAD16_U: case WEFT_OP_I32_STORE16: case WEFT_OP_I64_STORE16:
  case WEFT_OP_V128_LOAD16_SPLAT: case WEFT_OP_V128_LOAD16_LANE: case WEFT_OP_V128_STORE16_LANE:
    return 1;
  case WEFT_OP_I32_LOAD: case WEFT_OP_F32_LOAD: case WEFT_OP_I64_LOAD32_S: case WEFT_OP_I64_LOAD32_U:
  case WEFT_OP_I32_STORE: case WEFT_OP_F32_STORE: case WEFT_OP_I64_STORE32:
  case WEFT_OP_V128_LOAD32_SPLAT: case WEFT_OP_V128_LOAD32_LANE: case WEFT_OP_V128_STORE32_LANE:
  case WEFT_OP_V128_LOAD32_ZERO:
    return 2;
  case WEFT_OP_I64_LOAD: case WEFT_OP_F64_LOAD: case WEFT_OP_I64_STORE: case WEFT_OP_F64_STORE:
  case WEFT_OP_V128_LOAD8X8_S: case WEFT_OP_V128_LOAD8X8_U: case WEFT_OP_V128_LOAD16X4_S:
  case WEFT_OP_V128_LOAD16X4_U: case WEFT_OP_V128_LOAD32X2_S: case WEFT_OP_V128_LOAD32X2_U:
  case WEFT_OP_V128_LOAD64_SPLAT: case WEFT_OP_V128_LOAD64_LANE: case WEFT_OP_V128_STORE64_LANE:
  case WEFT_OP_V128_LOAD64_ZERO:
    return 3;
  case WEFT_OP_V128_LOAD: case WEFT_OP_V128_STORE:
    return 4;
  default:
    return -1;
  }
}

/* Number of lanes addressed by a lane immediate, or 0 when op has none. */
static uint32_t lane_count(uint16_t op) {
  switch (op) {
  case WEFT_OP_I8X16_EXTRACT_LANE_S: case WEFT_OP_I8X16_EXTRACT_LANE_U:
  case WEFT_OP_I8X16_REPLACE_LANE: case WEFT_OP_V128_LOAD8_LANE: case WEFT_OP_V128_STORE8_LANE:
    return 16;
  case WEFT_OP_I16X8_EXTRACT_LANE_S: case WEFT_OP_I16X8_EXTRACT_LANE_U:
  case WEFT_OP_I16X8_REPLACE_LANE: case WEFT_OP_V128_LOAD16_LANE: case WEFT_OP_V128_STORE16_LANE:
    return 8;
  case WEFT_OP_I32X4_EXTRACT_LANE: case WEFT_OP_I32X4_REPLACE_LANE: case WEFT_OP_F32X4_EXTRACT_LANE:
  case WEFT_OP_F32X4_REPLACE_LANE: case WEFT_OP_V128_LOAD32_LANE: case WEFT_OP_V128_STORE32_LANE:
    return 4;
  case WEFT_OP_I64X2_EXTRACT_LANE: case WEFT_OP_I64X2_REPLACE_LANE: case WEFT_OP_F64X2_EXTRACT_LANE:
  case WEFT_OP_F64X2_REPLACE_LANE: case WEFT_OP_V128_LOAD64_LANE: case WEFT_OP_V128_STORE64_LANE:
    return 2;
  default:
    return 0;
  }
}

/* -- Simple signatures (opcodes.h column 5) ---------------------------------------------------- */

/* One entry per opcode, filled once from the signature column. Operand/result types are valtype
 * codes, or SIG_ADDR for "address of the memory's index type". `checks` marks the ops that need more
 * than the stack effect (memory immediates, lane indices, shuffle lanes). */
#define SIG_ADDR 0xFFu
typedef struct sig {
  uint8_t simple; /* 1 when the typing is fixed by the signature */
  uint8_t npop;
  uint8_t pop[3];
  uint8_t push;   /* 0: no result */
  uint8_t checks; /* 1: see slow path */
  int8_t nat;     /* log2 natural alignment of a memory access, or -1 */
  uint8_t lanes;  /* lane count of a lane immediate, or 0 */
} sig;

static sig sigs[WEFT_OP_LIMIT];
static once_flag sigs_once = ONCE_FLAG_INIT;

static uint8_t sig_code(char ch) {
  switch (ch) {
  case 'i': return WEFT_VT_I32;
  case 'l': return WEFT_VT_I64;
  case 'f': return WEFT_VT_F32;
  case 'd': return WEFT_VT_F64;
  case 'v': return WEFT_VT_V128;
  default: return SIG_ADDR;
  }
}

static void parse_sig(uint16_t op, const char *s) {
  sig g;
  memset(&g, 0, sizeof g);
  if (s[0] == '-') return;
  g.simple = 1;
  while (*s && *s != ':' && g.npop < 3) g.pop[g.npop++] = sig_code(*s++);
  if (*s == ':') s++;
  if (*s) g.push = sig_code(*s);
  g.nat = (int8_t)natural_align(op);
  g.lanes = (uint8_t)lane_count(op);
  g.checks = g.nat >= 0 || g.lanes || op == WEFT_OP_I8X16_SHUFFLE;
  sigs[op] = g;
}

static void sigs_fill(void) {
#define VLD_SIG(id, code, text, imm, sg) parse_sig((uint16_t)(code), sg);
  WEFT_OPCODE_LIST(VLD_SIG)
#undef VLD_SIG
}

/* Fills the table exactly once (thread-safe); called from the plugin's init, so before any
 * validation can run. */
void vld_sigs_init(void) { call_once(&sigs_once, sigs_fill); }

static inline weft_valtype sig_type(uint8_t code, weft_valtype at) {
  return code == SIG_ADDR ? at : (weft_valtype)code;
}

static int simple_mismatch(vld_ctx *c, const sig *g, weft_valtype at) {
  weft_valtype ts[3];
  for (uint32_t k = 0; k < g->npop; k++) ts[k] = sig_type(g->pop[k], at);
  return mismatch_list(c, ts, g->npop, c->nvals - top_ctrl(c)->height);
}

/* Memory immediates, lane indices and constant-expression rules: the less common cases. */
static int simple_checks(vld_ctx *c, const weft_instr *in, const sig *g, weft_valtype *at) {
  if (c->in_const) {
    /* Extended constant expressions: only i32/i64 add, sub, mul and the constants. */
    switch (in->op) {
    case WEFT_OP_I32_CONST: case WEFT_OP_I64_CONST: case WEFT_OP_F32_CONST: case WEFT_OP_F64_CONST:
    case WEFT_OP_V128_CONST: case WEFT_OP_I32_ADD: case WEFT_OP_I32_SUB: case WEFT_OP_I32_MUL:
    case WEFT_OP_I64_ADD: case WEFT_OP_I64_SUB: case WEFT_OP_I64_MUL:
      break;
    default:
      return vld_fail(c, WEFT_ERR_INVALID, "constant expression required");
    }
  }
  if (g->nat >= 0) {
    if (check_mem(c, in->imm.mem.mem, at)) return c->status;
    if (*at == WEFT_VT_I32 && in->imm.mem.offset > UINT32_MAX)
      return vld_fail(c, WEFT_ERR_INVALID, "offset out of range");
    if (in->imm.mem.align > (uint32_t)g->nat)
      return vld_fail(c, WEFT_ERR_INVALID, "alignment must not be larger than natural");
  }
  if (g->lanes && in->b >= g->lanes) return vld_fail(c, WEFT_ERR_INVALID, "invalid lane index");
  if (in->op == WEFT_OP_I8X16_SHUFFLE)
    for (int i = 0; i < 16; i++)
      if (in->imm.v128[i] >= 32) return vld_fail(c, WEFT_ERR_INVALID, "invalid lane index");
  return WEFT_OK;
}

static inline int simple(vld_ctx *c, const weft_instr *in, const sig *g) {
  weft_valtype at = WEFT_VT_I32;
  if ((g->checks || c->in_const) && simple_checks(c, in, g, &at)) return c->status;
  uint32_t n = g->npop;
  vld_ctrl *f = top_ctrl(c);
  if (n > 0 && c->nvals - f->height >= n) {
    /* Fast path: all operands are on the stack (so vals is allocated: no NULL + 0). */
    weft_valtype *top = c->vals + c->nvals - n;
    for (uint32_t i = 0; i < n; i++) {
      weft_valtype a = top[i];
      if (a != sig_type(g->pop[i], at) && a != VLD_BOT) return simple_mismatch(c, g, at);
    }
    c->nvals -= n;
  } else {
    for (uint32_t i = n; i-- > 0;) {
      if (c->nvals > f->height) {
        weft_valtype a = c->vals[c->nvals - 1];
        if (a != sig_type(g->pop[i], at) && a != VLD_BOT) return simple_mismatch(c, g, at);
        c->nvals--;
      } else if (!f->unreachable) {
        return simple_mismatch(c, g, at);
      }
    }
  }
  if (!g->push) return WEFT_OK;
  if (c->nvals < c->capvals) {
    c->vals[c->nvals++] = sig_type(g->push, at);
    return WEFT_OK;
  }
  return vld_push(c, sig_type(g->push, at));
}

/* -- Control instructions -------------------------------------------------------------------- */

static int check_catches(vld_ctx *c, const weft_instr *in) {
  uint32_t base = in->imm.x.b, n = in->imm.x.c;
  if ((uint64_t)base + (uint64_t)n * 3 > c->m->npool)
    return vld_fail(c, WEFT_ERR_INVALID, "malformed catch clause");
  const weft_valtype exnref = WEFT_VT_MAKE_REF(0, WEFT_HT_ABS(WEFT_AHT_EXN));
  for (uint32_t i = 0; i < n; i++) {
    uint32_t kind = c->m->pool[base + 3 * i], tag = c->m->pool[base + 3 * i + 1];
    uint32_t label = c->m->pool[base + 3 * i + 2];
    const weft_valtype *tp = NULL;
    uint32_t np = 0;
    if (kind == WEFT_CATCH || kind == WEFT_CATCH_REF) {
      const weft_type *tt;
      if (vld_check_tag(c, tag, &tt)) return c->status;
      tp = tt->u.func.params;
      np = tt->u.func.nparams;
    } else if (kind != WEFT_CATCH_ALL && kind != WEFT_CATCH_ALL_REF) {
      return vld_fail(c, WEFT_ERR_INVALID, "malformed catch clause");
    }
    bool ref = kind == WEFT_CATCH_REF || kind == WEFT_CATCH_ALL_REF;
    const weft_valtype *lt;
    uint32_t nl;
    if (vld_label(c, label, &lt, &nl)) return c->status;
    if (nl != np + (ref ? 1u : 0u)) return vld_fail(c, WEFT_ERR_INVALID, "type mismatch in catch clause");
    for (uint32_t k = 0; k < np; k++)
      if (!vld_val_sub(c, tp[k], lt[k]))
        return vld_fail(c, WEFT_ERR_INVALID, "type mismatch in catch clause");
    if (ref && !vld_val_sub(c, exnref, lt[np]))
      return vld_fail(c, WEFT_ERR_INVALID, "type mismatch in catch clause");
  }
  return WEFT_OK;
}

static int br_table(vld_ctx *c, const weft_instr *in) {
  uint32_t base = in->imm.x.a, n = in->imm.x.b;
  if ((uint64_t)base + n + 1 > c->m->npool)
    return vld_fail(c, WEFT_ERR_INVALID, "malformed br_table");
  if (vld_pop_expect(c, WEFT_VT_I32, NULL)) return c->status;
  const weft_valtype *dt;
  uint32_t arity, avail;
  if (vld_label(c, c->m->pool[base + n], &dt, &arity)) return c->status;
  for (uint32_t i = 0; i < n; i++) {
    const weft_valtype *lt;
    uint32_t nl;
    if (vld_label(c, c->m->pool[base + i], &lt, &nl)) return c->status;
    if (nl != arity)
      return vld_fail(c, WEFT_ERR_INVALID, "type mismatch: br_table labels have inconsistent arity");
    if (peek_list(c, lt, nl, &avail)) return c->status;
  }
  if (vld_label(c, c->m->pool[base + n], &dt, &arity)) return c->status;
  if (vld_pop_list(c, dt, arity)) return c->status;
  return vld_set_unreachable(c);
}

static int call_type(vld_ctx *c, const weft_type *ft, bool tail) {
  if (tail) {
    bool ok = ft->u.func.nresults == c->nfresults;
    for (uint32_t i = 0; ok && i < c->nfresults; i++)
      ok = vld_val_sub(c, ft->u.func.results[i], c->fresults[i]);
    if (!ok) return vld_fail(c, WEFT_ERR_INVALID, "type mismatch: tail call results differ from the caller's");
  }
  if (vld_pop_list(c, ft->u.func.params, ft->u.func.nparams)) return c->status;
  if (tail) return vld_set_unreachable(c);
  return vld_push_list(c, ft->u.func.results, ft->u.func.nresults);
}

static int control(vld_ctx *c, const weft_instr *in) {
  vld_ctrl proto;
  switch (in->op) {
  case WEFT_OP_UNREACHABLE:
    return vld_set_unreachable(c);
  case WEFT_OP_NOP:
    return WEFT_OK;
  case WEFT_OP_BLOCK: case WEFT_OP_LOOP:
    if (blocktype(c, in->imm.x.a, &proto)) return c->status;
    return push_ctrl(c, in->op, &proto);
  case WEFT_OP_IF:
    if (blocktype(c, in->imm.x.a, &proto)) return c->status;
    if (vld_pop_expect(c, WEFT_VT_I32, NULL)) return c->status;
    return push_ctrl(c, in->op, &proto);
  case WEFT_OP_TRY_TABLE:
    if (blocktype(c, in->imm.x.a, &proto)) return c->status;
    if (check_catches(c, in)) return c->status;
    return push_ctrl(c, in->op, &proto);
  case WEFT_OP_ELSE: {
    if (c->nctrls <= 1 || top_ctrl(c)->op != WEFT_OP_IF)
      return vld_fail(c, WEFT_ERR_INVALID, "else without matching if");
    vld_ctrl f;
    if (pop_ctrl(c, &f)) return c->status;
    vld_ctrl *nf;
    if (c->nctrls == c->capctrls &&
        grow(c, (void **)&c->ctrls, &c->capctrls, c->nctrls + 1, sizeof(vld_ctrl)))
      return c->status;
    nf = &c->ctrls[c->nctrls++];
    *nf = f;
    nf->op = WEFT_OP_ELSE;
    nf->unreachable = false;
    nf->height = c->nvals;
    nf->init_height = c->ninit;
    return vld_push_list(c, nf->params, nf->nparams);
  }
  case WEFT_OP_END: {
    vld_ctrl f;
    if (pop_ctrl(c, &f)) return c->status;
    const weft_valtype *res = f.results ? f.results : &f.single;
    if (f.op == WEFT_OP_IF) {
      /* An if without else behaves as if its else branch passed the params through. */
      bool ok = f.nparams == f.nresults;
      for (uint32_t i = 0; ok && i < f.nparams; i++) ok = vld_val_sub(c, f.params[i], res[i]);
      if (!ok) return vld_fail(c, WEFT_ERR_INVALID, "type mismatch in if false branch");
    }
    if (c->nctrls == 0) return WEFT_OK;
    return vld_push_list(c, res, f.nresults);
  }
  case WEFT_OP_BR: {
    const weft_valtype *lt;
    uint32_t nl;
    if (vld_label(c, in->imm.x.a, &lt, &nl)) return c->status;
    if (vld_pop_list(c, lt, nl)) return c->status;
    return vld_set_unreachable(c);
  }
  case WEFT_OP_BR_IF: {
    const weft_valtype *lt;
    uint32_t nl;
    if (vld_pop_expect(c, WEFT_VT_I32, NULL)) return c->status;
    if (vld_label(c, in->imm.x.a, &lt, &nl)) return c->status;
    if (vld_pop_list(c, lt, nl)) return c->status;
    return vld_push_list(c, lt, nl);
  }
  case WEFT_OP_BR_TABLE:
    return br_table(c, in);
  case WEFT_OP_RETURN:
    if (vld_pop_list(c, c->fresults, c->nfresults)) return c->status;
    return vld_set_unreachable(c);
  case WEFT_OP_THROW: {
    const weft_type *tt;
    if (vld_check_tag(c, in->imm.x.a, &tt)) return c->status;
    if (vld_pop_list(c, tt->u.func.params, tt->u.func.nparams)) return c->status;
    return vld_set_unreachable(c);
  }
  case WEFT_OP_THROW_REF:
    if (vld_pop_expect(c, WEFT_VT_EXNREF, NULL)) return c->status;
    return vld_set_unreachable(c);
  default:
    return vld_fail(c, WEFT_ERR_INVALID, "unknown operator");
  }
}

/* -- Calls ----------------------------------------------------------------------------------- */

static int calls(vld_ctx *c, const weft_instr *in) {
  bool tail = in->op == WEFT_OP_RETURN_CALL || in->op == WEFT_OP_RETURN_CALL_INDIRECT ||
              in->op == WEFT_OP_RETURN_CALL_REF;
  const weft_type *ft;
  switch (in->op) {
  case WEFT_OP_CALL: case WEFT_OP_RETURN_CALL:
    if (in->imm.x.a >= c->m->nfuncs)
      return vld_fail(c, WEFT_ERR_INVALID, "unknown function %u", in->imm.x.a);
    if (!(ft = vld_func_type(c, c->m->funcs[in->imm.x.a].type))) return c->status;
    return call_type(c, ft, tail);
  case WEFT_OP_CALL_INDIRECT: case WEFT_OP_RETURN_CALL_INDIRECT: {
    weft_valtype at = WEFT_VT_I32, elem = VLD_BOT;
    if (check_table(c, in->imm.x.b, &at, &elem)) return c->status;
    if (!(ft = vld_func_type(c, in->imm.x.a))) return c->status;
    if (!vld_val_sub(c, elem, WEFT_VT_FUNCREF))
      return vld_fail(c, WEFT_ERR_INVALID, "type mismatch: call_indirect on a table of non-function references");
    if (vld_pop_expect(c, at, NULL)) return c->status;
    return call_type(c, ft, tail);
  }
  default: /* call_ref, return_call_ref */
    if (!(ft = vld_func_type(c, in->imm.x.a))) return c->status;
    if (vld_pop_expect(c, WEFT_VT_MAKE_REF(1, in->imm.x.a), NULL)) return c->status;
    return call_type(c, ft, tail);
  }
}

/* -- Variables, parametric, tables, bulk memory ---------------------------------------------- */

static int local_op(vld_ctx *c, const weft_instr *in) {
  uint32_t x = in->imm.x.a;
  if (x >= c->nlocals) return vld_fail(c, WEFT_ERR_INVALID, "unknown local %u", x);
  weft_valtype t = c->locals[x];
  if (in->op == WEFT_OP_LOCAL_GET) {
    if (!c->local_init[x]) return vld_fail(c, WEFT_ERR_INVALID, "uninitialized local %u", x);
    return vld_push(c, t);
  }
  if (vld_pop_expect(c, t, NULL)) return c->status;
  if (!c->local_init[x]) {
    c->local_init[x] = 1;
    c->init_stack[c->ninit++] = x;
  }
  if (in->op == WEFT_OP_LOCAL_TEE) return vld_push(c, t);
  return WEFT_OK;
}

static int global_op(vld_ctx *c, const weft_instr *in) {
  uint32_t x = in->imm.x.a;
  uint32_t limit = c->in_const ? c->nglobals_visible : c->m->nglobals;
  if (x >= limit) return vld_fail(c, WEFT_ERR_INVALID, "unknown global %u", x);
  const weft_global_type *g = &c->m->globals[x].type;
  if (in->op == WEFT_OP_GLOBAL_GET) {
    if (c->in_const && g->mut) return vld_fail(c, WEFT_ERR_INVALID, "constant expression required");
    return vld_push(c, g->type);
  }
  if (!g->mut) return vld_fail(c, WEFT_ERR_INVALID, "immutable global %u", x);
  return vld_pop_expect(c, g->type, NULL);
}

static int select_op(vld_ctx *c, const weft_instr *in) {
  if (vld_pop_expect(c, WEFT_VT_I32, NULL)) return c->status;
  if (in->op == WEFT_OP_SELECT_T) {
    if (in->imm.x.a != 1) return vld_fail(c, WEFT_ERR_INVALID, "invalid result arity");
    weft_valtype t = in->imm.x.b;
    if (vld_check_valtype(c, t, c->m->ntypes)) return c->status;
    if (vld_pop_expect(c, t, NULL) || vld_pop_expect(c, t, NULL)) return c->status;
    return vld_push(c, t);
  }
  weft_valtype a, b;
  if (vld_pop(c, &a) || vld_pop(c, &b)) return c->status;
  if (WEFT_VT_IS_REF(a) || WEFT_VT_IS_REF(b))
    return vld_fail(c, WEFT_ERR_INVALID, "type mismatch: select without type needs numeric operands");
  if (a != b && a != VLD_BOT && b != VLD_BOT)
    return vld_fail(c, WEFT_ERR_INVALID, "type mismatch: select operands differ");
  return vld_push(c, a == VLD_BOT ? b : a);
}

static int table_op(vld_ctx *c, const weft_instr *in) {
  weft_valtype at = WEFT_VT_I32, elem = VLD_BOT, at2 = WEFT_VT_I32, elem2 = VLD_BOT;
  switch (in->op) {
  case WEFT_OP_TABLE_GET:
    if (check_table(c, in->imm.x.a, &at, &elem) || vld_pop_expect(c, at, NULL)) return c->status;
    return vld_push(c, elem);
  case WEFT_OP_TABLE_SET:
    if (check_table(c, in->imm.x.a, &at, &elem) || vld_pop_expect(c, elem, NULL) ||
        vld_pop_expect(c, at, NULL))
      return c->status;
    return WEFT_OK;
  case WEFT_OP_TABLE_SIZE:
    if (check_table(c, in->imm.x.a, &at, &elem)) return c->status;
    return vld_push(c, at);
  case WEFT_OP_TABLE_GROW:
    if (check_table(c, in->imm.x.a, &at, &elem) || vld_pop_expect(c, at, NULL) ||
        vld_pop_expect(c, elem, NULL))
      return c->status;
    return vld_push(c, at);
  case WEFT_OP_TABLE_FILL:
    if (check_table(c, in->imm.x.a, &at, &elem) || vld_pop_expect(c, at, NULL) ||
        vld_pop_expect(c, elem, NULL) || vld_pop_expect(c, at, NULL))
      return c->status;
    return WEFT_OK;
  case WEFT_OP_TABLE_COPY:
    if (check_table(c, in->imm.x.a, &at, &elem) || check_table(c, in->imm.x.b, &at2, &elem2))
      return c->status;
    if (!vld_val_sub(c, elem2, elem)) return vld_fail(c, WEFT_ERR_INVALID, "type mismatch: table element types");
    if (vld_pop_expect(c, (at == WEFT_VT_I64 && at2 == WEFT_VT_I64) ? WEFT_VT_I64 : WEFT_VT_I32, NULL) ||
        vld_pop_expect(c, at2, NULL) || vld_pop_expect(c, at, NULL))
      return c->status;
    return WEFT_OK;
  case WEFT_OP_TABLE_INIT:
    if (check_table(c, in->imm.x.b, &at, &elem)) return c->status;
    if (in->imm.x.a >= c->m->nelems)
      return vld_fail(c, WEFT_ERR_INVALID, "unknown elem segment %u", in->imm.x.a);
    if (!vld_val_sub(c, c->m->elems[in->imm.x.a].type, elem))
      return vld_fail(c, WEFT_ERR_INVALID, "type mismatch: element segment type");
    if (vld_pop_expect(c, WEFT_VT_I32, NULL) || vld_pop_expect(c, WEFT_VT_I32, NULL) ||
        vld_pop_expect(c, at, NULL))
      return c->status;
    return WEFT_OK;
  default: /* elem.drop */
    if (in->imm.x.a >= c->m->nelems)
      return vld_fail(c, WEFT_ERR_INVALID, "unknown elem segment %u", in->imm.x.a);
    return WEFT_OK;
  }
}

static int memory_op(vld_ctx *c, const weft_instr *in) {
  weft_valtype at = WEFT_VT_I32, at2 = WEFT_VT_I32;
  switch (in->op) {
  case WEFT_OP_MEMORY_SIZE:
    if (check_mem(c, in->imm.x.a, &at)) return c->status;
    return vld_push(c, at);
  case WEFT_OP_MEMORY_GROW:
    if (check_mem(c, in->imm.x.a, &at) || vld_pop_expect(c, at, NULL)) return c->status;
    return vld_push(c, at);
  case WEFT_OP_MEMORY_FILL:
    if (check_mem(c, in->imm.x.a, &at) || vld_pop_expect(c, at, NULL) ||
        vld_pop_expect(c, WEFT_VT_I32, NULL) || vld_pop_expect(c, at, NULL))
      return c->status;
    return WEFT_OK;
  case WEFT_OP_MEMORY_COPY:
    if (check_mem(c, in->imm.x.a, &at) || check_mem(c, in->imm.x.b, &at2)) return c->status;
    if (vld_pop_expect(c, (at == WEFT_VT_I64 && at2 == WEFT_VT_I64) ? WEFT_VT_I64 : WEFT_VT_I32, NULL) ||
        vld_pop_expect(c, at2, NULL) || vld_pop_expect(c, at, NULL))
      return c->status;
    return WEFT_OK;
  case WEFT_OP_MEMORY_INIT:
    if (check_mem(c, in->imm.x.b, &at) || check_data(c, in->imm.x.a)) return c->status;
    if (vld_pop_expect(c, WEFT_VT_I32, NULL) || vld_pop_expect(c, WEFT_VT_I32, NULL) ||
        vld_pop_expect(c, at, NULL))
      return c->status;
    return WEFT_OK;
  default: /* data.drop */
    return check_data(c, in->imm.x.a);
  }
}

/* -- The loop -------------------------------------------------------------------------------- */

static bool const_allowed(uint16_t op) {
  switch (op) {
  case WEFT_OP_END: case WEFT_OP_GLOBAL_GET: case WEFT_OP_REF_NULL: case WEFT_OP_REF_FUNC:
  case WEFT_OP_STRUCT_NEW: case WEFT_OP_STRUCT_NEW_DEFAULT: case WEFT_OP_ARRAY_NEW:
  case WEFT_OP_ARRAY_NEW_DEFAULT: case WEFT_OP_ARRAY_NEW_FIXED: case WEFT_OP_REF_I31:
  case WEFT_OP_ANY_CONVERT_EXTERN: case WEFT_OP_EXTERN_CONVERT_ANY:
    return true;
  default:
    return false;
  }
}

static int instr(vld_ctx *c, const weft_instr *in) {
  uint16_t op = in->op;
  if (op < WEFT_OP_LIMIT && sigs[op].simple) return simple(c, in, &sigs[op]);
  if (c->in_const && !const_allowed(op))
    return vld_fail(c, WEFT_ERR_INVALID, "constant expression required");
  switch (op) {
  case WEFT_OP_CALL: case WEFT_OP_CALL_INDIRECT: case WEFT_OP_RETURN_CALL:
  case WEFT_OP_RETURN_CALL_INDIRECT: case WEFT_OP_CALL_REF: case WEFT_OP_RETURN_CALL_REF:
    return calls(c, in);
  case WEFT_OP_DROP: {
    weft_valtype t;
    return vld_pop(c, &t);
  }
  case WEFT_OP_SELECT: case WEFT_OP_SELECT_T:
    return select_op(c, in);
  case WEFT_OP_LOCAL_GET: case WEFT_OP_LOCAL_SET: case WEFT_OP_LOCAL_TEE:
    return local_op(c, in);
  case WEFT_OP_GLOBAL_GET: case WEFT_OP_GLOBAL_SET:
    return global_op(c, in);
  case WEFT_OP_TABLE_GET: case WEFT_OP_TABLE_SET: case WEFT_OP_TABLE_SIZE: case WEFT_OP_TABLE_GROW:
  case WEFT_OP_TABLE_FILL: case WEFT_OP_TABLE_COPY: case WEFT_OP_TABLE_INIT: case WEFT_OP_ELEM_DROP:
    return table_op(c, in);
  case WEFT_OP_MEMORY_SIZE: case WEFT_OP_MEMORY_GROW: case WEFT_OP_MEMORY_FILL:
  case WEFT_OP_MEMORY_COPY: case WEFT_OP_MEMORY_INIT: case WEFT_OP_DATA_DROP:
    return memory_op(c, in);
  case WEFT_OP_UNREACHABLE: case WEFT_OP_NOP: case WEFT_OP_BLOCK: case WEFT_OP_LOOP: case WEFT_OP_IF:
  case WEFT_OP_ELSE: case WEFT_OP_END: case WEFT_OP_BR: case WEFT_OP_BR_IF: case WEFT_OP_BR_TABLE:
  case WEFT_OP_RETURN: case WEFT_OP_THROW: case WEFT_OP_THROW_REF: case WEFT_OP_TRY_TABLE:
    return control(c, in);
  default:
    return vld_instr_ref(c, in);
  }
}

/* Runs the instructions of an expression whose outermost frame is already pushed. */
static int run(vld_ctx *c, const weft_expr *e) {
  for (uint32_t i = 0; i < e->ninstrs; i++) {
    const weft_instr *in = &e->code[i];
    c->off = in->off;
    if (instr(c, in)) return c->status;
    if (c->nctrls == 0) {
      if (i + 1 != e->ninstrs)
        return vld_fail(c, WEFT_ERR_INVALID, "unexpected instructions after the final end");
      return WEFT_OK;
    }
  }
  return vld_fail(c, WEFT_ERR_INVALID, "unexpected end of expression: missing end");
}

static void reset(vld_ctx *c) {
  c->nvals = 0;
  c->nctrls = 0;
  c->ninit = 0;
}

/* -- Entry points ---------------------------------------------------------------------------- */

int vld_ctx_init(vld_ctx *c, const vld_state *st, const weft_module *m, weft_diag *d) {
  memset(c, 0, sizeof *c);
  c->st = st;
  c->host = st->host;
  c->m = m;
  c->d = d;
  c->status = WEFT_OK;
  c->off = UINT64_MAX;
  return WEFT_OK;
}

void vld_ctx_fini(vld_ctx *c) {
  void *h = c->host->host;
  if (c->vals) c->host->free(h, c->vals);
  if (c->ctrls) c->host->free(h, c->ctrls);
  if (c->locals) c->host->free(h, c->locals);
  if (c->local_init) c->host->free(h, c->local_init);
  if (c->init_stack) c->host->free(h, c->init_stack);
  if (c->refs) c->host->free(h, c->refs);
  c->vals = NULL;
  c->ctrls = NULL;
  c->locals = NULL;
  c->local_init = NULL;
  c->init_stack = NULL;
  c->refs = NULL;
}

int vld_check_const(vld_ctx *c, const weft_expr *e, weft_valtype expect, uint32_t nglobals_visible,
                    uint64_t entry_off) {
  vld_ctrl proto;
  memset(&proto, 0, sizeof proto);
  proto.single = expect;
  proto.nresults = 1;
  reset(c);
  c->off = entry_off;
  c->in_const = true;
  c->nglobals_visible = nglobals_visible;
  c->fresults = NULL;
  c->nfresults = 0;
  if (!e->code || e->ninstrs == 0) {
    c->in_const = false;
    return vld_fail(c, WEFT_ERR_INVALID, "type mismatch: empty constant expression");
  }
  if (push_ctrl(c, 0, &proto) == WEFT_OK) run(c, e);
  c->in_const = false;
  return c->status;
}

int vld_check_func(vld_ctx *c, uint32_t fi) {
  const weft_func *f = &c->m->funcs[fi];
  if (f->import != WEFT_NONE) return WEFT_OK;
  c->off = f->body_off;
  const weft_type *ft = vld_func_type(c, f->type);
  if (!ft) return c->status;
  uint64_t total = (uint64_t)ft->u.func.nparams + f->nlocals;
  if (total > c->st->max_locals)
    return vld_fail(c, WEFT_ERR_LIMIT, "too many locals: %llu (limit max_locals = %u)",
                    (unsigned long long)total, c->st->max_locals);
  if (f->body_size > c->st->max_function_size)
    return vld_fail(c, WEFT_ERR_LIMIT, "function too large: %u bytes (limit max_function_size = %u)",
                    f->body_size, c->st->max_function_size);
  uint32_t n = (uint32_t)total;
  if (n > c->caplocals) {
    /* The three arrays grow in step: the same start and need give the same new capacity. */
    uint32_t c1 = c->caplocals, c2 = c->caplocals, c3 = c->caplocals;
    if (grow(c, (void **)&c->locals, &c1, n, sizeof(weft_valtype)) ||
        grow(c, (void **)&c->local_init, &c2, n, 1) ||
        grow(c, (void **)&c->init_stack, &c3, n, sizeof(uint32_t)))
      return c->status;
    c->caplocals = c1;
  }
  c->nlocals = n;
  for (uint32_t i = 0; i < ft->u.func.nparams; i++) {
    c->locals[i] = ft->u.func.params[i];
    c->local_init[i] = 1;
  }
  for (uint32_t i = 0; i < f->nlocals; i++) {
    weft_valtype t = f->locals[i];
    if (vld_check_valtype(c, t, c->m->ntypes)) return c->status;
    c->locals[ft->u.func.nparams + i] = t;
    c->local_init[ft->u.func.nparams + i] = vld_defaultable(t) ? 1 : 0;
  }
  reset(c);
  c->fresults = ft->u.func.results;
  c->nfresults = ft->u.func.nresults;
  vld_ctrl proto;
  memset(&proto, 0, sizeof proto);
  proto.results = ft->u.func.results;
  proto.nresults = ft->u.func.nresults;
  if (!f->body.code || f->body.ninstrs == 0)
    return vld_fail(c, WEFT_ERR_INVALID, "unexpected end of function body");
  if (push_ctrl(c, 0, &proto)) return c->status;
  return run(c, &f->body);
}
