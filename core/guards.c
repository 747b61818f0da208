/* core/guards.c -- the guard-page backstop for continuation stacks: a fault whose address lies in a
 * contstacks guard page (plugin slot guard_lookup) becomes a "call stack exhausted" trap, whatever
 * code faulted -- Wasm or host code running on a continuation stack (DESIGN §6 "Stack overflow").
 * Called first by core/signals.c's handler. Depends on: core/runtime_int.h, core/engine.h,
 * weft/plugin/contstacks.h, <ucontext.h>.
 */
#include <ucontext.h>

#include "engine.h"
#include "guards.h"
#include "runtime_int.h"
#include "weft/plugin/contstacks.h"

bool core_guards_trap(weft_store_ctx *ctx, int sig, const siginfo_t *info, void *ucv) {
  if (ctx == NULL || (sig != SIGSEGV && sig != SIGBUS) || info == NULL) return false;
  if (ctx->limits.last_wasm_entry_trap_handler == 0 || ctx->store == NULL) return false;
  const weft_store_t *s = core_rt_store_of_ctx(ctx);
  if (s->engine == NULL) return false;
  const weft_contstacks_iface *cs = core_engine_iface(s->engine, WEFT_PLUGIN_CONTSTACKS);
  void *st = core_engine_state(s->engine, WEFT_PLUGIN_CONTSTACKS);
  if (!WEFT_HAS(cs, weft_contstacks_iface, guard_lookup) || cs->guard_lookup == NULL || st == NULL)
    return false;
  if (!cs->guard_lookup(st, (uintptr_t)info->si_addr)) return false;
  ucontext_t *uc = ucv;
  ctx->trap_code = WEFT_TRAP_STACK_EXHAUSTED;
  ctx->trap_pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
  ctx->trap_fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
  uc->uc_mcontext.gregs[REG_RIP] = (greg_t)ctx->limits.last_wasm_entry_trap_handler;
  uc->uc_mcontext.gregs[REG_RSP] = (greg_t)ctx->limits.last_wasm_entry_sp;
  uc->uc_mcontext.gregs[REG_RBP] = (greg_t)ctx->limits.last_wasm_entry_fp;
  return true;
}
