/* cli/run_wasi.c -- the WASI side of `weft run`: the --env and --dir options, the WASI context
 * they describe (also used by --invoke, cli/cmd_run.c), and running a module's `_start` with
 * wasi_snapshot_preview1 linked in (argv[0] is the file name, as in wasmtime).
 * Exit status: the guest's proc_exit code, 0 when _start returns, 134 on a trap, 1 otherwise.
 * Depends on: cli/cli.h, weft/weft.h (runtime API), weft/wasi.h (library weft-wasi).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "weft/wasi.h"
#include "weft/weft.h"

/* -- Options ----------------------------------------------------------------------------------- */

void cli_wasi_usage(FILE *out) {
  fputs("  --env KEY=VALUE  give the guest an environment variable (repeatable); --env KEY\n"
        "                   passes on the host's value of KEY\n"
        "  --dir HOST[::GUEST]  let the guest use host directory HOST, named GUEST inside\n"
        "                   (default: HOST as written); repeatable. Nothing else is visible.\n"
        "                   --env and --dir apply with --invoke too (there argv is just FILE)\n",
        out);
}

/* Appends `v` to a list of borrowed strings. */
static int push(const char ***list, size_t *n, const char *v) {
  const char **grown = realloc(*list, (*n + 1) * sizeof **list);
  if (grown == NULL) {
    cli_error("out of memory");
    return -1;
  }
  grown[(*n)++] = v;
  *list = grown;
  return 1;
}

int cli_wasi_take(cli_wasi_opts *o, int argc, char **argv, int *i) {
  static const char *const names[] = {"--env", "--dir"};
  const char *a = argv[*i];
  for (int k = 0; k < 2; k++) {
    size_t n = strlen(names[k]);
    const char *value = NULL;
    if (strcmp(a, names[k]) == 0) {
      if (*i + 1 >= argc) {
        cli_error("%s needs a value: %s", names[k],
                  k == 0 ? "--env KEY=VALUE" : "--dir HOST[::GUEST]");
        return -1;
      }
      value = argv[*i + 1];
      *i += 2;
    } else if (strncmp(a, names[k], n) == 0 && a[n] == '=') {
      value = a + n + 1;
      *i += 1;
    } else {
      continue;
    }
    if (value[0] == '\0' || (k == 0 && value[0] == '=')) {
      cli_error("%s needs a non-empty %s", names[k], k == 0 ? "KEY" : "directory");
      return -1;
    }
    return k == 0 ? push(&o->env, &o->nenv, value) : push(&o->dirs, &o->ndirs, value);
  }
  return 0;
}

void cli_wasi_free(cli_wasi_opts *o) {
  free(o->env);
  free(o->dirs);
  memset(o, 0, sizeof *o);
}

/* -- Context ----------------------------------------------------------------------------------- */

/* Fills ctx from the command line (cli.h). 0, or CLI_EXIT_ERROR after printing why. */
int cli_wasi_fill_ctx(struct weft_wasi_ctx *ctx, const char *file, char **args, int nargs,
                      const cli_wasi_opts *o) {
  if (weft_wasi_push_arg(ctx, file) != WEFT_OK) goto nomem;
  for (int i = 0; i < nargs; i++)
    if (weft_wasi_push_arg(ctx, args[i]) != WEFT_OK) goto nomem;
  for (size_t i = 0; i < o->nenv; i++) {
    const char *kv = o->env[i];
    if (strchr(kv, '=') == NULL) { /* --env KEY: inherit the host's value, if it has one */
      const char *v = getenv(kv);
      if (v == NULL) continue;
      size_t len = strlen(kv) + strlen(v) + 2;
      char *joined = malloc(len);
      if (joined == NULL) goto nomem;
      snprintf(joined, len, "%s=%s", kv, v);
      int rc = weft_wasi_push_env(ctx, joined);
      free(joined);
      if (rc != WEFT_OK) goto nomem;
    } else if (weft_wasi_push_env(ctx, kv) != WEFT_OK) {
      goto nomem;
    }
  }
  for (size_t i = 0; i < o->ndirs; i++) {
    const char *spec = o->dirs[i], *sep = strstr(spec, "::");
    if (sep != NULL && (sep == spec || sep[2] == '\0')) {
      cli_error("--dir %s: give both HOST and GUEST around '::'", spec);
      return CLI_EXIT_ERROR;
    }
    char *host = sep != NULL ? strndup(spec, (size_t)(sep - spec)) : strdup(spec);
    if (host == NULL) goto nomem;
    weft_error err;
    int rc = weft_wasi_preopen_dir(ctx, host, sep != NULL ? sep + 2 : NULL, &err);
    free(host);
    if (rc == WEFT_ERR_NOMEM) goto nomem;
    if (rc != WEFT_OK) {
      cli_error("%s: check that the directory exists and is readable", err.message);
      return CLI_EXIT_ERROR;
    }
  }
  return 0;
nomem:
  cli_error("out of memory");
  return CLI_EXIT_ERROR;
}

