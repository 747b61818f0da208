/* wasi/wasi_path.c -- capability-style path resolution: a guest path is walked one component at a
 * time beneath a preopened directory (openat with O_PATH | O_NOFOLLOW), with ".." tracked on a
 * stack of directory fds and symlinks expanded by hand, so nothing outside the directory is ever
 * reached. Portable to kernels without openat2. Depends on: wasi/wasi_int.h, POSIX *at calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi_int.h"

/* Room for the rest of a path after a symlink was spliced in. */
#define REST_MAX (2 * WASI_PATH_MAX)
/* The deepest directory nesting one resolution may hold open. */
#define DEPTH_MAX 1024u

/* -- Resolution -------------------------------------------------------------------------------- */

uint32_t wasi_path_resolve(int base, const char *path, size_t len, bool follow_last, int *out_dir,
                           char *name) {
  *out_dir = -1;
  name[0] = '\0';
  if (len == 0) return WASI_ENOENT;
  if (len > WASI_PATH_MAX) return WASI_ENAMETOOLONG;
  if (memchr(path, '\0', len) != NULL) return WASI_EILSEQ;
  if (path[0] == '/') return WASI_ENOTCAPABLE;

  uint32_t rc = 0;
  int *stack = NULL; /* directories entered below `base`, innermost last */
  size_t depth = 0, cap = 0;
  unsigned links = 0;
  char *rest = malloc(REST_MAX + 1), *tmp = malloc(REST_MAX + 1), *link = malloc(WASI_PATH_MAX + 1);
  if (rest == NULL || tmp == NULL || link == NULL) {
    rc = WASI_ENOMEM;
    goto out;
  }
  memcpy(rest, path, len);
  rest[len] = '\0';
  char *p = rest;
  for (;;) {
    while (*p == '/') p++;
    if (*p == '\0') { /* "dir/" names dir itself */
      strcpy(name, ".");
      break;
    }
    char *slash = strchr(p, '/');
    size_t clen = slash != NULL ? (size_t)(slash - p) : strlen(p);
    bool last = slash == NULL;
    char *after = p + clen; /* "" or "/..." */
    if (clen > NAME_MAX) {
      rc = WASI_ENAMETOOLONG;
      goto out;
    }
    char comp[NAME_MAX + 1];
    memcpy(comp, p, clen);
    comp[clen] = '\0';
    int cur = depth > 0 ? stack[depth - 1] : base;

    if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0) {
      if (comp[1] == '.') {
        if (depth == 0) {
          rc = WASI_ENOTCAPABLE; /* would climb out of the preopen */
          goto out;
        }
        close(stack[--depth]);
      }
      if (last) {
        strcpy(name, ".");
        break;
      }
      p = after;
      continue;
    }
    if (last && !follow_last) {
      strcpy(name, comp);
      break;
    }
    int fd = openat(cur, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (last && errno == ENOENT) { /* a file about to be created */
        strcpy(name, comp);
        break;
      }
      rc = wasi_errno(errno);
      goto out;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
      rc = wasi_errno(errno);
      close(fd);
      goto out;
    }
    if (S_ISLNK(st.st_mode)) {
      ssize_t got = readlinkat(fd, "", link, WASI_PATH_MAX + 1);
      int e = errno;
      close(fd);
      if (got < 0) {
        rc = wasi_errno(e);
        goto out;
      }
      size_t n = (size_t)got, alen = strlen(after);
      if (++links > WASI_SYMLINK_MAX) rc = WASI_ELOOP;
      else if (n == 0) rc = WASI_ENOENT;
      else if (n > WASI_PATH_MAX || n + alen > REST_MAX) rc = WASI_ENAMETOOLONG;
      else if (link[0] == '/') rc = WASI_ENOTCAPABLE; /* absolute targets leave the sandbox */
      if (rc != 0) goto out;
      memcpy(tmp, link, n);
      memcpy(tmp + n, after, alen + 1);
      char *swap = rest;
      rest = tmp;
      tmp = swap;
      p = rest;
      continue;
    }
    if (last) {
      close(fd);
      strcpy(name, comp);
      break;
    }
    if (!S_ISDIR(st.st_mode)) {
      close(fd);
      rc = WASI_ENOTDIR;
      goto out;
    }
    if (depth == cap) {
      size_t ncap = cap != 0 ? cap * 2 : 8;
      int *grown = ncap <= DEPTH_MAX ? realloc(stack, ncap * sizeof *grown) : NULL;
      if (grown == NULL) {
        close(fd);
        rc = ncap <= DEPTH_MAX ? WASI_ENOMEM : WASI_ENAMETOOLONG;
        goto out;
      }
      stack = grown;
      cap = ncap;
    }
    stack[depth++] = fd;
    p = after;
  }
  if (depth > 0) *out_dir = stack[--depth]; /* handed to the caller, not closed below */
  else *out_dir = base;
out:
  while (depth > 0) close(stack[--depth]);
  free(stack);
  free(rest);
  free(tmp);
  free(link);
  return rc;
}
