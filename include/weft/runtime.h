/* include/weft/runtime.h -- the embedding API for running Wasm (DESIGN §11): stores, modules,
 * linkers, instances, values, funcs, globals, tables, memories, tags, traps. As in Wasmtime's C API,
 * externs are 16-byte values naming an object of a store, which owns them all until it is freed.
 * A status (misuse: nothing ran), a trap (an object) and success stay apart. Code: core/store.c ...
 * Depends on: errors.h, module.h (valtypes, the decoded IR), vm.h (weft_val_raw, weft_funcref).
 */
#ifndef WEFT_RUNTIME_H
#define WEFT_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/errors.h"
#include "weft/module.h"
#include "weft/vm.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef WEFT_API
#define WEFT_API __attribute__((visibility("default")))
#endif

/* Rules for every declaration below unless it says otherwise:
 *   Threads: a call that takes a store, or an instance, linker, caller or handle of one, may run on
 *            one thread at a time per store (distinct stores are independent); module and trap
 *            functions may run on any thread.
 *   Ownership: objects reached through a store (instances, handles, host funcs, the arrays that
 *            describe their types) belong to the store and live until weft_store_free; modules,
 *            linkers and traps belong to the caller, who frees them with their _free function.
 *   Errors: statuses are weft_status values (errors.h); handles of another store, NULLs and wrong
 *            kinds give WEFT_ERR_MISUSE, never a crash. */

/* The engine (plugins + config) is declared by the engine API; only its tag is needed here. */
struct weft_engine;

/* -- Opaque objects -------------------------------------------------------------------------- */

/* A store owns every runtime object (instances, memories, tables, globals, host funcs). A store and
 * everything in it may be used by one thread at a time; distinct stores are independent. */
typedef struct weft_store weft_store_t;
/* A compiled module (decoded, validated, compiled). Immutable and reference-counted: it may be shared
 * by any number of stores and threads; instances keep it alive after weft_module_free. */
typedef struct weft_cmodule weft_module_t;
/* An instance: owned by its store, valid until the store is freed. */
typedef struct weft_instance weft_instance_t;
/* A linker: a name -> extern map bound to one store. Owned by the caller (weft_linker_free). */
typedef struct weft_linker weft_linker_t;
/* A trap: owned by whoever received it; free with weft_trap_free. Independent of any store. */
typedef struct weft_trap weft_trap_t;
/* The calling context handed to a host function (valid only during the call). */
typedef struct weft_caller weft_caller_t;

/* -- Handles: plain values naming an object inside a store ---------------------------------- */

/* A function: {store_id, funcref}. ref == NULL is the null funcref. Using a handle with a store other
 * than its own is an error (WEFT_ERR_MISUSE), never a crash. */
typedef struct weft_func_t {
  uint64_t store_id;
  weft_funcref *ref;
} weft_func_t;

typedef struct weft_global_t {
  uint64_t store_id;
  struct core_global *obj;
} weft_global_t;

typedef struct weft_table_t {
  uint64_t store_id;
  struct core_table *obj;
} weft_table_t;

typedef struct weft_memory_t {
  uint64_t store_id;
  struct core_memory *obj;
} weft_memory_t;

/* A tag's identity is the address of its weft_vm_tag. */
typedef struct weft_tag_t {
  uint64_t store_id;
  struct core_tag *obj;
} weft_tag_t;

_Static_assert(sizeof(weft_func_t) == 16, "weft_func_t is a 16-byte value");
_Static_assert(sizeof(weft_global_t) == 16 && sizeof(weft_table_t) == 16, "handle layout");
_Static_assert(sizeof(weft_memory_t) == 16 && sizeof(weft_tag_t) == 16, "handle layout");

