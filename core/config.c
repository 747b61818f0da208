/* core/config.c -- weft_config: ini files (inih after a stricter pre-scan), -C overrides, values.
 * The pre-scan catches what inih gets wrong silently (200-char lines, indented continuations) and
 * records each key's line. [core]/[wasm] are decoded at once; plugin sections are kept raw for
 * core/plugin.c. Depends on: inih, core/host.h (core_diagf), weft/module.h (feature bits).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"
#include "weft/module.h"

#define LINE_MAX_CHARS 200              /* inih's INI_MAX_LINE: a line this long is cut */
#define FILE_MAX_BYTES (4u << 20)       /* a config file larger than this is refused */
#define SECTION_MAX_CHARS 48            /* plugin names are at most 48; inih keeps 49 */
#define DEFAULT_MAX_WASM_STACK (1u << 20)

/* -- Feature switches ------------------------------------------------------------------------ */

const core_cfg_feature core_cfg_features[] = {
    {"stack_switching", WEFT_FEAT_STACK_SWITCHING, "stack switching", true},
    {"exceptions", WEFT_FEAT_EXCEPTIONS, "exception handling", true},
    {"gc", WEFT_FEAT_GC, "garbage collection (GC types)", true},
    {"simd", WEFT_FEAT_SIMD, "SIMD (v128)", true},
    {"relaxed_simd", WEFT_FEAT_RELAXED_SIMD, "relaxed SIMD", true},
    {"tail_call", WEFT_FEAT_TAIL_CALL, "tail calls", true},
    {"memory64", WEFT_FEAT_MEMORY64, "64-bit memories and tables", true},
    {"multi_memory", WEFT_FEAT_MULTI_MEMORY, "multiple memories", true},
};
const size_t core_cfg_nfeatures = sizeof core_cfg_features / sizeof core_cfg_features[0];

/* -- Value parsing --------------------------------------------------------------------------- */

bool core_cfg_parse_bool(const char *text, bool *out) {
  static const char *const yes[] = {"yes", "true", "on", "1"};
  static const char *const no[] = {"no", "false", "off", "0"};
  if (text == NULL) return false;
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(text, yes[i]) == 0) {
      *out = true;
      return true;
    }
    if (strcasecmp(text, no[i]) == 0) {
      *out = false;
      return true;
    }
  }
  return false;
}

bool core_cfg_parse_int(const char *text, int64_t *out) {
  if (text == NULL || *text == '\0' || isspace((unsigned char)*text)) return false;
  errno = 0;
  char *end = NULL;
  long long v = strtoll(text, &end, 0);
  if (errno != 0 || end == text || *end != '\0') return false;
  /* strtoll with base 0 reads a leading 0 as octal; refuse that surprise ("010" is not 8). */
  const char *digits = (*text == '-' || *text == '+') ? text + 1 : text;
  if (digits[0] == '0' && digits[1] != '\0' && digits[1] != 'x' && digits[1] != 'X') return false;
  *out = (int64_t)v;
  return true;
}

