/* plugins/validator/validator_module.c -- module-level validation (Wasm 3.0 + stack switching).
 *
 *   types -> imports -> funcs -> tables -> memories -> globals -> tags -> exports -> start
 *         -> elem / data segments -> C.refs (declared function references) -> function bodies
 * Each rule reports the offset of its entry and the reference interpreter's wording.
 * Depends on: validator_int.h (validator_types.c, validator_func.c).
 */
#include <string.h>

#include "validator_int.h"

/* -- Limits ---------------------------------------------------------------------------------- */

static int check_limits(vld_ctx *c, const weft_limits *l, uint64_t bound, const char *what,
                        const char *bound_text) {
  if (l->has_max && l->min > l->max)
    return vld_fail(c, WEFT_ERR_INVALID, "size minimum must not be greater than maximum");
  if (l->min > bound || (l->has_max && l->max > bound))
    return vld_fail(c, WEFT_ERR_INVALID, "%s size must be at most %s", what, bound_text);
  return WEFT_OK;
}

static int check_memtype(vld_ctx *c, const weft_memory *mem) {
  const weft_limits *l = &mem->limits;
  if (l->is64) {
    if (check_limits(c, l, 1ull << 48, "memory", "2^48 pages (256TiB)")) return c->status;
  } else if (check_limits(c, l, 65536, "memory", "65536 pages (4GiB)")) {
    return c->status;
  }
  if (l->shared && !l->has_max) return vld_fail(c, WEFT_ERR_INVALID, "shared memory must have maximum");
  return WEFT_OK;
}

static int check_tabletype(vld_ctx *c, const weft_table_type *tt) {
  if (vld_check_valtype(c, tt->elem, c->m->ntypes)) return c->status;
  if (!WEFT_VT_IS_REF(tt->elem)) return vld_fail(c, WEFT_ERR_INVALID, "malformed reference type");
  if (tt->limits.is64) return check_limits(c, &tt->limits, UINT64_MAX, "table", "2^64-1");
  return check_limits(c, &tt->limits, UINT32_MAX, "table", "2^32-1");
}

/* -- C.refs ---------------------------------------------------------------------------------- */

static void mark_refs(vld_ctx *c, const weft_expr *e) {
  if (!e->code) return;
  for (uint32_t i = 0; i < e->ninstrs; i++)
    if (e->code[i].op == WEFT_OP_REF_FUNC && e->code[i].imm.x.a < c->m->nfuncs)
      c->refs[e->code[i].imm.x.a >> 3] |= (uint8_t)(1u << (e->code[i].imm.x.a & 7));
}

static int collect_refs(vld_ctx *c) {
  const weft_module *m = c->m;
  size_t bytes = ((size_t)m->nfuncs + 8) / 8;
  c->refs = c->host->alloc(c->host->host, bytes);
  if (!c->refs) return vld_nomem(c);
  memset(c->refs, 0, bytes);
  for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) mark_refs(c, &m->globals[i].init);
  for (uint32_t i = m->ntable_imports; i < m->ntables; i++)
    if (m->tables[i].has_init) mark_refs(c, &m->tables[i].init);
  for (uint32_t i = 0; i < m->nelems; i++) {
    if (m->elems[i].items)
      for (uint32_t k = 0; k < m->elems[i].nitems; k++) mark_refs(c, &m->elems[i].items[k]);
    if (m->elems[i].mode == WEFT_SEG_ACTIVE) mark_refs(c, &m->elems[i].offset);
  }
  for (uint32_t i = 0; i < m->ndatas; i++)
    if (m->datas[i].mode == WEFT_SEG_ACTIVE) mark_refs(c, &m->datas[i].offset);
  for (uint32_t i = 0; i < m->nexports; i++)
    if (m->exports[i].kind == WEFT_EXTERN_FUNC && m->exports[i].index < m->nfuncs)
      c->refs[m->exports[i].index >> 3] |= (uint8_t)(1u << (m->exports[i].index & 7));
  return WEFT_OK;
}

/* -- Exports: duplicate names through an open-addressing hash set --------------------------- */

static uint64_t name_hash(const weft_name *n) {
  uint64_t h = 1469598103934665603ull;
  for (uint32_t i = 0; i < n->len; i++) h = (h ^ (uint8_t)n->str[i]) * 1099511628211ull;
  return h;
}

