/* tests/wasi/progs/clock_random.c -- guest program (wasm32-wasi): clock_time_get (realtime,
 * monotonic, cputime), clock_res_get and random_get (getentropy), with plausibility checks. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  struct timespec a, b, r, c;
  int fails = 0;
  if (clock_gettime(CLOCK_REALTIME, &r) != 0 || r.tv_sec < 1600000000) {
    printf("realtime bad\n");
    fails++;
  }
  if (clock_gettime(CLOCK_MONOTONIC, &a) != 0) fails++;
  volatile unsigned long spin = 0;
  for (unsigned long i = 0; i < 3000000; i++) spin += i;
  (void)spin;
  if (clock_gettime(CLOCK_MONOTONIC, &b) != 0) fails++;
  long long da = (long long)a.tv_sec * 1000000000LL + a.tv_nsec;
  long long db = (long long)b.tv_sec * 1000000000LL + b.tv_nsec;
  if (db <= da) {
    printf("monotonic did not advance\n");
    fails++;
  }
  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c) != 0) fails++;
  if (clock_getres(CLOCK_MONOTONIC, &r) != 0 || (r.tv_sec == 0 && r.tv_nsec == 0)) {
    printf("resolution bad\n");
    fails++;
  }
  printf("clock ok=%d\n", fails == 0);

  unsigned char x[64], y[64], zero[64];
  memset(zero, 0, sizeof zero);
  if (getentropy(x, sizeof x) != 0 || getentropy(y, sizeof y) != 0) {
    printf("getentropy failed\n");
    return 1;
  }
  printf("random ok=%d\n", memcmp(x, y, sizeof x) != 0 && memcmp(x, zero, sizeof x) != 0);
  return fails == 0 ? 0 : 1;
}
