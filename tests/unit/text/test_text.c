/* tests/unit/text/test_text.c -- cmocka unit tests of the text front end: lexer (comments,
 * annotations, strings, errors with positions), number parsing (integers, floats with exact
 * rounding, NaN payloads), identifiers (every index space, labels, shadowing), the binary encoder
 * (LEB128, sections, abbreviations) and the script model.
 * Depends on: weft-text-obj (text/wat_int.h for the number parsers and LEB writers), cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wat_int.h"

/* -- Helpers ----------------------------------------------------------------------------------- */

typedef struct enc {
  int rc;
  uint8_t *b;
  size_t n;
  weft_diag d;
} enc;

static enc wat(const char *src) {
  enc e;
  memset(&e, 0, sizeof e);
  e.rc = weft_wat_to_wasm(src, strlen(src), "t.wat", &e.b, &e.n, &e.d);
  return e;
}

/* Find the payload of section `id` (first occurrence). */
static const uint8_t *section(const enc *e, uint8_t id, size_t *len) {
  size_t i = 8;
  while (i < e->n) {
    uint8_t sid = e->b[i++];
    size_t sz = 0, shift = 0;
    while (e->b[i] & 0x80) sz |= (size_t)(e->b[i++] & 0x7F) << shift, shift += 7;
    sz |= (size_t)e->b[i++] << shift;
    if (sid == id) {
      *len = sz;
      return e->b + i;
    }
    i += sz;
  }
  return NULL;
}

/* The body bytes of function `k` (after its size and locals). */
static const uint8_t *code_of(const enc *e, uint32_t k, size_t *len) {
  size_t sl;
  const uint8_t *p = section(e, 10, &sl);
  assert_non_null(p);
  p++; /* count < 128 in these tests */
  for (uint32_t i = 0;; i++) {
    size_t sz = *p++;
    if (i == k) {
      const uint8_t *q = p;
      uint32_t ngroups = *q++;
      for (uint32_t g = 0; g < ngroups; g++) q += 2;
      *len = sz - (size_t)(q - p);
      return q;
    }
    p += sz;
  }
}

static void expect_code(const char *src, const uint8_t *want, size_t wn) {
  enc e = wat(src);
  if (e.rc != WEFT_OK) fail_msg("%s: %s", e.d.origin, e.d.message);
  size_t n;
  const uint8_t *c = code_of(&e, 0, &n);
  if (n != wn || memcmp(c, want, wn) != 0) {
    for (size_t i = 0; i < n; i++) fprintf(stderr, "%02x ", c[i]);
    fprintf(stderr, "\n");
    fail_msg("code mismatch for %s", src);
  }
  free(e.b);
}

static void expect_error(const char *src, const char *prefix) {
  enc e = wat(src);
  assert_int_equal(e.rc, WEFT_ERR_TEXT);
  if (strncmp(e.d.message, prefix, strlen(prefix)) != 0) fail_msg("'%s' does not start with '%s'", e.d.message, prefix);
}

/* -- Numbers ----------------------------------------------------------------------------------- */

static uint32_t f32(const char *s) {
  uint32_t b = 0;
  if (!wat_parse_f32(s, strlen(s), &b)) fail_msg("f32 '%s' rejected", s);
  return b;
}

static uint64_t f64(const char *s) {
  uint64_t b = 0;
  if (!wat_parse_f64(s, strlen(s), &b)) fail_msg("f64 '%s' rejected", s);
  return b;
}

static void test_int_literals(void **state) {
  (void)state;
  uint64_t v;
  assert_true(wat_parse_int("0xffff_ffff", 11, 32, &v));
  assert_int_equal(v, 0xFFFFFFFFu);
  assert_true(wat_parse_int("-0x8000_0000", 12, 32, &v));
  assert_int_equal(v, 0x80000000u);
  assert_false(wat_parse_int("-0x8000_0001", 12, 32, &v));
  assert_false(wat_parse_int("0x1_0000_0000", 13, 32, &v));
  assert_false(wat_parse_int("+0x8000_0000", 12, 32, &v)); /* explicit sign: signed range */
  assert_true(wat_parse_int("18446744073709551615", 20, 64, &v));
  assert_true(v == UINT64_MAX);
  assert_false(wat_parse_int("18446744073709551616", 20, 64, &v));
  assert_false(wat_parse_int("1__0", 4, 32, &v));
  assert_false(wat_parse_int("_10", 3, 32, &v));
  assert_false(wat_parse_int("10_", 3, 32, &v));
  assert_false(wat_parse_int("0x", 2, 32, &v));
  assert_true(wat_parse_int("-128", 4, 8, &v));
  assert_int_equal(v, 0x80);
  assert_true(wat_parse_int("255", 3, 8, &v));
  assert_false(wat_parse_int("256", 3, 8, &v));
}

