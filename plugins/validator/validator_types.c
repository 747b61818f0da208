/* plugins/validator/validator_types.c -- type-section rules and subtyping for the validator.
 *
 * Heap subtyping follows Wasm 3.0 (any/eq/i31/struct/array/none, func/nofunc, extern/noextern,
 * exn/noexn) plus the stack-switching hierarchy cont/nocont. Concrete types compare through their
 * canonical weft_rtt (O(1) supertype check); IR built without rtts (unit tests) falls back to walking
 * the declared supertype chain by index. Depends on: validator_int.h.
 */
#include <stdio.h>
#include <string.h>

#include "validator_int.h"

/* -- Lookups --------------------------------------------------------------------------------- */

const weft_type *vld_type(const vld_ctx *c, uint32_t idx) {
  return idx < c->m->ntypes ? &c->m->types[idx] : NULL;
}

const weft_type *vld_func_type(vld_ctx *c, uint32_t idx) {
  const weft_type *t = vld_type(c, idx);
  if (!t) {
    vld_fail(c, WEFT_ERR_INVALID, "unknown type %u", idx);
    return NULL;
  }
  if (t->comp != WEFT_COMP_FUNC) {
    vld_fail(c, WEFT_ERR_INVALID, "non-function type %u", idx);
    return NULL;
  }
  return t;
}

const weft_type *vld_cont_type(vld_ctx *c, uint32_t idx) {
  const weft_type *t = vld_type(c, idx);
  if (!t) {
    vld_fail(c, WEFT_ERR_INVALID, "unknown type %u", idx);
    return NULL;
  }
  if (t->comp != WEFT_COMP_CONT) {
    vld_fail(c, WEFT_ERR_INVALID, "non-continuation type %u", idx);
    return NULL;
  }
  const weft_type *ft = vld_type(c, t->u.cont_func);
  if (!ft || ft->comp != WEFT_COMP_FUNC) {
    vld_fail(c, WEFT_ERR_INVALID, "non-function type %u", t->u.cont_func);
    return NULL;
  }
  return t;
}

/* -- Heap types ------------------------------------------------------------------------------ */

static uint8_t comp_of(const vld_ctx *c, uint32_t idx) {
  return idx < c->m->ntypes ? c->m->types[idx].comp : 0;
}

/* Concrete a <: concrete b. */
static bool concrete_sub(const vld_ctx *c, uint32_t a, uint32_t b) {
  const weft_type *ta = vld_type(c, a), *tb = vld_type(c, b);
  if (!ta || !tb) return false;
  if (ta->rtt && tb->rtt) {
    const weft_rtt *ra = ta->rtt, *rb = tb->rtt;
    if (ra == rb) return true;
    return rb->depth <= ra->depth && ra->supers && ra->supers[rb->depth] == rb;
  }
  /* No canonical identities: follow declared supertypes by index (bounded by ntypes). */
  uint32_t x = a;
  for (uint32_t steps = 0; steps <= c->m->ntypes && x < c->m->ntypes; steps++) {
    if (x == b) return true;
    const weft_type *tx = &c->m->types[x];
    if (tx->nsupers == 0 || tx->super >= x) break;
    x = tx->super;
  }
  return false;
}

static bool concrete_eq(const vld_ctx *c, uint32_t a, uint32_t b) {
  if (a == b) return true;
  const weft_type *ta = vld_type(c, a), *tb = vld_type(c, b);
  return ta && tb && ta->rtt && ta->rtt == tb->rtt;
}

uint32_t vld_heap_top(const vld_ctx *c, uint32_t ht) {
  if (!WEFT_HT_IS_ABSTRACT(ht)) {
    switch (comp_of(c, ht)) {
    case WEFT_COMP_FUNC: return WEFT_HT_ABS(WEFT_AHT_FUNC);
    case WEFT_COMP_CONT: return WEFT_HT_ABS(WEFT_AHT_CONT);
    default: return WEFT_HT_ABS(WEFT_AHT_ANY);
    }
  }
  switch (ht & 0xFFu) {
  case WEFT_AHT_FUNC: case WEFT_AHT_NOFUNC: return WEFT_HT_ABS(WEFT_AHT_FUNC);
  case WEFT_AHT_EXTERN: case WEFT_AHT_NOEXTERN: return WEFT_HT_ABS(WEFT_AHT_EXTERN);
  case WEFT_AHT_EXN: case WEFT_AHT_NOEXN: return WEFT_HT_ABS(WEFT_AHT_EXN);
  case WEFT_AHT_CONT: case WEFT_AHT_NOCONT: return WEFT_HT_ABS(WEFT_AHT_CONT);
  case 0: return VLD_HT_BOT;
  default: return WEFT_HT_ABS(WEFT_AHT_ANY);
  }
}

