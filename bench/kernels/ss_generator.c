/* bench/kernels/ss_generator.c -- native reference for the stack-switching generator benchmark: the same
 * checksum as gen/wasm_ss.py generator() computes with one suspend/resume pair per value, here a plain
 * loop. Only the native build uses this file; the wasm module is hand-encoded. Depends on bench.h. */
#include "bench.h"

/* Separate, not inlined, so the loop calls a "producer" as the wasm resumes one. */
__attribute__((noinline)) static uint32_t produce(uint32_t v)
{
  __asm__ volatile("" : : "r"(v) : "memory");
  return v;
}

uint32_t run(int32_t n)
{
  uint32_t sum = 0;
  for (uint32_t v = 0; v < (uint32_t)n; v++)
    sum = sum * 31u + produce(v);
  return sum;
}
