/* plugins/gc/gc_heap.c -- the heap of the "gc" plugin: blocks, allocation regions, sweeping.
 *
 * Small objects (up to GC_SMALL_MAX bytes) live in 64 KiB blocks of one cell size; bitmaps per
 * block say which cells hold objects and which are marked. Allocation bumps through a region (a run of free cells) per size
 * class, which generated code shares through the store's weft_gc_region array (vm.h); a refill
 * finds the next run, a collection retires every region first. Large objects are single host
 * allocations in a sorted span table. Blocks are found by address through a hash. Non-moving.
 * Depends on: gc_int.h, the host table (alloc/free), gc_mark.c (marking).
 */
#include <string.h>

#include "gc_int.h"

/* -- Large objects --------------------------------------------------------------------------- */

/* Index of the large object containing addr, or SIZE_MAX. */
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

static bool span_insert(weft_gc_heap *h, uintptr_t lo, uintptr_t hi) {
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
  h->spans[i] = (gc_span){lo, hi};
  h->nspans++;
  return true;
}

/* -- Block hash ------------------------------------------------------------------------------ */

static size_t bhash_slot(uintptr_t mem, size_t cap) {
  uint64_t k = (uint64_t)(mem >> 16) * 0x9E3779B97F4A7C15ull;
  return (size_t)(k >> 20) & (cap - 1);
}

static void bhash_put(gc_block **tab, size_t cap, gc_block *b) {
  size_t i = bhash_slot((uintptr_t)b->mem, cap);
  while (tab[i] != NULL) i = (i + 1) & (cap - 1);
  tab[i] = b;
}

/* Rebuild the hash from the class lists with room for `extra` more blocks. */
static bool bhash_rebuild(weft_gc_heap *h, size_t extra) {
  size_t n = 0;
  for (uint32_t c = 0; c < GC_NCLASSES; c++) n += h->classes[c].nblocks;
  size_t cap = h->bhash_cap ? h->bhash_cap : 64;
  while (cap < 2 * (n + extra)) cap *= 2;
  if (cap != h->bhash_cap) {
    gc_block **t = h->host->alloc(h->host->host, cap * sizeof *t);
    if (t == NULL) return false;
    h->host->free(h->host->host, h->bhash);
    h->bhash = t;
    h->bhash_cap = cap;
  }
  memset(h->bhash, 0, h->bhash_cap * sizeof *h->bhash);
  for (uint32_t c = 0; c < GC_NCLASSES; c++)
    for (uint32_t i = 0; i < h->classes[c].nblocks; i++)
      bhash_put(h->bhash, h->bhash_cap, h->classes[c].blocks[i]);
  h->nblocks = n;
  return true;
}

static const gc_block *bhash_find(const weft_gc_heap *h, uintptr_t mem) {
  if (h->bhash_cap == 0) return NULL;
  size_t i = bhash_slot(mem, h->bhash_cap);
  for (;;) {
    const gc_block *b = h->bhash[i];
    if (b == NULL) return NULL;
    if ((uintptr_t)b->mem == mem) return b;
    i = (i + 1) & (h->bhash_cap - 1);
  }
}

/* -- Objects --------------------------------------------------------------------------------- */

static bool bit_get(const uint64_t *w, uint32_t i) { return (w[i >> 6] >> (i & 63u)) & 1u; }
static void bit_set(uint64_t *w, uint32_t i) { w[i >> 6] |= 1ull << (i & 63u); }

/* Set bits [i, j). */
static void bits_set(uint64_t *w, uint32_t i, uint32_t j) {
  while (i < j) {
    uint32_t k = i >> 6, lo = i & 63u, n = j - i < 64u - lo ? j - i : 64u - lo;
    uint64_t m = n == 64u ? ~0ull : ((1ull << n) - 1u) << lo;
    w[k] |= m;
    i += n;
  }
}

