/* core/libcalls.c -- the services generated code calls by address (weft_libcall_id, vm.h): traps,
 * memory and table bulk operations, segment drops, function subtyping.
 * Sits under the host table's libcall slot (core/host.c). Those that trap unwind to the innermost
 * entry through core_rt_trap_raise (core/trap.c). Depends on: core/runtime_int.h, core/libcalls.h.
 */
#include <stdio.h>
#include <string.h>

#include "cont.h"
#include "engine.h"
#include "exn.h"
#include "gcroots.h"
#include "libcalls.h"
#include "runtime_int.h"
#include "weft/plugin/contstacks.h"
#include "weft/weft.h"

/* -- Helpers ---------------------------------------------------------------------------------- */

static weft_store_ctx *ctx_of(void *vmctx) { return ((weft_vmctx_header *)vmctx)->store_ctx; }

static weft_instance_t *inst_of(void *vmctx) {
  return (weft_instance_t *)((weft_vmctx_header *)vmctx)->instance;
}

/* True when [off, off + len) fits in `size` (no overflow). */
static bool in_bounds(uint64_t off, uint64_t len, uint64_t size) {
  return off <= size && len <= size - off;
}

/* -- Traps ------------------------------------------------------------------------------------ */

/* UNINITIALIZED_ELEMENT names the table index the code stored in ctx->trap_elem, as the reference
 * interpreter does ("uninitialized element 2"). */
static void lc_trap(void *vmctx, uint32_t code) {
  weft_store_ctx *ctx = ctx_of(vmctx);
  if (code == WEFT_TRAP_NONE || code >= WEFT_TRAP_COUNT) code = WEFT_TRAP_UNREACHABLE;
  if (code == WEFT_TRAP_UNINITIALIZED_ELEMENT) {
    weft_store_t *s = core_rt_store_of_ctx(ctx);
    char msg[64];
    snprintf(msg, sizeof msg, "%s %llu", weft_trap_str((int)code),
             (unsigned long long)ctx->trap_elem);
    if (s->pending_trap == NULL)
      s->pending_trap = core_rt_trap_make(WEFT_TRAPKIND_TRAP, (int)code, msg);
  }
  core_rt_trap_raise(ctx, code);
}

/* A host function's exception trap is thrown at its Wasm call site (core/exn.c). */
static void lc_raise(void *vmctx) { core_exn_raise(ctx_of(vmctx)); }

/* -- Memory ----------------------------------------------------------------------------------- */

static uint64_t lc_memory_grow(void *vmctx, uint32_t mem, uint64_t delta) {
  weft_instance_t *inst = inst_of(vmctx);
  if (mem >= inst->ir->nmems) return UINT64_MAX;
  return core_rt_memory_grow(inst->mems[mem], delta);
}

static void lc_memory_fill(void *vmctx, uint32_t mem, uint64_t dst, uint32_t val, uint64_t len) {
  weft_vm_memory *m = inst_of(vmctx)->mems[mem]->vm;
  if (!in_bounds(dst, len, m->length)) core_rt_trap_raise(ctx_of(vmctx), WEFT_TRAP_MEMORY_OOB);
  memset(m->base + dst, (int)(val & 0xFF), (size_t)len);
}

static void lc_memory_copy(void *vmctx, uint32_t dmem, uint32_t smem, uint64_t dst, uint64_t src,
                           uint64_t len) {
  weft_instance_t *inst = inst_of(vmctx);
  weft_vm_memory *d = inst->mems[dmem]->vm, *s = inst->mems[smem]->vm;
  if (!in_bounds(dst, len, d->length) || !in_bounds(src, len, s->length))
    core_rt_trap_raise(ctx_of(vmctx), WEFT_TRAP_MEMORY_OOB);
  memmove(d->base + dst, s->base + src, (size_t)len);
}

static void lc_memory_init(void *vmctx, uint32_t mem, uint32_t data, uint64_t dst, uint32_t src,
                           uint32_t len) {
  weft_instance_t *inst = inst_of(vmctx);
  weft_vm_memory *m = inst->mems[mem]->vm;
  const weft_data *seg = &inst->ir->datas[data];
  uint64_t seglen = inst->data_dropped[data] ? 0 : seg->len;
  if (!in_bounds(src, len, seglen) || !in_bounds(dst, len, m->length))
    core_rt_trap_raise(ctx_of(vmctx), WEFT_TRAP_MEMORY_OOB);
  if (len > 0) memcpy(m->base + dst, seg->bytes + src, len);
}