bool vld_heap_sub(const vld_ctx *c, uint32_t a, uint32_t b) {
  if (a == b || a == VLD_HT_BOT) return true;
  if (b == VLD_HT_BOT) return false;
  bool aa = WEFT_HT_IS_ABSTRACT(a), ba = WEFT_HT_IS_ABSTRACT(b);
  if (!aa && !ba) return concrete_sub(c, a, b);
  if (!aa) {
    uint8_t k = comp_of(c, a);
    switch (b & 0xFFu) {
    case WEFT_AHT_ANY: case WEFT_AHT_EQ: return k == WEFT_COMP_STRUCT || k == WEFT_COMP_ARRAY;
    case WEFT_AHT_STRUCT: return k == WEFT_COMP_STRUCT;
    case WEFT_AHT_ARRAY: return k == WEFT_COMP_ARRAY;
    case WEFT_AHT_FUNC: return k == WEFT_COMP_FUNC;
    case WEFT_AHT_CONT: return k == WEFT_COMP_CONT;
    default: return false;
    }
  }
  if (!ba) {
    uint8_t k = comp_of(c, b);
    switch (a & 0xFFu) {
    case WEFT_AHT_NONE: return k == WEFT_COMP_STRUCT || k == WEFT_COMP_ARRAY;
    case WEFT_AHT_NOFUNC: return k == WEFT_COMP_FUNC;
    case WEFT_AHT_NOCONT: return k == WEFT_COMP_CONT;
    default: return false;
    }
  }
  uint32_t bc = b & 0xFFu;
  switch (a & 0xFFu) {
  case WEFT_AHT_NONE:
    return bc == WEFT_AHT_ANY || bc == WEFT_AHT_EQ || bc == WEFT_AHT_I31 || bc == WEFT_AHT_STRUCT ||
           bc == WEFT_AHT_ARRAY;
  case WEFT_AHT_I31: case WEFT_AHT_STRUCT: case WEFT_AHT_ARRAY:
    return bc == WEFT_AHT_ANY || bc == WEFT_AHT_EQ;
  case WEFT_AHT_EQ: return bc == WEFT_AHT_ANY;
  case WEFT_AHT_NOFUNC: return bc == WEFT_AHT_FUNC;
  case WEFT_AHT_NOEXTERN: return bc == WEFT_AHT_EXTERN;
  case WEFT_AHT_NOEXN: return bc == WEFT_AHT_EXN;
  case WEFT_AHT_NOCONT: return bc == WEFT_AHT_CONT;
  default: return false;
  }
}

/* -- Value types ----------------------------------------------------------------------------- */

bool vld_val_sub(const vld_ctx *c, weft_valtype a, weft_valtype b) {
  if (a == b || a == VLD_BOT) return true;
  if (!WEFT_VT_IS_REF(a) || !WEFT_VT_IS_REF(b)) return false;
  if (WEFT_VT_NULLABLE(a) && !WEFT_VT_NULLABLE(b)) return false;
  return vld_heap_sub(c, WEFT_VT_HEAP(a), WEFT_VT_HEAP(b));
}

bool vld_val_eq(const vld_ctx *c, weft_valtype a, weft_valtype b) {
  if (a == b) return true;
  if (!WEFT_VT_IS_REF(a) || !WEFT_VT_IS_REF(b)) return false;
  if (WEFT_VT_KIND(a) != WEFT_VT_KIND(b)) return false;
  uint32_t ha = WEFT_VT_HEAP(a), hb = WEFT_VT_HEAP(b);
  if (WEFT_HT_IS_ABSTRACT(ha) || WEFT_HT_IS_ABSTRACT(hb)) return ha == hb;
  return concrete_eq(c, ha, hb);
}

/* [p1*] -> [r1*]  <:  [p2*] -> [r2*]: contravariant params, covariant results. */
bool vld_func_sub(const vld_ctx *c, const weft_type *a, const weft_type *b) {
  if (a->u.func.nparams != b->u.func.nparams || a->u.func.nresults != b->u.func.nresults)
    return false;
  for (uint32_t i = 0; i < a->u.func.nparams; i++)
    if (!vld_val_sub(c, b->u.func.params[i], a->u.func.params[i])) return false;
  for (uint32_t i = 0; i < a->u.func.nresults; i++)
    if (!vld_val_sub(c, a->u.func.results[i], b->u.func.results[i])) return false;
  return true;
}

