/* core/func.c -- functions: API values <-> raw slots, signatures of funcrefs, weft_func_call and its
 * unchecked twin, and host functions (their array_call, the caller context, their lifetime).
 * Depends on: core/runtime_int.h, core/engine.h (trampolines for host functions).
 */
#include <stdlib.h>
#include <string.h>

#include "cont.h"
#include "engine.h"
#include "exn.h"
#include "gcroots.h"
#include "types.h"
#include "runtime_int.h"

/* -- Value kinds ------------------------------------------------------------------------------ */

static weft_valkind heap_kind(uint32_t h, const weft_module *mod) {
  if (WEFT_HT_IS_ABSTRACT(h)) {
    switch (h & 0xFFu) {
    case WEFT_AHT_FUNC: case WEFT_AHT_NOFUNC: return WEFT_VAL_FUNCREF;
    case WEFT_AHT_EXTERN: case WEFT_AHT_NOEXTERN: return WEFT_VAL_EXTERNREF;
    case WEFT_AHT_EXN: case WEFT_AHT_NOEXN: return WEFT_VAL_EXNREF;
    case WEFT_AHT_CONT: case WEFT_AHT_NOCONT: return WEFT_VAL_CONTREF;
    default: return WEFT_VAL_ANYREF;
    }
  }
  if (mod != NULL && h < mod->ntypes) {
    switch (mod->types[h].comp) {
    case WEFT_COMP_FUNC: return WEFT_VAL_FUNCREF;
    case WEFT_COMP_CONT: return WEFT_VAL_CONTREF;
    default: return WEFT_VAL_ANYREF;
    }
  }
  return WEFT_VAL_FUNCREF;
}

static weft_valkind kind_of(weft_valtype t, const weft_module *mod) {
  switch (WEFT_VT_KIND(t)) {
  case WEFT_VT_I32: return WEFT_VAL_I32;
  case WEFT_VT_I64: return WEFT_VAL_I64;
  case WEFT_VT_F32: return WEFT_VAL_F32;
  case WEFT_VT_F64: return WEFT_VAL_F64;
  case WEFT_VT_V128: return WEFT_VAL_V128;
  default: return heap_kind(WEFT_VT_HEAP(t), mod);
  }
}

weft_valkind weft_valtype_kind(weft_valtype t) { return kind_of(t, NULL); }

/* -- Conversions ------------------------------------------------------------------------------ */

int core_rt_val_to_raw(weft_store_t *s, const weft_val_t *v, weft_valtype t, const weft_module *mod,
                       weft_val_raw *out) {
  memset(out, 0, sizeof *out);
  weft_valkind k = kind_of(t, mod);
  if (v->kind != (uint32_t)k) return WEFT_ERR_MISUSE;
  switch (k) {
  case WEFT_VAL_I32: out->i32 = v->of.i32; return WEFT_OK;
  case WEFT_VAL_I64: out->i64 = v->of.i64; return WEFT_OK;
  case WEFT_VAL_F32: memcpy(&out->f32, &v->of.f32, 4); return WEFT_OK;
  case WEFT_VAL_F64: memcpy(&out->f64, &v->of.f64, 8); return WEFT_OK;
  case WEFT_VAL_V128: memcpy(out->v128, v->of.v128, 16); return WEFT_OK;
  case WEFT_VAL_FUNCREF: {
    weft_funcref *f = v->of.funcref.ref;
    if (f == NULL) return WEFT_VT_NULLABLE(t) ? WEFT_OK : WEFT_ERR_MISUSE;
    if (s == NULL || v->of.funcref.store_id != s->id) return WEFT_ERR_MISUSE;
    uint32_t h = WEFT_VT_HEAP(t);
    if (WEFT_HT_IS_ABSTRACT(h)) {
      if ((h & 0xFFu) == WEFT_AHT_NOFUNC) return WEFT_ERR_MISUSE;
    } else {
      const weft_rtt *want = mod != NULL && h < mod->ntypes ? mod->types[h].rtt : NULL;
      if (!core_rt_rtt_sub(core_rt_funcref_rtt(f), want)) return WEFT_ERR_MISUSE;
    }
    /* It may now be called from Wasm (call_ref, call_indirect): give a host function an entry. */
    core_rt_hostfunc_ensure_entry(f);
    out->ref = f;
    return WEFT_OK;
  }
  case WEFT_VAL_CONTREF:
    if (v->of.cont.contref == NULL && !WEFT_VT_NULLABLE(t)) return WEFT_ERR_MISUSE;
    if (v->of.cont.contref != NULL && !core_cont_ref_ok(s, v->of.cont.contref))
      return WEFT_ERR_MISUSE;
    out->cont.contref = v->of.cont.contref;
    out->cont.revision = v->of.cont.revision;
    return WEFT_OK;
  default:
    if (v->of.ref == NULL) {
      if (!WEFT_VT_NULLABLE(t)) return WEFT_ERR_MISUSE;
    } else if (k == WEFT_VAL_ANYREF) { /* generated code dereferences these: ours, and fitting */
      if (!core_gc_host_ref_ok(s, v->of.ref, t, mod)) return WEFT_ERR_MISUSE;
    } else if (k == WEFT_VAL_EXNREF) {
      if (s == NULL || !core_exn_owned(s->ctx, v->of.ref)) return WEFT_ERR_MISUSE;
    }
    out->ref = v->of.ref;
    return WEFT_OK;
  }
}

