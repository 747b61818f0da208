/* plugins/validator/validator_ref.c -- reference, GC and stack-switching instructions.
 *
 * Called by validator_func.c's dispatcher for every opcode the signature table does not cover and
 * that is not control, a call, a variable, a table or a bulk-memory instruction. Typing follows
 * Wasm 3.0 (function references, GC, exceptions) and the stack-switching proposal (its notes
 * §1-§3). Depends on: validator_int.h.
 */
#include <stdio.h>
#include <string.h>

#include "validator_int.h"

#define REF(nullable, ht) WEFT_VT_MAKE_REF((nullable), (ht))
#define ABS(code) WEFT_HT_ABS(code)

/* -- Type immediates ------------------------------------------------------------------------- */

static const weft_type *comp_type(vld_ctx *c, uint32_t idx, uint8_t comp, const char *what) {
  const weft_type *t = vld_type(c, idx);
  if (!t) {
    vld_fail(c, WEFT_ERR_INVALID, "unknown type %u", idx);
    return NULL;
  }
  if (t->comp != comp) {
    vld_fail(c, WEFT_ERR_INVALID, "type mismatch: non-%s type %u", what, idx);
    return NULL;
  }
  return t;
}

static bool is_packed(weft_valtype t) { return t == WEFT_VT_I8 || t == WEFT_VT_I16; }

/* Storage type a <: b (packed types only match themselves). */
static bool storage_sub(const vld_ctx *c, weft_valtype a, weft_valtype b) {
  if (is_packed(a) || is_packed(b)) return a == b;
  return vld_val_sub(c, a, b);
}

static int pop_i32(vld_ctx *c) { return vld_pop_expect(c, WEFT_VT_I32, NULL); }

/* Pops n copies of t; with an unreachable frame, pops only what is there (no loop over n). */
static int pop_n(vld_ctx *c, weft_valtype t, uint32_t n) {
  const vld_ctrl *f = &c->ctrls[c->nctrls - 1];
  uint32_t avail = c->nvals - f->height;
  uint32_t k = n < avail ? n : avail;
  for (uint32_t i = 0; i < k; i++)
    if (vld_pop_expect(c, t, NULL)) return c->status;
  if (n > k && !f->unreachable) return vld_pop_expect(c, t, NULL);
  return WEFT_OK;
}

/* -- References ------------------------------------------------------------------------------ */

static int check_cast_target(vld_ctx *c, weft_valtype rt) {
  if (vld_check_valtype(c, rt, c->m->ntypes)) return c->status;
  if (vld_heap_top(c, WEFT_VT_HEAP(rt)) == ABS(WEFT_AHT_CONT))
    return vld_fail(c, WEFT_ERR_INVALID, "invalid cast to continuation types");
  return WEFT_OK;
}

static int ref_test_cast(vld_ctx *c, const weft_instr *in) {
  bool nullable = in->op == WEFT_OP_REF_TEST_NULL || in->op == WEFT_OP_REF_CAST_NULL;
  uint32_t ht = WEFT_VT_HEAP(in->imm.x.a);
  weft_valtype rt = REF(nullable, ht);
  if (check_cast_target(c, rt)) return c->status;
  if (vld_pop_expect(c, REF(1, vld_heap_top(c, ht)), NULL)) return c->status;
  if (in->op == WEFT_OP_REF_TEST || in->op == WEFT_OP_REF_TEST_NULL) return vld_push(c, WEFT_VT_I32);
  return vld_push(c, rt);
}

static int label_ending_in_ref(vld_ctx *c, uint32_t depth, const weft_valtype **lt, uint32_t *n) {
  if (vld_label(c, depth, lt, n)) return c->status;
  if (*n == 0 || !WEFT_VT_IS_REF((*lt)[*n - 1]))
    return vld_fail(c, WEFT_ERR_INVALID, "type mismatch: label %u must end in a reference type", depth);
  return WEFT_OK;
}

