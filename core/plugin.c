/* core/plugin.c -- the plugin loader: dlopen by explicit path (or a static entry by pointer), the
 * acceptance rules of DESIGN §3, plugin sections checked against declared keys, init and fini.
 * Called by core/engine.c; every failure is one line naming the plugin and its file.
 * Depends on: dlfcn, core/config.h (entries, value checks), core/host.h (diagnostics, host table).
 */
#include "plugin.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/plugin/backtrace.h"
#include "weft/plugin/codegen.h"
#include "weft/plugin/contstacks.h"
#include "weft/plugin/gc.h"
#include "weft/plugin/validator.h"
#include "weft/weft.h"

#define MAX_PLUGINS 64

/* -- Names ----------------------------------------------------------------------------------- */

static const char *const kind_names[] = {
#define KIND_NAME(id, str) str,
    WEFT_PLUGIN_KINDS(KIND_NAME)
#undef KIND_NAME
};

const char *core_plugin_kind_name(weft_plugin_kind kind) {
  if ((unsigned)kind >= WEFT_PLUGIN_KIND_COUNT) return "unknown";
  return kind_names[kind];
}

static int kind_from_name(const char *name) {
  for (int k = 0; k < WEFT_PLUGIN_KIND_COUNT; k++)
    if (name != NULL && strcmp(kind_names[k], name) == 0) return k;
  return -1;
}

/* The label of a plugin in messages: "plugin 'name' (path)" or "plugin path" before its name is
 * known. */
static void label_of(const core_plugin *p, const char *path, char *buf, size_t n) {
  if (p != NULL && p->desc != NULL && p->desc->name != NULL)
    snprintf(buf, n, "plugin '%s' (%s)", p->desc->name, path);
  else
    snprintf(buf, n, "plugin %s", path);
}

/* The origin field of a diag: the plugin's name, else the file's base name. */
static const char *origin_of(const core_plugin *p, const char *path) {
  if (p != NULL && p->desc != NULL && p->desc->name != NULL) return p->desc->name;
  const char *slash = strrchr(path, '/');
  return slash != NULL ? slash + 1 : path;
}

/* -- Descriptor checks ----------------------------------------------------------------------- */

/* The end of slot `field` of vtable T: a vtable reaching it has every slot up to and including it. */
#define SLOT_END(T, field) (offsetof(T, field) + sizeof(((const T *)NULL)->field))

/* The 1.0 size of the kind's vtable: the end of its last 1.0 slot, not sizeof, so a core built
 * with a newer header (slots appended) still accepts a plugin built against 1.0. Kinds without a
 * vtable header of their own need only the ABI header. */
static size_t iface_min_size(weft_plugin_kind kind) {
  switch (kind) {
  case WEFT_PLUGIN_VALIDATOR:
    return SLOT_END(weft_validator_iface, validate);
  case WEFT_PLUGIN_CODEGEN:
    return SLOT_END(weft_codegen_iface, release_tramp);
  case WEFT_PLUGIN_CONTSTACKS:
    return SLOT_END(weft_contstacks_iface, asan_after_suspend);
  case WEFT_PLUGIN_BACKTRACE:
    return SLOT_END(weft_backtrace_iface, code_removed);
  case WEFT_PLUGIN_GC:
    return SLOT_END(weft_gc_iface, stats);
  default:
    return sizeof(weft_abi_header);
  }
}

