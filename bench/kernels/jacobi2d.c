/* bench/kernels/jacobi2d.c -- PolyBench-style jacobi-2d: n time steps of a 5-point stencil on a fixed
 * 1000 x 1000 grid of doubles, alternating between two arrays. Checksum: folded bits of the sum of A.
 * Depends on bench.h. */
#include "bench.h"

#define N 1000

static double A[N * N], B[N * N];

uint32_t run(int32_t n)
{
  int32_t tsteps = clamp_n(n, 1, 100000);
  for (int32_t i = 0; i < N; i++)
    for (int32_t j = 0; j < N; j++) {
      A[i * N + j] = ((double)i * (j + 2) + 2) / N;
      B[i * N + j] = ((double)i * (j + 3) + 3) / N;
    }
  for (int32_t t = 0; t < tsteps; t++) {
    for (int32_t i = 1; i < N - 1; i++)
      for (int32_t j = 1; j < N - 1; j++)
        B[i * N + j] = 0.2 * (A[i * N + j] + A[i * N + j - 1] + A[i * N + j + 1] + A[(i + 1) * N + j] +
                              A[(i - 1) * N + j]);
    for (int32_t i = 1; i < N - 1; i++)
      for (int32_t j = 1; j < N - 1; j++)
        A[i * N + j] = 0.2 * (B[i * N + j] + B[i * N + j - 1] + B[i * N + j + 1] + B[(i + 1) * N + j] +
                              B[(i - 1) * N + j]);
  }
  double sum = 0.0;
  for (int32_t i = 0; i < N * N; i++)
    sum += A[i];
  return fold_f64(sum);
}
