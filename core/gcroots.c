/* core/gcroots.c -- the core side of the gc plugin: the heap of each store and the allocation
 * libcalls generated code calls (struct.new, array.new, array.new_fixed), any.convert_extern, and
 * the embedding API's host values in any (weft_val_any_from_extern / _to_extern, runtime.h).
 *
 * Heaps are made on first allocation and found by store context. The roots are found here
 * (conservatively for now, see Roots) and handed to the plugin through weft_gc_roots; a store's
 * heap is freed by core_gc_store_free when the store is deleted. Known gap: FRESH continuations'
 * bound arguments are not roots (contstacks has no way to list them).
 * Depends on: core/runtime_int.h, core/engine.h, core/exn.h, weft/plugin/gc.h, contstacks.h.
 */
#define _GNU_SOURCE 1 /* pthread_getattr_np */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "exn.h"
#include "gchandles.h"
#include "gcroots.h"
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

/* The roots are scanned conservatively: the plugin's tracer ignores every word that is not the
 * exact start of a live object, and the heap never moves, so a word that merely looks like a
 * reference only keeps an object alive longer. At every allocation libcall the codegen has spilled
 * every value and stored every pinned local (x64_save_pinned, x64_spill_all), so the frames of the
 * running chain are whole in memory. Precise stack maps replace the stack scan later. */

/* Copy n stack words: a conservative scan reads other frames' padding and redzones, which a
 * sanitizer build would report, so this read is not instrumented. */
__attribute__((no_sanitize_address, noinline)) static void copy_words(uintptr_t *dst,
                                                                      uintptr_t src, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] = ((const volatile uintptr_t *)src)[i];
}

static void scan_range(weft_gc_tracer *t, uintptr_t lo, uintptr_t hi) {
  uintptr_t buf[256];
  lo = (lo + 7) & ~(uintptr_t)7;
  while (hi > lo && hi - lo >= 8) {
    size_t n = (hi - lo) / 8;
    if (n > 256) n = 256;
    copy_words(buf, lo, n);
    t->mark_slots(t, (const void *const *)buf, n, 8);
    lo += n * 8;
  }
}

/* Continuation c's stack from `from` to its top; nothing when `from` is not on that stack (a stack
 * this code misreads is never read outside its mapping). */
static bool scan_cont_stack(weft_gc_tracer *t, const weft_contref *c, uintptr_t from) {
  uintptr_t top = (uintptr_t)c->stack_top;
  if (c->stack_top == NULL || from < top - c->stack_size || from >= top) return false;
  if (t != NULL) scan_range(t, from, top);
  return true;
}

static void scan_payloads(weft_gc_tracer *t, const weft_contref *c) {
  if (t == NULL) return;
  if (c->args.data != NULL && c->args.length <= c->args.capacity)
    scan_range(t, (uintptr_t)c->args.data, (uintptr_t)(c->args.data + c->args.capacity));
  if (c->values.data != NULL && c->values.length <= c->values.capacity)
    scan_range(t, (uintptr_t)c->values.data, (uintptr_t)(c->values.data + c->values.capacity));
}

/* The high end of the current thread's stack (0 when unknown). */
static uintptr_t thread_stack_hi(uintptr_t *lo_out) {
  static __thread uintptr_t lo, hi;
  if (hi == 0) {
    pthread_attr_t a;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
      if (pthread_attr_getstack(&a, &addr, &size) == 0) {
        lo = (uintptr_t)addr;
        hi = (uintptr_t)addr + size;
      }
      pthread_attr_destroy(&a);
    }
  }
  *lo_out = lo;
  return hi;
}

typedef struct roots_ud {
  weft_store_ctx *ctx;
  weft_gc_tracer *t;
} roots_ud;

typedef struct susp_ctx {
  weft_gc_tracer *t; /* NULL: only check that every region is found */
  bool ok;
} susp_ctx;

static void visit_suspended(void *ud, weft_contref *c) {
  susp_ctx *sc = ud;
  const weft_contref *la = c->last_ancestor;
  scan_payloads(sc->t, c);
  if (la == NULL) {
    sc->ok = false;
    return;
  }
  /* c's stack from the suspension point in la's control context (docs/STACK-SWITCHING.md §8) */
  if (!scan_cont_stack(sc->t, c, weft_contref_cc(la)->rsp)) sc->ok = false;
  /* then each parent up to la: parent(x)'s stack from cc(x) */
  const weft_contref *x = c;
  for (uint32_t guard = 0; x != la && guard < 100000; guard++) {
    if (x->parent_chain.kind != WEFT_CHAIN_CONTINUATION) {
      sc->ok = false;
      break;
    }
    const weft_contref *p = x->parent_chain.payload;
    scan_payloads(sc->t, p);
    if (!scan_cont_stack(sc->t, p, weft_contref_cc(x)->rsp)) sc->ok = false;
    x = p;
  }
}