bool core_cfg_parse_size(const char *text, uint64_t *out) {
  if (text == NULL || !isdigit((unsigned char)*text)) return false;
  uint64_t v = 0;
  const char *p = text;
  for (; isdigit((unsigned char)*p); p++) {
    unsigned d = (unsigned)(*p - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  unsigned shift = 0;
  switch (*p) {
  case '\0': break;
  case 'k': case 'K': shift = 10; p++; break;
  case 'm': case 'M': shift = 20; p++; break;
  case 'g': case 'G': shift = 30; p++; break;
  default: return false;
  }
  if (*p != '\0') return false;
  if (shift != 0 && v > (UINT64_MAX >> shift)) return false;
  *out = v << shift;
  return true;
}

bool core_cfg_parse_enum(const char *text, const char *choices) {
  if (text == NULL || choices == NULL || *text == '\0') return false;
  size_t n = strlen(text);
  for (const char *c = choices; *c != '\0';) {
    const char *bar = strchr(c, '|');
    size_t len = bar != NULL ? (size_t)(bar - c) : strlen(c);
    if (len == n && strncmp(c, text, n) == 0) return true;
    if (bar == NULL) break;
    c = bar + 1;
  }
  return false;
}

int core_cfg_check_value(const weft_cfg_key *k, const char *section, const char *value,
                         const char *origin, weft_diag *d) {
  bool b;
  int64_t i;
  uint64_t s;
  switch (k->type) {
  case WEFT_CFG_BOOL:
    if (core_cfg_parse_bool(value, &b)) return WEFT_OK;
    return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                      "%s: bad value '%s' for [%s] %s: expected yes or no", origin, value, section,
                      k->name);
  case WEFT_CFG_INT:
    if (core_cfg_parse_int(value, &i)) return WEFT_OK;
    return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                      "%s: bad value '%s' for [%s] %s: expected an integer", origin, value, section,
                      k->name);
  case WEFT_CFG_SIZE:
    if (core_cfg_parse_size(value, &s)) return WEFT_OK;
    return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                      "%s: bad size '%s' for [%s] %s: expected a number of bytes with an optional "
                      "K, M or G suffix",
                      origin, value, section, k->name);
  case WEFT_CFG_ENUM:
    if (core_cfg_parse_enum(value, k->choices)) return WEFT_OK;
    return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                      "%s: bad value '%s' for [%s] %s: expected one of %s", origin, value, section,
                      k->name, k->choices != NULL ? k->choices : "(none)");
  case WEFT_CFG_STRING:
    return WEFT_OK;
  }
  return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin, "%s: [%s] %s has an unknown type",
                    origin, section, k->name);
}

/* -- Small helpers --------------------------------------------------------------------------- */

static char *dup_str(const char *s) {
  if (s == NULL) return NULL;
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p != NULL) memcpy(p, s, n);
  return p;
}

static char *dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dup_printf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) return NULL;
  char *p = malloc((size_t)n + 1);
  if (p == NULL) return NULL;
  va_start(ap, fmt);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return p;
}

static int nomem(weft_diag *d) {
  return core_diagf(d, WEFT_ERR_NOMEM, UINT64_MAX, "config",
                    "out of memory reading the configuration");
}

/* Resolve a relative path against `base` (NULL or "": kept, but made explicit with "./" so that
 * dlopen never searches). */
static char *join_path(const char *base, const char *path) {
  if (path[0] == '/') return dup_str(path);
  if (strcmp(path, ".") == 0 && base != NULL && base[0] != '\0') return dup_str(base);
  if (base != NULL && base[0] != '\0') return dup_printf("%s/%s", base, path);
  if (strncmp(path, "./", 2) == 0 || strncmp(path, "../", 3) == 0) return dup_str(path);
  return dup_printf("./%s", path);
}

/* join_path, then canonical (realpath) when the path exists, so messages and `weft config` show
 * /a/lib/weft/plugins rather than /a/conf/../lib/weft/plugins. */
static char *resolve_path(const char *base, const char *path) {
  char *joined = join_path(base, path);
  if (joined == NULL) return NULL;
  char *canon = realpath(joined, NULL);
  if (canon == NULL) return joined;
  free(joined);
  return canon;
}

static bool valid_name(const char *s) {
  if (s == NULL || *s == '\0') return false;
  for (; *s != '\0'; s++)
    if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '-')) return false;
  return true;
}

static bool is_known_section(const char *s) {
  return strcmp(s, "core") == 0 || strcmp(s, "wasm") == 0;
}

/* -- Entries --------------------------------------------------------------------------------- */

const core_cfg_entry *core_cfg_find(const weft_config *cfg, const char *section, const char *key) {
  for (size_t i = 0; i < cfg->nentries; i++)
    if (strcmp(cfg->entries[i].section, section) == 0 && strcmp(cfg->entries[i].key, key) == 0)
      return &cfg->entries[i];
  return NULL;
}

static void entry_free(core_cfg_entry *e) {
  free(e->section);
  free(e->key);
  free(e->value);
  free(e->origin);
}