static int br_on_cast(vld_ctx *c, const weft_instr *in) {
  weft_valtype rt1 = REF(in->b & 1u, WEFT_VT_HEAP(in->imm.x.b));
  weft_valtype rt2 = REF((in->b >> 1) & 1u, WEFT_VT_HEAP(in->imm.x.c));
  if (vld_check_valtype(c, rt1, c->m->ntypes) || check_cast_target(c, rt2)) return c->status;
  if (!vld_val_sub(c, rt2, rt1))
    return vld_fail(c, WEFT_ERR_INVALID, "type mismatch: cast target is not a subtype of the source");
  const weft_valtype *lt;
  uint32_t n;
  if (label_ending_in_ref(c, in->imm.x.a, &lt, &n)) return c->status;
  weft_valtype diff = WEFT_VT_NULLABLE(rt2) ? REF(0, WEFT_VT_HEAP(rt1)) : rt1;
  bool fail = in->op == WEFT_OP_BR_ON_CAST_FAIL;
  if (vld_pop_expect(c, rt1, NULL) || vld_push(c, fail ? diff : rt2) || vld_pop_list(c, lt, n) ||
      vld_push_list(c, lt, n - 1))
    return c->status;
  return vld_push(c, fail ? rt2 : diff);
}

static int refs(vld_ctx *c, const weft_instr *in) {
  weft_valtype rt;
  const weft_valtype *lt;
  uint32_t n;
  switch (in->op) {
  case WEFT_OP_REF_NULL: {
    weft_valtype t = REF(1, WEFT_VT_HEAP(in->imm.x.a));
    if (vld_check_valtype(c, t, c->m->ntypes)) return c->status;
    return vld_push(c, t);
  }
  case WEFT_OP_REF_IS_NULL:
    if (vld_pop_ref(c, &rt)) return c->status;
    return vld_push(c, WEFT_VT_I32);
  case WEFT_OP_REF_AS_NON_NULL:
    if (vld_pop_ref(c, &rt)) return c->status;
    return vld_push(c, REF(0, WEFT_VT_HEAP(rt)));
  case WEFT_OP_REF_EQ:
    if (vld_pop_expect(c, REF(1, ABS(WEFT_AHT_EQ)), NULL) ||
        vld_pop_expect(c, REF(1, ABS(WEFT_AHT_EQ)), NULL))
      return c->status;
    return vld_push(c, WEFT_VT_I32);
  case WEFT_OP_REF_FUNC: {
    uint32_t x = in->imm.x.a;
    if (x >= c->m->nfuncs) return vld_fail(c, WEFT_ERR_INVALID, "unknown function %u", x);
    if (!c->in_const && !(c->refs && (c->refs[x >> 3] >> (x & 7)) & 1))
      return vld_fail(c, WEFT_ERR_INVALID, "undeclared function reference %u", x);
    return vld_push(c, REF(0, c->m->funcs[x].type));
  }
  case WEFT_OP_BR_ON_NULL:
    if (vld_label(c, in->imm.x.a, &lt, &n) || vld_pop_ref(c, &rt) || vld_pop_list(c, lt, n) ||
        vld_push_list(c, lt, n))
      return c->status;
    return vld_push(c, REF(0, WEFT_VT_HEAP(rt)));
  case WEFT_OP_BR_ON_NON_NULL:
    if (label_ending_in_ref(c, in->imm.x.a, &lt, &n) || vld_pop_ref(c, &rt) ||
        vld_push(c, REF(0, WEFT_VT_HEAP(rt))) || vld_pop_list(c, lt, n))
      return c->status;
    return vld_push_list(c, lt, n - 1);
  case WEFT_OP_REF_TEST: case WEFT_OP_REF_TEST_NULL: case WEFT_OP_REF_CAST:
  case WEFT_OP_REF_CAST_NULL:
    return ref_test_cast(c, in);
  case WEFT_OP_BR_ON_CAST: case WEFT_OP_BR_ON_CAST_FAIL:
    return br_on_cast(c, in);
  case WEFT_OP_ANY_CONVERT_EXTERN:
    if (vld_pop_expect(c, WEFT_VT_EXTERNREF, &rt)) return c->status;
    return vld_push(c, REF(rt != VLD_BOT && WEFT_VT_NULLABLE(rt), ABS(WEFT_AHT_ANY)));
  case WEFT_OP_EXTERN_CONVERT_ANY:
    if (vld_pop_expect(c, REF(1, ABS(WEFT_AHT_ANY)), &rt)) return c->status;
    return vld_push(c, REF(rt != VLD_BOT && WEFT_VT_NULLABLE(rt), ABS(WEFT_AHT_EXTERN)));
  case WEFT_OP_REF_I31:
    if (pop_i32(c)) return c->status;
    return vld_push(c, REF(0, ABS(WEFT_AHT_I31)));
  case WEFT_OP_I31_GET_S: case WEFT_OP_I31_GET_U:
    if (vld_pop_expect(c, REF(1, ABS(WEFT_AHT_I31)), NULL)) return c->status;
    return vld_push(c, WEFT_VT_I32);
  default:
    return vld_fail(c, WEFT_ERR_INVALID, "unknown operator");
  }
}

