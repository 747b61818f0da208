/* wasi/wasi_fd.c -- the preview1 fd_* functions: reads and writes through checked iovecs, seeking,
 * fd and file status, preopen descriptions, directory listing, renumbering and closing.
 * Depends on: wasi/wasi_int.h, POSIX (readv, writev, lseek, fstat, fcntl, fdopendir).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi_int.h"

/* Iovecs kept on the (possibly small, continuation) stack; more are allocated. */
#define SMALL_IOVS 8

/* -- Reads and writes -------------------------------------------------------------------------- */

typedef enum io_kind { IO_READ, IO_WRITE, IO_PREAD, IO_PWRITE } io_kind;

/* fd_read/fd_write/fd_pread/fd_pwrite: fd, iovs, iovs_len, [offset,] out_n. */
static uint32_t do_io(weft_wasi_ctx *ctx, const wasi_mem *m, uint64_t fd, uint64_t iovs,
                      uint64_t niovs, uint64_t offset, uint64_t out_n, io_kind kind) {
  wasi_fd *f = wasi_fd_get(ctx, (uint32_t)fd);
  if (f == NULL) return WASI_EBADF;
  if (f->filetype == WASI_FILETYPE_DIRECTORY) return WASI_EISDIR;
  if (!wasi_mem_ok(m, out_n, 4)) return WASI_EFAULT;
  if ((kind == IO_PREAD || kind == IO_PWRITE) && offset > INT64_MAX) return WASI_EINVAL;
  struct iovec small[SMALL_IOVS];
  struct iovec *v = small;
  uint32_t n32 = (uint32_t)niovs;
  if (n32 > SMALL_IOVS) {
    /* Allocated only once the guest's array is known to lie inside its memory. */
    if (!wasi_mem_ok(m, iovs, (uint64_t)n32 * 8)) return WASI_EFAULT;
    v = malloc((n32 < WASI_MAX_IOVS ? n32 : WASI_MAX_IOVS) * sizeof *v);
    if (v == NULL) return WASI_ENOMEM;
  }
  size_t cnt = 0;
  size_t cap = v == small ? SMALL_IOVS : WASI_MAX_IOVS;
  uint32_t rc = wasi_iovecs(m, (uint32_t)iovs, n32, v, cap, &cnt);
  if (rc == 0) {
    ssize_t r;
    do {
      switch (kind) {
      case IO_READ: r = readv(f->host, v, (int)cnt); break;
      case IO_WRITE: r = writev(f->host, v, (int)cnt); break;
      case IO_PREAD: r = preadv(f->host, v, (int)cnt, (off_t)offset); break;
      default: r = pwritev(f->host, v, (int)cnt, (off_t)offset); break;
      }
    } while (r < 0 && errno == EINTR);
    if (r < 0) rc = wasi_errno(errno);
    else rc = wasi_store_u32(m, out_n, (uint32_t)r);
  }
  if (v != small) free(v);
  return rc;
}

WASI_IMPL(fd_read) { return do_io(ctx, m, a[0], a[1], a[2], 0, a[3], IO_READ); }
WASI_IMPL(fd_write) { return do_io(ctx, m, a[0], a[1], a[2], 0, a[3], IO_WRITE); }
WASI_IMPL(fd_pread) { return do_io(ctx, m, a[0], a[1], a[2], a[3], a[4], IO_PREAD); }
WASI_IMPL(fd_pwrite) { return do_io(ctx, m, a[0], a[1], a[2], a[3], a[4], IO_PWRITE); }

/* -- Seeking ----------------------------------------------------------------------------------- */

WASI_IMPL(fd_seek) {
  static const int whence[] = {SEEK_SET, SEEK_CUR, SEEK_END};
  wasi_fd *f = wasi_fd_get(ctx, (uint32_t)a[0]);
  if (f == NULL) return WASI_EBADF;
  if (a[2] > 2) return WASI_EINVAL;
  if (!wasi_mem_ok(m, a[3], 8)) return WASI_EFAULT;
  if (f->filetype == WASI_FILETYPE_DIRECTORY) return WASI_EBADF;
  off_t r = lseek(f->host, (off_t)(int64_t)a[1], whence[a[2]]);
  if (r < 0) return wasi_errno(errno);
  return wasi_store_u64(m, a[3], (uint64_t)r);
}

