/* bench/kernels/bench.h -- shared helpers for the benchmark kernels.
 * Each kernel is one C file that defines `uint32_t run(int32_t n)` and is built twice: for wasm32 with
 * clang-14 -nostdlib (no libc at all: only rt.c) and natively with gcc -O2 plus native_main.c.
 * Depends on nothing but the compiler: no libc headers, so the same source builds both ways. */
#ifndef WEFT_BENCH_H
#define WEFT_BENCH_H

typedef unsigned int uint32_t;
typedef int int32_t;
typedef unsigned long long uint64_t;
typedef long long int64_t;
typedef unsigned char uint8_t;
typedef __SIZE_TYPE__ size_t;

_Static_assert(sizeof(uint32_t) == 4 && sizeof(uint64_t) == 8, "fixed-width types");

/* The one export every engine calls; the harness compares its result across engines. */
uint32_t run(int32_t n);

void *memcpy(void *dst, const void *src, size_t len);
void *memset(void *dst, int c, size_t len);

/* -- Deterministic helpers ------------------------------------------------------------------------- */

/* Numerical Recipes LCG: identical sequence on every engine. */
static inline uint32_t lcg_next(uint32_t *state)
{
  *state = *state * 1664525u + 1013904223u;
  return *state;
}

/* Fold a double's bit pattern into 32 bits; engines that follow IEEE 754 agree bit for bit. */
static inline uint32_t fold_f64(double d)
{
  uint64_t bits;
  memcpy(&bits, &d, sizeof bits);
  return (uint32_t)bits ^ (uint32_t)(bits >> 32);
}

static inline int32_t clamp_n(int32_t n, int32_t lo, int32_t hi)
{
  return n < lo ? lo : n > hi ? hi : n;
}

#endif
