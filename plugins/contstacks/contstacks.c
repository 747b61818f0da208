/* plugins/contstacks/contstacks.c -- descriptor and entry of the "contstacks" plugin (kind contstacks).
 *
 *   cont.new --cs_cont_new--> contref + pooled stack (cs_pool) --first resume--> cs_cont_start (asm)
 *       --cs_cont_run--> array_call on the new stack --RETURN/TRAP effect--> parent; stack recycled
 * Only the config keys, init/fini and the iface live here. Depends on: contstacks_int.h.
 */
#include <string.h>

#include "contstacks_int.h"

/* -- Config keys ------------------------------------------------------------------------------ */

static const weft_cfg_key keys[] = {
    {"stack_size", WEFT_CFG_SIZE, "1M",
     "usable bytes per continuation stack (16K to 1G), reserved and committed only when touched",
     NULL},
    {"pool", WEFT_CFG_INT, "256",
     "recycled stacks kept with their memory; beyond this they are returned with MADV_DONTNEED",
     NULL},
    {"guard_pages", WEFT_CFG_BOOL, "yes",
     "a PROT_NONE page below each stack (2 mappings per stack); no = stacks share one mapping, so "
     "vm.max_map_count does not cap live continuations",
     NULL},
    {"max_continuations", WEFT_CFG_INT, "4194304",
     "most live continuations per engine; cont.new beyond it traps", NULL},
};

/* -- Lifecycle -------------------------------------------------------------------------------- */

static int read_cfg(const weft_host_api *host, const weft_plugin_cfg *cfg, uint64_t *stack_size,
                    int64_t *pool, bool *guards, int64_t *max_conts) {
  if (cfg == NULL) return WEFT_OK;
  if (host->cfg_size(host->host, cfg, "stack_size", stack_size) != WEFT_OK ||
      host->cfg_int(host->host, cfg, "pool", pool) != WEFT_OK ||
      host->cfg_bool(host->host, cfg, "guard_pages", guards) != WEFT_OK ||
      host->cfg_int(host->host, cfg, "max_continuations", max_conts) != WEFT_OK)
    return WEFT_ERR_CONFIG;
  return WEFT_OK;
}

static int init(const weft_host_api *host, const weft_plugin_cfg *cfg, void **out_state,
                weft_diag *d) {
  uint64_t stack_size = (uint64_t)1 << 20;
  int64_t pool = 256, max_conts = 4194304;
  bool guards = true;
  *out_state = NULL;
  if (read_cfg(host, cfg, &stack_size, &pool, &guards, &max_conts) != WEFT_OK)
    return weft_host_diag(host, d, WEFT_ERR_CONFIG, UINT64_MAX, CS_ORIGIN,
                          "cannot read the [contstacks] keys from the configuration");
  if (stack_size < CS_MIN_STACK || stack_size > CS_MAX_STACK)
    return weft_host_diag(host, d, WEFT_ERR_CONFIG, UINT64_MAX, CS_ORIGIN,
                          "contstacks.stack_size = %llu: expected 16K to 1G",
                          (unsigned long long)stack_size);
  if (pool < 0 || pool > ((int64_t)1 << 24))
    return weft_host_diag(host, d, WEFT_ERR_CONFIG, UINT64_MAX, CS_ORIGIN,
                          "contstacks.pool = %lld: expected 0 to 16777216", (long long)pool);
  if (max_conts < 1)
    return weft_host_diag(host, d, WEFT_ERR_CONFIG, UINT64_MAX, CS_ORIGIN,
                          "contstacks.max_continuations = %lld: expected at least 1",
                          (long long)max_conts);
  cs_state *st = host->alloc(host->host, sizeof *st);
  if (st == NULL)
    return weft_host_diag(host, d, WEFT_ERR_NOMEM, UINT64_MAX, CS_ORIGIN,
                          "out of memory creating the contstacks state");
  memset(st, 0, sizeof *st);
  st->host = host;
  st->max_conts = (uint64_t)max_conts;
  pthread_mutexattr_t attr;
  int merr = pthread_mutexattr_init(&attr);
  if (merr == 0) merr = pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  if (merr == 0) merr = pthread_mutex_init(&st->lock, &attr);
  pthread_mutexattr_destroy(&attr);
  if (merr != 0) {
    host->free(host->host, st);
    return weft_host_diag(host, d, WEFT_ERR_INTERNAL, UINT64_MAX, CS_ORIGIN,
                          "cannot create the contstacks lock");
  }
  st->has_exit_key = pthread_key_create(&st->exit_key, cs_thread_exit) == 0;
  (void)cs_pool_init(&st->pool, stack_size, guards, (uint64_t)pool);
  st->reserve = st->pool.stack_size / 4 < ((uint64_t)32 << 10) ? st->pool.stack_size / 4
                                                                 : ((uint64_t)32 << 10);
  cs_cont_init(st);
  *out_state = st;
  return WEFT_OK;
}

static void fini(void *state) {
  cs_state *st = state;
  if (st == NULL) return;
  if (st->has_exit_key) pthread_key_delete(st->exit_key); /* no destructor runs after this */
  cs_cont_fini(st);
  cs_pool_fini(st);
  pthread_mutex_destroy(&st->lock);
  st->host->free(st->host->host, st);
}

/* -- Descriptor ------------------------------------------------------------------------------- */

static const weft_contstacks_iface iface = {
    WEFT_ABI_INIT(weft_contstacks_iface),
    .cont_new = cs_cont_new,
    .cont_release = cs_cont_release,
    .for_each_suspended = cs_for_each_suspended,
    .collect = cs_collect,
    .guard_lookup = cs_guard_lookup,
    .check_arity = cs_check_arity,
    .stats = cs_stats,
    .stack_switch = cs_stack_switch,
#if defined(WEFT_SANITIZE)
    .asan_before_resume = cs_asan_before_resume,
    .asan_after_resume = cs_asan_after_resume,
    .asan_before_suspend = cs_asan_before_suspend,
    .asan_before_switch = cs_asan_before_switch,
    .asan_after_suspend = cs_asan_after_suspend,
#endif
    .for_each_cont = cs_for_each_cont,
    .owns = cs_cont_owns,
    .live_count = cs_live_count,
};

WEFT_PLUGIN_DEFINE(contstacks, .name = "contstacks", .kind = WEFT_PLUGIN_CONTSTACKS,
                   .version = "0.1.0", .keys = keys, .nkeys = sizeof keys / sizeof keys[0],
                   .init = init, .fini = fini, .iface = &iface,
                   .summary = "continuation objects, pooled lazily committed stacks, the start "
                              "trampoline and the stack-switch primitive")