static void test_float_literals(void **state) {
  (void)state;
  assert_int_equal(f32("1.5"), 0x3FC00000u);
  assert_int_equal(f32("-0"), 0x80000000u);
  assert_int_equal(f32("0x1p-149"), 0x00000001u);
  assert_int_equal(f32("0x1.fffffep127"), 0x7F7FFFFFu);
  assert_int_equal(f32("inf"), 0x7F800000u);
  assert_int_equal(f32("-inf"), 0xFF800000u);
  assert_int_equal(f32("nan"), 0x7FC00000u);
  assert_int_equal(f32("-nan:0x1"), 0xFF800001u);
  assert_int_equal(f32("nan:0x7f_ffff"), 0x7FFFFFFFu);
  assert_int_equal(f32("1_000.000_1"), f32("1000.0001"));
  assert_int_equal(f32("1.e1"), 0x41200000u);
  /* Exact rounding from decimal, where rounding through f64 first would be wrong (const.wast):
     +0x1.00000100000000001p-50 in decimal */
  assert_int_equal(f32("+8.8817847263968443573e-16"), 0x26800000u);
  assert_int_equal(f32("+8.8817847263968443574e-16"), 0x26800001u);
  assert_int_equal(f32("+8.8817857851880284252e-16"), 0x26800001u);
  assert_int_equal(f32("-8.8817857851880284253e-16"), 0xA6800002u);
  /* halfway cases round to even */
  assert_int_equal(f32("0x1.000001p0"), 0x3F800000u);
  assert_int_equal(f32("0x1.000003p0"), 0x3F800002u);
  assert_int_equal(f32("0x1.00000100000000001p0"), 0x3F800001u);
  assert_true(f64("0x1.fffffffffffff7ffp1023") == 0x7FEFFFFFFFFFFFFFull); /* just below the halfway point */
  assert_true(f64("4.9406564584124654e-324") == 1);
  assert_true(f64("nan:0xf_ffff_ffff_ffff") == 0x7FFFFFFFFFFFFFFFull);
  uint32_t b;
  uint64_t b64;
  assert_false(wat_parse_f32("0x1p128", 7, &b));     /* overflow is out of range */
  assert_false(wat_parse_f32("1e39", 4, &b));
  assert_false(wat_parse_f32("nan:0x0", 7, &b));
  assert_false(wat_parse_f32("nan:0x80_0000", 13, &b));
  assert_false(wat_parse_f32(".5", 2, &b));
  assert_false(wat_parse_f32("1e", 2, &b));
  assert_false(wat_parse_f32("0x1.p", 5, &b));
  assert_false(wat_parse_f64("1e309", 5, &b64));
  assert_false(wat_parse_f64("0x1.fffffffffffff8p1023", 23, &b64)); /* halfway: rounds to even = inf */
  assert_false(wat_parse_f64("1._5", 4, &b64));
}

/* -- Lexer ------------------------------------------------------------------------------------- */

static void test_lexer_comments_annotations(void **state) {
  (void)state;
  enc e = wat("(; outer (; nested ;) still ;) (module ;; line\n (@custom \"x\" (a b) ()) (func (@a) nop))");
  assert_int_equal(e.rc, WEFT_OK);
  free(e.b);
  expect_error("(module (; unclosed", "unclosed block comment");
  expect_error("(module (@a", "unclosed annotation");
  expect_error("(module (@ a))", "empty annotation id");
  expect_error("(module (func $))", "empty identifier");
  expect_error("(module (func (i32.const 0)\x01))", "illegal character");
  expect_error("(module (export \"a\x01\" (func 0)) (func))", "illegal character");
  expect_error("(module (export \"\xff\" (func 0)) (func))", "malformed UTF-8");
}

