/* bench/instantiate/inst_bench.c -- bench-instantiate: the cost of instantiating a small module
 * through the embedding API, compiled once and instantiated N times (default 100,000), for a module
 * with one function and for one with a 1-page memory, a 10-element table, an element and a data
 * segment. Reports mean and median microseconds per weft_instance_new and per whole cycle
 * (store new + instantiate + call + store free). Uses only the public API (weft/weft.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "weft/weft.h"

/* -- The modules (hand-encoded binaries) ----------------------------------------------------- */

/* (func (export "f") (param i32) (result i32) local.get 0 i32.const 1 i32.add) */
static const uint8_t small_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,             /* magic, version */
    0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,             /* type: (i32) -> i32 */
    0x03, 0x02, 0x01, 0x00,                                     /* func: type 0 */
    0x07, 0x05, 0x01, 0x01, 'f', 0x00, 0x00,                    /* export "f" func 0 */
    0x0a, 0x09, 0x01, 0x07, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x0b, /* code */
};

/* (table 10 funcref) (memory 1) (elem (i32.const 0) f x10) (data (i32.const 0) "abcd")
 * (func (export "f") (param i32) (result i32) i32.const 0 i32.load local.get 0 i32.add)
 * (export "mem" (memory 0)) */
static const uint8_t memtab_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,                         /* type */
    0x03, 0x02, 0x01, 0x00,                                                 /* func */
    0x04, 0x04, 0x01, 0x70, 0x00, 0x0a,                                     /* table funcref 10 */
    0x05, 0x03, 0x01, 0x00, 0x01,                                           /* memory 1 */
    0x07, 0x0b, 0x02, 0x01, 'f', 0x00, 0x00, 0x03, 'm', 'e', 'm', 0x02, 0x00, /* exports */
    0x09, 0x10, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x0a,                         /* elem: 10 x func 0 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x0a, 0x0c, 0x01, 0x0a, 0x00, 0x41, 0x00, 0x28, 0x02, 0x00, 0x20, 0x00, 0x6a, 0x0b, /* code */
    0x0b, 0x0a, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x04, 'a', 'b', 'c', 'd',     /* data */
};

/* -- Timing ---------------------------------------------------------------------------------- */

static uint64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* Prints mean, median, p99 and max over samples[0..n) (sorted in place). On a shared machine the
 * mean carries the times the process waited for a core; the median and the CPU time do not. */
static void report(const char *module, const char *label, uint64_t *samples, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += (double)samples[i];
  qsort(samples, n, sizeof *samples, cmp_u64);
  double median = n % 2 ? (double)samples[n / 2] : ((double)samples[n / 2 - 1] + samples[n / 2]) / 2;
  printf("%-7s %-28s mean %8.2f us  median %8.2f us  p99 %8.2f us  max %9.1f us\n", module,
         label, sum / (double)n / 1e3, median / 1e3, (double)samples[n * 99 / 100] / 1e3,
         (double)samples[n - 1] / 1e3);
}

/* -- Measuring ------------------------------------------------------------------------------- */

/* One cycle: store, instance, call f(41) (expecting `expect`), free. Adds the instantiation time
 * and the whole cycle's time to *inst_ns and *cycle_ns. 0, or 1 after a message. */
static int cycle(weft_engine *engine, weft_module_t *mod, int32_t expect, uint64_t *inst_ns,
                 uint64_t *cycle_ns) {
  int rc = 1;
  uint64_t t0 = now_ns();
  weft_store_t *store = weft_store_new(engine);
  weft_instance_t *inst = NULL;
  weft_trap_t *trap = NULL;
  weft_error err;
  if (store == NULL) {
    fprintf(stderr, "bench-instantiate: weft_store_new failed\n");
    goto out;
  }
  uint64_t t1 = now_ns();
  if (weft_instance_new(store, mod, NULL, 0, &inst, &trap, &err) != WEFT_OK || trap != NULL) {
    fprintf(stderr, "bench-instantiate: instantiate: %s\n",
            trap != NULL ? weft_trap_message(trap) : err.message);
    goto out;
  }
  *inst_ns = now_ns() - t1;
  weft_extern_t f;
  weft_val_t arg = {.kind = WEFT_VAL_I32, .of.i32 = 41}, res;
  if (weft_instance_export(inst, "f", &f) != WEFT_OK ||
      weft_func_call(store, f.of.func, &arg, 1, &res, 1, &trap) != WEFT_OK || trap != NULL ||
      res.of.i32 != expect) {
    fprintf(stderr, "bench-instantiate: f(41) did not return %d\n", (int)expect);
    goto out;
  }
  rc = 0;
out:
  weft_trap_free(trap);
  weft_store_free(store);
  *cycle_ns = now_ns() - t0;
  return rc;
}

static int bench_module(weft_engine *engine, const char *name, const uint8_t *bytes, size_t len,
                        int32_t expect, size_t n) {
  int rc = 1;
  weft_module_t *mod = NULL;
  weft_error err;
  uint64_t *inst = calloc(n, sizeof *inst), *cyc = calloc(n, sizeof *cyc);
  if (inst == NULL || cyc == NULL) {
    fprintf(stderr, "bench-instantiate: out of memory\n");
    goto out;
  }
  if (weft_module_new(engine, bytes, len, &mod, &err) != WEFT_OK) {
    fprintf(stderr, "bench-instantiate: %s: %s\n", name, err.message);
    goto out;
  }
  uint64_t warm_i, warm_c;
  for (int i = 0; i < 100; i++) /* warm-up: page faults, allocator, pools */
    if (cycle(engine, mod, expect, &warm_i, &warm_c) != 0) goto out;
  uint64_t c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  for (size_t i = 0; i < n; i++)
    if (cycle(engine, mod, expect, &inst[i], &cyc[i]) != 0) goto out;
  uint64_t cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
  report(name, "weft_instance_new", inst, n);
  report(name, "store+instantiate+call+free", cyc, n);
  printf("%-7s %-28s mean %8.2f us (user+sys CPU time of the whole loop / N)\n", name,
         "CPU time per cycle", (double)cpu / (double)n / 1e3);
  rc = 0;
out:
  weft_module_free(mod);
  free(inst);
  free(cyc);
  return rc;
}

int main(int argc, char **argv) {
  size_t n = 100000;
  if (argc > 1) {
    char *end = NULL;
    unsigned long long v = strtoull(argv[1], &end, 10);
    if (end == argv[1] || *end != '\0' || v == 0 || v > 100000000ull) {
      fprintf(stderr, "usage: %s [N (1..100000000, default 100000)] [CONFIG.ini]\n", argv[0]);
      return 2;
    }
    n = (size_t)v;
  }
  const char *conf = argc > 2 ? argv[2] : weft_config_default_path();
  weft_config *cfg = NULL;
  weft_engine *engine = NULL;
  weft_error err;
  int rc = 1;
  if (weft_config_load(conf, &cfg, &err) != WEFT_OK || weft_engine_new(cfg, &engine, &err) != WEFT_OK) {
    fprintf(stderr, "bench-instantiate: %s: %s\n", err.origin, err.message);
    goto out;
  }
  printf("bench-instantiate: %zu instantiations per module, config %s\n", n, conf);
  if (bench_module(engine, "small", small_wasm, sizeof small_wasm, 42, n) != 0) goto out;
  /* f(41) = 41 + the i32 at 0 ("abcd" little-endian) */
  if (bench_module(engine, "memtab", memtab_wasm, sizeof memtab_wasm, 41 + 0x64636261, n) != 0)
    goto out;
  rc = 0;
out:
  weft_engine_free(engine);
  weft_config_free(cfg);
  return rc;
}
