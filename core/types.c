/* core/types.c -- the engine-wide type registry (see types.h).
 *
 * Each rec group is serialized into a key of 32-bit words in which references into the group are
 * relative positions and references outside it are canonical ids; equal keys mean equal groups.
 * Keys live in a chained hash table; canonical entries (rtt + canonical weft_type + trailing
 * storage) are allocated one by one so their addresses never move. A mutex guards everything.
 * Depends on: types.h, pthreads.
 */
#include "types.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Implementation limit on the length of a supertype chain (as V8 and wasm-tools). */
#define MAX_SUBTYPE_DEPTH 63
/* Canonical ids must fit in the 24-bit heap field of a weft_valtype. */
#define MAX_CANON_TYPES (WEFT_HT_ABSTRACT - 1u)

typedef struct centry {
  weft_rtt rtt; /* first member: a weft_rtt pointer is a centry pointer */
  weft_type type;
} centry;

typedef struct group {
  struct group *next;
  uint32_t hash;
  uint32_t first_id;
  uint32_t ntypes;
  uint32_t keylen;
  uint32_t key[];
} group;

struct core_types {
  pthread_mutex_t mu;
  centry **byid;
  uint32_t n, cap;
  group **buckets;
  uint32_t nbuckets, ngroups;
};

/* -- Keys ------------------------------------------------------------------------------------ */

typedef struct keybuf {
  uint32_t *w;
  uint32_t n, cap;
  bool oom;
} keybuf;

static void kpush(keybuf *k, uint32_t v) {
  if (k->oom) return;
  if (k->n == k->cap) {
    uint32_t ncap = k->cap ? k->cap * 2 : 64;
    uint32_t *nw = realloc(k->w, (size_t)ncap * sizeof *nw);
    if (!nw) {
      k->oom = true;
      return;
    }
    k->w = nw;
    k->cap = ncap;
  }
  k->w[k->n++] = v;
}

enum { REF_ABS = 0, REF_IN = 1, REF_OUT = 2 };

typedef struct enc_ctx {
  const weft_type *types;
  uint32_t start, n;
  uint32_t bad; /* first out-of-range index met, or WEFT_NONE */
} enc_ctx;

static void enc_heap(keybuf *k, enc_ctx *c, uint32_t h) {
  if (WEFT_HT_IS_ABSTRACT(h)) {
    kpush(k, REF_ABS);
    kpush(k, h);
  } else if (h < c->start) {
    kpush(k, REF_OUT);
    kpush(k, c->types[h].rtt ? c->types[h].rtt->id : UINT32_MAX);
  } else if (h - c->start < c->n) {
    kpush(k, REF_IN);
    kpush(k, h - c->start);
  } else {
    if (c->bad == WEFT_NONE) c->bad = h;
    kpush(k, UINT32_MAX);
    kpush(k, h);
  }
}

static void enc_val(keybuf *k, enc_ctx *c, weft_valtype t) {
  kpush(k, WEFT_VT_KIND(t));
  if (WEFT_VT_IS_REF(t)) enc_heap(k, c, WEFT_VT_HEAP(t));
}

static void enc_type(keybuf *k, enc_ctx *c, const weft_type *t) {
  kpush(k, (uint32_t)t->comp | ((uint32_t)t->final << 8) | ((t->super != WEFT_NONE) << 9));
  if (t->super != WEFT_NONE) enc_heap(k, c, t->super);
  switch (t->comp) {
  case WEFT_COMP_FUNC:
    kpush(k, t->u.func.nparams);
    for (uint32_t i = 0; i < t->u.func.nparams; i++) enc_val(k, c, t->u.func.params[i]);
    kpush(k, t->u.func.nresults);
    for (uint32_t i = 0; i < t->u.func.nresults; i++) enc_val(k, c, t->u.func.results[i]);
    break;
  case WEFT_COMP_STRUCT:
    kpush(k, t->u.strct.nfields);
    for (uint32_t i = 0; i < t->u.strct.nfields; i++) {
      enc_val(k, c, t->u.strct.fields[i].type);
      kpush(k, t->u.strct.fields[i].mut);
    }
    break;
  case WEFT_COMP_ARRAY:
    enc_val(k, c, t->u.array.type);
    kpush(k, t->u.array.mut);
    break;
  default: /* WEFT_COMP_CONT */
    enc_heap(k, c, t->u.cont_func);
    break;
  }
}

