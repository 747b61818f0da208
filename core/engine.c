/* core/engine.c -- weft_engine: plugins loaded from a config, the type registry, the feature
 * switches, and the core-side wrapper of every plugin slot (defaults, version checks, faults).
 * Sits under the module/store code, which calls core_engine_*; above core/plugin.c and core/host.c.
 * Depends on: core/config.h, core/host.h, core/plugin.h, core/types.h.
 */
#include "engine.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cont.h"
#include "types.h"
#include "weft/weft.h"

/* -- Life cycle ------------------------------------------------------------------------------ */

int weft_engine_new(const weft_config *cfg, weft_engine **out_engine, weft_error *err) {
  int rc = WEFT_OK;
  weft_engine *e = NULL;
  if (out_engine != NULL) *out_engine = NULL;
  if (cfg == NULL || out_engine == NULL) {
    rc = core_diagf(err, WEFT_ERR_MISUSE, UINT64_MAX, "engine", "weft_engine_new: NULL argument");
    goto fail;
  }
  e = calloc(1, sizeof *e);
  if (e == NULL || (e->config = core_cfg_clone(cfg)) == NULL) {
    rc = core_diagf(err, WEFT_ERR_NOMEM, UINT64_MAX, "engine", "out of memory creating the engine");
    goto fail;
  }
  core_host_init(&e->host, e->config->sink, e->config->sink_ud);
  e->max_wasm_stack = e->config->max_wasm_stack;
  e->trust_unvalidated = e->config->trust_unvalidated;
  e->wasm_features = e->config->features;
  rc = core_plugin_load_all(&e->plugins, e->config, &e->host, err);
  if (rc != WEFT_OK) goto fail;
  for (uint32_t i = 0; i < e->plugins.n; i++)
    e->by_kind[e->plugins.items[i].desc->kind] = &e->plugins.items[i];
  if (e->by_kind[WEFT_PLUGIN_VALIDATOR] == NULL && !e->trust_unvalidated) {
    const core_cfg_entry *where = core_cfg_find(e->config, "core", "plugins");
    const char *origin = where != NULL                ? where->origin
                         : e->config->name != NULL ? e->config->name
                                                   : "config";
    rc = core_diagf(err, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                    "%s: no validator plugin is loaded: add 'validator' to [core] plugins, or set "
                    "[core] trust_unvalidated = yes to run modules unchecked",
                    origin);
    goto fail;
  }
  e->types = core_types_new();
  if (e->types == NULL) {
    rc = core_diagf(err, WEFT_ERR_NOMEM, UINT64_MAX, "engine",
                    "out of memory creating the type registry");
    goto fail;
  }
  for (uint32_t i = 0; i < e->plugins.n; i++) {
    const core_plugin *p = &e->plugins.items[i];
    core_host_logf(&e->host, WEFT_LOG_DEBUG, "engine",
                   "loaded %s plugin '%s' %s (ABI %u.%u) from %s",
                   core_plugin_kind_name(p->desc->kind), p->desc->name,
                   p->desc->version != NULL ? p->desc->version : "?",
                   WEFT_ABI_MAJOR_OF(p->desc->abi_version), WEFT_ABI_MINOR_OF(p->desc->abi_version),
                   p->path);
  }
  *out_engine = e;
  return WEFT_OK;
fail:
  weft_engine_free(e);
  return rc;
}

void weft_engine_free(weft_engine *e) {
  if (e == NULL) return;
  if (e->types != NULL) core_types_free(e->types);
  core_plugin_unload_all(&e->plugins);
  weft_config_free(e->config);
  free(e);
}

/* -- Queries --------------------------------------------------------------------------------- */

core_plugin *core_engine_plugin(const weft_engine *e, weft_plugin_kind kind) {
  if (e == NULL || (unsigned)kind >= WEFT_PLUGIN_KIND_COUNT) return NULL;
  return e->by_kind[kind];
}

void *core_engine_state(const weft_engine *e, weft_plugin_kind kind) {
  core_plugin *p = core_engine_plugin(e, kind);
  return p != NULL ? p->state : NULL;
}

const void *core_engine_iface(const weft_engine *e, weft_plugin_kind kind) {
  core_plugin *p = core_engine_plugin(e, kind);
  return p != NULL ? p->desc->iface : NULL;
}