static int check_exports(vld_ctx *c) {
  const weft_module *m = c->m;
  uint32_t *slots = NULL;
  size_t cap = 16;
  int rc = WEFT_OK;
  while (cap < (size_t)m->nexports * 2) cap *= 2;
  slots = c->host->alloc(c->host->host, cap * sizeof *slots);
  if (!slots) return vld_nomem(c);
  memset(slots, 0xFF, cap * sizeof *slots);
  c->off = UINT64_MAX; /* exports carry no offset in the IR */
  for (uint32_t i = 0; i < m->nexports && rc == WEFT_OK; i++) {
    const weft_export *e = &m->exports[i];
    uint32_t n = 0;
    const char *what = "function";
    switch (e->kind) {
    case WEFT_EXTERN_FUNC: n = m->nfuncs; break;
    case WEFT_EXTERN_TABLE: n = m->ntables; what = "table"; break;
    case WEFT_EXTERN_MEMORY: n = m->nmems; what = "memory"; break;
    case WEFT_EXTERN_GLOBAL: n = m->nglobals; what = "global"; break;
    case WEFT_EXTERN_TAG: n = m->ntags; what = "tag"; break;
    default: rc = vld_fail(c, WEFT_ERR_INVALID, "malformed export kind"); goto done;
    }
    if (e->index >= n) {
      rc = vld_fail(c, WEFT_ERR_INVALID, "unknown %s %u", what, e->index);
      goto done;
    }
    if (!e->name.str && e->name.len) {
      rc = vld_fail(c, WEFT_ERR_INVALID, "malformed export name");
      goto done;
    }
    size_t h = (size_t)name_hash(&e->name) & (cap - 1);
    while (slots[h] != UINT32_MAX) {
      const weft_name *o = &m->exports[slots[h]].name;
      if (o->len == e->name.len && (e->name.len == 0 || memcmp(o->str, e->name.str, o->len) == 0)) {
        rc = vld_fail(c, WEFT_ERR_INVALID, "duplicate export name \"%s\"", e->name.str ? e->name.str : "");
        goto done;
      }
      h = (h + 1) & (cap - 1);
    }
    slots[h] = i;
  }
done:
  c->host->free(c->host->host, slots);
  return rc;
}

/* -- Segments -------------------------------------------------------------------------------- */

static int check_elems(vld_ctx *c) {
  const weft_module *m = c->m;
  for (uint32_t i = 0; i < m->nelems; i++) {
    const weft_elem *e = &m->elems[i];
    c->off = e->off;
    if (vld_check_valtype(c, e->type, m->ntypes)) return c->status;
    if (!WEFT_VT_IS_REF(e->type)) return vld_fail(c, WEFT_ERR_INVALID, "malformed reference type");
    if (e->nitems && !e->items) return vld_fail(c, WEFT_ERR_INVALID, "malformed element segment");
    for (uint32_t k = 0; k < e->nitems; k++)
      if (vld_check_const(c, &e->items[k], e->type, m->nglobals, e->off)) return c->status;
    if (e->mode == WEFT_SEG_ACTIVE) {
      c->off = e->off;
      if (e->table >= m->ntables) return vld_fail(c, WEFT_ERR_INVALID, "unknown table %u", e->table);
      const weft_table_type *tt = &m->tables[e->table].type;
      if (!vld_val_sub(c, e->type, tt->elem))
        return vld_fail(c, WEFT_ERR_INVALID, "type mismatch: element segment does not match table");
      weft_valtype at = tt->limits.is64 ? WEFT_VT_I64 : WEFT_VT_I32;
      if (vld_check_const(c, &e->offset, at, m->nglobals, e->off)) return c->status;
    }
  }
  return WEFT_OK;
}

static int check_datas(vld_ctx *c) {
  const weft_module *m = c->m;
  if (m->has_data_count && m->data_count != m->ndatas)
    return vld_fail(c, WEFT_ERR_INVALID, "data count and data section have inconsistent lengths");
  for (uint32_t i = 0; i < m->ndatas; i++) {
    const weft_data *d = &m->datas[i];
    c->off = d->off;
    if (d->mode != WEFT_SEG_ACTIVE) continue;
    if (d->mem >= m->nmems) return vld_fail(c, WEFT_ERR_INVALID, "unknown memory %u", d->mem);
    weft_valtype at = m->mems[d->mem].limits.is64 ? WEFT_VT_I64 : WEFT_VT_I32;
    if (vld_check_const(c, &d->offset, at, m->nglobals, d->off)) return c->status;
  }
  return WEFT_OK;
}

/* -- Entities -------------------------------------------------------------------------------- */

