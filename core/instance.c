/* core/instance.c -- instantiation: the vmctx (laid out by weft_vmctx_layout_compute, vm.h) with its
 * funcs, memories, tables, globals, tags and type ids; constant expressions; active element and data
 * segments; the start function; export lookup. The module -> instance step of DESIGN §2.
 * Depends on: core/runtime_int.h, core/engine.h (trampolines for host imports).
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "gcroots.h"
#include "host.h"
#include "runtime_int.h"

int core_rt_import_check(weft_store_t *s, const weft_module *ir, uint32_t imp,
                         const weft_extern_t *ext, weft_diag *d);

/* -- Constant expressions --------------------------------------------------------------------- */

#define CONST_STACK 64

static weft_val_raw *global_slot(weft_instance_t *inst, uint32_t g) {
  weft_vm_global **globals = (weft_vm_global **)(void *)(inst->vmctx + inst->layout.globals);
  return &globals[g]->value;
}

int core_rt_eval_const(weft_instance_t *inst, const weft_expr *e, weft_val_raw *out, weft_diag *d) {
  weft_val_raw st[CONST_STACK];
  uint32_t sp = 0;
  const weft_module *m = inst->ir;
  for (uint32_t i = 0; i < e->ninstrs; i++) {
    const weft_instr *in = &e->code[i];
    if (in->op == WEFT_OP_END) break;
    if (sp >= CONST_STACK)
      return core_diagf(d, WEFT_ERR_LIMIT, in->off, "instance", "constant expression too deep");
    switch (in->op) {
    case WEFT_OP_I32_CONST: memset(&st[sp], 0, 16); st[sp++].i32 = in->imm.i32; break;
    case WEFT_OP_I64_CONST: memset(&st[sp], 0, 16); st[sp++].i64 = in->imm.i64; break;
    case WEFT_OP_F32_CONST: memset(&st[sp], 0, 16); st[sp++].f32 = in->imm.f32; break;
    case WEFT_OP_F64_CONST: memset(&st[sp], 0, 16); st[sp++].f64 = in->imm.f64; break;
    case WEFT_OP_V128_CONST: memcpy(st[sp++].v128, in->imm.v128, 16); break;
    case WEFT_OP_REF_NULL: memset(&st[sp++], 0, 16); break;
    case WEFT_OP_REF_FUNC:
      if (in->imm.x.a >= m->nfuncs) goto bad;
      memset(&st[sp], 0, 16);
      st[sp++].ref = core_rt_vm_funcs(inst)[in->imm.x.a];
      break;
    case WEFT_OP_GLOBAL_GET:
      if (in->imm.x.a >= m->nglobals) goto bad;
      st[sp++] = *global_slot(inst, in->imm.x.a);
      break;
    case WEFT_OP_I32_ADD: case WEFT_OP_I32_SUB: case WEFT_OP_I32_MUL: {
      if (sp < 2) goto bad;
      uint32_t a = (uint32_t)st[sp - 2].i32, b = (uint32_t)st[sp - 1].i32;
      uint32_t r = in->op == WEFT_OP_I32_ADD ? a + b : in->op == WEFT_OP_I32_SUB ? a - b : a * b;
      sp--;
      memset(&st[sp - 1], 0, 16);
      st[sp - 1].i32 = (int32_t)r;
      break;
    }
    case WEFT_OP_I64_ADD: case WEFT_OP_I64_SUB: case WEFT_OP_I64_MUL: {
      if (sp < 2) goto bad;
      uint64_t a = (uint64_t)st[sp - 2].i64, b = (uint64_t)st[sp - 1].i64;
      uint64_t r = in->op == WEFT_OP_I64_ADD ? a + b : in->op == WEFT_OP_I64_SUB ? a - b : a * b;
      sp--;
      st[sp - 1].i64 = (int64_t)r;
      break;
    }
    case WEFT_OP_STRUCT_NEW: case WEFT_OP_STRUCT_NEW_DEFAULT: case WEFT_OP_ARRAY_NEW:
    case WEFT_OP_ARRAY_NEW_DEFAULT: case WEFT_OP_ARRAY_NEW_FIXED: { /* core/gcroots.c */
      uint32_t t = in->imm.x.a, n = 0, len = 0;
      bool fixed = true;
      bool dflt = in->op == WEFT_OP_STRUCT_NEW_DEFAULT || in->op == WEFT_OP_ARRAY_NEW_DEFAULT;
      if (t >= m->ntypes) goto bad;
      if (in->op == WEFT_OP_STRUCT_NEW) n = m->types[t].u.strct.nfields;
      else if (in->op == WEFT_OP_ARRAY_NEW) n = 2, fixed = false;
      else if (in->op == WEFT_OP_ARRAY_NEW_DEFAULT) n = 1;
      else if (in->op == WEFT_OP_ARRAY_NEW_FIXED) n = len = in->imm.x.b;
      if (sp < n) goto bad;
      if (in->op == WEFT_OP_ARRAY_NEW || in->op == WEFT_OP_ARRAY_NEW_DEFAULT)
        len = (uint32_t)st[sp - 1].i32;
      void *o = core_gc_new(inst, t, len, dflt ? NULL : &st[sp - n], fixed);
      if (o == NULL)
        return core_diagf(d, WEFT_ERR_NOMEM, in->off, "instance",
                          "constant expression: cannot allocate a GC object (no gc plugin, or "
                          "[gc] heap_limit reached)");
      sp -= n;
      memset(&st[sp], 0, 16);
      st[sp++].ref = o;
      break;
    }
    case WEFT_OP_ANY_CONVERT_EXTERN: case WEFT_OP_EXTERN_CONVERT_ANY: { /* core/gcroots.c */
      void *r;
      if (sp < 1) goto bad;
      bool to_any = in->op == WEFT_OP_ANY_CONVERT_EXTERN;
      if (!core_gc_convert(inst->store->ctx, st[sp - 1].ref, to_any, &r))
        return core_diagf(d, WEFT_ERR_NOMEM, in->off, "instance",
                          "constant expression: cannot convert a reference (no gc plugin, or "
                          "[gc] heap_limit reached)");
      memset(&st[sp - 1], 0, 16);
      st[sp - 1].ref = r;
      break;
    }
    case WEFT_OP_REF_I31: { /* an unboxed i31ref: (v << 1) | 1 (include/weft/plugin/gc.h) */
      if (sp < 1) goto bad;
      uint32_t v = (uint32_t)st[sp - 1].i32;
      memset(&st[sp - 1], 0, 16);
      st[sp - 1].ref = (void *)(uintptr_t)((v << 1) | 1u);
      break;
    }
    default:
      return core_diagf(d, WEFT_ERR_UNSUPPORTED, in->off, "instance",
                        "constant expression instruction 0x%x needs the gc plugin", in->op);
    }
  }
  if (sp != 1) goto bad;
  *out = st[0];
  return WEFT_OK;
bad:
  return core_diagf(d, WEFT_ERR_INVALID, e->ninstrs > 0 ? e->code[0].off : UINT64_MAX, "instance",
                    "constant expression required");
}