const weft_host_api *core_engine_host(const weft_engine *e) { return &e->host.api; }

struct core_types *core_engine_types(const weft_engine *e) { return e->types; }

uint32_t weft_engine_plugin_count(const weft_engine *e) { return e != NULL ? e->plugins.n : 0; }

int weft_engine_plugin(const weft_engine *e, uint32_t i, weft_plugin_info *out) {
  if (e == NULL || out == NULL || i >= e->plugins.n) return WEFT_ERR_MISUSE;
  const core_plugin *p = &e->plugins.items[i];
  *out = (weft_plugin_info){
      .name = p->desc->name,
      .kind = core_plugin_kind_name(p->desc->kind),
      .version = p->desc->version != NULL ? p->desc->version : "",
      .path = p->path,
      .abi_version = p->desc->abi_version,
      .keys = p->desc->keys,
      .nkeys = p->desc->nkeys,
  };
  return WEFT_OK;
}

bool weft_engine_has_kind(const weft_engine *e, const char *kind) {
  if (e == NULL || kind == NULL) return false;
  for (int k = 0; k < WEFT_PLUGIN_KIND_COUNT; k++)
    if (strcmp(core_plugin_kind_name((weft_plugin_kind)k), kind) == 0) return e->by_kind[k] != NULL;
  return false;
}

/* -- Config dump ----------------------------------------------------------------------------- */

static void format_size(uint64_t v, char *buf, size_t n) {
  if (v != 0 && v % (1u << 30) == 0)
    snprintf(buf, n, "%" PRIu64 "G", v >> 30);
  else if (v != 0 && v % (1u << 20) == 0)
    snprintf(buf, n, "%" PRIu64 "M", v >> 20);
  else if (v != 0 && v % (1u << 10) == 0)
    snprintf(buf, n, "%" PRIu64 "K", v >> 10);
  else
    snprintf(buf, n, "%" PRIu64, v);
}

static const char *type_name(const weft_cfg_key *k) {
  switch (k->type) {
  case WEFT_CFG_BOOL: return "bool";
  case WEFT_CFG_INT: return "int";
  case WEFT_CFG_SIZE: return "size";
  case WEFT_CFG_STRING: return "string";
  case WEFT_CFG_ENUM: return k->choices != NULL ? k->choices : "enum";
  }
  return "?";
}

void weft_engine_dump_config(const weft_engine *e, void (*write)(void *ud, const char *line),
                             void *ud) {
  char line[1200], size[32];
  const weft_config *c = e->config;
  if (c->name != NULL) {
    snprintf(line, sizeof line, "; effective configuration (from %s and overrides)", c->name);
    write(ud, line);
  }
  write(ud, "[core]");
  snprintf(line, sizeof line, "plugin_dir = %s", c->plugin_dir != NULL ? c->plugin_dir : "");
  write(ud, line);
  size_t used = (size_t)snprintf(line, sizeof line, "plugins =");
  for (uint32_t i = 0; i < c->nplugins && used < sizeof line; i++)
    used += (size_t)snprintf(line + used, sizeof line - used, "%s %s", i ? "," : "", c->plugins[i]);
  write(ud, line);
  format_size(c->max_wasm_stack, size, sizeof size);
  snprintf(line, sizeof line, "max_wasm_stack = %s", size);
  write(ud, line);
  snprintf(line, sizeof line, "trust_unvalidated = %s", c->trust_unvalidated ? "yes" : "no");
  write(ud, line);
  write(ud, "");
  write(ud, "[wasm]");
  for (size_t i = 0; i < core_cfg_nfeatures; i++) {
    snprintf(line, sizeof line, "%s = %s", core_cfg_features[i].key,
             (c->features & core_cfg_features[i].bit) ? "yes" : "no");
    write(ud, line);
  }
  for (uint32_t i = 0; i < e->plugins.n; i++) {
    const core_plugin *p = &e->plugins.items[i];
    const weft_plugin_desc *desc = p->desc;
    write(ud, "");
    snprintf(line, sizeof line, "; %s plugin '%s' %s, ABI %u.%u, from %s",
             core_plugin_kind_name(desc->kind), desc->name,
             desc->version != NULL ? desc->version : "", WEFT_ABI_MAJOR_OF(desc->abi_version),
             WEFT_ABI_MINOR_OF(desc->abi_version), p->path);
    write(ud, line);
    /* summary is a 1.1 field: an older plugin's descriptor ends before it. */
    if (WEFT_HAS(desc, weft_plugin_desc, summary) && desc->summary != NULL) {
      snprintf(line, sizeof line, "; %s", desc->summary);
      write(ud, line);
    }
    snprintf(line, sizeof line, "[%s]", desc->name);
    write(ud, line);
    for (uint32_t j = 0; j < desc->nkeys; j++) {
      const weft_cfg_key *k = &desc->keys[j];
      snprintf(line, sizeof line, "; %s (%s, default %s)", k->help != NULL ? k->help : "",
               type_name(k), k->def != NULL && k->def[0] != '\0' ? k->def : "empty");
      write(ud, line);
      snprintf(line, sizeof line, "%s = %s", k->name,
               p->cfg.values != NULL && p->cfg.values[j] != NULL ? p->cfg.values[j] : "");
      write(ud, line);
    }
  }
}

