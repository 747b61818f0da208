/* tests/unit/runtime/test_runtime_wasm.c -- the runtime with real generated code: loads the build
 * tree's default configuration (validator + x64-codegen) and modules assembled from calls.wat, and
 * checks call_indirect's three traps, a null call_ref, host functions placed in tables by the host,
 * stack exhaustion then reuse of the store, and traps across Wasm -> host -> Wasm reentry.
 * Depends on: weft-core-obj, the built plugins, cmocka. WEFT_TEST_WASM_DIR names the .wasm folder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime_int.h"
#include "weft/weft.h"

typedef struct fixture {
  weft_engine *engine;
  weft_store_t *store;
  weft_module_t *module;
  weft_instance_t *inst;
  weft_func_t reenter_target; /* what the "env" "reenter" host function calls back */
} fixture;

static fixture *current;

/* env.reenter(x): calls the export "div" with x (Wasm -> host -> Wasm); a trap inside comes back as
 * this host function's trap. */
static weft_trap_t *reenter(void *env, weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                            weft_val_t *results, size_t nresults) {
  (void)env, (void)nargs, (void)nresults;
  weft_extern_t div;
  if (weft_caller_export(caller, "div", &div) != WEFT_OK) return weft_trap_new("no div export");
  weft_trap_t *t = NULL;
  if (weft_func_call(weft_caller_store(caller), div.of.func, args, 1, results, 1, &t) != WEFT_OK)
    return weft_trap_new("misuse");
  return t;
}

static weft_module_t *load(weft_engine *e, const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", WEFT_TEST_WASM_DIR, name);
  FILE *f = fopen(path, "rb");
  if (f == NULL) fail_msg("cannot open %s", path);
  static uint8_t buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  weft_module_t *m = NULL;
  weft_error err;
  if (weft_module_new(e, buf, n, &m, &err) != WEFT_OK) fail_msg("%s: %s", path, err.message);
  return m;
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  weft_config *cfg = NULL;
  weft_error err;
  if (weft_config_load(weft_config_default_path(), &cfg, &err) != WEFT_OK ||
      weft_engine_new(cfg, &f->engine, &err) != WEFT_OK)
    fail_msg("engine: %s", err.message);
  weft_config_free(cfg);
  f->store = weft_store_new(f->engine);
  f->module = load(f->engine, "calls.wasm");
  weft_valtype i32 = WEFT_VT_I32;
  weft_extern_t imp = {.kind = WEFT_EXTERN_FUNC};
  assert_int_equal(weft_func_new(f->store, &i32, 1, &i32, 1, reenter, NULL, NULL, &imp.of.func),
                   WEFT_OK);
  weft_trap_t *t = NULL;
  assert_int_equal(weft_instance_new(f->store, f->module, &imp, 1, &f->inst, &t, &err), WEFT_OK);
  assert_null(t);
  current = f;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  weft_store_free(f->store);
  weft_module_free(f->module);
  weft_engine_free(f->engine);
  free(f);
  return 0;
}

/* Calls export `name` with i32 args; returns the trap message (static buffer) or NULL and *out. */
static const char *call(fixture *f, const char *name, int32_t a, int32_t b, int nargs, int32_t *out) {
  static char msg[256];
  assert_int_equal(core_rt_signals_reinstall(), WEFT_OK); /* in front of cmocka's handlers */
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(f->inst, name, &ex), WEFT_OK);
  weft_val_t args[2] = {{.kind = WEFT_VAL_I32, .of.i32 = a}, {.kind = WEFT_VAL_I32, .of.i32 = b}};
  weft_val_t res;
  weft_trap_t *t = NULL;
  assert_int_equal(weft_func_call(f->store, ex.of.func, args, (size_t)nargs, &res, 1, &t), WEFT_OK);
  if (t != NULL) {
    snprintf(msg, sizeof msg, "%s", weft_trap_message(t));
    weft_trap_free(t);
    return msg;
  }
  if (out != NULL) *out = res.of.i32;
  return NULL;
}

