/* tests/unit/validator/bench_validate.c -- times decode + validate of one module (not a ctest).
 *
 * Usage: bench-validator FILE.wasm [RUNS]. Prints the best and mean wall time of core_decode plus the
 * validator plugin's validate(), and of validate() alone, so they can be compared with
 * `wasm-validate FILE.wasm` (see gen_bench_module.py for a 5 MB input).
 * Depends on: core/decode.h, core/types.h, the validator plugin's object library.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode.h"
#include "types.h"
#include "weft/plugin.h"
#include "weft/plugin/validator.h"

const weft_plugin_desc *weft_plugin_entry_validator(uint32_t host_abi);

static void *h_alloc(void *h, size_t n) { (void)h; return malloc(n ? n : 1); }
static void *h_realloc(void *h, void *p, size_t n) { (void)h; return realloc(p, n ? n : 1); }
static void h_free(void *h, void *p) { (void)h; free(p); }
static void h_log(void *h, weft_log_level l, const char *o, const char *f, va_list ap) {
  (void)h; (void)l; (void)o; (void)f; (void)ap;
}
static int h_diag(void *h, weft_diag *d, int code, uint64_t off, const char *origin, const char *fmt,
                  va_list ap) {
  (void)h;
  d->code = code;
  d->offset = off;
  snprintf(d->origin, sizeof d->origin, "%s", origin);
  vsnprintf(d->message, sizeof d->message, fmt, ap);
  return code;
}
static int h_cfg_int(void *h, const weft_plugin_cfg *c, const char *k, int64_t *o) {
  (void)h; (void)c; (void)k; (void)o;
  return WEFT_ERR_CONFIG;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE.wasm [RUNS]\n", argv[0]);
    return 2;
  }
  int runs = argc > 2 ? atoi(argv[2]) : 10;
  if (runs < 1) runs = 1;
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    fprintf(stderr, "%s: cannot open\n", argv[1]);
    return 1;
  }
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *bytes = malloc(len > 0 ? (size_t)len : 1);
  if (!bytes || fread(bytes, 1, (size_t)len, f) != (size_t)len) {
    fprintf(stderr, "%s: cannot read\n", argv[1]);
    fclose(f);
    return 1;
  }
  fclose(f);
  weft_host_api host = {WEFT_ABI_INIT(weft_host_api), .alloc = h_alloc, .realloc = h_realloc,
                        .free = h_free, .log = h_log, .diag = h_diag, .cfg_int = h_cfg_int};
  const weft_plugin_desc *desc = weft_plugin_entry_validator(WEFT_ABI_VERSION);
  void *st;
  weft_diag d;
  if (desc->init(&host, NULL, &st, &d) != WEFT_OK) return 1;
  const weft_validator_iface *vi = desc->iface;
  core_types *reg = core_types_new();
  double best = 1e9, sum = 0, vbest = 1e9, vsum = 0;
  int rc = 0;
  for (int i = 0; i < runs && rc == 0; i++) {
    weft_module *m = NULL;
    double t0 = now();
    rc = core_decode(reg, bytes, (size_t)len, &m, &d);
    double t1 = now();
    if (rc == WEFT_OK) rc = vi->validate(st, m, &d);
    double t2 = now();
    if (rc != WEFT_OK) fprintf(stderr, "%s: offset %llu: %s\n", argv[1], (unsigned long long)d.offset, d.message);
    core_module_free(m);
    if (t2 - t0 < best) best = t2 - t0;
    if (t2 - t1 < vbest) vbest = t2 - t1;
    sum += t2 - t0;
    vsum += t2 - t1;
  }
  printf("%s: %ld bytes; decode+validate best %.2f ms mean %.2f ms; validate alone best %.2f ms "
         "mean %.2f ms (%d runs)\n",
         argv[1], len, best * 1e3, sum / runs * 1e3, vbest * 1e3, vsum / runs * 1e3, runs);
  desc->fini(st);
  core_types_free(reg);
  free(bytes);
  return rc == WEFT_OK ? 0 : 1;
}
