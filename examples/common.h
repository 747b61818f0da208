/* examples/common.h -- what the examples share: read a file, make an engine from the default
 * configuration, compile a module. Uses only the public API (weft/weft.h). */
#ifndef WEFT_EXAMPLES_COMMON_H
#define WEFT_EXAMPLES_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#include "weft/weft.h"

/* Loads the default configuration (the build tree's conf/default.ini) and makes an engine. */
static inline weft_engine *example_engine(void) {
  weft_config *cfg = NULL;
  weft_engine *engine = NULL;
  weft_error err;
  if (weft_config_load(weft_config_default_path(), &cfg, &err) != WEFT_OK ||
      weft_engine_new(cfg, &engine, &err) != WEFT_OK) {
    fprintf(stderr, "engine: %s: %s\n", err.origin, err.message);
    engine = NULL;
  }
  weft_config_free(cfg);
  return engine;
}

/* Reads and compiles `path`. NULL (after a message) on failure. */
static inline weft_module_t *example_module(weft_engine *engine, const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    perror(path);
    return NULL;
  }
  static unsigned char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  weft_module_t *m = NULL;
  weft_error err;
  if (weft_module_new(engine, buf, n, &m, &err) != WEFT_OK) {
    fprintf(stderr, "%s: %s\n", path, err.message);
    return NULL;
  }
  return m;
}

#endif
