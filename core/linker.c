/* core/linker.c -- import matching (the spec's "import subtyping": funcs, tables, memories, globals,
 * tags, across modules through canonical rtts) and the linker: a (module, name) -> extern map bound
 * to one store that resolves a module's imports and instantiates it.
 * Depends on: core/runtime_int.h, core/host.h (core_diagf).
 */
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "runtime_int.h"

int core_rt_import_check(weft_store_t *s, const weft_module *ir, uint32_t imp,
                         const weft_extern_t *ext, weft_diag *d);

/* -- Heap and value types --------------------------------------------------------------------- */

/* Abstract heap type a <: b (binary codes). */
static bool abs_sub(uint32_t a, uint32_t b) {
  if (a == b) return true;
  switch (b) {
  case WEFT_AHT_ANY:
    return a == WEFT_AHT_EQ || a == WEFT_AHT_I31 || a == WEFT_AHT_STRUCT || a == WEFT_AHT_ARRAY ||
           a == WEFT_AHT_NONE;
  case WEFT_AHT_EQ:
    return a == WEFT_AHT_I31 || a == WEFT_AHT_STRUCT || a == WEFT_AHT_ARRAY || a == WEFT_AHT_NONE;
  case WEFT_AHT_I31: case WEFT_AHT_STRUCT: case WEFT_AHT_ARRAY: return a == WEFT_AHT_NONE;
  case WEFT_AHT_FUNC: return a == WEFT_AHT_NOFUNC;
  case WEFT_AHT_EXTERN: return a == WEFT_AHT_NOEXTERN;
  case WEFT_AHT_EXN: return a == WEFT_AHT_NOEXN;
  case WEFT_AHT_CONT: return a == WEFT_AHT_NOCONT;
  default: return false;
  }
}

static const weft_type *concrete(uint32_t h, const weft_module *m) {
  return m != NULL && h < m->ntypes ? &m->types[h] : NULL;
}

static bool heap_sub(uint32_t h1, const weft_module *m1, uint32_t h2, const weft_module *m2) {
  bool a1 = WEFT_HT_IS_ABSTRACT(h1), a2 = WEFT_HT_IS_ABSTRACT(h2);
  if (a1 && a2) return abs_sub(h1 & 0xFFu, h2 & 0xFFu);
  if (!a1 && !a2) {
    const weft_type *t1 = concrete(h1, m1), *t2 = concrete(h2, m2);
    if (t1 == NULL || t2 == NULL) return false;
    if (t1->rtt == NULL || t2->rtt == NULL) return m1 == m2 && h1 == h2;
    return core_rt_rtt_sub(t1->rtt, t2->rtt);
  }
  if (!a1) { /* concrete <: abstract */
    const weft_type *t1 = concrete(h1, m1);
    if (t1 == NULL) return false;
    uint32_t top = t1->comp == WEFT_COMP_FUNC     ? WEFT_AHT_FUNC
                   : t1->comp == WEFT_COMP_STRUCT ? WEFT_AHT_STRUCT
                   : t1->comp == WEFT_COMP_ARRAY  ? WEFT_AHT_ARRAY
                                                  : WEFT_AHT_CONT;
    return abs_sub(top, h2 & 0xFFu);
  }
  const weft_type *t2 = concrete(h2, m2); /* abstract bottom <: concrete */
  if (t2 == NULL) return false;
  switch (h1 & 0xFFu) {
  case WEFT_AHT_NONE: return t2->comp == WEFT_COMP_STRUCT || t2->comp == WEFT_COMP_ARRAY;
  case WEFT_AHT_NOFUNC: return t2->comp == WEFT_COMP_FUNC;
  case WEFT_AHT_NOCONT: return t2->comp == WEFT_COMP_CONT;
  default: return false;
  }
}

bool core_rt_valtype_sub(weft_valtype t1, const weft_module *m1, weft_valtype t2,
                         const weft_module *m2) {
  if (!WEFT_VT_IS_REF(t1) || !WEFT_VT_IS_REF(t2)) return t1 == t2;
  if (WEFT_VT_NULLABLE(t1) && !WEFT_VT_NULLABLE(t2)) return false;
  return heap_sub(WEFT_VT_HEAP(t1), m1, WEFT_VT_HEAP(t2), m2);
}

