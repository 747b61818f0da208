/* tests/wasi/progs/escape.c -- guest program (wasm32-wasi): tries to leave the preopen (fd 3)
 * through "..", absolute paths and symlinks with raw path_open calls, and prints each WASI errno
 * (76 = ENOTCAPABLE expected for escapes); then the same through libc's fopen.
 * The host side (tests/wasi/run.cmake) makes box/{inside.txt, sub/, link_out -> ../secret.txt,
 * abs_out -> /etc, link_in -> inside.txt, loop -> loop}. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <wasi/api.h>

static void try_open(const char *p, int follow) {
  __wasi_fd_t fd = 0;
  __wasi_errno_t e = __wasi_path_open(3, follow ? __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW : 0, p, 0,
                                      __WASI_RIGHTS_FD_READ, 0, 0, &fd);
  printf("%s%s: %d\n", p, follow ? "" : " (nofollow)", e);
  if (e == 0) {
    char buf[32] = {0};
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf - 1};
    __wasi_size_t n = 0;
    if (__wasi_fd_read(fd, &iov, 1, &n) == 0) printf("  read: %s", buf);
    (void)__wasi_fd_close(fd);
  }
}

int main(int argc, char **argv) {
  try_open("inside.txt", 1);
  try_open("sub/../inside.txt", 1);
  try_open("link_in", 1);
  try_open("../secret.txt", 1);
  try_open("sub/../../secret.txt", 1);
  try_open("/etc/passwd", 1);
  try_open("link_out", 1);
  try_open("link_out", 0);
  try_open("abs_out/passwd", 1);
  try_open("sub/../link_out", 1);
  try_open("loop", 1);
  try_open("inside.txt/x", 1);
  if (argc > 1) {
    char p[256];
    snprintf(p, sizeof p, "%s/../secret.txt", argv[1]);
    FILE *f = fopen(p, "r");
    const char *why = errno == ENOTCAPABLE ? "ENOTCAPABLE" : strerror(errno);
    printf("fopen escape: %s\n", f == NULL ? why : "OPENED");
  }
  return 0;
}
