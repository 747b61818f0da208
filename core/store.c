/* core/store.c -- the store: owner of every runtime object, its store context (the per-store state
 * generated code reads), and the map from canonical type ids to rtts used for subtype checks.
 * Depends on: core/runtime_int.h.
 */
#include <stdlib.h>
#include <string.h>

#include "cont.h"
#include "exn.h"
#include "gcroots.h"
#include "runtime_int.h"

/* -- Pointer lists ---------------------------------------------------------------------------- */

int core_rt_vec_push(core_ptrvec *v, void *p) {
  if (v->n == v->cap) {
    size_t cap = v->cap != 0 ? v->cap * 2 : 8;
    void **items = realloc(v->items, cap * sizeof *items);
    if (items == NULL) return WEFT_ERR_NOMEM;
    v->items = items;
    v->cap = cap;
  }
  v->items[v->n++] = p;
  return WEFT_OK;
}

void core_rt_vec_free(core_ptrvec *v) {
  free(v->items);
  v->items = NULL;
  v->n = v->cap = 0;
}

/* -- Type ids --------------------------------------------------------------------------------- */

static size_t slot_for(uint32_t id, size_t cap) { return ((size_t)id * 2654435761u) & (cap - 1); }

static int rtt_put(weft_store_t *s, const weft_rtt *rtt) {
  if ((s->rtts.n + 1) * 2 > s->rtts.cap) {
    size_t cap = s->rtts.cap != 0 ? s->rtts.cap * 2 : 64;
    uint32_t *keys = calloc(cap, sizeof *keys);
    const weft_rtt **vals = calloc(cap, sizeof *vals);
    if (keys == NULL || vals == NULL) {
      free(keys);
      free((void *)vals);
      return WEFT_ERR_NOMEM;
    }
    for (size_t i = 0; i < s->rtts.cap; i++) {
      if (s->rtts.keys[i] == 0) continue;
      size_t j = slot_for(s->rtts.keys[i] - 1, cap);
      while (keys[j] != 0) j = (j + 1) & (cap - 1);
      keys[j] = s->rtts.keys[i];
      vals[j] = s->rtts.vals[i];
    }
    free(s->rtts.keys);
    free((void *)s->rtts.vals);
    s->rtts.keys = keys;
    s->rtts.vals = vals;
    s->rtts.cap = cap;
  }
  size_t j = slot_for(rtt->id, s->rtts.cap);
  while (s->rtts.keys[j] != 0) {
    if (s->rtts.keys[j] == rtt->id + 1) return WEFT_OK;
    j = (j + 1) & (s->rtts.cap - 1);
  }
  s->rtts.keys[j] = rtt->id + 1;
  s->rtts.vals[j] = rtt;
  s->rtts.n++;
  return WEFT_OK;
}

int core_rt_store_add_rtt(weft_store_t *s, const weft_rtt *rtt) {
  if (rtt == NULL) return WEFT_OK;
  if (core_rt_store_rtt(s, rtt->id) == rtt) return WEFT_OK;
  for (uint32_t i = 0; rtt->supers != NULL && i <= rtt->depth; i++) {
    int rc = rtt_put(s, rtt->supers[i] != NULL ? rtt->supers[i] : rtt);
    if (rc != WEFT_OK) return rc;
  }
  return rtt_put(s, rtt);
}

const weft_rtt *core_rt_store_rtt(const weft_store_t *s, uint32_t id) {
  if (s->rtts.cap == 0) return NULL;
  size_t j = slot_for(id, s->rtts.cap);
  while (s->rtts.keys[j] != 0) {
    if (s->rtts.keys[j] == id + 1) return s->rtts.vals[j];
    j = (j + 1) & (s->rtts.cap - 1);
  }
  return NULL;
}

bool core_rt_rtt_sub(const weft_rtt *a, const weft_rtt *b) {
  if (a == b) return true;
  if (a == NULL || b == NULL) return false;
  if (a->id == b->id) return true;
  if (b->depth > a->depth || a->supers == NULL) return false;
  const weft_rtt *s = a->supers[b->depth];
  return s == b || (s != NULL && s->id == b->id);
}

/* -- Store ------------------------------------------------------------------------------------ */

static atomic_uint_fast64_t next_store_id = 1;

weft_store_t *weft_store_new(struct weft_engine *engine) {
  weft_store_t *s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  s->ctx = calloc(1, sizeof *s->ctx);
  if (s->ctx == NULL) {
    free(s);
    return NULL;
  }
  s->ctx->store = s;
  s->ctx->trap_code = WEFT_TRAP_NONE;
  s->ctx->stack_chain.kind = WEFT_CHAIN_INITIAL_STACK;
  s->engine = engine;
  s->id = atomic_fetch_add(&next_store_id, 1);
  core_cont_store_init(s);
  s->exn.collect_at = 10000; /* core/exn.c: EXN_COLLECT_MIN */
  return s;
}

void weft_store_free(weft_store_t *s) {
  if (s == NULL) return;
  for (size_t i = 0; i < s->hostfuncs.n; i++) core_rt_hostfunc_destroy(s->hostfuncs.items[i]);
  /* Memories and tables of instances keep their weft_vm_* inside the vmctx: free them first. */
  for (size_t i = 0; i < s->memories.n; i++) core_rt_memory_destroy(s->memories.items[i]);
  for (size_t i = 0; i < s->tables.n; i++) core_rt_table_destroy(s->tables.items[i]);
  for (size_t i = 0; i < s->globals.n; i++) free(s->globals.items[i]);
  for (size_t i = 0; i < s->tags.n; i++) {
    core_tag *t = s->tags.items[i];
    free(t->params);
    free(t);
  }
  for (size_t i = s->instances.n; i-- > 0;) core_rt_instance_destroy(s->instances.items[i]);
  core_rt_vec_free(&s->hostfuncs);
  core_rt_vec_free(&s->instances);
  core_rt_vec_free(&s->memories);
  core_rt_vec_free(&s->tables);
  core_rt_vec_free(&s->globals);
  core_rt_vec_free(&s->tags);
  free(s->rtts.keys);
  free((void *)s->rtts.vals);
  weft_trap_free(s->pending_trap);
  core_gc_store_free(s->ctx);  /* the store's GC heap, if the gc plugin made one (core/gcroots.c) */
  core_exn_store_free(s->ctx); /* exception objects live as long as their store (core/exn.c) */
  free(s->ctx);
  free(s);
}

uint64_t weft_store_id(const weft_store_t *s) { return s != NULL ? s->id : 0; }
struct weft_engine *weft_store_engine(const weft_store_t *s) { return s != NULL ? s->engine : NULL; }