/* An extern: one of the above, tagged with a weft_extern_kind (module.h). */
typedef struct weft_extern_t {
  uint32_t kind; /* weft_extern_kind: WEFT_EXTERN_FUNC, _TABLE, _MEMORY, _GLOBAL, _TAG */
  uint32_t pad;
  union {
    weft_func_t func;
    weft_global_t global;
    weft_table_t table;
    weft_memory_t memory;
    weft_tag_t tag;
  } of;
} weft_extern_t;
_Static_assert(sizeof(weft_extern_t) == 24, "weft_extern_t layout");
_Static_assert(offsetof(weft_extern_t, of) == 8, "weft_extern_t layout");

/* -- Values ---------------------------------------------------------------------------------- */

typedef enum weft_valkind {
  WEFT_VAL_I32 = 0,
  WEFT_VAL_I64 = 1,
  WEFT_VAL_F32 = 2,
  WEFT_VAL_F64 = 3,
  WEFT_VAL_V128 = 4,
  WEFT_VAL_FUNCREF = 5,   /* of.funcref; any (ref null? <func heap type>) */
  WEFT_VAL_EXTERNREF = 6, /* of.ref: a host pointer, NULL is null */
  WEFT_VAL_ANYREF = 7,    /* of.ref: a GC-heap reference (any/eq/i31/struct/array/none) */
  WEFT_VAL_EXNREF = 8,    /* of.ref: an exception object */
  WEFT_VAL_CONTREF = 9    /* of.cont: {contref, revision}; contref NULL is null */
} weft_valkind;

/* A typed value of the embedding API. */
typedef struct weft_val_t {
  uint32_t kind; /* weft_valkind */
  uint32_t pad;
  union {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    uint8_t v128[16];
    weft_func_t funcref;
    void *ref;
    struct {
      void *contref;
      uint64_t revision;
    } cont;
  } of;
} weft_val_t;
_Static_assert(sizeof(weft_val_t) == 24, "weft_val_t layout");
_Static_assert(offsetof(weft_val_t, of) == 8, "weft_val_t layout");

/* The value kind that carries values of `t` (a valtype of module.h). */
WEFT_API weft_valkind weft_valtype_kind(weft_valtype t);

/* -- Store ----------------------------------------------------------------------------------- */

/* A new, empty store on `engine` (which must outlive it). NULL when out of memory.
 * Thread-safe (any thread may create stores). */
WEFT_API weft_store_t *weft_store_new(struct weft_engine *engine);
/* Frees the store and everything it owns (instances, memories, tables, globals, host funcs, whose
 * finalizers run now). NULL is ignored. Must not be called while Wasm of this store runs. */
WEFT_API void weft_store_free(weft_store_t *store);
/* The store's unique id (never 0), as held by its handles. */
WEFT_API uint64_t weft_store_id(const weft_store_t *store);
/* The engine the store was created on. */
WEFT_API struct weft_engine *weft_store_engine(const weft_store_t *store);

/* -- Module ---------------------------------------------------------------------------------- */

/* Decodes, checks features, validates and compiles `bytes` (copied; the caller keeps them).
 * Returns WEFT_OK with *out_module set (free with weft_module_free), or a status with *err filled
 * (WEFT_ERR_MALFORMED / WEFT_ERR_INVALID with the spec's wording, WEFT_ERR_UNSUPPORTED naming the
 * feature, WEFT_ERR_NOMEM). `err` may be NULL. Thread-safe. */
WEFT_API int weft_module_new(struct weft_engine *engine, const uint8_t *bytes, size_t len,
                             weft_module_t **out_module, weft_error *err);
/* Drops the caller's reference; instances made from it keep it alive. NULL is ignored. */
WEFT_API void weft_module_free(weft_module_t *module);
/* The decoded IR (module.h), valid while the module lives. Thread-safe (immutable). */
WEFT_API const struct weft_module *weft_module_ir(const weft_module_t *module);

/* One import or export of a module. Strings point into the module (valid while it lives); they are
 * NUL-terminated, and *_len gives the byte length (names may contain NUL). */
typedef struct weft_module_item_t {
  const char *module; /* imports only; NULL for exports */
  uint32_t module_len;
  const char *name;
  uint32_t name_len;
  uint32_t kind;  /* weft_extern_kind */
  uint32_t index; /* in the kind's index space of the module */
} weft_module_item_t;

