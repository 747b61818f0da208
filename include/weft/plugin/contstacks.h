/* include/weft/plugin/contstacks.h -- interface of a plugin of kind "contstacks" (continuation stacks).
 *
 * The contstacks plugin owns continuation objects (weft_contref, vm.h), the pool of stacks they run
 * on, and the start trampoline a Fresh continuation's first resume lands in. The switches themselves
 * are emitted inline by the codegen (docs/STACK-SWITCHING.md gives the exact sequence); cont.new is
 * the one libcall (WEFT_LC_CONT_NEW routes here). Depends on: plugin.h, vm.h.
 */
#ifndef WEFT_PLUGIN_CONTSTACKS_H
#define WEFT_PLUGIN_CONTSTACKS_H

#include "weft/plugin.h"
#include "weft/vm.h"

/* -- Control effects (the u64 a switch delivers in rdi) --------------------------------------- */

/* High 32 bits: the discriminant; low 32 bits: the handler index (SUSPEND only). RETURN is the
 * whole word 0, so the common "it returned" test is one branch. */
#define WEFT_EFFECT_RETURN 0u
#define WEFT_EFFECT_RESUME 1u
#define WEFT_EFFECT_SUSPEND 2u
#define WEFT_EFFECT_SWITCH 3u
#define WEFT_EFFECT_TRAP 4u
#define WEFT_EFFECT_RESUME_THROW 5u
#define WEFT_EFFECT_MAKE(kind, index) (((uint64_t)(kind) << 32) | (uint64_t)(uint32_t)(index))
#define WEFT_EFFECT_KIND(e) ((uint32_t)((uint64_t)(e) >> 32))
#define WEFT_EFFECT_INDEX(e) ((uint32_t)(uint64_t)(e))

/* Layout at the top of a continuation stack (TOS = weft_contref.stack_top, 64-byte aligned: the
 * plugin staggers tops by 0..31 x 64 bytes below the page-aligned end, a cache-set colour):
 *   TOS-0x08 rip  } the control context (weft_control_ctx at TOS-0x18)
 *   TOS-0x10 rbp  } rbp's slot is what the bottom frame's saved rbp points at, so an rbp walk
 *   TOS-0x18 rsp  }   crosses from the continuation into its parent's resume site
 *   TOS-0x20 the weft_contref * that owns the stack
 *   TOS-0x20-16*cap .. TOS-0x20: the args payload buffer (weft_contref.args.data), cap slots
 *   below it: the start trampoline's 16-byte launch record, then the function's frames. */
#define WEFT_CS_TOS_CC 0x18u
#define WEFT_CS_TOS_OWNER 0x20u
#define WEFT_CS_TOS_HEADER 0x30u /* cc + owner + launch record: bytes beyond the args buffer */

/* -- Statistics --------------------------------------------------------------------------------- */

typedef struct weft_contstacks_stats {
  WEFT_ABI_HEADER;
  uint64_t live;          /* continuations allocated and not yet recycled */
  uint64_t created;       /* cont_new calls that succeeded, ever */
  uint64_t stacks_mapped; /* stacks carved from mappings, ever (the pool's high-water mark) */
  uint64_t stacks_warm;   /* free stacks kept with their memory (at most `pool`) */
  uint64_t stacks_cold;   /* free stacks whose memory was returned with MADV_DONTNEED */
  uint64_t mappings;      /* mmap regions the pool holds */
  uint64_t stack_size;    /* usable bytes per stack (config, rounded to pages) */
  uint64_t guard_size;    /* guard bytes below each stack, 0 in the shared-mapping mode */
} weft_contstacks_stats;

/* -- The interface ------------------------------------------------------------------------------ */

/* All slots take the plugin state from init (one per engine, shared by its stores). Thread safety:
 * every slot may be called from any thread (one lock, recursive so that a for_each_suspended
 * visitor may release the continuation it is visiting); guard_lookup is async-signal-safe and
 * takes no lock. */