/* -- Structs --------------------------------------------------------------------------------- */

static int structs(vld_ctx *c, const weft_instr *in) {
  uint32_t x = in->imm.x.a;
  const weft_type *st = comp_type(c, x, WEFT_COMP_STRUCT, "struct");
  if (!st) return c->status;
  uint32_t nf = st->u.strct.nfields;
  const weft_fieldtype *fs = st->u.strct.fields;
  switch (in->op) {
  case WEFT_OP_STRUCT_NEW:
    for (uint32_t i = nf; i-- > 0;)
      if (vld_pop_expect(c, vld_unpack(fs[i].type), NULL)) return c->status;
    return vld_push(c, REF(0, x));
  case WEFT_OP_STRUCT_NEW_DEFAULT:
    for (uint32_t i = 0; i < nf; i++)
      if (!vld_defaultable(fs[i].type))
        return vld_fail(c, WEFT_ERR_INVALID, "type mismatch: field %u is not defaultable", i);
    return vld_push(c, REF(0, x));
  default: break;
  }
  uint32_t i = in->imm.x.b;
  if (i >= nf) return vld_fail(c, WEFT_ERR_INVALID, "unknown field %u", i);
  weft_valtype ft = fs[i].type;
  if (in->op == WEFT_OP_STRUCT_SET) {
    if (!fs[i].mut) return vld_fail(c, WEFT_ERR_INVALID, "field is immutable");
    if (vld_pop_expect(c, vld_unpack(ft), NULL) || vld_pop_expect(c, REF(1, x), NULL))
      return c->status;
    return WEFT_OK;
  }
  if ((in->op == WEFT_OP_STRUCT_GET) == is_packed(ft))
    return vld_fail(c, WEFT_ERR_INVALID, is_packed(ft) ? "type mismatch: field is packed"
                                                       : "type mismatch: field is not packed");
  if (vld_pop_expect(c, REF(1, x), NULL)) return c->status;
  return vld_push(c, vld_unpack(ft));
}

/* -- Arrays ---------------------------------------------------------------------------------- */

static int check_elem_seg(vld_ctx *c, uint32_t e, weft_valtype storage) {
  if (e >= c->m->nelems) return vld_fail(c, WEFT_ERR_INVALID, "unknown elem segment %u", e);
  if (!storage_sub(c, c->m->elems[e].type, storage))
    return vld_fail(c, WEFT_ERR_INVALID, "type mismatch: element segment type");
  return WEFT_OK;
}

