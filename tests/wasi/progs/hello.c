/* tests/wasi/progs/hello.c -- guest program (wasm32-wasi, built by tests/wasi with clang-14 and
 * wasi-libc): printf through fd_write on stdout. */
#include <stdio.h>

int main(void) {
  printf("hello, world\n");
  return 0;
}
