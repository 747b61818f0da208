/* wasi/wasi_int.h -- internals shared by the files of the WASI preview1 library (weft-wasi): the
 * context and its fd table, the guest-memory view with its bounds checks, path resolution beneath
 * a preopen, and the prototype every preview1 implementation has.
 * Depends on: weft/wasi.h, <sys/uio.h>. Nothing here touches the store or assumes which native
 * stack it runs on, so the functions work from inside continuations too.
 */
#ifndef WEFT_WASI_INT_H
#define WEFT_WASI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "weft/wasi.h"

/* -- Errno values (wasi_snapshot_preview1) ----------------------------------------------------- */

enum {
  WASI_ESUCCESS = 0, WASI_E2BIG = 1, WASI_EACCES = 2, WASI_EAGAIN = 6, WASI_EBADF = 8,
  WASI_EBUSY = 10, WASI_EEXIST = 20, WASI_EFAULT = 21, WASI_EFBIG = 22, WASI_EILSEQ = 25,
  WASI_EINTR = 27, WASI_EINVAL = 28, WASI_EIO = 29, WASI_EISDIR = 31, WASI_ELOOP = 32,
  WASI_EMFILE = 33, WASI_EMLINK = 34, WASI_ENAMETOOLONG = 37, WASI_ENFILE = 41, WASI_ENODEV = 43,
  WASI_ENOENT = 44, WASI_ENOMEM = 48, WASI_ENOSPC = 51, WASI_ENOSYS = 52, WASI_ENOTDIR = 54,
  WASI_ENOTEMPTY = 55, WASI_ENOTSUP = 58, WASI_ENOTTY = 59, WASI_ENXIO = 60, WASI_EOVERFLOW = 61,
  WASI_EPERM = 63, WASI_EPIPE = 64, WASI_EROFS = 69, WASI_ESPIPE = 70, WASI_ETXTBSY = 74,
  WASI_EXDEV = 75, WASI_ENOTCAPABLE = 76
};

/* File types, fd flags, open flags, lookup flags and rights (the bits weft looks at). */
enum {
  WASI_FILETYPE_UNKNOWN = 0, WASI_FILETYPE_BLOCK_DEVICE = 1, WASI_FILETYPE_CHARACTER_DEVICE = 2,
  WASI_FILETYPE_DIRECTORY = 3, WASI_FILETYPE_REGULAR_FILE = 4, WASI_FILETYPE_SOCKET_STREAM = 6,
  WASI_FILETYPE_SYMBOLIC_LINK = 7
};
enum { WASI_FDFLAG_APPEND = 1, WASI_FDFLAG_DSYNC = 2, WASI_FDFLAG_NONBLOCK = 4,
       WASI_FDFLAG_RSYNC = 8, WASI_FDFLAG_SYNC = 16 };
enum { WASI_O_CREAT = 1, WASI_O_DIRECTORY = 2, WASI_O_EXCL = 4, WASI_O_TRUNC = 8 };
enum { WASI_LOOKUP_SYMLINK_FOLLOW = 1 };
#define WASI_RIGHT_FD_READ (UINT64_C(1) << 1)
#define WASI_RIGHT_FD_SEEK (UINT64_C(1) << 2)
#define WASI_RIGHT_FD_TELL (UINT64_C(1) << 5)
#define WASI_RIGHT_FD_WRITE (UINT64_C(1) << 6)
#define WASI_RIGHT_FD_READDIR (UINT64_C(1) << 14)
#define WASI_RIGHTS_ALL ((UINT64_C(1) << 30) - 1)

/* The most fds a guest may have open at once (EMFILE beyond). */
#define WASI_MAX_FDS 1024u
/* The most iovecs one fd_read/fd_write handles; more are allowed and cut (a short transfer). */
#define WASI_MAX_IOVS 1024u
/* The longest path the guest may pass, and how many symlinks one resolution may follow. */
#define WASI_PATH_MAX 4096u
#define WASI_SYMLINK_MAX 40u

