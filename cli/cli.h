/* cli/cli.h -- what the `weft` command's subcommands share (helpers implemented in cli/main.c).
 * Each cli_cmd_* parses its own options, calls cli_common_take() for the common ones (-c FILE,
 * -C section.key=value, -W feature=yes|no, --help), then cli_engine_new() for a configured engine.
 * Depends on: weft/engine.h (the public config and engine API).
 */
#ifndef WEFT_CLI_H
#define WEFT_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "weft/engine.h"

/* -- Subcommands (each returns the process exit status) --------------------------------------- */

int cli_cmd_run(int argc, char **argv);      /* cli/cmd_run.c ("runtime"); argv[0] is "run" */
int cli_cmd_wast(int argc, char **argv);     /* cli/cmd_wast.c ("text");   argv[0] is "wast" */
int cli_cmd_validate(int argc, char **argv); /* cli/cmd_validate.c */
int cli_cmd_config(int argc, char **argv);   /* cli/cmd_config.c */

/* Exit status for any error that is not a trap or a guest exit code (DESIGN §12). */
#define CLI_EXIT_ERROR 1
/* Exit status when the guest traps. */
#define CLI_EXIT_TRAP 134

/* -- Common options ------------------------------------------------------------------------- */

typedef struct cli_common {
  const char *config_path; /* -c FILE, or NULL for the default configuration */
  char **overrides;        /* "section.key=value" from -C, and "wasm.F=V" from -W F=V, in order */
  size_t noverrides;
  bool help;               /* --help or -h was given */
} cli_common;

/* Start with everything empty (no allocation). */
void cli_common_init(cli_common *c);

/* Look at argv[*i]. If it is a common option, consume it (and its value, as the next argument or
 * after '=': "-cFILE", "-c FILE", "--config=FILE"), advance *i past it and return 1. Return 0 if it
 * is not a common option (nothing consumed). Return -1 after printing a one-line error (missing
 * value, malformed -C/-W) to stderr; the caller then exits with CLI_EXIT_ERROR. */
int cli_common_take(cli_common *c, int argc, char **argv, int *i);

/* Free what cli_common_take allocated. */
void cli_common_free(cli_common *c);

/* The lines describing the common options, for each subcommand's --help. */
void cli_common_usage(FILE *out);

/* Build the configuration from the options (the file given with -c, else the default file; then
 * every override in order) and create the engine from it. The engine logs to stderr. On failure,
 * print one line to stderr ("weft: <file>:<line>: ...") and return CLI_EXIT_ERROR; on success store
 * the engine (free it with weft_engine_free) and return 0. `out_cfg` may be NULL; when not NULL it
 * receives the configuration as well (free it with weft_config_free). */
int cli_engine_new(const cli_common *c, weft_engine **out_engine, weft_config **out_cfg);

/* Only the configuration part of cli_engine_new (no plugins loaded). Same error behaviour. */
int cli_config_new(const cli_common *c, weft_config **out_cfg);

/* Print "weft: <message>\n" to stderr. Messages are one line saying what went wrong and what to do. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a weft_error as one line: "weft: <origin>: <message>" (origin omitted when empty). */
void cli_print_error(const weft_error *err);

/* Read a whole file into memory. Returns 0 and sets *out_bytes (free with free()) and *out_size, or
 * prints a one-line error naming the file and returns CLI_EXIT_ERROR. */
int cli_read_file(const char *path, unsigned char **out_bytes, size_t *out_size);

/* Read a module file; a name ending in .wat is converted to binary by the text front end. Returns 0
 * and sets *out (free with free()) and *out_len, or prints one line, prefixed by `what` (e.g.
 * "--preload "; may be ""), and returns CLI_EXIT_ERROR. (cli/cmd_run.c) */
int cli_load_module(const char *path, const char *what, unsigned char **out, size_t *out_len);

