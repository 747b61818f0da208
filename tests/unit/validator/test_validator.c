/* tests/unit/validator/test_validator.c -- the validator plugin against a fake host and hand-built IR.
 *
 * Never uses the real plugin loader: links weft-validator-obj and calls weft_plugin_entry_validator.
 * The fake host records diagnostics, answers config lookups from a small table, and can fail the Nth
 * allocation (scripted with will_return). Each test builds a weft_module by hand for one rule.
 * Depends on: cmocka, include/weft/plugin/validator.h, include/weft/module.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/plugin/validator.h"

const weft_plugin_desc *weft_plugin_entry_validator(uint32_t host_abi);

/* -- Fake host ------------------------------------------------------------------------------- */

static bool script_allocs;   /* when set, every allocation asks alloc_gate() for a scripted answer */
static int live_allocs;
static int64_t cfg_max_locals = -1, cfg_max_nesting = -1, cfg_max_types = -1;

static int fail_nth = -1;     /* otherwise: fail the allocation after fail_nth successful ones */

static int alloc_gate(void) {
  if (script_allocs) return mock_type(int);
  if (fail_nth < 0) return 0;
  return fail_nth-- == 0;
}

static void *f_alloc(void *h, size_t n) {
  (void)h;
  if (alloc_gate()) return NULL;
  live_allocs++;
  return malloc(n ? n : 1);
}
static void *f_realloc(void *h, void *p, size_t n) {
  (void)h;
  if (alloc_gate()) return NULL;
  if (!p) live_allocs++;
  return realloc(p, n ? n : 1);
}
static void f_free(void *h, void *p) {
  (void)h;
  if (p) live_allocs--;
  free(p);
}
static void f_log(void *h, weft_log_level l, const char *o, const char *fmt, va_list ap) {
  (void)h; (void)l; (void)o; (void)fmt; (void)ap;
}
static int f_diag(void *h, weft_diag *d, int code, uint64_t off, const char *origin, const char *fmt,
                  va_list ap) {
  (void)h;
  d->code = code;
  d->offset = off;
  snprintf(d->origin, sizeof d->origin, "%s", origin);
  vsnprintf(d->message, sizeof d->message, fmt, ap);
  return code;
}
static int f_cfg_bool(void *h, const weft_plugin_cfg *c, const char *k, bool *o) {
  (void)h; (void)c; (void)k; (void)o;
  return WEFT_ERR_CONFIG;
}
static int f_cfg_int(void *h, const weft_plugin_cfg *c, const char *k, int64_t *o) {
  (void)h; (void)c;
  if (strcmp(k, "max_locals") == 0 && cfg_max_locals >= 0) { *o = cfg_max_locals; return WEFT_OK; }
  if (strcmp(k, "max_nesting") == 0 && cfg_max_nesting >= 0) { *o = cfg_max_nesting; return WEFT_OK; }
  if (strcmp(k, "max_types") == 0 && cfg_max_types >= 0) { *o = cfg_max_types; return WEFT_OK; }
  return WEFT_ERR_CONFIG;
}
static int f_cfg_size(void *h, const weft_plugin_cfg *c, const char *k, uint64_t *o) {
  (void)h; (void)c; (void)k; (void)o;
  return WEFT_ERR_CONFIG;
}
static int f_cfg_string(void *h, const weft_plugin_cfg *c, const char *k, const char **o) {
  (void)h; (void)c; (void)k; (void)o;
  return WEFT_ERR_CONFIG;
}

static const weft_host_api host = {
    WEFT_ABI_INIT(weft_host_api), .host = NULL, .alloc = f_alloc, .realloc = f_realloc,
    .free = f_free, .log = f_log, .diag = f_diag, .cfg_bool = f_cfg_bool, .cfg_int = f_cfg_int,
    .cfg_size = f_cfg_size, .cfg_string = f_cfg_string};

/* A non-NULL opaque config handle so the plugin consults cfg_int. */
static const weft_plugin_cfg *const fake_cfg = (const weft_plugin_cfg *)&host;

typedef struct plugin {
  const weft_plugin_desc *desc;
  const weft_validator_iface *vi;
  void *state;
} plugin;

static plugin load(void) {
  plugin p;
  weft_diag d;
  p.desc = weft_plugin_entry_validator(WEFT_ABI_VERSION);
  assert_non_null(p.desc);
  assert_int_equal(p.desc->init(&host, fake_cfg, &p.state, &d), WEFT_OK);
  p.vi = p.desc->iface;
  return p;
}

static void unload(plugin *p) { p->desc->fini(p->state); }

/* -- IR builder ------------------------------------------------------------------------------ */

#define I32 WEFT_VT_I32
#define I64 WEFT_VT_I64
#define F32 WEFT_VT_F32
#define REFN(ht) WEFT_VT_MAKE_REF(0, ht)
#define REFNULL(ht) WEFT_VT_MAKE_REF(1, ht)
#define ABS(x) WEFT_HT_ABS(WEFT_AHT_##x)

#define OP(o) ((weft_instr){.op = WEFT_OP_##o})
#define OPA(o, a_) ((weft_instr){.op = WEFT_OP_##o, .imm.x = {.a = (a_)}})
#define OPAB(o, a_, b_) ((weft_instr){.op = WEFT_OP_##o, .imm.x = {.a = (a_), .b = (b_)}})
#define OPABC(o, a_, b_, c_) ((weft_instr){.op = WEFT_OP_##o, .imm.x = {.a = (a_), .b = (b_), .c = (c_)}})
#define CONST32(v) ((weft_instr){.op = WEFT_OP_I32_CONST, .imm.i32 = (v)})
#define CONST64(v) ((weft_instr){.op = WEFT_OP_I64_CONST, .imm.i64 = (v)})
#define MEMOP(o, al, offs) ((weft_instr){.op = WEFT_OP_##o, .imm.mem = {.offset = (offs), .align = (al)}})

/* Up to 8 types, 4 functions, 4 globals; built fresh per test. */
typedef struct mod {
  weft_module m;
  weft_type types[8];
  weft_func funcs[4];
  weft_global globals[4];
  weft_memory mems[2];
  weft_table tables[2];
  weft_tag tags[4];
  weft_export exports[4];
  weft_instr code[4][48];
  weft_instr ginit[4][4];
  weft_valtype tv[8][8]; /* storage for func params/results */
  weft_fieldtype fields[8][4];
  uint32_t pool[32];
} mod;

static mod *new_mod(void) {
  mod *b = calloc(1, sizeof *b);
  assert_non_null(b);
  b->m.types = b->types;
  b->m.funcs = b->funcs;
  b->m.globals = b->globals;
  b->m.mems = b->mems;
  b->m.tables = b->tables;
  b->m.tags = b->tags;
  b->m.exports = b->exports;
  b->m.pool = b->pool;
  b->m.start = WEFT_NONE;
  return b;
}

/* Adds func type [params] -> [results]; lists end at 0. */
static uint32_t add_functype(mod *b, const weft_valtype *ps, uint32_t np, const weft_valtype *rs,
                             uint32_t nr) {
  uint32_t i = b->m.ntypes++;
  weft_type *t = &b->types[i];
  memset(t, 0, sizeof *t);
  t->comp = WEFT_COMP_FUNC;
  t->final = true;
  t->super = WEFT_NONE;
  t->rec_start = i;
  t->rec_size = 1;
  if (np) memcpy(b->tv[i], ps, np * sizeof *ps);
  if (nr) memcpy(b->tv[i] + np, rs, nr * sizeof *rs);
  t->u.func.nparams = np;
  t->u.func.params = b->tv[i];
  t->u.func.nresults = nr;
  t->u.func.results = b->tv[i] + np;
  return i;
}

static uint32_t add_type(mod *b, uint8_t comp, bool final, uint32_t super) {
  uint32_t i = b->m.ntypes++;
  weft_type *t = &b->types[i];
  memset(t, 0, sizeof *t);
  t->comp = comp;
  t->final = final;
  t->nsupers = super == WEFT_NONE ? 0 : 1;
  t->super = super;
  t->rec_start = i;
  t->rec_size = 1;
  return i;
}

