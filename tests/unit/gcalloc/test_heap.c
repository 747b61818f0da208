/* tests/unit/gcalloc/test_heap.c -- the gc plugin's allocation regions in isolation (fake host,
 * fake roots): the test plays generated code, bumping the bound weft_gc_region array itself as
 * x64_isel_gc.c's fast path does, and checks is_object for objects of the open region, retiring at
 * a collection (counts, frees, survivors intact), refills reusing freed runs, stress mode leaving
 * the regions empty, the heap limit, heap_free unbinding, and a randomized run of three cell sizes
 * checked against a model after every collection. Depends on: weft-gc-obj, cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/plugin.h"
#include "weft/plugin/gc.h"

const weft_plugin_desc *weft_plugin_entry_gc(uint32_t host_abi);

/* -- Fake host ------------------------------------------------------------------------------- */

static uint64_t cfg_limit = 1ull << 30;
static bool cfg_stress = false;

static void *fake_alloc(void *h, size_t n) { (void)h; return malloc(n); }
static void *fake_realloc(void *h, void *p, size_t n) { (void)h; return realloc(p, n); }
static void fake_free(void *h, void *p) { (void)h; free(p); }
static void fake_log(void *h, weft_log_level l, const char *o, const char *fmt, va_list ap) {
  (void)h, (void)l, (void)o, (void)fmt, (void)ap;
}
static int fake_diag(void *h, weft_diag *d, int code, uint64_t off, const char *origin,
                     const char *fmt, va_list ap) {
  (void)h, (void)off, (void)origin;
  if (d != NULL) vsnprintf(d->message, sizeof d->message, fmt, ap);
  return code;
}
static int fake_cfg_bool(void *h, const weft_plugin_cfg *c, const char *k, bool *out) {
  (void)h, (void)c;
  if (strcmp(k, "stress") != 0) return WEFT_ERR_CONFIG;
  *out = cfg_stress;
  return WEFT_OK;
}
static int fake_cfg_int(void *h, const weft_plugin_cfg *c, const char *k, int64_t *out) {
  (void)h, (void)c;
  if (strcmp(k, "growth") != 0) return WEFT_ERR_CONFIG;
  *out = 300;
  return WEFT_OK;
}
static int fake_cfg_size(void *h, const weft_plugin_cfg *c, const char *k, uint64_t *out) {
  (void)h, (void)c;
  if (strcmp(k, "heap_limit") == 0) *out = cfg_limit;
  else if (strcmp(k, "min_heap") == 0) *out = 1ull << 20;
  else return WEFT_ERR_CONFIG;
  return WEFT_OK;
}

static weft_host_api fake_host = {
    WEFT_ABI_INIT(weft_host_api),
    .alloc = fake_alloc,
    .realloc = fake_realloc,
    .free = fake_free,
    .log = fake_log,
    .diag = fake_diag,
    .cfg_bool = fake_cfg_bool,
    .cfg_int = fake_cfg_int,
    .cfg_size = fake_cfg_size,
};
static const weft_plugin_cfg *const fake_cfg = (const weft_plugin_cfg *)(uintptr_t)0x10;

/* -- Module: type 0 = (struct (field i32) (field (ref null 0))), 32-byte cells ---------------- */

static const weft_fieldtype fields[] = {{WEFT_VT_I32, true}, {WEFT_VT_MAKE_REF(1, 0), true}};
static weft_type types[1];
static weft_module mod;

/* -- Fake roots: the objects in roots[0..nroots) ------------------------------------------- */

#define MAXROOTS 64
static void *roots[MAXROOTS];
static size_t nroots;

static void enumerate(void *ud, weft_gc_tracer *t) {
  (void)ud;
  for (size_t i = 0; i < nroots; i++) t->mark(t, roots[i]);
}

/* -- Fixture --------------------------------------------------------------------------------- */

typedef struct fx {
  const weft_plugin_desc *desc;
  const weft_gc_iface *gi;
  void *state;
  weft_gc_heap *heap;
  const weft_gc_type *ty;
  weft_gc_region rg[WEFT_GC_NREGIONS]; /* plays weft_store_ctx.gc_regions */
} fx;

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  assert_non_null(f);
  memset(types, 0, sizeof types);
  types[0].comp = WEFT_COMP_STRUCT;
  types[0].u.strct.nfields = 2;
  types[0].u.strct.fields = fields;
  memset(&mod, 0, sizeof mod);
  mod.ntypes = 1;
  mod.types = types;
  f->desc = weft_plugin_entry_gc(WEFT_ABI_VERSION);
  assert_non_null(f->desc);
  f->gi = f->desc->iface;
  assert_true(WEFT_HAS(f->gi, weft_gc_iface, bind_regions));
  weft_diag d;
  memset(&d, 0, sizeof d);
  assert_int_equal(f->desc->init(&fake_host, fake_cfg, &f->state, &d), WEFT_OK);
  weft_gc_roots r = {.ud = NULL, .enumerate = enumerate};
  assert_int_equal(f->gi->heap_new(f->state, &r, &f->heap, &d), WEFT_OK);
  f->ty = f->gi->type_layout(f->heap, &mod, 0, &d);
  assert_non_null(f->ty);
  assert_int_equal(f->ty->size, 32);
  assert_int_equal(weft_gc_struct_size_in(&mod, &types[0]), 32);
  f->gi->bind_regions(f->heap, f->rg, WEFT_GC_NREGIONS);
  nroots = 0;
  *state = f;
  return 0;
}