/* Print a trap's frames to stderr under its message, in Wasmtime's layout: index, module offset,
 * name, and a line at each stack boundary (a continuation's resume site, host frames between
 * activations). Nothing when the trap has no frames (no backtrace plugin). (cli/cmd_run.c) */
struct weft_trap;
void cli_print_backtrace(const struct weft_trap *trap);

/* -- WASI (cli/run_wasi.c, part "wasi"; built when the weft-wasi library exists) ------------- */

/* The --env and --dir options of `weft run`; the strings are borrowed from argv. */
typedef struct cli_wasi_opts {
  const char **env; /* "KEY=VALUE", or "KEY" to pass on the host's value */
  size_t nenv;
  const char **dirs; /* "HOST" or "HOST::GUEST" */
  size_t ndirs;
  const struct cli_preload_opts *preload; /* --preload modules to link first, or NULL */
  bool timings; /* --timings: print the instantiation time (cli/timings.c) */
} cli_wasi_opts;

/* Like cli_common_take for --env KEY=VALUE and --dir HOST[::GUEST] (also --env=..., --dir=...):
 * 1 consumed, 0 not one of them, -1 after printing an error. */
int cli_wasi_take(cli_wasi_opts *o, int argc, char **argv, int *i);
void cli_wasi_free(cli_wasi_opts *o);
void cli_wasi_usage(FILE *out);

/* Fills `ctx` as `weft run` does: argv is `file` then `args` (nargs of them), the --env variables
 * (--env KEY takes the host's value, nothing when unset) and the --dir preopens in order. Used by
 * cli_run_wasi and by --invoke (cli/cmd_run.c, with nargs 0). 0, or CLI_EXIT_ERROR after printing
 * one line (bad --dir, out of memory). */
struct weft_wasi_ctx;
int cli_wasi_fill_ctx(struct weft_wasi_ctx *ctx, const char *file, char **args, int nargs,
                      const cli_wasi_opts *o);

/* Runs `_start` of `module` under WASI preview1 (argv: file, then args). Returns the exit status:
 * the guest's proc_exit code, 0 when _start returns, CLI_EXIT_TRAP on a trap, CLI_EXIT_ERROR
 * after printing any other error. */
struct weft_cmodule;
int cli_run_wasi(weft_engine *engine, struct weft_cmodule *module, const char *file, char **args,
                 int nargs, const cli_wasi_opts *o);

/* -- Preloaded modules (cli/preload.c, part "demo") ---------------------------------------- */

/* The --preload NAME=FILE options of `weft run`, in order; the strings are borrowed from argv. */
typedef struct cli_preload_opts {
  const char **specs;
  size_t n;
} cli_preload_opts;

/* Like cli_common_take for --preload NAME=FILE (also --preload=NAME=FILE). */
int cli_preload_take(cli_preload_opts *o, int argc, char **argv, int *i);
void cli_preload_free(cli_preload_opts *o);
void cli_preload_usage(FILE *out);

/* Instantiates each preload in order with `linker` (so it may import what the linker already
 * defines, WASI and earlier preloads) and defines its exports under NAME. 0, or the exit status
 * after printing a one-line error naming the file. `o` may be NULL (nothing to do). */
struct weft_linker;
int cli_preload_link(weft_engine *engine, struct weft_linker *linker, const cli_preload_opts *o);

/* -- Timings (cli/timings.c, part "perf"): `weft run --timings` -------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t cli_time_ns(void);
/* The --timings line of `weft run --help`. */
void cli_timings_usage(FILE *out);
/* Prints to stderr the module's decode+validate and compile times (weft_module_stats), the code
 * section's size and throughput, and `total_ns`, the time weft_module_new took as seen by the CLI. */
void cli_timings_module(const struct weft_cmodule *mod, uint64_t total_ns);
/* Prints "instantiate: X us" to stderr. */
void cli_timings_instantiate(uint64_t ns);

#endif /* WEFT_CLI_H */
