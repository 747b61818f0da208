/* tests/unit/runtime/test_runtime.c -- unit tests of the runtime core: entry state, signal-based
 * traps through the code registry, unwinding from C, stack exhaustion and reuse of the store, host
 * functions, memories, tables, globals, the linker and instantiation (segments, start, imports).
 * Wasm code comes from fake_code.S (a hand-written stand-in for the codegen); modules without
 * function bodies are given as bytes and need no codegen. Depends on: weft-core-obj, cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "decode.h"
#include "engine.h"
#include "libcalls.h"
#include "runtime_int.h"
#include "weft/weft.h"

_Static_assert(WEFT_TRAP_UNREACHABLE == 1 && WEFT_TRAP_INT_DIV_ZERO == 2, "fake_code.S trap codes");
_Static_assert(WEFT_TRAP_MEMORY_OOB == 5 && WEFT_TRAP_STACK_EXHAUSTED == 20, "fake_code.S trap codes");

/* -- The fake generated code -------------------------------------------------------------------- */

extern const uint8_t fake_code_start[], fake_code_end[];
extern const weft_trap_site fake_sites[];
extern const uint32_t fake_nsites;
bool fake_array_call(void *callee, void *caller, weft_val_raw *slots, size_t n);

enum { OP_LOAD8 = 1, OP_LOAD16, OP_LOAD32, OP_LOAD64, OP_UNREACHABLE, OP_RECURSE, OP_TRAP, OP_HOST,
       OP_STORE32, OP_DIV, OP_CHAIN_TRAP };

typedef struct fake_vmctx {
  weft_vmctx_header hdr;
  weft_vm_memory *mem;
  void *trap_lc;
  weft_funcref *host;
  void *raise_lc;
} fake_vmctx;

typedef struct fixture {
  weft_engine *engine;
  weft_store_t *store;
  weft_memory_t mem;
  fake_vmctx vmctx;
  weft_funcref ref;
  weft_code_info ci;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  weft_config *cfg = NULL;
  weft_error err;
  assert_int_equal(weft_config_new(&cfg, &err), WEFT_OK);
  assert_int_equal(weft_config_set(cfg, "core", "trust_unvalidated", "yes", &err), WEFT_OK);
  assert_int_equal(weft_engine_new(cfg, &f->engine, &err), WEFT_OK);
  weft_config_free(cfg);
  f->store = weft_store_new(f->engine);
  assert_non_null(f->store);
  assert_int_equal(weft_memory_new(f->store, 1, true, 2, false, &f->mem), WEFT_OK);
  f->vmctx.hdr.store_ctx = f->store->ctx;
  f->vmctx.mem = f->mem.obj->vm;
  f->vmctx.trap_lc = core_libcall_addr(WEFT_LC_TRAP);
  f->vmctx.raise_lc = core_libcall_addr(WEFT_LC_RAISE);
  f->ref.array_call = fake_array_call;
  f->ref.vmctx = &f->vmctx;
  f->ci.code = (void *)fake_code_start;
  f->ci.code_size = (size_t)(fake_code_end - fake_code_start);
  f->ci.ntrap_sites = fake_nsites;
  f->ci.trap_sites = fake_sites;
  assert_int_equal(core_rt_registry_add(&f->ci), WEFT_OK);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  core_rt_registry_remove(&f->ci);
  weft_store_free(f->store);
  weft_engine_free(f->engine);
  free(f);
  return 0;
}

/* Runs op with operand x; returns the trap (NULL on success) and the result in *out. */
static weft_trap_t *run(fixture *f, int32_t op, int64_t x, int64_t *out) {
  weft_val_raw slots[2];
  memset(slots, 0, sizeof slots);
  slots[0].i32 = op;
  slots[1].i64 = x;
  /* cmocka installs its own fault handlers around each test: put ours back in front. */
  assert_int_equal(core_rt_signals_reinstall(), WEFT_OK);
  weft_trap_t *t = core_rt_entry_call(f->store, &f->ref, slots, 2);
  if (out != NULL) *out = slots[0].i64;
  return t;
}

static void expect_trap(weft_trap_t *t, int code) {
  assert_non_null(t);
  assert_int_equal(weft_trap_get_code(t), code);
  assert_string_equal(weft_trap_message(t), weft_trap_str(code));
  weft_trap_free(t);
}

/* -- Entry, traps and the registry -------------------------------------------------------------- */