/* The cell index of `a` in block b, or UINT32_MAX when a is no cell start. */
static uint32_t cell_index(const gc_block *b, uintptr_t a) {
  uint64_t off = a - (uintptr_t)b->mem;
  uint32_t i = (uint32_t)((off * b->magic) >> 32);
  if (i >= b->ncells || (uint64_t)i * b->cell != off) return UINT32_MAX;
  return i;
}

/* Whether ref is the start of an object; with `record` (gc_is_object during a collection), also
 * the mark bitmap bookkeeping described in gc_int.h. */
static bool is_object(const weft_gc_heap *h, const void *ref, bool record) {
  uintptr_t a = (uintptr_t)ref;
  if (h == NULL || a == 0 || (a & (GC_CELL_STEP - 1)) != 0) return false;
  uintptr_t mem = a & ~(uintptr_t)(GC_BLOCK_SIZE - 1);
  const gc_block *cb = h->last_blk;
  if (cb == NULL || (uintptr_t)cb->mem != mem) { /* neighbours often share a block: one-entry cache */
    cb = bhash_find(h, mem);
    if (cb != NULL) ((weft_gc_heap *)(uintptr_t)h)->last_blk = (gc_block *)(uintptr_t)cb;
  }
  if (cb != NULL) {
    uint32_t i = cell_index(cb, a);
    if (i == UINT32_MAX) return false;
    if (!bit_get(cb->alloc, i)) { /* an object of the open region of its class? */
      const gc_class *k = &h->classes[cb->cell / GC_CELL_STEP - 1];
      const weft_gc_region *r = &h->rg[cb->cell / GC_CELL_STEP - 1];
      if (k->rblk != cb || r->end == 0 || a < k->rstart || a >= r->ptr) return false;
    }
    if (record) { /* see gc_int.h: record the mark gc_mark.c is about to make */
      gc_block *b = (gc_block *)(uintptr_t)cb;
      if (!bit_get(b->mark, i)) {
        bit_set(b->mark, i);
        ((weft_gc_header *)a)->flags &= ~GC_MARK;
      }
    }
    return true;
  }
  size_t i = span_find(h, a);
  if (i == SIZE_MAX) return false;
  return a == h->spans[i].lo && ((const weft_gc_header *)ref)->type != NULL;
}

bool gc_is_object(const weft_gc_heap *h, const void *ref) {
  return is_object(h, ref, h != NULL && h->collecting);
}

bool gc_is_object_api(const weft_gc_heap *h, const void *ref) { return is_object(h, ref, false); }

