/* tests/unit/gc/test_gc.c -- the gc plugin in isolation: a fake host table (config, allocation with
 * scripted failures, a fake frame walker), a hand-built module with struct and array types, and a
 * fake root provider. Covers layouts, marking through struct/array graphs and cycles, roots from
 * stack maps of walked frames (running and suspended), the heap limit reported as a NULL allocation,
 * mark-stack exhaustion, stress mode, large objects and the ABI/config checks.
 * Depends on: weft-gc-obj (WEFT_PLUGIN_STATIC), cmocka.
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

static uint64_t cfg_limit = 1ull << 30, cfg_min = 4ull << 20;
static int64_t cfg_growth = 200;
static bool cfg_stress = false;
static int allocs_left = -1;  /* -1: never fail */
static bool realloc_fails = false;
static long live_host_allocs = 0;

static void *fake_alloc(void *h, size_t n) {
  (void)h;
  if (allocs_left == 0) return NULL;
  if (allocs_left > 0) allocs_left--;
  void *p = malloc(n);
  if (p != NULL) live_host_allocs++;
  return p;
}
static void *fake_realloc(void *h, void *p, size_t n) {
  (void)h;
  if (realloc_fails) return NULL;
  void *q = realloc(p, n);
  if (q != NULL && p == NULL) live_host_allocs++;
  return q;
}
static void fake_free(void *h, void *p) {
  (void)h;
  if (p != NULL) live_host_allocs--;
  free(p);
}
static void fake_log(void *h, weft_log_level l, const char *o, const char *fmt, va_list ap) {
  (void)h, (void)l, (void)o, (void)fmt, (void)ap;
}
static int fake_diag(void *h, weft_diag *d, int code, uint64_t off, const char *origin,
                     const char *fmt, va_list ap) {
  (void)h, (void)off, (void)origin;
  if (d != NULL) {
    d->code = code;
    vsnprintf(d->message, sizeof d->message, fmt, ap);
  }
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
  *out = cfg_growth;
  return WEFT_OK;
}
static int fake_cfg_size(void *h, const weft_plugin_cfg *c, const char *k, uint64_t *out) {
  (void)h, (void)c;
  if (strcmp(k, "heap_limit") == 0) *out = cfg_limit;
  else if (strcmp(k, "min_heap") == 0) *out = cfg_min;
  else return WEFT_ERR_CONFIG;
  return WEFT_OK;
}

/* The fake frame walker: frames of the "running" activation or of one suspended continuation. */
#define MAXF 8
static weft_frame run_frames[MAXF], susp_frames[MAXF];
static uint32_t nrun, nsusp;
static const weft_contref *susp_cont;
static int walks;

static int fake_walk(void *h, const weft_activation *act, const weft_contref *suspended,
                     const weft_frame_visitor *v) {
  (void)h, (void)act;
  walks++;
  const weft_frame *fr = suspended == NULL ? run_frames : susp_frames;
  uint32_t n = suspended == NULL ? nrun : (suspended == susp_cont ? nsusp : 0);
  for (uint32_t i = 0; i < n; i++)
    if (!v->visit(v->ud, &fr[i])) break;
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
    .walk_frames = fake_walk,
};

static const weft_plugin_cfg *const fake_cfg = (const weft_plugin_cfg *)(uintptr_t)0x10;

/* -- A module with GC types ------------------------------------------------------------------ */

/* 0: (struct (field i8) (field i32) (field (ref null 0)) (field i16) (field (ref null 1))
 *            (field f64))
 * 1: (array (mut (ref null any)))
 * 2: (array (mut i32))
 * 3: (func)
 * 4: (struct) */
static const weft_fieldtype node_fields[] = {
    {WEFT_VT_I8, true},
    {WEFT_VT_I32, true},
    {WEFT_VT_MAKE_REF(1, 0), true},
    {WEFT_VT_I16, true},
    {WEFT_VT_MAKE_REF(1, 1), true},
    {WEFT_VT_F64, true},
};
static weft_type fake_types[5];
static weft_module fake_mod;