static void test_load_ok(void **state) {
  fixture *f = *state;
  uint8_t *base = weft_memory_data(f->store, f->mem);
  memcpy(base + 65528, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
  int64_t r = 0;
  assert_null(run(f, OP_LOAD64, 65528, &r));
  assert_int_equal((uint64_t)r, 0x0807060504030201ull);
  assert_null(run(f, OP_LOAD8, 65535, &r));
  assert_int_equal(r, 8);
  assert_null(run(f, OP_LOAD16, 65534, &r));
  assert_int_equal(r, 0x0807);
  assert_null(run(f, OP_LOAD32, 65532, &r));
  assert_int_equal(r, 0x08070605);
}

/* Every width, one byte past the edge, traps; so do addresses deep in the guard region. */
static void test_memory_edge_every_width(void **state) {
  fixture *f = *state;
  static const struct { int op, width; } w[] = {{OP_LOAD8, 1}, {OP_LOAD16, 2}, {OP_LOAD32, 4},
                                                {OP_LOAD64, 8}};
  for (size_t i = 0; i < 4; i++) {
    int64_t r;
    assert_null(run(f, w[i].op, 65536 - w[i].width, &r));
    expect_trap(run(f, w[i].op, 65536 - w[i].width + 1, &r), WEFT_TRAP_MEMORY_OOB);
    expect_trap(run(f, w[i].op, 65536, &r), WEFT_TRAP_MEMORY_OOB);
    expect_trap(run(f, w[i].op, 0xFFFFFFFFll, &r), WEFT_TRAP_MEMORY_OOB);
    expect_trap(run(f, w[i].op, 0xFFFFFFFFll + 0x7FFFFFF0ll, &r), WEFT_TRAP_MEMORY_OOB);
  }
  expect_trap(run(f, OP_STORE32, 65533, NULL), WEFT_TRAP_MEMORY_OOB);
  /* After growing, the same address works. */
  uint64_t old = 0;
  assert_int_equal(weft_memory_grow(f->store, f->mem, 1, &old), WEFT_OK);
  assert_int_equal(old, 1);
  assert_null(run(f, OP_STORE32, 65533, NULL));
  int64_t r = 0;
  assert_null(run(f, OP_LOAD32, 65533, &r));
  assert_int_equal(r, 0x12345678);
  assert_int_equal(weft_memory_grow(f->store, f->mem, 1, NULL), WEFT_ERR_LIMIT);
  weft_limits lim;
  assert_int_equal(weft_memory_get_type(f->store, f->mem, &lim), WEFT_OK);
  assert_true(lim.min == 2 && lim.has_max && lim.max == 2 && !lim.is64);
}

static void test_explicit_traps(void **state) {
  fixture *f = *state;
  weft_trap_t *t = run(f, OP_UNREACHABLE, 0, NULL);
  assert_non_null(t);
  assert_int_equal(weft_trap_wasm_offset(t), 104);
  expect_trap(t, WEFT_TRAP_UNREACHABLE);
  expect_trap(run(f, OP_DIV, 0, NULL), WEFT_TRAP_INT_DIV_ZERO);
  int64_t r = 0;
  assert_null(run(f, OP_DIV, 1, &r));
  assert_int_equal((int32_t)r, 1);
}

static void test_trap_from_libcall(void **state) {
  fixture *f = *state;
  expect_trap(run(f, OP_TRAP, WEFT_TRAP_INT_OVERFLOW, NULL), WEFT_TRAP_INT_OVERFLOW);
  expect_trap(run(f, OP_TRAP, WEFT_TRAP_NULL_FUNC, NULL), WEFT_TRAP_NULL_FUNC);
  expect_trap(run(f, OP_TRAP, WEFT_TRAP_INDIRECT_TYPE_MISMATCH, NULL),
              WEFT_TRAP_INDIRECT_TYPE_MISMATCH);
  assert_null(run(f, OP_LOAD8, 0, NULL));
}

/* The entry state is back to "outside Wasm" after every call, trap or not. */
static void test_entry_state_restored(void **state) {
  fixture *f = *state;
  weft_store_ctx *ctx = f->store->ctx;
  weft_stack_limits before = ctx->limits;
  weft_trap_free(run(f, OP_LOAD8, 1u << 20, NULL));
  assert_memory_equal(&before, &ctx->limits, sizeof before);
  assert_null(run(f, OP_LOAD8, 0, NULL));
  assert_memory_equal(&before, &ctx->limits, sizeof before);
  assert_int_equal(ctx->trap_code, WEFT_TRAP_NONE);
  assert_int_equal(ctx->stack_chain.kind, WEFT_CHAIN_INITIAL_STACK);
  /* A trap taken while the chain pointed at a continuation leaves the chain as the entry found it. */
  expect_trap(run(f, OP_CHAIN_TRAP, 0, NULL), WEFT_TRAP_UNREACHABLE);
  assert_int_equal(ctx->stack_chain.kind, WEFT_CHAIN_INITIAL_STACK);
  assert_null(ctx->stack_chain.payload);
  assert_int_equal(f->store->entry_depth, 0);
  assert_null(core_rt_current_ctx());
}

static void test_stack_exhaustion_then_reuse(void **state) {
  fixture *f = *state;
  for (int i = 0; i < 3; i++) {
    expect_trap(run(f, OP_RECURSE, 0, NULL), WEFT_TRAP_STACK_EXHAUSTED);
    int64_t r = -1;
    assert_null(run(f, OP_LOAD8, 7, &r));
  }
}

/* A fault outside registered code is not a trap: the registry says so. */
static void test_registry_lookup(void **state) {
  fixture *f = *state;
  uint32_t trap, off;
  assert_false(core_rt_registry_lookup((uintptr_t)&test_registry_lookup, &trap, &off));
  assert_true(core_rt_registry_lookup((uintptr_t)fake_code_start + fake_sites[2].code_off, &trap,
                                      &off));
  assert_int_equal(trap, WEFT_TRAP_MEMORY_OOB);
  assert_int_equal(off, 102);
  assert_true(core_rt_registry_lookup((uintptr_t)fake_code_start, &trap, &off));
  assert_int_equal(trap, WEFT_TRAP_NONE);
  core_rt_registry_remove(&f->ci);
  assert_false(core_rt_registry_lookup((uintptr_t)fake_code_start, &trap, &off));
  assert_int_equal(core_rt_registry_add(&f->ci), WEFT_OK);
}

/* A fault outside Wasm code goes to the handler that was installed before ours. */
static sigjmp_buf chained_jmp;
static volatile sig_atomic_t chained_hits;

static void chained_handler(int sig, siginfo_t *info, void *uc) {
  (void)sig, (void)info, (void)uc;
  chained_hits++;
  siglongjmp(chained_jmp, 1);
}

static void test_fault_outside_wasm_chains(void **state) {
  fixture *f = *state;
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = chained_handler;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  assert_int_equal(sigaction(SIGSEGV, &sa, &old), 0);
  assert_int_equal(core_rt_signals_reinstall(), WEFT_OK); /* ours in front, chained_handler behind */
  volatile uint8_t *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  assert_true(page != MAP_FAILED);
  chained_hits = 0;
  if (sigsetjmp(chained_jmp, 1) == 0) {
    page[0] = 1; /* host code, not Wasm: not a trap */
    fail_msg("the write should have faulted");
  }
  assert_int_equal(chained_hits, 1);
  munmap((void *)page, 4096);
  /* Inside Wasm the same kind of fault is still a trap. */
  assert_int_equal(core_rt_signals_reinstall(), WEFT_OK);
  weft_val_raw slots[2] = {{.i32 = OP_LOAD8}, {.i64 = 1 << 20}};
  weft_trap_t *t = core_rt_entry_call(f->store, &f->ref, slots, 2);
  expect_trap(t, WEFT_TRAP_MEMORY_OOB);
  assert_int_equal(chained_hits, 1);
  sigaction(SIGSEGV, &old, NULL);
}

/* The registry changes under a thread that keeps faulting in registered code (the handler reads the
 * table without locks while another thread swaps it). */
static atomic_int churn_stop;

static void *churn(void *arg) {
  (void)arg;
  static uint8_t dummy[4][64];
  weft_code_info ci[4];
  memset(ci, 0, sizeof ci);
  for (int i = 0; i < 4; i++) {
    ci[i].code = dummy[i];
    ci[i].code_size = sizeof dummy[i];
  }
  while (!atomic_load(&churn_stop))
    for (int i = 0; i < 4; i++) {
      core_rt_registry_add(&ci[i]);
      core_rt_registry_remove(&ci[(i + 2) % 4]);
    }
  for (int i = 0; i < 4; i++) core_rt_registry_remove(&ci[i]);
  return NULL;
}

static void test_registry_concurrent_changes(void **state) {
  fixture *f = *state;
  pthread_t th;
  atomic_store(&churn_stop, 0);
  assert_int_equal(pthread_create(&th, NULL, churn, NULL), 0);
  for (int i = 0; i < 2000; i++) {
    weft_trap_t *t = run(f, OP_LOAD32, 0xFFFFFF00ll, NULL);
    assert_non_null(t);
    assert_int_equal(weft_trap_get_code(t), WEFT_TRAP_MEMORY_OOB);
    weft_trap_free(t);
  }
  atomic_store(&churn_stop, 1);
  pthread_join(th, NULL);
  int64_t r = 0;
  assert_null(run(f, OP_LOAD8, 0, &r));
}

/* -- Host functions ---------------------------------------------------------------------------- */

static int host_calls;

static weft_trap_t *host_add1(void *env, weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                              weft_val_t *results, size_t nresults) {
  (void)env;
  (void)caller;
  assert_int_equal(nargs, 1);
  assert_int_equal(nresults, 1);
  host_calls++;
  results[0].kind = WEFT_VAL_I64;
  results[0].of.i64 = args[0].of.i64 + 1;
  return NULL;
}

static weft_trap_t *host_fail(void *env, weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                              weft_val_t *results, size_t nresults) {
  (void)caller, (void)args, (void)nargs, (void)results, (void)nresults;
  host_calls++;
  return weft_trap_new((const char *)env);
}

static void test_host_func_from_wasm(void **state) {
  fixture *f = *state;
  weft_valtype i64 = WEFT_VT_I64;
  weft_func_t fn;
  assert_int_equal(weft_func_new(f->store, &i64, 1, &i64, 1, host_add1, NULL, NULL, &fn), WEFT_OK);
  f->vmctx.host = fn.ref;
  int64_t r = 0;
  host_calls = 0;
  assert_null(run(f, OP_HOST, 41, &r));
  assert_int_equal(r, 42);
  assert_int_equal(host_calls, 1);
}

static void test_host_error_becomes_trap(void **state) {
  fixture *f = *state;
  weft_valtype i64 = WEFT_VT_I64;
  weft_func_t fn;
  assert_int_equal(weft_func_new(f->store, &i64, 1, &i64, 1, host_fail, (void *)"disk on fire",
                                 NULL, &fn),
                   WEFT_OK);
  f->vmctx.host = fn.ref;
  weft_trap_t *t = run(f, OP_HOST, 1, NULL);
  assert_non_null(t);
  assert_int_equal(weft_trap_kind_of(t), WEFT_TRAPKIND_HOST);
  assert_string_equal(weft_trap_message(t), "disk on fire");
  weft_trap_free(t);
  assert_null(f->store->pending_trap);
  assert_null(run(f, OP_LOAD8, 0, NULL)); /* still usable */
  /* Called directly from the host, the same error comes back as a trap too. */
  weft_val_t arg = {.kind = WEFT_VAL_I64, .of.i64 = 1}, res;
  assert_int_equal(weft_func_call(f->store, fn, &arg, 1, &res, 1, &t), WEFT_OK);
  assert_non_null(t);
  assert_string_equal(weft_trap_message(t), "disk on fire");
  weft_trap_free(t);
}

static void test_func_call_misuse(void **state) {
  fixture *f = *state;
  weft_valtype i64 = WEFT_VT_I64;
  weft_func_t fn;
  assert_int_equal(weft_func_new(f->store, &i64, 1, &i64, 1, host_add1, NULL, NULL, &fn), WEFT_OK);
  weft_val_t arg = {.kind = WEFT_VAL_I64, .of.i64 = 9}, res;
  weft_trap_t *t = (weft_trap_t *)1;
  host_calls = 0;
  assert_int_equal(weft_func_call(f->store, fn, &arg, 0, &res, 1, &t), WEFT_ERR_MISUSE);
  assert_null(t);
  assert_int_equal(weft_func_call(f->store, fn, &arg, 1, &res, 2, &t), WEFT_ERR_MISUSE);
  weft_val_t wrong = {.kind = WEFT_VAL_I32, .of.i32 = 9};
  assert_int_equal(weft_func_call(f->store, fn, &wrong, 1, &res, 1, &t), WEFT_ERR_MISUSE);
  weft_func_t other = fn;
  other.store_id += 1000;
  assert_int_equal(weft_func_call(f->store, other, &arg, 1, &res, 1, &t), WEFT_ERR_MISUSE);
  weft_func_t null = {f->store->id, NULL};
  assert_int_equal(weft_func_call(f->store, null, &arg, 1, &res, 1, &t), WEFT_ERR_MISUSE);
  assert_int_equal(weft_func_call(f->store, fn, &arg, 1, &res, 1, NULL), WEFT_ERR_MISUSE);
  assert_int_equal(host_calls, 0);
  assert_int_equal(weft_func_call(f->store, fn, &arg, 1, &res, 1, &t), WEFT_OK);
  assert_null(t);
  assert_int_equal(res.kind, WEFT_VAL_I64);
  assert_int_equal(res.of.i64, 10);
  weft_val_raw slots[1] = {{.i64 = 99}};
  assert_int_equal(weft_func_call_unchecked(f->store, fn, slots, 0, &t), WEFT_ERR_MISUSE);
  assert_int_equal(weft_func_call_unchecked(f->store, fn, slots, 1, &t), WEFT_OK);
  assert_null(t);
  assert_int_equal(slots[0].i64, 100);
  /* A concrete heap type cannot be given to a host function. */
  weft_valtype concrete = WEFT_VT_MAKE_REF(1, 0);
  assert_int_equal(weft_func_new(f->store, &concrete, 1, NULL, 0, host_add1, NULL, NULL, &fn),
                   WEFT_ERR_MISUSE);
}

/* -- Globals and tables ------------------------------------------------------------------------ */

static void test_globals(void **state) {
  fixture *f = *state;
  weft_val_t v = {.kind = WEFT_VAL_F64, .of.f64 = 2.5}, out;
  weft_global_t g, c;
  assert_int_equal(weft_global_new(f->store, WEFT_VT_F64, true, &v, &g), WEFT_OK);
  assert_int_equal(weft_global_new(f->store, WEFT_VT_F64, false, &v, &c), WEFT_OK);
  assert_int_equal(weft_global_get(f->store, g, &out), WEFT_OK);
  assert_true(out.kind == WEFT_VAL_F64 && out.of.f64 == 2.5);
  v.of.f64 = -1.0;
  assert_int_equal(weft_global_set(f->store, g, &v), WEFT_OK);
  assert_int_equal(weft_global_get(f->store, g, &out), WEFT_OK);
  assert_true(out.of.f64 == -1.0);
  assert_int_equal(weft_global_set(f->store, c, &v), WEFT_ERR_MISUSE);
  weft_val_t i = {.kind = WEFT_VAL_I32, .of.i32 = 1};
  assert_int_equal(weft_global_set(f->store, g, &i), WEFT_ERR_MISUSE);
  assert_int_equal(weft_global_new(f->store, WEFT_VT_I64, false, &i, &c), WEFT_ERR_MISUSE);
}

static void test_tables(void **state) {
  fixture *f = *state;
  weft_table_t t;
  assert_int_equal(weft_table_new(f->store, WEFT_VT_FUNCREF, 2, true, 4, NULL, &t), WEFT_OK);
  assert_int_equal(weft_table_size(f->store, t), 2);
  weft_valtype i64 = WEFT_VT_I64;
  weft_func_t fn;
  assert_int_equal(weft_func_new(f->store, &i64, 1, &i64, 1, host_add1, NULL, NULL, &fn), WEFT_OK);
  weft_val_t v = {.kind = WEFT_VAL_FUNCREF, .of.funcref = fn}, out;
  assert_int_equal(weft_table_set(f->store, t, 1, &v), WEFT_OK);
  assert_int_equal(weft_table_set(f->store, t, 2, &v), WEFT_ERR_MISUSE);
  assert_int_equal(weft_table_get(f->store, t, 1, &out), WEFT_OK);
  assert_ptr_equal(out.of.funcref.ref, fn.ref);
  assert_int_equal(weft_table_get(f->store, t, 0, &out), WEFT_OK);
  assert_null(out.of.funcref.ref);
  uint64_t old = 0;
  assert_int_equal(weft_table_grow(f->store, t, 2, &v, &old), WEFT_OK);
  assert_int_equal(old, 2);
  assert_int_equal(weft_table_get(f->store, t, 3, &out), WEFT_OK);
  assert_ptr_equal(out.of.funcref.ref, fn.ref);
  assert_int_equal(weft_table_grow(f->store, t, 1, NULL, NULL), WEFT_ERR_LIMIT);
  weft_table_type tt;
  assert_int_equal(weft_table_get_type(f->store, t, &tt), WEFT_OK);
  assert_true(tt.elem == WEFT_VT_FUNCREF && tt.limits.min == 4 && tt.limits.max == 4);
  weft_val_t ext = {.kind = WEFT_VAL_EXTERNREF, .of.ref = &old};
  assert_int_equal(weft_table_set(f->store, t, 0, &ext), WEFT_ERR_MISUSE);
}

/* -- Modules, linking, instantiation ----------------------------------------------------------- */

#define HDR 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00

static weft_module_t *load(fixture *f, const uint8_t *b, size_t n) {
  weft_module_t *m = NULL;
  weft_error err;
  memset(&err, 0, sizeof err);
  int rc = weft_module_new(f->engine, b, n, &m, &err);
  if (rc != WEFT_OK) fail_msg("module: %s", err.message);
  return m;
}

/* (module (memory 1) (data (i32.const 65534) "abc")) */
static void test_data_segment_out_of_bounds(void **state) {
  fixture *f = *state;
  static const uint8_t b[] = {HDR, 0x05, 0x03, 0x01, 0x00, 0x01,
                              0x0b, 0x0b, 0x01, 0x00, 0x41, 0xfe, 0xff, 0x03, 0x0b, 0x03, 'a', 'b', 'c'};
  weft_module_t *m = load(f, b, sizeof b);
  weft_instance_t *inst = (weft_instance_t *)1;
  weft_trap_t *t = NULL;
  weft_error err;
  assert_int_equal(weft_instance_new(f->store, m, NULL, 0, &inst, &t, &err), WEFT_OK);
  assert_null(inst);
  expect_trap(t, WEFT_TRAP_MEMORY_OOB);
  weft_module_free(m);
}

/* (module (table 2 funcref) (elem (i32.const 1) funcref (ref.null func) (ref.null func))) */
static void test_elem_segment_out_of_bounds(void **state) {
  fixture *f = *state;
  static const uint8_t b[] = {HDR, 0x04, 0x04, 0x01, 0x70, 0x00, 0x02,
                              0x09, 0x0c, 0x01, 0x04, 0x41, 0x01, 0x0b, 0x02, 0xd0, 0x70, 0x0b, 0xd0, 0x70, 0x0b};
  weft_module_t *m = load(f, b, sizeof b);
  weft_instance_t *inst = NULL;
  weft_trap_t *t = NULL;
  assert_int_equal(weft_instance_new(f->store, m, NULL, 0, &inst, &t, NULL), WEFT_OK);
  assert_null(inst);
  expect_trap(t, WEFT_TRAP_TABLE_OOB);
  weft_module_free(m);
}

/* (module (import "env" "mem" (memory 1)) (data (i32.const 0) "hi")) through the linker. */
static void test_linker_memory_import(void **state) {
  fixture *f = *state;
  static const uint8_t b[] = {HDR, 0x02, 0x0c, 0x01, 0x03, 'e', 'n', 'v', 0x03, 'm', 'e', 'm', 0x02, 0x00, 0x01,
                              0x0b, 0x08, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x02, 'h', 'i'};
  weft_module_t *m = load(f, b, sizeof b);
  weft_linker_t *l = weft_linker_new(f->store);
  weft_instance_t *inst = NULL;
  weft_trap_t *t = NULL;
  weft_error err;
  memset(&err, 0, sizeof err);
  assert_int_equal(weft_linker_instantiate(l, m, &inst, &t, &err), WEFT_ERR_LINK);
  assert_string_equal(err.message, "unknown import \"env\" \"mem\"");
  /* A memory of the wrong limits does not match. */
  weft_memory_t small;
  assert_int_equal(weft_memory_new(f->store, 0, false, 0, false, &small), WEFT_OK);
  weft_extern_t e = {.kind = WEFT_EXTERN_MEMORY, .of.memory = small};
  assert_int_equal(weft_linker_define(l, "env", "mem", &e), WEFT_OK);
  assert_int_equal(weft_linker_instantiate(l, m, &inst, &t, &err), WEFT_ERR_LINK);
  assert_memory_equal(err.message, "incompatible import type", 24);
  e.of.memory = f->mem;
  assert_int_equal(weft_linker_define(l, "env", "mem", &e), WEFT_ERR_LINK); /* no shadowing yet */
  weft_extern_t got;
  assert_int_equal(weft_linker_get(l, "env", "mem", &got), WEFT_OK);
  assert_ptr_equal(got.of.memory.obj, small.obj);
  assert_int_equal(weft_linker_get(l, "env", "nope", &got), WEFT_ERR_LINK);
  weft_linker_allow_shadowing(l, true);
  e.of.memory = f->mem;
  assert_int_equal(weft_linker_define(l, "env", "mem", &e), WEFT_OK);
  assert_int_equal(weft_linker_instantiate(l, m, &inst, &t, &err), WEFT_OK);
  assert_null(t);
  assert_non_null(inst);
  assert_memory_equal(weft_memory_data(f->store, f->mem), "hi", 2);
  weft_linker_free(l);
  weft_module_free(m); /* the instance keeps it alive */
  assert_int_equal(weft_module_import_count(weft_instance_module(inst)), 1);
}

/* (module (type (func (param i32) (result i32))) (import "env" "f" (func (type 0)))
 *         (export "f" (func 0))): an imported host function re-exported and called. */
static weft_trap_t *host_neg(void *env, weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                             weft_val_t *results, size_t nresults) {
  (void)env, (void)caller, (void)nargs, (void)nresults;
  results[0].kind = WEFT_VAL_I32;
  results[0].of.i32 = -args[0].of.i32;
  return NULL;
}

static void test_func_import_export(void **state) {
  fixture *f = *state;
  static const uint8_t b[] = {HDR, 0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
                              0x02, 0x09, 0x01, 0x03, 'e', 'n', 'v', 0x01, 'f', 0x00, 0x00,
                              0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00};
  weft_module_t *m = load(f, b, sizeof b);
  weft_valtype i32 = WEFT_VT_I32, i64 = WEFT_VT_I64;
  weft_func_t good, bad;
  assert_int_equal(weft_func_new(f->store, &i32, 1, &i32, 1, host_neg, NULL, NULL, &good), WEFT_OK);
  assert_int_equal(weft_func_new(f->store, &i64, 1, &i32, 1, host_neg, NULL, NULL, &bad), WEFT_OK);
  weft_extern_t e = {.kind = WEFT_EXTERN_FUNC, .of.func = bad};
  weft_instance_t *inst = NULL;
  weft_trap_t *t = NULL;
  weft_error err;
  assert_int_equal(weft_instance_new(f->store, m, &e, 1, &inst, &t, &err), WEFT_ERR_LINK);
  assert_memory_equal(err.message, "incompatible import type", 24);
  e.of.func = good;
  assert_int_equal(weft_instance_new(f->store, m, &e, 1, &inst, &t, &err), WEFT_OK);
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(inst, "f", &ex), WEFT_OK);
  assert_int_equal(ex.kind, WEFT_EXTERN_FUNC);
  assert_ptr_equal(ex.of.func.ref, good.ref);
  assert_int_equal(weft_instance_export(inst, "g", &ex), WEFT_ERR_LINK);
  weft_val_t a = {.kind = WEFT_VAL_I32, .of.i32 = 5}, r;
  assert_int_equal(weft_func_call(f->store, ex.of.func, &a, 1, &r, 1, &t), WEFT_OK);
  assert_null(t);
  assert_int_equal(r.of.i32, -5);
  weft_module_free(m);
}

