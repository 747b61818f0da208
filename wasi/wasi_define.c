/* wasi/wasi_define.c -- the table of every wasi_snapshot_preview1 function (name, Wasm signature,
 * implementation or ENOSYS), the one host callback they share, and weft_wasi_define().
 * The callback finds the memory through the caller on every call and keeps no per-thread or
 * per-stack state, so WASI calls work from any stack (continuations included).
 * Depends on: wasi/wasi_int.h, weft/runtime.h (host functions, caller, memories, traps).
 */
#include <string.h>

#include "wasi_int.h"

/* -- The function table ------------------------------------------------------------------------ */

/* params: 'i' i32, 'I' i64; every function returns an i32 errno except proc_exit (no result). */
typedef struct wasi_entry {
  const char *name;
  const char *params;
  wasi_impl impl; /* NULL: ENOSYS */
} wasi_entry;

#define PROC_EXIT_INDEX 38

static const wasi_entry entries[] = {
    {"args_get", "ii", wasi_args_get},
    {"args_sizes_get", "ii", wasi_args_sizes_get},
    {"environ_get", "ii", wasi_environ_get},
    {"environ_sizes_get", "ii", wasi_environ_sizes_get},
    {"clock_res_get", "ii", wasi_clock_res_get},
    {"clock_time_get", "iIi", wasi_clock_time_get},
    {"fd_advise", "iIIi", wasi_fd_advise},
    {"fd_allocate", "iII", wasi_fd_allocate},
    {"fd_close", "i", wasi_fd_close},
    {"fd_datasync", "i", wasi_fd_datasync},
    {"fd_fdstat_get", "ii", wasi_fd_fdstat_get},
    {"fd_fdstat_set_flags", "ii", wasi_fd_fdstat_set_flags},
    {"fd_fdstat_set_rights", "iII", wasi_fd_fdstat_set_rights},
    {"fd_filestat_get", "ii", wasi_fd_filestat_get},
    {"fd_filestat_set_size", "iI", wasi_fd_filestat_set_size},
    {"fd_filestat_set_times", "iIIi", wasi_fd_filestat_set_times},
    {"fd_pread", "iiiIi", wasi_fd_pread},
    {"fd_prestat_get", "ii", wasi_fd_prestat_get},
    {"fd_prestat_dir_name", "iii", wasi_fd_prestat_dir_name},
    {"fd_pwrite", "iiiIi", wasi_fd_pwrite},
    {"fd_read", "iiii", wasi_fd_read},
    {"fd_readdir", "iiiIi", wasi_fd_readdir},
    {"fd_renumber", "ii", wasi_fd_renumber},
    {"fd_seek", "iIii", wasi_fd_seek},
    {"fd_sync", "i", wasi_fd_sync},
    {"fd_tell", "ii", wasi_fd_tell},
    {"fd_write", "iiii", wasi_fd_write},
    {"path_create_directory", "iii", wasi_path_create_directory},
    {"path_filestat_get", "iiiii", wasi_path_filestat_get},
    {"path_filestat_set_times", "iiiiIIi", wasi_path_filestat_set_times},
    {"path_link", "iiiiiii", wasi_path_link},
    {"path_open", "iiiiiIIii", wasi_path_open},
    {"path_readlink", "iiiiii", wasi_path_readlink},
    {"path_remove_directory", "iii", wasi_path_remove_directory},
    {"path_rename", "iiiiii", wasi_path_rename},
    {"path_symlink", "iiiii", wasi_path_symlink},
    {"path_unlink_file", "iii", wasi_path_unlink_file},
    {"poll_oneoff", "iiii", wasi_poll_oneoff},
    {"proc_exit", "i", NULL}, /* PROC_EXIT_INDEX: handled by the callback */
    {"proc_raise", "i", NULL},
    {"sched_yield", "", wasi_sched_yield},
    {"random_get", "ii", wasi_random_get},
    {"sock_accept", "iii", NULL},
    {"sock_recv", "iiiiii", NULL},
    {"sock_send", "iiiii", NULL},
    {"sock_shutdown", "ii", NULL},
};
#define NENTRIES (sizeof entries / sizeof entries[0])
_Static_assert(NENTRIES == 46, "every preview1 function is listed");

size_t wasi_function_total(void) { return NENTRIES; }
const char *wasi_function_params(size_t i) { return i < NENTRIES ? entries[i].params : NULL; }
wasi_impl wasi_function_impl(size_t i) { return i < NENTRIES ? entries[i].impl : NULL; }
size_t weft_wasi_function_count(void) { return NENTRIES; }
const char *weft_wasi_function_name(size_t i) { return i < NENTRIES ? entries[i].name : NULL; }

/* -- The shared host callback ------------------------------------------------------------------ */

static weft_trap_t *call(void *env, weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                         weft_val_t *results, size_t nresults) {
  const wasi_binding *b = env;
  const wasi_entry *e = &entries[b->index];
  uint64_t a[9] = {0};
  for (size_t i = 0; i < nargs && i < 9; i++)
    a[i] = e->params[i] == 'I' ? (uint64_t)args[i].of.i64 : (uint64_t)(uint32_t)args[i].of.i32;
  if (b->index == PROC_EXIT_INDEX) return weft_trap_new_exit((int)(uint32_t)a[0]);
  uint32_t rc = WASI_ENOSYS;
  if (e->impl != NULL) {
    wasi_mem m = {NULL, 0};
    weft_extern_t mem;
    if (weft_caller_export(caller, "memory", &mem) == WEFT_OK && mem.kind == WEFT_EXTERN_MEMORY) {
      weft_store_t *store = weft_caller_store(caller);
      m.base = weft_memory_data(store, mem.of.memory);
      m.size = weft_memory_data_size(store, mem.of.memory);
      if (m.base == NULL) m.size = 0;
    }
    rc = e->impl(b->ctx, &m, a);
  }
  if (nresults > 0) results[0].of.i32 = (int32_t)rc;
  return NULL;
}

/* -- Registration ------------------------------------------------------------------------------ */

int weft_wasi_define(weft_linker_t *linker, weft_store_t *store, weft_wasi_ctx *ctx) {
  if (linker == NULL || store == NULL || ctx == NULL) return WEFT_ERR_MISUSE;
  for (size_t i = 0; i < NENTRIES; i++) {
    const wasi_entry *e = &entries[i];
    weft_valtype params[9], result = WEFT_VT_I32;
    uint32_t np = (uint32_t)strlen(e->params);
    for (uint32_t k = 0; k < np; k++) params[k] = e->params[k] == 'I' ? WEFT_VT_I64 : WEFT_VT_I32;
    weft_func_t f;
    int rc = weft_func_new(store, params, np, &result, i == PROC_EXIT_INDEX ? 0 : 1, call,
                           &ctx->bindings[i], NULL, &f);
    if (rc != WEFT_OK) return rc;
    weft_extern_t ext;
    memset(&ext, 0, sizeof ext);
    ext.kind = WEFT_EXTERN_FUNC;
    ext.of.func = f;
    rc = weft_linker_define(linker, WEFT_WASI_MODULE, e->name, &ext);
    if (rc != WEFT_OK) return rc;
  }
  return WEFT_OK;
}
