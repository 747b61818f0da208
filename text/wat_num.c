/* text/wat_num.c -- numeric literals of the text format: integers (decimal/hex, underscores, sign)
 * and floats (decimal, hex, inf, nan, nan:0x...). The grammar is checked here; the conversion of a
 * checked float literal uses the C library's strtof/strtod, which round correctly from the full
 * decimal or hex string to the target format (no double-rounding through f64 for f32).
 * Depends on: wat_int.h, libc (strtof, strtod; the "C" numeric locale).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wat_int.h"

/* -- Digits ------------------------------------------------------------------------------------ */

static int digit(char ch, bool hex) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (hex && ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (hex && ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

/* Scan digits with single underscores between them; copies the digits to out (when non-NULL).
 * Returns the number of characters consumed, 0 when no digit was found or an underscore is
 * misplaced (at the start, doubled, at the end). */
static size_t scan_digits(const char *s, size_t n, bool hex, char *out, size_t *outn) {
  size_t i = 0;
  bool last_digit = false;
  while (i < n) {
    if (digit(s[i], hex) >= 0) {
      if (out) out[(*outn)++] = s[i];
      last_digit = true;
      i++;
    } else if (s[i] == '_') {
      if (!last_digit || i + 1 >= n || digit(s[i + 1], hex) < 0) return 0;
      last_digit = false;
      i++;
    } else {
      break;
    }
  }
  return last_digit ? i : 0;
}

/* -- Integers ---------------------------------------------------------------------------------- */

/* Parse an unsigned magnitude (no sign). false on overflow of u64 or a malformed literal. */
static bool parse_mag(const char *s, size_t n, uint64_t *out) {
  bool hex = n > 2 && s[0] == '0' && s[1] == 'x';
  if (hex) { s += 2; n -= 2; }
  if (scan_digits(s, n, hex, NULL, NULL) != n) return false;
  uint64_t v = 0;
  uint64_t base = hex ? 16 : 10;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '_') continue;
    uint64_t d = (uint64_t)digit(s[i], hex);
    if (v > (UINT64_MAX - d) / base) return false;
    v = v * base + d;
  }
  *out = v;
  return true;
}

bool wat_parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out) {
  uint64_t v;
  if (n == 0 || s[0] == '+' || s[0] == '-') return false;
  if (!parse_mag(s, n, &v) || v > max) return false;
  *out = v;
  return true;
}

bool wat_parse_int(const char *s, size_t n, unsigned bits, uint64_t *out) {
  if (n == 0) return false;
  int sign = 0;
  if (s[0] == '+') sign = 1;
  if (s[0] == '-') sign = -1;
  if (sign) { s++; n--; }
  uint64_t v;
  if (!parse_mag(s, n, &v)) return false;
  uint64_t umax = bits == 64 ? UINT64_MAX : (1ull << bits) - 1;
  uint64_t half = 1ull << (bits - 1);
  if (sign == 0 && v > umax) return false;
  if (sign == 1 && v >= half) return false;
  if (sign == -1 && v > half) return false;
  if (sign == -1) v = (uint64_t)0 - v;
  if (bits < 64) v &= umax;
  *out = v;
  return true;
}

/* -- Floats ------------------------------------------------------------------------------------ */

/* Check the grammar of a finite float literal (without sign) and copy it without underscores into
 * out (capacity n + 1). */
static bool float_canon(const char *s, size_t n, char *out) {
  size_t o = 0, i = 0;
  bool hex = n > 2 && s[0] == '0' && s[1] == 'x';
  if (hex) { out[o++] = '0'; out[o++] = 'x'; i = 2; }
  size_t k = scan_digits(s + i, n - i, hex, out, &o);
  if (!k) return false;
  i += k;
  if (i < n && s[i] == '.') {
    out[o++] = '.';
    i++;
    if (i < n && digit(s[i], hex) >= 0) {
      k = scan_digits(s + i, n - i, hex, out, &o);
      if (!k) return false;
      i += k;
    }
  }
  if (i < n && (hex ? (s[i] == 'p' || s[i] == 'P') : (s[i] == 'e' || s[i] == 'E'))) {
    out[o++] = s[i++];
    if (i < n && (s[i] == '+' || s[i] == '-')) out[o++] = s[i++];
    k = scan_digits(s + i, n - i, false, out, &o);
    if (!k) return false;
    i += k;
  }
  if (hex && o > 2 && out[o - 1] == '.') out[o++] = '0';
  if (hex && !memchr(out, 'p', o) && !memchr(out, 'P', o)) { out[o++] = 'p'; out[o++] = '0'; }
  out[o] = 0;
  return i == n;
}

