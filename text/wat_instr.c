/* text/wat_instr.c -- instructions of the text format (flat and folded) -> binary code.
 *
 * Mnemonics, opcode numbers and immediate shapes come from include/weft/opcodes.h. Folded operands
 * are emitted before their operator by parking the operator's bytes on the `pend` stack. Nesting is
 * bounded by WAT_MAX_DEPTH (checked before recursing); flat blocks use the label stack, no
 * recursion. Depends on: wat_int.h, wat_module.c (types, index resolution), wat_num.c.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "wat_int.h"

/* -- Opcode table ------------------------------------------------------------------------------ */

static const wat_opinfo op_list[] = {
#define OP_ROW(id, code, text, imm, sig) {text, code, WEFT_IMM_##imm, 0},
    WEFT_OPCODE_LIST(OP_ROW)
#undef OP_ROW
};
#define NOPS (sizeof op_list / sizeof op_list[0])

static uint16_t op_hash[2048]; /* index + 1 into op_list_aligned; 0 = empty */
static wat_opinfo op_tab[NOPS];
static pthread_once_t op_once = PTHREAD_ONCE_INIT;

static uint32_t str_hash(const char *s, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
  return h;
}

/* log2 of the natural alignment of a memory instruction, from its mnemonic. */
static uint8_t natural_align(const char *name) {
  const char *p = strstr(name, "load");
  if (!p) p = strstr(name, "store");
  if (!p) return 0;
  p += p[0] == 'l' ? 4 : 5;
  if (*p >= '0' && *p <= '9') {
    int bits = atoi(p);
    if (strchr(p, 'x')) return 3; /* v128.load8x8_s etc.: 64 bits */
    return (uint8_t)(bits == 8 ? 0 : bits == 16 ? 1 : bits == 32 ? 2 : 3);
  }
  if (strncmp(name, "v128", 4) == 0) return 4;
  if (strncmp(name, "i64", 3) == 0 || strncmp(name, "f64", 3) == 0) return 3;
  return 2;
}

static void build_ops(void) {
  for (size_t i = 0; i < NOPS; i++) {
    op_tab[i] = op_list[i];
    if (op_tab[i].imm == WEFT_IMM_MEMARG || op_tab[i].imm == WEFT_IMM_MEMARG_LANE)
      op_tab[i].natalign = natural_align(op_tab[i].name);
    uint32_t h = str_hash(op_tab[i].name, strlen(op_tab[i].name)) & 2047;
    while (op_hash[h]) h = (h + 1) & 2047;
    op_hash[h] = (uint16_t)(i + 1);
  }
}

const wat_opinfo *wat_op_lookup(const char *s, size_t n) {
  pthread_once(&op_once, build_ops);
  uint32_t h = str_hash(s, n) & 2047;
  while (op_hash[h]) {
    const wat_opinfo *o = &op_tab[op_hash[h] - 1];
    if (strlen(o->name) == n && memcmp(o->name, s, n) == 0) return o;
    h = (h + 1) & 2047;
  }
  return NULL;
}

void wat_put_op(wat_ctx *c, wat_buf *b, uint16_t op) {
  if (op < 0x100) {
    wat_u8(c, b, (uint8_t)op);
  } else if (op < 0x200) {
    wat_u8(c, b, WEFT_PREFIX_GC);
    wat_u32(c, b, op - 0x100u);
  } else if (op < 0x300) {
    wat_u8(c, b, WEFT_PREFIX_MISC);
    wat_u32(c, b, op - 0x200u);
  } else {
    wat_u8(c, b, WEFT_PREFIX_SIMD);
    wat_u32(c, b, op - 0x400u);
  }
}

/* -- Immediates -------------------------------------------------------------------------------- */

static bool at_index(wat_ctx *c) {
  uint8_t k = wat_peek(c, 0)->kind;
  return k == WAT_T_ID || k == WAT_T_NUM;
}

static uint32_t index_imm(wat_ctx *c, int space) {
  uint32_t v = wat_resolve(c, space, wat_peek(c, 0));
  wat_next(c);
  return v;
}

static uint32_t opt_index(wat_ctx *c, int space) {
  return at_index(c) ? index_imm(c, space) : 0;
}

static uint32_t local_imm(wat_ctx *c) {
  const wat_tok *t = wat_peek(c, 0);
  uint32_t v;
  if (t->kind == WAT_T_NUM) v = wat_tok_u32(c, t);
  else if (t->kind == WAT_T_ID) {
    if (!wat_map_get(&c->locals, t->v, t->vlen, &v))
      wat_fail(c, t, "unknown local $%.*s", (int)t->vlen, t->v);
  } else {
    wat_fail(c, t, "unexpected token: expected a local index but found '%.*s'", (int)t->len, t->p);
  }
  wat_next(c);
  return v;
}

