/* text/wat_module.c -- module fields of the text format -> binary sections.
 *
 * Three passes over a module's token range: (1) collect identifiers of every index space in order of
 * appearance (imports first, as the spec requires), (2) parse and encode the type definitions, so
 * that inline type uses can be matched against all explicit types, (3) everything else, in order.
 * Implicit function types are appended to the type section as the spec says. Bodies are delegated
 * to wat_instr.c. Depends on: wat_int.h.
 */
#include <stdlib.h>
#include <string.h>

#include "wat_int.h"

static const char *const space_names[WAT_SP_COUNT] = {"type", "func", "table", "memory",
                                                      "global", "tag", "elem", "data"};
static const char *const space_unknown[WAT_SP_COUNT] = {"type", "function", "table", "memory",
                                                        "global", "tag", "elem segment",
                                                        "data segment"};

/* -- Context ----------------------------------------------------------------------------------- */

void wat_ctx_init(wat_ctx *c, const char *file, weft_diag *d) {
  memset(c, 0, sizeof *c);
  c->file = file;
  c->diag = d;
}

void wat_ctx_reset_module(wat_ctx *c) {
  for (int i = 0; i < WAT_SP_COUNT; i++) {
    wat_map_free(&c->sp[i].names);
    free(c->sp[i].idnames);
    free(c->sp[i].idlens);
  }
  memset(c->sp, 0, sizeof c->sp);
  for (uint32_t i = 0; i < c->ntypes_cap; i++) {
    free(c->types[i].ft.v);
    wat_map_free(&c->types[i].fields);
  }
  free(c->types);
  c->types = NULL;
  c->ntypes_cap = 0;
  c->nexplicit_types = c->nrec = 0;
  for (int i = 0; i < WAT_SEC_COUNT; i++) {
    wat_buf_free(&c->sec[i]);
    c->nsec[i] = 0;
  }
  c->has_start = c->uses_datacount = c->seen_def = false;
  c->seen_def_kind = NULL;
  c->mod_name = NULL;
  c->mod_name_len = 0;
  wat_map_free(&c->locals);
  free(c->local_names);
  free(c->local_lens);
  c->local_names = NULL;
  c->local_lens = NULL;
  c->local_cap = c->nlocals = 0;
  free(c->labels);
  c->labels = NULL;
  c->nlabels = c->labels_cap = 0;
  wat_buf_free(&c->body);
  wat_buf_free(&c->pend);
  wat_buf_free(&c->scratch);
  wat_buf_free(&c->kstack);
  wat_buf_free(&c->tmp);
  wat_buf_free(&c->names_local);
  c->nnames_local = 0;
  c->depth = 0;
}

void wat_ctx_free(wat_ctx *c) {
  wat_ctx_reset_module(c);
  free(c->toks);
  c->toks = NULL;
  wat_arena_free(&c->arena);
}

/* -- Index spaces ------------------------------------------------------------------------------ */

static uint32_t declare(wat_ctx *c, int space, const wat_tok *id) {
  wat_space *s = &c->sp[space];
  uint32_t idx = s->n++;
  if (space == WAT_SP_FUNC) {
    if (idx >= s->cap) {
      uint32_t nc = s->cap ? s->cap * 2 : 16;
      const char **nn = realloc(s->idnames, nc * sizeof *nn);
      if (!nn) wat_oom(c);
      s->idnames = nn;
      uint32_t *nl = realloc(s->idlens, nc * sizeof *nl);
      if (!nl) wat_oom(c);
      s->idlens = nl;
      s->cap = nc;
    }
    s->idnames[idx] = id ? id->v : NULL;
    s->idlens[idx] = id ? id->vlen : 0;
  }
  if (id && !wat_map_put(c, &s->names, id->v, id->vlen, idx))
    wat_fail(c, id, "duplicate %s $%.*s", space_names[space], (int)id->vlen, id->v);
  return idx;
}

uint32_t wat_resolve(wat_ctx *c, int space, const wat_tok *t) {
  if (t->kind == WAT_T_NUM) return wat_tok_u32(c, t);
  if (t->kind == WAT_T_ID) {
    uint32_t v;
    if (!wat_map_get(&c->sp[space].names, t->v, t->vlen, &v))
      wat_fail(c, t, "unknown %s $%.*s", space_unknown[space], (int)t->vlen, t->v);
    return v;
  }
  wat_fail(c, t, "unexpected token: expected a %s index but found '%.*s'", space_names[space],
           (int)t->len, t->p);
}

static bool at_index(wat_ctx *c) {
  uint8_t k = wat_peek(c, 0)->kind;
  return k == WAT_T_ID || k == WAT_T_NUM;
}

const wat_tok *wat_opt_id(wat_ctx *c) {
  if (wat_peek(c, 0)->kind == WAT_T_ID) return wat_next(c);
  return NULL;
}

static wat_typeinfo *typeinfo(wat_ctx *c, uint32_t idx) {
  if (idx >= c->ntypes_cap) {
    uint32_t nc = c->ntypes_cap ? c->ntypes_cap : 16;
    while (nc <= idx) nc *= 2;
    wat_typeinfo *nt = realloc(c->types, nc * sizeof *nt);
    if (!nt) wat_oom(c);
    memset(nt + c->ntypes_cap, 0, (nc - c->ntypes_cap) * sizeof *nt);
    c->types = nt;
    c->ntypes_cap = nc;
  }
  return &c->types[idx];
}