/* Call the entry and check what it returned. `path` names the file ("(static)" for linked-in). */
static int accept_entry(weft_plugin_entry_fn entry, const char *path, core_plugin *p,
                        weft_diag *d) {
  char label[600];
  const weft_plugin_desc *desc = entry(WEFT_ABI_VERSION);
  label_of(NULL, path, label, sizeof label);
  if (desc == NULL)
    return core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, origin_of(NULL, path),
                      "%s: refused this host (core ABI %u.%u): use a plugin built for it", label,
                      WEFT_ABI_MAJOR, WEFT_ABI_MINOR);
  uint32_t major = WEFT_ABI_MAJOR_OF(desc->abi_version);
  if (major != WEFT_ABI_MAJOR)
    return core_diagf(d, WEFT_ERR_ABI, UINT64_MAX, origin_of(NULL, path),
                      "%s: built for plugin ABI %u.%u but the core speaks %u.%u (the major must "
                      "match): rebuild the plugin against this weft",
                      label, major, WEFT_ABI_MINOR_OF(desc->abi_version), WEFT_ABI_MAJOR,
                      WEFT_ABI_MINOR);
  if (desc->struct_size < WEFT_PLUGIN_DESC_SIZE_1_0)
    return core_diagf(d, WEFT_ERR_ABI, UINT64_MAX, origin_of(NULL, path),
                      "%s: descriptor is %u bytes, shorter than ABI 1.0's %zu: rebuild the plugin",
                      label, desc->struct_size, (size_t)WEFT_PLUGIN_DESC_SIZE_1_0);
  if (desc->name == NULL || desc->name[0] == '\0' || strlen(desc->name) > 48)
    return core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, origin_of(NULL, path),
                      "%s: descriptor has no name (or one longer than 48 characters)", label);
  p->desc = desc;
  label_of(p, path, label, sizeof label);
  const char *origin = desc->name;
  if (desc->build_sig == NULL || strcmp(desc->build_sig, WEFT_BUILD_SIG) != 0)
    return core_diagf(d, WEFT_ERR_ABI, UINT64_MAX, origin,
                      "%s: build signature '%s' differs from the core's '%s': rebuild the plugin "
                      "with the same flags",
                      label, desc->build_sig != NULL ? desc->build_sig : "(none)", WEFT_BUILD_SIG);
  if ((unsigned)desc->kind >= WEFT_PLUGIN_KIND_COUNT)
    return core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, origin,
                      "%s: unknown plugin kind %d", label, (int)desc->kind);
  if (desc->nkeys > 0 && desc->keys == NULL)
    return core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, origin,
                      "%s: declares %u config keys but no key table", label, desc->nkeys);
  if (desc->nkeys > 256)
    return core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, origin,
                      "%s: declares %u config keys (at most 256)", label, desc->nkeys);
  for (uint32_t i = 0; i < desc->nkeys; i++) {
    if (desc->keys[i].name == NULL || desc->keys[i].name[0] == '\0')
      return core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, origin,
                        "%s: config key %u has no name", label, i);
    for (uint32_t j = 0; j < i; j++)
      if (strcmp(desc->keys[i].name, desc->keys[j].name) == 0)
        return core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, origin,
                          "%s: declares config key '%s' twice", label, desc->keys[i].name);
  }
  if (desc->nrequires > 0 && desc->requires == NULL)
    return core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, origin,
                      "%s: declares %u requirements but no list", label, desc->nrequires);
  if (desc->init == NULL)
    return core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, origin, "%s: descriptor has no init", label);
  const weft_abi_header *ih = desc->iface;
  if (ih == NULL)
    return core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, origin,
                      "%s: descriptor has no %s interface", label,
                      core_plugin_kind_name(desc->kind));
  if (WEFT_ABI_MAJOR_OF(ih->abi_version) != WEFT_ABI_MAJOR ||
      ih->struct_size < iface_min_size(desc->kind))
    return core_diagf(d, WEFT_ERR_ABI, UINT64_MAX, origin,
                      "%s: %s interface is ABI %u.%u with %u bytes; the core needs %u.x with at "
                      "least %zu: rebuild the plugin",
                      label, core_plugin_kind_name(desc->kind), WEFT_ABI_MAJOR_OF(ih->abi_version),
                      WEFT_ABI_MINOR_OF(ih->abi_version), ih->struct_size, WEFT_ABI_MAJOR,
                      iface_min_size(desc->kind));
  return WEFT_OK;
}

/* -- Opening and closing --------------------------------------------------------------------- */

void core_plugin_close(core_plugin *p) {
  if (p == NULL) return;
  if (p->inited && p->desc != NULL && p->desc->fini != NULL) p->desc->fini(p->state);
  free(p->cfg.values);
  if (p->dl != NULL) dlclose(p->dl);
  free(p->path);
  memset(p, 0, sizeof *p);
}