static uint32_t label_imm(wat_ctx *c) {
  const wat_tok *t = wat_peek(c, 0);
  uint32_t v = 0;
  if (t->kind == WAT_T_NUM) v = wat_tok_u32(c, t);
  else if (t->kind == WAT_T_ID) {
    uint32_t i = c->nlabels;
    bool found = false;
    while (i-- > 0) {
      if (c->labels[i].name && c->labels[i].len == t->vlen && memcmp(c->labels[i].name, t->v, t->vlen) == 0) {
        v = c->nlabels - 1 - i;
        found = true;
        break;
      }
    }
    if (!found) wat_fail(c, t, "unknown label $%.*s", (int)t->vlen, t->v);
  } else {
    wat_fail(c, t, "unexpected token: expected a label but found '%.*s'", (int)t->len, t->p);
  }
  wat_next(c);
  return v;
}

static uint32_t field_imm(wat_ctx *c, uint32_t type) {
  const wat_tok *t = wat_peek(c, 0);
  uint32_t v;
  if (t->kind == WAT_T_ID) {
    if (type >= c->ntypes_cap || type >= c->sp[WAT_SP_TYPE].n ||
        !wat_map_get(&c->types[type].fields, t->v, t->vlen, &v))
      wat_fail(c, t, "unknown field $%.*s", (int)t->vlen, t->v);
    wat_next(c);
    return v;
  }
  v = wat_tok_u32(c, t);
  wat_next(c);
  return v;
}

/* A literal that did not parse: malformed tokens are "unknown operator" (as the reference lexer
 * sees them), well-formed ones are out of range. */
_Noreturn static void bad_number(wat_ctx *c, const wat_tok *t, const char *what, bool is_float) {
  if (wat_is_kw(t, "nan:canonical") || wat_is_kw(t, "nan:arithmetic"))
    wat_fail(c, t, "unexpected token: expected a %s literal but found '%.*s'", what, (int)t->len, t->p);
  if (t->kind == WAT_T_KEYWORD && wat_num_syntax(t->p, t->len, is_float))
    wat_fail(c, t, "constant out of range: %s literal '%.*s'", what, (int)t->len, t->p);
  if (t->kind != WAT_T_NUM || !wat_num_syntax(t->p, t->len, is_float))
    wat_fail(c, t, "unknown operator: expected a %s literal but found '%.*s'", what, (int)t->len, t->p);
  wat_fail(c, t, "constant out of range: %s literal '%.*s'", what, (int)t->len, t->p);
}

static void i32_imm(wat_ctx *c, wat_buf *b) {
  const wat_tok *t = wat_next(c);
  uint64_t v;
  if (t->kind != WAT_T_NUM) wat_fail(c, t, "unexpected token: expected an i32 literal but found '%.*s'", (int)t->len, t->p);
  if (!wat_parse_int(t->p, t->len, 32, &v)) bad_number(c, t, "i32", false);
  wat_s32(c, b, (int32_t)(uint32_t)v);
}

static void i64_imm(wat_ctx *c, wat_buf *b) {
  const wat_tok *t = wat_next(c);
  uint64_t v;
  if (t->kind != WAT_T_NUM) wat_fail(c, t, "unexpected token: expected an i64 literal but found '%.*s'", (int)t->len, t->p);
  if (!wat_parse_int(t->p, t->len, 64, &v)) bad_number(c, t, "i64", false);
  wat_s64(c, b, (int64_t)v);
}

static uint32_t f32_lit(wat_ctx *c) {
  const wat_tok *t = wat_next(c);
  uint32_t bits;
  if (t->kind != WAT_T_NUM && t->kind != WAT_T_KEYWORD)
    wat_fail(c, t, "unexpected token: expected an f32 literal but found '%.*s'", (int)t->len, t->p);
  if (!wat_parse_f32(t->p, t->len, &bits)) {
    if (t->kind == WAT_T_KEYWORD && !(t->p[0] == 'n' || t->p[0] == 'i'))
      wat_fail(c, t, "unexpected token: expected an f32 literal but found '%.*s'", (int)t->len, t->p);
    bad_number(c, t, "f32", true);
  }
  return bits;
}

static uint64_t f64_lit(wat_ctx *c) {
  const wat_tok *t = wat_next(c);
  uint64_t bits;
  if (t->kind != WAT_T_NUM && t->kind != WAT_T_KEYWORD)
    wat_fail(c, t, "unexpected token: expected an f64 literal but found '%.*s'", (int)t->len, t->p);
  if (!wat_parse_f64(t->p, t->len, &bits)) {
    if (t->kind == WAT_T_KEYWORD && !(t->p[0] == 'n' || t->p[0] == 'i'))
      wat_fail(c, t, "unexpected token: expected an f64 literal but found '%.*s'", (int)t->len, t->p);
    bad_number(c, t, "f64", true);
  }
  return bits;
}

