/* tests/wat/backtrace/test_bt_e2e_api.c -- the frames a trap inside continuations carries through
 * the embedding API (weft_trap_frame_*): for each export of cont-e2e.wat, the exact names, the
 * boundary of each frame and the kind of stack it ran on, twice in one store (the second time on
 * recycled stacks). The CLI side of the same cases: wat.backtrace_e2e_* (CMakeLists.txt).
 * Depends on: libweft (weft-core-obj), the text front end (weft-text-obj), cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime_int.h" /* core_rt_signals_reinstall: the fault handlers before cmocka's */
#include "weft/text.h"
#include "weft/weft.h"

/* -- Fixture ----------------------------------------------------------------------------------- */

typedef struct fixture {
  weft_engine *engine;
  weft_store_t *store;
  weft_module_t *module;
  weft_instance_t *inst;
} fixture;

static fixture fx;

static int setup(void **state) {
  *state = &fx;
  memset(&fx, 0, sizeof fx);
  weft_config *cfg = NULL;
  weft_error err;
  memset(&err, 0, sizeof err);
  char text[512];
  snprintf(text, sizeof text,
           "[core]\nplugin_dir = %s\nplugins = validator, x64-codegen, contstacks, backtrace\n",
           WEFT_BT_PLUGIN_DIR);
  if (weft_config_load_string(text, "test_bt_e2e_api", NULL, &cfg, &err) != WEFT_OK) return -1;
  int rc = weft_engine_new(cfg, &fx.engine, &err);
  weft_config_free(cfg);
  if (rc != WEFT_OK) {
    fprintf(stderr, "engine: %s\n", err.message);
    return -1;
  }
  fx.store = weft_store_new(fx.engine);
  FILE *in = fopen(WEFT_BT_E2E_WAT, "rb");
  if (in == NULL) return -1;
  static char src[1 << 16];
  size_t n = fread(src, 1, sizeof src - 1, in);
  fclose(in);
  uint8_t *bytes = NULL;
  size_t len = 0;
  weft_diag d;
  memset(&d, 0, sizeof d);
  if (weft_wat_to_wasm(src, n, WEFT_BT_E2E_WAT, &bytes, &len, &d) != WEFT_OK) {
    fprintf(stderr, "wat: %s: %s\n", d.origin, d.message);
    return -1;
  }
  rc = weft_module_new(fx.engine, bytes, len, &fx.module, &err);
  weft_wat_free(bytes);
  if (rc != WEFT_OK) {
    fprintf(stderr, "module: %s\n", err.message);
    return -1;
  }
  weft_trap_t *t = NULL;
  if (weft_instance_new(fx.store, fx.module, NULL, 0, &fx.inst, &t, &err) != WEFT_OK || t != NULL) {
    fprintf(stderr, "instance: %s\n", err.message);
    return -1;
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  weft_store_free(fx.store);
  weft_module_free(fx.module);
  weft_engine_free(fx.engine);
  return 0;
}

/* -- Expected traces --------------------------------------------------------------------------- */

/* One expected frame: its name and whether it is a resume site (WEFT_BOUNDARY_CONTINUATION). */
typedef struct want_frame {
  const char *name;
  bool resumed;
} want_frame;

#define MAX_WANT 12

typedef struct trace_case {
  const char *export;
  int32_t arg;
  const char *message;
  want_frame frames[MAX_WANT]; /* innermost first, ended by a NULL name */
} trace_case;

/* Calls case `c` and checks the trap it must give against the expected frames: same count, same
 * names, a continuation boundary exactly at each resume site, CONTINUATION stack kind for every
 * frame before the last boundary and INITIAL_STACK from there on, one stack kind per stretch. */
static void check_case(const trace_case *c) {
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(fx.inst, c->export, &ex), WEFT_OK);
  assert_int_equal(ex.kind, WEFT_EXTERN_FUNC);
  weft_val_t arg = {.kind = WEFT_VAL_I32, .of.i32 = c->arg}, r;
  memset(&r, 0, sizeof r);
  weft_trap_t *t = NULL;
  assert_int_equal(weft_func_call(fx.store, ex.of.func, &arg, 1, &r, 1, &t), WEFT_OK);
  if (t == NULL) fail_msg("%s(%d) returned %d, expected a trap", c->export, c->arg, r.of.i32);
  assert_string_equal(weft_trap_message(t), c->message);
  size_t want = 0, last_boundary = 0;
  while (want < MAX_WANT && c->frames[want].name != NULL) {
    if (c->frames[want].resumed) last_boundary = want;
    want++;
  }
  size_t n = weft_trap_frame_count(t);
  for (size_t i = 0; i < n; i++)
    print_message("  %zu: %s%s\n", i, weft_trap_frame_func_name(t, i),
                  weft_trap_frame_boundary(t, i) == WEFT_BOUNDARY_CONTINUATION ? " (resumed)" : "");
  assert_int_equal(n, want);
  assert_false(weft_trap_frames_truncated(t));
  for (size_t i = 0; i < n; i++) {
    assert_string_equal(weft_trap_frame_func_name(t, i), c->frames[i].name);
    assert_int_equal(weft_trap_frame_boundary(t, i),
                     c->frames[i].resumed ? WEFT_BOUNDARY_CONTINUATION : WEFT_BOUNDARY_NONE);
    uint32_t kind = weft_trap_frame_stack_kind(t, i);
    assert_int_equal(kind, i < last_boundary ? WEFT_CHAIN_CONTINUATION : WEFT_CHAIN_INITIAL_STACK);
    assert_int_not_equal(weft_trap_frame_module_offset(t, i), UINT64_MAX);
    /* a function has one index wherever it shows */
    for (size_t j = 0; j < i; j++)
      if (strcmp(c->frames[j].name, c->frames[i].name) == 0)
        assert_int_equal(weft_trap_frame_func_index(t, j), weft_trap_frame_func_index(t, i));
  }
  /* the trap's own offset, when known (not for traps raised in C), is the innermost frame's */
  if (weft_trap_wasm_offset(t) != UINT64_MAX)
    assert_int_equal(weft_trap_wasm_offset(t), weft_trap_frame_module_offset(t, 0));
  /* out of range */
  assert_null(weft_trap_frame_func_name(t, n));
  assert_int_equal(weft_trap_frame_boundary(t, n), WEFT_BOUNDARY_NONE);
  weft_trap_free(t);
}

