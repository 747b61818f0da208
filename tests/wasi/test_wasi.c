/* tests/wasi/test_wasi.c -- cmocka tests (unit.wasi) of the WASI library's internals in isolation:
 * path resolution beneath a directory (escapes, symlinks, loops, limits, no fd leaks), the guest
 * memory bounds checks and iovec gathering, the fd table, and preview1 implementations run
 * against a fake linear memory (a host buffer). Depends on: wasi/wasi_int.h, cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wasi_int.h"

/* -- Fixture: a directory tree ----------------------------------------------------------------- */

/* root/secret.txt, root/box/{inside.txt, sub/deeper/, link_out -> ../secret.txt, abs_out -> /etc,
 * link_in -> inside.txt, link_sub -> sub, dotdot -> .., loop -> loop} */
typedef struct tree {
  char root[64];
  char box[96];
  int base; /* open fd of box */
} tree;

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static int tree_setup(void **state) {
  tree *t = calloc(1, sizeof *t);
  assert_non_null(t);
  strcpy(t->root, "/tmp/weft-wasi-XXXXXX");
  assert_non_null(mkdtemp(t->root));
  snprintf(t->box, sizeof t->box, "%s/box", t->root);
  char p[256];
  assert_int_equal(mkdir(t->box, 0755), 0);
  snprintf(p, sizeof p, "%s/sub", t->box);
  assert_int_equal(mkdir(p, 0755), 0);
  snprintf(p, sizeof p, "%s/sub/deeper", t->box);
  assert_int_equal(mkdir(p, 0755), 0);
  snprintf(p, sizeof p, "%s/secret.txt", t->root);
  write_file(p, "secret\n");
  snprintf(p, sizeof p, "%s/inside.txt", t->box);
  write_file(p, "inside\n");
  static const char *const links[][2] = {{"../secret.txt", "link_out"}, {"/etc", "abs_out"},
                                         {"inside.txt", "link_in"},     {"sub", "link_sub"},
                                         {"..", "dotdot"},              {"loop", "loop"}};
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
    snprintf(p, sizeof p, "%s/%s", t->box, links[i][1]);
    assert_int_equal(symlink(links[i][0], p), 0);
  }
  t->base = open(t->box, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true(t->base >= 0);
  *state = t;
  return 0;
}

static int tree_teardown(void **state) {
  tree *t = *state;
  close(t->base);
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->root);
  int rc = system(cmd);
  free(t);
  return rc == 0 ? 0 : -1;
}

static int count_open_fds(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) return -1;
  while (readdir(d) != NULL) n++;
  closedir(d);
  return n;
}

/* Resolves `path` (NUL-terminated) and returns the errno; on success checks the last name. */
static uint32_t resolve(tree *t, const char *path, bool follow, const char *want_name) {
  int dir = -1;
  char name[NAME_MAX + 1];
  uint32_t rc = wasi_path_resolve(t->base, path, strlen(path), follow, &dir, name);
  if (rc == 0) {
    assert_true(dir >= 0);
    if (want_name != NULL) assert_string_equal(name, want_name);
    if (dir != t->base) close(dir);
  } else {
    assert_int_equal(dir, -1);
  }
  return rc;
}

/* -- Path resolution --------------------------------------------------------------------------- */

static void test_path_inside(void **state) {
  tree *t = *state;
  int before = count_open_fds();
  assert_int_equal(resolve(t, "inside.txt", true, "inside.txt"), 0);
  assert_int_equal(resolve(t, "./inside.txt", true, "inside.txt"), 0);
  assert_int_equal(resolve(t, "sub/deeper/new.txt", true, "new.txt"), 0);
  assert_int_equal(resolve(t, "sub//deeper/../deeper/x", false, "x"), 0);
  assert_int_equal(resolve(t, "sub/..", true, "."), 0);
  assert_int_equal(resolve(t, "sub/", true, "."), 0);
  assert_int_equal(resolve(t, ".", true, "."), 0);
  assert_int_equal(resolve(t, "link_in", false, "link_in"), 0);
  assert_int_equal(resolve(t, "link_in", true, "inside.txt"), 0);
  assert_int_equal(resolve(t, "link_sub/deeper/y", true, "y"), 0);
  assert_int_equal(count_open_fds(), before);
}

