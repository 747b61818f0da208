/* cli/main.c -- the `weft` command: picks the subcommand and holds the helpers every subcommand
 * shares (common options, building the engine, one-line errors). The subcommands live in
 * cli/cmd_*.c; run and wast are built in only when their files exist (WEFT_HAVE_CMD_RUN/WAST).
 * Depends on: cli/cli.h, weft/weft.h (config, engine, version), core/config.h (feature names).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h" /* core_cfg_features: the -W names */
#include "weft/weft.h"

/* -- Errors and logging ---------------------------------------------------------------------- */

void cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("weft: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

void cli_print_error(const weft_error *err) {
  size_t olen = strlen(err->origin);
  /* Config and loader messages already start with their origin ("file:line: ..."). */
  if (olen == 0 || strstr(err->message, err->origin) != NULL)
    cli_error("%s", err->message);
  else
    cli_error("%s: %s", err->origin, err->message);
}

static int log_threshold(void) {
  const char *v = getenv("WEFT_LOG");
  if (v == NULL) return WEFT_LOG_WARN;
  if (strcmp(v, "debug") == 0) return WEFT_LOG_DEBUG;
  if (strcmp(v, "info") == 0) return WEFT_LOG_INFO;
  if (strcmp(v, "error") == 0) return WEFT_LOG_ERROR;
  return WEFT_LOG_WARN;
}

static void log_to_stderr(void *ud, weft_log_level level, const char *origin, const char *message) {
  static const char *const names[] = {"error", "warning", "info", "debug"};
  (void)ud;
  if ((int)level > log_threshold()) return;
  fprintf(stderr, "weft: %s%s%s: %s\n", origin, origin[0] != '\0' ? ": " : "",
          (unsigned)level < 4 ? names[level] : "log", message);
}

/* -- Common options -------------------------------------------------------------------------- */

void cli_common_init(cli_common *c) { memset(c, 0, sizeof *c); }

void cli_common_free(cli_common *c) {
  for (size_t i = 0; i < c->noverrides; i++) free(c->overrides[i]);
  free(c->overrides);
  memset(c, 0, sizeof *c);
}

void cli_common_usage(FILE *out) {
  fputs("common options:\n"
        "  -c, --config FILE        read this ini file instead of the default configuration\n"
        "  -C SECTION.KEY=VALUE     override one key (beats the file); may repeat\n"
        "  -W FEATURE=yes|no        switch a [wasm] feature (same as -C wasm.FEATURE=...)\n"
        "  -h, --help               show help for this subcommand\n",
        out);
}

static int add_override(cli_common *c, const char *text) {
  char *copy = strdup(text);
  char **list = copy != NULL ? realloc(c->overrides, (c->noverrides + 1) * sizeof *list) : NULL;
  if (list == NULL) {
    free(copy);
    cli_error("out of memory");
    return -1;
  }
  c->overrides = list;
  c->overrides[c->noverrides++] = copy;
  return 1;
}

/* The value of option `opt` at argv[*i]: attached ("-cFILE", "--config=FILE") or the next
 * argument. NULL (and an error printed) when missing. Advances *i past what it used. */
static const char *option_value(int argc, char **argv, int *i, size_t optlen, bool long_form) {
  const char *arg = argv[*i];
  if (arg[optlen] != '\0') {
    if (long_form && arg[optlen] != '=') return NULL;
    (*i)++;
    return arg + optlen + (long_form ? 1 : 0);
  }
  if (*i + 1 >= argc) {
    cli_error("option %s needs a value (see --help)", arg);
    return NULL;
  }
  *i += 2;
  return argv[*i - 1];
}

int cli_common_take(cli_common *c, int argc, char **argv, int *i) {
  const char *arg = argv[*i];
  const char *v;
  if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
    c->help = true;
    (*i)++;
    return 1;
  }
  if (strncmp(arg, "--config", 8) == 0 && (arg[8] == '\0' || arg[8] == '=')) {
    if ((v = option_value(argc, argv, i, 8, true)) == NULL) return -1;
    c->config_path = v;
    return 1;
  }
  if (strncmp(arg, "-c", 2) == 0) {
    if ((v = option_value(argc, argv, i, 2, false)) == NULL) return -1;
    c->config_path = v;
    return 1;
  }
  if (strncmp(arg, "-C", 2) == 0) {
    if ((v = option_value(argc, argv, i, 2, false)) == NULL) return -1;
    const char *eq = strchr(v, '='), *dot = strchr(v, '.');
    if (eq == NULL || dot == NULL || dot > eq) {
      cli_error("-C %s: write -C section.key=value (e.g. -C core.max_wasm_stack=2M)", v);
      return -1;
    }
    return add_override(c, v);
  }
  if (strncmp(arg, "-W", 2) == 0) {
    if ((v = option_value(argc, argv, i, 2, false)) == NULL) return -1;
    char buf[256];
    const char *eq = strchr(v, '=');
    int n = eq != NULL ? snprintf(buf, sizeof buf, "wasm.%s", v)
                       : snprintf(buf, sizeof buf, "wasm.%s=yes", v);
    if (n < 0 || (size_t)n >= sizeof buf || v[0] == '=' || strchr(v, '.') != NULL) {
      cli_error("-W %s: write -W feature=yes|no (e.g. -W stack_switching=no)", v);
      return -1;
    }
    size_t flen = eq != NULL ? (size_t)(eq - v) : strlen(v);
    bool known = false;
    char names[256] = "";
    for (size_t f = 0; f < core_cfg_nfeatures; f++) {
      const char *key = core_cfg_features[f].key;
      known |= strlen(key) == flen && strncmp(key, v, flen) == 0;
      size_t used = strlen(names);
      snprintf(names + used, sizeof names - used, "%s%s", f ? ", " : "", key);
    }
    if (!known) {
      cli_error("-W %.*s: unknown feature (known: %s)", (int)flen, v, names);
      return -1;
    }
    return add_override(c, buf);
  }
  return 0;
}

