/* tests/unit/codegen/test_x64_diff.c -- differential random testing of the x64 code generator:
 * type-directed random functions (arithmetic, conversions, memory, calls with one and two results,
 * if/block/loop, br_if with values, br_table, select) are compiled three ways -- optimised
 * (pinned locals, local cache) with guard-page bounds, unoptimised, and optimised with explicit
 * bounds checks -- and run on the same arguments; results, trap codes and memory must agree.
 * Depends on: fake_host.h, x64_int.h (the no_opt / explicit_bounds switches), cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <stdlib.h>

#include "fake_host.h"
#include "x64_int.h"

const weft_plugin_desc *weft_plugin_entry_x64_codegen(uint32_t host_abi);

/* -- Generator ------------------------------------------------------------------------------- */

enum { T_I, T_L, T_D };
#define MAXI 6000

typedef struct gen {
  uint64_t rng;
  weft_instr code[MAXI];
  uint32_t n;
  int loops;
} gen;

static const weft_valtype VT[] = {WEFT_VT_I32, WEFT_VT_I64, WEFT_VT_F64};
/* main's locals: params 0 i32, 1 i64, 2 f64; declared 3,4 i32; 5,6 i64; 7 f64; 8,9 loop counters */
static const uint32_t LOC_I[] = {0, 3, 4}, LOC_L[] = {1, 5, 6}, LOC_D[] = {2, 7};

static uint32_t rnd(gen *g, uint32_t n) {
  g->rng ^= g->rng << 13, g->rng ^= g->rng >> 7, g->rng ^= g->rng << 17;
  return (uint32_t)(g->rng % n);
}

static void emit(gen *g, weft_instr in) {
  if (g->n < MAXI - 1) g->code[g->n++] = in;
}
static void op(gen *g, uint16_t o) { emit(g, (weft_instr){.op = o}); }
static void opa(gen *g, uint16_t o, uint32_t a) { emit(g, (weft_instr){.op = o, .imm.x = {a, 0, 0, 0}}); }
static void ci32(gen *g, int32_t v) { emit(g, (weft_instr){.op = WEFT_OP_I32_CONST, .imm.i32 = v}); }
static void ci64(gen *g, int64_t v) { emit(g, (weft_instr){.op = WEFT_OP_I64_CONST, .imm.i64 = v}); }
static void memop(gen *g, uint16_t o, uint32_t align) {
  emit(g, (weft_instr){.op = o, .imm.mem = {(uint64_t)(8 * (uint64_t)(align & 3)), 0, 0}});
}

static void expr(gen *g, int t, int depth);

static void addr(gen *g, int depth) {
  expr(g, T_I, depth + 1);
  ci32(g, 4088);
  op(g, WEFT_OP_I32_AND);
}

static const int32_t ICONST[] = {0, 1, -1, 2, 31, 32, 255, 0x7FFFFFFF, INT32_MIN, 12345, -7};
static const int64_t LCONST[] = {0, 1, -1, 63, 64, INT64_MAX, INT64_MIN, 0x123456789ll, -99999};
static const uint64_t DCONST[] = {0, 0x8000000000000000ull, 0x3FF0000000000000ull, 0xBFF8000000000000ull,
                                  0x7FF0000000000000ull, 0x7FF8000000000000ull, 0x41E0000000000000ull,
                                  0x43E0000000000000ull, 0x4004000000000000ull, 0xC3E0000000000001ull};

