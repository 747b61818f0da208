/* bench/kernels/heapsort.c -- in-place binary-heap sort of 1 M pseudo-random uint32, n rounds with fresh
 * data each round. Checksum: position-weighted wrapping sum of each sorted array; 0xBAD if a round is
 * not sorted. Depends on bench.h. */
#include "bench.h"

#define COUNT (1 << 20)

static uint32_t a[COUNT];

static void sift_down(uint32_t *v, uint32_t root, uint32_t end)
{
  uint32_t x = v[root];
  for (;;) {
    uint32_t child = 2 * root + 1;
    if (child >= end)
      break;
    if (child + 1 < end && v[child + 1] > v[child])
      child++;
    if (v[child] <= x)
      break;
    v[root] = v[child];
    root = child;
  }
  v[root] = x;
}

static void heapsort(uint32_t *v, uint32_t count)
{
  for (uint32_t i = count / 2; i-- > 0;)
    sift_down(v, i, count);
  for (uint32_t end = count; end-- > 1;) {
    uint32_t t = v[0];
    v[0] = v[end];
    v[end] = t;
    sift_down(v, 0, end);
  }
}

uint32_t run(int32_t n)
{
  int32_t rounds = clamp_n(n, 1, 1 << 16);
  uint32_t seed = 4242, sum = 0;
  for (int32_t r = 0; r < rounds; r++) {
    for (uint32_t i = 0; i < COUNT; i++)
      a[i] = lcg_next(&seed);
    heapsort(a, COUNT);
    for (uint32_t i = 0; i < COUNT; i++) {
      if (i > 0 && a[i - 1] > a[i])
        return 0xBAD;
      sum += a[i] * (i + 1);
    }
  }
  return sum;
}
