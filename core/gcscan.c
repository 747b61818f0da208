/* core/gcscan.c -- the roots of a store's GC heap (part gcroots): frames through the codegen's stack
 * maps (weft_code_info.stack_maps) walked by the backtrace plugin, payload buffers, globals, tables,
 * exceptions, and continuations traced as nodes: a FRESH or SUSPENDED continuation is live only
 * when a live value holds {c, c->revision}; the unreachable ones are released (their stacks go
 * back to the pool; FRESH ones need contstacks' for_each_cont, ABI 1.3). Conservative scans remain only as fallbacks, listed under Fallbacks.
 * Depends on: gcscan.h, runtime_int.h, engine.h, exn.h, frames.h, plugin/{contstacks,backtrace}.h.
 */
#define _GNU_SOURCE 1 /* pthread_getattr_np */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "exn.h"
#include "frames.h"
#include "gcscan.h"
#include "runtime_int.h"
#include "weft/plugin/backtrace.h"
#include "weft/plugin/codegen.h"
#include "weft/plugin/contstacks.h"

#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define GS_MARK_DEFINED(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))
#endif
#endif
#ifndef GS_MARK_DEFINED
#define GS_MARK_DEFINED(p, n) ((void)0)
#endif

/* -- The collection in progress on this thread ------------------------------------------------ */

typedef struct cnode {
  weft_contref *c;
  bool marked;
} cnode;

typedef struct coll {
  weft_store_ctx *ctx;
  weft_store_t *s;
  const weft_contstacks_iface *cs;
  void *cs_state;
  const weft_backtrace_iface *bi;
  void *bs;
  bool reclaim;      /* continuations are nodes (else every suspended one is a root) */
  cnode *nodes;      /* the store's FRESH and SUSPENDED continuations */
  size_t n, cap;
  uint32_t *hash;    /* open addressing over nodes: index + 1, 0 empty */
  size_t hcap;       /* a power of two, > 2n */
  size_t *work;      /* marked nodes not scanned yet */
  size_t nwork, capwork;
  weft_contref **fresh; /* FRESH continuations from heap fields, not scanned yet */
  size_t nfresh, capfresh;
  bool oom;
  uintptr_t tlo, thi; /* this thread's stack */
  /* exception objects as nodes (ABI 1.4 plugins report the references they do not own) */
  core_exn **exns;      /* the store's collectable exception objects, sorted by address */
  uint8_t *exn_marked;
  size_t nexn;
  size_t *exn_work;     /* marked ones whose payload is not scanned yet */
  size_t nexn_work;
} coll;

static __thread coll tls_coll;
static __thread core_gcscan_lc *tls_lc; /* the innermost allocation libcall running */

void core_gcscan_lc_enter(core_gcscan_lc *lc) {
  lc->prev = tls_lc;
  tls_lc = lc;
}

void core_gcscan_lc_leave(core_gcscan_lc *lc) {
  if (tls_lc == lc) tls_lc = lc->prev;
}

void core_gcscan_lc_clear(void) { tls_lc = NULL; }

/* The bounds of the current thread's stack (hi 0 when unknown). */
static uintptr_t thread_stack(uintptr_t *lo_out) {
  static __thread uintptr_t lo, hi;
  if (hi == 0) {
    pthread_attr_t a;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
      if (pthread_attr_getstack(&a, &addr, &size) == 0) {
        lo = (uintptr_t)addr;
        hi = (uintptr_t)addr + size;
      }
      pthread_attr_destroy(&a);
    }
  }
  *lo_out = lo;
  return hi;
}

/* -- Continuations as nodes ------------------------------------------------------------------- */

static size_t hash_of(const void *p, size_t cap) {
  uint64_t x = (uint64_t)(uintptr_t)p;
  x ^= x >> 29;
  x *= 0x9E3779B97F4A7C15ull;
  return (size_t)(x >> 17) & (cap - 1);
}

static cnode *node_of(coll *k, const void *c) {
  if (k->hcap == 0 || c == NULL) return NULL;
  for (size_t i = hash_of(c, k->hcap);; i = (i + 1) & (k->hcap - 1)) {
    uint32_t v = k->hash[i];
    if (v == 0) return NULL;
    if (k->nodes[v - 1].c == c) return &k->nodes[v - 1];
  }
}