static void expr(gen *g, int t, int depth) {
  uint32_t k = depth >= 4 ? rnd(g, 2) : rnd(g, 10);
  if (t == T_I) {
    switch (k) {
    case 0: ci32(g, ICONST[rnd(g, sizeof ICONST / sizeof *ICONST)]); return;
    case 1: opa(g, WEFT_OP_LOCAL_GET, LOC_I[rnd(g, 3)]); return;
    case 2: case 3: {
      static const uint16_t ops[] = {WEFT_OP_I32_ADD, WEFT_OP_I32_SUB, WEFT_OP_I32_MUL, WEFT_OP_I32_AND,
                                     WEFT_OP_I32_OR, WEFT_OP_I32_XOR, WEFT_OP_I32_SHL, WEFT_OP_I32_SHR_S,
                                     WEFT_OP_I32_SHR_U, WEFT_OP_I32_ROTL, WEFT_OP_I32_DIV_S, WEFT_OP_I32_REM_U,
                                     WEFT_OP_I32_DIV_U, WEFT_OP_I32_REM_S};
      uint16_t o = ops[rnd(g, sizeof ops / sizeof *ops)];
      expr(g, T_I, depth + 1), expr(g, T_I, depth + 1);
      if (o >= WEFT_OP_I32_DIV_S && o <= WEFT_OP_I32_REM_U && rnd(g, 8)) ci32(g, 1), op(g, WEFT_OP_I32_OR);
      op(g, o);
      return;
    }
    case 4: {
      int st = (int)rnd(g, 3);
      expr(g, st, depth + 1), expr(g, st, depth + 1);
      op(g, (uint16_t)(st == T_I ? WEFT_OP_I32_EQ + rnd(g, 10) : st == T_L ? WEFT_OP_I64_EQ + rnd(g, 10)
                                                                              : WEFT_OP_F64_EQ + rnd(g, 6)));
      return;
    }
    case 5: expr(g, T_L, depth + 1), op(g, WEFT_OP_I32_WRAP_I64); return;
    case 6: addr(g, depth), memop(g, (uint16_t)(rnd(g, 2) ? WEFT_OP_I32_LOAD : WEFT_OP_I32_LOAD8_S), 0); return;
    case 7: expr(g, T_I, depth + 1), expr(g, T_I, depth + 1), expr(g, T_I, depth + 1), op(g, WEFT_OP_SELECT); return;
    case 8: expr(g, T_D, depth + 1), op(g, (uint16_t)(rnd(g, 8) ? WEFT_OP_I32_TRUNC_SAT_F64_S : WEFT_OP_I32_TRUNC_F64_U)); return;
    default: expr(g, T_I, depth + 1), op(g, (uint16_t)(rnd(g, 2) ? WEFT_OP_I32_CLZ : WEFT_OP_I32_EQZ)); return;
    }
  } else if (t == T_L) {
    switch (k) {
    case 0: ci64(g, LCONST[rnd(g, sizeof LCONST / sizeof *LCONST)]); return;
    case 1: opa(g, WEFT_OP_LOCAL_GET, LOC_L[rnd(g, 3)]); return;
    case 2: case 3: {
      static const uint16_t ops[] = {WEFT_OP_I64_ADD, WEFT_OP_I64_SUB, WEFT_OP_I64_MUL, WEFT_OP_I64_AND,
                                     WEFT_OP_I64_OR, WEFT_OP_I64_XOR, WEFT_OP_I64_SHL, WEFT_OP_I64_SHR_S,
                                     WEFT_OP_I64_ROTR, WEFT_OP_I64_DIV_U, WEFT_OP_I64_REM_S};
      uint16_t o = ops[rnd(g, sizeof ops / sizeof *ops)];
      expr(g, T_L, depth + 1), expr(g, T_L, depth + 1);
      if (o >= WEFT_OP_I64_DIV_S && o <= WEFT_OP_I64_REM_U && rnd(g, 8)) ci64(g, 1), op(g, WEFT_OP_I64_OR);
      op(g, o);
      return;
    }
    case 4: expr(g, T_I, depth + 1), op(g, (uint16_t)(rnd(g, 2) ? WEFT_OP_I64_EXTEND_I32_S : WEFT_OP_I64_EXTEND_I32_U)); return;
    case 5: expr(g, T_I, depth + 1), expr(g, T_L, depth + 1), opa(g, WEFT_OP_CALL, 0); return;
    case 6: addr(g, depth), memop(g, WEFT_OP_I64_LOAD, rnd(g, 4)); return;
    case 7: expr(g, T_L, depth + 1), expr(g, T_L, depth + 1), expr(g, T_I, depth + 1), op(g, WEFT_OP_SELECT); return;
    case 8: expr(g, T_D, depth + 1), op(g, (uint16_t)(rnd(g, 2) ? WEFT_OP_I64_TRUNC_SAT_F64_U : WEFT_OP_I64_REINTERPRET_F64)); return;
    default: expr(g, T_L, depth + 1), op(g, WEFT_OP_I64_POPCNT); return;
    }
  } else {
    switch (k) {
    case 0: emit(g, (weft_instr){.op = WEFT_OP_F64_CONST, .imm.f64 = DCONST[rnd(g, sizeof DCONST / sizeof *DCONST)]}); return;
    case 1: opa(g, WEFT_OP_LOCAL_GET, LOC_D[rnd(g, 2)]); return;
    case 2: case 3: {
      static const uint16_t ops[] = {WEFT_OP_F64_ADD, WEFT_OP_F64_SUB, WEFT_OP_F64_MUL, WEFT_OP_F64_DIV,
                                     WEFT_OP_F64_MIN, WEFT_OP_F64_MAX, WEFT_OP_F64_COPYSIGN};
      expr(g, T_D, depth + 1), expr(g, T_D, depth + 1), op(g, ops[rnd(g, sizeof ops / sizeof *ops)]);
      return;
    }
    case 4: expr(g, T_I, depth + 1), op(g, WEFT_OP_F64_CONVERT_I32_S); return;
    case 5: expr(g, T_L, depth + 1), op(g, WEFT_OP_F64_CONVERT_I64_U); return;
    case 6: addr(g, depth), memop(g, WEFT_OP_F64_LOAD, 0); return;
    case 7: expr(g, T_D, depth + 1), expr(g, T_D, depth + 1), expr(g, T_I, depth + 1), op(g, WEFT_OP_SELECT); return;
    case 8: expr(g, T_D, depth + 1), op(g, (uint16_t)(WEFT_OP_F64_ABS + rnd(g, 7))); return;
    default: expr(g, T_L, depth + 1), op(g, WEFT_OP_F64_REINTERPRET_I64); return;
    }
  }
}

