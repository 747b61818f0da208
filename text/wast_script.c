/* text/wast_script.c -- the .wast script model: commands, actions, expected values.
 *
 * Uses the same lexer and module parser as weft_wat_to_wasm (wat_lex.c, wat_module.c). Text modules
 * are encoded while the script is read; quoted modules stay text until the runner asks for them
 * (weft_wast_module_bytes), because most are meant to be malformed. Everything a script owns lives
 * in one arena. Depends on: wat_int.h, weft/text.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wat_int.h"

/* -- Names ------------------------------------------------------------------------------------- */

static const char *const cmd_names[WEFT_WAST_CMD_COUNT] = {
    "module", "module instance", "register", "action", "assert_return", "assert_trap",
    "assert_exhaustion", "assert_malformed", "assert_invalid", "assert_unlinkable",
    "assert_uninstantiable", "assert_exception", "assert_suspension"};

const char *weft_wast_cmd_name(int kind) {
  return kind >= 0 && kind < WEFT_WAST_CMD_COUNT ? cmd_names[kind] : "unknown";
}

/* -- Helpers ----------------------------------------------------------------------------------- */

typedef struct script {
  weft_wast pub;
  wat_arena arena;
} script;

static const char *dup_id(wat_ctx *c, const wat_tok *t) {
  char *s = wat_alloc(c, t->vlen + 1);
  memcpy(s, t->v, t->vlen);
  return s;
}

static const char *opt_id_str(wat_ctx *c) {
  if (wat_peek(c, 0)->kind != WAT_T_ID) return NULL;
  return dup_id(c, wat_next(c));
}

/* Concatenate the decoded strings at pos. */
static uint8_t *strings(wat_ctx *c, size_t *out_len) {
  size_t total = 0;
  size_t p = c->pos;
  while (wat_peek(c, 0)->kind == WAT_T_STRING) total += wat_next(c)->vlen;
  c->pos = p;
  uint8_t *d = wat_alloc(c, total + 1);
  size_t o = 0;
  while (wat_peek(c, 0)->kind == WAT_T_STRING) {
    size_t n;
    uint8_t *s = wat_string(c, wat_next(c), &n);
    memcpy(d + o, s, n);
    o += n;
  }
  *out_len = o;
  return d;
}

/* -- Modules ----------------------------------------------------------------------------------- */