static bool valtype_eq(weft_valtype t1, const weft_module *m1, weft_valtype t2,
                       const weft_module *m2) {
  return core_rt_valtype_sub(t1, m1, t2, m2) && core_rt_valtype_sub(t2, m2, t1, m1);
}

/* -- Import matching -------------------------------------------------------------------------- */

static bool limits_match(const weft_limits *actual, const weft_limits *want) {
  if (actual->is64 != want->is64 || actual->shared != want->shared) return false;
  if (actual->min < want->min) return false;
  if (want->has_max && (!actual->has_max || actual->max > want->max)) return false;
  return true;
}

/* A host function without a canonical type matches a module type with the same signature when that
 * type is final, has no supertype and is alone in its rec group; it then takes that identity. */
static bool host_func_match(core_hostfunc *h, const weft_type *want) {
  if (!want->final || want->nsupers != 0 || want->rec_size != 1) return false;
  if (h->nparams != want->u.func.nparams || h->nresults != want->u.func.nresults) return false;
  for (uint32_t i = 0; i < h->nparams; i++)
    if (h->params[i] != want->u.func.params[i]) return false;
  for (uint32_t i = 0; i < h->nresults; i++)
    if (h->results[i] != want->u.func.results[i]) return false;
  if (h->rtt == NULL && want->rtt != NULL) {
    h->rtt = want->rtt;
    h->ref.type_index = want->rtt->id;
  }
  return true;
}

static bool func_match(weft_funcref *f, const weft_module *ir, uint32_t type) {
  if (f == NULL || type >= ir->ntypes || ir->types[type].comp != WEFT_COMP_FUNC) return false;
  const weft_type *want = &ir->types[type];
  const weft_rtt *have = core_rt_funcref_rtt(f);
  if (have != NULL && want->rtt != NULL) return core_rt_rtt_sub(have, want->rtt);
  if (f->vmctx != NULL && ((weft_vmctx_header *)f->vmctx)->magic == WEFT_HOSTCTX_MAGIC)
    return host_func_match((core_hostfunc *)f->vmctx, want);
  /* No canonical types (decoded without a registry): compare the signatures. */
  uint32_t np, nr;
  const weft_valtype *p, *r;
  const weft_module *m;
  if (!core_rt_funcref_sig(f, &np, &p, &nr, &r, &m)) return false;
  if (np != want->u.func.nparams || nr != want->u.func.nresults) return false;
  for (uint32_t i = 0; i < np; i++)
    if (!valtype_eq(p[i], m, want->u.func.params[i], ir)) return false;
  for (uint32_t i = 0; i < nr; i++)
    if (!valtype_eq(r[i], m, want->u.func.results[i], ir)) return false;
  return true;
}

static bool tag_match(const core_tag *t, const weft_module *ir, uint32_t type) {
  if (type >= ir->ntypes) return false;
  const weft_type *wt = &ir->types[type];
  const weft_rtt *want = wt->rtt;
  const weft_rtt *have = t->rtt;
  if (t->mod != NULL && t->type < t->mod->ntypes) have = t->mod->types[t->type].rtt;
  if (want != NULL && have != NULL) return want->id == have->id;
  if (t->mod == NULL) { /* a host tag without canonical type: compare the signature */
    if (wt->comp != WEFT_COMP_FUNC || wt->u.func.nresults != 0 || wt->u.func.nparams != t->nparams)
      return false;
    for (uint32_t i = 0; i < t->nparams; i++)
      if (wt->u.func.params[i] != t->params[i]) return false;
    return true;
  }
  return t->mod == ir && t->type == type;
}

