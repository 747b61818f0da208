/* core/cont.c -- the core side of stack switching (docs/STACK-SWITCHING.md §4-6): the initial stack
 * installed by every host entry, and resume / suspend / switch / cont.bind / resume_throw[_ref] as
 * libcalls that splice the store's stack chain, swap all four limit words, keep the handler list in
 * the resumer's frame and switch through the contstacks plugin's primitive.
 * Depends on: core/cont.h, core/runtime_int.h, core/engine.h, core/exn.h, core/frames.h,
 * core/gcroots.h and core/gcscan.h (a collection when cont.new hits its limit),
 * weft/plugin/contstacks.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cont.h"
#include "engine.h"
#include "exn.h"
#include "frames.h"
#include "gcroots.h"
#include "gcscan.h"
#include "host.h"
#include "runtime_int.h"
#include "weft/plugin/contstacks.h"

/* -- Helpers ---------------------------------------------------------------------------------- */

static weft_store_ctx *ctx_of(void *vmctx) { return ((weft_vmctx_header *)vmctx)->store_ctx; }

static weft_instance_t *inst_of(void *vmctx) {
  return (weft_instance_t *)((weft_vmctx_header *)vmctx)->instance;
}

static const weft_contstacks_iface *plugin(weft_store_ctx *ctx, void **st) {
  weft_store_t *s = core_rt_store_of_ctx(ctx);
  const weft_contstacks_iface *cs = core_engine_iface(s->engine, WEFT_PLUGIN_CONTSTACKS);
  *st = core_engine_state(s->engine, WEFT_PLUGIN_CONTSTACKS);
  if (cs == NULL || !WEFT_HAS(cs, weft_contstacks_iface, stack_switch) || cs->stack_switch == NULL)
    core_rt_trap_raise(ctx, WEFT_TRAP_HOST);
  return cs;
}

/* The function type of continuation type `ct` of the caller's module (validated). */
static const weft_type *cont_func(void *vmctx, uint32_t ct) {
  const weft_module *m = inst_of(vmctx)->ir;
  if (ct >= m->ntypes) core_rt_trap_raise(ctx_of(vmctx), WEFT_TRAP_HOST);
  const weft_type *t = &m->types[ct];
  if (t->comp == WEFT_COMP_CONT) {
    if (t->u.cont_func >= m->ntypes) core_rt_trap_raise(ctx_of(vmctx), WEFT_TRAP_HOST);
    t = &m->types[t->u.cont_func];
  }
  if (t->comp != WEFT_COMP_FUNC) core_rt_trap_raise(ctx_of(vmctx), WEFT_TRAP_HOST);
  return t;
}

static const weft_vm_tag *tag_addr(void *vmctx, uint32_t tagidx, const weft_type **ft) {
  weft_instance_t *inst = inst_of(vmctx);
  if (tagidx >= inst->ir->ntags) core_rt_trap_raise(ctx_of(vmctx), WEFT_TRAP_HOST);
  const core_tag *t = inst->tags[tagidx];
  if (ft != NULL) {
    const weft_module *m = inst->ir;
    uint32_t ti = m->tags[tagidx].type;
    if (ti >= m->ntypes || m->types[ti].comp != WEFT_COMP_FUNC)
      core_rt_trap_raise(ctx_of(vmctx), WEFT_TRAP_HOST);
    *ft = &m->types[ti];
  }
  return t->vm;
}

static uint32_t max3(uint32_t a, uint32_t b, uint32_t c) {
  uint32_t m = a > b ? a : b;
  return m > c ? m : c;
}

/* The revision check of a reference {contref, revision}: null, stale (any revision but the
 * current one, all 64 bits compared) or finished traps; otherwise the reference is consumed
 * (revision bumped) and the contref returned. */
static weft_contref *take(weft_store_ctx *ctx, const weft_val_raw *ref) {
  weft_contref *c = ref->cont.contref;
  if (c == NULL) core_rt_trap_raise(ctx, WEFT_TRAP_NULL_CONT);
  if (c->revision != ref->cont.revision) core_rt_trap_raise(ctx, WEFT_TRAP_CONT_CONSUMED);
  if (c->csi.state != WEFT_STACK_FRESH && c->csi.state != WEFT_STACK_SUSPENDED)
    core_rt_trap_raise(ctx, WEFT_TRAP_CONT_CONSUMED);
  c->revision++;
  return c;
}

/* The payload a consumer appends to: the args of a Fresh one, else the values its suspender
 * waits for. Appends n values from io, capacity checked. */