static void test_lexer_error_positions(void **state) {
  (void)state;
  enc e = wat("(module\n  (func\n    i32.const 1 i32.bogus))");
  assert_int_equal(e.rc, WEFT_ERR_TEXT);
  assert_string_equal(e.d.origin, "t.wat:3:17");
  assert_string_equal(e.d.message, "unknown operator i32.bogus");
  e = wat("(module (func (result i32) (i32.add (i32.const 1) (i32.const 2) i32.add))");
  assert_int_equal(e.rc, WEFT_ERR_TEXT);
  assert_string_equal(e.d.message, "unexpected token: expected ')' but found 'i32.add'");
}

static void test_strings(void **state) {
  (void)state;
  enc e = wat("(module (memory 1) (data (i32.const 0) \"a\\t\\n\\r\\\"\\'\\\\\\41\\u{1F600}\\u{e9}\"))");
  assert_int_equal(e.rc, WEFT_OK);
  size_t n;
  const uint8_t *d = section(&e, 11, &n);
  assert_non_null(d);
  static const uint8_t want[] = {'a', '\t', '\n', '\r', '"', '\'', '\\', 'A', 0xF0, 0x9F, 0x98, 0x80, 0xC3, 0xA9};
  assert_int_equal(d[5], sizeof want);
  assert_memory_equal(d + 6, want, sizeof want);
  free(e.b);
  expect_error("(module (memory 1) (data (i32.const 0) \"\\q\"))", "unknown escape");
  expect_error("(module (memory 1) (data (i32.const 0) \"\\u{110000}\"))", "malformed escape");
}

/* -- Identifiers ------------------------------------------------------------------------------- */

static void test_labels(void **state) {
  (void)state;
  /* shadowing: the inner $l is depth 0, the outer one depth 1 from inside */
  static const uint8_t c1[] = {0x02, 0x40, 0x02, 0x40, 0x0C, 0x00, 0x0C, 0x01, 0x0B, 0x0B, 0x0B};
  expect_code("(module (func (block $l (block $l (br $l) (br 1)))))", c1, sizeof c1);
  static const uint8_t c2[] = {0x02, 0x40, 0x03, 0x40, 0x0C, 0x01, 0x0B, 0x0B, 0x0B};
  expect_code("(module (func block $a loop $b br $a end $b end $a))", c2, sizeof c2);
  expect_error("(module (func block $a end $b))", "mismatching label");
  expect_error("(module (func (br $nope)))", "unknown label");
  /* catch labels resolve outside the try_table's own label */
  static const uint8_t c3[] = {0x02, 0x40, 0x1F, 0x40, 0x01, 0x02, 0x00, 0x0B, 0x0B, 0x0B};
  expect_code("(module (func (block $out (try_table $t (catch_all $out)))))", c3, sizeof c3);
}

static void test_index_spaces(void **state) {
  (void)state;
  enc e = wat("(module (func $a) (func $b (call $c) (call $a)) (func $c) (global $g i32 (i32.const 0))"
              " (func (global.get $g) drop) (func $a2 (param $x i32) (local $y i64) (local.get $x) drop"
              " (local.get $y) drop))");
  assert_int_equal(e.rc, WEFT_OK);
  size_t n;
  const uint8_t *c = code_of(&e, 1, &n);
  static const uint8_t want[] = {0x10, 0x02, 0x10, 0x00, 0x0B};
  assert_int_equal(n, sizeof want);
  assert_memory_equal(c, want, sizeof want);
  free(e.b);
  expect_error("(module (func $f) (func $f))", "duplicate func");
  expect_error("(module (func (param $x i32) (local $x i32)))", "duplicate local");
  expect_error("(module (func (call $missing)))", "unknown function");
  expect_error("(module (func) (import \"m\" \"f\" (func)))", "import after function");
  expect_error("(module (start 0) (start 0) (func))", "multiple start sections");
}

/* -- Encoder ----------------------------------------------------------------------------------- */

