/* core/global.c -- globals: the objects behind weft_global_t and the global part of the API.
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

int weft_global_get_type(weft_store_t *store, weft_global_t g, weft_valtype *out_type, bool *out_mut) {
  core_global *o = glob_obj(store, g);
  if (o == NULL) return WEFT_ERR_MISUSE;
  if (out_type != NULL) *out_type = o->type.type;
  if (out_mut != NULL) *out_mut = o->type.mut;
  return WEFT_OK;
}