/* Adds a defined function with the given body (an `end` is appended). */
static uint32_t add_func(mod *b, uint32_t type, const weft_valtype *locals, uint32_t nlocals,
                         const weft_instr *body, uint32_t n) {
  uint32_t i = b->m.nfuncs++;
  weft_func *f = &b->funcs[i];
  memset(f, 0, sizeof *f);
  f->type = type;
  f->import = WEFT_NONE;
  f->nlocals = nlocals;
  f->locals = locals;
  for (uint32_t k = 0; k < n; k++) {
    b->code[i][k] = body[k];
    if (!b->code[i][k].off) b->code[i][k].off = 100 * (i + 1) + k;
  }
  b->code[i][n] = OP(END);
  b->code[i][n].off = 100 * (i + 1) + n;
  f->body.code = b->code[i];
  f->body.ninstrs = n + 1;
  f->body_off = 100 * (i + 1);
  f->body_size = 4 * (n + 1);
  return i;
}

static uint32_t add_global(mod *b, weft_valtype t, bool mut, const weft_instr *init, uint32_t n) {
  uint32_t i = b->m.nglobals++;
  weft_global *g = &b->globals[i];
  memset(g, 0, sizeof *g);
  g->type.type = t;
  g->type.mut = mut;
  g->import = WEFT_NONE;
  for (uint32_t k = 0; k < n; k++) b->ginit[i][k] = init[k];
  b->ginit[i][n] = OP(END);
  g->init.code = b->ginit[i];
  g->init.ninstrs = n + 1;
  return i;
}

static void add_memory(mod *b, uint64_t min, bool is64) {
  weft_memory *mm = &b->mems[b->m.nmems++];
  memset(mm, 0, sizeof *mm);
  mm->limits.min = min;
  mm->limits.is64 = is64;
  mm->import = WEFT_NONE;
}

static int validate(mod *b, weft_diag *d) {
  plugin p = load();
  memset(d, 0, sizeof *d);
  int rc = p.vi->validate(p.state, &b->m, d);
  unload(&p);
  return rc;
}

/* Expects rejection with a message starting with `prefix`. */
static void expect_invalid(mod *b, const char *prefix) {
  weft_diag d;
  int rc = validate(b, &d);
  if (rc != WEFT_ERR_INVALID || strncmp(d.message, prefix, strlen(prefix)) != 0)
    fail_msg("expected \"%s\", got rc=%d \"%s\"", prefix, rc, d.message);
  assert_string_equal(d.origin, "validator");
  free(b);
}

static void expect_valid(mod *b) {
  weft_diag d;
  int rc = validate(b, &d);
  if (rc != WEFT_OK) fail_msg("expected a valid module, got rc=%d \"%s\"", rc, d.message);
  free(b);
}

static const weft_valtype i32x2[] = {I32, I32};

/* -- Tests: numeric and stack ---------------------------------------------------------------- */

static void test_add_valid(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, i32x2, 2, i32x2, 1);
  weft_instr body[] = {OPA(LOCAL_GET, 0), OPA(LOCAL_GET, 1), OP(I32_ADD)};
  add_func(b, t, NULL, 0, body, 3);
  expect_valid(b);
}

static void test_add_mismatch(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, i32x2, 1);
  weft_instr body[] = {CONST32(1), CONST64(2), OP(I32_ADD)};
  add_func(b, t, NULL, 0, body, 3);
  expect_invalid(b, "type mismatch");
}


static void test_throw_message(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t tt = add_functype(b, i32x2, 1, NULL, 0);
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  b->tags[0] = (weft_tag){.type = tt, .import = WEFT_NONE};
  b->m.ntags = 1;
  weft_instr body[] = {CONST64(5), OPA(THROW, 0)};
  add_func(b, t, NULL, 0, body, 2);
  expect_invalid(b, "type mismatch: instruction requires [i32] but stack has [i64]");
}

static void test_diag_offset(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {CONST32(1), OP(DROP), OP(DROP)};
  body[2].off = 4242;
  add_func(b, t, NULL, 0, body, 3);
  weft_diag d;
  assert_int_equal(validate(b, &d), WEFT_ERR_INVALID);
  assert_int_equal(d.offset, 4242);
  assert_true(strncmp(d.message, "type mismatch", 13) == 0);
  free(b);
}

static void test_unreachable_polymorphic(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, i32x2, 1);
  /* unreachable; i32.add; -- the operands come from the polymorphic stack */
  weft_instr body[] = {OP(UNREACHABLE), OP(I32_ADD)};
  add_func(b, t, NULL, 0, body, 2);
  expect_valid(b);
  b = new_mod();
  t = add_functype(b, NULL, 0, i32x2, 1);
  weft_instr body2[] = {OP(UNREACHABLE), CONST64(1), OP(I32_ADD)};
  add_func(b, t, NULL, 0, body2, 3);
  expect_invalid(b, "type mismatch");
}

static void test_leftover_value(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {CONST32(1)};
  add_func(b, t, NULL, 0, body, 1);
  expect_invalid(b, "type mismatch");
}

/* -- Tests: locals and globals --------------------------------------------------------------- */

static void test_unknown_local(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, i32x2, 2, NULL, 0);
  static const weft_valtype loc[] = {I64};
  weft_instr body[] = {OPA(LOCAL_GET, 3), OP(DROP)};
  add_func(b, t, loc, 1, body, 2);
  expect_invalid(b, "unknown local 3");
}

static void test_uninitialized_local(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t ft = add_functype(b, NULL, 0, NULL, 0);
  static weft_valtype loc[1];
  loc[0] = REFN(ft);
  weft_instr body[] = {OPA(LOCAL_GET, 0), OP(DROP)};
  add_func(b, ft, loc, 1, body, 2);
  expect_invalid(b, "uninitialized local");
}

static void test_local_init_scoped_to_block(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t ft = add_functype(b, NULL, 0, NULL, 0);
  static weft_valtype loc[1];
  loc[0] = REFN(ABS(FUNC));
  /* set inside a block, read after it: invalid (initialisation does not survive `end`) */
  weft_instr body[] = {OPA(BLOCK, WEFT_BT_EMPTY), OPA(REF_FUNC, 0), OPA(LOCAL_SET, 0), OP(END),
                       OPA(LOCAL_GET, 0), OP(DROP)};
  add_func(b, ft, loc, 1, body, 6);
  b->exports[0] = (weft_export){.name = {"f", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0};
  b->m.nexports = 1;
  expect_invalid(b, "uninitialized local");
  /* read inside the same block: valid */
  b = new_mod();
  ft = add_functype(b, NULL, 0, NULL, 0);
  weft_instr body2[] = {OPA(BLOCK, WEFT_BT_EMPTY), OPA(REF_FUNC, 0), OPA(LOCAL_SET, 0),
                        OPA(LOCAL_GET, 0), OP(DROP), OP(END)};
  add_func(b, ft, loc, 1, body2, 6);
  b->exports[0] = (weft_export){.name = {"f", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0};
  b->m.nexports = 1;
  expect_valid(b);
}

static void test_global_immutable(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr gi[] = {CONST32(0)};
  add_global(b, I32, false, gi, 1);
  weft_instr body[] = {CONST32(1), OPA(GLOBAL_SET, 0)};
  add_func(b, t, NULL, 0, body, 2);
  expect_invalid(b, "immutable global 0");
}

static void test_const_expr_required(void **s) {
  (void)s;
  mod *b = new_mod();
  weft_instr gi[] = {CONST32(1), OP(I32_CLZ)};
  add_global(b, I32, false, gi, 2);
  expect_invalid(b, "constant expression required");
  /* extended constants: i32.add is allowed */
  b = new_mod();
  weft_instr gi2[] = {CONST32(1), CONST32(2), OP(I32_ADD)};
  add_global(b, I32, false, gi2, 3);
  expect_valid(b);
}

static void test_const_global_order(void **s) {
  (void)s;
  mod *b = new_mod();
  /* global 0 reads global 1, defined later */
  weft_instr gi0[] = {OPA(GLOBAL_GET, 1)};
  weft_instr gi1[] = {CONST32(1)};
  add_global(b, I32, false, gi0, 1);
  add_global(b, I32, false, gi1, 1);
  expect_invalid(b, "unknown global 1");
  /* an earlier immutable global is fine in Wasm 3.0; a mutable one is not */
  b = new_mod();
  add_global(b, I32, false, gi1, 1);
  weft_instr gi2[] = {OPA(GLOBAL_GET, 0)};
  add_global(b, I32, false, gi2, 1);
  expect_valid(b);
  b = new_mod();
  add_global(b, I32, true, gi1, 1);
  add_global(b, I32, false, gi2, 1);
  expect_invalid(b, "constant expression required");
}

static void test_global_init_type(void **s) {
  (void)s;
  mod *b = new_mod();
  weft_instr gi[] = {CONST64(1)};
  add_global(b, I32, false, gi, 1);
  expect_invalid(b, "type mismatch");
}

/* -- Tests: control -------------------------------------------------------------------------- */

static void test_unknown_label(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {OPA(BLOCK, WEFT_BT_EMPTY), OPA(BR, 2), OP(END)};
  add_func(b, t, NULL, 0, body, 3);
  expect_invalid(b, "unknown label");
}

static void test_block_results(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, i32x2, 1);
  weft_instr body[] = {OPA(BLOCK, I32), CONST32(1), OPA(BR, 0), OP(END)};
  add_func(b, t, NULL, 0, body, 4);
  expect_valid(b);
  b = new_mod();
  t = add_functype(b, NULL, 0, i32x2, 1);
  weft_instr body2[] = {OPA(BLOCK, I32), CONST64(1), OPA(BR, 0), OP(END)};
  add_func(b, t, NULL, 0, body2, 4);
  expect_invalid(b, "type mismatch");
}

static void test_if_without_else(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, i32x2, 1);
  /* if (result i32) without else cannot produce its result on the false branch */
  weft_instr body[] = {CONST32(1), OPA(IF, I32), CONST32(2), OP(END)};
  add_func(b, t, NULL, 0, body, 4);
  expect_invalid(b, "type mismatch");
  /* with a block type [i32] -> [i32] it passes the param through: valid */
  b = new_mod();
  t = add_functype(b, NULL, 0, i32x2, 1);
  uint32_t bt = add_functype(b, i32x2, 1, i32x2, 1);
  weft_instr body2[] = {CONST32(7), CONST32(1), OPA(IF, WEFT_BT_MAKE_TYPEIDX(bt)), OP(I32_EQZ),
                        OP(END)};
  add_func(b, t, NULL, 0, body2, 5);
  expect_valid(b);
}