static void test_call_indirect(void **state) {
  fixture *f = *state;
  int32_t r = 0;
  assert_null(call(f, "call", 0, 41, 2, &r));
  assert_int_equal(r, 42);
  assert_string_equal(call(f, "call", 1, 0, 2, NULL), "indirect call type mismatch");
  assert_string_equal(call(f, "call", 2, 0, 2, NULL), "uninitialized element 2"); /* spec text */
  assert_string_equal(call(f, "call", 4, 0, 2, NULL), "undefined element");
  assert_string_equal(call(f, "call", -1, 0, 2, NULL), "undefined element");
  assert_null(call(f, "call", 0, 1, 2, &r));
  assert_int_equal(r, 2);
}

static weft_trap_t *triple(void *env, weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                           weft_val_t *results, size_t nresults) {
  (void)env, (void)caller, (void)nargs, (void)nresults;
  results[0].kind = WEFT_VAL_I32;
  results[0].of.i32 = args[0].of.i32 * 3;
  return NULL;
}

/* A host function the host puts in a table is callable by call_indirect: the runtime gives it a
 * native entry; one of another type traps with the mismatch. */
static void test_host_func_in_table(void **state) {
  fixture *f = *state;
  weft_valtype i32 = WEFT_VT_I32;
  weft_func_t h, wrong;
  assert_int_equal(weft_func_new(f->store, &i32, 1, &i32, 1, triple, NULL, NULL, &h), WEFT_OK);
  assert_int_equal(weft_func_new(f->store, NULL, 0, &i32, 1, triple, NULL, NULL, &wrong), WEFT_OK);
  weft_extern_t tab;
  assert_int_equal(weft_instance_export(f->inst, "tab", &tab), WEFT_OK);
  weft_val_t v = {.kind = WEFT_VAL_FUNCREF, .of.funcref = h};
  assert_int_equal(weft_table_set(f->store, tab.of.table, 2, &v), WEFT_OK);
  v.of.funcref = wrong;
  assert_int_equal(weft_table_set(f->store, tab.of.table, 3, &v), WEFT_OK);
  int32_t r = 0;
  assert_null(call(f, "call", 2, 14, 2, &r));
  assert_int_equal(r, 42);
  assert_string_equal(call(f, "call", 3, 14, 2, NULL), "indirect call type mismatch");
}

static void test_stack_exhaustion_then_reuse(void **state) {
  fixture *f = *state;
  for (int i = 0; i < 3; i++) {
    assert_string_equal(call(f, "deep", 0, 0, 1, NULL), "call stack exhausted");
    int32_t r = 0;
    assert_null(call(f, "call", 0, i, 2, &r));
    assert_int_equal(r, i + 1);
  }
}

static void test_reentry(void **state) {
  fixture *f = *state;
  int32_t r = 0;
  assert_null(call(f, "outer", 5, 0, 1, &r));
  assert_int_equal(r, 102);
  /* The trap in the inner Wasm call unwinds to the inner entry; the host returns it as its own
   * trap, which unwinds the outer Wasm frames in turn. */
  assert_string_equal(call(f, "outer", 0, 0, 1, NULL), "integer divide by zero");
  assert_null(call(f, "outer", 1, 0, 1, &r));
  assert_int_equal(r, 110);
  assert_int_equal(f->store->entry_depth, 0);
}

/* -- Table and memory libcalls from Wasm --------------------------------------------------------- */

/* Calls `name` of `inst` with up to three i32 arguments and zero or one i32 result. Returns the trap
 * message or NULL. */
static const char *invoke(fixture *f, weft_instance_t *inst, const char *name, int nargs, int32_t a,
                          int32_t b, int32_t c, int nres, int32_t *out) {
  static char msg[256];
  assert_int_equal(core_rt_signals_reinstall(), WEFT_OK);
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(inst, name, &ex), WEFT_OK);
  weft_val_t args[3] = {{.kind = WEFT_VAL_I32, .of.i32 = a},
                        {.kind = WEFT_VAL_I32, .of.i32 = b},
                        {.kind = WEFT_VAL_I32, .of.i32 = c}};
  weft_val_t res;
  weft_trap_t *t = NULL;
  assert_int_equal(weft_func_call(f->store, ex.of.func, args, (size_t)nargs, &res, (size_t)nres, &t),
                   WEFT_OK);
  if (t != NULL) {
    snprintf(msg, sizeof msg, "%s", weft_trap_message(t));
    weft_trap_free(t);
    return msg;
  }
  if (out != NULL && nres == 1) *out = res.of.i32;
  return NULL;
}