void core_rt_raw_to_val(weft_store_t *s, const weft_val_raw *raw, weft_valtype t,
                        const weft_module *mod, weft_val_t *out) {
  weft_val_raw copy = *raw; /* raw may alias out (both are caller buffers) */
  memset(out, 0, sizeof *out);
  weft_valkind k = kind_of(t, mod);
  out->kind = (uint32_t)k;
  switch (k) {
  case WEFT_VAL_I32: out->of.i32 = copy.i32; break;
  case WEFT_VAL_I64: out->of.i64 = copy.i64; break;
  case WEFT_VAL_F32: memcpy(&out->of.f32, &copy.f32, 4); break;
  case WEFT_VAL_F64: memcpy(&out->of.f64, &copy.f64, 8); break;
  case WEFT_VAL_V128: memcpy(out->of.v128, copy.v128, 16); break;
  case WEFT_VAL_FUNCREF:
    out->of.funcref.store_id = s != NULL ? s->id : 0;
    out->of.funcref.ref = copy.ref;
    break;
  case WEFT_VAL_CONTREF:
    out->of.cont.contref = copy.cont.contref;
    out->of.cont.revision = copy.cont.revision;
    break;
  default: out->of.ref = copy.ref; break;
  }
}

/* -- Signatures ------------------------------------------------------------------------------- */

static const weft_type *defined_type(const weft_funcref *f, weft_instance_t **out_inst) {
  weft_instance_t *inst = ((const weft_vmctx_header *)f->vmctx)->instance;
  const weft_funcref *own = (const weft_funcref *)(void *)(inst->vmctx + inst->layout.own_funcs);
  uint32_t ndef = inst->ir->nfuncs - inst->ir->nfunc_imports;
  if (f < own || f >= own + ndef) return NULL;
  uint32_t idx = (uint32_t)(f - own) + inst->ir->nfunc_imports;
  *out_inst = inst;
  return &inst->ir->types[inst->ir->funcs[idx].type];
}

bool core_rt_funcref_sig(const weft_funcref *f, uint32_t *np, const weft_valtype **p, uint32_t *nr,
                         const weft_valtype **r, const weft_module **mod) {
  if (f == NULL || f->vmctx == NULL) return false;
  uint32_t magic = ((const weft_vmctx_header *)f->vmctx)->magic;
  if (magic == WEFT_HOSTCTX_MAGIC) {
    const core_hostfunc *h = (const core_hostfunc *)f->vmctx;
    *np = h->nparams, *p = h->params, *nr = h->nresults, *r = h->results, *mod = NULL;
    return true;
  }
  if (magic != WEFT_VMCTX_MAGIC) return false;
  weft_instance_t *inst = NULL;
  const weft_type *t = defined_type(f, &inst);
  if (t == NULL) return false;
  *np = t->u.func.nparams, *p = t->u.func.params, *nr = t->u.func.nresults, *r = t->u.func.results;
  *mod = inst->ir;
  return true;
}

