/* include/weft/plugin.h -- the plugin ABI: version header, descriptor, host API table.
 *
 * Every plugin is a shared object that exports exactly one symbol, weft_plugin_entry, which hands the
 * core a descriptor (weft_plugin_desc). The core hands the plugin a host API table (weft_host_api).
 * Plugins link nothing from the core; everything they need arrives through that table.
 * Depends on: the C library only. See docs/PLUGIN-ABI.md for what a new plugin must provide.
 *
 * Versioning (the SQLite VFS rule): every struct that crosses the boundary starts with WEFT_ABI_HEADER.
 * A minor bump only appends fields, each marked "since 1.N". Anything else is a major bump. The core
 * accepts a plugin whose major equals its own; the minor may be older or newer. A caller that uses a
 * slot added after 1.0 checks WEFT_HAS() and that the pointer is non-NULL first.
 */
#ifndef WEFT_PLUGIN_H
#define WEFT_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "weft/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

/* -- Versions -------------------------------------------------------------------------------- */

#define WEFT_ABI_MAJOR 1
#define WEFT_ABI_MINOR 5 /* 1.1: weft_plugin_desc.summary, weft_host_api.code_lookup;
                         * 1.2: weft_host_api.code_func, .walk_frames, .capture_trap;
                         * 1.3: weft_code_info stack maps, weft_gc_roots.cont_field/mark_more/
                         *      marked, weft_contstacks_iface.for_each_cont;
                         * 1.4: weft_gc_roots.foreign (exception objects traced as nodes),
                         *      weft_contstacks_iface.owns;
                         * 1.5: weft_contstacks_iface.live_count (cont.new collects under
                         *      pressure) */
#define WEFT_ABI_MAKE(major, minor) (((uint32_t)(major) << 16) | (uint32_t)(minor))
#define WEFT_ABI_VERSION WEFT_ABI_MAKE(WEFT_ABI_MAJOR, WEFT_ABI_MINOR)
#define WEFT_ABI_MAJOR_OF(v) ((uint32_t)(v) >> 16)
#define WEFT_ABI_MINOR_OF(v) ((uint32_t)(v) & 0xffffu)

/* The first two fields of every struct that crosses the core/plugin boundary. */
#define WEFT_ABI_HEADER                                                                            \
  uint32_t abi_version; /* (major << 16) | minor of the side that filled the struct */            \
  uint32_t struct_size  /* sizeof the struct as that side compiled it */

typedef struct weft_abi_header {
  WEFT_ABI_HEADER;
} weft_abi_header;

/* True when the struct *p (of type T) is long enough to contain FIELD. p may be NULL. */
#define WEFT_HAS(p, T, field)                                                                     \
  ((p) != NULL &&                                                                                  \
   (size_t)((const weft_abi_header *)(const void *)(p))->struct_size >=                            \
       offsetof(T, field) + sizeof(((T *)0)->field))

/* Initialiser for the header of a struct of type T built by this side. */
#define WEFT_ABI_INIT(T) .abi_version = WEFT_ABI_VERSION, .struct_size = (uint32_t)sizeof(T)

/* A signature of the ABI-relevant build flags. A plugin built with a different one is refused,
 * because e.g. a sanitizer build lays out nothing differently but an ASan core cannot host a
 * non-ASan stack-switching plugin safely (fiber annotations would be missing). */
#if defined(__SANITIZE_ADDRESS__)
#define WEFT_BUILD_SIG_ASAN "asan"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT_BUILD_SIG_ASAN "asan"
#endif
#endif
#ifndef WEFT_BUILD_SIG_ASAN
#define WEFT_BUILD_SIG_ASAN "noasan"
#endif
#define WEFT_BUILD_SIG "x86_64-linux-lp64/" WEFT_BUILD_SIG_ASAN

/* -- Plugin kinds ---------------------------------------------------------------------------- */

