/* cli/preload.c -- the --preload NAME=FILE option of `weft run` (Wasmtime's spelling): before the
 * main module, instantiate FILE (.wasm, or .wat when the text front end is built in) with the same
 * linker, so it may import WASI and earlier preloads, and register its exports under NAME for the
 * main module's imports. Used by examples/coro (a C program plus a coroutine library in .wat).
 * Depends on: cli/cli.h, weft/weft.h (runtime API), weft/text.h when built in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "weft/weft.h"
#ifdef WEFT_HAVE_TEXT
#include "weft/text.h"
#endif

/* -- Options ----------------------------------------------------------------------------------- */

void cli_preload_usage(FILE *out) {
  fputs("  --preload NAME=FILE  instantiate FILE (.wasm or .wat) first and give its exports to\n"
        "                   the module's imports from NAME; repeatable, in order\n",
        out);
}

int cli_preload_take(cli_preload_opts *o, int argc, char **argv, int *i) {
  const char *a = argv[*i], *value = NULL;
  if (strcmp(a, "--preload") == 0) {
    if (*i + 1 >= argc) {
      cli_error("--preload needs a value: --preload NAME=FILE");
      return -1;
    }
    value = argv[*i + 1];
    *i += 2;
  } else if (strncmp(a, "--preload=", 10) == 0) {
    value = a + 10;
    *i += 1;
  } else {
    return 0;
  }
  const char *eq = strchr(value, '=');
  if (eq == NULL || eq == value || eq[1] == '\0') {
    cli_error("--preload %s: expected NAME=FILE, both non-empty", value);
    return -1;
  }
  const char **grown = realloc(o->specs, (o->n + 1) * sizeof *grown);
  if (grown == NULL) {
    cli_error("out of memory");
    return -1;
  }
  grown[o->n++] = value;
  o->specs = grown;
  return 1;
}

void cli_preload_free(cli_preload_opts *o) {
  free(o->specs);
  memset(o, 0, sizeof *o);
}

/* -- Linking ----------------------------------------------------------------------------------- */

/* Instantiates one NAME=FILE and registers it. 0, or an exit status after printing why. */
static int preload_one(weft_engine *engine, weft_linker_t *linker, const char *spec) {
  const char *eq = strchr(spec, '=');
  const char *file = eq + 1;
  size_t name_len = (size_t)(eq - spec);
  char *name = NULL;
  unsigned char *bytes = NULL;
  size_t len = 0;
  weft_module_t *mod = NULL;
  weft_trap_t *trap = NULL;
  weft_instance_t *inst = NULL;
  weft_error err;
  memset(&err, 0, sizeof err);
  int rc = cli_load_module(file, "--preload ", &bytes, &len);
  if (rc != 0) goto out;
  rc = CLI_EXIT_ERROR;
  name = malloc(name_len + 1);
  if (name == NULL) {
    cli_error("out of memory");
    goto out;
  }
  memcpy(name, spec, name_len);
  name[name_len] = '\0';
  if (weft_module_new(engine, bytes, len, &mod, &err) != WEFT_OK) {
    if (err.offset != UINT64_MAX)
      cli_error("--preload %s: %s at offset 0x%llx: %s", file, err.origin[0] ? err.origin : "error",
                (unsigned long long)err.offset, err.message);
    else
      cli_error("--preload %s: %s", file, err.message);
    goto out;
  }
  if (weft_linker_instantiate(linker, mod, &inst, &trap, &err) != WEFT_OK) {
    cli_error("--preload %s: %s", file, err.message);
    goto out;
  }
  if (trap != NULL) {
    cli_error("--preload %s: trap: %s", file, weft_trap_message(trap));
    rc = CLI_EXIT_TRAP;
    goto out;
  }
  if (weft_linker_define_instance(linker, name, inst) != WEFT_OK) {
    cli_error("--preload %s=%s: cannot register its exports as \"%s\" (a name defined twice?)",
              name, file, name);
    goto out;
  }
  rc = 0;
out:
  weft_trap_free(trap);
  weft_module_free(mod); /* the instance keeps what it needs */
  free(name);
  free(bytes);
  return rc;
}

int cli_preload_link(weft_engine *engine, weft_linker_t *linker, const cli_preload_opts *o) {
  if (o == NULL) return 0;
  for (size_t i = 0; i < o->n; i++) {
    int rc = preload_one(engine, linker, o->specs[i]);
    if (rc != 0) return rc;
  }
  return 0;
}