static int setup_stress(void **state) {
  cfg_stress = true;
  int r = setup(state);
  cfg_stress = false;
  return r;
}

static int teardown(void **state) {
  fx *f = *state;
  f->gi->heap_free(f->heap);
  for (uint32_t k = 0; k < WEFT_GC_NREGIONS; k++) { /* heap_free unbinds: the regions are empty */
    assert_int_equal(f->rg[k].ptr, 0);
    assert_int_equal(f->rg[k].end, 0);
  }
  f->desc->fini(f->state);
  free(f);
  cfg_limit = 1ull << 30;
  return 0;
}

/* What the fast path of struct.new does: bump region 1 (32-byte cells), write the header and the
 * fields. NULL when the region is used up (generated code would call the libcall). */
static uint8_t *bump(fx *f, int32_t v, void *next) {
  weft_gc_region *r = &f->rg[1];
  if (r->ptr + 32 > r->end) return NULL;
  uint8_t *o = (uint8_t *)r->ptr;
  r->ptr += 32;
  weft_gc_header h = {f->ty, 0, 0};
  memcpy(o, &h, sizeof h);
  memcpy(o + 16, &v, 4);
  memcpy(o + 24, &next, 8);
  return o;
}

static int32_t field_v(const uint8_t *o) {
  int32_t v;
  memcpy(&v, o + 16, 4);
  return v;
}

static uint64_t stat_live(fx *f) {
  weft_gc_stats s = {.struct_size = sizeof s};
  f->gi->stats(f->heap, &s);
  return s.live_objects;
}

static uint64_t stat_freed(fx *f) {
  weft_gc_stats s = {.struct_size = sizeof s};
  f->gi->stats(f->heap, &s);
  return s.freed_objects;
}

/* -- Tests ----------------------------------------------------------------------------------- */

/* The libcall path opens the region; objects bumped into it are heap objects (is_object) before any
 * collection, cells past ptr are not, and stats count them. */
static void test_open_region_objects(void **state) {
  fx *f = *state;
  assert_int_equal(f->rg[1].ptr, 0); /* nothing opened yet: generated code takes the libcall */
  uint8_t *first = f->gi->alloc_struct(f->heap, f->ty);
  assert_non_null(first);
  assert_true(f->rg[1].ptr != 0 && f->rg[1].end > f->rg[1].ptr);
  assert_int_equal(f->rg[1].ptr, (uintptr_t)first + 32);
  uint8_t *objs[100];
  for (int i = 0; i < 100; i++) {
    objs[i] = bump(f, i, i > 0 ? objs[i - 1] : NULL);
    assert_non_null(objs[i]);
    assert_true(f->gi->is_object(f->heap, objs[i]));
  }
  assert_false(f->gi->is_object(f->heap, (void *)f->rg[1].ptr));        /* the next free cell */
  assert_false(f->gi->is_object(f->heap, objs[5] + 16));                 /* inside an object */
  assert_int_equal(stat_live(f), 101);
}

/* A collection retires the region: unreachable bumped objects are freed, the rooted chain stays
 * intact, the region is closed, and the next allocations reuse the freed cells. */
