/* bench/kernels/quicksort.c -- recursive quicksort (median of three, insertion sort below 16 elements,
 * recursion on the smaller half only) of 1 M pseudo-random int32, n rounds with fresh data each round.
 * Checksum: position-weighted wrapping sum of each sorted array; 0xBAD if a round is not sorted.
 * Depends on bench.h. */
#include "bench.h"

#define COUNT (1 << 20)

static int32_t a[COUNT];

static void insertion_sort(int32_t *v, int32_t lo, int32_t hi)
{
  for (int32_t i = lo + 1; i <= hi; i++) {
    int32_t x = v[i], j = i - 1;
    while (j >= lo && v[j] > x) {
      v[j + 1] = v[j];
      j--;
    }
    v[j + 1] = x;
  }
}

static void swap(int32_t *v, int32_t i, int32_t j)
{
  int32_t t = v[i];
  v[i] = v[j];
  v[j] = t;
}

/* Recurses only on the smaller part, so depth stays below log2(COUNT). */
static void quicksort(int32_t *v, int32_t lo, int32_t hi)
{
  while (hi - lo >= 16) {
    int32_t mid = lo + (hi - lo) / 2;
    if (v[mid] < v[lo]) swap(v, mid, lo);
    if (v[hi] < v[lo]) swap(v, hi, lo);
    if (v[hi] < v[mid]) swap(v, hi, mid);
    int32_t pivot = v[mid], i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        swap(v, i, j);
        i++;
        j--;
      }
    }
    if (j - lo < hi - i) {
      quicksort(v, lo, j);
      lo = i;
    } else {
      quicksort(v, i, hi);
      hi = j;
    }
  }
  insertion_sort(v, lo, hi);
}

uint32_t run(int32_t n)
{
  int32_t rounds = clamp_n(n, 1, 1 << 16);
  uint32_t seed = 42, sum = 0;
  for (int32_t r = 0; r < rounds; r++) {
    for (int32_t i = 0; i < COUNT; i++)
      a[i] = (int32_t)lcg_next(&seed);
    quicksort(a, 0, COUNT - 1);
    for (int32_t i = 0; i < COUNT; i++) {
      if (i > 0 && a[i - 1] > a[i])
        return 0xBAD;
      sum += (uint32_t)a[i] * (uint32_t)(i + 1);
    }
  }
  return sum;
}
