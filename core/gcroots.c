/* core/gcroots.c -- the core side of the gc plugin: the heap of each store and the allocation
 * libcalls generated code calls (struct.new, array.new, array.new_fixed), any.convert_extern, and
 * the embedding API's host values in any (weft_val_any_from_extern / _to_extern, runtime.h).
 *
 * Heaps are made on first allocation and found by store context. The roots are found by
 * core/gcscan.c (stack maps, continuations as nodes) and handed to the plugin through
 * weft_gc_roots; a store's heap is freed by core_gc_store_free when the store is deleted.
 * Depends on: core/runtime_int.h, core/engine.h, core/gcscan.h, weft/plugin/gc.h.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "exn.h"
#include "gchandles.h"
#include "gcroots.h"
#include "gcscan.h"
#include "runtime_int.h"
#include "weft/plugin/contstacks.h"
#include "weft/plugin/gc.h"

/* -- Heaps by store -------------------------------------------------------------------------- */

typedef struct heap_entry {
  struct heap_entry *next;
  weft_store_ctx *ctx;
  uint64_t store_id; /* a store context address may be reused by a later store */
  const weft_gc_iface *gi;
  weft_gc_heap *heap;
  struct { /* layouts by type index, direct-mapped (the plugin's lookup is a list walk) */
    const weft_module *ir;
    uint32_t idx;
    const weft_gc_type *ty;
  } layouts[64];
} heap_entry;

static pthread_mutex_t heaps_lock = PTHREAD_MUTEX_INITIALIZER;
static heap_entry *heaps;
static uint64_t heaps_freed; /* bumped by core_gc_store_free: invalidates the per-thread cache */

/* The last heap this thread used (valid while heaps_freed is unchanged). */
static __thread struct {
  weft_store_ctx *ctx;
  uint64_t store_id, freed;
  heap_entry *e;
} last_heap;

/* -- Roots ----------------------------------------------------------------------------------- */

/* core/gcscan.c finds them: frames through the codegen's stack maps, payload buffers, globals,
 * tables, exceptions; continuations are traced as nodes when the plugin reports continuation
 * fields (ABI 1.3), and the unreachable suspended ones are released. */
static void roots_enumerate(void *ud, weft_gc_tracer *t) {
  weft_store_ctx *ctx = ud;
  weft_store_t *s = core_rt_store_of_ctx(ctx);
  const weft_gc_iface *gi = s != NULL ? core_engine_iface(s->engine, WEFT_PLUGIN_GC) : NULL;
  bool reclaim = gi != NULL && WEFT_ABI_MINOR_OF(gi->abi_version) >= 3;
  bool reclaim_exn = gi != NULL && WEFT_ABI_MINOR_OF(gi->abi_version) >= 4;
  core_gcscan_enumerate(ctx, t, reclaim, reclaim_exn);
  core_gc_handles_trace(ctx, t); /* rooted handles of the embedding API (core/gchandles.c) */
}

static bool roots_can_collect(void *ud) { return core_gcscan_can_collect(ud); }

/* The heap of the store of `ctx`, made on first use; NULL when no gc plugin is loaded or memory
 * ran out. */