static uint32_t hash_words(const uint32_t *w, uint32_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
  for (uint32_t i = 0; i < n; i++) {
    h ^= w[i];
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 29;
  }
  return (uint32_t)(h ^ (h >> 32));
}

/* -- Canonical entries ----------------------------------------------------------------------- */

/* Maps a module-local heap type to its canonical form; first_id is the id of the group's first type. */
static uint32_t canon_heap(const enc_ctx *c, uint32_t first_id, uint32_t h) {
  if (WEFT_HT_IS_ABSTRACT(h)) return h;
  if (h < c->start) return c->types[h].rtt ? c->types[h].rtt->id : WEFT_HT_ABSTRACT - 1;
  return first_id + (h - c->start);
}

static weft_valtype canon_val(const enc_ctx *c, uint32_t first_id, weft_valtype t) {
  if (!WEFT_VT_IS_REF(t)) return t;
  return WEFT_VT_MAKE_REF(WEFT_VT_NULLABLE(t), canon_heap(c, first_id, WEFT_VT_HEAP(t)));
}

static size_t align8(size_t n) { return (n + 7u) & ~(size_t)7u; }

/* Builds the canonical entry for module type `idx`; `made` holds the entries of the group so far. */
static centry *make_entry(const enc_ctx *c, uint32_t first_id, uint32_t idx, centry *const *made) {
  const weft_type *t = &c->types[idx];
  const weft_rtt *sup = NULL;
  if (t->super != WEFT_NONE && t->super < idx) {
    sup = t->super < c->start ? c->types[t->super].rtt : &made[t->super - c->start]->rtt;
  }
  uint32_t depth = sup ? sup->depth + 1 : 0;
  size_t nvals = 0, nfields = 0;
  if (t->comp == WEFT_COMP_FUNC) nvals = (size_t)t->u.func.nparams + t->u.func.nresults;
  if (t->comp == WEFT_COMP_STRUCT) nfields = t->u.strct.nfields;
  size_t off_supers = align8(sizeof(centry));
  size_t off_vals = off_supers + align8(((size_t)depth + 1) * sizeof(weft_rtt *));
  size_t off_fields = off_vals + align8(nvals * sizeof(weft_valtype));
  size_t total = off_fields + nfields * sizeof(weft_fieldtype);
  char *mem = calloc(1, total);
  if (!mem) return NULL;
  centry *e = (centry *)mem;
  const weft_rtt **supers = (const weft_rtt **)(mem + off_supers);
  weft_valtype *vals = (weft_valtype *)(mem + off_vals);
  weft_fieldtype *fields = (weft_fieldtype *)(mem + off_fields);
  for (uint32_t i = 0; i < depth; i++) supers[i] = sup->supers[i];
  supers[depth] = &e->rtt;
  e->rtt.id = first_id + (idx - c->start);
  e->rtt.depth = depth;
  e->rtt.supers = supers;
  e->rtt.comp = t->comp;
  e->rtt.final = t->final;
  e->type = *t;
  e->type.rtt = &e->rtt;
  e->type.super = sup ? sup->id : WEFT_NONE;
  e->type.nsupers = sup ? 1 : 0;
  e->type.rec_start = first_id;
  switch (t->comp) {
  case WEFT_COMP_FUNC:
    for (uint32_t i = 0; i < t->u.func.nparams; i++)
      vals[i] = canon_val(c, first_id, t->u.func.params[i]);
    for (uint32_t i = 0; i < t->u.func.nresults; i++)
      vals[t->u.func.nparams + i] = canon_val(c, first_id, t->u.func.results[i]);
    e->type.u.func.params = vals;
    e->type.u.func.results = vals + t->u.func.nparams;
    break;
  case WEFT_COMP_STRUCT:
    for (uint32_t i = 0; i < t->u.strct.nfields; i++) {
      fields[i].type = canon_val(c, first_id, t->u.strct.fields[i].type);
      fields[i].mut = t->u.strct.fields[i].mut;
    }
    e->type.u.strct.fields = fields;
    break;
  case WEFT_COMP_ARRAY:
    e->type.u.array.type = canon_val(c, first_id, t->u.array.type);
    break;
  default:
    e->type.u.cont_func = canon_heap(c, first_id, t->u.cont_func);
    break;
  }
  return e;
}

