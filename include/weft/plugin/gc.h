/* include/weft/plugin/gc.h -- interface of a plugin of kind "gc": the heap of GC objects.
 *
 * One heap per store holds structs, arrays and externref boxes (i31ref is unboxed: (v << 1) | 1).
 * The collector is precise, non-moving mark-sweep (DESIGN §9). The core supplies the roots via a
 * weft_gc_roots provider (core/gcroots.c); the plugin walks Wasm frames itself through the host
 * table's walk_frames slot and the stack maps the provider looks up. Depends on: plugin.h, vm.h,
 * module.h, plugin/backtrace.h (weft_activation).
 */
#ifndef WEFT_PLUGIN_GC_H
#define WEFT_PLUGIN_GC_H

#include "weft/module.h"
#include "weft/plugin.h"
#include "weft/plugin/backtrace.h"
#include "weft/vm.h"

/* -- Objects --------------------------------------------------------------------------------- */

/* Kinds of heap object (weft_gc_type.kind). */
typedef enum weft_gc_kind {
  WEFT_GC_STRUCT = 1,
  WEFT_GC_ARRAY = 2,
  WEFT_GC_EXTERN = 3 /* a box around a host externref (one untraced pointer field) */
} weft_gc_kind;

/* The layout of one type's objects, made by the plugin from a module type (type_layout) and shared
 * by every object of that type. Generated code reads `rtt` for casts and `size`/`elem_size`. */
typedef struct weft_gc_type {
  const weft_rtt *rtt;       /* @0  canonical identity (NULL for extern boxes) */
  uint32_t kind;             /* @8  weft_gc_kind */
  uint32_t size;             /* @12 struct: bytes of the whole object; array: header bytes */
  uint32_t elem_size;        /* @16 array: bytes per element (1, 2, 4, 8, 16) */
  uint32_t elem_ref;         /* @20 array: 1 when elements are references */
  uint32_t nrefs;            /* @24 struct: number of reference fields */
  uint32_t nfields;          /* @28 struct: number of fields */
  const uint32_t *ref_offs;  /* @32 struct: [nrefs] byte offsets of reference fields */
  const uint32_t *field_offs;/* @40 struct: [nfields] byte offsets of every field */
} weft_gc_type;

/* Every object starts with this header; fields (or elements) follow at WEFT_GC_HEADER_SIZE. */
typedef struct weft_gc_header {
  const weft_gc_type *type; /* @0 */
  uint32_t length;          /* @8  arrays: number of elements */
  uint32_t flags;           /* @12 the collector's bits */
} weft_gc_header;
#define WEFT_GC_HEADER_SIZE 16u
_Static_assert(sizeof(weft_gc_header) == WEFT_GC_HEADER_SIZE, "weft_gc_header layout");

/* The layout rule, shared by the plugin (gc_type.c) and the codegen, which compiles field accesses
 * to fixed offsets: fields in declaration order after the header, each at its natural alignment
 * (references 8 bytes); an array's elements start at WEFT_GC_HEADER_SIZE. */
static inline uint32_t weft_gc_storage_size(weft_valtype t) {
  switch (WEFT_VT_KIND(t)) {
  case WEFT_VT_I8: return 1;
  case WEFT_VT_I16: return 2;
  case WEFT_VT_I32:
  case WEFT_VT_F32: return 4;
  case WEFT_VT_V128: return 16;
  default: return 8; /* i64, f64, references */
  }
}

/* Byte offset of field `i` of struct type `t` (i == nfields: the unaligned end of the fields). */
static inline uint64_t weft_gc_field_offset(const weft_type *t, uint32_t i) {
  uint64_t off = WEFT_GC_HEADER_SIZE;
  for (uint32_t k = 0; k < i && k < t->u.strct.nfields; k++) {
    uint32_t sz = weft_gc_storage_size(t->u.strct.fields[k].type);
    off = (off + sz - 1) & ~(uint64_t)(sz - 1);
    off += sz;
  }
  if (i < t->u.strct.nfields) {
    uint32_t sz = weft_gc_storage_size(t->u.strct.fields[i].type);
    off = (off + sz - 1) & ~(uint64_t)(sz - 1);
  }
  return off;
}

#define WEFT_GC_I31_TAG 1u /* an i31ref value is (v << 1) | 1; no heap pointer has bit 0 set */

/* -- Roots ----------------------------------------------------------------------------------- */

typedef struct weft_gc_tracer weft_gc_tracer;

