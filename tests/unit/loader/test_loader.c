/* tests/unit/loader/test_loader.c -- the plugin loader and engine, against the purpose-made plugins
 * of tests/plugins (one per acceptance rule) and a static plugin linked into this test.
 * Each failure mode is one test: the error code and the one-line message are checked.
 * Depends on: weft-core-obj (core/engine.h, core/plugin.h), cmocka, WEFT_TEST_PLUGIN_DIR.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The static plugin below is linked in: its entry is named weft_plugin_entry_st_validator. */
#define WEFT_PLUGIN_STATIC 1
#include "engine.h"
#include "plugin.h"
#include "weft/plugin/backtrace.h"
#include "weft/plugin/contstacks.h"
#include "weft/plugin/gc.h"

#ifndef WEFT_TEST_PLUGIN_DIR
#error "WEFT_TEST_PLUGIN_DIR must name the folder of the test plugins"
#endif

/* -- A static plugin linked into the test ---------------------------------------------------- */

static int static_inits, static_finis;

static int st_init(const weft_host_api *host, const weft_plugin_cfg *cfg, void **out_state,
                   weft_diag *d) {
  (void)host;
  (void)cfg;
  (void)d;
  static_inits++;
  *out_state = &static_inits;
  return WEFT_OK;
}

static void st_fini(void *state) {
  assert_ptr_equal(state, &static_inits);
  static_finis++;
}

static int st_validate(void *state, const weft_module *m, weft_diag *d) {
  (void)state;
  (void)m;
  (void)d;
  return WEFT_OK;
}

static const weft_validator_iface st_iface = {WEFT_ABI_INIT(weft_validator_iface),
                                              .validate = st_validate};

const weft_plugin_desc *weft_plugin_entry_st_validator(uint32_t host_abi);
WEFT_PLUGIN_DEFINE(st_validator, .name = "st-validator", .kind = WEFT_PLUGIN_VALIDATOR,
                   .version = "0.0.1", .init = st_init, .fini = st_fini, .iface = &st_iface)

/* -- Helpers --------------------------------------------------------------------------------- */

static char log_buf[4096];

static void capture_log(void *ud, weft_log_level level, const char *origin, const char *message) {
  (void)ud;
  (void)level;
  size_t n = strlen(log_buf);
  snprintf(log_buf + n, sizeof log_buf - n, "%s: %s\n", origin, message);
}

/* A config for `plugins` (and extra lines), plugin_dir = the test plugins. */
static weft_config *make_cfg(const char *plugins, const char *extra) {
  char text[2048];
  snprintf(text, sizeof text,
           "[core]\nplugin_dir = %s\nplugins = %s\ntrust_unvalidated = yes\n%s", WEFT_TEST_PLUGIN_DIR,
           plugins, extra != NULL ? extra : "");
  weft_config *cfg = NULL;
  weft_error err;
  int rc = weft_config_load_string(text, "test.ini", NULL, &cfg, &err);
  if (rc != WEFT_OK) fail_msg("config: %s", err.message);
  weft_config_set_log(cfg, capture_log, NULL);
  return cfg;
}

/* Create an engine and expect failure `code` with a message containing every `needles` entry. */
static void expect_fail(const char *plugins, const char *extra, int code, const char *n1,
                        const char *n2) {
  weft_config *cfg = make_cfg(plugins, extra);
  weft_engine *e = (weft_engine *)1;
  weft_error err;
  memset(&err, 0, sizeof err);
  int rc = weft_engine_new(cfg, &e, &err);
  if (rc != code) fail_msg("expected %d, got %d: %s", code, rc, err.message);
  assert_null(e);
  assert_int_equal(err.code, code);
  if (n1 != NULL && strstr(err.message, n1) == NULL) fail_msg("'%s' lacks '%s'", err.message, n1);
  if (n2 != NULL && strstr(err.message, n2) == NULL) fail_msg("'%s' lacks '%s'", err.message, n2);
  assert_null(strchr(err.message, '\n'));
  weft_config_free(cfg);
}

static weft_engine *expect_ok(weft_config *cfg) {
  weft_engine *e = NULL;
  weft_error err;
  memset(&err, 0, sizeof err);
  int rc = weft_engine_new(cfg, &e, &err);
  if (rc != WEFT_OK) fail_msg("engine: %s", err.message);
  assert_non_null(e);
  return e;
}

