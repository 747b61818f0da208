/* core/gchandles.c -- rooted handles of the embedding API (weft_root_new/get/set/free) and the
 * host's view of the store's heap (weft_store_gc, weft_store_gc_stats), declared in weft/runtime.h.
 *
 * A root is a heap cell holding one weft_val_t, linked into its store's root set; core/gcroots.c
 * marks every set's values at each collection (core_gc_handles_trace) and frees the leftovers when
 * the store is deleted (core_gc_handles_store_free). Sets are kept in one list keyed by store
 * context and id, so nothing is added to weft_store. Depends on: core/runtime_int.h, gchandles.h.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gchandles.h"
#include "gcscan.h"
#include "runtime_int.h"
#include "weft/runtime.h"

/* -- Root sets ------------------------------------------------------------------------------- */

typedef struct root_set root_set;

struct weft_root {
  struct weft_root *prev, *next;
  root_set *set;
  weft_val_t val;
};

struct root_set {
  root_set *next;
  weft_store_ctx *ctx;
  uint64_t store_id; /* a context address may be reused by a later store */
  weft_root_t *head;
  size_t n;
};

/* Guards the list of sets; a set's own list is used by one thread at a time (its store's rule). */
static pthread_mutex_t sets_lock = PTHREAD_MUTEX_INITIALIZER;
static root_set *sets;

static root_set *set_find(weft_store_ctx *ctx, uint64_t id) {
  for (root_set *r = sets; r != NULL; r = r->next)
    if (r->ctx == ctx && r->store_id == id) return r;
  return NULL;
}

/* The kinds a root may hold: references of the heap and the other kinds (kept, never traced). */
static bool kind_ok(uint32_t k) { return k <= WEFT_VAL_CONTREF; }

/* Whether values of kind k may point into the GC heap (externref: extern.convert_any of an object
 * is the object itself). */
static bool kind_traced(uint32_t k) {
  return k == WEFT_VAL_ANYREF || k == WEFT_VAL_EXTERNREF || k == WEFT_VAL_EXNREF;
}

/* -- Public API ------------------------------------------------------------------------------ */

weft_root_t *weft_root_new(weft_store_t *store, const weft_val_t *val) {
  if (store == NULL || val == NULL || !kind_ok(val->kind)) return NULL;
  weft_root_t *r = calloc(1, sizeof *r);
  if (r == NULL) return NULL;
  r->val = *val;
  pthread_mutex_lock(&sets_lock);
  root_set *s = set_find(store->ctx, store->id);
  if (s == NULL && (s = calloc(1, sizeof *s)) != NULL) {
    s->ctx = store->ctx;
    s->store_id = store->id;
    s->next = sets;
    sets = s;
  }
  if (s != NULL) {
    r->set = s;
    r->next = s->head;
    if (s->head != NULL) s->head->prev = r;
    s->head = r;
    s->n++;
  }
  pthread_mutex_unlock(&sets_lock);
  if (s == NULL) {
    free(r);
    r = NULL;
  }
  return r;
}

int weft_root_get(const weft_root_t *root, weft_val_t *out) {
  if (root == NULL || out == NULL) return WEFT_ERR_MISUSE;
  *out = root->val;
  return WEFT_OK;
}

int weft_root_set(weft_root_t *root, const weft_val_t *val) {
  if (root == NULL || val == NULL || !kind_ok(val->kind)) return WEFT_ERR_MISUSE;
  root->val = *val;
  return WEFT_OK;
}

void weft_root_free(weft_root_t *root) {
  if (root == NULL) return;
  root_set *s = root->set;
  if (root->prev != NULL) root->prev->next = root->next;
  else s->head = root->next;
  if (root->next != NULL) root->next->prev = root->prev;
  s->n--;
  free(root);
}

int weft_store_gc(weft_store_t *store) {
  if (store == NULL) return WEFT_ERR_MISUSE;
  const weft_gc_iface *gi;
  weft_gc_heap *heap;
  if (!core_gc_heap_get(store->ctx, &gi, &heap)) return WEFT_ERR_UNSUPPORTED;
  if (!WEFT_HAS(gi, weft_gc_iface, collect) || gi->collect == NULL) return WEFT_ERR_UNSUPPORTED;
  gi->collect(heap);
  return WEFT_OK;
}

int weft_store_gc_stats(weft_store_t *store, weft_store_gc_stats_t *out) {
  if (store == NULL || out == NULL) return WEFT_ERR_MISUSE;
  memset(out, 0, sizeof *out);
  const weft_gc_iface *gi;
  weft_gc_heap *heap;
  if (!core_gc_heap_get(store->ctx, &gi, &heap)) return WEFT_ERR_UNSUPPORTED;
  if (!WEFT_HAS(gi, weft_gc_iface, stats) || gi->stats == NULL) return WEFT_ERR_UNSUPPORTED;
  weft_gc_stats st;
  memset(&st, 0, sizeof st);
  st.struct_size = sizeof st;
  gi->stats(heap, &st);
  out->collections = st.collections;
  out->live_bytes = st.live_bytes;
  out->live_objects = st.live_objects;
  out->heap_bytes = st.heap_bytes;
  out->freed_objects = st.freed_objects;
  pthread_mutex_lock(&sets_lock);
  root_set *s = set_find(store->ctx, store->id);
  out->roots = s != NULL ? s->n : 0;
  pthread_mutex_unlock(&sets_lock);
  return WEFT_OK;
}

/* -- Core side ------------------------------------------------------------------------------- */

void core_gc_handles_trace(weft_store_ctx *ctx, weft_gc_tracer *t) {
  weft_store_t *st = core_rt_store_of_ctx(ctx);
  if (st == NULL || t == NULL) return;
  pthread_mutex_lock(&sets_lock);
  root_set *s = set_find(ctx, st->id);
  pthread_mutex_unlock(&sets_lock);
  if (s == NULL) return;
  for (weft_root_t *r = s->head; r != NULL; r = r->next) {
    if (kind_traced(r->val.kind)) t->mark(t, r->val.of.ref);
    else if (r->val.kind == WEFT_VAL_CONTREF) /* keeps the continuation (core/gcscan.c) */
      core_gcscan_cont_root(ctx, r->val.of.cont.contref, r->val.of.cont.revision);
  }
}

void core_gc_handles_store_free(weft_store_ctx *ctx) {
  weft_store_t *st = core_rt_store_of_ctx(ctx);
  root_set *s = NULL;
  pthread_mutex_lock(&sets_lock);
  for (root_set **p = &sets; *p != NULL; p = &(*p)->next)
    if ((*p)->ctx == ctx && (st == NULL || (*p)->store_id == st->id)) {
      s = *p;
      *p = s->next;
      break;
    }
  pthread_mutex_unlock(&sets_lock);
  if (s == NULL) return;
  weft_root_t *r = s->head;
  while (r != NULL) {
    weft_root_t *next = r->next;
    free(r);
    r = next;
  }
  free(s);
}
