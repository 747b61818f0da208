/* bench/kernels/matmul.c -- naive integer matrix multiply (i,j,k dot-product order, strided column
 * walk) on n x n uint32 matrices (n <= 1024) with wrapping arithmetic. Checksum: wrapping hash of C.
 * Depends on bench.h. */
#include "bench.h"

#define NMAX 1024

static uint32_t A[NMAX * NMAX], B[NMAX * NMAX], C[NMAX * NMAX];

uint32_t run(int32_t n)
{
  n = clamp_n(n, 1, NMAX);
  uint32_t seed = 12345;
  for (int32_t i = 0; i < n * n; i++) {
    A[i] = lcg_next(&seed) >> 16;
    B[i] = lcg_next(&seed) >> 16;
  }
  for (int32_t i = 0; i < n; i++)
    for (int32_t j = 0; j < n; j++) {
      uint32_t acc = 0;
      for (int32_t k = 0; k < n; k++)
        acc += A[i * n + k] * B[k * n + j];
      C[i * n + j] = acc;
    }
  uint32_t h = 0;
  for (int32_t i = 0; i < n * n; i++)
    h = (h ^ C[i]) * 16777619u;
  return h;
}
