/* cli/cmd_config.c -- `weft config [options]`: print the effective configuration as ini text,
 * with every loaded plugin's declared keys, their types, defaults and help texts as comments.
 * Loading the plugins is part of the check, so a bad config fails here as it would in `run`.
 * Depends on: cli/cli.h, weft/engine.h (weft_engine_dump_config).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *out) {
  fputs("usage: weft config [options]\n"
        "Load the configuration and its plugins, then print the effective values of every key\n"
        "(the default file, or -c FILE, with -C/-W overrides applied).\n\n",
        out);
  cli_common_usage(out);
}

static void print_line(void *ud, const char *line) {
  FILE *out = ud;
  fputs(line, out);
  fputc('\n', out);
}

int cli_cmd_config(int argc, char **argv) {
  cli_common opts;
  weft_engine *engine = NULL;
  int rc = CLI_EXIT_ERROR;
  cli_common_init(&opts);
  for (int i = 1; i < argc;) {
    int t = cli_common_take(&opts, argc, argv, &i);
    if (t < 0) goto done;
    if (t == 0) {
      cli_error("config: unexpected argument '%s' (see weft config --help)", argv[i]);
      goto done;
    }
  }
  if (opts.help) {
    usage(stdout);
    rc = 0;
    goto done;
  }
  rc = cli_engine_new(&opts, &engine, NULL);
  if (rc != 0) goto done;
  weft_engine_dump_config(engine, print_line, stdout);
  rc = 0;
done:
  weft_engine_free(engine);
  cli_common_free(&opts);
  return rc;
}