static void dump_line(void *ud, const char *line) {
  char *buf = ud;
  size_t n = strlen(buf);
  snprintf(buf + n, 8192 - n, "%s\n", line);
}

/* -- Failure modes --------------------------------------------------------------------------- */

static void missing_file(void **s) {
  (void)s;
  expect_fail("tp-missing", NULL, WEFT_ERR_PLUGIN, "tp-missing.so: cannot load", "test.ini:3");
}

static void no_entry_symbol(void **s) {
  (void)s;
  expect_fail("tp-noentry", NULL, WEFT_ERR_PLUGIN, "no entry symbol weft_plugin_entry",
              "tp-noentry.so");
}

static void entry_refuses_host(void **s) {
  (void)s;
  expect_fail("tp-refuse", NULL, WEFT_ERR_PLUGIN, "refused this host", "tp-refuse.so");
}

static void major_mismatch(void **s) {
  (void)s;
  char want[64];
  snprintf(want, sizeof want, "built for plugin ABI %d.0", WEFT_ABI_MAJOR + 1);
  expect_fail("tp-major", NULL, WEFT_ERR_ABI, want, "tp-major.so");
}

static void bad_build_signature(void **s) {
  (void)s;
  expect_fail("tp-badsig", NULL, WEFT_ERR_ABI, "build signature 'x86_64-linux-lp64/some-other-flags'",
              "tp-badsig.so");
}

/* A contstacks / backtrace / gc vtable shorter than its kind's 1.0 size is refused (WEFT_ERR_ABI)
 * with one line naming the plugin, its file, the kind, the bytes it has and the 1.0 size needed.
 * The 1.0 sizes are the ends of the last "since 1.0" slot of each header. */
static void short_vtable(const char *plugin, const char *kind, size_t have, size_t need) {
  weft_config *cfg = make_cfg(plugin, NULL);
  weft_engine *e = (weft_engine *)1;
  weft_error err;
  memset(&err, 0, sizeof err);
  int rc = weft_engine_new(cfg, &e, &err);
  if (rc != WEFT_ERR_ABI) fail_msg("%s: expected %d, got %d: %s", plugin, WEFT_ERR_ABI, rc, err.message);
  assert_null(e);
  char want[512];
  snprintf(want, sizeof want, "plugin '%s' (%s/%s.so): %s interface is ABI %u.%u with %zu bytes; "
           "the core needs %u.x with at least %zu: rebuild the plugin", plugin, WEFT_TEST_PLUGIN_DIR,
           plugin, kind, WEFT_ABI_MAJOR, WEFT_ABI_MINOR, have, WEFT_ABI_MAJOR, need);
  if (strstr(err.message, want) == NULL) fail_msg("'%s' lacks '%s'", err.message, want);
  assert_null(strchr(err.message, '\n'));
  print_message("%s\n", err.message);
  assert_string_equal(err.origin, "test.ini:3"); /* the engine reports where the plugin is named */
  weft_config_free(cfg);
}

static void short_vtables_refused(void **s) {
  (void)s;
  size_t cs = offsetof(weft_contstacks_iface, asan_after_suspend);
  size_t bt = offsetof(weft_backtrace_iface, code_removed);
  short_vtable("tp-shortcs", "contstacks", cs, cs + sizeof(void *));
  short_vtable("tp-shortbt", "backtrace", bt, bt + sizeof(void *));
  short_vtable("tp-shortgc", "gc", sizeof(weft_abi_header),
               offsetof(weft_gc_iface, stats) + sizeof(void *));
  /* Next to a good plugin, the short one still fails the engine, and nothing is left loaded. */
  expect_fail("tp-good, tp-shortgc", NULL, WEFT_ERR_ABI, "plugin 'tp-shortgc'", "tp-shortgc.so");
}

/* Vtables of the test plugins' own size (the 1.0 size, and for contstacks the for_each_cont slot
 * appended in 1.3, owns in 1.4 and live_count in 1.5) are accepted for all three kinds, with every
 * slot NULL ("not provided"). */