static void append(weft_store_ctx *ctx, weft_contref *c, const weft_val_raw *io, uint32_t n) {
  weft_payloads *pl = c->csi.state == WEFT_STACK_FRESH ? &c->args : &c->values;
  if (n == 0) return;
  if (pl->data == NULL || pl->length > pl->capacity || n > pl->capacity - pl->length)
    core_rt_trap_raise(ctx, WEFT_TRAP_HOST);
  memcpy(&pl->data[pl->length], io, n * sizeof(weft_val_raw));
  pl->length += n;
}

/* -- ASan fiber annotations (WEFT_SANITIZE builds) ------------------------------------------- */

/* The plugin's asan_* slots around each inline switch (docs/STACK-SWITCHING.md §9); they are
 * non-NULL only in a sanitizer build of the plugin. Compiled out of normal builds. */
#if defined(WEFT_SANITIZE)
static const weft_contstacks_iface *asan_iface(void *vmctx) {
  void *st = NULL;
  const weft_contstacks_iface *cs = plugin(ctx_of(vmctx), &st);
  return WEFT_HAS(cs, weft_contstacks_iface, asan_after_suspend) ? cs : NULL;
}
#define ASAN_CALL(vmctx, slot, ...)                                                                \
  do {                                                                                             \
    const weft_contstacks_iface *asan_cs_ = asan_iface(vmctx);                                     \
    if (asan_cs_ != NULL && asan_cs_->slot != NULL) asan_cs_->slot(__VA_ARGS__);                   \
  } while (0)
#else
#define ASAN_CALL(vmctx, slot, ...) ((void)(vmctx))
#endif

/* -- Entry ------------------------------------------------------------------------------------ */

void core_cont_entry_begin(weft_store_ctx *ctx, weft_common_stack_info *csi, bool outermost) {
  /* an outermost entry keeps an initial stack the embedder installed in the store (tests do) */
  if (outermost && ctx->stack_chain.kind == WEFT_CHAIN_INITIAL_STACK && ctx->stack_chain.payload != NULL)
    csi = ctx->stack_chain.payload;
  else
    memset(csi, 0, sizeof *csi);
  csi->state = WEFT_STACK_RUNNING;
  csi->handlers = (weft_handler_list){0, 0, NULL};
  csi->first_switch_handler = 0;
  ctx->stack_chain = (weft_stack_chain){WEFT_CHAIN_INITIAL_STACK, csi};
}

void core_cont_entry_end(weft_store_ctx *ctx, bool outermost) {
  if (!outermost) return;
  weft_store_t *s = core_rt_store_of_ctx(ctx);
  if (s == NULL || s->engine == NULL) return;
  const weft_contstacks_iface *cs = core_engine_iface(s->engine, WEFT_PLUGIN_CONTSTACKS);
  if (cs != NULL && WEFT_HAS(cs, weft_contstacks_iface, collect) && cs->collect != NULL)
    cs->collect(core_engine_state(s->engine, WEFT_PLUGIN_CONTSTACKS));
}

/* -- Continuation references from the embedder ----------------------------------------------- */

bool core_cont_ref_ok(weft_store_t *s, const void *c) {
  if (s == NULL || s->engine == NULL || c == NULL) return false;
  const core_plugin *p = core_engine_plugin(s->engine, WEFT_PLUGIN_CONTSTACKS);
  const weft_contstacks_iface *cs = p != NULL ? p->desc->iface : NULL;
  if (cs == NULL || !WEFT_HAS(cs, weft_contstacks_iface, owns) || cs->owns == NULL) return false;
  return cs->owns(p->state, s->ctx, c);
}

/* -- Module load ------------------------------------------------------------------------------ */

int core_cont_check_module(const weft_engine *e, const weft_module *m, weft_diag *d) {
  const weft_contstacks_iface *cs = core_engine_iface(e, WEFT_PLUGIN_CONTSTACKS);
  if (cs == NULL || !WEFT_HAS(cs, weft_contstacks_iface, check_arity) || cs->check_arity == NULL)
    return WEFT_OK;
  void *st = core_engine_state(e, WEFT_PLUGIN_CONTSTACKS);
  for (uint32_t i = 0; i < m->ntypes; i++) {
    const weft_type *t = &m->types[i];
    if (t->comp != WEFT_COMP_CONT || t->u.cont_func >= m->ntypes) continue;
    const weft_type *f = &m->types[t->u.cont_func];
    if (f->comp != WEFT_COMP_FUNC) continue;
    weft_diag pd;
    memset(&pd, 0, sizeof pd);
    if (cs->check_arity(st, f->u.func.nparams, f->u.func.nresults, &pd) != WEFT_OK)
      return core_diagf(d, WEFT_ERR_LIMIT, UINT64_MAX, "engine", "type %u: %s", i, pd.message);
  }
  return WEFT_OK;
}

