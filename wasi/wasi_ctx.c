/* wasi/wasi_ctx.c -- the WASI context: arguments, environment, stdio, preopened directories and
 * the guest fd table; host errno -> WASI errno.
 * Depends on: wasi/wasi_int.h, POSIX (open, fcntl, fstat).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi_int.h"

/* -- Context ----------------------------------------------------------------------------------- */

weft_wasi_ctx *weft_wasi_ctx_new(void) {
  weft_wasi_ctx *ctx = calloc(1, sizeof *ctx);
  if (ctx == NULL) return NULL;
  size_t nb = wasi_function_total();
  ctx->bindings = calloc(nb, sizeof *ctx->bindings);
  ctx->fds = calloc(8, sizeof *ctx->fds);
  if (ctx->bindings == NULL || ctx->fds == NULL) {
    weft_wasi_ctx_free(ctx);
    return NULL;
  }
  for (size_t i = 0; i < nb; i++) {
    ctx->bindings[i].ctx = ctx;
    ctx->bindings[i].index = i;
  }
  ctx->capfds = 8;
  ctx->nfds = 3;
  weft_wasi_set_stdio(ctx, 0, 1, 2);
  return ctx;
}

void weft_wasi_ctx_free(weft_wasi_ctx *ctx) {
  if (ctx == NULL) return;
  for (size_t i = 0; i < ctx->nargs; i++) free(ctx->args[i]);
  for (size_t i = 0; i < ctx->nenv; i++) free(ctx->env[i]);
  for (size_t i = 0; i < ctx->nfds; i++) wasi_fd_remove(ctx, (uint32_t)i);
  free(ctx->args);
  free(ctx->env);
  free(ctx->fds);
  free(ctx->bindings);
  free(ctx);
}

/* Appends a copy of `s` to *list. */
static int push_string(char ***list, size_t *n, const char *s) {
  char *copy = strdup(s);
  char **grown = copy != NULL ? realloc(*list, (*n + 1) * sizeof **list) : NULL;
  if (grown == NULL) {
    free(copy);
    return WEFT_ERR_NOMEM;
  }
  grown[*n] = copy;
  *list = grown;
  (*n)++;
  return WEFT_OK;
}

int weft_wasi_push_arg(weft_wasi_ctx *ctx, const char *arg) {
  if (ctx == NULL || arg == NULL) return WEFT_ERR_MISUSE;
  return push_string(&ctx->args, &ctx->nargs, arg);
}

int weft_wasi_push_env(weft_wasi_ctx *ctx, const char *key_value) {
  if (ctx == NULL || key_value == NULL) return WEFT_ERR_MISUSE;
  const char *eq = strchr(key_value, '=');
  if (eq == NULL || eq == key_value) return WEFT_ERR_MISUSE;
  return push_string(&ctx->env, &ctx->nenv, key_value);
}

void weft_wasi_set_stdio(weft_wasi_ctx *ctx, int in_fd, int out_fd, int err_fd) {
  if (ctx == NULL) return;
  int host[3] = {in_fd, out_fd, err_fd};
  for (int i = 0; i < 3; i++) {
    wasi_fd *f = &ctx->fds[i];
    if (f->owned && f->host >= 0) close(f->host);
    memset(f, 0, sizeof *f);
    f->host = host[i] >= 0 ? host[i] : -1;
    f->filetype = WASI_FILETYPE_UNKNOWN;
    struct stat st;
    if (f->host >= 0 && fstat(f->host, &st) == 0) f->filetype = wasi_filetype_of(st.st_mode);
    /* A terminal has no seek or tell right: that is how wasi-libc's isatty() recognizes it. */
    f->rights_base = WASI_RIGHTS_ALL;
    if (f->filetype == WASI_FILETYPE_CHARACTER_DEVICE)
      f->rights_base &= ~(WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL);
    f->rights_inh = 0;
  }
}