static heap_entry *heap_of(weft_store_ctx *ctx) {
  weft_store_t *s = core_rt_store_of_ctx(ctx);
  heap_entry *found = NULL;
  if (last_heap.e != NULL && last_heap.ctx == ctx && last_heap.store_id == s->id &&
      last_heap.freed == __atomic_load_n(&heaps_freed, __ATOMIC_ACQUIRE))
    return last_heap.e;
  pthread_mutex_lock(&heaps_lock);
  for (heap_entry *e = heaps; e != NULL; e = e->next)
    if (e->ctx == ctx && e->store_id == s->id) {
      found = e;
      break;
    }
  if (found == NULL) {
    const weft_gc_iface *gi = core_engine_iface(s->engine, WEFT_PLUGIN_GC);
    void *st = core_engine_state(s->engine, WEFT_PLUGIN_GC);
    heap_entry *e = NULL;
    weft_diag d;
    memset(&d, 0, sizeof d);
    if (WEFT_HAS(gi, weft_gc_iface, heap_new) && gi->heap_new != NULL &&
        (e = calloc(1, sizeof *e)) != NULL) {
      weft_gc_roots roots = {.ud = ctx, .enumerate = roots_enumerate,
                             .stack_map = core_gcscan_stack_map,
                             .can_collect = roots_can_collect,
                             .cont_field = core_gcscan_cont_field,
                             .mark_more = core_gcscan_mark_more,
                             .marked = core_gcscan_marked,
                             .foreign = core_gcscan_foreign};
      if (gi->heap_new(st, &roots, &e->heap, &d) == WEFT_OK) {
        e->ctx = ctx;
        e->store_id = s->id;
        e->gi = gi;
        e->next = heaps;
        heaps = e;
        found = e;
      } else {
        free(e);
      }
    }
  }
  if (found != NULL) {
    last_heap.ctx = ctx;
    last_heap.store_id = s->id;
    last_heap.freed = __atomic_load_n(&heaps_freed, __ATOMIC_ACQUIRE);
    last_heap.e = found;
  }
  pthread_mutex_unlock(&heaps_lock);
  return found;
}

bool core_gc_collect_now(weft_store_ctx *ctx) {
  heap_entry *e = heap_of(ctx);
  if (e == NULL || !WEFT_HAS(e->gi, weft_gc_iface, collect) || e->gi->collect == NULL) return false;
  e->gi->collect(e->heap);
  return true;
}

void core_gc_store_free(weft_store_ctx *ctx) {
  weft_store_t *s = core_rt_store_of_ctx(ctx);
  core_gc_handles_store_free(ctx); /* leftover rooted handles (core/gchandles.c) */
  pthread_mutex_lock(&heaps_lock);
  for (heap_entry **p = &heaps; *p != NULL; p = &(*p)->next) {
    heap_entry *e = *p;
    if (e->ctx == ctx && (s == NULL || e->store_id == s->id)) {
      *p = e->next;
      __atomic_add_fetch(&heaps_freed, 1, __ATOMIC_RELEASE);
      e->gi->heap_free(e->heap);
      free(e);
      break;
    }
  }
  pthread_mutex_unlock(&heaps_lock);
}

/* -- Allocation ------------------------------------------------------------------------------ */

bool core_gc_heap_get(weft_store_ctx *ctx, const weft_gc_iface **out_gi, weft_gc_heap **out_heap) {
  heap_entry *e = heap_of(ctx);
  if (e == NULL) return false;
  *out_gi = e->gi;
  *out_heap = e->heap;
  return true;
}

/* Store the low `size` bytes of a value of `width` bytes at `slot` (little-endian: the low bytes
 * come first). A 16-byte continuation field takes both words when the value has them (width 16);
 * from an 8-byte operand slot only the low word is stored and the caller writes the rest. */
static void put(uint8_t *at, uint32_t size, const uint8_t *slot, uint32_t width) {
  memcpy(at, slot, size < width ? size : width);
}

/* A new object of module type `typeidx` of `inst` in the heap of store context `ctx`:
 *   STRUCT: fields from vals[i * stride] (vals NULL: zeroed);
 *   ARRAY:  `len` elements, each = vals[0] (vals NULL: zeroed) when `fixed` is false, else
 *           element i = vals[i * stride].
 * Each value has `width` bytes (8: an operand slot, 16: a weft_val_raw or a 16-byte value);
 * `init_width` is the width of vals[0] when `fixed` is false.
 * NULL when no gc plugin is loaded, memory ran out or the heap limit is reached. */