static void collect_node(void *ud, weft_contref *c) {
  coll *k = ud;
  uint32_t st = c->csi.state;
  if (st != WEFT_STACK_FRESH && st != WEFT_STACK_SUSPENDED) return;
  if (k->n == k->cap) {
    size_t cap = k->cap ? k->cap * 2 : 256;
    cnode *n = realloc(k->nodes, cap * sizeof *n);
    if (n == NULL) {
      k->oom = true;
      return;
    }
    k->nodes = n;
    k->cap = cap;
  }
  k->nodes[k->n++] = (cnode){c, false};
}

/* The node table of the store's continuations; false (reclaim off) when it cannot be made. */
static bool build_nodes(coll *k) {
  if (k->cs == NULL) return false;
  /* FRESH ones only with for_each_cont (1.3); with an older contstacks they are never released,
   * and their bound arguments are scanned when a typed slot holds them (cont_typed) */
  if (WEFT_HAS(k->cs, weft_contstacks_iface, for_each_cont) && k->cs->for_each_cont != NULL)
    k->cs->for_each_cont(k->cs_state, k->ctx, collect_node, k);
  else if (k->cs->for_each_suspended != NULL)
    k->cs->for_each_suspended(k->cs_state, k->ctx, collect_node, k);
  if (k->oom || k->n > UINT32_MAX / 4) return false;
  size_t cap = 16;
  while (cap < 2 * k->n + 2) cap *= 2;
  k->hash = calloc(cap, sizeof *k->hash);
  k->work = malloc((k->n + 1) * sizeof *k->work);
  if (k->hash == NULL || k->work == NULL) return false;
  k->hcap = cap;
  k->capwork = k->n + 1;
  for (size_t j = 0; j < k->n; j++) {
    size_t i = hash_of(k->nodes[j].c, cap);
    while (k->hash[i] != 0) i = (i + 1) & (cap - 1);
    k->hash[i] = (uint32_t)(j + 1);
  }
  return true;
}

/* A value {c, rev} seen in a live slot: the continuation is live when rev is its revision (or
 * whatever rev is, when `exact` is false: a libcall's operand words hold the contref alone). */
static void cont_seen(coll *k, const void *c, uint64_t rev, bool exact) {
  cnode *n = node_of(k, c);
  if (n == NULL || n->marked) return;
  if (exact && n->c->revision != rev) return; /* stale: it can never resume it */
  n->marked = true;
  if (k->nwork < k->capwork) k->work[k->nwork++] = (size_t)(n - k->nodes);
}

static void scan_payloads(coll *k, weft_gc_tracer *t, const weft_contref *c);

/* A value of continuation type ({contref, revision} or null, never other data, so the contref is a
 * real one: contrefs are type-stable and live until the plugin's fini). A FRESH one is not in the
 * node table: its bound arguments are scanned at once, or queued when `t` is NULL (a heap field
 * reported while the plugin traces). */
static void cont_typed(coll *k, weft_gc_tracer *t, weft_contref *c, uint64_t rev) {
  if (c == NULL) return;
  if (node_of(k, c) != NULL) {
    cont_seen(k, c, rev, true);
    return;
  }
  if (c->csi.state != WEFT_STACK_FRESH || c->revision != rev) return;
  if (t != NULL) {
    scan_payloads(k, t, c);
    return;
  }
  if (k->nfresh == k->capfresh) {
    size_t cap = k->capfresh * 2 + 16;
    weft_contref **n = realloc(k->fresh, cap * sizeof *n);
    if (n == NULL) return; /* out of memory while collecting: its arguments go unmarked */
    k->fresh = n;
    k->capfresh = cap;
  }
  k->fresh[k->nfresh++] = c;
}

/* n 16-byte values (payload buffers, globals, exception payloads): each may be a reference in its
 * low word or a continuation reference. */
static void scan_vals(coll *k, weft_gc_tracer *t, const weft_val_raw *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    t->mark(t, v[i].ref);
    cont_seen(k, v[i].cont.contref, v[i].cont.revision, true);
  }
}