/* -- Context and fd table ---------------------------------------------------------------------- */

typedef struct wasi_fd {
  int host;            /* host fd; -1: this guest fd is free */
  bool owned;          /* close `host` on fd_close / context free */
  bool preopen;        /* a --dir directory: fd_prestat_get describes it */
  uint8_t filetype;    /* WASI_FILETYPE_* */
  char *name;          /* preopen: the guest's name for it */
  uint64_t rights_base, rights_inh;
} wasi_fd;

/* One entry of the function table bound to a context (the env of its host function). */
typedef struct wasi_binding {
  struct weft_wasi_ctx *ctx;
  size_t index;
} wasi_binding;

struct weft_wasi_ctx {
  char **args;
  size_t nargs;
  char **env;
  size_t nenv;
  wasi_fd *fds; /* guest fd i is fds[i] */
  size_t nfds, capfds;
  wasi_binding *bindings; /* one per preview1 function */
};

/* The entry for guest fd `fd`, or NULL when it is not open. */
wasi_fd *wasi_fd_get(weft_wasi_ctx *ctx, uint32_t fd);
/* Puts `host` into the lowest free guest fd >= 3. Returns 0 and *out_fd, or a WASI errno
 * (EMFILE, ENOMEM); the host fd is not closed on failure. */
uint32_t wasi_fd_insert(weft_wasi_ctx *ctx, int host, uint8_t filetype, uint64_t rights_base,
                        uint64_t rights_inh, uint32_t *out_fd);
/* Closes guest fd `fd` (its host fd when owned). 0 or EBADF. */
uint32_t wasi_fd_remove(weft_wasi_ctx *ctx, uint32_t fd);
/* The WASI errno for a host errno value. */
uint32_t wasi_errno(int host_errno);
/* The WASI file type of a host st_mode. */
uint8_t wasi_filetype_of(unsigned mode);

/* -- Guest memory ------------------------------------------------------------------------------ */

/* The calling instance's linear memory as one call sees it (size 0 when it exports none). */
typedef struct wasi_mem {
  uint8_t *base;
  uint64_t size;
} wasi_mem;

/* True when [ptr, ptr+len) lies inside the memory. */
static inline bool wasi_mem_ok(const wasi_mem *m, uint64_t ptr, uint64_t len) {
  return ptr <= m->size && len <= m->size - ptr;
}
/* Little-endian loads and stores; each returns 0 or WASI_EFAULT (nothing written then). */
uint32_t wasi_load_u32(const wasi_mem *m, uint64_t ptr, uint32_t *out);
uint32_t wasi_store_u8(const wasi_mem *m, uint64_t ptr, uint8_t v);
uint32_t wasi_store_u16(const wasi_mem *m, uint64_t ptr, uint16_t v);
uint32_t wasi_store_u32(const wasi_mem *m, uint64_t ptr, uint32_t v);
uint32_t wasi_store_u64(const wasi_mem *m, uint64_t ptr, uint64_t v);
/* Reads the guest's iovec array {u32 buf, u32 len}[n] at `iovs` into host iovecs pointing into the
 * memory: every entry and every buffer is checked first (EFAULT), and at most `cap` entries are
 * taken (the rest are left for a later call, as a short transfer). *out_n gets the count. */
uint32_t wasi_iovecs(const wasi_mem *m, uint32_t iovs, uint32_t n, struct iovec *out, size_t cap,
                     size_t *out_n);

/* -- Paths ------------------------------------------------------------------------------------- */