/* -- Value types ------------------------------------------------------------------------------- */

static const struct { const char *kw; uint8_t code; } abstract_heaps[] = {
    {"func", WEFT_AHT_FUNC},     {"extern", WEFT_AHT_EXTERN},   {"any", WEFT_AHT_ANY},
    {"eq", WEFT_AHT_EQ},         {"i31", WEFT_AHT_I31},         {"struct", WEFT_AHT_STRUCT},
    {"array", WEFT_AHT_ARRAY},   {"none", WEFT_AHT_NONE},       {"nofunc", WEFT_AHT_NOFUNC},
    {"noextern", WEFT_AHT_NOEXTERN}, {"exn", WEFT_AHT_EXN},     {"noexn", WEFT_AHT_NOEXN},
    {"cont", WEFT_AHT_CONT},     {"nocont", WEFT_AHT_NOCONT}};

static const struct { const char *kw; uint8_t code; } ref_shorthands[] = {
    {"funcref", WEFT_AHT_FUNC},   {"externref", WEFT_AHT_EXTERN},  {"anyref", WEFT_AHT_ANY},
    {"eqref", WEFT_AHT_EQ},       {"i31ref", WEFT_AHT_I31},        {"structref", WEFT_AHT_STRUCT},
    {"arrayref", WEFT_AHT_ARRAY}, {"nullref", WEFT_AHT_NONE},      {"nullfuncref", WEFT_AHT_NOFUNC},
    {"nullexternref", WEFT_AHT_NOEXTERN}, {"exnref", WEFT_AHT_EXN}, {"nullexnref", WEFT_AHT_NOEXN},
    {"contref", WEFT_AHT_CONT},   {"nullcontref", WEFT_AHT_NOCONT}};

#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

uint32_t wat_heaptype(wat_ctx *c) {
  const wat_tok *t = wat_peek(c, 0);
  if (t->kind == WAT_T_KEYWORD) {
    for (size_t i = 0; i < NELEMS(abstract_heaps); i++)
      if (wat_is_kw(t, abstract_heaps[i].kw)) {
        wat_next(c);
        return WEFT_HT_ABS(abstract_heaps[i].code);
      }
  }
  if (t->kind == WAT_T_ID || t->kind == WAT_T_NUM) {
    uint32_t idx = wat_resolve(c, WAT_SP_TYPE, t);
    if (idx >= WEFT_HT_ABSTRACT) wat_fail(c, t, "type index too large: %u", idx);
    wat_next(c);
    return idx;
  }
  wat_fail(c, t, "unexpected token: expected a heap type but found '%.*s'", (int)t->len, t->p);
}

static int shorthand(const wat_tok *t) {
  if (t->kind != WAT_T_KEYWORD) return -1;
  for (size_t i = 0; i < NELEMS(ref_shorthands); i++)
    if (wat_is_kw(t, ref_shorthands[i].kw)) return ref_shorthands[i].code;
  return -1;
}

bool wat_at_valtype(wat_ctx *c) {
  const wat_tok *t = wat_peek(c, 0);
  if (t->kind == WAT_T_LPAR) return wat_is_kw(wat_peek(c, 1), "ref");
  return wat_is_kw(t, "i32") || wat_is_kw(t, "i64") || wat_is_kw(t, "f32") || wat_is_kw(t, "f64") ||
         wat_is_kw(t, "v128") || shorthand(t) >= 0;
}

weft_valtype wat_reftype(wat_ctx *c) {
  const wat_tok *t = wat_peek(c, 0);
  int sh = shorthand(t);
  if (sh >= 0) {
    wat_next(c);
    return WEFT_VT_MAKE_REF(1, WEFT_HT_ABS(sh));
  }
  if (t->kind == WAT_T_LPAR && wat_is_kw(wat_peek(c, 1), "ref")) {
    wat_next(c);
    wat_next(c);
    bool null = false;
    if (wat_is_kw(wat_peek(c, 0), "null")) {
      wat_next(c);
      null = true;
    }
    uint32_t h = wat_heaptype(c);
    wat_expect_rpar(c);
    return WEFT_VT_MAKE_REF(null, h);
  }
  wat_fail(c, t, "unexpected token: expected a reference type but found '%.*s'", (int)t->len, t->p);
}

weft_valtype wat_valtype(wat_ctx *c) {
  const wat_tok *t = wat_peek(c, 0);
  if (wat_is_kw(t, "i32")) { wat_next(c); return WEFT_VT_I32; }
  if (wat_is_kw(t, "i64")) { wat_next(c); return WEFT_VT_I64; }
  if (wat_is_kw(t, "f32")) { wat_next(c); return WEFT_VT_F32; }
  if (wat_is_kw(t, "f64")) { wat_next(c); return WEFT_VT_F64; }
  if (wat_is_kw(t, "v128")) { wat_next(c); return WEFT_VT_V128; }
  if (shorthand(t) >= 0 || (t->kind == WAT_T_LPAR && wat_is_kw(wat_peek(c, 1), "ref")))
    return wat_reftype(c);
  if (t->kind == WAT_T_KEYWORD) wat_fail(c, t, "unknown operator %.*s: expected a value type", (int)t->len, t->p);
  wat_fail(c, t, "unexpected token: expected a value type but found '%.*s'", (int)t->len, t->p);
}