static int check_data_seg(vld_ctx *c, uint32_t d, weft_valtype storage) {
  if (WEFT_VT_IS_REF(storage))
    return vld_fail(c, WEFT_ERR_INVALID, "array type is not numeric or vector");
  if (!c->m->has_data_count) return vld_fail(c, WEFT_ERR_INVALID, "data count section required");
  if (d >= c->m->data_count) return vld_fail(c, WEFT_ERR_INVALID, "unknown data segment %u", d);
  return WEFT_OK;
}

static int arrays(vld_ctx *c, const weft_instr *in) {
  if (in->op == WEFT_OP_ARRAY_LEN) {
    if (vld_pop_expect(c, REF(1, ABS(WEFT_AHT_ARRAY)), NULL)) return c->status;
    return vld_push(c, WEFT_VT_I32);
  }
  uint32_t x = in->imm.x.a;
  const weft_type *at = comp_type(c, x, WEFT_COMP_ARRAY, "array");
  if (!at) return c->status;
  weft_valtype et = at->u.array.type, ut = vld_unpack(et);
  bool mut = at->u.array.mut;
  weft_valtype self = REF(1, x);
  switch (in->op) {
  case WEFT_OP_ARRAY_NEW:
    if (pop_i32(c) || vld_pop_expect(c, ut, NULL)) return c->status;
    return vld_push(c, REF(0, x));
  case WEFT_OP_ARRAY_NEW_DEFAULT:
    if (!vld_defaultable(et))
      return vld_fail(c, WEFT_ERR_INVALID, "type mismatch: array element is not defaultable");
    if (pop_i32(c)) return c->status;
    return vld_push(c, REF(0, x));
  case WEFT_OP_ARRAY_NEW_FIXED:
    if (pop_n(c, ut, in->imm.x.b)) return c->status;
    return vld_push(c, REF(0, x));
  case WEFT_OP_ARRAY_NEW_DATA:
    if (check_data_seg(c, in->imm.x.b, et) || pop_i32(c) || pop_i32(c)) return c->status;
    return vld_push(c, REF(0, x));
  case WEFT_OP_ARRAY_NEW_ELEM:
    if (check_elem_seg(c, in->imm.x.b, et) || pop_i32(c) || pop_i32(c)) return c->status;
    return vld_push(c, REF(0, x));
  case WEFT_OP_ARRAY_GET: case WEFT_OP_ARRAY_GET_S: case WEFT_OP_ARRAY_GET_U:
    if ((in->op == WEFT_OP_ARRAY_GET) == is_packed(et))
      return vld_fail(c, WEFT_ERR_INVALID, is_packed(et) ? "type mismatch: array is packed"
                                                         : "type mismatch: array is not packed");
    if (pop_i32(c) || vld_pop_expect(c, self, NULL)) return c->status;
    return vld_push(c, ut);
  case WEFT_OP_ARRAY_SET:
    if (!mut) return vld_fail(c, WEFT_ERR_INVALID, "array is immutable");
    if (vld_pop_expect(c, ut, NULL) || pop_i32(c) || vld_pop_expect(c, self, NULL)) return c->status;
    return WEFT_OK;
  case WEFT_OP_ARRAY_FILL:
    if (!mut) return vld_fail(c, WEFT_ERR_INVALID, "array is immutable");
    if (pop_i32(c) || vld_pop_expect(c, ut, NULL) || pop_i32(c) || vld_pop_expect(c, self, NULL))
      return c->status;
    return WEFT_OK;
  case WEFT_OP_ARRAY_COPY: {
    const weft_type *src = comp_type(c, in->imm.x.b, WEFT_COMP_ARRAY, "array");
    if (!src) return c->status;
    if (!mut) return vld_fail(c, WEFT_ERR_INVALID, "array is immutable");
    if (!storage_sub(c, src->u.array.type, et))
      return vld_fail(c, WEFT_ERR_INVALID, "array types do not match");
    if (pop_i32(c) || pop_i32(c) || vld_pop_expect(c, REF(1, in->imm.x.b), NULL) || pop_i32(c) ||
        vld_pop_expect(c, self, NULL))
      return c->status;
    return WEFT_OK;
  }
  case WEFT_OP_ARRAY_INIT_DATA: case WEFT_OP_ARRAY_INIT_ELEM:
    if (!mut) return vld_fail(c, WEFT_ERR_INVALID, "array is immutable");
    if (in->op == WEFT_OP_ARRAY_INIT_DATA ? check_data_seg(c, in->imm.x.b, et)
                                           : check_elem_seg(c, in->imm.x.b, et))
      return c->status;
    if (pop_i32(c) || pop_i32(c) || pop_i32(c) || vld_pop_expect(c, self, NULL)) return c->status;
    return WEFT_OK;
  default:
    return vld_fail(c, WEFT_ERR_INVALID, "unknown operator");
  }
}