static weft_instance_t *tables_instance(fixture *f, weft_module_t **out_m) {
  *out_m = load(f->engine, "tables.wasm");
  weft_instance_t *inst = NULL;
  weft_trap_t *t = NULL;
  weft_error err;
  assert_int_equal(weft_instance_new(f->store, *out_m, NULL, 0, &inst, &t, &err), WEFT_OK);
  assert_null(t);
  return inst;
}

static void test_table_libcalls(void **state) {
  fixture *f = *state;
  weft_module_t *m;
  weft_instance_t *in = tables_instance(f, &m);
  int32_t r = 0;
  assert_string_equal(invoke(f, in, "at", 1, 0, 0, 0, 1, &r), "uninitialized element 0");
  assert_null(invoke(f, in, "init", 3, 1, 0, 3, 0, NULL)); /* t[1..4) = one two three */
  assert_null(invoke(f, in, "at", 1, 3, 0, 0, 1, &r));
  assert_int_equal(r, 3);
  assert_string_equal(invoke(f, in, "init", 3, 2, 1, 3, 0, NULL), "out of bounds table access");
  assert_null(invoke(f, in, "copy", 3, 0, 1, 3, 0, NULL)); /* overlapping: t[0..3) = one two three */
  assert_null(invoke(f, in, "at", 1, 0, 0, 0, 1, &r));
  assert_int_equal(r, 1);
  assert_string_equal(invoke(f, in, "copy", 3, 2, 0, 3, 0, NULL), "out of bounds table access");
  assert_null(invoke(f, in, "size", 0, 0, 0, 0, 1, &r));
  assert_int_equal(r, 4);
  assert_null(invoke(f, in, "grow", 1, 3, 0, 0, 1, &r));
  assert_int_equal(r, 4);
  assert_null(invoke(f, in, "at", 1, 6, 0, 0, 1, &r));
  assert_int_equal(r, 3);
  assert_null(invoke(f, in, "grow", 1, 2, 0, 0, 1, &r)); /* max 8 */
  assert_int_equal(r, -1);
  assert_null(invoke(f, in, "fill", 2, 5, 2, 0, 0, NULL));
  assert_null(invoke(f, in, "at", 1, 6, 0, 0, 1, &r));
  assert_int_equal(r, 2);
  assert_string_equal(invoke(f, in, "fill", 2, 6, 2, 0, 0, NULL), "out of bounds table access");
  assert_null(invoke(f, in, "drop", 0, 0, 0, 0, 0, NULL));
  assert_null(invoke(f, in, "init", 3, 0, 0, 0, 0, NULL)); /* empty init of a dropped segment */
  assert_string_equal(invoke(f, in, "init", 3, 0, 0, 1, 0, NULL), "out of bounds table access");
  weft_module_free(m);
}

