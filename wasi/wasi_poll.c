/* wasi/wasi_poll.c -- poll_oneoff: clock subscriptions (relative or absolute, any of the four
 * clocks; this is what sleep() and nanosleep() use) and fd read/write readiness, waited for with
 * one ppoll(). Depends on: wasi/wasi_int.h, ppoll, clock_gettime.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "wasi_int.h"

/* The most subscriptions one call may pass (EINVAL beyond): bounds the host allocation. */
#define MAX_SUBS 4096u

enum { SUB_CLOCK = 0, SUB_FD_READ = 1, SUB_FD_WRITE = 2 };
enum { SUBCLOCK_ABSTIME = 1 };
enum { EVENT_FD_HANGUP = 1 };

typedef struct sub {
  uint64_t userdata;
  uint8_t type;
  uint64_t delay_ns; /* clocks: from the start of the call */
  int pfd;           /* fds: index into the pollfd array, -1 when the fd is bad */
} sub;

/* -- Helpers ----------------------------------------------------------------------------------- */

static uint64_t now_ns(clockid_t id) {
  struct timespec ts;
  if (clock_gettime(id, &ts) != 0) return 0;
  return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static uint64_t load_u64(const wasi_mem *m, uint64_t p) {
  uint32_t lo = 0, hi = 0;
  wasi_load_u32(m, p, &lo);
  wasi_load_u32(m, p + 4, &hi);
  return (uint64_t)hi << 32 | lo;
}

/* Writes event `k` at `out`: {userdata, error, type, nbytes, flags}. */
static void put_event(const wasi_mem *m, uint64_t out, uint32_t k, const sub *s, uint16_t error,
                      uint64_t nbytes, uint16_t flags) {
  uint64_t e = out + (uint64_t)k * 32;
  memset(m->base + e, 0, 32);
  wasi_store_u64(m, e, s->userdata);
  wasi_store_u16(m, e + 8, error);
  wasi_store_u8(m, e + 10, s->type);
  wasi_store_u64(m, e + 16, nbytes);
  wasi_store_u16(m, e + 24, flags);
}

/* -- poll_oneoff(in, out, nsubscriptions, out_nevents) ----------------------------------------- */

WASI_IMPL(poll_oneoff) {
  uint64_t in = a[0], out = a[1], n = a[2], out_nevents = a[3];
  if (n == 0 || n > MAX_SUBS) return WASI_EINVAL;
  if (!wasi_mem_ok(m, in, n * 48) || !wasi_mem_ok(m, out, n * 32) ||
      !wasi_mem_ok(m, out_nevents, 4))
    return WASI_EFAULT;
  sub *subs = calloc(n, sizeof *subs);
  struct pollfd *pfds = calloc(n, sizeof *pfds);
  uint32_t rc = 0;
  if (subs == NULL || pfds == NULL) {
    rc = WASI_ENOMEM;
    goto out;
  }
  static const clockid_t clocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                                     CLOCK_THREAD_CPUTIME_ID};
  uint64_t start = now_ns(CLOCK_MONOTONIC), wait_ns = UINT64_MAX;
  nfds_t npfd = 0;
  bool bad_fd = false;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t p = in + i * 48;
    sub *s = &subs[i];
    s->userdata = load_u64(m, p);
    s->type = m->base[p + 8];
    s->pfd = -1;
    if (s->type == SUB_CLOCK) {
      uint32_t id = 0;
      wasi_load_u32(m, p + 16, &id);
      uint64_t timeout = load_u64(m, p + 24);
      uint16_t flags = (uint16_t)(m->base[p + 40] | m->base[p + 41] << 8);
      if (id >= sizeof clocks / sizeof clocks[0]) {
        rc = WASI_EINVAL;
        goto out;
      }
      if (flags & SUBCLOCK_ABSTIME) {
        uint64_t now = now_ns(clocks[id]);
        s->delay_ns = timeout > now ? timeout - now : 0;
      } else {
        s->delay_ns = timeout;
      }
      if (s->delay_ns < wait_ns) wait_ns = s->delay_ns;
    } else if (s->type == SUB_FD_READ || s->type == SUB_FD_WRITE) {
      uint32_t fd = 0;
      wasi_load_u32(m, p + 16, &fd);
      wasi_fd *f = wasi_fd_get(ctx, fd);
      if (f == NULL) {
        bad_fd = true;
        continue;
      }
      s->pfd = (int)npfd;
      pfds[npfd].fd = f->host;
      pfds[npfd].events = s->type == SUB_FD_READ ? POLLIN : POLLOUT;
      npfd++;
    } else {
      rc = WASI_EINVAL;
      goto out;
    }
  }
  if (bad_fd) wait_ns = 0; /* a bad fd is an event already */

  int r;
  for (;;) {
    struct timespec ts, *tsp = NULL;
    if (wait_ns != UINT64_MAX) {
      uint64_t spent = now_ns(CLOCK_MONOTONIC) - start;
      uint64_t left = wait_ns > spent ? wait_ns - spent : 0;
      ts.tv_sec = (time_t)(left / 1000000000u);
      ts.tv_nsec = (long)(left % 1000000000u);
      tsp = &ts;
    }
    r = ppoll(npfd > 0 ? pfds : NULL, npfd, tsp, NULL);
    if (r >= 0 || errno != EINTR) break;
  }
  if (r < 0) {
    rc = wasi_errno(errno);
    goto out;
  }
  uint64_t elapsed = now_ns(CLOCK_MONOTONIC) - start;
  uint32_t nev = 0;
  for (uint64_t i = 0; i < n; i++) {
    const sub *s = &subs[i];
    if (s->type == SUB_CLOCK) {
      if (s->delay_ns <= elapsed || (r == 0 && !bad_fd && s->delay_ns == wait_ns))
        put_event(m, out, nev++, s, 0, 0, 0);
    } else if (s->pfd < 0) {
      put_event(m, out, nev++, s, WASI_EBADF, 0, 0);
    } else {
      short re = pfds[s->pfd].revents;
      if (re == 0) continue;
      if (re & POLLNVAL) {
        put_event(m, out, nev++, s, WASI_EBADF, 0, 0);
        continue;
      }
      int avail = 0;
      if (s->type == SUB_FD_READ && ioctl(pfds[s->pfd].fd, FIONREAD, &avail) != 0) avail = 0;
      put_event(m, out, nev++, s, (re & POLLERR) ? WASI_EIO : 0, avail > 0 ? (uint64_t)avail : 0,
                (re & POLLHUP) ? EVENT_FD_HANGUP : 0);
    }
  }
  wasi_store_u32(m, out_nevents, nev);
out:
  free(subs);
  free(pfds);
  return rc;
}