/* -- Stack switching ------------------------------------------------------------------------- */

/* The function type behind a continuation type index (fails with the proposal's messages). */
static const weft_type *cont_func(vld_ctx *c, uint32_t x) {
  const weft_type *ct = vld_cont_type(c, x);
  return ct ? &c->m->types[ct->u.cont_func] : NULL;
}

static int label_list_msg(vld_ctx *c, const weft_valtype *lt, uint32_t n) {
  char buf[160];
  size_t k = 0;
  for (uint32_t i = 0; i < n && k + 40 < sizeof buf; i++) {
    if (i) buf[k++] = ' ';
    k += vld_fmt_type(c, lt[i], buf + k, sizeof buf - k);
  }
  buf[k] = 0;
  return vld_fail(c, WEFT_ERR_INVALID,
                  "type mismatch: instruction requires concrete continuation reference type but "
                  "label has [%s]",
                  buf);
}

/* Handler clauses of resume / resume_throw / resume_throw_ref; `res` are the resume's results. */
static int check_handlers(vld_ctx *c, uint32_t base, uint32_t n, const weft_type *rft) {
  if ((uint64_t)base + (uint64_t)n * 3 > c->m->npool)
    return vld_fail(c, WEFT_ERR_INVALID, "malformed handler clause");
  for (uint32_t i = 0; i < n; i++) {
    uint32_t kind = c->m->pool[base + 3 * i], tag = c->m->pool[base + 3 * i + 1];
    uint32_t label = c->m->pool[base + 3 * i + 2];
    const weft_type *tt;
    if (vld_check_tag(c, tag, &tt)) return c->status;
    if (kind == WEFT_HANDLER_ON_SWITCH) {
      if (tt->u.func.nparams != 0) return vld_fail(c, WEFT_ERR_INVALID, "type mismatch in switch tag");
      continue;
    }
    if (kind != WEFT_HANDLER_ON_LABEL) return vld_fail(c, WEFT_ERR_INVALID, "malformed handler clause");
    const weft_valtype *lt;
    uint32_t nl;
    if (vld_label(c, label, &lt, &nl)) return c->status;
    if (nl == 0 || !WEFT_VT_IS_REF(lt[nl - 1])) return label_list_msg(c, lt, nl);
    uint32_t ht = WEFT_VT_HEAP(lt[nl - 1]);
    if (WEFT_HT_IS_ABSTRACT(ht)) return label_list_msg(c, lt, nl);
    const weft_type *kt = vld_cont_type(c, ht);
    if (!kt) return c->status;
    const weft_type *kft = vld_type(c, kt->u.cont_func);
    if (!kft || kft->comp != WEFT_COMP_FUNC)
      return vld_fail(c, WEFT_ERR_INVALID, "non-function type %u", kt->u.cont_func);
    /* Tag params flow to the label; the captured continuation takes the tag's results and returns
     * what the resumed continuation returns: [t2*] -> [rt*] <: kft. */
    if (tt->u.func.nparams != nl - 1)
      return vld_fail(c, WEFT_ERR_INVALID, "type mismatch in handler: label arity");
    for (uint32_t k = 0; k < nl - 1; k++)
      if (!vld_val_sub(c, tt->u.func.params[k], lt[k]))
        return vld_fail(c, WEFT_ERR_INVALID, "type mismatch in handler: tag payload");
    bool ok = kft->u.func.nparams == tt->u.func.nresults &&
              kft->u.func.nresults == rft->u.func.nresults;
    for (uint32_t k = 0; ok && k < kft->u.func.nparams; k++)
      ok = vld_val_sub(c, kft->u.func.params[k], tt->u.func.results[k]);
    for (uint32_t k = 0; ok && k < kft->u.func.nresults; k++)
      ok = vld_val_sub(c, rft->u.func.results[k], kft->u.func.results[k]);
    if (!ok) return vld_fail(c, WEFT_ERR_INVALID, "type mismatch in continuation type");
  }
  return WEFT_OK;
}

