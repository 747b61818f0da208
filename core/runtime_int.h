/* core/runtime_int.h -- the runtime's internal structures: store, compiled module, instance, the
 * objects behind the API handles, and the functions the runtime files share (prefix core_rt_).
 * Used by core/{store,module,instance,linker,memory,table,global,func,trap,signals,registry,entry,
 * libcalls}.c. Depends on: weft/runtime.h, weft/vm.h, weft/plugin/codegen.h, core/engine.h.
 */
#ifndef WEFT_CORE_RUNTIME_INT_H
#define WEFT_CORE_RUNTIME_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/engine.h"
#include "weft/plugin/codegen.h"
#include "weft/runtime.h"
#include "weft/vm.h"

/* -- Small growable pointer list ---------------------------------------------------------------- */

typedef struct core_ptrvec {
  void **items;
  size_t n, cap;
} core_ptrvec;

int core_rt_vec_push(core_ptrvec *v, void *p); /* WEFT_OK or WEFT_ERR_NOMEM */
void core_rt_vec_free(core_ptrvec *v);

/* -- Objects behind the handles (owned by their store) --------------------------------------- */

/* A memory. `vm` points into the defining instance's vmctx (own_mems) or at `storage`. */
typedef struct core_memory {
  weft_vm_memory *vm;
  weft_vm_memory storage;
  weft_limits limits;   /* in pages; limits.min is the current declared minimum for matching */
  size_t reserved;      /* bytes of address space mapped at vm->base (PROT_NONE beyond length) */
} core_memory;

typedef struct core_table {
  weft_vm_table *vm;
  weft_vm_table storage;
  weft_table_type type;
  const weft_module *mod; /* the module whose type indices `type` uses; NULL for host tables */
  uint64_t capacity;      /* elements allocated at vm->base */
} core_table;

typedef struct core_global {
  weft_vm_global *vm;
  weft_vm_global storage;
  weft_global_type type;
  const weft_module *mod; /* type context, NULL for host globals */
} core_global;

typedef struct core_tag {
  weft_vm_tag *vm;
  weft_vm_tag storage;
  const weft_module *mod; /* type context; NULL for host tags */
  uint32_t type;          /* function type index in mod */
  const weft_rtt *rtt;    /* canonical type of a host tag (NULL without a type registry) */
  uint32_t nparams;       /* host tags: their parameter types (owned) */
  weft_valtype *params;
} core_tag;

/* A host function. Its funcref's vmctx points at `hdr` (magic WEFT_HOSTCTX_MAGIC). */
typedef struct core_hostfunc {
  weft_vmctx_header hdr;
  weft_funcref ref;
  weft_store_t *store;
  weft_host_callback cb;
  void *env;
  void (*finalizer)(void *env);
  uint32_t nparams, nresults;
  weft_valtype *params, *results;
  const weft_rtt *rtt;   /* canonical type, or NULL until linked against a module type */
  void *tramp;           /* a trampoline from core_engine_host_trampoline, released with the store */
} core_hostfunc;

/* -- Compiled module -------------------------------------------------------------------------- */

struct weft_cmodule {
  atomic_uint refs;
  struct weft_engine *engine;
  weft_module *ir;       /* from core_decode */
  weft_code_info *code;  /* from core_engine_compile; NULL when the codegen is absent */
  weft_module_stats_t stats; /* timings and sizes of weft_module_new (weft_module_stats) */
};

void core_rt_module_retain(const weft_module_t *m);

/* -- Instance --------------------------------------------------------------------------------- */

struct weft_instance {
  weft_store_t *store;
  weft_module_t *module;       /* one reference held */
  const weft_module *ir;
  uint8_t *vmctx;              /* 16-byte aligned, layout.size bytes */
  weft_vmctx_layout layout;
  core_memory **mems;          /* [ir->nmems] */
  core_table **tables;         /* [ir->ntables] */
  core_global **globals;       /* [ir->nglobals] */
  core_tag **tags;             /* [ir->ntags] */
  uint8_t *elem_dropped;       /* [ir->nelems] */
  uint8_t *data_dropped;       /* [ir->ndatas] */
};

static inline weft_funcref **core_rt_vm_funcs(weft_instance_t *i) {
  return (weft_funcref **)(void *)(i->vmctx + i->layout.funcs);
}

void core_rt_instance_destroy(weft_instance_t *inst);
void core_rt_hostfunc_destroy(core_hostfunc *h);

/* The instance of an instance vmctx (NULL if `vmctx` is not one). */
weft_instance_t *core_rt_instance_of(void *vmctx);

/* -- Store ------------------------------------------------------------------------------------ */