static void test_br_table_arity(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  b->pool[0] = 0; /* label 0: the i32 block */
  b->pool[1] = 1; /* default: the empty outer block */
  b->m.npool = 2;
  weft_instr body[] = {OPA(BLOCK, WEFT_BT_EMPTY), OPA(BLOCK, I32), CONST32(1), CONST32(0),
                       OPAB(BR_TABLE, 0, 1), OP(END), OP(DROP), OP(END)};
  add_func(b, t, NULL, 0, body, 8);
  expect_invalid(b, "type mismatch");
}

static void test_br_table_pool_bounds(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  b->m.npool = 0;
  weft_instr body[] = {CONST32(0), OPAB(BR_TABLE, 5, 1000000)};
  add_func(b, t, NULL, 0, body, 2);
  weft_diag d;
  assert_int_equal(validate(b, &d), WEFT_ERR_INVALID);
  free(b);
}

static void test_select(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {OPA(REF_NULL, REFNULL(ABS(FUNC))), OPA(REF_NULL, REFNULL(ABS(FUNC))),
                       CONST32(1), OP(SELECT), OP(DROP)};
  add_func(b, t, NULL, 0, body, 5);
  expect_invalid(b, "type mismatch");
  b = new_mod();
  t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr body2[] = {CONST32(1), CONST32(1), CONST32(1), OPAB(SELECT_T, 2, I32), OP(DROP)};
  add_func(b, t, NULL, 0, body2, 5);
  expect_invalid(b, "invalid result arity");
}

static void test_return_call_results(void **s) {
  (void)s;
  mod *b = new_mod();
  static const weft_valtype r64[] = {I64};
  uint32_t t32 = add_functype(b, NULL, 0, i32x2, 1);
  uint32_t t64 = add_functype(b, NULL, 0, r64, 1);
  weft_instr body0[] = {OPA(RETURN_CALL, 1)};
  add_func(b, t32, NULL, 0, body0, 1);
  weft_instr body1[] = {CONST64(1)};
  add_func(b, t64, NULL, 0, body1, 1);
  expect_invalid(b, "type mismatch");
}

static void test_unknown_function(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {OPA(CALL, 7)};
  add_func(b, t, NULL, 0, body, 1);
  expect_invalid(b, "unknown function 7");
}

static void test_nesting_limit(void **s) {
  (void)s;
  cfg_max_nesting = 3;
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {OPA(BLOCK, WEFT_BT_EMPTY), OPA(BLOCK, WEFT_BT_EMPTY), OPA(BLOCK, WEFT_BT_EMPTY),
                       OP(END), OP(END), OP(END)};
  add_func(b, t, NULL, 0, body, 6);
  weft_diag d;
  assert_int_equal(validate(b, &d), WEFT_ERR_LIMIT);
  assert_non_null(strstr(d.message, "max_nesting"));
  free(b);
  cfg_max_nesting = -1;
}

static void test_locals_limit(void **s) {
  (void)s;
  cfg_max_locals = 2;
  mod *b = new_mod();
  uint32_t t = add_functype(b, i32x2, 2, NULL, 0);
  static const weft_valtype loc[] = {I32};
  add_func(b, t, loc, 1, NULL, 0);
  weft_diag d;
  assert_int_equal(validate(b, &d), WEFT_ERR_LIMIT);
  assert_non_null(strstr(d.message, "max_locals"));
  free(b);
  cfg_max_locals = -1;
}

static void test_bad_config_value(void **s) {
  (void)s;
  cfg_max_locals = 0;
  const weft_plugin_desc *desc = weft_plugin_entry_validator(WEFT_ABI_VERSION);
  void *st = NULL;
  weft_diag d;
  memset(&d, 0, sizeof d);
  assert_int_equal(desc->init(&host, fake_cfg, &st, &d), WEFT_ERR_CONFIG);
  assert_non_null(strstr(d.message, "max_locals"));
  assert_null(st);
  cfg_max_locals = -1;
}

/* -- Tests: memory --------------------------------------------------------------------------- */

static void test_alignment(void **s) {
  (void)s;
  mod *b = new_mod();
  add_memory(b, 1, false);
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {CONST32(0), MEMOP(I32_LOAD, 3, 0), OP(DROP)};
  add_func(b, t, NULL, 0, body, 3);
  expect_invalid(b, "alignment must not be larger than natural");
}

static void test_unknown_memory(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {CONST32(0), MEMOP(I32_LOAD, 2, 0), OP(DROP)};
  add_func(b, t, NULL, 0, body, 3);
  expect_invalid(b, "unknown memory 0");
}

static void test_memory64(void **s) {
  (void)s;
  mod *b = new_mod();
  add_memory(b, 1, true);
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {CONST64(0), MEMOP(I32_LOAD, 2, 0x100000000ull), OP(DROP)};
  add_func(b, t, NULL, 0, body, 3);
  expect_valid(b);
  b = new_mod();
  add_memory(b, 1, false);
  t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr body2[] = {CONST32(0), MEMOP(I32_LOAD, 2, 0x100000000ull), OP(DROP)};
  add_func(b, t, NULL, 0, body2, 3);
  expect_invalid(b, "offset out of range");
  b = new_mod();
  add_memory(b, 1, true);
  t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr body3[] = {CONST32(0), MEMOP(I32_LOAD, 2, 0), OP(DROP)};
  add_func(b, t, NULL, 0, body3, 3);
  expect_invalid(b, "type mismatch");
}

static void test_memory_limits(void **s) {
  (void)s;
  mod *b = new_mod();
  add_memory(b, 65537, false);
  expect_invalid(b, "memory size");
  b = new_mod();
  add_memory(b, 2, false);
  b->mems[0].limits.has_max = true;
  b->mems[0].limits.max = 1;
  expect_invalid(b, "size minimum must not be greater than maximum");
}

static void test_data_count(void **s) {
  (void)s;
  mod *b = new_mod();
  add_memory(b, 1, false);
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  b->m.has_data_count = true;
  b->m.data_count = 0;
  weft_instr body[] = {OPA(DATA_DROP, 1)};
  add_func(b, t, NULL, 0, body, 1);
  expect_invalid(b, "unknown data segment 1");
}

static void test_lane_index(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr v = {.op = WEFT_OP_V128_CONST};
  weft_instr ex = {.op = WEFT_OP_I32X4_EXTRACT_LANE, .b = 4};
  weft_instr body[] = {v, ex, OP(DROP)};
  add_func(b, t, NULL, 0, body, 3);
  expect_invalid(b, "invalid lane index");
}

/* -- Tests: module-level rules --------------------------------------------------------------- */

