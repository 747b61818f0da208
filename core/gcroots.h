/* core/gcroots.h -- the core side of the gc plugin: one heap per store, made on first use, and the
 * libcalls that allocate GC objects (GC_STRUCT_NEW, GC_ARRAY_NEW, GC_ARRAY_NEW_FIXED, vm.h).
 * Implemented in core/gcroots.c, which also defines weft_val_any_from_extern / _to_extern
 * (declared in weft/runtime.h). Depends on: core/runtime_int.h, weft/plugin/gc.h.
 */
#ifndef WEFT_CORE_GCROOTS_H
#define WEFT_CORE_GCROOTS_H

#include <stdbool.h>
#include <stdint.h>

#include "weft/runtime.h"
#include "weft/vm.h"

/* Libcalls (signatures in vm.h). They trap "out of memory" when the heap limit is reached or no gc
 * plugin is loaded. */
void *core_gc_lc_struct_new(void *vmctx, uint32_t typeidx, const uint64_t *fields);
void *core_gc_lc_array_new(void *vmctx, uint32_t typeidx, uint32_t len, const uint64_t *init);
void *core_gc_lc_array_new_fixed(void *vmctx, uint32_t typeidx, uint32_t n, const uint64_t *vals);

/* GC_ARRAY_OP: array.fill (a = type), array.copy (a, b = types), array.init_data / init_elem
 * (a = type, b = segment), array.new_data / new_elem (a = type, b = segment; returns the array),
 * `op` the weft_op, `ops` the instruction's operands in 8-byte operand slots. May trap. */
void *core_gc_lc_array_op(void *vmctx, uint32_t op, uint32_t a, uint32_t b, const uint64_t *ops);

/* GC_EXTERN_CONVERT: any.convert_extern (to_any = 1) or extern.convert_any (0) of `ref`. May trap
 * (out of memory: host values entering any and i31 values entering extern are boxed). */
void *core_gc_lc_extern_convert(void *vmctx, void *ref, uint32_t to_any);
/* The same for constant expressions: false when no gc plugin is loaded or memory ran out. */
bool core_gc_convert(weft_store_ctx *ctx, void *ref, bool to_any, void **out);

/* For constant expressions (core/instance.c): a struct of module type `typeidx` with its fields
 * from vals[0..nfields) (NULL: zeroed), or an array of `len` elements, each vals[0] (NULL: zero)
 * unless `fixed`, then element i = vals[i]. NULL when no gc plugin is loaded or memory or the heap
 * limit ran out. */
struct weft_instance;
void *core_gc_new(struct weft_instance *inst, uint32_t typeidx, uint32_t len,
                  const weft_val_raw *vals, bool fixed);

/* Collect the heap of the store of `ctx` now (part gcroots), e.g. when cont.new hit
 * max_continuations: the collection releases the unreachable suspended continuations. Called from
 * a libcall, record the caller first (core/gcscan.h: CORE_GCSCAN_LC_INIT / core_gcscan_lc_leave) so
 * that its frames are walked precisely. The heap is made if the store has none yet. false when
 * no gc plugin is loaded (or memory ran out making the heap). */
bool core_gc_collect_now(weft_store_ctx *ctx);

/* Whether a non-null anyref-family value from the embedder may reach Wasm as type `t` of `mod`
 * (NULL: abstract types only): a fitting i31 or an object of the store's heap whose type fits. */
bool core_gc_host_ref_ok(weft_store_t *s, const void *ref, weft_valtype t, const weft_module *mod);

/* Free the heap of the store whose context is `ctx` (every object in it). To be called when the
 * store dies, before the engine's plugins are unloaded. A no-op when the store has no heap. */
void core_gc_store_free(weft_store_ctx *ctx);

#endif /* WEFT_CORE_GCROOTS_H */
