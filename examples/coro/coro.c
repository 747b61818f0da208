/* examples/coro/coro.c -- the C side of the coroutine library: each coroutine gets its own region
 * of C shadow stack (clang keeps address-taken locals, arrays and varargs there, through the
 * module's __stack_pointer global), switched around every resume. Built for wasm32-wasi with
 * clang-14; the switching itself is coro.wat's (cont.new, resume, suspend).
 * Depends on: coro.h, wasi-libc (malloc).
 */
#include "coro.h"

#include <stdint.h>
#include <stdlib.h>

/* -- The shadow stack pointer ------------------------------------------------------------------ */

static inline uintptr_t get_sp(void) {
  uintptr_t sp;
  __asm__ volatile(".globaltype __stack_pointer, i32\n\t"
                   "global.get __stack_pointer\n\t"
                   "local.set %0"
                   : "=r"(sp));
  return sp;
}

static inline void set_sp(uintptr_t sp) {
  __asm__ volatile(".globaltype __stack_pointer, i32\n\t"
                   "local.get %0\n\t"
                   "global.set __stack_pointer"
                   :
                   : "r"(sp));
}

/* -- Coroutines -------------------------------------------------------------------------------- */

#define CORO_STACK_SIZE (16 * 1024)
#define CORO_MAX 4096

struct coro {
  int slot;        /* index in coro.wat's table of continuations */
  int started;     /* 0 until the first resume, which passes `arg` */
  int arg;
  uintptr_t sp;    /* its shadow stack pointer while it is suspended */
  unsigned char *stack;
};

static coro *slots[CORO_MAX];
static unsigned long switches;

coro *coro_new(int (*body)(int), int arg) {
  int slot = 0;
  while (slot < CORO_MAX && slots[slot] != NULL) slot++;
  if (slot == CORO_MAX) return NULL;
  coro *c = malloc(sizeof *c);
  unsigned char *stack = malloc(CORO_STACK_SIZE);
  if (c == NULL || stack == NULL) {
    free(c);
    free(stack);
    return NULL;
  }
  c->slot = slot;
  c->started = 0;
  c->arg = arg;
  c->stack = stack;
  c->sp = ((uintptr_t)stack + CORO_STACK_SIZE) & ~(uintptr_t)15;
  slots[slot] = c;
  coro_lib_new(slot, body);
  return c;
}

/* Not inlined: the caller's shadow stack pointer is put back before this frame ends. */
__attribute__((noinline)) int coro_resume(coro *c, int value) {
  if (!c->started) {
    c->started = 1;
    value = c->arg;
  }
  switches++;
  uintptr_t mine = get_sp();
  set_sp(c->sp);
  int r = coro_lib_resume(c->slot, value);
  c->sp = get_sp(); /* where it stopped, to be given back on the next resume */
  set_sp(mine);
  return r;
}

int coro_done(const coro *c) {
  return coro_lib_done(c->slot);
}

unsigned long coro_switches(void) {
  return switches;
}

void coro_free(coro *c) {
  if (c == NULL) return;
  slots[c->slot] = NULL;
  free(c->stack);
  free(c);
}
