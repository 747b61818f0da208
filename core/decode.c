/* core/decode.c -- the binary decoder: module header, sections, types and segments (see decode.h).
 *
 * One pass over a private copy of the bytes. Like the reference interpreter (interpreter/binary/
 * decode.ml), reads are bounded by the end of the module and each sized item is checked afterwards
 * ("section size mismatch"), so the messages match the spec suite's. Expressions are decoded by
 * decode_code.c, the name section by decode_names.c. Depends on: decode.h, types.h.
 */
#include "decode.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* -- The module's private part ---------------------------------------------------------------- */

struct core_arena {
  core_arena *next;
  size_t used, cap;
  _Alignas(16) unsigned char data[];
};

typedef struct modpriv {
  weft_module m; /* first member: a weft_module pointer is a modpriv pointer */
  uint8_t *bytes;
  core_arena *arena;
  weft_instr *ins;
  uint32_t *pool;
  weft_type *types;
  weft_func *funcs;
  weft_table *tables;
  weft_memory *mems;
  weft_global *globals;
  weft_tag *tags;
} modpriv;

/* Growable entity arrays while decoding. */
typedef struct builder {
  core_dec D;
  modpriv *M;
  uint32_t ctypes, cfuncs, ctables, cmems, cglobals, ctags, ccustoms;
  weft_custom *customs; /* grown with malloc, copied into the arena at the end */
  uint32_t nfuncsec;    /* entries of the function section */
  bool has_funcsec, has_code;
  uint32_t ncode;
  const uint8_t *name_sec, *name_end;
} builder;

/* -- Errors, allocation and readers ------------------------------------------------------------ */

bool core_dec_fail(core_dec *D, const uint8_t *at, int code, const char *fmt, ...) {
  if (D->failed) return false;
  D->failed = true;
  D->err = code;
  if (D->d) {
    va_list ap;
    D->d->code = code;
    D->d->offset = at ? (uint64_t)(at - D->base) : UINT64_MAX;
    snprintf(D->d->origin, sizeof D->d->origin, "decode");
    va_start(ap, fmt);
    vsnprintf(D->d->message, sizeof D->d->message, fmt, ap);
    va_end(ap);
  }
  return false;
}

bool core_dec_eof(core_dec *D) {
  return core_dec_fail(D, D->end, WEFT_ERR_MALFORMED, "unexpected end of section or function");
}

bool core_dec_leb_u(core_dec *D, unsigned bits, uint64_t *out) {
  uint64_t v = 0;
  unsigned shift = 0;
  int n = (int)bits;
  for (;;) {
    if (n <= 0)
      return core_dec_fail(D, D->p, WEFT_ERR_MALFORMED, "integer representation too long");
    if (D->p >= D->end) return core_dec_eof(D);
    uint8_t b = *D->p++;
    if (n < 7 && (b & 0x7Fu) >= (1u << n))
      return core_dec_fail(D, D->p - 1, WEFT_ERR_MALFORMED, "integer too large");
    v |= (uint64_t)(b & 0x7Fu) << shift;
    if (!(b & 0x80u)) break;
    shift += 7;
    n -= 7;
  }
  *out = v;
  return true;
}

bool core_dec_leb_s(core_dec *D, unsigned bits, int64_t *out) {
  uint64_t v = 0;
  unsigned shift = 0;
  int n = (int)bits;
  for (;;) {
    if (n <= 0)
      return core_dec_fail(D, D->p, WEFT_ERR_MALFORMED, "integer representation too long");
    if (D->p >= D->end) return core_dec_eof(D);
    uint8_t b = *D->p++;
    if (n < 7) {
      unsigned mask = (0xFFu << (n - 1)) & 0x7Fu;
      if ((b & mask) != 0 && (b & mask) != mask)
        return core_dec_fail(D, D->p - 1, WEFT_ERR_MALFORMED, "integer too large");
    }
    v |= (uint64_t)(b & 0x7Fu) << shift;
    shift += 7;
    if (!(b & 0x80u)) {
      if (shift < 64 && (b & 0x40u)) v |= ~(uint64_t)0 << shift;
      break;
    }
    n -= 7;
  }
  *out = (int64_t)v;
  return true;
}

bool core_dec_grow(core_dec *D, void **vec, uint32_t *cap, uint64_t need, size_t esz) {
  if (need <= *cap) return true;
  uint64_t ncap = *cap ? *cap : 16;
  while (ncap < need) ncap *= 2;
  if (ncap > UINT32_MAX || ncap * esz > (uint64_t)SIZE_MAX / 2)
    return core_dec_fail(D, D->p, WEFT_ERR_LIMIT, "module too large");
  void *nv = realloc(*vec, (size_t)(ncap * esz));
  if (!nv) return core_dec_fail(D, D->p, WEFT_ERR_NOMEM, "out of memory");
  *vec = nv;
  *cap = (uint32_t)ncap;
  return true;
}

void *core_dec_alloc(core_dec *D, size_t size) {
  core_arena *a = D->arena;
  size = (size + 15u) & ~(size_t)15u;
  if (size == 0) size = 16;
  if (!a || a->cap - a->used < size) {
    size_t cap = size > 65536 - sizeof(core_arena) ? size : 65536 - sizeof(core_arena);
    core_arena *na = malloc(sizeof(core_arena) + cap);
    if (!na) {
      core_dec_fail(D, D->p, WEFT_ERR_NOMEM, "out of memory");
      return NULL;
    }
    na->used = 0;
    na->cap = cap;
    if (a && size > 4096) { /* a big one-off block: keep filling the current one */
      na->next = a->next;
      a->next = na;
    } else {
      na->next = a;
      D->arena = na;
    }
    a = na;
  }
  void *p = a->data + a->used;
  a->used += size;
  memset(p, 0, size);
  return p;
}