static bool extern_match(weft_store_t *s, const weft_module *ir, const weft_import *im,
                         const weft_extern_t *ext) {
  switch (im->kind) {
  case WEFT_EXTERN_FUNC:
    return ext->of.func.store_id == s->id &&
           func_match(ext->of.func.ref, ir, ir->funcs[im->index].type);
  case WEFT_EXTERN_TABLE: {
    const core_table *t = ext->of.table.obj;
    const weft_table_type *want = &ir->tables[im->index].type;
    if (t == NULL || ext->of.table.store_id != s->id) return false;
    return limits_match(&t->type.limits, &want->limits) &&
           valtype_eq(t->type.elem, t->mod, want->elem, ir);
  }
  case WEFT_EXTERN_MEMORY: {
    const core_memory *m = ext->of.memory.obj;
    if (m == NULL || ext->of.memory.store_id != s->id) return false;
    return limits_match(&m->limits, &ir->mems[im->index].limits);
  }
  case WEFT_EXTERN_GLOBAL: {
    const core_global *g = ext->of.global.obj;
    const weft_global_type *want = &ir->globals[im->index].type;
    if (g == NULL || ext->of.global.store_id != s->id || g->type.mut != want->mut) return false;
    if (want->mut) return valtype_eq(g->type.type, g->mod, want->type, ir);
    return core_rt_valtype_sub(g->type.type, g->mod, want->type, ir);
  }
  case WEFT_EXTERN_TAG: {
    const core_tag *t = ext->of.tag.obj;
    if (t == NULL || ext->of.tag.store_id != s->id) return false;
    return tag_match(t, ir, ir->tags[im->index].type);
  }
  default: return false;
  }
}

int core_rt_import_check(weft_store_t *s, const weft_module *ir, uint32_t imp,
                         const weft_extern_t *ext, weft_diag *d) {
  const weft_import *im = &ir->imports[imp];
  if (ext->kind != im->kind || !extern_match(s, ir, im, ext))
    return core_diagf(d, WEFT_ERR_LINK, im->off, "link", "incompatible import type \"%s\" \"%s\"",
                      im->module.str, im->name.str);
  return WEFT_OK;
}

/* -- Linker ----------------------------------------------------------------------------------- */

typedef struct link_item {
  char *module, *name;
  size_t mlen, nlen;
  weft_extern_t ext;
} link_item;

struct weft_linker {
  weft_store_t *store;
  link_item *items;
  size_t n, cap;
  bool shadowing;
};

weft_linker_t *weft_linker_new(weft_store_t *store) {
  if (store == NULL) return NULL;
  weft_linker_t *l = calloc(1, sizeof *l);
  if (l != NULL) l->store = store;
  return l;
}

void weft_linker_free(weft_linker_t *l) {
  if (l == NULL) return;
  for (size_t i = 0; i < l->n; i++) {
    free(l->items[i].module);
    free(l->items[i].name);
  }
  free(l->items);
  free(l);
}

void weft_linker_allow_shadowing(weft_linker_t *l, bool allow) {
  if (l != NULL) l->shadowing = allow;
}

static link_item *find(weft_linker_t *l, const char *m, size_t mlen, const char *n, size_t nlen) {
  for (size_t i = l->n; i-- > 0;) {
    link_item *it = &l->items[i];
    if (it->mlen == mlen && it->nlen == nlen && memcmp(it->module, m, mlen) == 0 &&
        memcmp(it->name, n, nlen) == 0)
      return it;
  }
  return NULL;
}

