/* tests/common/wat_api.h -- what the tests that drive real plugins through the embedding API share:
 * an engine from an ini text or from the build tree's conf/default.ini, and modules from WAT text,
 * from a .wat file or from a .wasm file. Every function prints what went wrong on stderr and
 * returns NULL or an error, so cmocka setups can `return -1` and tests can fail_msg.
 * Depends on: weft/weft.h, weft/text.h (link weft-core-obj and weft-text-obj).
 */
#ifndef WEFT_TESTS_COMMON_WAT_API_H
#define WEFT_TESTS_COMMON_WAT_API_H

#include <stdbool.h>
#include <stddef.h>

#include "weft/weft.h"

/* An engine from ini text `config` (`name` in messages), or from the default configuration when
 * config is NULL, with the assignments in `extra` ("section.key=value", NULL-terminated; extra
 * itself may be NULL) applied. */
weft_engine *tw_engine(const char *config, const char *name, const char *const *extra);

/* An engine that loads only `plugins` (a [core] plugins list) from `plugin_dir`: tests that must
 * not get what the build's default.ini lists or configures. */
weft_engine *tw_engine_plugins(const char *plugin_dir, const char *plugins, const char *name);

/* The module assembled from `len` bytes of WAT text (`name` in messages). */
int tw_module_wat(weft_engine *e, const char *wat, size_t len, const char *name, weft_module_t **out);

/* The module of a file: WAT text when `path` ends in ".wat", else the binary format. */
int tw_module_file(weft_engine *e, const char *path, weft_module_t **out);

/* One instance (no imports) in a store of an engine from the default configuration with `extra`
 * ("section.key=value" or NULL) applied. */
typedef struct tw_fixture {
  weft_engine *engine;
  weft_store_t *store;
  weft_module_t *module;
  weft_instance_t *inst;
} tw_fixture;

/* The module is `len` bytes of WAT text (`binary` false) or of the binary format; NULL after a
 * message on stderr. */
tw_fixture *tw_fixture_new(const char *extra, const void *module, size_t len, bool binary,
                           const char *name);
void tw_fixture_free(tw_fixture *f);

#endif