static void *alloc_obj(weft_store_ctx *ctx, const weft_module *ir, uint32_t typeidx, uint32_t len,
                       const void *vals, size_t stride, bool fixed, uint32_t width,
                       uint32_t init_width, const weft_gc_type **out_ty) {
  heap_entry *e = heap_of(ctx);
  if (e == NULL || typeidx >= ir->ntypes) return NULL;
  /* the store's inline-allocation regions (vm.h): idempotent, so done on every slow path */
  if (WEFT_HAS(e->gi, weft_gc_iface, bind_regions) && e->gi->bind_regions != NULL)
    e->gi->bind_regions(e->heap, ctx->gc_regions, WEFT_GC_NREGIONS);
  const weft_gc_type *ty;
  uint32_t slot = typeidx & 63u;
  if (e->layouts[slot].ty != NULL && e->layouts[slot].ir == ir && e->layouts[slot].idx == typeidx) {
    ty = e->layouts[slot].ty;
  } else {
    weft_diag d;
    memset(&d, 0, sizeof d);
    ty = e->gi->type_layout(e->heap, ir, typeidx, &d);
    if (ty == NULL) return NULL;
    e->layouts[slot].ir = ir;
    e->layouts[slot].idx = typeidx;
    e->layouts[slot].ty = ty;
  }
  if (out_ty != NULL) *out_ty = ty;
  const uint8_t *v = vals;
  uint8_t *o;
  if (ty->kind == WEFT_GC_STRUCT) {
    o = e->gi->alloc_struct(e->heap, ty);
    if (o != NULL && v != NULL) {
      const weft_type *t = &ir->types[typeidx];
      for (uint32_t i = 0; i < ty->nfields; i++)
        put(o + ty->field_offs[i], weft_gc_storage_size_in(ir, t->u.strct.fields[i].type),
            v + i * stride, width);
    }
  } else {
    o = e->gi->alloc_array(e->heap, ty, len);
    if (o != NULL && v != NULL)
      for (uint32_t i = 0; i < len; i++)
        put(o + ty->size + (size_t)i * ty->elem_size, ty->elem_size, fixed ? v + i * stride : v,
            fixed ? width : init_width);
  }
  return o;
}

static _Noreturn void out_of_memory(void *vmctx) {
  core_gcscan_lc_clear();
  core_rt_trap_raise(((weft_vmctx_header *)vmctx)->store_ctx, WEFT_TRAP_OUT_OF_MEMORY);
}

/* Generated code passes operand slots (8 bytes each); array.new's init points at a whole value
 * (a continuation reference's 16-byte slot), struct.new and array.new_fixed leave the high word of
 * continuation fields to the code after the call (plugins/x64-codegen/x64_isel_gc.c). */
static void *lc_alloc(void *vmctx, uint32_t typeidx, uint32_t len, const uint64_t *vals,
                      bool fixed) {
  weft_vmctx_header *h = vmctx;
  weft_instance_t *inst = h->instance;
  const weft_gc_type *ty = NULL;
  void *o = alloc_obj(h->store_ctx, inst->ir, typeidx, len, vals, sizeof(uint64_t), fixed,
                      sizeof(uint64_t), 16, &ty);
  if (o == NULL) out_of_memory(vmctx);
  /* the layout for the inline fast path of generated code (vm.h weft_vmctx_layout.gc_types) */
  ((const void **)((uint8_t *)vmctx + inst->layout.gc_types))[typeidx] = ty;
  return o;
}

/* The store context of a libcall's vmctx. */
static weft_store_ctx *ctx_of(void *vmctx) { return ((weft_vmctx_header *)vmctx)->store_ctx; }

/* Each allocation libcall records where generated code called it (the collection walks the frames
 * from there with their stack maps) and keeps the operands it got by address alive
 * (core/gcscan.h); the record is made here, in the function generated code calls. */