static void full_vtables_accepted(void **s) {
  (void)s;
  assert_int_equal(sizeof(weft_contstacks_iface), /* 1.0 slots, for_each_cont, owns, live_count */
                   offsetof(weft_contstacks_iface, live_count) + sizeof(void *));
  weft_config *cfg = make_cfg("tp-newminor, tp-requires, tp-oldminor", NULL);
  weft_engine *e = expect_ok(cfg);
  assert_true(weft_engine_has_kind(e, "contstacks"));
  assert_true(weft_engine_has_kind(e, "backtrace"));
  assert_true(weft_engine_has_kind(e, "gc"));
  weft_engine_free(e);
  weft_config_free(cfg);
}

static void duplicate_kind(void **s) {
  (void)s;
  expect_fail("tp-good, tp-dup", NULL, WEFT_ERR_PLUGIN, "a validator plugin is already loaded",
              "'tp-good'");
}

static void missing_requirement(void **s) {
  (void)s;
  expect_fail("tp-requires", NULL, WEFT_ERR_PLUGIN, "plugin 'tp-requires'",
              "requires a backtrace plugin");
}

static void requirement_met(void **s) {
  (void)s;
  weft_config *cfg = make_cfg("tp-requires, tp-oldminor", NULL);
  weft_engine *e = expect_ok(cfg);
  assert_true(weft_engine_has_kind(e, "gc"));
  assert_true(weft_engine_has_kind(e, "backtrace"));
  assert_false(weft_engine_has_kind(e, "codegen"));
  weft_engine_free(e);
  weft_config_free(cfg);
}

static void init_failing(void **s) {
  (void)s;
  expect_fail("tp-initfail", NULL, WEFT_ERR_PLUGIN, "init failed",
              "cannot reserve the test heap");
}

static void unknown_plugin_key(void **s) {
  (void)s;
  expect_fail("tp-good", "[tp-good]\nstrict = yes\nbogus = 1\n", WEFT_ERR_CONFIG,
              "test.ini:7: unknown key 'bogus' in [tp-good]", "declares: strict, limit, mode, level");
}

static void bad_plugin_value(void **s) {
  (void)s;
  expect_fail("tp-good", "[tp-good]\nmode = medium\n", WEFT_ERR_CONFIG,
              "test.ini:6: bad value 'medium'", "expected one of fast|slow");
  expect_fail("tp-good", "[tp-good]\nlimit = 12Q\n", WEFT_ERR_CONFIG, "test.ini:6: bad size '12Q'",
              NULL);
}

static void unknown_section(void **s) {
  (void)s;
  expect_fail("tp-good", "[nosuch]\n", WEFT_ERR_CONFIG, "test.ini:5: unknown section [nosuch]", NULL);
}

static void no_validator_without_trust(void **s) {
  (void)s;
  weft_config *cfg = make_cfg("tp-oldminor", NULL);
  weft_engine *e = NULL;
  weft_error err;
  assert_int_equal(weft_config_set(cfg, "core", "trust_unvalidated", "no", &err), WEFT_OK);
  assert_int_equal(weft_engine_new(cfg, &e, &err), WEFT_ERR_CONFIG);
  assert_null(e);
  assert_non_null(strstr(err.message, "test.ini:3: no validator plugin"));
  assert_non_null(strstr(err.message, "trust_unvalidated = yes"));
  weft_config_free(cfg);
}

/* -- Versions -------------------------------------------------------------------------------- */

static void older_minor_accepted(void **s) {
  (void)s;
  weft_config *cfg = make_cfg("tp-oldminor", NULL);
  weft_engine *e = expect_ok(cfg);
  assert_int_equal(weft_engine_plugin_count(e), 1);
  weft_plugin_info info;
  assert_int_equal(weft_engine_plugin(e, 0, &info), WEFT_OK);
  assert_string_equal(info.name, "tp-oldminor");
  assert_int_equal(info.abi_version, WEFT_ABI_MAKE(1, 0));
  /* The 1.1 summary slot lies past the descriptor's end (poisoned): it must not be read. */
  char *dump = calloc(1, 8192);
  weft_engine_dump_config(e, dump_line, dump);
  assert_non_null(strstr(dump, "[tp-oldminor]"));
  assert_null(strchr(dump, (char)0xA5));
  const char *hdr = strstr(dump, "from " WEFT_TEST_PLUGIN_DIR "/tp-oldminor.so\n");
  assert_non_null(hdr);
  assert_true(strncmp(strchr(hdr, '\n') + 1, "[tp-oldminor]", 13) == 0);
  free(dump);
  weft_engine_free(e);
  weft_config_free(cfg);
}

