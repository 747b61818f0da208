/* tests/unit/codegen/test_x64_run.c -- end-to-end tests of the x64-codegen plugin: modules built
 * by hand as weft_module IR are compiled through the plugin's descriptor, instantiated in a fake
 * vmctx (fake_host.c) and run through their array-call trampolines. Results are compared with C
 * reference computations; traps are checked by their code.
 * Depends on: fake_host.h, the x64-codegen OBJECT library (WEFT_PLUGIN_STATIC), cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "fake_host.h"
#include "x64_int.h"

const weft_plugin_desc *weft_plugin_entry_x64_codegen(uint32_t host_abi);

/* -- Module builder -------------------------------------------------------------------------- */

#define OP(o) {.op = WEFT_OP_##o}
#define OPA(o, a) {.op = WEFT_OP_##o, .imm.x = {(a), 0, 0, 0}}
#define OPAB(o, a, b) {.op = WEFT_OP_##o, .imm.x = {(a), (b), 0, 0}}
#define I32C(v) {.op = WEFT_OP_I32_CONST, .imm.i32 = (int32_t)(v)}
#define I64C(v) {.op = WEFT_OP_I64_CONST, .imm.i64 = (int64_t)(v)}
#define F64C(bits) {.op = WEFT_OP_F64_CONST, .imm.f64 = (bits)}
#define MEMOP(o, off) {.op = WEFT_OP_##o, .imm.mem = {(off), 0, 0}}
#define LG(i) OPA(LOCAL_GET, i)
#define NI(a) (uint32_t)(sizeof(a) / sizeof *(a))

static const weft_valtype VI32 = WEFT_VT_I32, VI64 = WEFT_VT_I64, VF64 = WEFT_VT_F64, VF32 = WEFT_VT_F32;

typedef struct tmod {
  weft_module m;
  weft_type types[8];
  weft_func funcs[16];
  weft_memory mems[2];
  weft_table tables[2];
  weft_global globals[4];
  weft_valtype vts[64];
  uint32_t nvts;
  uint32_t pool[32];
} tmod;

static void mod_init(tmod *t) {
  memset(t, 0, sizeof *t);
  t->m.types = t->types;
  t->m.funcs = t->funcs;
  t->m.mems = t->mems;
  t->m.tables = t->tables;
  t->m.globals = t->globals;
  t->m.pool = t->pool;
  t->m.npool = 32;
  t->m.start = WEFT_NONE;
}

/* Add a function type from two strings of value-type letters, e.g. "il" -> "l". */
static uint32_t add_type(tmod *t, const char *params, const char *results, bool final) {
  weft_type *ty = &t->types[t->m.ntypes];
  ty->comp = WEFT_COMP_FUNC;
  ty->final = final;
  ty->super = WEFT_NONE;
  const char *lists[2] = {params, results};
  for (int k = 0; k < 2; k++) {
    weft_valtype *start = &t->vts[t->nvts];
    uint32_t n = 0;
    for (const char *p = lists[k]; *p; p++, n++) {
      weft_valtype v = *p == 'i' ? VI32 : *p == 'l' ? VI64 : *p == 'f' ? VF32 : *p == 'd' ? VF64 : WEFT_VT_FUNCREF;
      t->vts[t->nvts++] = v;
    }
    if (k == 0)
      ty->u.func.params = start, ty->u.func.nparams = n;
    else
      ty->u.func.results = start, ty->u.func.nresults = n;
  }
  return t->m.ntypes++;
}

static uint32_t add_import(tmod *t, uint32_t type) {
  weft_func *f = &t->funcs[t->m.nfuncs];
  f->type = type;
  f->import = t->m.nfunc_imports;
  t->m.nfunc_imports++;
  return t->m.nfuncs++;
}

static uint32_t add_func(tmod *t, uint32_t type, const char *locals, const weft_instr *code, uint32_t n) {
  weft_func *f = &t->funcs[t->m.nfuncs];
  f->type = type;
  f->import = WEFT_NONE;
  f->body.code = code;
  f->body.ninstrs = n;
  weft_valtype *start = &t->vts[t->nvts];
  for (const char *p = locals; *p; p++) {
    t->vts[t->nvts++] = *p == 'i' ? VI32 : *p == 'l' ? VI64 : *p == 'f' ? VF32 : VF64;
    f->nlocals++;
  }
  f->locals = start;
  return t->m.nfuncs++;
}

static void add_memory(tmod *t, uint64_t min, bool is64) {
  t->mems[t->m.nmems].limits.min = min;
  t->mems[t->m.nmems].limits.is64 = is64;
  t->mems[t->m.nmems].import = WEFT_NONE;
  t->m.nmems++;
}

/* -- Plugin plumbing ------------------------------------------------------------------------- */

typedef struct rt {
  const weft_plugin_desc *desc;
  const weft_codegen_iface *cg;
  void *state;
  weft_code_info *ci;
  fake_inst inst;
} rt;

static void rt_compile_rc(rt *r, tmod *t, int want_rc, weft_diag *d) {
  fake_host_init();
  r->desc = weft_plugin_entry_x64_codegen(WEFT_ABI_VERSION);
  assert_non_null(r->desc);
  assert_int_equal(r->desc->kind, WEFT_PLUGIN_CODEGEN);
  r->cg = r->desc->iface;
  assert_int_equal(r->desc->init(&fake_host, NULL, &r->state, d), WEFT_OK);
  int rc = r->cg->compile(r->state, &t->m, &r->ci, d);
  assert_int_equal(rc, want_rc);
}

static void rt_start(rt *r, tmod *t, weft_funcref *const *imports) {
  weft_diag d;
  memset(&d, 0, sizeof d);
  rt_compile_rc(r, t, WEFT_OK, &d);
  assert_non_null(r->ci);
  fake_inst_init(&r->inst, &t->m, r->ci, imports);
}

static void rt_stop(rt *r) {
  fake_inst_fini(&r->inst);
  r->cg->release(r->state, r->ci);
  r->desc->fini(r->state);
}

static int64_t call1(rt *r, uint32_t f, int64_t a) {
  weft_val_raw s[4];
  memset(s, 0xAB, sizeof s);
  s[0].i64 = a;
  assert_true(fake_call(&r->inst, f, s, 1));
  return s[0].i64;
}

static uint32_t call_trap(rt *r, uint32_t f, int64_t a, int64_t b) {
  weft_val_raw s[4];
  memset(s, 0, sizeof s);
  s[0].i64 = a, s[1].i64 = b;
  assert_false(fake_call(&r->inst, f, s, 2));
  return fake_store->trap_code;
}

/* -- Tests: control and calls ---------------------------------------------------------------- */

static void test_factorial(void **st) {
  (void)st;
  tmod t;
  mod_init(&t);
  uint32_t ty = add_type(&t, "l", "l", true);
  static const weft_instr fac[] = {
      LG(0), OP(I64_EQZ), OPA(IF, WEFT_VT_I64), I64C(1), OP(ELSE), LG(0), LG(0), I64C(1), OP(I64_SUB),
      OPA(CALL, 0), OP(I64_MUL), OP(END), OP(END)};
  add_func(&t, ty, "", fac, NI(fac));
  rt r;
  rt_start(&r, &t, NULL);
  assert_int_equal(call1(&r, 0, 0), 1);
  assert_int_equal(call1(&r, 0, 5), 120);
  assert_int_equal(call1(&r, 0, 20), 2432902008176640000ll);
  rt_stop(&r);
}

static void test_fibonacci(void **st) {
  (void)st;
  tmod t;
  mod_init(&t);
  uint32_t ty = add_type(&t, "i", "i", true);
  /* recursive: n < 2 ? n : fib(n-1) + fib(n-2) (fused compare + if, early return) */
  static const weft_instr fib[] = {
      LG(0), I32C(2), OP(I32_LT_S), OPA(IF, WEFT_BT_EMPTY), LG(0), OP(RETURN), OP(END),
      LG(0), I32C(1), OP(I32_SUB), OPA(CALL, 0), LG(0), I32C(2), OP(I32_SUB), OPA(CALL, 0),
      OP(I32_ADD), OP(END)};
  /* iterative: a, b = 0, 1; loop n times (fused compare + br_if) */
  static const weft_instr fib2[] = {
      I32C(1), OPA(LOCAL_SET, 2),
      OPA(BLOCK, WEFT_BT_EMPTY), OPA(LOOP, WEFT_BT_EMPTY),
      LG(0), OP(I32_EQZ), OPA(BR_IF, 1),
      LG(1), LG(2), OP(I32_ADD), LG(2), OPA(LOCAL_SET, 1), OPA(LOCAL_SET, 2),
      LG(0), I32C(1), OP(I32_SUB), OPA(LOCAL_SET, 0), OPA(BR, 0), OP(END), OP(END), LG(1), OP(END)};
  add_func(&t, ty, "", fib, NI(fib));
  add_func(&t, ty, "ii", fib2, NI(fib2));
  rt r;
  rt_start(&r, &t, NULL);
  assert_int_equal(call1(&r, 0, 0), 0);
  assert_int_equal(call1(&r, 0, 1), 1);
  assert_int_equal(call1(&r, 0, 25), 75025);
  for (int n = 0; n < 30; n++) assert_int_equal(call1(&r, 1, n), call1(&r, 0, n));
  assert_int_equal(call1(&r, 1, 46), 1836311903);
  rt_stop(&r);
}