/* Set section.key = value (replacing an earlier value). */
static int put_entry(weft_config *cfg, const char *section, const char *key, const char *value,
                     const char *origin, weft_diag *d) {
  core_cfg_entry ne = {dup_str(section), dup_str(key), dup_str(value), dup_str(origin)};
  int rc = WEFT_OK;
  if (ne.section == NULL || ne.key == NULL || ne.value == NULL || ne.origin == NULL) {
    rc = nomem(d);
    goto done;
  }
  core_cfg_entry *old = (core_cfg_entry *)core_cfg_find(cfg, section, key);
  if (old != NULL) {
    entry_free(old);
    *old = ne;
    return WEFT_OK;
  }
  if (cfg->nentries == cfg->capentries) {
    size_t cap = cfg->capentries ? cfg->capentries * 2 : 16;
    core_cfg_entry *p = realloc(cfg->entries, cap * sizeof *p);
    if (p == NULL) {
      rc = nomem(d);
      goto done;
    }
    cfg->entries = p;
    cfg->capentries = cap;
  }
  cfg->entries[cfg->nentries++] = ne;
  return WEFT_OK;
done:
  entry_free(&ne);
  return rc;
}

static int add_section(weft_config *cfg, const char *name, const char *origin, weft_diag *d) {
  for (size_t i = 0; i < cfg->nsections; i++)
    if (strcmp(cfg->sections[i].name, name) == 0) return WEFT_OK;
  if (cfg->nsections == cfg->capsections) {
    size_t cap = cfg->capsections ? cfg->capsections * 2 : 8;
    core_cfg_section *p = realloc(cfg->sections, cap * sizeof *p);
    if (p == NULL) return nomem(d);
    cfg->sections = p;
    cfg->capsections = cap;
  }
  core_cfg_section s = {dup_str(name), dup_str(origin)};
  if (s.name == NULL || s.origin == NULL) {
    free(s.name);
    free(s.origin);
    return nomem(d);
  }
  cfg->sections[cfg->nsections++] = s;
  return WEFT_OK;
}

/* -- [core] and [wasm] ----------------------------------------------------------------------- */

static void free_plugins(weft_config *cfg) {
  for (uint32_t i = 0; i < cfg->nplugins; i++) free(cfg->plugins[i]);
  free(cfg->plugins);
  cfg->plugins = NULL;
  cfg->nplugins = 0;
}

/* Parse "a, b, c" into cfg->plugins. Names without '/' are looked up in plugin_dir later; paths
 * are resolved against `base` now. */
static int set_plugins(weft_config *cfg, const char *value, const char *base, const char *origin,
                       weft_diag *d) {
  char **list = NULL;
  uint32_t n = 0;
  int rc = WEFT_OK;
  size_t cap = 1;
  for (const char *p = value; *p != '\0'; p++)
    if (*p == ',') cap++;
  if (cap > 64) {
    rc = core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                    "%s: [core] plugins lists more than 64 plugins", origin);
    goto fail;
  }
  list = calloc(cap, sizeof *list);
  if (list == NULL) goto oom;
  const char *p = value;
  while (*p == ' ' || *p == '\t') p++;
  while (*p != '\0') { /* an empty value lists no plugins */
    while (*p == ' ' || *p == '\t') p++;
    const char *start = p;
    while (*p != '\0' && *p != ',') p++;
    const char *end = p;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t')) end--;
    bool comma = *p == ',';
    if (comma) p++;
    size_t len = (size_t)(end - start);
    if (len == 0 || (comma && *p == '\0')) {
      rc = core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                      "%s: empty name in [core] plugins: write names separated by commas", origin);
      goto fail;
    }
    char name[256];
    if (len >= sizeof name) {
      rc = core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin, "%s: plugin name too long", origin);
      goto fail;
    }
    memcpy(name, start, len);
    name[len] = '\0';
    for (uint32_t j = 0; j < n; j++) {
      if (strcmp(list[j], name) == 0) {
        rc = core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                        "%s: plugin '%s' is listed twice in [core] plugins", origin, name);
        goto fail;
      }
    }
    list[n] = strchr(name, '/') != NULL ? resolve_path(base, name) : dup_str(name);
    if (list[n] == NULL) goto oom;
    n++;
  }
  free_plugins(cfg);
  cfg->plugins = list;
  cfg->nplugins = n;
  return WEFT_OK;
