/* include/weft/vm.h -- runtime structures shared by the core, the plugins and generated code (ABI).
 * Generated code depends on nothing but this file: every offset it uses is fixed here, checked by
 * _Static_assert, or computed by weft_vmctx_layout_compute() from the module's counts, which the core
 * and the codegen both call, so they agree without passing tables around.
 * Depends on: module.h (counts), errors.h (trap codes).
 */
#ifndef WEFT_VM_H
#define WEFT_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/errors.h"
#include "weft/module.h"

#ifdef __cplusplus
extern "C" {
#endif

/* -- Values ---------------------------------------------------------------------------------- */

/* One slot of the array-call ABI: 16 bytes, little-endian, whatever the type.
 * References are pointers (NULL is null). A continuation reference is {contref, revision}. */
typedef union weft_val_raw {
  int32_t i32;
  int64_t i64;
  uint32_t f32; /* raw bits */
  uint64_t f64; /* raw bits */
  uint8_t v128[16];
  void *ref;
  struct {
    void *contref;
    uint64_t revision;
  } cont;
} weft_val_raw;
_Static_assert(sizeof(weft_val_raw) == 16, "weft_val_raw is one 16-byte slot");

/* The array-call ABI: params in slots [0, nparams), results written from slot 0; n = max(params,
 * results). Returns false when a trap or exception is pending in the store context. */
typedef bool (*weft_array_call_fn)(void *callee_vmctx, void *caller_vmctx, weft_val_raw *args_results,
                                   size_t n);

/* A function reference (the value of a funcref). Stable address for the life of its store. */
typedef struct weft_funcref {
  weft_array_call_fn array_call; /* @0 */
  void *wasm_call;               /* @8  native entry (codegen's internal ABI); never NULL once the
                                         funcref is reachable from Wasm (the core fills holes) */
  uint32_t type_index;           /* @16 engine-wide canonical type id (weft_rtt.id) */
  uint32_t pad;
  void *vmctx;                   /* @24 callee vmctx: an instance vmctx or a host-func context */
} weft_funcref;
_Static_assert(sizeof(weft_funcref) == 32, "weft_funcref layout");
_Static_assert(offsetof(weft_funcref, wasm_call) == 8, "weft_funcref layout");
_Static_assert(offsetof(weft_funcref, type_index) == 16, "weft_funcref layout");
_Static_assert(offsetof(weft_funcref, vmctx) == 24, "weft_funcref layout");

/* -- Memories, tables, globals, tags --------------------------------------------------------- */

typedef struct weft_vm_memory {
  uint8_t *base;   /* @0 */
  uint64_t length; /* @8 current size in bytes */
} weft_vm_memory;
_Static_assert(sizeof(weft_vm_memory) == 16, "weft_vm_memory layout");

typedef struct weft_vm_table {
  uint8_t *base;      /* @0  elements, elem_size bytes each */
  uint64_t size;      /* @8  current number of elements */
  uint32_t elem_size; /* @16 8 for pointer-sized references, 16 for continuation references */
  uint32_t pad;
} weft_vm_table;
_Static_assert(sizeof(weft_vm_table) == 24, "weft_vm_table layout");

typedef struct weft_vm_global {
  weft_val_raw value; /* @0 */
} weft_vm_global;

/* A tag's identity is its address. */
typedef struct weft_vm_tag {
  uint32_t type_index; /* canonical id of the tag's function type */
  uint32_t pad;
} weft_vm_tag;

/* -- Store context and stack chain ------------------------------------------------------------ */

/* The four words that entering Wasm or switching stacks changes together (Wasmtime #13298: swap
 * all four, always). */
typedef struct weft_stack_limits {
  uintptr_t stack_limit;                  /* @0  the prologue check: trap if rsp < stack_limit */
  uintptr_t last_wasm_entry_fp;           /* @8  rbp of the innermost array-call entry frame */
  uintptr_t last_wasm_entry_sp;           /* @16 rsp to restore when unwinding to it */
  uintptr_t last_wasm_entry_trap_handler; /* @24 pc of its landing pad */
} weft_stack_limits;
_Static_assert(sizeof(weft_stack_limits) == 32, "weft_stack_limits layout");

typedef enum weft_chain_kind {
  WEFT_CHAIN_ABSENT = 0,
  WEFT_CHAIN_INITIAL_STACK = 1,
  WEFT_CHAIN_CONTINUATION = 2
} weft_chain_kind;

typedef struct weft_stack_chain {
  uintptr_t kind; /* weft_chain_kind */
  void *payload;  /* the common stack information of the stack (a contref begins with it) */
} weft_stack_chain;
_Static_assert(sizeof(weft_stack_chain) == 16, "weft_stack_chain layout");

/* Inline GC allocation (gc plugin + codegen). Region k hands out cells of (k + 1) * 16 bytes: the
 * generated code of struct.new and array.new* (objects up to 512 bytes) bumps `ptr` by the cell
 * size while ptr + cell <= end, writes the object's header and fields, and otherwise calls the
 * allocation libcall, which refills the region (and may collect). The gc heap of the store owns
 * the memory and writes ptr/end (weft_gc_iface.bind_regions); a heap that wants every allocation
 * to go through the libcall (no heap yet, stress mode, no support) leaves ptr == end == 0. Cells
 * between ptr and end are free: the heap knows the region's start and retires it before a
 * collection. */
#define WEFT_GC_NREGIONS 32u
#define WEFT_GC_REGION_CELL(k) (((uint32_t)(k) + 1u) * 16u)
typedef struct weft_gc_region {
  uintptr_t ptr; /* @0 next free cell */
  uintptr_t end; /* @8 end of the free run */
} weft_gc_region;
_Static_assert(sizeof(weft_gc_region) == 16, "weft_gc_region layout");

/* Per store. Every vmctx points to it. Only the fields above `core_private` are ABI.
 * Every host -> Wasm entry (core/entry.c) saves limits, the exit pc/fp and stack_chain, sets
 * stack_limit at the outermost entry, and restores them all when the call returns or traps. */
typedef struct weft_store_ctx {
  weft_stack_limits limits;      /* @0  live values for the running stack */
  uintptr_t last_wasm_exit_pc;   /* @32 set by wasm->host calls, for backtraces */
  uintptr_t last_wasm_exit_fp;   /* @40 */
  weft_stack_chain stack_chain;  /* @48 */
  uint32_t trap_code;            /* @64 pending trap (weft_trap_code), WEFT_TRAP_NONE if none */
  uint32_t pad;
  uintptr_t trap_pc;             /* @72 faulting pc of the pending trap, 0 if unknown */
  uintptr_t trap_fp;             /* @80 rbp at the trap */
  void *store;                   /* @88 the core's store (opaque to generated code) */
  void *pending_exn;             /* @96 the exception object (exnref) of a pending
                                         WEFT_TRAP_EXCEPTION that reached the entry, or NULL */
  void *exn_objects;             /* @104 the store's exception objects (core/exn.c's list) */
  uint64_t trap_elem;            /* @112 table index of a WEFT_TRAP_UNINITIALIZED_ELEMENT raised
                                         through the TRAP libcall (named in its message) */
  weft_gc_region gc_regions[WEFT_GC_NREGIONS]; /* @120 inline allocation (see weft_gc_region) */
  uint8_t core_private[];
} weft_store_ctx;
_Static_assert(offsetof(weft_store_ctx, last_wasm_exit_pc) == 32, "weft_store_ctx layout");
_Static_assert(offsetof(weft_store_ctx, stack_chain) == 48, "weft_store_ctx layout");
_Static_assert(offsetof(weft_store_ctx, trap_code) == 64, "weft_store_ctx layout");
_Static_assert(offsetof(weft_store_ctx, store) == 88, "weft_store_ctx layout");
_Static_assert(offsetof(weft_store_ctx, pending_exn) == 96, "weft_store_ctx layout");
_Static_assert(offsetof(weft_store_ctx, trap_elem) == 112, "weft_store_ctx layout");
_Static_assert(offsetof(weft_store_ctx, gc_regions) == 120, "weft_store_ctx layout");

/* -- Instance vmctx --------------------------------------------------------------------------- */

#define WEFT_VMCTX_MAGIC 0x7466656Du    /* "meft": an instance vmctx */
#define WEFT_HOSTCTX_MAGIC 0x74666568u  /* "heft": a host function's context */

/* Every vmctx starts with this header. The arrays that follow are placed by
 * weft_vmctx_layout_compute(). */
typedef struct weft_vmctx_header {
  uint32_t magic;            /* @0 */
  uint32_t pad;
  weft_store_ctx *store_ctx; /* @8 */
  void *instance;            /* @16 the core's instance (opaque) */
  void *reserved;            /* @24 */
} weft_vmctx_header;
_Static_assert(sizeof(weft_vmctx_header) == 32, "weft_vmctx_header layout");

/* Offsets (bytes from the vmctx start) of the per-instance arrays:
 *   funcs     weft_funcref *[nfuncs]     every function, imported or defined
 *   mems      weft_vm_memory *[nmems]
 *   tables    weft_vm_table *[ntables]
 *   globals   weft_vm_global *[nglobals] imported globals point into their owner
 *   tags      weft_vm_tag *[ntags]
 *   type_ids  uint32_t[ntypes]           canonical id per module type index
 *   rtts      const weft_rtt *[ntypes]
 *   own_funcs weft_funcref[nfuncs - nfunc_imports]  the funcrefs of defined functions
 *   own_mems, own_tables, own_globals, own_tags: storage for defined entities
 *   gc_types  const void *[ntypes]       the gc plugin's weft_gc_type of each struct/array type,
 *                                        NULL until the allocation libcall first meets the type
 *                                        (generated code takes the libcall while it is NULL) */
typedef struct weft_vmctx_layout {
  uint32_t funcs, mems, tables, globals, tags, type_ids, rtts;
  uint32_t own_funcs, own_mems, own_tables, own_globals, own_tags;
  uint32_t size;
  uint32_t gc_types; /* appended (part gcalloc) */
} weft_vmctx_layout;

static inline uint32_t weft_vmctx_align_(uint32_t x, uint32_t a) { return (x + a - 1) & ~(a - 1); }

/* Computes the vmctx layout of a module. Pure; the core and the codegen both call it. */
static inline void weft_vmctx_layout_compute(weft_vmctx_layout *l, const weft_module *m) {
  uint32_t o = (uint32_t)sizeof(weft_vmctx_header);
  l->funcs = o;     o += 8u * m->nfuncs;
  l->mems = o;      o += 8u * m->nmems;
  l->tables = o;    o += 8u * m->ntables;
  l->globals = o;   o += 8u * m->nglobals;
  l->tags = o;      o += 8u * m->ntags;
  l->rtts = o;      o += 8u * m->ntypes;
  l->type_ids = o;  o += 4u * m->ntypes;
  o = weft_vmctx_align_(o, 16);
  l->own_funcs = o;   o += (uint32_t)sizeof(weft_funcref) * (m->nfuncs - m->nfunc_imports);
  l->own_mems = o;    o += (uint32_t)sizeof(weft_vm_memory) * (m->nmems - m->nmem_imports);
  l->own_tables = o;  o += (uint32_t)sizeof(weft_vm_table) * (m->ntables - m->ntable_imports);
  o = weft_vmctx_align_(o, 16);
  l->own_globals = o; o += (uint32_t)sizeof(weft_vm_global) * (m->nglobals - m->nglobal_imports);
  l->own_tags = o;    o += (uint32_t)sizeof(weft_vm_tag) * (m->ntags - m->ntag_imports);
  o = weft_vmctx_align_(o, 8);
  l->gc_types = o;    o += 8u * m->ntypes;
  l->size = weft_vmctx_align_(o, 16);
}

/* -- Libcalls --------------------------------------------------------------------------------- */

/* Services generated code calls, by absolute address from host->libcall(id). System V ABI; the first
 * argument is always the caller's vmctx. Those marked "may trap" unwind to the innermost entry
 * themselves (they never return in that case). Order is ABI: append only.
 *   TRAP          void (vmctx, uint32_t trap_code)                           never returns
 *                 UNINITIALIZED_ELEMENT: the message names store_ctx->trap_elem
 *   RAISE         void (vmctx)  re-raise the pending trap/exception          never returns
 *   MEMORY_GROW   uint64_t (vmctx, uint32_t mem, uint64_t delta_pages)       old size or -1
 *   MEMORY_FILL   void (vmctx, uint32_t mem, uint64_t dst, uint32_t val, uint64_t len)    may trap
 *   MEMORY_COPY   void (vmctx, uint32_t dmem, uint32_t smem, uint64_t dst, uint64_t src, uint64_t len)
 *   MEMORY_INIT   void (vmctx, uint32_t mem, uint32_t data, uint64_t dst, uint32_t src, uint32_t len)
 *   DATA_DROP     void (vmctx, uint32_t data)
 *   TABLE_GROW    uint64_t (vmctx, uint32_t table, const weft_val_raw *init, uint64_t delta) old or -1
 *   TABLE_FILL    void (vmctx, uint32_t table, uint64_t dst, const weft_val_raw *val, uint64_t len)
 *   TABLE_COPY    void (vmctx, uint32_t dtab, uint32_t stab, uint64_t dst, uint64_t src, uint64_t len)
 *   TABLE_INIT    void (vmctx, uint32_t table, uint32_t elem, uint64_t dst, uint32_t src, uint32_t len)
 *   ELEM_DROP     void (vmctx, uint32_t elem)
 *   FUNC_SUBTYPE  uint32_t (vmctx, uint32_t actual_id, uint32_t expected_id)  1 if actual <: expected
 *   CONT_NEW      weft_contref *(vmctx, const weft_funcref *f, uint32_t nparams, uint32_t nresults)
 *                 a Fresh continuation from the contstacks plugin; the Wasm value is
 *                 {c, c->revision}. May trap: null f, max_continuations, out of memory
 *   THROW         void (vmctx, uint32_t tagidx, const uint64_t *payload, uintptr_t fp)  never returns
 *                 a new exception of module tag `tagidx` with the tag's params from payload[0..n),
 *                 thrown from the frame `fp` (the caller's rbp); core/exn.c
 *   THROW_REF     void (vmctx, void *exnref, uintptr_t fp)   rethrow; null traps  never returns
 *   CONT_NEW_REF, CONT_BIND, RESUME, SUSPEND, SWITCH, RESUME_THROW, RESUME_END, SUSPEND_END,
 *   SWITCH_END    the continuation instructions over the 16-byte {contref, revision} values of
 *                 generated code, around its inline switches; signatures in core/cont.h
 *   GC_STRUCT_NEW void *(vmctx, uint32_t typeidx, const uint64_t *fields)   struct.new(_default):
 *                 a struct of module type typeidx (gc plugin layout) with its fields from
 *                 fields[0..n) in 8-byte operand slots, or zeroed when fields is NULL. May trap
 *   GC_ARRAY_NEW  void *(vmctx, uint32_t typeidx, uint32_t len, const uint64_t *init)
 *                 array.new(_default): every element = *init, or zero when init is NULL. May trap
 *   GC_ARRAY_NEW_FIXED void *(vmctx, uint32_t typeidx, uint32_t n, const uint64_t *vals)  may trap
 *   GC_ARRAY_OP   void *(vmctx, uint32_t op, uint32_t a, uint32_t b, const uint64_t *operands)
 *                 array.fill/copy/init_data/init_elem/new_data/new_elem (op = weft_op, a and b
 *                 its immediates); returns the new array of new_data/new_elem. May trap
 *   GC_EXTERN_CONVERT void *(vmctx, void *ref, uint32_t to_any)  any.convert_extern (1) /
 *                 extern.convert_any (0); may trap (out of memory)
 */
#define WEFT_LIBCALL_LIST(X)                                                                       \
  X(TRAP) X(RAISE) X(MEMORY_GROW) X(MEMORY_FILL) X(MEMORY_COPY) X(MEMORY_INIT) X(DATA_DROP)         \
  X(TABLE_GROW) X(TABLE_FILL) X(TABLE_COPY) X(TABLE_INIT) X(ELEM_DROP) X(FUNC_SUBTYPE)         \
  X(CONT_NEW) X(THROW) X(THROW_REF) X(CONT_NEW_REF) X(CONT_BIND) X(RESUME) X(SUSPEND) X(SWITCH)     \
  X(RESUME_THROW) X(RESUME_END) X(SUSPEND_END) X(SWITCH_END)                                       \
  X(GC_STRUCT_NEW) X(GC_ARRAY_NEW) X(GC_ARRAY_NEW_FIXED) X(GC_ARRAY_OP) X(GC_EXTERN_CONVERT)

typedef enum weft_libcall_id {
#define WEFT_LIBCALL_ENUM(id) WEFT_LC_##id,
  WEFT_LIBCALL_LIST(WEFT_LIBCALL_ENUM)
#undef WEFT_LIBCALL_ENUM
  WEFT_LC_COUNT
} weft_libcall_id;

#define WEFT_WASM_PAGE_SIZE 65536u

/* -- Continuations (stack switching) ----------------------------------------------------------- */

/* The contract between the contstacks plugin, the codegen's inline switches, the backtrace walker
 * and the gc root scanner. Follows Wasmtime's VMContRef design (notes: stack-switching-wasmtime.md
 * §1) with weft's own layout. */

typedef enum weft_stack_state {
  WEFT_STACK_FRESH = 0,     /* made by cont.new, never run */
  WEFT_STACK_RUNNING = 1,   /* the head of the store's stack chain */
  WEFT_STACK_PARENT = 2,    /* in the chain, below a running child, waiting in a resume */
  WEFT_STACK_SUSPENDED = 3, /* cut off the chain by suspend / switch */
  WEFT_STACK_RETURNED = 4,  /* its function returned; the stack went back to the pool */
  WEFT_STACK_TRAPPED = 5    /* it trapped or an exception left it */
} weft_stack_state;

/* Tag addresses (weft_vm_tag *) a resume installed, suspend clauses first, then switch clauses.
 * The storage lives in the resumer's frame; valid only while the stack's state is PARENT. */
typedef struct weft_handler_list {
  uint32_t length;   /* @0 */
  uint32_t capacity; /* @4 */
  void **data;       /* @8 */
} weft_handler_list;

/* What every stack has, the initial stack (living in the entry frame) and each continuation. */
typedef struct weft_common_stack_info {
  weft_stack_limits limits;       /* @0  saved copy; stale while this stack is the running one */
  uint32_t state;                 /* @32 weft_stack_state */
  uint32_t first_switch_handler;  /* @36 index in handlers of the first (on $t switch) clause */
  weft_handler_list handlers;     /* @40 */
  uint64_t reserved;              /* @56 */
} weft_common_stack_info;
_Static_assert(sizeof(weft_common_stack_info) == 64, "weft_common_stack_info layout");

/* Saved machine context at the top of each continuation stack (stack_top - 24). While the stack or
 * one of its descendants runs, it holds the parent's resume point; while the stack is the last
 * ancestor of a suspended chain, it holds that chain's suspension point. rbp sits just below rip,
 * so a frame-pointer walk crosses from the child's bottom frame into the parent. */
typedef struct weft_control_ctx {
  uintptr_t rsp; /* @0 */
  uintptr_t rbp; /* @8 */
  uintptr_t rip; /* @16 */
} weft_control_ctx;
_Static_assert(sizeof(weft_control_ctx) == 24, "weft_control_ctx layout");

typedef struct weft_payloads {
  uint32_t length;     /* @0 */
  uint32_t capacity;   /* @4 */
  weft_val_raw *data;  /* @8 */
} weft_payloads;

/* A continuation object: stable address, type-stable memory (recycled only as another contref),
 * so a stale (contref, revision) pair only ever sees a newer revision. The Wasm value (ref $ct) is
 * weft_val_raw.cont = {contref, revision}. Fields after `values` are the contstacks plugin's own. */
typedef struct weft_contref {
  weft_common_stack_info csi;          /* @0   must stay first: the stack chain points here */
  weft_stack_chain parent_chain;       /* @64  ABSENT while suspended (end of a suspended chain) */
  struct weft_contref *last_ancestor;  /* @80  valid when FRESH/SUSPENDED; == self when FRESH */
  uint64_t revision;                   /* @88  bumped by every consuming instruction */
  uint8_t *stack_top;                  /* @96  highest address of the stack; the control context
                                                is at stack_top - sizeof(weft_control_ctx) */
  uint64_t stack_size;                 /* @104 usable bytes below stack_top */
  weft_payloads args;                  /* @112 cont.new / cont.bind args, then the results */
  weft_payloads values;                /* @128 suspend / resume / switch payloads */
} weft_contref;
_Static_assert(offsetof(weft_contref, parent_chain) == 64, "weft_contref layout");
_Static_assert(offsetof(weft_contref, revision) == 88, "weft_contref layout");
_Static_assert(offsetof(weft_contref, stack_top) == 96, "weft_contref layout");
_Static_assert(offsetof(weft_contref, args) == 112, "weft_contref layout");
_Static_assert(offsetof(weft_contref, values) == 128, "weft_contref layout");

static inline weft_control_ctx *weft_contref_cc(const weft_contref *c) {
  return (weft_control_ctx *)(void *)(c->stack_top - sizeof(weft_control_ctx));
}

/* The handler search of suspend and switch (docs/STACK-SWITCHING.md §4), over the clauses of each
 * parent in the running chain, innermost first, up to the initial stack (a host frame's entry
 * installs a new initial stack, so host frames are barriers): suspend clauses are
 * [0, first_switch_handler), switch clauses [first_switch_handler, length). On a hit, *out_la is
 * the child of the handling stack in the chain and *out_idx the clause index. The C form of what
 * x64-codegen emits inline; core/cont.c and contstacks' reference protocol (cs_ref.c) use it. */
static inline bool weft_find_handler(const weft_store_ctx *ctx, const void *tag, bool want_switch,
                                     weft_contref **out_la, uint32_t *out_idx) {
  weft_stack_chain link = ctx->stack_chain;
  while (link.kind == WEFT_CHAIN_CONTINUATION) {
    weft_contref *c = (weft_contref *)link.payload;
    weft_stack_chain p = c->parent_chain;
    const weft_common_stack_info *csi = (const weft_common_stack_info *)p.payload;
    if (csi == NULL) return false;
    uint32_t len = csi->handlers.length;
    uint32_t split = csi->first_switch_handler < len ? csi->first_switch_handler : len;
    uint32_t lo = want_switch ? split : 0, hi = want_switch ? len : split;
    for (uint32_t i = lo; i < hi; i++)
      if (csi->handlers.data[i] == tag) {
        *out_la = c;
        *out_idx = i;
        return true;
      }
    link = p;
  }
  return false;
}


#ifdef __cplusplus
}
#endif
#endif /* WEFT_VM_H */