/* -- Registry -------------------------------------------------------------------------------- */

core_types *core_types_new(void) {
  core_types *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  if (pthread_mutex_init(&t->mu, NULL) != 0) {
    free(t);
    return NULL;
  }
  return t;
}

void core_types_free(core_types *t) {
  if (!t) return;
  for (uint32_t i = 0; i < t->n; i++) free(t->byid[i]);
  for (uint32_t b = 0; b < t->nbuckets; b++) {
    group *g = t->buckets[b];
    while (g) {
      group *nx = g->next;
      free(g);
      g = nx;
    }
  }
  free(t->buckets);
  free(t->byid);
  pthread_mutex_destroy(&t->mu);
  free(t);
}

static int set_diag(weft_diag *d, int code, const char *msg, uint32_t arg) {
  if (d) {
    d->code = code;
    d->offset = UINT64_MAX;
    snprintf(d->origin, sizeof d->origin, "decode");
    snprintf(d->message, sizeof d->message, msg, arg);
  }
  return code;
}

static bool rehash(core_types *t) {
  uint32_t nb = t->nbuckets ? t->nbuckets * 2 : 256;
  group **nbk = calloc(nb, sizeof *nbk);
  if (!nbk) return false;
  for (uint32_t b = 0; b < t->nbuckets; b++) {
    group *g = t->buckets[b];
    while (g) {
      group *nx = g->next;
      g->next = nbk[g->hash & (nb - 1)];
      nbk[g->hash & (nb - 1)] = g;
      g = nx;
    }
  }
  free(t->buckets);
  t->buckets = nbk;
  t->nbuckets = nb;
  return true;
}