static bool u64v(core_dec *D, uint64_t *out) {
  if (D->p < D->end && *D->p < 0x80) {
    *out = *D->p++;
    return true;
  }
  return core_dec_leb_u(D, 64, out);
}

/* -- Names (UTF-8) ------------------------------------------------------------------------------ */

static bool utf8_ok(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = s[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    uint32_t cp;
    size_t len;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0Fu;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0u) != 0x80u) return false;
      cp = (cp << 6) | (s[i + k] & 0x3Fu);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

static bool name(core_dec *D, weft_name *out) {
  const uint8_t *at = D->p;
  uint32_t n;
  if (!core_dec_blen(D, &n)) return false;
  if (!utf8_ok(D->p, n)) return core_dec_fail(D, at, WEFT_ERR_MALFORMED, "malformed UTF-8 encoding");
  char *s = core_dec_alloc(D, (size_t)n + 1);
  if (!s) return false;
  memcpy(s, D->p, n);
  s[n] = 0;
  out->str = s;
  out->len = n;
  D->p += n;
  return true;
}

/* -- Value and heap types ----------------------------------------------------------------------- */

static uint32_t abstract_feature(uint8_t code) {
  switch (code) {
  case WEFT_AHT_EXN:
  case WEFT_AHT_NOEXN: return WEFT_FEAT_EXCEPTIONS;
  case WEFT_AHT_CONT:
  case WEFT_AHT_NOCONT: return WEFT_FEAT_STACK_SWITCHING;
  case WEFT_AHT_ANY:
  case WEFT_AHT_EQ:
  case WEFT_AHT_I31:
  case WEFT_AHT_STRUCT:
  case WEFT_AHT_ARRAY:
  case WEFT_AHT_NONE: return WEFT_FEAT_GC;
  default: return 0;
  }
}

static bool is_abstract(uint8_t b) { return b >= 0x68 && b <= 0x75; }

bool core_dec_heaptype(core_dec *D, uint32_t *out) {
  const uint8_t *at = D->p;
  if (D->p >= D->end) return core_dec_eof(D);
  uint8_t b = *D->p;
  if (b >= 0x40 && b < 0x80) { /* a negative one-byte s33: an abstract heap type */
    if (!is_abstract(b)) return core_dec_fail(D, at, WEFT_ERR_MALFORMED, "malformed heap type");
    D->p++;
    D->features |= abstract_feature(b);
    *out = WEFT_HT_ABS(b);
    return true;
  }
  int64_t v;
  if (!core_dec_leb_s(D, 33, &v)) return false;
  if (v < 0) return core_dec_fail(D, at, WEFT_ERR_MALFORMED, "malformed heap type");
  if ((uint64_t)v >= D->type_limit)
    return core_dec_fail(D, at, WEFT_ERR_INVALID, "unknown type %llu", (unsigned long long)v);
  /* Indices past the heap field are invalid anyway; clamp so the validator reports them. */
  *out = v >= WEFT_HT_ABSTRACT ? WEFT_HT_ABSTRACT - 1 : (uint32_t)v;
  return true;
}

static bool reftype(core_dec *D, weft_valtype *out) {
  const uint8_t *at = D->p;
  uint8_t b;
  if (!core_dec_u8(D, &b)) return false;
  if (is_abstract(b)) {
    D->features |= abstract_feature(b);
    *out = WEFT_VT_MAKE_REF(1, WEFT_HT_ABS(b));
    return true;
  }
  if (b == WEFT_VT_REF || b == WEFT_VT_REF_NULL) {
    uint32_t ht;
    if (!core_dec_heaptype(D, &ht)) return false;
    *out = WEFT_VT_MAKE_REF(b == WEFT_VT_REF_NULL, ht);
    return true;
  }
  if (b & 0x80u)
    return core_dec_fail(D, D->p, WEFT_ERR_MALFORMED, "integer representation too long");
  return core_dec_fail(D, at, WEFT_ERR_MALFORMED, "malformed reference type");
}

bool core_dec_valtype(core_dec *D, weft_valtype *out) {
  if (D->p >= D->end) return core_dec_eof(D);
  uint8_t b = *D->p;
  if (b >= WEFT_VT_V128 && b <= WEFT_VT_I32) {
    D->p++;
    if (b == WEFT_VT_V128) D->features |= WEFT_FEAT_SIMD;
    *out = b;
    return true;
  }
  return reftype(D, out);
}

static bool mutability(core_dec *D, bool *out) {
  uint8_t b;
  if (!core_dec_u8(D, &b)) return false;
  if (b > 1) return core_dec_fail(D, D->p - 1, WEFT_ERR_MALFORMED, "malformed mutability");
  *out = b == 1;
  return true;
}