static int cont_bind(vld_ctx *c, const weft_instr *in) {
  const weft_type *f1 = cont_func(c, in->imm.x.a);
  if (!f1) return c->status;
  const weft_type *f2 = cont_func(c, in->imm.x.b);
  if (!f2) return c->status;
  if (f1->u.func.nparams < f2->u.func.nparams)
    return vld_fail(c, WEFT_ERR_INVALID, "type mismatch in continuation arguments");
  uint32_t k = f1->u.func.nparams - f2->u.func.nparams;
  bool ok = f1->u.func.nresults == f2->u.func.nresults;
  for (uint32_t i = 0; ok && i < f2->u.func.nparams; i++)
    ok = vld_val_sub(c, f2->u.func.params[i], f1->u.func.params[k + i]);
  for (uint32_t i = 0; ok && i < f1->u.func.nresults; i++)
    ok = vld_val_sub(c, f1->u.func.results[i], f2->u.func.results[i]);
  if (!ok) return vld_fail(c, WEFT_ERR_INVALID, "type mismatch in continuation types");
  if (vld_pop_expect(c, REF(1, in->imm.x.a), NULL) || vld_pop_list(c, f1->u.func.params, k))
    return c->status;
  return vld_push(c, REF(0, in->imm.x.b));
}

static int switch_op(vld_ctx *c, const weft_instr *in) {
  const weft_type *f1 = cont_func(c, in->imm.x.a);
  if (!f1) return c->status;
  const weft_type *tt;
  if (vld_check_tag(c, in->imm.x.b, &tt)) return c->status;
  if (tt->u.func.nparams != 0) return vld_fail(c, WEFT_ERR_INVALID, "type mismatch in switch tag");
  uint32_t np = f1->u.func.nparams;
  weft_valtype last = np ? f1->u.func.params[np - 1] : VLD_BOT;
  uint32_t ht = WEFT_VT_IS_REF(last) ? WEFT_VT_HEAP(last) : VLD_HT_BOT;
  const weft_type *k2 = (ht != VLD_HT_BOT && !WEFT_HT_IS_ABSTRACT(ht)) ? vld_type(c, ht) : NULL;
  if (!k2 || k2->comp != WEFT_COMP_CONT)
    return vld_fail(c, WEFT_ERR_INVALID,
                    "type mismatch: instruction requires continuation reference type as the "
                    "last parameter of type %u",
                    in->imm.x.a);
  const weft_type *f2 = cont_func(c, ht);
  if (!f2) return c->status;
  /* te1* <: t* (the target's results flow to the handler) and t* <: te2*. */
  bool ok = f1->u.func.nresults == tt->u.func.nresults && tt->u.func.nresults == f2->u.func.nresults;
  for (uint32_t i = 0; ok && i < tt->u.func.nresults; i++)
    ok = vld_val_sub(c, f1->u.func.results[i], tt->u.func.results[i]) &&
         vld_val_sub(c, tt->u.func.results[i], f2->u.func.results[i]);
  if (!ok) return vld_fail(c, WEFT_ERR_INVALID, "type mismatch in switch tag");
  if (vld_pop_expect(c, REF(1, in->imm.x.a), NULL) || vld_pop_list(c, f1->u.func.params, np - 1))
    return c->status;
  return vld_push_list(c, f2->u.func.params, f2->u.func.nparams);
}