static void scan_payloads(coll *k, weft_gc_tracer *t, const weft_contref *c) {
  if (c->args.data != NULL && c->args.length <= c->args.capacity)
    scan_vals(k, t, c->args.data, c->args.length);
  if (c->values.data != NULL && c->values.length <= c->values.capacity)
    scan_vals(k, t, c->values.data, c->values.length);
}

/* -- Fallbacks: conservative scans ------------------------------------------------------------- */

/* Used only where no precise root set exists: the C stack during instantiation (the constant
 * expression evaluator keeps its values there), the running chain when the collection did not
 * start in an allocation libcall (a host function called from Wasm, table.init evaluating element
 * expressions) or when a frame has no stack map, and a suspended chain whose walk failed. Safe:
 * the tracer only accepts exact starts of live objects, continuations are checked against the
 * node table, and neither the heap nor continuations move; a stale word only keeps something alive
 * longer. The read is not instrumented: it crosses other frames' padding and redzones. */
__attribute__((no_sanitize_address, noinline)) static void copy_words(uintptr_t *dst,
                                                                      uintptr_t src, size_t n) {
  GS_MARK_DEFINED((const void *)src, n * sizeof(uintptr_t));
  for (size_t i = 0; i < n; i++) dst[i] = ((const volatile uintptr_t *)src)[i];
}

static void scan_range(coll *k, weft_gc_tracer *t, uintptr_t lo, uintptr_t hi) {
  uintptr_t buf[257];
  lo = (lo + 7) & ~(uintptr_t)7;
  while (hi > lo && hi - lo >= 8) {
    size_t n = (hi - lo) / 8;
    if (n > 256) n = 256;
    size_t m = n < (hi - lo) / 8 ? n + 1 : n; /* one word more for a pair across chunks */
    copy_words(buf, lo, m);
    t->mark_slots(t, (const void *const *)buf, n, 8);
    if (k->hcap != 0)
      for (size_t i = 0; i + 1 < m; i++) cont_seen(k, (const void *)buf[i], buf[i + 1], true);
    lo += n * 8;
  }
}

/* Continuation c's stack from `from` to its top; false when `from` is not on that stack. */
static bool scan_cont_stack(coll *k, weft_gc_tracer *t, const weft_contref *c, uintptr_t from) {
  uintptr_t top = (uintptr_t)c->stack_top;
  if (c->stack_top == NULL || c->stack_size > top || from < top - c->stack_size || from >= top)
    return false;
  if (t != NULL) scan_range(k, t, from, top);
  return true;
}

/* The running chain from the C frame `sp` up: each stack from where it stopped to its top, then
 * the thread's stack. false when a region is not where it should be (t NULL: only check). */
static bool scan_chain_conservative(coll *k, weft_gc_tracer *t, uintptr_t sp) {
  const weft_stack_chain *ch = &k->ctx->stack_chain;
  uintptr_t from = sp;
  if (ch->kind == WEFT_CHAIN_CONTINUATION) {
    const weft_contref *r = ch->payload;
    for (uint32_t guard = 0; r != NULL && guard < 100000; guard++) {
      if (!scan_cont_stack(k, t, r, from)) return false;
      from = weft_contref_cc(r)->rsp;
      if (r->parent_chain.kind != WEFT_CHAIN_CONTINUATION) break;
      r = r->parent_chain.payload;
    }
  }
  if (from < k->tlo || from >= k->thi) return false;
  if (t != NULL) scan_range(k, t, from, k->thi);
  return true;
}

/* A suspended chain's regions (docs/STACK-SWITCHING.md §8) from raw stack words. */
static bool scan_suspended_conservative(coll *k, weft_gc_tracer *t, const weft_contref *c) {
  const weft_contref *la = c->last_ancestor;
  if (la == NULL || la->stack_top == NULL) return false;
  if (!scan_cont_stack(k, t, c, weft_contref_cc(la)->rsp)) return false;
  const weft_contref *x = c;
  for (uint32_t guard = 0; x != la && guard < 100000; guard++) {
    if (x->parent_chain.kind != WEFT_CHAIN_CONTINUATION) return false;
    const weft_contref *p = x->parent_chain.payload;
    if (!scan_cont_stack(k, t, p, weft_contref_cc(x)->rsp)) return false;
    x = p;
  }
  return true;
}

