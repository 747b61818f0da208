/* include/weft/plugin/validator.h -- interface of a plugin of kind "validator".
 *
 * The validator decides whether a decoded module (module.h) is valid under Wasm 3.0 plus the
 * stack-switching proposal. It never changes the module. Messages use the reference interpreter's
 * wording ("type mismatch", "unknown local 3", ...), because the spec runner matches them by prefix.
 * Depends on: plugin.h, module.h.
 */
#ifndef WEFT_PLUGIN_VALIDATOR_H
#define WEFT_PLUGIN_VALIDATOR_H

#include "weft/module.h"
#include "weft/plugin.h"

/* The reference plugin (plugins/validator, see its README.md) reads these [validator] keys:
 *   max_locals (50000), max_nesting (10000), max_function_size (7654321 bytes), max_types (1000000);
 * exceeding one is WEFT_ERR_LIMIT with a message naming the key. */
typedef struct weft_validator_iface {
  WEFT_ABI_HEADER;
  /* Validate `m`. Returns WEFT_OK, or WEFT_ERR_INVALID (or WEFT_ERR_LIMIT / WEFT_ERR_NOMEM) with `d`
   * filled: the module offset of the offending instruction or entry and one line in the spec's
   * wording. Thread-safe for distinct modules; `state` is read-only after init. since 1.0 */
  int (*validate)(void *state, const weft_module *m, weft_diag *d);
} weft_validator_iface;

#endif
