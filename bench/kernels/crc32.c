/* bench/kernels/crc32.c -- table-driven CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) over a
 * 1 MiB pseudo-random buffer, n times; each CRC is stored into the buffer before the next pass.
 * Checksum: the last CRC. Depends on bench.h. */
#include "bench.h"

#define BUF_SIZE (1 << 20)

static uint8_t buf[BUF_SIZE];
static uint32_t table[256];

static void make_table(void)
{
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++)
      c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
}

static uint32_t crc32(const uint8_t *p, uint32_t len)
{
  uint32_t c = 0xFFFFFFFFu;
  for (uint32_t i = 0; i < len; i++)
    c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t run(int32_t n)
{
  int32_t reps = clamp_n(n, 1, 1 << 24);
  make_table();
  uint32_t seed = 99;
  for (int i = 0; i < BUF_SIZE; i++)
    buf[i] = (uint8_t)(lcg_next(&seed) >> 24);
  uint32_t crc = 0;
  for (int32_t r = 0; r < reps; r++) {
    crc = crc32(buf, BUF_SIZE);
    uint32_t at = (uint32_t)r * 4u % (BUF_SIZE - 4);
    memcpy(buf + at, &crc, 4);
  }
  return crc;
}