/* (module (type (func)) (import "env" "s" (func (type 0))) (start 0)): a start function that
 * fails makes instantiation return the host's trap. */
static void test_start_trap(void **state) {
  fixture *f = *state;
  static const uint8_t b[] = {HDR, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
                              0x02, 0x09, 0x01, 0x03, 'e', 'n', 'v', 0x01, 's', 0x00, 0x00,
                              0x08, 0x01, 0x00};
  weft_module_t *m = load(f, b, sizeof b);
  weft_func_t s;
  assert_int_equal(weft_func_new(f->store, NULL, 0, NULL, 0, host_fail, (void *)"start failed",
                                 NULL, &s),
                   WEFT_OK);
  weft_extern_t e = {.kind = WEFT_EXTERN_FUNC, .of.func = s};
  weft_instance_t *inst = NULL;
  weft_trap_t *t = NULL;
  assert_int_equal(weft_instance_new(f->store, m, &e, 1, &inst, &t, NULL), WEFT_OK);
  assert_null(inst);
  assert_non_null(t);
  assert_string_equal(weft_trap_message(t), "start failed");
  weft_trap_free(t);
  weft_module_free(m);
}

/* (module (import "env" "g" (global (mut i32))) (export "g" (global 0))) */
static void test_global_import(void **state) {
  fixture *f = *state;
  static const uint8_t b[] = {HDR, 0x02, 0x0a, 0x01, 0x03, 'e', 'n', 'v', 0x01, 'g', 0x03, 0x7f, 0x01,
                              0x07, 0x05, 0x01, 0x01, 'g', 0x03, 0x00};
  weft_module_t *m = load(f, b, sizeof b);
  weft_val_t v = {.kind = WEFT_VAL_I32, .of.i32 = 7}, out;
  weft_global_t imm, mut;
  assert_int_equal(weft_global_new(f->store, WEFT_VT_I32, false, &v, &imm), WEFT_OK);
  assert_int_equal(weft_global_new(f->store, WEFT_VT_I32, true, &v, &mut), WEFT_OK);
  weft_extern_t e = {.kind = WEFT_EXTERN_GLOBAL, .of.global = imm};
  weft_instance_t *inst = NULL;
  weft_trap_t *t = NULL;
  weft_error err;
  assert_int_equal(weft_instance_new(f->store, m, &e, 1, &inst, &t, &err), WEFT_ERR_LINK);
  e.kind = WEFT_EXTERN_MEMORY;
  e.of.memory = f->mem;
  assert_int_equal(weft_instance_new(f->store, m, &e, 1, &inst, &t, &err), WEFT_ERR_LINK);
  e.kind = WEFT_EXTERN_GLOBAL;
  e.of.global = mut;
  assert_int_equal(weft_instance_new(f->store, m, &e, 1, &inst, &t, &err), WEFT_OK);
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(inst, "g", &ex), WEFT_OK);
  v.of.i32 = 99;
  assert_int_equal(weft_global_set(f->store, ex.of.global, &v), WEFT_OK);
  assert_int_equal(weft_global_get(f->store, mut, &out), WEFT_OK);
  assert_int_equal(out.of.i32, 99);
  weft_module_free(m);
}