static char *dup_n(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (p == NULL) return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

static uint64_t extern_store(const weft_extern_t *e) {
  switch (e->kind) {
  case WEFT_EXTERN_FUNC: return e->of.func.store_id;
  case WEFT_EXTERN_TABLE: return e->of.table.store_id;
  case WEFT_EXTERN_MEMORY: return e->of.memory.store_id;
  case WEFT_EXTERN_GLOBAL: return e->of.global.store_id;
  case WEFT_EXTERN_TAG: return e->of.tag.store_id;
  default: return 0;
  }
}

int weft_linker_define_n(weft_linker_t *l, const char *module, size_t mlen, const char *name,
                         size_t nlen, const weft_extern_t *item) {
  if (l == NULL || module == NULL || name == NULL || item == NULL ||
      extern_store(item) != l->store->id)
    return WEFT_ERR_MISUSE;
  if (item->kind == WEFT_EXTERN_FUNC && item->of.func.ref == NULL) return WEFT_ERR_MISUSE;
  link_item *old = find(l, module, mlen, name, nlen);
  if (old != NULL) {
    if (!l->shadowing) return WEFT_ERR_LINK;
    old->ext = *item;
    return WEFT_OK;
  }
  if (l->n == l->cap) {
    size_t cap = l->cap != 0 ? l->cap * 2 : 16;
    link_item *items = realloc(l->items, cap * sizeof *items);
    if (items == NULL) return WEFT_ERR_NOMEM;
    l->items = items;
    l->cap = cap;
  }
  link_item *it = &l->items[l->n];
  it->module = dup_n(module, mlen);
  it->name = dup_n(name, nlen);
  if (it->module == NULL || it->name == NULL) {
    free(it->module);
    free(it->name);
    return WEFT_ERR_NOMEM;
  }
  it->mlen = mlen;
  it->nlen = nlen;
  it->ext = *item;
  l->n++;
  return WEFT_OK;
}

int weft_linker_define(weft_linker_t *l, const char *module, const char *name,
                       const weft_extern_t *item) {
  if (module == NULL || name == NULL) return WEFT_ERR_MISUSE;
  return weft_linker_define_n(l, module, strlen(module), name, strlen(name), item);
}

int weft_linker_define_instance(weft_linker_t *l, const char *module, weft_instance_t *inst) {
  if (l == NULL || module == NULL || inst == NULL || inst->store != l->store) return WEFT_ERR_MISUSE;
  for (uint32_t i = 0; i < inst->ir->nexports; i++) {
    const weft_export *ex = &inst->ir->exports[i];
    weft_extern_t e;
    int rc = weft_instance_export_n(inst, ex->name.str, ex->name.len, &e);
    if (rc == WEFT_OK) rc = weft_linker_define_n(l, module, strlen(module), ex->name.str, ex->name.len, &e);
    if (rc != WEFT_OK) return rc;
  }
  return WEFT_OK;
}

int weft_linker_get(weft_linker_t *l, const char *module, const char *name, weft_extern_t *out) {
  if (l == NULL || module == NULL || name == NULL || out == NULL) return WEFT_ERR_MISUSE;
  link_item *it = find(l, module, strlen(module), name, strlen(name));
  if (it == NULL) return WEFT_ERR_LINK;
  *out = it->ext;
  return WEFT_OK;
}

int weft_linker_instantiate(weft_linker_t *l, const weft_module_t *module,
                            weft_instance_t **out_instance, weft_trap_t **out_trap, weft_error *err) {
  weft_diag local;
  weft_diag *d = err != NULL ? err : &local;
  if (l == NULL || module == NULL || out_instance == NULL || out_trap == NULL)
    return core_diagf(d, WEFT_ERR_MISUSE, UINT64_MAX, "link", "NULL argument");
  *out_instance = NULL;
  *out_trap = NULL;
  const weft_module *ir = weft_module_ir(module);
  weft_extern_t *imports = calloc(ir->nimports + 1, sizeof *imports);
  if (imports == NULL) return core_diagf(d, WEFT_ERR_NOMEM, UINT64_MAX, "link", "out of memory");
  int rc = WEFT_OK;
  for (uint32_t i = 0; i < ir->nimports; i++) {
    const weft_import *im = &ir->imports[i];
    link_item *it = find(l, im->module.str, im->module.len, im->name.str, im->name.len);
    if (it == NULL) {
      rc = core_diagf(d, WEFT_ERR_LINK, im->off, "link", "unknown import \"%s\" \"%s\"",
                      im->module.str, im->name.str);
      goto out;
    }
    imports[i] = it->ext;
  }
  rc = weft_instance_new(l->store, module, imports, ir->nimports, out_instance, out_trap, d);
out:
  free(imports);
  return rc;
}