static void test_collect_retires_and_reuses(void **state) {
  fx *f = *state;
  uint8_t *first = f->gi->alloc_struct(f->heap, f->ty);
  assert_non_null(first);
  uint8_t *keep = NULL, *garbage[200];
  for (int i = 0; i < 10; i++) keep = bump(f, 1000 + i, keep); /* a chain of 10 */
  for (int i = 0; i < 200; i++) garbage[i] = bump(f, -1, NULL);
  roots[0] = keep;
  nroots = 1;
  uint64_t freed0 = stat_freed(f);
  f->gi->collect(f->heap);
  assert_int_equal(f->rg[1].ptr, 0);
  assert_int_equal(f->rg[1].end, 0);
  assert_int_equal(stat_freed(f) - freed0, 201); /* 200 garbage + `first` */
  assert_int_equal(stat_live(f), 10);
  int32_t want = 1009;
  for (uint8_t *o = keep; o != NULL; want--) {
    assert_true(f->gi->is_object(f->heap, o));
    assert_int_equal(field_v(o), want);
    memcpy(&o, o + 24, 8);
  }
  assert_int_equal(want, 999);
  for (int i = 0; i < 200; i++) assert_false(f->gi->is_object(f->heap, garbage[i]));
  /* the next allocation takes the first free run, the cell `first` had (a run of one: the chain
   * follows it), so the fast path finds the region used up; the next call opens the run the
   * garbage left, and bumping continues through it */
  uint8_t *again = f->gi->alloc_struct(f->heap, f->ty);
  assert_ptr_equal(again, first);
  assert_null(bump(f, 7, NULL));
  uint8_t *g0 = f->gi->alloc_struct(f->heap, f->ty);
  assert_ptr_equal(g0, garbage[0]);
  uint8_t *b = bump(f, 7, NULL);
  assert_ptr_equal(b, garbage[1]);
  assert_true(f->gi->is_object(f->heap, b));
  assert_false(f->gi->is_object(f->heap, garbage[2]));
  /* the kept chain was not overwritten by the reuse */
  assert_int_equal(field_v(keep), 1009);
}

/* In stress mode the heap declines the regions: they stay empty, so every allocation is a call,
 * and each call collects. */
static void test_stress_regions_empty(void **state) {
  fx *f = *state;
  weft_gc_stats s = {.struct_size = sizeof s};
  for (int i = 0; i < 50; i++) {
    assert_non_null(f->gi->alloc_struct(f->heap, f->ty));
    assert_int_equal(f->rg[1].ptr, 0);
    assert_int_equal(f->rg[1].end, 0);
  }
  f->gi->stats(f->heap, &s);
  assert_true(s.collections >= 50);
  assert_true(s.live_objects <= 1);
}

/* A region never takes the heap past its limit: with a 64K limit and everything rooted, bumping
 * and refilling stop with a NULL allocation before live bytes pass the limit. */
static void test_limit(void **state) {
  fx *f = *state;
  f->gi->heap_free(f->heap);
  f->desc->fini(f->state);
  cfg_limit = 64 * 1024;
  weft_diag d;
  memset(&d, 0, sizeof d);
  assert_int_equal(f->desc->init(&fake_host, fake_cfg, &f->state, &d), WEFT_OK);
  memset(f->rg, 0, sizeof f->rg);
  weft_gc_roots r = {.ud = NULL, .enumerate = enumerate};
  assert_int_equal(f->gi->heap_new(f->state, &r, &f->heap, &d), WEFT_OK);
  f->ty = f->gi->type_layout(f->heap, &mod, 0, &d);
  f->gi->bind_regions(f->heap, f->rg, WEFT_GC_NREGIONS);
  uint8_t *head = NULL;
  uint32_t n = 0;
  for (;;) {
    uint8_t *o = bump(f, (int32_t)n, head);
    if (o == NULL) {
      roots[0] = head; /* keep the whole chain through the libcall's collection */
      nroots = 1;
      o = f->gi->alloc_struct(f->heap, f->ty);
      if (o == NULL) break;
      memcpy(o + 24, &head, 8);
    }
    head = o;
    n++;
    assert_true(n < 10000);
  }
  weft_gc_stats s = {.struct_size = sizeof s};
  f->gi->stats(f->heap, &s);
  assert_true(s.live_bytes <= 64 * 1024);
  assert_true(n >= 64 * 1024 / 32 - 64); /* nearly every cell the limit allows was used */
}

/* -- Randomized: regions, retiring and sweeping against a model -------------------------------- */

/* Three struct types of different cell sizes: 0 (32 bytes, set up above), 1 = (i32, ref, i64 x4)
 * (64-byte cells), 2 = (i32, ref, i64 x18) (176-byte cells). Field 0 holds an id, field 1 the next
 * object of a rooted list. */
static weft_fieldtype wide_fields[20];
static weft_type rtypes[3];
static weft_module rmod;

typedef struct model_obj {
  uint8_t *o;
  int32_t id;
  bool rooted_list; /* on one of the rooted lists */
} model_obj;

static uint32_t rng = 12345;
static uint32_t rnd(void) {
  rng = rng * 1103515245u + 12345u;
  return rng >> 8;
}

