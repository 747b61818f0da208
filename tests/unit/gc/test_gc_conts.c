/* tests/unit/gc/test_gc_conts.c -- the gc plugin's side of continuations traced as nodes (part
 * gcroots), in isolation: a fake host table and a fake root provider. Marked objects report their
 * 16-byte continuation fields and elements (weft_gc_roots.cont_field), the provider marks what the
 * continuations hold in mark_more until it has nothing left, and `marked` runs once, after all of
 * it and before the sweep; a host older than ABI 1.3 gets none of these calls.
 * Depends on: weft-gc-obj (WEFT_PLUGIN_STATIC), cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "weft/plugin.h"
#include "weft/plugin/gc.h"

const weft_plugin_desc *weft_plugin_entry_gc(uint32_t host_abi);

/* -- Fake host ------------------------------------------------------------------------------- */

static void *h_alloc(void *h, size_t n) { (void)h; return malloc(n); }
static void *h_realloc(void *h, void *p, size_t n) { (void)h; return realloc(p, n); }
static void h_free(void *h, void *p) { (void)h; free(p); }
static void h_log(void *h, weft_log_level l, const char *o, const char *fmt, va_list ap) {
  (void)h, (void)l, (void)o, (void)fmt, (void)ap;
}
static int h_diag(void *h, weft_diag *d, int code, uint64_t off, const char *origin,
                  const char *fmt, va_list ap) {
  (void)h, (void)d, (void)off, (void)origin, (void)fmt, (void)ap;
  return code;
}
static int h_cfg_bool(void *h, const weft_plugin_cfg *c, const char *k, bool *out) {
  (void)h, (void)c, (void)k;
  *out = false;
  return WEFT_OK;
}
static int h_cfg_int(void *h, const weft_plugin_cfg *c, const char *k, int64_t *out) {
  (void)h, (void)c, (void)k;
  *out = 200;
  return WEFT_OK;
}
static int h_cfg_size(void *h, const weft_plugin_cfg *c, const char *k, uint64_t *out) {
  (void)h, (void)c;
  *out = strcmp(k, "heap_limit") == 0 ? 1ull << 30 : 4ull << 20;
  return WEFT_OK;
}

static weft_host_api host13 = {
    WEFT_ABI_INIT(weft_host_api), .alloc = h_alloc, .realloc = h_realloc, .free = h_free,
    .log = h_log, .diag = h_diag, .cfg_bool = h_cfg_bool, .cfg_int = h_cfg_int,
    .cfg_size = h_cfg_size,
};

/* -- A module with continuation fields -------------------------------------------------------- */

/* 0: (func)  1: (cont 0)
 * 2: (struct (field (mut (ref null 1))) (field (mut (ref null 4))) (field i32))
 * 3: (struct (field i32))
 * 4: (array (mut (ref null 1))) */
static const weft_fieldtype root_fields[] = {
    {WEFT_VT_MAKE_REF(1, 1), true},
    {WEFT_VT_MAKE_REF(1, 4), true},
    {WEFT_VT_I32, true},
};
static const weft_fieldtype leaf_fields[] = {{WEFT_VT_I32, true}};
static weft_type types[5];
static weft_module mod;

static void build_module(void) {
  memset(types, 0, sizeof types);
  types[0].comp = WEFT_COMP_FUNC;
  types[1].comp = WEFT_COMP_CONT;
  types[1].u.cont_func = 0;
  types[2].comp = WEFT_COMP_STRUCT;
  types[2].u.strct.nfields = 3;
  types[2].u.strct.fields = root_fields;
  types[3].comp = WEFT_COMP_STRUCT;
  types[3].u.strct.nfields = 1;
  types[3].u.strct.fields = leaf_fields;
  types[4].comp = WEFT_COMP_ARRAY;
  types[4].u.array = (weft_fieldtype){WEFT_VT_MAKE_REF(1, 1), true};
  memset(&mod, 0, sizeof mod);
  mod.ntypes = 5;
  mod.types = types;
}