/* -- cont.new, cont.bind ---------------------------------------------------------------------- */

/* A collection from cont.new, which releases the suspended and fresh continuations nothing
 * references any more (core/gcscan.c): when max_continuations is reached (or no stack is left),
 * before trying once more, and under pressure (collect_conts). `pc` and `fp` are the generated
 * caller's, so its frames are walked by their stack maps. False when there is no gc plugin to
 * collect with. */
static bool collect_from_cont_new(weft_store_ctx *ctx, uintptr_t pc, uintptr_t fp) {
  core_gcscan_lc lc = {.ctx = ctx, .pc = pc, .fp = fp};
  core_gcscan_lc_enter(&lc);
  bool collected = core_gc_collect_now(ctx);
  core_gcscan_lc_leave(&lc);
  return collected;
}

/* cont.new collects once this many continuations live, at the least (collect_conts). */
#define CONT_COLLECT_MIN 10000u

void core_cont_store_init(weft_store_t *s) {
  const core_plugin *p = core_engine_plugin(s->engine, WEFT_PLUGIN_CONTSTACKS);
  const weft_contstacks_iface *cs = p != NULL ? p->desc->iface : NULL;
  if (cs == NULL || !WEFT_HAS(cs, weft_contstacks_iface, cont_new)) return;
  s->cont.cont_new = cs->cont_new;
  s->cont.state = p->state;
  if (WEFT_HAS(cs, weft_contstacks_iface, live_count) && cs->live_count != NULL)
    s->cont.live = cs->live_count(p->state);
  s->cont.collect_at = CONT_COLLECT_MIN;
}

/* Continuations are the plugin's memory (a contref and a stack each), which no heap allocation
 * accounts for: a program that drops suspended continuations and allocates no GC object would only
 * collect at max_continuations (4M by default: gigabytes of stacks with guard_pages = no). So
 * cont.new collects once the plugin's live count reaches collect_at, which then becomes twice what
 * survived, at least CONT_COLLECT_MIN (amortised: a constant cost per cont.new). Without a gc
 * plugin the threshold just moves on. */
static void collect_conts(weft_store_t *s, weft_store_ctx *ctx, uintptr_t pc, uintptr_t fp) {
  (void)collect_from_cont_new(ctx, pc, fp);
  uint64_t next = 2 * __atomic_load_n(s->cont.live, __ATOMIC_RELAXED);
  s->cont.collect_at = next > CONT_COLLECT_MIN ? next : CONT_COLLECT_MIN;
}

/* The plugin is reached through the store's copy of its slot and state: no lookup per call. Its
 * diagnostic lives in the store, not on this frame, which often sits on a just-recycled
 * continuation stack whose lines 400 bytes down are cold; only the fields a failure reads are
 * reset (clearing it whole showed in profiles). */
core_cont_pair core_cont_lc_new(void *vmctx, const weft_funcref *f, uint32_t nparams, uint32_t nresults) {
  weft_store_ctx *ctx = ctx_of(vmctx);
  if (f == NULL) core_rt_trap_raise(ctx, WEFT_TRAP_NULL_FUNC);
  weft_store_t *s = core_rt_store_of_ctx(ctx);
  if (s->cont.live != NULL && __atomic_load_n(s->cont.live, __ATOMIC_RELAXED) >= s->cont.collect_at)
    collect_conts(s, ctx, (uintptr_t)__builtin_return_address(0),
                  *(const uintptr_t *)__builtin_frame_address(0));
  weft_diag *d = &s->cont.diag;
  d->code = WEFT_OK;
  d->message[0] = '\0';
  weft_contref *c = NULL;
  if (s->cont.cont_new == NULL)
    snprintf(d->message, sizeof d->message, "cont.new: no contstacks plugin is loaded");
  else if (s->cont.cont_new(s->cont.state, vmctx, f, nparams, nresults, &c, d) == WEFT_OK)
    return (core_cont_pair){(uint64_t)(uintptr_t)c, c->revision};
  else if (collect_from_cont_new(ctx, (uintptr_t)__builtin_return_address(0),
                                  *(const uintptr_t *)__builtin_frame_address(0)) &&
           s->cont.cont_new(s->cont.state, vmctx, f, nparams, nresults, &c, d) == WEFT_OK)
    return (core_cont_pair){(uint64_t)(uintptr_t)c, c->revision};
  if (s->pending_trap == NULL)
    s->pending_trap = core_rt_trap_make(WEFT_TRAPKIND_TRAP, WEFT_TRAP_OUT_OF_MEMORY, d->message);
  core_rt_trap_raise(ctx, WEFT_TRAP_OUT_OF_MEMORY);
}