typedef struct weft_contstacks_iface {
  WEFT_ABI_HEADER;
  /* cont.new: a Fresh continuation over funcref `f` whose type has nparams/nresults, run with
   * `caller_vmctx` as the array-call caller. *out is owned by the plugin: it stays valid (type
   * stable) until fini; the stack is recycled when the continuation returns or traps, or by
   * cont_release. Errors (d filled): WEFT_ERR_MISUSE for a NULL f ("null function reference"),
   * WEFT_ERR_LIMIT when the arity's payload cannot fit the stack or max_continuations is reached,
   * WEFT_ERR_NOMEM when memory or address space ran out. since 1.0 */
  int (*cont_new)(void *st, void *caller_vmctx, const weft_funcref *f, uint32_t nparams,
                  uint32_t nresults, weft_contref **out, weft_diag *d);
  /* Give a continuation that is FRESH, SUSPENDED, RETURNED or TRAPPED back to the pool (the gc
   * plugin calls this for unreachable ones). Bumps the revision, so any copy of the reference is
   * stale. Returns WEFT_ERR_MISUSE (and does nothing) for a RUNNING or PARENT one. since 1.0 */
  int (*cont_release)(void *st, weft_contref *c);
  /* Visit every continuation in state SUSPENDED that belongs to store context `store` (the store
   * of the vmctx that created it; NULL visits every store's). gc roots: walk each from its last
   * ancestor's control context (docs/STACK-SWITCHING.md §8). `visit` may cont_release the
   * continuation it is given, and no other. since 1.0 */
  void (*for_each_suspended)(void *st, const weft_store_ctx *store,
                             void (*visit)(void *ud, weft_contref *c), void *ud);
  /* Recycle the stacks of continuations that finished on this thread since the last call (cont_new
   * does this itself; the core calls it when leaving Wasm). since 1.0 */
  void (*collect)(void *st);
  /* True when `addr` lies in the guard page(s) of one of this plugin's stacks: the signal handler
   * reports such a fault as "call stack exhausted". Async-signal-safe. since 1.0 */
  bool (*guard_lookup)(void *st, uintptr_t addr);
  /* Would a continuation type with this arity fit the configured stack? WEFT_OK, or WEFT_ERR_LIMIT
   * with d filled naming the bytes needed and available (modules are refused at load). since 1.0 */
  int (*check_arity)(void *st, uint32_t nparams, uint32_t nresults, weft_diag *d);
  /* Counters; out->struct_size must be set by the caller. since 1.0 */
  void (*stats)(void *st, weft_contstacks_stats *out);
  /* The C-callable switch primitive (docs/STACK-SWITCHING.md §3): saves the current context into
   * *store, loads *load, delivers `effect`; returns the effect delivered when switched back to.
   * For host code and tests; generated code inlines the same sequence. since 1.0 */
  uint64_t (*stack_switch)(weft_control_ctx *store, const weft_control_ctx *load, uint64_t effect);
  /* ASan fiber annotations around the inline switches (docs/STACK-SWITCHING.md §9). Non-NULL only
   * when the plugin was built with WEFT_SANITIZE; generated code of a sanitizer build calls them:
   *   resume:  asan_before_resume(&slot, c) before the splice (c->last_ancestor still set), then
   *            asan_after_resume(slot) back at the resume site; `slot` is a frame slot;
   *   suspend: asan_before_suspend(a, la) after the handler search; asan_after_suspend(a) on waking;
   *   switch:  asan_before_switch(a, la, s) before s's chain is spliced (s->last_ancestor still
   *            set); asan_after_suspend(a) on waking.
   * The start trampoline and the plugin's own switches annotate themselves. since 1.0 */
  void (*asan_before_resume)(void **fake, const weft_contref *c);
  void (*asan_after_resume)(void *fake);
  void (*asan_before_suspend)(weft_contref *a, const weft_contref *la);
  void (*asan_before_switch)(weft_contref *a, const weft_contref *la, const weft_contref *s);
  void (*asan_after_suspend)(weft_contref *a);
  /* -- appended in 1.3 (part gcroots); callers check WEFT_HAS and NULL -- */
  /* Visit every continuation of store context `store` (NULL: every store's) that is not
   * recycled, whatever its state (the gc root scanner traces the FRESH and SUSPENDED ones as nodes
   * and releases the unreachable ones), under the plugin lock; `visit` may cont_release the
   * continuation it is given, and no other. since 1.3 */
  void (*for_each_cont)(void *st, const weft_store_ctx *store,
                        void (*visit)(void *ud, weft_contref *c), void *ud);
  /* Whether `c` is a continuation object of this plugin state, made for `store` unless it was
   * recycled (then any use of it traps "continuation already consumed"): the core checks every
   * non-null continuation reference the embedder hands it (arguments, globals, tables) before
   * generated code dereferences it. since 1.4 */
  bool (*owns)(void *st, const weft_store_ctx *store, const weft_contref *c);
  /* -- appended in 1.5 -- */
  /* The address of this state's count of live continuations (what max_continuations limits),
   * updated with relaxed atomic stores and valid until fini: the core reads it at every cont.new
   * and runs a collection when it has doubled since the last one, since continuation stacks are
   * no heap pressure the gc plugin sees (docs/STACK-SWITCHING.md §8). since 1.5 */
  const uint64_t *(*live_count)(void *st);
} weft_contstacks_iface;

#endif /* WEFT_PLUGIN_CONTSTACKS_H */