static bool fieldtype(core_dec *D, weft_fieldtype *out) {
  if (D->p >= D->end) return core_dec_eof(D);
  uint8_t b = *D->p;
  if (b == WEFT_VT_I8 || b == WEFT_VT_I16) {
    D->p++;
    out->type = b;
  } else if ((b >= WEFT_VT_V128 && b <= WEFT_VT_I32) || is_abstract(b) || b == WEFT_VT_REF ||
             b == WEFT_VT_REF_NULL) {
    if (!core_dec_valtype(D, &out->type)) return false;
  } else {
    return core_dec_fail(D, D->p, WEFT_ERR_MALFORMED, "malformed storage type");
  }
  return mutability(D, &out->mut);
}

/* -- Type section ------------------------------------------------------------------------------- */

static bool valtypes(builder *B, uint32_t *out_n, const weft_valtype **out) {
  core_dec *D = &B->D;
  uint32_t n;
  if (!core_dec_len(D, &n)) return false;
  weft_valtype *v = core_dec_alloc(D, (size_t)n * sizeof *v);
  if (!v) return false;
  for (uint32_t i = 0; i < n; i++)
    if (!core_dec_valtype(D, &v[i])) return false;
  *out_n = n;
  *out = v;
  return true;
}

static bool comptype(builder *B, weft_type *t) {
  core_dec *D = &B->D;
  const uint8_t *at = D->p;
  uint8_t b;
  if (!core_dec_u8(D, &b)) return false;
  if (b & 0x80u) /* read as an s7 by the reference decoder */
    return core_dec_fail(D, D->p, WEFT_ERR_MALFORMED, "integer representation too long");
  t->comp = b;
  switch (b) {
  case WEFT_COMP_FUNC:
    return valtypes(B, &t->u.func.nparams, &t->u.func.params) &&
           valtypes(B, &t->u.func.nresults, &t->u.func.results);
  case WEFT_COMP_STRUCT: {
    uint32_t n;
    D->features |= WEFT_FEAT_GC | WEFT_FEAT_GC_HEAP;
    if (!core_dec_len(D, &n)) return false;
    weft_fieldtype *f = core_dec_alloc(D, (size_t)n * sizeof *f);
    if (!f) return false;
    for (uint32_t i = 0; i < n; i++)
      if (!fieldtype(D, &f[i])) return false;
    t->u.strct.nfields = n;
    t->u.strct.fields = f;
    return true;
  }
  case WEFT_COMP_ARRAY:
    D->features |= WEFT_FEAT_GC | WEFT_FEAT_GC_HEAP;
    return fieldtype(D, &t->u.array);
  case WEFT_COMP_CONT:
    D->features |= WEFT_FEAT_STACK_SWITCHING;
    {
      uint32_t ht;
      const uint8_t *hat = D->p;
      if (!core_dec_heaptype(D, &ht)) return false;
      if (WEFT_HT_IS_ABSTRACT(ht))
        return core_dec_fail(D, hat, WEFT_ERR_MALFORMED, "malformed type index");
      t->u.cont_func = ht;
    }
    return true;
  default:
    return core_dec_fail(D, at, WEFT_ERR_MALFORMED, "malformed definition type");
  }
}

static bool subtype(builder *B, weft_type *t) {
  core_dec *D = &B->D;
  if (D->p >= D->end) return core_dec_eof(D);
  uint8_t b = *D->p;
  t->final = true;
  t->super = WEFT_NONE;
  if (b == 0x50 || b == 0x4F) {
    uint32_t n;
    D->p++;
    D->features |= WEFT_FEAT_GC;
    t->final = b == 0x4F;
    if (!core_dec_len(D, &n)) return false;
    t->nsupers = n;
    for (uint32_t i = 0; i < n; i++) {
      const uint8_t *at = D->p;
      uint32_t s;
      if (!core_dec_u32(D, &s)) return false;
      if (s >= D->type_limit) return core_dec_fail(D, at, WEFT_ERR_INVALID, "unknown type %u", s);
      if (i == 0) t->super = s;
    }
  }
  return comptype(B, t);
}

static bool type_section(builder *B) {
  core_dec *D = &B->D;
  modpriv *M = B->M;
  uint32_t ngroups;
  if (!core_dec_len(D, &ngroups)) return false;
  for (uint32_t g = 0; g < ngroups; g++) {
    const uint8_t *gat = D->p;
    uint32_t n = 1;
    if (D->p < D->end && *D->p == 0x4E) {
      D->p++;
      D->features |= WEFT_FEAT_GC;
      if (!core_dec_len(D, &n)) return false;
    }
    uint32_t start = M->m.ntypes;
    if ((uint64_t)start + n > CORE_DEC_MAX_TYPES)
      return core_dec_fail(D, gat, WEFT_ERR_LIMIT, "too many types (limit %u)", CORE_DEC_MAX_TYPES);
    if (!core_dec_grow(D, (void **)&M->types, &B->ctypes, (uint64_t)start + n, sizeof(weft_type)))
      return false;
    D->type_limit = start + n;
    for (uint32_t i = 0; i < n; i++) {
      weft_type *t = &M->types[start + i];
      memset(t, 0, sizeof *t);
      t->rec_start = start;
      t->rec_size = n;
      if (!subtype(B, t)) return false;
      M->m.ntypes++;
    }
    D->type_limit = WEFT_NONE;
  }
  return true;
}

