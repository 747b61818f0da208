/* examples/trap.c -- catching traps: a division by zero and an out-of-bounds load come back as
 * trap objects with the spec's messages, and the store keeps working afterwards.
 * Usage: example-trap trap.wasm. Uses only the public API (weft/weft.h). */
#include "common.h"

static int call(weft_store_t *store, weft_instance_t *inst, const char *name, const weft_val_t *args,
                size_t nargs) {
  weft_extern_t f;
  if (weft_instance_export(inst, name, &f) != WEFT_OK) return 1;
  weft_val_t res;
  weft_trap_t *trap = NULL;
  if (weft_func_call(store, f.of.func, args, nargs, &res, 1, &trap) != WEFT_OK) return 1;
  if (trap != NULL) {
    printf("%s: trap: %s\n", name, weft_trap_message(trap));
    weft_trap_free(trap);
  } else {
    printf("%s: %d\n", name, res.of.i32);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s trap.wasm\n", argv[0]);
    return 1;
  }
  int rc = 1;
  weft_engine *engine = example_engine();
  weft_module_t *module = engine != NULL ? example_module(engine, argv[1]) : NULL;
  weft_store_t *store = module != NULL ? weft_store_new(engine) : NULL;
  if (store == NULL) goto out;
  weft_instance_t *inst = NULL;
  weft_trap_t *trap = NULL;
  weft_error err;
  if (weft_instance_new(store, module, NULL, 0, &inst, &trap, &err) != WEFT_OK || trap != NULL) {
    weft_trap_free(trap);
    goto out;
  }
  weft_val_t div0[2] = {{.kind = WEFT_VAL_I32, .of.i32 = 7}, {.kind = WEFT_VAL_I32, .of.i32 = 0}};
  weft_val_t div2[2] = {{.kind = WEFT_VAL_I32, .of.i32 = 7}, {.kind = WEFT_VAL_I32, .of.i32 = 2}};
  weft_val_t far = {.kind = WEFT_VAL_I32, .of.i32 = 65536};
  weft_val_t near = {.kind = WEFT_VAL_I32, .of.i32 = 0};
  if (call(store, inst, "div", div0, 2) || call(store, inst, "div", div2, 2) ||
      call(store, inst, "peek", &far, 1) || call(store, inst, "peek", &near, 1))
    goto out;
  rc = 0;
out:
  weft_store_free(store);
  weft_module_free(module);
  weft_engine_free(engine);
  return rc;
}