static void test_path_dir_is_right(void **state) {
  tree *t = *state;
  int dir = -1;
  char name[NAME_MAX + 1];
  assert_int_equal(wasi_path_resolve(t->base, "link_sub/deeper/z", 17, true, &dir, name), 0);
  struct stat a, b;
  char p[256];
  snprintf(p, sizeof p, "%s/sub/deeper", t->box);
  assert_int_equal(fstat(dir, &a), 0);
  assert_int_equal(stat(p, &b), 0);
  assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
  close(dir);
}

static void test_path_escapes(void **state) {
  tree *t = *state;
  int before = count_open_fds();
  assert_int_equal(resolve(t, "..", true, NULL), WASI_ENOTCAPABLE);
  assert_int_equal(resolve(t, "../secret.txt", true, NULL), WASI_ENOTCAPABLE);
  assert_int_equal(resolve(t, "sub/../../secret.txt", true, NULL), WASI_ENOTCAPABLE);
  assert_int_equal(resolve(t, "sub/deeper/../../..", true, NULL), WASI_ENOTCAPABLE);
  assert_int_equal(resolve(t, "/etc/passwd", true, NULL), WASI_ENOTCAPABLE);
  assert_int_equal(resolve(t, "link_out", true, NULL), WASI_ENOTCAPABLE);
  assert_int_equal(resolve(t, "abs_out/passwd", false, NULL), WASI_ENOTCAPABLE);
  assert_int_equal(resolve(t, "dotdot/secret.txt", false, NULL), WASI_ENOTCAPABLE);
  assert_int_equal(resolve(t, "link_sub/../dotdot/x", false, NULL), WASI_ENOTCAPABLE);
  /* Not following the last symlink leaves it to the caller's O_NOFOLLOW open: no escape. */
  assert_int_equal(resolve(t, "link_out", false, "link_out"), 0);
  assert_int_equal(count_open_fds(), before);
}

static void test_path_errors(void **state) {
  tree *t = *state;
  int before = count_open_fds();
  int dir = -1;
  char name[NAME_MAX + 1];
  assert_int_equal(resolve(t, "", true, NULL), WASI_ENOENT);
  assert_int_equal(wasi_path_resolve(t->base, "a\0b", 3, true, &dir, name), WASI_EILSEQ);
  assert_int_equal(resolve(t, "loop", true, NULL), WASI_ELOOP);
  assert_int_equal(resolve(t, "loop/x", false, NULL), WASI_ELOOP);
  assert_int_equal(resolve(t, "inside.txt/x", true, NULL), WASI_ENOTDIR);
  assert_int_equal(resolve(t, "missing/x", true, NULL), WASI_ENOENT);
  char longname[NAME_MAX + 10];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  assert_int_equal(resolve(t, longname, true, NULL), WASI_ENAMETOOLONG);
  char *huge = malloc(WASI_PATH_MAX + 2);
  assert_non_null(huge);
  for (size_t i = 0; i < WASI_PATH_MAX + 1; i++) huge[i] = i % 2 == 0 ? '.' : '/';
  huge[WASI_PATH_MAX + 1] = '\0';
  assert_int_equal(resolve(t, huge, true, NULL), WASI_ENAMETOOLONG);
  /* Many ".." pairs within the limit stay inside. */
  huge[0] = '\0';
  for (int i = 0; i < 300; i++) strcat(huge, "sub/../");
  strcat(huge, "inside.txt");
  assert_int_equal(resolve(t, huge, true, "inside.txt"), 0);
  free(huge);
  assert_int_equal(count_open_fds(), before);
}

