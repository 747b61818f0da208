/* text/wat_fields.c -- pass 3 of the module parser: imports, functions (locals, bodies, local names),
 * tables (with init expressions or inline elem), memories (with inline data), globals, tags,
 * exports, element and data segments, in all their text forms and abbreviations.
 * Called by wat_module.c in field order; instructions come from wat_instr.c. Depends on: wat_int.h.
 */
#include <stdlib.h>
#include <string.h>

#include "wat_int.h"

static bool at_index(wat_ctx *c) {
  uint8_t k = wat_peek(c, 0)->kind;
  return k == WAT_T_ID || k == WAT_T_NUM;
}

/* -- Pass 3: entities -------------------------------------------------------------------------- */

static uint8_t *string_tok(wat_ctx *c, size_t *len) {
  const wat_tok *t = wat_next(c);
  return wat_string(c, t, len);
}

static void put_name_tok(wat_ctx *c, wat_buf *b) {
  const wat_tok *t = wat_peek(c, 0);
  size_t n;
  uint8_t *s = string_tok(c, &n);
  if (!wat_utf8_valid(s, n)) wat_fail(c, t, "malformed UTF-8 encoding in name");
  wat_name(c, b, s, n);
}

static void inline_exports(wat_ctx *c, uint8_t kind, uint32_t idx) {
  while (wat_peek_lpar_kw(c, "export")) {
    wat_next(c);
    wat_next(c);
    put_name_tok(c, &c->sec[WAT_SEC_EXPORT]);
    wat_u8(c, &c->sec[WAT_SEC_EXPORT], kind);
    wat_u32(c, &c->sec[WAT_SEC_EXPORT], idx);
    c->nsec[WAT_SEC_EXPORT]++;
    wat_expect_rpar(c);
  }
}

/* "(import "m" "n")" inside an entity: writes module+name into the import section. */
static bool inline_import(wat_ctx *c) {
  if (!wat_peek_lpar_kw(c, "import")) return false;
  wat_next(c);
  wat_next(c);
  put_name_tok(c, &c->sec[WAT_SEC_IMPORT]);
  put_name_tok(c, &c->sec[WAT_SEC_IMPORT]);
  wat_expect_rpar(c);
  c->nsec[WAT_SEC_IMPORT]++;
  return true;
}

static void limits(wat_ctx *c, wat_buf *b, bool is64, bool allow_shared) {
  const wat_tok *t = wat_peek(c, 0);
  uint64_t min = wat_tok_u64(c, t);
  wat_next(c);
  bool has_max = false;
  uint64_t max = 0;
  if (wat_peek(c, 0)->kind == WAT_T_NUM) {
    t = wat_next(c);
    max = wat_tok_u64(c, t);
    has_max = true;
  }
  bool shared = false;
  if (allow_shared && wat_is_kw(wat_peek(c, 0), "shared")) {
    wat_next(c);
    shared = true;
  } else if (allow_shared && wat_is_kw(wat_peek(c, 0), "unshared")) {
    wat_next(c);
  }
  wat_u8(c, b, (uint8_t)((has_max ? 1 : 0) | (shared ? 2 : 0) | (is64 ? 4 : 0)));
  wat_u64(c, b, min);
  if (has_max) wat_u64(c, b, max);
}

static bool opt_addrtype(wat_ctx *c) {
  if (wat_is_kw(wat_peek(c, 0), "i64")) { wat_next(c); return true; }
  if (wat_is_kw(wat_peek(c, 0), "i32")) wat_next(c);
  return false;
}

static void tabletype(wat_ctx *c, wat_buf *b) {
  bool is64 = opt_addrtype(c);
  /* limits come first in the text but after the reference type in the binary: rewind */
  size_t lim = c->pos;
  while (wat_peek(c, 0)->kind == WAT_T_NUM) wat_next(c);
  weft_valtype rt = wat_reftype(c);
  size_t after = c->pos;
  wat_put_valtype(c, b, rt);
  c->pos = lim;
  limits(c, b, is64, false);
  if (wat_peek(c, 0)->kind == WAT_T_NUM) wat_fail(c, NULL, "unexpected token: expected a reference type");
  c->pos = after;
}

static void memtype(wat_ctx *c, wat_buf *b) {
  bool is64 = opt_addrtype(c);
  limits(c, b, is64, true);
}