static void test_leb128(void **state) {
  (void)state;
  wat_ctx *c = calloc(1, sizeof *c);
  wat_ctx_init(c, "x", NULL);
  wat_buf b = {0};
  if (setjmp(c->jb) == 0) {
    wat_u32(c, &b, 624485);
    wat_s32(c, &b, -123456);
    wat_s64(c, &b, INT64_MIN);
    wat_s32(c, &b, 63);
    wat_s32(c, &b, 64);
  }
  static const uint8_t want[] = {0xE5, 0x8E, 0x26, 0xC0, 0xBB, 0x78, 0x80, 0x80, 0x80, 0x80, 0x80,
                                 0x80, 0x80, 0x80, 0x80, 0x7F, 0x3F, 0xC0, 0x00};
  assert_int_equal(b.len, sizeof want);
  assert_memory_equal(b.d, want, sizeof want);
  wat_buf_free(&b);
  wat_ctx_free(c);
  free(c);
}

static void test_module_encoding(void **state) {
  (void)state;
  enc e = wat("(module)");
  assert_int_equal(e.rc, WEFT_OK);
  static const uint8_t empty[] = {0, 'a', 's', 'm', 1, 0, 0, 0};
  assert_int_equal(e.n, 8);
  assert_memory_equal(e.b, empty, 8);
  free(e.b);
  /* implicit types are matched and appended; inline import/export; sections in order */
  e = wat("(module (type (func (param i32))) (func (import \"m\" \"f\") (param i32))"
          " (func (export \"g\") (result i64) (i64.const -1)) (memory 1 2 shared))");
  assert_int_equal(e.rc, WEFT_OK);
  size_t n;
  const uint8_t *t = section(&e, 1, &n);
  static const uint8_t types[] = {0x02, 0x60, 0x01, 0x7F, 0x00, 0x60, 0x00, 0x01, 0x7E};
  assert_int_equal(n, sizeof types);
  assert_memory_equal(t, types, sizeof types);
  const uint8_t *im = section(&e, 2, &n);
  static const uint8_t imports[] = {0x01, 0x01, 'm', 0x01, 'f', 0x00, 0x00};
  assert_memory_equal(im, imports, sizeof imports);
  const uint8_t *mem = section(&e, 5, &n);
  static const uint8_t mems[] = {0x01, 0x03, 0x01, 0x02};
  assert_memory_equal(mem, mems, sizeof mems);
  free(e.b);
  /* (module binary ...) is its bytes; (module quote ...) its text */
  e = wat("(module $m binary \"\\00asm\" \"\\01\\00\\00\\00\")");
  assert_int_equal(e.rc, WEFT_OK);
  assert_int_equal(e.n, 8);
  assert_memory_equal(e.b, empty, 8);
  free(e.b);
  e = wat("(module quote \"(func (export \\\"f\\\"))\")");
  assert_int_equal(e.rc, WEFT_OK);
  assert_non_null(section(&e, 7, &n));
  free(e.b);
  /* data count section appears with memory.init */
  e = wat("(module (memory 1) (data \"x\") (func (memory.init 0 (i32.const 0) (i32.const 0) (i32.const 1))))");
  assert_int_equal(e.rc, WEFT_OK);
  assert_non_null(section(&e, 12, &n));
  free(e.b);
}