static void build_module(void) {
  memset(fake_types, 0, sizeof fake_types);
  fake_types[0].comp = WEFT_COMP_STRUCT;
  fake_types[0].u.strct.nfields = 6;
  fake_types[0].u.strct.fields = node_fields;
  fake_types[1].comp = WEFT_COMP_ARRAY;
  fake_types[1].u.array = (weft_fieldtype){WEFT_VT_MAKE_REF(1, WEFT_HT_ABS(WEFT_AHT_ANY)), true};
  fake_types[2].comp = WEFT_COMP_ARRAY;
  fake_types[2].u.array = (weft_fieldtype){WEFT_VT_I32, true};
  fake_types[3].comp = WEFT_COMP_FUNC;
  fake_types[4].comp = WEFT_COMP_STRUCT;
  memset(&fake_mod, 0, sizeof fake_mod);
  fake_mod.ntypes = 5;
  fake_mod.types = fake_types;
}

/* -- Fake roots ------------------------------------------------------------------------------ */

#define MAXROOTS 64
static void *roots[MAXROOTS];
static uint32_t nroots;
static bool scan_frames_too;
static int32_t map_offs[4];
static uint32_t map_n;
static uintptr_t map_pc;

static int last_scan_rc;

static void enumerate(void *ud, weft_gc_tracer *t) {
  (void)ud;
  t->mark_slots(t, (const void *const *)roots, nroots, sizeof(void *));
  if (scan_frames_too) {
    last_scan_rc = t->scan_frames(t, NULL, NULL);
    if (susp_cont != NULL && last_scan_rc == WEFT_OK)
      last_scan_rc = t->scan_frames(t, NULL, susp_cont);
  }
}

static bool stack_map(void *ud, uintptr_t pc, weft_gc_stack_map *out) {
  (void)ud;
  if (pc != map_pc) return false;
  out->nslots = map_n;
  out->fp_offs = map_offs;
  return true;
}

static const weft_gc_roots fake_roots = {.ud = NULL, .enumerate = enumerate,
                                         .stack_map = stack_map};

/* -- Fixture --------------------------------------------------------------------------------- */

typedef struct fixture {
  const weft_plugin_desc *desc;
  const weft_gc_iface *gi;
  void *st;
  weft_gc_heap *h;
  const weft_gc_type *node, *refs, *ints, *empty;
} fixture;

static int open_heap(fixture *f) {
  weft_diag d;
  memset(&d, 0, sizeof d);
  f->desc = weft_plugin_entry_gc(WEFT_ABI_VERSION);
  if (f->desc == NULL) return -1;
  f->gi = f->desc->iface;
  if (f->desc->init(&fake_host, fake_cfg, &f->st, &d) != WEFT_OK) return -1;
  if (f->gi->heap_new(f->st, &fake_roots, &f->h, &d) != WEFT_OK) return -1;
  f->node = f->gi->type_layout(f->h, &fake_mod, 0, &d);
  f->refs = f->gi->type_layout(f->h, &fake_mod, 1, &d);
  f->ints = f->gi->type_layout(f->h, &fake_mod, 2, &d);
  f->empty = f->gi->type_layout(f->h, &fake_mod, 4, &d);
  return f->node && f->refs && f->ints && f->empty ? 0 : -1;
}

static void reset_globals(void) {
  cfg_limit = 1ull << 30;
  cfg_min = 4ull << 20;
  cfg_growth = 200;
  cfg_stress = false;
  allocs_left = -1;
  realloc_fails = false;
  nroots = 0;
  scan_frames_too = false;
  nrun = nsusp = 0;
  susp_cont = NULL;
  map_n = 0;
  map_pc = 0;
  walks = 0;
  build_module();
}

static int setup(void **state) {
  static fixture f;
  memset(&f, 0, sizeof f);
  reset_globals();
  live_host_allocs = 0;
  if (open_heap(&f) != 0) return -1;
  *state = &f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  f->gi->heap_free(f->h);
  f->desc->fini(f->st);
  assert_int_equal(live_host_allocs, 0); /* the heap returned everything */
  return 0;
}

static weft_gc_stats stats_of(fixture *f) {
  weft_gc_stats s;
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  f->gi->stats(f->h, &s);
  return s;
}

