/* examples/hello.c -- the smallest embedding: compile a module, instantiate it, call two exports.
 * Usage: example-hello hello.wasm. Uses only the public API (weft/weft.h). */
#include "common.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s hello.wasm\n", argv[0]);
    return 1;
  }
  int rc = 1;
  weft_engine *engine = example_engine();
  weft_module_t *module = engine != NULL ? example_module(engine, argv[1]) : NULL;
  weft_store_t *store = module != NULL ? weft_store_new(engine) : NULL;
  if (store == NULL) goto out;

  weft_instance_t *instance = NULL;
  weft_trap_t *trap = NULL;
  weft_error err;
  if (weft_instance_new(store, module, NULL, 0, &instance, &trap, &err) != WEFT_OK || trap != NULL) {
    fprintf(stderr, "instantiate: %s\n", trap != NULL ? weft_trap_message(trap) : err.message);
    weft_trap_free(trap);
    goto out;
  }
  /* The module handle may go now: the instance keeps what it needs. */
  weft_module_free(module);
  module = NULL;

  weft_extern_t add, scale;
  if (weft_instance_export(instance, "add", &add) != WEFT_OK ||
      weft_instance_export(instance, "scale", &scale) != WEFT_OK) {
    fprintf(stderr, "missing export\n");
    goto out;
  }
  weft_val_t args[2] = {{.kind = WEFT_VAL_I32, .of.i32 = 40}, {.kind = WEFT_VAL_I32, .of.i32 = 2}};
  weft_val_t result;
  if (weft_func_call(store, add.of.func, args, 2, &result, 1, &trap) != WEFT_OK || trap != NULL) {
    fprintf(stderr, "add failed\n");
    weft_trap_free(trap);
    goto out;
  }
  printf("add(40, 2) = %d\n", result.of.i32);

  weft_val_t x = {.kind = WEFT_VAL_F64, .of.f64 = 4.0};
  if (weft_func_call(store, scale.of.func, &x, 1, &result, 1, &trap) != WEFT_OK || trap != NULL) {
    fprintf(stderr, "scale failed\n");
    weft_trap_free(trap);
    goto out;
  }
  printf("scale(4) = %g\n", result.of.f64);

  /* Misuse is an error, not a crash: wrong argument count. */
  if (weft_func_call(store, add.of.func, args, 1, &result, 1, &trap) != WEFT_ERR_MISUSE) goto out;
  printf("add with one argument: %s\n", weft_status_str(WEFT_ERR_MISUSE));
  rc = 0;
out:
  weft_store_free(store);
  weft_module_free(module);
  weft_engine_free(engine);
  return rc;
}