/* -- Stack maps ------------------------------------------------------------------------------- */

/* The map of the safepoint at pc: its entry and the module's slot array; false when pc is no
 * safepoint of compiled code with maps. */
static bool map_at(uintptr_t pc, const weft_stack_map_entry **out, const int32_t **slots) {
  uintptr_t base = 0;
  const weft_code_info *ci = core_rt_registry_find(pc, &base);
  if (ci == NULL || !WEFT_HAS(ci, weft_code_info, stack_map_slots) || ci->stack_maps == NULL)
    return false;
  uint32_t off = (uint32_t)(pc - base);
  size_t a = 0, b = ci->nstack_maps;
  while (a < b) {
    size_t mid = a + (b - a) / 2;
    if (ci->stack_maps[mid].code_off < off) a = mid + 1;
    else b = mid;
  }
  if (a == ci->nstack_maps || ci->stack_maps[a].code_off != off) return false;
  const weft_stack_map_entry *e = &ci->stack_maps[a];
  uint64_t len = (uint64_t)e->nrefs + e->nconts + e->nvals;
  if (e->first > ci->nstack_map_slots || len > ci->nstack_map_slots - e->first) return false;
  *out = e;
  *slots = ci->stack_map_slots;
  return true;
}

bool core_gcscan_stack_map(void *ud, uintptr_t pc, weft_gc_stack_map *out) {
  (void)ud;
  const weft_stack_map_entry *e;
  const int32_t *slots;
  if (!map_at(pc, &e, &slots)) return false;
  out->nslots = slots != NULL ? e->nrefs : 0;
  out->fp_offs = slots != NULL ? slots + e->first : NULL;
  return true;
}

/* -- Precise frames ---------------------------------------------------------------------------- */

/* A word of a Wasm frame. Not instrumented: the stacks Wasm runs on may keep sanitizer redzones
 * of C frames a trap unwound without returning (as the backtrace walker's reads). */
__attribute__((no_sanitize_address, noinline)) static void frame_read(void *dst, uintptr_t at,
                                                                      size_t n) {
  GS_MARK_DEFINED((const void *)at, n);
  for (size_t i = 0; i < n; i++) ((uint8_t *)dst)[i] = ((const volatile uint8_t *)at)[i];
}

typedef struct frames_ud {
  coll *k;
  weft_gc_tracer *t;
  bool missing; /* a Wasm frame had no map: the caller falls back */
} frames_ud;

static bool visit_frame(void *ud, const weft_frame *f) {
  frames_ud *w = ud;
  const weft_stack_map_entry *e;
  const int32_t *slots;
  if (!(f->flags & WEFT_FRAME_WASM)) return true;
  if ((f->flags & WEFT_FRAME_TRAP_PC) || !map_at(f->pc, &e, &slots)) {
    w->missing = true;
    return false;
  }
  if (slots == NULL) return true; /* every map of the module is empty */
  for (uint32_t i = 0; i < e->nrefs; i++) {
    const void *ref;
    frame_read(&ref, f->fp + (uintptr_t)(intptr_t)slots[e->first + i], sizeof ref);
    w->t->mark(w->t, ref);
  }
  const int32_t *cs = slots + e->first + e->nrefs;
  for (uint32_t i = 0; i < e->nconts + e->nvals; i++) {
    weft_val_raw v;
    frame_read(&v, f->fp + (uintptr_t)(intptr_t)cs[i], sizeof v);
    if (i < e->nconts)
      cont_typed(w->k, w->t, v.cont.contref, v.cont.revision);
    else
      cont_seen(w->k, v.cont.contref, v.cont.revision, true);
  }
  return true;
}

/* The frames of the running chain from the allocation libcall `lc` up to the entry. */
static bool scan_chain_precise(coll *k, weft_gc_tracer *t, const core_gcscan_lc *lc) {
  const core_frames_act *top = core_frames_top;
  if (k->bi == NULL || top == NULL || top->ctx != k->ctx || lc->fp == 0) return false;
  weft_activation act = {.pc = lc->pc,
                         .fp = lc->fp,
                         .entry_fp = top->entry_call_fp,
                         .stack_lo = k->tlo,
                         .stack_hi = top->entry_call_fp + 16,
                         .chain = k->ctx->stack_chain};
  frames_ud w = {k, t, false};
  weft_frame_visitor v = {.ud = &w, .visit = visit_frame, .host_frames = false,
                          .max_frames = UINT32_MAX};
  return k->bi->walk(k->bs, &act, &v) == WEFT_OK && !w.missing;
}