static void test_loop_sum(void **st) {
  (void)st;
  tmod t;
  mod_init(&t);
  uint32_t ty = add_type(&t, "l", "l", true);
  /* sum = 0; i = 1; do { sum += i; i++ } while (i <= n) */
  static const weft_instr sum[] = {
      I64C(1), OPA(LOCAL_SET, 2),
      OPA(LOOP, WEFT_BT_EMPTY), LG(1), LG(2), OP(I64_ADD), OPA(LOCAL_SET, 1),
      LG(2), I64C(1), OP(I64_ADD), OPA(LOCAL_TEE, 2), LG(0), OP(I64_LE_S), OPA(BR_IF, 0), OP(END),
      LG(1), OP(END)};
  add_func(&t, ty, "ll", sum, NI(sum));
  rt r;
  rt_start(&r, &t, NULL);
  assert_int_equal(call1(&r, 0, 1), 1);
  assert_int_equal(call1(&r, 0, 100000), 5000050000ll);
  rt_stop(&r);
}

static void test_br_table(void **st) {
  (void)st;
  tmod t;
  mod_init(&t);
  uint32_t ty = add_type(&t, "i", "i", true);
  t.pool[0] = 0, t.pool[1] = 1, t.pool[2] = 2, t.pool[3] = 0, t.pool[4] = 3; /* 0 1 2 0, default 3 */
  static const weft_instr sw[] = {
      OPA(BLOCK, WEFT_BT_EMPTY), OPA(BLOCK, WEFT_BT_EMPTY), OPA(BLOCK, WEFT_BT_EMPTY),
      OPA(BLOCK, WEFT_BT_EMPTY), LG(0), OPAB(BR_TABLE, 0, 4), OP(END),
      I32C(10), OP(RETURN), OP(END), I32C(20), OP(RETURN), OP(END), I32C(30), OP(RETURN), OP(END),
      I32C(99), OP(END)};
  /* br_table carrying a value to a block with a result */
  static const weft_instr sw2[] = {
      OPA(BLOCK, WEFT_VT_I32), OPA(BLOCK, WEFT_VT_I32), I32C(7), LG(0), OPAB(BR_TABLE, 5, 1), OP(END),
      I32C(100), OP(I32_ADD), OP(END), OP(END)};
  t.pool[5] = 0, t.pool[6] = 1;
  add_func(&t, ty, "", sw, NI(sw));
  add_func(&t, ty, "", sw2, NI(sw2));
  rt r;
  rt_start(&r, &t, NULL);
  assert_int_equal(call1(&r, 0, 0), 10);
  assert_int_equal(call1(&r, 0, 1), 20);
  assert_int_equal(call1(&r, 0, 2), 30);
  assert_int_equal(call1(&r, 0, 3), 10);
  assert_int_equal(call1(&r, 0, 4), 99);
  assert_int_equal(call1(&r, 0, 1000), 99);
  assert_int_equal(call1(&r, 0, 0xFFFFFFFF), 99);
  assert_int_equal(call1(&r, 1, 0), 107);
  assert_int_equal(call1(&r, 1, 1), 7);
  assert_int_equal(call1(&r, 1, 5), 7);
  rt_stop(&r);
}

static void test_multi_value(void **st) {
  (void)st;
  tmod t;
  mod_init(&t);
  uint32_t t3 = add_type(&t, "i", "ili", true);  /* 0 */
  uint32_t t1 = add_type(&t, "i", "l", true);    /* 1 */
  uint32_t tb = add_type(&t, "ii", "i", true);   /* 2: block type [i32 i32] -> [i32] */
  static const weft_instr three[] = {
      LG(0), I32C(1), OP(I32_ADD), LG(0), OP(I64_EXTEND_I32_S), I64C(2), OP(I64_MUL), LG(0), I32C(1),
      OP(I32_SUB), OP(END)};
  /* (a+1) + a*2 + (a-1) computed from the three results, then a block with params, an if with params */
  static const weft_instr user[] = {
      LG(0), OPA(CALL, 0), OPA(LOCAL_SET, 1), OP(I64_EXTEND_I32_S), OP(I64_ADD), LG(1),
      OP(I64_EXTEND_I32_S), OP(I64_ADD),
      I32C(3), I32C(4), OPA(BLOCK, WEFT_BT_MAKE_TYPEIDX(2)), OP(I32_ADD), OP(END), OP(I64_EXTEND_I32_U),
      OP(I64_ADD),
      I32C(5), I32C(6), LG(0), OPA(IF, WEFT_BT_MAKE_TYPEIDX(2)), OP(I32_MUL), OP(ELSE), OP(I32_SUB),
      OP(END), OP(I64_EXTEND_I32_S), OP(I64_ADD), OP(END)};
  add_func(&t, t3, "", three, NI(three));
  add_func(&t, t1, "i", user, NI(user));
  (void)tb;
  rt r;
  rt_start(&r, &t, NULL);
  weft_val_raw s[3];
  memset(s, 0, sizeof s);
  s[0].i32 = 10;
  assert_true(fake_call(&r.inst, 0, s, 3));
  assert_int_equal(s[0].i32, 11);
  assert_int_equal(s[1].i64, 20);
  assert_int_equal(s[2].i32, 9);
  /* a=10: 11+20+9 = 40, +7, +30 (if a != 0) = 77; a=0: 1+0-1 = 0, +7, -1 = 6 */
  assert_int_equal(call1(&r, 1, 10), 77);
  assert_int_equal(call1(&r, 1, 0), 6);
  rt_stop(&r);
}

static void test_tail_calls(void **st) {
  (void)st;
  tmod t;
  mod_init(&t);
  uint32_t t2 = add_type(&t, "ll", "l", true);   /* 0 countdown(n, acc) */
  uint32_t t1 = add_type(&t, "l", "l", true);    /* 1 even(n) */
  uint32_t t4 = add_type(&t, "llll", "l", true); /* 2 odd(n, x, y, z): a larger parameter area */
  static const weft_instr countdown[] = {
      LG(0), OP(I64_EQZ), OPA(IF, WEFT_BT_EMPTY), LG(1), OP(RETURN), OP(END),
      LG(0), I64C(1), OP(I64_SUB), LG(1), I64C(1), OP(I64_ADD), OPA(RETURN_CALL, 0), OP(END)};
  static const weft_instr even[] = {
      LG(0), OP(I64_EQZ), OPA(IF, WEFT_BT_EMPTY), I64C(1), OP(RETURN), OP(END),
      LG(0), I64C(1), OP(I64_SUB), I64C(7), I64C(8), I64C(9), OPA(RETURN_CALL, 2), OP(END)};
  static const weft_instr odd[] = {
      LG(1), I64C(7), OP(I64_NE), OPA(IF, WEFT_BT_EMPTY), OP(UNREACHABLE), OP(END),
      LG(3), I64C(9), OP(I64_NE), OPA(IF, WEFT_BT_EMPTY), OP(UNREACHABLE), OP(END),
      LG(0), OP(I64_EQZ), OPA(IF, WEFT_BT_EMPTY), I64C(0), OP(RETURN), OP(END),
      LG(0), I64C(1), OP(I64_SUB), OPA(RETURN_CALL, 1), OP(END)};
  /* a non-tail caller checks that its own frame survived */
  static const weft_instr caller[] = {LG(0), I64C(0), OPA(CALL, 0), LG(0), OP(I64_SUB), OP(END)};
  add_func(&t, t2, "", countdown, NI(countdown));
  add_func(&t, t1, "", even, NI(even));
  add_func(&t, t4, "", odd, NI(odd));
  add_func(&t, t1, "", caller, NI(caller));
  rt r;
  rt_start(&r, &t, NULL);
  weft_val_raw s[2];
  s[0].i64 = 1000000, s[1].i64 = 0;
  assert_true(fake_call(&r.inst, 0, s, 2));
  assert_int_equal(s[0].i64, 1000000);
  assert_int_equal(call1(&r, 1, 1000000), 1);
  assert_int_equal(call1(&r, 1, 1000001), 0);
  assert_int_equal(call1(&r, 3, 12345), 0);
  rt_stop(&r);
}