/* -- Memory bounds and iovecs ------------------------------------------------------------------ */

static void test_mem_bounds(void **state) {
  (void)state;
  uint8_t buf[100];
  memset(buf, 0xAA, sizeof buf);
  wasi_mem m = {buf, sizeof buf};
  assert_true(wasi_mem_ok(&m, 0, 100));
  assert_true(wasi_mem_ok(&m, 100, 0));
  assert_false(wasi_mem_ok(&m, 101, 0));
  assert_false(wasi_mem_ok(&m, 99, 2));
  assert_false(wasi_mem_ok(&m, UINT32_MAX, 2));
  assert_false(wasi_mem_ok(&m, 50, UINT64_MAX));
  assert_false(wasi_mem_ok(&m, UINT64_MAX, 1));
  assert_int_equal(wasi_store_u32(&m, 96, 0x04030201), 0);
  assert_int_equal(buf[96], 1);
  assert_int_equal(buf[99], 4);
  assert_int_equal(wasi_store_u32(&m, 97, 0), WASI_EFAULT);
  assert_int_equal(wasi_store_u64(&m, 93, 0), WASI_EFAULT);
  assert_int_equal(buf[97], 2); /* nothing was written by the failed stores */
  uint32_t v = 0;
  assert_int_equal(wasi_load_u32(&m, 96, &v), 0);
  assert_int_equal(v, 0x04030201);
  assert_int_equal(wasi_load_u32(&m, 98, &v), WASI_EFAULT);
  wasi_mem none = {NULL, 0};
  assert_int_equal(wasi_store_u8(&none, 0, 1), WASI_EFAULT);
}

/* Writes iovec i {buf, len} at `at` in memory. */
static void put_iov(wasi_mem *m, uint32_t at, uint32_t i, uint32_t buf, uint32_t len) {
  assert_int_equal(wasi_store_u32(m, at + 8 * i, buf), 0);
  assert_int_equal(wasi_store_u32(m, at + 8 * i + 4, len), 0);
}

static void test_iovecs(void **state) {
  (void)state;
  uint8_t buf[256] = {0};
  wasi_mem m = {buf, sizeof buf};
  struct iovec v[4];
  size_t n = 99;
  put_iov(&m, 0, 0, 100, 10);
  put_iov(&m, 0, 1, 200, 56); /* ends exactly at the end */
  put_iov(&m, 0, 2, 256, 0);  /* empty, at the end: fine */
  assert_int_equal(wasi_iovecs(&m, 0, 3, v, 4, &n), 0);
  assert_int_equal(n, 3);
  assert_ptr_equal(v[0].iov_base, buf + 100);
  assert_int_equal(v[1].iov_len, 56);
  /* Capped: only two taken, but all checked. */
  assert_int_equal(wasi_iovecs(&m, 0, 3, v, 2, &n), 0);
  assert_int_equal(n, 2);
  put_iov(&m, 0, 2, 250, 7);
  assert_int_equal(wasi_iovecs(&m, 0, 3, v, 2, &n), WASI_EFAULT);
  assert_int_equal(n, 0);
  put_iov(&m, 0, 2, 0xFFFFFFF0u, 0x20);
  assert_int_equal(wasi_iovecs(&m, 0, 3, v, 4, &n), WASI_EFAULT);
  /* The array itself out of bounds, or a count whose size overflows 32 bits. */
  assert_int_equal(wasi_iovecs(&m, 250, 1, v, 4, &n), WASI_EFAULT);
  assert_int_equal(wasi_iovecs(&m, 0, 0x20000001u, v, 4, &n), WASI_EFAULT);
  assert_int_equal(wasi_iovecs(&m, 256, 0, v, 4, &n), 0);
  assert_int_equal(n, 0);
}

/* -- Fd table and context ---------------------------------------------------------------------- */

