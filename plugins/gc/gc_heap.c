/* plugins/gc/gc_heap.c -- the heap of the "gc" plugin: blocks, allocation, sweeping, accounting.
 *
 * Small objects (up to GC_SMALL_MAX bytes) live in 64 KiB blocks of one cell size, handed out from a
 * per-class free list or by bumping through a fresh block; large ones are single host allocations.
 * The span table (sorted by address) answers "is this the start of a live object". Non-moving.
 * Depends on: gc_int.h, the host table (alloc/free), gc_mark.c (marking).
 */
#include <string.h>

#include "gc_int.h"

/* -- Spans ----------------------------------------------------------------------------------- */

/* Index of the span containing addr, or SIZE_MAX. */
static size_t span_find(const weft_gc_heap *h, uintptr_t addr) {
  size_t lo = 0, hi = h->nspans;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (addr < h->spans[mid].lo) hi = mid;
    else if (addr >= h->spans[mid].hi) lo = mid + 1;
    else return mid;
  }
  return SIZE_MAX;
}

static bool span_insert(weft_gc_heap *h, uintptr_t lo, uintptr_t hi, gc_block *blk) {
  if (h->nspans == h->capspans) {
    size_t cap = h->capspans ? h->capspans * 2 : 64;
    gc_span *n = h->host->realloc(h->host->host, h->spans, cap * sizeof *n);
    if (n == NULL) return false;
    h->spans = n;
    h->capspans = cap;
  }
  size_t i = h->nspans;
  while (i > 0 && h->spans[i - 1].lo > lo) {
    h->spans[i] = h->spans[i - 1];
    i--;
  }
  h->spans[i] = (gc_span){lo, hi, blk};
  h->nspans++;
  return true;
}

/* -- Objects --------------------------------------------------------------------------------- */

bool gc_is_object(const weft_gc_heap *h, const void *ref) {
  uintptr_t a = (uintptr_t)ref;
  if (h == NULL || a == 0 || (a & (GC_CELL_STEP - 1)) != 0) return false;
  size_t i = span_find(h, a);
  if (i == SIZE_MAX) return false;
  const gc_span *s = &h->spans[i];
  if (s->blk == NULL) return a == s->lo && ((const weft_gc_header *)ref)->type != NULL;
  uintptr_t off = a - s->lo;
  if (off % s->blk->cell != 0 || off / s->blk->cell >= s->blk->carved) return false;
  return ((const weft_gc_header *)ref)->type != NULL;
}

void gc_for_each_object(weft_gc_heap *h, void (*fn)(weft_gc_heap *h, weft_gc_header *o)) {
  for (size_t i = 0; i < h->nspans; i++) {
    gc_span *s = &h->spans[i];
    if (s->blk == NULL) {
      fn(h, (weft_gc_header *)s->lo);
      continue;
    }
    for (uint32_t c = 0; c < s->blk->carved; c++) {
      weft_gc_header *o = (weft_gc_header *)(s->blk->mem + (size_t)c * s->blk->cell);
      if (o->type != NULL) fn(h, o);
    }
  }
}

/* -- Heap lifecycle -------------------------------------------------------------------------- */

int gc_heap_new(void *state, const weft_gc_roots *roots, weft_gc_heap **out, weft_diag *d) {
  gc_state *st = state;
  const weft_host_api *host = st->host;
  weft_gc_heap *h = host->alloc(host->host, sizeof *h);
  if (h == NULL)
    return weft_host_diag(host, d, WEFT_ERR_NOMEM, UINT64_MAX, GC_ORIGIN,
                          "out of memory creating a gc heap");
  memset(h, 0, sizeof *h);
  h->st = st;
  h->host = host;
  if (roots != NULL) {
    h->roots = *roots;
    h->has_roots = true;
  }
  h->extern_type.kind = WEFT_GC_EXTERN;
  h->extern_type.size = WEFT_GC_HEADER_SIZE + 16u;
  h->next_gc = st->min_heap;
  *out = h;
  return WEFT_OK;
}

static void free_span_memory(weft_gc_heap *h, gc_span *s) {
  if (s->blk != NULL) {
    h->host->free(h->host->host, s->blk->raw);
    h->host->free(h->host->host, s->blk);
  } else {
    h->host->free(h->host->host, (void *)s->lo);
  }
}