static void lc_data_drop(void *vmctx, uint32_t data) {
  weft_instance_t *inst = inst_of(vmctx);
  if (data < inst->ir->ndatas) inst->data_dropped[data] = 1;
}

/* -- Tables ----------------------------------------------------------------------------------- */

static uint64_t lc_table_grow(void *vmctx, uint32_t table, const weft_val_raw *init, uint64_t delta) {
  weft_instance_t *inst = inst_of(vmctx);
  if (table >= inst->ir->ntables) return UINT64_MAX;
  return core_rt_table_grow(inst->tables[table], delta, init);
}

static void lc_table_fill(void *vmctx, uint32_t table, uint64_t dst, const weft_val_raw *val,
                          uint64_t len) {
  core_table *t = inst_of(vmctx)->tables[table];
  if (!in_bounds(dst, len, t->vm->size)) core_rt_trap_raise(ctx_of(vmctx), WEFT_TRAP_TABLE_OOB);
  for (uint64_t i = 0; i < len; i++) core_rt_table_write(t, dst + i, val);
}

static void lc_table_copy(void *vmctx, uint32_t dtab, uint32_t stab, uint64_t dst, uint64_t src,
                          uint64_t len) {
  weft_instance_t *inst = inst_of(vmctx);
  core_table *d = inst->tables[dtab], *s = inst->tables[stab];
  if (!in_bounds(dst, len, d->vm->size) || !in_bounds(src, len, s->vm->size))
    core_rt_trap_raise(ctx_of(vmctx), WEFT_TRAP_TABLE_OOB);
  if (len == 0) return;
  if (d->vm->elem_size == s->vm->elem_size) {
    memmove(d->vm->base + dst * d->vm->elem_size, s->vm->base + src * s->vm->elem_size,
            (size_t)len * d->vm->elem_size);
    return;
  }
  /* Different slot sizes cannot be valid (types differ); copy slot by slot anyway. */
  for (uint64_t i = 0; i < len; i++) {
    weft_val_raw v;
    core_rt_table_read(s, src + i, &v);
    core_rt_table_write(d, dst + i, &v);
  }
}

static void lc_table_init(void *vmctx, uint32_t table, uint32_t elem, uint64_t dst, uint32_t src,
                          uint32_t len) {
  weft_instance_t *inst = inst_of(vmctx);
  core_table *t = inst->tables[table];
  const weft_elem *seg = &inst->ir->elems[elem];
  uint64_t seglen = inst->elem_dropped[elem] ? 0 : seg->nitems;
  if (!in_bounds(src, len, seglen) || !in_bounds(dst, len, t->vm->size))
    core_rt_trap_raise(ctx_of(vmctx), WEFT_TRAP_TABLE_OOB);
  for (uint32_t i = 0; i < len; i++) {
    weft_val_raw v;
    if (core_rt_elem_item(inst, elem, src + i, &v) != WEFT_OK)
      core_rt_trap_raise(ctx_of(vmctx), WEFT_TRAP_OUT_OF_MEMORY);
    core_rt_table_write(t, dst + i, &v);
  }
}

static void lc_elem_drop(void *vmctx, uint32_t elem) {
  weft_instance_t *inst = inst_of(vmctx);
  if (elem < inst->ir->nelems) inst->elem_dropped[elem] = 1;
}

/* -- Types ------------------------------------------------------------------------------------ */

static uint32_t lc_func_subtype(void *vmctx, uint32_t actual_id, uint32_t expected_id) {
  if (actual_id == expected_id) return 1;
  weft_store_t *s = core_rt_store_of_ctx(ctx_of(vmctx));
  const weft_rtt *a = core_rt_store_rtt(s, actual_id), *e = core_rt_store_rtt(s, expected_id);
  if (a == NULL || e == NULL) return 0;
  return core_rt_rtt_sub(a, e) ? 1u : 0u;
}

/* -- Stack switching (routed to the contstacks plugin) ------------------------------------------ */

