/* examples/coro/misuse.c -- the coroutine library's errors are WebAssembly traps, not memory
 * corruption: `misuse finished` resumes a coroutine that has returned (null continuation), `misuse
 * self` has a coroutine resume itself (its continuation is already taken). Each prints how far it
 * got; ctest example.coro.misuse_* expects the trap (exit 134) after that line.
 * Depends on: coro.h / coro.c, wasi-libc.
 */
#include <stdio.h>
#include <string.h>

#include "coro.h"

static coro *me;

static int once(int v) {
  return v * 2;
}

static int selfish(int v) {
  printf("inside: resuming myself\n");
  fflush(stdout);
  return coro_resume(me, v);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "finished") == 0) {
    coro *c = coro_new(once, 21);
    if (c == NULL) return 1;
    printf("first resume: %d, done: %d\n", coro_resume(c, 0), coro_done(c));
    fflush(stdout);
    coro_resume(c, 0); /* traps */
  } else if (argc == 2 && strcmp(argv[1], "self") == 0) {
    me = coro_new(selfish, 1);
    if (me == NULL) return 1;
    coro_resume(me, 0); /* traps inside */
  } else {
    fprintf(stderr, "usage: misuse finished|self\n");
    return 2;
  }
  printf("not reached\n");
  return 1;
}