WASI_IMPL(fd_tell) {
  wasi_fd *f = wasi_fd_get(ctx, (uint32_t)a[0]);
  if (f == NULL) return WASI_EBADF;
  if (!wasi_mem_ok(m, a[1], 8)) return WASI_EFAULT;
  off_t r = lseek(f->host, 0, SEEK_CUR);
  if (r < 0) return wasi_errno(errno);
  return wasi_store_u64(m, a[1], (uint64_t)r);
}

/* -- Status ------------------------------------------------------------------------------------ */

WASI_IMPL(fd_fdstat_get) {
  wasi_fd *f = wasi_fd_get(ctx, (uint32_t)a[0]);
  if (f == NULL) return WASI_EBADF;
  uint64_t out = a[1];
  if (!wasi_mem_ok(m, out, 24)) return WASI_EFAULT;
  int fl = fcntl(f->host, F_GETFL);
  if (fl < 0) return wasi_errno(errno);
  uint16_t flags = 0;
  if (fl & O_APPEND) flags |= WASI_FDFLAG_APPEND;
  if (fl & O_NONBLOCK) flags |= WASI_FDFLAG_NONBLOCK;
  if ((fl & O_SYNC) == O_SYNC) flags |= WASI_FDFLAG_SYNC;
  else if (fl & O_DSYNC) flags |= WASI_FDFLAG_DSYNC;
  memset(m->base + out, 0, 24);
  wasi_store_u8(m, out, f->filetype);
  wasi_store_u16(m, out + 2, flags);
  wasi_store_u64(m, out + 8, f->rights_base);
  wasi_store_u64(m, out + 16, f->rights_inh);
  return 0;
}

WASI_IMPL(fd_fdstat_set_flags) {
  (void)m;
  wasi_fd *f = wasi_fd_get(ctx, (uint32_t)a[0]);
  if (f == NULL) return WASI_EBADF;
  uint64_t want = a[1];
  if (want & ~(uint64_t)(WASI_FDFLAG_APPEND | WASI_FDFLAG_NONBLOCK)) return WASI_ENOTSUP;
  int fl = fcntl(f->host, F_GETFL);
  if (fl < 0) return wasi_errno(errno);
  fl &= ~(O_APPEND | O_NONBLOCK);
  if (want & WASI_FDFLAG_APPEND) fl |= O_APPEND;
  if (want & WASI_FDFLAG_NONBLOCK) fl |= O_NONBLOCK;
  if (fcntl(f->host, F_SETFL, fl) != 0) return wasi_errno(errno);
  return 0;
}

