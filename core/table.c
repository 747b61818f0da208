/* core/table.c -- tables: element storage (8-byte references, 16-byte continuation references),
 * growth within limits, and the table part of the API.
 * Depends on: core/runtime_int.h.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime_int.h"

/* -- Storage ---------------------------------------------------------------------------------- */

/* An implementation limit on table size: growth past it returns -1, as the spec allows. */
#define TABLE_MAX_ELEMS ((uint64_t)1 << 24)

uint32_t core_rt_elem_size(weft_valtype t, const weft_module *mod) {
  uint32_t h = WEFT_VT_HEAP(t);
  if (WEFT_HT_IS_ABSTRACT(h)) {
    uint32_t code = h & 0xFFu;
    return code == WEFT_AHT_CONT || code == WEFT_AHT_NOCONT ? 16 : 8;
  }
  if (mod != NULL && h < mod->ntypes && mod->types[h].comp == WEFT_COMP_CONT) return 16;
  return 8;
}

static uint64_t table_max(const core_table *t) {
  const weft_limits *l = &t->type.limits;
  if (l->has_max && l->max < TABLE_MAX_ELEMS) return l->max;
  return TABLE_MAX_ELEMS;
}

void core_rt_table_read(const core_table *t, uint64_t i, weft_val_raw *out) {
  memset(out, 0, sizeof *out);
  memcpy(out, t->vm->base + i * t->vm->elem_size, t->vm->elem_size);
}

void core_rt_table_write(core_table *t, uint64_t i, const weft_val_raw *v) {
  weft_val_raw zero;
  if (v == NULL) {
    memset(&zero, 0, sizeof zero);
    v = &zero;
  }
  memcpy(t->vm->base + i * t->vm->elem_size, v, t->vm->elem_size);
}

int core_rt_table_create(const weft_table_type *tt, const weft_module *mod, weft_vm_table *vm,
                         const weft_val_raw *init, core_table **out) {
  *out = NULL;
  core_table *t = calloc(1, sizeof *t);
  if (t == NULL) return WEFT_ERR_NOMEM;
  t->vm = vm != NULL ? vm : &t->storage;
  t->type = *tt;
  t->mod = mod;
  if (tt->limits.min > table_max(t)) {
    free(t);
    return WEFT_ERR_LIMIT;
  }
  t->vm->elem_size = core_rt_elem_size(tt->elem, mod);
  t->capacity = tt->limits.min;
  t->vm->base = calloc(t->capacity != 0 ? t->capacity : 1, t->vm->elem_size);
  if (t->vm->base == NULL) {
    free(t);
    return WEFT_ERR_NOMEM;
  }
  t->vm->size = tt->limits.min;
  if (init != NULL)
    for (uint64_t i = 0; i < t->vm->size; i++) core_rt_table_write(t, i, init);
  *out = t;
  return WEFT_OK;
}

void core_rt_table_destroy(core_table *t) {
  if (t == NULL) return;
  free(t->vm->base);
  free(t);
}

uint64_t core_rt_table_grow(core_table *t, uint64_t delta, const weft_val_raw *init) {
  uint64_t old = t->vm->size;
  if (delta > table_max(t) - old) return UINT64_MAX;
  uint64_t want = old + delta;
  if (want > t->capacity) {
    uint64_t cap = t->capacity * 2 > want ? t->capacity * 2 : want;
    if (cap > table_max(t)) cap = want;
    uint8_t *base = realloc(t->vm->base, (size_t)cap * t->vm->elem_size);
    if (base == NULL) return UINT64_MAX;
    t->vm->base = base;
    t->capacity = cap;
  }
  for (uint64_t i = old; i < want; i++) core_rt_table_write(t, i, init);
  t->vm->size = want;
  t->type.limits.min = want;
  return old;
}

/* -- API -------------------------------------------------------------------------------------- */

static core_table *tab_obj(weft_store_t *s, weft_table_t t) {
  return s != NULL && t.store_id == s->id ? t.obj : NULL;
}