static weft_valtype storagetype(wat_ctx *c) {
  const wat_tok *t = wat_peek(c, 0);
  if (wat_is_kw(t, "i8")) { wat_next(c); return WEFT_VT_I8; }
  if (wat_is_kw(t, "i16")) { wat_next(c); return WEFT_VT_I16; }
  return wat_valtype(c);
}

void wat_put_heaptype(wat_ctx *c, wat_buf *b, uint32_t heap) {
  if (WEFT_HT_IS_ABSTRACT(heap)) wat_u8(c, b, (uint8_t)(heap & 0xFF));
  else wat_s64(c, b, (int64_t)heap);
}

void wat_put_valtype(wat_ctx *c, wat_buf *b, weft_valtype t) {
  uint32_t k = WEFT_VT_KIND(t);
  if (k != WEFT_VT_REF && k != WEFT_VT_REF_NULL) {
    wat_u8(c, b, (uint8_t)k);
    return;
  }
  uint32_t h = WEFT_VT_HEAP(t);
  if (k == WEFT_VT_REF_NULL && WEFT_HT_IS_ABSTRACT(h)) {
    wat_u8(c, b, (uint8_t)(h & 0xFF));
    return;
  }
  wat_u8(c, b, (uint8_t)k);
  wat_put_heaptype(c, b, h);
}

/* -- Function types and type uses -------------------------------------------------------------- */

typedef struct sig {
  uint32_t np, nr, cap;
  weft_valtype *v;
} sig;

static void sig_push(wat_ctx *c, sig *s, weft_valtype t, bool result) {
  if (s->np + s->nr == s->cap) {
    uint32_t nc = s->cap ? s->cap * 2 : 8;
    weft_valtype *nv = wat_alloc(c, nc * sizeof *nv);
    if (s->v) memcpy(nv, s->v, (s->np + s->nr) * sizeof *nv);
    s->v = nv;
    s->cap = nc;
  }
  if (result) s->v[s->np + s->nr++] = t;
  else {
    if (s->nr) wat_fail(c, NULL, "unexpected token: parameter after result");
    s->v[s->np++] = t;
  }
}

/* "(param $x? t*)* (result t*)*"; with `declare`, parameter ids become local names. */
static void parse_sig(wat_ctx *c, sig *s, bool declare, bool allow_ids) {
  while (wat_peek_lpar_kw(c, "param")) {
    wat_next(c);
    wat_next(c);
    const wat_tok *id = wat_opt_id(c);
    if (id) {
      if (!allow_ids) wat_fail(c, id, "unexpected token: identifier not allowed here");
      weft_valtype t = wat_valtype(c);
      if (declare) {
        if (!wat_map_put(c, &c->locals, id->v, id->vlen, s->np))
          wat_fail(c, id, "duplicate local $%.*s", (int)id->vlen, id->v);
        if (c->local_cap <= s->np) {
          uint32_t nc = c->local_cap ? c->local_cap * 2 : 16;
          while (nc <= s->np) nc *= 2;
          const char **nn = realloc(c->local_names, nc * sizeof *nn);
          if (!nn) wat_oom(c);
          c->local_names = nn;
          uint32_t *nl = realloc(c->local_lens, nc * sizeof *nl);
          if (!nl) wat_oom(c);
          c->local_lens = nl;
          memset(c->local_names + c->local_cap, 0, (nc - c->local_cap) * sizeof *nn);
          c->local_cap = nc;
        }
        c->local_names[s->np] = id->v;
        c->local_lens[s->np] = id->vlen;
      }
      sig_push(c, s, t, false);
    } else {
      while (wat_peek(c, 0)->kind != WAT_T_RPAR) sig_push(c, s, wat_valtype(c), false);
    }
    wat_expect_rpar(c);
  }
  while (wat_peek_lpar_kw(c, "result")) {
    wat_next(c);
    wat_next(c);
    while (wat_peek(c, 0)->kind != WAT_T_RPAR) sig_push(c, s, wat_valtype(c), true);
    wat_expect_rpar(c);
  }
  if (wat_peek_lpar_kw(c, "param"))
    wat_fail(c, wat_peek(c, 1), "unexpected token: expected an instruction but found 'param' after 'result'");
}

static bool sig_eq(const wat_functype *f, const sig *s) {
  return f->np == s->np && f->nr == s->nr &&
         (s->np + s->nr == 0 || memcmp(f->v, s->v, (s->np + s->nr) * sizeof *s->v) == 0);
}

static void put_functype(wat_ctx *c, wat_buf *b, const sig *s) {
  wat_u8(c, b, WEFT_COMP_FUNC);
  wat_u32(c, b, s->np);
  for (uint32_t i = 0; i < s->np; i++) wat_put_valtype(c, b, s->v[i]);
  wat_u32(c, b, s->nr);
  for (uint32_t i = 0; i < s->nr; i++) wat_put_valtype(c, b, s->v[s->np + i]);
}

static void set_functype(wat_ctx *c, wat_typeinfo *ti, const sig *s) {
  ti->comp = WEFT_COMP_FUNC;
  ti->ft.np = s->np;
  ti->ft.nr = s->nr;
  free(ti->ft.v);
  ti->ft.v = NULL;
  if (s->np + s->nr) {
    ti->ft.v = malloc((s->np + s->nr) * sizeof *s->v);
    if (!ti->ft.v) wat_oom(c);
    memcpy(ti->ft.v, s->v, (s->np + s->nr) * sizeof *s->v);
  }
}

