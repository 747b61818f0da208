/* tests/unit/contstacks/fake_host.c -- the fake host table of the contstacks unit tests (see
 * fake_host.h): scripted allocation failures and a literal config section.
 * Depends on: fake_host.h, the C library.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_host.h"

unsigned fake_alloc_fail_after;
long fake_live_allocs;

void fake_host_reset(void) {
  fake_alloc_fail_after = 0;
  fake_live_allocs = 0;
}

static int fails(void) {
  if (fake_alloc_fail_after == 0) return 0;
  return --fake_alloc_fail_after == 0;
}

static void *f_alloc(void *h, size_t size) {
  (void)h;
  if (fails()) return NULL;
  void *p = malloc(size);
  if (p != NULL) fake_live_allocs++;
  return p;
}

static void *f_realloc(void *h, void *ptr, size_t size) {
  (void)h;
  if (fails()) return NULL;
  void *p = realloc(ptr, size);
  if (p != NULL && ptr == NULL) fake_live_allocs++;
  return p;
}

static void f_free(void *h, void *ptr) {
  (void)h;
  if (ptr != NULL) fake_live_allocs--;
  free(ptr);
}

static void f_log(void *h, weft_log_level level, const char *origin, const char *fmt, va_list ap) {
  (void)h;
  (void)level;
  (void)origin;
  (void)fmt;
  (void)ap;
}

static int f_diag(void *h, weft_diag *d, int code, uint64_t offset, const char *origin,
                  const char *fmt, va_list ap) {
  (void)h;
  if (d != NULL) {
    d->code = code;
    d->offset = offset;
    snprintf(d->origin, sizeof d->origin, "%s", origin ? origin : "");
    vsnprintf(d->message, sizeof d->message, fmt, ap);
  }
  return code;
}

static const char *lookup(const weft_plugin_cfg *cfg, const char *key) {
  for (unsigned i = 0; cfg != NULL && i < cfg->n; i++)
    if (strcmp(cfg->keys[i], key) == 0) return cfg->vals[i];
  return NULL;
}

/* Defaults as the descriptor declares them; a test that needs another value lists the key. */
static const char *value(const weft_plugin_cfg *cfg, const char *key) {
  const char *v = lookup(cfg, key);
  if (v != NULL) return v;
  if (strcmp(key, "stack_size") == 0) return "1M";
  if (strcmp(key, "pool") == 0) return "256";
  if (strcmp(key, "guard_pages") == 0) return "yes";
  if (strcmp(key, "max_continuations") == 0) return "4194304";
  return NULL;
}

static int f_cfg_bool(void *h, const weft_plugin_cfg *cfg, const char *key, bool *out) {
  (void)h;
  const char *v = value(cfg, key);
  if (v == NULL) return WEFT_ERR_CONFIG;
  *out = strcmp(v, "yes") == 0 || strcmp(v, "1") == 0 || strcmp(v, "true") == 0;
  return WEFT_OK;
}

static int f_cfg_int(void *h, const weft_plugin_cfg *cfg, const char *key, int64_t *out) {
  (void)h;
  const char *v = value(cfg, key);
  if (v == NULL) return WEFT_ERR_CONFIG;
  *out = strtoll(v, NULL, 0);
  return WEFT_OK;
}

static int f_cfg_size(void *h, const weft_plugin_cfg *cfg, const char *key, uint64_t *out) {
  (void)h;
  const char *v = value(cfg, key);
  if (v == NULL) return WEFT_ERR_CONFIG;
  char *end = NULL;
  uint64_t n = strtoull(v, &end, 0);
  if (*end == 'K') n <<= 10;
  else if (*end == 'M') n <<= 20;
  else if (*end == 'G') n <<= 30;
  *out = n;
  return WEFT_OK;
}

static int f_cfg_string(void *h, const weft_plugin_cfg *cfg, const char *key, const char **out) {
  (void)h;
  const char *v = value(cfg, key);
  if (v == NULL) return WEFT_ERR_CONFIG;
  *out = v;
  return WEFT_OK;
}

weft_host_api fake_host = {
    WEFT_ABI_INIT(weft_host_api),
    .host = NULL,
    .alloc = f_alloc,
    .realloc = f_realloc,
    .free = f_free,
    .log = f_log,
    .diag = f_diag,
    .cfg_bool = f_cfg_bool,
    .cfg_int = f_cfg_int,
    .cfg_size = f_cfg_size,
    .cfg_string = f_cfg_string,
};