/* -- Building the engine --------------------------------------------------------------------- */

int cli_config_new(const cli_common *c, weft_config **out_cfg) {
  weft_error err;
  weft_config *cfg = NULL;
  int rc = CLI_EXIT_ERROR;
  const char *path = c->config_path != NULL ? c->config_path : weft_config_default_path();
  if (weft_config_load(path, &cfg, &err) != WEFT_OK) {
    if (c->config_path == NULL && err.code == WEFT_ERR_IO)
      cli_error("%s: cannot read the default configuration: pass one with -c FILE", path);
    else
      cli_print_error(&err);
    goto done;
  }
  for (size_t i = 0; i < c->noverrides; i++) {
    if (weft_config_set_str(cfg, c->overrides[i], &err) != WEFT_OK) {
      cli_print_error(&err);
      goto done;
    }
  }
  weft_config_set_log(cfg, log_to_stderr, NULL);
  rc = 0;
done:
  if (rc != 0) {
    weft_config_free(cfg);
    cfg = NULL;
  }
  *out_cfg = cfg;
  return rc;
}

int cli_engine_new(const cli_common *c, weft_engine **out_engine, weft_config **out_cfg) {
  weft_config *cfg = NULL;
  weft_error err;
  *out_engine = NULL;
  if (out_cfg != NULL) *out_cfg = NULL;
  int rc = cli_config_new(c, &cfg);
  if (rc != 0) return rc;
  if (weft_engine_new(cfg, out_engine, &err) != WEFT_OK) {
    cli_print_error(&err);
    weft_config_free(cfg);
    return CLI_EXIT_ERROR;
  }
  if (out_cfg != NULL)
    *out_cfg = cfg;
  else
    weft_config_free(cfg);
  return 0;
}

/* -- Files ----------------------------------------------------------------------------------- */