bool vld_defaultable(weft_valtype t) {
  return !WEFT_VT_IS_REF(t) || WEFT_VT_NULLABLE(t);
}

weft_valtype vld_unpack(weft_valtype t) {
  return (t == WEFT_VT_I8 || t == WEFT_VT_I16) ? (weft_valtype)WEFT_VT_I32 : t;
}

static bool known_abstract(uint32_t code) {
  switch (code) {
  case WEFT_AHT_EXN: case WEFT_AHT_ARRAY: case WEFT_AHT_STRUCT: case WEFT_AHT_I31: case WEFT_AHT_EQ:
  case WEFT_AHT_ANY: case WEFT_AHT_EXTERN: case WEFT_AHT_FUNC: case WEFT_AHT_NONE:
  case WEFT_AHT_NOEXTERN: case WEFT_AHT_NOFUNC: case WEFT_AHT_NOEXN: case WEFT_AHT_NOCONT:
  case WEFT_AHT_CONT:
    return true;
  default:
    return false;
  }
}

/* A value (or storage) type is well-formed when its concrete heap type is < ntypes_visible. */
int vld_check_valtype(vld_ctx *c, weft_valtype t, uint32_t ntypes_visible) {
  switch (WEFT_VT_KIND(t)) {
  case WEFT_VT_I32: case WEFT_VT_I64: case WEFT_VT_F32: case WEFT_VT_F64: case WEFT_VT_V128:
  case WEFT_VT_I8: case WEFT_VT_I16:
    return (t >> 8) == 0 ? WEFT_OK : vld_fail(c, WEFT_ERR_INVALID, "malformed value type");
  case WEFT_VT_REF: case WEFT_VT_REF_NULL: {
    uint32_t h = WEFT_VT_HEAP(t);
    if (WEFT_HT_IS_ABSTRACT(h))
      return known_abstract(h & 0xFFu) ? WEFT_OK
                                       : vld_fail(c, WEFT_ERR_INVALID, "malformed heap type");
    if (h >= ntypes_visible) return vld_fail(c, WEFT_ERR_INVALID, "unknown type %u", h);
    return WEFT_OK;
  }
  default:
    return vld_fail(c, WEFT_ERR_INVALID, "malformed value type");
  }
}

/* -- Formatting for messages ----------------------------------------------------------------- */

static const char *abstract_name(uint32_t code) {
  switch (code) {
  case WEFT_AHT_EXN: return "exn";
  case WEFT_AHT_ARRAY: return "array";
  case WEFT_AHT_STRUCT: return "struct";
  case WEFT_AHT_I31: return "i31";
  case WEFT_AHT_EQ: return "eq";
  case WEFT_AHT_ANY: return "any";
  case WEFT_AHT_EXTERN: return "extern";
  case WEFT_AHT_FUNC: return "func";
  case WEFT_AHT_NONE: return "none";
  case WEFT_AHT_NOEXTERN: return "noextern";
  case WEFT_AHT_NOFUNC: return "nofunc";
  case WEFT_AHT_NOEXN: return "noexn";
  case WEFT_AHT_NOCONT: return "nocont";
  case WEFT_AHT_CONT: return "cont";
  default: return "bot";
  }
}

/* Writes the reference interpreter's spelling of `t` ("i32", "(ref null 3)", "(ref cont)"). */
size_t vld_fmt_type(const vld_ctx *c, weft_valtype t, char *buf, size_t cap) {
  (void)c;
  int n;
  switch (WEFT_VT_KIND(t)) {
  case WEFT_VT_I32: n = snprintf(buf, cap, "i32"); break;
  case WEFT_VT_I64: n = snprintf(buf, cap, "i64"); break;
  case WEFT_VT_F32: n = snprintf(buf, cap, "f32"); break;
  case WEFT_VT_F64: n = snprintf(buf, cap, "f64"); break;
  case WEFT_VT_V128: n = snprintf(buf, cap, "v128"); break;
  case WEFT_VT_I8: n = snprintf(buf, cap, "i8"); break;
  case WEFT_VT_I16: n = snprintf(buf, cap, "i16"); break;
  case WEFT_VT_REF: case WEFT_VT_REF_NULL: {
    uint32_t h = WEFT_VT_HEAP(t);
    const char *nul = WEFT_VT_NULLABLE(t) ? "null " : "";
    if (WEFT_HT_IS_ABSTRACT(h)) n = snprintf(buf, cap, "(ref %s%s)", nul, abstract_name(h & 0xFFu));
    else n = snprintf(buf, cap, "(ref %s%u)", nul, h);
    break;
  }
  default: n = snprintf(buf, cap, "bot"); break;
  }
  if (n < 0) n = 0;
  return (size_t)n < cap ? (size_t)n : (cap ? cap - 1 : 0);
}