static void test_memory_libcalls(void **state) {
  fixture *f = *state;
  weft_module_t *m;
  weft_instance_t *in = tables_instance(f, &m);
  int32_t r = 0;
  assert_null(invoke(f, in, "minit", 3, 65531, 0, 5, 0, NULL));
  assert_null(invoke(f, in, "load8", 1, 65535, 0, 0, 1, &r));
  assert_int_equal(r, '!');
  assert_string_equal(invoke(f, in, "minit", 3, 65532, 0, 5, 0, NULL),
                      "out of bounds memory access");
  assert_string_equal(invoke(f, in, "minit", 3, 0, 1, 5, 0, NULL), "out of bounds memory access");
  assert_null(invoke(f, in, "mfill", 3, 10, 0x1AB, 3, 0, NULL));
  assert_null(invoke(f, in, "load8", 1, 12, 0, 0, 1, &r));
  assert_int_equal(r, 0xAB);
  assert_string_equal(invoke(f, in, "mfill", 3, 65535, 0, 2, 0, NULL), "out of bounds memory access");
  assert_null(invoke(f, in, "mcopy", 3, 11, 65531, 5, 0, NULL)); /* "weft!" to 11 */
  assert_null(invoke(f, in, "load8", 1, 11, 0, 0, 1, &r));
  assert_int_equal(r, 'w');
  assert_string_equal(invoke(f, in, "mcopy", 3, 0, 65535, 2, 0, NULL), "out of bounds memory access");
  assert_null(invoke(f, in, "mgrow", 1, 1, 0, 0, 1, &r));
  assert_int_equal(r, 1);
  assert_null(invoke(f, in, "mgrow", 1, 1, 0, 0, 1, &r));
  assert_int_equal(r, -1);
  assert_null(invoke(f, in, "load8", 1, 131071, 0, 0, 1, &r)); /* new page is readable, zero */
  assert_int_equal(r, 0);
  assert_string_equal(invoke(f, in, "load8", 1, 131072, 0, 0, 1, NULL), "out of bounds memory access");
  assert_null(invoke(f, in, "mdrop", 0, 0, 0, 0, 0, NULL));
  assert_string_equal(invoke(f, in, "minit", 3, 0, 0, 1, 0, NULL), "out of bounds memory access");
  weft_module_free(m);
}

/* (module (type $r (func (result i32))) (type $c (func (param (ref null $r)) (result i32)))
 *   (func (export "seven") (type $r) (i32.const 7))
 *   (func (export "callit") (type $c) (call_ref $r (local.get 0))))
 * weft_func_call checks a typed function reference argument against the parameter's type. */
static void test_typed_funcref_args(void **state) {
  fixture *f = *state;
  static const uint8_t b[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
                              0x01, 0x0b, 0x02, 0x60, 0x00, 0x01, 0x7f, 0x60, 0x01, 0x63, 0x00, 0x01, 0x7f,
                              0x03, 0x03, 0x02, 0x00, 0x01,
                              0x07, 0x12, 0x02, 0x05, 's', 'e', 'v', 'e', 'n', 0x00, 0x00,
                              0x06, 'c', 'a', 'l', 'l', 'i', 't', 0x00, 0x01,
                              0x0a, 0x0d, 0x02, 0x04, 0x00, 0x41, 0x07, 0x0b,
                              0x06, 0x00, 0x20, 0x00, 0x14, 0x00, 0x0b};
  weft_module_t *m = NULL;
  weft_error err;
  if (weft_module_new(f->engine, b, sizeof b, &m, &err) != WEFT_OK) fail_msg("%s", err.message);
  weft_instance_t *inst = NULL;
  weft_trap_t *t = NULL;
  assert_int_equal(weft_instance_new(f->store, m, NULL, 0, &inst, &t, &err), WEFT_OK);
  weft_extern_t seven, callit;
  assert_int_equal(weft_instance_export(inst, "seven", &seven), WEFT_OK);
  assert_int_equal(weft_instance_export(inst, "callit", &callit), WEFT_OK);
  assert_int_equal(core_rt_signals_reinstall(), WEFT_OK);
  weft_val_t arg = {.kind = WEFT_VAL_FUNCREF, .of.funcref = seven.of.func}, res;
  assert_int_equal(weft_func_call(f->store, callit.of.func, &arg, 1, &res, 1, &t), WEFT_OK);
  assert_null(t);
  assert_int_equal(res.of.i32, 7);
  arg.of.funcref = callit.of.func; /* a function of another type */
  assert_int_equal(weft_func_call(f->store, callit.of.func, &arg, 1, &res, 1, &t), WEFT_ERR_MISUSE);
  arg.kind = WEFT_VAL_EXTERNREF;
  arg.of.ref = NULL;
  assert_int_equal(weft_func_call(f->store, callit.of.func, &arg, 1, &res, 1, &t), WEFT_ERR_MISUSE);
  arg.kind = WEFT_VAL_FUNCREF;
  arg.of.funcref.ref = NULL;
  assert_int_equal(weft_func_call(f->store, callit.of.func, &arg, 1, &res, 1, &t), WEFT_OK);
  assert_non_null(t);
  assert_string_equal(weft_trap_message(t), "null function reference");
  weft_trap_free(t);
  weft_module_free(m);
}

