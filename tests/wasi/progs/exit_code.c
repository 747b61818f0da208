/* tests/wasi/progs/exit_code.c -- guest program (wasm32-wasi): exit(argv[1]) through proc_exit,
 * after writing to stdout and stderr. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  printf("exiting\n");
  fprintf(stderr, "to stderr\n");
  exit(argc > 1 ? atoi(argv[1]) : 0);
}