static void put_le(uint8_t *d, uint64_t v, int n) {
  for (int i = 0; i < n; i++) d[i] = (uint8_t)(v >> (8 * i));
}

void wat_v128_lanes(wat_ctx *c, uint8_t out[16]) {
  const wat_tok *s = wat_next(c);
  static const struct { const char *kw; int n, bits; bool fl; } shapes[] = {
      {"i8x16", 16, 8, false}, {"i16x8", 8, 16, false}, {"i32x4", 4, 32, false},
      {"i64x2", 2, 64, false}, {"f32x4", 4, 32, true},  {"f64x2", 2, 64, true}};
  for (size_t k = 0; k < 6; k++) {
    if (!wat_is_kw(s, shapes[k].kw)) continue;
    /* Count the literals first, as the reference interpreter does: a wrong count is reported as
     * such even when a literal is also out of range (simd_const.wast). */
    for (int i = 0; i < shapes[k].n; i++) {
      const wat_tok *t = wat_peek(c, i);
      if (t->kind != WAT_T_NUM && t->kind != WAT_T_KEYWORD)
        wat_fail(c, t, "wrong number of lane literals: expected %d for %s but found '%.*s'", shapes[k].n,
                 shapes[k].kw, (int)t->len, t->p);
    }
    for (int i = 0; i < shapes[k].n; i++) {
      const wat_tok *t = wat_peek(c, 0);
      if (t->kind != WAT_T_NUM && t->kind != WAT_T_KEYWORD)
        wat_fail(c, t, "wrong number of lane literals: expected %d for %s but found '%.*s'", shapes[k].n,
                 shapes[k].kw, (int)t->len, t->p);
      int w = shapes[k].bits / 8;
      if (shapes[k].fl) {
        if (w == 4) put_le(out + i * 4, f32_lit(c), 4);
        else put_le(out + i * 8, f64_lit(c), 8);
      } else {
        uint64_t v;
        wat_next(c);
        if (t->kind != WAT_T_NUM || !wat_parse_int(t->p, t->len, (unsigned)shapes[k].bits, &v))
          bad_number(c, t, shapes[k].kw, false);
        put_le(out + i * w, v, w);
      }
    }
    const wat_tok *t = wat_peek(c, 0);
    if (t->kind == WAT_T_NUM || (t->kind == WAT_T_KEYWORD && (wat_is_kw(t, "nan") || wat_is_kw(t, "inf"))))
      wat_fail(c, t, "wrong number of lane literals: expected %d for %s", shapes[k].n, shapes[k].kw);
    return;
  }
  wat_fail(c, s, "unexpected token: expected a lane shape (i8x16 ... f64x2) but found '%.*s'", (int)s->len, s->p);
}

static uint8_t lane_imm(wat_ctx *c, bool shuffle) {
  const wat_tok *t = wat_peek(c, 0);
  uint64_t v;
  if (shuffle && t->kind == WAT_T_NUM && !wat_parse_uint(t->p, t->len, 255, &v))
    wat_fail(c, t, "malformed lane index: expected 0..255 but found '%.*s'", (int)t->len, t->p);
  if (t->kind == WAT_T_NUM && wat_parse_uint(t->p, t->len, UINT64_MAX, &v) && v > 255)
    wat_fail(c, t, "malformed lane index: %.*s is above 255", (int)t->len, t->p);
  if (t->kind != WAT_T_NUM || !wat_parse_uint(t->p, t->len, 255, &v))
    wat_fail(c, t, "unexpected token: expected a lane index but found '%.*s'", (int)t->len, t->p);
  wat_next(c);
  return (uint8_t)v;
}

/* memarg: "offset=N"? "align=N"? */
static void memarg(wat_ctx *c, wat_buf *b, uint32_t mem, uint8_t natalign) {
  uint64_t offset = 0;
  uint32_t align = natalign;
  const wat_tok *t = wat_peek(c, 0);
  if (t->kind == WAT_T_KEYWORD && t->len > 7 && memcmp(t->p, "offset=", 7) == 0) {
    if (!wat_parse_uint(t->p + 7, t->len - 7, UINT64_MAX, &offset)) {
      if (!wat_num_syntax(t->p + 7, t->len - 7, false) || t->p[7] == '-' || t->p[7] == '+')
        wat_fail(c, t, "unknown operator %.*s", (int)t->len, t->p);
      wat_fail(c, t, "constant out of range: offset '%.*s'", (int)t->len, t->p);
    }
    wat_next(c);
    t = wat_peek(c, 0);
  }
  if (t->kind == WAT_T_KEYWORD && t->len > 6 && memcmp(t->p, "align=", 6) == 0) {
    uint64_t a;
    if (!wat_parse_uint(t->p + 6, t->len - 6, UINT32_MAX, &a))
      wat_fail(c, t, "unknown operator: malformed alignment '%.*s'", (int)t->len, t->p);
    if (a == 0 || (a & (a - 1))) wat_fail(c, t, "alignment must be a power of two: '%.*s'", (int)t->len, t->p);
    align = 0;
    while ((1ull << align) < a) align++;
    wat_next(c);
  }
  if (mem) {
    wat_u32(c, b, align | 0x40);
    wat_u32(c, b, mem);
  } else {
    wat_u32(c, b, align);
  }
  wat_u64(c, b, offset);
}