/* -- Threads ---------------------------------------------------------------------------------- */

typedef struct thread_job {
  fixture *f;
  char msg[128];   /* trap message of "deep", or "" */
  int32_t result;  /* of call(0, 41) afterwards */
  int status;
} thread_job;

static void *thread_main(void *arg) {
  thread_job *j = arg;
  weft_extern_t deep, callx;
  weft_trap_t *t = NULL;
  weft_val_t args[2] = {{.kind = WEFT_VAL_I32, .of.i32 = 0}, {.kind = WEFT_VAL_I32, .of.i32 = 41}};
  weft_val_t res;
  j->status = weft_instance_export(j->f->inst, "deep", &deep) |
              weft_instance_export(j->f->inst, "call", &callx);
  if (j->status != WEFT_OK) return NULL;
  j->status = weft_func_call(j->f->store, deep.of.func, args, 1, &res, 1, &t);
  if (t != NULL) {
    snprintf(j->msg, sizeof j->msg, "%s", weft_trap_message(t));
    weft_trap_free(t);
  }
  t = NULL;
  j->status |= weft_func_call(j->f->store, callx.of.func, args, 2, &res, 1, &t);
  j->result = t == NULL ? res.of.i32 : -1;
  weft_trap_free(t);
  return NULL;
}

/* A thread whose stack is smaller than max_wasm_stack (1 MiB) still gets "call stack exhausted":
 * the limit is clamped to the thread's own stack. The thread gets its own signal stack too. */
static void test_small_thread_stack(void **state) {
  fixture *f = *state;
  assert_int_equal(core_rt_signals_reinstall(), WEFT_OK);
  thread_job job = {.f = f};
  pthread_attr_t attr;
  pthread_t th;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  assert_int_equal(pthread_create(&th, &attr, thread_main, &job), 0);
  pthread_join(th, NULL);
  pthread_attr_destroy(&attr);
  assert_int_equal(job.status, WEFT_OK);
  assert_string_equal(job.msg, "call stack exhausted");
  assert_int_equal(job.result, 42);
}

/* (module (type $t (func (result i32))) (func (export "f") (result i32) (call_ref $t (ref.null $t))))*/
static void test_null_call_ref(void **state) {
  fixture *f = *state;
  static const uint8_t b[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
                              0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,
                              0x03, 0x02, 0x01, 0x00,
                              0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00,
                              0x0a, 0x08, 0x01, 0x06, 0x00, 0xd0, 0x00, 0x14, 0x00, 0x0b};
  weft_module_t *m = NULL;
  weft_error err;
  if (weft_module_new(f->engine, b, sizeof b, &m, &err) != WEFT_OK) fail_msg("%s", err.message);
  weft_instance_t *inst = NULL;
  weft_trap_t *t = NULL;
  assert_int_equal(weft_instance_new(f->store, m, NULL, 0, &inst, &t, &err), WEFT_OK);
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(inst, "f", &ex), WEFT_OK);
  weft_val_t res;
  assert_int_equal(core_rt_signals_reinstall(), WEFT_OK);
  assert_int_equal(weft_func_call(f->store, ex.of.func, NULL, 0, &res, 1, &t), WEFT_OK);
  assert_non_null(t);
  assert_string_equal(weft_trap_message(t), "null function reference");
  weft_trap_free(t);
  weft_module_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_call_indirect, setup, teardown),
      cmocka_unit_test_setup_teardown(test_host_func_in_table, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stack_exhaustion_then_reuse, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reentry, setup, teardown),
      cmocka_unit_test_setup_teardown(test_null_call_ref, setup, teardown),
      cmocka_unit_test_setup_teardown(test_small_thread_stack, setup, teardown),
      cmocka_unit_test_setup_teardown(test_typed_funcref_args, setup, teardown),
      cmocka_unit_test_setup_teardown(test_table_libcalls, setup, teardown),
      cmocka_unit_test_setup_teardown(test_memory_libcalls, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