/* At "(module": parse a module command's module. */
static weft_wast_module *module(wat_ctx *c, bool *out_instance, const char **inst_id,
                                const char **def_id) {
  const wat_tok *open = wat_peek(c, 0);
  size_t open_pos = c->pos;
  wat_skip_sexpr(c);
  const wat_tok *close = &c->toks[c->pos - 1];
  c->pos = open_pos;
  wat_expect_lpar(c);
  wat_expect_kw(c, "module");
  weft_wast_module *m = wat_alloc(c, sizeof *m);
  m->line = open->line;
  m->col = open->col;
  m->src_len = (size_t)(close->p + close->len - open->p);
  char *srccopy = wat_alloc(c, m->src_len + 1);
  memcpy(srccopy, open->p, m->src_len);
  m->src = srccopy;
  *out_instance = false;
  if (wat_is_kw(wat_peek(c, 0), "instance")) {
    wat_next(c);
    *inst_id = opt_id_str(c);
    *def_id = opt_id_str(c);
    wat_expect_rpar(c);
    *out_instance = true;
    return NULL;
  }
  if (wat_is_kw(wat_peek(c, 0), "definition")) {
    wat_next(c);
    m->definition = true;
  }
  size_t idpos = c->pos;
  m->id = opt_id_str(c);
  if (wat_is_kw(wat_peek(c, 0), "binary")) {
    wat_next(c);
    size_t n;
    m->bytes = strings(c, &n);
    m->len = n;
    m->form = WEFT_WAST_MOD_BINARY;
    wat_expect_rpar(c);
  } else if (wat_is_kw(wat_peek(c, 0), "quote")) {
    wat_next(c);
    size_t n;
    m->quote = (const char *)strings(c, &n);
    m->quote_len = n;
    m->form = WEFT_WAST_MOD_QUOTE;
    wat_expect_rpar(c);
  } else {
    c->pos = idpos;
    wat_ctx_reset_module(c);
    uint8_t *bytes = NULL;
    size_t n = 0;
    /* A module that does not parse is recorded, not fatal: the runner reports it in place. */
    jmp_buf outer;
    memcpy(&outer, &c->jb, sizeof outer);
    weft_diag *saved_diag = c->diag;
    weft_diag local;
    memset(&local, 0, sizeof local);
    c->diag = &local;
    if (setjmp(c->jb)) {
      memcpy(&c->jb, &outer, sizeof outer);
      c->diag = saved_diag;
      if (c->status == WEFT_ERR_NOMEM) wat_oom(c);
      c->status = WEFT_OK;
      wat_ctx_reset_module(c);
      size_t el = strlen(local.origin) + strlen(local.message) + 3;
      char *e = wat_alloc(c, el);
      snprintf(e, el, "%s: %s", local.origin, local.message);
      m->error = e;
      m->form = WEFT_WAST_MOD_TEXT;
      c->pos = open_pos;
      wat_skip_sexpr(c);
      return m;
    }
    wat_module(c, true, &bytes, &n);
    memcpy(&c->jb, &outer, sizeof outer);
    c->diag = saved_diag;
    uint8_t *copy = wat_arena_alloc(&c->arena, n ? n : 1);
    if (!copy) {
      free(bytes);
      wat_oom(c);
    }
    memcpy(copy, bytes, n);
    free(bytes);
    m->bytes = copy;
    m->len = n;
    m->form = WEFT_WAST_MOD_TEXT;
    wat_ctx_reset_module(c);
    wat_expect_rpar(c);
  }
  return m;
}

/* -- Values ------------------------------------------------------------------------------------ */

static uint8_t nan_pattern(const wat_tok *t) {
  if (wat_is_kw(t, "nan:canonical")) return WEFT_WAST_NAN_CANONICAL;
  if (wat_is_kw(t, "nan:arithmetic")) return WEFT_WAST_NAN_ARITHMETIC;
  return WEFT_WAST_NAN_NONE;
}

static uint64_t int_lit(wat_ctx *c, unsigned bits) {
  const wat_tok *t = wat_next(c);
  uint64_t v;
  if (t->kind != WAT_T_NUM || !wat_parse_int(t->p, t->len, bits, &v))
    wat_fail(c, t, "constant out of range: expected an i%u literal but found '%.*s'", bits, (int)t->len, t->p);
  return v;
}

static uint64_t float_lit(wat_ctx *c, bool is64) {
  const wat_tok *t = wat_next(c);
  uint64_t v = 0;
  uint32_t v32 = 0;
  bool ok = is64 ? wat_parse_f64(t->p, t->len, &v) : wat_parse_f32(t->p, t->len, &v32);
  if (!ok || (t->kind != WAT_T_NUM && t->kind != WAT_T_KEYWORD))
    wat_fail(c, t, "constant out of range: expected an f%d literal but found '%.*s'", is64 ? 64 : 32,
             (int)t->len, t->p);
  return is64 ? v : v32;
}

static void value(wat_ctx *c, weft_wast_value *v, bool result, unsigned depth);