static bool is_memarg_kw(const wat_tok *t) {
  return t->kind == WAT_T_KEYWORD &&
         ((t->len > 7 && memcmp(t->p, "offset=", 7) == 0) || (t->len > 6 && memcmp(t->p, "align=", 6) == 0));
}

/* Resume handlers "(on $tag $label)" / "(on $tag switch)". */
static void handlers(wat_ctx *c, wat_buf *b) {
  size_t mark = c->tmp.len;
  uint32_t n = 0;
  while (wat_peek_lpar_kw(c, "on")) {
    wat_next(c);
    wat_next(c);
    uint32_t tag = index_imm(c, WAT_SP_TAG);
    if (wat_is_kw(wat_peek(c, 0), "switch")) {
      wat_next(c);
      wat_u8(c, &c->tmp, 0x01);
      wat_u32(c, &c->tmp, tag);
    } else {
      uint32_t l = label_imm(c);
      wat_u8(c, &c->tmp, 0x00);
      wat_u32(c, &c->tmp, tag);
      wat_u32(c, &c->tmp, l);
    }
    wat_expect_rpar(c);
    n++;
  }
  wat_u32(c, b, n);
  wat_bytes(c, b, c->tmp.d + mark, c->tmp.len - mark);
  c->tmp.len = mark;
}

/* try_table catch clauses, resolved in the context outside the try_table's own label. */
static void catches(wat_ctx *c, wat_buf *b) {
  size_t mark = c->tmp.len;
  uint32_t n = 0;
  for (;;) {
    if (wat_peek(c, 0)->kind != WAT_T_LPAR) break;
    const wat_tok *k = wat_peek(c, 1);
    int kind;
    if (wat_is_kw(k, "catch")) kind = WEFT_CATCH;
    else if (wat_is_kw(k, "catch_ref")) kind = WEFT_CATCH_REF;
    else if (wat_is_kw(k, "catch_all")) kind = WEFT_CATCH_ALL;
    else if (wat_is_kw(k, "catch_all_ref")) kind = WEFT_CATCH_ALL_REF;
    else break;
    wat_next(c);
    wat_next(c);
    wat_u8(c, &c->tmp, (uint8_t)kind);
    if (kind == WEFT_CATCH || kind == WEFT_CATCH_REF) wat_u32(c, &c->tmp, index_imm(c, WAT_SP_TAG));
    wat_u32(c, &c->tmp, label_imm(c));
    wat_expect_rpar(c);
    n++;
  }
  wat_u32(c, b, n);
  wat_bytes(c, b, c->tmp.d + mark, c->tmp.len - mark);
  c->tmp.len = mark;
}

/* -- Labels ------------------------------------------------------------------------------------ */

static void push_label(wat_ctx *c, const wat_tok *id) {
  if (c->nlabels == c->labels_cap) {
    uint32_t nc = c->labels_cap ? c->labels_cap * 2 : 16;
    wat_label *nl = realloc(c->labels, nc * sizeof *nl);
    if (!nl) wat_oom(c);
    c->labels = nl;
    c->labels_cap = nc;
  }
  c->labels[c->nlabels].name = id ? id->v : NULL;
  c->labels[c->nlabels].len = id ? id->vlen : 0;
  c->nlabels++;
}

/* An optional "$id" after end/else must repeat the block's label. */
static void check_end_label(wat_ctx *c) {
  const wat_tok *t = wat_peek(c, 0);
  if (t->kind != WAT_T_ID) return;
  wat_label *l = &c->labels[c->nlabels - 1];
  if (!l->name || l->len != t->vlen || memcmp(l->name, t->v, t->vlen) != 0)
    wat_fail(c, t, "mismatching label: expected '%.*s' but found '$%.*s'", (int)l->len, l->name ? l->name : "",
             (int)t->vlen, t->v);
  wat_next(c);
}

/* -- Plain instructions ------------------------------------------------------------------------ */