/* (module (import "env" "t" (table i64 1 funcref))): table64 imports match only table64 tables. */
static void test_table64_import(void **state) {
  fixture *f = *state;
  static const uint8_t b[] = {HDR, 0x02, 0x0b, 0x01, 0x03, 'e', 'n', 'v', 0x01, 't', 0x01, 0x70, 0x04, 0x01};
  weft_module_t *m = load(f, b, sizeof b);
  weft_table_t t32, t64;
  weft_table_type tt = {.elem = WEFT_VT_FUNCREF, .limits = {.min = 2, .is64 = true}};
  assert_int_equal(weft_table_new(f->store, WEFT_VT_FUNCREF, 2, false, 0, NULL, &t32), WEFT_OK);
  assert_int_equal(weft_table_new_typed(f->store, &tt, NULL, &t64), WEFT_OK);
  weft_extern_t e = {.kind = WEFT_EXTERN_TABLE, .of.table = t32};
  weft_instance_t *inst = NULL;
  weft_trap_t *t = NULL;
  weft_error err;
  assert_int_equal(weft_instance_new(f->store, m, &e, 1, &inst, &t, &err), WEFT_ERR_LINK);
  assert_memory_equal(err.message, "incompatible import type", 24);
  e.of.table = t64;
  assert_int_equal(weft_instance_new(f->store, m, &e, 1, &inst, &t, &err), WEFT_OK);
  assert_non_null(inst);
  weft_module_free(m);
}