int core_rt_elem_item(weft_instance_t *inst, uint32_t elem, uint32_t i, weft_val_raw *out) {
  weft_diag d;
  return core_rt_eval_const(inst, &inst->ir->elems[elem].items[i], out, &d);
}

/* -- Lookup ----------------------------------------------------------------------------------- */

weft_instance_t *core_rt_instance_of(void *vmctx) {
  const weft_vmctx_header *h = vmctx;
  return h != NULL && h->magic == WEFT_VMCTX_MAGIC ? h->instance : NULL;
}

static int extern_of(weft_instance_t *inst, const weft_export *ex, weft_extern_t *out) {
  uint64_t sid = inst->store->id;
  memset(out, 0, sizeof *out);
  out->kind = ex->kind;
  switch (ex->kind) {
  case WEFT_EXTERN_FUNC: out->of.func = (weft_func_t){sid, core_rt_vm_funcs(inst)[ex->index]}; break;
  case WEFT_EXTERN_TABLE: out->of.table = (weft_table_t){sid, inst->tables[ex->index]}; break;
  case WEFT_EXTERN_MEMORY: out->of.memory = (weft_memory_t){sid, inst->mems[ex->index]}; break;
  case WEFT_EXTERN_GLOBAL: out->of.global = (weft_global_t){sid, inst->globals[ex->index]}; break;
  case WEFT_EXTERN_TAG: out->of.tag = (weft_tag_t){sid, inst->tags[ex->index]}; break;
  default: return WEFT_ERR_LINK;
  }
  return WEFT_OK;
}