static void stmts(gen *g, int depth, int count);

static void stmt(gen *g, int depth) {
  uint32_t k = depth >= 3 ? rnd(g, 4) : rnd(g, 11);
  int t = (int)rnd(g, 3);
  uint32_t loc = t == T_I ? LOC_I[rnd(g, 3)] : t == T_L ? LOC_L[rnd(g, 3)] : LOC_D[rnd(g, 2)];
  switch (k) {
  case 0: case 1: expr(g, t, 0), opa(g, WEFT_OP_LOCAL_SET, loc); return;
  case 2: expr(g, t, 0), opa(g, WEFT_OP_LOCAL_TEE, loc), op(g, WEFT_OP_DROP); return;
  case 3:
    addr(g, 0), expr(g, t, 1);
    memop(g, (uint16_t)(t == T_I ? WEFT_OP_I32_STORE : t == T_L ? WEFT_OP_I64_STORE : WEFT_OP_F64_STORE), 0);
    return;
  case 4:
    expr(g, T_I, 1), opa(g, WEFT_OP_IF, WEFT_BT_EMPTY), stmts(g, depth + 1, 1 + (int)rnd(g, 3));
    if (rnd(g, 2)) op(g, WEFT_OP_ELSE), stmts(g, depth + 1, 1 + (int)rnd(g, 3));
    op(g, WEFT_OP_END);
    return;
  case 5:
    opa(g, WEFT_OP_BLOCK, WEFT_BT_EMPTY), stmts(g, depth + 1, 1 + (int)rnd(g, 2));
    expr(g, T_I, 1), opa(g, WEFT_OP_BR_IF, 0), stmts(g, depth + 1, 1 + (int)rnd(g, 2)), op(g, WEFT_OP_END);
    return;
  case 6: /* a block with a result, left early by br_if with that value */
    opa(g, WEFT_OP_BLOCK, VT[t]), expr(g, t, 1), expr(g, T_I, 1), opa(g, WEFT_OP_BR_IF, 0), op(g, WEFT_OP_DROP);
    expr(g, t, 1), op(g, WEFT_OP_END), opa(g, WEFT_OP_LOCAL_SET, loc);
    return;
  case 7:
    if (g->loops < 2) {
      uint32_t cnt = 8 + (uint32_t)g->loops++;
      ci32(g, 1 + (int32_t)rnd(g, 4)), opa(g, WEFT_OP_LOCAL_SET, cnt);
      opa(g, WEFT_OP_LOOP, WEFT_BT_EMPTY), stmts(g, depth + 1, 1 + (int)rnd(g, 3));
      opa(g, WEFT_OP_LOCAL_GET, cnt), ci32(g, 1), op(g, WEFT_OP_I32_SUB), opa(g, WEFT_OP_LOCAL_TEE, cnt);
      opa(g, WEFT_OP_BR_IF, 0), op(g, WEFT_OP_END);
      g->loops--;
      return;
    }
    expr(g, t, 0), opa(g, WEFT_OP_LOCAL_SET, loc);
    return;
  case 9: /* br_table over three nested blocks, with statements between the ends */
    opa(g, WEFT_OP_BLOCK, WEFT_BT_EMPTY), opa(g, WEFT_OP_BLOCK, WEFT_BT_EMPTY), opa(g, WEFT_OP_BLOCK, WEFT_BT_EMPTY);
    expr(g, T_I, 1);
    emit(g, (weft_instr){.op = WEFT_OP_BR_TABLE, .imm.x = {0, 2, 0, 0}}); /* pool: 0 1, default 2 */
    op(g, WEFT_OP_END), stmts(g, depth + 1, 1), op(g, WEFT_OP_END), stmts(g, depth + 1, 1), op(g, WEFT_OP_END);
    return;
  case 10: /* a call with two results */
    expr(g, T_L, 1), opa(g, WEFT_OP_CALL, 2);
    opa(g, WEFT_OP_LOCAL_SET, LOC_I[rnd(g, 3)]), opa(g, WEFT_OP_LOCAL_SET, LOC_L[rnd(g, 3)]);
    return;
  default: /* a call whose result is kept, with values live across it */
    expr(g, T_L, 1), expr(g, T_I, 1), opa(g, WEFT_OP_LOCAL_GET, LOC_L[rnd(g, 3)]), opa(g, WEFT_OP_CALL, 0);
    op(g, WEFT_OP_I64_ADD), opa(g, WEFT_OP_LOCAL_SET, LOC_L[rnd(g, 3)]);
    return;
  }
}