int core_types_intern(core_types *t, const weft_type *types, uint32_t start, uint32_t n,
                      const weft_rtt **out, weft_diag *d) {
  keybuf k = {0};
  enc_ctx c = {types, start, n, WEFT_NONE};
  centry **made = NULL;
  group *g = NULL;
  int rc = WEFT_OK;
  bool locked = false;

  kpush(&k, n);
  for (uint32_t i = 0; i < n; i++) enc_type(&k, &c, &types[start + i]);
  if (k.oom) {
    rc = set_diag(d, WEFT_ERR_NOMEM, "out of memory interning types", 0);
    goto done;
  }
  if (c.bad != WEFT_NONE) {
    rc = set_diag(d, WEFT_ERR_INVALID, "unknown type %u", c.bad);
    goto done;
  }
  uint32_t h = hash_words(k.w, k.n);

  pthread_mutex_lock(&t->mu);
  locked = true;
  if (t->nbuckets) {
    for (group *e = t->buckets[h & (t->nbuckets - 1)]; e; e = e->next) {
      if (e->hash == h && e->keylen == k.n && memcmp(e->key, k.w, k.n * sizeof(uint32_t)) == 0) {
        for (uint32_t i = 0; i < n; i++) out[i] = &t->byid[e->first_id + i]->rtt;
        goto done;
      }
    }
  }
  if (n > MAX_CANON_TYPES - t->n) {
    rc = set_diag(d, WEFT_ERR_LIMIT, "too many canonical types (limit %u)", MAX_CANON_TYPES);
    goto done;
  }
  for (uint32_t i = 0; i < n; i++) {
    const weft_type *ty = &types[start + i];
    if (ty->super != WEFT_NONE && ty->super < start + i) {
      /* in-group supers are checked below, as their entries are made */
      const weft_rtt *sr = ty->super < start ? types[ty->super].rtt : NULL;
      if (sr && sr->depth + 1 > MAX_SUBTYPE_DEPTH) {
        rc = set_diag(d, WEFT_ERR_LIMIT, "subtyping depth exceeds the limit of %u", MAX_SUBTYPE_DEPTH);
        goto done;
      }
    }
  }
  if (t->n + n > t->cap) {
    uint32_t ncap = t->cap ? t->cap : 256;
    while (ncap < t->n + n) ncap = ncap > UINT32_MAX / 2 ? UINT32_MAX : ncap * 2;
    centry **nb = realloc(t->byid, (size_t)ncap * sizeof *nb);
    if (!nb) {
      rc = set_diag(d, WEFT_ERR_NOMEM, "out of memory interning types", 0);
      goto done;
    }
    t->byid = nb;
    t->cap = ncap;
  }
  if (t->ngroups + 1 > t->nbuckets && !rehash(t)) {
    rc = set_diag(d, WEFT_ERR_NOMEM, "out of memory interning types", 0);
    goto done;
  }
  made = calloc(n ? n : 1, sizeof *made);
  g = malloc(sizeof *g + (size_t)k.n * sizeof(uint32_t));
  if (!made || !g) {
    rc = set_diag(d, WEFT_ERR_NOMEM, "out of memory interning types", 0);
    goto done;
  }
  uint32_t first = t->n;
  for (uint32_t i = 0; i < n; i++) {
    const weft_type *ty = &types[start + i];
    if (ty->super != WEFT_NONE && ty->super >= start && ty->super < start + i &&
        made[ty->super - start]->rtt.depth + 1 > MAX_SUBTYPE_DEPTH) {
      rc = set_diag(d, WEFT_ERR_LIMIT, "subtyping depth exceeds the limit of %u", MAX_SUBTYPE_DEPTH);
      goto done;
    }
    made[i] = make_entry(&c, first, start + i, made);
    if (!made[i]) {
      rc = set_diag(d, WEFT_ERR_NOMEM, "out of memory interning types", 0);
      goto done;
    }
  }
  for (uint32_t i = 0; i < n; i++) {
    t->byid[first + i] = made[i];
    out[i] = &made[i]->rtt;
    made[i] = NULL;
  }
  t->n += n;
  g->hash = h;
  g->first_id = first;
  g->ntypes = n;
  g->keylen = k.n;
  memcpy(g->key, k.w, k.n * sizeof(uint32_t));
  g->next = t->buckets[h & (t->nbuckets - 1)];
  t->buckets[h & (t->nbuckets - 1)] = g;
  t->ngroups++;
  g = NULL;

done:
  if (locked) pthread_mutex_unlock(&t->mu);
  if (made) {
    for (uint32_t i = 0; i < n; i++) free(made[i]);
    free(made);
  }
  free(g);
  free(k.w);
  return rc;
}

const weft_rtt *core_types_get(core_types *t, uint32_t id) {
  const weft_rtt *r = NULL;
  pthread_mutex_lock(&t->mu);
  if (id < t->n) r = &t->byid[id]->rtt;
  pthread_mutex_unlock(&t->mu);
  return r;
}

const weft_type *core_types_canon(const weft_rtt *rtt) {
  return rtt ? &((const centry *)(const void *)rtt)->type : NULL;
}

int core_types_func_sig(core_types *t, uint32_t id, uint32_t *out_nparams,
                        const weft_valtype **out_params, uint32_t *out_nresults,
                        const weft_valtype **out_results) {
  const weft_type *ty = core_types_canon(core_types_get(t, id));
  if (!ty || ty->comp != WEFT_COMP_FUNC) return WEFT_ERR_MISUSE;
  if (out_nparams) *out_nparams = ty->u.func.nparams;
  if (out_params) *out_params = ty->u.func.params;
  if (out_nresults) *out_nresults = ty->u.func.nresults;
  if (out_results) *out_results = ty->u.func.results;
  return WEFT_OK;
}

uint32_t core_types_count(core_types *t) {
  pthread_mutex_lock(&t->mu);
  uint32_t n = t->n;
  pthread_mutex_unlock(&t->mu);
  return n;
}