#define WEFT_PLUGIN_KINDS(X)                                                                      \
  X(VALIDATOR, "validator")                                                                        \
  X(CODEGEN, "codegen")                                                                            \
  X(CONTSTACKS, "contstacks")                                                                      \
  X(BACKTRACE, "backtrace")                                                                        \
  X(GC, "gc")

typedef enum weft_plugin_kind {
#define WEFT_KIND_ENUM(id, str) WEFT_PLUGIN_##id,
  WEFT_PLUGIN_KINDS(WEFT_KIND_ENUM)
#undef WEFT_KIND_ENUM
  WEFT_PLUGIN_KIND_COUNT
} weft_plugin_kind;

/* -- Diagnostics: weft_diag is defined in errors.h ---------------------------------------- */

typedef enum weft_log_level {
  WEFT_LOG_ERROR = 0,
  WEFT_LOG_WARN = 1,
  WEFT_LOG_INFO = 2,
  WEFT_LOG_DEBUG = 3
} weft_log_level;

/* -- Config keys a plugin declares ----------------------------------------------------------- */

typedef enum weft_cfg_type {
  WEFT_CFG_BOOL,   /* yes/no/true/false/on/off/1/0 */
  WEFT_CFG_INT,    /* signed decimal or 0x hex */
  WEFT_CFG_SIZE,   /* bytes, with optional K/M/G suffix (powers of 1024) */
  WEFT_CFG_STRING, /* any text */
  WEFT_CFG_ENUM    /* one of `choices`, a '|' separated list */
} weft_cfg_type;

typedef struct weft_cfg_key {
  const char *name;    /* key inside the plugin's section, e.g. "stack_size" */
  weft_cfg_type type;
  const char *def;     /* default, in the same text form as the ini file */
  const char *help;    /* one line */
  const char *choices; /* WEFT_CFG_ENUM only: "guard|explicit" */
} weft_cfg_key;

/* The effective values of one plugin section; opaque, read through the host table. */
typedef struct weft_plugin_cfg weft_plugin_cfg;

/* -- Host API table -------------------------------------------------------------------------- */

struct weft_module;           /* include/weft/module.h */
struct weft_code_info;        /* include/weft/plugin/codegen.h */
struct weft_frame_visitor;    /* include/weft/plugin/backtrace.h */
struct weft_activation;       /* include/weft/plugin/backtrace.h */
struct weft_contref;          /* include/weft/vm.h */
struct weft_store_ctx;        /* include/weft/vm.h */

/* The table the core hands to every plugin's init. It stays valid until the plugin's fini returns.
 * All slots of 1.0 are non-NULL. Slots are callable from any thread unless noted. */