/* Interns every rec group with the registry (after the section: the type array no longer moves). */
static bool canonicalize(builder *B, core_types *reg, const uint8_t *at) {
  core_dec *D = &B->D;
  modpriv *M = B->M;
  const weft_rtt *small[16];
  uint32_t i = 0;
  while (i < M->m.ntypes) {
    uint32_t n = M->types[i].rec_size;
    const weft_rtt **out = n <= 16 ? small : malloc((size_t)n * sizeof *out);
    if (!out) return core_dec_fail(D, at, WEFT_ERR_NOMEM, "out of memory");
    weft_diag tmp;
    int rc = core_types_intern(reg, M->types, i, n, out, &tmp);
    if (rc == WEFT_OK)
      for (uint32_t k = 0; k < n; k++) M->types[i + k].rtt = out[k];
    if (out != small) free(out);
    if (rc != WEFT_OK) return core_dec_fail(D, at, rc, "%s", tmp.message);
    i += n;
  }
  return true;
}

/* -- Imports and entity declarations ------------------------------------------------------------ */

static bool limits(core_dec *D, weft_limits *l) {
  uint8_t flags;
  if (!core_dec_u8(D, &flags)) return false;
  if (flags & 0xFAu) return core_dec_fail(D, D->p - 1, WEFT_ERR_MALFORMED, "malformed limits flags");
  l->has_max = flags & 1u;
  l->is64 = (flags & 4u) != 0;
  l->shared = false;
  if (l->is64) D->features |= WEFT_FEAT_MEMORY64;
  if (!u64v(D, &l->min)) return false;
  if (l->has_max && !u64v(D, &l->max)) return false;
  return true;
}

static bool table_type(core_dec *D, weft_table_type *t) {
  return reftype(D, &t->elem) && limits(D, &t->limits);
}

static bool global_type(core_dec *D, weft_global_type *g) {
  return core_dec_valtype(D, &g->type) && mutability(D, &g->mut);
}

static bool tag_type(core_dec *D, uint32_t *out) {
  uint8_t b;
  if (!core_dec_u8(D, &b)) return false;
  if (b != 0) return core_dec_fail(D, D->p - 1, WEFT_ERR_MALFORMED, "zero byte expected");
  D->features |= WEFT_FEAT_EXCEPTIONS;
  return core_dec_u32(D, out);
}

/* Appends one zeroed element to a growable entity array; NULL on failure. */
static void *push(core_dec *D, void **vec, uint32_t *cap, uint32_t *count, size_t esz) {
  if (!core_dec_grow(D, vec, cap, (uint64_t)*count + 1, esz)) return NULL;
  void *e = (char *)*vec + (size_t)*count * esz;
  memset(e, 0, esz);
  (*count)++;
  return e;
}
#define PUSH(B, arr, cap, cnt)                                                                     \
  push(&(B)->D, (void **)&(B)->M->arr, &(B)->cap, &(B)->M->m.cnt, sizeof *(B)->M->arr)

static bool import_section(builder *B) {
  core_dec *D = &B->D;
  modpriv *M = B->M;
  uint32_t n;
  if (!core_dec_len(D, &n)) return false;
  weft_import *imps = core_dec_alloc(D, (size_t)n * sizeof *imps);
  if (!imps) return false;
  M->m.imports = imps;
  for (uint32_t i = 0; i < n; i++) {
    weft_import *im = &imps[i];
    im->off = (uint32_t)(D->p - D->base);
    if (!name(D, &im->module) || !name(D, &im->name)) return false;
    uint8_t kind;
    if (!core_dec_u8(D, &kind)) return false;
    im->kind = kind;
    switch (kind) {
    case WEFT_EXTERN_FUNC: {
      weft_func *f = PUSH(B, funcs, cfuncs, nfuncs);
      if (!f) return false;
      im->index = M->m.nfuncs - 1;
      f->import = i;
      if (!core_dec_u32(D, &f->type)) return false;
      M->m.nfunc_imports++;
      break;
    }
    case WEFT_EXTERN_TABLE: {
      weft_table *t = PUSH(B, tables, ctables, ntables);
      if (!t) return false;
      im->index = M->m.ntables - 1;
      t->import = i;
      if (!table_type(D, &t->type)) return false;
      M->m.ntable_imports++;
      break;
    }
    case WEFT_EXTERN_MEMORY: {
      weft_memory *m = PUSH(B, mems, cmems, nmems);
      if (!m) return false;
      im->index = M->m.nmems - 1;
      m->import = i;
      if (!limits(D, &m->limits)) return false;
      M->m.nmem_imports++;
      break;
    }
    case WEFT_EXTERN_GLOBAL: {
      weft_global *g = PUSH(B, globals, cglobals, nglobals);
      if (!g) return false;
      im->index = M->m.nglobals - 1;
      g->import = i;
      if (!global_type(D, &g->type)) return false;
      M->m.nglobal_imports++;
      break;
    }
    case WEFT_EXTERN_TAG: {
      weft_tag *t = PUSH(B, tags, ctags, ntags);
      if (!t) return false;
      im->index = M->m.ntags - 1;
      t->import = i;
      if (!tag_type(D, &t->type)) return false;
      M->m.ntag_imports++;
      break;
    }
    default: return core_dec_fail(D, D->p - 1, WEFT_ERR_MALFORMED, "malformed import kind");
    }
    M->m.nimports = i + 1;
  }
  return true;
}