/* Allocate one object of type t (0..2): bump its class's region, else the libcall. */
static uint8_t *rnd_alloc(fx *f, const weft_gc_type *const *tys, uint32_t t, int32_t id,
                          void *next) {
  uint32_t cell = (tys[t]->size + 15u) & ~15u;
  weft_gc_region *r = &f->rg[cell / 16 - 1];
  uint8_t *o;
  if (r->ptr + cell <= r->end) {
    o = (uint8_t *)r->ptr;
    r->ptr += cell;
    weft_gc_header h = {tys[t], 0, 0};
    memcpy(o, &h, sizeof h);
    memset(o + 16, 0xAB, tys[t]->size - 16); /* dirty: the fields are written below */
  } else {
    o = f->gi->alloc_struct(f->heap, tys[t]);
    assert_non_null(o);
  }
  memcpy(o + tys[t]->field_offs[0], &id, 4);
  memcpy(o + tys[t]->field_offs[1], &next, 8);
  return o;
}

static void test_random_against_model(void **state) {
  fx *f = *state;
  wide_fields[0] = (weft_fieldtype){WEFT_VT_I32, true};
  wide_fields[1] = (weft_fieldtype){WEFT_VT_MAKE_REF(1, 0), true};
  for (int i = 2; i < 20; i++) wide_fields[i] = (weft_fieldtype){WEFT_VT_I64, true};
  memset(rtypes, 0, sizeof rtypes);
  rtypes[0] = types[0];
  rtypes[1].comp = rtypes[2].comp = WEFT_COMP_STRUCT;
  rtypes[1].u.strct.fields = rtypes[2].u.strct.fields = wide_fields;
  rtypes[1].u.strct.nfields = 6;
  rtypes[2].u.strct.nfields = 20;
  memset(&rmod, 0, sizeof rmod);
  rmod.ntypes = 3;
  rmod.types = rtypes;
  weft_diag d;
  memset(&d, 0, sizeof d);
  const weft_gc_type *tys[3];
  for (uint32_t t = 0; t < 3; t++) {
    tys[t] = f->gi->type_layout(f->heap, &rmod, t, &d);
    assert_non_null(tys[t]);
  }
  assert_int_equal(tys[1]->size, 64);
  assert_int_equal(tys[2]->size, 176);
  enum { NOBJ = 6000, NLISTS = 8 };
  model_obj *all = calloc(NOBJ, sizeof *all);
  assert_non_null(all);
  uint8_t *heads[NLISTS] = {0};
  nroots = NLISTS; /* roots[] follows heads[] at every step: a collection may run inside a call */
  for (int round = 0; round < 12; round++) {
    size_t n = 0;
    weft_gc_stats s0 = {.struct_size = sizeof s0};
    f->gi->stats(f->heap, &s0);
    for (int i = 0; i < NOBJ; i++) {
      uint32_t t = rnd() % 3, list = rnd() % (2 * NLISTS);
      int32_t id = round * NOBJ + i;
      if (list < NLISTS) { /* onto rooted list `list` */
        heads[list] = rnd_alloc(f, tys, t, id, heads[list]);
        roots[list] = heads[list];
        all[n++] = (model_obj){heads[list], id, true};
      } else {
        all[n++] = (model_obj){rnd_alloc(f, tys, t, id, NULL), id, false};
      }
      if (rnd() % 500 == 0) { /* a list dropped */
        uint32_t l = rnd() % NLISTS;
        heads[l] = roots[l] = NULL;
      }
    }
    weft_gc_stats s1 = {.struct_size = sizeof s1};
    f->gi->stats(f->heap, &s1);
    /* without a collection in the round, everything allocated is an object (open regions too) */
    for (size_t i = 0; s1.collections == s0.collections && i < n; i++)
      assert_true(f->gi->is_object(f->heap, all[i].o));
    f->gi->collect(f->heap);
    for (uint32_t k = 0; k < WEFT_GC_NREGIONS; k++) assert_int_equal(f->rg[k].end, 0);
    /* exactly the objects on the rooted lists survive, with their ids */
    uint64_t reachable = 0;
    for (int l = 0; l < NLISTS; l++) {
      int32_t prev = INT32_MAX;
      for (uint8_t *o = heads[l]; o != NULL; reachable++) {
        assert_true(f->gi->is_object(f->heap, o));
        const weft_gc_type *ty = ((const weft_gc_header *)(const void *)o)->type;
        int32_t id;
        memcpy(&id, o + ty->field_offs[0], 4);
        assert_true(id < prev); /* a list runs from the newest to the oldest */
        prev = id;
        memcpy(&o, o + ty->field_offs[1], 8);
      }
    }
    assert_int_equal(stat_live(f), reachable);
    for (size_t i = 0; i < n; i++)
      if (!all[i].rooted_list) assert_false(f->gi->is_object(f->heap, all[i].o));
  }
  free(all);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_open_region_objects, setup, teardown),
      cmocka_unit_test_setup_teardown(test_collect_retires_and_reuses, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stress_regions_empty, setup_stress, teardown),
      cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_random_against_model, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