static bool scan_suspended_precise(coll *k, weft_gc_tracer *t, const weft_contref *c) {
  if (k->bi == NULL || k->bi->walk_suspended == NULL) return false;
  frames_ud w = {k, t, false};
  weft_frame_visitor v = {.ud = &w, .visit = visit_frame, .host_frames = false,
                          .max_frames = UINT32_MAX};
  return k->bi->walk_suspended(k->bs, c, &v) == WEFT_OK && !w.missing;
}

/* A live FRESH or SUSPENDED continuation: its payloads, and for a suspended one its frames and
 * those of the stacks between it and its last ancestor. */
static void scan_cont(coll *k, weft_gc_tracer *t, const weft_contref *c) {
  scan_payloads(k, t, c);
  if (c->csi.state != WEFT_STACK_SUSPENDED) return;
  for (const weft_contref *x = c; x != NULL && x != c->last_ancestor;) {
    if (x->parent_chain.kind != WEFT_CHAIN_CONTINUATION) break;
    x = x->parent_chain.payload;
    if (x != NULL) scan_payloads(k, t, x);
  }
  if (!scan_suspended_precise(k, t, c)) (void)scan_suspended_conservative(k, t, c);
}

static void visit_suspended_root(void *ud, weft_contref *c) {
  frames_ud *w = ud;
  scan_cont(w->k, w->t, c);
}

/* -- Exception objects as nodes ---------------------------------------------------------------- */

/* An exception object is live while a collection finds its exnref: in a frame (stack maps list
 * every reference slot), a global, a table, a struct or array field, a payload buffer, another
 * live exception's payload, a rooted handle, or as the pending exception. The plugin reports what
 * it is given or finds that is not its own object (roots.foreign, ABI 1.4); pinned ones (the host
 * may hold them through a trap) are roots. Unmarked ones are freed once marking is complete. */

static int exn_cmp(const void *a, const void *b) {
  uintptr_t x = (uintptr_t) * (core_exn *const *)a, y = (uintptr_t) * (core_exn *const *)b;
  return x < y ? -1 : x > y;
}

/* The table of collectable exception objects; false (every one a root) when memory runs out. */
static bool build_exns(coll *k) {
  size_t n = 0;
  for (core_exn *e = k->ctx->exn_objects; e != NULL; e = e->next)
    if (core_exn_collectable(e)) n++;
  if (n == 0) return true;
  k->exns = malloc(n * sizeof *k->exns);
  k->exn_marked = calloc(n, 1);
  k->exn_work = malloc(n * sizeof *k->exn_work);
  if (k->exns == NULL || k->exn_marked == NULL || k->exn_work == NULL) {
    free(k->exns);
    free(k->exn_marked);
    free(k->exn_work);
    k->exns = NULL;
    k->exn_marked = NULL;
    k->exn_work = NULL;
    return false;
  }
  for (core_exn *e = k->ctx->exn_objects; e != NULL; e = e->next)
    if (core_exn_collectable(e)) k->exns[k->nexn++] = e;
  qsort(k->exns, k->nexn, sizeof *k->exns, exn_cmp);
  return true;
}

static bool exn_collectable(const coll *k, const core_exn *e) {
  return k->exns != NULL && core_exn_collectable(e);
}

/* The index of `p` in the table, or nexn when it is none of the collectable objects. */
static size_t exn_index(const coll *k, const void *p) {
  size_t lo = 0, hi = k->nexn;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if ((uintptr_t)k->exns[mid] < (uintptr_t)p)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < k->nexn && k->exns[lo] == p ? lo : k->nexn;
}

void core_gcscan_foreign(void *ud, const void *ref) {
  coll *k = &tls_coll;
  if (k->ctx != ud || k->nexn == 0) return;
  size_t i = exn_index(k, ref);
  if (i == k->nexn || k->exn_marked[i]) return;
  k->exn_marked[i] = 1;
  k->exn_work[k->nexn_work++] = i;
}