/* Resolves the relative `path` (len bytes, not NUL-terminated) beneath directory `base` without
 * ever leaving it: components are opened one at a time with O_NOFOLLOW, ".." may not climb above
 * `base`, symlinks are expanded by hand (absolute targets and escapes are refused), absolute paths
 * are refused. `follow_last` also expands a symlink in the last component.
 * On success returns 0, *out_dir = a directory fd (== base, or an fd the caller closes) and
 * `name` = the last component ("." when the path names the directory itself; name must hold
 * NAME_MAX + 1 bytes). Errors: ENOTCAPABLE (escape), ENOENT, ENOTDIR, ELOOP, ENAMETOOLONG,
 * EILSEQ (a NUL byte in the path), or the host's errno mapped. */
uint32_t wasi_path_resolve(int base, const char *path, size_t len, bool follow_last, int *out_dir,
                           char *name);

/* -- Preview1 functions ------------------------------------------------------------------------ */

/* Every implementation takes the context, the memory view and the Wasm arguments widened to
 * 64 bits (i32 zero-extended), and returns the WASI errno. */
typedef uint32_t (*wasi_impl)(weft_wasi_ctx *ctx, const wasi_mem *m, const uint64_t *a);

/* The function table (wasi/wasi_define.c): how many functions, the i-th one's parameter kinds
 * ('i' i32, 'I' i64) and its implementation (NULL: ENOSYS, or proc_exit). */
size_t wasi_function_total(void);
const char *wasi_function_params(size_t i);
wasi_impl wasi_function_impl(size_t i);

#define WASI_IMPL(name)                                                                            \
  uint32_t wasi_##name(weft_wasi_ctx *ctx, const wasi_mem *m, const uint64_t *a)
/* wasi/wasi_env.c */
WASI_IMPL(args_get);
WASI_IMPL(args_sizes_get);
WASI_IMPL(environ_get);
WASI_IMPL(environ_sizes_get);
WASI_IMPL(clock_res_get);
WASI_IMPL(clock_time_get);
WASI_IMPL(random_get);
WASI_IMPL(sched_yield);
/* wasi/wasi_fd.c */
WASI_IMPL(fd_advise);
WASI_IMPL(fd_allocate);
WASI_IMPL(fd_close);
WASI_IMPL(fd_datasync);
WASI_IMPL(fd_fdstat_get);
WASI_IMPL(fd_fdstat_set_flags);
WASI_IMPL(fd_fdstat_set_rights);
WASI_IMPL(fd_filestat_get);
WASI_IMPL(fd_filestat_set_size);
WASI_IMPL(fd_filestat_set_times);
WASI_IMPL(fd_pread);
WASI_IMPL(fd_prestat_get);
WASI_IMPL(fd_prestat_dir_name);
WASI_IMPL(fd_pwrite);
WASI_IMPL(fd_read);
WASI_IMPL(fd_readdir);
WASI_IMPL(fd_renumber);
WASI_IMPL(fd_seek);
WASI_IMPL(fd_sync);
WASI_IMPL(fd_tell);
WASI_IMPL(fd_write);
/* wasi/wasi_pathops.c */
WASI_IMPL(path_create_directory);
WASI_IMPL(path_filestat_get);
WASI_IMPL(path_filestat_set_times);
WASI_IMPL(path_link);
WASI_IMPL(path_open);
WASI_IMPL(path_readlink);
WASI_IMPL(path_remove_directory);
WASI_IMPL(path_rename);
WASI_IMPL(path_symlink);
WASI_IMPL(path_unlink_file);
/* wasi/wasi_poll.c */
WASI_IMPL(poll_oneoff);

/* WASI fstflags (ATIM 1, ATIM_NOW 2, MTIM 4, MTIM_NOW 8) -> ts[2] for futimens/utimensat.
 * 0 or EINVAL. */
struct timespec;
uint32_t wasi_times(uint64_t atim, uint64_t mtim, uint64_t flags, struct timespec *ts);
/* Writes a 64-byte filestat for host `st` (a struct stat *) at ptr. 0 or EFAULT. */
uint32_t wasi_write_filestat(const wasi_mem *m, uint64_t ptr, const void *st);

#endif /* WEFT_WASI_INT_H */
