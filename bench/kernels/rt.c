/* bench/kernels/rt.c -- the libc-free runtime linked into every wasm32 kernel (never the native build).
 * Only what clang may emit calls to: memcpy, memset, memmove. Compiled with -fno-builtin so clang does not
 * turn these very loops back into calls to themselves. Depends on bench.h. */
#include "bench.h"

void *memmove(void *dst, const void *src, size_t len);

void *memcpy(void *dst, const void *src, size_t len)
{
  uint8_t *d = dst;
  const uint8_t *s = src;
  while (len--)
    *d++ = *s++;
  return dst;
}

void *memmove(void *dst, const void *src, size_t len)
{
  uint8_t *d = dst;
  const uint8_t *s = src;
  if (d < s) {
    while (len--)
      *d++ = *s++;
  } else {
    while (len--)
      d[len] = s[len];
  }
  return dst;
}

void *memset(void *dst, int c, size_t len)
{
  uint8_t *d = dst;
  while (len--)
    *d++ = (uint8_t)c;
  return dst;
}