static uint64_t ns_of(const struct timespec *ts) {
  return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

uint32_t wasi_write_filestat(const wasi_mem *m, uint64_t ptr, const void *stp) {
  const struct stat *st = stp;
  if (!wasi_mem_ok(m, ptr, 64)) return WASI_EFAULT;
  memset(m->base + ptr, 0, 64);
  wasi_store_u64(m, ptr, (uint64_t)st->st_dev);
  wasi_store_u64(m, ptr + 8, (uint64_t)st->st_ino);
  wasi_store_u8(m, ptr + 16, wasi_filetype_of(st->st_mode));
  wasi_store_u64(m, ptr + 24, (uint64_t)st->st_nlink);
  wasi_store_u64(m, ptr + 32, (uint64_t)st->st_size);
  wasi_store_u64(m, ptr + 40, ns_of(&st->st_atim));
  wasi_store_u64(m, ptr + 48, ns_of(&st->st_mtim));
  wasi_store_u64(m, ptr + 56, ns_of(&st->st_ctim));
  return 0;
}

WASI_IMPL(fd_filestat_get) {
  wasi_fd *f = wasi_fd_get(ctx, (uint32_t)a[0]);
  if (f == NULL) return WASI_EBADF;
  if (!wasi_mem_ok(m, a[1], 64)) return WASI_EFAULT;
  struct stat st;
  if (fstat(f->host, &st) != 0) return wasi_errno(errno);
  return wasi_write_filestat(m, a[1], &st);
}

WASI_IMPL(fd_filestat_set_size) {
  (void)m;
  wasi_fd *f = wasi_fd_get(ctx, (uint32_t)a[0]);
  if (f == NULL) return WASI_EBADF;
  if (a[1] > INT64_MAX) return WASI_EINVAL;
  if (ftruncate(f->host, (off_t)a[1]) != 0) return wasi_errno(errno);
  return 0;
}

WASI_IMPL(fd_sync) {
  (void)m;
  wasi_fd *f = wasi_fd_get(ctx, (uint32_t)a[0]);
  if (f == NULL) return WASI_EBADF;
  return fsync(f->host) != 0 ? wasi_errno(errno) : 0;
}

WASI_IMPL(fd_datasync) {
  (void)m;
  wasi_fd *f = wasi_fd_get(ctx, (uint32_t)a[0]);
  if (f == NULL) return WASI_EBADF;
  return fdatasync(f->host) != 0 ? wasi_errno(errno) : 0;
}

/* -- Preopens ---------------------------------------------------------------------------------- */

WASI_IMPL(fd_prestat_get) {
  wasi_fd *f = wasi_fd_get(ctx, (uint32_t)a[0]);
  if (f == NULL || !f->preopen) return WASI_EBADF;
  if (!wasi_mem_ok(m, a[1], 8)) return WASI_EFAULT;
  wasi_store_u32(m, a[1], 0); /* tag 0: a directory, then padding */
  return wasi_store_u32(m, a[1] + 4, (uint32_t)strlen(f->name));
}

WASI_IMPL(fd_prestat_dir_name) {
  wasi_fd *f = wasi_fd_get(ctx, (uint32_t)a[0]);
  if (f == NULL || !f->preopen) return WASI_EBADF;
  size_t len = strlen(f->name);
  if (a[2] < len) return WASI_ENAMETOOLONG;
  if (!wasi_mem_ok(m, a[1], len)) return WASI_EFAULT;
  if (len > 0) memcpy(m->base + a[1], f->name, len);
  return 0;
}

/* -- Directories ------------------------------------------------------------------------------- */

/* fd_readdir(fd, buf, buf_len, cookie, out_used): dirents {u64 next, u64 ino, u32 namlen, u8 type}
 * each followed by its name; the last one may be cut at buf_len (the guest then asks again with a
 * bigger buffer). The cookie is the host's telldir position. */
WASI_IMPL(fd_readdir) {
  wasi_fd *f = wasi_fd_get(ctx, (uint32_t)a[0]);
  if (f == NULL) return WASI_EBADF;
  if (f->filetype != WASI_FILETYPE_DIRECTORY) return WASI_ENOTDIR;
  uint64_t buf = a[1], cap = a[2], cookie = a[3];
  if (!wasi_mem_ok(m, buf, cap) || !wasi_mem_ok(m, a[4], 4)) return WASI_EFAULT;
  if (cookie > INT64_MAX) return WASI_EINVAL;
  int h = openat(f->host, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (h < 0) return wasi_errno(errno);
  DIR *d = fdopendir(h);
  if (d == NULL) {
    uint32_t rc = wasi_errno(errno);
    close(h);
    return rc;
  }
  if (cookie != 0) seekdir(d, (long)cookie);
  uint64_t used = 0;
  uint32_t rc = 0;
  while (used < cap) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (e == NULL) {
      if (errno != 0) rc = wasi_errno(errno);
      break;
    }
    uint8_t rec[24] = {0};
    uint64_t next = (uint64_t)telldir(d);
    uint32_t namlen = (uint32_t)strlen(e->d_name);
    uint8_t type = WASI_FILETYPE_UNKNOWN;
    switch (e->d_type) {
    case DT_REG: type = WASI_FILETYPE_REGULAR_FILE; break;
    case DT_DIR: type = WASI_FILETYPE_DIRECTORY; break;
    case DT_LNK: type = WASI_FILETYPE_SYMBOLIC_LINK; break;
    case DT_CHR: type = WASI_FILETYPE_CHARACTER_DEVICE; break;
    case DT_BLK: type = WASI_FILETYPE_BLOCK_DEVICE; break;
    case DT_SOCK: type = WASI_FILETYPE_SOCKET_STREAM; break;
    default: break;
    }
    for (int i = 0; i < 8; i++) {
      rec[i] = (uint8_t)(next >> (8 * i));
      rec[8 + i] = (uint8_t)((uint64_t)e->d_ino >> (8 * i));
    }
    for (int i = 0; i < 4; i++) rec[16 + i] = (uint8_t)(namlen >> (8 * i));
    rec[20] = type;
    uint64_t n = cap - used < sizeof rec ? cap - used : sizeof rec;
    memcpy(m->base + buf + used, rec, n);
    used += n;
    n = cap - used < namlen ? cap - used : namlen;
    if (n > 0) memcpy(m->base + buf + used, e->d_name, n);
    used += n;
  }
  closedir(d);
  if (rc != 0) return rc;
  return wasi_store_u32(m, a[4], (uint32_t)used);
}

/* -- Closing and renumbering ------------------------------------------------------------------- */

WASI_IMPL(fd_close) {
  (void)m;
  return wasi_fd_remove(ctx, (uint32_t)a[0]);
}

WASI_IMPL(fd_renumber) {
  (void)m;
  uint32_t from = (uint32_t)a[0], to = (uint32_t)a[1];
  wasi_fd *f = wasi_fd_get(ctx, from);
  if (f == NULL || wasi_fd_get(ctx, to) == NULL) return WASI_EBADF;
  if (from == to) return 0;
  wasi_fd_remove(ctx, to);
  ctx->fds[to] = ctx->fds[from];
  memset(&ctx->fds[from], 0, sizeof ctx->fds[from]);
  ctx->fds[from].host = -1;
  return 0;
}

/* -- Rights, advice, allocation, times --------------------------------------------------------- */

/* fd_fdstat_set_rights(fd, base, inheriting): rights may only shrink. */
WASI_IMPL(fd_fdstat_set_rights) {
  (void)m;
  wasi_fd *f = wasi_fd_get(ctx, (uint32_t)a[0]);
  if (f == NULL) return WASI_EBADF;
  if ((a[1] & ~f->rights_base) != 0 || (a[2] & ~f->rights_inh) != 0) return WASI_ENOTCAPABLE;
  f->rights_base = a[1];
  f->rights_inh = a[2];
  return 0;
}

/* fd_advise(fd, offset, len, advice) */
WASI_IMPL(fd_advise) {
  (void)m;
  static const int advice[] = {POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                               POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE};
  wasi_fd *f = wasi_fd_get(ctx, (uint32_t)a[0]);
  if (f == NULL) return WASI_EBADF;
  if (a[3] >= sizeof advice / sizeof advice[0] || a[1] > INT64_MAX || a[2] > INT64_MAX)
    return WASI_EINVAL;
  int e = posix_fadvise(f->host, (off_t)a[1], (off_t)a[2], advice[a[3]]);
  return e == 0 ? 0 : wasi_errno(e);
}

/* fd_allocate(fd, offset, len) */
WASI_IMPL(fd_allocate) {
  (void)m;
  wasi_fd *f = wasi_fd_get(ctx, (uint32_t)a[0]);
  if (f == NULL) return WASI_EBADF;
  if (a[1] > INT64_MAX || a[2] > INT64_MAX || a[1] + a[2] > INT64_MAX) return WASI_EINVAL;
  int e = posix_fallocate(f->host, (off_t)a[1], (off_t)a[2]);
  return e == 0 ? 0 : wasi_errno(e);
}

/* fd_filestat_set_times(fd, atim, mtim, fstflags) */
WASI_IMPL(fd_filestat_set_times) {
  (void)m;
  wasi_fd *f = wasi_fd_get(ctx, (uint32_t)a[0]);
  if (f == NULL) return WASI_EBADF;
  struct timespec ts[2];
  uint32_t rc = wasi_times(a[1], a[2], a[3], ts);
  if (rc != 0) return rc;
  return futimens(f->host, ts) != 0 ? wasi_errno(errno) : 0;
}