static void test_duplicate_export(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  add_func(b, t, NULL, 0, NULL, 0);
  b->exports[0] = (weft_export){.name = {"a", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0};
  b->exports[1] = (weft_export){.name = {"a", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0};
  b->m.nexports = 2;
  expect_invalid(b, "duplicate export name");
}

static void test_undeclared_ref_func(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {OPA(REF_FUNC, 0), OP(DROP)};
  add_func(b, t, NULL, 0, body, 2);
  expect_invalid(b, "undeclared function reference");
  /* an export declares it */
  b = new_mod();
  t = add_functype(b, NULL, 0, NULL, 0);
  add_func(b, t, NULL, 0, body, 2);
  b->exports[0] = (weft_export){.name = {"f", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0};
  b->m.nexports = 1;
  expect_valid(b);
}

static void test_start_function(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, i32x2, 1);
  weft_instr body[] = {CONST32(0)};
  add_func(b, t, NULL, 0, body, 1);
  b->m.start = 0;
  expect_invalid(b, "start function");
}

static void test_sub_type(void **s) {
  (void)s;
  mod *b = new_mod();
  add_type(b, WEFT_COMP_STRUCT, true, WEFT_NONE); /* final: cannot be extended */
  add_type(b, WEFT_COMP_STRUCT, true, 0);
  expect_invalid(b, "sub type 1 does not match super type 0");
  b = new_mod();
  add_type(b, WEFT_COMP_STRUCT, false, WEFT_NONE);
  add_type(b, WEFT_COMP_ARRAY, true, 0);
  b->types[1].u.array.type = I32;
  expect_invalid(b, "sub type 1 does not match super type 0");
  b = new_mod();
  add_type(b, WEFT_COMP_STRUCT, false, WEFT_NONE);
  add_type(b, WEFT_COMP_STRUCT, true, 0);
  expect_valid(b);
}

static void test_struct_width_depth(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t0 = add_type(b, WEFT_COMP_STRUCT, false, WEFT_NONE);
  b->fields[0][0] = (weft_fieldtype){I32, true};
  b->types[t0].u.strct.nfields = 1;
  b->types[t0].u.strct.fields = b->fields[0];
  uint32_t t1 = add_type(b, WEFT_COMP_STRUCT, false, t0);
  b->fields[1][0] = (weft_fieldtype){I64, true}; /* mutable field changes type: invalid */
  b->types[t1].u.strct.nfields = 1;
  b->types[t1].u.strct.fields = b->fields[1];
  expect_invalid(b, "sub type 1 does not match super type 0");
}

static void test_field_and_array_mutability(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t st = add_type(b, WEFT_COMP_STRUCT, true, WEFT_NONE);
  b->fields[0][0] = (weft_fieldtype){I32, false};
  b->types[st].u.strct.nfields = 1;
  b->types[st].u.strct.fields = b->fields[0];
  static weft_valtype ps[1];
  ps[0] = REFN(st);
  uint32_t t = add_functype(b, ps, 1, NULL, 0);
  weft_instr body[] = {OPA(LOCAL_GET, 0), CONST32(1), OPAB(STRUCT_SET, st, 0)};
  add_func(b, t, NULL, 0, body, 3);
  expect_invalid(b, "field is immutable");

  b = new_mod();
  uint32_t at = add_type(b, WEFT_COMP_ARRAY, true, WEFT_NONE);
  b->types[at].u.array = (weft_fieldtype){WEFT_VT_I8, false};
  ps[0] = REFN(at);
  t = add_functype(b, ps, 1, NULL, 0);
  weft_instr body2[] = {OPA(LOCAL_GET, 0), CONST32(0), CONST32(1), OPA(ARRAY_SET, at)};
  add_func(b, t, NULL, 0, body2, 4);
  expect_invalid(b, "array is immutable");
}

static void test_array_copy_types(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t a8 = add_type(b, WEFT_COMP_ARRAY, true, WEFT_NONE);
  b->types[a8].u.array = (weft_fieldtype){WEFT_VT_I8, true};
  uint32_t a32 = add_type(b, WEFT_COMP_ARRAY, true, WEFT_NONE);
  b->types[a32].u.array = (weft_fieldtype){I32, true};
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {OPA(REF_NULL, REFNULL(a8)), CONST32(0), OPA(REF_NULL, REFNULL(a32)),
                       CONST32(0), CONST32(0), OPAB(ARRAY_COPY, a8, a32)};
  add_func(b, t, NULL, 0, body, 6);
  expect_invalid(b, "array types do not match");
}

static void test_packed_get(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t a8 = add_type(b, WEFT_COMP_ARRAY, true, WEFT_NONE);
  b->types[a8].u.array = (weft_fieldtype){WEFT_VT_I16, true};
  uint32_t t = add_functype(b, NULL, 0, i32x2, 1);
  weft_instr body[] = {OPA(REF_NULL, REFNULL(a8)), CONST32(0), OPA(ARRAY_GET_U, a8)};
  add_func(b, t, NULL, 0, body, 3);
  expect_valid(b);
  b = new_mod();
  a8 = add_type(b, WEFT_COMP_ARRAY, true, WEFT_NONE);
  b->types[a8].u.array = (weft_fieldtype){WEFT_VT_I16, true};
  t = add_functype(b, NULL, 0, i32x2, 1);
  weft_instr body2[] = {OPA(REF_NULL, REFNULL(a8)), CONST32(0), OPA(ARRAY_GET, a8)};
  add_func(b, t, NULL, 0, body2, 3);
  expect_invalid(b, "type mismatch");
}

/* -- Tests: references and subtyping --------------------------------------------------------- */

static void test_heap_subtyping(void **s) {
  (void)s;
  /* (ref null none) flows into anyref; (ref null extern) does not */
  mod *b = new_mod();
  static weft_valtype r[1];
  r[0] = REFNULL(ABS(ANY));
  uint32_t t = add_functype(b, NULL, 0, r, 1);
  weft_instr body[] = {OPA(REF_NULL, REFNULL(ABS(NONE)))};
  add_func(b, t, NULL, 0, body, 1);
  expect_valid(b);
  b = new_mod();
  t = add_functype(b, NULL, 0, r, 1);
  weft_instr body2[] = {OPA(REF_NULL, REFNULL(ABS(EXTERN)))};
  add_func(b, t, NULL, 0, body2, 1);
  expect_invalid(b, "type mismatch");
  /* (ref cont) is not a subtype of anyref (separate hierarchy) */
  b = new_mod();
  t = add_functype(b, NULL, 0, r, 1);
  weft_instr body3[] = {OPA(REF_NULL, REFNULL(ABS(NOCONT)))};
  add_func(b, t, NULL, 0, body3, 1);
  expect_invalid(b, "type mismatch");
}

static void test_rtt_subtyping(void **s) {
  (void)s;
  /* Two struct types with rtts: $b <: $a declared through rtt supers. */
  static weft_rtt ra, rb;
  static const weft_rtt *sa[1], *sb[2];
  ra = (weft_rtt){.id = 1, .depth = 0, .supers = sa, .comp = WEFT_COMP_STRUCT};
  rb = (weft_rtt){.id = 2, .depth = 1, .supers = sb, .comp = WEFT_COMP_STRUCT};
  sa[0] = &ra;
  sb[0] = &ra;
  sb[1] = &rb;
  mod *b = new_mod();
  uint32_t ta = add_type(b, WEFT_COMP_STRUCT, false, WEFT_NONE);
  uint32_t tb = add_type(b, WEFT_COMP_STRUCT, true, ta);
  b->types[ta].rtt = &ra;
  b->types[tb].rtt = &rb;
  static weft_valtype r[1];
  r[0] = REFNULL(ta);
  uint32_t t = add_functype(b, NULL, 0, r, 1);
  weft_instr body[] = {OPA(STRUCT_NEW, tb)};
  add_func(b, t, NULL, 0, body, 1);
  expect_valid(b);
  /* the other direction is a mismatch */
  b = new_mod();
  ta = add_type(b, WEFT_COMP_STRUCT, false, WEFT_NONE);
  tb = add_type(b, WEFT_COMP_STRUCT, true, ta);
  b->types[ta].rtt = &ra;
  b->types[tb].rtt = &rb;
  r[0] = REFNULL(tb);
  t = add_functype(b, NULL, 0, r, 1);
  weft_instr body2[] = {OPA(STRUCT_NEW, ta)};
  add_func(b, t, NULL, 0, body2, 1);
  expect_invalid(b, "type mismatch");
}

static void test_br_on_null(void **s) {
  (void)s;
  mod *b = new_mod();
  static weft_valtype p[1], r[1];
  p[0] = REFNULL(ABS(FUNC));
  r[0] = REFN(ABS(FUNC));
  uint32_t t = add_functype(b, p, 1, r, 1);
  weft_instr body[] = {OPA(LOCAL_GET, 0), OPA(BR_ON_NULL, 0), OP(RETURN)};
  add_func(b, t, NULL, 0, body, 3);
  /* label 0 (the function) expects [(ref func)] but br_on_null passes [] when null: mismatch */
  expect_invalid(b, "type mismatch");
  b = new_mod();
  t = add_functype(b, p, 1, r, 1);
  weft_instr body2[] = {OPA(BLOCK, WEFT_BT_EMPTY), OPA(LOCAL_GET, 0), OPA(BR_ON_NULL, 0), OP(RETURN),
                        OP(END), OP(UNREACHABLE)};
  add_func(b, t, NULL, 0, body2, 6);
  expect_valid(b);
}

static void test_cast_to_cont_invalid(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t ft = add_functype(b, NULL, 0, NULL, 0);
  uint32_t ct = add_type(b, WEFT_COMP_CONT, true, WEFT_NONE);
  b->types[ct].u.cont_func = ft;
  weft_instr body[] = {OPA(REF_NULL, REFNULL(ABS(CONT))), OPA(REF_CAST_NULL, REFNULL(ct)), OP(DROP)};
  add_func(b, ft, NULL, 0, body, 3);
  expect_invalid(b, "invalid cast");
}

/* -- Tests: stack switching ------------------------------------------------------------------ */

static void test_cont_of_non_function(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t st = add_type(b, WEFT_COMP_STRUCT, true, WEFT_NONE);
  uint32_t ct = add_type(b, WEFT_COMP_CONT, true, WEFT_NONE);
  b->types[ct].u.cont_func = st;
  expect_invalid(b, "non-function type 0");
}

/* types: 0 = func [i32] -> [], 1 = cont 0, 2 = func [] -> [] */
static mod *cont_mod(void) {
  mod *b = new_mod();
  uint32_t ft = add_functype(b, i32x2, 1, NULL, 0);
  uint32_t ct = add_type(b, WEFT_COMP_CONT, true, WEFT_NONE);
  b->types[ct].u.cont_func = ft;
  add_functype(b, NULL, 0, NULL, 0);
  return b;
}

static void test_cont_new_resume(void **s) {
  (void)s;
  mod *b = cont_mod();
  add_func(b, 0, NULL, 0, NULL, 0); /* func 0: [i32] -> [] */
  weft_instr body[] = {CONST32(5), OPA(REF_FUNC, 0), OPA(CONT_NEW, 1), OPABC(RESUME, 1, 0, 0)};
  add_func(b, 2, NULL, 0, body, 4);
  b->exports[0] = (weft_export){.name = {"f", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0};
  b->m.nexports = 1;
  expect_valid(b);

  b = cont_mod();
  add_func(b, 0, NULL, 0, NULL, 0);
  weft_instr body2[] = {CONST64(5), OPA(REF_FUNC, 0), OPA(CONT_NEW, 1), OPABC(RESUME, 1, 0, 0)};
  add_func(b, 2, NULL, 0, body2, 4);
  b->exports[0] = (weft_export){.name = {"f", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0};
  b->m.nexports = 1;
  expect_invalid(b, "type mismatch");

  b = cont_mod();
  weft_instr body3[] = {OPA(CONT_NEW, 0)};
  add_func(b, 2, NULL, 0, body3, 1);
  expect_invalid(b, "non-continuation type 0");
}

static void test_cont_bind(void **s) {
  (void)s;
  mod *b = cont_mod();
  /* type 3 = func [i32 i32] -> [], type 4 = cont 3 */
  uint32_t f2 = add_functype(b, i32x2, 2, NULL, 0);
  uint32_t c2 = add_type(b, WEFT_COMP_CONT, true, WEFT_NONE);
  b->types[c2].u.cont_func = f2;
  /* binding from cont [i32] to cont [i32 i32] needs more params than there are */
  weft_instr body[] = {OPA(REF_NULL, REFNULL(1)), OPAB(CONT_BIND, 1, c2), OP(DROP)};
  add_func(b, 2, NULL, 0, body, 3);
  expect_invalid(b, "type mismatch in continuation arguments");

  b = cont_mod();
  f2 = add_functype(b, i32x2, 2, NULL, 0);
  c2 = add_type(b, WEFT_COMP_CONT, true, WEFT_NONE);
  b->types[c2].u.cont_func = f2;
  weft_instr body2[] = {CONST32(1), OPA(REF_NULL, REFNULL(c2)), OPAB(CONT_BIND, c2, 1), OP(DROP)};
  add_func(b, 2, NULL, 0, body2, 4);
  expect_valid(b);
}

static void test_handler_label_concrete(void **s) {
  (void)s;
  mod *b = cont_mod();
  b->tags[0] = (weft_tag){.type = 2, .import = WEFT_NONE};
  b->m.ntags = 1;
  b->pool[0] = WEFT_HANDLER_ON_LABEL;
  b->pool[1] = 0;
  b->pool[2] = 0;
  b->m.npool = 3;
  /* block (result (ref cont)) with a handler targeting it: the label must be a concrete cont */
  weft_instr body[] = {OPA(BLOCK, REFN(ABS(CONT))), CONST32(1), OPA(REF_NULL, REFNULL(1)),
                       OPABC(RESUME, 1, 0, 1), OP(UNREACHABLE), OP(END), OP(DROP)};
  add_func(b, 2, NULL, 0, body, 7);
  expect_invalid(b, "type mismatch: instruction requires concrete continuation reference type but "
                    "label has [(ref cont)]");
}

static void test_switch_tag(void **s) {
  (void)s;
  mod *b = cont_mod();
  b->tags[0] = (weft_tag){.type = 0, .import = WEFT_NONE}; /* tag with a param: invalid for switch */
  b->m.ntags = 1;
  weft_instr body[] = {OPA(REF_NULL, REFNULL(1)), OPAB(SWITCH, 1, 0)};
  add_func(b, 2, NULL, 0, body, 2);
  expect_invalid(b, "type mismatch in switch tag");
}

static void test_suspend(void **s) {
  (void)s;
  mod *b = cont_mod();
  uint32_t tt = add_functype(b, i32x2, 1, i32x2, 1); /* tag [i32] -> [i32]: results allowed */
  b->tags[0] = (weft_tag){.type = tt, .import = WEFT_NONE};
  b->m.ntags = 1;
  weft_instr body[] = {CONST32(1), OPA(SUSPEND, 0), OP(DROP)};
  add_func(b, 2, NULL, 0, body, 3);
  expect_valid(b);
  b = cont_mod();
  weft_instr body2[] = {OPA(SUSPEND, 0)};
  add_func(b, 2, NULL, 0, body2, 1);
  expect_invalid(b, "unknown tag 0");
}

/* -- Tests: plugin ABI and failure paths ----------------------------------------------------- */

static void test_abi_mismatch(void **s) {
  (void)s;
  assert_null(weft_plugin_entry_validator(WEFT_ABI_MAKE(WEFT_ABI_MAJOR + 1, 0)));
  const weft_plugin_desc *d = weft_plugin_entry_validator(WEFT_ABI_MAKE(WEFT_ABI_MAJOR, 99));
  assert_non_null(d);
  assert_int_equal(d->kind, WEFT_PLUGIN_VALIDATOR);
  assert_string_equal(d->name, "validator");
  assert_int_equal(d->nkeys, 4);
  const weft_validator_iface *vi = d->iface;
  assert_true(WEFT_HAS(vi, weft_validator_iface, validate));
}

static void test_init_oom(void **s) {
  (void)s;
  const weft_plugin_desc *desc = weft_plugin_entry_validator(WEFT_ABI_VERSION);
  void *st = NULL;
  weft_diag d;
  memset(&d, 0, sizeof d);
  script_allocs = true;
  will_return(alloc_gate, 1);
  assert_int_equal(desc->init(&host, fake_cfg, &st, &d), WEFT_ERR_NOMEM);
  script_allocs = false;
  assert_null(st);
}

/* The Nth allocation during validation fails: NOMEM, no leak, no crash, for every N until the
 * validation needs fewer allocations than N (then it succeeds). */
static void test_validate_oom_every_allocation(void **s) {
  (void)s;
  int nomem = 0;
  for (int n = 0; n < 64; n++) {
    mod *b = new_mod();
    uint32_t t = add_functype(b, i32x2, 2, i32x2, 1);
    weft_instr body[] = {OPA(BLOCK, I32), OPA(LOCAL_GET, 0), OPA(LOCAL_GET, 1), OP(I32_ADD),
                         OP(END)};
    add_func(b, t, NULL, 0, body, 5);
    b->exports[0] = (weft_export){.name = {"f", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0};
    b->m.nexports = 1;
    plugin p = load();
    int before = live_allocs;
    fail_nth = n;
    weft_diag d;
    memset(&d, 0, sizeof d);
    int rc = p.vi->validate(p.state, &b->m, &d);
    fail_nth = -1;
    assert_int_equal(live_allocs, before);
    unload(&p);
    free(b);
    if (rc == WEFT_OK) break;
    assert_int_equal(rc, WEFT_ERR_NOMEM);
    assert_non_null(strstr(d.message, "out of memory"));
    nomem++;
  }
  assert_true(nomem >= 3); /* refs bitmap, export set, value stack, ... */
}

/* Scripted: the first allocation of validate() (the C.refs bitmap) fails. */
static void test_validate_first_alloc_fails(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  add_func(b, t, NULL, 0, NULL, 0);
  plugin p = load();
  script_allocs = true;
  will_return(alloc_gate, 1);
  weft_diag d;
  memset(&d, 0, sizeof d);
  assert_int_equal(p.vi->validate(p.state, &b->m, &d), WEFT_ERR_NOMEM);
  script_allocs = false;
  unload(&p);
  free(b);
}

/* -- Tests: more rules ----------------------------------------------------------------------- */

static void add_table(mod *b, weft_valtype elem, uint64_t min, bool is64) {
  weft_table *t = &b->tables[b->m.ntables++];
  memset(t, 0, sizeof *t);
  t->type.elem = elem;
  t->type.limits.min = min;
  t->type.limits.is64 = is64;
  t->import = WEFT_NONE;
}

static void test_try_table_catches(void **s) {
  (void)s;
  /* catch $e (params [i32]) to a block (result i32): valid */
  mod *b = new_mod();
  uint32_t tt = add_functype(b, i32x2, 1, NULL, 0);
  uint32_t t = add_functype(b, NULL, 0, i32x2, 1);
  b->tags[0] = (weft_tag){.type = tt, .import = WEFT_NONE};
  b->m.ntags = 1;
  b->pool[0] = WEFT_CATCH;
  b->pool[1] = 0;
  b->pool[2] = 0;
  b->m.npool = 3;
  weft_instr body[] = {OPA(BLOCK, I32), OPABC(TRY_TABLE, WEFT_BT_EMPTY, 0, 1), OP(END),
                       CONST32(0), OP(END)};
  add_func(b, t, NULL, 0, body, 5);
  expect_valid(b);
  /* catch_ref needs [i32 exnref] at the label: mismatch */
  b = new_mod();
  tt = add_functype(b, i32x2, 1, NULL, 0);
  t = add_functype(b, NULL, 0, i32x2, 1);
  b->tags[0] = (weft_tag){.type = tt, .import = WEFT_NONE};
  b->m.ntags = 1;
  b->pool[0] = WEFT_CATCH_REF;
  b->pool[1] = 0;
  b->pool[2] = 0;
  b->m.npool = 3;
  add_func(b, t, NULL, 0, body, 5);
  expect_invalid(b, "type mismatch");
}

static void test_call_indirect_table(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  add_table(b, WEFT_VT_EXTERNREF, 1, false);
  weft_instr body[] = {CONST32(0), OPAB(CALL_INDIRECT, t, 0)};
  add_func(b, t, NULL, 0, body, 2);
  expect_invalid(b, "type mismatch");
  b = new_mod();
  t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr body2[] = {CONST32(0), OPAB(CALL_INDIRECT, t, 0)};
  add_func(b, t, NULL, 0, body2, 2);
  expect_invalid(b, "unknown table 0");
  /* table64 takes an i64 index */
  b = new_mod();
  t = add_functype(b, NULL, 0, NULL, 0);
  add_table(b, WEFT_VT_FUNCREF, 1, true);
  weft_instr body3[] = {CONST64(0), OPAB(CALL_INDIRECT, t, 0)};
  add_func(b, t, NULL, 0, body3, 2);
  expect_valid(b);
}

static void test_table_rules(void **s) {
  (void)s;
  /* a table of non-nullable references needs an initializer */
  mod *b = new_mod();
  add_table(b, REFN(ABS(FUNC)), 1, false);
  expect_invalid(b, "type mismatch");
  /* table.copy from externref to funcref */
  b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  add_table(b, WEFT_VT_FUNCREF, 1, false);
  add_table(b, WEFT_VT_EXTERNREF, 1, false);
  weft_instr body[] = {CONST32(0), CONST32(0), CONST32(0), OPAB(TABLE_COPY, 0, 1)};
  add_func(b, t, NULL, 0, body, 4);
  expect_invalid(b, "type mismatch");
  /* table size limits */
  b = new_mod();
  add_table(b, WEFT_VT_FUNCREF, 0x100000000ull, false);
  expect_invalid(b, "table size");
}

static void test_elem_segments(void **s) {
  (void)s;
  static weft_instr item[2], offs[2];
  static weft_expr items[1];
  static weft_elem el[1];
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  add_func(b, t, NULL, 0, NULL, 0);
  add_table(b, REFNULL(t), 1, false);
  item[0] = OPA(REF_FUNC, 0);
  item[1] = OP(END);
  items[0] = (weft_expr){2, item};
  offs[0] = CONST32(0);
  offs[1] = OP(END);
  el[0] = (weft_elem){.mode = WEFT_SEG_ACTIVE, .table = 0, .offset = {2, offs},
                      .type = WEFT_VT_FUNCREF, .nitems = 1, .items = items, .off = 77};
  b->m.elems = el;
  b->m.nelems = 1;
  weft_diag d;
  assert_int_equal(validate(b, &d), WEFT_ERR_INVALID); /* funcref is not <: (ref null $t) */
  assert_true(strncmp(d.message, "type mismatch", 13) == 0);
  assert_int_equal(d.offset, 77);
  free(b);
  /* with the element type (ref $t) it fits, and the ref.func declares function 0 */
  b = new_mod();
  t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {OPA(REF_FUNC, 0), OP(DROP)};
  add_func(b, t, NULL, 0, body, 2);
  add_table(b, REFNULL(t), 1, false);
  el[0].type = REFN(t);
  b->m.elems = el;
  b->m.nelems = 1;
  expect_valid(b);
  /* elem.drop of a missing segment */
  b = new_mod();
  t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr body2[] = {OPA(ELEM_DROP, 4)};
  add_func(b, t, NULL, 0, body2, 1);
  expect_invalid(b, "unknown elem segment 4");
}

static void test_data_segments(void **s) {
  (void)s;
  static weft_instr offs[2];
  static weft_data ds[1];
  offs[0] = CONST32(0);
  offs[1] = OP(END);
  ds[0] = (weft_data){.mode = WEFT_SEG_ACTIVE, .mem = 0, .offset = {2, offs}, .off = 55};
  mod *b = new_mod();
  b->m.datas = ds;
  b->m.ndatas = 1;
  expect_invalid(b, "unknown memory 0");
  /* memory64 wants an i64 offset */
  b = new_mod();
  add_memory(b, 1, true);
  b->m.datas = ds;
  b->m.ndatas = 1;
  expect_invalid(b, "type mismatch");
}

static void test_imports_and_exports(void **s) {
  (void)s;
  static weft_import im[1];
  mod *b = new_mod();
  uint32_t st = add_type(b, WEFT_COMP_STRUCT, true, WEFT_NONE);
  b->funcs[0] = (weft_func){.type = st, .import = 0};
  b->m.nfuncs = b->m.nfunc_imports = 1;
  im[0] = (weft_import){.module = {"m", 1}, .name = {"f", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0,
                        .off = 33};
  b->m.imports = im;
  b->m.nimports = 1;
  weft_diag d;
  assert_int_equal(validate(b, &d), WEFT_ERR_INVALID); /* an imported function of a struct type */
  assert_int_equal(d.offset, 33);
  free(b);
  b = new_mod();
  b->exports[0] = (weft_export){.name = {"g", 1}, .kind = WEFT_EXTERN_GLOBAL, .index = 0};
  b->m.nexports = 1;
  expect_invalid(b, "unknown global 0");
  /* the same name for different kinds is still a duplicate; distinct names are fine */
  b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  add_func(b, t, NULL, 0, NULL, 0);
  add_memory(b, 1, false);
  b->exports[0] = (weft_export){.name = {"x", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0};
  b->exports[1] = (weft_export){.name = {"x", 1}, .kind = WEFT_EXTERN_MEMORY, .index = 0};
  b->m.nexports = 2;
  expect_invalid(b, "duplicate export name");
  b = new_mod();
  t = add_functype(b, NULL, 0, NULL, 0);
  add_func(b, t, NULL, 0, NULL, 0);
  add_memory(b, 1, false);
  b->exports[0] = (weft_export){.name = {"x", 1}, .kind = WEFT_EXTERN_FUNC, .index = 0};
  b->exports[1] = (weft_export){.name = {"xy", 2}, .kind = WEFT_EXTERN_MEMORY, .index = 0};
  b->m.nexports = 2;
  expect_valid(b);
}

static void test_br_on_cast(void **s) {
  (void)s;
  /* br_on_cast 0 anyref -> (ref i31) inside block (result (ref i31)): valid */
  mod *b = new_mod();
  static weft_valtype p[1];
  p[0] = REFNULL(ABS(ANY));
  uint32_t t = add_functype(b, p, 1, NULL, 0);
  weft_instr cast = {.op = WEFT_OP_BR_ON_CAST, .b = 1, .imm.x = {.a = 0, .b = REFNULL(ABS(ANY)),
                                                                 .c = REFN(ABS(I31))}};
  weft_instr body[] = {OPA(BLOCK, REFN(ABS(I31))), OPA(LOCAL_GET, 0), cast, OP(DROP), OP(UNREACHABLE),
                       OP(END), OP(DROP)};
  add_func(b, t, NULL, 0, body, 7);
  expect_valid(b);
  /* the target must be a subtype of the source: (ref extern) is not <: anyref */
  b = new_mod();
  t = add_functype(b, p, 1, NULL, 0);
  cast.imm.x.c = REFN(ABS(EXTERN));
  weft_instr body2[] = {OPA(BLOCK, REFN(ABS(EXTERN))), OPA(LOCAL_GET, 0), cast, OP(DROP),
                        OP(UNREACHABLE), OP(END), OP(DROP)};
  add_func(b, t, NULL, 0, body2, 7);
  expect_invalid(b, "type mismatch");
}

static void test_ref_test_source_hierarchy(void **s) {
  (void)s;
  /* ref.test (ref i31) on an externref operand: different hierarchies */
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {OPA(REF_NULL, WEFT_VT_EXTERNREF), OPA(REF_TEST, REFN(ABS(I31))), OP(DROP)};
  add_func(b, t, NULL, 0, body, 3);
  expect_invalid(b, "type mismatch");
}

static void test_struct_new_default(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t st = add_type(b, WEFT_COMP_STRUCT, true, WEFT_NONE);
  b->fields[0][0] = (weft_fieldtype){REFN(ABS(ANY)), false};
  b->types[st].u.strct.nfields = 1;
  b->types[st].u.strct.fields = b->fields[0];
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  weft_instr body[] = {OPA(STRUCT_NEW_DEFAULT, st), OP(DROP)};
  add_func(b, t, NULL, 0, body, 2);
  expect_invalid(b, "type mismatch");
}

static void test_array_new_data_numeric(void **s) {
  (void)s;
  mod *b = new_mod();
  uint32_t at = add_type(b, WEFT_COMP_ARRAY, true, WEFT_NONE);
  b->types[at].u.array = (weft_fieldtype){WEFT_VT_FUNCREF, true};
  uint32_t t = add_functype(b, NULL, 0, NULL, 0);
  b->m.has_data_count = true;
  b->m.data_count = 1;
  static weft_data ds[1];
  ds[0] = (weft_data){.mode = WEFT_SEG_PASSIVE};
  b->m.datas = ds;
  b->m.ndatas = 1;
  weft_instr body[] = {CONST32(0), CONST32(0), OPAB(ARRAY_NEW_DATA, at, 0), OP(DROP)};
  add_func(b, t, NULL, 0, body, 4);
  expect_invalid(b, "array type is not numeric or vector");
}

static void test_call_ref_and_tail(void **s) {
  (void)s;
  /* call_ref $t on a (ref null $t) local; return_call_ref with matching results */
  mod *b = new_mod();
  uint32_t t = add_functype(b, NULL, 0, i32x2, 1);
  static weft_valtype p[1];
  p[0] = REFNULL(t);
  uint32_t t2 = add_functype(b, p, 1, i32x2, 1);
  weft_instr body[] = {OPA(LOCAL_GET, 0), OPA(CALL_REF, t), OP(DROP), OPA(LOCAL_GET, 0),
                       OPA(RETURN_CALL_REF, t)};
  add_func(b, t2, NULL, 0, body, 5);
  expect_valid(b);
  /* call_ref with the wrong reference type */
  b = new_mod();
  t = add_functype(b, NULL, 0, i32x2, 1);
  p[0] = REFNULL(ABS(FUNC));
  t2 = add_functype(b, p, 1, i32x2, 1);
  weft_instr body2[] = {OPA(LOCAL_GET, 0), OPA(CALL_REF, t)};
  add_func(b, t2, NULL, 0, body2, 2);
  expect_invalid(b, "type mismatch");
}

static void test_resume_with_handler(void **s) {
  (void)s;
  /* types: 0 = func [] -> [], 1 = cont 0 */
  mod *b = new_mod();
  uint32_t ft = add_functype(b, NULL, 0, NULL, 0);
  uint32_t ct = add_type(b, WEFT_COMP_CONT, true, WEFT_NONE);
  b->types[ct].u.cont_func = ft;
  b->tags[0] = (weft_tag){.type = ft, .import = WEFT_NONE};
  b->m.ntags = 1;
  b->pool[0] = WEFT_HANDLER_ON_LABEL;
  b->pool[1] = 0;
  b->pool[2] = 0;
  b->m.npool = 3;
  static weft_valtype p[1];
  p[0] = REFN(ct);
  uint32_t t = add_functype(b, p, 1, NULL, 0);
  /* block $h (result (ref $ct)) (resume $ct (on $e $h) (local.get 0)) return end drop */
  weft_instr body[] = {OPA(BLOCK, REFN(ct)), OPA(LOCAL_GET, 0), OPABC(RESUME, ct, 0, 1), OP(RETURN),
                       OP(END), OP(DROP)};
  add_func(b, t, NULL, 0, body, 6);
  expect_valid(b);
  /* a handler label of a function reference type: "non-continuation type" */
  b = new_mod();
  ft = add_functype(b, NULL, 0, NULL, 0);
  ct = add_type(b, WEFT_COMP_CONT, true, WEFT_NONE);
  b->types[ct].u.cont_func = ft;
  b->tags[0] = (weft_tag){.type = ft, .import = WEFT_NONE};
  b->m.ntags = 1;
  b->pool[0] = WEFT_HANDLER_ON_LABEL;
  b->pool[1] = 0;
  b->pool[2] = 0;
  b->m.npool = 3;
  p[0] = REFN(ct);
  t = add_functype(b, p, 1, NULL, 0);
  weft_instr body2[] = {OPA(BLOCK, REFN(ft)), OPA(LOCAL_GET, 0), OPABC(RESUME, ct, 0, 1), OP(RETURN),
                        OP(END), OP(DROP)};
  add_func(b, t, NULL, 0, body2, 6);
  expect_invalid(b, "non-continuation type");
}

static void test_switch_valid(void **s) {
  (void)s;
  /* rec: 0 = func [(ref null 1)] -> [], 1 = cont 0; tag 0: [] -> [] */
  mod *b = new_mod();
  static weft_valtype p[1];
  p[0] = REFNULL(1);
  uint32_t ft = add_functype(b, p, 1, NULL, 0);
  b->types[ft].rec_size = 2;
  uint32_t ct = add_type(b, WEFT_COMP_CONT, true, WEFT_NONE);
  b->types[ct].u.cont_func = ft;
  b->types[ct].rec_start = 0;
  b->types[ct].rec_size = 2;
  uint32_t et = add_functype(b, NULL, 0, NULL, 0);
  b->tags[0] = (weft_tag){.type = et, .import = WEFT_NONE};
  b->m.ntags = 1;
  /* switch $ct $e: pops (ref null $ct), pushes the params of the captured type: [(ref null 1)] */
  weft_instr body[] = {OPA(REF_NULL, REFNULL(ct)), OPAB(SWITCH, ct, 0), OP(DROP)};
  add_func(b, et, NULL, 0, body, 3);
  expect_valid(b);
}

static void test_types_limit(void **s) {
  (void)s;
  cfg_max_types = 3;
  mod *b = new_mod();
  for (int k = 0; k < 3; k++) add_functype(b, NULL, 0, NULL, 0);
  expect_valid(b);
  b = new_mod();
  for (int k = 0; k < 4; k++) add_functype(b, NULL, 0, NULL, 0);
  weft_diag d;
  assert_int_equal(validate(b, &d), WEFT_ERR_LIMIT);
  assert_non_null(strstr(d.message, "max_types"));
  free(b);
  cfg_max_types = -1;
}

/* -- Tests: robustness ------------------------------------------------------------------------ */

static const uint16_t all_ops[] = {
#define OPCODE_VALUE(id, code, text, imm, sig) (uint16_t)(code),
    WEFT_OPCODE_LIST(OPCODE_VALUE)
#undef OPCODE_VALUE
};

static uint32_t rnd_state = 12345;
static uint32_t rnd(void) {
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 17;
  rnd_state ^= rnd_state << 5;
  return rnd_state;
}

/* Small immediates most of the time, huge ones sometimes: indices, counts and pool ranges. */
static uint32_t rnd_imm(void) {
  switch (rnd() % 6) {
  case 0: return UINT32_MAX - rnd() % 4;
  case 1: return rnd();
  default: return rnd() % 6;
  }
}

/* Random instruction sequences with random immediates over a module with a bit of everything:
 * validation must return (valid or not) without crashing, hanging or leaking. */
static void test_random_ir_never_crashes(void **s) {
  (void)s;
  size_t nops = sizeof all_ops / sizeof all_ops[0];
  int valid = 0, invalid = 0;
  for (int iter = 0; iter < 3000; iter++) {
    mod *b = new_mod();
    uint32_t ft = add_functype(b, i32x2, 2, i32x2, 1);
    uint32_t st = add_type(b, WEFT_COMP_STRUCT, false, WEFT_NONE);
    b->fields[0][0] = (weft_fieldtype){WEFT_VT_I8, true};
    b->fields[0][1] = (weft_fieldtype){REFNULL(ft), false};
    b->types[st].u.strct.nfields = 2;
    b->types[st].u.strct.fields = b->fields[0];
    uint32_t at = add_type(b, WEFT_COMP_ARRAY, false, WEFT_NONE);
    b->types[at].u.array = (weft_fieldtype){I32, true};
    uint32_t ct = add_type(b, WEFT_COMP_CONT, true, WEFT_NONE);
    b->types[ct].u.cont_func = ft;
    add_memory(b, 1, iter & 1);
    b->tables[0].type.elem = WEFT_VT_FUNCREF;
    b->tables[0].import = WEFT_NONE;
    b->m.ntables = 1;
    b->tags[0] = (weft_tag){.type = ft, .import = WEFT_NONE};
    b->m.ntags = 1;
    weft_instr gi[] = {CONST32(1)};
    add_global(b, I32, true, gi, 1);
    for (uint32_t k = 0; k < 32; k++) b->pool[k] = rnd() % 5;
    b->m.npool = 32;
    b->m.has_data_count = true;
    static weft_valtype loc[2];
    loc[0] = I64;
    loc[1] = REFN(ft);
    weft_instr body[40];
    uint32_t n = 1 + rnd() % 40;
    for (uint32_t k = 0; k < n; k++) {
      weft_instr in;
      memset(&in, 0, sizeof in);
      in.op = all_ops[rnd() % nops];
      in.b = (uint8_t)rnd();
      if (rnd() % 3 == 0) {
        in.imm.x.a = (uint32_t)WEFT_VT_MAKE_REF(rnd() & 1, rnd() % 2 ? rnd() % 6 : WEFT_HT_ABS(0x68 + rnd() % 14));
        if (rnd() % 4 == 0) in.imm.x.a = rnd() % 2 ? WEFT_BT_EMPTY : I32;
      } else {
        in.imm.x.a = rnd_imm();
      }
      in.imm.x.b = rnd_imm();
      in.imm.x.c = rnd_imm();
      in.imm.x.d = rnd_imm();
      body[k] = in;
    }
    add_func(b, ft, loc, 2, body, n > 39 ? 39 : n);
    plugin p = load();
    int before = live_allocs;
    weft_diag d;
    memset(&d, 0, sizeof d);
    int rc = p.vi->validate(p.state, &b->m, &d);
    assert_true(rc == WEFT_OK || rc == WEFT_ERR_INVALID || rc == WEFT_ERR_LIMIT);
    if (rc == WEFT_OK) valid++;
    else {
      invalid++;
      assert_true(d.message[0] != 0);
    }
    assert_int_equal(live_allocs, before);
    unload(&p);
    free(b);
  }
  assert_true(invalid > 0);
  (void)valid;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_add_valid),
      cmocka_unit_test(test_add_mismatch),
      cmocka_unit_test(test_throw_message),
      cmocka_unit_test(test_diag_offset),
      cmocka_unit_test(test_unreachable_polymorphic),
      cmocka_unit_test(test_leftover_value),
      cmocka_unit_test(test_unknown_local),
      cmocka_unit_test(test_uninitialized_local),
      cmocka_unit_test(test_local_init_scoped_to_block),
      cmocka_unit_test(test_global_immutable),
      cmocka_unit_test(test_const_expr_required),
      cmocka_unit_test(test_const_global_order),
      cmocka_unit_test(test_global_init_type),
      cmocka_unit_test(test_unknown_label),
      cmocka_unit_test(test_block_results),
      cmocka_unit_test(test_if_without_else),
      cmocka_unit_test(test_br_table_arity),
      cmocka_unit_test(test_br_table_pool_bounds),
      cmocka_unit_test(test_select),
      cmocka_unit_test(test_return_call_results),
      cmocka_unit_test(test_unknown_function),
      cmocka_unit_test(test_nesting_limit),
      cmocka_unit_test(test_locals_limit),
      cmocka_unit_test(test_bad_config_value),
      cmocka_unit_test(test_alignment),
      cmocka_unit_test(test_unknown_memory),
      cmocka_unit_test(test_memory64),
      cmocka_unit_test(test_memory_limits),
      cmocka_unit_test(test_data_count),
      cmocka_unit_test(test_lane_index),
      cmocka_unit_test(test_duplicate_export),
      cmocka_unit_test(test_undeclared_ref_func),
      cmocka_unit_test(test_start_function),
      cmocka_unit_test(test_sub_type),
      cmocka_unit_test(test_struct_width_depth),
      cmocka_unit_test(test_field_and_array_mutability),
      cmocka_unit_test(test_array_copy_types),
      cmocka_unit_test(test_packed_get),
      cmocka_unit_test(test_heap_subtyping),
      cmocka_unit_test(test_rtt_subtyping),
      cmocka_unit_test(test_br_on_null),
      cmocka_unit_test(test_cast_to_cont_invalid),
      cmocka_unit_test(test_cont_of_non_function),
      cmocka_unit_test(test_cont_new_resume),
      cmocka_unit_test(test_cont_bind),
      cmocka_unit_test(test_handler_label_concrete),
      cmocka_unit_test(test_switch_tag),
      cmocka_unit_test(test_suspend),
      cmocka_unit_test(test_abi_mismatch),
      cmocka_unit_test(test_init_oom),
      cmocka_unit_test(test_validate_oom_every_allocation),
      cmocka_unit_test(test_validate_first_alloc_fails),
      cmocka_unit_test(test_try_table_catches),
      cmocka_unit_test(test_call_indirect_table),
      cmocka_unit_test(test_table_rules),
      cmocka_unit_test(test_elem_segments),
      cmocka_unit_test(test_data_segments),
      cmocka_unit_test(test_imports_and_exports),
      cmocka_unit_test(test_br_on_cast),
      cmocka_unit_test(test_ref_test_source_hierarchy),
      cmocka_unit_test(test_struct_new_default),
      cmocka_unit_test(test_array_new_data_numeric),
      cmocka_unit_test(test_call_ref_and_tail),
      cmocka_unit_test(test_resume_with_handler),
      cmocka_unit_test(test_switch_valid),
      cmocka_unit_test(test_types_limit),
      cmocka_unit_test(test_random_ir_never_crashes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