/* The store's roots, or false (no collection) when they cannot all be found: a nested host -> Wasm
 * entry, or a stack this code does not recognise. */
static bool enumerate_roots(weft_store_ctx *ctx, weft_gc_tracer *t, bool dry) {
  weft_store_t *s = core_rt_store_of_ctx(ctx);
  if (s == NULL || s->entry_depth > 1) return false;
  uintptr_t sp = (uintptr_t)__builtin_frame_address(0), tlo, thi = thread_stack_hi(&tlo);
  if (thi == 0) return false;
  /* the running chain: each stack from where it stopped up to its top */
  const weft_stack_chain *ch = &ctx->stack_chain;
  if (s->entry_depth == 0) { /* instantiation (constant expressions) or the host: its C stack */
    if (sp < tlo || sp >= thi) return false;
    if (!dry) scan_range(t, sp, thi);
  } else {
    if (ch->kind == WEFT_CHAIN_CONTINUATION) {
      const weft_contref *r = ch->payload;
      uintptr_t top = (uintptr_t)r->stack_top;
      if (sp < top - r->stack_size || sp >= top) return false;
      uintptr_t from = sp;
      for (uint32_t guard = 0; guard < 100000; guard++) {
        scan_payloads(dry ? NULL : t, r);
        if (!scan_cont_stack(dry ? NULL : t, r, from)) return false;
        from = weft_contref_cc(r)->rsp;
        if (r->parent_chain.kind != WEFT_CHAIN_CONTINUATION) break;
        r = r->parent_chain.payload;
      }
      if (from < tlo || from >= thi) return false;
      if (!dry) scan_range(t, from, thi);
    } else {
      if (sp < tlo || sp >= thi) return false;
      if (!dry) scan_range(t, sp, thi);
    }
  }
  const weft_contstacks_iface *cs = core_engine_iface(s->engine, WEFT_PLUGIN_CONTSTACKS);
  bool have_cs = WEFT_HAS(cs, weft_contstacks_iface, for_each_suspended) &&
                 cs->for_each_suspended != NULL;
  if (dry) {
    susp_ctx sc = {NULL, true};
    if (have_cs)
      cs->for_each_suspended(core_engine_state(s->engine, WEFT_PLUGIN_CONTSTACKS), ctx,
                             visit_suspended, &sc);
    return sc.ok;
  }
  /* globals and tables of the store (imported ones are another store's or the host's) */
  for (size_t i = 0; i < s->globals.n; i++) {
    core_global *g = s->globals.items[i];
    if (g != NULL && g->vm != NULL) scan_range(t, (uintptr_t)g->vm, (uintptr_t)(g->vm + 1));
  }
  for (size_t i = 0; i < s->tables.n; i++) {
    core_table *tb = s->tables.items[i];
    if (tb != NULL && tb->vm != NULL && tb->vm->base != NULL)
      scan_range(t, (uintptr_t)tb->vm->base,
                 (uintptr_t)tb->vm->base + (uintptr_t)tb->vm->size * tb->vm->elem_size);
  }
  /* exception objects and the pending one */
  for (core_exn *e = ctx->exn_objects; e != NULL; e = e->next)
    scan_range(t, (uintptr_t)e->vals, (uintptr_t)(e->vals + e->nvals));
  t->mark(t, ctx->pending_exn);
  core_gc_handles_trace(ctx, t); /* rooted handles of the embedding API (core/gchandles.c) */
  /* suspended continuations, with their payload buffers */
  susp_ctx sc = {t, true};
  if (have_cs)
    cs->for_each_suspended(core_engine_state(s->engine, WEFT_PLUGIN_CONTSTACKS), ctx,
                           visit_suspended, &sc);
  return true;
}

static void roots_enumerate(void *ud, weft_gc_tracer *t) { (void)enumerate_roots(ud, t, false); }
static bool roots_can_collect(void *ud) { return enumerate_roots(ud, NULL, true); }

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
      weft_gc_roots roots = {.ud = ctx, .enumerate = roots_enumerate, .stack_map = NULL,
                             .can_collect = roots_can_collect};
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
  return alloc_obj(inst->store->ctx, inst->ir, typeidx, len, vals, sizeof(weft_val_raw), fixed,
                   sizeof(weft_val_raw), sizeof(weft_val_raw), NULL);
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
  if (!core_gc_convert(((weft_vmctx_header *)vmctx)->store_ctx, ref, to_any != 0, &out))
    out_of_memory(vmctx);
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