static void globaltype(wat_ctx *c, wat_buf *b) {
  if (wat_peek_lpar_kw(c, "mut")) {
    wat_next(c);
    wat_next(c);
    wat_put_valtype(c, b, wat_valtype(c));
    wat_expect_rpar(c);
    wat_u8(c, b, 1);
  } else {
    wat_put_valtype(c, b, wat_valtype(c));
    wat_u8(c, b, 0);
  }
}

static void begin_func(wat_ctx *c) {
  wat_map_free(&c->locals);
  c->nlocals = 0;
  for (uint32_t i = 0; i < c->local_cap; i++) c->local_names[i] = NULL;
  c->nlabels = 0;
  c->depth = 0;
}

static void add_local_name(wat_ctx *c, uint32_t idx, const wat_tok *id) {
  if (c->local_cap <= idx) {
    uint32_t nc = c->local_cap ? c->local_cap * 2 : 16;
    while (nc <= idx) nc *= 2;
    const char **nn = realloc(c->local_names, nc * sizeof *nn);
    if (!nn) wat_oom(c);
    c->local_names = nn;
    uint32_t *nl = realloc(c->local_lens, nc * sizeof *nl);
    if (!nl) wat_oom(c);
    c->local_lens = nl;
    memset(c->local_names + c->local_cap, 0, (nc - c->local_cap) * sizeof *nn);
    c->local_cap = nc;
  }
  c->local_names[idx] = id->v;
  c->local_lens[idx] = id->vlen;
}

void wat_func_field(wat_ctx *c, uint32_t idx) {
  wat_opt_id(c);
  inline_exports(c, WEFT_EXTERN_FUNC, idx);
  begin_func(c);
  if (inline_import(c)) {
    wat_buf *ib = &c->sec[WAT_SEC_IMPORT];
    wat_u8(c, ib, WEFT_EXTERN_FUNC);
    wat_u32(c, ib, wat_typeuse(c, false, true, NULL));
    wat_expect_rpar(c);
    return;
  }
  uint32_t np = 0;
  uint32_t tidx = wat_typeuse(c, true, true, &np);
  wat_u32(c, &c->sec[WAT_SEC_FUNC], tidx);
  c->nsec[WAT_SEC_FUNC]++;
  /* locals */
  c->nlocals = np;
  wat_buf *body = &c->body;
  body->len = 0;
  uint32_t ngroups = 0;
  weft_valtype last = 0;
  uint32_t run = 0;
  size_t gmark = c->pend.len;
  while (wat_peek_lpar_kw(c, "local")) {
    wat_next(c);
    wat_next(c);
    const wat_tok *id = wat_opt_id(c);
    while (wat_peek(c, 0)->kind != WAT_T_RPAR) {
      weft_valtype t = wat_valtype(c);
      if (id) {
        if (!wat_map_put(c, &c->locals, id->v, id->vlen, c->nlocals))
          wat_fail(c, id, "duplicate local $%.*s", (int)id->vlen, id->v);
        add_local_name(c, c->nlocals, id);
      }
      if (run && t == last) run++;
      else {
        if (run) {
          wat_u32(c, &c->pend, run);
          wat_put_valtype(c, &c->pend, last);
          ngroups++;
        }
        last = t;
        run = 1;
      }
      c->nlocals++;
      if (id) break;
    }
    wat_expect_rpar(c);
  }
  if (run) {
    wat_u32(c, &c->pend, run);
    wat_put_valtype(c, &c->pend, last);
    ngroups++;
  }
  wat_u32(c, body, ngroups);
  wat_bytes(c, body, c->pend.d + gmark, c->pend.len - gmark);
  c->pend.len = gmark;
  wat_instrs(c, body);
  wat_u8(c, body, 0x0B);
  wat_expect_rpar(c);
  wat_buf *code = &c->sec[WAT_SEC_CODE];
  wat_u32(c, code, (uint32_t)body->len);
  wat_bytes(c, code, body->d, body->len);
  c->nsec[WAT_SEC_CODE]++;
  /* local names */
  uint32_t nnamed = 0;
  for (uint32_t i = 0; i < c->nlocals && i < c->local_cap; i++)
    if (c->local_names[i]) nnamed++;
  if (nnamed) {
    wat_buf *nb = &c->names_local;
    wat_u32(c, nb, idx);
    wat_u32(c, nb, nnamed);
    for (uint32_t i = 0; i < c->nlocals && i < c->local_cap; i++) {
      if (!c->local_names[i]) continue;
      wat_u32(c, nb, i);
      wat_name(c, nb, (const uint8_t *)c->local_names[i], c->local_lens[i]);
    }
    c->nnames_local++;
  }
}