static void v128_value(wat_ctx *c, weft_wast_value *v, bool result) {
  const wat_tok *s = wat_peek(c, 0);
  static const char *const shapes[] = {"i8x16", "i16x8", "i32x4", "i64x2", "f32x4", "f64x2"};
  int k = -1;
  for (int i = 0; i < 6; i++)
    if (wat_is_kw(s, shapes[i])) k = i;
  if (k < 0) wat_fail(c, s, "unexpected token: expected a lane shape but found '%.*s'", (int)s->len, s->p);
  v->shape = (uint8_t)k;
  if (k < 4 || !result) {
    wat_v128_lanes(c, v->u.v128);
    return;
  }
  wat_next(c);
  int n = k == 4 ? 4 : 2;
  for (int i = 0; i < n; i++) {
    uint8_t pat = nan_pattern(wat_peek(c, 0));
    if (pat) {
      wat_next(c);
      v->nan[i] = pat;
      continue;
    }
    uint64_t bits = float_lit(c, k == 5);
    for (int j = 0; j < (k == 5 ? 8 : 4); j++) v->u.v128[i * (k == 5 ? 8 : 4) + j] = (uint8_t)(bits >> (8 * j));
  }
}

static void value(wat_ctx *c, weft_wast_value *v, bool result, unsigned depth) {
  if (depth > 64) wat_fail(c, NULL, "nesting too deep: 'either' nested more than 64 levels");
  wat_expect_lpar(c);
  const wat_tok *k = wat_next(c);
  if (wat_is_kw(k, "i32.const")) {
    v->kind = WEFT_WAST_I32;
    v->u.i32 = (uint32_t)int_lit(c, 32);
  } else if (wat_is_kw(k, "i64.const")) {
    v->kind = WEFT_WAST_I64;
    v->u.i64 = int_lit(c, 64);
  } else if (wat_is_kw(k, "f32.const") || wat_is_kw(k, "f64.const")) {
    bool is64 = k->p[1] == '6';
    v->kind = is64 ? WEFT_WAST_F64 : WEFT_WAST_F32;
    uint8_t pat = result ? nan_pattern(wat_peek(c, 0)) : 0;
    if (pat) {
      wat_next(c);
      v->nan[0] = pat;
    } else if (is64) {
      v->u.f64 = float_lit(c, true);
    } else {
      v->u.f32 = (uint32_t)float_lit(c, false);
    }
  } else if (wat_is_kw(k, "v128.const")) {
    v->kind = WEFT_WAST_V128;
    v128_value(c, v, result);
  } else if (wat_is_kw(k, "ref.null")) {
    v->kind = WEFT_WAST_REF_NULL;
    if (wat_peek(c, 0)->kind != WAT_T_RPAR) {
      const wat_tok *h = wat_peek(c, 0);
      uint32_t ht = wat_heaptype(c);
      if (!WEFT_HT_IS_ABSTRACT(ht))
        wat_fail(c, h, "unexpected token: expected an abstract heap type in a script value");
      v->heap = (uint8_t)(ht & 0xFF);
    }
  } else if (wat_is_kw(k, "ref.extern") || wat_is_kw(k, "ref.host") || wat_is_kw(k, "ref.i31")) {
    v->kind = wat_is_kw(k, "ref.extern") ? WEFT_WAST_REF_EXTERN
              : wat_is_kw(k, "ref.host") ? WEFT_WAST_REF_HOST : WEFT_WAST_REF_I31;
    if (wat_peek(c, 0)->kind == WAT_T_NUM) {
      v->has_index = true;
      v->index = (uint32_t)int_lit(c, 32);
    } else if (!result) {
      wat_fail(c, NULL, "unexpected token: expected a number after '%.*s'", (int)k->len, k->p);
    }
  } else if (result && (wat_is_kw(k, "ref.func") || wat_is_kw(k, "ref.any") || wat_is_kw(k, "ref.eq") ||
                        wat_is_kw(k, "ref.struct") || wat_is_kw(k, "ref.array") || wat_is_kw(k, "ref.exn") ||
                        wat_is_kw(k, "ref.cont"))) {
    static const struct { const char *kw; uint8_t kind; } pats[] = {
        {"ref.func", WEFT_WAST_REF_FUNC},     {"ref.any", WEFT_WAST_REF_ANY},
        {"ref.eq", WEFT_WAST_REF_EQ},         {"ref.struct", WEFT_WAST_REF_STRUCT},
        {"ref.array", WEFT_WAST_REF_ARRAY},   {"ref.exn", WEFT_WAST_REF_EXN},
        {"ref.cont", WEFT_WAST_REF_CONT}};
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++)
      if (wat_is_kw(k, pats[i].kw)) v->kind = pats[i].kind;
    while (wat_peek(c, 0)->kind != WAT_T_RPAR && wat_peek(c, 0)->kind != WAT_T_EOF) wat_next(c);
  } else if (result && wat_is_kw(k, "either")) {
    v->kind = WEFT_WAST_EITHER;
    size_t p = c->pos;
    uint32_t n = 0;
    while (wat_peek(c, 0)->kind == WAT_T_LPAR) {
      wat_skip_sexpr(c);
      n++;
    }
    c->pos = p;
    weft_wast_value *alts = wat_alloc(c, (n ? n : 1) * sizeof *alts);
    for (uint32_t i = 0; i < n; i++) value(c, &alts[i], true, depth + 1);
    v->neither = n;
    v->either = alts;
  } else {
    wat_fail(c, k, "unexpected token: expected a constant ('i32.const', 'ref.null', ...) but found '%.*s'",
             (int)k->len, k->p);
  }
  wat_expect_rpar(c);
}