/* Hot locals are pinned to registers; they must survive calls (saved home, reloaded). */
static void test_pinned_locals_across_calls(void **st) {
  (void)st;
  tmod t;
  mod_init(&t);
  uint32_t tl = add_type(&t, "l", "l", true);
  static const weft_instr triple[] = {LG(0), I64C(3), OP(I64_MUL), OP(END)};
  static const weft_instr loop[] = {
      OPA(LOOP, WEFT_BT_EMPTY),
      LG(2), LG(1), OPA(CALL, 0), OP(I64_ADD), OPA(LOCAL_SET, 2),
      LG(3), LG(1), OP(F64_CONVERT_I64_S), OP(F64_ADD), OPA(LOCAL_SET, 3),
      LG(1), I64C(1), OP(I64_ADD), OPA(LOCAL_TEE, 1), LG(0), OP(I64_LT_S), OPA(BR_IF, 0), OP(END),
      LG(2), LG(3), OP(I64_TRUNC_F64_S), OP(I64_ADD), OP(END)};
  add_func(&t, tl, "", triple, NI(triple));
  add_func(&t, tl, "lld", loop, NI(loop));
  rt r;
  rt_start(&r, &t, NULL);
  assert_int_equal(call1(&r, 1, 1), 0);
  assert_int_equal(call1(&r, 1, 1000), 4 * 499500);
  assert_int_equal(call1(&r, 1, 100000), 4ll * 4999950000ll);
  rt_stop(&r);
}

/* Reads of a pinned local that are still on the stack keep the value they read when the local
 * is overwritten (swap through the stack, read-then-set). */
static void test_pinned_hazards(void **st) {
  (void)st;
  tmod t;
  mod_init(&t);
  uint32_t ty = add_type(&t, "i", "l", true);
  static const weft_instr body[] = {
      I64C(1), OPA(LOCAL_SET, 1), I64C(2), OPA(LOCAL_SET, 2),
      OPA(LOOP, WEFT_BT_EMPTY),
      LG(1), LG(2), OPA(LOCAL_SET, 1), OPA(LOCAL_SET, 2),                 /* swap a, b */
      LG(2), LG(1), LG(1), I64C(3), OP(I64_MUL), OPA(LOCAL_SET, 1),       /* [b, old a], a *= 3 */
      OP(I64_ADD), LG(1), OP(I64_SUB), OPA(LOCAL_SET, 2),                 /* b = b + old - a */
      LG(1), LG(1), OPA(LOCAL_TEE, 1), OP(I64_NE), OPA(IF, WEFT_BT_EMPTY), OP(UNREACHABLE), OP(END),
      LG(3), I32C(1), OP(I32_ADD), OPA(LOCAL_TEE, 3), LG(0), OP(I32_LT_S), OPA(BR_IF, 0), OP(END),
      LG(1), I64C(1000), OP(I64_MUL), LG(2), OP(I64_ADD), OP(END)};
  weft_instr code[NI(body)];
  memcpy(code, body, sizeof body);
  add_func(&t, ty, "lli", code, NI(code));
  rt r;
  rt_start(&r, &t, NULL);
  for (int n = 1; n < 12; n++) {
    int64_t a = 1, b = 2;
    for (int k = 0; k < n; k++) {
      int64_t tmp = a;
      a = b, b = tmp;
      int64_t old = a;
      a *= 3;
      b = b + old - a;
    }
    assert_int_equal(call1(&r, 0, n), a * 1000 + b);
  }
  rt_stop(&r);
}

static void test_traps(void **st) {
  (void)st;
  tmod t;
  mod_init(&t);
  uint32_t ty = add_type(&t, "ii", "i", true);
  static const weft_instr unreach[] = {OP(UNREACHABLE), OP(END)};
  static const weft_instr divs[] = {LG(0), LG(1), OP(I32_DIV_S), OP(END)};
  static const weft_instr rems[] = {LG(0), LG(1), OP(I32_REM_S), OP(END)};
  static const weft_instr divu[] = {LG(0), LG(1), OP(I32_DIV_U), OP(END)};
  static const weft_instr rec[] = {LG(0), LG(1), OPA(CALL, 4), OP(END)};
  static const weft_instr divc[] = {LG(0), I32C(-1), OP(I32_DIV_S), OP(END)};
  add_func(&t, ty, "", unreach, NI(unreach));
  add_func(&t, ty, "", divs, NI(divs));
  add_func(&t, ty, "", rems, NI(rems));
  add_func(&t, ty, "", divu, NI(divu));
  add_func(&t, ty, "", rec, NI(rec));
  add_func(&t, ty, "", divc, NI(divc));
  rt r;
  rt_start(&r, &t, NULL);
  assert_int_equal(call_trap(&r, 0, 0, 0), WEFT_TRAP_UNREACHABLE);
  assert_int_equal(call_trap(&r, 1, 5, 0), WEFT_TRAP_INT_DIV_ZERO);
  assert_int_equal(call_trap(&r, 1, INT32_MIN, -1), WEFT_TRAP_INT_OVERFLOW);
  assert_int_equal(call_trap(&r, 5, (uint32_t)INT32_MIN, 0), WEFT_TRAP_INT_OVERFLOW);
  assert_int_equal(call_trap(&r, 2, 5, 0), WEFT_TRAP_INT_DIV_ZERO);
  assert_int_equal(call_trap(&r, 3, 5, 0), WEFT_TRAP_INT_DIV_ZERO);
  assert_int_equal(call_trap(&r, 4, 1, 2), WEFT_TRAP_STACK_EXHAUSTED);
  /* the entry state was restored after each trap, and code still runs */
  weft_val_raw s[2] = {{.i32 = INT32_MIN}, {.i32 = -1}};
  assert_true(fake_call(&r.inst, 2, s, 2));
  assert_int_equal(s[0].i32, 0);
  s[0].i32 = -7, s[1].i32 = 2;
  assert_true(fake_call(&r.inst, 1, s, 2));
  assert_int_equal(s[0].i32, -3);
  s[0].i32 = -7, s[1].i32 = 2;
  assert_true(fake_call(&r.inst, 3, s, 2));
  assert_int_equal((uint32_t)s[0].i32, 0xFFFFFFF9u / 2);
  assert_int_equal(fake_store->limits.last_wasm_entry_trap_handler, 0);
  rt_stop(&r);
}

/* -- Tests: numeric against C ---------------------------------------------------------------- */

typedef struct binop {
  uint16_t op;
  int kind; /* 0 i32 binop, 1 i64 binop, 2 i32 compare, 3 i64 compare */
} binop;

static uint64_t ref_i32(uint16_t op, uint32_t a, uint32_t b) {
  switch (op) {
  case WEFT_OP_I32_ADD: return a + b;
  case WEFT_OP_I32_SUB: return a - b;
  case WEFT_OP_I32_MUL: return a * b;
  case WEFT_OP_I32_AND: return a & b;
  case WEFT_OP_I32_OR: return a | b;
  case WEFT_OP_I32_XOR: return a ^ b;
  case WEFT_OP_I32_SHL: return a << (b & 31);
  case WEFT_OP_I32_SHR_S: return (uint32_t)((int32_t)a >> (b & 31));
  case WEFT_OP_I32_SHR_U: return a >> (b & 31);
  case WEFT_OP_I32_ROTL: return (a << (b & 31)) | (a >> ((32 - (b & 31)) & 31));
  case WEFT_OP_I32_ROTR: return (a >> (b & 31)) | (a << ((32 - (b & 31)) & 31));
  case WEFT_OP_I32_EQ: return a == b;
  case WEFT_OP_I32_NE: return a != b;
  case WEFT_OP_I32_LT_S: return (int32_t)a < (int32_t)b;
  case WEFT_OP_I32_LT_U: return a < b;
  case WEFT_OP_I32_GT_S: return (int32_t)a > (int32_t)b;
  case WEFT_OP_I32_GT_U: return a > b;
  case WEFT_OP_I32_LE_S: return (int32_t)a <= (int32_t)b;
  case WEFT_OP_I32_LE_U: return a <= b;
  case WEFT_OP_I32_GE_S: return (int32_t)a >= (int32_t)b;
  case WEFT_OP_I32_GE_U: return a >= b;
  case WEFT_OP_I32_DIV_U: return a / b;
  case WEFT_OP_I32_REM_U: return a % b;
  case WEFT_OP_I32_DIV_S: return (uint32_t)((int32_t)a / (int32_t)b);
  case WEFT_OP_I32_REM_S: return (uint32_t)((int32_t)a % (int32_t)b);
  default: fail(); return 0;
  }
}

