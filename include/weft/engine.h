/* include/weft/engine.h -- configuration and engine: the embedding API's starting point.
 * A weft_config holds an ini file's settings (docs/CONFIG.md) plus overrides; a weft_engine is a
 * config with its plugins loaded and initialised. Every module, store and instance belongs to one
 * engine. Depends on: errors.h, plugin.h (for static plugin entries).
 */

/* Errors: every call that can fail returns a weft_status (WEFT_OK == 0) and, when `err` is not NULL,
 * fills it with one line: origin "file:line" for config errors, the plugin's name and file for
 * loading errors. Nothing here prints; logging goes to the sink set with weft_config_set_log. */
#ifndef WEFT_ENGINE_H
#define WEFT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/errors.h"
#include "weft/plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef WEFT_API
#define WEFT_API __attribute__((visibility("default")))
#endif

typedef struct weft_config weft_config;
typedef struct weft_engine weft_engine;

/* -- Configuration ---------------------------------------------------------------------------- */

/* A configuration with every [core] and [wasm] key at its default and no plugins listed.
 * The caller owns *out_cfg (weft_config_free). Errors: WEFT_ERR_NOMEM. Any thread. */
WEFT_API int weft_config_new(weft_config **out_cfg, weft_error *err);

/* Read an ini file. Relative paths in it resolve against the file's folder. Errors:
 * WEFT_ERR_IO (cannot read), WEFT_ERR_CONFIG (origin "file:line": unknown section or key, a bad
 * value, a line of 200 characters or more, an indented line, a key before any section),
 * WEFT_ERR_NOMEM. Plugin sections are only checked by weft_engine_new, against the keys the
 * loaded plugins declare. The caller owns *out_cfg. Any thread. */
WEFT_API int weft_config_load(const char *path, weft_config **out_cfg, weft_error *err);

/* The same from text in memory; `name` is used in messages ("name:line"), `base_dir` resolves
 * relative paths (NULL: the current directory). */
WEFT_API int weft_config_load_string(const char *text, const char *name, const char *base_dir,
                                     weft_config **out_cfg, weft_error *err);

/* The ini file the `weft` command loads when given no -c: the build tree's conf/default.ini when
 * it exists, else the installed one. Static storage. */
WEFT_API const char *weft_config_default_path(void);

/* Set one key, beating the file ("-C section.key=value"). [core] and [wasm] keys are checked now;
 * plugin keys when the engine loads the plugin. A relative plugin_dir resolves against the current
 * directory. Errors: WEFT_ERR_CONFIG (origin "-C"), WEFT_ERR_NOMEM. Not thread-safe per config. */
WEFT_API int weft_config_set(weft_config *cfg, const char *section, const char *key,
                             const char *value, weft_error *err);

/* The same from one "section.key=value" string (the -C argument). */
WEFT_API int weft_config_set_str(weft_config *cfg, const char *assignment, weft_error *err);

/* Register a plugin linked into the program (its entry is weft_plugin_entry_<suffix> under
 * WEFT_PLUGIN_STATIC). It is loaded by every engine made from this config, in registration order,
 * before the plugins listed in [core] plugins; a listed name that a static plugin already provides is
 * not loaded from disk. `entry` must stay valid while engines made from the config live.
 * Errors: WEFT_ERR_NOMEM, WEFT_ERR_MISUSE (NULL entry). */
WEFT_API int weft_config_add_static_plugin(weft_config *cfg, weft_plugin_entry_fn entry,
                                           weft_error *err);

/* Where the core and plugins log (host->log). The default sink drops everything; the `weft`
 * command sets one that writes to stderr. `sink` may be called from any thread that uses the
 * engine; `message` is one line without a newline. since 0.1 */
typedef void (*weft_log_sink)(void *ud, weft_log_level level, const char *origin,
                              const char *message);
WEFT_API void weft_config_set_log(weft_config *cfg, weft_log_sink sink, void *ud);

/* The value of section.key as the file or an override wrote it ("1M", "yes"), or NULL when it was
 * not set (defaults are not reported here; weft_engine_dump_config shows effective values). The
 * string lives until the key is set again or the config is freed. */
WEFT_API const char *weft_config_get(const weft_config *cfg, const char *section, const char *key);

/* Free a configuration. NULL is fine. Engines made from it keep their own copy. */
WEFT_API void weft_config_free(weft_config *cfg);

/* -- Engine ----------------------------------------------------------------------------------- */

/* Load and initialise the configured plugins and create the engine's type registry. The engine
 * keeps its own copy of `cfg`. Errors (one line naming the plugin and file): WEFT_ERR_PLUGIN (cannot
 * open, no entry symbol, the entry refused the host, duplicate kind, init failed, a missing required
 * plugin kind), WEFT_ERR_ABI (major or build signature mismatch), WEFT_ERR_CONFIG (unknown key in a
 * plugin section, bad value, no validator without [core] trust_unvalidated = yes), WEFT_ERR_NOMEM.
 * On failure nothing is left loaded. The caller owns *out_engine. Any thread. */
WEFT_API int weft_engine_new(const weft_config *cfg, weft_engine **out_engine, weft_error *err);

/* Finalise the plugins (reverse load order) and unload them. NULL is fine. Every module, store and
 * instance of the engine must be freed first. */
WEFT_API void weft_engine_free(weft_engine *engine);

/* What the engine loaded. */
typedef struct weft_plugin_info {
  const char *name;     /* descriptor name, e.g. "x64-codegen" */
  const char *kind;     /* "validator", "codegen", ... */
  const char *version;  /* the plugin's own version */
  const char *path;     /* the .so it came from, or "(static)" */
  uint32_t abi_version; /* (major << 16) | minor the plugin was built against */
  const weft_cfg_key *keys; /* the keys it declares (help texts for `weft config`) */
  uint32_t nkeys;
} weft_plugin_info;

/* Number of loaded plugins, and the i-th in load order. The strings live as long as the engine.
 * weft_engine_plugin returns WEFT_ERR_MISUSE for an index out of range. */
WEFT_API uint32_t weft_engine_plugin_count(const weft_engine *engine);
WEFT_API int weft_engine_plugin(const weft_engine *engine, uint32_t i, weft_plugin_info *out);

/* True when a plugin of that kind ("validator", "gc", ...) is loaded. */
WEFT_API bool weft_engine_has_kind(const weft_engine *engine, const char *kind);

/* The effective configuration as ini text, one line per call of `write` (no newline): every
 * [core] and [wasm] key, then one section per loaded plugin with each declared key's effective
 * value, preceded by a comment line with its type and help text. */
WEFT_API void weft_engine_dump_config(const weft_engine *engine,
                                      void (*write)(void *ud, const char *line), void *ud);

#ifdef __cplusplus
}
#endif
#endif /* WEFT_ENGINE_H */
