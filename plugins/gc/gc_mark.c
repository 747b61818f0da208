/* plugins/gc/gc_mark.c -- marking of the "gc" plugin: the tracer handed to the root provider, the
 * mark stack, tracing through struct fields and array elements, and frame roots from stack maps.
 *
 * The mark stack grows through the host table; when it cannot, marking falls back to rescanning
 * the heap for marked objects until nothing new is marked, so a collection never fails and never
 * recurses. Continuation fields of marked objects go to the provider (roots.cont_field, ABI 1.3),
 * which traces continuations as nodes. Depends on: gc_int.h, gc_heap.c, the host table.
 */
#include <stddef.h>
#include <string.h>

#include "gc_int.h"

/* -- Marking one reference ------------------------------------------------------------------- */

/* The module type behind a layout this plugin made (gc_type.c keeps each in a gc_type_node). */
static const weft_type *module_type(const weft_gc_heap *h, const weft_gc_type *ty,
                                    const weft_module **out_m) {
  if (ty == &h->extern_type || ty->kind == WEFT_GC_EXTERN) return NULL;
  const gc_type_node *n =
      (const gc_type_node *)(const void *)((const char *)ty - offsetof(gc_type_node, ty));
  if (n->m == NULL || n->idx >= n->m->ntypes) return NULL;
  *out_m = n->m;
  return &n->m->types[n->idx];
}

/* Whether objects of layout ty may hold continuation references (16-byte fields or elements that
 * the root provider traces, weft_gc_roots.cont_field). */
static bool has_conts(const weft_gc_heap *h, const weft_gc_type *ty) {
  const weft_module *m = NULL;
  const weft_type *t;
  if (h->roots.cont_field == NULL || (t = module_type(h, ty, &m)) == NULL) return false;
  if (ty->kind == WEFT_GC_ARRAY)
    return t->comp == WEFT_COMP_ARRAY && weft_gc_cont_storage(m, t->u.array.type);
  if (ty->kind != WEFT_GC_STRUCT || t->comp != WEFT_COMP_STRUCT) return false;
  for (uint32_t i = 0; i < t->u.strct.nfields && i < ty->nfields; i++)
    if (weft_gc_cont_storage(m, t->u.strct.fields[i].type)) return true;
  return false;
}

/* has_conts per layout, for the collection running on this thread (cleared when a collection
 * starts: no layout is freed during one, so an address cannot stand for another type). */
static __thread struct {
  const weft_gc_type *ty;
  bool has;
} conts_cache[256];

static bool has_conts_cached(const weft_gc_heap *h, const weft_gc_type *ty) {
  size_t i = ((uintptr_t)ty >> 4) & 255u;
  if (conts_cache[i].ty != ty) {
    conts_cache[i].ty = ty;
    conts_cache[i].has = has_conts(h, ty);
  }
  return conts_cache[i].has;
}

/* Report the continuation fields / elements of a marked object to the provider. */
static void trace_conts(weft_gc_heap *h, const weft_gc_header *o) {
  const weft_gc_type *ty = o->type;
  const weft_module *m = NULL;
  const weft_type *t = module_type(h, ty, &m);
  const uint8_t *base = (const uint8_t *)o;
  if (t == NULL) return;
  if (ty->kind == WEFT_GC_ARRAY) {
    if (t->comp != WEFT_COMP_ARRAY || !weft_gc_cont_storage(m, t->u.array.type) ||
        ty->elem_size != 16)
      return;
    for (uint32_t i = 0; i < o->length; i++)
      h->roots.cont_field(h->roots.ud, base + ty->size + (size_t)i * 16u);
  } else if (ty->kind == WEFT_GC_STRUCT && t->comp == WEFT_COMP_STRUCT) {
    for (uint32_t i = 0; i < t->u.strct.nfields && i < ty->nfields; i++)
      if (weft_gc_cont_storage(m, t->u.strct.fields[i].type))
        h->roots.cont_field(h->roots.ud, base + ty->field_offs[i]);
  }
}

static void push(weft_gc_heap *h, const void *ref) {
  if (!gc_is_object(h, ref)) {
    if (h->roots.foreign != NULL && ref != NULL && ((uintptr_t)ref & WEFT_GC_I31_TAG) == 0)
      h->roots.foreign(h->roots.ud, ref);
    return;
  }
  weft_gc_header *o = (weft_gc_header *)(uintptr_t)ref;
  if (o->flags & GC_MARK) return;
  o->flags |= GC_MARK;
  if (o->type->kind == WEFT_GC_EXTERN) return;
  if (h->roots.cont_field != NULL && has_conts_cached(h, o->type)) trace_conts(h, o);
  if (o->type->kind == WEFT_GC_STRUCT && o->type->nrefs == 0) return;
  if (o->type->kind == WEFT_GC_ARRAY && !o->type->elem_ref) return;
  if (h->mlen == h->mcap) {
    size_t cap = h->mcap ? h->mcap * 2 : 256;
    const void **n = h->host->realloc(h->host->host, (void *)h->mstack, cap * sizeof *n);
    if (n == NULL) {
      h->moverflow = true; /* marked but not traced: the rescan finds it */
      return;
    }
    h->mstack = n;
    h->mcap = cap;
  }
  h->mstack[h->mlen++] = ref;
}