/* Parse one plain (non-block) instruction whose keyword is at pos, writing it to b. */
static void plain(wat_ctx *c, wat_buf *b) {
  const wat_tok *k = wat_next(c);
  if (k->kind != WAT_T_KEYWORD)
    wat_fail(c, k, "unexpected token: expected an instruction but found '%.*s'", (int)k->len, k->p);
  const wat_opinfo *o = wat_op_lookup(k->p, k->len);
  if (!o || o->op == WEFT_OP_SELECT_T || o->op == WEFT_OP_REF_TEST_NULL || o->op == WEFT_OP_REF_CAST_NULL) {
    static const char *const clauses[] = {"type", "param", "result", "local", "then", "else", "catch",
                                          "catch_ref", "catch_all", "catch_all_ref", "on", "export",
                                          "import", "item", "offset", "mut", "field", "end"};
    for (size_t i = 0; i < sizeof clauses / sizeof clauses[0]; i++)
      if (wat_is_kw(k, clauses[i]))
        wat_fail(c, k, "unexpected token: '%.*s' is not allowed here", (int)k->len, k->p);
    wat_fail(c, k, "unknown operator %.*s", (int)k->len, k->p);
  }
  uint16_t op = o->op;
  switch (o->imm) {
  case WEFT_IMM_NONE:
    if (op == WEFT_OP_SELECT && wat_peek_lpar_kw(c, "result")) {
      size_t mark = c->tmp.len;
      uint32_t n = 0;
      while (wat_peek_lpar_kw(c, "result")) {
        wat_next(c);
        wat_next(c);
        while (wat_peek(c, 0)->kind != WAT_T_RPAR) {
          wat_put_valtype(c, &c->tmp, wat_valtype(c));
          n++;
        }
        wat_expect_rpar(c);
      }
      if (n == 0 && (c->compat & WAT_COMPAT_WABT_SELECT)) {
        wat_put_op(c, b, WEFT_OP_SELECT);
        return;
      }
      wat_put_op(c, b, WEFT_OP_SELECT_T);
      wat_u32(c, b, n);
      wat_bytes(c, b, c->tmp.d + mark, c->tmp.len - mark);
      c->tmp.len = mark;
      return;
    }
    wat_put_op(c, b, op);
    return;
  case WEFT_IMM_BLOCK:
  case WEFT_IMM_TRY_TABLE:
  case WEFT_IMM_SELECT_T:
    wat_fail(c, k, "unexpected token: '%.*s' is not a plain instruction here", (int)k->len, k->p);
  case WEFT_IMM_LABEL:
    wat_put_op(c, b, op);
    wat_u32(c, b, label_imm(c));
    return;
  case WEFT_IMM_BR_TABLE: {
    wat_put_op(c, b, op);
    size_t mark = c->tmp.len;
    uint32_t n = 0;
    while (at_index(c)) {
      wat_u32(c, &c->tmp, label_imm(c));
      n++;
    }
    if (!n) wat_fail(c, NULL, "unexpected token: expected a label for br_table");
    wat_u32(c, b, n - 1);
    wat_bytes(c, b, c->tmp.d + mark, c->tmp.len - mark);
    c->tmp.len = mark;
    return;
  }
  case WEFT_IMM_FUNC:
    wat_put_op(c, b, op);
    wat_u32(c, b, index_imm(c, WAT_SP_FUNC));
    return;
  case WEFT_IMM_CALL_INDIRECT: {
    uint32_t table = opt_index(c, WAT_SP_TABLE);
    uint32_t t = wat_typeuse(c, false, false, NULL);
    wat_put_op(c, b, op);
    wat_u32(c, b, t);
    wat_u32(c, b, table);
    return;
  }
  case WEFT_IMM_TYPE: {
    uint32_t t = index_imm(c, WAT_SP_TYPE);
    wat_put_op(c, b, op);
    wat_u32(c, b, t);
    return;
  }
  case WEFT_IMM_TYPE_TYPE: {
    uint32_t t1 = index_imm(c, WAT_SP_TYPE);
    uint32_t t2 = index_imm(c, WAT_SP_TYPE);
    wat_put_op(c, b, op);
    wat_u32(c, b, t1);
    wat_u32(c, b, t2);
    return;
  }
  case WEFT_IMM_TYPE_FIELD: {
    uint32_t t = index_imm(c, WAT_SP_TYPE);
    uint32_t f = field_imm(c, t);
    wat_put_op(c, b, op);
    wat_u32(c, b, t);
    wat_u32(c, b, f);
    return;
  }
  case WEFT_IMM_TYPE_N: {
    uint32_t t = index_imm(c, WAT_SP_TYPE);
    uint32_t n = wat_tok_u32(c, wat_peek(c, 0));
    wat_next(c);
    wat_put_op(c, b, op);
    wat_u32(c, b, t);
    wat_u32(c, b, n);
    return;
  }
  case WEFT_IMM_TYPE_DATA:
  case WEFT_IMM_TYPE_ELEM: {
    uint32_t t = index_imm(c, WAT_SP_TYPE);
    uint32_t d = index_imm(c, o->imm == WEFT_IMM_TYPE_DATA ? WAT_SP_DATA : WAT_SP_ELEM);
    if (o->imm == WEFT_IMM_TYPE_DATA) c->uses_datacount = true;
    wat_put_op(c, b, op);
    wat_u32(c, b, t);
    wat_u32(c, b, d);
    return;
  }
  case WEFT_IMM_LOCAL:
    wat_put_op(c, b, op);
    wat_u32(c, b, local_imm(c));
    return;
  case WEFT_IMM_GLOBAL:
    wat_put_op(c, b, op);
    wat_u32(c, b, index_imm(c, WAT_SP_GLOBAL));
    return;
  case WEFT_IMM_TABLE:
    wat_put_op(c, b, op);
    wat_u32(c, b, opt_index(c, WAT_SP_TABLE));
    return;
  case WEFT_IMM_MEM:
    wat_put_op(c, b, op);
    wat_u32(c, b, opt_index(c, WAT_SP_MEM));
    return;
  case WEFT_IMM_TAG:
    wat_put_op(c, b, op);
    wat_u32(c, b, index_imm(c, WAT_SP_TAG));
    return;
  case WEFT_IMM_DATA:
    c->uses_datacount = true;
    wat_put_op(c, b, op);
    wat_u32(c, b, index_imm(c, WAT_SP_DATA));
    return;
  case WEFT_IMM_ELEM:
    wat_put_op(c, b, op);
    wat_u32(c, b, index_imm(c, WAT_SP_ELEM));
    return;
  case WEFT_IMM_MEMARG:
  case WEFT_IMM_MEMARG_LANE: {
    uint32_t mem = 0;
    const wat_tok *t0 = wat_peek(c, 0);
    if (t0->kind == WAT_T_ID) mem = index_imm(c, WAT_SP_MEM);
    else if (t0->kind == WAT_T_NUM) {
      const wat_tok *t1 = wat_peek(c, 1);
      if (o->imm == WEFT_IMM_MEMARG || t1->kind == WAT_T_NUM || is_memarg_kw(t1)) mem = index_imm(c, WAT_SP_MEM);
    }
    wat_put_op(c, b, op);
    memarg(c, b, mem, o->natalign);
    if (o->imm == WEFT_IMM_MEMARG_LANE) wat_u8(c, b, lane_imm(c, false));
    return;
  }
  case WEFT_IMM_MEM_DATA: {
    uint32_t mem = 0;
    if (at_index(c) && (wat_peek(c, 1)->kind == WAT_T_ID || wat_peek(c, 1)->kind == WAT_T_NUM))
      mem = index_imm(c, WAT_SP_MEM);
    uint32_t d = index_imm(c, WAT_SP_DATA);
    c->uses_datacount = true;
    wat_put_op(c, b, op);
    wat_u32(c, b, d);
    wat_u32(c, b, mem);
    return;
  }
  case WEFT_IMM_MEM_MEM: {
    uint32_t d = 0, s = 0;
    if (at_index(c)) {
      d = index_imm(c, WAT_SP_MEM);
      s = index_imm(c, WAT_SP_MEM);
    }
    wat_put_op(c, b, op);
    wat_u32(c, b, d);
    wat_u32(c, b, s);
    return;
  }
  case WEFT_IMM_TABLE_ELEM: {
    uint32_t t = 0;
    if (at_index(c) && (wat_peek(c, 1)->kind == WAT_T_ID || wat_peek(c, 1)->kind == WAT_T_NUM))
      t = index_imm(c, WAT_SP_TABLE);
    uint32_t e = index_imm(c, WAT_SP_ELEM);
    wat_put_op(c, b, op);
    wat_u32(c, b, e);
    wat_u32(c, b, t);
    return;
  }
  case WEFT_IMM_TABLE_TABLE: {
    uint32_t d = 0, s = 0;
    if (at_index(c)) {
      d = index_imm(c, WAT_SP_TABLE);
      s = index_imm(c, WAT_SP_TABLE);
    }
    wat_put_op(c, b, op);
    wat_u32(c, b, d);
    wat_u32(c, b, s);
    return;
  }
  case WEFT_IMM_I32:
    wat_put_op(c, b, op);
    i32_imm(c, b);
    return;
  case WEFT_IMM_I64:
    wat_put_op(c, b, op);
    i64_imm(c, b);
    return;
  case WEFT_IMM_F32: {
    uint8_t d[4];
    put_le(d, f32_lit(c), 4);
    wat_put_op(c, b, op);
    wat_bytes(c, b, d, 4);
    return;
  }
  case WEFT_IMM_F64: {
    uint8_t d[8];
    put_le(d, f64_lit(c), 8);
    wat_put_op(c, b, op);
    wat_bytes(c, b, d, 8);
    return;
  }
  case WEFT_IMM_V128: {
    uint8_t d[16];
    wat_v128_lanes(c, d);
    wat_put_op(c, b, op);
    wat_bytes(c, b, d, 16);
    return;
  }
  case WEFT_IMM_HEAPTYPE: {
    uint32_t h = wat_heaptype(c);
    wat_put_op(c, b, op);
    wat_put_heaptype(c, b, h);
    return;
  }
  case WEFT_IMM_REFTYPE: {
    weft_valtype rt = wat_reftype(c);
    wat_put_op(c, b, (uint16_t)(op + (WEFT_VT_NULLABLE(rt) ? 1 : 0)));
    wat_put_heaptype(c, b, WEFT_VT_HEAP(rt));
    return;
  }
  case WEFT_IMM_BR_ON_CAST: {
    uint32_t l = label_imm(c);
    weft_valtype r1 = wat_reftype(c);
    weft_valtype r2 = wat_reftype(c);
    wat_put_op(c, b, op);
    wat_u8(c, b, (uint8_t)((WEFT_VT_NULLABLE(r1) ? 1 : 0) | (WEFT_VT_NULLABLE(r2) ? 2 : 0)));
    wat_u32(c, b, l);
    wat_put_heaptype(c, b, WEFT_VT_HEAP(r1));
    wat_put_heaptype(c, b, WEFT_VT_HEAP(r2));
    return;
  }
  case WEFT_IMM_LANE: {
    uint8_t l = lane_imm(c, false);
    wat_put_op(c, b, op);
    wat_u8(c, b, l);
    return;
  }
  case WEFT_IMM_SHUFFLE: {
    uint8_t l[16];
    for (int i = 0; i < 16; i++) {
      if (wat_peek(c, 0)->kind == WAT_T_KEYWORD)
        wat_fail(c, NULL, "malformed lane index: expected 0..255 but found '%.*s'", (int)wat_peek(c, 0)->len, wat_peek(c, 0)->p);
      if (wat_peek(c, 0)->kind != WAT_T_NUM) wat_fail(c, NULL, "invalid lane length: i8x16.shuffle expects 16 lane indices");
      l[i] = lane_imm(c, true);
    }
    if (wat_peek(c, 0)->kind == WAT_T_NUM) wat_fail(c, NULL, "invalid lane length: i8x16.shuffle expects 16 lane indices");
    wat_put_op(c, b, op);
    wat_bytes(c, b, l, 16);
    return;
  }
  case WEFT_IMM_RESUME: {
    uint32_t t = index_imm(c, WAT_SP_TYPE);
    wat_put_op(c, b, op);
    wat_u32(c, b, t);
    handlers(c, b);
    return;
  }
  case WEFT_IMM_RESUME_THROW: {
    uint32_t t = index_imm(c, WAT_SP_TYPE);
    uint32_t tag = index_imm(c, WAT_SP_TAG);
    wat_put_op(c, b, op);
    wat_u32(c, b, t);
    wat_u32(c, b, tag);
    handlers(c, b);
    return;
  }
  case WEFT_IMM_SWITCH: {
    uint32_t t = index_imm(c, WAT_SP_TYPE);
    uint32_t tag = index_imm(c, WAT_SP_TAG);
    wat_put_op(c, b, op);
    wat_u32(c, b, t);
    wat_u32(c, b, tag);
    return;
  }
  default:
    wat_fail(c, k, "unknown operator %.*s", (int)k->len, k->p);
  }
}