/* -- Running ----------------------------------------------------------------------------------- */

/* The exit status for a trap: the guest's code for proc_exit, else 134 with the message. */
static int trap_status(weft_trap_t *trap) {
  if (weft_trap_kind_of(trap) == WEFT_TRAPKIND_EXIT) return weft_trap_exit_status(trap);
  cli_error("trap: %s", weft_trap_message(trap));
  cli_print_backtrace(trap);
  return CLI_EXIT_TRAP;
}

int cli_run_wasi(weft_engine *engine, struct weft_cmodule *module, const char *file, char **args,
                 int nargs, const cli_wasi_opts *o) {
  int rc = CLI_EXIT_ERROR;
  weft_store_t *store = NULL;
  weft_linker_t *linker = NULL;
  weft_trap_t *trap = NULL;
  weft_error err;
  memset(&err, 0, sizeof err);
  weft_wasi_ctx *ctx = weft_wasi_ctx_new();
  if (ctx == NULL) {
    cli_error("out of memory");
    goto out;
  }
  if (cli_wasi_fill_ctx(ctx, file, args, nargs, o) != 0) goto out;
  store = weft_store_new(engine);
  linker = store != NULL ? weft_linker_new(store) : NULL;
  if (linker == NULL || weft_wasi_define(linker, store, ctx) != WEFT_OK) {
    cli_error("cannot set up WASI: out of memory");
    goto out;
  }
  rc = cli_preload_link(engine, linker, o->preload);
  if (rc != 0) goto out;
  rc = CLI_EXIT_ERROR;
  weft_instance_t *inst = NULL;
  uint64_t t0 = cli_time_ns();
  if (weft_linker_instantiate(linker, module, &inst, &trap, &err) != WEFT_OK) {
    cli_error("%s: %s (weft run provides wasi_snapshot_preview1 and the --preload modules)", file,
              err.message);
    goto out;
  }
  if (o->timings && trap == NULL) cli_timings_instantiate(cli_time_ns() - t0);
  if (trap != NULL) {
    rc = trap_status(trap);
    goto out;
  }
  weft_extern_t start;
  uint32_t np = 0, nr = 0;
  if (weft_instance_export(inst, "_start", &start) != WEFT_OK || start.kind != WEFT_EXTERN_FUNC) {
    cli_error("%s exports no '_start' function: name one with --invoke NAME", file);
    goto out;
  }
  if (weft_func_get_type(store, start.of.func, &np, NULL, &nr, NULL) != WEFT_OK || np != 0 ||
      nr != 0) {
    cli_error("%s: '_start' must take no parameters and return nothing: use --invoke _start", file);
    goto out;
  }
  int st = weft_func_call(store, start.of.func, NULL, 0, NULL, 0, &trap);
  if (st != WEFT_OK) {
    cli_error("cannot call '_start': %s", weft_status_str(st));
    goto out;
  }
  rc = trap != NULL ? trap_status(trap) : 0;
out:
  fflush(stdout);
  weft_trap_free(trap);
  weft_linker_free(linker);
  weft_store_free(store);
  weft_wasi_ctx_free(ctx);
  return rc;
}