static bool func_section(builder *B) {
  core_dec *D = &B->D;
  modpriv *M = B->M;
  uint32_t n;
  if (!core_dec_len(D, &n)) return false;
  if (!core_dec_grow(D, (void **)&M->funcs, &B->cfuncs, (uint64_t)M->m.nfuncs + n, sizeof(weft_func)))
    return false;
  for (uint32_t i = 0; i < n; i++) {
    weft_func *f = &M->funcs[M->m.nfuncs];
    memset(f, 0, sizeof *f);
    f->import = WEFT_NONE;
    if (!core_dec_u32(D, &f->type)) return false;
    M->m.nfuncs++;
  }
  B->nfuncsec = n;
  B->has_funcsec = true;
  return true;
}

static bool table_section(builder *B) {
  core_dec *D = &B->D;
  uint32_t n;
  if (!core_dec_len(D, &n)) return false;
  for (uint32_t i = 0; i < n; i++) {
    weft_table *t = PUSH(B, tables, ctables, ntables);
    if (!t) return false;
    t->import = WEFT_NONE;
    if (D->p < D->end && *D->p == 0x40) {
      D->p++;
      uint8_t z;
      if (!core_dec_u8(D, &z)) return false;
      if (z != 0) return core_dec_fail(D, D->p - 1, WEFT_ERR_MALFORMED, "zero byte expected");
      if (!table_type(D, &t->type) || !core_dec_expr(D, &t->init)) return false;
      t->has_init = true;
    } else if (!table_type(D, &t->type)) {
      return false;
    }
  }
  return true;
}

static bool memory_section(builder *B) {
  core_dec *D = &B->D;
  uint32_t n;
  if (!core_dec_len(D, &n)) return false;
  for (uint32_t i = 0; i < n; i++) {
    weft_memory *m = PUSH(B, mems, cmems, nmems);
    if (!m) return false;
    m->import = WEFT_NONE;
    if (!limits(D, &m->limits)) return false;
  }
  return true;
}

static bool tag_section(builder *B) {
  core_dec *D = &B->D;
  uint32_t n;
  if (!core_dec_len(D, &n)) return false;
  for (uint32_t i = 0; i < n; i++) {
    weft_tag *t = PUSH(B, tags, ctags, ntags);
    if (!t) return false;
    t->import = WEFT_NONE;
    if (!tag_type(D, &t->type)) return false;
  }
  return true;
}

static bool global_section(builder *B) {
  core_dec *D = &B->D;
  uint32_t n;
  if (!core_dec_len(D, &n)) return false;
  for (uint32_t i = 0; i < n; i++) {
    weft_global *g = PUSH(B, globals, cglobals, nglobals);
    if (!g) return false;
    g->import = WEFT_NONE;
    if (!global_type(D, &g->type) || !core_dec_expr(D, &g->init)) return false;
  }
  return true;
}

static bool export_section(builder *B) {
  core_dec *D = &B->D;
  modpriv *M = B->M;
  uint32_t n;
  if (!core_dec_len(D, &n)) return false;
  weft_export *ex = core_dec_alloc(D, (size_t)n * sizeof *ex);
  if (!ex) return false;
  M->m.exports = ex;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t kind;
    if (!name(D, &ex[i].name) || !core_dec_u8(D, &kind)) return false;
    if (kind > WEFT_EXTERN_TAG)
      return core_dec_fail(D, D->p - 1, WEFT_ERR_MALFORMED, "malformed export kind");
    ex[i].kind = kind;
    if (!core_dec_u32(D, &ex[i].index)) return false;
    M->m.nexports = i + 1;
  }
  return true;
}

/* -- Element and data segments ------------------------------------------------------------------ */

/* A (ref.func idx) expression for the funcidx forms of element segments. */
static bool funcidx_expr(core_dec *D, weft_expr *out) {
  const uint8_t *at = D->p;
  uint32_t idx;
  if (!core_dec_u32(D, &idx)) return false;
  if (!core_dec_grow(D, (void **)&D->ins, &D->cins, (uint64_t)D->nins + 2, sizeof(weft_instr)))
    return false;
  weft_instr *in = &D->ins[D->nins];
  memset(in, 0, 2 * sizeof *in);
  in[0].op = WEFT_OP_REF_FUNC;
  in[0].off = (uint32_t)(at - D->base);
  in[0].imm.x.a = idx;
  in[1].op = WEFT_OP_END;
  in[1].off = (uint32_t)(D->p - D->base);
  out->code = (const weft_instr *)(uintptr_t)D->nins;
  out->ninstrs = 2;
  D->nins += 2;
  return true;
}

