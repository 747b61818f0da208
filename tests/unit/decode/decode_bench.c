/* tests/unit/decode/decode_bench.c -- decode throughput on one module (a benchmark, not a test).
 * Usage: decode-bench FILE.wasm [ITERATIONS]. Prints MB/s over the iterations, with a fresh type
 * registry per run as an engine would have. Times are process CPU time (robust on a busy machine). Depends on: core/decode.h, core/types.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode.h"
#include "types.h"

#ifdef WEFT_BENCH_WITH_VALIDATOR
#include <stdarg.h>

#include "weft/plugin.h"
#include "weft/plugin/validator.h"

const weft_plugin_desc *weft_plugin_entry_validator(uint32_t host_abi);

/* A minimal host: the validator only allocates and reports diagnostics here. */
static void *h_alloc(void *h, size_t n) { (void)h; return malloc(n); }
static void *h_realloc(void *h, void *p, size_t n) { (void)h; return realloc(p, n); }
static void h_free(void *h, void *p) { (void)h; free(p); }
static void h_log(void *h, weft_log_level l, const char *o, const char *f, va_list ap) {
  (void)h, (void)l, (void)o, (void)f, (void)ap;
}
static int h_diag(void *h, weft_diag *d, int code, uint64_t off, const char *o, const char *f,
                  va_list ap) {
  (void)h;
  if (d) {
    d->code = code;
    d->offset = off;
    snprintf(d->origin, sizeof d->origin, "%s", o ? o : "");
    vsnprintf(d->message, sizeof d->message, f, ap);
  }
  return code;
}
static const weft_host_api host = {WEFT_ABI_INIT(weft_host_api), .alloc = h_alloc,
                                   .realloc = h_realloc, .free = h_free, .log = h_log,
                                   .diag = h_diag};
#endif

/* Process CPU time: the machine may be shared, and CPU time is what the decoder costs. */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE.wasm [ITERATIONS]\n", argv[0]);
    return 2;
  }
  int iters = argc > 2 ? atoi(argv[2]) : 20;
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 1;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc((size_t)n);
  if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
    fclose(f);
    return 1;
  }
  fclose(f);
#ifdef WEFT_BENCH_WITH_VALIDATOR
  const weft_plugin_desc *desc = weft_plugin_entry_validator(WEFT_ABI_VERSION);
  void *vst = NULL;
  weft_diag vd;
  if (!desc || desc->init(&host, NULL, &vst, &vd) != WEFT_OK) {
    printf("validator init failed\n");
    return 1;
  }
  const weft_validator_iface *vld = desc->iface;
  double vbest = 1e30;
#endif
  double best = 1e30, total = 0;
  uint64_t ninstrs = 0;
  for (int i = 0; i < iters; i++) {
    core_types *reg = core_types_new();
    weft_module *m = NULL;
    weft_diag d;
    double t0 = now();
    int rc = core_decode(reg, buf, (size_t)n, &m, &d);
    double t = now() - t0;
    if (rc != 0) {
      printf("decode failed @%llu: %s\n", (unsigned long long)d.offset, d.message);
      return 1;
    }
    ninstrs = 0;
    for (uint32_t k = m->nfunc_imports; k < m->nfuncs; k++) ninstrs += m->funcs[k].body.ninstrs;
#ifdef WEFT_BENCH_WITH_VALIDATOR
    double t1 = now();
    int vrc = vld->validate(vst, m, &vd);
    double tv = now() - t1;
    if (vrc != WEFT_OK) printf("validate: %s @%llu\n", vd.message, (unsigned long long)vd.offset);
    if (t + tv < vbest) vbest = t + tv;
#endif
    core_module_free(m);
    core_types_free(reg);
    total += t;
    if (t < best) best = t;
  }
  printf("%s: %ld bytes, %llu instructions; decode CPU time best %.2f ms (%.0f MB/s), mean %.2f ms (%.0f MB/s)\n",
         argv[1], n, (unsigned long long)ninstrs, best * 1e3, (double)n / best / 1e6,
         total / iters * 1e3, (double)n / (total / iters) / 1e6);
#ifdef WEFT_BENCH_WITH_VALIDATOR
  printf("decode + validate CPU time best %.2f ms (%.0f MB/s)\n", vbest * 1e3, (double)n / vbest / 1e6);
  desc->fini(vst);
#endif
  free(buf);
  return 0;
}
