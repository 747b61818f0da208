/* plugins/backtrace/backtrace.c -- descriptor and entry of the "backtrace" plugin (kind backtrace).
 *
 *   trap / exit point (pc, fp) --bt_walk--> frames across the stack chain and older activations
 *       --bt_symbolize (host code_func)--> function index, module offset, name section names
 * Only the descriptor, init/fini and the iface live here. Depends on: backtrace_int.h.
 */
#include <string.h>

#include "backtrace_int.h"

/* -- Config keys ----------------------------------------------------------------------------- */

static const weft_cfg_key keys[] = {
    {"max_frames", WEFT_CFG_INT, "1000", "most frames one backtrace reports (1 to 1000000)", NULL},
    {"perfmap", WEFT_CFG_BOOL, "no",
     "write /tmp/perf-PID.map lines for compiled functions, so perf names JIT code", NULL},
};

/* -- Lifecycle ------------------------------------------------------------------------------- */

static int init(const weft_host_api *host, const weft_plugin_cfg *cfg, void **out_state,
                weft_diag *d) {
  int64_t max = 1000;
  bool perf = false;
  if (cfg != NULL && host->cfg_int(host->host, cfg, "max_frames", &max) != WEFT_OK) max = 1000;
  if (cfg != NULL && host->cfg_bool(host->host, cfg, "perfmap", &perf) != WEFT_OK) perf = false;
  if (max < 1 || max > 1000000)
    return weft_host_diag(host, d, WEFT_ERR_CONFIG, UINT64_MAX, BT_ORIGIN,
                          "backtrace.max_frames = %lld: expected a value from 1 to 1000000",
                          (long long)max);
  bt_state *st = host->alloc(host->host, sizeof *st);
  if (st == NULL)
    return weft_host_diag(host, d, WEFT_ERR_NOMEM, UINT64_MAX, BT_ORIGIN,
                          "out of memory creating the backtrace state");
  memset(st, 0, sizeof *st);
  st->host = host;
  st->max_frames = (uint32_t)max;
  st->perfmap = perf;
  st->has_code_func = WEFT_HAS(host, weft_host_api, code_func) && host->code_func != NULL;
  *out_state = st;
  return WEFT_OK;
}

static void fini(void *state) {
  bt_state *st = state;
  if (st != NULL) st->host->free(st->host->host, st);
}

/* -- Descriptor ------------------------------------------------------------------------------ */

static const weft_backtrace_iface iface = {
    WEFT_ABI_INIT(weft_backtrace_iface),
    .walk = bt_walk,
    .walk_suspended = bt_walk_suspended,
    .symbolize = bt_symbolize,
    .format_name = bt_format_name,
    .code_added = bt_code_added,
    .code_removed = bt_code_removed,
};

WEFT_PLUGIN_DEFINE(backtrace, .name = "backtrace", .kind = WEFT_PLUGIN_BACKTRACE,
                   .version = "0.1.0", .keys = keys, .nkeys = sizeof keys / sizeof keys[0],
                   .init = init, .fini = fini, .iface = &iface,
                   .summary = "frame walking across continuation stacks; symbolized trap backtraces")