const weft_rtt *core_rt_funcref_rtt(const weft_funcref *f) {
  if (f == NULL || f->vmctx == NULL) return NULL;
  uint32_t magic = ((const weft_vmctx_header *)f->vmctx)->magic;
  if (magic == WEFT_HOSTCTX_MAGIC) return ((const core_hostfunc *)f->vmctx)->rtt;
  if (magic != WEFT_VMCTX_MAGIC) return NULL;
  weft_instance_t *inst = NULL;
  const weft_type *t = defined_type(f, &inst);
  return t != NULL ? t->rtt : NULL;
}

int weft_func_get_type(weft_store_t *store, weft_func_t func, uint32_t *out_nparams,
                       const weft_valtype **out_params, uint32_t *out_nresults,
                       const weft_valtype **out_results) {
  if (store == NULL || func.store_id != store->id || func.ref == NULL) return WEFT_ERR_MISUSE;
  uint32_t np, nr;
  const weft_valtype *p, *r;
  const weft_module *mod;
  if (!core_rt_funcref_sig(func.ref, &np, &p, &nr, &r, &mod)) return WEFT_ERR_MISUSE;
  if (out_nparams != NULL) *out_nparams = np;
  if (out_params != NULL) *out_params = p;
  if (out_nresults != NULL) *out_nresults = nr;
  if (out_results != NULL) *out_results = r;
  return WEFT_OK;
}

/* -- Calls ------------------------------------------------------------------------------------ */

#define SMALL_SLOTS 16

int weft_func_call(weft_store_t *store, weft_func_t func, const weft_val_t *args, size_t nargs,
                   weft_val_t *results, size_t nresults, weft_trap_t **trap) {
  if (trap == NULL) return WEFT_ERR_MISUSE;
  *trap = NULL;
  if (store == NULL || func.store_id != store->id || func.ref == NULL) return WEFT_ERR_MISUSE;
  uint32_t np, nr;
  const weft_valtype *p, *r;
  const weft_module *mod;
  if (!core_rt_funcref_sig(func.ref, &np, &p, &nr, &r, &mod)) return WEFT_ERR_MISUSE;
  if (nargs != np || nresults != nr || (np > 0 && args == NULL) || (nr > 0 && results == NULL))
    return WEFT_ERR_MISUSE;
  size_t n = np > nr ? np : nr;
  weft_val_raw small[SMALL_SLOTS];
  weft_val_raw *slots = n <= SMALL_SLOTS ? small : calloc(n, sizeof *slots);
  if (slots == NULL) return WEFT_ERR_NOMEM;
  int rc = WEFT_OK;
  for (uint32_t i = 0; i < np; i++) {
    rc = core_rt_val_to_raw(store, &args[i], p[i], mod, &slots[i]);
    if (rc != WEFT_OK) goto out;
  }
  *trap = core_rt_entry_call(store, func.ref, slots, n);
  if (*trap == NULL)
    for (uint32_t i = 0; i < nr; i++) core_rt_raw_to_val(store, &slots[i], r[i], mod, &results[i]);
out:
  if (slots != small) free(slots);
  return rc;
}

int weft_func_call_unchecked(weft_store_t *store, weft_func_t func, weft_val_raw *slots, size_t n,
                             weft_trap_t **trap) {
  if (trap == NULL) return WEFT_ERR_MISUSE;
  *trap = NULL;
  if (store == NULL || func.store_id != store->id || func.ref == NULL) return WEFT_ERR_MISUSE;
  uint32_t np, nr;
  const weft_valtype *p, *r;
  const weft_module *mod;
  if (!core_rt_funcref_sig(func.ref, &np, &p, &nr, &r, &mod)) return WEFT_ERR_MISUSE;
  if (n < np || n < nr || (n > 0 && slots == NULL)) return WEFT_ERR_MISUSE;
  *trap = core_rt_entry_call(store, func.ref, slots, n);
  return WEFT_OK;
}