/* -- Blocks and sequences ---------------------------------------------------------------------- */

static bool is_block_kw(const wat_tok *t) {
  return wat_is_kw(t, "block") || wat_is_kw(t, "loop") || wat_is_kw(t, "if") || wat_is_kw(t, "try_table");
}

/* "label? blocktype" (+ catches for try_table) after the block keyword, into b; pushes the label. */
static void block_head(wat_ctx *c, wat_buf *b, const wat_tok *kw) {
  const wat_tok *id = wat_peek(c, 0)->kind == WAT_T_ID ? wat_next(c) : NULL;
  if (wat_is_kw(kw, "block")) wat_u8(c, b, WEFT_OP_BLOCK);
  else if (wat_is_kw(kw, "loop")) wat_u8(c, b, WEFT_OP_LOOP);
  else if (wat_is_kw(kw, "if")) wat_u8(c, b, WEFT_OP_IF);
  else wat_u8(c, b, WEFT_OP_TRY_TABLE);
  wat_blocktype(c, b);
  if (wat_is_kw(kw, "try_table")) catches(c, b);
  push_label(c, id);
}

static void enter(wat_ctx *c) {
  if (++c->depth > WAT_MAX_DEPTH)
    wat_fail(c, NULL, "nesting too deep: more than %d nested blocks or folded expressions", WAT_MAX_DEPTH);
}

