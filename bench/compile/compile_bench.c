/* bench/compile/compile_bench.c -- bench-compile: compile throughput in MB of code section per
 * second, for the codegen alone and for decode + validate + compile, read from weft_module_stats()
 * over REPS compilations of each module (medians; wall time, and the process CPU time of the call
 * since the machine is shared). Modules: the files given, or a synthetic one
 * (integer arithmetic, locals, blocks, loops, if/else, loads/stores, calls) built in memory.
 * Uses only the public API (weft/weft.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "weft/weft.h"

/* -- A byte buffer --------------------------------------------------------------------------- */

typedef struct buf {
  uint8_t *p;
  size_t n, cap;
  int oom;
} buf;

static void put(buf *b, uint8_t v) {
  if (b->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 4096;
    uint8_t *p = realloc(b->p, cap);
    if (p == NULL) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  b->p[b->n++] = v;
}

static void put_u(buf *b, uint64_t v) {
  do {
    uint8_t byte = v & 0x7f;
    v >>= 7;
    put(b, (uint8_t)(byte | (v ? 0x80 : 0)));
  } while (v);
}

static void put_s(buf *b, int64_t v) {
  for (;;) {
    uint8_t byte = v & 0x7f;
    v >>= 7; /* arithmetic shift on gcc/clang */
    if ((v == 0 && !(byte & 0x40)) || (v == -1 && (byte & 0x40))) {
      put(b, byte);
      return;
    }
    put(b, (uint8_t)(byte | 0x80));
  }
}

static void put_bytes(buf *b, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) put(b, p[i]);
}

/* A section: id, size, contents. */
static void put_section(buf *out, uint8_t id, const buf *contents) {
  put(out, id);
  put_u(out, contents->n);
  put_bytes(out, contents->p, contents->n);
}

/* -- The synthetic module -------------------------------------------------------------------- */

static uint32_t rng = 2024;
static uint32_t rnd(uint32_t mod) {
  rng = rng * 1103515245u + 12345u;
  return (rng >> 8) % mod;
}

/* One function body (locals 0,1 = params, 2..5 = i32 locals) of about `target` bytes; it may call
 * function `callee` (type 0) when callee < self. */
static void gen_body(buf *f, uint32_t self, size_t target) {
  put(f, 1); put(f, 4); put(f, 0x7f);                                  /* 4 x i32 locals */
  size_t start = f->n;
  while (f->n - start < target) {
    uint8_t a = (uint8_t)rnd(6), c = (uint8_t)(2 + rnd(4));
    switch (rnd(7)) {
    case 0: /* c = a op b */
      put(f, 0x20); put(f, a); put(f, 0x20); put(f, (uint8_t)rnd(6));
      put(f, (uint8_t)(0x6a + rnd(6)));                                /* add sub mul div_s div_u rem_s */
      put(f, 0x21); put(f, c);
      break;
    case 1: /* c = (a * K) ^ (b >> s) */
      put(f, 0x20); put(f, a); put(f, 0x41); put_s(f, (int32_t)rnd(1u << 30));
      put(f, 0x6c); put(f, 0x20); put(f, (uint8_t)rnd(6)); put(f, 0x41); put_s(f, (int32_t)rnd(31));
      put(f, 0x76); put(f, 0x73); put(f, 0x21); put(f, c);
      break;
    case 2: /* block: if (c == 0) break; c -= 1 */
      put(f, 0x02); put(f, 0x40); put(f, 0x20); put(f, c); put(f, 0x45); put(f, 0x0d); put(f, 0);
      put(f, 0x20); put(f, c); put(f, 0x41); put(f, 1); put(f, 0x6b); put(f, 0x21); put(f, c);
      put(f, 0x0b);
      break;
    case 3: /* loop: do c += 1 while (c & 15) != 0 */
      put(f, 0x03); put(f, 0x40); put(f, 0x20); put(f, c); put(f, 0x41); put(f, 1); put(f, 0x6a);
      put(f, 0x22); put(f, c); put(f, 0x41); put(f, 15); put(f, 0x71); put(f, 0x0d); put(f, 0);
      put(f, 0x0b);
      break;
    case 4: /* c = load(a & 0xffc); store(b & 0xffc, c + 1) */
      put(f, 0x20); put(f, a); put(f, 0x41); put_s(f, 0xffc); put(f, 0x71);
      put(f, 0x28); put(f, 2); put_u(f, rnd(64) * 4); put(f, 0x21); put(f, c);
      put(f, 0x20); put(f, (uint8_t)rnd(6)); put(f, 0x41); put_s(f, 0xffc); put(f, 0x71);
      put(f, 0x20); put(f, c); put(f, 0x41); put(f, 1); put(f, 0x6a);
      put(f, 0x36); put(f, 2); put_u(f, rnd(64) * 4);
      break;
    case 5: /* c = a <u b ? a : b + K, through if/else with a result */
      put(f, 0x20); put(f, a); put(f, 0x20); put(f, (uint8_t)rnd(6)); put(f, 0x49);
      put(f, 0x04); put(f, 0x7f); put(f, 0x20); put(f, a); put(f, 0x05);
      put(f, 0x20); put(f, (uint8_t)rnd(6)); put(f, 0x41); put_s(f, (int32_t)rnd(100000)); put(f, 0x6a);
      put(f, 0x0b); put(f, 0x21); put(f, c);
      break;
    default: /* c = f_callee(a, b), or a select */
      if (self > 0) {
        put(f, 0x20); put(f, a); put(f, 0x20); put(f, (uint8_t)rnd(6));
        put(f, 0x10); put_u(f, rnd(self)); put(f, 0x21); put(f, c);
      } else {
        put(f, 0x20); put(f, a); put(f, 0x20); put(f, c); put(f, 0x20); put(f, 1); put(f, 0x1b);
        put(f, 0x21); put(f, c);
      }
      break;
    }
  }
  put(f, 0x20); put(f, 2); put(f, 0x20); put(f, 3); put(f, 0x6a); put(f, 0x0b);
}