WEFT_API uint32_t weft_module_import_count(const weft_module_t *module);
/* WEFT_OK, or WEFT_ERR_MISUSE when i is out of range. */
WEFT_API int weft_module_import_get(const weft_module_t *module, uint32_t i, weft_module_item_t *out);
WEFT_API uint32_t weft_module_export_count(const weft_module_t *module);
WEFT_API int weft_module_export_get(const weft_module_t *module, uint32_t i, weft_module_item_t *out);

/* -- Traps ----------------------------------------------------------------------------------- */

typedef enum weft_trap_kind {
  WEFT_TRAPKIND_TRAP = 0,      /* a Wasm trap; weft_trap_code() gives the weft_trap_code */
  WEFT_TRAPKIND_HOST = 1,      /* a host function failed; message is the host's */
  WEFT_TRAPKIND_EXCEPTION = 2, /* an uncaught Wasm exception */
  WEFT_TRAPKIND_EXIT = 3       /* a request to exit (WASI proc_exit); weft_trap_exit_status() */
} weft_trap_kind;

/* A host trap carrying `message` (copied), for a host function to return. NULL when out of memory.
 * Thread-safe. */
WEFT_API weft_trap_t *weft_trap_new(const char *message);
/* A trap that asks the embedder to exit with `status` (kind WEFT_TRAPKIND_EXIT). */
WEFT_API weft_trap_t *weft_trap_new_exit(int status);
WEFT_API void weft_trap_free(weft_trap_t *trap);
WEFT_API weft_trap_kind weft_trap_kind_of(const weft_trap_t *trap);
/* The weft_trap_code (WEFT_TRAP_HOST for host traps, WEFT_TRAP_EXIT for exits). */
WEFT_API int weft_trap_get_code(const weft_trap_t *trap);
/* One line: the spec's message for Wasm traps ("integer divide by zero"), the host's otherwise.
 * Owned by the trap. */
WEFT_API const char *weft_trap_message(const weft_trap_t *trap);
/* The exit status of a WEFT_TRAPKIND_EXIT trap, 0 otherwise. */
WEFT_API int weft_trap_exit_status(const weft_trap_t *trap);
/* The exception object (an exnref, as weft_val_t.of.ref) of a WEFT_TRAPKIND_EXCEPTION trap, NULL
 * otherwise, and NULL once the store it came from was freed. Belongs to that store; once asked
 * for, it stays valid while the store lives (no collection frees it). */
WEFT_API void *weft_trap_exnref(const weft_trap_t *trap);
/* The module byte offset of the trapping instruction, or UINT64_MAX when unknown. */
WEFT_API uint64_t weft_trap_wasm_offset(const weft_trap_t *trap);

/* The trap's Wasm frames, innermost first (i = 0 is where it trapped), captured by the backtrace
 * plugin; a trap carries none when that plugin is not loaded, for exits, and for traps made by
 * weft_trap_new until they pass through Wasm. Everything belongs to the trap. Out-of-range `i`
 * gives UINT32_MAX / NULL / UINT64_MAX / WEFT_CHAIN_ABSENT / WEFT_BOUNDARY_NONE. */
typedef enum weft_trap_boundary {
  WEFT_BOUNDARY_NONE = 0,         /* frame i is called by frame i - 1's caller chain as usual */
  WEFT_BOUNDARY_CONTINUATION = 1, /* frame i is a resume site: frames before it ran on a
                                     continuation that frame i resumed */
  WEFT_BOUNDARY_HOST = 2          /* host frames lie between frame i - 1 and frame i (an older
                                     activation that called the host, which re-entered Wasm) */
} weft_trap_boundary;
WEFT_API size_t weft_trap_frame_count(const weft_trap_t *trap);
/* The module function index of frame i. */
WEFT_API uint32_t weft_trap_frame_func_index(const weft_trap_t *trap, size_t i);
/* "<module>!<func>" from the name section; "<unknown>" and "wasm-function[N]" stand in for
 * missing names. */