struct weft_store {
  uint64_t id;
  struct weft_engine *engine;
  weft_store_ctx *ctx;         /* every vmctx of this store points here */
  core_ptrvec instances, memories, tables, globals, tags, hostfuncs;
  /* canonical type id -> rtt of every type seen in this store (open addressing; key+1, 0 empty) */
  struct { uint32_t *keys; const weft_rtt **vals; size_t cap, n; } rtts;
  weft_trap_t *pending_trap;   /* a host function's trap, waiting to be returned by the entry */
  uint32_t entry_depth;        /* nested host -> Wasm entries on this store */
  /* cont.new's way to the contstacks plugin, looked up once when the store is made (core/cont.c):
   * the vtable slot (NULL without a plugin or slot), its state, and the diagnostic it fills */
  struct {
    int (*cont_new)(void *st, void *caller_vmctx, const weft_funcref *f, uint32_t nparams,
                    uint32_t nresults, weft_contref **out, weft_diag *d);
    void *state;
    weft_diag diag;
    /* the plugin's live-continuation count (NULL before ABI 1.5) and the count at which cont.new
     * first runs a collection */
    const uint64_t *live;
    uint64_t collect_at;
  } cont;
  /* exception objects on ctx->exn_objects, and the count at which a throw first runs a collection
   * (core/exn.c): they are the core's mallocs, so the gc plugin's heap pressure never sees them */
  struct {
    size_t live, collect_at;
    struct weft_trap *traps; /* traps holding one of them (core_exn_trap_attach) */
  } exn;
};

/* Records `rtt` (and its supertypes) under its id. WEFT_OK or WEFT_ERR_NOMEM. */
int core_rt_store_add_rtt(weft_store_t *s, const weft_rtt *rtt);
/* The rtt of canonical id `id` seen in this store, or NULL. */
const weft_rtt *core_rt_store_rtt(const weft_store_t *s, uint32_t id);
/* True when rtt a <: rtt b. */
bool core_rt_rtt_sub(const weft_rtt *a, const weft_rtt *b);

/* The store that `ctx` belongs to. */
static inline weft_store_t *core_rt_store_of_ctx(weft_store_ctx *ctx) {
  return (weft_store_t *)ctx->store;
}

/* -- Types ------------------------------------------------------------------------------------ */

/* Value-type matching across modules: t1 (in module m1) <: t2 (in module m2). A NULL module means
 * the type uses abstract heap types only. */
bool core_rt_valtype_sub(weft_valtype t1, const weft_module *m1, weft_valtype t2,
                         const weft_module *m2);
/* The signature of a funcref (from its instance or host function). false for NULL / unknown. */
bool core_rt_funcref_sig(const weft_funcref *f, uint32_t *np, const weft_valtype **p, uint32_t *nr,
                         const weft_valtype **r, const weft_module **mod);
/* The rtt of a funcref's type (NULL when not yet canonical: an unlinked host function). */
const weft_rtt *core_rt_funcref_rtt(const weft_funcref *f);

/* The canonical type of [params] -> [results] (abstract heap types only) as a final type alone in
 * its rec group, like a module's plain (type (func ...)); NULL without a registry or memory. */
const weft_rtt *core_rt_intern_func_type(weft_store_t *store, const weft_valtype *params,
                                         uint32_t nparams, const weft_valtype *results,
                                         uint32_t nresults);

/* -- Values ----------------------------------------------------------------------------------- */

/* Converts between API values and raw slots. val_to_raw checks the kind against `t` (in `mod`),
 * with subtyping for function references; returns WEFT_OK or WEFT_ERR_MISUSE. */
int core_rt_val_to_raw(weft_store_t *s, const weft_val_t *v, weft_valtype t, const weft_module *mod,
                       weft_val_raw *out);
void core_rt_raw_to_val(weft_store_t *s, const weft_val_raw *raw, weft_valtype t,
                        const weft_module *mod, weft_val_t *out);

/* -- Memories and tables (memory.c, table.c) -------------------------------------------------- */

/* A new memory object (not yet tracked by the store). WEFT_OK, WEFT_ERR_NOMEM, WEFT_ERR_LIMIT. */
int core_rt_memory_create(const weft_limits *limits, weft_vm_memory *vm, core_memory **out);
void core_rt_memory_destroy(core_memory *m);
/* Grows by delta pages: the old size in pages, or UINT64_MAX when it cannot. */
uint64_t core_rt_memory_grow(core_memory *m, uint64_t delta);

int core_rt_table_create(const weft_table_type *tt, const weft_module *mod, weft_vm_table *vm,
                         const weft_val_raw *init, core_table **out);