/* A module of `nfuncs` functions (i32, i32) -> i32, one 1-page memory, export "f0". */
static int gen_module(buf *out, uint32_t nfuncs, size_t body_bytes) {
  static const uint8_t head[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  buf s = {0}, body = {0};
  put_bytes(out, head, sizeof head);
  put(&s, 1); put(&s, 0x60); put(&s, 2); put(&s, 0x7f); put(&s, 0x7f); put(&s, 1); put(&s, 0x7f);
  put_section(out, 1, &s);
  s.n = 0;
  put_u(&s, nfuncs);
  for (uint32_t i = 0; i < nfuncs; i++) put(&s, 0);
  put_section(out, 3, &s);
  s.n = 0;
  put(&s, 1); put(&s, 0); put(&s, 1);
  put_section(out, 5, &s);
  s.n = 0;
  put(&s, 1); put(&s, 2); put(&s, 'f'); put(&s, '0'); put(&s, 0); put(&s, 0);
  put_section(out, 7, &s);
  s.n = 0;
  put_u(&s, nfuncs);
  for (uint32_t i = 0; i < nfuncs; i++) {
    body.n = 0;
    gen_body(&body, i, body_bytes);
    put_u(&s, body.n);
    put_bytes(&s, body.p, body.n);
  }
  put_section(out, 10, &s);
  int oom = s.oom || body.oom || out->oom;
  free(s.p);
  free(body.p);
  return oom ? -1 : 0;
}

/* -- Measuring ------------------------------------------------------------------------------- */

static uint64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_u64);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#define MAX_REPS 1000