static void test_instructions(void **state) {
  (void)state;
  /* folded operands come first; memarg with alignment and offset; memory index */
  static const uint8_t c1[] = {0x41, 0x00, 0x28, 0x02, 0x10, 0x1A, 0x0B};
  expect_code("(module (memory 1) (func (drop (i32.load offset=16 (i32.const 0)))))", c1, sizeof c1);
  static const uint8_t c2[] = {0x41, 0x00, 0x28, 0x41, 0x01, 0x00, 0x1A, 0x0B};
  expect_code("(module (memory 1) (memory $m 1) (func (drop (i32.load $m align=2 (i32.const 0)))))", c2, sizeof c2);
  expect_error("(module (memory 1) (func (drop (i32.load align=3 (i32.const 0)))))", "alignment must be a power of two");
  /* v128.const in a float shape, lane ops, shuffle */
  static const uint8_t c3[] = {0xFD, 0x0C, 0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 0, 0, 0x80, 0x7F, 0, 0, 0xC0, 0x7F,
                               0xFD, 0x1F, 0x03, 0x1A, 0x0B};
  expect_code("(module (func (drop (f32x4.extract_lane 3 (v128.const f32x4 1 2 inf nan)))))", c3, sizeof c3);
  expect_error("(module (func (v128.const i32x4 1 2 3)))", "wrong number of lane literals");
  /* GC and reference types: ref.test with a nullable type picks the _null opcode */
  static const uint8_t c4[] = {0xD0, 0x6E, 0xFB, 0x15, 0x6C, 0x1A, 0x0B};
  expect_code("(module (func (drop (ref.test i31ref (ref.null any)))))", c4, sizeof c4);
  /* exceptions and stack switching */
  static const uint8_t c5[] = {0x02, 0x40, 0xD0, 0x01, 0xE3, 0x01, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0B, 0x0B};
  expect_code("(module (type $f (func)) (type $k (cont $f)) (tag $t)"
              " (func (block $h (resume $k (on $t $h) (on $t switch) (ref.null $k)))))", c5, sizeof c5);
  static const uint8_t c6[] = {0xD0, 0x01, 0xE4, 0x01, 0x00, 0x00, 0x0B};
  expect_code("(module (type $f (func)) (type $k (cont $f)) (tag $e)"
              " (func (resume_throw $k $e (ref.null $k))))", c6, sizeof c6);
  /* select with a type, br_table, call_indirect with an inline type */
  static const uint8_t c7[] = {0x02, 0x40, 0x41, 0x00, 0x0E, 0x01, 0x00, 0x00, 0x0B, 0x0B};
  expect_code("(module (func (block (br_table 0 0 (i32.const 0)))))", c7, sizeof c7);
  static const uint8_t c8[] = {0x41, 0x01, 0x41, 0x02, 0x41, 0x00, 0x1C, 0x01, 0x7F, 0x1A, 0x0B};
  expect_code("(module (func (drop (select (result i32) (i32.const 1) (i32.const 2) (i32.const 0)))))", c8, sizeof c8);
}

static void test_deep_nesting(void **state) {
  (void)state;
  size_t depth = 100000;
  size_t len = depth * 12 + 64;
  char *s = malloc(len);
  size_t o = (size_t)sprintf(s, "(module (func ");
  for (size_t i = 0; i < depth; i++) o += (size_t)sprintf(s + o, "(block ");
  for (size_t i = 0; i < depth; i++) s[o++] = ')';
  o += (size_t)sprintf(s + o, "))");
  uint8_t *b = NULL;
  size_t n;
  weft_diag d;
  assert_int_equal(weft_wat_to_wasm(s, o, "deep", &b, &n, &d), WEFT_ERR_TEXT);
  assert_non_null(strstr(d.message, "nesting too deep"));
  /* flat blocks nest without recursion: this works */
  o = (size_t)sprintf(s, "(module (func ");
  for (size_t i = 0; i < depth; i++) o += (size_t)sprintf(s + o, "block ");
  for (size_t i = 0; i < depth; i++) o += (size_t)sprintf(s + o, "end ");
  o += (size_t)sprintf(s + o, "))");
  int rc = weft_wat_to_wasm(s, o, "deep", &b, &n, &d);
  if (rc == WEFT_OK) free(b);
  else assert_non_null(strstr(d.message, "nesting too deep"));
  free(s);
}

/* -- Scripts ----------------------------------------------------------------------------------- */