int weft_table_new(weft_store_t *store, weft_valtype elem, uint64_t min, bool has_max, uint64_t max,
                   const weft_val_t *init, weft_table_t *out) {
  weft_table_type tt = {.elem = elem, .limits = {.min = min, .max = max, .has_max = has_max}};
  return weft_table_new_typed(store, &tt, init, out);
}

int weft_table_new_typed(weft_store_t *store, const weft_table_type *type, const weft_val_t *init,
                         weft_table_t *out) {
  if (store == NULL || out == NULL || type == NULL) return WEFT_ERR_MISUSE;
  weft_valtype elem = type->elem;
  if (!WEFT_VT_IS_REF(elem) || !WEFT_HT_IS_ABSTRACT(WEFT_VT_HEAP(elem)) ||
      (type->limits.has_max && type->limits.max < type->limits.min))
    return WEFT_ERR_MISUSE;
  weft_val_raw raw;
  memset(&raw, 0, sizeof raw);
  if (init != NULL && core_rt_val_to_raw(store, init, elem, NULL, &raw) != WEFT_OK)
    return WEFT_ERR_MISUSE;
  if (init == NULL && !WEFT_VT_NULLABLE(elem)) return WEFT_ERR_MISUSE;
  core_table *t;
  int rc = core_rt_table_create(type, NULL, NULL, &raw, &t);
  if (rc != WEFT_OK) return rc;
  if (core_rt_vec_push(&store->tables, t) != WEFT_OK) {
    core_rt_table_destroy(t);
    return WEFT_ERR_NOMEM;
  }
  *out = (weft_table_t){store->id, t};
  return WEFT_OK;
}

uint64_t weft_table_size(weft_store_t *store, weft_table_t t) {
  core_table *o = tab_obj(store, t);
  return o != NULL ? o->vm->size : 0;
}

int weft_table_get_type(weft_store_t *store, weft_table_t t, weft_table_type *out) {
  core_table *o = tab_obj(store, t);
  if (o == NULL || out == NULL) return WEFT_ERR_MISUSE;
  *out = o->type;
  return WEFT_OK;
}

int weft_table_get(weft_store_t *store, weft_table_t t, uint64_t idx, weft_val_t *out) {
  core_table *o = tab_obj(store, t);
  if (o == NULL || out == NULL || idx >= o->vm->size) return WEFT_ERR_MISUSE;
  weft_val_raw raw;
  core_rt_table_read(o, idx, &raw);
  core_rt_raw_to_val(store, &raw, o->type.elem, o->mod, out);
  return WEFT_OK;
}

int weft_table_set(weft_store_t *store, weft_table_t t, uint64_t idx, const weft_val_t *val) {
  core_table *o = tab_obj(store, t);
  if (o == NULL || val == NULL || idx >= o->vm->size) return WEFT_ERR_MISUSE;
  weft_val_raw raw;
  if (core_rt_val_to_raw(store, val, o->type.elem, o->mod, &raw) != WEFT_OK) return WEFT_ERR_MISUSE;
  core_rt_table_write(o, idx, &raw);
  return WEFT_OK;
}

int weft_table_grow(weft_store_t *store, weft_table_t t, uint64_t delta, const weft_val_t *init,
                    uint64_t *out_old) {
  core_table *o = tab_obj(store, t);
  if (o == NULL) return WEFT_ERR_MISUSE;
  weft_val_raw raw;
  memset(&raw, 0, sizeof raw);
  if (init != NULL && core_rt_val_to_raw(store, init, o->type.elem, o->mod, &raw) != WEFT_OK)
    return WEFT_ERR_MISUSE;
  uint64_t old = core_rt_table_grow(o, delta, &raw);
  if (old == UINT64_MAX) return WEFT_ERR_LIMIT;
  if (out_old != NULL) *out_old = old;
  return WEFT_OK;
}
