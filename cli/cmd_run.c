/* cli/cmd_run.c -- `weft run [options] FILE.wasm|FILE.wat [args...]`: instantiate a module and call
 * an export (--invoke NAME, arguments parsed by the export's parameter types) or `_start`.
 * Prints each result as "i32:42" on its own line; exit 134 on a trap (message on stderr), 1 on any
 * other error. Depends on: cli/cli.h, weft/weft.h (runtime API), weft/text.h when built in.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "weft/weft.h"
#ifdef WEFT_HAVE_WASI
#include "weft/wasi.h"
#endif
#ifdef WEFT_HAVE_TEXT
#include "weft/text.h"
#endif

/* -- Usage ------------------------------------------------------------------------------------ */

static void usage(FILE *out) {
  fputs("usage: weft run [options] FILE.wasm|FILE.wat [args...]\n"
        "Instantiate FILE and run `_start`, or call one export with --invoke.\n\n"
        "  --invoke NAME    call export NAME with args parsed by its parameter types;\n"
        "                   print each result as TYPE:VALUE on its own line; WASI is\n"
        "                   linked as for _start (--env, --dir) with argv = FILE only\n",
        out);
#ifdef WEFT_HAVE_WASI
  cli_wasi_usage(out);
#endif
  cli_preload_usage(out);
  cli_timings_usage(out);
  cli_common_usage(out);
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* -- Loading ---------------------------------------------------------------------------------- */

/* Reads FILE, converting text to binary when it ends in .wat (cli.h). */
int cli_load_module(const char *path, const char *what, unsigned char **out, size_t *out_len) {
  int rc = cli_read_file(path, out, out_len);
  if (rc != 0 || !ends_with(path, ".wat")) return rc;
#ifdef WEFT_HAVE_TEXT
  uint8_t *bin = NULL;
  size_t binlen = 0;
  weft_diag d;
  memset(&d, 0, sizeof d);
  rc = weft_wat_to_wasm((const char *)*out, *out_len, path, &bin, &binlen, &d);
  free(*out);
  *out = NULL;
  if (rc != WEFT_OK) {
    cli_error("%s%s%s%s", what, d.origin, d.origin[0] ? ": " : "", d.message);
    return CLI_EXIT_ERROR;
  }
  *out = malloc(binlen != 0 ? binlen : 1);
  if (*out == NULL) {
    weft_wat_free(bin);
    cli_error("%s: out of memory", path);
    return CLI_EXIT_ERROR;
  }
  memcpy(*out, bin, binlen);
  *out_len = binlen;
  weft_wat_free(bin);
  return 0;
#else
  free(*out);
  *out = NULL;
  cli_error("%s%s: this weft has no text front end: convert it with wat2wasm first", what, path);
  return CLI_EXIT_ERROR;
#endif
}

/* -- Arguments and results -------------------------------------------------------------------- */

static const char *kind_name(weft_valkind k) {
  static const char *const names[] = {"i32", "i64", "f32", "f64", "v128",
                                      "funcref", "externref", "anyref", "exnref", "contref"};
  return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

/* Parses `text` as a value of kind k. Returns 0, or CLI_EXIT_ERROR after printing why. */
static int parse_arg(const char *text, weft_valkind k, weft_val_t *out) {
  char *end = NULL;
  memset(out, 0, sizeof *out);
  out->kind = (uint32_t)k;
  errno = 0;
  switch (k) {
  case WEFT_VAL_I32: {
    long long v = strtoll(text, &end, 0);
    if (errno != 0 || end == text || *end != '\0' || v < INT32_MIN || v > (long long)UINT32_MAX) break;
    out->of.i32 = (int32_t)(uint32_t)v;
    return 0;
  }
  case WEFT_VAL_I64: {
    if (text[0] == '-') {
      long long v = strtoll(text, &end, 0);
      if (errno != 0 || end == text || *end != '\0') break;
      out->of.i64 = v;
    } else {
      unsigned long long v = strtoull(text, &end, 0);
      if (errno != 0 || end == text || *end != '\0') break;
      out->of.i64 = (int64_t)v;
    }
    return 0;
  }
  case WEFT_VAL_F32:
    out->of.f32 = strtof(text, &end);
    if (end == text || *end != '\0') break;
    return 0;
  case WEFT_VAL_F64:
    out->of.f64 = strtod(text, &end);
    if (end == text || *end != '\0') break;
    return 0;
  default:
    cli_error("cannot pass a %s argument on the command line", kind_name(k));
    return CLI_EXIT_ERROR;
  }
  cli_error("argument '%s' is not a valid %s", text, kind_name(k));
  return CLI_EXIT_ERROR;
}

/* The trap's frames under its message, in Wasmtime's layout: index, module offset, name; a line
 * marks each stack boundary (a continuation's resume site, host frames between activations). */
void cli_print_backtrace(const weft_trap_t *trap) {
  size_t n = weft_trap_frame_count(trap);
  if (n == 0) return;
  fputs("wasm backtrace:\n", stderr);
  for (size_t i = 0; i < n; i++) {
    uint64_t off = weft_trap_frame_module_offset(trap, i);
    const char *name = weft_trap_frame_func_name(trap, i);
    uint32_t b = weft_trap_frame_boundary(trap, i);
    if (b == WEFT_BOUNDARY_CONTINUATION)
      fprintf(stderr, "    --- continuation resumed at %s ---\n", name);
    else if (b == WEFT_BOUNDARY_HOST)
      fputs("    --- host frames ---\n", stderr);
    char where[24] = "?";
    if (off != UINT64_MAX) snprintf(where, sizeof where, "0x%" PRIx64, off);
    fprintf(stderr, "  %4zu: %8s - %s\n", i, where, name);
  }
  if (weft_trap_frames_truncated(trap))
    fputs("    ... older frames not shown (raise [backtrace] max_frames to see more)\n", stderr);
}

static void print_result(const weft_val_t *v) {
  switch ((weft_valkind)v->kind) {
  case WEFT_VAL_I32: printf("i32:%" PRId32 "\n", v->of.i32); break;
  case WEFT_VAL_I64: printf("i64:%" PRId64 "\n", v->of.i64); break;
  case WEFT_VAL_F32: printf("f32:%.9g\n", (double)v->of.f32); break;
  case WEFT_VAL_F64: printf("f64:%.17g\n", v->of.f64); break;
  case WEFT_VAL_V128:
    fputs("v128:0x", stdout);
    for (int i = 15; i >= 0; i--) printf("%02x", v->of.v128[i]);
    putchar('\n');
    break;
  case WEFT_VAL_FUNCREF:
    printf("funcref:%s\n", v->of.funcref.ref == NULL ? "null" : "func");
    break;
  case WEFT_VAL_CONTREF:
    printf("contref:%s\n", v->of.cont.contref == NULL ? "null" : "cont");
    break;
  default:
    printf("%s:%s\n", kind_name((weft_valkind)v->kind), v->of.ref == NULL ? "null" : "ref");
    break;
  }
}

/* -- Running ---------------------------------------------------------------------------------- */

typedef struct run_opts {
  const char *file;
  const char *invoke; /* NULL: _start */
  char **args;
  int nargs;
  cli_wasi_opts wasi; /* --env, --dir (cli/run_wasi.c) */
  cli_preload_opts preload; /* --preload NAME=FILE (cli/preload.c) */
  bool timings; /* --timings (cli/timings.c) */
} run_opts;

/* Calls `func` with the command-line arguments; prints the results. Returns the exit status. */
static int call_export(weft_store_t *store, weft_func_t func, const run_opts *o) {
  uint32_t np = 0, nr = 0;
  const weft_valtype *p = NULL, *r = NULL;
  if (weft_func_get_type(store, func, &np, &p, &nr, &r) != WEFT_OK) {
    cli_error("%s: cannot read the type of '%s'", o->file, o->invoke);
    return CLI_EXIT_ERROR;
  }
  if ((uint32_t)o->nargs != np) {
    cli_error("'%s' takes %u argument%s but %d %s given", o->invoke, np, np == 1 ? "" : "s",
              o->nargs, o->nargs == 1 ? "was" : "were");
    return CLI_EXIT_ERROR;
  }
  int rc = CLI_EXIT_ERROR;
  weft_val_t *args = calloc(np + 1, sizeof *args), *res = calloc(nr + 1, sizeof *res);
  weft_trap_t *trap = NULL;
  if (args == NULL || res == NULL) {
    cli_error("out of memory");
    goto out;
  }
  for (uint32_t i = 0; i < np; i++)
    if (parse_arg(o->args[i], weft_valtype_kind(p[i]), &args[i]) != 0) goto out;
  int st = weft_func_call(store, func, args, np, res, nr, &trap);
  if (st != WEFT_OK) {
    cli_error("cannot call '%s': %s", o->invoke, weft_status_str(st));
    goto out;
  }
  if (trap != NULL) {
    if (weft_trap_kind_of(trap) == WEFT_TRAPKIND_EXIT) {
      rc = weft_trap_exit_status(trap);
      goto out;
    }
    cli_error("trap: %s", weft_trap_message(trap));
    cli_print_backtrace(trap);
    rc = CLI_EXIT_TRAP;
    goto out;
  }
  for (uint32_t i = 0; i < nr; i++) print_result(&res[i]);
  fflush(stdout);
  rc = 0;
out:
  weft_trap_free(trap);
  free(args);
  free(res);
  return rc;
}

static int run_module(weft_engine *engine, const run_opts *o) {
  unsigned char *bytes = NULL;
  size_t len = 0;
  weft_module_t *mod = NULL;
  weft_store_t *store = NULL;
  weft_linker_t *linker = NULL;
#ifdef WEFT_HAVE_WASI
  weft_wasi_ctx *wasi = NULL;
#endif
  weft_error err;
  memset(&err, 0, sizeof err);
  int rc = cli_load_module(o->file, "", &bytes, &len);
  if (rc != 0) goto out;
  rc = CLI_EXIT_ERROR;
  uint64_t t0 = cli_time_ns();
  if (weft_module_new(engine, bytes, len, &mod, &err) != WEFT_OK) {
    if (err.offset != UINT64_MAX)
      cli_error("%s: %s at offset 0x%llx: %s", o->file, err.origin[0] ? err.origin : "error",
                (unsigned long long)err.offset, err.message);
    else
      cli_error("%s: %s", o->file, err.message);
    goto out;
  }
  if (o->timings) cli_timings_module(mod, cli_time_ns() - t0);
  const char *name = o->invoke != NULL ? o->invoke : "_start";
#ifdef WEFT_HAVE_WASI
  if (o->invoke == NULL) { /* _start under WASI preview1 */
    rc = cli_run_wasi(engine, mod, o->file, o->args, o->nargs, &o->wasi);
    goto out;
  }
#endif
  if (o->invoke == NULL && o->preload.n == 0 && weft_module_import_count(mod) > 0) {
    weft_module_item_t it;
    weft_module_import_get(mod, 0, &it);
    cli_error("%s imports \"%s\" \"%s\", but WASI and other host imports are not available yet: "
              "use --invoke on a module without imports", o->file, it.module, it.name);
    goto out;
  }
  store = weft_store_new(engine);
  linker = store != NULL ? weft_linker_new(store) : NULL;
  if (linker == NULL) {
    cli_error("out of memory");
    goto out;
  }
#ifdef WEFT_HAVE_WASI
  /* An invoked export gets the same WASI context as _start (--env, --dir), except that argv is
   * just FILE: the remaining arguments are the export's (as in Wasmtime). */
  wasi = weft_wasi_ctx_new();
  if (wasi == NULL) {
    cli_error("cannot set up WASI: out of memory");
    goto out;
  }
  if (cli_wasi_fill_ctx(wasi, o->file, NULL, 0, &o->wasi) != 0) goto out;
  if (weft_wasi_define(linker, store, wasi) != WEFT_OK) {
    cli_error("cannot set up WASI: out of memory");
    goto out;
  }
#endif
  rc = cli_preload_link(engine, linker, &o->preload);
  if (rc != 0) goto out;
  rc = CLI_EXIT_ERROR;
  weft_instance_t *inst = NULL;
  weft_trap_t *trap = NULL;
  uint64_t t1 = cli_time_ns();
  if (weft_linker_instantiate(linker, mod, &inst, &trap, &err) != WEFT_OK) {
    cli_error("%s: %s", o->file, err.message);
    goto out;
  }
  if (o->timings && trap == NULL) cli_timings_instantiate(cli_time_ns() - t1);
  if (trap != NULL) {
    cli_error("trap: %s", weft_trap_message(trap));
    cli_print_backtrace(trap);
    weft_trap_free(trap);
    rc = CLI_EXIT_TRAP;
    goto out;
  }
  weft_extern_t ext;
  if (weft_instance_export(inst, name, &ext) != WEFT_OK || ext.kind != WEFT_EXTERN_FUNC) {
    if (o->invoke != NULL)
      cli_error("%s has no exported function '%s'", o->file, name);
    else
      cli_error("%s exports no '_start' function: name one with --invoke NAME", o->file);
    goto out;
  }
  run_opts call = *o;
  call.invoke = name;
  rc = call_export(store, ext.of.func, &call);
out:
  weft_linker_free(linker);
  weft_store_free(store);
#ifdef WEFT_HAVE_WASI
  weft_wasi_ctx_free(wasi);
#endif
  weft_module_free(mod);
  free(bytes);
  return rc;
}

int cli_cmd_run(int argc, char **argv) {
  cli_common common;
  cli_common_init(&common);
  run_opts o = {0};
  int rc = CLI_EXIT_ERROR;
  int i = 1;
  while (i < argc && o.file == NULL) {
    int t = cli_common_take(&common, argc, argv, &i);
    if (t < 0) goto out;
    if (t > 0) continue;
#ifdef WEFT_HAVE_WASI
    t = cli_wasi_take(&o.wasi, argc, argv, &i);
    if (t < 0) goto out;
    if (t > 0) continue;
#endif
    t = cli_preload_take(&o.preload, argc, argv, &i);
    if (t < 0) goto out;
    if (t > 0) continue;
    const char *a = argv[i];
    if (strcmp(a, "--invoke") == 0) {
      if (i + 1 >= argc) {
        cli_error("--invoke needs an export name");
        goto out;
      }
      o.invoke = argv[i + 1];
      i += 2;
    } else if (strncmp(a, "--invoke=", 9) == 0) {
      o.invoke = a + 9;
      i++;
    } else if (strcmp(a, "--timings") == 0) {
      o.timings = true;
      i++;
    } else if (strcmp(a, "--") == 0) {
      i++;
      if (i < argc) o.file = argv[i++];
    } else if (a[0] == '-' && a[1] != '\0') {
      cli_error("unknown option '%s': see weft run --help", a);
      goto out;
    } else {
      o.file = argv[i++];
    }
  }
  if (common.help) {
    usage(stdout);
    rc = 0;
    goto out;
  }
  if (o.file == NULL) {
    cli_error("no module given: weft run [options] FILE.wasm [args...]");
    goto out;
  }
  o.args = argv + i;
  o.nargs = argc - i;
#ifdef WEFT_HAVE_WASI
  o.wasi.preload = &o.preload;
  o.wasi.timings = o.timings;
#endif
  weft_engine *engine = NULL;
  if (cli_engine_new(&common, &engine, NULL) != 0) goto out;
  rc = run_module(engine, &o);
  weft_engine_free(engine);
out:
#ifdef WEFT_HAVE_WASI
  cli_wasi_free(&o.wasi);
#endif
  cli_preload_free(&o.preload);
  cli_common_free(&common);
  return rc;
}