static uint32_t values(wat_ctx *c, const weft_wast_value **out, bool result) {
  size_t p = c->pos;
  uint32_t n = 0;
  while (wat_peek(c, 0)->kind == WAT_T_LPAR) {
    wat_skip_sexpr(c);
    n++;
  }
  c->pos = p;
  weft_wast_value *vs = wat_alloc(c, (n ? n : 1) * sizeof *vs);
  for (uint32_t i = 0; i < n; i++) value(c, &vs[i], result, 0);
  *out = vs;
  return n;
}

/* -- Actions ----------------------------------------------------------------------------------- */

static void action(wat_ctx *c, weft_wast_action *a) {
  wat_expect_lpar(c);
  const wat_tok *k = wat_next(c);
  if (wat_is_kw(k, "invoke")) a->kind = WEFT_WAST_INVOKE;
  else if (wat_is_kw(k, "get")) a->kind = WEFT_WAST_GET;
  else wat_fail(c, k, "unexpected token: expected 'invoke' or 'get' but found '%.*s'", (int)k->len, k->p);
  a->module_id = opt_id_str(c);
  size_t n;
  const wat_tok *nt = wat_peek(c, 0);
  uint8_t *s = wat_string(c, nt, &n);
  wat_next(c);
  a->field = (const char *)s;
  a->field_len = n;
  if (a->kind == WEFT_WAST_INVOKE) a->nargs = values(c, &a->args, false);
  wat_expect_rpar(c);
}

static const char *message(wat_ctx *c) {
  size_t n;
  const wat_tok *t = wat_peek(c, 0);
  if (t->kind != WAT_T_STRING)
    wat_fail(c, t, "unexpected token: expected the expected-message string but found '%.*s'", (int)t->len, t->p);
  uint8_t *s = wat_string(c, t, &n);
  wat_next(c);
  return (const char *)s;
}

/* -- Commands ---------------------------------------------------------------------------------- */

