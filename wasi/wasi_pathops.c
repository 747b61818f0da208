/* wasi/wasi_pathops.c -- the preview1 path_* functions: open, stat, mkdir, rmdir, unlink,
 * readlink, rename, link, symlink, set times. Every path goes through wasi_path_resolve(), so it
 * stays beneath its directory fd.
 * Depends on: wasi/wasi_int.h, POSIX *at calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

/* -- Links, renames, times --------------------------------------------------------------------- */

/* path_readlink(dirfd, path, path_len, buf, buf_len, out_used): the target, cut at buf_len. */
WASI_IMPL(path_readlink) {
  uint64_t buf = a[3], cap = a[4];
  if (!wasi_mem_ok(m, buf, cap) || !wasi_mem_ok(m, a[5], 4)) return WASI_EFAULT;
  int base = -1, dir = -1;
  char name[NAME_MAX + 1];
  uint32_t rc = resolve(ctx, m, a[0], a[1], a[2], false, &base, &dir, name);
  if (rc != 0) return rc;
  char target[WASI_PATH_MAX + 1];
  ssize_t n = readlinkat(dir, name, target, sizeof target);
  if (n < 0) {
    rc = wasi_errno(errno);
  } else {
    size_t k = (uint64_t)n < cap ? (size_t)n : (size_t)cap;
    if (k > 0) memcpy(m->base + buf, target, k);
    rc = wasi_store_u32(m, a[5], (uint32_t)k);
  }
  release(base, dir);
  return rc;
}

/* path_rename(fd, old_path, old_len, new_fd, new_path, new_len) */
WASI_IMPL(path_rename) {
  int b1 = -1, d1 = -1, b2 = -1, d2 = -1;
  char n1[NAME_MAX + 1], n2[NAME_MAX + 1];
  uint32_t rc = resolve(ctx, m, a[0], a[1], a[2], false, &b1, &d1, n1);
  if (rc == 0) rc = resolve(ctx, m, a[3], a[4], a[5], false, &b2, &d2, n2);
  if (rc == 0 && renameat(d1, n1, d2, n2) != 0) rc = wasi_errno(errno);
  release(b1, d1);
  release(b2, d2);
  return rc;
}

/* path_link(old_fd, old_flags, old_path, old_len, new_fd, new_path, new_len): with
 * SYMLINK_FOLLOW the resolver has already expanded a final symlink, so linkat never follows. */
WASI_IMPL(path_link) {
  int b1 = -1, d1 = -1, b2 = -1, d2 = -1;
  char n1[NAME_MAX + 1], n2[NAME_MAX + 1];
  uint32_t rc = resolve(ctx, m, a[0], a[2], a[3], (a[1] & WASI_LOOKUP_SYMLINK_FOLLOW) != 0, &b1,
                        &d1, n1);
  if (rc == 0) rc = resolve(ctx, m, a[4], a[5], a[6], false, &b2, &d2, n2);
  if (rc == 0 && linkat(d1, n1, d2, n2, 0) != 0) rc = wasi_errno(errno);
  release(b1, d1);
  release(b2, d2);
  return rc;
}

/* path_symlink(old_path, old_len, fd, new_path, new_len): absolute targets are refused
 * (ENOTCAPABLE); relative ones are harmless, since every lookup re-checks where they lead. */
WASI_IMPL(path_symlink) {
  uint64_t tp = a[0], tlen = a[1];
  if (!wasi_mem_ok(m, tp, tlen)) return WASI_EFAULT;
  if (tlen == 0) return WASI_ENOENT;
  if (tlen > WASI_PATH_MAX) return WASI_ENAMETOOLONG;
  char target[WASI_PATH_MAX + 1];
  memcpy(target, m->base + tp, (size_t)tlen);
  target[tlen] = '\0';
  if (strlen(target) != tlen) return WASI_EILSEQ;
  if (target[0] == '/') return WASI_ENOTCAPABLE;
  int base = -1, dir = -1;
  char name[NAME_MAX + 1];
  uint32_t rc = resolve(ctx, m, a[2], a[3], a[4], false, &base, &dir, name);
  if (rc != 0) return rc;
  if (symlinkat(target, dir, name) != 0) rc = wasi_errno(errno);
  release(base, dir);
  return rc;
}

/* Fills ts[2] for futimens/utimensat from WASI fstflags (ATIM 1, ATIM_NOW 2, MTIM 4,
 * MTIM_NOW 8). */
uint32_t wasi_times(uint64_t atim, uint64_t mtim, uint64_t flags, struct timespec *ts) {
  if (((flags & 1) && (flags & 2)) || ((flags & 4) && (flags & 8)) || flags > 15)
    return WASI_EINVAL;
  uint64_t t[2] = {atim, mtim};
  for (int i = 0; i < 2; i++) {
    uint64_t set = flags >> (2 * i) & 1, now = flags >> (2 * i + 1) & 1;
    ts[i].tv_sec = set ? (time_t)(t[i] / 1000000000u) : 0;
    ts[i].tv_nsec = set ? (long)(t[i] % 1000000000u) : now ? UTIME_NOW : UTIME_OMIT;
  }
  return 0;
}

/* path_filestat_set_times(fd, lookupflags, path, path_len, atim, mtim, fstflags) */
WASI_IMPL(path_filestat_set_times) {
  struct timespec ts[2];
  uint32_t rc = wasi_times(a[4], a[5], a[6], ts);
  if (rc != 0) return rc;
  int base = -1, dir = -1;
  char name[NAME_MAX + 1];
  rc = resolve(ctx, m, a[0], a[2], a[3], (a[1] & WASI_LOOKUP_SYMLINK_FOLLOW) != 0, &base, &dir,
               name);
  if (rc != 0) return rc;
  if (utimensat(dir, name, ts, AT_SYMLINK_NOFOLLOW) != 0) rc = wasi_errno(errno);
  release(base, dir);
  return rc;
}
