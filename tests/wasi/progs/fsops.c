/* tests/wasi/progs/fsops.c -- guest program (wasm32-wasi): sleeping and polling (poll_oneoff),
 * rename, symlink/readlink (absolute targets refused, escaping ones unusable), hard links,
 * timestamps, truncation and allocation, in the preopened directory named argv[1]. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

static char buf1[512], buf2[512];

static const char *at(char *buf, const char *dir, const char *name) {
  snprintf(buf, 512, "%s/%s", dir, name);
  return buf;
}

static const char *err(int rc) {
  if (rc == 0) return "ok";
  return errno == ENOTCAPABLE ? "ENOTCAPABLE" : strerror(errno);
}

static long long mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *d = argv[1];

  long long t0 = mono_ns();
  struct timespec nap = {0, 20000000};
  nanosleep(&nap, NULL);
  printf("sleep ok=%d\n", mono_ns() - t0 >= 20000000LL);

  __wasi_subscription_t subs[2];
  memset(subs, 0, sizeof subs);
  subs[0].userdata = 11;
  subs[0].u.tag = __WASI_EVENTTYPE_CLOCK;
  subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  subs[0].u.u.clock.timeout = 5000000;
  subs[1].userdata = 22;
  subs[1].u.tag = __WASI_EVENTTYPE_CLOCK;
  subs[1].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  subs[1].u.u.clock.timeout = 5000000000ULL;
  __wasi_event_t ev[2];
  __wasi_size_t nev = 0;
  __wasi_errno_t e = __wasi_poll_oneoff(subs, ev, 2, &nev);
  printf("poll clocks: %d events=%u first=%llu\n", e, (unsigned)nev,
         (unsigned long long)ev[0].userdata);
  subs[0].userdata = 33;
  subs[0].u.tag = __WASI_EVENTTYPE_FD_WRITE;
  subs[0].u.u.fd_write.file_descriptor = 1;
  e = __wasi_poll_oneoff(subs, ev, 2, &nev);
  printf("poll stdout writable: %d events=%u first=%llu type=%d\n", e, (unsigned)nev,
         (unsigned long long)ev[0].userdata, ev[0].type);
  subs[0].u.u.fd_write.file_descriptor = 77;
  e = __wasi_poll_oneoff(subs, ev, 2, &nev);
  printf("poll bad fd: %d events=%u error=%d\n", e, (unsigned)nev, ev[0].error);

  FILE *f = fopen(at(buf1, d, "a.txt"), "w");
  fputs("content\n", f);
  fclose(f);
  printf("rename: %s\n", err(rename(at(buf1, d, "a.txt"), at(buf2, d, "b.txt"))));
  printf("old name gone: %d\n", access(at(buf1, d, "a.txt"), F_OK) != 0 && errno == ENOENT);
  printf("rename out: %s\n", err(rename(at(buf1, d, "b.txt"), at(buf2, d, "../b.txt"))));
  printf("symlink: %s\n", err(symlink("b.txt", at(buf1, d, "lnk"))));
  char target[64] = {0};
  ssize_t n = readlink(at(buf1, d, "lnk"), target, sizeof target - 1);
  printf("readlink: %zd %s\n", n, target);
  char line[32] = {0};
  f = fopen(at(buf1, d, "lnk"), "r");
  printf("through link: %s", f != NULL && fgets(line, sizeof line, f) ? line : "FAILED\n");
  if (f) fclose(f);
  printf("symlink absolute: %s\n", err(symlink("/etc/passwd", at(buf1, d, "abs"))));
  printf("symlink escaping: %s\n", err(symlink("../secret.txt", at(buf1, d, "esc"))));
  f = fopen(at(buf1, d, "esc"), "r");
  printf("open escaping link: %s\n", f == NULL ? err(-1) : "OPENED");
  printf("link: %s\n", err(link(at(buf1, d, "b.txt"), at(buf2, d, "hard"))));
  struct stat st;
  stat(at(buf1, d, "hard"), &st);
  printf("nlink: %lu\n", (unsigned long)st.st_nlink);
  struct timespec times[2] = {{1000000000, 0}, {1234567890, 500}};
  printf("utimensat: %s\n", err(utimensat(AT_FDCWD, at(buf1, d, "b.txt"), times, 0)));
  stat(at(buf1, d, "b.txt"), &st);
  printf("mtime: %lld.%09ld\n", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  int fd = open(at(buf1, d, "b.txt"), O_RDWR);
  printf("ftruncate: %s\n", err(ftruncate(fd, 3)));
  printf("fallocate: %d\n", posix_fallocate(fd, 0, 100));
  fstat(fd, &st);
  printf("size: %lld\n", (long long)st.st_size);
  close(fd);
  printf("unlink link: %s\n", err(unlink(at(buf1, d, "lnk"))));
  return 0;
}
