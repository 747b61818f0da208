/* bench/kernels/native_main.c -- native driver: `kernel N` calls run(N) and prints the checksum.
 * Linked with one kernel file by the harness (gcc -O2); the wasm builds use the engines' own callers.
 * Depends on libc (the native build is the only one that has it). */
#include <stdio.h>
#include <stdlib.h>

unsigned int run(int n);

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: %s N\n", argv[0]);
    return 2;
  }
  printf("%u\n", run(atoi(argv[1])));
  return 0;
}
