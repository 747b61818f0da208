/* plugins/contstacks/cs_ref.c -- the resume / suspend protocol (docs/STACK-SWITCHING.md §4) written
 * once in C over cs_stack_switch: chain splicing, the four-word limits swap, handler lists, payloads
 * with capacity checks, the handler search by tag address, switch, cont.bind, and ASan fiber
 * annotations. The codegen
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
#endif /* without WEFT_SANITIZE the three are inline no-ops (contstacks_int.h) */

/* Per instruction: what generated code calls around its inline switches in sanitizer builds (the
 * vtable's asan_* slots) and what the reference protocol below uses. */
void cs_asan_before_resume(void **fake, const weft_contref *c) {
  cs_asan_expect((cs_cont *)c->last_ancestor);
  cs_asan_leave(fake, c->stack_top - c->stack_size, (size_t)c->stack_size);
}

void cs_asan_after_resume(void *fake) { cs_asan_arrive(fake); }

void cs_asan_before_suspend(weft_contref *a, const weft_contref *la) {
  const cs_cont *cla = (const cs_cont *)la;
  cs_asan_leave(&((cs_cont *)a)->asan_fake, cla->asan_parent_bottom, cla->asan_parent_size);
}

void cs_asan_before_switch(weft_contref *a, const weft_contref *la, const weft_contref *s) {
  cs_cont *csla = (cs_cont *)s->last_ancestor;
  const cs_cont *cla = (const cs_cont *)la;
  csla->asan_parent_bottom = cla->asan_parent_bottom; /* both hang below the handler now */
  csla->asan_parent_size = cla->asan_parent_size;
  cs_asan_leave(&((cs_cont *)a)->asan_fake, s->stack_top - s->stack_size, (size_t)s->stack_size);
}

void cs_asan_after_suspend(weft_contref *a) { cs_asan_arrive(((cs_cont *)a)->asan_fake); }

/* -- Resume ----------------------------------------------------------------------------------- */

static uint64_t refused(uint32_t trap) { return WEFT_EFFECT_MAKE(WEFT_EFFECT_TRAP, trap); }

uint64_t cs_ref_resume(weft_store_ctx *ctx, weft_contref *c, const weft_val_raw *args, uint32_t nargs,
                       void *const *tags, uint32_t ntags, uint32_t first_switch,
                       weft_contref **out_cont) {
  *out_cont = NULL;
  if (first_switch > ntags) first_switch = ntags;
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
  void *fake = NULL;
  cs_asan_before_resume(&fake, c); /* needs c->last_ancestor, which the splice clears */
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
  ocsi->first_switch_handler = first_switch;
  /* 6. switch into the chain's suspension point, kept in la's control context */
  weft_control_ctx *cc = weft_contref_cc(la);
  uint64_t r = cs_stack_switch(cc, cc, WEFT_EFFECT_MAKE(WEFT_EFFECT_RESUME, 0));
  cs_asan_after_resume(fake);
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
  weft_contref *la = NULL;
  uint32_t idx = 0;
  if (!weft_find_handler(ctx, tag, false, &la, &idx)) return refused(WEFT_TRAP_UNHANDLED_TAG);
  a->last_ancestor = la;
  a->values = (weft_payloads){nvals, cap, buf};
  a->csi.state = WEFT_STACK_SUSPENDED;
  la->parent_chain = (weft_stack_chain){WEFT_CHAIN_ABSENT, NULL};
  cs_asan_before_suspend(a, la);
  weft_control_ctx *cc = weft_contref_cc(la);
  uint64_t r = cs_stack_switch(cc, cc, WEFT_EFFECT_MAKE(WEFT_EFFECT_SUSPEND, idx));
  cs_asan_after_suspend(a);
  return r;
}

/* -- Switch ----------------------------------------------------------------------------------- */