static uint64_t ref_i64(uint16_t op, uint64_t a, uint64_t b) {
  switch (op) {
  case WEFT_OP_I64_ADD: return a + b;
  case WEFT_OP_I64_SUB: return a - b;
  case WEFT_OP_I64_MUL: return a * b;
  case WEFT_OP_I64_AND: return a & b;
  case WEFT_OP_I64_OR: return a | b;
  case WEFT_OP_I64_XOR: return a ^ b;
  case WEFT_OP_I64_SHL: return a << (b & 63);
  case WEFT_OP_I64_SHR_S: return (uint64_t)((int64_t)a >> (b & 63));
  case WEFT_OP_I64_SHR_U: return a >> (b & 63);
  case WEFT_OP_I64_ROTL: return (a << (b & 63)) | (a >> ((64 - (b & 63)) & 63));
  case WEFT_OP_I64_ROTR: return (a >> (b & 63)) | (a << ((64 - (b & 63)) & 63));
  case WEFT_OP_I64_EQ: return a == b;
  case WEFT_OP_I64_NE: return a != b;
  case WEFT_OP_I64_LT_S: return (int64_t)a < (int64_t)b;
  case WEFT_OP_I64_LT_U: return a < b;
  case WEFT_OP_I64_GT_S: return (int64_t)a > (int64_t)b;
  case WEFT_OP_I64_GT_U: return a > b;
  case WEFT_OP_I64_LE_S: return (int64_t)a <= (int64_t)b;
  case WEFT_OP_I64_LE_U: return a <= b;
  case WEFT_OP_I64_GE_S: return (int64_t)a >= (int64_t)b;
  case WEFT_OP_I64_GE_U: return a >= b;
  case WEFT_OP_I64_DIV_U: return a / b;
  case WEFT_OP_I64_REM_U: return a % b;
  case WEFT_OP_I64_DIV_S: return (uint64_t)((int64_t)a / (int64_t)b);
  case WEFT_OP_I64_REM_S: return (uint64_t)((int64_t)a % (int64_t)b);
  default: fail(); return 0;
  }
}

static const uint16_t ops32[] = {
    WEFT_OP_I32_ADD, WEFT_OP_I32_SUB, WEFT_OP_I32_MUL, WEFT_OP_I32_AND, WEFT_OP_I32_OR, WEFT_OP_I32_XOR,
    WEFT_OP_I32_SHL, WEFT_OP_I32_SHR_S, WEFT_OP_I32_SHR_U, WEFT_OP_I32_ROTL, WEFT_OP_I32_ROTR,
    WEFT_OP_I32_EQ, WEFT_OP_I32_NE, WEFT_OP_I32_LT_S, WEFT_OP_I32_LT_U, WEFT_OP_I32_GT_S,
    WEFT_OP_I32_GT_U, WEFT_OP_I32_LE_S, WEFT_OP_I32_LE_U, WEFT_OP_I32_GE_S, WEFT_OP_I32_GE_U,
    WEFT_OP_I32_DIV_U, WEFT_OP_I32_REM_U, WEFT_OP_I32_DIV_S, WEFT_OP_I32_REM_S};

/* Each op in three shapes: both operands from locals, the right one constant, the left one
 * constant; with the result used as a value and, for compares, as a fused branch condition. */
static void run_binops(bool wide) {
  static const uint64_t vals[] = {0, 1, 2, 3, 7, 31, 32, 33, 63, 64, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
                                  0x123456789ull, 0x8000000000000000ull, 0xFFFFFFFFFFFFFFFFull,
                                  0xFFFFFFFFFFFFFFF0ull, 12345678};
  for (size_t k = 0; k < NI(ops32); k++) {
    uint16_t op = (uint16_t)(ops32[k] + (wide ? (ops32[k] >= WEFT_OP_I32_CLZ ? 0x12 : 0x0B) : 0));
    bool cmp = ops32[k] >= WEFT_OP_I32_EQ && ops32[k] <= WEFT_OP_I32_GE_U;
    bool div = ops32[k] >= WEFT_OP_I32_DIV_S && ops32[k] <= WEFT_OP_I32_REM_U;
    for (size_t bi = 0; bi < NI(vals); bi++) {
      uint64_t bv = wide ? vals[bi] : (uint32_t)vals[bi];
      tmod t;
      mod_init(&t);
      uint32_t ty = add_type(&t, wide ? "ll" : "ii", wide ? (cmp ? "i" : "l") : "i", true);
      weft_instr c1[] = {LG(0), LG(1), {.op = op}, OP(END)};
      weft_instr c2[] = {LG(0), wide ? (weft_instr)I64C(bv) : (weft_instr)I32C(bv), {.op = op}, OP(END)};
      weft_instr c3[] = {wide ? (weft_instr)I64C(bv) : (weft_instr)I32C(bv), LG(1), {.op = op}, OP(END)};
      weft_instr c4[] = {LG(0), LG(1), {.op = op}, OPA(IF, WEFT_VT_I32), I32C(1), OP(ELSE), I32C(0),
                         OP(END), OP(END)};
      /* the same inside a loop, where the parameters are pinned to registers */
      weft_valtype rt_ = (wide && !cmp) ? WEFT_VT_I64 : WEFT_VT_I32;
      weft_instr c5[] = {OPA(LOOP, rt_), LG(0), wide ? (weft_instr)I64C(bv) : (weft_instr)I32C(bv), {.op = op},
                         OP(END), OP(END)};
      weft_instr c6[] = {OPA(LOOP, rt_), LG(0), LG(1), {.op = op}, OP(END), OP(END)};
      add_func(&t, ty, "", c1, NI(c1));
      add_func(&t, ty, "", c2, NI(c2));
      add_func(&t, ty, "", c3, NI(c3));
      add_func(&t, ty, "", c5, NI(c5));
      add_func(&t, ty, "", c6, NI(c6));
      if (cmp) add_func(&t, ty, "", c4, NI(c4));
      rt r;
      rt_start(&r, &t, NULL);
      for (size_t ai = 0; ai < NI(vals); ai++) {
        uint64_t av = wide ? vals[ai] : (uint32_t)vals[ai];
        for (uint32_t f = 0; f < t.m.nfuncs; f++) {
          uint64_t x = f == 2 ? bv : av, y = f == 2 ? av : bv;
          if (f == 2) x = bv, y = av;
          /* f1: a op const(b); f2: const(b) op a (local 1 = a) */
          weft_val_raw s[2];
          memset(s, 0xCD, sizeof s);
          if (f == 2) {
            s[0].i64 = 0, s[1].i64 = (int64_t)av;
            if (!wide) s[1].i32 = (int32_t)av;
          } else {
            s[0].i64 = (int64_t)av, s[1].i64 = (int64_t)bv;
            if (!wide) s[0].i32 = (int32_t)av, s[1].i32 = (int32_t)bv;
          }
          bool zero = div && y == 0;
          bool ovf = div && (ops32[k] == WEFT_OP_I32_DIV_S) &&
                     (wide ? (x == 0x8000000000000000ull && y == UINT64_MAX) : (x == 0x80000000u && y == 0xFFFFFFFFu));
          bool removf = div && (ops32[k] == WEFT_OP_I32_REM_S) &&
                        (wide ? (x == 0x8000000000000000ull && y == UINT64_MAX) : (x == 0x80000000u && y == 0xFFFFFFFFu));
          bool ok = fake_call(&r.inst, f, s, 2);
          if (zero) {
            assert_false(ok);
            assert_int_equal(fake_store->trap_code, WEFT_TRAP_INT_DIV_ZERO);
            continue;
          }
          if (ovf) {
            assert_false(ok);
            assert_int_equal(fake_store->trap_code, WEFT_TRAP_INT_OVERFLOW);
            continue;
          }
          assert_true(ok);
          uint64_t want = removf ? 0 : wide ? ref_i64(op, x, y) : ref_i32(op, (uint32_t)x, (uint32_t)y);
          uint64_t got = (wide && !cmp) ? (uint64_t)s[0].i64 : (uint32_t)s[0].i32;
          if (got != want) print_error("op 0x%x f%u a=%llx b=%llx\n", op, f, (unsigned long long)x, (unsigned long long)y);
          assert_int_equal(got, want);
        }
      }
      rt_stop(&r);
    }
  }
}

static void test_i32_binops(void **st) { (void)st; run_binops(false); }
static void test_i64_binops(void **st) { (void)st; run_binops(true); }

