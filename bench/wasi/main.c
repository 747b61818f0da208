/* bench/wasi/main.c -- the one main() of the WASI benchmark programs: `kernel N` calls run(N) and prints
 * the checksum with printf. Linked with one kernel from bench/kernels/ (compiled unchanged, in its own
 * translation unit) twice: for wasm32-wasi with clang-14 and wasi-libc, and natively with gcc -O2.
 * Depends on libc (stdio, stdlib, errno) and on the kernel's `uint32_t run(int32_t n)` (bench.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* Declared here rather than through bench.h, whose own typedefs would clash with libc's <stdint.h>;
 * uint32_t and int32_t are unsigned int and int on both targets (bench.h asserts the widths). */
unsigned int run(int n);

int main(int argc, char **argv)
{
  const char *prog = argc > 0 ? argv[0] : "kernel";
  char *end = NULL;
  long n;

  if (argc != 2) {
    fprintf(stderr, "usage: %s N\n", prog);
    return 2;
  }
  errno = 0;
  n = strtol(argv[1], &end, 10);
  if (errno != 0 || end == argv[1] || *end != '\0' || n < 0 || n > 0x7fffffffL) {
    fprintf(stderr, "%s: N must be an integer in 0..2147483647, got '%s'\n", prog, argv[1]);
    return 2;
  }
  printf("%u\n", run((int)n));
  return 0;
}
