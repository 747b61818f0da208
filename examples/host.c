/* examples/host.c -- host functions: define "env" "square" and "env" "check" in a linker, let Wasm
 * call them, and see a host error surface as a trap carrying the host's message.
 * Usage: example-host host.wasm. Uses only the public API (weft/weft.h). */
#include <stdio.h>

#include "common.h"

static weft_trap_t *square(void *env, weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                           weft_val_t *results, size_t nresults) {
  (void)caller, (void)nargs, (void)nresults;
  (*(int *)env)++; /* count the calls */
  results[0].kind = WEFT_VAL_I64;
  results[0].of.i64 = args[0].of.i64 * args[0].of.i64;
  return NULL;
}

static weft_trap_t *check(void *env, weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                          weft_val_t *results, size_t nresults) {
  (void)env, (void)caller, (void)nargs, (void)results, (void)nresults;
  if (args[0].of.i64 < 0) return weft_trap_new("check: negative input");
  return NULL;
}

static int call(weft_store_t *store, weft_func_t f, int64_t n) {
  weft_val_t arg = {.kind = WEFT_VAL_I64, .of.i64 = n}, res;
  weft_trap_t *trap = NULL;
  if (weft_func_call(store, f, &arg, 1, &res, 1, &trap) != WEFT_OK) return 1;
  if (trap != NULL) {
    printf("sum_squares(%lld) trapped: %s\n", (long long)n, weft_trap_message(trap));
    weft_trap_free(trap);
    return 0;
  }
  printf("sum_squares(%lld) = %lld\n", (long long)n, (long long)res.of.i64);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s host.wasm\n", argv[0]);
    return 1;
  }
  int rc = 1, calls = 0;
  weft_engine *engine = example_engine();
  weft_module_t *module = engine != NULL ? example_module(engine, argv[1]) : NULL;
  weft_store_t *store = module != NULL ? weft_store_new(engine) : NULL;
  weft_linker_t *linker = store != NULL ? weft_linker_new(store) : NULL;
  if (linker == NULL) goto out;

  weft_valtype i64 = WEFT_VT_I64;
  weft_extern_t sq = {.kind = WEFT_EXTERN_FUNC}, ck = {.kind = WEFT_EXTERN_FUNC};
  if (weft_func_new(store, &i64, 1, &i64, 1, square, &calls, NULL, &sq.of.func) != WEFT_OK ||
      weft_func_new(store, &i64, 1, NULL, 0, check, NULL, NULL, &ck.of.func) != WEFT_OK ||
      weft_linker_define(linker, "env", "square", &sq) != WEFT_OK ||
      weft_linker_define(linker, "env", "check", &ck) != WEFT_OK)
    goto out;

  weft_instance_t *instance = NULL;
  weft_trap_t *trap = NULL;
  weft_error err;
  if (weft_linker_instantiate(linker, module, &instance, &trap, &err) != WEFT_OK || trap != NULL) {
    fprintf(stderr, "instantiate: %s\n", trap != NULL ? weft_trap_message(trap) : err.message);
    weft_trap_free(trap);
    goto out;
  }
  weft_extern_t f;
  if (weft_instance_export(instance, "sum_squares", &f) != WEFT_OK) goto out;
  if (call(store, f.of.func, 10) != 0 || call(store, f.of.func, -1) != 0 ||
      call(store, f.of.func, 3) != 0)
    goto out;
  printf("square was called %d times\n", calls);
  rc = 0;
out:
  weft_linker_free(linker);
  weft_store_free(store);
  weft_module_free(module);
  weft_engine_free(engine);
  return rc;
}