oom:
  rc = nomem(d);
fail:
  if (list != NULL)
    for (uint32_t j = 0; j < n; j++) free(list[j]);
  free(list);
  return rc;
}

/* Check and decode one [core] or [wasm] key. `base` resolves relative paths. */
static int apply_known(weft_config *cfg, const char *section, const char *key, const char *value,
                       const char *base, const char *origin, weft_diag *d) {
  if (strcmp(section, "core") == 0) {
    if (strcmp(key, "plugin_dir") == 0) {
      if (value[0] == '\0')
        return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                          "%s: [core] plugin_dir is empty: give a folder", origin);
      char *dir = resolve_path(base, value);
      if (dir == NULL) return nomem(d);
      free(cfg->plugin_dir);
      cfg->plugin_dir = dir;
      return WEFT_OK;
    }
    if (strcmp(key, "plugins") == 0) return set_plugins(cfg, value, base, origin, d);
    if (strcmp(key, "max_wasm_stack") == 0) {
      uint64_t v;
      if (!core_cfg_parse_size(value, &v))
        return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                          "%s: bad size '%s' for [core] max_wasm_stack: expected a number of bytes "
                          "with an optional K, M or G suffix",
                          origin, value);
      if (v < 4096 || v > ((uint64_t)1 << 32))
        return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                          "%s: [core] max_wasm_stack = %s is out of range (4K to 4G)", origin,
                          value);
      cfg->max_wasm_stack = v;
      return WEFT_OK;
    }
    if (strcmp(key, "trust_unvalidated") == 0) {
      if (!core_cfg_parse_bool(value, &cfg->trust_unvalidated))
        return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                          "%s: bad value '%s' for [core] trust_unvalidated: expected yes or no",
                          origin, value);
      return WEFT_OK;
    }
    return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                      "%s: unknown key '%s' in [core] (known: plugin_dir, plugins, max_wasm_stack, "
                      "trust_unvalidated)",
                      origin, key);
  }
  for (size_t i = 0; i < core_cfg_nfeatures; i++) {
    if (strcmp(key, core_cfg_features[i].key) != 0) continue;
    bool on;
    if (!core_cfg_parse_bool(value, &on))
      return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                        "%s: bad value '%s' for [wasm] %s: expected yes or no", origin, value, key);
    if (on)
      cfg->features |= core_cfg_features[i].bit;
    else
      cfg->features &= ~core_cfg_features[i].bit;
    return WEFT_OK;
  }
  return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                    "%s: unknown key '%s' in [wasm] (known: stack_switching, exceptions, gc, simd, "
                    "relaxed_simd, tail_call, memory64, multi_memory)",
                    origin, key);
}

/* Set one key from any source: check it when [core]/[wasm], record it either way. */
static int set_key(weft_config *cfg, const char *section, const char *key, const char *value,
                   const char *base, const char *origin, weft_diag *d) {
  if (is_known_section(section)) {
    int rc = apply_known(cfg, section, key, value, base, origin, d);
    if (rc != WEFT_OK) return rc;
  }
  return put_entry(cfg, section, key, value, origin, d);
}

/* -- Life cycle ------------------------------------------------------------------------------ */

static weft_config *config_alloc(void) {
  weft_config *cfg = calloc(1, sizeof *cfg);
  if (cfg == NULL) return NULL;
  cfg->max_wasm_stack = DEFAULT_MAX_WASM_STACK;
  for (size_t i = 0; i < core_cfg_nfeatures; i++)
    if (core_cfg_features[i].def) cfg->features |= core_cfg_features[i].bit;
  return cfg;
}