/* An expression written as `(KW instr*)` or, abbreviated, as one folded instruction, encoded into
 * b with its final `end` (segment offsets: "offset"; element items: "item"). */
static void keyword_or_folded_expr(wat_ctx *c, const char *kw, wat_buf *b) {
  if (wat_peek_lpar_kw(c, kw)) {
    wat_next(c);
    wat_next(c);
    wat_instrs(c, b);
    wat_expect_rpar(c);
  } else {
    /* parse exactly one folded instruction: its closing token stands in for the end of input */
    size_t save = c->pos;
    wat_skip_sexpr(c);
    size_t end = c->pos;
    c->pos = save;
    wat_tok saved = c->toks[end];
    c->toks[end].kind = WAT_T_RPAR;
    wat_instrs(c, b);
    c->toks[end] = saved;
    c->pos = end;
  }
  wat_u8(c, b, 0x0B);
}

/* Element list items after the reftype / "func": encoded exprs in c->pend from `mark`.
 * Returns the count. `funcidx` lists give ref.func items. */
static uint32_t elem_items(wat_ctx *c, bool funcidx, wat_buf *items) {
  uint32_t n = 0;
  if (funcidx) {
    while (at_index(c)) {
      uint32_t f = wat_resolve(c, WAT_SP_FUNC, wat_peek(c, 0));
      wat_next(c);
      wat_u8(c, items, 0xD2);
      wat_u32(c, items, f);
      wat_u8(c, items, 0x0B);
      n++;
    }
    return n;
  }
  while (wat_peek(c, 0)->kind == WAT_T_LPAR) {
    keyword_or_folded_expr(c, "item", items);
    n++;
  }
  return n;
}

/* Is an encoded item exactly "ref.func x end"? Writes x's LEB range. */
static bool item_is_funcidx(const uint8_t *p, size_t n, size_t *lebn) {
  if (n < 3 || p[0] != 0xD2 || p[n - 1] != 0x0B) return false;
  size_t i = 1;
  while (i < n - 1 && (p[i] & 0x80)) i++;
  if (i != n - 2) return false;
  *lebn = n - 2;
  return true;
}

/* Write one element segment into the elem section. items: a sequence of encoded exprs. */
static void put_elem(wat_ctx *c, int mode, uint32_t table, const uint8_t *off, size_t offn,
                     weft_valtype et, const wat_buf *items, uint32_t n) {
  wat_buf *b = &c->sec[WAT_SEC_ELEM];
  /* The funcidx forms (elemkind 0x00) have type (ref func) in Wasm 3.0, and the expression form
   * without a type (flags 4) has type funcref: a segment keeps the exact type it was written with,
   * or validation changes (elem.wast: a funcref segment into a (ref func) table is invalid). */
  bool funcref = et == WEFT_VT_FUNCREF;
  bool idx_form = et == WEFT_VT_MAKE_REF(0, WEFT_HT_ABS(WEFT_AHT_FUNC)) ||
                  (funcref && (c->compat & WAT_COMPAT_WABT_ELEM));
  for (size_t p = 0; idx_form && p < items->len;) {
    size_t end = p, lebn;
    /* find the end of this expr: for ref.func items it is short */
    if (items->d[p] != 0xD2) { idx_form = false; break; }
    end = p + 1;
    while (end < items->len && (items->d[end] & 0x80)) end++;
    end += 2;
    if (end > items->len || !item_is_funcidx(items->d + p, end - p, &lebn)) { idx_form = false; break; }
    p = end;
  }
  uint32_t flags;
  if (mode == WEFT_SEG_PASSIVE) flags = idx_form ? 1 : 5;
  else if (mode == WEFT_SEG_DECLARATIVE) flags = idx_form ? 3 : 7;
  else if (table == 0 && idx_form) flags = 0;
  else if (table == 0 && funcref) flags = 4;
  else flags = idx_form ? 2 : 6;
  wat_u32(c, b, flags);
  if (mode == WEFT_SEG_ACTIVE) {
    if (flags == 2 || flags == 6) wat_u32(c, b, table);
    wat_bytes(c, b, off, offn);
  }
  if (flags == 1 || flags == 2 || flags == 3) wat_u8(c, b, 0x00);
  if (flags == 5 || flags == 6 || flags == 7) wat_put_valtype(c, b, et);
  wat_u32(c, b, n);
  if (idx_form) {
    for (size_t p = 0; p < items->len;) {
      size_t end = p + 1;
      while (items->d[end] & 0x80) end++;
      end++;
      wat_bytes(c, b, items->d + p + 1, end - p - 1);
      p = end + 1;
    }
  } else {
    wat_bytes(c, b, items->d, items->len);
  }
  c->nsec[WAT_SEC_ELEM]++;
}