uint64_t cs_ref_switch(weft_store_ctx *ctx, weft_contref *s, const weft_val_raw *args, uint32_t nargs,
                       void *tag, weft_val_raw *buf, uint32_t cap) {
  if (s == NULL) return refused(WEFT_TRAP_NULL_CONT);
  if (ctx->stack_chain.kind != WEFT_CHAIN_CONTINUATION) return refused(WEFT_TRAP_UNHANDLED_TAG);
  weft_contref *la = NULL;
  uint32_t idx = 0;
  if (!weft_find_handler(ctx, tag, true, &la, &idx)) return refused(WEFT_TRAP_UNHANDLED_TAG);
  weft_stack_chain h = la->parent_chain;
  uint32_t st = s->csi.state;
  if (st != WEFT_STACK_FRESH && st != WEFT_STACK_SUSPENDED) return refused(WEFT_TRAP_CONT_CONSUMED);
  weft_payloads *pl = st == WEFT_STACK_FRESH ? &s->args : &s->values;
  /* args plus the switcher's reference must fit; checked before anything changes */
  if (pl->data == NULL || pl->length > pl->capacity ||
      (uint64_t)nargs + 1 > (uint64_t)(pl->capacity - pl->length))
    return refused(WEFT_TRAP_HOST);
  /* the switcher becomes a suspended chain a .. la */
  weft_contref *a = ctx->stack_chain.payload;
  a->last_ancestor = la;
  a->values = (weft_payloads){0, cap, buf};
  a->csi.state = WEFT_STACK_SUSPENDED;
  la->parent_chain = (weft_stack_chain){WEFT_CHAIN_ABSENT, NULL};
  a->csi.limits.last_wasm_entry_fp = ctx->limits.last_wasm_entry_fp;
  a->csi.limits.last_wasm_entry_sp = ctx->limits.last_wasm_entry_sp;
  a->csi.limits.last_wasm_entry_trap_handler = ctx->limits.last_wasm_entry_trap_handler;
  /* the switchee gets args ++ [(a, a->revision)] and hangs below the handler h */
  if (nargs > 0) memcpy(pl->data + pl->length, args, (size_t)nargs * sizeof *args);
  pl->length += nargs;
  weft_val_raw *self = &pl->data[pl->length++];
  memset(self, 0, sizeof *self);
  self->cont.contref = a;
  self->cont.revision = a->revision;
  cs_asan_before_switch(a, la, s); /* needs s->last_ancestor, cleared just below */
  weft_contref *sla = s->last_ancestor;
  s->csi.state = WEFT_STACK_RUNNING;
  sla->parent_chain = h;
  s->last_ancestor = NULL;
  ctx->stack_chain = (weft_stack_chain){WEFT_CHAIN_CONTINUATION, s};
  ctx->limits = s->csi.limits;
  /* control contexts: s's chain now returns to h; a's suspension point goes to la */
  weft_control_ctx tmp = *weft_contref_cc(sla);
  *weft_contref_cc(sla) = *weft_contref_cc(la);
  uint64_t r = cs_stack_switch(weft_contref_cc(la), &tmp, WEFT_EFFECT_MAKE(WEFT_EFFECT_SWITCH, 0));
  cs_asan_after_suspend(a);
  (void)idx;
  return r;
}

/* -- cont.bind -------------------------------------------------------------------------------- */

int cs_ref_bind(weft_contref *c, const weft_val_raw *args, uint32_t nargs) {
  if (c == NULL) return WEFT_ERR_MISUSE;
  uint32_t st = c->csi.state;
  if (st != WEFT_STACK_FRESH && st != WEFT_STACK_SUSPENDED) return WEFT_ERR_MISUSE;
  weft_payloads *pl = st == WEFT_STACK_FRESH ? &c->args : &c->values;
  if (pl->length > pl->capacity || nargs > pl->capacity - pl->length) return WEFT_ERR_LIMIT;
  if (nargs > 0) memcpy(pl->data + pl->length, args, (size_t)nargs * sizeof *args);
  pl->length += nargs;
  return WEFT_OK;
}