typedef struct weft_host_api {
  WEFT_ABI_HEADER;
  void *host; /* the core's context; pass it back as the first argument of every slot */

  /* Memory. alloc/realloc return NULL on exhaustion (tests inject failures here). since 1.0 */
  void *(*alloc)(void *host, size_t size);
  void *(*realloc)(void *host, void *ptr, size_t size);
  void (*free)(void *host, void *ptr);

  /* Logging through the embedder's sink; never print directly. since 1.0 */
  void (*log)(void *host, weft_log_level level, const char *origin, const char *fmt, va_list ap);

  /* Fill a diagnostic: code, module offset (UINT64_MAX for none), origin, printf-style message.
   * Returns `code` so a plugin can write `return host->diag(...)`. since 1.0 */
  int (*diag)(void *host, weft_diag *d, int code, uint64_t offset, const char *origin,
              const char *fmt, va_list ap);

  /* Config lookups on a plugin's section. Keys must be ones the plugin declared; values were already
   * checked against the declared type when the config was loaded. Return 0, or WEFT_ERR_CONFIG for an
   * undeclared key. since 1.0 */
  int (*cfg_bool)(void *host, const weft_plugin_cfg *cfg, const char *key, bool *out);
  int (*cfg_int)(void *host, const weft_plugin_cfg *cfg, const char *key, int64_t *out);
  int (*cfg_size)(void *host, const weft_plugin_cfg *cfg, const char *key, uint64_t *out);
  int (*cfg_string)(void *host, const weft_plugin_cfg *cfg, const char *key, const char **out);

  /* Code memory, W^X: map `size` bytes writable (never executable), then publish them read+execute
   * (never writable again), then free. `*out_rw` receives the writable address; the executable
   * address is the same after publish. since 1.0 */
  int (*code_map)(void *host, size_t size, void **out_rw);
  int (*code_publish)(void *host, void *mem, size_t size);
  void (*code_unmap)(void *host, void *mem, size_t size);

  /* Address of a core or plugin service callable from generated code (weft_libcall ids, vm.h).
   * NULL when the service is not provided (e.g. no contstacks plugin). since 1.0 */
  void *(*libcall)(void *host, uint32_t id);

  /* -- end of 1.0 -- */

  /* Code-registry query: true when `pc` lies in compiled Wasm code of a live module. *out_trap gets
   * the weft_trap_code of the trap site at pc (WEFT_TRAP_NONE when pc is no site) and
   * *out_wasm_off its module byte offset (UINT32_MAX when unknown). Async-signal-safe; any thread.
   * Check WEFT_HAS(host, weft_host_api, code_lookup) first. since 1.1 */
  bool (*code_lookup)(void *host, uintptr_t pc, uint32_t *out_trap, uint32_t *out_wasm_off);

  /* -- end of 1.1 -- */

  /* Which Wasm function `pc` lies in: true when pc is inside a compiled function body (not a
   * trampoline) of a live module; *out_func gets the module function index, *out_wasm_off the module
   * byte offset of the instruction at pc (UINT32_MAX when unknown; pass a return address minus 1 to
   * get the call's offset), *out_module the module (valid while its code is registered). Any
   * out-pointer may be NULL. Not async-signal-safe (takes a lock); any thread.
   * Check WEFT_HAS(host, weft_host_api, code_func) first. since 1.2 */
  bool (*code_func)(void *host, uintptr_t pc, uint32_t *out_func, uint32_t *out_wasm_off,
                    const struct weft_module **out_module);
  /* The frame-walking service (the backtrace plugin's walker): walks activation `act` (and the
   * older ones linked from it) when `suspended` is NULL, else the suspended continuation
   * `suspended`. Returns the walk's status (weft/plugin/backtrace.h), or WEFT_ERR_UNSUPPORTED when
   * no backtrace plugin is loaded. Any thread, for stacks that do not run meanwhile.
   * Check WEFT_HAS(host, weft_host_api, walk_frames) first. since 1.2 */
  int (*walk_frames)(void *host, const struct weft_activation *act,
                     const struct weft_contref *suspended, const struct weft_frame_visitor *v);
  /* Capture the backtrace of the trap pending in `ctx` now, while the stacks it crossed still
   * hold it: to be called by a resume site (contstacks, codegen) that received the TRAP effect,
   * before it restores the stack chain (ctx->stack_chain still starts at the trapped
   * continuation). The trap then carries the frames of every stack when it reaches the host.
   * A no-op without a backtrace plugin, or when the chain does not start at a continuation whose
   * stack holds the trap fp. Not async-signal-safe; the store's thread.
   * Check WEFT_HAS(host, weft_host_api, capture_trap) first. since 1.2 */
  void (*capture_trap)(void *host, struct weft_store_ctx *ctx);
} weft_host_api;

/* Convenience wrappers so plugins can use printf-style varargs. */
static inline int weft_host_diag(const weft_host_api *h, weft_diag *d, int code, uint64_t offset,
                                 const char *origin, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = h->diag(h->host, d, code, offset, origin, fmt, ap);
  va_end(ap);
  return r;
}

static inline void weft_host_log(const weft_host_api *h, weft_log_level level, const char *origin,
                                 const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  h->log(h->host, level, origin, fmt, ap);
  va_end(ap);
}

