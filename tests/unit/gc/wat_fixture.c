/* tests/unit/gc/wat_fixture.c -- see wat_fixture.h. Depends on: weft-core-obj, weft-text-obj,
 * tests/common/wat_api, cmocka. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "wat_api.h"
#include "wat_fixture.h"

wat_fixture *wat_fixture_new(const char *wat, size_t len, const char *name) {
  wat_fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  f->engine = tw_engine(NULL, name, NULL);
  if (f->engine == NULL) fail_msg("%s: no engine (see stderr)", name);
  f->store = weft_store_new(f->engine);
  assert_non_null(f->store);
  if (tw_module_wat(f->engine, wat, len, name, &f->module) != WEFT_OK)
    fail_msg("%s: no module (see stderr)", name);
  weft_error err;
  memset(&err, 0, sizeof err);
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