static bool elem_section(builder *B) {
  core_dec *D = &B->D;
  modpriv *M = B->M;
  uint32_t n;
  if (!core_dec_len(D, &n)) return false;
  weft_elem *es = core_dec_alloc(D, (size_t)n * sizeof *es);
  if (!es) return false;
  M->m.elems = es;
  for (uint32_t i = 0; i < n; i++) {
    weft_elem *e = &es[i];
    const uint8_t *at = D->p;
    uint32_t flags;
    e->off = (uint32_t)(at - D->base);
    if (!core_dec_u32(D, &flags)) return false;
    if (flags > 7)
      return core_dec_fail(D, D->p - 1, WEFT_ERR_MALFORMED, "malformed elements segment kind");
    e->mode = (flags & 1u) ? ((flags & 2u) ? WEFT_SEG_DECLARATIVE : WEFT_SEG_PASSIVE) : WEFT_SEG_ACTIVE;
    e->table = 0;
    if (e->mode == WEFT_SEG_ACTIVE) {
      if ((flags & 2u) && !core_dec_u32(D, &e->table)) return false;
      if (!core_dec_expr(D, &e->offset)) return false;
    }
    bool exprs = (flags & 4u) != 0;
    if (flags == 0) {
      e->type = WEFT_VT_MAKE_REF(0, WEFT_HT_ABS(WEFT_AHT_FUNC));
    } else if (flags == 4) {
      e->type = WEFT_VT_FUNCREF;
    } else if (exprs) {
      if (!reftype(D, &e->type)) return false;
    } else {
      uint8_t k;
      if (!core_dec_u8(D, &k)) return false;
      if (k != 0) return core_dec_fail(D, D->p - 1, WEFT_ERR_MALFORMED, "malformed element kind");
      e->type = WEFT_VT_MAKE_REF(0, WEFT_HT_ABS(WEFT_AHT_FUNC));
    }
    uint32_t cnt;
    if (!core_dec_len(D, &cnt)) return false;
    weft_expr *items = core_dec_alloc(D, (size_t)cnt * sizeof *items);
    if (!items) return false;
    e->items = items;
    for (uint32_t k = 0; k < cnt; k++) {
      if (!(exprs ? core_dec_expr(D, &items[k]) : funcidx_expr(D, &items[k]))) return false;
      e->nitems = k + 1;
    }
    M->m.nelems = i + 1;
  }
  return true;
}

static bool data_section(builder *B) {
  core_dec *D = &B->D;
  modpriv *M = B->M;
  uint32_t n;
  if (!core_dec_len(D, &n)) return false;
  weft_data *ds = core_dec_alloc(D, (size_t)n * sizeof *ds);
  if (!ds) return false;
  M->m.datas = ds;
  for (uint32_t i = 0; i < n; i++) {
    weft_data *s = &ds[i];
    uint32_t flags;
    s->off = (uint32_t)(D->p - D->base);
    if (!core_dec_u32(D, &flags)) return false;
    if (flags > 2) return core_dec_fail(D, D->p - 1, WEFT_ERR_MALFORMED, "malformed data segment kind");
    s->mode = flags == 1 ? WEFT_SEG_PASSIVE : WEFT_SEG_ACTIVE;
    if (flags == 2 && !core_dec_u32(D, &s->mem)) return false;
    if (flags != 1 && !core_dec_expr(D, &s->offset)) return false;
    uint32_t len;
    if (!core_dec_blen(D, &len)) return false;
    s->bytes = D->p;
    s->len = len;
    D->p += len;
    M->m.ndatas = i + 1;
  }
  return true;
}

/* -- Code section ------------------------------------------------------------------------------- */

/* At most this many instructions are reserved up front (384 MiB of address space, untouched). */
#define CODE_RESERVE_MAX ((size_t)16 << 20)

/* Large instruction arrays are written once, front to back: transparent huge pages cut the page
 * faults (most of the cost of a big module) by 512. Only a hint; failure is harmless. */
static void advise_huge(void *p, size_t size) {
  const uintptr_t huge = 2u << 20;
  if (size < 4 * huge) return;
  uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
  uintptr_t hi = ((uintptr_t)p + size) & ~(huge - 1);
  if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
}

static bool code_section(builder *B) {
  core_dec *D = &B->D;
  modpriv *M = B->M;
  uint32_t n;
  if (!core_dec_len(D, &n)) return false;
  /* A count that differs from the function section's is reported after the last section, as the
   * reference interpreter does; bodies without a function are decoded into a scratch record. */
  B->has_code = true;
  B->ncode = n;
  /* Every instruction takes at least one byte: reserve for the whole section at once, so the array
   * never moves while bodies are decoded (untouched capacity costs no memory). */
  size_t rest = (size_t)(D->end - D->p);
  if (rest > CODE_RESERVE_MAX) rest = CODE_RESERVE_MAX; /* beyond: grow geometrically (mremap) */
  if (!core_dec_grow(D, (void **)&D->ins, &D->cins, (uint64_t)D->nins + rest + 1, sizeof(weft_instr)))
    return false;
  advise_huge(D->ins, (size_t)D->cins * sizeof(weft_instr));
  for (uint32_t i = 0; i < n; i++) {
    weft_func scratch = {0};
    weft_func *f = i < B->nfuncsec ? &M->funcs[M->m.nfunc_imports + i] : &scratch;
    uint32_t size;
    f->body_off = (uint32_t)(D->p - D->base);
    if (!core_dec_blen(D, &size)) return false;
    const uint8_t *start = D->p;
    f->body_size = size;
    /* Locals: groups of (count, type); the sum must fit in u32 (spec), and under our limit. */
    const uint8_t *lat = D->p;
    uint32_t ngroups;
    if (!core_dec_len(D, &ngroups)) return false;
    const uint8_t *groups = D->p;
    uint64_t total = 0;
    for (uint32_t g = 0; g < ngroups; g++) {
      uint32_t cnt;
      weft_valtype t;
      if (!core_dec_u32(D, &cnt) || !core_dec_valtype(D, &t)) return false;
      total += cnt;
    }
    if (total >= 0x100000000ull) return core_dec_fail(D, lat, WEFT_ERR_MALFORMED, "too many locals");
    if (total > CORE_DEC_MAX_LOCALS)
      return core_dec_fail(D, lat, WEFT_ERR_LIMIT, "too many locals (limit %u)", CORE_DEC_MAX_LOCALS);
    weft_valtype *locals = core_dec_alloc(D, (size_t)total * sizeof *locals);
    if (!locals) return false;
    const uint8_t *after = D->p;
    D->p = groups; /* second, cheap pass over the already checked groups */
    uint32_t k = 0;
    for (uint32_t g = 0; g < ngroups; g++) {
      uint32_t cnt;
      weft_valtype t;
      if (!core_dec_u32(D, &cnt) || !core_dec_valtype(D, &t)) return false;
      for (uint32_t j = 0; j < cnt; j++) locals[k++] = t;
    }
    D->p = after;
    f->nlocals = (uint32_t)total;
    f->locals = locals;
    D->in_body = true;
    bool ok = core_dec_expr(D, &f->body);
    D->in_body = false;
    if (!ok) return false;
    if (D->p != start + size)
      return core_dec_fail(D, start, WEFT_ERR_MALFORMED, "section size mismatch");
  }
  return true;
}