/* -- Type section ---------------------------------------------------------------------------- */

static bool field_sub(const vld_ctx *c, const weft_fieldtype *a, const weft_fieldtype *b) {
  if (a->mut != b->mut) return false;
  if (a->type == WEFT_VT_I8 || a->type == WEFT_VT_I16 || b->type == WEFT_VT_I8 ||
      b->type == WEFT_VT_I16)
    return a->type == b->type;
  return a->mut ? vld_val_eq(c, a->type, b->type) : vld_val_sub(c, a->type, b->type);
}

static bool comp_sub(const vld_ctx *c, const weft_type *a, const weft_type *b) {
  if (a->comp != b->comp) return false;
  switch (a->comp) {
  case WEFT_COMP_FUNC: return vld_func_sub(c, a, b);
  case WEFT_COMP_STRUCT:
    if (a->u.strct.nfields < b->u.strct.nfields) return false;
    for (uint32_t i = 0; i < b->u.strct.nfields; i++)
      if (!field_sub(c, &a->u.strct.fields[i], &b->u.strct.fields[i])) return false;
    return true;
  case WEFT_COMP_ARRAY: return field_sub(c, &a->u.array, &b->u.array);
  case WEFT_COMP_CONT: return vld_heap_sub(c, a->u.cont_func, b->u.cont_func);
  default: return false;
  }
}

static int check_one_type(vld_ctx *c, uint32_t i) {
  const weft_type *t = &c->m->types[i];
  uint32_t vis = t->rec_start + t->rec_size;
  if (t->rec_start > i || vis <= i || vis > c->m->ntypes) vis = i + 1; /* defensive */
  switch (t->comp) {
  case WEFT_COMP_FUNC:
    for (uint32_t k = 0; k < t->u.func.nparams; k++) {
      weft_valtype v = t->u.func.params[k];
      if (v == WEFT_VT_I8 || v == WEFT_VT_I16) return vld_fail(c, WEFT_ERR_INVALID, "malformed value type");
      if (vld_check_valtype(c, v, vis)) return c->status;
    }
    for (uint32_t k = 0; k < t->u.func.nresults; k++) {
      weft_valtype v = t->u.func.results[k];
      if (v == WEFT_VT_I8 || v == WEFT_VT_I16) return vld_fail(c, WEFT_ERR_INVALID, "malformed value type");
      if (vld_check_valtype(c, v, vis)) return c->status;
    }
    break;
  case WEFT_COMP_STRUCT:
    for (uint32_t k = 0; k < t->u.strct.nfields; k++)
      if (vld_check_valtype(c, t->u.strct.fields[k].type, vis)) return c->status;
    break;
  case WEFT_COMP_ARRAY:
    if (vld_check_valtype(c, t->u.array.type, vis)) return c->status;
    break;
  case WEFT_COMP_CONT: {
    uint32_t f = t->u.cont_func;
    if (f >= vis) return vld_fail(c, WEFT_ERR_INVALID, "unknown type %u", f);
    if (c->m->types[f].comp != WEFT_COMP_FUNC)
      return vld_fail(c, WEFT_ERR_INVALID, "non-function type %u", f);
    break;
  }
  default:
    return vld_fail(c, WEFT_ERR_INVALID, "malformed composite type");
  }
  if (t->nsupers > 1) return vld_fail(c, WEFT_ERR_INVALID, "multiple supertypes");
  if (t->nsupers == 1) {
    uint32_t s = t->super;
    if (s >= i) return vld_fail(c, WEFT_ERR_INVALID, "unknown type %u", s);
    const weft_type *ts = &c->m->types[s];
    if (ts->final)
      return vld_fail(c, WEFT_ERR_INVALID, "sub type %u does not match super type %u", i, s);
    if (!comp_sub(c, t, ts))
      return vld_fail(c, WEFT_ERR_INVALID, "sub type %u does not match super type %u", i, s);
  }
  return WEFT_OK;
}

int vld_check_types(vld_ctx *c) {
  if (c->m->ntypes > c->st->max_types)
    return vld_fail(c, WEFT_ERR_LIMIT, "too many types (%u, limit max_types = %u)", c->m->ntypes,
                    c->st->max_types);
  for (uint32_t i = 0; i < c->m->ntypes; i++)
    if (check_one_type(c, i)) return c->status;
  return WEFT_OK;
}
