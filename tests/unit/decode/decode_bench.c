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
    core_module_free(m);
    core_types_free(reg);
    total += t;
    if (t < best) best = t;
  }
  printf("%s: %ld bytes, %llu instructions; decode CPU time best %.2f ms (%.0f MB/s), mean %.2f ms (%.0f MB/s)\n",
         argv[1], n, (unsigned long long)ninstrs, best * 1e3, (double)n / best / 1e6,
         total / iters * 1e3, (double)n / (total / iters) / 1e6);
  free(buf);
  return 0;
}