/* -- Custom sections ---------------------------------------------------------------------------- */

static bool custom_section(builder *B, const uint8_t *sec_end) {
  core_dec *D = &B->D;
  weft_custom c;
  c.off = (uint32_t)(D->p - D->base);
  if (!name(D, &c.name)) return false;
  if (D->p > sec_end) return core_dec_eof(D);
  c.bytes = D->p;
  c.len = (uint32_t)(sec_end - D->p);
  D->p = sec_end;
  if (!core_dec_grow(D, (void **)&B->customs, &B->ccustoms, (uint64_t)B->M->m.ncustoms + 1,
                     sizeof c))
    return false;
  B->customs[B->M->m.ncustoms++] = c;
  if (c.name.len == 4 && memcmp(c.name.str, "name", 4) == 0 && !B->name_sec) {
    B->name_sec = c.bytes;
    B->name_end = sec_end;
  }
  return true;
}

/* -- Module ------------------------------------------------------------------------------------- */

/* The position of each non-custom section id in the required order. */
static int section_rank(uint8_t id) {
  static const int8_t rank[14] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11, 6};
  return rank[id];
}

static bool section(builder *B, core_types *reg, uint8_t id, const uint8_t *sec_end) {
  switch (id) {
  case 0: return custom_section(B, sec_end);
  case 1: return type_section(B) && (!reg || canonicalize(B, reg, B->D.p));
  case 2: return import_section(B);
  case 3: return func_section(B);
  case 4: return table_section(B);
  case 5: return memory_section(B);
  case 6: return global_section(B);
  case 7: return export_section(B);
  case 8: return core_dec_u32(&B->D, &B->M->m.start);
  case 9: return elem_section(B);
  case 10: return code_section(B);
  case 11: return data_section(B);
  case 12:
    B->M->m.has_data_count = true;
    return core_dec_u32(&B->D, &B->M->m.data_count);
  default: return tag_section(B);
  }
}

static void fix_expr(const core_dec *D, weft_expr *e) {
  if (e->ninstrs) e->code = D->ins + (uintptr_t)e->code;
  else e->code = NULL;
}

/* Turns instruction indices into pointers, once the instruction array has its final address. */
static void fixups(builder *B) {
  core_dec *D = &B->D;
  modpriv *M = B->M;
  for (uint32_t i = M->m.nfunc_imports; i < M->m.nfuncs; i++) fix_expr(D, &M->funcs[i].body);
  for (uint32_t i = 0; i < M->m.ntables; i++) fix_expr(D, &M->tables[i].init);
  for (uint32_t i = 0; i < M->m.nglobals; i++) fix_expr(D, &M->globals[i].init);
  for (uint32_t i = 0; i < M->m.nelems; i++) {
    weft_elem *e = (weft_elem *)&M->m.elems[i];
    fix_expr(D, &e->offset);
    for (uint32_t k = 0; k < e->nitems; k++) fix_expr(D, (weft_expr *)&e->items[k]);
  }
  for (uint32_t i = 0; i < M->m.ndatas; i++) fix_expr(D, (weft_expr *)&M->m.datas[i].offset);
}