/* What a root provider calls during a collection. Every function tolerates NULL, i31 values,
 * funcref pointers and anything else that is not the start of a live heap object (it is ignored),
 * so a provider can pass every reference-typed slot without sorting GC refs from other refs. */
struct weft_gc_tracer {
  void *heap;
  void (*mark)(weft_gc_tracer *t, const void *ref);
  void (*mark_slots)(weft_gc_tracer *t, const void *const *slots, size_t n, size_t stride);
  /* Frames: walk an activation chain (or a suspended continuation when `suspended` is non-NULL)
   * with the host's walk_frames and mark the slots the stack map of each frame names. Returns the
   * walk's status. */
  int (*scan_frames)(weft_gc_tracer *t, const weft_activation *act, const weft_contref *suspended);
};

/* A stack map: the frame slots holding references at one safepoint, as byte offsets from the
 * frame's fp (negative: below it). */
typedef struct weft_gc_stack_map {
  uint32_t nslots;
  const int32_t *fp_offs;
} weft_gc_stack_map;

/* The root provider a heap is created with (core/gcroots.c). */
typedef struct weft_gc_roots {
  void *ud;
  /* Mark every root of the store: globals, tables, host handles, payload buffers, every frame of
   * the running chain and of every suspended continuation (through t->scan_frames). */
  void (*enumerate)(void *ud, weft_gc_tracer *t);
  /* The stack map of the safepoint whose return address (or pc) is `pc`; false when pc is no
   * safepoint of compiled code (the frame then holds no references). */
  bool (*stack_map)(void *ud, uintptr_t pc, weft_gc_stack_map *out);
  /* Whether every root can be found now; when false the heap does not collect (it grows instead,
   * up to heap_limit). May be NULL (always true). */
  bool (*can_collect)(void *ud);
  /* -- appended in 1.3 (part gcroots): continuations traced as nodes. A plugin reads these only
   * when the host table's abi_version is 1.3 or newer (the struct has no size header); each may
   * be NULL. -- */
  /* For every 16-byte continuation field or element ({contref, revision}, see Continuation
   * fields) of each object the plugin marks: the provider notes the continuation (it must not
   * call the tracer from here). */
  void (*cont_field)(void *ud, const void *slot);
  /* After the roots and everything they reach are marked, called again and again while it
   * returns true: the provider marks what the continuations it noted hold. */
  bool (*mark_more)(void *ud, weft_gc_tracer *t);
  /* Marking is complete (before the sweep): the provider releases the continuations it found
   * unreachable. */
  void (*marked)(void *ud);
  /* -- appended in 1.4: exception objects traced as nodes (read when the host table's
   * abi_version is 1.4 or newer; may be NULL). -- */
  /* For every non-null, non-i31 reference the plugin is given (mark, mark_slots, frames) or finds
   * in a reference field that is no object of its heap: the provider notes it when it is one of
   * its own objects (an exception object, whose payload it then traces in mark_more); it must not
   * call the tracer from here. */
  void (*foreign)(void *ud, const void *ref);
} weft_gc_roots;

/* -- Statistics ------------------------------------------------------------------------------ */

typedef struct weft_gc_stats {
  WEFT_ABI_HEADER;
  uint64_t collections;
  uint64_t live_bytes;     /* after the last collection, plus what was allocated since */
  uint64_t live_objects;
  uint64_t heap_bytes;     /* bytes the heap holds from the host (blocks and large objects) */
  uint64_t freed_objects;  /* in total */
  uint64_t next_collection;/* live_bytes at which the next allocation collects */
} weft_gc_stats;

/* -- The interface --------------------------------------------------------------------------- */

typedef struct weft_gc_heap weft_gc_heap;