static void offset_expr(wat_ctx *c, wat_buf *b) { keyword_or_folded_expr(c, "offset", b); }

void wat_elem_field(wat_ctx *c) {
  wat_opt_id(c);
  int mode = WEFT_SEG_PASSIVE;
  uint32_t table = 0;
  wat_buf off = {0}, items = {0};
  /* offset and items are built in c->scratch (freed with the context if a parse error unwinds) */
  size_t omark = c->scratch.len;
  if (wat_is_kw(wat_peek(c, 0), "declare")) {
    wat_next(c);
    mode = WEFT_SEG_DECLARATIVE;
  } else {
    if (wat_peek_lpar_kw(c, "table")) {
      wat_next(c);
      wat_next(c);
      table = wat_resolve(c, WAT_SP_TABLE, wat_peek(c, 0));
      wat_next(c);
      wat_expect_rpar(c);
      mode = WEFT_SEG_ACTIVE;
    }
    if (wat_peek(c, 0)->kind == WAT_T_LPAR && !wat_is_kw(wat_peek(c, 1), "ref") &&
        !wat_is_kw(wat_peek(c, 1), "item")) {
      mode = WEFT_SEG_ACTIVE;
      offset_expr(c, &c->scratch);
    } else if (mode == WEFT_SEG_ACTIVE) {
      wat_fail(c, NULL, "unexpected token: expected an offset expression");
    }
  }
  size_t offn = c->scratch.len - omark;
  weft_valtype et = WEFT_VT_MAKE_REF(0, WEFT_HT_ABS(WEFT_AHT_FUNC)); /* (ref func) */
  bool funcidx = false;
  if (wat_is_kw(wat_peek(c, 0), "func")) {
    wat_next(c);
    funcidx = true;
  } else if (wat_at_valtype(c)) {
    et = wat_reftype(c);
  } else {
    funcidx = true; /* legacy: bare function indices */
  }
  size_t imark = c->scratch.len;
  uint32_t n = elem_items(c, funcidx, &c->scratch);
  wat_expect_rpar(c);
  items.d = c->scratch.d + imark;
  items.len = c->scratch.len - imark;
  /* copy offset out of pend since put_elem writes elsewhere: pend is stable here */
  off.d = c->scratch.d + omark;
  off.len = offn;
  put_elem(c, mode, table, off.d, off.len, et, &items, n);
  c->scratch.len = omark;
}

static void data_string_list(wat_ctx *c, wat_buf *b) {
  while (wat_peek(c, 0)->kind == WAT_T_STRING) {
    size_t n;
    uint8_t *s = string_tok(c, &n);
    wat_bytes(c, b, s, n);
  }
}

void wat_data_field(wat_ctx *c) {
  wat_opt_id(c);
  wat_buf *b = &c->sec[WAT_SEC_DATA];
  uint32_t mem = 0;
  bool active = false;
  if (wat_peek_lpar_kw(c, "memory")) {
    wat_next(c);
    wat_next(c);
    mem = wat_resolve(c, WAT_SP_MEM, wat_peek(c, 0));
    wat_next(c);
    wat_expect_rpar(c);
    active = true;
  }
  size_t mark = c->scratch.len;
  if (wat_peek(c, 0)->kind == WAT_T_LPAR) {
    active = true;
    offset_expr(c, &c->scratch);
  } else if (active) {
    wat_fail(c, NULL, "unexpected token: expected an offset expression");
  }
  if (!active) wat_u8(c, b, 1);
  else if (mem == 0) wat_u8(c, b, 0);
  else {
    wat_u8(c, b, 2);
    wat_u32(c, b, mem);
  }
  wat_bytes(c, b, c->scratch.d + mark, c->scratch.len - mark);
  c->scratch.len = mark;
  data_string_list(c, &c->scratch);
  wat_u32(c, b, (uint32_t)(c->scratch.len - mark));
  wat_bytes(c, b, c->scratch.d + mark, c->scratch.len - mark);
  c->scratch.len = mark;
  wat_expect_rpar(c);
  c->nsec[WAT_SEC_DATA]++;
}

