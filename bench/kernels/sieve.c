/* bench/kernels/sieve.c -- sieve of Eratosthenes over a byte array of about 8 M entries, repeated n times
 * with a slightly different limit each time. Checksum: wrapping sum of the prime counts.
 * Depends on bench.h (memset comes from rt.c in wasm, libc natively). */
#include "bench.h"

#define LIMIT (1 << 23)

static uint8_t composite[LIMIT];

uint32_t run(int32_t n)
{
  int32_t reps = clamp_n(n, 1, 1 << 20);
  uint32_t total = 0;
  for (int32_t r = 0; r < reps; r++) {
    int32_t limit = LIMIT - (r & 1023);
    memset(composite, 0, (size_t)limit);
    uint32_t count = 0;
    for (int32_t i = 2; i < limit; i++) {
      if (composite[i])
        continue;
      count++;
      if (i <= limit / i)
        for (int32_t j = i * i; j < limit; j += i)
          composite[j] = 1;
    }
    total += count;
  }
  return total;
}