core_cont_pair core_cont_lc_bind(void *vmctx, weft_val_raw *io, uint32_t src, uint32_t dst) {
  weft_store_ctx *ctx = ctx_of(vmctx);
  const weft_type *fs = cont_func(vmctx, src), *fd = cont_func(vmctx, dst);
  if (fd->u.func.nparams > fs->u.func.nparams) core_rt_trap_raise(ctx, WEFT_TRAP_HOST);
  uint32_t n = fs->u.func.nparams - fd->u.func.nparams;
  weft_contref *c = take(ctx, &io[n]);
  append(ctx, c, io, n);
  return (core_cont_pair){(uint64_t)(uintptr_t)c, c->revision};
}

/* -- Resume ----------------------------------------------------------------------------------- */

/* Each switching instruction is two libcalls around the switch sequence that generated code emits
 * inline (docs/STACK-SWITCHING.md §3): the first does everything up to the switch and returns the
 * control contexts (and effect) in rax:rdx, the second runs when control comes back, with the
 * effect that arrived. No call or return crosses stacks. What must survive the switch lives in
 * the caller's frame, after its io area (x64_isel_cont.c reserves it by the same rules):
 *   resume: io[words .. words + count) the handler list, then the original chain (2 words) and
 *           the ASan fake-stack slot (1 word);
 *   switch: io[words .. words + 3) the switchee's old control context. */

/* The operand count of a resume-like instruction: its continuation's params (resume), the tag's
 * params (resume_throw), or the exnref (resume_throw_ref). */
static uint32_t resume_nops(void *vmctx, const weft_type *ft, uint32_t tag) {
  if (tag == UINT32_MAX - 1) return ft->u.func.nparams;
  if (tag == UINT32_MAX) return 1;
  const weft_type *tt = NULL;
  (void)tag_addr(vmctx, tag, &tt);
  return tt->u.func.nparams;
}

/* The io words of a resume: max(1, operands, results, each suspend clause's params + 1). */
static uint32_t resume_words(void *vmctx, const weft_type *ft, uint32_t nops, uint32_t pool,
                             uint32_t count) {
  const weft_module *m = inst_of(vmctx)->ir;
  uint32_t w = max3(1, nops, ft->u.func.nresults);
  for (uint32_t i = 0; i < count; i++) {
    const uint32_t *h = m->pool + pool + 3 * i;
    if (h[0] == WEFT_HANDLER_ON_SWITCH) continue;
    const weft_type *tt = NULL;
    (void)tag_addr(vmctx, h[1], &tt);
    if (tt->u.func.nparams + 1 > w) w = tt->u.func.nparams + 1;
  }
  return w;
}

static void check_pool(void *vmctx, uint32_t pool, uint32_t count) {
  const weft_module *m = inst_of(vmctx)->ir;
  if (pool > m->npool || count > (m->npool - pool) / 3) core_rt_trap_raise(ctx_of(vmctx), WEFT_TRAP_HOST);
}

/* Splices c's suspended chain below the running one and returns the control context to switch
 * through; the handler list and the original chain go to `save` in the caller's frame. */
