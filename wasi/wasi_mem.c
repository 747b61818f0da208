/* wasi/wasi_mem.c -- guest memory access for the WASI functions: every pointer and length the guest
 * passes is checked against the memory's current size before it is used (EFAULT otherwise).
 * Depends on: wasi/wasi_int.h.
 */
#include <string.h>

#include "wasi_int.h"

/* -- Loads and stores -------------------------------------------------------------------------- */

uint32_t wasi_load_u32(const wasi_mem *m, uint64_t ptr, uint32_t *out) {
  if (!wasi_mem_ok(m, ptr, 4)) return WASI_EFAULT;
  const uint8_t *p = m->base + ptr;
  *out = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
  return 0;
}

/* Stores the n low bytes of v, little-endian. */
static uint32_t store_le(const wasi_mem *m, uint64_t ptr, uint64_t v, unsigned n) {
  if (!wasi_mem_ok(m, ptr, n)) return WASI_EFAULT;
  uint8_t *p = m->base + ptr;
  for (unsigned i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
  return 0;
}

uint32_t wasi_store_u8(const wasi_mem *m, uint64_t ptr, uint8_t v) {
  return store_le(m, ptr, v, 1);
}
uint32_t wasi_store_u16(const wasi_mem *m, uint64_t ptr, uint16_t v) {
  return store_le(m, ptr, v, 2);
}
uint32_t wasi_store_u32(const wasi_mem *m, uint64_t ptr, uint32_t v) {
  return store_le(m, ptr, v, 4);
}
uint32_t wasi_store_u64(const wasi_mem *m, uint64_t ptr, uint64_t v) {
  return store_le(m, ptr, v, 8);
}

/* -- Iovecs ------------------------------------------------------------------------------------ */

uint32_t wasi_iovecs(const wasi_mem *m, uint32_t iovs, uint32_t n, struct iovec *out, size_t cap,
                     size_t *out_n) {
  *out_n = 0;
  if (!wasi_mem_ok(m, iovs, (uint64_t)n * 8)) return WASI_EFAULT;
  size_t take = n < cap ? n : cap;
  for (size_t i = 0; i < take; i++) {
    uint32_t buf = 0, len = 0;
    wasi_load_u32(m, (uint64_t)iovs + 8 * i, &buf);
    wasi_load_u32(m, (uint64_t)iovs + 8 * i + 4, &len);
    if (!wasi_mem_ok(m, buf, len)) return WASI_EFAULT;
    out[i].iov_base = m->base != NULL ? m->base + buf : NULL;
    out[i].iov_len = len;
  }
  /* The entries beyond `cap` are still checked, so the result does not depend on the cut. */
  for (size_t i = take; i < n; i++) {
    uint32_t buf = 0, len = 0;
    wasi_load_u32(m, (uint64_t)iovs + 8 * i, &buf);
    wasi_load_u32(m, (uint64_t)iovs + 8 * i + 4, &len);
    if (!wasi_mem_ok(m, buf, len)) return WASI_EFAULT;
  }
  *out_n = take;
  return 0;
}