static void test_fd_table(void **state) {
  (void)state;
  weft_wasi_ctx *ctx = weft_wasi_ctx_new();
  assert_non_null(ctx);
  uint32_t fd = 0;
  int h = open("/dev/null", O_RDONLY | O_CLOEXEC);
  assert_true(h >= 0);
  assert_int_equal(wasi_fd_insert(ctx, h, WASI_FILETYPE_CHARACTER_DEVICE, 0, 0, &fd), 0);
  assert_int_equal(fd, 3);
  assert_non_null(wasi_fd_get(ctx, 3));
  assert_null(wasi_fd_get(ctx, 4));
  assert_null(wasi_fd_get(ctx, UINT32_MAX));
  assert_int_equal(wasi_fd_remove(ctx, 3), 0);
  assert_int_equal(wasi_fd_remove(ctx, 3), WASI_EBADF);
  assert_int_equal(wasi_fd_remove(ctx, 99), WASI_EBADF);
  /* Fill the table with borrowed (not owned) entries up to the limit. */
  uint32_t count = 0, rc;
  while ((rc = wasi_fd_insert(ctx, 0, WASI_FILETYPE_UNKNOWN, 0, 0, &fd)) == 0) {
    ctx->fds[fd].owned = false;
    count++;
  }
  assert_int_equal(rc, WASI_EMFILE);
  assert_int_equal(count, WASI_MAX_FDS - 3);
  assert_int_equal(wasi_fd_remove(ctx, 500), 0);
  assert_int_equal(wasi_fd_insert(ctx, 0, WASI_FILETYPE_UNKNOWN, 0, 0, &fd), 0);
  assert_int_equal(fd, 500);
  ctx->fds[fd].owned = false;
  weft_wasi_ctx_free(ctx);
}

static void test_ctx_api(void **state) {
  (void)state;
  weft_wasi_ctx *ctx = weft_wasi_ctx_new();
  assert_non_null(ctx);
  assert_int_equal(weft_wasi_push_env(ctx, "NOEQUALS"), WEFT_ERR_MISUSE);
  assert_int_equal(weft_wasi_push_env(ctx, "=value"), WEFT_ERR_MISUSE);
  assert_int_equal(weft_wasi_push_env(ctx, "K=a=b"), WEFT_OK);
  weft_error err;
  assert_int_equal(weft_wasi_preopen_dir(ctx, "/nonexistent/weft", NULL, &err), WEFT_ERR_IO);
  assert_non_null(strstr(err.message, "--dir /nonexistent/weft"));
  assert_int_equal(weft_wasi_preopen_dir(ctx, "/", "/root-for-guest", NULL), WEFT_OK);
  wasi_fd *f = wasi_fd_get(ctx, 3);
  assert_non_null(f);
  assert_true(f->preopen);
  assert_string_equal(f->name, "/root-for-guest");
  assert_int_equal(weft_wasi_function_count(), 46);
  bool saw_exit = false;
  for (size_t i = 0; i < weft_wasi_function_count(); i++) {
    const char *n = weft_wasi_function_name(i);
    assert_non_null(n);
    if (strcmp(n, "proc_exit") == 0) saw_exit = true;
    for (size_t j = 0; j < i; j++) assert_string_not_equal(n, weft_wasi_function_name(j));
  }
  assert_true(saw_exit);
  assert_null(weft_wasi_function_name(46));
  weft_wasi_ctx_free(ctx);
}

/* -- Preview1 implementations on a fake memory ------------------------------------------------- */