static weft_control_ctx *splice(void *vmctx, weft_contref *c, uint64_t *save, uint32_t pool,
                                uint32_t count) {
  weft_store_ctx *ctx = ctx_of(vmctx);
  const weft_module *m = inst_of(vmctx)->ir;
  if (ctx->stack_chain.payload == NULL) core_rt_trap_raise(ctx, WEFT_TRAP_HOST);
  void **tags = (void **)(void *)save;
  uint32_t n = 0;
  for (uint32_t pass = 0; pass < 2; pass++)
    for (uint32_t i = 0; i < count; i++) {
      const uint32_t *w = m->pool + pool + 3 * i;
      if ((w[0] == WEFT_HANDLER_ON_SWITCH) != (pass == 1)) continue;
      tags[n++] = (void *)(uintptr_t)tag_addr(vmctx, w[1], NULL);
    }
  uint32_t first_switch = 0;
  for (uint32_t i = 0; i < count; i++)
    if (m->pool[pool + 3 * i] != WEFT_HANDLER_ON_SWITCH) first_switch++;
  save[count + 2] = 0;
  ASAN_CALL(vmctx, asan_before_resume, (void **)(void *)&save[count + 2], c);
  weft_contref *la = c->last_ancestor;
  weft_stack_chain orig = ctx->stack_chain;
  save[count] = (uint64_t)orig.kind;
  save[count + 1] = (uint64_t)(uintptr_t)orig.payload;
  weft_common_stack_info *ocsi = orig.payload;
  la->parent_chain = orig;
  c->last_ancestor = NULL;
  ctx->stack_chain = (weft_stack_chain){WEFT_CHAIN_CONTINUATION, c};
  c->csi.state = WEFT_STACK_RUNNING;
  ocsi->state = WEFT_STACK_PARENT;
  ocsi->limits = ctx->limits;
  ctx->limits = c->csi.limits;
  ocsi->handlers = (weft_handler_list){count, count, tags};
  ocsi->first_switch_handler = first_switch;
  return weft_contref_cc(la);
}

core_cont_pair core_cont_lc_resume(void *vmctx, const weft_val_raw *ref, weft_val_raw *io, uint64_t tc,
                                   uint64_t pt, uintptr_t fp) {
  (void)fp;
  weft_store_ctx *ctx = ctx_of(vmctx);
  uint32_t ct = (uint32_t)(tc >> 32), count = (uint32_t)tc, pool = (uint32_t)(pt >> 32);
  const weft_type *ft = cont_func(vmctx, ct);
  check_pool(vmctx, pool, count);
  uint32_t words = resume_words(vmctx, ft, ft->u.func.nparams, pool, count);
  weft_contref *c = take(ctx, ref);
  append(ctx, c, io, ft->u.func.nparams);
  weft_control_ctx *cc = splice(vmctx, c, (uint64_t *)(void *)(io + words), pool, count);
  return (core_cont_pair){(uint64_t)(uintptr_t)cc, WEFT_EFFECT_MAKE(WEFT_EFFECT_RESUME, 0)};
}

/* core_exn_pressure for resume_throw, with the continuation about to be resumed rooted for the
 * collection: its reference lies only in the caller's operand area, which no stack map lists, and
 * a FRESH or SUSPENDED continuation nothing else references would be released. No handle (out of
 * memory): no collection this time. */
static void exn_pressure_keeping(weft_store_ctx *ctx, const weft_val_raw *ref, const weft_val_raw *io,
                                 uint32_t np, uintptr_t pc, uintptr_t fp) {
  weft_store_t *s = core_rt_store_of_ctx(ctx);
  if (s == NULL || s->exn.live < s->exn.collect_at) return;
  weft_val_t v = {.kind = WEFT_VAL_CONTREF};
  v.of.cont.contref = ref->cont.contref;
  v.of.cont.revision = ref->cont.revision;
  weft_root_t *r = weft_root_new(s, &v);
  if (r == NULL) return;
  core_exn_pressure(ctx, (const uint64_t *)(const void *)io, 2u * np, pc, fp);
  weft_root_free(r);
}

