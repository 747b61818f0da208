/* bench/stack-switching/cs_bench.c -- contstacks in isolation (no core, no codegen): the cost of the
 * C reference protocol over the plugin's switch primitive, and its memory behaviour.
 *   cs-bench scale  [N=1000000] [stack=64K]  N live suspended continuations: RSS each, create time
 *   cs-bench cycles [N=10000000]             create-resume-finish cycles: ns each, RSS flat?
 *   cs-bench yield  [N=10000000]             one generator yielding N values: ns per round trip
 *   cs-bench c10m   [N=10000000] [live=10000] N coroutines, `live` of them suspended at any time
 * Not a timed test; prints figures (CPU time, not wall time). Depends on: the contstacks object library, the unit tests' fake
 * host (tests/unit/contstacks/fake_host.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "contstacks_int.h"
#include "fake_host.h"

const weft_plugin_desc *weft_plugin_entry_contstacks(uint32_t host_abi);

/* -- Harness ---------------------------------------------------------------------------------- */

static weft_store_ctx g_ctx;
static weft_common_stack_info g_initial;
static int g_tag;
static const weft_contstacks_iface *g_cs;
static const weft_plugin_desc *g_desc;
static void *g_st;

/* CPU time of this process: the shared 2-core machine is loaded, wall time measures the others. */
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Field of /proc/self/status in KiB ("VmRSS:", "VmPTE:"), -1 when absent. */
static long status_kib(const char *field) {
  FILE *fp = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  size_t n = strlen(field);
  if (fp == NULL) return -1;
  while (fgets(line, sizeof line, fp) != NULL)
    if (strncmp(line, field, n) == 0) {
      v = strtol(line + n, NULL, 10);
      break;
    }
  fclose(fp);
  return v;
}

static int setup(const char *stack, const char *guards) {
  static weft_plugin_cfg cfg;
  cfg = (weft_plugin_cfg){{"stack_size", "guard_pages", "max_continuations", "pool"},
                          {stack, guards, "100000000", "256"}, 4};
  const weft_plugin_desc *d = weft_plugin_entry_contstacks(WEFT_ABI_VERSION);
  weft_diag dg;
  if (d == NULL || d->init(&fake_host, &cfg, &g_st, &dg) != WEFT_OK) {
    fprintf(stderr, "cs-bench: init failed: %s\n", d ? dg.message : "no descriptor");
    return 1;
  }
  g_cs = d->iface;
  g_desc = d;
  g_initial.state = WEFT_STACK_RUNNING;
  g_ctx.stack_chain = (weft_stack_chain){WEFT_CHAIN_INITIAL_STACK, &g_initial};
  return 0;
}

/* -- Bodies ----------------------------------------------------------------------------------- */

static bool suspend_once(void *callee, void *caller, weft_val_raw *args, size_t n) {
  (void)callee;
  (void)caller;
  (void)n;
  weft_val_raw buf[1];
  uint64_t r = cs_ref_suspend(&g_ctx, &g_tag, buf, 0, 1);
  args[0].i64 = (int64_t)r;
  return true;
}

static bool ret_now(void *callee, void *caller, weft_val_raw *args, size_t n) {
  (void)callee;
  (void)caller;
  (void)n;
  args[0].i64 += 1;
  return true;
}

static bool generator(void *callee, void *caller, weft_val_raw *args, size_t n) {
  (void)callee;
  (void)caller;
  (void)n;
  int64_t count = args[0].i64;
  weft_val_raw buf[1];
  for (int64_t i = 0; i < count; i++) {
    buf[0].i64 = i;
    cs_ref_suspend(&g_ctx, &g_tag, buf, 1, 1);
  }
  return true;
}

/* -- Modes ------------------------------------------------------------------------------------ */

