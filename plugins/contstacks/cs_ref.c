/* plugins/contstacks/cs_ref.c -- the resume / suspend protocol (docs/STACK-SWITCHING.md §4) written
 * once in C over cs_stack_switch: chain splicing, the four-word limits swap, handler lists, payloads
 * with capacity checks, the handler search by tag address, and ASan fiber annotations. The codegen
 * inlines the same steps; the unit tests and host-side code use these.
 * Depends on: contstacks_int.h, weft/vm.h.
 */
#include <string.h>

#include "contstacks_int.h"

#if defined(WEFT_SANITIZE)
#include <sanitizer/common_interface_defs.h>
#endif

/* -- ASan fiber annotations ------------------------------------------------------------------- */

#if defined(WEFT_SANITIZE)
static __thread cs_cont *tls_expect_la;

void cs_asan_leave(void **fake, const void *bottom, size_t size) {
  __sanitizer_start_switch_fiber(fake, bottom, size);
}

void cs_asan_expect(cs_cont *la) { tls_expect_la = la; }

void cs_asan_arrive(void *fake) {
  const void *from = NULL;
  size_t size = 0;
  __sanitizer_finish_switch_fiber(fake, &from, &size);
  if (tls_expect_la != NULL) {
    tls_expect_la->asan_parent_bottom = from;
    tls_expect_la->asan_parent_size = size;
    tls_expect_la = NULL;
  }
}
#else
void cs_asan_leave(void **fake, const void *bottom, size_t size) {
  (void)fake;
  (void)bottom;
  (void)size;
}
void cs_asan_expect(cs_cont *la) { (void)la; }
void cs_asan_arrive(void *fake) { (void)fake; }
#endif

/* -- Resume ----------------------------------------------------------------------------------- */

static uint64_t refused(uint32_t trap) { return WEFT_EFFECT_MAKE(WEFT_EFFECT_TRAP, trap); }

uint64_t cs_ref_resume(weft_store_ctx *ctx, weft_contref *c, const weft_val_raw *args, uint32_t nargs,
                       void *const *tags, uint32_t ntags, weft_contref **out_cont) {
  *out_cont = NULL;
  if (c == NULL) return refused(WEFT_TRAP_NULL_CONT);
  if (ctx->stack_chain.kind == WEFT_CHAIN_ABSENT || ctx->stack_chain.payload == NULL)
    return refused(WEFT_TRAP_HOST);
  uint32_t st = c->csi.state;
  if (st != WEFT_STACK_FRESH && st != WEFT_STACK_SUSPENDED) return refused(WEFT_TRAP_CONT_CONSUMED);
  /* 1. payload: args of a Fresh one, else the values the suspender waits for; capacity checked */
  weft_payloads *pl = st == WEFT_STACK_FRESH ? &c->args : &c->values;
  if (nargs > pl->capacity - pl->length || (nargs > 0 && pl->data == NULL))
    return refused(WEFT_TRAP_HOST);
  if (nargs > 0) memcpy(pl->data + pl->length, args, (size_t)nargs * sizeof *args);
  pl->length += nargs;
  /* 2. splice: the suspended chain c .. la hangs below the current chain */
  weft_contref *la = c->last_ancestor;
  weft_stack_chain orig = ctx->stack_chain;
  weft_common_stack_info *ocsi = orig.payload;
  la->parent_chain = orig;
  c->last_ancestor = NULL;
  ctx->stack_chain = (weft_stack_chain){WEFT_CHAIN_CONTINUATION, c};
  /* 3. states, 4. limits (all four words), 5. handlers */
  c->csi.state = WEFT_STACK_RUNNING;
  ocsi->state = WEFT_STACK_PARENT;
  ocsi->limits = ctx->limits;
  ctx->limits = c->csi.limits;
  ocsi->handlers = (weft_handler_list){ntags, ntags, (void **)(uintptr_t)tags};
  ocsi->first_switch_handler = ntags;
  /* 6. switch into the chain's suspension point, kept in la's control context */
  void *fake = NULL;
  cs_asan_expect((cs_cont *)la);
  cs_asan_leave(&fake, c->stack_top - c->stack_size, (size_t)c->stack_size);
  weft_control_ctx *cc = weft_contref_cc(la);
  uint64_t r = cs_stack_switch(cc, cc, WEFT_EFFECT_MAKE(WEFT_EFFECT_RESUME, 0));
  cs_asan_arrive(fake);
  /* 7. back: the chain head is whoever returned, trapped or suspended to us */
  weft_contref *nc = ctx->stack_chain.payload;
  ctx->stack_chain = orig;
  ocsi->state = WEFT_STACK_RUNNING;
  ocsi->handlers = (weft_handler_list){0, 0, NULL};
  ocsi->first_switch_handler = 0;
  /* 8. dispatch */
  switch (WEFT_EFFECT_KIND(r)) {
  case WEFT_EFFECT_RETURN:
    nc->csi.state = WEFT_STACK_RETURNED;
    break;
  case WEFT_EFFECT_TRAP:
    nc->csi.state = WEFT_STACK_TRAPPED;
    nc->args.length = 0;
    nc->values = (weft_payloads){0, 0, NULL};
    break;
  default: /* SUSPEND: the suspender keeps the entry state it had */
    nc->csi.limits.last_wasm_entry_fp = ctx->limits.last_wasm_entry_fp;
    nc->csi.limits.last_wasm_entry_sp = ctx->limits.last_wasm_entry_sp;
    nc->csi.limits.last_wasm_entry_trap_handler = ctx->limits.last_wasm_entry_trap_handler;
    break;
  }
  ctx->limits = ocsi->limits;
  *out_cont = nc;
  return r;
}

