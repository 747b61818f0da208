/* tests/wasi/progs/trap.c -- guest program (wasm32-wasi): writes a line, then traps
 * (unreachable). */
#include <stdio.h>

int main(void) {
  printf("before the trap\n");
  fflush(stdout);
  __builtin_trap();
}
