/* text/wat_lex.c -- lexer of the text format, plus the small utilities every text/ file uses
 * (arena, byte buffers with LEB128 writers, name maps, error reporting).
 * Sits under wat_module.c / wat_instr.c / wast_script.c. Depends on: wat_int.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wat_int.h"

/* -- Arena ------------------------------------------------------------------------------------- */

struct wat_arena_blk {
  wat_arena_blk *next;
  size_t used, cap;
  max_align_t data[];
};

void *wat_arena_alloc(wat_arena *a, size_t n) {
  n = (n + 15) & ~(size_t)15;
  wat_arena_blk *b = a->head;
  if (!b || b->cap - b->used < n) {
    size_t cap = n > 65536 ? n : 65536;
    b = malloc(sizeof *b + cap);
    if (!b) return NULL;
    b->next = a->head;
    b->used = 0;
    b->cap = cap;
    a->head = b;
  }
  void *p = (char *)b->data + b->used;
  b->used += n;
  memset(p, 0, n);
  return p;
}

void wat_arena_free(wat_arena *a) {
  wat_arena_blk *b = a->head;
  while (b) {
    wat_arena_blk *n = b->next;
    free(b);
    b = n;
  }
  a->head = NULL;
}

void *wat_alloc(wat_ctx *c, size_t n) {
  void *p = wat_arena_alloc(&c->arena, n);
  if (!p) wat_oom(c);
  return p;
}

/* -- Errors ------------------------------------------------------------------------------------ */

_Noreturn void wat_oom(wat_ctx *c) {
  if (c->diag) {
    c->diag->code = WEFT_ERR_NOMEM;
    c->diag->offset = UINT64_MAX;
    snprintf(c->diag->origin, sizeof c->diag->origin, "%s", c->file ? c->file : "<text>");
    snprintf(c->diag->message, sizeof c->diag->message, "out of memory");
  }
  c->status = WEFT_ERR_NOMEM;
  longjmp(c->jb, 1);
}

_Noreturn void wat_fail(wat_ctx *c, const wat_tok *t, const char *fmt, ...) {
  if (!t) t = c->toks && c->pos < c->ntoks ? &c->toks[c->pos] : NULL;
  if (c->diag) {
    c->diag->code = WEFT_ERR_TEXT;
    c->diag->offset = UINT64_MAX;
    const char *f = c->file ? c->file : "<text>";
    size_t fl = strlen(f);
    if (fl > 40) f += fl - 40; /* keep the tail of long paths so line:col always fits */
    snprintf(c->diag->origin, sizeof c->diag->origin, "%s:%u:%u", f, t ? t->line : 0,
             t ? t->col : 0);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->diag->message, sizeof c->diag->message, fmt, ap);
    va_end(ap);
  }
  c->status = WEFT_ERR_TEXT;
  longjmp(c->jb, 1);
}

/* -- Byte buffers ------------------------------------------------------------------------------ */

bool wat_buf_reserve(wat_buf *b, size_t extra) {
  if (b->cap - b->len >= extra) return true;
  size_t nc = b->cap ? b->cap * 2 : 256;
  while (nc - b->len < extra) nc *= 2;
  uint8_t *d = realloc(b->d, nc);
  if (!d) return false;
  b->d = d;
  b->cap = nc;
  return true;
}

void wat_buf_free(wat_buf *b) {
  free(b->d);
  b->d = NULL;
  b->len = b->cap = 0;
}

void wat_bytes(wat_ctx *c, wat_buf *b, const void *p, size_t n) {
  if (!wat_buf_reserve(b, n)) wat_oom(c);
  if (n) memcpy(b->d + b->len, p, n);
  b->len += n;
}

void wat_u8(wat_ctx *c, wat_buf *b, uint8_t v) {
  if (!wat_buf_reserve(b, 1)) wat_oom(c);
  b->d[b->len++] = v;
}

void wat_u64(wat_ctx *c, wat_buf *b, uint64_t v) {
  uint8_t tmp[10];
  size_t n = 0;
  do {
    uint8_t byte = v & 0x7F;
    v >>= 7;
    if (v) byte |= 0x80;
    tmp[n++] = byte;
  } while (v);
  wat_bytes(c, b, tmp, n);
}

