/* core/plugin.h -- the plugin loader (implementation in core/plugin.c), used by core/engine.c.
 * Opens plugins by explicit path (dlopen RTLD_NOW | RTLD_LOCAL) or static entry and applies the
 * acceptance rules of DESIGN §3 (docs/PLUGIN-ABI.md §7).
 * Depends on: weft/plugin.h, core/config.h, core/host.h.
 */
#ifndef WEFT_CORE_PLUGIN_H
#define WEFT_CORE_PLUGIN_H

#include <stdbool.h>
#include <stdint.h>

#include "weft/plugin.h"

#include "config.h"
#include "host.h"

typedef struct core_plugin {
  const weft_plugin_desc *desc;
  void *dl;            /* dlopen handle; NULL for a static plugin */
  char *path;          /* the file, or "(static)" */
  weft_plugin_cfg cfg; /* effective values of the plugin's section */
  void *state;         /* from init */
  bool inited;
} core_plugin;

typedef struct core_plugin_set {
  core_plugin *items;
  uint32_t n, cap;
} core_plugin_set;

/* The name of a kind ("validator"), or "unknown". */
const char *core_plugin_kind_name(weft_plugin_kind kind);

/* Open the plugin at `path` and check its descriptor (entry present, not refused, major, build
 * signature, descriptor sane). On failure nothing stays open and `d` holds one line naming the
 * file ("plugin <path>: ..."). */
int core_plugin_open(const char *path, core_plugin *out, weft_diag *d);

/* The same for an entry linked into the program. */
int core_plugin_from_entry(weft_plugin_entry_fn entry, core_plugin *out, weft_diag *d);

/* Load everything `cfg` asks for into `set`: static plugins first, then [core] plugins from
 * plugin_dir; refuse duplicate kinds and names; check requirements; check each plugin section
 * against the declared keys (and that every section names a loaded plugin); then init each plugin
 * in load order with `host`. On failure everything loaded is finalised and closed, and `d` names
 * the plugin and the file. */
int core_plugin_load_all(core_plugin_set *set, const weft_config *cfg, core_host *host,
                         weft_diag *d);

/* Finalise (reverse order) and close everything in the set; the set is empty afterwards. */
void core_plugin_unload_all(core_plugin_set *set);

/* Finalise and close one plugin (safe on a zeroed struct). */
void core_plugin_close(core_plugin *p);

#endif /* WEFT_CORE_PLUGIN_H */