core_cont_pair core_cont_lc_resume_throw(void *vmctx, const weft_val_raw *ref, weft_val_raw *io,
                                         uint64_t tc, uint64_t pt, uintptr_t fp) {
  uintptr_t pc = (uintptr_t)__builtin_return_address(0);
  weft_store_ctx *ctx = ctx_of(vmctx);
  uint32_t ct = (uint32_t)(tc >> 32), count = (uint32_t)tc, pool = (uint32_t)(pt >> 32);
  uint32_t tagidx = (uint32_t)pt;
  const weft_type *ft = cont_func(vmctx, ct);
  check_pool(vmctx, pool, count);
  uint32_t words = resume_words(vmctx, ft, resume_nops(vmctx, ft, tagidx), pool, count);
  core_exn *e;
  if (tagidx == UINT32_MAX) {
    e = io[0].ref;
    if (e == NULL) core_rt_trap_raise(ctx, WEFT_TRAP_NULL_EXN);
  } else {
    const weft_type *tt = NULL;
    const weft_vm_tag *tag = tag_addr(vmctx, tagidx, &tt);
    uint32_t np = tt->u.func.nparams;
    exn_pressure_keeping(ctx, ref, io, np, pc, fp);
    e = core_exn_new(ctx, tag, np);
    if (e == NULL) core_rt_trap_raise(ctx, WEFT_TRAP_OUT_OF_MEMORY);
    for (uint32_t i = 0; i < np; i++) e->vals[i] = io[i];
  }
  weft_contref *c = take(ctx, ref);
  if (c->csi.state == WEFT_STACK_FRESH) {
    /* the body never runs: the exception is thrown at this resume site */
    void *st = NULL;
    const weft_contstacks_iface *cs = plugin(ctx, &st);
    c->csi.state = WEFT_STACK_TRAPPED;
    c->args.length = 0;
    c->values = (weft_payloads){0, 0, NULL};
    if (WEFT_HAS(cs, weft_contstacks_iface, cont_release) && cs->cont_release != NULL)
      (void)cs->cont_release(st, c);
    core_exn_throw(ctx, e, fp, pc);
  }
  weft_payloads *pl = &c->values;
  if (pl->data == NULL || pl->capacity < 1) core_rt_trap_raise(ctx, WEFT_TRAP_HOST);
  memset(&pl->data[0], 0, sizeof(weft_val_raw));
  pl->data[0].ref = e;
  pl->length = 1;
  weft_control_ctx *cc = splice(vmctx, c, (uint64_t *)(void *)(io + words), pool, count);
  return (core_cont_pair){(uint64_t)(uintptr_t)cc, WEFT_EFFECT_MAKE(WEFT_EFFECT_RESUME_THROW, 0)};
}

uint64_t core_cont_lc_resume_end(void *vmctx, uint64_t r, weft_val_raw *io, uint64_t tc, uint64_t pt,
                                 uintptr_t fp) {
  uintptr_t pc = (uintptr_t)__builtin_return_address(0);
  weft_store_ctx *ctx = ctx_of(vmctx);
  const weft_module *m = inst_of(vmctx)->ir;
  uint32_t ct = (uint32_t)(tc >> 32), count = (uint32_t)tc, pool = (uint32_t)(pt >> 32);
  uint32_t tag = (uint32_t)pt;
  const weft_type *ft = cont_func(vmctx, ct);
  uint32_t nops = resume_nops(vmctx, ft, tag);
  uint32_t words = resume_words(vmctx, ft, nops, pool, count);
  uint64_t *save = (uint64_t *)(void *)(io + words);
  weft_stack_chain orig = {(uintptr_t)save[count], (void *)(uintptr_t)save[count + 1]};
  weft_common_stack_info *ocsi = orig.payload;
  ASAN_CALL(vmctx, asan_after_resume, (void *)(uintptr_t)save[count + 2]);
  weft_contref *nc = ctx->stack_chain.payload;
  uint32_t kind = WEFT_EFFECT_KIND(r);
  /* the trap's backtrace must include the continuation's frames: capture before restoring */
  if (kind != WEFT_EFFECT_RETURN && kind != WEFT_EFFECT_SUSPEND) core_frames_host_capture_trap(NULL, ctx);
  ctx->stack_chain = orig;
  ocsi->state = WEFT_STACK_RUNNING;
  ocsi->handlers = (weft_handler_list){0, 0, NULL};
  ocsi->first_switch_handler = 0;
  uint64_t out = 0;
  if (kind == WEFT_EFFECT_RETURN) {
    nc->csi.state = WEFT_STACK_RETURNED;
    uint32_t nr = ft->u.func.nresults;
    for (uint32_t i = 0; i < nr && i < nc->args.length; i++) io[i] = nc->args.data[i];
  } else if (kind == WEFT_EFFECT_SUSPEND) {
    nc->csi.limits.last_wasm_entry_fp = ctx->limits.last_wasm_entry_fp;
    nc->csi.limits.last_wasm_entry_sp = ctx->limits.last_wasm_entry_sp;
    nc->csi.limits.last_wasm_entry_trap_handler = ctx->limits.last_wasm_entry_trap_handler;
    /* the list index: suspend clauses come first in the list, in clause order, so generated code
     * dispatches on k = the k-th suspend clause (an index past them traps "unreachable") */
    uint32_t li = WEFT_EFFECT_INDEX(r), nsusp = 0;
    for (uint32_t i = 0; i < count; i++)
      if (m->pool[pool + 3 * i] != WEFT_HANDLER_ON_SWITCH) nsusp++;
    out = WEFT_EFFECT_MAKE(WEFT_EFFECT_SUSPEND, li < nsusp ? li : UINT32_MAX);
    uint32_t np = nc->values.length;
    for (uint32_t i = 0; i < np; i++) io[i] = nc->values.data[i];
    io[np].cont.contref = nc;
    io[np].cont.revision = nc->revision;
    nc->values.length = 0;
  } else {
    nc->csi.state = WEFT_STACK_TRAPPED;
    kind = WEFT_EFFECT_TRAP;
  }
  ctx->limits = ocsi->limits;
  if (kind == WEFT_EFFECT_TRAP) {
    /* one stack further out: an exception may be caught around this resume */
    weft_store_t *s = core_rt_store_of_ctx(ctx);
    core_exn *e = NULL;
    if (ctx->trap_code == WEFT_TRAP_EXCEPTION && ctx->pending_exn != NULL) {
      e = ctx->pending_exn;
      ctx->pending_exn = NULL;
    } else if (s->pending_trap != NULL && s->pending_trap->kind == WEFT_TRAPKIND_EXCEPTION &&
               s->pending_trap->exn != NULL) {
      e = s->pending_trap->exn;
      weft_trap_free(s->pending_trap);
      s->pending_trap = NULL;
    }
    if (e != NULL) {
      ctx->trap_code = WEFT_TRAP_NONE;
      core_exn_throw(ctx, e, fp, pc);
    }
    core_rt_unwind(ctx);
  }
  if (out != 0 && WEFT_EFFECT_INDEX(out) == UINT32_MAX) core_rt_trap_raise(ctx, WEFT_TRAP_UNREACHABLE);
  return out;
}