int weft_instance_export_n(weft_instance_t *inst, const char *name, size_t len, weft_extern_t *out) {
  if (inst == NULL || name == NULL || out == NULL) return WEFT_ERR_MISUSE;
  for (uint32_t i = 0; i < inst->ir->nexports; i++) {
    const weft_export *ex = &inst->ir->exports[i];
    if (ex->name.len == len && memcmp(ex->name.str, name, len) == 0) return extern_of(inst, ex, out);
  }
  return WEFT_ERR_LINK;
}

int weft_instance_export(weft_instance_t *inst, const char *name, weft_extern_t *out) {
  if (name == NULL) return WEFT_ERR_MISUSE;
  return weft_instance_export_n(inst, name, strlen(name), out);
}

const weft_module_t *weft_instance_module(const weft_instance_t *inst) {
  return inst != NULL ? inst->module : NULL;
}

/* -- Lifetime --------------------------------------------------------------------------------- */

void core_rt_instance_destroy(weft_instance_t *inst) {
  if (inst == NULL) return;
  free(inst->mems);
  free(inst->tables);
  free(inst->globals);
  free(inst->tags);
  free(inst->elem_dropped);
  free(inst->data_dropped);
  free(inst->vmctx);
  weft_module_free(inst->module);
  free(inst);
}

/* weft_vmctx_layout_compute works in 32 bits: a module whose vmctx would not fit is refused before
 * the layout is computed (the estimate is an upper bound of the real size, in 64 bits). */
#define VMCTX_MAX ((uint64_t)1 << 30)
static bool vmctx_fits(const weft_module *ir) {
  uint64_t size = sizeof(weft_vmctx_header) + 64;
  size += (uint64_t)ir->nfuncs * (8 + sizeof(weft_funcref));
  size += (uint64_t)ir->nmems * (8 + sizeof(weft_vm_memory));
  size += (uint64_t)ir->ntables * (8 + sizeof(weft_vm_table));
  size += (uint64_t)ir->nglobals * (8 + sizeof(weft_vm_global));
  size += (uint64_t)ir->ntags * (8 + sizeof(weft_vm_tag));
  size += (uint64_t)ir->ntypes * 12;
  return size <= VMCTX_MAX;
}

static weft_instance_t *instance_alloc(weft_store_t *s, const weft_module_t *module) {
  const weft_module *ir = module->ir;
  weft_instance_t *inst = calloc(1, sizeof *inst);
  if (inst == NULL) return NULL;
  inst->store = s;
  inst->ir = ir;
  weft_vmctx_layout_compute(&inst->layout, ir);
  inst->vmctx = aligned_alloc(16, inst->layout.size);
  inst->mems = calloc(ir->nmems + 1, sizeof *inst->mems);
  inst->tables = calloc(ir->ntables + 1, sizeof *inst->tables);
  inst->globals = calloc(ir->nglobals + 1, sizeof *inst->globals);
  inst->tags = calloc(ir->ntags + 1, sizeof *inst->tags);
  inst->elem_dropped = calloc(ir->nelems + 1, 1);
  inst->data_dropped = calloc(ir->ndatas + 1, 1);
  if (inst->vmctx == NULL || inst->mems == NULL || inst->tables == NULL || inst->globals == NULL ||
      inst->tags == NULL || inst->elem_dropped == NULL || inst->data_dropped == NULL) {
    core_rt_instance_destroy(inst);
    return NULL;
  }
  memset(inst->vmctx, 0, inst->layout.size);
  core_rt_module_retain(module);
  inst->module = (weft_module_t *)module;
  return inst;
}