int core_plugin_open(const char *path, core_plugin *out, weft_diag *d) {
  int rc = WEFT_OK;
  memset(out, 0, sizeof *out);
  out->path = strdup(path);
  if (out->path == NULL) {
    rc = core_diagf(d, WEFT_ERR_NOMEM, UINT64_MAX, "loader", "out of memory loading %s", path);
    goto done;
  }
  /* Explicit paths only: a name without '/' would make dlopen search the system. */
  if (strchr(path, '/') == NULL) {
    rc = core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, origin_of(NULL, path),
                    "plugin %s: not a path (give a path containing '/')", path);
    goto done;
  }
  dlerror();
  out->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (out->dl == NULL) {
    const char *why = dlerror();
    rc = core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, origin_of(NULL, path),
                    "plugin %s: cannot load: %s", path, why != NULL ? why : "unknown error");
    goto done;
  }
  dlerror();
  void *sym = dlsym(out->dl, WEFT_PLUGIN_ENTRY_SYMBOL);
  if (sym == NULL) {
    const char *why = dlerror();
    rc = core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, origin_of(NULL, path),
                    "plugin %s: no entry symbol %s (not a weft plugin? define it with "
                    "WEFT_PLUGIN_DEFINE): %s",
                    path, WEFT_PLUGIN_ENTRY_SYMBOL, why != NULL ? why : "not found");
    goto done;
  }
  weft_plugin_entry_fn entry;
  memcpy(&entry, &sym, sizeof entry); /* object pointer to function pointer, as POSIX allows */
  rc = accept_entry(entry, path, out, d);
done:
  if (rc != WEFT_OK) core_plugin_close(out);
  return rc;
}

int core_plugin_from_entry(weft_plugin_entry_fn entry, core_plugin *out, weft_diag *d) {
  memset(out, 0, sizeof *out);
  out->path = strdup("(static)");
  if (out->path == NULL)
    return core_diagf(d, WEFT_ERR_NOMEM, UINT64_MAX, "loader", "out of memory loading a plugin");
  int rc = accept_entry(entry, out->path, out, d);
  if (rc != WEFT_OK) core_plugin_close(out);
  return rc;
}

/* -- The set --------------------------------------------------------------------------------- */

void core_plugin_unload_all(core_plugin_set *set) {
  /* fini in reverse load order (a plugin may rely on one loaded before it), then close. */
  for (uint32_t i = set->n; i-- > 0;) {
    core_plugin *p = &set->items[i];
    if (p->inited && p->desc->fini != NULL) p->desc->fini(p->state);
    p->inited = false;
  }
  for (uint32_t i = set->n; i-- > 0;) core_plugin_close(&set->items[i]);
  free(set->items);
  memset(set, 0, sizeof *set);
}

/* Add an opened plugin to the set (taking it over), refusing a duplicate kind or name. */
static int set_add(core_plugin_set *set, core_plugin *p, weft_diag *d) {
  char label[600];
  int rc = WEFT_OK;
  label_of(p, p->path, label, sizeof label);
  for (uint32_t i = 0; i < set->n; i++) {
    const core_plugin *q = &set->items[i];
    if (q->desc->kind == p->desc->kind) {
      rc = core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, p->desc->name,
                      "%s: a %s plugin is already loaded ('%s' from %s): list only one",
                      label, core_plugin_kind_name(p->desc->kind), q->desc->name, q->path);
      goto fail;
    }
    if (strcmp(q->desc->name, p->desc->name) == 0) {
      rc = core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, p->desc->name,
                      "%s: a plugin named '%s' is already loaded from %s", label, q->desc->name,
                      q->path);
      goto fail;
    }
  }
  if (set->n >= MAX_PLUGINS) {
    rc = core_diagf(d, WEFT_ERR_LIMIT, UINT64_MAX, p->desc->name, "%s: more than %d plugins",
                    label, MAX_PLUGINS);
    goto fail;
  }
  if (set->n == set->cap) {
    uint32_t cap = set->cap ? set->cap * 2 : 8;
    core_plugin *items = realloc(set->items, cap * sizeof *items);
    if (items == NULL) {
      rc = core_diagf(d, WEFT_ERR_NOMEM, UINT64_MAX, "loader", "out of memory loading %s", label);
      goto fail;
    }
    set->items = items;
    set->cap = cap;
  }
  set->items[set->n++] = *p;
  memset(p, 0, sizeof *p);
  return WEFT_OK;
fail:
  core_plugin_close(p);
  return rc;
}

static core_plugin *find_by_name(core_plugin_set *set, const char *name) {
  for (uint32_t i = 0; i < set->n; i++)
    if (strcmp(set->items[i].desc->name, name) == 0) return &set->items[i];
  return NULL;
}

/* Put the config line that listed a plugin in front of a loader message, so that the one line
 * the user sees names both the config file:line and the plugin file. */