/* (module (type (func (param i32))) (import "env" "e" (tag (type 0))) (export "e" (tag 0))) */
static void test_host_tag_import(void **state) {
  fixture *f = *state;
  static const uint8_t b[] = {HDR, 0x01, 0x05, 0x01, 0x60, 0x01, 0x7f, 0x00,
                              0x02, 0x0a, 0x01, 0x03, 'e', 'n', 'v', 0x01, 'e', 0x04, 0x00, 0x00,
                              0x07, 0x05, 0x01, 0x01, 'e', 0x04, 0x00};
  weft_module_t *m = load(f, b, sizeof b);
  weft_valtype i32 = WEFT_VT_I32, i64 = WEFT_VT_I64;
  weft_tag_t good, bad;
  assert_int_equal(weft_tag_new(f->store, &i32, 1, &good), WEFT_OK);
  assert_int_equal(weft_tag_new(f->store, &i64, 1, &bad), WEFT_OK);
  uint32_t n = 0;
  const weft_valtype *p = NULL;
  assert_int_equal(weft_tag_get_type(f->store, good, &n, &p), WEFT_OK);
  assert_true(n == 1 && p[0] == WEFT_VT_I32);
  weft_extern_t e = {.kind = WEFT_EXTERN_TAG, .of.tag = bad};
  weft_instance_t *inst = NULL;
  weft_trap_t *t = NULL;
  weft_error err;
  assert_int_equal(weft_instance_new(f->store, m, &e, 1, &inst, &t, &err), WEFT_ERR_LINK);
  e.of.tag = good;
  assert_int_equal(weft_instance_new(f->store, m, &e, 1, &inst, &t, &err), WEFT_OK);
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(inst, "e", &ex), WEFT_OK);
  assert_int_equal(ex.kind, WEFT_EXTERN_TAG);
  assert_ptr_equal(ex.of.tag.obj, good.obj); /* imported tags keep their identity */
  weft_module_free(m);
}