/* Find the function type a signature abbreviates, appending a new one when none matches. */
static uint32_t find_or_add_type(wat_ctx *c, const sig *s) {
  uint32_t n = c->sp[WAT_SP_TYPE].n;
  for (uint32_t i = 0; i < n; i++) {
    wat_typeinfo *ti = &c->types[i];
    if (ti->plain_func && sig_eq(&ti->ft, s)) return i;
  }
  uint32_t idx = declare(c, WAT_SP_TYPE, NULL);
  wat_typeinfo *ti = typeinfo(c, idx);
  set_functype(c, ti, s);
  ti->plain_func = true;
  put_functype(c, &c->sec[WAT_SEC_TYPE], s);
  c->nrec++;
  return idx;
}

uint32_t wat_typeuse(wat_ctx *c, bool declare_params, bool allow_ids, uint32_t *out_nparams) {
  uint32_t idx = WEFT_NONE;
  bool explicit_type = false; /* (type 0xffffffff) is an index, not "none" */
  const wat_tok *tt = NULL;
  if (wat_peek_lpar_kw(c, "type")) {
    wat_next(c);
    wat_next(c);
    tt = wat_peek(c, 0);
    idx = wat_resolve(c, WAT_SP_TYPE, tt);
    explicit_type = true;
    wat_next(c);
    wat_expect_rpar(c);
  }
  sig s = {0};
  bool inline_sig = wat_peek_lpar_kw(c, "param") || wat_peek_lpar_kw(c, "result");
  parse_sig(c, &s, declare_params, allow_ids);
  if (!explicit_type) {
    idx = find_or_add_type(c, &s);
    if (out_nparams) *out_nparams = s.np;
    return idx;
  }
  bool known = idx < c->sp[WAT_SP_TYPE].n && c->types[idx].comp == WEFT_COMP_FUNC;
  if (inline_sig && idx >= c->sp[WAT_SP_TYPE].n) wat_fail(c, tt, "unknown type %u", idx);
  if (inline_sig && (!known || !sig_eq(&c->types[idx].ft, &s)))
    wat_fail(c, tt, "inline function type does not match type %u", idx);
  if (out_nparams) *out_nparams = known ? c->types[idx].ft.np : s.np;
  return idx;
}

void wat_blocktype(wat_ctx *c, wat_buf *b) {
  if (wat_peek_lpar_kw(c, "type")) {
    uint32_t idx = wat_typeuse(c, false, false, NULL);
    if ((c->compat & WAT_COMPAT_WABT_BLOCKTYPE) && idx < c->sp[WAT_SP_TYPE].n &&
        c->types[idx].comp == WEFT_COMP_FUNC && c->types[idx].ft.np == 0 && c->types[idx].ft.nr <= 1) {
      if (c->types[idx].ft.nr == 0) wat_u8(c, b, WEFT_BT_EMPTY);
      else wat_put_valtype(c, b, c->types[idx].ft.v[0]);
      return;
    }
    wat_s64(c, b, idx);
    return;
  }
  sig s = {0};
  parse_sig(c, &s, false, false);
  if (s.np == 0 && s.nr == 0) wat_u8(c, b, WEFT_BT_EMPTY);
  else if (s.np == 0 && s.nr == 1) wat_put_valtype(c, b, s.v[0]);
  else wat_s64(c, b, find_or_add_type(c, &s));
}

/* -- Pass 1: identifiers ----------------------------------------------------------------------- */

typedef struct field {
  size_t pos; /* token index of '(' */
  int kind;
} field;

enum { F_TYPE, F_REC, F_FUNC, F_TABLE, F_MEMORY, F_GLOBAL, F_TAG, F_IMPORT, F_EXPORT, F_START,
       F_ELEM, F_DATA };

static const struct { const char *kw; int kind; int space; } field_kws[] = {
    {"type", F_TYPE, WAT_SP_TYPE},       {"rec", F_REC, -1},
    {"func", F_FUNC, WAT_SP_FUNC},       {"table", F_TABLE, WAT_SP_TABLE},
    {"memory", F_MEMORY, WAT_SP_MEM},    {"global", F_GLOBAL, WAT_SP_GLOBAL},
    {"tag", F_TAG, WAT_SP_TAG},          {"import", F_IMPORT, -1},
    {"export", F_EXPORT, -1},            {"start", F_START, -1},
    {"elem", F_ELEM, WAT_SP_ELEM},       {"data", F_DATA, WAT_SP_DATA}};

int wat_space_of_kw(const wat_tok *t) {
  for (size_t i = 0; i < NELEMS(field_kws); i++)
    if (field_kws[i].space >= 2 && field_kws[i].space <= WAT_SP_TAG && wat_is_kw(t, field_kws[i].kw))
      return field_kws[i].space;
  if (wat_is_kw(t, "func")) return WAT_SP_FUNC;
  return -1;
}

static void import_order(wat_ctx *c, const wat_tok *at) {
  if (c->seen_def) wat_fail(c, at, "import after %s", c->seen_def_kind);
}

/* Declare a func/table/memory/global/tag field: is it an inline import? Also count the inline
 * elem/data segments that tables/memories abbreviate. pos is after the keyword. */