void wat_u32(wat_ctx *c, wat_buf *b, uint32_t v) { wat_u64(c, b, v); }

void wat_s64(wat_ctx *c, wat_buf *b, int64_t v) {
  uint8_t tmp[10];
  size_t n = 0;
  for (;;) {
    uint8_t byte = (uint8_t)(v & 0x7F);
    v >>= 7; /* arithmetic shift on gcc/clang */
    bool done = (v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40));
    if (!done) byte |= 0x80;
    tmp[n++] = byte;
    if (done) break;
  }
  wat_bytes(c, b, tmp, n);
}

void wat_s32(wat_ctx *c, wat_buf *b, int32_t v) { wat_s64(c, b, v); }

void wat_name(wat_ctx *c, wat_buf *b, const uint8_t *s, size_t n) {
  wat_u32(c, b, (uint32_t)n);
  wat_bytes(c, b, s, n);
}

/* -- Name maps --------------------------------------------------------------------------------- */

static uint32_t hash(const char *k, uint32_t n) {
  uint32_t h = 2166136261u;
  for (uint32_t i = 0; i < n; i++) h = (h ^ (uint8_t)k[i]) * 16777619u;
  return h;
}

bool wat_map_get(const wat_map *m, const char *k, uint32_t klen, uint32_t *out) {
  if (!m->cap) return false;
  uint32_t i = hash(k, klen) & (m->cap - 1);
  while (m->e[i].k) {
    if (m->e[i].klen == klen && memcmp(m->e[i].k, k, klen) == 0) {
      *out = m->e[i].v;
      return true;
    }
    i = (i + 1) & (m->cap - 1);
  }
  return false;
}

bool wat_map_put(wat_ctx *c, wat_map *m, const char *k, uint32_t klen, uint32_t v) {
  if ((m->n + 1) * 2 > m->cap) {
    uint32_t nc = m->cap ? m->cap * 2 : 16;
    struct wat_map_ent *ne = calloc(nc, sizeof *ne);
    if (!ne) wat_oom(c);
    for (uint32_t j = 0; j < m->cap; j++) {
      if (!m->e[j].k) continue;
      uint32_t i = hash(m->e[j].k, m->e[j].klen) & (nc - 1);
      while (ne[i].k) i = (i + 1) & (nc - 1);
      ne[i] = m->e[j];
    }
    free(m->e);
    m->e = ne;
    m->cap = nc;
  }
  uint32_t i = hash(k, klen) & (m->cap - 1);
  while (m->e[i].k) {
    if (m->e[i].klen == klen && memcmp(m->e[i].k, k, klen) == 0) return false;
    i = (i + 1) & (m->cap - 1);
  }
  m->e[i].k = k;
  m->e[i].klen = klen;
  m->e[i].v = v;
  m->n++;
  return true;
}

void wat_map_free(wat_map *m) {
  free(m->e);
  m->e = NULL;
  m->cap = m->n = 0;
}

/* -- UTF-8 and strings ------------------------------------------------------------------------- */

bool wat_utf8_valid(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t b = s[i];
    uint32_t cp;
    size_t k;
    if (b < 0x80) { i++; continue; }
    if ((b & 0xE0) == 0xC0) { cp = b & 0x1F; k = 1; }
    else if ((b & 0xF0) == 0xE0) { cp = b & 0x0F; k = 2; }
    else if ((b & 0xF8) == 0xF0) { cp = b & 0x07; k = 3; }
    else return false;
    if (n - i <= k) return false;
    for (size_t j = 1; j <= k; j++) {
      if ((s[i + j] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + j] & 0x3F);
    }
    if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000)) return false;
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += k + 1;
  }
  return true;
}