static void drain_exns(coll *k, weft_gc_tracer *t) {
  while (k->nexn_work > 0) {
    const core_exn *e = k->exns[k->exn_work[--k->nexn_work]];
    scan_vals(k, t, e->vals, e->nvals);
  }
}

/* After marking: the unmarked collectable ones leave the store's list and are freed. */
static void free_unmarked_exns(coll *k) {
  if (k->nexn == 0) return;
  core_exn *prev = NULL, *next;
  for (core_exn *e = k->ctx->exn_objects; e != NULL; e = next) {
    next = e->next;
    size_t i = exn_index(k, e);
    if (i < k->nexn && !k->exn_marked[i] && e != k->ctx->pending_exn) {
      if (prev != NULL)
        prev->next = next;
      else
        k->ctx->exn_objects = next;
      core_exn_freed(k->ctx, e);
    } else {
      prev = e;
    }
  }
}

/* -- The provider ------------------------------------------------------------------------------ */

/* The innermost libcall record of this store when it is live: on the stack the collector runs on,
 * above the collector's frame `sp` and below the entry (a record a fault unwound past without
 * core_gcscan_lc_clear lies outside that range, or belongs to an older entry). */
static const core_gcscan_lc *lc_live(const coll *k, uintptr_t sp) {
  const core_gcscan_lc *lc = tls_lc;
  const core_frames_act *top = core_frames_top;
  if (lc == NULL || lc->ctx != k->ctx || top == NULL || top->ctx != k->ctx) return NULL;
  uintptr_t at = (uintptr_t)lc, lo = k->tlo, hi = top->entry_call_fp;
  if (sp < k->tlo || sp >= k->thi) { /* on a continuation's stack: the running one */
    const weft_contref *c = k->ctx->stack_chain.kind == WEFT_CHAIN_CONTINUATION
                                ? k->ctx->stack_chain.payload
                                : NULL;
    if (c == NULL || c->stack_top == NULL || c->stack_size > (uintptr_t)c->stack_top) return NULL;
    lo = (uintptr_t)c->stack_top - c->stack_size;
    hi = (uintptr_t)c->stack_top;
  }
  if (at <= sp || at < lo || at >= hi || lc->fp <= at || lc->fp >= hi) return NULL;
  return lc;
}

static void coll_free(coll *k) {
  free(k->exns);
  free(k->exn_marked);
  free(k->exn_work);
  free(k->fresh);
  free(k->nodes);
  free(k->hash);
  free(k->work);
  memset(k, 0, sizeof *k);
}

static void drain_exns(coll *k, weft_gc_tracer *t);

static void drain_work(coll *k, weft_gc_tracer *t) {
  while (k->nwork > 0 || k->nfresh > 0 || k->nexn_work > 0) {
    if (k->nexn_work > 0) drain_exns(k, t);
    else if (k->nfresh > 0) scan_payloads(k, t, k->fresh[--k->nfresh]);
    else scan_cont(k, t, k->nodes[k->work[--k->nwork]].c);
  }
}

static void check_suspended(void *ud, weft_contref *c) {
  coll *k = ud;
  if (!scan_suspended_conservative(k, NULL, c)) k->oom = true;
}

bool core_gcscan_can_collect(weft_store_ctx *ctx) {
  weft_store_t *s = core_rt_store_of_ctx(ctx);
  if (s == NULL || s->entry_depth > 1) return false;
  coll k;
  memset(&k, 0, sizeof k);
  k.ctx = ctx;
  k.thi = thread_stack(&k.tlo);
  if (k.thi == 0) return false;
  uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
  if (sp < k.tlo || sp >= k.thi) {
    /* on a continuation stack: the chain's head must be it */
    if (s->entry_depth == 0 || ctx->stack_chain.kind != WEFT_CHAIN_CONTINUATION) return false;
  }
  /* every region the fallbacks may need must be found */
  if (s->entry_depth == 1 && !scan_chain_conservative(&k, NULL, sp)) return false;
  const weft_contstacks_iface *cs = core_engine_iface(s->engine, WEFT_PLUGIN_CONTSTACKS);
  if (WEFT_HAS(cs, weft_contstacks_iface, for_each_suspended) && cs->for_each_suspended != NULL) {
    k.oom = false; /* reused as "a suspended chain's regions were not found" */
    cs->for_each_suspended(core_engine_state(s->engine, WEFT_PLUGIN_CONTSTACKS), ctx,
                           check_suspended, &k);
    if (k.oom) return false;
  }
  return true;
}