/* FUNC_SUBTYPE answers from canonical ids: (type $a (sub (func))) (type $b (sub $a (func))). */
static void test_func_subtype_libcall(void **state) {
  fixture *f = *state;
  static const uint8_t b[] = {HDR, 0x01, 0x0c, 0x02, 0x50, 0x00, 0x60, 0x00, 0x00,
                              0x50, 0x01, 0x00, 0x60, 0x00, 0x00};
  weft_module *ir = NULL;
  weft_diag d;
  assert_int_equal(core_decode(core_engine_types(f->engine), b, sizeof b, &ir, &d), WEFT_OK);
  const weft_rtt *ra = ir->types[0].rtt, *rb = ir->types[1].rtt;
  assert_non_null(ra);
  assert_non_null(rb);
  assert_int_equal(core_rt_store_add_rtt(f->store, rb), WEFT_OK); /* adds its supertypes too */
  uint32_t (*sub)(void *, uint32_t, uint32_t) =
      (uint32_t(*)(void *, uint32_t, uint32_t))core_libcall_addr(WEFT_LC_FUNC_SUBTYPE);
  assert_non_null(sub);
  assert_int_equal(sub(&f->vmctx, rb->id, ra->id), 1);
  assert_int_equal(sub(&f->vmctx, ra->id, rb->id), 0);
  assert_int_equal(sub(&f->vmctx, ra->id, ra->id), 1);
  assert_int_equal(sub(&f->vmctx, rb->id, 0xFFFFFEu), 0);
  assert_true(core_rt_rtt_sub(rb, ra));
  assert_false(core_rt_rtt_sub(ra, rb));
  core_module_free(ir);
}