static uint64_t dbits(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }
static double bitsd(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }

static void test_float(void **st) {
  (void)st;
  tmod t;
  mod_init(&t);
  uint32_t tdd = add_type(&t, "dd", "d", true);
  uint32_t td = add_type(&t, "d", "d", true);
  uint32_t tdi = add_type(&t, "d", "i", true);
  uint32_t tdl = add_type(&t, "d", "l", true);
  uint32_t tld = add_type(&t, "l", "d", true);
  uint32_t tff = add_type(&t, "ff", "f", true);
  static const weft_instr fmin[] = {LG(0), LG(1), OP(F64_MIN), OP(END)};               /* 0 */
  static const weft_instr fmax[] = {LG(0), LG(1), OP(F64_MAX), OP(END)};               /* 1 */
  static const weft_instr fnear[] = {LG(0), OP(F64_NEAREST), OP(END)};                 /* 2 */
  static const weft_instr ftr[] = {LG(0), OP(I32_TRUNC_F64_S), OP(END)};               /* 3 */
  static const weft_instr fsat[] = {LG(0), OP(I32_TRUNC_SAT_F64_U), OP(END)};          /* 4 */
  static const weft_instr fcvu[] = {LG(0), OP(F64_CONVERT_I64_U), OP(END)};            /* 5 */
  static const weft_instr fcs[] = {LG(0), LG(1), OP(F64_COPYSIGN), OP(END)};           /* 6 */
  static const weft_instr ftu64[] = {LG(0), OP(I64_TRUNC_F64_U), OP(END)};             /* 7 */
  static const weft_instr fadd32[] = {LG(0), LG(1), OP(F32_ADD), OP(F32_SQRT), OP(END)}; /* 8 */
  static const weft_instr fcmp[] = {LG(0), LG(1), OP(F64_LT), LG(0), LG(1), OP(F64_EQ), I32C(2), OP(I32_MUL),
                                    OP(I32_ADD), OP(F64_CONVERT_I32_S), OP(END)};        /* 9 */
  static const weft_instr fneg[] = {LG(0), OP(F64_NEG), OP(F64_ABS), F64C(0x4000000000000000ull), OP(F64_DIV), OP(END)}; /* 10 */
  static const weft_instr fsat64[] = {LG(0), OP(I64_TRUNC_SAT_F64_S), OP(END)};        /* 11 */
  add_func(&t, tdd, "", fmin, NI(fmin));
  add_func(&t, tdd, "", fmax, NI(fmax));
  add_func(&t, td, "", fnear, NI(fnear));
  add_func(&t, tdi, "", ftr, NI(ftr));
  add_func(&t, tdi, "", fsat, NI(fsat));
  add_func(&t, tld, "", fcvu, NI(fcvu));
  add_func(&t, tdd, "", fcs, NI(fcs));
  add_func(&t, tdl, "", ftu64, NI(ftu64));
  add_func(&t, tff, "", fadd32, NI(fadd32));
  add_func(&t, tdd, "", fcmp, NI(fcmp));
  add_func(&t, td, "", fneg, NI(fneg));
  add_func(&t, tdl, "", fsat64, NI(fsat64));
  rt r;
  rt_start(&r, &t, NULL);
  weft_val_raw s[2];
#define CALLD(f, a, b) (s[0].f64 = dbits(a), s[1].f64 = dbits(b), assert_true(fake_call(&r.inst, f, s, 2)), bitsd(s[0].f64))
  assert_true(signbit(CALLD(0, 0.0, -0.0)));
  assert_true(signbit(CALLD(0, -0.0, 0.0)));
  assert_false(signbit(CALLD(1, -0.0, 0.0)));
  assert_true(isnan(CALLD(0, NAN, 1.0)));
  assert_true(isnan(CALLD(1, 1.0, NAN)));
  assert_true(CALLD(0, 3.0, -2.0) == -2.0);
  assert_true(CALLD(1, 3.0, -2.0) == 3.0);
  assert_true(CALLD(2, 2.5, 0) == 2.0);
  assert_true(CALLD(2, -3.5, 0) == -4.0);
  assert_true(CALLD(2, 0.49999999999999994, 0) == 0.0);
  assert_true(CALLD(6, 3.0, -0.0) == -3.0);
  assert_true(CALLD(6, -3.0, 1.0) == 3.0);
  assert_true(CALLD(9, 1.0, 2.0) == 1.0);
  assert_true(CALLD(9, 2.0, 2.0) == 2.0);
  assert_true(CALLD(9, NAN, 2.0) == 0.0);
  assert_true(CALLD(10, 5.0, 0) == 2.5);
  s[0].f64 = dbits(-2147483648.9);
  assert_true(fake_call(&r.inst, 3, s, 1));
  assert_int_equal(s[0].i32, INT32_MIN);
  s[0].f64 = dbits(2147483647.9);
  assert_true(fake_call(&r.inst, 3, s, 1));
  assert_int_equal(s[0].i32, INT32_MAX);
  s[0].f64 = dbits(2147483648.0);
  assert_false(fake_call(&r.inst, 3, s, 1));
  assert_int_equal(fake_store->trap_code, WEFT_TRAP_INT_OVERFLOW);
  s[0].f64 = dbits(NAN);
  assert_false(fake_call(&r.inst, 3, s, 1));
  assert_int_equal(fake_store->trap_code, WEFT_TRAP_BAD_CONVERSION);
  s[0].f64 = dbits(-5.0);
  assert_true(fake_call(&r.inst, 4, s, 1));
  assert_int_equal(s[0].i32, 0);
  s[0].f64 = dbits(1e20);
  assert_true(fake_call(&r.inst, 4, s, 1));
  assert_int_equal((uint32_t)s[0].i32, UINT32_MAX);
  s[0].f64 = dbits(4294967295.5);
  assert_true(fake_call(&r.inst, 4, s, 1));
  assert_int_equal((uint32_t)s[0].i32, UINT32_MAX);
  s[0].i64 = -1;
  assert_true(fake_call(&r.inst, 5, s, 1));
  assert_true(bitsd(s[0].f64) == 18446744073709551616.0);
  s[0].i64 = (int64_t)0x8000000000000401ull; /* needs round-to-odd to be correct */
  assert_true(fake_call(&r.inst, 5, s, 1));
  assert_true(bitsd(s[0].f64) == (double)0x8000000000000401ull);
  s[0].f64 = dbits(18446744073709549568.0);
  assert_true(fake_call(&r.inst, 7, s, 1));
  assert_true((uint64_t)s[0].i64 == 18446744073709549568ull);
  s[0].f64 = dbits(18446744073709551616.0);
  assert_false(fake_call(&r.inst, 7, s, 1));
  assert_int_equal(fake_store->trap_code, WEFT_TRAP_INT_OVERFLOW);
  s[0].f64 = dbits(-0.9);
  assert_true(fake_call(&r.inst, 7, s, 1));
  assert_int_equal(s[0].i64, 0);
  s[0].f64 = dbits(-1e300);
  assert_true(fake_call(&r.inst, 11, s, 1));
  assert_true(s[0].i64 == INT64_MIN);
  s[0].f64 = dbits(NAN);
  assert_true(fake_call(&r.inst, 11, s, 1));
  assert_int_equal(s[0].i64, 0);
  float a = 7.0f, b = 9.0f;
  memcpy(&s[0].f32, &a, 4), memcpy(&s[1].f32, &b, 4);
  assert_true(fake_call(&r.inst, 8, s, 2));
  float res;
  memcpy(&res, &s[0].f32, 4);
  assert_true(res == 4.0f);
#undef CALLD
  rt_stop(&r);
}

/* -- Tests: memory, globals, tables, imports ------------------------------------------------- */