static void scan_entity(wat_ctx *c, int space) {
  const wat_tok *id = wat_opt_id(c);
  bool is_import = false;
  while (wat_peek_lpar_kw(c, "export")) wat_skip_sexpr(c);
  if (wat_peek_lpar_kw(c, "import")) {
    is_import = true;
    import_order(c, wat_peek(c, 1));
  }
  declare(c, space, id);
  if (is_import) {
    c->sp[space].nimports++;
    return;
  }
  if (!c->seen_def) {
    c->seen_def = true;
    c->seen_def_kind = space == WAT_SP_FUNC ? "function" : space_names[space];
  }
  if (space == WAT_SP_TABLE || space == WAT_SP_MEM) {
    /* an inline (elem ...) / (data ...) */
    while (wat_peek(c, 0)->kind != WAT_T_RPAR && wat_peek(c, 0)->kind != WAT_T_EOF) {
      if (wat_peek_lpar_kw(c, space == WAT_SP_TABLE ? "elem" : "data")) {
        declare(c, space == WAT_SP_TABLE ? WAT_SP_ELEM : WAT_SP_DATA, NULL);
        return;
      }
      if (wat_peek(c, 0)->kind == WAT_T_LPAR) wat_skip_sexpr(c);
      else wat_next(c);
    }
  }
}

static void declare_type(wat_ctx *c) {
  /* at "(type" */
  wat_next(c);
  wat_next(c);
  declare(c, WAT_SP_TYPE, wat_opt_id(c));
  typeinfo(c, c->sp[WAT_SP_TYPE].n - 1);
}

static field *scan_fields(wat_ctx *c, size_t *out_n) {
  size_t cap = 16, n = 0;
  field *fs = wat_alloc(c, cap * sizeof *fs);
  for (;;) {
    const wat_tok *t = wat_peek(c, 0);
    if (t->kind == WAT_T_RPAR || t->kind == WAT_T_EOF) break;
    if (t->kind != WAT_T_LPAR)
      wat_fail(c, t, "unexpected token: expected a module field '(' but found '%.*s'", (int)t->len, t->p);
    size_t start = c->pos;
    const wat_tok *kw = wat_peek(c, 1);
    int kind = -1;
    for (size_t i = 0; i < NELEMS(field_kws); i++)
      if (wat_is_kw(kw, field_kws[i].kw)) kind = field_kws[i].kind;
    if (kind < 0)
      wat_fail(c, kw, "unexpected token: expected a module field but found '%.*s'", (int)kw->len, kw->p);
    switch (kind) {
    case F_TYPE: declare_type(c); break;
    case F_REC:
      wat_next(c);
      wat_next(c);
      while (wat_peek_lpar_kw(c, "type")) {
        size_t p = c->pos;
        declare_type(c);
        c->pos = p;
        wat_skip_sexpr(c);
      }
      break;
    case F_FUNC: case F_TABLE: case F_MEMORY: case F_GLOBAL: case F_TAG:
      wat_next(c);
      wat_next(c);
      scan_entity(c, wat_space_of_kw(kw));
      break;
    case F_IMPORT: {
      wat_next(c);
      wat_next(c);
      if (wat_peek(c, 0)->kind == WAT_T_STRING) wat_next(c);
      if (wat_peek(c, 0)->kind == WAT_T_STRING) wat_next(c);
      if (wat_peek(c, 0)->kind != WAT_T_LPAR) break; /* reported in pass 3 */
      const wat_tok *dk = wat_peek(c, 1);
      int sp = wat_space_of_kw(dk);
      if (sp < 0) break;
      import_order(c, kw);
      wat_next(c);
      wat_next(c);
      declare(c, sp, wat_opt_id(c));
      c->sp[sp].nimports++;
      break;
    }
    case F_ELEM: case F_DATA:
      wat_next(c);
      wat_next(c);
      declare(c, kind == F_ELEM ? WAT_SP_ELEM : WAT_SP_DATA, wat_opt_id(c));
      break;
    default: break;
    }
    c->pos = start;
    wat_skip_sexpr(c);
    if (n == cap) {
      field *nf = wat_alloc(c, cap * 2 * sizeof *nf);
      memcpy(nf, fs, n * sizeof *nf);
      fs = nf;
      cap *= 2;
    }
    fs[n].pos = start;
    fs[n].kind = kind;
    n++;
  }
  *out_n = n;
  return fs;
}

/* -- Pass 2: type definitions ------------------------------------------------------------------ */

static void fieldtype(wat_ctx *c, wat_buf *b) {
  bool mut = false;
  weft_valtype t;
  if (wat_peek_lpar_kw(c, "mut")) {
    wat_next(c);
    wat_next(c);
    t = storagetype(c);
    wat_expect_rpar(c);
    mut = true;
  } else {
    t = storagetype(c);
  }
  wat_put_valtype(c, b, t);
  wat_u8(c, b, mut ? 1 : 0);
}

