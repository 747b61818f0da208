/* cli/cmd_validate.c -- `weft validate [options] FILE...`: decode and validate each module.
 * A .wat file is first converted with the text front end when it is built in (WEFT_HAVE_TEXT).
 * Prints "FILE: valid" per good module; the first bad one ends the run with exit status 1.
 * Depends on: cli/cli.h, core/decode.h (core_decode), core/engine.h (switches, validator wrapper).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "decode.h"
#include "engine.h"
#ifdef WEFT_HAVE_TEXT
#include "weft/text.h"
#endif

static void usage(FILE *out) {
  fputs("usage: weft validate [options] FILE.wasm|FILE.wat...\n"
        "Decode and validate each module; print 'FILE: valid' or one line saying what is wrong.\n\n",
        out);
  cli_common_usage(out);
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Print "FILE: [offset 0x..: ]message" for a diagnostic about a module file. */
static void report(const char *path, const weft_diag *d) {
  if (d->offset != UINT64_MAX)
    cli_error("%s: %s at offset 0x%llx: %s", path, d->origin[0] ? d->origin : "error",
              (unsigned long long)d->offset, d->message);
  else
    cli_error("%s: %s", path, d->message);
}

/* Validate one file with `e`. Returns 0 or CLI_EXIT_ERROR. */
static int validate_file(weft_engine *e, const char *path) {
  unsigned char *bytes = NULL;
  size_t size = 0;
  weft_module *m = NULL;
  weft_diag d;
  memset(&d, 0, sizeof d);
  int rc = cli_read_file(path, &bytes, &size);
  if (rc != 0) goto done;
  rc = CLI_EXIT_ERROR;
  if (ends_with(path, ".wat")) {
#ifdef WEFT_HAVE_TEXT
    uint8_t *bin = NULL;
    size_t binlen = 0;
    if (weft_wat_to_wasm((const char *)bytes, size, path, &bin, &binlen, &d) != WEFT_OK) {
      cli_error("%s%s%s", d.origin, d.origin[0] ? ": " : "", d.message);
      goto done;
    }
    free(bytes);
    bytes = malloc(binlen ? binlen : 1);
    if (bytes == NULL) {
      weft_wat_free(bin);
      cli_error("%s: out of memory", path);
      goto done;
    }
    memcpy(bytes, bin, binlen);
    size = binlen;
    weft_wat_free(bin);
#else
    cli_error("%s: this weft has no text front end: convert it with wat2wasm first", path);
    goto done;
#endif
  }
  if (core_decode(core_engine_types(e), bytes, size, &m, &d) != WEFT_OK) {
    report(path, &d);
    goto done;
  }
  if (core_engine_check_switches(e, m, &d) != WEFT_OK || core_engine_validate(e, m, &d) != WEFT_OK) {
    report(path, &d);
    goto done;
  }
  printf("%s: valid\n", path);
  rc = 0;
done:
  core_module_free(m);
  free(bytes);
  return rc;
}

int cli_cmd_validate(int argc, char **argv) {
  cli_common opts;
  weft_engine *engine = NULL;
  int rc = CLI_EXIT_ERROR;
  int nfiles = 0;
  cli_common_init(&opts);
  /* Options may come before or after the files; "--" ends options. */
  char **files = calloc((size_t)argc + 1, sizeof *files);
  if (files == NULL) {
    cli_error("out of memory");
    goto done;
  }
  for (int i = 1; i < argc;) {
    if (strcmp(argv[i], "--") == 0) {
      for (i++; i < argc; i++) files[nfiles++] = argv[i];
      break;
    }
    int t = cli_common_take(&opts, argc, argv, &i);
    if (t < 0) goto done;
    if (t > 0) continue;
    if (argv[i][0] == '-' && argv[i][1] != '\0') {
      cli_error("validate: unknown option '%s' (see weft validate --help)", argv[i]);
      goto done;
    }
    files[nfiles++] = argv[i++];
  }
  if (opts.help) {
    usage(stdout);
    rc = 0;
    goto done;
  }
  if (nfiles == 0) {
    cli_error("validate: no module given: write weft validate FILE.wasm");
    goto done;
  }
  rc = cli_engine_new(&opts, &engine, NULL);
  if (rc != 0) goto done;
  for (int i = 0; i < nfiles && rc == 0; i++) rc = validate_file(engine, files[i]);
done:
  weft_engine_free(engine);
  free(files);
  cli_common_free(&opts);
  return rc;
}