static void newer_minor_accepted(void **s) {
  (void)s;
  weft_config *cfg = make_cfg("tp-newminor", NULL);
  weft_engine *e = expect_ok(cfg);
  weft_plugin_info info;
  assert_int_equal(weft_engine_plugin(e, 0, &info), WEFT_OK);
  assert_int_equal(info.abi_version, WEFT_ABI_MAKE(1, 7));
  assert_string_equal(info.kind, "contstacks");
  char *dump = calloc(1, 8192);
  weft_engine_dump_config(e, dump_line, dump);
  assert_non_null(strstr(dump, "; from the future\n[tp-newminor]"));
  free(dump);
  weft_engine_free(e);
  weft_config_free(cfg);
}

/* -- A good plugin end to end ---------------------------------------------------------------- */

static void good_plugin_gets_config(void **s) {
  (void)s;
  log_buf[0] = '\0';
  weft_config *cfg = make_cfg("tp-good", "[tp-good]\nstrict = yes\nmode = slow\n");
  weft_error err;
  assert_int_equal(weft_config_set(cfg, "tp-good", "limit", "1K", &err), WEFT_OK);
  weft_engine *e = expect_ok(cfg);
  assert_non_null(strstr(log_buf, "init strict=1 limit=1024 mode=slow level=3"));
  weft_module m;
  memset(&m, 0, sizeof m);
  weft_diag d;
  m.nfuncs = 1024;
  assert_int_equal(core_engine_validate(e, &m, &d), WEFT_OK);
  m.nfuncs = 1025;
  assert_int_equal(core_engine_validate(e, &m, &d), WEFT_ERR_INVALID);
  assert_string_equal(d.message, "too many functions (1025 > 1024)");
  assert_string_equal(d.origin, "tp-good");
  /* Faults injected at the wrapper come back once. */
  core_engine_inject_fault(e, "validate", WEFT_ERR_NOMEM);
  assert_int_equal(core_engine_validate(e, &m, &d), WEFT_ERR_NOMEM);
  m.nfuncs = 1;
  assert_int_equal(core_engine_validate(e, &m, &d), WEFT_OK);
  /* No codegen: compile says so instead of crashing. */
  weft_code_info *code = (weft_code_info *)1;
  assert_int_equal(core_engine_compile(e, &m, &code, &d), WEFT_ERR_UNSUPPORTED);
  assert_null(code);
  assert_non_null(strstr(d.message, "no codegen plugin"));
  char *dump = calloc(1, 8192);
  weft_engine_dump_config(e, dump_line, dump);
  assert_non_null(strstr(dump, "; refuse modules with more than `limit` functions (bool, default no)\n"
                               "strict = yes\n"));
  assert_non_null(strstr(dump, "limit = 1K\n"));
  assert_non_null(strstr(dump, "level = 3\n"));
  assert_non_null(strstr(dump, "; test validator\n"));
  free(dump);
  weft_engine_free(e);
  weft_config_free(cfg);
}

static void feature_switches(void **s) {
  (void)s;
  weft_config *cfg = make_cfg("tp-good", "[wasm]\nstack_switching = no\n");
  weft_engine *e = expect_ok(cfg);
  weft_module m;
  memset(&m, 0, sizeof m);
  weft_diag d;
  m.features = WEFT_FEAT_SIMD;
  assert_int_equal(core_engine_check_features(e, &m, &d), WEFT_OK);
  m.features = WEFT_FEAT_STACK_SWITCHING;
  assert_int_equal(core_engine_check_switches(e, &m, &d), WEFT_ERR_UNSUPPORTED);
  assert_non_null(strstr(d.message, "set [wasm] stack_switching = yes"));
  m.features = WEFT_FEAT_GC; /* the GC type system alone needs no gc plugin */
  assert_int_equal(core_engine_check_switches(e, &m, &d), WEFT_OK);
  assert_int_equal(core_engine_check_features(e, &m, &d), WEFT_OK);
  m.features = WEFT_FEAT_GC | WEFT_FEAT_GC_HEAP;
  assert_int_equal(core_engine_check_switches(e, &m, &d), WEFT_OK);
  assert_int_equal(core_engine_check_features(e, &m, &d), WEFT_ERR_UNSUPPORTED);
  assert_non_null(strstr(d.message, "no gc plugin"));
  weft_engine_free(e);
  weft_config_free(cfg);
}