WEFT_API const char *weft_trap_frame_func_name(const weft_trap_t *trap, size_t i);
/* The module byte offset of frame i's instruction (the trapping one, or the call), or UINT64_MAX. */
WEFT_API uint64_t weft_trap_frame_module_offset(const weft_trap_t *trap, size_t i);
/* The kind of stack frame i ran on: WEFT_CHAIN_INITIAL_STACK or WEFT_CHAIN_CONTINUATION (vm.h). */
WEFT_API uint32_t weft_trap_frame_stack_kind(const weft_trap_t *trap, size_t i);
/* What lies between frame i - 1 and frame i (weft_trap_boundary). */
WEFT_API uint32_t weft_trap_frame_boundary(const weft_trap_t *trap, size_t i);
/* True when the frames stop short of the outermost one: [backtrace] max_frames cut them, or a
 * corrupt frame pointer ended the walk. */
WEFT_API bool weft_trap_frames_truncated(const weft_trap_t *trap);

/* -- Instances and linking ------------------------------------------------------------------- */

/* Instantiates `module` in `store` with `imports` given in the module's import order.
 * Outcomes: a status with *err filled (a link error: "unknown import", "incompatible import type";
 * nothing was created), or WEFT_OK with either *out_trap set (instantiation trapped: a segment out
 * of bounds or the start function trapped; *out_instance is NULL, but writes to imported memories and
 * tables stay, as the spec says), or *out_instance set (owned by the store). `err` may be NULL;
 * `out_trap` must not be. */
WEFT_API int weft_instance_new(weft_store_t *store, const weft_module_t *module,
                               const weft_extern_t *imports, size_t nimports,
                               weft_instance_t **out_instance, weft_trap_t **out_trap,
                               weft_error *err);
/* Looks up export `name` (NUL-terminated / with an explicit length). WEFT_OK, or WEFT_ERR_LINK when
 * there is no such export. */
WEFT_API int weft_instance_export(weft_instance_t *instance, const char *name, weft_extern_t *out);
WEFT_API int weft_instance_export_n(weft_instance_t *instance, const char *name, size_t len,
                                    weft_extern_t *out);
/* The module the instance was made from (borrowed; lives as long as the instance). */
WEFT_API const weft_module_t *weft_instance_module(const weft_instance_t *instance);

/* A linker for `store` (which must outlive it). NULL when out of memory. */
WEFT_API weft_linker_t *weft_linker_new(weft_store_t *store);
WEFT_API void weft_linker_free(weft_linker_t *linker);
/* Defines module.name as `item`. WEFT_ERR_LINK if already defined (unless allow_shadowing was set),
 * WEFT_ERR_MISUSE for a handle of another store. */
WEFT_API int weft_linker_define(weft_linker_t *linker, const char *module, const char *name,
                                const weft_extern_t *item);
/* With explicit lengths (names may contain NUL). */
WEFT_API int weft_linker_define_n(weft_linker_t *linker, const char *module, size_t module_len,
                                  const char *name, size_t name_len, const weft_extern_t *item);
/* Later definitions replace earlier ones (the wast `register` behaviour). Default: false. */
WEFT_API void weft_linker_allow_shadowing(weft_linker_t *linker, bool allow);
/* Defines every export of `instance` under module name `module` (the wast `register` command). */
WEFT_API int weft_linker_define_instance(weft_linker_t *linker, const char *module,
                                         weft_instance_t *instance);
/* Resolves the module's imports by module and name (with type checks), then weft_instance_new.
 * Link errors: unknown import "m" "n"; incompatible import type "m" "n" (spec prefixes). */
WEFT_API int weft_linker_instantiate(weft_linker_t *linker, const weft_module_t *module,
                                     weft_instance_t **out_instance, weft_trap_t **out_trap,
                                     weft_error *err);
/* Looks up module.name. WEFT_OK or WEFT_ERR_LINK. */
WEFT_API int weft_linker_get(weft_linker_t *linker, const char *module, const char *name,
                             weft_extern_t *out);