void gc_heap_free(weft_gc_heap *h) {
  if (h == NULL) return;
  for (size_t i = 0; i < h->nspans; i++) free_span_memory(h, &h->spans[i]);
  h->host->free(h->host->host, h->spans);
  h->host->free(h->host->host, h->mstack);
  gc_types_free(h);
  h->host->free(h->host->host, h);
}

/* -- Allocation ------------------------------------------------------------------------------ */

static gc_block *block_new(weft_gc_heap *h, uint32_t cell) {
  gc_block *b = h->host->alloc(h->host->host, sizeof *b);
  if (b == NULL) return NULL;
  void *raw = h->host->alloc(h->host->host, 2 * (size_t)GC_BLOCK_SIZE);
  if (raw == NULL) {
    h->host->free(h->host->host, b);
    return NULL;
  }
  uintptr_t a = ((uintptr_t)raw + GC_BLOCK_SIZE - 1) & ~(uintptr_t)(GC_BLOCK_SIZE - 1);
  *b = (gc_block){.mem = (uint8_t *)a, .raw = raw, .cell = cell, .ncells = GC_BLOCK_SIZE / cell};
  if (!span_insert(h, a, a + (uintptr_t)b->ncells * cell, b)) {
    h->host->free(h->host->host, raw);
    h->host->free(h->host->host, b);
    return NULL;
  }
  h->heap_bytes += 2 * (uint64_t)GC_BLOCK_SIZE;
  return b;
}

/* A cell of class c, or NULL when memory ran out. */
static void *small_cell(weft_gc_heap *h, uint32_t c) {
  gc_class *k = &h->classes[c];
  if (k->free != NULL) {
    void *cell = k->free;
    k->free = *(void **)((uint8_t *)cell + 8);
    size_t i = span_find(h, (uintptr_t)cell);
    if (i != SIZE_MAX && h->spans[i].blk != NULL) h->spans[i].blk->live++;
    return cell;
  }
  if (k->bump == NULL || k->bump->carved == k->bump->ncells) {
    k->bump = block_new(h, (c + 1) * GC_CELL_STEP);
    if (k->bump == NULL) return NULL;
  }
  gc_block *b = k->bump;
  void *cell = b->mem + (size_t)b->carved * b->cell;
  b->carved++;
  b->live++;
  return cell;
}

/* Bytes an object of `size` bytes takes from the heap. */
static uint64_t footprint(uint64_t size) {
  if (size <= GC_SMALL_MAX) return (size + GC_CELL_STEP - 1) & ~(uint64_t)(GC_CELL_STEP - 1);
  return size;
}

static void *alloc_object(weft_gc_heap *h, const weft_gc_type *ty, uint64_t size, uint32_t length) {
  uint64_t need = footprint(size);
  if (need > h->st->heap_limit) return NULL;
  if (!h->collecting && h->has_roots &&
      (h->st->stress || h->live_bytes + need > h->next_gc ||
       h->live_bytes + need > h->st->heap_limit))
    gc_collect(h);
  if (h->live_bytes + need > h->st->heap_limit) return NULL;
  void *o;
  if (size <= GC_SMALL_MAX) {
    o = small_cell(h, (uint32_t)(need / GC_CELL_STEP) - 1);
  } else {
    o = h->host->alloc(h->host->host, (size_t)size);
    if (o != NULL && (((uintptr_t)o & (GC_CELL_STEP - 1)) != 0 ||
                      !span_insert(h, (uintptr_t)o, (uintptr_t)o + (uintptr_t)size, NULL))) {
      h->host->free(h->host->host, o);
      o = NULL;
    }
    if (o != NULL) h->heap_bytes += size;
  }
  if (o == NULL) return NULL;
  memset(o, 0, (size_t)need);
  weft_gc_header *hd = o;
  hd->type = ty;
  hd->length = length;
  h->live_bytes += need;
  h->live_objects++;
  return o;
}

void *gc_alloc_struct(weft_gc_heap *h, const weft_gc_type *ty) {
  if (h == NULL || ty == NULL || ty->kind != WEFT_GC_STRUCT) return NULL;
  return alloc_object(h, ty, ty->size, 0);
}

