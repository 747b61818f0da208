/* core/gchandles.h -- rooted handles of the embedding API (weft_root_*, weft_store_gc*, runtime.h)
 * as the core's GC root code sees them. Implemented in core/gchandles.c; core/gcroots.c traces the
 * handles of a store as roots and frees them with the store's heap.
 * Depends on: weft/plugin/gc.h (the tracer), weft/vm.h.
 */
#ifndef WEFT_CORE_GCHANDLES_H
#define WEFT_CORE_GCHANDLES_H

#include "weft/plugin/gc.h"
#include "weft/vm.h"

/* Mark the value of every live rooted handle of the store whose context is `ctx`. Called during a
 * collection (core/gcroots.c enumerate_roots). */
void core_gc_handles_trace(weft_store_ctx *ctx, weft_gc_tracer *t);

/* Free every rooted handle the store of `ctx` still holds (the store is being deleted). */
void core_gc_handles_store_free(weft_store_ctx *ctx);

/* The gc heap of the store of `ctx` and the plugin's interface, making the heap on first use
 * (core/gcroots.c). false when no gc plugin is loaded or memory ran out. */
bool core_gc_heap_get(weft_store_ctx *ctx, const weft_gc_iface **out_gi, weft_gc_heap **out_heap);

#endif /* WEFT_CORE_GCHANDLES_H */