static int with_origin(weft_diag *d, int rc, const char *origin) {
  if (d == NULL) return rc;
  char msg[sizeof d->message + 4300];
  snprintf(msg, sizeof msg, "%s: %s", origin, d->message);
  size_t n = strlen(msg);
  if (n >= sizeof d->message) n = sizeof d->message - 1;
  memcpy(d->message, msg, n);
  d->message[n] = '\0';
  snprintf(d->origin, sizeof d->origin, "%s", origin);
  return rc;
}

/* Open every listed plugin that no static one provides. */
static int open_listed(core_plugin_set *set, const weft_config *cfg, weft_diag *d) {
  const core_cfg_entry *where = core_cfg_find(cfg, "core", "plugins");
  const char *origin = where != NULL ? where->origin : "[core] plugins";
  for (uint32_t i = 0; i < cfg->nplugins; i++) {
    const char *item = cfg->plugins[i];
    bool is_path = strchr(item, '/') != NULL;
    if (!is_path && find_by_name(set, item) != NULL) continue; /* linked in */
    char path[4200];
    if (!is_path) {
      if (cfg->plugin_dir == NULL)
        return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                          "%s: plugin '%s' is listed but [core] plugin_dir is not set: set it to "
                          "the folder holding %s.so",
                          origin, item, item);
      int n = snprintf(path, sizeof path, "%s/%s.so", cfg->plugin_dir, item);
      if (n < 0 || (size_t)n >= sizeof path)
        return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin, "%s: plugin path too long",
                          origin);
    } else {
      snprintf(path, sizeof path, "%s", item);
    }
    core_plugin p;
    int rc = core_plugin_open(path, &p, d);
    if (rc != WEFT_OK) return with_origin(d, rc, origin);
    if (!is_path && strcmp(p.desc->name, item) != 0) {
      rc = core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, p.desc->name,
                      "plugin %s: the file holds plugin '%s', not '%s'", path, p.desc->name, item);
      core_plugin_close(&p);
      return with_origin(d, rc, origin);
    }
    rc = set_add(set, &p, d);
    if (rc != WEFT_OK) return with_origin(d, rc, origin);
  }
  return WEFT_OK;
}

/* Every requirement names a kind that is loaded. */
static int check_requirements(const core_plugin_set *set, weft_diag *d) {
  bool have[WEFT_PLUGIN_KIND_COUNT] = {false};
  for (uint32_t i = 0; i < set->n; i++) have[set->items[i].desc->kind] = true;
  for (uint32_t i = 0; i < set->n; i++) {
    const core_plugin *p = &set->items[i];
    char label[600];
    label_of(p, p->path, label, sizeof label);
    for (uint32_t r = 0; r < p->desc->nrequires; r++) {
      const char *need = p->desc->requires[r];
      int k = kind_from_name(need);
      if (k < 0)
        return core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, p->desc->name,
                          "%s: requires unknown plugin kind '%s'", label,
                          need != NULL ? need : "(null)");
      if (!have[k])
        return core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, p->desc->name,
                          "%s: requires a %s plugin, and none is loaded: add one to [core] plugins",
                          label, need);
    }
  }
  return WEFT_OK;
}

/* Check every section and key the config holds against the loaded plugins, and fill each
 * plugin's effective values (pointing into `cfg`, which outlives the plugins). */