int weft_config_new(weft_config **out_cfg, weft_error *err) {
  *out_cfg = config_alloc();
  return *out_cfg != NULL ? WEFT_OK : nomem(err);
}

void weft_config_free(weft_config *cfg) {
  if (cfg == NULL) return;
  for (size_t i = 0; i < cfg->nentries; i++) entry_free(&cfg->entries[i]);
  free(cfg->entries);
  for (size_t i = 0; i < cfg->nsections; i++) {
    free(cfg->sections[i].name);
    free(cfg->sections[i].origin);
  }
  free(cfg->sections);
  free_plugins(cfg);
  free(cfg->plugin_dir);
  free(cfg->statics);
  free(cfg->name);
  free(cfg->base_dir);
  free(cfg);
}

weft_config *core_cfg_clone(const weft_config *src) {
  weft_config *c = config_alloc();
  if (c == NULL) return NULL;
  bool ok = true;
  c->max_wasm_stack = src->max_wasm_stack;
  c->trust_unvalidated = src->trust_unvalidated;
  c->features = src->features;
  c->sink = src->sink;
  c->sink_ud = src->sink_ud;
  if (src->name != NULL) ok &= (c->name = dup_str(src->name)) != NULL;
  if (src->base_dir != NULL) ok &= (c->base_dir = dup_str(src->base_dir)) != NULL;
  if (src->plugin_dir != NULL) ok &= (c->plugin_dir = dup_str(src->plugin_dir)) != NULL;
  if (ok && src->nentries > 0) {
    c->entries = calloc(src->nentries, sizeof *c->entries);
    ok = c->entries != NULL;
    c->capentries = ok ? src->nentries : 0;
    for (size_t i = 0; ok && i < src->nentries; i++) {
      const core_cfg_entry *e = &src->entries[i];
      core_cfg_entry *ne = &c->entries[c->nentries++];
      *ne = (core_cfg_entry){dup_str(e->section), dup_str(e->key), dup_str(e->value),
                             dup_str(e->origin)};
      ok = ne->section && ne->key && ne->value && ne->origin;
    }
  }
  if (ok && src->nsections > 0) {
    c->sections = calloc(src->nsections, sizeof *c->sections);
    ok = c->sections != NULL;
    c->capsections = ok ? src->nsections : 0;
    for (size_t i = 0; ok && i < src->nsections; i++) {
      core_cfg_section *ns = &c->sections[c->nsections++];
      *ns = (core_cfg_section){dup_str(src->sections[i].name), dup_str(src->sections[i].origin)};
      ok = ns->name && ns->origin;
    }
  }
  if (ok && src->nplugins > 0) {
    c->plugins = calloc(src->nplugins, sizeof *c->plugins);
    ok = c->plugins != NULL;
    for (uint32_t i = 0; ok && i < src->nplugins; i++) {
      c->plugins[c->nplugins] = dup_str(src->plugins[i]);
      ok = c->plugins[c->nplugins++] != NULL;
    }
  }
  if (ok && src->nstatics > 0) {
    c->statics = malloc(src->nstatics * sizeof *c->statics);
    ok = c->statics != NULL;
    if (ok) {
      memcpy(c->statics, src->statics, src->nstatics * sizeof *c->statics);
      c->nstatics = c->capstatics = src->nstatics;
    }
  }
  if (!ok) {
    weft_config_free(c);
    return NULL;
  }
  return c;
}

/* -- Pre-scan -------------------------------------------------------------------------------- */

typedef struct prescan {
  const char *name;    /* file name for messages */
  uint32_t *key_lines; /* line of the k-th key, in file order */
  size_t nkeys, capkeys;
} prescan;

/* Check every line for what inih would get wrong or accept silently; record key lines and
 * section headers. */