void wat_table_field(wat_ctx *c, uint32_t idx) {
  wat_opt_id(c);
  inline_exports(c, WEFT_EXTERN_TABLE, idx);
  if (inline_import(c)) {
    wat_u8(c, &c->sec[WAT_SEC_IMPORT], WEFT_EXTERN_TABLE);
    tabletype(c, &c->sec[WAT_SEC_IMPORT]);
    wat_expect_rpar(c);
    return;
  }
  wat_buf *b = &c->sec[WAT_SEC_TABLE];
  size_t save = c->pos;
  bool is64 = opt_addrtype(c);
  if (wat_at_valtype(c)) {
    /* (table i64? reftype (elem ...)) */
    weft_valtype et = wat_reftype(c);
    if (!wat_peek_lpar_kw(c, "elem")) wat_fail(c, NULL, "unexpected token: expected '(elem' or table limits");
    wat_next(c);
    wat_next(c);
    size_t imark = c->scratch.len;
    bool funcidx = !(wat_peek(c, 0)->kind == WAT_T_LPAR);
    uint32_t n = elem_items(c, funcidx, &c->scratch);
    wat_expect_rpar(c);
    wat_put_valtype(c, b, et);
    wat_u8(c, b, (uint8_t)(1 | (is64 ? 4 : 0)));
    wat_u32(c, b, n);
    wat_u32(c, b, n);
    c->nsec[WAT_SEC_TABLE]++;
    size_t omark = c->scratch.len;
    wat_u8(c, &c->scratch, is64 ? 0x42 : 0x41);
    wat_u8(c, &c->scratch, 0);
    wat_u8(c, &c->scratch, 0x0B);
    wat_buf items = {.d = c->scratch.d + imark, .len = omark - imark};
    /* function indices keep the compact funcidx form, of type (ref func) <: the table's type */
    weft_valtype set = funcidx && et == WEFT_VT_FUNCREF ? WEFT_VT_MAKE_REF(0, WEFT_HT_ABS(WEFT_AHT_FUNC)) : et;
    put_elem(c, WEFT_SEG_ACTIVE, idx, c->scratch.d + omark, 3, set, &items, n);
    c->scratch.len = imark;
    wat_expect_rpar(c);
    return;
  }
  c->pos = save;
  if (wat_peek(c, 0)->kind == WAT_T_RPAR) wat_fail(c, NULL, "unexpected token: expected table limits but found ')'");
  size_t mark = c->scratch.len;
  tabletype(c, &c->scratch);
  if (wat_peek(c, 0)->kind != WAT_T_RPAR) {
    wat_u8(c, b, 0x40);
    wat_u8(c, b, 0x00);
    wat_bytes(c, b, c->scratch.d + mark, c->scratch.len - mark);
    c->scratch.len = mark;
    wat_instrs(c, b);
    wat_u8(c, b, 0x0B);
  } else {
    wat_bytes(c, b, c->scratch.d + mark, c->scratch.len - mark);
    c->scratch.len = mark;
  }
  c->nsec[WAT_SEC_TABLE]++;
  wat_expect_rpar(c);
}

void wat_memory_field(wat_ctx *c, uint32_t idx) {
  wat_opt_id(c);
  inline_exports(c, WEFT_EXTERN_MEMORY, idx);
  if (inline_import(c)) {
    wat_u8(c, &c->sec[WAT_SEC_IMPORT], WEFT_EXTERN_MEMORY);
    memtype(c, &c->sec[WAT_SEC_IMPORT]);
    wat_expect_rpar(c);
    return;
  }
  wat_buf *b = &c->sec[WAT_SEC_MEM];
  size_t save = c->pos;
  bool is64 = opt_addrtype(c);
  if (wat_peek_lpar_kw(c, "data")) {
    wat_next(c);
    wat_next(c);
    size_t mark = c->scratch.len;
    data_string_list(c, &c->scratch);
    wat_expect_rpar(c);
    size_t len = c->scratch.len - mark;
    uint64_t pages = (len + 65535) / 65536;
    wat_u8(c, b, (uint8_t)(1 | (is64 ? 4 : 0)));
    wat_u64(c, b, pages);
    wat_u64(c, b, pages);
    c->nsec[WAT_SEC_MEM]++;
    wat_buf *d = &c->sec[WAT_SEC_DATA];
    if (idx == 0) wat_u8(c, d, 0);
    else {
      wat_u8(c, d, 2);
      wat_u32(c, d, idx);
    }
    wat_u8(c, d, is64 ? 0x42 : 0x41);
    wat_u8(c, d, 0);
    wat_u8(c, d, 0x0B);
    wat_u32(c, d, (uint32_t)len);
    wat_bytes(c, d, c->scratch.d + mark, len);
    c->scratch.len = mark;
    c->nsec[WAT_SEC_DATA]++;
    wat_expect_rpar(c);
    return;
  }
  c->pos = save;
  memtype(c, b);
  c->nsec[WAT_SEC_MEM]++;
  wat_expect_rpar(c);
}

