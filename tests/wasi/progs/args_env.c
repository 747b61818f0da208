/* tests/wasi/progs/args_env.c -- guest program (wasm32-wasi): prints argc, every argv entry and the
 * whole environment (args_sizes_get/args_get, environ_sizes_get/environ_get). */
#include <stdio.h>

extern char **environ;

int main(int argc, char **argv) {
  printf("argc=%d\n", argc);
  for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
  for (char **e = environ; *e != NULL; e++) printf("env:%s\n", *e);
  return 0;
}