static void run_memory(bool explicit_bounds, bool mem64) {
  tmod t;
  mod_init(&t);
  add_memory(&t, 1, mem64);
  uint32_t ty = add_type(&t, mem64 ? "ll" : "ii", "l", true);
  /* store i32 at [a], then load it back with sign/zero extension variants, summed */
  static const weft_instr st_ld[] = {
      LG(0), LG(1), MEMOP(I32_STORE, 4), LG(0), MEMOP(I64_LOAD8_S, 4), LG(0), MEMOP(I64_LOAD16_U, 4),
      OP(I64_ADD), LG(0), MEMOP(I64_LOAD32_S, 4), OP(I64_ADD), OP(END)};
  static const weft_instr ld[] = {LG(0), MEMOP(I64_LOAD, 0), OP(END)};
  static const weft_instr grow[] = {LG(0), OPA(MEMORY_GROW, 0), OP(DROP), OPA(MEMORY_SIZE, 0), OP(END)};
  static const weft_instr grow32[] = {LG(0), OPA(MEMORY_GROW, 0), OP(DROP), OPA(MEMORY_SIZE, 0),
                                      OP(I64_EXTEND_I32_U), OP(END)};
  add_func(&t, ty, "", st_ld, NI(st_ld));
  add_func(&t, ty, "", ld, NI(ld));
  add_func(&t, ty, "", mem64 ? grow : grow32, mem64 ? NI(grow) : NI(grow32));
  fake_host_init();
  const weft_plugin_desc *desc = weft_plugin_entry_x64_codegen(WEFT_ABI_VERSION);
  rt r;
  memset(&r, 0, sizeof r);
  weft_diag d;
  rt_compile_rc(&r, &t, WEFT_OK, &d);
  (void)desc;
  if (explicit_bounds) {
    /* recompile with the explicit mode the config key selects */
    r.cg->release(r.state, r.ci);
    ((x64_state *)r.state)->explicit_bounds = true;
    assert_int_equal(r.cg->compile(r.state, &t.m, &r.ci, &d), WEFT_OK);
  }
  fake_inst_init(&r.inst, &t.m, r.ci, NULL);
  weft_val_raw s[2];
  s[0].i64 = 100, s[1].i64 = (int64_t)0x8081FFF0u;
  assert_true(fake_call(&r.inst, 0, s, 2));
  assert_int_equal(s[0].i64, (int64_t)(-16) + 0xFFF0 + (int64_t)(int32_t)0x8081FFF0u);
  s[0].i64 = 65536 - 8;
  assert_true(fake_call(&r.inst, 1, s, 1));
  assert_int_equal(s[0].i64, 0);
  s[0].i64 = 65536 - 7;
  assert_false(fake_call(&r.inst, 1, s, 1));
  assert_int_equal(fake_store->trap_code, WEFT_TRAP_MEMORY_OOB);
  s[0].i64 = mem64 ? (int64_t)0xFFFFFFFFFFFFFFF8ull : (int64_t)0xFFFFFFF8u;
  assert_false(fake_call(&r.inst, 1, s, 1));
  assert_int_equal(fake_store->trap_code, WEFT_TRAP_MEMORY_OOB);
  s[0].i64 = 2;
  assert_true(fake_call(&r.inst, 2, s, 1));
  assert_int_equal(s[0].i64, 3);
  s[0].i64 = 65536 - 7; /* now in bounds */
  assert_true(fake_call(&r.inst, 1, s, 1));
  s[0].i64 = 100;
  assert_true(fake_call(&r.inst, 2, s, 1)); /* grow fails: -1, size unchanged */
  assert_int_equal(s[0].i64, 3);
  rt_stop(&r);
}

static void test_memory_guard(void **st) { (void)st; run_memory(false, false); }
static void test_memory_explicit(void **st) { (void)st; run_memory(true, false); }
static void test_memory64(void **st) { (void)st; run_memory(false, true); }

/* compare + select fuse into cmp + cmov */
static void test_compare_select(void **st) {
  (void)st;
  tmod t;
  mod_init(&t);
  uint32_t tii = add_type(&t, "ii", "i", true);
  uint32_t tll = add_type(&t, "ll", "l", true);
  static const weft_instr mini[] = {LG(0), LG(1), LG(0), LG(1), OP(I32_LT_S), OP(SELECT), OP(END)};
  static const weft_instr maxu[] = {LG(0), LG(1), LG(0), LG(1), OP(I64_GT_U), OP(SELECT), OP(END)};
  static const weft_instr cst[] = {I32C(7), LG(1), LG(0), I32C(100), OP(I32_GE_U), OP(SELECT), OP(END)};
  add_func(&t, tii, "", mini, NI(mini));
  add_func(&t, tll, "", maxu, NI(maxu));
  add_func(&t, tii, "", cst, NI(cst));
  rt r;
  rt_start(&r, &t, NULL);
  static const int64_t vals[] = {0, 1, -1, 100, 99, INT32_MIN, INT32_MAX, (int64_t)0x8000000000000000ull, 5};
  for (size_t i = 0; i < NI(vals); i++)
    for (size_t j = 0; j < NI(vals); j++) {
      weft_val_raw s[2];
      s[0].i64 = vals[i], s[1].i64 = vals[j];
      s[0].i32 = (int32_t)vals[i], s[1].i32 = (int32_t)vals[j];
      int32_t x = (int32_t)vals[i], y = (int32_t)vals[j];
      assert_true(fake_call(&r.inst, 0, s, 2));
      assert_int_equal(s[0].i32, x < y ? x : y);
      s[0].i32 = x, s[1].i32 = y;
      assert_true(fake_call(&r.inst, 2, s, 2));
      assert_int_equal(s[0].i32, (uint32_t)x >= 100u ? 7 : y);
      s[0].i64 = vals[i], s[1].i64 = vals[j];
      assert_true(fake_call(&r.inst, 1, s, 2));
      assert_int_equal(s[0].i64, (uint64_t)vals[i] > (uint64_t)vals[j] ? vals[i] : vals[j]);
    }
  rt_stop(&r);
}

static void test_globals_and_select(void **st) {
  (void)st;
  tmod t;
  mod_init(&t);
  t.globals[0].type.type = VI64, t.globals[0].type.mut = true, t.globals[0].import = WEFT_NONE;
  t.globals[1].type.type = VF64, t.globals[1].type.mut = true, t.globals[1].import = WEFT_NONE;
  t.m.nglobals = 2;
  uint32_t ty = add_type(&t, "l", "l", true);
  static const weft_instr g[] = {
      OPA(GLOBAL_GET, 0), LG(0), OP(I64_ADD), OPA(GLOBAL_SET, 0), OPA(GLOBAL_GET, 1), F64C(0x3FF0000000000000ull),
      OP(F64_ADD), OPA(GLOBAL_SET, 1), I64C(111), I64C(222), LG(0), OP(I64_EQZ), OP(SELECT),
      OPA(GLOBAL_GET, 0), OP(I64_ADD), OP(END)};
  add_func(&t, ty, "", g, NI(g));
  rt r;
  rt_start(&r, &t, NULL);
  r.inst.globals[0].value.i64 = 1000;
  r.inst.globals[1].value.f64 = dbits(0.5);
  assert_int_equal(call1(&r, 0, 5), 222 + 1005);
  assert_int_equal(call1(&r, 0, 0), 111 + 1005);
  assert_true(bitsd(r.inst.globals[1].value.f64) == 2.5);
  rt_stop(&r);
}

static bool host_add(void *callee, void *caller, weft_val_raw *s, size_t n) {
  (void)callee, (void)caller;
  assert_int_equal(n, 2);
  if (s[0].i32 == 666) return false; /* a host trap: the trampoline raises */
  s[0].i32 = s[0].i32 * 1000 + s[1].i32;
  return true;
}