void *core_gc_lc_struct_new(void *vmctx, uint32_t typeidx, const uint64_t *fields) {
  const weft_module *ir = ((weft_instance_t *)((weft_vmctx_header *)vmctx)->instance)->ir;
  size_t n = fields != NULL && typeidx < ir->ntypes && ir->types[typeidx].comp == WEFT_COMP_STRUCT
                 ? ir->types[typeidx].u.strct.nfields
                 : 0;
  core_gcscan_lc lc;
  CORE_GCSCAN_LC_INIT(&lc, ctx_of(vmctx), fields, n);
  void *o = lc_alloc(vmctx, typeidx, 0, fields, true);
  core_gcscan_lc_leave(&lc);
  return o;
}

void *core_gc_lc_array_new(void *vmctx, uint32_t typeidx, uint32_t len, const uint64_t *init) {
  const weft_module *ir = ((weft_instance_t *)((weft_vmctx_header *)vmctx)->instance)->ir;
  size_t n = init == NULL ? 0 /* init: one value, 16 bytes when it is a continuation reference */
             : typeidx < ir->ntypes && ir->types[typeidx].comp == WEFT_COMP_ARRAY &&
                       weft_gc_cont_storage(ir, ir->types[typeidx].u.array.type)
                 ? 2
                 : 1;
  core_gcscan_lc lc;
  CORE_GCSCAN_LC_INIT(&lc, ctx_of(vmctx), init, n);
  void *o = lc_alloc(vmctx, typeidx, len, init, false);
  core_gcscan_lc_leave(&lc);
  return o;
}

void *core_gc_lc_array_new_fixed(void *vmctx, uint32_t typeidx, uint32_t n, const uint64_t *vals) {
  core_gcscan_lc lc;
  CORE_GCSCAN_LC_INIT(&lc, ctx_of(vmctx), vals, vals != NULL ? n : 0);
  void *o = lc_alloc(vmctx, typeidx, n, vals, true);
  core_gcscan_lc_leave(&lc);
  return o;
}

void *core_gc_new(weft_instance_t *inst, uint32_t typeidx, uint32_t len, const weft_val_raw *vals,
                  bool fixed) {
  return alloc_obj(inst->store->ctx, inst->ir, typeidx, len, vals, sizeof(weft_val_raw), fixed,
                   sizeof(weft_val_raw), sizeof(weft_val_raw), NULL);
}

/* -- Bulk array instructions ----------------------------------------------------------------- */

static _Noreturn void trap(void *vmctx, uint32_t code) {
  core_gcscan_lc_clear();
  core_rt_trap_raise(((weft_vmctx_header *)vmctx)->store_ctx, code);
}

/* [off, off + n) within an array of `len` elements (no overflow). */
static bool fits(uint64_t off, uint64_t n, uint64_t len) { return off <= len && n <= len - off; }

static uint8_t *elems(weft_gc_header *a) { return (uint8_t *)a + a->type->size; }

static void *array_op(void *vmctx, uint32_t op, uint32_t a, uint32_t b, const uint64_t *ops,
                      core_gcscan_lc *lc);

/* Operand words of each GC_ARRAY_OP (kept alive while it runs: array.init_elem and
 * array.new_elem evaluate element expressions, which may allocate). */
void *core_gc_lc_array_op(void *vmctx, uint32_t op, uint32_t a, uint32_t b, const uint64_t *ops) {
  size_t n = op == WEFT_OP_ARRAY_COPY ? 5 : op == WEFT_OP_ARRAY_NEW_DATA || op == WEFT_OP_ARRAY_NEW_ELEM ? 2 : 4;
  core_gcscan_lc lc;
  CORE_GCSCAN_LC_INIT(&lc, ctx_of(vmctx), ops, ops != NULL ? n : 0);
  void *r = array_op(vmctx, op, a, b, ops, &lc);
  core_gcscan_lc_leave(&lc);
  return r;
}

