/* include/weft/wasi.h -- WASI preview1 ("wasi_snapshot_preview1") for the embedding API.
 * A weft_wasi_ctx holds what a guest may see: its arguments, its environment, its stdio and the
 * host directories it was given (preopens, capability-style). weft_wasi_define() puts every
 * preview1 function on a linker. Implemented in the wasi/ folder (library weft-wasi).
 * Depends on: weft/runtime.h (linkers, host functions, traps).
 */
#ifndef WEFT_WASI_H
#define WEFT_WASI_H

#include <stddef.h>
#include <stdint.h>

#include "weft/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The module name every preview1 import uses. */
#define WEFT_WASI_MODULE "wasi_snapshot_preview1"

/* A WASI context. Not thread-safe: use it from one store (one thread) at a time. */
typedef struct weft_wasi_ctx weft_wasi_ctx;

/* A new context: no arguments, no environment, no preopens, stdio = the host's fds 0, 1 and 2.
 * NULL when out of memory. Free with weft_wasi_ctx_free, after every store using it is freed. */
WEFT_API weft_wasi_ctx *weft_wasi_ctx_new(void);
/* Closes every host fd the context opened (never the host's stdio) and frees it. NULL is
 * ignored. */
WEFT_API void weft_wasi_ctx_free(weft_wasi_ctx *ctx);

/* Appends one argument (copied); argv[0] is conventionally the program name. WEFT_OK,
 * WEFT_ERR_NOMEM. */
WEFT_API int weft_wasi_push_arg(weft_wasi_ctx *ctx, const char *arg);
/* Appends one environment entry "KEY=VALUE" (copied). WEFT_ERR_MISUSE when there is no '=' or the
 * key is empty. */
WEFT_API int weft_wasi_push_env(weft_wasi_ctx *ctx, const char *key_value);

/* Makes host directory `host_path` visible to the guest under the name `guest_path` (NULL: the
 * host path as given). Preopens get fds 3, 4, ... in the order they are added; the guest cannot
 * reach anything outside them. Returns WEFT_OK, or WEFT_ERR_IO with err filled ("--dir <path>:
 * <reason>") when the directory cannot be opened; `err` may be NULL. */
WEFT_API int weft_wasi_preopen_dir(weft_wasi_ctx *ctx, const char *host_path,
                                   const char *guest_path, weft_error *err);

/* Uses host fds in_fd, out_fd, err_fd as the guest's fds 0, 1, 2 (the context does not own them:
 * they are never closed by it). A negative value leaves that fd closed for the guest (EBADF). */
WEFT_API void weft_wasi_set_stdio(weft_wasi_ctx *ctx, int in_fd, int out_fd, int err_fd);

/* Defines every wasi_snapshot_preview1 function on `linker`, which must belong to `store` (the
 * few weft does not implement return ENOSYS, 52). The functions find the guest's memory through
 * its export "memory" on every call. proc_exit(n) ends the call with a trap of kind
 * WEFT_TRAPKIND_EXIT whose weft_trap_exit_status() is n. `ctx` must outlive the store.
 * WEFT_OK, or the first failing status (WEFT_ERR_NOMEM, WEFT_ERR_LINK when a name is already
 * defined). */
WEFT_API int weft_wasi_define(weft_linker_t *linker, weft_store_t *store, weft_wasi_ctx *ctx);

/* How many preview1 functions weft_wasi_define registers, and their names (static storage), so
 * that tools and tests can list them. NULL when i is out of range. */
WEFT_API size_t weft_wasi_function_count(void);
WEFT_API const char *weft_wasi_function_name(size_t i);

#ifdef __cplusplus
}
#endif
#endif /* WEFT_WASI_H */