/* -- Suspend ---------------------------------------------------------------------------------- */

uint64_t cs_ref_suspend(weft_store_ctx *ctx, void *tag, weft_val_raw *buf, uint32_t nvals,
                        uint32_t cap) {
  if (ctx->stack_chain.kind != WEFT_CHAIN_CONTINUATION) return refused(WEFT_TRAP_UNHANDLED_TAG);
  if (nvals > cap) return refused(WEFT_TRAP_HOST);
  weft_contref *a = ctx->stack_chain.payload;
  /* handler search: the suspend clauses of each parent, innermost first, up to the initial stack
   * (a host frame's entry installs a new initial stack, so host frames are barriers) */
  weft_stack_chain link = ctx->stack_chain;
  weft_contref *la = NULL;
  uint32_t idx = 0;
  while (link.kind == WEFT_CHAIN_CONTINUATION && la == NULL) {
    weft_contref *c = link.payload;
    weft_stack_chain p = c->parent_chain;
    const weft_common_stack_info *csi = p.payload;
    if (csi == NULL) break;
    uint32_t end = csi->first_switch_handler < csi->handlers.length ? csi->first_switch_handler
                                                                    : csi->handlers.length;
    for (uint32_t i = 0; i < end; i++)
      if (csi->handlers.data[i] == tag) {
        la = c;
        idx = i;
        break;
      }
    link = p;
  }
  if (la == NULL) return refused(WEFT_TRAP_UNHANDLED_TAG);
  a->last_ancestor = la;
  a->values = (weft_payloads){nvals, cap, buf};
  a->csi.state = WEFT_STACK_SUSPENDED;
  la->parent_chain = (weft_stack_chain){WEFT_CHAIN_ABSENT, NULL};
  cs_cont *ca = (cs_cont *)a, *cla = (cs_cont *)la;
  cs_asan_leave(&ca->asan_fake, cla->asan_parent_bottom, cla->asan_parent_size);
  weft_control_ctx *cc = weft_contref_cc(la);
  uint64_t r = cs_stack_switch(cc, cc, WEFT_EFFECT_MAKE(WEFT_EFFECT_SUSPEND, idx));
  cs_asan_arrive(ca->asan_fake);
  return r;
}
