/* tests/unit/config/test_oom.c -- out-of-memory sweeps over config loading, overrides, cloning and
 * engine creation: the Nth malloc/calloc/realloc made by the core fails (linked with
 * -Wl,--wrap=malloc,...), for every N until a run needs no more; each run must end in success or a
 * clean WEFT_ERR_NOMEM. Run under valgrind/ASan this also shows nothing leaks on those paths.
 * Depends on: weft-core-obj (static objects, so the wrap applies), tests/plugins, cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine.h"

#ifndef WEFT_TEST_PLUGIN_DIR
#error "WEFT_TEST_PLUGIN_DIR must name the folder of the test plugins"
#endif

/* -- The wrapped allocator ------------------------------------------------------------------- */

static long alloc_calls; /* allocations since the sweep step began */
static long fail_at;     /* fail the allocation with this number; 0 = never */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

static int should_fail(void) { return ++alloc_calls == fail_at; }
void *__wrap_malloc(size_t n) { return should_fail() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t m) { return should_fail() ? NULL : __real_calloc(n, m); }
void *__wrap_realloc(void *p, size_t n) { return should_fail() ? NULL : __real_realloc(p, n); }

/* -- Sweeps ---------------------------------------------------------------------------------- */

static const char rich[] = "[core]\n"
                           "plugin_dir = " WEFT_TEST_PLUGIN_DIR "\n"
                           "plugins = tp-good, tp-oldminor\n"
                           "max_wasm_stack = 2M\n"
                           "trust_unvalidated = yes\n"
                           "[wasm]\n"
                           "gc = no\n"
                           "[tp-good]\n"
                           "strict = yes\n"
                           "mode = slow\n"
                           "[tp-oldminor]\n";

/* One step: load, override, clone, build an engine. Returns the status of the first failure. */
static int one_run(weft_error *err) {
  weft_config *cfg = NULL, *copy = NULL;
  weft_engine *e = NULL;
  int rc = weft_config_load_string(rich, "oom.ini", NULL, &cfg, err);
  if (rc == WEFT_OK) rc = weft_config_set_str(cfg, "tp-good.limit=1K", err);
  if (rc == WEFT_OK) rc = weft_config_set_str(cfg, "core.plugins=tp-good,tp-oldminor", err);
  if (rc == WEFT_OK && (copy = core_cfg_clone(cfg)) == NULL) rc = WEFT_ERR_NOMEM;
  if (rc == WEFT_OK) rc = weft_engine_new(copy, &e, err);
  if (rc == WEFT_OK) assert_int_equal(weft_engine_plugin_count(e), 2);
  weft_engine_free(e);
  weft_config_free(copy);
  weft_config_free(cfg);
  return rc;
}

static void sweep(void **s) {
  (void)s;
  long nomem = 0;
  for (fail_at = 1;; fail_at++) {
    weft_error err;
    memset(&err, 0, sizeof err);
    alloc_calls = 0;
    int rc = one_run(&err);
    if (alloc_calls < fail_at) { /* nothing failed: the sweep covered every allocation */
      assert_int_equal(rc, WEFT_OK);
      break;
    }
    /* A plugin's init that cannot allocate reports its own diagnostic through the loader. */
    if (rc == WEFT_ERR_PLUGIN && strstr(err.message, "init failed: tp: no memory") != NULL) {
      nomem++;
      continue;
    }
    if (rc != WEFT_ERR_NOMEM)
      fail_msg("allocation %ld failed: status %d (%s), want out of memory", fail_at, rc,
               err.message);
    nomem++;
    assert_true(fail_at < 100000);
  }
  print_message("swept %ld allocations, %ld out-of-memory paths\n", fail_at - 1, nomem);
  fail_at = 0;
  assert_true(nomem > 20); /* the sweep did reach the loader and the engine */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sweep),
  };
  return cmocka_run_group_tests_name("config-oom", tests, NULL, NULL);
}