static int prescan_text(weft_config *cfg, prescan *ps, const char *text, size_t size,
                        weft_diag *d) {
  const char *p = text, *end = text + size;
  char origin[4200];
  bool in_section = false;
  if (size >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;
  for (uint32_t line = 1; p < end; line++) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (eol == NULL) eol = end;
    size_t len = (size_t)(eol - p);
    if (len > 0 && p[len - 1] == '\r') len--;
    snprintf(origin, sizeof origin, "%s:%u", ps->name, line);
    if (memchr(p, '\0', len) != NULL)
      return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                        "%s: line contains a NUL byte: a config file is text", origin);
    if (len >= LINE_MAX_CHARS)
      return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                        "%s: line is %zu characters long; lines must be shorter than %d", origin,
                        len, LINE_MAX_CHARS);
    size_t i = 0;
    while (i < len && (p[i] == ' ' || p[i] == '\t')) i++;
    /* Trim trailing blanks to judge the shape of the line. */
    size_t n = len;
    while (n > i && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    if (i == n || p[i] == ';' || p[i] == '#') goto next; /* blank or comment */
    if (i > 0)
      return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                        "%s: indented line: start keys and [sections] in the first column "
                        "(an indented line would continue the previous value)",
                        origin);
    if (p[0] == '[') {
      /* "[name]" with an optional comment after it. */
      const char *close = memchr(p, ']', n);
      if (close == NULL || close == p + 1)
        return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                          "%s: malformed section header: write [name]", origin);
      const char *after = close + 1;
      while (after < p + n && (*after == ' ' || *after == '\t')) after++;
      if (after < p + n && *after != ';' && *after != '#')
        return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                          "%s: text after the section header", origin);
      char sec[LINE_MAX_CHARS];
      size_t sl = (size_t)(close - p - 1);
      memcpy(sec, p + 1, sl);
      sec[sl] = '\0';
      /* inih keeps only 49 characters of a section name (MAX_SECTION): refuse longer ones. */
      if (sl > SECTION_MAX_CHARS)
        return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                          "%s: section name longer than %d characters", origin, SECTION_MAX_CHARS);
      /* inih keeps blanks inside the brackets, so "[ core ]" would name " core ": refuse it. */
      if (!valid_name(sec))
        return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                          "%s: bad section name [%s]: use letters, digits, '_' and '-'", origin,
                          sec);
      int rc = add_section(cfg, sec, origin, d);
      if (rc != WEFT_OK) return rc;
      in_section = true;
      goto next;
    }
    /* A key: "name = value" (inih also takes ':'), the separator before any inline comment. */
    {
      size_t k = 0;
      while (k < n && p[k] != '=' && p[k] != ':' &&
             !(p[k] == ';' && k > 0 && (p[k - 1] == ' ' || p[k - 1] == '\t')))
        k++;
      if (k == n || p[k] == ';')
        return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                          "%s: expected 'key = value', '[section]' or a comment", origin);
      size_t kl = k;
      while (kl > 0 && (p[kl - 1] == ' ' || p[kl - 1] == '\t')) kl--;
      if (kl == 0)
        return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                          "%s: missing key name before '%c'", origin, p[k]);
      if (!in_section)
        return core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                          "%s: key '%.*s' before any [section]: put it under [core], [wasm] or "
                          "a plugin's section",
                          origin, (int)kl, p);
      if (ps->nkeys == ps->capkeys) {
        size_t cap = ps->capkeys ? ps->capkeys * 2 : 32;
        uint32_t *q = realloc(ps->key_lines, cap * sizeof *q);
        if (q == NULL) return nomem(d);
        ps->key_lines = q;
        ps->capkeys = cap;
      }
      ps->key_lines[ps->nkeys++] = line;
    }
  next:
    p = eol < end ? eol + 1 : end;
  }
  return WEFT_OK;
}

/* -- inih handler ---------------------------------------------------------------------------- */

typedef struct parse_ctx {
  weft_config *cfg;
  prescan *ps;
  size_t k;     /* handler calls so far */
  weft_diag *d;
  int rc;       /* first error */
} parse_ctx;