/* -- Feature switches ------------------------------------------------------------------------ */

int core_engine_check_switches(const weft_engine *e, const weft_module *m, weft_diag *d) {
  if (m->features & WEFT_FEAT_THREADS)
    return core_diagf(d, WEFT_ERR_UNSUPPORTED, UINT64_MAX, "engine",
                      "module uses shared memories (threads), which weft does not support");
  for (size_t i = 0; i < core_cfg_nfeatures; i++) {
    const core_cfg_feature *f = &core_cfg_features[i];
    if ((m->features & f->bit) && !(e->wasm_features & f->bit))
      return core_diagf(d, WEFT_ERR_UNSUPPORTED, UINT64_MAX, "engine",
                        "module uses %s, which is disabled: set [wasm] %s = yes (or -W %s=yes)",
                        f->what, f->key, f->key);
  }
  return WEFT_OK;
}

int core_engine_check_features(const weft_engine *e, const weft_module *m, weft_diag *d) {
  if ((m->features & WEFT_FEAT_STACK_SWITCHING) && e->by_kind[WEFT_PLUGIN_CONTSTACKS] == NULL)
    return core_diagf(d, WEFT_ERR_UNSUPPORTED, UINT64_MAX, "engine",
                      "module uses stack switching, but no contstacks plugin is loaded: add "
                      "contstacks to [core] plugins");
  if ((m->features & WEFT_FEAT_GC_HEAP) && e->by_kind[WEFT_PLUGIN_GC] == NULL)
    return core_diagf(d, WEFT_ERR_UNSUPPORTED, UINT64_MAX, "engine",
                      "module uses GC heap objects (struct/array types or GC instructions), but no "
                      "gc plugin is loaded: add gc to [core] plugins");
  if (m->features & WEFT_FEAT_STACK_SWITCHING) return core_cont_check_module(e, m, d);
  return WEFT_OK;
}

/* -- Slot wrappers --------------------------------------------------------------------------- */

void core_engine_inject_fault(weft_engine *e, const char *slot, int code) {
  if (strcmp(slot, "validate") == 0) e->fault_validate = code;
  else if (strcmp(slot, "compile") == 0) e->fault_compile = code;
  else if (strcmp(slot, "host_trampoline") == 0) e->fault_tramp = code;
}

/* Consume an injected fault for a slot: fill `d` and return its code, or 0. */
static int take_fault(int *fault, const char *slot, weft_diag *d) {
  int code = *fault;
  if (code == 0) return 0;
  *fault = 0;
  return core_diagf(d, code, UINT64_MAX, "fault", "injected fault in %s", slot);
}

/* Prepare `d` for a plugin call, so an unfilled diag still reads sensibly. */
static void diag_reset(weft_diag *d, const char *origin) {
  if (d == NULL) return;
  memset(d, 0, sizeof *d);
  d->offset = UINT64_MAX;
  snprintf(d->origin, sizeof d->origin, "%s", origin);
}

/* After a failing plugin call: make sure code and message are set. */
static int diag_finish(weft_diag *d, int rc, const char *origin, const char *slot) {
  if (d == NULL) return rc;
  d->code = rc;
  if (d->message[0] == '\0')
    snprintf(d->message, sizeof d->message, "%s failed in plugin '%s': %s", slot, origin,
             weft_status_str(rc));
  return rc;
}