static void stmts(gen *g, int depth, int count) {
  for (int i = 0; i < count; i++) stmt(g, depth);
}

static void finish(gen *g) {
  /* result: a hash of every local */
  opa(g, WEFT_OP_LOCAL_GET, 1);
  for (uint32_t i = 0; i < 8; i++) {
    if (i == 1) continue;
    opa(g, WEFT_OP_LOCAL_GET, i);
    int t = (i == 0 || i == 3 || i == 4) ? T_I : (i == 2 || i == 7) ? T_D : T_L;
    if (t == T_I) op(g, WEFT_OP_I64_EXTEND_I32_U);
    if (t == T_D) op(g, WEFT_OP_I64_REINTERPRET_F64);
    ci64(g, 1000003), op(g, WEFT_OP_I64_MUL), op(g, WEFT_OP_I64_XOR);
  }
  op(g, WEFT_OP_END);
}

/* -- Module and runs ------------------------------------------------------------------------- */

static const weft_valtype helper_params[] = {WEFT_VT_I32, WEFT_VT_I64};
static const weft_valtype main_params[] = {WEFT_VT_I32, WEFT_VT_I64, WEFT_VT_F64};
static const weft_valtype res_l[] = {WEFT_VT_I64};
static const weft_valtype main_locals[] = {WEFT_VT_I32, WEFT_VT_I32, WEFT_VT_I64, WEFT_VT_I64,
                                           WEFT_VT_F64, WEFT_VT_I32, WEFT_VT_I32};
static const weft_instr helper_body[] = {
    {.op = WEFT_OP_LOCAL_GET, .imm.x = {1, 0, 0, 0}}, {.op = WEFT_OP_LOCAL_GET, .imm.x = {0, 0, 0, 0}},
    {.op = WEFT_OP_I64_EXTEND_I32_S}, {.op = WEFT_OP_I64_XOR}, {.op = WEFT_OP_I64_CONST, .imm.i64 = 31},
    {.op = WEFT_OP_I64_MUL}, {.op = WEFT_OP_END}};

/* func 2: (i64) -> (i64, i32) */
static const weft_valtype two_params[] = {WEFT_VT_I64};
static const weft_valtype two_results[] = {WEFT_VT_I64, WEFT_VT_I32};
static const weft_instr two_body[] = {
    {.op = WEFT_OP_LOCAL_GET, .imm.x = {0, 0, 0, 0}}, {.op = WEFT_OP_I64_CONST, .imm.i64 = 3},
    {.op = WEFT_OP_I64_ROTL}, {.op = WEFT_OP_LOCAL_GET, .imm.x = {0, 0, 0, 0}},
    {.op = WEFT_OP_I32_WRAP_I64}, {.op = WEFT_OP_I32_CONST, .imm.i32 = 7}, {.op = WEFT_OP_I32_MUL},
    {.op = WEFT_OP_END}};
static const uint32_t pool[] = {0, 1, 2};

typedef struct outcome {
  bool ok;
  uint32_t trap;
  int64_t result;
  uint8_t mem[4096 + 16];
} outcome;