static void *array_op(void *vmctx, uint32_t op, uint32_t a, uint32_t b, const uint64_t *ops,
                      core_gcscan_lc *lc) {
  weft_vmctx_header *h = vmctx;
  weft_instance_t *inst = h->instance;
  const weft_module *ir = inst->ir;
  switch (op) {
  case WEFT_OP_ARRAY_FILL: { /* [arr, off, val, n] */
    weft_gc_header *arr = (weft_gc_header *)(uintptr_t)ops[0];
    uint32_t off = (uint32_t)ops[1], n = (uint32_t)ops[3];
    if (arr == NULL) trap(vmctx, WEFT_TRAP_NULL_ARRAY);
    if (!fits(off, n, arr->length)) trap(vmctx, WEFT_TRAP_ARRAY_OOB);
    uint32_t z = arr->type->elem_size;
    /* a 16-byte element's value is passed by address in its operand slot */
    const uint8_t *val = (const uint8_t *)&ops[2];
    if (z > sizeof(uint64_t)) val = (const uint8_t *)(uintptr_t)ops[2];
    for (uint32_t i = 0; i < n; i++)
      put(elems(arr) + (size_t)(off + i) * z, z, val, z);
    return NULL;
  }
  case WEFT_OP_ARRAY_COPY: { /* [dst, doff, src, soff, n] */
    weft_gc_header *dst = (weft_gc_header *)(uintptr_t)ops[0],
                   *src = (weft_gc_header *)(uintptr_t)ops[2];
    uint32_t doff = (uint32_t)ops[1], soff = (uint32_t)ops[3], n = (uint32_t)ops[4];
    if (dst == NULL || src == NULL) trap(vmctx, WEFT_TRAP_NULL_ARRAY);
    if (!fits(doff, n, dst->length) || !fits(soff, n, src->length))
      trap(vmctx, WEFT_TRAP_ARRAY_OOB);
    uint32_t z = dst->type->elem_size;
    if (n > 0) memmove(elems(dst) + (size_t)doff * z, elems(src) + (size_t)soff * z, (size_t)n * z);
    return NULL;
  }
  case WEFT_OP_ARRAY_INIT_DATA:
  case WEFT_OP_ARRAY_INIT_ELEM: { /* [arr, off, soff, n] */
    weft_gc_header *arr = (weft_gc_header *)(uintptr_t)ops[0];
    uint32_t off = (uint32_t)ops[1], soff = (uint32_t)ops[2], n = (uint32_t)ops[3];
    if (arr == NULL) trap(vmctx, WEFT_TRAP_NULL_ARRAY);
    if (!fits(off, n, arr->length)) trap(vmctx, WEFT_TRAP_ARRAY_OOB);
    uint32_t z = arr->type->elem_size;
    if (op == WEFT_OP_ARRAY_INIT_DATA) {
      if (b >= ir->ndatas) trap(vmctx, WEFT_TRAP_MEMORY_OOB);
      uint64_t seglen = inst->data_dropped[b] ? 0 : ir->datas[b].len;
      if (!fits(soff, (uint64_t)n * z, seglen)) trap(vmctx, WEFT_TRAP_MEMORY_OOB);
      if (n > 0) memcpy(elems(arr) + (size_t)off * z, ir->datas[b].bytes + soff, (size_t)n * z);
    } else {
      if (b >= ir->nelems) trap(vmctx, WEFT_TRAP_TABLE_OOB);
      uint64_t seglen = inst->elem_dropped[b] ? 0 : ir->elems[b].nitems;
      if (!fits(soff, n, seglen)) trap(vmctx, WEFT_TRAP_TABLE_OOB);
      for (uint32_t i = 0; i < n; i++) {
        weft_val_raw v;
        if (core_rt_elem_item(inst, b, soff + i, &v) != WEFT_OK)
          trap(vmctx, WEFT_TRAP_OUT_OF_MEMORY);
        put(elems(arr) + (size_t)(off + i) * z, z, (const uint8_t *)&v, sizeof v);
      }
    }
    return NULL;
  }
  case WEFT_OP_ARRAY_NEW_DATA:
  case WEFT_OP_ARRAY_NEW_ELEM: { /* [soff, n] */
    uint32_t soff = (uint32_t)ops[0], n = (uint32_t)ops[1];
    if (a >= ir->ntypes || ir->types[a].comp != WEFT_COMP_ARRAY) trap(vmctx, WEFT_TRAP_UNREACHABLE);
    uint32_t z = weft_gc_storage_size_in(ir, ir->types[a].u.array.type);
    if (op == WEFT_OP_ARRAY_NEW_DATA) {
      uint64_t seglen = b < ir->ndatas && !inst->data_dropped[b] ? ir->datas[b].len : 0;
      if (!fits(soff, (uint64_t)n * z, seglen)) trap(vmctx, WEFT_TRAP_MEMORY_OOB);
    } else {
      uint64_t seglen = b < ir->nelems && !inst->elem_dropped[b] ? ir->elems[b].nitems : 0;
      if (!fits(soff, n, seglen)) trap(vmctx, WEFT_TRAP_TABLE_OOB);
    }
    weft_gc_header *arr = alloc_obj(h->store_ctx, ir, a, n, NULL, 0, false, 0, 0, NULL);
    if (arr == NULL) out_of_memory(vmctx);
    lc->extra = arr; /* only this call holds it while the element expressions run */
    if (op == WEFT_OP_ARRAY_NEW_DATA) {
      if (n > 0) memcpy(elems(arr), ir->datas[b].bytes + soff, (size_t)n * z);
    } else {
      for (uint32_t i = 0; i < n; i++) {
        weft_val_raw v;
        if (core_rt_elem_item(inst, b, soff + i, &v) != WEFT_OK)
          trap(vmctx, WEFT_TRAP_OUT_OF_MEMORY);
        put(elems(arr) + (size_t)i * z, z, (const uint8_t *)&v, sizeof v);
      }
    }
    return arr;
  }
  default: trap(vmctx, WEFT_TRAP_UNREACHABLE);
  }
}