/* -- Descriptor ------------------------------------------------------------------------------ */

typedef struct weft_plugin_desc {
  WEFT_ABI_HEADER;
  const char *name;      /* unique, e.g. "x64-codegen"; also its ini section name */
  weft_plugin_kind kind;
  const char *version;   /* the plugin's own version, e.g. "0.1.0" */
  const char *build_sig; /* WEFT_BUILD_SIG as the plugin saw it */
  const weft_cfg_key *keys;
  uint32_t nkeys;
  const char *const *requires; /* kind names that must also be loaded, e.g. {"backtrace"} */
  uint32_t nrequires;
  /* Create the plugin's state. Returns 0 (WEFT_OK), or an error code with `d` filled. */
  int (*init)(const weft_host_api *host, const weft_plugin_cfg *cfg, void **out_state, weft_diag *d);
  void (*fini)(void *state);
  const void *iface; /* the kind's vtable: weft_validator_iface, weft_codegen_iface, ... */
  /* -- end of 1.0 -- */
  const char *summary; /* one line saying what the plugin does, shown by `weft config`; may be NULL.
                        * since 1.1 */
} weft_plugin_desc;

/* The size of a 1.0 descriptor: the core refuses anything shorter. */
#define WEFT_PLUGIN_DESC_SIZE_1_0 (offsetof(weft_plugin_desc, iface) + sizeof(const void *))

/* The one exported symbol. Returns NULL to refuse a host whose ABI it cannot serve. */
typedef const weft_plugin_desc *(*weft_plugin_entry_fn)(uint32_t host_abi);
#define WEFT_PLUGIN_ENTRY_SYMBOL "weft_plugin_entry"

#define WEFT_PLUGIN_EXPORT __attribute__((visibility("default")))

/* WEFT_PLUGIN_DEFINE(suffix, ...designated initialisers of weft_plugin_desc...)
 *
 * Writes the descriptor and the entry. The default entry accepts any host with the same major.
 * Under WEFT_PLUGIN_STATIC the entry is named weft_plugin_entry_<suffix> and is not exported, so
 * several plugins can be linked into one binary (unit tests, static runtimes). */
#define WEFT_PLUGIN_CONCAT_(a, b) a##b
#define WEFT_PLUGIN_CONCAT(a, b) WEFT_PLUGIN_CONCAT_(a, b)
#ifdef WEFT_PLUGIN_STATIC
#define WEFT_PLUGIN_ENTRY_NAME(suffix) WEFT_PLUGIN_CONCAT(weft_plugin_entry_, suffix)
#define WEFT_PLUGIN_ENTRY_ATTR
#else
#define WEFT_PLUGIN_ENTRY_NAME(suffix) weft_plugin_entry
#define WEFT_PLUGIN_ENTRY_ATTR WEFT_PLUGIN_EXPORT
#endif

#define WEFT_PLUGIN_DEFINE(suffix, ...)                                                            \
  static const weft_plugin_desc WEFT_PLUGIN_CONCAT(weft_plugin_desc_, suffix) = {                  \
      WEFT_ABI_INIT(weft_plugin_desc), .build_sig = WEFT_BUILD_SIG, __VA_ARGS__};                  \
  WEFT_PLUGIN_ENTRY_ATTR const weft_plugin_desc *WEFT_PLUGIN_ENTRY_NAME(suffix)(uint32_t host_abi); \
  WEFT_PLUGIN_ENTRY_ATTR const weft_plugin_desc *WEFT_PLUGIN_ENTRY_NAME(suffix)(uint32_t host_abi) { \
    if (WEFT_ABI_MAJOR_OF(host_abi) != WEFT_ABI_MAJOR) return NULL;                                \
    return &WEFT_PLUGIN_CONCAT(weft_plugin_desc_, suffix);                                         \
  }

#ifdef __cplusplus
}
#endif
#endif /* WEFT_PLUGIN_H */