static void test_args(void **state) {
  (void)state;
  weft_wasi_ctx *ctx = weft_wasi_ctx_new();
  assert_non_null(ctx);
  assert_int_equal(weft_wasi_push_arg(ctx, "prog"), WEFT_OK);
  assert_int_equal(weft_wasi_push_arg(ctx, "a b"), WEFT_OK);
  uint8_t buf[64];
  memset(buf, 0xEE, sizeof buf);
  wasi_mem m = {buf, sizeof buf};
  uint64_t a[9] = {0, 4};
  assert_int_equal(wasi_args_sizes_get(ctx, &m, a), 0);
  uint32_t argc = 0, size = 0;
  wasi_load_u32(&m, 0, &argc);
  wasi_load_u32(&m, 4, &size);
  assert_int_equal(argc, 2);
  assert_int_equal(size, 9);
  uint64_t g[9] = {8, 16};
  assert_int_equal(wasi_args_get(ctx, &m, g), 0);
  uint32_t p0 = 0, p1 = 0;
  wasi_load_u32(&m, 8, &p0);
  wasi_load_u32(&m, 12, &p1);
  assert_int_equal(p0, 16);
  assert_int_equal(p1, 21);
  assert_string_equal((char *)buf + p0, "prog");
  assert_string_equal((char *)buf + p1, "a b");
  /* The strings would end past the memory: EFAULT, and nothing is written. */
  uint8_t copy[64];
  memcpy(copy, buf, sizeof buf);
  uint64_t bad[9] = {8, 60};
  assert_int_equal(wasi_args_get(ctx, &m, bad), WASI_EFAULT);
  uint64_t bad2[9] = {62, 16};
  assert_int_equal(wasi_args_get(ctx, &m, bad2), WASI_EFAULT);
  assert_memory_equal(buf, copy, sizeof buf);
  weft_wasi_ctx_free(ctx);
}

static void test_fd_write_pipe(void **state) {
  (void)state;
  int p[2];
  assert_int_equal(pipe(p), 0);
  weft_wasi_ctx *ctx = weft_wasi_ctx_new();
  assert_non_null(ctx);
  weft_wasi_set_stdio(ctx, -1, p[1], -1);
  uint8_t buf[128] = {0};
  wasi_mem m = {buf, sizeof buf};
  memcpy(buf + 64, "hello, ", 7);
  memcpy(buf + 80, "pipe", 4);
  put_iov(&m, 0, 0, 64, 7);
  put_iov(&m, 0, 1, 80, 4);
  uint64_t a[9] = {1, 0, 2, 32};
  assert_int_equal(wasi_fd_write(ctx, &m, a), 0);
  uint32_t n = 0;
  wasi_load_u32(&m, 32, &n);
  assert_int_equal(n, 11);
  char got[16] = {0};
  assert_int_equal(read(p[0], got, sizeof got - 1), 11);
  assert_string_equal(got, "hello, pipe");
  uint64_t to_stdin[9] = {0, 0, 2, 32};
  assert_int_equal(wasi_fd_write(ctx, &m, to_stdin), WASI_EBADF);
  uint64_t bad_out[9] = {1, 0, 2, 126};
  assert_int_equal(wasi_fd_write(ctx, &m, bad_out), WASI_EFAULT);
  uint64_t seek[9] = {1, 0, 0, 40};
  assert_int_equal(wasi_fd_seek(ctx, &m, seek), WASI_ESPIPE);
  weft_wasi_ctx_free(ctx);
  close(p[0]);
  close(p[1]);
}

