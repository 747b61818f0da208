/* plugins/gc/gc_int.h -- internals shared by the files of the "gc" plugin.
 *
 * The heap (gc_heap.c): 64 KiB blocks of one cell size each (16-byte steps up to GC_SMALL_MAX) and
 * separately allocated large objects, all found by address through a sorted span table. Marking and
 * roots (gc_mark.c), type layouts (gc_type.c). Depends on: weft/plugin/gc.h, the host table.
 */
#ifndef WEFT_GC_INT_H
#define WEFT_GC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/plugin/gc.h"

#define GC_ORIGIN "gc"
#define GC_BLOCK_SIZE 65536u
#define GC_CELL_STEP 16u
#define GC_SMALL_MAX 512u
#define GC_NCLASSES (GC_SMALL_MAX / GC_CELL_STEP)
#define GC_MARK 0x1u
_Static_assert(GC_NCLASSES == WEFT_GC_NREGIONS, "one allocation region per size class");

/* -- Plugin state ---------------------------------------------------------------------------- */

typedef struct gc_state {
  const weft_host_api *host;
  uint64_t heap_limit; /* most live bytes */
  uint64_t min_heap;   /* no collection (outside stress) before this many live bytes */
  uint32_t growth;     /* next collection at live * growth / 100 */
  bool stress;         /* collect at every safepoint and allocation */
} gc_state;

/* -- Heap ------------------------------------------------------------------------------------ */

#define GC_MAX_CELLS (GC_BLOCK_SIZE / GC_CELL_STEP)
#define GC_BITMAP_WORDS (GC_MAX_CELLS / 64u)

/* A block of cells of one size. Which cells hold objects is kept in bitmaps, not in the cells:
 * `alloc` (set when a region that covered the cell is retired; the cells of the regions still
 * open count too, see gc_is_object) and `mark` (set during a collection). A sweep is then a few
 * word operations per block and never touches the objects. */
typedef struct gc_block {
  uint8_t *mem;        /* GC_BLOCK_SIZE bytes, GC_BLOCK_SIZE-aligned */
  void *raw;           /* what the host allocated (mem lies inside) */
  uint32_t cell;       /* bytes per cell */
  uint32_t ncells;     /* cells in the block */
  uint32_t live;       /* live cells after the last sweep (a full block is skipped by refills) */
  uint32_t magic;      /* ceil(2^32 / cell): offset / cell as a multiply */
  uint64_t alloc[GC_BITMAP_WORDS];
  uint64_t mark[GC_BITMAP_WORDS];
} gc_block;

/* A large object (more than GC_SMALL_MAX bytes): one host allocation. */
typedef struct gc_span {
  uintptr_t lo, hi;
} gc_span;

/* Per size class: its blocks and where the next refill looks for a run of free cells. The class's
 * allocation region (ptr/end) is h->rg[class]; rstart is where the current region began. */
typedef struct gc_class {
  gc_block **blocks;
  uint32_t nblocks, capblocks;
  uint32_t cur_blk, cur_cell;
  uintptr_t rstart; /* where the open region began */
  gc_block *rblk;   /* the block of the open region */
} gc_class;

typedef struct gc_type_node {
  struct gc_type_node *next;
  const weft_module *m;
  uint32_t idx;
  weft_gc_type ty;
  uint32_t offs[]; /* field_offs then ref_offs */
} gc_type_node;

struct weft_gc_heap {
  gc_state *st;
  const weft_host_api *host;
  weft_gc_roots roots;
  bool has_roots;
  gc_span *spans; /* large objects, sorted by lo */
  size_t nspans, capspans;
  gc_class classes[GC_NCLASSES];
  /* blocks by address (mem >> 16): open addressing, rebuilt by every sweep */
  gc_block **bhash;
  size_t bhash_cap, nblocks;
  gc_block *last_blk; /* the block gc_is_object found last (NULL after a sweep) */
  /* allocation regions: the store's (bind_regions) or own_rg; see vm.h weft_gc_region */
  weft_gc_region *rg;
  weft_gc_region own_rg[GC_NCLASSES];
  gc_type_node *types;
  weft_gc_type extern_type;
  /* marking */
  const void **mstack;
  size_t mlen, mcap;
  bool moverflow;
  bool collecting;
  /* accounting: live_bytes counts whole regions handed out; the unused tail is given back and the
   * objects in the used part are counted when the region is retired */
  uint64_t live_bytes, live_objects, heap_bytes, next_gc;
  uint64_t collections, freed_objects;
};

/* gc_heap.c. gc_is_object is what gc_mark.c's push asks before it marks an object (header flag
 * GC_MARK) and traces it; while a collection runs it also records the object in its block's mark
 * bitmap (clearing a stale header flag when the bitmap says "not yet marked in this collection"),
 * so the bitmaps and the header flags agree and the sweep reads only the bitmaps. */
int gc_heap_new(void *state, const weft_gc_roots *roots, weft_gc_heap **out, weft_diag *d);
void gc_heap_free(weft_gc_heap *h);
void *gc_alloc_struct(weft_gc_heap *h, const weft_gc_type *ty);
void *gc_alloc_array(weft_gc_heap *h, const weft_gc_type *ty, uint32_t length);
void *gc_alloc_extern(weft_gc_heap *h, void *host_ref);
bool gc_is_object(const weft_gc_heap *h, const void *ref);
/* The same without the bookkeeping: the iface's is_object, for the core at any time. */
bool gc_is_object_api(const weft_gc_heap *h, const void *ref);
void gc_collect(weft_gc_heap *h);
void gc_safepoint(weft_gc_heap *h);
void gc_stats(const weft_gc_heap *h, weft_gc_stats *out);
void gc_sweep(weft_gc_heap *h);
void gc_bind_regions(weft_gc_heap *h, weft_gc_region *regions, uint32_t n);
/* Give back the unused part of every allocation region and count the objects in the used part. */
void gc_retire_regions(weft_gc_heap *h);
/* Each live object of the heap, in address order; `fn` must not allocate. */
void gc_for_each_object(weft_gc_heap *h, void (*fn)(weft_gc_heap *h, weft_gc_header *o));

/* gc_mark.c */
void gc_mark_from_roots(weft_gc_heap *h);

/* gc_type.c */
const weft_gc_type *gc_type_layout(weft_gc_heap *h, const weft_module *m, uint32_t idx,
                                   weft_diag *d);
void gc_types_free(weft_gc_heap *h);

#endif /* WEFT_GC_INT_H */