void core_rt_table_destroy(core_table *t);
uint64_t core_rt_table_grow(core_table *t, uint64_t delta, const weft_val_raw *init);
/* Element i as a raw value / set from one (no bounds check; the caller checks). */
void core_rt_table_read(const core_table *t, uint64_t i, weft_val_raw *out);
void core_rt_table_write(core_table *t, uint64_t i, const weft_val_raw *v);
/* The slot size of elements of reference type `t` (8, or 16 for continuation references). */
uint32_t core_rt_elem_size(weft_valtype t, const weft_module *mod);

/* -- Const expressions (instance.c) ----------------------------------------------------------- */

/* Evaluates a constant expression in `inst` (globals, funcs already set up). WEFT_OK or an error
 * with `d` filled (WEFT_ERR_UNSUPPORTED for GC allocations without a gc plugin). */
int core_rt_eval_const(weft_instance_t *inst, const weft_expr *e, weft_val_raw *out, weft_diag *d);

/* -- Traps and entry (trap.c, entry.c, signals.c, registry.c) -------------------------------- */

struct weft_trap {
  weft_trap_kind kind;
  int code;             /* weft_trap_code */
  int exit_status;
  uint64_t wasm_off;
  char *message;
  void *exn;            /* WEFT_TRAPKIND_EXCEPTION: the exception object, NULL once its store
                           was freed */
  struct weft_store *exn_store;            /* the store of exn, which lists this trap */
  struct weft_trap *exn_prev, *exn_next; /* that list (core_exn_trap_attach) */
  struct core_frames *frames; /* the backtrace (core/frames.c), or NULL */
};

weft_trap_t *core_rt_trap_make(weft_trap_kind kind, int code, const char *message);
/* False for the static out-of-memory trap, which must never be written. */
bool core_rt_trap_owned(const weft_trap_t *t);

/* Calls funcref `f` with raw slots through its array_call, with the entry state saved and restored
 * around it (the one place that does). Returns NULL on success or the trap. A trap that cannot be
 * allocated is returned as a static out-of-memory trap (never NULL on failure). */
weft_trap_t *core_rt_entry_call(weft_store_t *s, weft_funcref *f, weft_val_raw *slots, size_t n);

/* Unwinds from host code called by Wasm to the innermost entry's landing pad, with the pending
 * trap already recorded in ctx. Never returns. */
_Noreturn void core_rt_unwind(weft_store_ctx *ctx);
/* Records trap `code` in ctx and unwinds. Never returns. */
_Noreturn void core_rt_trap_raise(weft_store_ctx *ctx, uint32_t code);

/* The assembly helper (core/unwind.S): rsp = sp, rbp = fp, jump to pc. */
_Noreturn void core_rt_unwind_jump(uintptr_t sp, uintptr_t fp, uintptr_t pc);

/* Installs the fault handlers (once per process) and this thread's alternate signal stack. */
int core_rt_signals_ensure(void);
/* Puts the handlers back in front when something installed its own over them afterwards (a test
 * framework, an embedder); the displaced handlers become the ones faults outside Wasm chain to. */
int core_rt_signals_reinstall(void);
/* The store context of the Wasm running on this thread (set by the entry), or NULL. */
weft_store_ctx *core_rt_current_ctx(void);
void core_rt_set_current_ctx(weft_store_ctx *ctx);

/* The code registry: [code, code + code_size) of each compiled module with its trap sites. */
int core_rt_registry_add(const weft_code_info *ci);
void core_rt_registry_remove(const weft_code_info *ci);
/* Async-signal-safe: true when pc is inside registered code; *trap gets the trap code of the site
 * at pc (WEFT_TRAP_NONE when pc is not a site) and *wasm_off its module offset. */
bool core_rt_registry_lookup(uintptr_t pc, uint32_t *trap, uint32_t *wasm_off);

/* -- Host functions (func.c) ------------------------------------------------------------------ */

/* Gives a host funcref with no native entry one made by the codegen (no-op otherwise, and when no
 * codegen is loaded). Called whenever a host function becomes reachable from Wasm. */
void core_rt_hostfunc_ensure_entry(weft_funcref *f);
/* Fills the wasm_call hole of a host funcref with `tramp` when it has none. */
void core_rt_fill_hole(weft_funcref *f, void *tramp);

/* Drop/lookup helpers for the libcalls (instance.c). */
int core_rt_elem_item(weft_instance_t *inst, uint32_t elem, uint32_t i, weft_val_raw *out);

#endif /* WEFT_CORE_RUNTIME_INT_H */