static void test_malformed_module(void **state) {
  fixture *f = *state;
  static const uint8_t b[] = {0x00, 0x61, 0x73, 0x6d, 0x02};
  weft_module_t *m = (weft_module_t *)1;
  weft_error err;
  memset(&err, 0, sizeof err);
  assert_int_not_equal(weft_module_new(f->engine, b, sizeof b, &m, &err), WEFT_OK);
  assert_null(m);
  assert_true(err.message[0] != '\0');
}

/* Bad handles and NULLs are errors, never crashes. */
static void test_null_and_foreign_handles(void **state) {
  fixture *f = *state;
  assert_int_equal(weft_trap_get_code(NULL), WEFT_TRAP_NONE);
  assert_non_null(weft_trap_message(NULL));
  assert_int_equal(weft_module_import_count(NULL), 0);
  assert_null(weft_module_ir(NULL));
  assert_int_equal(weft_store_id(NULL), 0);
  weft_store_free(NULL);
  weft_module_free(NULL);
  weft_trap_free(NULL);
  weft_linker_free(NULL);
  assert_null(weft_linker_new(NULL));
  weft_extern_t e;
  assert_int_equal(weft_instance_export(NULL, "x", &e), WEFT_ERR_MISUSE);
  weft_store_t *other = weft_store_new(f->engine);
  assert_non_null(other);
  weft_val_t v = {.kind = WEFT_VAL_I32}, out;
  assert_null(weft_memory_data(other, f->mem));
  assert_int_equal(weft_memory_grow(other, f->mem, 1, NULL), WEFT_ERR_MISUSE);
  weft_global_t g;
  assert_int_equal(weft_global_new(f->store, WEFT_VT_I32, true, &v, &g), WEFT_OK);
  assert_int_equal(weft_global_get(other, g, &out), WEFT_ERR_MISUSE);
  assert_int_equal(weft_global_set(other, g, &v), WEFT_ERR_MISUSE);
  weft_linker_t *l = weft_linker_new(other);
  weft_extern_t mem = {.kind = WEFT_EXTERN_MEMORY, .of.memory = f->mem};
  assert_int_equal(weft_linker_define(l, "env", "mem", &mem), WEFT_ERR_MISUSE);
  weft_linker_free(l);
  weft_store_free(other);
  weft_instance_t *inst;
  weft_trap_t *t;
  assert_int_equal(weft_instance_new(f->store, NULL, NULL, 0, &inst, &t, NULL), WEFT_ERR_MISUSE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_load_ok, setup, teardown),
      cmocka_unit_test_setup_teardown(test_memory_edge_every_width, setup, teardown),
      cmocka_unit_test_setup_teardown(test_explicit_traps, setup, teardown),
      cmocka_unit_test_setup_teardown(test_trap_from_libcall, setup, teardown),
      cmocka_unit_test_setup_teardown(test_entry_state_restored, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stack_exhaustion_then_reuse, setup, teardown),
      cmocka_unit_test_setup_teardown(test_registry_lookup, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fault_outside_wasm_chains, setup, teardown),
      cmocka_unit_test_setup_teardown(test_registry_concurrent_changes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_host_func_from_wasm, setup, teardown),
      cmocka_unit_test_setup_teardown(test_host_error_becomes_trap, setup, teardown),
      cmocka_unit_test_setup_teardown(test_func_call_misuse, setup, teardown),
      cmocka_unit_test_setup_teardown(test_globals, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tables, setup, teardown),
      cmocka_unit_test_setup_teardown(test_data_segment_out_of_bounds, setup, teardown),
      cmocka_unit_test_setup_teardown(test_elem_segment_out_of_bounds, setup, teardown),
      cmocka_unit_test_setup_teardown(test_linker_memory_import, setup, teardown),
      cmocka_unit_test_setup_teardown(test_func_import_export, setup, teardown),
      cmocka_unit_test_setup_teardown(test_start_trap, setup, teardown),
      cmocka_unit_test_setup_teardown(test_global_import, setup, teardown),
      cmocka_unit_test_setup_teardown(test_table64_import, setup, teardown),
      cmocka_unit_test_setup_teardown(test_host_tag_import, setup, teardown),
      cmocka_unit_test_setup_teardown(test_func_subtype_libcall, setup, teardown),
      cmocka_unit_test_setup_teardown(test_malformed_module, setup, teardown),
      cmocka_unit_test_setup_teardown(test_null_and_foreign_handles, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
