/* core/trap.c -- trap objects of the embedding API and the unwinding of traps raised from C code
 * (libcalls, host functions) to the innermost Wasm entry.
 * Depends on: core/runtime_int.h, core/unwind.S (core_rt_unwind_jump).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frames.h"
#include "exn.h"
#include "runtime_int.h"
#include "weft/weft.h"

/* -- Trap objects ----------------------------------------------------------------------------- */

/* Returned when a trap cannot be allocated, so that a failure is never reported as success. */
static weft_trap_t oom_trap = {.kind = WEFT_TRAPKIND_TRAP,
                               .code = WEFT_TRAP_OUT_OF_MEMORY,
                               .wasm_off = UINT64_MAX,
                               .message = (char *)"out of memory"};

weft_trap_t *core_rt_trap_make(weft_trap_kind kind, int code, const char *message) {
  weft_trap_t *t = calloc(1, sizeof *t);
  if (t == NULL) return &oom_trap;
  t->kind = kind;
  t->code = code;
  t->wasm_off = UINT64_MAX;
  if (message == NULL) message = weft_trap_str(code);
  t->message = strdup(message);
  if (t->message == NULL) {
    free(t);
    return &oom_trap;
  }
  return t;
}

weft_trap_t *weft_trap_new(const char *message) {
  return core_rt_trap_make(WEFT_TRAPKIND_HOST, WEFT_TRAP_HOST,
                           message != NULL ? message : "host function error");
}

weft_trap_t *weft_trap_new_exit(int status) {
  char msg[48];
  snprintf(msg, sizeof msg, "exit with status %d", status);
  weft_trap_t *t = core_rt_trap_make(WEFT_TRAPKIND_EXIT, WEFT_TRAP_EXIT, msg);
  if (t != &oom_trap) t->exit_status = status;
  return t;
}

bool core_rt_trap_owned(const weft_trap_t *t) { return t != &oom_trap; }

void weft_trap_free(weft_trap_t *trap) {
  if (trap == NULL || trap == &oom_trap) return;
  core_exn_trap_detach(trap);
  core_frames_free(trap->frames);
  free(trap->message);
  free(trap);
}

/* Accessors accept NULL (no trap) and answer as for "no trap". */
weft_trap_kind weft_trap_kind_of(const weft_trap_t *trap) {
  return trap != NULL ? trap->kind : WEFT_TRAPKIND_TRAP;
}
int weft_trap_get_code(const weft_trap_t *trap) { return trap != NULL ? trap->code : WEFT_TRAP_NONE; }
const char *weft_trap_message(const weft_trap_t *trap) {
  return trap != NULL ? trap->message : weft_trap_str(WEFT_TRAP_NONE);
}
int weft_trap_exit_status(const weft_trap_t *trap) { return trap != NULL ? trap->exit_status : 0; }
uint64_t weft_trap_wasm_offset(const weft_trap_t *trap) {
  return trap != NULL ? trap->wasm_off : UINT64_MAX;
}
/* The host may keep the pointer beyond the trap: the exception is pinned until its store dies. */
void *weft_trap_exnref(const weft_trap_t *trap) {
  if (trap == NULL || trap->exn == NULL) return NULL;
  ((core_exn *)trap->exn)->exposed = CORE_EXN_PINNED;
  return trap->exn;
}

/* -- Unwinding -------------------------------------------------------------------------------- */

#if defined(__SANITIZE_ADDRESS__)
#define WEFT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEFT_ASAN 1
#endif
#endif
#ifdef WEFT_ASAN
void __asan_handle_no_return(void);
#endif

/* Only reachable from code that Wasm called (libcalls, host-function trampolines), so an entry is
 * always active: its landing pad restores the entry state and the callee-saved registers. */
_Noreturn void core_rt_unwind(weft_store_ctx *ctx) {
  if (ctx->trap_code == WEFT_TRAP_NONE) ctx->trap_code = WEFT_TRAP_HOST;
#ifdef WEFT_ASAN
  /* The C frames jumped over keep their redzones poisoned unless ASan is told. */
  __asan_handle_no_return();
#endif
  core_rt_unwind_jump(ctx->limits.last_wasm_entry_sp, ctx->limits.last_wasm_entry_fp,
                      ctx->limits.last_wasm_entry_trap_handler);
}

_Noreturn void core_rt_trap_raise(weft_store_ctx *ctx, uint32_t code) {
  ctx->trap_code = code;
  ctx->trap_pc = 0; /* raised from C: the Wasm pc is not known here */
  /* The backtrace walk starts at this frame and steps over the host frames up to the Wasm caller
   * (every frame keeps its frame pointer; core/frames.c). */
  ctx->trap_fp = (uintptr_t)__builtin_frame_address(0);
  core_rt_unwind(ctx);
}