static void test_path_open_impl(void **state) {
  tree *t = *state;
  weft_wasi_ctx *ctx = weft_wasi_ctx_new();
  assert_non_null(ctx);
  assert_int_equal(weft_wasi_preopen_dir(ctx, t->box, "/box", NULL), WEFT_OK);
  uint8_t buf[256] = {0};
  wasi_mem m = {buf, sizeof buf};
  /* fd_prestat_get / fd_prestat_dir_name */
  uint64_t ps[9] = {3, 0};
  assert_int_equal(wasi_fd_prestat_get(ctx, &m, ps), 0);
  uint32_t len = 0;
  wasi_load_u32(&m, 4, &len);
  assert_int_equal(len, 4);
  uint64_t dn[9] = {3, 8, 4};
  assert_int_equal(wasi_fd_prestat_dir_name(ctx, &m, dn), 0);
  assert_memory_equal(buf + 8, "/box", 4);
  uint64_t dn_short[9] = {3, 8, 3};
  assert_int_equal(wasi_fd_prestat_dir_name(ctx, &m, dn_short), WASI_ENAMETOOLONG);
  /* Create new.txt for writing, then try escaping paths. */
  memcpy(buf + 100, "sub/new.txt", 11);
  uint64_t op[9] = {3, 1, 100, 11, WASI_O_CREAT, WASI_RIGHT_FD_WRITE, 0, 0, 200};
  assert_int_equal(wasi_path_open(ctx, &m, op), 0);
  uint32_t fd = 0;
  wasi_load_u32(&m, 200, &fd);
  assert_int_equal(fd, 4);
  char p[256];
  snprintf(p, sizeof p, "%s/sub/new.txt", t->box);
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  uint64_t cl[9] = {4};
  assert_int_equal(wasi_fd_close(ctx, &m, cl), 0);
  memcpy(buf + 100, "../secret.txt", 13);
  uint64_t esc[9] = {3, 1, 100, 13, 0, WASI_RIGHT_FD_READ, 0, 0, 200};
  assert_int_equal(wasi_path_open(ctx, &m, esc), WASI_ENOTCAPABLE);
  memcpy(buf + 100, "link_out", 8);
  uint64_t lnk[9] = {3, 0, 100, 8, 0, WASI_RIGHT_FD_READ, 0, 0, 200};
  assert_int_equal(wasi_path_open(ctx, &m, lnk), WASI_ELOOP);
  lnk[1] = 1;
  assert_int_equal(wasi_path_open(ctx, &m, lnk), WASI_ENOTCAPABLE);
  /* The path or the result pointer outside memory. */
  uint64_t badp[9] = {3, 1, 250, 13, 0, WASI_RIGHT_FD_READ, 0, 0, 200};
  assert_int_equal(wasi_path_open(ctx, &m, badp), WASI_EFAULT);
  uint64_t badout[9] = {3, 1, 100, 8, 0, WASI_RIGHT_FD_READ, 0, 0, 254};
  assert_int_equal(wasi_path_open(ctx, &m, badout), WASI_EFAULT);
  /* A file fd is not a directory to open paths from. */
  uint64_t notdir[9] = {1, 1, 100, 8, 0, WASI_RIGHT_FD_READ, 0, 0, 200};
  assert_int_equal(wasi_path_open(ctx, &m, notdir), WASI_ENOTDIR);
  weft_wasi_ctx_free(ctx);
}

