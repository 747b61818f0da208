/* tests/unit/gc/wat_fixture.h -- the fixture of the gc tests that run real plugins: an engine from
 * the build tree's conf/default.ini, a store, and one instance of a WAT module (cmocka setup and
 * teardown bodies). Depends on: weft/weft.h, weft/text.h, cmocka.
 */
#ifndef WEFT_TESTS_GC_WAT_FIXTURE_H
#define WEFT_TESTS_GC_WAT_FIXTURE_H

#include <stddef.h>

#include "weft/weft.h"

typedef struct wat_fixture {
  weft_engine *engine;
  weft_store_t *store;
  weft_module_t *module;
  weft_instance_t *inst;
} wat_fixture;

/* Builds the fixture for `wat` (len bytes, `name` for messages); fails the test on any error. */
wat_fixture *wat_fixture_new(const char *wat, size_t len, const char *name);
void wat_fixture_free(wat_fixture *f);

#endif