/* field i of a node object */
static void *node_ref(fixture *f, void *o, uint32_t field) {
  void *r;
  memcpy(&r, (uint8_t *)o + f->node->field_offs[field], sizeof r);
  return r;
}
static void set_node_ref(fixture *f, void *o, uint32_t field, void *r) {
  memcpy((uint8_t *)o + f->node->field_offs[field], &r, sizeof r);
}
static void set_elem(fixture *f, void *arr, uint32_t i, void *r) {
  memcpy((uint8_t *)arr + f->refs->size + (size_t)i * 8, &r, sizeof r);
}

/* -- Tests: plugin, config, layouts ---------------------------------------------------------- */

static void test_entry_abi(void **state) {
  (void)state;
  assert_null(weft_plugin_entry_gc(WEFT_ABI_MAKE(WEFT_ABI_MAJOR + 1, 0)));
  const weft_plugin_desc *d = weft_plugin_entry_gc(WEFT_ABI_VERSION);
  assert_non_null(d);
  assert_int_equal(d->kind, WEFT_PLUGIN_GC);
  assert_string_equal(d->name, "gc");
  const weft_gc_iface *gi = d->iface;
  assert_int_equal(gi->struct_size, sizeof(weft_gc_iface));
  assert_non_null(gi->alloc_struct);
}

static void test_init_errors(void **state) {
  (void)state;
  reset_globals();
  const weft_plugin_desc *desc = weft_plugin_entry_gc(WEFT_ABI_VERSION);
  weft_diag d;
  void *st = NULL;
  memset(&d, 0, sizeof d);
  cfg_growth = 50;
  assert_int_equal(desc->init(&fake_host, fake_cfg, &st, &d), WEFT_ERR_CONFIG);
  assert_non_null(strstr(d.message, "gc.growth = 50"));
  cfg_growth = 200;
  cfg_limit = 100;
  assert_int_equal(desc->init(&fake_host, fake_cfg, &st, &d), WEFT_ERR_CONFIG);
  cfg_limit = 1ull << 30;
  allocs_left = 0;
  assert_int_equal(desc->init(&fake_host, fake_cfg, &st, &d), WEFT_ERR_NOMEM);
  allocs_left = 1; /* state yes, heap no */
  assert_int_equal(desc->init(&fake_host, fake_cfg, &st, &d), WEFT_OK);
  weft_gc_heap *h = NULL;
  const weft_gc_iface *gi = desc->iface;
  assert_int_equal(gi->heap_new(st, &fake_roots, &h, &d), WEFT_ERR_NOMEM);
  allocs_left = -1;
  desc->fini(st);
}

static void test_layouts(void **state) {
  fixture *f = *state;
  weft_diag d;
  memset(&d, 0, sizeof d);
  const weft_gc_type *n = f->node;
  assert_int_equal(n->kind, WEFT_GC_STRUCT);
  assert_int_equal(n->nfields, 6);
  /* i8 @16, i32 @20, ref @24, i16 @32, ref @40, f64 @48, size 56 */
  assert_int_equal(n->field_offs[0], 16);
  assert_int_equal(n->field_offs[1], 20);
  assert_int_equal(n->field_offs[2], 24);
  assert_int_equal(n->field_offs[3], 32);
  assert_int_equal(n->field_offs[4], 40);
  assert_int_equal(n->field_offs[5], 48);
  assert_int_equal(n->size, 56);
  assert_int_equal(n->nrefs, 2);
  assert_int_equal(n->ref_offs[0], 24);
  assert_int_equal(n->ref_offs[1], 40);
  assert_int_equal(f->refs->kind, WEFT_GC_ARRAY);
  assert_int_equal(f->refs->elem_size, 8);
  assert_int_equal(f->refs->elem_ref, 1);
  assert_int_equal(f->ints->elem_size, 4);
  assert_int_equal(f->ints->elem_ref, 0);
  assert_int_equal(f->empty->size, WEFT_GC_HEADER_SIZE);
  /* the same layout again; a func type and an index out of range are refused */
  assert_ptr_equal(f->gi->type_layout(f->h, &fake_mod, 0, &d), n);
  assert_null(f->gi->type_layout(f->h, &fake_mod, 3, &d));
  assert_int_equal(d.code, WEFT_ERR_MISUSE);
  assert_null(f->gi->type_layout(f->h, &fake_mod, 99, &d));
}