/* comptype: "(func ...)" | "(struct ...)" | "(array ...)" | "(cont x)" */
static void comptype(wat_ctx *c, wat_buf *b, wat_typeinfo *ti) {
  wat_expect_lpar(c);
  const wat_tok *k = wat_next(c);
  if (wat_is_kw(k, "func")) {
    sig s = {0};
    parse_sig(c, &s, false, true);
    set_functype(c, ti, &s);
    put_functype(c, b, &s);
  } else if (wat_is_kw(k, "struct")) {
    ti->comp = WEFT_COMP_STRUCT;
    uint32_t nf = 0;
    wat_buf *fb = &c->body; /* scratch: bodies are not being built during pass 2 */
    size_t mark = fb->len;
    while (wat_peek_lpar_kw(c, "field")) {
      wat_next(c);
      wat_next(c);
      const wat_tok *id = wat_opt_id(c);
      if (id) {
        if (!wat_map_put(c, &ti->fields, id->v, id->vlen, nf))
          wat_fail(c, id, "duplicate field $%.*s", (int)id->vlen, id->v);
        fieldtype(c, fb);
        nf++;
      } else {
        while (wat_peek(c, 0)->kind != WAT_T_RPAR) {
          fieldtype(c, fb);
          nf++;
        }
      }
      wat_expect_rpar(c);
    }
    wat_u8(c, b, WEFT_COMP_STRUCT);
    wat_u32(c, b, nf);
    wat_bytes(c, b, fb->d + mark, fb->len - mark);
    fb->len = mark;
  } else if (wat_is_kw(k, "array")) {
    ti->comp = WEFT_COMP_ARRAY;
    wat_u8(c, b, WEFT_COMP_ARRAY);
    bool paren = wat_peek_lpar_kw(c, "field");
    if (paren) {
      wat_next(c);
      wat_next(c);
    }
    fieldtype(c, b);
    if (paren) wat_expect_rpar(c);
  } else if (wat_is_kw(k, "cont")) {
    ti->comp = WEFT_COMP_CONT;
    wat_u8(c, b, WEFT_COMP_CONT);
    const wat_tok *t = wat_peek(c, 0);
    uint32_t idx = wat_resolve(c, WAT_SP_TYPE, t);
    wat_next(c);
    wat_s64(c, b, idx);
  } else {
    wat_fail(c, k, "unexpected token: expected 'func', 'struct', 'array' or 'cont' but found '%.*s'",
             (int)k->len, k->p);
  }
  wat_expect_rpar(c);
}

/* "(type $id? subtype)" at pos; `single` when it forms its own rec group. */
static void typedef_(wat_ctx *c, wat_buf *b, uint32_t *next_type, bool single) {
  wat_expect_lpar(c);
  wat_expect_kw(c, "type");
  wat_opt_id(c);
  uint32_t idx = (*next_type)++;
  wat_typeinfo *ti = typeinfo(c, idx);
  if (wat_peek_lpar_kw(c, "sub")) {
    wat_next(c);
    wat_next(c);
    bool final = false;
    if (wat_is_kw(wat_peek(c, 0), "final")) {
      wat_next(c);
      final = true;
    }
    uint32_t supers[64];
    uint32_t ns = 0;
    while (at_index(c)) {
      uint32_t s = wat_resolve(c, WAT_SP_TYPE, wat_peek(c, 0));
      if (ns == 64) wat_fail(c, NULL, "too many supertypes");
      supers[ns++] = s;
      wat_next(c);
    }
    if (!(final && ns == 0)) {
      wat_u8(c, b, final ? 0x4F : 0x50);
      wat_u32(c, b, ns);
      for (uint32_t i = 0; i < ns; i++) wat_u32(c, b, supers[i]);
    }
    comptype(c, b, ti);
    wat_expect_rpar(c);
    ti->plain_func = single && final && ns == 0 && ti->comp == WEFT_COMP_FUNC;
  } else {
    comptype(c, b, ti);
    ti->plain_func = single && ti->comp == WEFT_COMP_FUNC;
  }
  wat_expect_rpar(c);
}

static void parse_types(wat_ctx *c, const field *fs, size_t n) {
  uint32_t next_type = 0;
  wat_buf *b = &c->sec[WAT_SEC_TYPE];
  for (size_t i = 0; i < n; i++) {
    c->pos = fs[i].pos;
    if (fs[i].kind == F_TYPE) {
      typedef_(c, b, &next_type, true);
      c->nrec++;
    } else if (fs[i].kind == F_REC) {
      wat_next(c);
      wat_next(c);
      size_t p = c->pos;
      uint32_t cnt = 0;
      while (wat_peek_lpar_kw(c, "type")) {
        wat_skip_sexpr(c);
        cnt++;
      }
      c->pos = p;
      if (cnt != 1) {
        wat_u8(c, b, 0x4E);
        wat_u32(c, b, cnt);
      }
      while (wat_peek_lpar_kw(c, "type")) typedef_(c, b, &next_type, cnt == 1);
      wat_expect_rpar(c);
      c->nrec++;
    }
  }
  c->nexplicit_types = next_type;
}

/* -- Assembly ---------------------------------------------------------------------------------- */

static void put_section(wat_ctx *c, wat_buf *out, uint8_t id, uint32_t count, bool vec, const wat_buf *b) {
  uint8_t lebbuf[5];
  size_t ln = 0;
  uint32_t v = count;
  do {
    uint8_t byte = v & 0x7F;
    v >>= 7;
    if (v) byte |= 0x80;
    lebbuf[ln++] = byte;
  } while (v);
  size_t size = b->len + (vec ? ln : 0);
  wat_u8(c, out, id);
  wat_u32(c, out, (uint32_t)size);
  if (vec) wat_bytes(c, out, lebbuf, ln);
  wat_bytes(c, out, b->d, b->len);
}