static void command(wat_ctx *c, weft_wast_cmd *cmd) {
  const wat_tok *open = wat_peek(c, 0);
  cmd->line = open->line;
  cmd->col = open->col;
  if (open->kind != WAT_T_LPAR)
    wat_fail(c, open, "unexpected token: expected a command '(' but found '%.*s'", (int)open->len, open->p);
  const wat_tok *k = wat_peek(c, 1);
  if (wat_is_kw(k, "module")) {
    bool inst;
    cmd->module = module(c, &inst, &cmd->instance_id, &cmd->def_id);
    cmd->kind = inst ? WEFT_WAST_CMD_INSTANCE : WEFT_WAST_CMD_MODULE;
    return;
  }
  if (wat_is_kw(k, "invoke") || wat_is_kw(k, "get")) {
    cmd->kind = WEFT_WAST_CMD_ACTION;
    cmd->has_action = true;
    action(c, &cmd->action);
    return;
  }
  wat_next(c);
  wat_next(c);
  if (wat_is_kw(k, "register")) {
    cmd->kind = WEFT_WAST_CMD_REGISTER;
    cmd->name = message(c);
    cmd->instance_id = opt_id_str(c);
  } else if (wat_is_kw(k, "assert_return")) {
    cmd->kind = WEFT_WAST_CMD_ASSERT_RETURN;
    cmd->has_action = true;
    action(c, &cmd->action);
    cmd->nresults = values(c, &cmd->results, true);
  } else if (wat_is_kw(k, "assert_trap")) {
    cmd->kind = WEFT_WAST_CMD_ASSERT_TRAP;
    if (wat_peek_lpar_kw(c, "module")) {
      bool inst;
      const char *a, *b;
      cmd->module = module(c, &inst, &a, &b);
      if (inst) wat_fail(c, k, "unexpected token: module instance in assert_trap");
    } else {
      cmd->has_action = true;
      action(c, &cmd->action);
    }
    cmd->message = message(c);
  } else if (wat_is_kw(k, "assert_exhaustion") || wat_is_kw(k, "assert_suspension")) {
    cmd->kind = wat_is_kw(k, "assert_exhaustion") ? WEFT_WAST_CMD_ASSERT_EXHAUSTION : WEFT_WAST_CMD_ASSERT_SUSPENSION;
    cmd->has_action = true;
    action(c, &cmd->action);
    cmd->message = message(c);
  } else if (wat_is_kw(k, "assert_exception")) {
    cmd->kind = WEFT_WAST_CMD_ASSERT_EXCEPTION;
    cmd->has_action = true;
    action(c, &cmd->action);
  } else if (wat_is_kw(k, "assert_malformed") || wat_is_kw(k, "assert_invalid") ||
             wat_is_kw(k, "assert_unlinkable") || wat_is_kw(k, "assert_uninstantiable")) {
    cmd->kind = wat_is_kw(k, "assert_malformed")    ? WEFT_WAST_CMD_ASSERT_MALFORMED
                : wat_is_kw(k, "assert_invalid")    ? WEFT_WAST_CMD_ASSERT_INVALID
                : wat_is_kw(k, "assert_unlinkable") ? WEFT_WAST_CMD_ASSERT_UNLINKABLE
                                                    : WEFT_WAST_CMD_ASSERT_UNINSTANTIABLE;
    bool inst;
    const char *a, *b;
    cmd->module = module(c, &inst, &a, &b);
    if (inst) wat_fail(c, k, "unexpected token: module instance in an assertion");
    cmd->message = message(c);
  } else {
    wat_fail(c, k, "unexpected token: expected a script command (module, register, invoke, get, assert_...) "
             "but found '%.*s'", (int)k->len, k->p);
  }
  wat_expect_rpar(c);
}

/* -- Public entry points ----------------------------------------------------------------------- */