/* -- any.convert_extern / extern.convert_any --------------------------------------------------- */

/* Host values and i31 values cross between the hierarchies in extern boxes (kind WEFT_GC_EXTERN):
 * an anyref that holds a host value is a box around it, and so is an externref that holds an i31
 * (a host value may have bit 0 set). Structs and arrays cross as they are. */
bool core_gc_convert(weft_store_ctx *ctx, void *ref, bool to_any, void **out) {
  *out = NULL;
  if (ref == NULL) return true;
  heap_entry *e = heap_of(ctx);
  if (e == NULL) return false;
  bool obj = e->gi->is_object(e->heap, ref);
  if (obj && ((weft_gc_header *)ref)->type->kind == WEFT_GC_EXTERN) {
    memcpy(out, (uint8_t *)ref + WEFT_GC_HEADER_SIZE, sizeof *out); /* unbox */
    return true;
  }
  if (obj || (!to_any && ((uintptr_t)ref & WEFT_GC_I31_TAG) == 0)) {
    *out = ref;
    return true;
  }
  *out = e->gi->alloc_extern(e->heap, ref); /* a host value into any, an i31 into extern */
  return *out != NULL;
}

void *core_gc_lc_extern_convert(void *vmctx, void *ref, uint32_t to_any) {
  void *out;
  core_gcscan_lc lc;
  CORE_GCSCAN_LC_INIT(&lc, ctx_of(vmctx), NULL, 0);
  if (!core_gc_convert(((weft_vmctx_header *)vmctx)->store_ctx, ref, to_any != 0, &out))
    out_of_memory(vmctx);
  core_gcscan_lc_leave(&lc);
  return out;
}

/* -- Host values in any, for the embedding API (weft/runtime.h) ------------------------------ */

