/* core/global.c -- globals and tags: the objects behind weft_global_t / weft_tag_t and their API.
 * Defined globals live in their instance's vmctx (own_globals); host globals carry their own slot.
 * Depends on: core/runtime_int.h.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime_int.h"

static core_global *glob_obj(weft_store_t *s, weft_global_t g) {
  return s != NULL && g.store_id == s->id ? g.obj : NULL;
}

int weft_global_new(weft_store_t *store, weft_valtype type, bool mut, const weft_val_t *init,
                    weft_global_t *out) {
  if (store == NULL || init == NULL || out == NULL) return WEFT_ERR_MISUSE;
  if (WEFT_VT_IS_REF(type) && !WEFT_HT_IS_ABSTRACT(WEFT_VT_HEAP(type))) return WEFT_ERR_MISUSE;
  weft_val_raw raw;
  if (core_rt_val_to_raw(store, init, type, NULL, &raw) != WEFT_OK) return WEFT_ERR_MISUSE;
  core_global *g = calloc(1, sizeof *g);
  if (g == NULL) return WEFT_ERR_NOMEM;
  g->vm = &g->storage;
  g->vm->value = raw;
  g->type.type = type;
  g->type.mut = mut;
  if (core_rt_vec_push(&store->globals, g) != WEFT_OK) {
    free(g);
    return WEFT_ERR_NOMEM;
  }
  *out = (weft_global_t){store->id, g};
  return WEFT_OK;
}

int weft_global_get(weft_store_t *store, weft_global_t g, weft_val_t *out) {
  core_global *o = glob_obj(store, g);
  if (o == NULL || out == NULL) return WEFT_ERR_MISUSE;
  core_rt_raw_to_val(store, &o->vm->value, o->type.type, o->mod, out);
  return WEFT_OK;
}

int weft_global_set(weft_store_t *store, weft_global_t g, const weft_val_t *val) {
  core_global *o = glob_obj(store, g);
  if (o == NULL || val == NULL || !o->type.mut) return WEFT_ERR_MISUSE;
  weft_val_raw raw;
  if (core_rt_val_to_raw(store, val, o->type.type, o->mod, &raw) != WEFT_OK) return WEFT_ERR_MISUSE;
  o->vm->value = raw;
  return WEFT_OK;
}

/* -- Tags (here: the other small value-less entity) ------------------------------------------- */

int weft_tag_new(weft_store_t *store, const weft_valtype *params, uint32_t nparams, weft_tag_t *out) {
  if (store == NULL || out == NULL || (nparams > 0 && params == NULL) || nparams > 10000)
    return WEFT_ERR_MISUSE;
  for (uint32_t i = 0; i < nparams; i++)
    if (WEFT_VT_IS_REF(params[i]) && !WEFT_HT_IS_ABSTRACT(WEFT_VT_HEAP(params[i])))
      return WEFT_ERR_MISUSE;
  core_tag *t = calloc(1, sizeof *t);
  weft_valtype *p = calloc(nparams + 1, sizeof *p);
  if (t == NULL || p == NULL || core_rt_vec_push(&store->tags, t) != WEFT_OK) {
    free(t);
    free(p);
    return WEFT_ERR_NOMEM;
  }
  if (nparams > 0) memcpy(p, params, nparams * sizeof *p);
  t->params = p;
  t->nparams = nparams;
  t->vm = &t->storage;
  t->rtt = core_rt_intern_func_type(store, p, nparams, NULL, 0);
  t->vm->type_index = t->rtt != NULL ? t->rtt->id : UINT32_MAX;
  *out = (weft_tag_t){store->id, t};
  return WEFT_OK;
}

int weft_tag_get_type(weft_store_t *store, weft_tag_t tag, uint32_t *out_nparams,
                      const weft_valtype **out_params) {
  if (store == NULL || tag.store_id != store->id || tag.obj == NULL) return WEFT_ERR_MISUSE;
  const core_tag *t = tag.obj;
  uint32_t n = t->nparams;
  const weft_valtype *p = t->params;
  if (t->mod != NULL && t->type < t->mod->ntypes) {
    n = t->mod->types[t->type].u.func.nparams;
    p = t->mod->types[t->type].u.func.params;
  }
  if (out_nparams != NULL) *out_nparams = n;
  if (out_params != NULL) *out_params = p;
  return WEFT_OK;
}

int weft_global_get_type(weft_store_t *store, weft_global_t g, weft_valtype *out_type, bool *out_mut) {
  core_global *o = glob_obj(store, g);
  if (o == NULL) return WEFT_ERR_MISUSE;
  if (out_type != NULL) *out_type = o->type.type;
  if (out_mut != NULL) *out_mut = o->type.mut;
  return WEFT_OK;
}
