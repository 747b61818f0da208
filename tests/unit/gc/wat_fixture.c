/* tests/unit/gc/wat_fixture.c -- see wat_fixture.h. Depends on: weft-core-obj, weft-text-obj,
 * cmocka. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "wat_fixture.h"
#include "weft/text.h"

wat_fixture *wat_fixture_new(const char *wat, size_t len, const char *name) {
  wat_fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  weft_config *cfg = NULL;
  weft_error err;
  memset(&err, 0, sizeof err);
  if (weft_config_load(weft_config_default_path(), &cfg, &err) != WEFT_OK)
    fail_msg("config: %s", err.message);
  if (weft_engine_new(cfg, &f->engine, &err) != WEFT_OK) fail_msg("engine: %s", err.message);
  weft_config_free(cfg);
  f->store = weft_store_new(f->engine);
  assert_non_null(f->store);
  uint8_t *bytes = NULL;
  size_t n = 0;
  weft_diag d;
  memset(&d, 0, sizeof d);
  if (weft_wat_to_wasm(wat, len, name, &bytes, &n, &d) != WEFT_OK) fail_msg("wat: %s", d.message);
  if (weft_module_new(f->engine, bytes, n, &f->module, &err) != WEFT_OK)
    fail_msg("module: %s", err.message);
  weft_wat_free(bytes);
  weft_trap_t *t = NULL;
  assert_int_equal(weft_instance_new(f->store, f->module, NULL, 0, &f->inst, &t, &err), WEFT_OK);
  assert_null(t);
  return f;
}

void wat_fixture_free(wat_fixture *f) {
  if (f == NULL) return;
  weft_store_free(f->store);
  weft_module_free(f->module);
  weft_engine_free(f->engine);
  free(f);
}