int cli_read_file(const char *path, unsigned char **out_bytes, size_t *out_size) {
  int rc = CLI_EXIT_ERROR;
  unsigned char *buf = NULL;
  *out_bytes = NULL;
  *out_size = 0;
  FILE *f = fopen(path, "rb");
  struct stat st;
  if (f == NULL) {
    cli_error("%s: cannot open: %s", path, strerror(errno));
    goto done;
  }
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    cli_error("%s: not a regular file", path);
    goto done;
  }
  size_t size = (size_t)st.st_size;
  buf = malloc(size + 1); /* +1: text readers want a terminator */
  if (buf == NULL) {
    cli_error("%s: out of memory reading %zu bytes", path, size);
    goto done;
  }
  if (fread(buf, 1, size, f) != size) {
    cli_error("%s: cannot read: %s", path, ferror(f) ? strerror(errno) : "file changed size");
    goto done;
  }
  buf[size] = '\0';
  *out_bytes = buf;
  *out_size = size;
  buf = NULL;
  rc = 0;
done:
  if (f != NULL) fclose(f);
  free(buf);
  return rc;
}

/* -- Dispatch -------------------------------------------------------------------------------- */

static void usage(FILE *out) {
  fputs("usage: weft [run] [options] FILE.wasm|FILE.wat [args...]\n"
        "       weft wast [options] FILE.wast...\n"
        "       weft validate [options] FILE...\n"
        "       weft config [options]\n"
        "       weft --help | --version\n"
        "\n"
        "subcommands:\n"
        "  run        run a module: _start under WASI, or --invoke NAME (the default)\n"
        "  wast       run spec scripts; prints 'N passed, N failed'\n"
        "  validate   decode and validate modules\n"
        "  config     print the effective configuration and every plugin's keys\n"
        "\n",
        out);
  cli_common_usage(out);
  fputs("\nexit status: the guest's exit code; 134 on a trap; 1 on any other error.\n"
        "'weft SUBCOMMAND --help' shows a subcommand's own options.\n",
        out);
}

typedef int (*cmd_fn)(int argc, char **argv);

static cmd_fn find_cmd(const char *name) {
  if (strcmp(name, "validate") == 0) return cli_cmd_validate;
  if (strcmp(name, "config") == 0) return cli_cmd_config;
#ifdef WEFT_HAVE_CMD_RUN
  if (strcmp(name, "run") == 0) return cli_cmd_run;
#endif
#ifdef WEFT_HAVE_CMD_WAST
  if (strcmp(name, "wast") == 0) return cli_cmd_wast;
#endif
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CLI_EXIT_ERROR;
  }
  const char *first = argv[1];
  if (strcmp(first, "--help") == 0 || strcmp(first, "-h") == 0 || strcmp(first, "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(first, "--version") == 0 || strcmp(first, "-V") == 0) {
    printf("weft %s (plugin ABI %d.%d)\n", weft_version(), WEFT_ABI_MAJOR, WEFT_ABI_MINOR);
    return 0;
  }
  cmd_fn cmd = find_cmd(first);
  if (cmd != NULL) return cmd(argc - 1, argv + 1);
  if (strcmp(first, "run") == 0 || strcmp(first, "wast") == 0) {
    cli_error("'%s' is not built into this weft yet: use 'weft validate' or 'weft config'", first);
    return CLI_EXIT_ERROR;
  }
  /* No subcommand name: "weft [options] FILE" means "weft run [options] FILE". */
  bool looks_like_cmd = first[0] != '-' && strchr(first, '.') == NULL &&
                        strchr(first, '/') == NULL && access(first, F_OK) != 0;
  if (looks_like_cmd) {
    cli_error("unknown subcommand '%s': use run, wast, validate or config (see --help)", first);
    return CLI_EXIT_ERROR;
  }
#ifdef WEFT_HAVE_CMD_RUN
  argv[0] = (char *)"run";
  return cli_cmd_run(argc, argv);
#else
  cli_error("'run' is not built into this weft yet: use 'weft validate %s'", first);
  return CLI_EXIT_ERROR;
#endif
}
