/* tests/wasi/test_wasi_embed.c -- cmocka test (wasi.embed) of WASI through the embedding API, in
 * process: an engine from a config file, weft_wasi_define on a linker, guest stdio on pipes, the
 * exit code as a WEFT_TRAPKIND_EXIT trap, one context reused by several stores.
 * Usage: test-wasi-embed CONFIG.ini DIR (DIR holds the guests tests/wasi builds: hello.wasm, ...).
 * Depends on: weft/weft.h, weft/wasi.h, core/runtime_int.h (one test hook), cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime_int.h" /* core_rt_signals_reinstall: weft's trap handlers in front of cmocka's */
#include "weft/wasi.h"
#include "weft/weft.h"

static const char *conf_path, *wasm_dir;

/* -- Fixture ----------------------------------------------------------------------------------- */

typedef struct fixture {
  weft_engine *engine;
  int out[2], err[2]; /* pipes: guest stdout, stderr */
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  weft_config *cfg = NULL;
  weft_error err;
  if (f == NULL || weft_config_load(conf_path, &cfg, &err) != WEFT_OK) return -1;
  int rc = weft_engine_new(cfg, &f->engine, &err);
  weft_config_free(cfg);
  if (rc != WEFT_OK) {
    fprintf(stderr, "engine: %s\n", err.message);
    return -1;
  }
  if (pipe(f->out) != 0 || pipe(f->err) != 0) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  weft_engine_free(f->engine);
  close(f->out[0]);
  close(f->out[1]);
  close(f->err[0]);
  close(f->err[1]);
  free(f);
  return 0;
}

static weft_module_t *load(fixture *f, const char *name) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", wasm_dir, name);
  FILE *fp = fopen(path, "rb");
  assert_non_null(fp);
  static uint8_t buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf, fp);
  fclose(fp);
  weft_module_t *m = NULL;
  weft_error err;
  assert_int_equal(weft_module_new(f->engine, buf, n, &m, &err), WEFT_OK);
  return m;
}

/* Runs _start of `m` in a new store with `ctx`; returns the trap (NULL: returned normally). */
static weft_trap_t *run(fixture *f, weft_module_t *m, weft_wasi_ctx *ctx) {
  assert_int_equal(core_rt_signals_reinstall(), WEFT_OK);
  weft_store_t *store = weft_store_new(f->engine);
  assert_non_null(store);
  weft_linker_t *linker = weft_linker_new(store);
  assert_non_null(linker);
  assert_int_equal(weft_wasi_define(linker, store, ctx), WEFT_OK);
  weft_instance_t *inst = NULL;
  weft_trap_t *trap = NULL;
  weft_error err;
  assert_int_equal(weft_linker_instantiate(linker, m, &inst, &trap, &err), WEFT_OK);
  assert_null(trap);
  weft_extern_t start;
  assert_int_equal(weft_instance_export(inst, "_start", &start), WEFT_OK);
  assert_int_equal(weft_func_call(store, start.of.func, NULL, 0, NULL, 0, &trap), WEFT_OK);
  weft_linker_free(linker);
  weft_store_free(store);
  return trap;
}

static void expect_pipe(int fd, const char *want) {
  char got[256] = {0};
  size_t len = strlen(want), have = 0;
  while (have < len) {
    ssize_t n = read(fd, got + have, len - have);
    assert_true(n > 0);
    have += (size_t)n;
  }
  assert_string_equal(got, want);
}

/* -- Tests ------------------------------------------------------------------------------------- */

static void test_hello_twice(void **state) {
  fixture *f = *state;
  weft_module_t *m = load(f, "hello.wasm");
  weft_wasi_ctx *ctx = weft_wasi_ctx_new();
  assert_non_null(ctx);
  weft_wasi_set_stdio(ctx, -1, f->out[1], f->err[1]);
  for (int i = 0; i < 2; i++) { /* one context, two stores */
    assert_null(run(f, m, ctx));
    expect_pipe(f->out[0], "hello, world\n");
  }
  weft_wasi_ctx_free(ctx);
  weft_module_free(m);
}

static void test_exit_code(void **state) {
  fixture *f = *state;
  weft_module_t *m = load(f, "exit_code.wasm");
  weft_wasi_ctx *ctx = weft_wasi_ctx_new();
  assert_non_null(ctx);
  weft_wasi_set_stdio(ctx, -1, f->out[1], f->err[1]);
  assert_int_equal(weft_wasi_push_arg(ctx, "exit_code"), WEFT_OK);
  assert_int_equal(weft_wasi_push_arg(ctx, "7"), WEFT_OK);
  weft_trap_t *trap = run(f, m, ctx);
  assert_non_null(trap);
  assert_int_equal(weft_trap_kind_of(trap), WEFT_TRAPKIND_EXIT);
  assert_int_equal(weft_trap_exit_status(trap), 7);
  weft_trap_free(trap);
  expect_pipe(f->out[0], "exiting\n");
  expect_pipe(f->err[0], "to stderr\n");
  weft_wasi_ctx_free(ctx);
  weft_module_free(m);
}

static void test_args_env(void **state) {
  fixture *f = *state;
  weft_module_t *m = load(f, "args_env.wasm");
  weft_wasi_ctx *ctx = weft_wasi_ctx_new();
  assert_non_null(ctx);
  weft_wasi_set_stdio(ctx, -1, f->out[1], f->err[1]);
  assert_int_equal(weft_wasi_push_arg(ctx, "prog"), WEFT_OK);
  assert_int_equal(weft_wasi_push_env(ctx, "X=1"), WEFT_OK);
  assert_null(run(f, m, ctx));
  expect_pipe(f->out[0], "argc=1\nargv[0]=prog\nenv:X=1\n");
  weft_wasi_ctx_free(ctx);
  weft_module_free(m);
}

static void test_trap_and_redefine(void **state) {
  fixture *f = *state;
  weft_module_t *m = load(f, "trap.wasm");
  weft_wasi_ctx *ctx = weft_wasi_ctx_new();
  assert_non_null(ctx);
  weft_wasi_set_stdio(ctx, -1, f->out[1], f->err[1]);
  weft_trap_t *trap = run(f, m, ctx);
  assert_non_null(trap);
  assert_int_equal(weft_trap_kind_of(trap), WEFT_TRAPKIND_TRAP);
  assert_string_equal(weft_trap_message(trap), "unreachable");
  weft_trap_free(trap);
  expect_pipe(f->out[0], "before the trap\n");
  /* Defining WASI twice on one linker is a link error, not a crash. */
  weft_store_t *store = weft_store_new(f->engine);
  weft_linker_t *linker = weft_linker_new(store);
  assert_int_equal(weft_wasi_define(linker, store, ctx), WEFT_OK);
  assert_int_equal(weft_wasi_define(linker, store, ctx), WEFT_ERR_LINK);
  assert_int_equal(weft_wasi_define(NULL, store, ctx), WEFT_ERR_MISUSE);
  weft_linker_free(linker);
  weft_store_free(store);
  weft_wasi_ctx_free(ctx);
  weft_module_free(m);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: test-wasi-embed CONFIG.ini DIR\n");
    return 2;
  }
  conf_path = argv[1];
  wasm_dir = argv[2];
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hello_twice),
      cmocka_unit_test(test_exit_code),
      cmocka_unit_test(test_args_env),
      cmocka_unit_test(test_trap_and_redefine),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