static int scale(long n, const char *stack) {
  if (setup(stack, "no")) return 1;
  weft_funcref fr = {.array_call = suspend_once};
  void *tags[1] = {&g_tag};
  weft_diag d;
  long rss0 = status_kib("VmRSS:"), pte0 = status_kib("VmPTE:");
  double t0 = now();
  for (long i = 0; i < n; i++) {
    weft_contref *c = NULL, *nc = NULL;
    if (g_cs->cont_new(g_st, NULL, &fr, 0, 1, &c, &d) != WEFT_OK) {
      fprintf(stderr, "cs-bench: cont_new %ld: %s\n", i, d.message);
      return 1;
    }
    if (WEFT_EFFECT_KIND(cs_ref_resume(&g_ctx, c, NULL, 0, tags, 1, 1, &nc)) != WEFT_EFFECT_SUSPEND) {
      fprintf(stderr, "cs-bench: continuation %ld did not suspend\n", i);
      return 1;
    }
  }
  double t1 = now();
  long rss1 = status_kib("VmRSS:"), pte1 = status_kib("VmPTE:");
  weft_contstacks_stats s = {WEFT_ABI_INIT(weft_contstacks_stats)};
  g_cs->stats(g_st, &s);
  printf("scale: %ld live suspended continuations, stack_size %s, shared mappings (%llu)\n", n,
         stack, (unsigned long long)s.mappings);
  printf("  create+first resume to suspend: %.3f s (%.0f ns each)\n", t1 - t0,
         (t1 - t0) * 1e9 / (double)n);
  printf("  RSS: +%ld KiB = %.0f bytes per continuation; page tables: +%ld KiB = %.0f bytes each\n",
         rss1 - rss0, (double)(rss1 - rss0) * 1024.0 / (double)n, pte1 - pte0,
         (double)(pte1 - pte0) * 1024.0 / (double)n);
  printf("  live %llu, stacks mapped %llu\n", (unsigned long long)s.live,
         (unsigned long long)s.stacks_mapped);
  return 0;
}

static int cycles(long n) {
  if (setup("64K", "yes")) return 1;
  weft_funcref fr = {.array_call = ret_now};
  weft_diag d;
  long rss_at[4] = {0};
  double t0 = now();
  for (long i = 0; i < n; i++) {
    weft_contref *c = NULL, *nc = NULL;
    if (g_cs->cont_new(g_st, NULL, &fr, 1, 1, &c, &d) != WEFT_OK) {
      fprintf(stderr, "cs-bench: cont_new %ld: %s\n", i, d.message);
      return 1;
    }
    weft_val_raw a[1] = {{.i64 = i}};
    if (cs_ref_resume(&g_ctx, c, a, 1, NULL, 0, 0, &nc) != 0 || c->args.data[0].i64 != i + 1) {
      fprintf(stderr, "cs-bench: cycle %ld went wrong\n", i);
      return 1;
    }
    if (i == n / 10) rss_at[0] = status_kib("VmRSS:");
    if (i == n / 2) rss_at[1] = status_kib("VmRSS:");
  }
  double t1 = now();
  g_cs->collect(g_st);
  rss_at[2] = status_kib("VmRSS:");
  weft_contstacks_stats s = {WEFT_ABI_INIT(weft_contstacks_stats)};
  g_cs->stats(g_st, &s);
  printf("cycles: %ld cont.new + resume + return, 64K stacks with guard pages\n", n);
  printf("  %.3f s, %.1f ns per cycle\n", t1 - t0, (t1 - t0) * 1e9 / (double)n);
  printf("  RSS at 10%%/50%%/end: %ld / %ld / %ld KiB; live %llu, stacks mapped %llu, created %llu\n",
         rss_at[0], rss_at[1], rss_at[2], (unsigned long long)s.live,
         (unsigned long long)s.stacks_mapped, (unsigned long long)s.created);
  return s.live == 0 && s.stacks_mapped <= 2 ? 0 : 1;
}