/* Push the children of a marked object. */
static void trace(weft_gc_heap *h, const weft_gc_header *o) {
  const weft_gc_type *ty = o->type;
  const uint8_t *base = (const uint8_t *)o;
  if (ty->kind == WEFT_GC_STRUCT) {
    for (uint32_t i = 0; i < ty->nrefs; i++) {
      const void *child;
      memcpy(&child, base + ty->ref_offs[i], sizeof child);
      push(h, child);
    }
  } else if (ty->kind == WEFT_GC_ARRAY && ty->elem_ref) {
    for (uint32_t i = 0; i < o->length; i++) {
      const void *child;
      memcpy(&child, base + ty->size + (size_t)i * ty->elem_size, sizeof child);
      push(h, child);
    }
  }
}

static void drain(weft_gc_heap *h) {
  while (h->mlen > 0) trace(h, h->mstack[--h->mlen]);
}

static void rescan_one(weft_gc_heap *h, weft_gc_header *o) {
  if (o->flags & GC_MARK) trace(h, o);
  drain(h);
}

/* -- The tracer ------------------------------------------------------------------------------ */

static void t_mark(weft_gc_tracer *t, const void *ref) {
  weft_gc_heap *h = t->heap;
  push(h, ref);
  drain(h);
}

static void t_mark_slots(weft_gc_tracer *t, const void *const *slots, size_t n, size_t stride) {
  weft_gc_heap *h = t->heap;
  if (slots == NULL) return;
  if (stride < sizeof(void *)) stride = sizeof(void *);
  const uint8_t *p = (const uint8_t *)slots;
  for (size_t i = 0; i < n; i++) {
    const void *ref;
    memcpy(&ref, p + i * stride, sizeof ref);
    push(h, ref);
  }
  drain(h);
}

typedef struct frame_ctx {
  weft_gc_heap *h;
} frame_ctx;

static bool visit_frame(void *ud, const weft_frame *f) {
  frame_ctx *fc = ud;
  weft_gc_heap *h = fc->h;
  weft_gc_stack_map map;
  if (h->roots.stack_map == NULL || !h->roots.stack_map(h->roots.ud, f->pc, &map)) return true;
  for (uint32_t i = 0; i < map.nslots; i++) {
    const void *ref;
    memcpy(&ref, (const void *)(f->fp + (intptr_t)map.fp_offs[i]), sizeof ref);
    push(h, ref);
  }
  drain(h);
  return true;
}

static int t_scan_frames(weft_gc_tracer *t, const weft_activation *act,
                         const weft_contref *suspended) {
  weft_gc_heap *h = t->heap;
  const weft_host_api *host = h->host;
  if (!WEFT_HAS(host, weft_host_api, walk_frames) || host->walk_frames == NULL)
    return WEFT_ERR_UNSUPPORTED;
  frame_ctx fc = {h};
  weft_frame_visitor v = {.ud = &fc, .visit = visit_frame, .host_frames = false,
                          .max_frames = UINT32_MAX};
  return host->walk_frames(host->host, act, suspended, &v);
}

/* -- A marking phase ------------------------------------------------------------------------- */

/* Whether the host fills the 1.4 field of weft_gc_roots (foreign). */
static bool roots_14(const weft_gc_heap *h) {
  return WEFT_ABI_MINOR_OF(h->host->abi_version) >= 4 ||
         WEFT_ABI_MAJOR_OF(h->host->abi_version) > 1;
}

/* Whether the host fills the 1.3 fields of weft_gc_roots (the struct carries no size). */
static bool roots_13(const weft_gc_heap *h) {
  return WEFT_ABI_MINOR_OF(h->host->abi_version) >= 3 ||
         WEFT_ABI_MAJOR_OF(h->host->abi_version) > 1;
}

void gc_mark_from_roots(weft_gc_heap *h) {
  weft_gc_tracer t = {.heap = h, .mark = t_mark, .mark_slots = t_mark_slots,
                      .scan_frames = t_scan_frames};
  if (!roots_13(h)) h->roots.cont_field = NULL, h->roots.mark_more = NULL, h->roots.marked = NULL;
  if (!roots_14(h)) h->roots.foreign = NULL;
  memset(conts_cache, 0, sizeof conts_cache);
  h->moverflow = false;
  if (h->has_roots && h->roots.enumerate != NULL) h->roots.enumerate(h->roots.ud, &t);
  drain(h);
  /* overflow rescans, then whatever the continuations the provider noted hold, until neither
   * marks anything new (cont_field is called while tracing, mark_more after) */
  for (;;) {
    while (h->moverflow) {
      h->moverflow = false;
      gc_for_each_object(h, rescan_one);
    }
    if (!h->has_roots || h->roots.mark_more == NULL || !h->roots.mark_more(h->roots.ud, &t)) break;
    drain(h);
  }
  if (h->has_roots && h->roots.marked != NULL) h->roots.marked(h->roots.ud);
}