static int bench(weft_engine *engine, const char *name, const uint8_t *bytes, size_t len, int reps) {
  static uint64_t dec[MAX_REPS], val[MAX_REPS], comp[MAX_REPS], total[MAX_REPS], cpu[MAX_REPS];
  static uint64_t dec_c[MAX_REPS], val_c[MAX_REPS], comp_c[MAX_REPS];
  weft_module_stats_t st = {0};
  for (int r = 0; r < reps; r++) {
    weft_module_t *mod = NULL;
    weft_error err;
    uint64_t t0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    if (weft_module_new(engine, bytes, len, &mod, &err) != WEFT_OK) {
      fprintf(stderr, "bench-compile: %s: %s at offset %llu: %s\n", name, err.origin,
              (unsigned long long)err.offset, err.message);
      return 1;
    }
    cpu[r] = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0;
    total[r] = clock_ns(CLOCK_MONOTONIC) - t0;
    weft_module_stats(mod, &st);
    weft_module_free(mod);
    dec[r] = st.decode_ns;
    val[r] = st.validate_ns;
    comp[r] = st.compile_ns;
    dec_c[r] = st.decode_cpu_ns;
    val_c[r] = st.validate_cpu_ns;
    comp_c[r] = st.compile_cpu_ns;
  }
  uint64_t d = median(dec, (size_t)reps), v = median(val, (size_t)reps);
  uint64_t c = median(comp, (size_t)reps), t = median(total, (size_t)reps);
  uint64_t p = median(cpu, (size_t)reps);
  uint64_t dc = median(dec_c, (size_t)reps), vc = median(val_c, (size_t)reps);
  uint64_t cc = median(comp_c, (size_t)reps);
  double mb = (double)st.code_section_bytes / 1e6;
  printf("%s: code section %llu B, %u functions, %llu B of machine code; median of %d\n", name,
         (unsigned long long)st.code_section_bytes, st.ndefined_funcs,
         (unsigned long long)st.machine_code_bytes, reps);
  printf("  decode %.3f ms, validate %.3f ms, compile %.3f ms, weft_module_new %.3f ms "
         "(%.3f ms of process CPU time)\n", d / 1e6, v / 1e6, c / 1e6, t / 1e6, p / 1e6);
  printf("  throughput: codegen alone %.1f MB/s, decode+validate+compile %.1f MB/s, "
         "weft_module_new %.1f MB/s (%.1f MB/s of CPU time)\n",
         c ? mb / (c / 1e9) : 0.0, mb / ((d + v + c) / 1e9), mb / (t / 1e9), p ? mb / (p / 1e9) : 0.0);
  printf("  CPU time: decode %.3f ms, validate %.3f ms, compile %.3f ms; throughput by CPU time: "
         "codegen alone %.1f MB/s, decode+validate+compile %.1f MB/s\n",
         dc / 1e6, vc / 1e6, cc / 1e6, cc ? mb / (cc / 1e9) : 0.0,
         dc + vc + cc ? mb / ((dc + vc + cc) / 1e9) : 0.0);
  return 0;
}

static int read_file(const char *path, uint8_t **out, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    perror(path);
    return -1;
  }
  buf b = {0};
  int ch;
  while ((ch = getc(f)) != EOF) put(&b, (uint8_t)ch);
  fclose(f);
  if (b.oom) {
    free(b.p);
    fprintf(stderr, "bench-compile: %s: out of memory\n", path);
    return -1;
  }
  *out = b.p;
  *len = b.n;
  return 0;
}

int main(int argc, char **argv) {
  int reps = 10, rc = 1, i = 1;
  if (i + 1 < argc && strcmp(argv[i], "-r") == 0) {
    reps = atoi(argv[i + 1]);
    i += 2;
  }
  if (reps < 1 || reps > MAX_REPS) {
    fprintf(stderr, "usage: %s [-r REPS (1..%d, default 10)] [FILE.wasm ...]\n", argv[0], MAX_REPS);
    return 2;
  }
  weft_config *cfg = NULL;
  weft_engine *engine = NULL;
  weft_error err;
  if (weft_config_load(weft_config_default_path(), &cfg, &err) != WEFT_OK ||
      weft_engine_new(cfg, &engine, &err) != WEFT_OK) {
    fprintf(stderr, "bench-compile: %s: %s\n", err.origin, err.message);
    goto out;
  }
  if (i == argc) {
    buf m = {0};
    if (gen_module(&m, 4000, 240) != 0) {
      fprintf(stderr, "bench-compile: out of memory\n");
      free(m.p);
      goto out;
    }
    int r = bench(engine, "synthetic", m.p, m.n, reps);
    free(m.p);
    if (r != 0) goto out;
  }
  for (; i < argc; i++) {
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (read_file(argv[i], &bytes, &len) != 0) goto out;
    int r = bench(engine, argv[i], bytes, len, reps);
    free(bytes);
    if (r != 0) goto out;
  }
  rc = 0;
out:
  weft_engine_free(engine);
  weft_config_free(cfg);
  return rc;
}
