/* plugins/gc/gc.c -- descriptor and entry of the "gc" plugin (kind gc).
 *
 *   store --heap_new(roots)--> heap --alloc_struct/array/extern--> objects
 *   collect: roots (core/gcroots.c, frames via walk_frames + stack maps) --mark--> sweep
 * Only the descriptor, init/fini and the iface live here. Depends on: gc_int.h.
 */
#include <string.h>

#include "gc_int.h"

/* -- Config keys ----------------------------------------------------------------------------- */

static const weft_cfg_key keys[] = {
    {"heap_limit", WEFT_CFG_SIZE, "1G",
     "most bytes of live objects per store; beyond, allocation traps", NULL},
    {"min_heap", WEFT_CFG_SIZE, "4M", "live bytes below which no collection runs (outside stress)",
     NULL},
    {"growth", WEFT_CFG_INT, "300",
     "next collection when live bytes reach this percentage of the survivors (101 to 1000)", NULL},
    {"stress", WEFT_CFG_BOOL, "no", "collect at every safepoint and every allocation", NULL},
};

/* -- Lifecycle ------------------------------------------------------------------------------- */

static int init(const weft_host_api *host, const weft_plugin_cfg *cfg, void **out_state,
                weft_diag *d) {
  uint64_t limit = 1ull << 30, min_heap = 4ull << 20;
  /* growth 300 (was 200): binary-trees depth 20 took 8.4 s of CPU instead of 11.4, with a peak
   * RSS of 425 MB instead of 360 (bench/gc/README.md) */
  int64_t growth = 300;
  bool stress = false;
  if (cfg != NULL) {
    if (host->cfg_size(host->host, cfg, "heap_limit", &limit) != WEFT_OK) limit = 1ull << 30;
    if (host->cfg_size(host->host, cfg, "min_heap", &min_heap) != WEFT_OK) min_heap = 4ull << 20;
    if (host->cfg_int(host->host, cfg, "growth", &growth) != WEFT_OK) growth = 300;
    if (host->cfg_bool(host->host, cfg, "stress", &stress) != WEFT_OK) stress = false;
  }
  if (growth < 101 || growth > 1000)
    return weft_host_diag(host, d, WEFT_ERR_CONFIG, UINT64_MAX, GC_ORIGIN,
                          "gc.growth = %lld: expected a percentage from 101 to 1000",
                          (long long)growth);
  if (limit < 4096)
    return weft_host_diag(host, d, WEFT_ERR_CONFIG, UINT64_MAX, GC_ORIGIN,
                          "gc.heap_limit = %llu: expected at least 4K", (unsigned long long)limit);
  gc_state *st = host->alloc(host->host, sizeof *st);
  if (st == NULL)
    return weft_host_diag(host, d, WEFT_ERR_NOMEM, UINT64_MAX, GC_ORIGIN,
                          "out of memory creating the gc state");
  memset(st, 0, sizeof *st);
  st->host = host;
  st->heap_limit = limit;
  st->min_heap = min_heap;
  st->growth = (uint32_t)growth;
  st->stress = stress;
  *out_state = st;
  return WEFT_OK;
}

static void fini(void *state) {
  gc_state *st = state;
  if (st != NULL) st->host->free(st->host->host, st);
}

/* -- Descriptor ------------------------------------------------------------------------------ */

static const weft_gc_iface iface = {
    WEFT_ABI_INIT(weft_gc_iface),
    .heap_new = gc_heap_new,
    .heap_free = gc_heap_free,
    .type_layout = gc_type_layout,
    .alloc_struct = gc_alloc_struct,
    .alloc_array = gc_alloc_array,
    .alloc_extern = gc_alloc_extern,
    .collect = gc_collect,
    .is_object = gc_is_object_api,
    .safepoint = gc_safepoint,
    .stats = gc_stats,
    .bind_regions = gc_bind_regions,
};

WEFT_PLUGIN_DEFINE(gc, .name = "gc", .kind = WEFT_PLUGIN_GC, .version = "0.1.0", .keys = keys,
                   .nkeys = sizeof keys / sizeof keys[0], .init = init, .fini = fini,
                   .iface = &iface,
                   .summary = "GC heap (structs, arrays, extern boxes): precise mark-sweep")