static int hexval(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

static size_t put_utf8(uint8_t *d, uint32_t cp) {
  if (cp < 0x80) { d[0] = (uint8_t)cp; return 1; }
  if (cp < 0x800) { d[0] = (uint8_t)(0xC0 | (cp >> 6)); d[1] = (uint8_t)(0x80 | (cp & 0x3F)); return 2; }
  if (cp < 0x10000) {
    d[0] = (uint8_t)(0xE0 | (cp >> 12));
    d[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    d[2] = (uint8_t)(0x80 | (cp & 0x3F));
    return 3;
  }
  d[0] = (uint8_t)(0xF0 | (cp >> 18));
  d[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
  d[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
  d[3] = (uint8_t)(0x80 | (cp & 0x3F));
  return 4;
}

/* Decode the body of a string literal (between the quotes). Returns false with *err set on a bad
 * escape; `d` must have room for n bytes (decoding never grows). */
static bool decode_string(const char *s, size_t n, uint8_t *d, size_t *out_len, const char **err) {
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    char ch = s[i];
    if (ch != '\\') { d[o++] = (uint8_t)ch; i++; continue; }
    if (i + 1 >= n) { *err = "unterminated escape"; return false; }
    char e = s[i + 1];
    switch (e) {
    case 't': d[o++] = '\t'; i += 2; break;
    case 'n': d[o++] = '\n'; i += 2; break;
    case 'r': d[o++] = '\r'; i += 2; break;
    case '"': d[o++] = '"'; i += 2; break;
    case '\'': d[o++] = '\''; i += 2; break;
    case '\\': d[o++] = '\\'; i += 2; break;
    case 'u': {
      if (i + 2 >= n || s[i + 2] != '{') { *err = "malformed escape: expected '{' after \\u"; return false; }
      size_t j = i + 3;
      uint32_t cp = 0;
      size_t nd = 0;
      while (j < n && s[j] != '}') {
        if (s[j] == '_' && nd > 0 && j + 1 < n && hexval(s[j + 1]) >= 0) { j++; continue; }
        int h = hexval(s[j]);
        if (h < 0) { *err = "malformed escape: expected a hex digit in \\u{...}"; return false; }
        cp = cp * 16 + (uint32_t)h;
        if (cp > 0x10FFFF) { *err = "malformed escape: code point out of range"; return false; }
        nd++;
        j++;
      }
      if (j >= n || nd == 0) { *err = "malformed escape: expected '}'"; return false; }
      if (cp >= 0xD800 && cp <= 0xDFFF) { *err = "malformed escape: surrogate code point"; return false; }
      o += put_utf8(d + o, cp);
      i = j + 1;
      break;
    }
    default: {
      int h1 = hexval(e), h2 = i + 2 < n ? hexval(s[i + 2]) : -1;
      if (h1 < 0 || h2 < 0) { *err = "unknown escape sequence"; return false; }
      d[o++] = (uint8_t)(h1 * 16 + h2);
      i += 3;
    }
    }
  }
  *out_len = o;
  return true;
}

uint8_t *wat_string(wat_ctx *c, const wat_tok *t, size_t *out_len) {
  if (t->kind != WAT_T_STRING) wat_fail(c, t, "expected a string but found '%.*s'", (int)t->len, t->p);
  uint8_t *d = wat_alloc(c, t->vlen + 1);
  const char *err = NULL;
  if (!decode_string(t->v, t->vlen, d, out_len, &err)) wat_fail(c, t, "%s", err);
  d[*out_len] = 0;
  return d;
}

/* -- Lexer ------------------------------------------------------------------------------------- */

static bool is_idchar(unsigned char ch) {
  if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) return true;
  return ch && strchr("!#$%&'*+-./:<=>?@\\^_`|~", ch) != NULL;
}

/* Characters that may appear in reserved tokens besides idchars (Wasm 3.0 lexical grammar). */
static bool is_reservedchar(const char *s, size_t i, size_t n) {
  char ch = s[i];
  if (ch == ',' || ch == '[' || ch == ']' || ch == '{' || ch == '}') return true;
  return ch == ';' && !(i + 1 < n && s[i + 1] == ';');
}

typedef struct lexer {
  wat_ctx *c;
  const char *s;
  size_t n, i;
  uint32_t line;
  size_t line_start;
  wat_tok *toks;
  size_t ntoks, cap;
} lexer;

_Noreturn static void lex_fail(lexer *L, size_t at, const char *msg) {
  wat_tok t = {0};
  t.line = L->line;
  t.col = (uint32_t)(at - L->line_start + 1);
  L->c->toks = NULL;
  free(L->toks);
  wat_fail(L->c, &t, "%s", msg);
}

static void newline(lexer *L, size_t at) {
  L->line++;
  L->line_start = at + 1;
}

/* Skip whitespace and comments (block comments nest). */
static void skip_space(lexer *L) {
  while (L->i < L->n) {
    char ch = L->s[L->i];
    if (ch == ' ' || ch == '\t' || ch == '\r') { L->i++; continue; }
    if (ch == '\n') { newline(L, L->i); L->i++; continue; }
    if (ch == ';' && L->i + 1 < L->n && L->s[L->i + 1] == ';') {
      while (L->i < L->n && L->s[L->i] != '\n' && L->s[L->i] != '\r') L->i++; /* \r ends it too */
      continue;
    }
    if (ch == '(' && L->i + 1 < L->n && L->s[L->i + 1] == ';') {
      size_t start = L->i;
      size_t depth = 1;
      L->i += 2;
      while (depth) {
        if (L->i >= L->n) lex_fail(L, start, "unclosed block comment: expected ';)' before end of input");
        char d = L->s[L->i];
        if (d == '\n') newline(L, L->i);
        if (d == '(' && L->i + 1 < L->n && L->s[L->i + 1] == ';') { depth++; L->i += 2; continue; }
        if (d == ';' && L->i + 1 < L->n && L->s[L->i + 1] == ')') { depth--; L->i += 2; continue; }
        L->i++;
      }
      continue;
    }
    break;
  }
}

static void push(lexer *L, wat_tok *t) {
  if (L->ntoks == L->cap) {
    size_t nc = L->cap ? L->cap * 2 : 1024;
    wat_tok *nt = realloc(L->toks, nc * sizeof *nt);
    if (!nt) {
      free(L->toks);
      L->toks = NULL;
      wat_oom(L->c);
    }
    L->toks = nt;
    L->cap = nc;
  }
  L->toks[L->ntoks++] = *t;
}

/* Would scan_string succeed at `at`? (used to word errors of $"..." and (@"...") */
static bool string_ok(const lexer *L, size_t at) {
  size_t j = at + 1;
  while (j < L->n && L->s[j] != '"') {
    unsigned char ch = (unsigned char)L->s[j];
    if (ch < 0x20 || ch == 0x7F) return false;
    if (ch == '\\') j++;
    j++;
  }
  return j < L->n;
}

/* Scan a string literal starting at the opening quote; returns the index after the closing quote. */
static size_t scan_string(lexer *L, size_t at) {
  size_t j = at + 1;
  while (j < L->n && L->s[j] != '"') {
    unsigned char ch = (unsigned char)L->s[j];
    if (ch == '\n' || ch < 0x20 || ch == 0x7F) lex_fail(L, j, "illegal character in string: expected '\"' to close it");
    if (ch == '\\') j++;
    j++;
  }
  if (j >= L->n) lex_fail(L, at, "unclosed string: expected '\"' before end of input");
  if (!wat_utf8_valid((const uint8_t *)L->s + at + 1, j - at - 1)) lex_fail(L, at, "malformed UTF-8 encoding in string");
  return j + 1;
}

void wat_lex(wat_ctx *c, const char *src, size_t len) {
  lexer L = {.c = c, .s = src, .n = len, .line = 1};
  size_t ann_depth = 0, ann_start = 0; /* inside "(@id ...)": tokens are checked, then dropped */
  for (;;) {
    skip_space(&L);
    wat_tok t = {0};
    t.line = L.line;
    t.col = (uint32_t)(L.i - L.line_start + 1);
    t.p = src + L.i;
    if (L.i >= L.n) {
      if (ann_depth) lex_fail(&L, ann_start, "unclosed annotation: expected ')' before end of input");
      t.kind = WAT_T_EOF;
      t.p = "end of input";
      t.len = 12;
      push(&L, &t);
      break;
    }
    unsigned char ch = (unsigned char)src[L.i];
    if (ch == '(') {
      if (!ann_depth && L.i + 1 < L.n && src[L.i + 1] == '@') {
        if (L.i + 2 >= L.n || !(is_idchar((unsigned char)src[L.i + 2]) || src[L.i + 2] == '"'))
          lex_fail(&L, L.i, "empty annotation id: expected a name after '(@'");
        if (!ann_depth) ann_start = L.i;
        ann_depth++;
        L.i += 2;
        if (src[L.i] == '"') {
          if (!string_ok(&L, L.i)) lex_fail(&L, L.i, "empty annotation id: the quoted name is not a valid string");
          size_t e = scan_string(&L, L.i);
          if (e == L.i + 2) lex_fail(&L, L.i, "empty annotation id: expected a name after '(@'");
          uint8_t *d = malloc(e - L.i);
          size_t dl = 0;
          const char *err = NULL;
          if (!d) { free(L.toks); wat_oom(c); }
          bool ok = decode_string(src + L.i + 1, e - L.i - 2, d, &dl, &err) && wat_utf8_valid(d, dl);
          free(d);
          if (!ok) lex_fail(&L, L.i, err ? err : "malformed UTF-8 encoding in annotation id");
          if (dl == 0) lex_fail(&L, L.i, "empty annotation id: expected a name after '(@'");
          L.i = e;
        } else {
          while (L.i < L.n && is_idchar((unsigned char)src[L.i])) L.i++;
        }
        continue;
      }
      t.kind = WAT_T_LPAR;
      t.len = 1;
      L.i++;
    } else if (ch == ')') {
      t.kind = WAT_T_RPAR;
      t.len = 1;
      L.i++;
    } else if (ch == '"') {
      size_t e = scan_string(&L, L.i);
      t.kind = WAT_T_STRING;
      t.v = src + L.i + 1;
      t.vlen = (uint32_t)(e - L.i - 2);
      t.len = (uint32_t)(e - L.i);
      L.i = e;
      if (L.i < L.n && (is_idchar((unsigned char)src[L.i]) || src[L.i] == '"'))
        lex_fail(&L, L.i, "unknown operator: expected a space after a string");
    } else if (is_idchar(ch) || is_reservedchar(src, L.i, L.n)) {
      size_t j = L.i;
      bool reserved = false;
      while (j < L.n && (is_idchar((unsigned char)src[j]) || is_reservedchar(src, j, L.n))) {
        if (!is_idchar((unsigned char)src[j])) reserved = true;
        j++;
      }
      if (ch == '$' && j == L.i + 1 && j < L.n && src[j] == '"') {
        /* $"quoted id" */
        if (!string_ok(&L, j)) lex_fail(&L, j, "empty identifier: the quoted name is not a valid string");
        size_t e = scan_string(&L, j);
        t.kind = WAT_T_ID;
        t.len = (uint32_t)(e - L.i);
        L.i = e;
        uint8_t *d = malloc(e - j);
        const char *err = NULL;
        size_t dl = 0;
        if (!d) { free(L.toks); wat_oom(c); }
        if (!decode_string(src + j + 1, e - j - 2, d, &dl, &err) || dl == 0 || !wat_utf8_valid(d, dl)) {
          free(d);
          lex_fail(&L, j, dl == 0 && !err ? "empty identifier" : err ? err : "malformed UTF-8 encoding");
        }
        char *v = wat_arena_alloc(&c->arena, dl + 1);
        if (!v) { free(d); free(L.toks); wat_oom(c); }
        memcpy(v, d, dl);
        free(d);
        t.v = v;
        t.vlen = (uint32_t)dl;
        if (L.i < L.n && (is_idchar((unsigned char)src[L.i]) || src[L.i] == '"')) {
          /* $"a"b: one reserved token */
          while (L.i < L.n && (is_idchar((unsigned char)src[L.i]) || src[L.i] == '"')) {
            if (src[L.i] == '"') L.i = scan_string(&L, L.i);
            else L.i++;
          }
          t.kind = WAT_T_RESERVED;
          t.len = (uint32_t)(L.i - (size_t)(t.p - src));
        }
      } else {
        t.len = (uint32_t)(j - L.i);
        L.i = j;
        if (ch == '$' && t.len == 1 && !(L.i < L.n && src[L.i] == '"')) lex_fail(&L, L.i - 1, "empty identifier: expected a name after '$'");
        if (ch == '$' && t.len > 1) {
          t.kind = WAT_T_ID;
          t.v = t.p + 1;
          t.vlen = t.len - 1;
        } else if (ch >= 'a' && ch <= 'z') {
          t.kind = WAT_T_KEYWORD;
          t.v = t.p;
          t.vlen = t.len;
        } else if ((ch >= '0' && ch <= '9') || ch == '+' || ch == '-') {
          t.kind = WAT_T_NUM;
          t.v = t.p;
          t.vlen = t.len;
        } else {
          t.kind = WAT_T_RESERVED;
        }
        if (reserved) t.kind = WAT_T_RESERVED;
        if (L.i < L.n && src[L.i] == '"') {
          size_t e = scan_string(&L, L.i);
          L.i = e;
          t.kind = WAT_T_RESERVED;
          t.len = (uint32_t)(e - (size_t)(t.p - src));
        }
      }
    } else {
      if (ch >= 0x80) {
        size_t k = (ch & 0xE0) == 0xC0 ? 2 : (ch & 0xF0) == 0xE0 ? 3 : (ch & 0xF8) == 0xF0 ? 4 : 1;
        if (k > L.n - L.i || !wat_utf8_valid((const uint8_t *)src + L.i, k))
          lex_fail(&L, L.i, "malformed UTF-8 encoding outside a string");
      }
      lex_fail(&L, L.i, "illegal character: expected a token");
    }
    if (ann_depth) {
      if (t.kind == WAT_T_LPAR) ann_depth++;
      else if (t.kind == WAT_T_RPAR) ann_depth--;
      continue;
    }
    /* The reference lexer turns a reserved token, or a number that does not follow the grammar,
     * into an "unknown operator" error wherever it appears. */
    if (t.kind == WAT_T_RESERVED || (t.kind == WAT_T_NUM && !wat_num_syntax(t.p, t.len, true))) {
      wat_tok bad = t;
      free(L.toks);
      L.toks = NULL;
      c->toks = NULL;
      wat_fail(c, &bad, "unknown operator %.*s", (int)bad.len, bad.p);
    }
    push(&L, &t);
  }
  /* Move the token array into the arena-managed lifetime: keep it malloc'd, freed by wat_ctx_free. */
  c->toks = L.toks;
  c->ntoks = L.ntoks;
  c->pos = 0;
}

/* -- Token helpers ----------------------------------------------------------------------------- */

const wat_tok *wat_peek(wat_ctx *c, size_t k) {
  size_t i = c->pos + k;
  if (i >= c->ntoks) i = c->ntoks - 1;
  return &c->toks[i];
}

const wat_tok *wat_next(wat_ctx *c) {
  const wat_tok *t = &c->toks[c->pos];
  if (c->pos + 1 < c->ntoks) c->pos++;
  return t;
}

bool wat_is_kw(const wat_tok *t, const char *kw) {
  size_t n = strlen(kw);
  return t->kind == WAT_T_KEYWORD && t->len == n && memcmp(t->p, kw, n) == 0;
}

bool wat_peek_lpar_kw(wat_ctx *c, const char *kw) {
  return wat_peek(c, 0)->kind == WAT_T_LPAR && wat_is_kw(wat_peek(c, 1), kw);
}

void wat_expect_lpar(wat_ctx *c) {
  const wat_tok *t = wat_peek(c, 0);
  if (t->kind != WAT_T_LPAR) wat_fail(c, t, "unexpected token: expected '(' but found '%.*s'", (int)t->len, t->p);
  wat_next(c);
}

void wat_expect_rpar(wat_ctx *c) {
  const wat_tok *t = wat_peek(c, 0);
  if (t->kind != WAT_T_RPAR) wat_fail(c, t, "unexpected token: expected ')' but found '%.*s'", (int)t->len, t->p);
  wat_next(c);
}

void wat_expect_kw(wat_ctx *c, const char *kw) {
  const wat_tok *t = wat_peek(c, 0);
  if (!wat_is_kw(t, kw)) wat_fail(c, t, "unexpected token: expected '%s' but found '%.*s'", kw, (int)t->len, t->p);
  wat_next(c);
}

void wat_skip_sexpr(wat_ctx *c) {
  size_t depth = 0;
  for (;;) {
    const wat_tok *t = wat_next(c);
    if (t->kind == WAT_T_EOF) wat_fail(c, t, "unexpected end of input: expected ')'");
    if (t->kind == WAT_T_LPAR) depth++;
    else if (t->kind == WAT_T_RPAR && --depth == 0) return;
  }
}
