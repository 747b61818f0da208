/* bench/kernels/floyd.c -- PolyBench-style floyd-warshall: all-pairs shortest paths on an n x n int32
 * graph (n <= 1500), loop order k,i,j. Checksum: a position-weighted wrapping sum of the path matrix.
 * Depends on bench.h. */
#include "bench.h"

#define NMAX 1500

static int32_t path[NMAX * NMAX];

uint32_t run(int32_t n)
{
  n = clamp_n(n, 1, NMAX);
  for (int32_t i = 0; i < n; i++)
    for (int32_t j = 0; j < n; j++) {
      int32_t v = i * j % 7 + 1;
      if ((i + j) % 13 == 0 || (i + j) % 7 == 0 || (i + j) % 11 == 0)
        v = 999;
      path[i * n + j] = v;
    }
  for (int32_t k = 0; k < n; k++)
    for (int32_t i = 0; i < n; i++) {
      int32_t ik = path[i * n + k];
      for (int32_t j = 0; j < n; j++) {
        int32_t via = ik + path[k * n + j];
        if (via < path[i * n + j])
          path[i * n + j] = via;
      }
    }
  uint32_t sum = 0;
  for (int32_t i = 0; i < n * n; i++)
    sum = sum * 31u + (uint32_t)path[i];
  return sum;
}