static int check_imports(vld_ctx *c) {
  const weft_module *m = c->m;
  for (uint32_t i = 0; i < m->nimports; i++) {
    const weft_import *im = &m->imports[i];
    c->off = im->off;
    switch (im->kind) {
    case WEFT_EXTERN_FUNC:
      if (im->index >= m->nfuncs) return vld_fail(c, WEFT_ERR_INVALID, "malformed import");
      if (!vld_func_type(c, m->funcs[im->index].type)) return c->status;
      break;
    case WEFT_EXTERN_TABLE:
      if (im->index >= m->ntables) return vld_fail(c, WEFT_ERR_INVALID, "malformed import");
      if (check_tabletype(c, &m->tables[im->index].type)) return c->status;
      break;
    case WEFT_EXTERN_MEMORY:
      if (im->index >= m->nmems) return vld_fail(c, WEFT_ERR_INVALID, "malformed import");
      if (check_memtype(c, &m->mems[im->index])) return c->status;
      break;
    case WEFT_EXTERN_GLOBAL:
      if (im->index >= m->nglobals) return vld_fail(c, WEFT_ERR_INVALID, "malformed import");
      if (vld_check_valtype(c, m->globals[im->index].type.type, m->ntypes)) return c->status;
      break;
    case WEFT_EXTERN_TAG:
      if (im->index >= m->ntags) return vld_fail(c, WEFT_ERR_INVALID, "malformed import");
      if (!vld_func_type(c, m->tags[im->index].type)) return c->status;
      break;
    default:
      return vld_fail(c, WEFT_ERR_INVALID, "malformed import kind");
    }
  }
  return WEFT_OK;
}

/* The offset of an expression's first instruction, or UINT64_MAX. */
static uint64_t expr_off(const weft_expr *e) {
  return e->code && e->ninstrs ? e->code[0].off : UINT64_MAX;
}

static int check_entities(vld_ctx *c) {
  const weft_module *m = c->m;
  for (uint32_t i = 0; i < m->nfuncs; i++) {
    c->off = m->funcs[i].body_off;
    if (!vld_func_type(c, m->funcs[i].type)) return c->status;
  }
  for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
    const weft_table *t = &m->tables[i];
    c->off = expr_off(&t->init);
    if (check_tabletype(c, &t->type)) return c->status;
    if (t->has_init) {
      if (vld_check_const(c, &t->init, t->type.elem, m->nglobal_imports, c->off)) return c->status;
    } else if (!vld_defaultable(t->type.elem)) {
      return vld_fail(c, WEFT_ERR_INVALID, "type mismatch: table of non-nullable references needs an initializer");
    }
  }
  c->off = UINT64_MAX; /* memories carry no offset in the IR */
  for (uint32_t i = m->nmem_imports; i < m->nmems; i++)
    if (check_memtype(c, &m->mems[i])) return c->status;
  for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
    const weft_global *g = &m->globals[i];
    c->off = expr_off(&g->init);
    if (vld_check_valtype(c, g->type.type, m->ntypes)) return c->status;
    if (vld_check_const(c, &g->init, g->type.type, i, c->off)) return c->status;
  }
  c->off = UINT64_MAX;
  for (uint32_t i = m->ntag_imports; i < m->ntags; i++)
    if (!vld_func_type(c, m->tags[i].type)) return c->status;
  return WEFT_OK;
}

static int check_start(vld_ctx *c) {
  const weft_module *m = c->m;
  c->off = UINT64_MAX;
  if (m->start == WEFT_NONE) return WEFT_OK;
  if (m->start >= m->nfuncs) return vld_fail(c, WEFT_ERR_INVALID, "unknown function %u", m->start);
  const weft_type *t = vld_func_type(c, m->funcs[m->start].type);
  if (!t) return c->status;
  if (t->u.func.nparams || t->u.func.nresults)
    return vld_fail(c, WEFT_ERR_INVALID, "start function must have type [] -> []");
  return WEFT_OK;
}

/* -- Entry ----------------------------------------------------------------------------------- */

int vld_validate_module(const vld_state *st, const weft_module *m, weft_diag *d) {
  vld_ctx c;
  vld_ctx_init(&c, st, m, d);
  if (vld_check_types(&c) || check_imports(&c) || collect_refs(&c) || check_entities(&c) ||
      check_exports(&c) || check_start(&c) || check_elems(&c) || check_datas(&c))
    goto done;
  for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++)
    if (vld_check_func(&c, i)) goto done;
done:
  vld_ctx_fini(&c);
  return c.status;
}