/* -- Building the vmctx ----------------------------------------------------------------------- */

#define VM_ARRAY(inst, T, off) ((T *)(void *)((inst)->vmctx + (inst)->layout.off))

static int setup_types(weft_instance_t *inst) {
  const weft_module *ir = inst->ir;
  const weft_rtt **rtts = VM_ARRAY(inst, const weft_rtt *, rtts);
  uint32_t *ids = VM_ARRAY(inst, uint32_t, type_ids);
  for (uint32_t i = 0; i < ir->ntypes; i++) {
    const weft_rtt *r = ir->types[i].rtt;
    rtts[i] = r;
    ids[i] = r != NULL ? r->id : i;
    if (core_rt_store_add_rtt(inst->store, r) != WEFT_OK) return WEFT_ERR_NOMEM;
  }
  return WEFT_OK;
}

/* Gives a host function imported by this module a native entry (the module's import trampoline, or
 * one made for it by the codegen). */
static int fill_import_hole(weft_instance_t *inst, uint32_t fidx, weft_funcref *f, weft_diag *d) {
  if (f->wasm_call != NULL) return WEFT_OK;
  const weft_code_info *ci = inst->module->code;
  if (ci != NULL && ci->import_tramp != NULL && ci->import_tramp[fidx] != UINT32_MAX) {
    core_rt_fill_hole(f, (uint8_t *)ci->code + ci->import_tramp[fidx]);
    return WEFT_OK;
  }
  /* Without compiled code nothing in this module can call it natively. */
  if (ci == NULL || inst->store->engine == NULL ||
      ((weft_vmctx_header *)f->vmctx)->magic != WEFT_HOSTCTX_MAGIC)
    return WEFT_OK;
  core_hostfunc *h = (core_hostfunc *)f->vmctx;
  void *entry = NULL;
  int rc = core_engine_host_trampoline(inst->store->engine, inst->ir, inst->ir->funcs[fidx].type,
                                       &entry, d);
  if (rc != WEFT_OK) return rc;
  h->tramp = entry;
  core_rt_fill_hole(f, entry);
  return WEFT_OK;
}

static int setup_funcs(weft_instance_t *inst, const weft_extern_t *imports, weft_diag *d) {
  const weft_module *ir = inst->ir;
  const weft_code_info *ci = inst->module->code;
  weft_funcref **funcs = core_rt_vm_funcs(inst);
  weft_funcref *own = VM_ARRAY(inst, weft_funcref, own_funcs);
  for (uint32_t i = 0; i < ir->nimports; i++) {
    const weft_import *im = &ir->imports[i];
    if (im->kind != WEFT_EXTERN_FUNC) continue;
    funcs[im->index] = imports[i].of.func.ref;
    int rc = fill_import_hole(inst, im->index, funcs[im->index], d);
    if (rc != WEFT_OK) return rc;
  }
  uint32_t ndef = ir->nfuncs - ir->nfunc_imports;
  if (ndef > 0 && (ci == NULL || ci->nfuncs < ndef))
    return core_diagf(d, WEFT_ERR_UNSUPPORTED, UINT64_MAX, "instance",
                      "module has no compiled code: load a codegen plugin");
  for (uint32_t j = 0; j < ndef; j++) {
    uint32_t fidx = ir->nfunc_imports + j;
    const weft_rtt *r = ir->types[ir->funcs[fidx].type].rtt;
    own[j].array_call = (weft_array_call_fn)(void *)((uint8_t *)ci->code + ci->array_call[j]);
    own[j].wasm_call = (uint8_t *)ci->code + ci->func_start[j];
    own[j].type_index = r != NULL ? r->id : ir->funcs[fidx].type;
    own[j].vmctx = inst->vmctx;
    funcs[fidx] = &own[j];
  }
  return WEFT_OK;
}

