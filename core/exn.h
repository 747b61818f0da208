/* core/exn.h -- exception objects (exnref) and the unwinder that carries a thrown exception from
 * the throw point through the code registry's handler tables to a try_table handler or the entry.
 * Implemented in core/exn.c; used by core/libcalls.c (THROW, THROW_REF, RAISE) and core/registry.c.
 * Depends on: vm.h, plugin/codegen.h (weft_handler_entry).
 */
#ifndef WEFT_CORE_EXN_H
#define WEFT_CORE_EXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/plugin/codegen.h"
#include "weft/vm.h"

/* An exception object. Lives until its store is dropped (the store context's exn_objects list). */
typedef struct core_exn {
  struct core_exn *next;   /* the store's list */
  const weft_vm_tag *tag;  /* identity: the tag's address */
  uint32_t nvals;
  uint32_t exposed;        /* 1 once an exnref to it may exist in Wasm (catch_ref, an uncaught
                              one): with a gc plugin it lives while a collection finds it
                              (core/gcscan.c), else until the store dies; CORE_EXN_PINNED once
                              the host may hold it (a trap's exnref): until the store dies */
  weft_val_raw vals[];     /* the payload, in the tag's parameter order */
} core_exn;
_Static_assert(offsetof(core_exn, vals) == WEFT_EXN_PAYLOAD_OFFSET, "exception payload offset (ABI)");
#define CORE_EXN_PINNED 2u

/* A new exception of `tag` with room for n values (zeroed), linked into ctx's list; NULL when out
 * of memory or n is absurd. */
core_exn *core_exn_new(weft_store_ctx *ctx, const weft_vm_tag *tag, uint32_t n);
/* Before a libcall allocates an exception object: a collection when the store's count of them has
 * reached its threshold (core/exn.c collect_exns). `payload` (nwords 8-byte words) is kept alive;
 * pc/fp are the generated caller's return address and frame, a safepoint. */
void core_exn_pressure(weft_store_ctx *ctx, const uint64_t *payload, size_t nwords, uintptr_t pc,
                       uintptr_t fp);
/* Frees `e`, which the caller has just taken off ctx->exn_objects (the store counts them). */
void core_exn_freed(weft_store_ctx *ctx, core_exn *e);
/* Whether p is an exception object of this store context (an exnref from the embedder). */
bool core_exn_owned(const weft_store_ctx *ctx, const void *p);
/* Frees every exception object of a store context (for the store's destruction). */
void core_exn_store_free(weft_store_ctx *ctx);

/* Throws `e` from the Wasm frame `fp` whose return address (into that frame's code) is `pc`:
 * lands in the innermost matching handler, or unwinds to the innermost entry with the exception
 * pending (trap kind exception). Never returns. */
_Noreturn void core_exn_throw(weft_store_ctx *ctx, core_exn *e, uintptr_t fp, uintptr_t pc);

/* The libcalls (vm.h: THROW, THROW_REF). */
_Noreturn void core_exn_lc_throw(void *vmctx, uint32_t tag, const uint64_t *payload, uintptr_t fp);
_Noreturn void core_exn_lc_throw_ref(void *vmctx, void *exnref, uintptr_t fp);
/* RAISE from a wasm->host trampoline: a pending exception trap returned by a host function is
 * thrown at the Wasm call site; anything else unwinds to the entry. Never returns. */
_Noreturn void core_exn_raise(weft_store_ctx *ctx);

/* core/registry.c: the compiled module holding pc and its code start, or NULL. */
const weft_code_info *core_rt_registry_find(uintptr_t pc, uintptr_t *out_base);

#endif
