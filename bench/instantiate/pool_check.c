/* bench/instantiate/pool_check.c -- check-memory-pool: regression test for core/memory.c's pool of
 * freed memory reservations (added for instantiation speed). A reused reservation must behave like a
 * fresh one: zeroed, sized by the new memory's limits (accesses past it trap), growable. Runs more
 * stores at once than the pool holds, so both the pooled and the unmapped paths are taken.
 * Uses only the public API (weft/weft.h); exits 0 when every check passes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/weft.h"

/* (memory (export "mem") 1) (func (export "load") (param i32) (result i32) local.get 0 i32.load) */
static const uint8_t load_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,                         /* type (i32)->i32 */
    0x03, 0x02, 0x01, 0x00,                                                 /* func */
    0x05, 0x03, 0x01, 0x00, 0x01,                                           /* memory 1 */
    0x07, 0x0e, 0x02, 0x04, 'l', 'o', 'a', 'd', 0x00, 0x00, 0x03, 'm', 'e', 'm', 0x02, 0x00,
    0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x28, 0x02, 0x00, 0x0b,       /* code */
};

#define NSTORES 48 /* more than the pool keeps (32) */
#define PAGE ((size_t)65536)

static int failures;

static void check(int ok, const char *what, int round) {
  if (!ok) {
    fprintf(stderr, "check-memory-pool: round %d: %s\n", round, what);
    failures++;
  }
}

/* load(addr) in `inst`: 0 and *out set, 1 on a trap (message in msg), -1 on an API error. */
static int call_load(weft_store_t *store, weft_instance_t *inst, int32_t addr, int32_t *out,
                     char *msg, size_t msglen) {
  weft_extern_t f;
  weft_trap_t *trap = NULL;
  weft_val_t arg = {.kind = WEFT_VAL_I32, .of.i32 = addr}, res;
  if (weft_instance_export(inst, "load", &f) != WEFT_OK) return -1;
  if (weft_func_call(store, f.of.func, &arg, 1, &res, 1, &trap) != WEFT_OK) return -1;
  if (trap != NULL) {
    snprintf(msg, msglen, "%s", weft_trap_message(trap));
    weft_trap_free(trap);
    return 1;
  }
  *out = res.of.i32;
  return 0;
}

/* One instance in `store`: checks it starts zeroed and 1 page long, then dirties it and grows it
 * to 3 pages (dirtying those too), so that the next user of the reservation would see any leak. */
static void use_store(weft_store_t *store, weft_module_t *mod, int round) {
  weft_instance_t *inst = NULL;
  weft_trap_t *trap = NULL;
  weft_error err;
  if (weft_instance_new(store, mod, NULL, 0, &inst, &trap, &err) != WEFT_OK || trap != NULL) {
    check(0, "instantiation failed", round);
    weft_trap_free(trap);
    return;
  }
  weft_extern_t mem;
  if (weft_instance_export(inst, "mem", &mem) != WEFT_OK || mem.kind != WEFT_EXTERN_MEMORY) {
    check(0, "no exported memory", round);
    return;
  }
  uint8_t *data = weft_memory_data(store, mem.of.memory);
  check(weft_memory_size(store, mem.of.memory) == 1, "fresh memory is not 1 page", round);
  int zero = data != NULL;
  for (size_t i = 0; zero && i < PAGE; i++) zero = data[i] == 0;
  check(zero, "fresh memory is not zeroed", round);
  int32_t v = -1;
  char msg[128] = "";
  check(call_load(store, inst, (int32_t)(PAGE - 4), &v, msg, sizeof msg) == 0 && v == 0,
        "load at the last word did not return 0", round);
  int rc = call_load(store, inst, (int32_t)PAGE, &v, msg, sizeof msg);
  check(rc == 1 && strncmp(msg, "out of bounds memory access", 27) == 0,
        "load past the first page did not trap with out of bounds memory access", round);
  if (data != NULL) memset(data, 0xA5, PAGE);
  uint64_t old = 0;
  check(weft_memory_grow(store, mem.of.memory, 2, &old) == WEFT_OK && old == 1, "grow by 2 failed",
        round);
  data = weft_memory_data(store, mem.of.memory);
  zero = data != NULL;
  for (size_t i = PAGE; zero && i < 3 * PAGE; i++) zero = data[i] == 0;
  check(zero, "grown pages are not zeroed", round);
  if (data != NULL) memset(data, 0x5A, 3 * PAGE);
  check(call_load(store, inst, (int32_t)(2 * PAGE), &v, msg, sizeof msg) == 0 &&
            v == 0x5A5A5A5A,
        "load in a grown page did not see the store", round);
}

int main(void) {
  weft_config *cfg = NULL;
  weft_engine *engine = NULL;
  weft_module_t *mod = NULL;
  weft_store_t *stores[NSTORES] = {0};
  weft_error err;
  if (weft_config_load(weft_config_default_path(), &cfg, &err) != WEFT_OK ||
      weft_engine_new(cfg, &engine, &err) != WEFT_OK ||
      weft_module_new(engine, load_wasm, sizeof load_wasm, &mod, &err) != WEFT_OK) {
    fprintf(stderr, "check-memory-pool: setup: %s: %s\n", err.origin, err.message);
    failures++;
    goto out;
  }
  for (int round = 0; round < 4; round++) {
    /* Many stores alive at once, then all freed: fills the pool and overflows it. */
    for (int i = 0; i < NSTORES; i++) {
      stores[i] = weft_store_new(engine);
      if (stores[i] == NULL) {
        check(0, "weft_store_new failed", round);
        goto out;
      }
      use_store(stores[i], mod, round);
    }
    for (int i = 0; i < NSTORES; i++) {
      weft_store_free(stores[i]);
      stores[i] = NULL;
    }
    /* One at a time: each reuses the reservation the previous one gave back. */
    for (int i = 0; i < 8; i++) {
      weft_store_t *s = weft_store_new(engine);
      if (s == NULL) {
        check(0, "weft_store_new failed", round);
        goto out;
      }
      use_store(s, mod, round);
      weft_store_free(s);
    }
  }
out:
  for (int i = 0; i < NSTORES; i++) weft_store_free(stores[i]);
  weft_module_free(mod);
  weft_engine_free(engine);
  weft_config_free(cfg);
  if (failures == 0) printf("check-memory-pool: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