typedef struct weft_gc_iface {
  WEFT_ABI_HEADER;
  /* A heap for one store. `roots` is copied; it may be NULL (then collections see no roots: tests).
   * since 1.0 */
  int (*heap_new)(void *state, const weft_gc_roots *roots, weft_gc_heap **out, weft_diag *d);
  /* Free the heap and every object in it. since 1.0 */
  void (*heap_free)(weft_gc_heap *h);
  /* The layout of module type `idx` (a struct or array type), made once and kept by the heap
   * until heap_free. NULL with d filled when idx is no struct/array type or memory ran out.
   * since 1.0 */
  const weft_gc_type *(*type_layout)(weft_gc_heap *h, const weft_module *m, uint32_t idx,
                                     weft_diag *d);
  /* A zeroed struct of type `ty`, or an array of `length` zeroed elements. NULL when the heap limit
   * is reached even after a collection (the caller traps with WEFT_TRAP_* "out of memory" wording)
   * or when the array's byte size overflows. May collect first. since 1.0 */
  void *(*alloc_struct)(weft_gc_heap *h, const weft_gc_type *ty);
  void *(*alloc_array)(weft_gc_heap *h, const weft_gc_type *ty, uint32_t length);
  /* A box holding a host externref (any.convert_extern of a non-GC value). since 1.0 */
  void *(*alloc_extern)(weft_gc_heap *h, void *host_ref);
  /* Collect now. since 1.0 */
  void (*collect)(weft_gc_heap *h);
  /* True when `ref` is the start of a live object of this heap. since 1.0 */
  bool (*is_object)(const weft_gc_heap *h, const void *ref);
  /* A safepoint: collects when stress mode is on (or the allocation budget ran out). since 1.0 */
  void (*safepoint)(weft_gc_heap *h);
  /* Counters; out->struct_size must be set by the caller. since 1.0 */
  void (*stats)(const weft_gc_heap *h, weft_gc_stats *out);
  /* -- appended in 1.2 (part gcalloc); callers check WEFT_HAS and NULL -- */
  /* Hand the heap the store's inline-allocation regions (vm.h weft_store_ctx.gc_regions, n ==
   * WEFT_GC_NREGIONS). From then on the heap keeps ptr/end of each region up to date: generated
   * code bumps through them, the allocation calls refill them, a collection retires them. A heap
   * may decline (stress mode): it then leaves every region empty, so each allocation is a call.
   * The array must outlive the heap or be unbound first (regions NULL). Optional. */
  void (*bind_regions)(weft_gc_heap *h, weft_gc_region *regions, uint32_t n);
} weft_gc_iface;

/* -- Continuation fields --------------------------------------------------------------------- */

/* Fields and elements of continuation type ((ref null? $ct), contref, nullcontref) hold the whole
 * 16-byte {contref, revision} value (vm.h weft_val_raw.cont), at 16-byte alignment, so a stale
 * reference read back from a field still fails the one-shot check. They are not GC references:
 * the layout leaves them out of ref_offs/nrefs (structs) and elem_ref is 0 for such arrays, so the
 * collector never reads them. The module-aware forms below are the layout rule; the two functions
 * above give the same result for every other storage type. */
static inline bool weft_gc_cont_storage(const weft_module *m, weft_valtype t) {
  if (!WEFT_VT_IS_REF(t)) return false;
  uint32_t h = WEFT_VT_HEAP(t);
  if (WEFT_HT_IS_ABSTRACT(h)) {
    uint32_t code = h & 0xFFu;
    return code == WEFT_AHT_CONT || code == WEFT_AHT_NOCONT;
  }
  return m != NULL && h < m->ntypes && m->types[h].comp == WEFT_COMP_CONT;
}

static inline uint32_t weft_gc_storage_size_in(const weft_module *m, weft_valtype t) {
  return weft_gc_cont_storage(m, t) ? 16u : weft_gc_storage_size(t);
}

/* Byte offset of field `i` of struct type `t` of module `m` (i == nfields: the unaligned end). */
static inline uint64_t weft_gc_field_offset_in(const weft_module *m, const weft_type *t,
                                               uint32_t i) {
  uint64_t off = WEFT_GC_HEADER_SIZE;
  for (uint32_t k = 0; k < i && k < t->u.strct.nfields; k++) {
    uint32_t sz = weft_gc_storage_size_in(m, t->u.strct.fields[k].type);
    off = (off + sz - 1) & ~(uint64_t)(sz - 1);
    off += sz;
  }
  if (i < t->u.strct.nfields) {
    uint32_t sz = weft_gc_storage_size_in(m, t->u.strct.fields[i].type);
    off = (off + sz - 1) & ~(uint64_t)(sz - 1);
  }
  return off;
}

/* Bytes of a struct object of type `t` of module `m` (header included): the end of its fields
 * rounded up to 8. The gc plugin's weft_gc_type.size of a struct and the cell size the codegen's
 * inline allocation uses both come from here. */
static inline uint64_t weft_gc_struct_size_in(const weft_module *m, const weft_type *t) {
  return (weft_gc_field_offset_in(m, t, t->u.strct.nfields) + 7u) & ~(uint64_t)7u;
}

#endif /* WEFT_PLUGIN_GC_H */
