/* wasi/wasi_pathops.c -- the preview1 path_* functions weft implements (open, stat, mkdir, rmdir,
 * unlink). Every path goes through wasi_path_resolve(), so it stays beneath its directory fd.
 * Depends on: wasi/wasi_int.h, POSIX *at calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi_int.h"

/* -- Resolution from guest arguments ----------------------------------------------------------- */

/* Checks directory fd `fd` and the guest string [ptr, ptr+len), then resolves it. On success
 * *dir is the directory holding `name`; close it with release() afterwards. */
static uint32_t resolve(weft_wasi_ctx *ctx, const wasi_mem *m, uint64_t fd, uint64_t ptr,
                        uint64_t len, bool follow, int *base, int *dir, char *name) {
  wasi_fd *f = wasi_fd_get(ctx, (uint32_t)fd);
  if (f == NULL) return WASI_EBADF;
  if (f->filetype != WASI_FILETYPE_DIRECTORY) return WASI_ENOTDIR;
  if (!wasi_mem_ok(m, ptr, len)) return WASI_EFAULT;
  *base = f->host;
  const char *path = m->base != NULL ? (const char *)m->base + ptr : "";
  return wasi_path_resolve(f->host, path, (size_t)len, follow, dir, name);
}

static void release(int base, int dir) {
  if (dir >= 0 && dir != base) close(dir);
}

/* -- path_open --------------------------------------------------------------------------------- */

/* path_open(dirfd, dirflags, path, path_len, oflags, rights_base, rights_inh, fdflags, out_fd) */
WASI_IMPL(path_open) {
  uint64_t oflags = a[4], rights = a[5], rights_inh = a[6], fdflags = a[7], out_fd = a[8];
  if (!wasi_mem_ok(m, out_fd, 4)) return WASI_EFAULT;
  if (oflags & ~(uint64_t)(WASI_O_CREAT | WASI_O_DIRECTORY | WASI_O_EXCL | WASI_O_TRUNC))
    return WASI_EINVAL;
  int base = -1, dir = -1;
  char name[NAME_MAX + 1];
  uint32_t rc = resolve(ctx, m, a[0], a[2], a[3], (a[1] & WASI_LOOKUP_SYMLINK_FOLLOW) != 0, &base,
                        &dir, name);
  if (rc != 0) return rc;
  wasi_fd *parent = wasi_fd_get(ctx, (uint32_t)a[0]);
  rights &= parent->rights_inh;
  rights_inh &= parent->rights_inh;

  /* The access mode follows the rights asked for, as wasi-libc derives them from O_RDONLY etc. */
  bool rd = (rights & (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_READDIR)) != 0;
  bool wr = (rights & WASI_RIGHT_FD_WRITE) != 0 || (fdflags & WASI_FDFLAG_APPEND) != 0;
  int flags = O_CLOEXEC | O_NOFOLLOW | (rd && wr ? O_RDWR : wr ? O_WRONLY : O_RDONLY);
  if (oflags & WASI_O_CREAT) flags |= O_CREAT;
  if (oflags & WASI_O_DIRECTORY) flags |= O_DIRECTORY;
  if (oflags & WASI_O_EXCL) flags |= O_EXCL;
  if (oflags & WASI_O_TRUNC) flags |= O_TRUNC;
  if (fdflags & WASI_FDFLAG_APPEND) flags |= O_APPEND;
  if (fdflags & WASI_FDFLAG_NONBLOCK) flags |= O_NONBLOCK;
  if (fdflags & WASI_FDFLAG_SYNC) flags |= O_SYNC;
  else if (fdflags & (WASI_FDFLAG_DSYNC | WASI_FDFLAG_RSYNC)) flags |= O_DSYNC;

  int h = openat(dir, name, flags, 0666);
  if (h < 0 && errno == EISDIR && (flags & O_ACCMODE) != O_RDONLY && !(oflags & WASI_O_CREAT)) {
    /* A directory asked for with write rights (wasi-libc's O_RDWR default for directories): open
     * it read-only, as other runtimes do. */
    h = openat(dir, name, (flags & ~O_ACCMODE) | O_RDONLY, 0666);
  }
  if (h < 0) {
    rc = wasi_errno(errno);
    goto out;
  }
  struct stat st;
  if (fstat(h, &st) != 0) {
    rc = wasi_errno(errno);
    close(h);
    goto out;
  }
  uint32_t fd = 0;
  rc = wasi_fd_insert(ctx, h, wasi_filetype_of(st.st_mode), rights, rights_inh, &fd);
  if (rc != 0) {
    close(h);
    goto out;
  }
  wasi_store_u32(m, out_fd, fd);
out:
  release(base, dir);
  return rc;
}

/* -- Other path operations --------------------------------------------------------------------- */

/* path_filestat_get(dirfd, lookupflags, path, path_len, out_filestat) */
WASI_IMPL(path_filestat_get) {
  if (!wasi_mem_ok(m, a[4], 64)) return WASI_EFAULT;
  int base = -1, dir = -1;
  char name[NAME_MAX + 1];
  uint32_t rc = resolve(ctx, m, a[0], a[2], a[3], (a[1] & WASI_LOOKUP_SYMLINK_FOLLOW) != 0, &base,
                        &dir, name);
  if (rc != 0) return rc;
  struct stat st;
  if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) rc = wasi_errno(errno);
  else rc = wasi_write_filestat(m, a[4], &st);
  release(base, dir);
  return rc;
}

typedef enum path_op { OP_MKDIR, OP_RMDIR, OP_UNLINK } path_op;

/* path_create_directory / path_remove_directory / path_unlink_file (dirfd, path, path_len) */
static uint32_t simple_op(weft_wasi_ctx *ctx, const wasi_mem *m, const uint64_t *a, path_op op) {
  int base = -1, dir = -1;
  char name[NAME_MAX + 1];
  uint32_t rc = resolve(ctx, m, a[0], a[1], a[2], false, &base, &dir, name);
  if (rc != 0) return rc;
  int r;
  if (strcmp(name, ".") == 0) {
    errno = op == OP_MKDIR ? EEXIST : op == OP_RMDIR ? EBUSY : EISDIR;
    r = -1;
  } else if (op == OP_MKDIR) {
    r = mkdirat(dir, name, 0777);
  } else {
    r = unlinkat(dir, name, op == OP_RMDIR ? AT_REMOVEDIR : 0);
  }
  if (r != 0) rc = wasi_errno(errno);
  release(base, dir);
  return rc;
}

WASI_IMPL(path_create_directory) { return simple_op(ctx, m, a, OP_MKDIR); }
WASI_IMPL(path_remove_directory) { return simple_op(ctx, m, a, OP_RMDIR); }
WASI_IMPL(path_unlink_file) { return simple_op(ctx, m, a, OP_UNLINK); }