static int bind_sections(core_plugin_set *set, const weft_config *cfg, weft_diag *d) {
  for (size_t i = 0; i < cfg->nsections; i++) {
    const core_cfg_section *s = &cfg->sections[i];
    if (strcmp(s->name, "core") == 0 || strcmp(s->name, "wasm") == 0) continue;
    if (find_by_name(set, s->name) == NULL)
      return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, s->origin,
                        "%s: unknown section [%s]: no loaded plugin has that name (sections are "
                        "core, wasm and one per loaded plugin)",
                        s->origin, s->name);
  }
  for (size_t i = 0; i < cfg->nentries; i++) {
    const core_cfg_entry *e = &cfg->entries[i];
    if (strcmp(e->section, "core") == 0 || strcmp(e->section, "wasm") == 0) continue;
    core_plugin *p = find_by_name(set, e->section);
    if (p == NULL)
      return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, e->origin,
                        "%s: unknown section [%s]: no loaded plugin has that name", e->origin,
                        e->section);
    const weft_cfg_key *k = NULL;
    for (uint32_t j = 0; j < p->desc->nkeys; j++)
      if (strcmp(p->desc->keys[j].name, e->key) == 0) k = &p->desc->keys[j];
    if (k == NULL) {
      char known[256] = "";
      size_t used = 0;
      for (uint32_t j = 0; j < p->desc->nkeys && used < sizeof known; j++) {
        int n = snprintf(known + used, sizeof known - used, "%s%s", j ? ", " : "",
                         p->desc->keys[j].name);
        if (n < 0) break;
        used += (size_t)n;
      }
      return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, e->origin,
                        "%s: unknown key '%s' in [%s] (plugin %s from %s declares: %s)", e->origin,
                        e->key, e->section, p->desc->name, p->path,
                        p->desc->nkeys ? known : "no keys");
    }
    int rc = core_cfg_check_value(k, e->section, e->value, e->origin, d);
    if (rc != WEFT_OK) return rc;
  }
  for (uint32_t i = 0; i < set->n; i++) {
    core_plugin *p = &set->items[i];
    p->cfg.section = p->desc->name;
    p->cfg.keys = p->desc->keys;
    p->cfg.nkeys = p->desc->nkeys;
    if (p->desc->nkeys == 0) continue;
    p->cfg.values = calloc(p->desc->nkeys, sizeof *p->cfg.values);
    if (p->cfg.values == NULL)
      return core_diagf(d, WEFT_ERR_NOMEM, UINT64_MAX, "loader", "out of memory");
    for (uint32_t j = 0; j < p->desc->nkeys; j++) {
      const weft_cfg_key *k = &p->desc->keys[j];
      const core_cfg_entry *e = core_cfg_find(cfg, p->desc->name, k->name);
      if (e != NULL) {
        p->cfg.values[j] = e->value;
        continue;
      }
      char origin[600];
      snprintf(origin, sizeof origin, "plugin '%s' (%s) default", p->desc->name, p->path);
      int rc = core_cfg_check_value(k, p->desc->name, k->def != NULL ? k->def : "", origin, d);
      if (rc != WEFT_OK) {
        d->code = WEFT_ERR_PLUGIN;
        return WEFT_ERR_PLUGIN;
      }
      p->cfg.values[j] = k->def != NULL ? k->def : "";
    }
  }
  return WEFT_OK;
}

/* Init each plugin in load order. */
static int init_all(core_plugin_set *set, core_host *host, weft_diag *d) {
  for (uint32_t i = 0; i < set->n; i++) {
    core_plugin *p = &set->items[i];
    weft_diag pd;
    memset(&pd, 0, sizeof pd);
    pd.offset = UINT64_MAX;
    void *state = NULL;
    int rc = p->desc->init(&host->api, &p->cfg, &state, &pd);
    if (rc != WEFT_OK) {
      char label[600];
      label_of(p, p->path, label, sizeof label);
      return core_diagf(d, WEFT_ERR_PLUGIN, UINT64_MAX, p->desc->name, "%s: init failed: %s%s%s",
                        label, pd.origin[0] != '\0' ? pd.origin : "",
                        pd.origin[0] != '\0' ? ": " : "",
                        pd.message[0] != '\0' ? pd.message : weft_status_str(rc));
    }
    p->state = state;
    p->inited = true;
  }
  return WEFT_OK;
}

int core_plugin_load_all(core_plugin_set *set, const weft_config *cfg, core_host *host,
                         weft_diag *d) {
  int rc = WEFT_OK;
  memset(set, 0, sizeof *set);
  for (uint32_t i = 0; i < cfg->nstatics; i++) {
    core_plugin p;
    rc = core_plugin_from_entry(cfg->statics[i], &p, d);
    if (rc != WEFT_OK) goto fail;
    rc = set_add(set, &p, d);
    if (rc != WEFT_OK) goto fail;
  }
  rc = open_listed(set, cfg, d);
  if (rc != WEFT_OK) goto fail;
  rc = check_requirements(set, d);
  if (rc != WEFT_OK) goto fail;
  rc = bind_sections(set, cfg, d);
  if (rc != WEFT_OK) goto fail;
  rc = init_all(set, host, d);
  if (rc != WEFT_OK) goto fail;
  return WEFT_OK;
fail:
  core_plugin_unload_all(set);
  return rc;
}