/* -- Suspend, switch -------------------------------------------------------------------------- */

/* Woken after suspend/switch: RESUME or SWITCH leave the values in the buffer (io as 16-byte
 * slots); RESUME_THROW throws the exnref in its first slot from here. */
static void woken(void *vmctx, uint64_t r, weft_val_raw *io, uint32_t nr, uintptr_t fp, uintptr_t pc) {
  weft_store_ctx *ctx = ctx_of(vmctx);
  weft_contref *a = ctx->stack_chain.payload;
  ASAN_CALL(vmctx, asan_after_suspend, a);
  weft_val_raw *buf = io;
  uint32_t got = a->values.length;
  a->values = (weft_payloads){0, 0, NULL};
  if (WEFT_EFFECT_KIND(r) == WEFT_EFFECT_RESUME_THROW) {
    core_exn *e = got > 0 ? buf[0].ref : NULL;
    if (e == NULL) core_rt_trap_raise(ctx, WEFT_TRAP_NULL_EXN);
    core_exn_throw(ctx, e, fp, pc);
  }
  for (uint32_t i = got; i < nr; i++) memset(&io[i], 0, sizeof io[i]);
}

core_cont_pair core_cont_lc_suspend(void *vmctx, uint32_t tagidx, weft_val_raw *io, uintptr_t fp) {
  (void)fp;
  weft_store_ctx *ctx = ctx_of(vmctx);
  const weft_type *tt = NULL;
  const weft_vm_tag *tag = tag_addr(vmctx, tagidx, &tt);
  uint32_t np = tt->u.func.nparams, nr = tt->u.func.nresults;
  if (ctx->stack_chain.kind != WEFT_CHAIN_CONTINUATION) core_rt_trap_raise(ctx, WEFT_TRAP_UNHANDLED_TAG);
  weft_contref *a = ctx->stack_chain.payload, *la = NULL;
  uint32_t idx = 0;
  if (!weft_find_handler(ctx, tag, false, &la, &idx))
    core_rt_trap_raise(ctx, WEFT_TRAP_UNHANDLED_TAG);
  a->last_ancestor = la;
  a->values = (weft_payloads){np, max3(1, np, nr), io};
  a->csi.state = WEFT_STACK_SUSPENDED;
  la->parent_chain = (weft_stack_chain){WEFT_CHAIN_ABSENT, NULL};
  ASAN_CALL(vmctx, asan_before_suspend, a, la);
  return (core_cont_pair){(uint64_t)(uintptr_t)weft_contref_cc(la),
                          WEFT_EFFECT_MAKE(WEFT_EFFECT_SUSPEND, idx)};
}

void core_cont_lc_suspend_end(void *vmctx, uint64_t r, weft_val_raw *io, uint32_t tagidx, uintptr_t fp) {
  uintptr_t pc = (uintptr_t)__builtin_return_address(0);
  const weft_type *tt = NULL;
  (void)tag_addr(vmctx, tagidx, &tt);
  woken(vmctx, r, io, tt->u.func.nresults, fp, pc);
}