void wat_global_field(wat_ctx *c, uint32_t idx) {
  wat_opt_id(c);
  inline_exports(c, WEFT_EXTERN_GLOBAL, idx);
  if (inline_import(c)) {
    wat_u8(c, &c->sec[WAT_SEC_IMPORT], WEFT_EXTERN_GLOBAL);
    globaltype(c, &c->sec[WAT_SEC_IMPORT]);
    wat_expect_rpar(c);
    return;
  }
  wat_buf *b = &c->sec[WAT_SEC_GLOBAL];
  globaltype(c, b);
  begin_func(c);
  wat_instrs(c, b);
  wat_u8(c, b, 0x0B);
  c->nsec[WAT_SEC_GLOBAL]++;
  wat_expect_rpar(c);
}

void wat_tag_field(wat_ctx *c, uint32_t idx) {
  wat_opt_id(c);
  inline_exports(c, WEFT_EXTERN_TAG, idx);
  if (inline_import(c)) {
    wat_u8(c, &c->sec[WAT_SEC_IMPORT], WEFT_EXTERN_TAG);
    wat_u8(c, &c->sec[WAT_SEC_IMPORT], 0);
    wat_u32(c, &c->sec[WAT_SEC_IMPORT], wat_typeuse(c, false, true, NULL));
    wat_expect_rpar(c);
    return;
  }
  wat_buf *b = &c->sec[WAT_SEC_TAG];
  wat_u8(c, b, 0);
  wat_u32(c, b, wat_typeuse(c, false, true, NULL));
  c->nsec[WAT_SEC_TAG]++;
  wat_expect_rpar(c);
}

void wat_import_field(wat_ctx *c) {
  wat_buf *b = &c->sec[WAT_SEC_IMPORT];
  put_name_tok(c, b);
  put_name_tok(c, b);
  wat_expect_lpar(c);
  const wat_tok *k = wat_next(c);
  wat_opt_id(c);
  if (wat_is_kw(k, "func")) {
    wat_u8(c, b, WEFT_EXTERN_FUNC);
    begin_func(c);
    wat_u32(c, b, wat_typeuse(c, false, true, NULL));
  } else if (wat_is_kw(k, "table")) {
    wat_u8(c, b, WEFT_EXTERN_TABLE);
    tabletype(c, b);
  } else if (wat_is_kw(k, "memory")) {
    wat_u8(c, b, WEFT_EXTERN_MEMORY);
    memtype(c, b);
  } else if (wat_is_kw(k, "global")) {
    wat_u8(c, b, WEFT_EXTERN_GLOBAL);
    globaltype(c, b);
  } else if (wat_is_kw(k, "tag")) {
    wat_u8(c, b, WEFT_EXTERN_TAG);
    wat_u8(c, b, 0);
    wat_u32(c, b, wat_typeuse(c, false, true, NULL));
  } else {
    wat_fail(c, k, "unexpected token: expected an import kind (func, table, memory, global, tag) but found '%.*s'",
             (int)k->len, k->p);
  }
  wat_expect_rpar(c);
  wat_expect_rpar(c);
  c->nsec[WAT_SEC_IMPORT]++;
}

void wat_export_field(wat_ctx *c) {
  wat_buf *b = &c->sec[WAT_SEC_EXPORT];
  put_name_tok(c, b);
  wat_expect_lpar(c);
  const wat_tok *k = wat_next(c);
  int sp = wat_space_of_kw(k);
  if (sp < 0) wat_fail(c, k, "unexpected token: expected an export kind but found '%.*s'", (int)k->len, k->p);
  static const uint8_t kinds[WAT_SP_COUNT] = {0, WEFT_EXTERN_FUNC, WEFT_EXTERN_TABLE,
                                              WEFT_EXTERN_MEMORY, WEFT_EXTERN_GLOBAL, WEFT_EXTERN_TAG};
  wat_u8(c, b, kinds[sp]);
  wat_u32(c, b, wat_resolve(c, sp, wat_peek(c, 0)));
  wat_next(c);
  wat_expect_rpar(c);
  wat_expect_rpar(c);
  c->nsec[WAT_SEC_EXPORT]++;
}