static void test_times_and_poll(void **state) {
  (void)state;
  struct timespec ts[2];
  assert_int_equal(wasi_times(0, 0, 1 | 2, ts), WASI_EINVAL);
  assert_int_equal(wasi_times(0, 0, 4 | 8, ts), WASI_EINVAL);
  assert_int_equal(wasi_times(0, 0, 16, ts), WASI_EINVAL);
  assert_int_equal(wasi_times(1500000000, 0, 1 | 8, ts), 0);
  assert_int_equal(ts[0].tv_sec, 1);
  assert_int_equal(ts[0].tv_nsec, 500000000);
  assert_int_equal(ts[1].tv_nsec, UTIME_NOW);
  assert_int_equal(wasi_times(0, 0, 0, ts), 0);
  assert_int_equal(ts[0].tv_nsec, UTIME_OMIT);

  weft_wasi_ctx *ctx = weft_wasi_ctx_new();
  assert_non_null(ctx);
  uint8_t buf[512] = {0};
  wasi_mem m = {buf, sizeof buf};
  /* No subscriptions, too many, and arrays outside memory. */
  uint64_t none[9] = {0, 200, 0, 500};
  assert_int_equal(wasi_poll_oneoff(ctx, &m, none), WASI_EINVAL);
  uint64_t many[9] = {0, 200, 100000, 500};
  assert_int_equal(wasi_poll_oneoff(ctx, &m, many), WASI_EINVAL);
  uint64_t oob[9] = {0, 200, 10, 500}; /* 10 events of 32 bytes at 200 end past 512 */
  assert_int_equal(wasi_poll_oneoff(ctx, &m, oob), WASI_EFAULT);
  /* One relative 1 ms monotonic clock, one bad fd: both fire at once. */
  wasi_store_u64(&m, 0, 7);
  wasi_store_u8(&m, 8, 0);
  wasi_store_u32(&m, 16, 1);
  wasi_store_u64(&m, 24, 1000000);
  wasi_store_u64(&m, 48, 9);
  wasi_store_u8(&m, 56, 1);
  wasi_store_u32(&m, 64, 99);
  uint64_t two[9] = {0, 200, 2, 500};
  assert_int_equal(wasi_poll_oneoff(ctx, &m, two), 0);
  uint32_t nev = 0, lo = 0;
  wasi_load_u32(&m, 500, &nev);
  assert_true(nev >= 1);
  bool saw_bad = false;
  for (uint32_t i = 0; i < nev; i++) {
    wasi_load_u32(&m, 200 + 32 * i, &lo);
    if (lo == 9) {
      saw_bad = true;
      assert_int_equal(buf[200 + 32 * i + 8], WASI_EBADF);
      assert_int_equal(buf[200 + 32 * i + 10], 1);
    }
  }
  assert_true(saw_bad);
  /* The clock alone: waits, then fires with its userdata. */
  wasi_store_u64(&m, 0, 42);
  uint64_t one[9] = {0, 200, 1, 500};
  assert_int_equal(wasi_poll_oneoff(ctx, &m, one), 0);
  wasi_load_u32(&m, 500, &nev);
  assert_int_equal(nev, 1);
  wasi_load_u32(&m, 200, &lo);
  assert_int_equal(lo, 42);
  /* An unknown clock id or subscription type. */
  wasi_store_u32(&m, 16, 9);
  assert_int_equal(wasi_poll_oneoff(ctx, &m, one), WASI_EINVAL);
  wasi_store_u8(&m, 8, 7);
  assert_int_equal(wasi_poll_oneoff(ctx, &m, one), WASI_EINVAL);
  weft_wasi_ctx_free(ctx);
}