static void test_script(void **state) {
  (void)state;
  const char *src = "(module $M (func (export \"f\") (param i32) (result i32) (local.get 0)))\n"
                    "(register \"m\" $M)\n"
                    "(assert_return (invoke $M \"f\" (i32.const -1)) (i32.const 0xffffffff))\n"
                    "(assert_return (invoke \"g\") (f32.const nan:canonical) (either (i32.const 1) (ref.null)))\n"
                    "(assert_return (invoke \"v\") (v128.const f32x4 nan:arithmetic 1 2 3))\n"
                    "(assert_malformed (module quote \"(func i32.bogus)\") \"unknown operator\")\n"
                    "(assert_trap (invoke \"f\" (ref.extern 7)) \"unreachable\")\n"
                    "(module definition $D binary \"\\00asm\" \"\\01\\00\\00\\00\")\n"
                    "(module instance $I $D)\n"
                    "(assert_suspension (invoke \"s\") \"unhandled\")\n";
  weft_wast *w = NULL;
  weft_diag d;
  assert_int_equal(weft_wast_parse(src, strlen(src), "s.wast", &w, &d), WEFT_OK);
  assert_int_equal(w->ncmds, 10);
  assert_int_equal(w->cmds[0].kind, WEFT_WAST_CMD_MODULE);
  assert_string_equal(w->cmds[0].module->id, "M");
  assert_int_equal(w->cmds[1].kind, WEFT_WAST_CMD_REGISTER);
  assert_string_equal(w->cmds[1].name, "m");
  const weft_wast_cmd *r = &w->cmds[2];
  assert_int_equal(r->line, 3);
  assert_string_equal(r->action.module_id, "M");
  assert_int_equal(r->action.args[0].u.i32, 0xFFFFFFFFu);
  assert_int_equal(r->results[0].u.i32, 0xFFFFFFFFu);
  assert_int_equal(w->cmds[3].results[0].nan[0], WEFT_WAST_NAN_CANONICAL);
  assert_int_equal(w->cmds[3].results[1].kind, WEFT_WAST_EITHER);
  assert_int_equal(w->cmds[3].results[1].neither, 2);
  assert_int_equal(w->cmds[4].results[0].nan[0], WEFT_WAST_NAN_ARITHMETIC);
  assert_int_equal(w->cmds[4].results[0].shape, WEFT_WAST_F32X4);
  const weft_wast_module *q = w->cmds[5].module;
  assert_int_equal(q->form, WEFT_WAST_MOD_QUOTE);
  const uint8_t *b;
  size_t n;
  bool owned;
  weft_diag qd;
  assert_int_equal(weft_wast_module_bytes(q, &b, &n, &owned, &qd), WEFT_ERR_TEXT);
  assert_string_equal(qd.message, "unknown operator i32.bogus");
  assert_int_equal(w->cmds[6].action.args[0].kind, WEFT_WAST_REF_EXTERN);
  assert_int_equal(w->cmds[6].action.args[0].index, 7);
  assert_true(w->cmds[7].module->definition);
  assert_int_equal(w->cmds[7].module->len, 8);
  assert_int_equal(w->cmds[8].kind, WEFT_WAST_CMD_INSTANCE);
  assert_string_equal(w->cmds[8].def_id, "D");
  assert_int_equal(w->cmds[9].kind, WEFT_WAST_CMD_ASSERT_SUSPENSION);
  weft_wast_free(w);
  /* a text module that does not parse is recorded, and the script goes on */
  const char *src2 = "(module (func i32.bogus))\n(module (func))\n";
  assert_int_equal(weft_wast_parse(src2, strlen(src2), "m.wast", &w, &d), WEFT_OK);
  assert_int_equal(w->ncmds, 2);
  assert_non_null(w->cmds[0].module->error);
  assert_null(w->cmds[0].module->bytes);
  assert_int_equal(weft_wast_module_bytes(w->cmds[0].module, &b, &n, &owned, &qd), WEFT_ERR_TEXT);
  assert_string_equal(qd.origin, "m.wast:1:15");
  assert_string_equal(qd.message, "unknown operator i32.bogus");
  assert_null(w->cmds[1].module->error);
  assert_int_equal(w->cmds[1].module->len, 24); /* header 8 + type 6 + func 4 + code 6 */
  weft_wast_free(w);
  assert_int_equal(weft_wast_parse("(assert_return (invoke \"f\")", 27, "bad.wast", &w, &d), WEFT_ERR_TEXT);
  assert_string_equal(d.origin, "bad.wast:1:28");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_int_literals),      cmocka_unit_test(test_float_literals),
      cmocka_unit_test(test_lexer_comments_annotations), cmocka_unit_test(test_lexer_error_positions),
      cmocka_unit_test(test_strings),           cmocka_unit_test(test_labels),
      cmocka_unit_test(test_index_spaces),      cmocka_unit_test(test_leb128),
      cmocka_unit_test(test_module_encoding),   cmocka_unit_test(test_instructions),
      cmocka_unit_test(test_deep_nesting),      cmocka_unit_test(test_script),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