void gc_for_each_object(weft_gc_heap *h, void (*fn)(weft_gc_heap *h, weft_gc_header *o)) {
  for (size_t i = 0; i < h->nspans; i++) fn(h, (weft_gc_header *)h->spans[i].lo);
  for (uint32_t c = 0; c < GC_NCLASSES; c++) {
    gc_class *k = &h->classes[c];
    for (uint32_t i = 0; i < k->nblocks; i++) {
      gc_block *b = k->blocks[i];
      for (uint32_t j = 0; j < b->ncells; j++) {
        if (!bit_get(b->alloc, j)) continue;
        weft_gc_header *o = (weft_gc_header *)(b->mem + (size_t)j * b->cell);
        if (h->collecting) { /* the bitmap is the truth; the header flag may be stale */
          if (bit_get(b->mark, j)) o->flags |= GC_MARK;
          else o->flags &= ~GC_MARK;
        }
        fn(h, o);
      }
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
  h->rg = h->own_rg;
  h->extern_type.kind = WEFT_GC_EXTERN;
  h->extern_type.size = WEFT_GC_HEADER_SIZE + 16u;
  h->next_gc = st->min_heap;
  *out = h;
  return WEFT_OK;
}

static void block_free(weft_gc_heap *h, gc_block *b) {
  h->host->free(h->host->host, b->raw);
  h->host->free(h->host->host, b);
}

void gc_heap_free(weft_gc_heap *h) {
  if (h == NULL) return;
  for (size_t i = 0; i < h->nspans; i++) h->host->free(h->host->host, (void *)h->spans[i].lo);
  for (uint32_t c = 0; c < GC_NCLASSES; c++) {
    gc_class *k = &h->classes[c];
    for (uint32_t i = 0; i < k->nblocks; i++) block_free(h, k->blocks[i]);
    h->host->free(h->host->host, k->blocks);
  }
  if (h->rg != h->own_rg) memset(h->rg, 0, GC_NCLASSES * sizeof *h->rg);
  h->host->free(h->host->host, h->bhash);
  h->host->free(h->host->host, h->spans);
  h->host->free(h->host->host, h->mstack);
  gc_types_free(h);
  h->host->free(h->host->host, h);
}

void gc_bind_regions(weft_gc_heap *h, weft_gc_region *regions, uint32_t n) {
  if (h == NULL || h->st->stress) return; /* stress: every allocation is a call (and collects) */
  weft_gc_region *to = regions != NULL && n == GC_NCLASSES ? regions : h->own_rg;
  if (to == h->rg) return;
  memcpy(to, h->rg, GC_NCLASSES * sizeof *to);
  if (h->rg != h->own_rg) memset(h->rg, 0, GC_NCLASSES * sizeof *h->rg);
  h->rg = to;
}

/* -- Allocation regions ---------------------------------------------------------------------- */

/* Close region c: its used cells become allocated in the bitmap, the unused tail is given back. */
static void retire_one(weft_gc_heap *h, uint32_t c) {
  weft_gc_region *r = &h->rg[c];
  gc_class *k = &h->classes[c];
  if (r->end == 0) return;
  uint32_t cell = (c + 1) * GC_CELL_STEP;
  gc_block *b = k->rblk;
  uint32_t i = (uint32_t)((k->rstart - (uintptr_t)b->mem) / cell);
  uint32_t j = (uint32_t)((r->ptr - (uintptr_t)b->mem) / cell);
  bits_set(b->alloc, i, j);
  h->live_objects += j - i;
  h->live_bytes -= r->end - r->ptr;
  r->ptr = r->end = 0;
  k->rblk = NULL;
  k->rstart = 0;
}

void gc_retire_regions(weft_gc_heap *h) {
  for (uint32_t c = 0; c < GC_NCLASSES; c++) retire_one(h, c);
}

/* A new block of class c (every cell free), or NULL when memory ran out. Its memory is left as
 * the host gave it: every allocation writes its whole object. */
static gc_block *block_new(weft_gc_heap *h, uint32_t c) {
  gc_class *k = &h->classes[c];
  uint32_t cell = (c + 1) * GC_CELL_STEP;
  if (k->nblocks == k->capblocks) {
    uint32_t cap = k->capblocks ? k->capblocks * 2 : 16;
    gc_block **n = h->host->realloc(h->host->host, k->blocks, cap * sizeof *n);
    if (n == NULL) return NULL;
    k->blocks = n;
    k->capblocks = cap;
  }
  if (2 * (h->nblocks + 1) > h->bhash_cap && !bhash_rebuild(h, 1)) return NULL;
  gc_block *b = h->host->alloc(h->host->host, sizeof *b);
  if (b == NULL) return NULL;
  void *raw = h->host->alloc(h->host->host, 2 * (size_t)GC_BLOCK_SIZE);
  if (raw == NULL) {
    h->host->free(h->host->host, b);
    return NULL;
  }
  uintptr_t a = ((uintptr_t)raw + GC_BLOCK_SIZE - 1) & ~(uintptr_t)(GC_BLOCK_SIZE - 1);
  memset(b, 0, sizeof *b);
  b->mem = (uint8_t *)a;
  b->raw = raw;
  b->cell = cell;
  b->ncells = GC_BLOCK_SIZE / cell;
  b->magic = (uint32_t)(((1ull << 32) + cell - 1) / cell);
  k->blocks[k->nblocks++] = b;
  bhash_put(h->bhash, h->bhash_cap, b);
  h->nblocks++;
  h->heap_bytes += 2 * (uint64_t)GC_BLOCK_SIZE;
  return b;
}

/* The first cell at or after i whose alloc bit is `set` (ncells when none). */
static uint32_t next_bit(const gc_block *b, uint32_t i, bool set) {
  while (i < b->ncells) {
    uint64_t w = b->alloc[i >> 6];
    if (!set) w = ~w;
    w &= ~0ull << (i & 63u);
    if (w != 0) {
      uint32_t r = (i & ~63u) + (uint32_t)__builtin_ctzll(w);
      return r < b->ncells ? r : b->ncells;
    }
    i = (i & ~63u) + 64u;
  }
  return b->ncells;
}

/* Point region c at the next run of free cells (a new block when no block has one). The run's
 * bytes count as live until the region is retired. false when memory ran out. */
static bool refill(weft_gc_heap *h, uint32_t c) {
  gc_class *k = &h->classes[c];
  weft_gc_region *r = &h->rg[c];
  uint32_t cell = (c + 1) * GC_CELL_STEP;
  uint64_t room = h->st->heap_limit > h->live_bytes ? h->st->heap_limit - h->live_bytes : 0;
  uint64_t most = room / cell; /* cells the heap limit still allows */
  if (most == 0) return false;
  gc_block *b = NULL;
  uint32_t i = 0, j = 0;
  for (; k->cur_blk < k->nblocks; k->cur_blk++, k->cur_cell = 0) {
    gc_block *x = k->blocks[k->cur_blk];
    if (x->live == x->ncells) continue;
    i = next_bit(x, k->cur_cell, false);
    if (i >= x->ncells) continue;
    j = next_bit(x, i + 1, true);
    if (j - i > most) j = i + (uint32_t)most;
    k->cur_cell = j;
    b = x;
    break;
  }
  if (b == NULL) {
    b = block_new(h, c);
    if (b == NULL) return false;
    k->cur_blk = k->nblocks - 1;
    i = 0;
    j = b->ncells < most ? b->ncells : (uint32_t)most;
    k->cur_cell = j;
  }
  r->ptr = (uintptr_t)b->mem + (uintptr_t)i * cell;
  r->end = (uintptr_t)b->mem + (uintptr_t)j * cell;
  k->rstart = r->ptr;
  k->rblk = b;
  h->live_bytes += (uint64_t)(j - i) * cell;
  return true;
}

/* Bytes an object of `size` bytes takes from the heap. */
static uint64_t footprint(uint64_t size) {
  if (size <= GC_SMALL_MAX) return (size + GC_CELL_STEP - 1) & ~(uint64_t)(GC_CELL_STEP - 1);
  return size;
}

static void *alloc_object(weft_gc_heap *h, const weft_gc_type *ty, uint64_t size, uint32_t length) {
  uint64_t need = footprint(size);
  if (need > h->st->heap_limit) return NULL;
  void *o = NULL;
  if (size <= GC_SMALL_MAX) {
    uint32_t c = (uint32_t)(need / GC_CELL_STEP) - 1;
    weft_gc_region *r = &h->rg[c];
    if (r->end - r->ptr < need || h->st->stress) { /* the region is used up: refill */
      if (!h->collecting && h->has_roots &&
          (h->st->stress || h->live_bytes + need > h->next_gc ||
           h->live_bytes + need > h->st->heap_limit))
        gc_collect(h);
      retire_one(h, c); /* this region alone (a collection retired them all) */
      if (!refill(h, c)) return NULL;
    }
    o = (void *)r->ptr;
    r->ptr += need;
    if (h->rg == h->own_rg && h->st->stress) retire_one(h, c); /* none survives in stress */
    memset(o, 0, (size_t)need);
  } else {
    if (!h->collecting && h->has_roots &&
        (h->st->stress || h->live_bytes + need > h->next_gc ||
         h->live_bytes + need > h->st->heap_limit))
      gc_collect(h);
    if (h->live_bytes + need > h->st->heap_limit) return NULL;
    o = h->host->alloc(h->host->host, (size_t)size);
    if (o != NULL && (((uintptr_t)o & (GC_CELL_STEP - 1)) != 0 ||
                      !span_insert(h, (uintptr_t)o, (uintptr_t)o + (uintptr_t)size))) {
      h->host->free(h->host->host, o);
      o = NULL;
    }
    if (o == NULL) return NULL;
    memset(o, 0, (size_t)size);
    h->heap_bytes += size;
    h->live_bytes += need;
    h->live_objects++;
  }
  weft_gc_header *hd = o;
  hd->type = ty;
  hd->length = length;
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

/* Frees unmarked objects and clears the marks (block objects: in the bitmaps only; their header
 * flags are reset by gc_is_object when next met); empty blocks go back to the host. The regions
 * must have been retired (gc_collect does). */
void gc_sweep(weft_gc_heap *h) {
  size_t keep = 0;
  for (size_t i = 0; i < h->nspans; i++) {
    gc_span s = h->spans[i];
    weft_gc_header *o = (weft_gc_header *)s.lo;
    if (o->flags & GC_MARK) {
      o->flags &= ~GC_MARK;
      h->spans[keep++] = s;
      continue;
    }
    h->live_bytes -= s.hi - s.lo;
    h->heap_bytes -= s.hi - s.lo;
    h->live_objects--;
    h->freed_objects++;
    h->host->free(h->host->host, (void *)s.lo);
  }
  h->nspans = keep;
  bool freed_block = false;
  for (uint32_t c = 0; c < GC_NCLASSES; c++) {
    gc_class *k = &h->classes[c];
    uint32_t nb = 0;
    for (uint32_t bi = 0; bi < k->nblocks; bi++) {
      gc_block *b = k->blocks[bi];
      uint32_t live = 0, dead = 0;
      for (uint32_t w = 0; w < GC_BITMAP_WORDS; w++) {
        uint64_t a = b->alloc[w], m = b->mark[w] & a;
        live += (uint32_t)__builtin_popcountll(m);
        dead += (uint32_t)__builtin_popcountll(a & ~m);
        b->alloc[w] = m;
        b->mark[w] = 0;
      }
      h->live_bytes -= (uint64_t)dead * b->cell;
      h->live_objects -= dead;
      h->freed_objects += dead;
      b->live = live;
      if (live == 0) {
        h->heap_bytes -= 2 * (uint64_t)GC_BLOCK_SIZE;
        block_free(h, b);
        freed_block = true;
        continue;
      }
      k->blocks[nb++] = b;
    }
    k->nblocks = nb;
    k->cur_blk = k->cur_cell = 0;
  }
  h->last_blk = NULL;
  if (freed_block) (void)bhash_rebuild(h, 0); /* cannot fail: the table only shrinks or stays */
}

/* -- Collection ------------------------------------------------------------------------------ */

void gc_collect(weft_gc_heap *h) {
  if (h == NULL || h->collecting) return;
  if (h->has_roots && h->roots.can_collect != NULL && !h->roots.can_collect(h->roots.ud)) return;
  h->collecting = true;
  gc_retire_regions(h);
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
  for (uint32_t c = 0; c < GC_NCLASSES; c++) { /* the regions as if retired now */
    const weft_gc_region *r = &h->rg[c];
    if (r->end == 0 || h->classes[c].rblk == NULL) continue;
    s.live_objects += (r->ptr - h->classes[c].rstart) / ((c + 1) * GC_CELL_STEP);
    s.live_bytes -= r->end - r->ptr;
  }
  s.heap_bytes = h->heap_bytes;
  s.freed_objects = h->freed_objects;
  s.next_collection = h->next_gc;
  size_t n = out->struct_size < sizeof s ? out->struct_size : sizeof s;
  memcpy(out, &s, n);
}