/* The codegen wrappers: what the plugin returns is checked, defaults are filled, faults injected. */
static void codegen_wrappers(void **s) {
  (void)s;
  weft_config *cfg = make_cfg("tp-codegen", NULL);
  weft_engine *e = expect_ok(cfg);
  const struct {
    weft_codegen_iface iface;
    int (*released)(void);
  } *cg = core_engine_iface(e, WEFT_PLUGIN_CODEGEN);
  assert_non_null(cg);
  weft_module m;
  memset(&m, 0, sizeof m);
  weft_diag d;
  weft_code_info *code = NULL;
  m.nfuncs = 2;
  assert_int_equal(core_engine_compile(e, &m, &code, &d), WEFT_OK);
  assert_non_null(code);
  core_engine_release_code(e, code);
  assert_int_equal(cg->released(), 1);
  m.nfuncs = 13; /* code info of another major: refused, and handed back to the plugin */
  assert_int_equal(core_engine_compile(e, &m, &code, &d), WEFT_ERR_ABI);
  assert_null(code);
  assert_int_equal(cg->released(), 2);
  assert_non_null(strstr(d.message, "another ABI"));
  m.nfuncs = 14; /* success without a result */
  assert_int_equal(core_engine_compile(e, &m, &code, &d), WEFT_ERR_ABI);
  assert_null(code);
  m.nfuncs = 15; /* failure without a message: the wrapper writes one */
  assert_int_equal(core_engine_compile(e, &m, &code, &d), WEFT_ERR_UNSUPPORTED);
  assert_string_equal(d.message, "compile failed in plugin 'tp-codegen': unsupported feature");
  assert_string_equal(d.origin, "tp-codegen");
  core_engine_inject_fault(e, "compile", WEFT_ERR_NOMEM);
  m.nfuncs = 2;
  assert_int_equal(core_engine_compile(e, &m, &code, &d), WEFT_ERR_NOMEM);
  assert_null(code);
  assert_int_equal(core_engine_compile(e, &m, &code, &d), WEFT_OK); /* the fault fired once */
  core_engine_release_code(e, code);
  core_engine_release_code(e, NULL);
  void *entry = NULL;
  assert_int_equal(core_engine_host_trampoline(e, &m, 1, &entry, &d), WEFT_OK);
  assert_non_null(entry);
  core_engine_release_tramp(e, entry);
  assert_int_equal(cg->released(), 103);
  assert_int_equal(core_engine_host_trampoline(e, &m, 7, &entry, &d), WEFT_ERR_UNSUPPORTED);
  assert_null(entry);
  assert_string_equal(d.message, "no trampoline for type 7");
  core_engine_inject_fault(e, "host_trampoline", WEFT_ERR_LIMIT);
  assert_int_equal(core_engine_host_trampoline(e, &m, 1, &entry, &d), WEFT_ERR_LIMIT);
  weft_engine_free(e);
  weft_config_free(cfg);
  /* Without a codegen, the wrappers say so and releases are no-ops. */
  cfg = make_cfg("tp-good", NULL);
  e = expect_ok(cfg);
  assert_int_equal(core_engine_host_trampoline(e, &m, 1, &entry, &d), WEFT_ERR_UNSUPPORTED);
  assert_non_null(strstr(d.message, "no codegen plugin"));
  core_engine_release_tramp(e, &m);
  core_engine_release_code(e, (weft_code_info *)&m);
  weft_engine_free(e);
  weft_config_free(cfg);
}

/* -- Static plugins -------------------------------------------------------------------------- */