void core_gcscan_enumerate(weft_store_ctx *ctx, weft_gc_tracer *t, bool reclaim, bool reclaim_exn) {
  coll *k = &tls_coll;
  coll_free(k);
  weft_store_t *s = core_rt_store_of_ctx(ctx);
  if (s == NULL) return;
  k->ctx = ctx;
  k->s = s;
  k->thi = thread_stack(&k->tlo);
  k->cs = core_engine_iface(s->engine, WEFT_PLUGIN_CONTSTACKS);
  k->cs_state = core_engine_state(s->engine, WEFT_PLUGIN_CONTSTACKS);
  if (k->cs != NULL && !WEFT_HAS(k->cs, weft_contstacks_iface, for_each_suspended)) k->cs = NULL;
  k->bi = core_engine_iface(s->engine, WEFT_PLUGIN_BACKTRACE);
  k->bs = core_engine_state(s->engine, WEFT_PLUGIN_BACKTRACE);
  if (k->bi != NULL && (!WEFT_HAS(k->bi, weft_backtrace_iface, walk_suspended) || k->bi->walk == NULL))
    k->bi = NULL;
  k->reclaim = reclaim && build_nodes(k);
  if (!k->reclaim) { /* no node table: continuations found in slots are not traced as nodes */
    free(k->hash);
    k->hash = NULL;
    k->hcap = 0;
  }

  /* exception objects as nodes: the table first, so that every reference met from here on counts */
  if (!reclaim_exn || !build_exns(k)) {
    free(k->exns);
    k->exns = NULL;
    k->nexn = 0;
  }

  /* globals and tables of the store (imported ones are another store's or the host's) */
  for (size_t i = 0; i < s->globals.n; i++) {
    core_global *g = s->globals.items[i];
    if (g == NULL || g->vm == NULL || !WEFT_VT_IS_REF(g->type.type)) continue;
    if (weft_gc_cont_storage(g->mod, g->type.type))
      cont_typed(k, t, g->vm->value.cont.contref, g->vm->value.cont.revision);
    else
      t->mark(t, g->vm->value.ref);
  }
  for (size_t i = 0; i < s->tables.n; i++) {
    core_table *tb = s->tables.items[i];
    if (tb == NULL || tb->vm == NULL || tb->vm->base == NULL) continue;
    if (tb->vm->elem_size == sizeof(weft_val_raw)) { /* a table of continuations */
      const weft_val_raw *v = (const weft_val_raw *)(void *)tb->vm->base;
      for (uint64_t j = 0; j < tb->vm->size; j++) cont_typed(k, t, v[j].cont.contref, v[j].cont.revision);
    } else
      t->mark_slots(t, (const void *const *)(void *)tb->vm->base, (size_t)tb->vm->size,
                    tb->vm->elem_size);
  }
  /* exception objects: the pinned ones (and all without a node table) are roots, the others are
   * traced when found (the table was built first); the pending one and a pending trap's are roots */
  for (core_exn *e = ctx->exn_objects; e != NULL; e = e->next)
    if (!exn_collectable(k, e)) scan_vals(k, t, e->vals, e->nvals);
  t->mark(t, ctx->pending_exn);
  if (s->pending_trap != NULL) t->mark(t, s->pending_trap->exn);

  /* the running chain */
  uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
  const core_gcscan_lc *lc = lc_live(k, sp);
  if (s->entry_depth == 0) { /* instantiation or the host API: the C stack (Fallbacks) */
    if (sp >= k->tlo && sp < k->thi) scan_range(k, t, sp, k->thi);
  } else if (lc == NULL || !scan_chain_precise(k, t, lc)) {
    (void)scan_chain_conservative(k, t, sp);
  } else if (core_frames_top->entry_call_fp >= k->tlo && core_frames_top->entry_call_fp < k->thi) {
    /* the host's own frames above the entry (Fallbacks): values it holds on its stack across a
     * call into Wasm stay alive, as weft/runtime.h's lifetime rule has it until rooted handles */
    scan_range(k, t, core_frames_top->entry_call_fp, k->thi);
  }
  for (const core_gcscan_lc *l = lc; l != NULL; l = l->prev) {
    if (l->ctx != ctx) continue;
    /* an operand slot of a continuation field holds no value (the 16-byte one is elsewhere):
     * readable stack memory, possibly never written */
    if (l->io != NULL) GS_MARK_DEFINED(l->io, l->nio * sizeof *l->io);
    for (size_t i = 0; i < l->nio; i++) {
      t->mark(t, (const void *)(uintptr_t)l->io[i]);
      cont_seen(k, (const void *)(uintptr_t)l->io[i], 0, false);
    }
    t->mark(t, l->extra);
  }
  if (ctx->stack_chain.kind == WEFT_CHAIN_CONTINUATION) {
    const weft_contref *r = ctx->stack_chain.payload;
    for (uint32_t guard = 0; r != NULL && guard < 100000; guard++) {
      scan_payloads(k, t, r);
      if (r->parent_chain.kind != WEFT_CHAIN_CONTINUATION) break;
      r = r->parent_chain.payload;
    }
  }

  /* continuations: without the node table every suspended one is a root */
  if (!k->reclaim) {
    frames_ud w = {k, t, false};
    if (k->cs != NULL) k->cs->for_each_suspended(k->cs_state, ctx, visit_suspended_root, &w);
    return;
  }
  drain_work(k, t);
}

