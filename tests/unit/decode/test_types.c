/* tests/unit/decode/test_types.c -- cmocka tests of core/types.c through the decoder: iso-recursive
 * canonicalization across modules, subtype chains, canonical signatures, limits and threads.
 * Depends on: test_util.h (cmocka, decode.h, types.h), pthreads.
 */
#include "test_util.h"

#include <pthread.h>

#include "tests.h"

static bool is_sub(const weft_rtt *a, const weft_rtt *b) {
  return b->depth <= a->depth && a->supers[b->depth] == b;
}

/* A module whose type section is the given bytes (count included). */
static weft_module *types_module(core_types *reg, const uint8_t *bytes, size_t n) {
  buf o, s = {.n = 0};
  header(&o);
  put(&s, bytes, n);
  section(&o, 1, &s);
  return expect_ok(reg, &o);
}
#define TYPES(reg, ...)                                                                            \
  ({                                                                                               \
    static const uint8_t t_[] = {__VA_ARGS__};                                                     \
    types_module((reg), t_, sizeof t_);                                                            \
  })

static void identical_groups_share(void **state) {
  (void)state;
  core_types *reg = core_types_new();
  assert_non_null(reg);
  /* A: func [i32]->[i32]; rec { struct (ref null 2), struct (ref null 1) } */
  weft_module *a = TYPES(reg, 0x02, 0x60, 0x01, 0x7F, 0x01, 0x7F,
                         0x4E, 0x02, 0x5F, 0x01, 0x63, 0x02, 0x00, 0x5F, 0x01, 0x63, 0x01, 0x00);
  /* B: array i8 first, then the same two groups (shifted indices), then func again */
  weft_module *b = TYPES(reg, 0x04, 0x5E, 0x78, 0x00,
                         0x60, 0x01, 0x7F, 0x01, 0x7F,
                         0x4E, 0x02, 0x5F, 0x01, 0x63, 0x03, 0x00, 0x5F, 0x01, 0x63, 0x02, 0x00,
                         0x60, 0x01, 0x7F, 0x01, 0x7F);
  assert_non_null(a->types[0].rtt);
  assert_ptr_equal(a->types[0].rtt, b->types[1].rtt);
  assert_ptr_equal(a->types[0].rtt, b->types[4].rtt); /* same group twice in one module */
  assert_ptr_equal(a->types[1].rtt, b->types[2].rtt);
  assert_ptr_equal(a->types[2].rtt, b->types[3].rtt);
  assert_ptr_not_equal(a->types[1].rtt, a->types[2].rtt);
  assert_ptr_not_equal(b->types[0].rtt, a->types[0].rtt);
  assert_int_equal(core_types_count(reg), 4);
  /* ids are dense and core_types_get finds them */
  for (uint32_t i = 0; i < 3; i++)
    assert_ptr_equal(core_types_get(reg, a->types[i].rtt->id), a->types[i].rtt);
  assert_null(core_types_get(reg, 4));
  core_module_free(a);
  core_module_free(b);
  core_types_free(reg);
}

static void different_shapes_differ(void **state) {
  (void)state;
  core_types *reg = core_types_new();
  weft_module *a = TYPES(reg, 0x05,
                         0x60, 0x01, 0x7F, 0x01, 0x7F,   /* 0 func i32 -> i32 */
                         0x60, 0x01, 0x7F, 0x01, 0x7E,   /* 1 func i32 -> i64 */
                         0x5F, 0x01, 0x7F, 0x01,         /* 2 struct (mut i32) */
                         0x5F, 0x01, 0x7F, 0x00,         /* 3 struct i32 */
                         0x50, 0x00, 0x5F, 0x01, 0x7F, 0x00); /* 4 non-final struct i32 */
  for (uint32_t i = 0; i < 5; i++)
    for (uint32_t k = i + 1; k < 5; k++) assert_ptr_not_equal(a->types[i].rtt, a->types[k].rtt);
  /* rec groups {x, y} and {y, x} are different groups; so is {x} alone vs {x, y} */
  weft_module *b = TYPES(reg, 0x03,
                         0x4E, 0x02, 0x60, 0x00, 0x00, 0x5F, 0x00,
                         0x4E, 0x02, 0x5F, 0x00, 0x60, 0x00, 0x00,
                         0x60, 0x00, 0x00);
  assert_ptr_not_equal(b->types[0].rtt, b->types[3].rtt);
  assert_ptr_not_equal(b->types[0].rtt, b->types[4].rtt);
  assert_ptr_not_equal(b->types[1].rtt, b->types[2].rtt);
  /* a reference inside the group is not the same as one to an equal type outside it */
  weft_module *c = TYPES(reg, 0x02,
                         0x5F, 0x00,                          /* 0 struct {} */
                         0x4E, 0x02, 0x5F, 0x00,              /* 1 struct {} (in a group) */
                         0x5F, 0x01, 0x63, 0x01, 0x00);       /* 2 struct (ref null 1) */
  weft_module *d = TYPES(reg, 0x02, 0x5F, 0x00,
                         0x4E, 0x02, 0x5F, 0x00, 0x5F, 0x01, 0x63, 0x00, 0x00); /* refers to 0 */
  assert_ptr_equal(c->types[0].rtt, d->types[0].rtt);
  assert_ptr_not_equal(c->types[1].rtt, d->types[1].rtt);
  assert_ptr_not_equal(c->types[2].rtt, d->types[2].rtt);
  core_module_free(a);
  core_module_free(b);
  core_module_free(c);
  core_module_free(d);
  core_types_free(reg);
}