/* -- Tests: allocation and marking ----------------------------------------------------------- */

static void test_alloc_is_object(void **state) {
  fixture *f = *state;
  uint8_t *a = f->gi->alloc_struct(f->h, f->node);
  uint8_t *b = f->gi->alloc_array(f->h, f->ints, 3);
  assert_non_null(a);
  assert_non_null(b);
  assert_true(f->gi->is_object(f->h, a));
  assert_true(f->gi->is_object(f->h, b));
  assert_false(f->gi->is_object(f->h, a + 16));
  assert_false(f->gi->is_object(f->h, NULL));
  assert_false(f->gi->is_object(f->h, (void *)(uintptr_t)((42u << 1) | WEFT_GC_I31_TAG)));
  assert_false(f->gi->is_object(f->h, &f));
  assert_ptr_equal(((weft_gc_header *)a)->type, f->node);
  assert_int_equal(((weft_gc_header *)b)->length, 3);
  for (uint32_t i = WEFT_GC_HEADER_SIZE; i < f->node->size; i++) assert_int_equal(a[i], 0);
  /* the wrong kind of layout is refused */
  assert_null(f->gi->alloc_struct(f->h, f->ints));
  assert_null(f->gi->alloc_array(f->h, f->node, 1));
  uint8_t *x = f->gi->alloc_extern(f->h, (void *)(uintptr_t)0x1234);
  assert_true(f->gi->is_object(f->h, x));
  void *inner;
  memcpy(&inner, x + WEFT_GC_HEADER_SIZE, sizeof inner);
  assert_ptr_equal(inner, (void *)(uintptr_t)0x1234);
  weft_gc_stats s = stats_of(f);
  assert_int_equal(s.live_objects, 3);
  assert_int_equal(s.collections, 0);
}

/* A list of 1000 nodes (field 2 = next); every 10th node points to an array of refs to 3 fresh
 * nodes (field 4). Only the head is a root. */
static void test_mark_graph(void **state) {
  fixture *f = *state;
  void *head = NULL;
  void *nodes[1000];
  for (int i = 999; i >= 0; i--) {
    void *n = f->gi->alloc_struct(f->h, f->node);
    assert_non_null(n);
    set_node_ref(f, n, 2, head);
    if (i % 10 == 0) {
      void *arr = f->gi->alloc_array(f->h, f->refs, 3);
      assert_non_null(arr);
      for (uint32_t k = 0; k < 3; k++) set_elem(f, arr, k, f->gi->alloc_struct(f->h, f->node));
      set_node_ref(f, n, 4, arr);
    }
    head = n;
    nodes[i] = n;
  }
  for (int i = 0; i < 500; i++) assert_non_null(f->gi->alloc_struct(f->h, f->node)); /* garbage */
  roots[0] = head;
  nroots = 1;
  f->gi->collect(f->h);
  weft_gc_stats s = stats_of(f);
  assert_int_equal(s.collections, 1);
  assert_int_equal(s.live_objects, 1000 + 100 + 300);
  assert_int_equal(s.freed_objects, 500);
  for (int i = 0; i < 1000; i++) assert_true(f->gi->is_object(f->h, nodes[i]));
  /* cut the list after node 499: half the list and its arrays go */
  set_node_ref(f, nodes[499], 2, NULL);
  f->gi->collect(f->h);
  s = stats_of(f);
  assert_int_equal(s.live_objects, 500 + 50 + 150);
  assert_true(f->gi->is_object(f->h, nodes[499]));
  assert_false(f->gi->is_object(f->h, nodes[500]));
  /* survivors are intact */
  assert_ptr_equal(node_ref(f, nodes[10], 2), nodes[11]);
  /* no roots: everything goes, and the blocks go back to the host */
  nroots = 0;
  f->gi->collect(f->h);
  s = stats_of(f);
  assert_int_equal(s.live_objects, 0);
  assert_int_equal(s.live_bytes, 0);
}