/* -- Functions ------------------------------------------------------------------------------- */

/* The function's signature. The arrays belong to the function's module (or host func) and live as
 * long as the store. Concrete heap types in them are indices of that module's type space.
 * WEFT_OK, or WEFT_ERR_MISUSE (null func, other store). */
WEFT_API int weft_func_get_type(weft_store_t *store, weft_func_t func, uint32_t *out_nparams,
                            const weft_valtype **out_params, uint32_t *out_nresults,
                            const weft_valtype **out_results);

/* Calls `func`. Checks the store, arity and argument types (with subtyping), then runs it.
 * Reference arguments must be what this store made: a funcref of the store, an anyref that is an
 * i31 or an object of the store's heap fitting the parameter type, an exnref of the store, a
 * contref of the store's continuations (globals, tables and host function results are checked
 * the same way); anything else is misuse (generated code would dereference it).
 * Returns WEFT_ERR_MISUSE (nothing ran, *trap set to NULL) on misuse; otherwise WEFT_OK with *trap
 * NULL and the results written, or *trap set (free with weft_trap_free) and results untouched.
 * The store stays usable after a trap. `trap` must not be NULL. Not reentrant across threads. */
WEFT_API int weft_func_call(weft_store_t *store, weft_func_t func, const weft_val_t *args,
                            size_t nargs, weft_val_t *results, size_t nresults, weft_trap_t **trap);
/* Calls with one raw slot array of length n >= max(params, results): params from slot 0, results
 * written from slot 0. Only the store and n are checked; argument types are the caller's duty. */
WEFT_API int weft_func_call_unchecked(weft_store_t *store, weft_func_t func, weft_val_raw *slots,
                                      size_t n, weft_trap_t **trap);

/* A host function's callback. Reads nargs params, writes nresults results. Returns NULL on success,
 * or a trap (weft_trap_new("message")) that Wasm sees as a trap carrying that message; ownership of
 * the trap passes to the runtime. */
typedef weft_trap_t *(*weft_host_callback)(void *env, weft_caller_t *caller, const weft_val_t *args,
                                           size_t nargs, weft_val_t *results, size_t nresults);
/* Creates a host function of type params -> results (abstract heap types only) in `store`.
 * `finalizer(env)` (may be NULL) runs when the store is freed. WEFT_OK, WEFT_ERR_MISUSE for a
 * concrete heap type, WEFT_ERR_NOMEM. The types are copied. */
WEFT_API int weft_func_new(weft_store_t *store, const weft_valtype *params, uint32_t nparams,
                           const weft_valtype *results, uint32_t nresults, weft_host_callback cb,
                           void *env, void (*finalizer)(void *env), weft_func_t *out);

/* The store of the calling Wasm code. */
WEFT_API weft_store_t *weft_caller_store(weft_caller_t *caller);
/* Export `name` of the calling instance (e.g. its memory, for WASI). WEFT_OK or WEFT_ERR_LINK (also
 * when the caller is the host, not an instance). */
WEFT_API int weft_caller_export(weft_caller_t *caller, const char *name, weft_extern_t *out);

/* -- Globals --------------------------------------------------------------------------------- */

/* A new global of type `type` (abstract heap types only) with value *init. */
WEFT_API int weft_global_new(weft_store_t *store, weft_valtype type, bool mut, const weft_val_t *init,
                             weft_global_t *out);
WEFT_API int weft_global_get(weft_store_t *store, weft_global_t g, weft_val_t *out);
/* WEFT_ERR_MISUSE for an immutable global or a value of the wrong kind. */
WEFT_API int weft_global_set(weft_store_t *store, weft_global_t g, const weft_val_t *val);
WEFT_API int weft_global_get_type(weft_store_t *store, weft_global_t g, weft_valtype *out_type,
                              bool *out_mut);

/* -- Tables ---------------------------------------------------------------------------------- */

