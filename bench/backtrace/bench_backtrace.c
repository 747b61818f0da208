/* bench/backtrace/bench_backtrace.c -- what a trap's backtrace costs (a benchmark, not a test).
 * Runs rec(depth), which recurses `depth` times and traps (unreachable), in two engines that differ
 * only by the backtrace plugin, and prints the mean time per trapping call of each; the difference
 * is the capture (walk + symbolize + names) of depth + 1 frames. Also times a call that returns
 * normally, which must cost the same in both (code that does not trap pays nothing).
 *   bench-backtrace [PLUGIN_DIR] [DEPTH=100] [CALLS=20000]
 * Depends on: libweft (weft-core-obj); the validator, x64-codegen and backtrace plugins.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "weft/weft.h"

/* (module (func $rec (export "rec") (param i32) (result i32)
 *   (if (result i32) (local.get 0) (then (call $rec (i32.sub (local.get 0) (i32.const 1))))
 *     (else (unreachable))))
 *  (func $ok (export "ok") (param i32) (result i32) (local.get 0)))   with a name section */
static const unsigned char module_bytes[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,                   /* type: (i32) -> i32 */
    0x03, 0x03, 0x02, 0x00, 0x00,                                     /* funcs: 2 of type 0 */
    0x07, 0x0c, 0x02, 0x03, 'r', 'e', 'c', 0x00, 0x00, 0x02, 'o', 'k', 0x00, 0x01,
    0x0a, 0x17, 0x02,                                                 /* code: 2 bodies */
    0x10, 0x00, 0x20, 0x00, 0x04, 0x7f, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x10, 0x00, 0x05, 0x00,
    0x0b, 0x0b,
    0x04, 0x00, 0x20, 0x00, 0x0b,
    0x00, 0x11, 0x04, 'n', 'a', 'm', 'e', 0x01, 0x0a, 0x02,          /* name: function names */
    0x00, 0x03, 'r', 'e', 'c', 0x01, 0x02, 'o', 'k',
};

typedef struct rig {
  weft_engine *engine;
  weft_store_t *store;
  weft_module_t *module;
  weft_instance_t *inst;
  weft_func_t rec, ok;
} rig;

static int rig_open(rig *r, const char *plugin_dir, const char *plugins) {
  char text[512];
  snprintf(text, sizeof text, "[core]\nplugin_dir = %s\nplugins = %s\n", plugin_dir, plugins);
  weft_config *cfg = NULL;
  weft_error err;
  memset(&err, 0, sizeof err);
  int rc = weft_config_load_string(text, "bench", NULL, &cfg, &err);
  if (rc == WEFT_OK) rc = weft_engine_new(cfg, &r->engine, &err);
  weft_config_free(cfg);
  if (rc == WEFT_OK)
    rc = weft_module_new(r->engine, module_bytes, sizeof module_bytes, &r->module, &err);
  if (rc != WEFT_OK) {
    fprintf(stderr, "bench-backtrace: %s\n", err.message);
    return -1;
  }
  r->store = weft_store_new(r->engine);
  weft_trap_t *t = NULL;
  weft_extern_t ex;
  if (r->store == NULL ||
      weft_instance_new(r->store, r->module, NULL, 0, &r->inst, &t, &err) != WEFT_OK || t != NULL)
    return -1;
  if (weft_instance_export(r->inst, "rec", &ex) != WEFT_OK) return -1;
  r->rec = ex.of.func;
  if (weft_instance_export(r->inst, "ok", &ex) != WEFT_OK) return -1;
  r->ok = ex.of.func;
  return 0;
}

static void rig_close(rig *r) {
  weft_store_free(r->store);
  weft_module_free(r->module);
  weft_engine_free(r->engine);
}

/* CPU time of this thread (kernel time included: a trap is a signal): other processes on a busy
 * machine do not count. */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Mean microseconds per call of f(arg) over `calls` calls; *frames gets the frame count of the
 * last trap. */
static double time_calls(rig *r, weft_func_t f, int32_t arg, long calls, size_t *frames) {
  weft_val_raw slot;
  double t0 = now();
  for (long i = 0; i < calls; i++) {
    slot.i32 = arg;
    weft_trap_t *t = NULL;
    weft_func_call_unchecked(r->store, f, &slot, 1, &t);
    if (t != NULL) {
      *frames = weft_trap_frame_count(t);
      weft_trap_free(t);
    }
  }
  return (now() - t0) * 1e6 / (double)(calls > 0 ? calls : 1);
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : WEFT_BENCH_PLUGIN_DIR;
  int32_t depth = argc > 2 ? atoi(argv[2]) : 100;
  long calls = argc > 3 ? atol(argv[3]) : 20000;
  rig with, without;
  memset(&with, 0, sizeof with);
  memset(&without, 0, sizeof without);
  if (rig_open(&with, dir, "validator, x64-codegen, backtrace") != 0 ||
      rig_open(&without, dir, "validator, x64-codegen") != 0)
    return 1;
  size_t fw = 0, fo = 0, dummy = 0;
  double tw = 1e30, to = 1e30, ow = 1e30, oo = 1e30;
  /* the two engines alternate, 20 rounds each; the best round of each counts */
  for (int round = 0; round < 20; round++) {
    double x = time_calls(&with, with.rec, depth, calls / 20, &fw);
    double y = time_calls(&without, without.rec, depth, calls / 20, &fo);
    double z = time_calls(&with, with.ok, 1, calls / 2, &dummy);
    double w = time_calls(&without, without.ok, 1, calls / 2, &dummy);
    tw = x < tw ? x : tw, to = y < to ? y : to, ow = z < ow ? z : ow, oo = w < oo ? w : oo;
  }
  printf("trap at depth %d, best of 20 rounds of %ld calls, thread CPU time\n", depth, calls / 20);
  printf("  with backtrace:    %8.3f us/call (%zu frames)\n", tw, fw);
  printf("  without backtrace: %8.3f us/call (%zu frames)\n", to, fo);
  printf("  capture of %zu frames: %.3f us\n", fw, tw - to);
  printf("call that returns: %.3f us with, %.3f us without\n", ow, oo);
  rig_close(&with);
  rig_close(&without);
  return 0;
}