static void test_import_and_indirect(void **st) {
  (void)st;
  tmod t;
  mod_init(&t);
  uint32_t tii = add_type(&t, "ii", "i", true);   /* 0 */
  uint32_t ti = add_type(&t, "i", "i", true);     /* 1 */
  uint32_t tnf = add_type(&t, "ii", "i", false);  /* 2: non-final, structurally like 0 */
  add_import(&t, tii);                             /* func 0: host */
  static const weft_instr callhost[] = {LG(0), LG(1), OPA(CALL, 0), I32C(1), OP(I32_ADD), OP(END)}; /* 1 */
  static const weft_instr ind[] = {LG(0), I32C(7), LG(1), OPAB(CALL_INDIRECT, 0, 0), OP(END)};     /* 2 */
  static const weft_instr indnf[] = {LG(0), I32C(7), LG(1), OPAB(CALL_INDIRECT, 2, 0), OP(END)};   /* 3 */
  static const weft_instr cref[] = {LG(0), I32C(3), OPA(REF_FUNC, 0), OPA(CALL_REF, 0), OP(END)};  /* 4 */
  static const weft_instr tail_ind[] = {LG(0), I32C(9), I32C(1), OPAB(RETURN_CALL_INDIRECT, 0, 0), OP(END)}; /* 5 */
  add_func(&t, tii, "", callhost, NI(callhost));
  add_func(&t, tii, "", ind, NI(ind));
  add_func(&t, tii, "", indnf, NI(indnf));
  add_func(&t, ti, "", cref, NI(cref));
  add_func(&t, ti, "", tail_ind, NI(tail_ind));
  t.tables[0].type.elem = WEFT_VT_FUNCREF;
  t.tables[0].type.limits.min = 4;
  t.tables[0].import = WEFT_NONE;
  t.m.ntables = 1;
  /* the host funcref: array_call = host_add, wasm_call = the module's import trampoline */
  weft_funcref hf = {.array_call = host_add, .type_index = 100 + tii, .vmctx = (void *)0x1234};
  weft_funcref *imports[1] = {&hf};
  rt r;
  rt_start(&r, &t, imports);
  assert_int_not_equal(r.ci->import_tramp[0], UINT32_MAX);
  hf.wasm_call = (uint8_t *)r.ci->code + r.ci->import_tramp[0];
  weft_funcref **funcs = (weft_funcref **)(r.inst.vmctx + r.inst.lay.funcs);
  r.inst.table_elems[0][0] = funcs[0];            /* host, type 0 */
  r.inst.table_elems[0][1] = funcs[1];            /* wasm, type 0 */
  r.inst.table_elems[0][2] = NULL;
  r.inst.table_elems[0][3] = funcs[4];            /* type 1: mismatch */
  weft_val_raw s[2];
  s[0].i32 = 4, s[1].i32 = 5;
  assert_true(fake_call(&r.inst, 1, s, 2));
  assert_int_equal(s[0].i32, 4006);
  s[0].i32 = 666, s[1].i32 = 0;
  assert_false(fake_call(&r.inst, 1, s, 2));
  assert_int_equal(fake_store->trap_code, WEFT_TRAP_HOST);
  s[0].i32 = 2, s[1].i32 = 0;
  assert_true(fake_call(&r.inst, 2, s, 2));
  assert_int_equal(s[0].i32, 2007);
  s[0].i32 = 2, s[1].i32 = 1;
  assert_true(fake_call(&r.inst, 2, s, 2));
  assert_int_equal(s[0].i32, 2008);
  assert_int_equal(call_trap(&r, 2, 2, 2), WEFT_TRAP_UNINITIALIZED_ELEMENT);
  assert_int_equal(call_trap(&r, 2, 2, 4), WEFT_TRAP_UNDEFINED_ELEMENT);
  assert_int_equal(call_trap(&r, 2, 2, -1), WEFT_TRAP_UNDEFINED_ELEMENT);
  assert_int_equal(call_trap(&r, 2, 2, 3), WEFT_TRAP_INDIRECT_TYPE_MISMATCH);
  /* non-final expected type: the subtype libcall decides */
  fake_subtype_answer = 0;
  assert_int_equal(call_trap(&r, 3, 2, 0), WEFT_TRAP_INDIRECT_TYPE_MISMATCH);
  fake_subtype_answer = 1;
  s[0].i32 = 2, s[1].i32 = 0;
  assert_true(fake_call(&r.inst, 3, s, 2));
  assert_int_equal(s[0].i32, 2007);
  (void)tnf;
  s[0].i32 = 8;
  assert_true(fake_call(&r.inst, 4, s, 1));
  assert_int_equal(s[0].i32, 8003);
  s[0].i32 = 5;
  assert_true(fake_call(&r.inst, 5, s, 1));
  assert_int_equal(s[0].i32, 5010);
  /* the same host function through a stand-alone host trampoline */
  void *entry = NULL;
  weft_diag d;
  assert_int_equal(r.cg->host_trampoline(r.state, &t.m, tii, &entry, &d), WEFT_OK);
  hf.wasm_call = entry;
  s[0].i32 = 6, s[1].i32 = 7;
  assert_true(fake_call(&r.inst, 1, s, 2));
  assert_int_equal(s[0].i32, 6008);
  s[0].i32 = 666, s[1].i32 = 0;
  assert_false(fake_call(&r.inst, 1, s, 2));
  assert_int_equal(fake_store->trap_code, WEFT_TRAP_HOST);
  r.cg->release_tramp(r.state, entry);
  rt_stop(&r);
}

static void test_references(void **st) {
  (void)st;
  tmod t;
  mod_init(&t);
  uint32_t ti = add_type(&t, "i", "i", true);
  static const weft_instr dbl[] = {LG(0), I32C(2), OP(I32_MUL), OP(END)};                          /* 0 */
  static const weft_instr nonnull[] = {
      I32C(21), OPA(BLOCK, WEFT_VT_FUNCREF), LG(0), OPA(TABLE_GET, 0), OPA(BR_ON_NON_NULL, 0),
      I32C(-1), OP(RETURN), OP(END), OPA(CALL_REF, 0), OP(END)};                                 /* 1 */
  static const weft_instr onnull[] = {
      OPA(BLOCK, WEFT_BT_EMPTY), LG(0), OPA(TABLE_GET, 0), OPA(BR_ON_NULL, 0), OP(DROP), I32C(1),
      OP(RETURN), OP(END), I32C(0), OP(END)};                                                    /* 2 */
  static const weft_instr asnn[] = {LG(0), OPA(TABLE_GET, 0), OP(REF_AS_NON_NULL), OP(DROP), LG(0), OP(END)}; /* 3 */
  static const weft_instr rcr[] = {LG(0), LG(0), OPA(TABLE_GET, 0), OPA(RETURN_CALL_REF, 0), OP(END)};  /* 4 */
  static const weft_instr tset[] = {LG(0), OPA(REF_FUNC, 0), OPA(TABLE_SET, 0), OPA(TABLE_SIZE, 0), OP(END)}; /* 5 */
  static const weft_instr isnull[] = {OPA(REF_NULL, WEFT_VT_FUNCREF), OP(REF_IS_NULL), LG(0), OP(I32_ADD), OP(END)}; /* 6 */
  add_func(&t, ti, "", dbl, NI(dbl));
  add_func(&t, ti, "", nonnull, NI(nonnull));
  add_func(&t, ti, "", onnull, NI(onnull));
  add_func(&t, ti, "", asnn, NI(asnn));
  add_func(&t, ti, "", rcr, NI(rcr));
  add_func(&t, ti, "", tset, NI(tset));
  add_func(&t, ti, "", isnull, NI(isnull));
  t.tables[0].type.elem = WEFT_VT_FUNCREF;
  t.tables[0].type.limits.min = 4;
  t.tables[0].import = WEFT_NONE;
  t.m.ntables = 1;
  rt r;
  rt_start(&r, &t, NULL);
  assert_int_equal(call1(&r, 2, 0), 0);
  assert_int_equal(call1(&r, 5, 1), 4);
  assert_ptr_equal(r.inst.table_elems[0][1], ((weft_funcref **)(r.inst.vmctx + r.inst.lay.funcs))[0]);
  assert_int_equal(call1(&r, 2, 1), 1);
  assert_int_equal(call1(&r, 1, 1), 42);
  assert_int_equal((int32_t)call1(&r, 1, 0), -1);
  assert_int_equal(call_trap(&r, 3, 0, 0), WEFT_TRAP_NULL_REF);
  assert_int_equal(call1(&r, 3, 1), 1);
  assert_int_equal(call1(&r, 4, 1), 2);
  assert_int_equal(call_trap(&r, 4, 0, 0), WEFT_TRAP_NULL_FUNC);
  assert_int_equal(call1(&r, 6, 5), 6);
  assert_int_equal(call_trap(&r, 2, 4, 0), WEFT_TRAP_TABLE_OOB);
  assert_int_equal(call_trap(&r, 5, 100, 0), WEFT_TRAP_TABLE_OOB);
  rt_stop(&r);
}

#define MEMK(o, off, k) {.op = WEFT_OP_##o, .imm.mem = {(off), (k), 0}}

static void test_multi_memory_and_fill(void **st) {
  (void)st;
  tmod t;
  mod_init(&t);
  add_memory(&t, 1, false);
  add_memory(&t, 2, false);
  uint32_t t3 = add_type(&t, "iii", "i", true);
  /* fill mem 0 [a, a+n) with v, store v*3 into mem 1 at a+65536, return mem0[a] + mem1[a+65536] */
  static const weft_instr f[] = {
      LG(0), LG(1), LG(2), OPA(MEMORY_FILL, 0),
      LG(0), LG(1), I32C(3), OP(I32_MUL), MEMK(I32_STORE8, 65536, 1),
      LG(0), MEMK(I32_LOAD8_U, 0, 0), LG(0), MEMK(I32_LOAD8_U, 65536, 1), OP(I32_ADD),
      OPA(MEMORY_SIZE, 1), I32C(1000), OP(I32_MUL), OP(I32_ADD), OP(END)};
  add_func(&t, t3, "", f, NI(f));
  rt r;
  rt_start(&r, &t, NULL);
  weft_val_raw s[3];
  s[0].i32 = 10, s[1].i32 = 7, s[2].i32 = 5;
  assert_true(fake_call(&r.inst, 0, s, 3));
  assert_int_equal(s[0].i32, 7 + 21 + 2000);
  assert_int_equal(r.inst.mems[0].base[14], 7);
  assert_int_equal(r.inst.mems[0].base[15], 0);
  assert_int_equal(r.inst.mems[1].base[65546], 21);
  s[0].i32 = 65530, s[1].i32 = 1, s[2].i32 = 7;
  assert_false(fake_call(&r.inst, 0, s, 3));
  assert_int_equal(fake_store->trap_code, WEFT_TRAP_MEMORY_OOB);
  s[0].i32 = 65536, s[1].i32 = 1, s[2].i32 = 0; /* fill of 0 bytes at the end is fine; mem 1 store is in bounds */
  assert_false(fake_call(&r.inst, 0, s, 3));      /* ... but mem 0's load at 65536 is not */
  assert_int_equal(fake_store->trap_code, WEFT_TRAP_MEMORY_OOB);
  rt_stop(&r);
}

