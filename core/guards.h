/* core/guards.h -- recognising faults in the guard pages of continuation stacks (owned by the
 * contstacks part). Called by the fault handler in core/signals.c. Depends on: weft/vm.h.
 */
#ifndef WEFT_CORE_GUARDS_H
#define WEFT_CORE_GUARDS_H

#include <signal.h>
#include <stdbool.h>

#include "weft/vm.h"

/* When a SIGSEGV/SIGBUS at `info->si_addr` lies in a guard page of a continuation stack of the
 * store running on this thread (asked of the engine's contstacks plugin, slot guard_lookup), and
 * Wasm was entered: record "call stack exhausted" in ctx, point the interrupted context `ucv` at the
 * innermost entry's landing pad, and return true. Else false and nothing changed. Host code that
 * overflows on a continuation stack thus traps instead of crashing. Async-signal-safe. */
bool core_guards_trap(weft_store_ctx *ctx, int sig, const siginfo_t *info, void *ucv);

#endif