static void put_names(wat_ctx *c, wat_buf *out) {
  wat_buf *p = &c->pend;
  size_t mark = p->len;
  wat_space *fs = &c->sp[WAT_SP_FUNC];
  uint32_t nf = 0;
  for (uint32_t i = 0; i < fs->n && i < fs->cap; i++)
    if (fs->idnames[i]) nf++;
  if (!c->mod_name && !nf && !c->nnames_local) return;
  static const uint8_t nm[] = {'n', 'a', 'm', 'e'};
  wat_name(c, p, nm, 4);
  if (c->mod_name) {
    wat_u8(c, p, 0);
    wat_u32(c, p, (uint32_t)(c->mod_name_len + (c->mod_name_len < 128 ? 1 : c->mod_name_len < 16384 ? 2 : 3)));
    wat_name(c, p, (const uint8_t *)c->mod_name, c->mod_name_len);
  }
  if (nf) {
    size_t sub = p->len;
    wat_u32(c, p, nf);
    for (uint32_t i = 0; i < fs->n && i < fs->cap; i++) {
      if (!fs->idnames[i]) continue;
      wat_u32(c, p, i);
      wat_name(c, p, (const uint8_t *)fs->idnames[i], fs->idlens[i]);
    }
    size_t sublen = p->len - sub;
    size_t hmark = p->len;
    wat_u8(c, p, 1);
    wat_u32(c, p, (uint32_t)sublen);
    /* rotate the header in front of the subsection */
    size_t hl = p->len - hmark;
    uint8_t h[8];
    memcpy(h, p->d + hmark, hl);
    memmove(p->d + sub + hl, p->d + sub, sublen);
    memcpy(p->d + sub, h, hl);
  }
  if (c->nnames_local) {
    wat_u8(c, p, 2);
    uint8_t cnt[5];
    size_t cl = 0;
    uint32_t v = c->nnames_local;
    do {
      uint8_t byte = v & 0x7F;
      v >>= 7;
      if (v) byte |= 0x80;
      cnt[cl++] = byte;
    } while (v);
    wat_u32(c, p, (uint32_t)(cl + c->names_local.len));
    wat_bytes(c, p, cnt, cl);
    wat_bytes(c, p, c->names_local.d, c->names_local.len);
  }
  wat_u8(c, out, 0);
  wat_u32(c, out, (uint32_t)(p->len - mark));
  wat_bytes(c, out, p->d + mark, p->len - mark);
  p->len = mark;
}

void wat_module(wat_ctx *c, bool wrapped, uint8_t **out, size_t *out_len) {
  /* Scratch buffers start non-empty so that "d + mark" is never arithmetic on NULL. */
  wat_buf *scratch[] = {&c->body, &c->pend, &c->scratch, &c->kstack, &c->tmp, &c->names_local};
  for (size_t i = 0; i < NELEMS(scratch); i++)
    if (!wat_buf_reserve(scratch[i], 64)) wat_oom(c);
  if (wrapped) {
    const wat_tok *id = wat_opt_id(c);
    if (id) {
      c->mod_name = id->v;
      c->mod_name_len = id->vlen;
    }
  }
  size_t nf;
  field *fs = scan_fields(c, &nf);
  size_t end = c->pos;
  parse_types(c, fs, nf);
  uint32_t cur[WAT_SP_COUNT] = {0};
  for (size_t i = 0; i < nf; i++) {
    c->pos = fs[i].pos + 2;
    switch (fs[i].kind) {
    case F_FUNC: wat_func_field(c, cur[WAT_SP_FUNC]++); break;
    case F_TABLE: {
      uint32_t t = cur[WAT_SP_TABLE]++;
      wat_table_field(c, t);
      if (c->nsec[WAT_SEC_ELEM] > cur[WAT_SP_ELEM]) cur[WAT_SP_ELEM] = c->nsec[WAT_SEC_ELEM];
      break;
    }
    case F_MEMORY: {
      uint32_t m = cur[WAT_SP_MEM]++;
      wat_memory_field(c, m);
      if (c->nsec[WAT_SEC_DATA] > cur[WAT_SP_DATA]) cur[WAT_SP_DATA] = c->nsec[WAT_SEC_DATA];
      break;
    }
    case F_GLOBAL: wat_global_field(c, cur[WAT_SP_GLOBAL]++); break;
    case F_TAG: wat_tag_field(c, cur[WAT_SP_TAG]++); break;
    case F_IMPORT: {
      const wat_tok *k = wat_peek(c, 2);
      if (wat_peek(c, 0)->kind == WAT_T_STRING && wat_peek(c, 1)->kind == WAT_T_STRING &&
          wat_peek(c, 2)->kind == WAT_T_LPAR) {
        k = wat_peek(c, 3);
        int sp = wat_space_of_kw(k);
        if (sp >= 0) cur[sp]++;
      }
      wat_import_field(c);
      break;
    }
    case F_EXPORT: wat_export_field(c); break;
    case F_START:
      if (c->has_start) wat_fail(c, &c->toks[fs[i].pos], "multiple start sections");
      c->has_start = true;
      wat_u32(c, &c->sec[WAT_SEC_START], wat_resolve(c, WAT_SP_FUNC, wat_peek(c, 0)));
      wat_next(c);
      wat_expect_rpar(c);
      break;
    case F_ELEM: wat_elem_field(c); cur[WAT_SP_ELEM]++; break;
    case F_DATA: wat_data_field(c); cur[WAT_SP_DATA]++; break;
    default: break;
    }
  }
  c->pos = end;
  /* assemble */
  static const uint8_t magic[] = {0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00};
  /* outb is malloc'd; keep it in body so an unwind frees it */
  wat_buf_free(&c->body);
  wat_bytes(c, &c->body, magic, 8);
  static const struct { int sec; uint8_t id; } order[] = {
      {WAT_SEC_TYPE, 1}, {WAT_SEC_IMPORT, 2}, {WAT_SEC_FUNC, 3}, {WAT_SEC_TABLE, 4},
      {WAT_SEC_MEM, 5}, {WAT_SEC_TAG, 13}, {WAT_SEC_GLOBAL, 6}, {WAT_SEC_EXPORT, 7},
      {WAT_SEC_START, 8}, {WAT_SEC_ELEM, 9}, {-1, 12}, {WAT_SEC_CODE, 10}, {WAT_SEC_DATA, 11}};
  c->nsec[WAT_SEC_TYPE] = c->nrec;
  for (size_t i = 0; i < NELEMS(order); i++) {
    int s = order[i].sec;
    if (s < 0) {
      if (c->uses_datacount) {
        wat_u8(c, &c->body, 12);
        wat_buf tmp = {0};
        wat_u32(c, &tmp, c->sp[WAT_SP_DATA].n);
        wat_u32(c, &c->body, (uint32_t)tmp.len);
        wat_bytes(c, &c->body, tmp.d, tmp.len);
        wat_buf_free(&tmp);
      }
      continue;
    }
    if (s == WAT_SEC_START) {
      if (c->has_start) put_section(c, &c->body, 8, 0, false, &c->sec[s]);
      continue;
    }
    if (c->nsec[s] == 0 && !(s == WAT_SEC_TYPE && c->sec[s].len)) continue;
    put_section(c, &c->body, order[i].id, c->nsec[s], true, &c->sec[s]);
  }
  put_names(c, &c->body);
  *out = c->body.d;
  *out_len = c->body.len;
  c->body.d = NULL;
  c->body.len = c->body.cap = 0;
}