static int on_key(void *user, const char *section, const char *name, const char *value) {
  parse_ctx *c = user;
  if (c->rc != WEFT_OK) return 0;
  char origin[4200];
  uint32_t line = c->k < c->ps->nkeys ? c->ps->key_lines[c->k] : 0;
  c->k++;
  snprintf(origin, sizeof origin, "%s:%u", c->ps->name, line);
  /* A key set twice in a file is almost always a mistake (which one did the author mean?). */
  const core_cfg_entry *old = core_cfg_find(c->cfg, section, name);
  if (old != NULL) {
    c->rc = core_diagf(c->d, WEFT_ERR_CONFIG, UINT64_MAX, origin,
                       "%s: [%s] %s is set twice (first at %s)", origin, section, name,
                       old->origin);
    return 0;
  }
  c->rc = set_key(c->cfg, section, name, value, c->cfg->base_dir, origin, c->d);
  return c->rc == WEFT_OK;
}

/* -- Loading --------------------------------------------------------------------------------- */

static int load_text(weft_config *cfg, const char *text, size_t size, weft_diag *d) {
  prescan ps = {.name = cfg->name};
  int rc = prescan_text(cfg, &ps, text, size, d);
  if (rc != WEFT_OK) goto done;
  parse_ctx ctx = {cfg, &ps, 0, d, WEFT_OK};
  int line = ini_parse_string(text, on_key, &ctx);
  if (ctx.rc != WEFT_OK) {
    rc = ctx.rc;
  } else if (line != 0) {
    /* The pre-scan should have caught anything inih rejects; report it all the same. */
    rc = core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, cfg->name, "%s:%d: cannot parse this line",
                    cfg->name, line);
  } else if (ctx.k != ps.nkeys) {
    rc = core_diagf(d, WEFT_ERR_CONFIG, UINT64_MAX, cfg->name,
                    "%s: internal error: %zu keys scanned, %zu parsed", cfg->name, ps.nkeys, ctx.k);
  }
done:
  free(ps.key_lines);
  return rc;
}

int weft_config_load_string(const char *text, const char *name, const char *base_dir,
                            weft_config **out_cfg, weft_error *err) {
  int rc = WEFT_OK;
  *out_cfg = NULL;
  weft_config *cfg = config_alloc();
  if (cfg == NULL) return nomem(err);
  cfg->name = dup_str(name != NULL ? name : "<string>");
  cfg->base_dir = dup_str(base_dir != NULL ? base_dir : "");
  if (cfg->name == NULL || cfg->base_dir == NULL) {
    rc = nomem(err);
    goto done;
  }
  rc = load_text(cfg, text, strlen(text), err);
done:
  if (rc != WEFT_OK)
    weft_config_free(cfg);
  else
    *out_cfg = cfg;
  return rc;
}

int weft_config_load(const char *path, weft_config **out_cfg, weft_error *err) {
  int rc = WEFT_OK;
  char *text = NULL;
  weft_config *cfg = NULL;
  *out_cfg = NULL;
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    rc = core_diagf(err, WEFT_ERR_IO, UINT64_MAX, path, "%s: cannot open config file: %s", path,
                    strerror(errno));
    goto done;
  }
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = core_diagf(err, WEFT_ERR_IO, UINT64_MAX, path, "%s: not a regular file", path);
    goto done;
  }
  if ((uint64_t)st.st_size > FILE_MAX_BYTES) {
    rc = core_diagf(err, WEFT_ERR_CONFIG, UINT64_MAX, path,
                    "%s: config file is larger than %u bytes", path, FILE_MAX_BYTES);
    goto done;
  }
  size_t size = (size_t)st.st_size;
  text = malloc(size + 1);
  if (text == NULL) {
    rc = nomem(err);
    goto done;
  }
  size_t got = fread(text, 1, size, f);
  if (got != size || ferror(f)) {
    rc = core_diagf(err, WEFT_ERR_IO, UINT64_MAX, path, "%s: cannot read config file", path);
    goto done;
  }
  text[size] = '\0';
  cfg = config_alloc();
  if (cfg == NULL) {
    rc = nomem(err);
    goto done;
  }
  cfg->name = dup_str(path);
  const char *slash = strrchr(path, '/');
  cfg->base_dir = slash == NULL ? dup_str(".")
                  : slash == path ? dup_str("/")
                                  : dup_printf("%.*s", (int)(slash - path), path);
  if (cfg->name == NULL || cfg->base_dir == NULL) {
    rc = nomem(err);
    goto done;
  }
  rc = load_text(cfg, text, size, err);