static void subtype_chains(void **state) {
  (void)state;
  core_types *reg = core_types_new();
  weft_module *m = TYPES(reg, 0x04,
                         0x50, 0x00, 0x5F, 0x00,                   /* 0 sub struct {} */
                         0x50, 0x01, 0x00, 0x5F, 0x01, 0x7F, 0x00, /* 1 sub 0 struct {i32} */
                         0x4F, 0x01, 0x01, 0x5F, 0x02, 0x7F, 0x00, 0x7E, 0x00, /* 2 sub final 1 */
                         0x50, 0x01, 0x00, 0x5F, 0x01, 0x7D, 0x00); /* 3 sub 0 struct {f32} */
  const weft_rtt *r0 = m->types[0].rtt, *r1 = m->types[1].rtt, *r2 = m->types[2].rtt,
                 *r3 = m->types[3].rtt;
  assert_int_equal(r0->depth, 0);
  assert_int_equal(r1->depth, 1);
  assert_int_equal(r2->depth, 2);
  assert_int_equal(r3->depth, 1);
  assert_true(is_sub(r2, r0));
  assert_true(is_sub(r2, r1));
  assert_true(is_sub(r2, r2));
  assert_true(is_sub(r3, r0));
  assert_false(is_sub(r0, r2));
  assert_false(is_sub(r3, r1));
  assert_false(is_sub(r2, r3));
  assert_true(r2->final);
  assert_false(r1->final);
  assert_int_equal(r2->comp, WEFT_COMP_STRUCT);
  /* the same chain from another module gives the same rtts */
  weft_module *n = TYPES(reg, 0x02, 0x50, 0x00, 0x5F, 0x00,
                         0x50, 0x01, 0x00, 0x5F, 0x01, 0x7F, 0x00);
  assert_ptr_equal(n->types[1].rtt, r1);
  /* a struct with the same fields but no declared supertype is a different type */
  weft_module *o = TYPES(reg, 0x01, 0x50, 0x00, 0x5F, 0x01, 0x7F, 0x00);
  assert_ptr_not_equal(o->types[0].rtt, r1);
  assert_false(is_sub(o->types[0].rtt, r0));
  core_module_free(m);
  core_module_free(n);
  core_module_free(o);
  core_types_free(reg);
}

static void canonical_signatures(void **state) {
  (void)state;
  core_types *reg = core_types_new();
  weft_module *m = TYPES(reg, 0x03,
                         0x5F, 0x00,                                  /* 0 struct {} */
                         0x60, 0x02, 0x7F, 0x63, 0x00, 0x01, 0x64, 0x70, /* 1 func */
                         0x5D, 0x01);                                 /* 2 cont 1 */
  uint32_t np, nr;
  const weft_valtype *p, *r;
  uint32_t id = m->types[1].rtt->id;
  assert_int_equal(core_types_func_sig(reg, id, &np, &p, &nr, &r), WEFT_OK);
  assert_int_equal(np, 2);
  assert_int_equal(nr, 1);
  assert_int_equal(p[0], WEFT_VT_I32);
  /* the reference to module type 0 became its canonical id */
  assert_int_equal(p[1], WEFT_VT_MAKE_REF(1, m->types[0].rtt->id));
  assert_int_equal(r[0], WEFT_VT_MAKE_REF(0, WEFT_HT_ABS(WEFT_AHT_FUNC)));
  assert_int_equal(core_types_func_sig(reg, m->types[0].rtt->id, &np, &p, &nr, &r),
                   WEFT_ERR_MISUSE);
  assert_int_equal(core_types_func_sig(reg, 999, NULL, NULL, NULL, NULL), WEFT_ERR_MISUSE);
  const weft_type *ct = core_types_canon(m->types[2].rtt);
  assert_int_equal(ct->comp, WEFT_COMP_CONT);
  assert_int_equal(ct->u.cont_func, id);
  assert_ptr_equal(ct->rtt, m->types[2].rtt);
  assert_null(core_types_canon(NULL));
  core_module_free(m);
  core_types_free(reg);
}