/* Whether the store's engine has a gc plugin with the calls these functions need. */
static bool have_gc(weft_store_t *s) {
  const weft_gc_iface *gi = core_engine_iface(s->engine, WEFT_PLUGIN_GC);
  return WEFT_HAS(gi, weft_gc_iface, is_object) && gi->is_object != NULL &&
         WEFT_HAS(gi, weft_gc_iface, alloc_extern) && gi->alloc_extern != NULL;
}

int weft_val_any_from_extern(weft_store_t *store, void *ext, weft_val_t *out) {
  if (store == NULL || out == NULL) return WEFT_ERR_MISUSE;
  memset(out, 0, sizeof *out);
  out->kind = WEFT_VAL_ANYREF;
  if (ext == NULL) return WEFT_OK;
  if (!have_gc(store)) return WEFT_ERR_UNSUPPORTED;
  void *r;
  if (!core_gc_convert(store->ctx, ext, true, &r)) return WEFT_ERR_NOMEM;
  out->of.ref = r;
  return WEFT_OK;
}

int weft_val_any_to_extern(weft_store_t *store, const weft_val_t *any, void **out_ext,
                           bool *out_is_host) {
  if (store == NULL || any == NULL || out_ext == NULL || out_is_host == NULL ||
      any->kind != WEFT_VAL_ANYREF)
    return WEFT_ERR_MISUSE;
  *out_ext = NULL;
  *out_is_host = false;
  void *ref = any->of.ref;
  if (ref == NULL || ((uintptr_t)ref & WEFT_GC_I31_TAG) != 0) return WEFT_OK;
  if (!have_gc(store)) return WEFT_ERR_UNSUPPORTED;
  heap_entry *e = heap_of(store->ctx);
  if (e == NULL) return WEFT_OK; /* the heap could not be made: no object of it exists */
  if (e->gi->is_object(e->heap, ref) && ((weft_gc_header *)ref)->type->kind == WEFT_GC_EXTERN) {
    memcpy(out_ext, (uint8_t *)ref + WEFT_GC_HEADER_SIZE, sizeof *out_ext);
    *out_is_host = true;
  }
  return WEFT_OK;
}

/* Whether the embedder's anyref-family value `ref` (not null) may reach Wasm as type `t` of `mod`
 * (NULL: abstract types only): an i31 where any, eq or i31 is expected, or an object of the
 * store's heap of a kind the expected heap type admits (a concrete struct or array type: its
 * canonical type a subtype of it). Generated code dereferences such values without a check. */
bool core_gc_host_ref_ok(weft_store_t *s, const void *ref, weft_valtype t, const weft_module *mod) {
  uint32_t h = WEFT_VT_HEAP(t);
  bool abstract = WEFT_HT_IS_ABSTRACT(h);
  uint32_t code = h & 0xFFu;
  if (((uintptr_t)ref & WEFT_GC_I31_TAG) != 0)
    return abstract && (code == WEFT_AHT_ANY || code == WEFT_AHT_EQ || code == WEFT_AHT_I31);
  if (s == NULL || !have_gc(s)) return false;
  heap_entry *e = heap_of(s->ctx);
  if (e == NULL || !e->gi->is_object(e->heap, ref)) return false;
  const weft_gc_type *ty = ((const weft_gc_header *)ref)->type;
  if (!abstract) {
    const weft_rtt *want = mod != NULL && h < mod->ntypes ? mod->types[h].rtt : NULL;
    return want != NULL && ty->rtt != NULL && core_rt_rtt_sub(ty->rtt, want);
  }
  switch (code) {
  case WEFT_AHT_ANY: return true;
  case WEFT_AHT_EQ: return ty->kind != WEFT_GC_EXTERN;
  case WEFT_AHT_STRUCT: return ty->kind == WEFT_GC_STRUCT;
  case WEFT_AHT_ARRAY: return ty->kind == WEFT_GC_ARRAY;
  default: return false; /* i31, none */
  }
}