/* -- Host functions --------------------------------------------------------------------------- */

struct weft_caller {
  weft_store_t *store;
  weft_instance_t *instance; /* NULL when called from the host */
};

weft_store_t *weft_caller_store(weft_caller_t *caller) { return caller != NULL ? caller->store : NULL; }

int weft_caller_export(weft_caller_t *caller, const char *name, weft_extern_t *out) {
  if (caller == NULL || caller->instance == NULL) return WEFT_ERR_LINK;
  return weft_instance_export(caller->instance, name, out);
}

/* Records `t` as the store's pending trap; the entry (or the Wasm trampoline's RAISE) takes it. */
static bool fail_with(weft_store_t *s, weft_trap_t *t) {
  weft_trap_free(s->pending_trap);
  s->pending_trap = t;
  s->ctx->trap_code = (uint32_t)t->code;
  return false;
}

/* The array_call of every host function. */
static bool host_array_call(void *callee_vmctx, void *caller_vmctx, weft_val_raw *slots, size_t n) {
  core_hostfunc *h = callee_vmctx;
  weft_store_t *s = h->store;
  weft_caller_t caller = {s, caller_vmctx != NULL ? core_rt_instance_of(caller_vmctx) : NULL};
  size_t need = h->nparams + h->nresults;
  weft_val_t small[SMALL_SLOTS];
  weft_val_t *vals = need <= SMALL_SLOTS ? small : calloc(need, sizeof *vals);
  if (vals == NULL) return fail_with(s, core_rt_trap_make(WEFT_TRAPKIND_TRAP, WEFT_TRAP_OUT_OF_MEMORY, NULL));
  weft_val_t *args = vals, *results = vals + h->nparams;
  bool ok = true;
  (void)n;
  for (uint32_t i = 0; i < h->nparams; i++) core_rt_raw_to_val(s, &slots[i], h->params[i], NULL, &args[i]);
  for (uint32_t i = 0; i < h->nresults; i++) {
    memset(&results[i], 0, sizeof results[i]);
    results[i].kind = (uint32_t)weft_valtype_kind(h->results[i]);
  }
  weft_trap_t *t = h->cb(h->env, &caller, args, h->nparams, results, h->nresults);
  if (t != NULL) {
    ok = fail_with(s, t);
    goto out;
  }
  for (uint32_t i = 0; i < h->nresults; i++) {
    if (core_rt_val_to_raw(s, &results[i], h->results[i], NULL, &slots[i]) != WEFT_OK) {
      ok = fail_with(s, core_rt_trap_make(WEFT_TRAPKIND_HOST, WEFT_TRAP_HOST,
                                          "host function returned a value of the wrong type"));
      goto out;
    }
  }
out:
  if (vals != small) free(vals);
  return ok;
}

const weft_rtt *core_rt_intern_func_type(weft_store_t *store, const weft_valtype *params,
                                         uint32_t nparams, const weft_valtype *results,
                                         uint32_t nresults) {
  core_types *types = store->engine != NULL ? core_engine_types(store->engine) : NULL;
  if (types == NULL) return NULL;
  weft_type ty;
  memset(&ty, 0, sizeof ty);
  ty.comp = WEFT_COMP_FUNC;
  ty.final = true;
  ty.super = WEFT_NONE;
  ty.rec_size = 1;
  ty.u.func.nparams = nparams;
  ty.u.func.params = params;
  ty.u.func.nresults = nresults;
  ty.u.func.results = results;
  const weft_rtt *rtt = NULL;
  weft_diag d;
  if (core_types_intern(types, &ty, 0, 1, &rtt, &d) != WEFT_OK || rtt == NULL) return NULL;
  if (core_rt_store_add_rtt(store, rtt) != WEFT_OK) return NULL;
  return rtt;
}

/* Gives a host function its canonical type. Without a registry it stays unset until linked. */
static void intern_type(weft_store_t *store, core_hostfunc *h) {
  const weft_rtt *rtt = core_rt_intern_func_type(store, h->params, h->nparams, h->results,
                                                 h->nresults);
  if (rtt == NULL) return;
  h->rtt = rtt;
  h->ref.type_index = rtt->id;
}

