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
  uint16_t exposed;        /* 1 once an exnref to it may exist in Wasm (catch_ref, an uncaught
                              one): with a gc plugin it lives while a collection finds it
                              (core/gcscan.c), else until the store dies; CORE_EXN_PINNED once
                              the host asked a trap for it (weft_trap_exnref): until the store
                              dies. Never lowered (core_exn_expose). */
  uint16_t held;           /* traps (weft_trap_t) holding it: it lives while one does; counted
                              by core_exn_hold / core_exn_release, saturating (then it stays) */
  weft_val_raw vals[];     /* the payload, in the tag's parameter order */
} core_exn;
_Static_assert(offsetof(core_exn, vals) == WEFT_EXN_PAYLOAD_OFFSET, "exception payload offset (ABI)");
#define CORE_EXN_PINNED 2u

/* Marks `e` as reachable from Wasm values (1), keeping a pin. */
static inline void core_exn_expose(core_exn *e) {
  if (e->exposed == 0) e->exposed = 1;
}
/* A trap holds / lets go of `e`. */
static inline void core_exn_hold(core_exn *e) {
  if (e->held != UINT16_MAX) e->held++;
}
static inline void core_exn_release(core_exn *e) {
  if (e->held != UINT16_MAX && e->held > 0) e->held--;
}
/* Whether a collection may free `e` once nothing reachable holds it. */
static inline bool core_exn_collectable(const core_exn *e) {
  return e->exposed != CORE_EXN_PINNED && e->held == 0;
}

/* A new exception of `tag` with room for n values (zeroed), linked into ctx's list; NULL when out
 * of memory or n is absurd. */
core_exn *core_exn_new(weft_store_ctx *ctx, const weft_vm_tag *tag, uint32_t n);
/* Before a libcall allocates an exception object: a collection when the store's count of them has
 * reached its threshold (core/exn.c collect_exns). `payload` (nwords 8-byte words) is kept alive;
 * pc/fp are the generated caller's return address and frame, a safepoint. */
void core_exn_pressure(weft_store_ctx *ctx, const uint64_t *payload, size_t nwords, uintptr_t pc,
                       uintptr_t fp);
/* Trap `t` carries exception `e` of store `s`: e lives while t does (held), and t forgets it when
 * the store is freed first (weft_trap_exnref then answers NULL). Detach: t lets go (weft_trap_free,
 * or when its exception is thrown on). */
struct weft_store;
struct weft_trap;
void core_exn_trap_attach(struct weft_store *s, struct weft_trap *t, core_exn *e);
void core_exn_trap_detach(struct weft_trap *t);
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