static const char DIV[] = "integer divide by zero";

static const trace_case cases[] = {
    {"nested", 0, DIV,
     {{"e2e!nest_b", false}, {"e2e!nest_a", true}, {"e2e!nest_main", true}}},
    {"deep", 0, "unreachable",
     {{"e2e!deep_trap", false},
      {"e2e!deep_c", false},
      {"e2e!deep_b", true},
      {"e2e!deep_a", true},
      {"e2e!deep_main", true}}},
    {"forward", 0, DIV,
     {{"e2e!fwd_leaf", false},
      {"e2e!fwd_mid", true},
      {"e2e!fwd_again", true},
      {"e2e!fwd_main", false}}},
    {"switch", 0, DIV, {{"e2e!sw_boom", false}, {"e2e!sw_b", false}, {"e2e!sw_main", true}}},
    {"switch-back", 0, DIV,
     {{"e2e!sw2_boom", false},
      {"e2e!sw2_a", false},
      {"e2e!sw2_again", true},
      {"e2e!sw2_main", false}}},
    {"nested-switch", 0, DIV,
     {{"e2e!nsw_c", false}, {"e2e!nsw_a", true}, {"e2e!nsw_main", true}}},
    {"again", 1, DIV,
     {{"e2e!gen_step", false},
      {"e2e!gen", false},
      {"e2e!gen_again", true},
      {"e2e!gen_again", false},
      {"e2e!gen_main", false}}},
    {"handover", 0, DIV, {{"e2e!ho_leaf", false}, {"e2e!ho_x", true}, {"e2e!ho_main", true}}},
    {"after-return", 0, DIV, {{"e2e!done_boom", false}, {"e2e!done_main", false}}},
    {"after-suspend", 0, DIV, {{"e2e!susp_boom", false}, {"e2e!susp_main", false}}},
    {"fill", 65530, "out of bounds memory access",
     {{"e2e!c_fill", false}, {"e2e!c_fill_cont", false}, {"e2e!c_fill_main", true}}},
    {"stale", 0, "continuation already consumed",
     {{"e2e!c_stale_cont", false}, {"e2e!c_stale_main", true}}},
    {"unhandled", 0, "unhandled tag",
     {{"e2e!c_unh_inner", false}, {"e2e!c_unh_cont", true}, {"e2e!c_unh_main", true}}},
};

/* -- Tests ------------------------------------------------------------------------------------- */

static void test_each_case(void **state) {
  (void)state;
  assert_int_equal(core_rt_signals_reinstall(), WEFT_OK); /* cmocka installs its own per test */
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    print_message("%s(%d)\n", cases[i].export, cases[i].arg);
    check_case(&cases[i]);
  }
}

/* The same traps again, interleaved with successful calls, in the same store: the stacks of the
 * first round are recycled and must not leak frames into these traces. */
static void test_again_recycled(void **state) {
  (void)state;
  assert_int_equal(core_rt_signals_reinstall(), WEFT_OK);
  weft_extern_t ex;
  assert_int_equal(weft_instance_export(fx.inst, "deep", &ex), WEFT_OK);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    weft_val_t arg = {.kind = WEFT_VAL_I32, .of.i32 = 5}, r;
    weft_trap_t *t = NULL;
    assert_int_equal(weft_func_call(fx.store, ex.of.func, &arg, 1, &r, 1, &t), WEFT_OK);
    assert_null(t);
    assert_int_equal(r.of.i32, 9);
    check_case(&cases[sizeof cases / sizeof cases[0] - 1 - i]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_each_case),
      cmocka_unit_test(test_again_recycled),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