static int setup_memories(weft_instance_t *inst, const weft_extern_t *imports, weft_diag *d) {
  const weft_module *ir = inst->ir;
  weft_vm_memory **mems = VM_ARRAY(inst, weft_vm_memory *, mems);
  weft_vm_memory *own = VM_ARRAY(inst, weft_vm_memory, own_mems);
  for (uint32_t i = 0; i < ir->nimports; i++)
    if (ir->imports[i].kind == WEFT_EXTERN_MEMORY)
      inst->mems[ir->imports[i].index] = imports[i].of.memory.obj;
  for (uint32_t k = ir->nmem_imports; k < ir->nmems; k++) {
    core_memory *m;
    int rc = core_rt_memory_create(&ir->mems[k].limits, &own[k - ir->nmem_imports], &m);
    if (rc != WEFT_OK)
      return core_diagf(d, rc, UINT64_MAX, "instance", "cannot allocate memory %u of %llu pages", k,
                        (unsigned long long)ir->mems[k].limits.min);
    if (core_rt_vec_push(&inst->store->memories, m) != WEFT_OK) {
      core_rt_memory_destroy(m);
      return WEFT_ERR_NOMEM;
    }
    inst->mems[k] = m;
  }
  for (uint32_t k = 0; k < ir->nmems; k++) mems[k] = inst->mems[k]->vm;
  return WEFT_OK;
}

static int setup_globals(weft_instance_t *inst, const weft_extern_t *imports, weft_diag *d) {
  const weft_module *ir = inst->ir;
  weft_vm_global **globals = VM_ARRAY(inst, weft_vm_global *, globals);
  weft_vm_global *own = VM_ARRAY(inst, weft_vm_global, own_globals);
  for (uint32_t i = 0; i < ir->nimports; i++)
    if (ir->imports[i].kind == WEFT_EXTERN_GLOBAL) {
      uint32_t g = ir->imports[i].index;
      inst->globals[g] = imports[i].of.global.obj;
      globals[g] = inst->globals[g]->vm;
    }
  for (uint32_t k = ir->nglobal_imports; k < ir->nglobals; k++) {
    core_global *g = calloc(1, sizeof *g);
    if (g == NULL || core_rt_vec_push(&inst->store->globals, g) != WEFT_OK) {
      free(g);
      return WEFT_ERR_NOMEM;
    }
    g->vm = &own[k - ir->nglobal_imports];
    g->type = ir->globals[k].type;
    g->mod = ir;
    inst->globals[k] = g;
    globals[k] = g->vm;
    int rc = core_rt_eval_const(inst, &ir->globals[k].init, &g->vm->value, d);
    if (rc != WEFT_OK) return rc;
  }
  return WEFT_OK;
}

static int setup_tables(weft_instance_t *inst, const weft_extern_t *imports, weft_diag *d) {
  const weft_module *ir = inst->ir;
  weft_vm_table **tables = VM_ARRAY(inst, weft_vm_table *, tables);
  weft_vm_table *own = VM_ARRAY(inst, weft_vm_table, own_tables);
  for (uint32_t i = 0; i < ir->nimports; i++)
    if (ir->imports[i].kind == WEFT_EXTERN_TABLE)
      inst->tables[ir->imports[i].index] = imports[i].of.table.obj;
  for (uint32_t k = ir->ntable_imports; k < ir->ntables; k++) {
    weft_val_raw init;
    memset(&init, 0, sizeof init);
    if (ir->tables[k].has_init) {
      int rc = core_rt_eval_const(inst, &ir->tables[k].init, &init, d);
      if (rc != WEFT_OK) return rc;
    }
    core_table *t;
    int rc = core_rt_table_create(&ir->tables[k].type, ir, &own[k - ir->ntable_imports], &init, &t);
    if (rc != WEFT_OK)
      return core_diagf(d, rc, UINT64_MAX, "instance", "cannot allocate table %u of %llu elements",
                        k, (unsigned long long)ir->tables[k].type.limits.min);
    if (core_rt_vec_push(&inst->store->tables, t) != WEFT_OK) {
      core_rt_table_destroy(t);
      return WEFT_ERR_NOMEM;
    }
    inst->tables[k] = t;
  }
  for (uint32_t k = 0; k < ir->ntables; k++) tables[k] = inst->tables[k]->vm;
  return WEFT_OK;
}