static void depth_limit(void **state) {
  (void)state;
  core_types *reg = core_types_new();
  buf o, s = {.n = 0};
  header(&o);
  putu(&s, 70);
  B(&s, 0x50, 0x00, 0x5F, 0x00);
  for (uint32_t i = 1; i < 70; i++) {
    B(&s, 0x50, 0x01);
    putu(&s, i - 1);
    B(&s, 0x5F, 0x00);
  }
  section(&o, 1, &s);
  weft_module *m = (weft_module *)1;
  weft_diag d;
  assert_int_equal(dec(reg, &o, &m, &d), WEFT_ERR_LIMIT);
  assert_null(m);
  assert_non_null(strstr(d.message, "subtyping depth"));
  core_types_free(reg);
}

typedef struct thr {
  core_types *reg;
  const weft_rtt *rtt[50];
} thr;

static void *intern_many(void *arg) {
  thr *t = arg;
  for (int i = 0; i < 50; i++) {
    buf o, s = {.n = 0};
    header(&o);
    B(&s, 0x01, 0x4E, 0x02, 0x5F, 0x01, 0x63, 0x01, 0x00, 0x60, 0x01);
    putu(&s, 0x7F - (uint64_t)(i % 4)); /* four distinct shapes */
    B(&s, 0x00);
    section(&o, 1, &s);
    weft_module *m = NULL;
    weft_diag d;
    if (core_decode(t->reg, o.b, o.n, &m, &d) != 0) return NULL;
    t->rtt[i] = m->types[0].rtt;
    core_module_free(m);
  }
  return t;
}

static void threads_agree(void **state) {
  (void)state;
  core_types *reg = core_types_new();
  thr t[4];
  pthread_t th[4];
  for (int i = 0; i < 4; i++) {
    t[i].reg = reg;
    assert_int_equal(pthread_create(&th[i], NULL, intern_many, &t[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    void *r;
    pthread_join(th[i], &r);
    assert_non_null(r);
  }
  for (int i = 0; i < 4; i++)
    for (int k = 0; k < 50; k++) assert_ptr_equal(t[i].rtt[k], t[0].rtt[k % 4]);
  assert_int_equal(core_types_count(reg), 8);
  core_types_free(reg);
}

/* The registry used directly, as the runtime does for host functions: a lone final func type is
 * the same canonical type as a module's plain (type (func ...)). */
static void direct_intern(void **state) {
  (void)state;
  core_types *reg = core_types_new();
  static const weft_valtype params[2] = {WEFT_VT_I32, WEFT_VT_F64};
  weft_type ty;
  memset(&ty, 0, sizeof ty);
  ty.comp = WEFT_COMP_FUNC;
  ty.final = true;
  ty.super = WEFT_NONE;
  ty.rec_size = 1;
  ty.u.func.nparams = 2;
  ty.u.func.params = params;
  const weft_rtt *rtt = NULL;
  weft_diag d;
  assert_int_equal(core_types_intern(reg, &ty, 0, 1, &rtt, &d), WEFT_OK);
  assert_non_null(rtt);
  weft_module *m = TYPES(reg, 0x01, 0x60, 0x02, 0x7F, 0x7C, 0x00);
  assert_ptr_equal(m->types[0].rtt, rtt);
  core_module_free(m);
  /* a reference past the group cannot be canonicalized */
  static const weft_valtype bad[1] = {WEFT_VT_MAKE_REF(1, 7)};
  ty.u.func.params = bad;
  ty.u.func.nparams = 1;
  assert_int_equal(core_types_intern(reg, &ty, 0, 1, &rtt, &d), WEFT_ERR_INVALID);
  assert_string_equal(d.message, "unknown type 7");
  assert_int_equal(core_types_count(reg), 1);
  core_types_free(reg);
}

const struct CMUnitTest types_tests[] = {
    cmocka_unit_test(direct_intern),
    cmocka_unit_test(identical_groups_share), cmocka_unit_test(different_shapes_differ),
    cmocka_unit_test(subtype_chains),         cmocka_unit_test(canonical_signatures),
    cmocka_unit_test(depth_limit),            cmocka_unit_test(threads_agree),
};
const size_t types_ntests = sizeof types_tests / sizeof types_tests[0];