int weft_wasi_preopen_dir(weft_wasi_ctx *ctx, const char *host_path, const char *guest_path,
                          weft_error *err) {
  if (ctx == NULL || host_path == NULL) return WEFT_ERR_MISUSE;
  if (guest_path == NULL) guest_path = host_path;
  int rc = WEFT_ERR_IO;
  char *name = strdup(guest_path);
  int h = open(host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const char *why = h < 0 ? strerror(errno) : NULL;
  uint32_t fd = 0;
  if (name == NULL) {
    rc = WEFT_ERR_NOMEM;
    why = "out of memory";
  } else if (h >= 0 && wasi_fd_insert(ctx, h, WASI_FILETYPE_DIRECTORY, WASI_RIGHTS_ALL,
                                      WASI_RIGHTS_ALL, &fd) != 0) {
    why = "too many open files";
  } else if (h >= 0) {
    ctx->fds[fd].preopen = true;
    ctx->fds[fd].name = name;
    return WEFT_OK;
  }
  if (err != NULL) {
    memset(err, 0, sizeof *err);
    err->code = rc;
    err->offset = UINT64_MAX;
    snprintf(err->origin, sizeof err->origin, "wasi");
    snprintf(err->message, sizeof err->message, "--dir %s: %s", host_path, why);
  }
  if (h >= 0) close(h);
  free(name);
  return rc;
}

/* -- Fd table ---------------------------------------------------------------------------------- */

wasi_fd *wasi_fd_get(weft_wasi_ctx *ctx, uint32_t fd) {
  if (fd >= ctx->nfds || ctx->fds[fd].host < 0) return NULL;
  return &ctx->fds[fd];
}

uint32_t wasi_fd_insert(weft_wasi_ctx *ctx, int host, uint8_t filetype, uint64_t rights_base,
                        uint64_t rights_inh, uint32_t *out_fd) {
  size_t i = 3;
  while (i < ctx->nfds && ctx->fds[i].host >= 0) i++;
  if (i >= WASI_MAX_FDS) return WASI_EMFILE;
  if (i == ctx->nfds) {
    if (ctx->nfds == ctx->capfds) {
      size_t cap = ctx->capfds * 2;
      wasi_fd *grown = realloc(ctx->fds, cap * sizeof *grown);
      if (grown == NULL) return WASI_ENOMEM;
      ctx->fds = grown;
      ctx->capfds = cap;
    }
    ctx->nfds++;
  }
  wasi_fd *f = &ctx->fds[i];
  memset(f, 0, sizeof *f);
  f->host = host;
  f->owned = true;
  f->filetype = filetype;
  f->rights_base = rights_base;
  f->rights_inh = rights_inh;
  *out_fd = (uint32_t)i;
  return 0;
}

uint32_t wasi_fd_remove(weft_wasi_ctx *ctx, uint32_t fd) {
  wasi_fd *f = wasi_fd_get(ctx, fd);
  if (f == NULL) return WASI_EBADF;
  if (f->owned) close(f->host);
  free(f->name);
  memset(f, 0, sizeof *f);
  f->host = -1;
  return 0;
}

/* -- Host -> WASI ------------------------------------------------------------------------------ */

uint8_t wasi_filetype_of(unsigned mode) {
  if (S_ISREG(mode)) return WASI_FILETYPE_REGULAR_FILE;
  if (S_ISDIR(mode)) return WASI_FILETYPE_DIRECTORY;
  if (S_ISCHR(mode)) return WASI_FILETYPE_CHARACTER_DEVICE;
  if (S_ISBLK(mode)) return WASI_FILETYPE_BLOCK_DEVICE;
  if (S_ISLNK(mode)) return WASI_FILETYPE_SYMBOLIC_LINK;
  if (S_ISSOCK(mode)) return WASI_FILETYPE_SOCKET_STREAM;
  return WASI_FILETYPE_UNKNOWN;
}

uint32_t wasi_errno(int e) {
  switch (e) {
  case 0: return WASI_ESUCCESS;
  case E2BIG: return WASI_E2BIG;
  case EACCES: return WASI_EACCES;
  case EAGAIN: return WASI_EAGAIN;
  case EBADF: return WASI_EBADF;
  case EBUSY: return WASI_EBUSY;
  case EEXIST: return WASI_EEXIST;
  case EFAULT: return WASI_EFAULT;
  case EFBIG: return WASI_EFBIG;
  case EILSEQ: return WASI_EILSEQ;
  case EINTR: return WASI_EINTR;
  case EINVAL: return WASI_EINVAL;
  case EIO: return WASI_EIO;
  case EISDIR: return WASI_EISDIR;
  case ELOOP: return WASI_ELOOP;
  case EMFILE: return WASI_EMFILE;
  case EMLINK: return WASI_EMLINK;
  case ENAMETOOLONG: return WASI_ENAMETOOLONG;
  case ENFILE: return WASI_ENFILE;
  case ENODEV: return WASI_ENODEV;
  case ENOENT: return WASI_ENOENT;
  case ENOMEM: return WASI_ENOMEM;
  case ENOSPC: return WASI_ENOSPC;
  case ENOSYS: return WASI_ENOSYS;
  case ENOTDIR: return WASI_ENOTDIR;
  case ENOTEMPTY: return WASI_ENOTEMPTY;
  case EOPNOTSUPP: return WASI_ENOTSUP;
  case ENOTTY: return WASI_ENOTTY;
  case ENXIO: return WASI_ENXIO;
  case EOVERFLOW: return WASI_EOVERFLOW;
  case EPERM: return WASI_EPERM;
  case EPIPE: return WASI_EPIPE;
  case EROFS: return WASI_EROFS;
  case ESPIPE: return WASI_ESPIPE;
  case ETXTBSY: return WASI_ETXTBSY;
  case EXDEV: return WASI_EXDEV;
  default: return WASI_EIO;
  }
}