void *gc_alloc_array(weft_gc_heap *h, const weft_gc_type *ty, uint32_t length) {
  if (h == NULL || ty == NULL || ty->kind != WEFT_GC_ARRAY) return NULL;
  uint64_t size = (uint64_t)ty->size + (uint64_t)length * ty->elem_size; /* no overflow: < 2^37 */
  return alloc_object(h, ty, size, length);
}

void *gc_alloc_extern(weft_gc_heap *h, void *host_ref) {
  if (h == NULL) return NULL;
  void *o = alloc_object(h, &h->extern_type, h->extern_type.size, 0);
  if (o != NULL) *(void **)((uint8_t *)o + WEFT_GC_HEADER_SIZE) = host_ref;
  return o;
}

/* -- Sweeping -------------------------------------------------------------------------------- */

void gc_sweep(weft_gc_heap *h) {
  for (uint32_t c = 0; c < GC_NCLASSES; c++) h->classes[c].free = NULL;
  size_t keep = 0;
  for (size_t i = 0; i < h->nspans; i++) {
    gc_span s = h->spans[i];
    if (s.blk == NULL) {
      weft_gc_header *o = (weft_gc_header *)s.lo;
      if (o->flags & GC_MARK) {
        o->flags &= ~GC_MARK;
        h->spans[keep++] = s;
      } else {
        h->live_bytes -= s.hi - s.lo;
        h->heap_bytes -= s.hi - s.lo;
        h->live_objects--;
        h->freed_objects++;
        free_span_memory(h, &s);
      }
      continue;
    }
    gc_block *b = s.blk;
    gc_class *k = &h->classes[b->cell / GC_CELL_STEP - 1];
    void *freelist = k->free;
    uint32_t live = 0;
    for (uint32_t c = 0; c < b->carved; c++) {
      weft_gc_header *o = (weft_gc_header *)(b->mem + (size_t)c * b->cell);
      if (o->type != NULL && (o->flags & GC_MARK)) {
        o->flags &= ~GC_MARK;
        live++;
        continue;
      }
      if (o->type != NULL) {
        o->type = NULL;
        h->live_bytes -= b->cell;
        h->live_objects--;
        h->freed_objects++;
      }
    }
    b->live = live;
    if (live == 0 && k->bump != b) {
      h->heap_bytes -= 2 * (uint64_t)GC_BLOCK_SIZE;
      free_span_memory(h, &s);
      continue;
    }
    for (uint32_t c = b->carved; c-- > 0;) {
      uint8_t *cell = b->mem + (size_t)c * b->cell;
      if (((weft_gc_header *)cell)->type != NULL) continue;
      *(void **)(cell + 8) = freelist;
      freelist = cell;
    }
    k->free = freelist;
    h->spans[keep++] = s;
  }
  h->nspans = keep;
}

/* -- Collection ------------------------------------------------------------------------------ */

void gc_collect(weft_gc_heap *h) {
  if (h == NULL || h->collecting) return;
  if (h->has_roots && h->roots.can_collect != NULL && !h->roots.can_collect(h->roots.ud)) return;
  h->collecting = true;
  gc_mark_from_roots(h);
  gc_sweep(h);
  h->collections++;
  uint64_t next = h->live_bytes / 100u * h->st->growth;
  h->next_gc = next > h->st->min_heap ? next : h->st->min_heap;
  h->collecting = false;
}

void gc_safepoint(weft_gc_heap *h) {
  if (h == NULL) return;
  if (h->has_roots && (h->st->stress || h->live_bytes > h->next_gc)) gc_collect(h);
}

void gc_stats(const weft_gc_heap *h, weft_gc_stats *out) {
  if (out == NULL || h == NULL) return;
  weft_gc_stats s = {.abi_version = WEFT_ABI_VERSION, .struct_size = out->struct_size};
  s.collections = h->collections;
  s.live_bytes = h->live_bytes;
  s.live_objects = h->live_objects;
  s.heap_bytes = h->heap_bytes;
  s.freed_objects = h->freed_objects;
  s.next_collection = h->next_gc;
  size_t n = out->struct_size < sizeof s ? out->struct_size : sizeof s;
  memcpy(out, &s, n);
}