int core_engine_validate(const weft_engine *e, const weft_module *m, weft_diag *d) {
  int rc = take_fault((int *)&e->fault_validate, "validate", d);
  if (rc != 0) return rc;
  core_plugin *p = e->by_kind[WEFT_PLUGIN_VALIDATOR];
  if (p == NULL) {
    if (e->trust_unvalidated) return WEFT_OK;
    return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, "engine",
                      "no validator plugin is loaded and [core] trust_unvalidated is no");
  }
  const weft_validator_iface *v = p->desc->iface;
  if (v->validate == NULL)
    return core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, p->desc->name,
                      "plugin '%s' has no validate slot", p->desc->name);
  diag_reset(d, p->desc->name);
  rc = v->validate(p->state, m, d);
  return rc == WEFT_OK ? WEFT_OK : diag_finish(d, rc, p->desc->name, "validate");
}

static const weft_codegen_iface *codegen_of(const weft_engine *e, core_plugin **out_p,
                                            weft_diag *d) {
  core_plugin *p = e->by_kind[WEFT_PLUGIN_CODEGEN];
  *out_p = p;
  if (p == NULL) {
    core_diagf(d, WEFT_ERR_UNSUPPORTED, UINT64_MAX, "engine",
               "no codegen plugin is loaded: add x64-codegen to [core] plugins to run modules");
    return NULL;
  }
  return p->desc->iface;
}

int core_engine_compile(const weft_engine *e, const weft_module *m, weft_code_info **out,
                        weft_diag *d) {
  *out = NULL;
  int rc = take_fault((int *)&e->fault_compile, "compile", d);
  if (rc != 0) return rc;
  core_plugin *p;
  const weft_codegen_iface *cg = codegen_of(e, &p, d);
  if (cg == NULL) return WEFT_ERR_UNSUPPORTED;
  if (cg->compile == NULL || cg->release == NULL)
    return core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, p->desc->name,
                      "plugin '%s' has no compile or release slot", p->desc->name);
  diag_reset(d, p->desc->name);
  rc = cg->compile(p->state, m, out, d);
  if (rc != WEFT_OK) {
    *out = NULL;
    return diag_finish(d, rc, p->desc->name, "compile");
  }
  if (*out == NULL || WEFT_ABI_MAJOR_OF((*out)->abi_version) != WEFT_ABI_MAJOR ||
      !WEFT_HAS(*out, weft_code_info, pc_map)) {
    if (*out != NULL) cg->release(p->state, *out);
    *out = NULL;
    return core_diagf(d, WEFT_ERR_ABI, UINT64_MAX, p->desc->name,
                      "plugin '%s' returned no code info or one of another ABI", p->desc->name);
  }
  return WEFT_OK;
}

void core_engine_release_code(const weft_engine *e, weft_code_info *code) {
  core_plugin *p = e->by_kind[WEFT_PLUGIN_CODEGEN];
  if (code == NULL || p == NULL) return;
  const weft_codegen_iface *cg = p->desc->iface;
  if (cg->release != NULL) cg->release(p->state, code);
}

int core_engine_host_trampoline(const weft_engine *e, const weft_module *m, uint32_t type,
                                void **out_entry, weft_diag *d) {
  *out_entry = NULL;
  int rc = take_fault((int *)&e->fault_tramp, "host_trampoline", d);
  if (rc != 0) return rc;
  core_plugin *p;
  const weft_codegen_iface *cg = codegen_of(e, &p, d);
  if (cg == NULL) return WEFT_ERR_UNSUPPORTED;
  if (cg->host_trampoline == NULL)
    return core_diagf(d, WEFT_ERR_UNSUPPORTED, UINT64_MAX, p->desc->name,
                      "plugin '%s' cannot make host trampolines", p->desc->name);
  diag_reset(d, p->desc->name);
  rc = cg->host_trampoline(p->state, m, type, out_entry, d);
  if (rc != WEFT_OK) {
    *out_entry = NULL;
    return diag_finish(d, rc, p->desc->name, "host_trampoline");
  }
  return WEFT_OK;
}

void core_engine_release_tramp(const weft_engine *e, void *entry) {
  core_plugin *p = e->by_kind[WEFT_PLUGIN_CODEGEN];
  if (entry == NULL || p == NULL) return;
  const weft_codegen_iface *cg = p->desc->iface;
  if (cg->release_tramp != NULL) cg->release_tramp(p->state, entry);
}