static bool finish(builder *B) {
  core_dec *D = &B->D;
  modpriv *M = B->M;
  if (B->nfuncsec != B->ncode)
    return core_dec_fail(D, D->end, WEFT_ERR_MALFORMED,
                         "function and code section have inconsistent lengths");
  if (M->m.has_data_count && M->m.data_count != M->m.ndatas)
    return core_dec_fail(D, D->end, WEFT_ERR_MALFORMED,
                         "data count and data section have inconsistent lengths");
  if (!M->m.has_data_count && D->uses_data)
    return core_dec_fail(D, D->end, WEFT_ERR_MALFORMED, "data count section required");
  if (M->m.nmems > 1) D->features |= WEFT_FEAT_MULTI_MEMORY;
  if (M->m.ntags) D->features |= WEFT_FEAT_EXCEPTIONS;
  for (uint32_t i = 0; i < M->m.ntables; i++)
    if (M->tables[i].type.limits.is64) D->features |= WEFT_FEAT_MEMORY64;
  if (M->m.ncustoms) {
    weft_custom *c = core_dec_alloc(D, (size_t)M->m.ncustoms * sizeof *c);
    if (!c) return false;
    memcpy(c, B->customs, (size_t)M->m.ncustoms * sizeof *c);
    M->m.customs = c;
  }
  if (D->cins > D->nins + 4096) { /* give back the reservation made for the code section */
    weft_instr *shrunk = realloc(D->ins, (size_t)(D->nins ? D->nins : 1) * sizeof *shrunk);
    if (shrunk) {
      D->ins = shrunk;
      D->cins = D->nins ? D->nins : 1;
    }
  }
  fixups(B);
  M->ins = D->ins;
  M->pool = D->pool;
  D->ins = NULL;
  D->pool = NULL;
  M->m.pool = M->pool;
  M->m.npool = D->npool;
  M->m.types = M->types;
  M->m.funcs = M->funcs;
  M->m.tables = M->tables;
  M->m.mems = M->mems;
  M->m.globals = M->globals;
  M->m.tags = M->tags;
  M->m.features = D->features;
  if (B->name_sec) core_dec_names(D, &M->m, B->name_sec, B->name_end);
  M->arena = D->arena;
  D->arena = NULL;
  return !D->failed;
}

static bool module(builder *B, core_types *reg) {
  core_dec *D = &B->D;
  size_t len = (size_t)(D->end - D->base);
  static const uint8_t magic[4] = {0x00, 0x61, 0x73, 0x6D};
  static const uint8_t version[4] = {0x01, 0x00, 0x00, 0x00};
  if (len < 4) return core_dec_fail(D, D->end, WEFT_ERR_MALFORMED, "unexpected end");
  if (memcmp(D->base, magic, 4) != 0)
    return core_dec_fail(D, D->base, WEFT_ERR_MALFORMED, "magic header not detected");
  if (len < 8) return core_dec_fail(D, D->end, WEFT_ERR_MALFORMED, "unexpected end");
  if (memcmp(D->base + 4, version, 4) != 0)
    return core_dec_fail(D, D->base + 4, WEFT_ERR_MALFORMED, "unknown binary version");
  D->p = D->base + 8;
  int last = 0;
  while (D->p < D->end) {
    const uint8_t *at = D->p;
    uint8_t id = *D->p;
    if (id > 13) return core_dec_fail(D, at, WEFT_ERR_MALFORMED, "malformed section id");
    if (id != 0) {
      int r = section_rank(id);
      if (r <= last)
        return core_dec_fail(D, at, WEFT_ERR_MALFORMED, "unexpected content after last section");
      last = r;
    }
    D->p++;
    uint32_t size;
    if (!core_dec_len(D, &size)) return false;
    const uint8_t *start = D->p;
    if (size > (size_t)(D->end - start)) return core_dec_eof(D);
    if (!section(B, reg, id, start + size)) return false;
    if (D->p != start + size)
      return core_dec_fail(D, start, WEFT_ERR_MALFORMED, "section size mismatch");
  }
  return finish(B);
}

int core_decode(core_types *types, const uint8_t *bytes, size_t len, weft_module **out,
                weft_diag *d) {
  builder B;
  int rc = WEFT_OK;
  memset(&B, 0, sizeof B);
  *out = NULL;
  B.D.d = d;
  B.D.type_limit = WEFT_NONE;
  if (len > UINT32_MAX - 1) {
    if (d) {
      d->code = WEFT_ERR_LIMIT;
      d->offset = UINT64_MAX;
      snprintf(d->origin, sizeof d->origin, "decode");
      snprintf(d->message, sizeof d->message, "module too large (%zu bytes)", len);
    }
    return WEFT_ERR_LIMIT;
  }
  B.M = calloc(1, sizeof *B.M);
  uint8_t *copy = malloc(len ? len : 1);
  if (!B.M || !copy) {
    free(B.M);
    free(copy);
    if (d) {
      d->code = WEFT_ERR_NOMEM;
      d->offset = UINT64_MAX;
      snprintf(d->origin, sizeof d->origin, "decode");
      snprintf(d->message, sizeof d->message, "out of memory");
    }
    return WEFT_ERR_NOMEM;
  }
  if (len) memcpy(copy, bytes, len);
  B.M->bytes = copy;
  B.M->m.bytes = copy;
  B.M->m.size = len;
  B.M->m.start = WEFT_NONE;
  B.D.base = copy;
  B.D.p = copy;
  B.D.end = copy + len;
  if (!module(&B, types)) {
    rc = B.D.err != WEFT_OK ? B.D.err : WEFT_ERR_MALFORMED;
  }
  /* One cleanup path: scratch always, the module on failure. */
  free(B.D.ctl);
  free(B.customs);
  if (rc != WEFT_OK) {
    free(B.D.ins);
    free(B.D.pool);
    B.M->arena = B.D.arena;
    core_module_free(&B.M->m);
  } else {
    *out = &B.M->m;
  }
  return rc;
}

void core_module_free(weft_module *m) {
  if (!m) return;
  modpriv *M = (modpriv *)m;
  core_arena *a = M->arena;
  while (a) {
    core_arena *nx = a->next;
    free(a);
    a = nx;
  }
  free(M->ins);
  free(M->pool);
  free(M->types);
  free(M->funcs);
  free(M->tables);
  free(M->mems);
  free(M->globals);
  free(M->tags);
  free(M->bytes);
  free(M);
}