/* -- Random calls: no crash, valid errnos, nothing outside the preopen touched ----------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static void test_random_calls(void **state) {
  tree *t = *state;
  static const char *const paths[] = {"..", "../secret.txt", "sub/../..", "link_out", "abs_out/x",
                                      "dotdot", "sub", "inside.txt", "new", "sub/new",
                                      "link_sub/../../secret.txt", "/etc", "loop", "."};
  static const char *const skip[] = {"poll_oneoff", "fd_allocate"}; /* could sleep / fill disk */
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  assert_true(devnull >= 0);
  int before = count_open_fds();
  weft_wasi_ctx *ctx = weft_wasi_ctx_new();
  assert_non_null(ctx);
  weft_wasi_set_stdio(ctx, devnull, devnull, devnull);
  assert_int_equal(weft_wasi_preopen_dir(ctx, t->box, "/box", NULL), WEFT_OK);
  enum { MEM = 4096 };
  uint8_t *buf = malloc(MEM);
  assert_non_null(buf);
  wasi_mem m = {buf, MEM};
  size_t calls = 0;
  for (int iter = 0; iter < 30000; iter++) {
    size_t fi = (size_t)(rnd() % wasi_function_total());
    wasi_impl impl = wasi_function_impl(fi);
    const char *name = weft_wasi_function_name(fi);
    if (impl == NULL || strcmp(name, skip[0]) == 0 || strcmp(name, skip[1]) == 0) continue;
    if (iter % 64 == 0)
      for (size_t i = 0; i < MEM; i++) buf[i] = (uint8_t)rnd();
    /* Plant a path at offset 1024 + 64*k, and iovecs at 0 that point into memory. */
    uint32_t k = (uint32_t)(rnd() % 16), plen = 0;
    const char *pth = paths[k % (sizeof paths / sizeof paths[0])];
    plen = (uint32_t)strlen(pth);
    memcpy(buf + 1024 + 64 * k, pth, plen);
    for (uint32_t i = 0; i < 4; i++) {
      put_iov(&m, 0, i, 2048 + (uint32_t)(rnd() % 2048), (uint32_t)(rnd() % 64));
    }
    const char *params = wasi_function_params(fi);
    uint64_t a[9] = {0};
    bool after_path = false;
    for (size_t i = 0; params[i] != '\0'; i++) {
      if (i == 0) {
        a[0] = rnd() % 4 != 0 ? 3 : rnd() % 8; /* mostly the preopen */
      } else if (after_path) {
        a[i] = rnd() % 8 != 0 ? plen : rnd() % (MEM + 64);
        after_path = false;
      } else {
        switch (rnd() % 7) {
        case 0: a[i] = rnd() % 8; break;                  /* an fd, a count, flags */
        case 1: a[i] = rnd() % (MEM + 64); break;          /* a pointer, maybe past the end */
        case 2:
        case 3: a[i] = 1024 + 64 * k; after_path = true; break; /* the planted path */
        case 4: a[i] = (uint32_t)rnd(); break;             /* anything 32-bit */
        case 5: a[i] = 3000 + rnd() % 64; break;           /* a result pointer in bounds */
        default: a[i] = params[i] == 'I' ? rnd() % 4096 : 0; break;
        }
      }
    }
    if (wasi_fd_get(ctx, 3) == NULL) /* closed or renumbered away: preopen it again */
      assert_int_equal(weft_wasi_preopen_dir(ctx, t->box, "/box", NULL), WEFT_OK);
    uint32_t rc = impl(ctx, &m, a);
    assert_true(rc <= WASI_ENOTCAPABLE);
    calls++;
  }
  assert_true(calls > 10000);
  weft_wasi_ctx_free(ctx);
  free(buf);
  assert_int_equal(count_open_fds(), before);
  close(devnull);
  /* Outside the preopen nothing changed: the root holds box and secret.txt, unmodified. */
  DIR *d = opendir(t->root);
  assert_non_null(d);
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    assert_true(strcmp(e->d_name, "box") == 0 || strcmp(e->d_name, "secret.txt") == 0);
    n++;
  }
  closedir(d);
  assert_int_equal(n, 2);
  char p[256], line[32] = {0};
  snprintf(p, sizeof p, "%s/secret.txt", t->root);
  FILE *f = fopen(p, "r");
  assert_non_null(f);
  assert_non_null(fgets(line, sizeof line, f));
  fclose(f);
  assert_string_equal(line, "secret\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_path_inside, tree_setup, tree_teardown),
      cmocka_unit_test_setup_teardown(test_path_dir_is_right, tree_setup, tree_teardown),
      cmocka_unit_test_setup_teardown(test_path_escapes, tree_setup, tree_teardown),
      cmocka_unit_test_setup_teardown(test_path_errors, tree_setup, tree_teardown),
      cmocka_unit_test(test_mem_bounds),
      cmocka_unit_test(test_iovecs),
      cmocka_unit_test(test_fd_table),
      cmocka_unit_test(test_ctx_api),
      cmocka_unit_test(test_args),
      cmocka_unit_test(test_fd_write_pipe),
      cmocka_unit_test(test_times_and_poll),
      cmocka_unit_test_setup_teardown(test_path_open_impl, tree_setup, tree_teardown),
      cmocka_unit_test_setup_teardown(test_random_calls, tree_setup, tree_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