/* A new table of reference type `elem` (abstract heap types only), min..max elements (has_max), all
 * set to *init (NULL: null). */
WEFT_API int weft_table_new(weft_store_t *store, weft_valtype elem, uint64_t min, bool has_max,
                            uint64_t max, const weft_val_t *init, weft_table_t *out);
/* The same from a full table type (module.h): type->limits.is64 makes a table64. */
WEFT_API int weft_table_new_typed(weft_store_t *store, const weft_table_type *type,
                                  const weft_val_t *init, weft_table_t *out);
WEFT_API uint64_t weft_table_size(weft_store_t *store, weft_table_t t);
/* The table's type; limits.min is its current size. Concrete heap types are indices of the defining
 * module. WEFT_OK or WEFT_ERR_MISUSE. */
WEFT_API int weft_table_get_type(weft_store_t *store, weft_table_t t, weft_table_type *out);
/* WEFT_ERR_MISUSE when idx is out of bounds (or other store, wrong kind). */
WEFT_API int weft_table_get(weft_store_t *store, weft_table_t t, uint64_t idx, weft_val_t *out);
WEFT_API int weft_table_set(weft_store_t *store, weft_table_t t, uint64_t idx, const weft_val_t *val);
/* Grows by delta elements set to *init; *out_old (may be NULL) gets the old size. WEFT_ERR_LIMIT when
 * the table cannot grow. */
WEFT_API int weft_table_grow(weft_store_t *store, weft_table_t t, uint64_t delta,
                             const weft_val_t *init, uint64_t *out_old);

/* -- Tags ------------------------------------------------------------------------------------ */

/* A new tag (for exceptions or continuations) with parameter types params (abstract heap types
 * only). Its identity is its address: every tag made here is distinct, and it can be imported by any
 * tag import of the same type. WEFT_OK, WEFT_ERR_MISUSE, WEFT_ERR_NOMEM. */
WEFT_API int weft_tag_new(weft_store_t *store, const weft_valtype *params, uint32_t nparams,
                          weft_tag_t *out);
/* The tag's parameter types (owned by the store, or by the defining module for module tags). */
WEFT_API int weft_tag_get_type(weft_store_t *store, weft_tag_t tag, uint32_t *out_nparams,
                               const weft_valtype **out_params);

/* -- Memories -------------------------------------------------------------------------------- */

/* A new memory of min..max 64 KiB pages. is64: memory64. */
WEFT_API int weft_memory_new(weft_store_t *store, uint64_t min, bool has_max, uint64_t max, bool is64,
                             weft_memory_t *out);
/* The base address: valid until the memory grows. */
WEFT_API uint8_t *weft_memory_data(weft_store_t *store, weft_memory_t m);
/* The size in bytes. */
WEFT_API uint64_t weft_memory_data_size(weft_store_t *store, weft_memory_t m);
/* The memory's limits in pages; min is its current size. WEFT_OK or WEFT_ERR_MISUSE. */
WEFT_API int weft_memory_get_type(weft_store_t *store, weft_memory_t m, weft_limits *out);
/* The size in pages. */
WEFT_API uint64_t weft_memory_size(weft_store_t *store, weft_memory_t m);
/* Grows by delta pages; *out_old (may be NULL) gets the old size in pages. WEFT_ERR_LIMIT when the
 * memory cannot grow. */
WEFT_API int weft_memory_grow(weft_store_t *store, weft_memory_t m, uint64_t delta,
                              uint64_t *out_old);

/* -- Exceptions ------------------------------------------------------------------------------ */

/* Exception objects (exnref values, weft_val_t.of.ref / weft_val_raw.ref) belong to their store and
 * stay valid while it lives. Not thread-safe with respect to calls on the same store. */

/* A trap that, returned by a host function called from Wasm, throws a Wasm exception of `tag` with
 * payload[0..n) (raw slots, in the tag's parameter order) at the call site, where a try_table can
 * catch it; returned to the host it is a WEFT_TRAPKIND_EXCEPTION trap. n must equal the tag's
 * parameter count. The trap is owned by the caller until returned. NULL on misuse (wrong store,
 * wrong count) or out of memory. */