/* -- Fake provider: two continuations, each "holding" one leaf object ------------------------ */

static weft_contref k1, k2; /* only their addresses are used */
static void *root, *leaf1, *leaf2;
static struct {
  const void *c;
  uint64_t rev;
} seen[16];
static int nseen, scanned, more_calls, marked_calls, enum_calls;
static bool seen_after_marked;

static void enumerate(void *ud, weft_gc_tracer *t) {
  (void)ud;
  enum_calls++;
  t->mark(t, root);
}

static void cont_field(void *ud, const void *slot) {
  (void)ud;
  weft_val_raw v;
  memcpy(&v, slot, sizeof v);
  if (marked_calls > 0) seen_after_marked = true;
  if (nseen < 16) {
    seen[nseen].c = v.cont.contref;
    seen[nseen].rev = v.cont.revision;
    nseen++;
  }
}

/* Marks, for each continuation noted since the last call, what its frames would hold. */
static bool mark_more(void *ud, weft_gc_tracer *t) {
  (void)ud;
  more_calls++;
  bool any = false;
  for (; scanned < nseen; scanned++) {
    if (seen[scanned].c == &k1) t->mark(t, leaf1);
    if (seen[scanned].c == &k2) t->mark(t, leaf2);
    any = true;
  }
  return any;
}

static void marked(void *ud) {
  (void)ud;
  marked_calls++;
}

static const weft_gc_roots provider = {.ud = NULL, .enumerate = enumerate,
                                       .cont_field = cont_field, .mark_more = mark_more,
                                       .marked = marked};

/* -- Fixture --------------------------------------------------------------------------------- */

typedef struct fixture {
  const weft_plugin_desc *desc;
  const weft_gc_iface *gi;
  void *st;
  weft_gc_heap *h;
  const weft_gc_type *rootty, *leafty, *arrty;
} fixture;

static void open_heap(fixture *f, const weft_host_api *host) {
  weft_diag d;
  memset(&d, 0, sizeof d);
  memset(f, 0, sizeof *f);
  build_module();
  nseen = scanned = more_calls = marked_calls = enum_calls = 0;
  seen_after_marked = false;
  f->desc = weft_plugin_entry_gc(WEFT_ABI_VERSION);
  assert_non_null(f->desc);
  f->gi = f->desc->iface;
  assert_int_equal(f->desc->init(host, (const weft_plugin_cfg *)(uintptr_t)0x10, &f->st, &d),
                   WEFT_OK);
  assert_int_equal(f->gi->heap_new(f->st, &provider, &f->h, &d), WEFT_OK);
  f->rootty = f->gi->type_layout(f->h, &mod, 2, &d);
  f->leafty = f->gi->type_layout(f->h, &mod, 3, &d);
  f->arrty = f->gi->type_layout(f->h, &mod, 4, &d);
  assert_non_null(f->rootty);
  assert_non_null(f->leafty);
  assert_non_null(f->arrty);
}

static void close_heap(fixture *f) {
  f->gi->heap_free(f->h);
  f->desc->fini(f->st);
}

static void put_cont(uint8_t *at, const void *c, uint64_t rev) {
  weft_val_raw v;
  memset(&v, 0, sizeof v);
  v.cont.contref = (void *)(uintptr_t)c;
  v.cont.revision = rev;
  memcpy(at, &v, sizeof v);
}

/* root.f0 = {k1, 7}; root.f1 = arr; arr = [{k2, 9}, null]; leaf1 and leaf2 are held only by the
 * continuations; `garbage` by nothing. */
