/* tests/common/wat_api.c -- see wat_api.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wat_api.h"
#include "weft/text.h"

weft_engine *tw_engine(const char *config, const char *name, const char *const *extra) {
  weft_config *cfg = NULL;
  weft_engine *e = NULL;
  weft_error err;
  memset(&err, 0, sizeof err);
  int rc = config != NULL ? weft_config_load_string(config, name, NULL, &cfg, &err)
                          : weft_config_load(weft_config_default_path(), &cfg, &err);
  for (size_t i = 0; rc == WEFT_OK && extra != NULL && extra[i] != NULL; i++)
    rc = weft_config_set_str(cfg, extra[i], &err);
  if (rc == WEFT_OK) rc = weft_engine_new(cfg, &e, &err);
  weft_config_free(cfg);
  if (rc != WEFT_OK) fprintf(stderr, "%s: engine: %s\n", name ? name : "config", err.message);
  return rc == WEFT_OK ? e : NULL;
}

weft_engine *tw_engine_plugins(const char *plugin_dir, const char *plugins, const char *name) {
  char text[1024];
  snprintf(text, sizeof text, "[core]\nplugin_dir = %s\nplugins = %s\n", plugin_dir, plugins);
  return tw_engine(text, name, NULL);
}

static int module_bytes(weft_engine *e, const uint8_t *bytes, size_t len, const char *name,
                        weft_module_t **out) {
  weft_error err;
  memset(&err, 0, sizeof err);
  int rc = weft_module_new(e, bytes, len, out, &err);
  if (rc != WEFT_OK) fprintf(stderr, "%s: module: %s\n", name, err.message);
  return rc;
}

int tw_module_wat(weft_engine *e, const char *wat, size_t len, const char *name, weft_module_t **out) {
  uint8_t *bytes = NULL;
  size_t n = 0;
  weft_diag d;
  memset(&d, 0, sizeof d);
  if (weft_wat_to_wasm(wat, len, name, &bytes, &n, &d) != WEFT_OK) {
    fprintf(stderr, "%s: wat: %s: %s\n", name, d.origin, d.message);
    return d.code != WEFT_OK ? d.code : WEFT_ERR_INVALID;
  }
  int rc = module_bytes(e, bytes, n, name, out);
  weft_wat_free(bytes);
  return rc;
}

int tw_module_file(weft_engine *e, const char *path, weft_module_t **out) {
  FILE *in = fopen(path, "rb");
  if (in == NULL) {
    fprintf(stderr, "%s: cannot open\n", path);
    return WEFT_ERR_IO;
  }
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  while (buf != NULL) {
    n += fread(buf + n, 1, cap - n, in);
    if (n < cap) break;
    char *more = realloc(buf, cap * 2);
    if (more == NULL) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = more;
    cap *= 2;
  }
  fclose(in);
  if (buf == NULL) return WEFT_ERR_NOMEM;
  size_t plen = strlen(path);
  int rc = plen > 4 && strcmp(path + plen - 4, ".wat") == 0
               ? tw_module_wat(e, buf, n, path, out)
               : module_bytes(e, (const uint8_t *)buf, n, path, out);
  free(buf);
  return rc;
}

tw_fixture *tw_fixture_new(const char *extra, const void *module, size_t len, bool binary,
                           const char *name) {
  tw_fixture *f = calloc(1, sizeof *f);
  if (f == NULL) return NULL;
  const char *extras[] = {extra, NULL};
  f->engine = tw_engine(NULL, name, extras);
  f->store = f->engine != NULL ? weft_store_new(f->engine) : NULL;
  int rc = f->store == NULL ? WEFT_ERR_NOMEM
           : binary         ? module_bytes(f->engine, module, len, name, &f->module)
                            : tw_module_wat(f->engine, module, len, name, &f->module);
  weft_trap_t *t = NULL;
  weft_error err;
  memset(&err, 0, sizeof err);
  if (rc == WEFT_OK) rc = weft_instance_new(f->store, f->module, NULL, 0, &f->inst, &t, &err);
  if (rc != WEFT_OK || t != NULL) {
    fprintf(stderr, "%s: instance: %s\n", name, t != NULL ? weft_trap_message(t) : err.message);
    weft_trap_free(t);
    tw_fixture_free(f);
    return NULL;
  }
  return f;
}

void tw_fixture_free(tw_fixture *f) {
  if (f == NULL) return;
  weft_store_free(f->store); /* frees the roots a test left */
  weft_module_free(f->module);
  weft_engine_free(f->engine);
  free(f);
}
