/* tests/wasi/progs/bounds.c -- guest program (wasm32-wasi): raw preview1 calls with pointers and
 * lengths outside linear memory (EFAULT 21 expected, never a crash), unimplemented functions
 * (ENOSYS 52), bad fds (EBADF 8) and a bad clock id (EINVAL 28). Run without --dir. */
#include <stdint.h>
#include <stdio.h>
#include <wasi/api.h>

#define BAD ((uintptr_t)0xFFFFFFF0u)

int main(void) {
  __wasi_size_t n = 0;
  __wasi_ciovec_t bad_buf = {(const uint8_t *)BAD, 100};
  printf("fd_write bad buffer: %d\n", __wasi_fd_write(1, &bad_buf, 1, &n));
  printf("fd_write bad iovs: %d\n", __wasi_fd_write(1, (const __wasi_ciovec_t *)BAD, 1, &n));
  __wasi_ciovec_t ok = {(const uint8_t *)"x\n", 2};
  printf("fd_write huge iovs_len: %d\n", __wasi_fd_write(1, &ok, 0x7fffffff, &n));
  printf("fd_write bad out: %d\n", __wasi_fd_write(1, &ok, 1, (__wasi_size_t *)BAD));
  __wasi_iovec_t rbad = {(uint8_t *)BAD, 16};
  printf("fd_read bad buffer: %d\n", __wasi_fd_read(0, &rbad, 1, &n));
  printf("args_sizes_get bad: %d\n", __wasi_args_sizes_get((__wasi_size_t *)BAD, &n));
  printf("random_get bad: %d\n", __wasi_random_get((uint8_t *)(uintptr_t)0xFFFFF000u, 0x2000));
  __wasi_timestamp_t t = 0;
  printf("clock_time_get bad: %d\n", __wasi_clock_time_get(1, 1, (__wasi_timestamp_t *)BAD));
  printf("clock_time_get id 99: %d\n", __wasi_clock_time_get(99, 1, &t));
  __wasi_prestat_t ps;
  printf("fd_prestat_get 3: %d\n", __wasi_fd_prestat_get(3, &ps));
  printf("fd_write fd 99: %d\n", __wasi_fd_write(99, &ok, 1, &n));
  printf("fd_close fd 99: %d\n", __wasi_fd_close(99));
  printf("sock_shutdown: %d\n", __wasi_sock_shutdown(1, __WASI_SDFLAGS_RD));
  printf("poll_oneoff none: %d\n", __wasi_poll_oneoff(0, 0, 0, &n));
  printf("poll_oneoff bad: %d\n", __wasi_poll_oneoff((const __wasi_subscription_t *)BAD,
                                                        (__wasi_event_t *)BAD, 4, &n));
  __wasi_fdstat_t fs;
  printf("fd_fdstat_get bad: %d\n", __wasi_fd_fdstat_get(1, (__wasi_fdstat_t *)BAD));
  printf("fd_fdstat_get 1: %d\n", __wasi_fd_fdstat_get(1, &fs));
  printf("still running\n");
  return 0;
}
