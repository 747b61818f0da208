/* plugins/validator/validator.c -- descriptor and entry of the "validator" plugin (kind validator).
 *
 *   weft_module (core/decode.c) --validate()--> types -> imports/entities -> exports/start
 *       -> segments -> function bodies (validator_func.c, validator_ref.c) --> ok | weft_diag
 * Only the descriptor, init/fini and the iface live here; the rules are in validator_*.c.
 * Depends on: include/weft/plugin.h, include/weft/plugin/validator.h, validator_int.h.
 */
#include <string.h>

#include "validator_int.h"

/* -- Config keys ----------------------------------------------------------------------------- */

/* Defaults follow the JS API's implementation limits (also used by V8, SpiderMonkey, Wasmtime). */
static const weft_cfg_key keys[] = {
    {"max_locals", WEFT_CFG_INT, "50000", "most locals (params included) in one function", NULL},
    {"max_nesting", WEFT_CFG_INT, "10000", "deepest nesting of blocks in one function", NULL},
    {"max_function_size", WEFT_CFG_INT, "7654321", "largest function body, in bytes", NULL},
    {"max_types", WEFT_CFG_INT, "1000000", "most types in one module", NULL},
};

static int read_key(const weft_host_api *host, const weft_plugin_cfg *cfg, const char *key,
                    uint32_t def, uint32_t *out, weft_diag *d) {
  int64_t v = def;
  if (cfg && host->cfg_int(host->host, cfg, key, &v) != WEFT_OK) v = def;
  if (v < 1 || v > (int64_t)UINT32_MAX)
    return weft_host_diag(host, d, WEFT_ERR_CONFIG, UINT64_MAX, VLD_ORIGIN,
                          "validator.%s = %lld: expected a value from 1 to 4294967295", key,
                          (long long)v);
  *out = (uint32_t)v;
  return WEFT_OK;
}

/* -- Lifecycle ------------------------------------------------------------------------------- */

static int init(const weft_host_api *host, const weft_plugin_cfg *cfg, void **out_state,
                weft_diag *d) {
  vld_state tmp;
  memset(&tmp, 0, sizeof tmp);
  tmp.host = host;
  if (read_key(host, cfg, "max_locals", 50000, &tmp.max_locals, d) ||
      read_key(host, cfg, "max_nesting", 10000, &tmp.max_nesting, d) ||
      read_key(host, cfg, "max_function_size", 7654321, &tmp.max_function_size, d) ||
      read_key(host, cfg, "max_types", 1000000, &tmp.max_types, d))
    return d ? d->code : WEFT_ERR_CONFIG;
  vld_state *st = host->alloc(host->host, sizeof *st);
  if (!st)
    return weft_host_diag(host, d, WEFT_ERR_NOMEM, UINT64_MAX, VLD_ORIGIN,
                          "out of memory creating the validator state");
  *st = tmp;
  vld_sigs_init();
  *out_state = st;
  return WEFT_OK;
}

static void fini(void *state) {
  vld_state *st = state;
  if (st) st->host->free(st->host->host, st);
}

static int validate(void *state, const weft_module *m, weft_diag *d) {
  return vld_validate_module(state, m, d);
}

static const weft_validator_iface iface = {
    WEFT_ABI_INIT(weft_validator_iface),
    .validate = validate,
};

WEFT_PLUGIN_DEFINE(validator, .name = "validator", .kind = WEFT_PLUGIN_VALIDATOR, .version = "0.1.0",
                   .keys = keys, .nkeys = sizeof keys / sizeof keys[0], .requires = NULL,
                   .nrequires = 0, .init = init, .fini = fini, .iface = &iface,
                   .summary = "validates modules under Wasm 3.0 plus stack switching")