static int setup_tags(weft_instance_t *inst, const weft_extern_t *imports) {
  const weft_module *ir = inst->ir;
  weft_vm_tag **tags = VM_ARRAY(inst, weft_vm_tag *, tags);
  weft_vm_tag *own = VM_ARRAY(inst, weft_vm_tag, own_tags);
  for (uint32_t i = 0; i < ir->nimports; i++)
    if (ir->imports[i].kind == WEFT_EXTERN_TAG)
      inst->tags[ir->imports[i].index] = imports[i].of.tag.obj;
  for (uint32_t k = ir->ntag_imports; k < ir->ntags; k++) {
    core_tag *t = calloc(1, sizeof *t);
    if (t == NULL || core_rt_vec_push(&inst->store->tags, t) != WEFT_OK) {
      free(t);
      return WEFT_ERR_NOMEM;
    }
    t->vm = &own[k - ir->ntag_imports];
    t->mod = ir;
    t->type = ir->tags[k].type;
    const weft_rtt *r = t->type < ir->ntypes ? ir->types[t->type].rtt : NULL;
    t->vm->type_index = r != NULL ? r->id : t->type;
    inst->tags[k] = t;
  }
  for (uint32_t k = 0; k < ir->ntags; k++) tags[k] = inst->tags[k]->vm;
  return WEFT_OK;
}

/* -- Segments and start ----------------------------------------------------------------------- */

/* Active element segments, then active data segments, in order (the spec's instantiation steps);
 * the first that does not fit traps, and the writes before it stay. */
static int run_segments(weft_instance_t *inst, weft_trap_t **trap, weft_diag *d) {
  const weft_module *ir = inst->ir;
  for (uint32_t k = 0; k < ir->nelems; k++) {
    const weft_elem *e = &ir->elems[k];
    if (e->mode == WEFT_SEG_DECLARATIVE) inst->elem_dropped[k] = 1;
    if (e->mode != WEFT_SEG_ACTIVE) continue;
    weft_val_raw off;
    int rc = core_rt_eval_const(inst, &e->offset, &off, d);
    if (rc != WEFT_OK) return rc;
    core_table *t = inst->tables[e->table];
    uint64_t dst = t->type.limits.is64 ? (uint64_t)off.i64 : (uint64_t)(uint32_t)off.i32;
    if (dst > t->vm->size || e->nitems > t->vm->size - dst) {
      *trap = core_rt_trap_make(WEFT_TRAPKIND_TRAP, WEFT_TRAP_TABLE_OOB, NULL);
      return WEFT_OK;
    }
    for (uint32_t i = 0; i < e->nitems; i++) {
      weft_val_raw v;
      rc = core_rt_eval_const(inst, &e->items[i], &v, d);
      if (rc != WEFT_OK) return rc;
      core_rt_table_write(t, dst + i, &v);
    }
    inst->elem_dropped[k] = 1;
  }
  for (uint32_t k = 0; k < ir->ndatas; k++) {
    const weft_data *seg = &ir->datas[k];
    if (seg->mode != WEFT_SEG_ACTIVE) continue;
    weft_val_raw off;
    int rc = core_rt_eval_const(inst, &seg->offset, &off, d);
    if (rc != WEFT_OK) return rc;
    core_memory *m = inst->mems[seg->mem];
    uint64_t dst = m->limits.is64 ? (uint64_t)off.i64 : (uint64_t)(uint32_t)off.i32;
    if (dst > m->vm->length || seg->len > m->vm->length - dst) {
      *trap = core_rt_trap_make(WEFT_TRAPKIND_TRAP, WEFT_TRAP_MEMORY_OOB, NULL);
      return WEFT_OK;
    }
    if (seg->len > 0) memcpy(m->vm->base + dst, seg->bytes, seg->len);
    inst->data_dropped[k] = 1;
  }
  return WEFT_OK;
}