WEFT_API weft_trap_t *weft_trap_new_exception(weft_store_t *store, weft_tag_t tag,
                                             const weft_val_raw *payload, uint32_t n);
/* The tag of exception `exnref`. WEFT_OK, or WEFT_ERR_MISUSE (NULL, or the tag is not found in
 * this store). */
WEFT_API int weft_exn_get_tag(weft_store_t *store, const void *exnref, weft_tag_t *out_tag);
/* The payload of exception `exnref`: *out_n values at *out_vals (owned by the exception; 8
 * significant bytes per slot except v128). WEFT_OK or WEFT_ERR_MISUSE. */
WEFT_API int weft_exn_get_payload(const void *exnref, uint32_t *out_n, const weft_val_raw **out_vals);

/* -- Module statistics (part "perf") --------------------------------------------------------- */

/* Where weft_module_new spent its time, measured with CLOCK_MONOTONIC inside the call, and the
 * sizes involved. Filled for every module made by weft_module_new. */
typedef struct weft_module_stats_t {
  uint64_t decode_ns;          /* binary decoding and the [wasm] feature switches */
  uint64_t validate_ns;        /* the validator plugin and the plugin-availability check */
  uint64_t compile_ns;         /* the codegen plugin alone (0 when there was nothing to compile) */
  uint64_t register_ns;        /* code registry and backtrace names after compiling */
  uint64_t code_section_bytes; /* payload size of the binary's code section (id 10), 0 if none */
  uint64_t machine_code_bytes; /* size of the generated code, 0 if none */
  uint32_t ndefined_funcs;     /* functions with a body */
  uint32_t pad;
  /* The same three phases in CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID): on a loaded
   * machine the wall times above include waiting for a core. */
  uint64_t decode_cpu_ns, validate_cpu_ns, compile_cpu_ns;
} weft_module_stats_t;

/* Copies the statistics of `module` into *out. WEFT_OK, or WEFT_ERR_MISUSE when either is NULL.
 * Thread-safe (the statistics are immutable once the module exists). */
WEFT_API int weft_module_stats(const weft_module_t *module, weft_module_stats_t *out);

/* -- Host values in the any hierarchy (part "hostref") ----------------------------------------- */

/* A host value internalized into the any hierarchy, as any.convert_extern makes it: an externref
 * `ext` becomes an anyref (WEFT_VAL_ANYREF in *out). A plain host pointer is boxed in a new GC
 * object of the store's heap; a value that came out of any (extern.convert_any of a struct, array
 * or i31) converts back to itself; NULL gives the null anyref (WEFT_OK, even without the gc plugin).
 * Lifetime: the box is a GC object of the store. It stays valid while the store lives and the
 * collector can reach it: from Wasm globals, tables, exception payloads, running or suspended
 * frames, or, conservatively, from the calling thread's C stack (a weft_val_t argument array in a
 * local variable of the caller of weft_func_call is such a root). A host that keeps the value in
 * heap memory across a call that may allocate must keep it reachable from Wasm (a global or a
 * table), or it may be collected. Threads and ownership as for every store call above.
 * WEFT_OK; WEFT_ERR_MISUSE (store or out NULL); WEFT_ERR_UNSUPPORTED (no gc plugin is loaded);
 * WEFT_ERR_NOMEM (out of memory or the heap limit is reached). */
WEFT_API int weft_val_any_from_extern(weft_store_t *store, void *ext, weft_val_t *out);
/* Whether anyref `*any` is an internalized host value (what weft_val_any_from_extern or
 * any.convert_extern of a host pointer made): then *out_is_host = true and *out_ext = the host
 * pointer; otherwise (null, i31, struct, array, or not an object of this store's heap)
 * *out_is_host = false and *out_ext = NULL. Reads only; the value is not kept alive by this call.
 * WEFT_OK; WEFT_ERR_MISUSE (a NULL argument, or any->kind is not WEFT_VAL_ANYREF);
 * WEFT_ERR_UNSUPPORTED (a non-null anyref while no gc plugin is loaded). */
