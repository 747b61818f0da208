/* tests/unit/config/test_config.c -- weft_config: the ini reader (inih plus the pre-scan),
 * file:line errors, overrides, sizes, bools, enums, 200-character lines, indented lines,
 * relative paths and the value parsers shared with the host table.
 * Depends on: weft-core-obj (core/config.h), cmocka, WEFT_TEST_TMP (a scratch folder).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "weft/module.h"

#ifndef WEFT_TEST_TMP
#error "WEFT_TEST_TMP must name a scratch folder"
#endif

/* -- Helpers --------------------------------------------------------------------------------- */

static weft_config *load_ok(const char *text) {
  weft_config *cfg = NULL;
  weft_error err;
  int rc = weft_config_load_string(text, "t.ini", "/base", &cfg, &err);
  if (rc != WEFT_OK) fail_msg("unexpected error: %s", err.message);
  return cfg;
}

/* Load `text` and expect an error whose message starts with `prefix`. */
static void load_err(const char *text, int code, const char *prefix) {
  weft_config *cfg = (weft_config *)1;
  weft_error err;
  memset(&err, 0, sizeof err);
  int rc = weft_config_load_string(text, "t.ini", "/base", &cfg, &err);
  if (rc != code) fail_msg("expected %d, got %d (%s)", code, rc, err.message);
  assert_null(cfg);
  if (strncmp(err.message, prefix, strlen(prefix)) != 0)
    fail_msg("message '%s' does not start with '%s'", err.message, prefix);
  assert_null(strchr(err.message, '\n'));
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* -- Reading --------------------------------------------------------------------------------- */

static void defaults(void **s) {
  (void)s;
  weft_config *cfg = NULL;
  weft_error err;
  assert_int_equal(weft_config_new(&cfg, &err), WEFT_OK);
  assert_int_equal(cfg->max_wasm_stack, 1u << 20);
  assert_false(cfg->trust_unvalidated);
  assert_int_equal(cfg->nplugins, 0);
  assert_true(cfg->features & WEFT_FEAT_STACK_SWITCHING);
  assert_true(cfg->features & WEFT_FEAT_MULTI_MEMORY);
  assert_null(cfg->plugin_dir);
  weft_config_free(cfg);
}

static void core_and_wasm(void **s) {
  (void)s;
  weft_config *cfg = load_ok("; a comment\n"
                             "# another\n"
                             "[core]\n"
                             "plugin_dir = plugins   ; inline comment\n"
                             "plugins = validator,  x64-codegen ,gc\n"
                             "max_wasm_stack = 512K\n"
                             "trust_unvalidated = On\n"
                             "\n"
                             "[wasm]\n"
                             "gc = no\n"
                             "simd: false\n");
  assert_string_equal(cfg->plugin_dir, "/base/plugins");
  assert_int_equal(cfg->nplugins, 3);
  assert_string_equal(cfg->plugins[0], "validator");
  assert_string_equal(cfg->plugins[1], "x64-codegen");
  assert_string_equal(cfg->plugins[2], "gc");
  assert_int_equal(cfg->max_wasm_stack, 512 * 1024);
  assert_true(cfg->trust_unvalidated);
  assert_false(cfg->features & WEFT_FEAT_GC);
  assert_false(cfg->features & WEFT_FEAT_SIMD);
  assert_true(cfg->features & WEFT_FEAT_EXCEPTIONS);
  assert_string_equal(weft_config_get(cfg, "core", "max_wasm_stack"), "512K");
  assert_null(weft_config_get(cfg, "core", "nope"));
  const core_cfg_entry *e = core_cfg_find(cfg, "wasm", "simd");
  assert_non_null(e);
  assert_string_equal(e->origin, "t.ini:11");
  weft_config_free(cfg);
}

static void plugin_sections_kept_raw(void **s) {
  (void)s;
  weft_config *cfg = load_ok("[core]\nplugins = x\n[x]\nanything = goes\n\n[y]\n");
  const core_cfg_entry *e = core_cfg_find(cfg, "x", "anything");
  assert_non_null(e);
  assert_string_equal(e->value, "goes");
  assert_string_equal(e->origin, "t.ini:4");
  assert_int_equal(cfg->nsections, 3);
  assert_string_equal(cfg->sections[2].name, "y");
  assert_string_equal(cfg->sections[2].origin, "t.ini:6");
  weft_config_free(cfg);
}

static void errors_name_the_line(void **s) {
  (void)s;
  load_err("[core]\nbogus = 1\n", WEFT_ERR_CONFIG, "t.ini:2: unknown key 'bogus' in [core]");
  load_err("[wasm]\n\nthreads = yes\n", WEFT_ERR_CONFIG, "t.ini:3: unknown key 'threads' in [wasm]");
  load_err("plugins = a\n[core]\n", WEFT_ERR_CONFIG, "t.ini:1: key 'plugins' before any [section]");
  load_err("[core]\njust a line\n", WEFT_ERR_CONFIG, "t.ini:2: expected 'key = value'");
  load_err("[core\n", WEFT_ERR_CONFIG, "t.ini:1: malformed section header");
  load_err("[co re]\n", WEFT_ERR_CONFIG, "t.ini:1: bad section name [co re]");
  load_err("[core]\n[a234567890123456789012345678901234567890123456789]\n", WEFT_ERR_CONFIG,
           "t.ini:2: section name longer than 48 characters");
  load_err("[core]\n = x\n", WEFT_ERR_CONFIG, "t.ini:2: indented line");
  load_err("[core]\n=x\n", WEFT_ERR_CONFIG, "t.ini:2: missing key name");
  load_err("[core]\nmax_wasm_stack = 1M\nmax_wasm_stack = 2M\n", WEFT_ERR_CONFIG,
           "t.ini:3: [core] max_wasm_stack is set twice (first at t.ini:2)");
  load_err("[core]\nplugins = a,,b\n", WEFT_ERR_CONFIG, "t.ini:2: empty name in [core] plugins");
  load_err("[core]\nplugins = a, a\n", WEFT_ERR_CONFIG, "t.ini:2: plugin 'a' is listed twice");
  load_err("[core]\nplugins = a,\n", WEFT_ERR_CONFIG, "t.ini:2: empty name");
}

static void indented_keys(void **s) {
  (void)s;
  /* inih would read the second line as a continuation of plugins' value: refuse it. */
  load_err("[core]\nplugins = a\n  b = c\n", WEFT_ERR_CONFIG, "t.ini:3: indented line");
  load_err("[core]\n\t[wasm]\n", WEFT_ERR_CONFIG, "t.ini:2: indented line");
  /* Indented comments are harmless. */
  weft_config *cfg = load_ok("[core]\n   ; a comment\nplugins = a\n");
  assert_int_equal(cfg->nplugins, 1);
  weft_config_free(cfg);
}

static void long_lines(void **s) {
  (void)s;
  char text[600];
  /* 199 characters: the longest line allowed. */
  int n = snprintf(text, sizeof text, "[x]\nk = ");
  memset(text + n, 'v', 199 - 4);
  strcpy(text + n + 199 - 4, "\n");
  weft_config *cfg = load_ok(text);
  assert_int_equal(strlen(weft_config_get(cfg, "x", "k")), 195);
  weft_config_free(cfg);
  /* 200 characters: an error, not a silent cut. */
  memset(text + n, 'v', 200 - 4);
  strcpy(text + n + 200 - 4, "\n[core]\n");
  load_err(text, WEFT_ERR_CONFIG, "t.ini:2: line is 200 characters long");
  /* Also a long comment, and a long last line without a newline. */
  memset(text, ';', 300);
  text[300] = '\0';
  load_err(text, WEFT_ERR_CONFIG, "t.ini:1: line is 300 characters long");
}

static void bad_values(void **s) {
  (void)s;
  load_err("[core]\ntrust_unvalidated = maybe\n", WEFT_ERR_CONFIG,
           "t.ini:2: bad value 'maybe' for [core] trust_unvalidated: expected yes or no");
  load_err("[wasm]\ngc = 2\n", WEFT_ERR_CONFIG, "t.ini:2: bad value '2' for [wasm] gc");
  load_err("[core]\nmax_wasm_stack = 1T\n", WEFT_ERR_CONFIG, "t.ini:2: bad size '1T'");
  load_err("[core]\nmax_wasm_stack = -1\n", WEFT_ERR_CONFIG, "t.ini:2: bad size '-1'");
  load_err("[core]\nmax_wasm_stack = 1 M\n", WEFT_ERR_CONFIG, "t.ini:2: bad size '1 M'");
  load_err("[core]\nmax_wasm_stack = 8G\n", WEFT_ERR_CONFIG, "t.ini:2: [core] max_wasm_stack = 8G is out of range");
  load_err("[core]\nplugin_dir =\n", WEFT_ERR_CONFIG, "t.ini:2: [core] plugin_dir is empty");
}

static void nul_byte(void **s) {
  (void)s;
  char path[512];
  snprintf(path, sizeof path, "%s/nul.ini", WEFT_TEST_TMP);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fwrite("[core]\nplugins = a\0b\n", 1, 21, f);
  fclose(f);
  weft_config *cfg = NULL;
  weft_error err;
  assert_int_equal(weft_config_load(path, &cfg, &err), WEFT_ERR_CONFIG);
  assert_non_null(strstr(err.message, "nul.ini:2: line contains a NUL byte"));
}

/* -- Value parsers --------------------------------------------------------------------------- */

static void sizes(void **s) {
  (void)s;
  uint64_t v;
  assert_true(core_cfg_parse_size("0", &v) && v == 0);
  assert_true(core_cfg_parse_size("4096", &v) && v == 4096);
  assert_true(core_cfg_parse_size("64k", &v) && v == 65536);
  assert_true(core_cfg_parse_size("1M", &v) && v == 1048576);
  assert_true(core_cfg_parse_size("3G", &v) && v == 3ull << 30);
  assert_true(core_cfg_parse_size("18446744073709551615", &v) && v == UINT64_MAX);
  assert_false(core_cfg_parse_size("18446744073709551616", &v));
  assert_false(core_cfg_parse_size("17179869184G", &v)); /* overflows after the shift */
  assert_false(core_cfg_parse_size("", &v));
  assert_false(core_cfg_parse_size("M", &v));
  assert_false(core_cfg_parse_size("1MB", &v));
  assert_false(core_cfg_parse_size("1.5M", &v));
  assert_false(core_cfg_parse_size(" 1", &v));
}

static void bools_ints_enums(void **s) {
  (void)s;
  bool b;
  assert_true(core_cfg_parse_bool("YES", &b) && b);
  assert_true(core_cfg_parse_bool("on", &b) && b);
  assert_true(core_cfg_parse_bool("1", &b) && b);
  assert_true(core_cfg_parse_bool("False", &b) && !b);
  assert_true(core_cfg_parse_bool("0", &b) && !b);
  assert_false(core_cfg_parse_bool("y", &b));
  assert_false(core_cfg_parse_bool("", &b));
  int64_t i;
  assert_true(core_cfg_parse_int("-12", &i) && i == -12);
  assert_true(core_cfg_parse_int("0x1F", &i) && i == 31);
  assert_true(core_cfg_parse_int("0", &i) && i == 0);
  assert_false(core_cfg_parse_int("010", &i));
  assert_false(core_cfg_parse_int("12a", &i));
  assert_false(core_cfg_parse_int("99999999999999999999", &i));
  assert_true(core_cfg_parse_enum("guard", "guard|explicit"));
  assert_true(core_cfg_parse_enum("explicit", "guard|explicit"));
  assert_false(core_cfg_parse_enum("guar", "guard|explicit"));
  assert_false(core_cfg_parse_enum("guard|explicit", "guard|explicit"));
  assert_false(core_cfg_parse_enum("", "guard|explicit"));
}

/* -- Overrides ------------------------------------------------------------------------------- */

static void overrides_beat_the_file(void **s) {
  (void)s;
  weft_config *cfg = load_ok("[core]\nmax_wasm_stack = 1M\n[wasm]\ngc = yes\n[p]\nk = file\n");
  weft_error err;
  assert_int_equal(weft_config_set_str(cfg, "core.max_wasm_stack=2M", &err), WEFT_OK);
  assert_int_equal(cfg->max_wasm_stack, 2u << 20);
  assert_int_equal(weft_config_set(cfg, "wasm", "gc", "no", &err), WEFT_OK);
  assert_false(cfg->features & WEFT_FEAT_GC);
  assert_int_equal(weft_config_set_str(cfg, "p.k=override=with=equals", &err), WEFT_OK);
  const core_cfg_entry *e = core_cfg_find(cfg, "p", "k");
  assert_string_equal(e->value, "override=with=equals");
  assert_string_equal(e->origin, "-C p.k");
  /* Relative paths from -C resolve against the current directory, explicitly. */
  assert_int_equal(weft_config_set_str(cfg, "core.plugin_dir=here", &err), WEFT_OK);
  assert_string_equal(cfg->plugin_dir, "./here");
  /* Bad overrides name the override. */
  assert_int_equal(weft_config_set_str(cfg, "core.max_wasm_stack=big", &err), WEFT_ERR_CONFIG);
  assert_string_equal(err.message,
                      "-C core.max_wasm_stack: bad size 'big' for [core] max_wasm_stack: expected a "
                      "number of bytes with an optional K, M or G suffix");
  assert_int_equal(cfg->max_wasm_stack, 2u << 20); /* unchanged */
  assert_int_equal(weft_config_set_str(cfg, "nodot=1", &err), WEFT_ERR_CONFIG);
  assert_non_null(strstr(err.message, "write section.key=value"));
  assert_int_equal(weft_config_set_str(cfg, "core.bogus=1", &err), WEFT_ERR_CONFIG);
  assert_non_null(strstr(err.message, "-C core.bogus: unknown key 'bogus' in [core]"));
  assert_int_equal(weft_config_set(cfg, "bad section", "k", "v", &err), WEFT_ERR_CONFIG);
  weft_config_free(cfg);
}

static void clone_is_deep(void **s) {
  (void)s;
  weft_config *cfg = load_ok("[core]\nplugin_dir = /p\nplugins = a, b\n[a]\nk = v\n");
  weft_config *c2 = core_cfg_clone(cfg);
  assert_non_null(c2);
  weft_config_free(cfg);
  assert_string_equal(c2->plugin_dir, "/p");
  assert_int_equal(c2->nplugins, 2);
  assert_string_equal(c2->plugins[1], "b");
  assert_string_equal(weft_config_get(c2, "a", "k"), "v");
  assert_string_equal(c2->sections[1].name, "a");
  weft_config_free(c2);
}

/* -- Files and relative paths ---------------------------------------------------------------- */

static void files_and_relative_paths(void **s) {
  (void)s;
  char dir[512], path[600];
  snprintf(dir, sizeof dir, "%s/sub", WEFT_TEST_TMP);
  mkdir(dir, 0755);
  snprintf(path, sizeof path, "%s/rel.ini", dir);
  write_file(path, "[core]\nplugin_dir = ../plugins\nplugins = a, extra/b.so, /abs/c.so\n");
  weft_config *cfg = NULL;
  weft_error err;
  assert_int_equal(weft_config_load(path, &cfg, &err), WEFT_OK);
  char want[700];
  snprintf(want, sizeof want, "%s/../plugins", dir);
  assert_string_equal(cfg->plugin_dir, want);
  snprintf(want, sizeof want, "%s/extra/b.so", dir);
  assert_string_equal(cfg->plugins[1], want);
  assert_string_equal(cfg->plugins[2], "/abs/c.so");
  weft_config_free(cfg);

  write_file(path, "[core]\n\nmax_wasm_stack = lots\n");
  assert_int_equal(weft_config_load(path, &cfg, &err), WEFT_ERR_CONFIG);
  snprintf(want, sizeof want, "%s:3: bad size 'lots'", path);
  assert_true(strncmp(err.message, want, strlen(want)) == 0);

  snprintf(path, sizeof path, "%s/does-not-exist.ini", dir);
  assert_int_equal(weft_config_load(path, &cfg, &err), WEFT_ERR_IO);
  assert_null(cfg);
  assert_non_null(strstr(err.message, "cannot open config file"));
  assert_int_equal(weft_config_load(dir, &cfg, &err), WEFT_ERR_IO); /* a folder */
}

/* -- Robustness ------------------------------------------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (uint32_t)rng_state;
}

/* Random texts built from the characters that matter to an ini reader, and random edits of a good
 * file: every one either loads or fails with a one-line message that names t.ini. */
static void garbage_never_crashes(void **s) {
  (void)s;
  static const char alphabet[] = "[]=:;# \t\n\r\nabkcoreplugins_wasm-.,/0123456789KMG\xff\xc3";
  static const char good[] = "[core]\nplugin_dir = p\nplugins = a, b\nmax_wasm_stack = 1M\n"
                             "trust_unvalidated = yes\n[wasm]\ngc = no\n[a]\nk = v ; c\n";
  char text[700];
  int loaded = 0, failed = 0;
  for (int iter = 0; iter < 20000; iter++) {
    size_t n;
    if (iter % 2 == 0) {
      n = rng() % (sizeof text - 1);
      for (size_t i = 0; i < n; i++) text[i] = alphabet[rng() % (sizeof alphabet - 1)];
    } else {
      n = sizeof good - 1;
      memcpy(text, good, n);
      for (int edits = 1 + (int)(rng() % 4); edits > 0; edits--)
        text[rng() % n] = alphabet[rng() % (sizeof alphabet - 1)];
    }
    text[n] = '\0';
    weft_config *cfg = NULL;
    weft_error err;
    memset(&err, 0, sizeof err);
    if (weft_config_load_string(text, "t.ini", NULL, &cfg, &err) == WEFT_OK) {
      assert_non_null(cfg);
      weft_config *c2 = core_cfg_clone(cfg);
      assert_non_null(c2);
      weft_config_free(c2);
      weft_config_free(cfg);
      loaded++;
    } else {
      assert_null(cfg);
      assert_int_equal(err.code, WEFT_ERR_CONFIG);
      assert_true(strncmp(err.message, "t.ini", 5) == 0);
      assert_null(strchr(err.message, '\n'));
      failed++;
    }
  }
  assert_true(loaded > 100); /* the edits leave many files valid: both paths were exercised */
  assert_true(failed > 100);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults),
      cmocka_unit_test(core_and_wasm),
      cmocka_unit_test(plugin_sections_kept_raw),
      cmocka_unit_test(errors_name_the_line),
      cmocka_unit_test(indented_keys),
      cmocka_unit_test(long_lines),
      cmocka_unit_test(bad_values),
      cmocka_unit_test(nul_byte),
      cmocka_unit_test(sizes),
      cmocka_unit_test(bools_ints_enums),
      cmocka_unit_test(overrides_beat_the_file),
      cmocka_unit_test(clone_is_deep),
      cmocka_unit_test(files_and_relative_paths),
      cmocka_unit_test(garbage_never_crashes),
  };
  return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
