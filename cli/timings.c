/* cli/timings.c -- `weft run --timings`: where the command's time went, printed to stderr one item
 * per line in the form bench/run.py parses ("compile: 1.250 ms", "instantiate: 40.0 us").
 * The module's phases come from weft_module_stats (measured inside weft_module_new); instantiation
 * is timed here around the API call. Depends on: cli/cli.h, weft/weft.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "cli.h"
#include "weft/weft.h"

uint64_t cli_time_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void cli_timings_usage(FILE *out) {
  fputs("  --timings        print to stderr, one per line: decode+validate and compile (the\n"
        "                   codegen alone) times in ms, the code section's size and the compile\n"
        "                   throughput, and the instantiation time in us\n",
        out);
}

void cli_timings_module(const struct weft_cmodule *mod, uint64_t total_ns) {
  weft_module_stats_t st;
  if (weft_module_stats(mod, &st) != WEFT_OK) return;
  double dv = (double)(st.decode_ns + st.validate_ns) / 1e6;
  double c = (double)st.compile_ns / 1e6;
  fprintf(stderr, "decode+validate: %.3f ms (decode %.3f ms, validate %.3f ms)\n", dv,
          (double)st.decode_ns / 1e6, (double)st.validate_ns / 1e6);
  fprintf(stderr, "compile: %.3f ms\n", c);
  fprintf(stderr, "cpu time: decode %.3f ms, validate %.3f ms, codegen %.3f ms\n",
          (double)st.decode_cpu_ns / 1e6, (double)st.validate_cpu_ns / 1e6,
          (double)st.compile_cpu_ns / 1e6);
  fprintf(stderr, "code section: %" PRIu64 " B, %" PRIu32 " functions -> %" PRIu64
                  " B of machine code\n",
          st.code_section_bytes, st.ndefined_funcs, st.machine_code_bytes);
  if (st.compile_ns > 0 && st.code_section_bytes > 0)
    fprintf(stderr, "throughput: %.1f MB/s codegen alone, %.1f MB/s decode+validate+compile\n",
            (double)st.code_section_bytes * 1e3 / (double)st.compile_ns,
            (double)st.code_section_bytes * 1e3 /
                (double)(st.decode_ns + st.validate_ns + st.compile_ns));
  fprintf(stderr, "module total: %.3f ms (weft_module_new, registration included)\n",
          (double)total_ns / 1e6);
}

void cli_timings_instantiate(uint64_t ns) {
  fprintf(stderr, "instantiate: %.1f us\n", (double)ns / 1e3);
}