/* -- Public entry ------------------------------------------------------------------------------ */

int weft_wat_to_wasm(const char *src, size_t len, const char *filename, uint8_t **out_bytes,
                     size_t *out_len, weft_diag *out_diag) {
  return wat_to_wasm_compat(src, len, filename, 0, out_bytes, out_len, out_diag);
}

int wat_to_wasm_compat(const char *src, size_t len, const char *filename, unsigned compat,
                       uint8_t **out_bytes, size_t *out_len, weft_diag *out_diag) {
  wat_ctx *c = malloc(sizeof *c);
  if (!c) return WEFT_ERR_NOMEM;
  wat_ctx_init(c, filename, out_diag);
  c->compat = compat;
  *out_bytes = NULL;
  *out_len = 0;
  if (setjmp(c->jb)) goto cleanup;
  wat_lex(c, src, len);
  bool wrapped = false;
  if (wat_peek_lpar_kw(c, "module")) {
    wat_next(c);
    wat_next(c);
    wrapped = true;
  }
  /* "(module $id? binary "..."*)" is its bytes; "(module $id? quote "..."*)" its text (one level) */
  size_t save = c->pos;
  if (wrapped && wat_peek(c, 0)->kind == WAT_T_ID) wat_next(c);
  if (wrapped && (wat_is_kw(wat_peek(c, 0), "binary") || (wat_is_kw(wat_peek(c, 0), "quote") && !(compat & WAT_NO_QUOTE)))) {
    bool quote = wat_is_kw(wat_next(c), "quote");
    wat_buf *b = &c->scratch;
    while (wat_peek(c, 0)->kind == WAT_T_STRING) {
      size_t n;
      uint8_t *s = wat_string(c, wat_next(c), &n);
      wat_bytes(c, b, s, n);
    }
    wat_expect_rpar(c);
    if (wat_peek(c, 0)->kind != WAT_T_EOF)
      wat_fail(c, NULL, "unexpected token: expected end of input after the module");
    if (quote) {
      c->status = wat_to_wasm_compat(b->len ? (const char *)b->d : "", b->len, filename, compat | WAT_NO_QUOTE,
                                     out_bytes, out_len, out_diag);
    } else {
      *out_bytes = malloc(b->len ? b->len : 1);
      if (!*out_bytes) wat_oom(c);
      if (b->len) memcpy(*out_bytes, b->d, b->len);
      *out_len = b->len;
    }
    goto cleanup;
  }
  c->pos = save;
  wat_module(c, wrapped, out_bytes, out_len);
  if (wrapped) wat_expect_rpar(c);
  if (wat_peek(c, 0)->kind != WAT_T_EOF) {
    const wat_tok *t = wat_peek(c, 0);
    wat_fail(c, t, "unexpected token: expected end of input but found '%.*s'", (int)t->len, t->p);
  }
cleanup:;
  int rc = c->status;
  if (rc != WEFT_OK) {
    free(*out_bytes);
    *out_bytes = NULL;
    *out_len = 0;
  }
  wat_ctx_free(c);
  free(c);
  return rc;
}

void weft_wat_free(void *p) { free(p); }