int weft_wast_parse(const char *src, size_t len, const char *filename, weft_wast **out,
                    weft_diag *out_diag) {
  *out = NULL;
  wat_ctx *c = malloc(sizeof *c);
  if (!c) return WEFT_ERR_NOMEM;
  wat_ctx_init(c, filename, out_diag);
  weft_wast_cmd *volatile cmds = NULL;
  if (setjmp(c->jb)) goto cleanup;
  wat_lex(c, src, len);
  size_t n = 0, cap = 0;
  while (wat_peek(c, 0)->kind != WAT_T_EOF) {
    /* A script may also be a bare module (fields without "(module"). */
    if (n == 0 && wat_peek(c, 0)->kind == WAT_T_LPAR) {
      const wat_tok *k = wat_peek(c, 1);
      static const char *const fields[] = {"type", "rec", "func", "table", "memory", "global", "tag",
                                           "import", "export", "start", "elem", "data"};
      bool bare = false;
      for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (wat_is_kw(k, fields[i])) bare = true;
      if (bare) {
        cmds = calloc(1, sizeof *cmds);
        if (!cmds) wat_oom(c);
        cap = 1;
        weft_wast_module *m = wat_alloc(c, sizeof *m);
        m->line = k->line;
        m->col = k->col;
        uint8_t *bytes = NULL;
        size_t bn = 0;
        wat_module(c, false, &bytes, &bn);
        uint8_t *copy = wat_arena_alloc(&c->arena, bn ? bn : 1);
        if (!copy) {
          free(bytes);
          wat_oom(c);
        }
        memcpy(copy, bytes, bn);
        free(bytes);
        m->bytes = copy;
        m->len = bn;
        cmds[0].kind = WEFT_WAST_CMD_MODULE;
        cmds[0].module = m;
        cmds[0].line = m->line;
        cmds[0].col = m->col;
        n = 1;
        if (wat_peek(c, 0)->kind != WAT_T_EOF) wat_fail(c, NULL, "unexpected token: expected end of input");
        break;
      }
    }
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 64;
      weft_wast_cmd *nw = realloc((void *)cmds, nc * sizeof *nw);
      if (!nw) wat_oom(c);
      cmds = nw;
      cap = nc;
    }
    memset(&cmds[n], 0, sizeof cmds[n]);
    command(c, &cmds[n]);
    n++;
  }
  script *s = wat_arena_alloc(&c->arena, sizeof *s);
  weft_wast_cmd *final = wat_arena_alloc(&c->arena, (n ? n : 1) * sizeof *final);
  if (!s || !final) wat_oom(c);
  if (n) memcpy(final, (void *)cmds, n * sizeof *final);
  const char *fn = filename ? filename : "<wast>";
  char *fcopy = wat_arena_alloc(&c->arena, strlen(fn) + 1);
  if (!fcopy) wat_oom(c);
  memcpy(fcopy, fn, strlen(fn));
  s->pub.filename = fcopy;
  s->pub.ncmds = (uint32_t)n;
  s->pub.cmds = final;
  s->pub.priv_ = s;
  s->arena = c->arena; /* the script owns the arena from here on (it holds itself) */
  c->arena.head = NULL;
  *out = &s->pub;
cleanup:;
  int rc = c->status;
  free((void *)cmds);
  wat_ctx_free(c);
  free(c);
  return rc;
}

int weft_wast_module_bytes(const weft_wast_module *m, const uint8_t **out_bytes, size_t *out_len,
                           bool *out_owned, weft_diag *out_diag) {
  *out_owned = false;
  if (m->error) {
    if (out_diag) {
      memset(out_diag, 0, sizeof *out_diag);
      out_diag->code = WEFT_ERR_TEXT;
      out_diag->offset = UINT64_MAX;
      const char *sep = strstr(m->error, ": ");
      size_t ol = sep ? (size_t)(sep - m->error) : 0;
      if (ol >= sizeof out_diag->origin) ol = sizeof out_diag->origin - 1;
      memcpy(out_diag->origin, m->error, ol);
      snprintf(out_diag->message, sizeof out_diag->message, "%s", sep ? sep + 2 : m->error);
    }
    return WEFT_ERR_TEXT;
  }
  if (m->form != WEFT_WAST_MOD_QUOTE) {
    *out_bytes = m->bytes;
    *out_len = m->len;
    return WEFT_OK;
  }
  uint8_t *b = NULL;
  size_t n = 0;
  int rc = weft_wat_to_wasm(m->quote, m->quote_len, "<module quote>", &b, &n, out_diag);
  if (rc != WEFT_OK) return rc;
  *out_bytes = b;
  *out_len = n;
  *out_owned = true;
  return WEFT_OK;
}

void weft_wast_free(weft_wast *w) {
  if (!w) return;
  script *s = w->priv_;
  wat_arena a = s->arena; /* s lives in its own arena: copy the handle before freeing */
  wat_arena_free(&a);
}