static void seq(wat_ctx *c, wat_buf *b);

/* One folded expression at '('. */
static void folded(wat_ctx *c, wat_buf *b) {
  enter(c);
  wat_expect_lpar(c);
  const wat_tok *kw = wat_peek(c, 0);
  if (is_block_kw(kw)) {
    wat_next(c);
    if (wat_is_kw(kw, "if")) {
      size_t mark = c->pend.len;
      const wat_tok *id = wat_peek(c, 0)->kind == WAT_T_ID ? wat_next(c) : NULL;
      wat_u8(c, &c->pend, WEFT_OP_IF);
      wat_blocktype(c, &c->pend);
      while (wat_peek(c, 0)->kind == WAT_T_LPAR && !wat_is_kw(wat_peek(c, 1), "then")) folded(c, b);
      wat_bytes(c, b, c->pend.d + mark, c->pend.len - mark);
      c->pend.len = mark;
      push_label(c, id);
      if (!wat_peek_lpar_kw(c, "then"))
        wat_fail(c, NULL, "unexpected token: expected '(then' but found '%.*s'", (int)wat_peek(c, 0)->len, wat_peek(c, 0)->p);
      wat_next(c);
      wat_next(c);
      seq(c, b);
      wat_expect_rpar(c);
      if (wat_peek_lpar_kw(c, "else")) {
        wat_next(c);
        wat_next(c);
        wat_u8(c, b, WEFT_OP_ELSE);
        size_t after_else = b->len;
        seq(c, b);
        wat_expect_rpar(c);
        if (b->len == after_else) b->len--; /* an empty else is not encoded (reference encoder) */
      }
    } else {
      block_head(c, b, kw);
      seq(c, b);
    }
    wat_u8(c, b, WEFT_OP_END);
    c->nlabels--;
    wat_expect_rpar(c);
  } else {
    size_t mark = c->pend.len;
    plain(c, &c->pend);
    while (wat_peek(c, 0)->kind == WAT_T_LPAR) folded(c, b);
    wat_bytes(c, b, c->pend.d + mark, c->pend.len - mark);
    c->pend.len = mark;
    wat_expect_rpar(c);
  }
  c->depth--;
}