/* The metadata the runtime's code registry and signal handler rely on. */
static void test_metadata(void **st) {
  (void)st;
  tmod t;
  mod_init(&t);
  add_memory(&t, 1, false);
  uint32_t ty = add_type(&t, "ii", "i", true);
  static weft_instr f0[] = {LG(0), LG(1), OP(I32_DIV_S), LG(0), MEMOP(I32_LOAD, 0), OP(I32_ADD), OP(END)};
  static weft_instr f1[] = {LG(0), OPA(IF, WEFT_BT_EMPTY), OP(UNREACHABLE), OP(END), LG(1), OP(END)};
  add_func(&t, ty, "", f0, NI(f0));
  add_func(&t, ty, "", f1, NI(f1));
  for (uint32_t i = 0; i < NI(f0); i++) f0[i].off = 100 + i;
  for (uint32_t i = 0; i < NI(f1); i++) f1[i].off = 200 + i;
  rt r;
  rt_start(&r, &t, NULL);
  const weft_code_info *ci = r.ci;
  const uint8_t *code = ci->code;
  assert_int_equal(ci->nfuncs, 2);
  assert_true(ci->func_start[0] < ci->func_end[0] && ci->func_end[0] <= ci->func_start[1]);
  assert_true(ci->func_end[1] <= ci->array_call[0] && ci->array_call[1] < ci->code_size);
  bool seen[WEFT_TRAP_COUNT] = {false};
  for (uint32_t i = 0; i < ci->ntrap_sites; i++) {
    const weft_trap_site *ts = &ci->trap_sites[i];
    if (i) assert_true(ts->code_off > ci->trap_sites[i - 1].code_off);
    assert_true(ts->code_off < ci->code_size);
    assert_true(ts->trap < WEFT_TRAP_COUNT);
    seen[ts->trap] = true;
    if (ts->trap != WEFT_TRAP_MEMORY_OOB) { /* explicit traps are ud2 */
      assert_int_equal(code[ts->code_off], 0x0F);
      assert_int_equal(code[ts->code_off + 1], 0x0B);
    }
    uint32_t fn = ts->code_off < ci->func_end[0] ? 0 : 1;
    assert_true(ts->wasm_off >= (fn ? 200u : 100u) && ts->wasm_off < (fn ? 210u : 110u));
  }
  assert_true(seen[WEFT_TRAP_INT_DIV_ZERO] && seen[WEFT_TRAP_INT_OVERFLOW] && seen[WEFT_TRAP_MEMORY_OOB]);
  assert_true(seen[WEFT_TRAP_UNREACHABLE] && seen[WEFT_TRAP_STACK_EXHAUSTED]);
  assert_true(ci->npc_map >= 4);
  for (uint32_t i = 1; i < ci->npc_map; i++) assert_true(ci->pc_map[i].code_off > ci->pc_map[i - 1].code_off);
  /* the division's pc maps to its wasm offset */
  bool div_mapped = false;
  for (uint32_t i = 0; i < ci->npc_map; i++) div_mapped |= ci->pc_map[i].wasm_off == 102;
  assert_true(div_mapped);
  /* a fault at a memory trap site reports the load's offset */
  weft_val_raw s[2] = {{.i32 = 65535}, {.i32 = 1}};
  assert_false(fake_call(&r.inst, 0, s, 2));
  assert_int_equal(fake_store->trap_code, WEFT_TRAP_MEMORY_OOB);
  uint32_t pc = (uint32_t)(fake_store->trap_pc - (uintptr_t)ci->code);
  bool found = false;
  for (uint32_t i = 0; i < ci->ntrap_sites; i++)
    if (ci->trap_sites[i].code_off == pc) found = ci->trap_sites[i].wasm_off == 104;
  assert_true(found);
  rt_stop(&r);
}

/* -- Tests: failure paths -------------------------------------------------------------------- */

static void test_unsupported_and_oom(void **st) {
  (void)st;
  tmod t;
  mod_init(&t);
  uint32_t ty = add_type(&t, "", "", true);
  static const weft_instr body[] = {OP(ARRAY_LEN), OP(DROP), OP(END)}; /* GC: not compiled */
  add_func(&t, ty, "", body, NI(body));
  rt r;
  weft_diag d;
  memset(&d, 0, sizeof d);
  rt_compile_rc(&r, &t, WEFT_ERR_UNSUPPORTED, &d);
  assert_null(r.ci);
  assert_non_null(strstr(d.message, "not supported"));
  assert_string_equal(d.origin, "x64-codegen");
  r.desc->fini(r.state);
  /* allocation failures at every point fail cleanly */
  tmod t2;
  mod_init(&t2);
  uint32_t ty2 = add_type(&t2, "l", "l", true);
  static const weft_instr fac[] = {
      LG(0), OP(I64_EQZ), OPA(IF, WEFT_VT_I64), I64C(1), OP(ELSE), LG(0), LG(0), I64C(1), OP(I64_SUB),
      OPA(CALL, 0), OP(I64_MUL), OP(END), OP(END)};
  add_func(&t2, ty2, "", fac, NI(fac));
  rt_compile_rc(&r, &t2, WEFT_OK, &d);
  r.cg->release(r.state, r.ci);
  int failures = 0;
  for (unsigned n = 1; n < 40; n++) {
    fake_alloc_fail_at = n;
    weft_code_info *ci = NULL;
    int rc = r.cg->compile(r.state, &t2.m, &ci, &d);
    if (rc != WEFT_OK) {
      assert_int_equal(rc, WEFT_ERR_NOMEM);
      assert_null(ci);
      failures++;
    } else {
      r.cg->release(r.state, ci);
    }
  }
  fake_alloc_fail_at = 0;
  assert_true(failures > 3);
  r.desc->fini(r.state);
  /* host trampolines */
  void *entry = NULL;
  assert_int_equal(r.cg->host_trampoline != NULL, 1);
  assert_int_equal(r.desc->init(&fake_host, NULL, &r.state, &d), WEFT_OK);
  assert_int_equal(r.cg->host_trampoline(r.state, &t2.m, 0, &entry, &d), WEFT_OK);
  assert_non_null(entry);
  r.cg->release_tramp(r.state, entry);
  assert_int_equal(r.cg->host_trampoline(r.state, &t2.m, 5, &entry, &d), WEFT_ERR_MISUSE);
  r.desc->fini(r.state);
  /* ABI: a host with another major is refused */
  assert_null(weft_plugin_entry_x64_codegen(WEFT_ABI_MAKE(WEFT_ABI_MAJOR + 1, 0)));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_factorial),
      cmocka_unit_test(test_fibonacci),
      cmocka_unit_test(test_loop_sum),
      cmocka_unit_test(test_br_table),
      cmocka_unit_test(test_multi_value),
      cmocka_unit_test(test_tail_calls),
      cmocka_unit_test(test_pinned_locals_across_calls),
      cmocka_unit_test(test_pinned_hazards),
      cmocka_unit_test(test_traps),
      cmocka_unit_test(test_i32_binops),
      cmocka_unit_test(test_i64_binops),
      cmocka_unit_test(test_float),
      cmocka_unit_test(test_memory_guard),
      cmocka_unit_test(test_memory_explicit),
      cmocka_unit_test(test_memory64),
      cmocka_unit_test(test_compare_select),
      cmocka_unit_test(test_globals_and_select),
      cmocka_unit_test(test_import_and_indirect),
      cmocka_unit_test(test_references),
      cmocka_unit_test(test_multi_memory_and_fill),
      cmocka_unit_test(test_metadata),
      cmocka_unit_test(test_unsupported_and_oom),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
