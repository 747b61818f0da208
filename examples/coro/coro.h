/* examples/coro/coro.h -- coroutines for C programs compiled to wasm32-wasi, on weft's stack
 * switching. The four imports come from examples/coro/coro.wat (run with
 * `weft run --preload env=coro.wat`); coro.c adds a shadow stack per coroutine around them.
 * Depends on: clang's wasm32 target (import attributes, inline assembly for __stack_pointer).
 */
#ifndef CORO_H
#define CORO_H

#include <stddef.h>

/* -- The library in coro.wat (module "env") ---------------------------------------------------- */

#define CORO_IMPORT(name) __attribute__((import_module("env"), import_name(name)))
CORO_IMPORT("coro_new") void coro_lib_new(int slot, int (*body)(int));
CORO_IMPORT("coro_resume") int coro_lib_resume(int slot, int value);
CORO_IMPORT("coro_done") int coro_lib_done(int slot);
/* Suspends the running coroutine with `value`; returns the value its next resume passes in. */
CORO_IMPORT("coro_yield") int coro_yield(int value);

/* -- Coroutines with their own C stacks (coro.c) ---------------------------------------------- */

typedef struct coro coro;

/* A coroutine that will run body(arg) on the first resume. NULL when out of memory. */
coro *coro_new(int (*body)(int), int arg);
/* Runs c until it yields (returns the yielded value) or returns (returns its result; from then on
 * coro_done(c) is 1). `value` becomes the result of the coro_yield it is suspended in (ignored on
 * the first resume). Resuming a finished coroutine traps. */
int coro_resume(coro *c, int value);
int coro_done(const coro *c);
void coro_free(coro *c);
/* How many times any coroutine has been resumed so far. */
unsigned long coro_switches(void);

#endif /* CORO_H */
