/* wasi/wasi_env.c -- the preview1 functions that need no files: arguments, environment, clocks,
 * random bytes, sched_yield. Each checks the guest's pointers before writing anything.
 * Depends on: wasi/wasi_int.h, clock_gettime, getrandom.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "wasi_int.h"

/* -- Arguments and environment ----------------------------------------------------------------- */

/* Writes the count and the total size (with NULs) of a string list. */
static uint32_t list_sizes(char *const *list, size_t n, const wasi_mem *m, uint64_t out_count,
                           uint64_t out_size) {
  uint64_t total = 0;
  for (size_t i = 0; i < n; i++) total += strlen(list[i]) + 1;
  if (total > UINT32_MAX || n > UINT32_MAX) return WASI_EOVERFLOW;
  if (!wasi_mem_ok(m, out_count, 4) || !wasi_mem_ok(m, out_size, 4)) return WASI_EFAULT;
  wasi_store_u32(m, out_count, (uint32_t)n);
  wasi_store_u32(m, out_size, (uint32_t)total);
  return 0;
}

/* Writes n pointers at `ptrs` and the strings, NUL-terminated, one after another at `buf`. */
static uint32_t list_get(char *const *list, size_t n, const wasi_mem *m, uint64_t ptrs,
                         uint64_t buf) {
  uint64_t total = 0;
  for (size_t i = 0; i < n; i++) total += strlen(list[i]) + 1;
  if (!wasi_mem_ok(m, ptrs, (uint64_t)n * 4) || !wasi_mem_ok(m, buf, total)) return WASI_EFAULT;
  uint64_t at = buf;
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(list[i]) + 1;
    wasi_store_u32(m, ptrs + 4 * i, (uint32_t)at);
    memcpy(m->base + at, list[i], len);
    at += len;
  }
  return 0;
}

WASI_IMPL(args_sizes_get) { return list_sizes(ctx->args, ctx->nargs, m, a[0], a[1]); }
WASI_IMPL(args_get) { return list_get(ctx->args, ctx->nargs, m, a[0], a[1]); }
WASI_IMPL(environ_sizes_get) { return list_sizes(ctx->env, ctx->nenv, m, a[0], a[1]); }
WASI_IMPL(environ_get) { return list_get(ctx->env, ctx->nenv, m, a[0], a[1]); }

/* -- Clocks ------------------------------------------------------------------------------------ */

/* The host clock for WASI clock id `id` (0 realtime, 1 monotonic, 2 process, 3 thread CPU time). */
static bool host_clock(uint64_t id, clockid_t *out) {
  static const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                                  CLOCK_THREAD_CPUTIME_ID};
  if (id >= sizeof ids / sizeof ids[0]) return false;
  *out = ids[id];
  return true;
}

static uint64_t to_ns(const struct timespec *ts) {
  return (uint64_t)ts->tv_sec * UINT64_C(1000000000) + (uint64_t)ts->tv_nsec;
}

WASI_IMPL(clock_res_get) {
  (void)ctx;
  clockid_t id;
  struct timespec ts;
  if (!host_clock(a[0], &id)) return WASI_EINVAL;
  if (!wasi_mem_ok(m, a[1], 8)) return WASI_EFAULT;
  if (clock_getres(id, &ts) != 0) return wasi_errno(errno);
  return wasi_store_u64(m, a[1], to_ns(&ts));
}

WASI_IMPL(clock_time_get) {
  (void)ctx;
  clockid_t id;
  struct timespec ts;
  if (!host_clock(a[0], &id)) return WASI_EINVAL;
  if (!wasi_mem_ok(m, a[2], 8)) return WASI_EFAULT;
  if (clock_gettime(id, &ts) != 0) return wasi_errno(errno);
  return wasi_store_u64(m, a[2], to_ns(&ts));
}

/* -- Random and scheduling --------------------------------------------------------------------- */

WASI_IMPL(random_get) {
  (void)ctx;
  uint64_t ptr = a[0], len = a[1];
  if (!wasi_mem_ok(m, ptr, len)) return WASI_EFAULT;
  uint64_t done = 0;
  while (done < len) {
    size_t chunk = len - done > 65536 ? 65536 : (size_t)(len - done);
    ssize_t n = getrandom(m->base + ptr + done, chunk, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return wasi_errno(errno);
    }
    done += (uint64_t)n;
  }
  return 0;
}

WASI_IMPL(sched_yield) {
  (void)ctx;
  (void)m;
  (void)a;
  sched_yield();
  return 0;
}