/* The number of values a switcher of type `typeidx` receives back (its own type's params). */
static uint32_t switch_n2(void *vmctx, const weft_type *ft) {
  const weft_module *m = inst_of(vmctx)->ir;
  uint32_t np1 = ft->u.func.nparams;
  if (np1 == 0) core_rt_trap_raise(ctx_of(vmctx), WEFT_TRAP_HOST);
  uint32_t ct2 = WEFT_VT_HEAP(ft->u.func.params[np1 - 1]);
  if (ct2 >= m->ntypes) core_rt_trap_raise(ctx_of(vmctx), WEFT_TRAP_HOST);
  return cont_func(vmctx, ct2)->u.func.nparams;
}

core_cont_pair core_cont_lc_switch(void *vmctx, const weft_val_raw *ref, weft_val_raw *io,
                                   uint32_t typeidx, uint32_t tagidx, uintptr_t fp) {
  (void)fp;
  weft_store_ctx *ctx = ctx_of(vmctx);
  const weft_type *ft = cont_func(vmctx, typeidx);
  uint32_t np1 = ft->u.func.nparams, n2 = switch_n2(vmctx, ft);
  uint32_t words = max3(1, np1, n2);
  const weft_vm_tag *tag = tag_addr(vmctx, tagidx, NULL);
  weft_contref *s = ref->cont.contref;
  if (s == NULL) core_rt_trap_raise(ctx, WEFT_TRAP_NULL_CONT);
  weft_contref *la = NULL;
  uint32_t idx = 0;
  if (ctx->stack_chain.kind != WEFT_CHAIN_CONTINUATION || !weft_find_handler(ctx, tag, true, &la, &idx))
    core_rt_trap_raise(ctx, WEFT_TRAP_UNHANDLED_TAG);
  s = take(ctx, ref);
  weft_stack_chain h = la->parent_chain;
  weft_payloads *pl = s->csi.state == WEFT_STACK_FRESH ? &s->args : &s->values;
  uint32_t nargs = np1 - 1;
  if (pl->data == NULL || pl->length > pl->capacity ||
      (uint64_t)nargs + 1 > (uint64_t)(pl->capacity - pl->length))
    core_rt_trap_raise(ctx, WEFT_TRAP_HOST);
  /* the switchee gets args ++ [the switcher] before io turns into the switcher's buffer */
  weft_contref *a = ctx->stack_chain.payload;
  append(ctx, s, io, nargs);
  weft_val_raw *self = &pl->data[pl->length++];
  memset(self, 0, sizeof *self);
  self->cont.contref = a;
  self->cont.revision = a->revision;
  a->last_ancestor = la;
  a->values = (weft_payloads){0, n2 > 1 ? n2 : 1, io};
  a->csi.state = WEFT_STACK_SUSPENDED;
  la->parent_chain = (weft_stack_chain){WEFT_CHAIN_ABSENT, NULL};
  a->csi.limits.last_wasm_entry_fp = ctx->limits.last_wasm_entry_fp;
  a->csi.limits.last_wasm_entry_sp = ctx->limits.last_wasm_entry_sp;
  a->csi.limits.last_wasm_entry_trap_handler = ctx->limits.last_wasm_entry_trap_handler;
  ASAN_CALL(vmctx, asan_before_switch, a, la, s); /* needs s->last_ancestor, cleared below */
  weft_contref *sla = s->last_ancestor;
  s->csi.state = WEFT_STACK_RUNNING;
  sla->parent_chain = h;
  s->last_ancestor = NULL;
  ctx->stack_chain = (weft_stack_chain){WEFT_CHAIN_CONTINUATION, s};
  ctx->limits = s->csi.limits;
  /* s's chain now returns to h; the switcher's suspension point goes to la's context */
  weft_control_ctx *tmp = (weft_control_ctx *)(void *)(io + words);
  *tmp = *weft_contref_cc(sla);
  *weft_contref_cc(sla) = *weft_contref_cc(la);
  return (core_cont_pair){(uint64_t)(uintptr_t)weft_contref_cc(la), (uint64_t)(uintptr_t)tmp};
}

void core_cont_lc_switch_end(void *vmctx, uint64_t r, weft_val_raw *io, uint32_t typeidx, uintptr_t fp) {
  uintptr_t pc = (uintptr_t)__builtin_return_address(0);
  const weft_type *ft = cont_func(vmctx, typeidx);
  woken(vmctx, r, io, switch_n2(vmctx, ft), fp, pc);
}