/* -- Instantiation ---------------------------------------------------------------------------- */

int weft_instance_new(weft_store_t *store, const weft_module_t *module, const weft_extern_t *imports,
                      size_t nimports, weft_instance_t **out_instance, weft_trap_t **out_trap,
                      weft_error *err) {
  weft_diag local;
  weft_diag *d = err != NULL ? err : &local;
  if (out_trap == NULL || out_instance == NULL || store == NULL || module == NULL)
    return core_diagf(d, WEFT_ERR_MISUSE, UINT64_MAX, "instance", "NULL argument");
  *out_trap = NULL;
  *out_instance = NULL;
  const weft_module *ir = module->ir;
  if (nimports != ir->nimports || (nimports > 0 && imports == NULL))
    return core_diagf(d, WEFT_ERR_LINK, UINT64_MAX, "instance",
                      "wrong number of imports: %zu given, module needs %u", nimports, ir->nimports);
  for (uint32_t i = 0; i < ir->nimports; i++) {
    int rc = core_rt_import_check(store, ir, i, &imports[i], d);
    if (rc != WEFT_OK) return rc;
  }
  if (!vmctx_fits(ir))
    return core_diagf(d, WEFT_ERR_LIMIT, UINT64_MAX, "instance",
                      "module too large to instantiate: its instance context would exceed 1 GiB");
  weft_instance_t *inst = instance_alloc(store, module);
  if (inst == NULL) return core_diagf(d, WEFT_ERR_NOMEM, UINT64_MAX, "instance", "out of memory");
  if (core_rt_vec_push(&store->instances, inst) != WEFT_OK) {
    core_rt_instance_destroy(inst);
    return core_diagf(d, WEFT_ERR_NOMEM, UINT64_MAX, "instance", "out of memory");
  }
  /* From here on the store owns the instance: on failure it stays there, inert, and is freed with
   * the store (its memories may already be shared through imports written by segments). */
  weft_vmctx_header *hdr = (weft_vmctx_header *)(void *)inst->vmctx;
  hdr->magic = WEFT_VMCTX_MAGIC;
  hdr->store_ctx = store->ctx;
  hdr->instance = inst;
  int rc = setup_types(inst);
  if (rc == WEFT_OK) rc = setup_funcs(inst, imports, d);
  if (rc == WEFT_OK) rc = setup_memories(inst, imports, d);
  if (rc == WEFT_OK) rc = setup_globals(inst, imports, d);
  if (rc == WEFT_OK) rc = setup_tables(inst, imports, d);
  if (rc == WEFT_OK) rc = setup_tags(inst, imports);
  if (rc == WEFT_OK) rc = run_segments(inst, out_trap, d);
  if (rc != WEFT_OK) {
    if (rc == WEFT_ERR_NOMEM) core_diagf(d, rc, UINT64_MAX, "instance", "out of memory");
    return rc;
  }
  if (*out_trap != NULL) return WEFT_OK;
  if (ir->start != WEFT_NONE && ir->start < ir->nfuncs) {
    weft_val_raw slot[1];
    memset(slot, 0, sizeof slot);
    *out_trap = core_rt_entry_call(store, core_rt_vm_funcs(inst)[ir->start], slot, 0);
    if (*out_trap != NULL) return WEFT_OK;
  }
  *out_instance = inst;
  return WEFT_OK;
}