static void test_cycle_and_reuse(void **state) {
  fixture *f = *state;
  void *a = f->gi->alloc_struct(f->h, f->node);
  void *b = f->gi->alloc_struct(f->h, f->node);
  set_node_ref(f, a, 2, b);
  set_node_ref(f, b, 2, a);
  roots[0] = a;
  nroots = 1;
  f->gi->collect(f->h);
  assert_true(f->gi->is_object(f->h, b));
  nroots = 0;
  f->gi->collect(f->h);
  assert_false(f->gi->is_object(f->h, a));
  assert_false(f->gi->is_object(f->h, b));
  assert_int_equal(stats_of(f).live_objects, 0);
  /* freed cells are handed out again, zeroed */
  void *c = f->gi->alloc_struct(f->h, f->node);
  assert_non_null(c);
  assert_null(node_ref(f, c, 2));
}

static void test_large_objects(void **state) {
  fixture *f = *state;
  uint32_t *big = f->gi->alloc_array(f->h, f->ints, 100000);
  void **bigrefs = f->gi->alloc_array(f->h, f->refs, 1000);
  assert_non_null(big);
  assert_non_null(bigrefs);
  void *leaf = f->gi->alloc_struct(f->h, f->node);
  set_elem(f, bigrefs, 999, leaf);
  big[4 + 99999] = 7; /* last element: header is 16 bytes = 4 words */
  roots[0] = big;
  roots[1] = bigrefs;
  nroots = 2;
  f->gi->collect(f->h);
  assert_true(f->gi->is_object(f->h, leaf));
  assert_int_equal(big[4 + 99999], 7);
  roots[1] = NULL;
  f->gi->collect(f->h);
  assert_false(f->gi->is_object(f->h, bigrefs));
  assert_false(f->gi->is_object(f->h, leaf));
  assert_true(f->gi->is_object(f->h, big));
}

/* Marking a 20,000-long chain with a mark stack that cannot grow: the rescan still finds it all. */
static void test_mark_stack_exhausted(void **state) {
  fixture *f = *state;
  void *head = NULL;
  for (int i = 0; i < 20000; i++) {
    void *arr = f->gi->alloc_array(f->h, f->refs, 1);
    assert_non_null(arr);
    set_elem(f, arr, 0, head);
    head = arr;
  }
  roots[0] = head;
  nroots = 1;
  realloc_fails = true;
  f->gi->collect(f->h);
  realloc_fails = false;
  assert_int_equal(stats_of(f).live_objects, 20000);
  assert_int_equal(stats_of(f).freed_objects, 0);
}

/* -- Tests: frame roots ---------------------------------------------------------------------- */

static void test_frame_roots(void **state) {
  fixture *f = *state;
  /* two fake frames on a buffer; the map of pc 0x1000 names fp-8 and fp-24 */
  uintptr_t stack1[8], stack2[8];
  void *kept1 = f->gi->alloc_struct(f->h, f->node);
  void *kept2 = f->gi->alloc_struct(f->h, f->node);
  void *unnamed = f->gi->alloc_struct(f->h, f->node);
  void *other_pc = f->gi->alloc_struct(f->h, f->node);
  void *in_susp = f->gi->alloc_array(f->h, f->ints, 4);
  void *child = f->gi->alloc_struct(f->h, f->node);
  set_node_ref(f, kept2, 2, child);
  uintptr_t fp1 = (uintptr_t)&stack1[4], fp2 = (uintptr_t)&stack2[4];
  stack1[3] = (uintptr_t)kept1;     /* fp - 8 */
  stack1[1] = (uintptr_t)kept2;     /* fp - 24 */
  stack1[2] = (uintptr_t)unnamed;   /* fp - 16: not in the map */
  stack2[3] = (uintptr_t)other_pc;  /* frame whose pc has no map */
  map_pc = 0x1000;
  map_offs[0] = -8;
  map_offs[1] = -24;
  map_n = 2;
  run_frames[0] = (weft_frame){.pc = 0x1000, .fp = fp1, .flags = WEFT_FRAME_WASM};
  run_frames[1] = (weft_frame){.pc = 0x2000, .fp = fp2, .flags = WEFT_FRAME_WASM};
  nrun = 2;
  /* a suspended continuation with one frame holding in_susp at fp - 8 */
  uintptr_t stack3[8];
  stack3[3] = (uintptr_t)in_susp;
  static weft_contref fake_cont;
  susp_cont = &fake_cont;
  susp_frames[0] = (weft_frame){.pc = 0x1000, .fp = (uintptr_t)&stack3[4], .stack = 1,
                                .flags = WEFT_FRAME_WASM};
  stack3[1] = 0; /* fp - 24: null is fine */
  nsusp = 1;
  scan_frames_too = true;
  for (int round = 0; round < 100; round++) f->gi->collect(f->h);
  assert_int_equal(last_scan_rc, WEFT_OK);
  assert_true(f->gi->is_object(f->h, kept1));
  assert_true(f->gi->is_object(f->h, kept2));
  assert_true(f->gi->is_object(f->h, child));
  assert_true(f->gi->is_object(f->h, in_susp));
  assert_false(f->gi->is_object(f->h, unnamed));
  assert_false(f->gi->is_object(f->h, other_pc));
  assert_int_equal(walks, 200);
  /* the continuation is gone: its object goes too */
  susp_cont = NULL;
  f->gi->collect(f->h);
  assert_false(f->gi->is_object(f->h, in_susp));
  assert_true(f->gi->is_object(f->h, kept1));
}

