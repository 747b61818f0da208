/* core/signals.c -- the fault handlers (SIGSEGV, SIGBUS, SIGILL, SIGFPE), installed once per process
 * on an alternate signal stack per thread that enters Wasm, chained to the previous handlers.
 * A fault at a pc inside registered Wasm code becomes a trap: the code is recorded in the running
 * store context and execution resumes at the innermost entry's landing pad.
 * Depends on: core/runtime_int.h (registry lookup, current context), <signal.h>, <ucontext.h>.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "guards.h"
#include "runtime_int.h"

/* -- Per-thread state ------------------------------------------------------------------------- */

/* initial-exec: reading it in the handler must not allocate (no lazy TLS allocation). */
static __thread weft_store_ctx *tls_ctx __attribute__((tls_model("initial-exec")));
static __thread bool tls_altstack __attribute__((tls_model("initial-exec")));

weft_store_ctx *core_rt_current_ctx(void) { return tls_ctx; }
void core_rt_set_current_ctx(weft_store_ctx *ctx) { tls_ctx = ctx; }

/* -- The handler ------------------------------------------------------------------------------ */

static const int fault_signals[4] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE};
static struct sigaction previous[4];
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_status = WEFT_OK;

static int slot_of(int sig) {
  for (int i = 0; i < 4; i++)
    if (fault_signals[i] == sig) return i;
  return 0;
}

/* Not ours: hand the signal to whoever had it before. With the default action, reinstate it and
 * return, so the faulting instruction runs again and the process dies as it would have. */
static void chain(int sig, siginfo_t *info, void *uc) {
  struct sigaction *p = &previous[slot_of(sig)];
  if (p->sa_flags & SA_SIGINFO) {
    if (p->sa_sigaction != NULL) {
      p->sa_sigaction(sig, info, uc);
      return;
    }
  } else if (p->sa_handler != SIG_DFL && p->sa_handler != SIG_IGN) {
    p->sa_handler(sig);
    return;
  }
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, NULL);
}

/* The trap a fault means when the pc is Wasm code but not a registered site (a backstop). */
static uint32_t fallback_trap(int sig, const siginfo_t *info, uintptr_t sp) {
  switch (sig) {
  case SIGFPE: return WEFT_TRAP_INT_DIV_ZERO;
  case SIGILL: return WEFT_TRAP_UNREACHABLE;
  default: {
    uintptr_t addr = (uintptr_t)info->si_addr;
    /* A fault just below the stack pointer is a guard-page hit: the stack overflowed. */
    if (addr < sp + 4096 && sp - addr < (1u << 20)) return WEFT_TRAP_STACK_EXHAUSTED;
    return WEFT_TRAP_MEMORY_OOB;
  }
  }
}

static void handler(int sig, siginfo_t *info, void *ucv) {
  ucontext_t *uc = ucv;
  uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
  weft_store_ctx *ctx = tls_ctx;
  if (core_guards_trap(ctx, sig, info, ucv)) return; /* a continuation stack's guard page */
  uint32_t trap = WEFT_TRAP_NONE, wasm_off = UINT32_MAX;
  if (ctx == NULL || ctx->limits.last_wasm_entry_trap_handler == 0 ||
      !core_rt_registry_lookup(pc, &trap, &wasm_off)) {
    chain(sig, info, ucv);
    return;
  }
  uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
  if (trap == WEFT_TRAP_NONE || trap >= WEFT_TRAP_COUNT) trap = fallback_trap(sig, info, sp);
  ctx->trap_code = trap;
  ctx->trap_pc = pc;
  ctx->trap_fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
  uc->uc_mcontext.gregs[REG_RIP] = (greg_t)ctx->limits.last_wasm_entry_trap_handler;
  uc->uc_mcontext.gregs[REG_RSP] = (greg_t)ctx->limits.last_wasm_entry_sp;
  uc->uc_mcontext.gregs[REG_RBP] = (greg_t)ctx->limits.last_wasm_entry_fp;
}

static void install(void) {
  for (int i = 0; i < 4; i++) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(fault_signals[i], &sa, &previous[i]) != 0) install_status = WEFT_ERR_INTERNAL;
  }
}

int core_rt_signals_reinstall(void) {
  pthread_once(&install_once, install);
  int rc = WEFT_OK;
  for (int i = 0; i < 4; i++) {
    struct sigaction cur;
    if (sigaction(fault_signals[i], NULL, &cur) != 0) return WEFT_ERR_INTERNAL;
    if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == handler) continue;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(fault_signals[i], &sa, &previous[i]) != 0) rc = WEFT_ERR_INTERNAL;
  }
  return rc;
}

/* -- Alternate stack -------------------------------------------------------------------------- */

/* The handler runs on its own stack so a fault caused by an exhausted stack can still be handled.
 * One per thread, kept for the thread's life (the kernel forgets it when the thread exits; the
 * mapping is small and reused by nothing else). */
static int ensure_altstack(void) {
  stack_t cur;
  if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE) && cur.ss_size >= 32768) {
    tls_altstack = true;
    return WEFT_OK;
  }
  size_t size = 64 * 1024, guard = 4096;
  uint8_t *mem = mmap(NULL, size + guard, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return WEFT_ERR_NOMEM;
  mprotect(mem, guard, PROT_NONE);
  stack_t ss = {.ss_sp = mem + guard, .ss_size = size, .ss_flags = 0};
  if (sigaltstack(&ss, NULL) != 0) {
    munmap(mem, size + guard);
    return WEFT_ERR_INTERNAL;
  }
  tls_altstack = true;
  return WEFT_OK;
}

int core_rt_signals_ensure(void) {
  pthread_once(&install_once, install);
  if (install_status != WEFT_OK) return install_status;
  if (tls_altstack) return WEFT_OK;
  return ensure_altstack();
}
