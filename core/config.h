/* core/config.h -- the configuration's internals (implementation in core/config.c, using inih).
 *
 * A weft_config keeps every key it was given, in order, with where it came from ("file:line" or
 * "-C"), so that plugin sections can be checked once the plugins are loaded and every error names
 * its line. [core] and [wasm] are checked and decoded at once. Depends on: weft/engine.h.
 */
#ifndef WEFT_CORE_CONFIG_H
#define WEFT_CORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/engine.h"
#include "weft/plugin.h"

/* One key as written (the last assignment wins; overrides replace the file's value). */
typedef struct core_cfg_entry {
  char *section;
  char *key;
  char *value;
  char *origin; /* "file:line" or "-C" */
} core_cfg_entry;

/* A section header seen in a file, kept so that an unknown (or empty) section can be reported. */
typedef struct core_cfg_section {
  char *name;
  char *origin; /* "file:line" */
} core_cfg_section;

struct weft_config {
  char *name;     /* file name used in messages, or NULL for defaults */
  char *base_dir; /* folder relative paths resolve against */
  core_cfg_entry *entries;
  size_t nentries, capentries;
  core_cfg_section *sections;
  size_t nsections, capsections;

  /* Decoded [core]. */
  char *plugin_dir;      /* absolute or as given (already resolved against base_dir) */
  char **plugins;        /* names (or paths, when they contain '/') in load order */
  uint32_t nplugins;
  uint64_t max_wasm_stack;
  bool trust_unvalidated;
  /* Decoded [wasm]: weft_feature bits that are enabled. */
  uint32_t features;

  weft_plugin_entry_fn *statics;
  uint32_t nstatics, capstatics;
  weft_log_sink sink;
  void *sink_ud;
};

/* The effective values of one plugin's section, read through the host table's cfg_* slots. */
struct weft_plugin_cfg {
  const char *section;
  const weft_cfg_key *keys;
  uint32_t nkeys;
  const char **values; /* [nkeys] effective text: the config's value or the declared default */
};

/* -- Value parsing (shared with the host table's cfg_* lookups) ----------------------------- */

/* Each returns true and writes *out when `text` is a well-formed value of the type. */
bool core_cfg_parse_bool(const char *text, bool *out);
bool core_cfg_parse_int(const char *text, int64_t *out);
bool core_cfg_parse_size(const char *text, uint64_t *out);  /* K/M/G (1024-based) suffixes */
bool core_cfg_parse_enum(const char *text, const char *choices); /* choices "a|b|c" */

/* Check `value` against a declared key's type; on failure fill `d` with origin and reason. */
int core_cfg_check_value(const weft_cfg_key *k, const char *section, const char *value,
                         const char *origin, weft_diag *d);

/* The entry for section.key, or NULL. */
const core_cfg_entry *core_cfg_find(const weft_config *cfg, const char *section, const char *key);

/* Deep copy (statics and sink included). Returns NULL on exhaustion. */
weft_config *core_cfg_clone(const weft_config *cfg);

/* The names of the [wasm] switches and the weft_feature bit each controls. */
typedef struct core_cfg_feature {
  const char *key;   /* "stack_switching" */
  uint32_t bit;      /* WEFT_FEAT_STACK_SWITCHING */
  const char *what;  /* "stack switching" */
  bool def;          /* default */
} core_cfg_feature;
extern const core_cfg_feature core_cfg_features[];
extern const size_t core_cfg_nfeatures;

#endif /* WEFT_CORE_CONFIG_H */