static void run_variant(const weft_module *m, bool no_opt, bool explicit_bounds, const weft_val_raw *args,
                        outcome *out) {
  fake_host_init();
  const weft_plugin_desc *desc = weft_plugin_entry_x64_codegen(WEFT_ABI_VERSION);
  const weft_codegen_iface *cg = desc->iface;
  void *state;
  weft_diag d;
  assert_int_equal(desc->init(&fake_host, NULL, &state, &d), WEFT_OK);
  ((x64_state *)state)->no_opt = no_opt;
  ((x64_state *)state)->explicit_bounds = explicit_bounds;
  weft_code_info *ci = NULL;
  int rc = cg->compile(state, m, &ci, &d);
  if (rc) print_error("compile: %s\n", d.message);
  assert_int_equal(rc, WEFT_OK);
  fake_inst inst;
  fake_inst_init(&inst, m, ci, NULL);
  weft_val_raw s[3];
  memcpy(s, args, sizeof s);
  out->ok = fake_call(&inst, 1, s, 3);
  out->trap = out->ok ? 0 : fake_store->trap_code;
  out->result = out->ok ? s[0].i64 : 0;
  memcpy(out->mem, inst.mems[0].base, sizeof out->mem);
  fake_inst_fini(&inst);
  cg->release(state, ci);
  desc->fini(state);
}

static void test_differential(void **st) {
  (void)st;
  static gen g;
  weft_type types[3];
  memset(types, 0, sizeof types);
  types[0].comp = WEFT_COMP_FUNC, types[0].final = true, types[0].super = WEFT_NONE;
  types[0].u.func.nparams = 2, types[0].u.func.params = helper_params;
  types[0].u.func.nresults = 1, types[0].u.func.results = res_l;
  types[1] = types[0];
  types[1].u.func.nparams = 3, types[1].u.func.params = main_params;
  types[2] = types[0];
  types[2].u.func.nparams = 1, types[2].u.func.params = two_params;
  types[2].u.func.nresults = 2, types[2].u.func.results = two_results;
  weft_func funcs[3];
  memset(funcs, 0, sizeof funcs);
  funcs[0].type = 0, funcs[0].import = WEFT_NONE, funcs[0].body.code = helper_body, funcs[0].body.ninstrs = 7;
  funcs[1].type = 1, funcs[1].import = WEFT_NONE, funcs[1].nlocals = 7, funcs[1].locals = main_locals;
  funcs[2].type = 2, funcs[2].import = WEFT_NONE, funcs[2].body.code = two_body, funcs[2].body.ninstrs = 8;
  weft_memory mem = {.limits = {.min = 1}, .import = WEFT_NONE};
  weft_module m;
  memset(&m, 0, sizeof m);
  m.ntypes = 3, m.types = types, m.nfuncs = 3, m.funcs = funcs, m.pool = pool, m.npool = 3, m.nmems = 1, m.mems = &mem, m.start = WEFT_NONE;
  static outcome o[3];
  unsigned traps = 0, oks = 0;
  /* SEED=n in the environment runs only that program (to reproduce a failure) */
  uint32_t s0 = getenv("SEED") ? (uint32_t)atoi(getenv("SEED")) : 1, s1 = getenv("SEED") ? s0 : 600;
  for (uint32_t seed = s0; seed <= s1; seed++) {
    memset(&g, 0, sizeof g);
    g.rng = 0x9E3779B97F4A7C15ull * seed;
    stmts(&g, 0, 4 + (int)rnd(&g, 12));
    finish(&g);
    funcs[1].body.code = g.code, funcs[1].body.ninstrs = g.n;
    weft_val_raw args[3];
    memset(args, 0, sizeof args);
    args[0].i32 = (int32_t)rnd(&g, 1000) - 500;
    args[1].i64 = (int64_t)g.rng;
    args[2].f64 = 0x4059000000000000ull + rnd(&g, 1000);
    run_variant(&m, false, false, args, &o[0]);
    run_variant(&m, true, false, args, &o[1]);
    run_variant(&m, false, true, args, &o[2]);
    for (int v = 1; v < 3; v++) {
      if (o[v].ok != o[0].ok || o[v].trap != o[0].trap || o[v].result != o[0].result ||
          memcmp(o[v].mem, o[0].mem, sizeof o[0].mem) != 0) {
        print_error("seed %u variant %d: ok %d/%d trap %u/%u result %lld/%lld (variant 2: %lld)\n", seed, v,
                    o[0].ok, o[v].ok, o[0].trap, o[v].trap, (long long)o[0].result, (long long)o[v].result,
                    (long long)o[2].result);
        for (uint32_t i = 0; i < g.n; i++)
          print_error("  %3u: op 0x%03x a=%u i64=%lld\n", i, g.code[i].op, g.code[i].imm.x.a,
                      (long long)g.code[i].imm.i64);
        fail();
      }
    }
    if (o[0].ok) oks++; else traps++;
  }
  /* the generator really exercises both outcomes */
  print_message("differential: %u runs completed, %u trapped\n", oks, traps);
  assert_true(oks > 50);
  assert_true(traps > 5);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_differential)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