/* A sequence of instructions up to ')' (not consumed). Flat blocks are tracked on the label stack
 * with a count of those opened here. */
static void seq(wat_ctx *c, wat_buf *b) {
  uint32_t open = 0;
  /* One record per flat block opened here: 0 = not an if, 1 = if before else, 2 + n = if whose else
   * opcode sits at b->d[n] (dropped at end when the else branch stayed empty). */
  size_t kinds = c->kstack.len;
  for (;;) {
    const wat_tok *t = wat_peek(c, 0);
    if (t->kind == WAT_T_LPAR) {
      folded(c, b);
      continue;
    }
    if (t->kind == WAT_T_RPAR || t->kind == WAT_T_EOF) {
      if (open) wat_fail(c, t, "unexpected token: expected 'end' but found '%.*s'", (int)t->len, t->p);
      break;
    }
    if (t->kind == WAT_T_RESERVED)
      wat_fail(c, t, "unknown operator %.*s", (int)t->len, t->p);
    if (t->kind != WAT_T_KEYWORD)
      wat_fail(c, t, "unexpected token: expected an instruction but found '%.*s'", (int)t->len, t->p);
    if (is_block_kw(t)) {
      wat_next(c);
      enter(c);
      block_head(c, b, t);
      size_t rec = wat_is_kw(t, "if") ? 1 : 0;
      wat_bytes(c, &c->kstack, &rec, sizeof rec);
      open++;
      continue;
    }
    if (wat_is_kw(t, "end")) {
      if (!open) wat_fail(c, t, "unexpected token: 'end' without an open block");
      wat_next(c);
      check_end_label(c);
      size_t rec;
      memcpy(&rec, c->kstack.d + c->kstack.len - sizeof rec, sizeof rec);
      if (rec >= 2 && b->len == rec - 2 + 1) b->len--; /* empty else branch */
      wat_u8(c, b, WEFT_OP_END);
      c->nlabels--;
      c->depth--;
      c->kstack.len -= sizeof rec;
      open--;
      continue;
    }
    if (wat_is_kw(t, "else")) {
      size_t rec = 0;
      if (open) memcpy(&rec, c->kstack.d + c->kstack.len - sizeof rec, sizeof rec);
      if (rec != 1) wat_fail(c, t, "unexpected token: 'else' without an open 'if'");
      wat_next(c);
      check_end_label(c);
      rec = 2 + b->len;
      memcpy(c->kstack.d + c->kstack.len - sizeof rec, &rec, sizeof rec);
      wat_u8(c, b, WEFT_OP_ELSE);
      continue;
    }
    plain(c, b);
  }
  c->kstack.len = kinds;
}

void wat_instrs(wat_ctx *c, wat_buf *b) { seq(c, b); }

void wat_expr_end(wat_ctx *c, wat_buf *b) {
  seq(c, b);
  wat_u8(c, b, WEFT_OP_END);
}