static void static_plugin(void **s) {
  (void)s;
  static_inits = static_finis = 0;
  weft_config *cfg = make_cfg("st-validator", NULL);
  weft_error err;
  assert_int_equal(weft_config_set(cfg, "core", "trust_unvalidated", "no", &err), WEFT_OK);
  assert_int_equal(weft_config_add_static_plugin(cfg, weft_plugin_entry_st_validator, &err), WEFT_OK);
  weft_engine *e = expect_ok(cfg);
  weft_plugin_info info;
  assert_int_equal(weft_engine_plugin_count(e), 1);
  assert_int_equal(weft_engine_plugin(e, 0, &info), WEFT_OK);
  assert_string_equal(info.path, "(static)");
  assert_int_equal(weft_engine_plugin(e, 1, &info), WEFT_ERR_MISUSE);
  assert_int_equal(static_inits, 1);
  weft_engine_free(e);
  assert_int_equal(static_finis, 1);
  weft_config_free(cfg);
}

/* A later failure finalises what was already initialised. */
static void failure_unwinds_inits(void **s) {
  (void)s;
  static_inits = static_finis = 0;
  weft_config *cfg = make_cfg("tp-initfail", NULL);
  weft_error err;
  assert_int_equal(weft_config_add_static_plugin(cfg, weft_plugin_entry_st_validator, &err), WEFT_OK);
  weft_engine *e = NULL;
  assert_int_equal(weft_engine_new(cfg, &e, &err), WEFT_ERR_PLUGIN);
  assert_int_equal(static_inits, 1);
  assert_int_equal(static_finis, 1);
  /* A static plugin and a file plugin of the same kind are a duplicate too. */
  weft_config_free(cfg);
  cfg = make_cfg("tp-good", NULL);
  assert_int_equal(weft_config_add_static_plugin(cfg, weft_plugin_entry_st_validator, &err), WEFT_OK);
  assert_int_equal(weft_engine_new(cfg, &e, &err), WEFT_ERR_PLUGIN);
  assert_non_null(strstr(err.message, "a validator plugin is already loaded ('st-validator'"));
  weft_config_free(cfg);
}

/* Loading by explicit path; a file whose descriptor names another plugin. */
static void explicit_paths(void **s) {
  (void)s;
  weft_config *cfg = make_cfg(WEFT_TEST_PLUGIN_DIR "/tp-good.so", NULL);
  weft_engine *e = expect_ok(cfg);
  assert_true(weft_engine_has_kind(e, "validator"));
  weft_engine_free(e);
  weft_config_free(cfg);
  expect_fail("tp-noentry", "", WEFT_ERR_PLUGIN, "tp-noentry.so", NULL);
  weft_config *c2 = NULL;
  weft_error err;
  assert_int_equal(weft_config_new(&c2, &err), WEFT_OK);
  assert_int_equal(weft_config_set(c2, "core", "plugins", "tp-good", &err), WEFT_OK);
  assert_int_equal(weft_engine_new(c2, &e, &err), WEFT_ERR_CONFIG);
  assert_non_null(strstr(err.message, "plugin_dir is not set"));
  weft_config_free(c2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(missing_file),
      cmocka_unit_test(no_entry_symbol),
      cmocka_unit_test(entry_refuses_host),
      cmocka_unit_test(major_mismatch),
      cmocka_unit_test(bad_build_signature),
      cmocka_unit_test(short_vtables_refused),
      cmocka_unit_test(full_vtables_accepted),
      cmocka_unit_test(duplicate_kind),
      cmocka_unit_test(missing_requirement),
      cmocka_unit_test(requirement_met),
      cmocka_unit_test(init_failing),
      cmocka_unit_test(unknown_plugin_key),
      cmocka_unit_test(bad_plugin_value),
      cmocka_unit_test(unknown_section),
      cmocka_unit_test(no_validator_without_trust),
      cmocka_unit_test(older_minor_accepted),
      cmocka_unit_test(newer_minor_accepted),
      cmocka_unit_test(good_plugin_gets_config),
      cmocka_unit_test(feature_switches),
      cmocka_unit_test(codegen_wrappers),
      cmocka_unit_test(static_plugin),
      cmocka_unit_test(failure_unwinds_inits),
      cmocka_unit_test(explicit_paths),
  };
  return cmocka_run_group_tests_name("loader", tests, NULL, NULL);
}