WEFT_API int weft_val_any_to_extern(weft_store_t *store, const weft_val_t *any, void **out_ext,
                                    bool *out_is_host);

/* -- Rooted handles and the store's GC heap (part "gcalloc", core/gchandles.c) ----------------- */

/* A rooted handle: a host-owned cell holding one weft_val_t that the collector treats as a root,
 * so an anyref, externref or exnref kept in it stays valid across every call that may collect
 * (any call into Wasm, weft_val_any_from_extern, weft_store_gc).
 *
 * Why: the heap is collected whenever an allocation runs out of budget. An anyref (or an externref
 * or exnref naming a GC object) that the host holds only in its own heap memory, e.g. a weft_val_t
 * saved in a struct between calls, is not a root: after any call that may collect, the object may
 * have been freed and its memory reused. (Host C frames above the Wasm entry are still scanned
 * conservatively today, so values in local variables of the calling thread happen to survive; do
 * not rely on it.) Root such values, and continuation references too (see weft_root_new).
 *
 * Lifetime: a handle is valid from weft_root_new until weft_root_free or until its store is freed
 * (weft_store_free frees every handle left; using one afterwards is undefined). The value it holds
 * is kept alive for exactly that long. Threads: as every store call (one thread at a time per
 * store). */
typedef struct weft_root weft_root_t;

/* A new handle of `store` holding a copy of *val (any kind). A contref in a handle keeps its
 * continuation alive: a suspended or fresh continuation that nothing else references (no global,
 * table, field, frame or handle) is released by the next collection, and resuming it afterwards
 * traps "continuation already consumed". Funcref and number values are held, not traced (they
 * need no collector). Owned by the caller (weft_root_free) or, at the latest, the store.
 * NULL on misuse (NULL argument, unknown kind) or out of memory. */
WEFT_API weft_root_t *weft_root_new(weft_store_t *store, const weft_val_t *val);
/* Copies the handle's value to *out. WEFT_OK or WEFT_ERR_MISUSE (a NULL argument). */
WEFT_API int weft_root_get(const weft_root_t *root, weft_val_t *out);
/* Replaces the handle's value (the old one is no longer kept alive). WEFT_OK or WEFT_ERR_MISUSE. */
WEFT_API int weft_root_set(weft_root_t *root, const weft_val_t *val);
/* Releases the handle; its value is no longer a root. NULL is ignored. Must not be called after the
 * handle's store was freed (the store freed it already). */
WEFT_API void weft_root_free(weft_root_t *root);

/* Collects the store's GC heap now (no-op collection when a nested host -> Wasm call is running:
 * the roots cannot all be found then). WEFT_OK; WEFT_ERR_MISUSE (NULL store);
 * WEFT_ERR_UNSUPPORTED (no gc plugin is loaded). */
WEFT_API int weft_store_gc(weft_store_t *store);

/* Counters of the store's GC heap. */
typedef struct weft_store_gc_stats_t {
  uint64_t collections;   /* collections so far */
  uint64_t live_bytes;    /* bytes of objects alive after the last collection plus allocated since */
  uint64_t live_objects;  /* the same in objects */
  uint64_t heap_bytes;    /* bytes the heap holds from the system */
  uint64_t freed_objects; /* objects freed by collections, in total */
  uint64_t roots;         /* live rooted handles (weft_root_t) of the store */
} weft_store_gc_stats_t;

/* Fills *out (zeroes on error). WEFT_OK; WEFT_ERR_MISUSE (a NULL argument); WEFT_ERR_UNSUPPORTED
 * (no gc plugin is loaded). Makes the store's heap if it has none yet. */
WEFT_API int weft_store_gc_stats(weft_store_t *store, weft_store_gc_stats_t *out);


#ifdef __cplusplus
}
#endif
#endif /* WEFT_RUNTIME_H */