static void test_frames_without_walker(void **state) {
  fixture *f = *state;
  weft_host_api no_walk = fake_host;
  no_walk.struct_size = (uint32_t)offsetof(weft_host_api, code_func);
  /* through a heap whose host table is 1.1 (no walk_frames slot) */
  void *st = NULL;
  weft_diag d;
  weft_gc_heap *h = NULL;
  const weft_plugin_desc *desc = weft_plugin_entry_gc(WEFT_ABI_VERSION);
  assert_int_equal(desc->init(&no_walk, fake_cfg, &st, &d), WEFT_OK);
  assert_int_equal(f->gi->heap_new(st, &fake_roots, &h, &d), WEFT_OK);
  const weft_gc_type *ty = f->gi->type_layout(h, &fake_mod, 0, &d);
  void *o = f->gi->alloc_struct(h, ty);
  void *r = f->gi->alloc_struct(h, ty);
  assert_non_null(o);
  roots[0] = r;
  nroots = 1;
  scan_frames_too = true;
  last_scan_rc = WEFT_OK;
  f->gi->collect(h); /* the frame scan reports UNSUPPORTED; the other roots still count */
  assert_int_equal(last_scan_rc, WEFT_ERR_UNSUPPORTED);
  assert_int_equal(walks, 0);
  assert_false(f->gi->is_object(h, o));
  assert_true(f->gi->is_object(h, r));
  f->gi->heap_free(h);
  /* a heap with no root provider: everything is garbage */
  assert_int_equal(f->gi->heap_new(st, NULL, &h, &d), WEFT_OK);
  ty = f->gi->type_layout(h, &fake_mod, 0, &d);
  o = f->gi->alloc_struct(h, ty);
  f->gi->collect(h);
  assert_false(f->gi->is_object(h, o));
  f->gi->heap_free(h);
  desc->fini(st);
}

/* -- Tests: limits, failures, stress --------------------------------------------------------- */

static void test_heap_limit(void **state) {
  fixture *f = *state;
  f->gi->heap_free(f->h);
  f->desc->fini(f->st);
  cfg_limit = 256 * 1024;
  cfg_min = 64 * 1024;
  assert_int_equal(open_heap(f), 0);
  /* everything rooted through one growing array chain: allocation must end in NULL, no crash */
  void *head = NULL;
  uint32_t n = 0;
  for (;;) {
    void *arr = f->gi->alloc_array(f->h, f->refs, 7); /* 16 + 56 = 72 -> 80-byte cells */
    if (arr == NULL) break;
    set_elem(f, arr, 0, head);
    head = arr;
    roots[0] = head;
    nroots = 1;
    n++;
    assert_true(n < 100000);
  }
  assert_true(n >= 256 * 1024 / 80 - 1);
  assert_true(stats_of(f).live_bytes <= 256 * 1024);
  assert_true(stats_of(f).collections >= 1);
  /* an array larger than the limit: NULL at once; one whose size overflows: NULL */
  assert_null(f->gi->alloc_array(f->h, f->ints, 1u << 20));
  assert_null(f->gi->alloc_array(f->h, f->refs, UINT32_MAX));
  /* drop the roots: the next allocation collects and succeeds */
  nroots = 0;
  assert_non_null(f->gi->alloc_array(f->h, f->refs, 7));
  assert_true(stats_of(f).live_objects == 1);
}