done:
  if (f != NULL) fclose(f);
  free(text);
  if (rc != WEFT_OK)
    weft_config_free(cfg);
  else
    *out_cfg = cfg;
  return rc;
}

const char *weft_config_default_path(void) {
#ifdef WEFT_DEFAULT_CONF
  if (access(WEFT_DEFAULT_CONF, R_OK) == 0) return WEFT_DEFAULT_CONF;
#endif
#ifdef WEFT_INSTALL_CONF
  return WEFT_INSTALL_CONF;
#else
  return "/usr/local/share/weft/default.ini";
#endif
}

/* -- Overrides and queries ------------------------------------------------------------------- */

int weft_config_set(weft_config *cfg, const char *section, const char *key, const char *value,
                    weft_error *err) {
  char origin[300];
  if (cfg == NULL || value == NULL)
    return core_diagf(err, WEFT_ERR_MISUSE, UINT64_MAX, "-C", "weft_config_set: NULL argument");
  snprintf(origin, sizeof origin, "-C %s.%s", section != NULL ? section : "",
           key != NULL ? key : "");
  if (!valid_name(section) || !valid_name(key))
    return core_diagf(err, WEFT_ERR_CONFIG, UINT64_MAX, "-C",
                      "%s: section and key are letters, digits, '_' and '-'", origin);
  if (strlen(value) >= LINE_MAX_CHARS)
    return core_diagf(err, WEFT_ERR_CONFIG, UINT64_MAX, "-C",
                      "%s: value is %zu characters long; it must be shorter than %d", origin,
                      strlen(value), LINE_MAX_CHARS);
  return set_key(cfg, section, key, value, NULL, origin, err);
}

int weft_config_set_str(weft_config *cfg, const char *assignment, weft_error *err) {
  char buf[LINE_MAX_CHARS + 64];
  if (assignment == NULL || strlen(assignment) >= sizeof buf)
    return core_diagf(err, WEFT_ERR_CONFIG, UINT64_MAX, "-C",
                      "-C: override too long or missing: write section.key=value");
  strcpy(buf, assignment);
  char *eq = strchr(buf, '=');
  char *dot = strchr(buf, '.');
  if (eq == NULL || dot == NULL || dot > eq)
    return core_diagf(err, WEFT_ERR_CONFIG, UINT64_MAX, "-C",
                      "-C %s: malformed override: write section.key=value", assignment);
  *eq = '\0';
  *dot = '\0';
  return weft_config_set(cfg, buf, dot + 1, eq + 1, err);
}

int weft_config_add_static_plugin(weft_config *cfg, weft_plugin_entry_fn entry, weft_error *err) {
  if (cfg == NULL || entry == NULL)
    return core_diagf(err, WEFT_ERR_MISUSE, UINT64_MAX, "config",
                      "weft_config_add_static_plugin: NULL argument");
  if (cfg->nstatics == cfg->capstatics) {
    uint32_t cap = cfg->capstatics ? cfg->capstatics * 2 : 4;
    weft_plugin_entry_fn *p = realloc(cfg->statics, cap * sizeof *p);
    if (p == NULL) return nomem(err);
    cfg->statics = p;
    cfg->capstatics = cap;
  }
  cfg->statics[cfg->nstatics++] = entry;
  return WEFT_OK;
}

void weft_config_set_log(weft_config *cfg, weft_log_sink sink, void *ud) {
  if (cfg == NULL) return;
  cfg->sink = sink;
  cfg->sink_ud = ud;
}

const char *weft_config_get(const weft_config *cfg, const char *section, const char *key) {
  if (cfg == NULL || section == NULL || key == NULL) return NULL;
  const core_cfg_entry *e = core_cfg_find(cfg, section, key);
  return e != NULL ? e->value : NULL;
}