/* cont.new: the plugin makes the contref; a failure becomes a trap carrying the plugin's message. */
static void *lc_cont_new(void *vmctx, const weft_funcref *f, uint32_t nparams, uint32_t nresults) {
  weft_store_ctx *ctx = ctx_of(vmctx);
  if (f == NULL) core_rt_trap_raise(ctx, WEFT_TRAP_NULL_FUNC);
  weft_store_t *s = core_rt_store_of_ctx(ctx);
  const weft_contstacks_iface *cs = core_engine_iface(s->engine, WEFT_PLUGIN_CONTSTACKS);
  weft_contref *c = NULL;
  weft_diag d;
  memset(&d, 0, sizeof d);
  if (!WEFT_HAS(cs, weft_contstacks_iface, cont_new) || cs->cont_new == NULL)
    snprintf(d.message, sizeof d.message, "cont.new: no contstacks plugin is loaded");
  else if (cs->cont_new(core_engine_state(s->engine, WEFT_PLUGIN_CONTSTACKS), vmctx, f, nparams,
                        nresults, &c, &d) == WEFT_OK)
    return c;
  if (s->pending_trap == NULL)
    s->pending_trap = core_rt_trap_make(WEFT_TRAPKIND_TRAP, WEFT_TRAP_OUT_OF_MEMORY, d.message);
  core_rt_trap_raise(ctx, WEFT_TRAP_OUT_OF_MEMORY);
}

/* -- The table -------------------------------------------------------------------------------- */

void *core_libcall_addr(uint32_t id) {
  switch (id) {
  case WEFT_LC_TRAP: return (void *)lc_trap;
  case WEFT_LC_RAISE: return (void *)lc_raise;
  case WEFT_LC_MEMORY_GROW: return (void *)lc_memory_grow;
  case WEFT_LC_MEMORY_FILL: return (void *)lc_memory_fill;
  case WEFT_LC_MEMORY_COPY: return (void *)lc_memory_copy;
  case WEFT_LC_MEMORY_INIT: return (void *)lc_memory_init;
  case WEFT_LC_DATA_DROP: return (void *)lc_data_drop;
  case WEFT_LC_TABLE_GROW: return (void *)lc_table_grow;
  case WEFT_LC_TABLE_FILL: return (void *)lc_table_fill;
  case WEFT_LC_TABLE_COPY: return (void *)lc_table_copy;
  case WEFT_LC_TABLE_INIT: return (void *)lc_table_init;
  case WEFT_LC_ELEM_DROP: return (void *)lc_elem_drop;
  case WEFT_LC_FUNC_SUBTYPE: return (void *)lc_func_subtype;
  case WEFT_LC_CONT_NEW: return (void *)lc_cont_new;
  case WEFT_LC_THROW: return (void *)core_exn_lc_throw;
  case WEFT_LC_THROW_REF: return (void *)core_exn_lc_throw_ref;
  case WEFT_LC_CONT_NEW_REF: return (void *)core_cont_lc_new;
  case WEFT_LC_CONT_BIND: return (void *)core_cont_lc_bind;
  case WEFT_LC_RESUME: return (void *)core_cont_lc_resume;
  case WEFT_LC_SUSPEND: return (void *)core_cont_lc_suspend;
  case WEFT_LC_SWITCH: return (void *)core_cont_lc_switch;
  case WEFT_LC_RESUME_THROW: return (void *)core_cont_lc_resume_throw;
  case WEFT_LC_RESUME_END: return (void *)core_cont_lc_resume_end;
  case WEFT_LC_SUSPEND_END: return (void *)core_cont_lc_suspend_end;
  case WEFT_LC_SWITCH_END: return (void *)core_cont_lc_switch_end;
  case WEFT_LC_GC_STRUCT_NEW: return (void *)core_gc_lc_struct_new;
  case WEFT_LC_GC_ARRAY_NEW: return (void *)core_gc_lc_array_new;
  case WEFT_LC_GC_ARRAY_NEW_FIXED: return (void *)core_gc_lc_array_new_fixed;
  case WEFT_LC_GC_ARRAY_OP: return (void *)core_gc_lc_array_op;
  case WEFT_LC_GC_EXTERN_CONVERT: return (void *)core_gc_lc_extern_convert;
  default: return NULL;
  }
}