static void test_host_alloc_failure(void **state) {
  fixture *f = *state;
  allocs_left = 0;
  assert_null(f->gi->alloc_struct(f->h, f->node));
  assert_null(f->gi->alloc_array(f->h, f->ints, 100000));
  allocs_left = -1;
  assert_non_null(f->gi->alloc_struct(f->h, f->node));
}

static void test_stress(void **state) {
  fixture *f = *state;
  f->gi->heap_free(f->h);
  f->desc->fini(f->st);
  cfg_stress = true;
  assert_int_equal(open_heap(f), 0);
  void *kept = f->gi->alloc_struct(f->h, f->node);
  roots[0] = kept;
  nroots = 1;
  void *last = NULL;
  for (int i = 0; i < 1000; i++) {
    last = f->gi->alloc_struct(f->h, f->empty);
    assert_non_null(last);
    /* the object of the previous round is already gone */
    assert_int_equal(stats_of(f).live_objects, 2);
  }
  assert_true(f->gi->is_object(f->h, kept));
  uint64_t c = stats_of(f).collections;
  assert_true(c >= 1000);
  f->gi->safepoint(f->h);
  assert_int_equal(stats_of(f).collections, c + 1);
  assert_false(f->gi->is_object(f->h, last));
}

/* A provider that cannot find its roots now vetoes the collection: nothing is freed. */
static bool veto;
static bool can_collect(void *ud) {
  (void)ud;
  return !veto;
}

static void test_can_collect_veto(void **state) {
  fixture *f = *state;
  weft_gc_roots r = fake_roots;
  r.can_collect = can_collect;
  weft_gc_heap *h = NULL;
  weft_diag d;
  memset(&d, 0, sizeof d);
  assert_int_equal(f->gi->heap_new(f->st, &r, &h, &d), WEFT_OK);
  const weft_gc_type *ty = f->gi->type_layout(h, &fake_mod, 0, &d);
  void *o = f->gi->alloc_struct(h, ty);
  nroots = 0;
  veto = true;
  f->gi->collect(h);
  assert_true(f->gi->is_object(h, o));
  weft_gc_stats s;
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  f->gi->stats(h, &s);
  assert_int_equal(s.collections, 0);
  veto = false;
  f->gi->collect(h);
  assert_false(f->gi->is_object(h, o));
  f->gi->heap_free(h);
}

/* The codegen's field offsets (weft_gc_field_offset) agree with the plugin's layouts. */
static void test_shared_layout_rule(void **state) {
  fixture *f = *state;
  for (uint32_t i = 0; i < 6; i++)
    assert_int_equal(weft_gc_field_offset(&fake_types[0], i), f->node->field_offs[i]);
  assert_int_equal(weft_gc_storage_size(WEFT_VT_I16), 2);
  assert_int_equal(weft_gc_storage_size(WEFT_VT_V128), 16);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_entry_abi),
      cmocka_unit_test(test_init_errors),
      cmocka_unit_test_setup_teardown(test_layouts, setup, teardown),
      cmocka_unit_test_setup_teardown(test_alloc_is_object, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mark_graph, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cycle_and_reuse, setup, teardown),
      cmocka_unit_test_setup_teardown(test_large_objects, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mark_stack_exhausted, setup, teardown),
      cmocka_unit_test_setup_teardown(test_frame_roots, setup, teardown),
      cmocka_unit_test_setup_teardown(test_frames_without_walker, setup, teardown),
      cmocka_unit_test_setup_teardown(test_heap_limit, setup, teardown),
      cmocka_unit_test_setup_teardown(test_host_alloc_failure, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stress, setup, teardown),
      cmocka_unit_test_setup_teardown(test_can_collect_veto, setup, teardown),
      cmocka_unit_test_setup_teardown(test_shared_layout_rule, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