int weft_func_new(weft_store_t *store, const weft_valtype *params, uint32_t nparams,
                  const weft_valtype *results, uint32_t nresults, weft_host_callback cb, void *env,
                  void (*finalizer)(void *env), weft_func_t *out) {
  if (store == NULL || cb == NULL || out == NULL || (nparams > 0 && params == NULL) ||
      (nresults > 0 && results == NULL) || nparams > 10000 || nresults > 10000)
    return WEFT_ERR_MISUSE;
  for (uint32_t i = 0; i < nparams + nresults; i++) {
    weft_valtype t = i < nparams ? params[i] : results[i - nparams];
    if (WEFT_VT_IS_REF(t) && !WEFT_HT_IS_ABSTRACT(WEFT_VT_HEAP(t))) return WEFT_ERR_MISUSE;
  }
  core_hostfunc *h = calloc(1, sizeof *h);
  if (h == NULL) return WEFT_ERR_NOMEM;
  h->params = calloc(nparams + nresults + 1, sizeof(weft_valtype));
  if (h->params == NULL) {
    free(h);
    return WEFT_ERR_NOMEM;
  }
  if (nparams > 0) memcpy(h->params, params, nparams * sizeof *params);
  h->results = h->params + nparams;
  if (nresults > 0) memcpy(h->results, results, nresults * sizeof *results);
  h->nparams = nparams;
  h->nresults = nresults;
  h->hdr.magic = WEFT_HOSTCTX_MAGIC;
  h->hdr.store_ctx = store->ctx;
  h->store = store;
  h->cb = cb;
  h->env = env;
  h->finalizer = finalizer;
  h->ref.array_call = host_array_call;
  h->ref.wasm_call = NULL; /* a hole, filled when a module with a matching trampoline links it */
  h->ref.type_index = UINT32_MAX;
  h->ref.vmctx = &h->hdr;
  intern_type(store, h);
  if (core_rt_vec_push(&store->hostfuncs, h) != WEFT_OK) {
    free(h->params);
    free(h);
    return WEFT_ERR_NOMEM;
  }
  *out = (weft_func_t){store->id, &h->ref};
  return WEFT_OK;
}

void core_rt_hostfunc_destroy(core_hostfunc *h) {
  if (h->finalizer != NULL) h->finalizer(h->env);
  if (h->tramp != NULL && h->store->engine != NULL)
    core_engine_release_tramp(h->store->engine, h->tramp);
  free(h->params);
  free(h);
}

void core_rt_hostfunc_ensure_entry(weft_funcref *f) {
  if (f == NULL || f->wasm_call != NULL || f->vmctx == NULL ||
      ((weft_vmctx_header *)f->vmctx)->magic != WEFT_HOSTCTX_MAGIC)
    return;
  core_hostfunc *h = (core_hostfunc *)f->vmctx;
  if (h->store->engine == NULL) return;
  /* The codegen makes trampolines from a module's function type: hand it a one-type module. */
  weft_type ty;
  memset(&ty, 0, sizeof ty);
  ty.comp = WEFT_COMP_FUNC;
  ty.final = true;
  ty.super = WEFT_NONE;
  ty.rec_size = 1;
  ty.rtt = h->rtt;
  ty.u.func.nparams = h->nparams;
  ty.u.func.params = h->params;
  ty.u.func.nresults = h->nresults;
  ty.u.func.results = h->results;
  weft_module m;
  memset(&m, 0, sizeof m);
  m.ntypes = 1;
  m.types = &ty;
  m.start = WEFT_NONE;
  void *entry = NULL;
  weft_diag d;
  if (core_engine_host_trampoline(h->store->engine, &m, 0, &entry, &d) != WEFT_OK) return;
  h->tramp = entry;
  f->wasm_call = entry;
}

void core_rt_fill_hole(weft_funcref *f, void *tramp) {
  if (f->wasm_call == NULL) f->wasm_call = tramp;
}
