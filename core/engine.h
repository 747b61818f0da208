/* core/engine.h -- the engine's internals and the core-side wrapper of every plugin slot.
 * The core never calls a slot directly: core_engine_<slot>() checks version and pointer, fills
 * defaults and is where tests inject faults (SQLite's os.c). Depends on: core/config.h,
 * core/host.h, core/plugin.h, weft/engine.h, weft/plugin/{validator,codegen}.h.
 */
#ifndef WEFT_CORE_ENGINE_H
#define WEFT_CORE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "weft/engine.h"
#include "weft/module.h"
#include "weft/plugin.h"
#include "weft/plugin/codegen.h"
#include "weft/plugin/validator.h"

#include "config.h"
#include "host.h"
#include "plugin.h"

struct core_types; /* core/types.h: the engine-wide canonical type registry */

struct weft_engine {
  weft_config *config;            /* the engine's own copy */
  core_host host;                 /* the weft_host_api table and its context */
  core_plugin_set plugins;        /* in load order */
  core_plugin *by_kind[WEFT_PLUGIN_KIND_COUNT]; /* NULL when no plugin of that kind is loaded */
  struct core_types *types;       /* canonical type ids, shared by every module of the engine */
  uint64_t max_wasm_stack;        /* [core] max_wasm_stack, bytes */
  bool trust_unvalidated;         /* [core] trust_unvalidated */
  uint32_t wasm_features;         /* weft_feature bits enabled by [wasm] */
  int fault_validate, fault_compile, fault_tramp; /* core_engine_inject_fault; 0 = none */
};

/* -- Queries ----------------------------------------------------------------------------------- */

/* The loaded plugin of `kind`, its state, and its vtable (NULL, NULL, NULL when none). */
core_plugin *core_engine_plugin(const weft_engine *e, weft_plugin_kind kind);
void *core_engine_state(const weft_engine *e, weft_plugin_kind kind);
const void *core_engine_iface(const weft_engine *e, weft_plugin_kind kind);

/* The host table the engine hands its plugins (also usable by the core itself). */
const weft_host_api *core_engine_host(const weft_engine *e);

/* The engine's type registry (NULL until core/types.c exists). */
struct core_types *core_engine_types(const weft_engine *e);

/* -- Feature switches -------------------------------------------------------------------------- */

/* WEFT_OK when every feature `m` uses is enabled by the [wasm] switches; otherwise
 * WEFT_ERR_UNSUPPORTED naming the feature and the switch. Plugins are not consulted (this is what
 * `weft validate` needs). */
int core_engine_check_switches(const weft_engine *e, const weft_module *m, weft_diag *d);

/* WEFT_OK when the loaded plugins can run what a *valid* module uses: stack switching needs a
 * contstacks plugin (and continuation types that fit its stacks), GC heap objects a gc plugin;
 * otherwise WEFT_ERR_UNSUPPORTED naming the plugin to add. Called after validation, so an invalid
 * module is reported as invalid, not as unsupported. The [wasm] switches are
 * core_engine_check_switches, called before validation. */
int core_engine_check_features(const weft_engine *e, const weft_module *m, weft_diag *d);

/* -- Slot wrappers ----------------------------------------------------------------------------- */

/* Validate with the validator plugin. With no validator: WEFT_OK when [core] trust_unvalidated is
 * yes, else WEFT_ERR_CONFIG ("no validator plugin loaded ..."). */
int core_engine_validate(const weft_engine *e, const weft_module *m, weft_diag *d);

/* Compile with the codegen plugin; WEFT_ERR_UNSUPPORTED when none is loaded. On success *out
 * belongs to the codegen; give it back with core_engine_release_code. */
int core_engine_compile(const weft_engine *e, const weft_module *m, weft_code_info **out,
                        weft_diag *d);
void core_engine_release_code(const weft_engine *e, weft_code_info *code);

/* A wasm->array trampoline for function type `type` of `m`; release with
 * core_engine_release_tramp. WEFT_ERR_UNSUPPORTED when there is no codegen. */
int core_engine_host_trampoline(const weft_engine *e, const weft_module *m, uint32_t type,
                                void **out_entry, weft_diag *d);
void core_engine_release_tramp(const weft_engine *e, void *entry);

/* -- Fault injection (tests) ------------------------------------------------------------------- */

/* Make the next call of the wrapper for `slot` ("validate", "compile", "host_trampoline") fail
 * with `code` (0 clears it). Only for tests; the engine must not be shared between threads then. */
void core_engine_inject_fault(weft_engine *e, const char *slot, int code);

#endif /* WEFT_CORE_ENGINE_H */
