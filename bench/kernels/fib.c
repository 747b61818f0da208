/* bench/kernels/fib.c -- doubly recursive Fibonacci: a call-overhead benchmark (about 1.6^n calls).
 * Checksum: fib(n) mod 2^32. Depends on bench.h. */
#include "bench.h"

__attribute__((noinline)) static uint32_t fib(int32_t n)
{
  return n < 2 ? (uint32_t)n : fib(n - 1) + fib(n - 2);
}

uint32_t run(int32_t n)
{
  return fib(clamp_n(n, 0, 60));
}