static void *build_graph(fixture *f) {
  root = f->gi->alloc_struct(f->h, f->rootty);
  void *arr = f->gi->alloc_array(f->h, f->arrty, 2);
  leaf1 = f->gi->alloc_struct(f->h, f->leafty);
  leaf2 = f->gi->alloc_struct(f->h, f->leafty);
  void *garbage = f->gi->alloc_struct(f->h, f->leafty);
  assert_non_null(root);
  assert_non_null(arr);
  assert_non_null(garbage);
  assert_int_equal(f->rootty->nrefs, 1); /* the continuation field is no GC reference */
  assert_int_equal(f->arrty->elem_ref, 0);
  assert_int_equal(f->arrty->elem_size, 16);
  put_cont((uint8_t *)root + f->rootty->field_offs[0], &k1, 7);
  memcpy((uint8_t *)root + f->rootty->field_offs[1], &arr, sizeof arr);
  put_cont((uint8_t *)arr + f->arrty->size, &k2, 9);
  put_cont((uint8_t *)arr + f->arrty->size + 16, NULL, 0);
  return garbage;
}

static weft_gc_stats stats(fixture *f) {
  weft_gc_stats s;
  memset(&s, 0, sizeof s);
  s.struct_size = sizeof s;
  f->gi->stats(f->h, &s);
  return s;
}

/* -- Tests ----------------------------------------------------------------------------------- */

static void test_cont_fields_reported_and_traced(void **state) {
  (void)state;
  fixture f;
  open_heap(&f, &host13);
  (void)build_graph(&f);
  f.gi->collect(f.h);
  /* every continuation field and element of the marked objects, null included */
  assert_int_equal(nseen, 3);
  assert_ptr_equal(seen[0].c, &k1);
  assert_int_equal(seen[0].rev, 7);
  assert_ptr_equal(seen[1].c, &k2);
  assert_int_equal(seen[1].rev, 9);
  assert_null(seen[2].c);
  /* mark_more ran until it had nothing new, then marked once, with nothing reported after */
  assert_true(more_calls >= 2);
  assert_int_equal(marked_calls, 1);
  assert_false(seen_after_marked);
  /* what only the continuations held survived; the garbage did not */
  weft_gc_stats s = stats(&f);
  assert_int_equal(s.freed_objects, 1);
  assert_int_equal(s.live_objects, 4);
  assert_true(f.gi->is_object(f.h, leaf1));
  assert_true(f.gi->is_object(f.h, leaf2));
  /* a second collection sees the same graph */
  nseen = scanned = 0;
  f.gi->collect(f.h);
  assert_int_equal(nseen, 3);
  assert_int_equal(marked_calls, 2);
  assert_int_equal(stats(&f).live_objects, 4);
  close_heap(&f);
}

/* When the provider does not mark what a continuation holds, that object dies. */
static void test_unreported_cont_contents_die(void **state) {
  (void)state;
  fixture f;
  open_heap(&f, &host13);
  (void)build_graph(&f);
  put_cont((uint8_t *)root + f.rootty->field_offs[0], &k2, 9); /* k1 no longer referenced */
  f.gi->collect(f.h);
  weft_gc_stats s = stats(&f);
  assert_int_equal(s.freed_objects, 2); /* leaf1 and the garbage */
  assert_int_equal(marked_calls, 1);
  close_heap(&f);
}

/* A host of ABI 1.2 fills no 1.3 slots: the plugin calls none of them. */
static void test_old_host_gets_no_calls(void **state) {
  (void)state;
  weft_host_api host12 = host13;
  host12.abi_version = WEFT_ABI_MAKE(1, 2);
  fixture f;
  open_heap(&f, &host12);
  (void)build_graph(&f);
  f.gi->collect(f.h);
  assert_int_equal(enum_calls, 1);
  assert_int_equal(nseen, 0);
  assert_int_equal(more_calls, 0);
  assert_int_equal(marked_calls, 0);
  assert_int_equal(stats(&f).freed_objects, 3); /* leaf1, leaf2, garbage */
  close_heap(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cont_fields_reported_and_traced),
      cmocka_unit_test(test_unreported_cont_contents_die),
      cmocka_unit_test(test_old_host_gets_no_calls),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