static int conts(vld_ctx *c, const weft_instr *in) {
  const weft_type *ft, *tt = NULL;
  switch (in->op) {
  case WEFT_OP_CONT_NEW: {
    const weft_type *ct = vld_cont_type(c, in->imm.x.a);
    if (!ct) return c->status;
    if (vld_pop_expect(c, REF(1, ct->u.cont_func), NULL)) return c->status;
    return vld_push(c, REF(0, in->imm.x.a));
  }
  case WEFT_OP_CONT_BIND:
    return cont_bind(c, in);
  case WEFT_OP_SUSPEND:
    if (vld_check_tag(c, in->imm.x.a, &tt) ||
        vld_pop_list(c, tt->u.func.params, tt->u.func.nparams))
      return c->status;
    return vld_push_list(c, tt->u.func.results, tt->u.func.nresults);
  case WEFT_OP_RESUME: case WEFT_OP_RESUME_THROW: case WEFT_OP_RESUME_THROW_REF:
    if (!(ft = cont_func(c, in->imm.x.a))) return c->status;
    if (in->op == WEFT_OP_RESUME_THROW && vld_check_tag(c, in->imm.x.d, &tt)) return c->status;
    if (check_handlers(c, in->imm.x.b, in->imm.x.c, ft)) return c->status;
    if (vld_pop_expect(c, REF(1, in->imm.x.a), NULL)) return c->status;
    if (in->op == WEFT_OP_RESUME) {
      if (vld_pop_list(c, ft->u.func.params, ft->u.func.nparams)) return c->status;
    } else if (in->op == WEFT_OP_RESUME_THROW) {
      if (vld_pop_list(c, tt->u.func.params, tt->u.func.nparams)) return c->status;
    } else if (vld_pop_expect(c, WEFT_VT_EXNREF, NULL)) {
      return c->status;
    }
    return vld_push_list(c, ft->u.func.results, ft->u.func.nresults);
  case WEFT_OP_SWITCH:
    return switch_op(c, in);
  default:
    return vld_fail(c, WEFT_ERR_INVALID, "unknown operator");
  }
}

/* -- Dispatch -------------------------------------------------------------------------------- */

int vld_instr_ref(vld_ctx *c, const weft_instr *in) {
  switch (in->op) {
  case WEFT_OP_STRUCT_NEW: case WEFT_OP_STRUCT_NEW_DEFAULT: case WEFT_OP_STRUCT_GET:
  case WEFT_OP_STRUCT_GET_S: case WEFT_OP_STRUCT_GET_U: case WEFT_OP_STRUCT_SET:
    return structs(c, in);
  case WEFT_OP_ARRAY_NEW: case WEFT_OP_ARRAY_NEW_DEFAULT: case WEFT_OP_ARRAY_NEW_FIXED:
  case WEFT_OP_ARRAY_NEW_DATA: case WEFT_OP_ARRAY_NEW_ELEM: case WEFT_OP_ARRAY_GET:
  case WEFT_OP_ARRAY_GET_S: case WEFT_OP_ARRAY_GET_U: case WEFT_OP_ARRAY_SET: case WEFT_OP_ARRAY_LEN:
  case WEFT_OP_ARRAY_FILL: case WEFT_OP_ARRAY_COPY: case WEFT_OP_ARRAY_INIT_DATA:
  case WEFT_OP_ARRAY_INIT_ELEM:
    return arrays(c, in);
  case WEFT_OP_CONT_NEW: case WEFT_OP_CONT_BIND: case WEFT_OP_SUSPEND: case WEFT_OP_RESUME:
  case WEFT_OP_RESUME_THROW: case WEFT_OP_RESUME_THROW_REF: case WEFT_OP_SWITCH:
    return conts(c, in);
  default:
    return refs(c, in);
  }
}
