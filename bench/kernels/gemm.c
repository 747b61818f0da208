/* bench/kernels/gemm.c -- PolyBench-style gemm: C = alpha*A*B + beta*C on n x n doubles (n <= 1024).
 * Loop order i,k,j as in PolyBench 4. Checksum: the folded bits of the sum of C.
 * Depends on bench.h. */
#include "bench.h"

#define NMAX 1024

static double A[NMAX * NMAX], B[NMAX * NMAX], C[NMAX * NMAX];

uint32_t run(int32_t n)
{
  n = clamp_n(n, 1, NMAX);
  const double alpha = 1.5, beta = 1.2;
  for (int32_t i = 0; i < n; i++)
    for (int32_t j = 0; j < n; j++) {
      A[i * n + j] = (double)((i * (j + 1)) % n) / n;
      B[i * n + j] = (double)((i * (j + 2) + 1) % n) / n;
      C[i * n + j] = (double)((i * (j + 3) + 2) % n) / n;
    }
  for (int32_t i = 0; i < n; i++) {
    for (int32_t j = 0; j < n; j++)
      C[i * n + j] *= beta;
    for (int32_t k = 0; k < n; k++) {
      double a = alpha * A[i * n + k];
      for (int32_t j = 0; j < n; j++)
        C[i * n + j] += a * B[k * n + j];
    }
  }
  double sum = 0.0;
  for (int32_t i = 0; i < n * n; i++)
    sum += C[i];
  return fold_f64(sum);
}