static int yield(long n) {
  if (setup("64K", "yes")) return 1;
  weft_funcref fr = {.array_call = generator};
  void *tags[1] = {&g_tag};
  weft_diag d;
  weft_contref *c = NULL, *nc = NULL;
  if (g_cs->cont_new(g_st, NULL, &fr, 1, 0, &c, &d) != WEFT_OK) return 1;
  weft_val_raw a[1] = {{.i64 = n}};
  long sum = 0, got = 0;
  double t0 = now();
  uint64_t r = cs_ref_resume(&g_ctx, c, a, 1, tags, 1, 1, &nc);
  while (WEFT_EFFECT_KIND(r) == WEFT_EFFECT_SUSPEND) {
    sum += (long)c->values.data[0].i64;
    got++;
    c->values.length = 0;
    r = cs_ref_resume(&g_ctx, c, NULL, 0, tags, 1, 1, &nc);
  }
  double t1 = now();
  printf("yield: %ld values from one generator, %.1f ns per suspend/resume round trip (C reference "
         "protocol + switch primitive)\n",
         got, (t1 - t0) * 1e9 / (double)(got ? got : 1));
  return got == n && sum == n * (n - 1) / 2 ? 0 : 1;
}

/* Each coroutine suspends once, then finishes when resumed. A ring of `live` slots: a new coroutine
 * takes the slot of the oldest, which is first resumed to completion. */
static int c10m(long n, long live) {
  if (live < 1 || setup("64K", "no")) return 1;
  weft_funcref fr = {.array_call = suspend_once};
  void *tags[1] = {&g_tag};
  weft_diag d;
  weft_contref **ring = calloc((size_t)live, sizeof *ring);
  if (ring == NULL) return 1;
  long finished = 0;
  double t0 = now();
  for (long i = 0; i < n; i++) {
    weft_contref **slot = &ring[i % live], *nc = NULL;
    if (*slot != NULL) {
      (*slot)->values.length = 0;
      if (cs_ref_resume(&g_ctx, *slot, NULL, 0, tags, 1, 1, &nc) != 0) break;
      finished++;
    }
    if (g_cs->cont_new(g_st, NULL, &fr, 0, 1, slot, &d) != WEFT_OK) {
      fprintf(stderr, "cs-bench: cont_new %ld: %s\n", i, d.message);
      break;
    }
    if (WEFT_EFFECT_KIND(cs_ref_resume(&g_ctx, *slot, NULL, 0, tags, 1, 1, &nc)) !=
        WEFT_EFFECT_SUSPEND)
      break;
  }
  for (long i = 0; i < live; i++) {
    weft_contref *nc = NULL;
    if (ring[i] == NULL) continue;
    ring[i]->values.length = 0;
    if (cs_ref_resume(&g_ctx, ring[i], NULL, 0, tags, 1, 1, &nc) == 0) finished++;
  }
  double t1 = now();
  free(ring);
  g_cs->collect(g_st);
  weft_contstacks_stats s = {WEFT_ABI_INIT(weft_contstacks_stats)};
  g_cs->stats(g_st, &s);
  printf("c10m: %ld coroutines (%ld live at a time), each suspends once and finishes: %.3f s CPU, "
         "%.1f ns per coroutine; stacks mapped %llu, live at end %llu\n",
         finished, live, t1 - t0, (t1 - t0) * 1e9 / (double)(finished ? finished : 1),
         (unsigned long long)s.stacks_mapped, (unsigned long long)s.live);
  return finished == n && s.live == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  int rc = 1;
  if (strcmp(mode, "scale") == 0)
    rc = scale(argc > 2 ? atol(argv[2]) : 1000000, argc > 3 ? argv[3] : "64K");
  else if (strcmp(mode, "cycles") == 0) rc = cycles(argc > 2 ? atol(argv[2]) : 10000000);
  else if (strcmp(mode, "yield") == 0) rc = yield(argc > 2 ? atol(argv[2]) : 10000000);
  else if (strcmp(mode, "c10m") == 0)
    rc = c10m(argc > 2 ? atol(argv[2]) : 10000000, argc > 3 ? atol(argv[3]) : 10000);
  else
    fprintf(stderr, "usage: cs-bench scale [N] [stack_size] | cycles [N] | yield [N] | "
                    "c10m [N] [live]\n");
  if (g_st != NULL) g_desc->fini(g_st);
  return rc;
}
