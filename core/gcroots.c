/* core/gcroots.c -- the core side of the gc plugin: the heap of each store and the allocation
 * libcalls generated code calls (struct.new, array.new, array.new_fixed).
 *
 * Heaps are made on first allocation and found by store context. No root provider is given to the
 * plugin yet: until the codegen publishes stack maps, a collection could not see the references
 * held in frames, so the heap never collects (it grows up to [gc] heap_limit, then allocation
 * traps "out of memory"). Depends on: core/runtime_int.h, core/engine.h, weft/plugin/gc.h.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "gcroots.h"
#include "runtime_int.h"
#include "weft/plugin/gc.h"

/* -- Heaps by store -------------------------------------------------------------------------- */

typedef struct heap_entry {
  struct heap_entry *next;
  weft_store_ctx *ctx;
  uint64_t store_id; /* a store context address may be reused by a later store */
  const weft_gc_iface *gi;
  weft_gc_heap *heap;
} heap_entry;

static pthread_mutex_t heaps_lock = PTHREAD_MUTEX_INITIALIZER;
static heap_entry *heaps;

/* The heap of the store of `ctx`, made on first use; NULL when no gc plugin is loaded or memory
 * ran out. */
static heap_entry *heap_of(weft_store_ctx *ctx) {
  weft_store_t *s = core_rt_store_of_ctx(ctx);
  heap_entry *found = NULL;
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
      if (gi->heap_new(st, NULL, &e->heap, &d) == WEFT_OK) {
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
  pthread_mutex_unlock(&heaps_lock);
  return found;
}

void core_gc_store_free(weft_store_ctx *ctx) {
  weft_store_t *s = core_rt_store_of_ctx(ctx);
  pthread_mutex_lock(&heaps_lock);
  for (heap_entry **p = &heaps; *p != NULL; p = &(*p)->next) {
    heap_entry *e = *p;
    if (e->ctx == ctx && (s == NULL || e->store_id == s->id)) {
      *p = e->next;
      e->gi->heap_free(e->heap);
      free(e);
      break;
    }
  }
  pthread_mutex_unlock(&heaps_lock);
}

/* -- Allocation ------------------------------------------------------------------------------ */

/* Store the low `size` bytes of a slot value (little-endian: the low bytes come first). */
static void put(uint8_t *at, uint32_t size, const uint8_t *slot) {
  memcpy(at, slot, size < 8 ? size : 8);
}

/* A new object of module type `typeidx` of `inst` in the heap of store context `ctx`:
 *   STRUCT: fields from vals[i * stride] (vals NULL: zeroed);
 *   ARRAY:  `len` elements, each = vals[0] (vals NULL: zeroed) when `fixed` is false, else
 *           element i = vals[i * stride].
 * NULL when no gc plugin is loaded, memory ran out or the heap limit is reached. */
static void *alloc_obj(weft_store_ctx *ctx, const weft_module *ir, uint32_t typeidx, uint32_t len,
                       const void *vals, size_t stride, bool fixed) {
  heap_entry *e = heap_of(ctx);
  if (e == NULL || typeidx >= ir->ntypes) return NULL;
  weft_diag d;
  memset(&d, 0, sizeof d);
  const weft_gc_type *ty = e->gi->type_layout(e->heap, ir, typeidx, &d);
  if (ty == NULL) return NULL;
  const uint8_t *v = vals;
  uint8_t *o;
  if (ty->kind == WEFT_GC_STRUCT) {
    o = e->gi->alloc_struct(e->heap, ty);
    if (o != NULL && v != NULL) {
      const weft_type *t = &ir->types[typeidx];
      for (uint32_t i = 0; i < ty->nfields; i++)
        put(o + ty->field_offs[i], weft_gc_storage_size(t->u.strct.fields[i].type), v + i * stride);
    }
  } else {
    o = e->gi->alloc_array(e->heap, ty, len);
    if (o != NULL && v != NULL)
      for (uint32_t i = 0; i < len; i++)
        put(o + ty->size + (size_t)i * ty->elem_size, ty->elem_size, fixed ? v + i * stride : v);
  }
  return o;
}

static _Noreturn void out_of_memory(void *vmctx) {
  core_rt_trap_raise(((weft_vmctx_header *)vmctx)->store_ctx, WEFT_TRAP_OUT_OF_MEMORY);
}

static void *lc_alloc(void *vmctx, uint32_t typeidx, uint32_t len, const uint64_t *vals,
                      bool fixed) {
  weft_vmctx_header *h = vmctx;
  void *o = alloc_obj(h->store_ctx, ((weft_instance_t *)h->instance)->ir, typeidx, len, vals,
                      sizeof(uint64_t), fixed);
  if (o == NULL) out_of_memory(vmctx);
  return o;
}

void *core_gc_lc_struct_new(void *vmctx, uint32_t typeidx, const uint64_t *fields) {
  return lc_alloc(vmctx, typeidx, 0, fields, true);
}

void *core_gc_lc_array_new(void *vmctx, uint32_t typeidx, uint32_t len, const uint64_t *init) {
  return lc_alloc(vmctx, typeidx, len, init, false);
}

void *core_gc_lc_array_new_fixed(void *vmctx, uint32_t typeidx, uint32_t n, const uint64_t *vals) {
  return lc_alloc(vmctx, typeidx, n, vals, true);
}

void *core_gc_new(weft_instance_t *inst, uint32_t typeidx, uint32_t len, const weft_val_raw *vals,
                  bool fixed) {
  return alloc_obj(inst->store->ctx, inst->ir, typeidx, len, vals, sizeof(weft_val_raw), fixed);
}

/* -- Bulk array instructions ----------------------------------------------------------------- */

static _Noreturn void trap(void *vmctx, uint32_t code) {
  core_rt_trap_raise(((weft_vmctx_header *)vmctx)->store_ctx, code);
}

/* [off, off + n) within an array of `len` elements (no overflow). */
static bool fits(uint64_t off, uint64_t n, uint64_t len) { return off <= len && n <= len - off; }

static uint8_t *elems(weft_gc_header *a) { return (uint8_t *)a + a->type->size; }

void *core_gc_lc_array_op(void *vmctx, uint32_t op, uint32_t a, uint32_t b, const uint64_t *ops) {
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
    for (uint32_t i = 0; i < n; i++)
      put(elems(arr) + (size_t)(off + i) * z, z, (const uint8_t *)&ops[2]);
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
        put(elems(arr) + (size_t)(off + i) * z, z, (const uint8_t *)&v);
      }
    }
    return NULL;
  }
  case WEFT_OP_ARRAY_NEW_DATA:
  case WEFT_OP_ARRAY_NEW_ELEM: { /* [soff, n] */
    uint32_t soff = (uint32_t)ops[0], n = (uint32_t)ops[1];
    if (a >= ir->ntypes || ir->types[a].comp != WEFT_COMP_ARRAY) trap(vmctx, WEFT_TRAP_UNREACHABLE);
    uint32_t z = weft_gc_storage_size(ir->types[a].u.array.type);
    if (op == WEFT_OP_ARRAY_NEW_DATA) {
      uint64_t seglen = b < ir->ndatas && !inst->data_dropped[b] ? ir->datas[b].len : 0;
      if (!fits(soff, (uint64_t)n * z, seglen)) trap(vmctx, WEFT_TRAP_MEMORY_OOB);
    } else {
      uint64_t seglen = b < ir->nelems && !inst->elem_dropped[b] ? ir->elems[b].nitems : 0;
      if (!fits(soff, n, seglen)) trap(vmctx, WEFT_TRAP_TABLE_OOB);
    }
    weft_gc_header *arr = alloc_obj(h->store_ctx, ir, a, n, NULL, 0, false);
    if (arr == NULL) out_of_memory(vmctx);
    if (op == WEFT_OP_ARRAY_NEW_DATA) {
      if (n > 0) memcpy(elems(arr), ir->datas[b].bytes + soff, (size_t)n * z);
    } else {
      for (uint32_t i = 0; i < n; i++) {
        weft_val_raw v;
        if (core_rt_elem_item(inst, b, soff + i, &v) != WEFT_OK)
          trap(vmctx, WEFT_TRAP_OUT_OF_MEMORY);
        put(elems(arr) + (size_t)i * z, z, (const uint8_t *)&v);
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
  if (!core_gc_convert(((weft_vmctx_header *)vmctx)->store_ctx, ref, to_any != 0, &out))
    out_of_memory(vmctx);
  return out;
}