/* Shared: sign, inf, nan, nan:0x; finite values via the given converter. */
static bool parse_float(const char *s, size_t n, bool is64, uint64_t *out_bits) {
  if (n == 0) return false;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') { neg = s[0] == '-'; s++; n--; }
  uint64_t signbit = is64 ? 1ull << 63 : 1ull << 31;
  uint64_t expmask = is64 ? 0x7FF0000000000000ull : 0x7F800000ull;
  uint64_t mantmask = is64 ? 0x000FFFFFFFFFFFFFull : 0x007FFFFFull;
  uint64_t bits;
  if (n == 3 && memcmp(s, "inf", 3) == 0) {
    bits = expmask;
  } else if (n == 3 && memcmp(s, "nan", 3) == 0) {
    bits = expmask | (mantmask + 1) >> 1;
  } else if (n > 4 && memcmp(s, "nan:", 4) == 0) {
    uint64_t payload;
    if (n < 7 || s[4] != '0' || s[5] != 'x' || !parse_mag(s + 4, n - 4, &payload)) return false;
    if (payload == 0 || payload > mantmask) return false;
    bits = expmask | payload;
  } else {
    char stackbuf[256];
    char *buf = n + 8 <= sizeof stackbuf ? stackbuf : malloc(n + 8);
    if (!buf) return false;
    bool ok = float_canon(s, n, buf);
    if (ok) {
      errno = 0;
      if (is64) {
        double d = strtod(buf, NULL);
        if (isinf(d)) ok = false;
        memcpy(&bits, &d, 8);
      } else {
        float f = strtof(buf, NULL);
        uint32_t b32;
        if (isinf(f)) ok = false;
        memcpy(&b32, &f, 4);
        bits = b32;
      }
    }
    if (buf != stackbuf) free(buf);
    if (!ok) return false;
  }
  if (neg) bits |= signbit;
  *out_bits = bits;
  return true;
}

bool wat_parse_f32(const char *s, size_t n, uint32_t *out_bits) {
  uint64_t b;
  if (!parse_float(s, n, false, &b)) return false;
  *out_bits = (uint32_t)b;
  return true;
}

bool wat_parse_f64(const char *s, size_t n, uint64_t *out_bits) {
  return parse_float(s, n, true, out_bits);
}

/* -- Syntax only ------------------------------------------------------------------------------- */

bool wat_num_syntax(const char *s, size_t n, bool is_float) {
  if (n && (s[0] == '+' || s[0] == '-')) { s++; n--; }
  if (n == 0) return false;
  bool hex = n > 2 && s[0] == '0' && s[1] == 'x';
  size_t off = hex ? 2 : 0;
  if (scan_digits(s + off, n - off, hex, NULL, NULL) == n - off) return true;
  if (!is_float) return false;
  if ((n == 3 && (memcmp(s, "inf", 3) == 0 || memcmp(s, "nan", 3) == 0))) return true;
  if (n > 6 && memcmp(s, "nan:0x", 6) == 0) return scan_digits(s + 6, n - 6, true, NULL, NULL) == n - 6;
  char stackbuf[256];
  char *buf = n + 8 <= sizeof stackbuf ? stackbuf : malloc(n + 8);
  if (!buf) return false;
  bool ok = float_canon(s, n, buf);
  if (buf != stackbuf) free(buf);
  return ok;
}

/* -- Token helpers ----------------------------------------------------------------------------- */

uint32_t wat_tok_u32(wat_ctx *c, const wat_tok *t) {
  uint64_t v;
  if (t->kind != WAT_T_NUM) wat_fail(c, t, "unexpected token: expected a natural number but found '%.*s'", (int)t->len, t->p);
  if (!wat_parse_uint(t->p, t->len, UINT32_MAX, &v)) wat_fail(c, t, "i32 constant out of range: '%.*s'", (int)t->len, t->p);
  return (uint32_t)v;
}

uint64_t wat_tok_u64(wat_ctx *c, const wat_tok *t) {
  uint64_t v;
  if (t->kind != WAT_T_NUM) wat_fail(c, t, "unexpected token: expected a natural number but found '%.*s'", (int)t->len, t->p);
  if (!wat_parse_uint(t->p, t->len, UINT64_MAX, &v)) wat_fail(c, t, "i64 constant out of range: '%.*s'", (int)t->len, t->p);
  return v;
}
