/* tests/unit/decode/test_util.h -- byte-buffer builder for hand-made modules in the decoder tests.
 * Header-only (static functions); each test file includes it once. Depends on: cmocka, decode.h.
 */
#ifndef TEST_DECODE_UTIL_H
#define TEST_DECODE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "types.h"

typedef struct buf {
  uint8_t b[32768];
  size_t n;
} buf;

static inline void put(buf *o, const void *p, size_t n) {
  assert_true(o->n + n <= sizeof o->b);
  memcpy(o->b + o->n, p, n);
  o->n += n;
}
static inline void put8(buf *o, uint8_t v) { put(o, &v, 1); }
static inline void putu(buf *o, uint64_t v) {
  do {
    uint8_t b = v & 0x7F;
    v >>= 7;
    put8(o, (uint8_t)(b | (v ? 0x80 : 0)));
  } while (v);
}
static inline void puts_(buf *o, int64_t v) {
  for (;;) {
    uint8_t b = v & 0x7F;
    v >>= 7;
    int done = (v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40));
    put8(o, (uint8_t)(b | (done ? 0 : 0x80)));
    if (done) break;
  }
}
/* Bytes written as a literal: B(o, 0x60, 0x00, 0x00). */
#define B(o, ...)                                                                                  \
  do {                                                                                             \
    static const uint8_t b_[] = {__VA_ARGS__};                                                     \
    put((o), b_, sizeof b_);                                                                       \
  } while (0)

static inline void header(buf *o) {
  o->n = 0;
  B(o, 0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00);
}
static inline void section(buf *o, uint8_t id, const buf *content) {
  put8(o, id);
  putu(o, content->n);
  put(o, content->b, content->n);
}

/* Decodes `o`; returns the status and leaves the module (or NULL) in *m and the diagnostic in *d. */
static inline int dec(core_types *reg, const buf *o, weft_module **m, weft_diag *d) {
  memset(d, 0, sizeof *d);
  return core_decode(reg, o->b, o->n, m, d);
}

/* Asserts that `o` is rejected with a message starting with `msg`; returns the error offset. */
static inline uint64_t expect_error(const buf *o, const char *msg) {
  weft_module *m = (weft_module *)1;
  weft_diag d;
  int rc = dec(NULL, o, &m, &d);
  if (rc == 0 || strncmp(d.message, msg, strlen(msg)) != 0)
    print_error("expected \"%s\", got rc=%d \"%s\"\n", msg, rc, rc ? d.message : "");
  assert_int_not_equal(rc, 0);
  assert_null(m);
  assert_string_equal(d.origin, "decode");
  assert_true(strncmp(d.message, msg, strlen(msg)) == 0);
  return d.offset;
}

static inline weft_module *expect_ok(core_types *reg, const buf *o) {
  weft_module *m = NULL;
  weft_diag d;
  int rc = dec(reg, o, &m, &d);
  if (rc != 0) print_error("unexpected error @%llu: %s\n", (unsigned long long)d.offset, d.message);
  assert_int_equal(rc, 0);
  assert_non_null(m);
  return m;
}

#endif