void core_gcscan_cont_root(weft_store_ctx *ctx, void *contref, uint64_t revision) {
  coll *k = &tls_coll;
  if (k->ctx != ctx) return;
  cont_seen(k, contref, revision, true); /* only a listed one: queued, mark_more scans it */
}

void core_gcscan_cont_field(void *ud, const void *slot) {
  coll *k = &tls_coll;
  if (k->ctx != ud || slot == NULL) return;
  weft_val_raw v;
  memcpy(&v, slot, sizeof v);
  cont_typed(k, NULL, v.cont.contref, v.cont.revision);
}

bool core_gcscan_mark_more(void *ud, weft_gc_tracer *t) {
  coll *k = &tls_coll;
  if (k->ctx != ud || (k->nwork == 0 && k->nfresh == 0 && k->nexn_work == 0)) return false;
  drain_work(k, t);
  return true;
}

/* The stacks of an unreachable suspended chain c -> ... -> la: the ones between c and la are
 * PARENT of a chain nothing can resume any more; they are marked SUSPENDED so the plugin takes
 * them back too. */
static void release_chain(coll *k, weft_contref *c) {
  weft_contref *chain[64];
  size_t n = 0;
  if (c->csi.state == WEFT_STACK_SUSPENDED) {
    weft_contref *la = c->last_ancestor;
    for (weft_contref *x = c; x != NULL && x != la && n < 64;) {
      if (x->parent_chain.kind != WEFT_CHAIN_CONTINUATION) break;
      x = x->parent_chain.payload;
      if (x != NULL && x->csi.state == WEFT_STACK_PARENT) chain[n++] = x;
    }
  }
  (void)k->cs->cont_release(k->cs_state, c);
  for (size_t i = 0; i < n; i++) {
    chain[i]->csi.state = WEFT_STACK_SUSPENDED;
    (void)k->cs->cont_release(k->cs_state, chain[i]);
  }
}

void core_gcscan_marked(void *ud) {
  coll *k = &tls_coll;
  if (k->ctx != ud) return;
  free_unmarked_exns(k);
  if (k->reclaim && k->cs != NULL && k->cs->cont_release != NULL)
    for (size_t i = 0; i < k->n; i++) {
      weft_contref *c = k->nodes[i].c;
      uint32_t st = c->csi.state;
      if (!k->nodes[i].marked && (st == WEFT_STACK_FRESH || st == WEFT_STACK_SUSPENDED))
        release_chain(k, c);
    }
  coll_free(k);
}
