/* plugins/x64-codegen/x64_int.h -- internals shared by the x64-codegen files: plugin state, the
 * per-module compile state and the per-function single-pass compiler state (value stack with a
 * register cache, control stack, fixups, trap sites, pc map).
 * Depends on: x64_emit.h, plugin/codegen.h, vm.h.
 */
#ifndef WEFT_X64_INT_H
#define WEFT_X64_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "weft/plugin/codegen.h"
#include "x64_emit.h"

/* -- Plugin state ---------------------------------------------------------------------------- */

typedef struct x64_state {
  const weft_host_api *host;
  bool explicit_bounds; /* [x64-codegen] bounds_checks = explicit */
  bool no_opt;          /* tests only: no pinned locals, no local cache (differential testing) */
} x64_state;

/* -- Values ---------------------------------------------------------------------------------- */

enum { X64_T_I32, X64_T_I64, X64_T_F32, X64_T_F64, X64_T_REF, X64_T_V128 };
enum { X64_VK_CONST, X64_VK_REG, X64_VK_MEM, X64_VK_PIN };

/* One value-stack entry. A MEM value lives in the operand slot of its depth. A PIN value is a
 * pinned local's register, read in place: it is not owned, so whoever writes a register first
 * copies it (x64_to_reg), and local.set of that local spills such entries first. */
typedef struct x64_val {
  uint8_t kind;  /* X64_VK_* */
  uint8_t type;  /* X64_T_* */
  uint8_t reg;   /* GPR or XMM number for REG */
  uint32_t depth; /* slot index (valid for MEM after pop too) */
  uint64_t imm;  /* CONST: raw bits */
} x64_val;

#define X64_IN_REG(v) ((v)->kind == X64_VK_REG || (v)->kind == X64_VK_PIN)
#define X64_IS_FLOAT(t) ((t) == X64_T_F32 || (t) == X64_T_F64)
/* v128 values live in XMM registers (never CONST) and spill to 16-byte slots (x64_vslot). */
#define X64_IS_XMM(t) (X64_IS_FLOAT(t) || (t) == X64_T_V128)
#define X64_IS_WIDE(t) ((t) == X64_T_I64 || (t) == X64_T_REF || (t) == X64_T_F64)

/* -- Control stack --------------------------------------------------------------------------- */

enum { X64_CTRL_FUNC, X64_CTRL_BLOCK, X64_CTRL_LOOP, X64_CTRL_IF };

typedef struct x64_ctrl {
  uint8_t kind;
  bool has_else;
  bool unreachable_at_else; /* then-branch ended unreachable */
  uint32_t height;      /* value-stack height below the block's params */
  uint32_t nparams, nresults;
  weft_blocktype bt;
  size_t loop_pc;       /* LOOP: branch target */
  uint32_t fixups;      /* head of the pending forward-jump list (index + 1; 0 = none) */
  size_t else_jcc;      /* IF: rel32 of the jump to the else arm; SIZE_MAX once patched */
  uint32_t save_slot;   /* IF with params: first save slot */
  bool exn_target;      /* a catch clause branches here: its end is a merge point (x64_isel_exn.c) */
  uint32_t exn_try;     /* TRY_TABLE block: index + 1 of its record in x64_isel_exn.c, else 0 */
} x64_ctrl;

typedef struct x64_fixup {
  size_t at;     /* rel32 field */
  uint32_t next; /* index + 1 */
} x64_fixup;

/* An out-of-line trap stub to emit at the function's end. */
typedef struct x64_trap_stub {
  size_t jcc_at;
  uint32_t trap;
  uint32_t wasm_off;
} x64_trap_stub;

/* A direct call to a defined function whose start is patched when all functions are laid out. */
typedef struct x64_call_fix {
  size_t at;
  uint32_t func; /* module function index */
} x64_call_fix;

/* -- Growable arrays ------------------------------------------------------------------------- */

#define X64_VEC(T) struct { T *v; uint32_t n, cap; }
bool x64_vec_grow(const weft_host_api *h, void **v, uint32_t *cap, uint32_t need, size_t elem);
#define X64_PUSH(c, vec, val)                                                                      \
  (((vec).n < (vec).cap ||                                                                         \
    x64_vec_grow((c)->host, (void **)&(vec).v, &(vec).cap, (vec).n + 1, sizeof *(vec).v))          \
       ? ((vec).v[(vec).n++] = (val), true)                                                        \
       : ((c)->oom = true, false))

/* -- Module compile state -------------------------------------------------------------------- */

typedef struct x64_module_cc {
  const weft_host_api *host;
  x64_state *st;
  const weft_module *m;
  weft_vmctx_layout lay;
  x64_buf buf;
  bool oom;
  int err;         /* first error (WEFT_OK while none) */
  weft_diag *d;
  uint32_t *func_start, *func_end, *array_call, *import_tramp;
  X64_VEC(weft_trap_site) traps;
  X64_VEC(weft_pc_map_entry) pcmap;
  X64_VEC(x64_call_fix) calls;
  void *libcalls[WEFT_LC_COUNT];
  X64_VEC(weft_handler_entry) handlers; /* try_table catch clauses (x64_isel_exn.c) */
  /* stack maps (x64_safepoint): entries sorted by code offset and their slots; a slot listed in
   * the current function's sm_fix is relative to the frame's bottom until the function ends */
  X64_VEC(weft_stack_map_entry) smaps;
  X64_VEC(int32_t) smslots;
} x64_module_cc;

/* -- Function compile state ------------------------------------------------------------------ */

typedef struct x64_fn {
  x64_module_cc *mc;
  const weft_host_api *host;
  const weft_module *m;
  x64_buf *b;
  bool oom;
  uint32_t fidx;           /* module function index */
  const weft_type *ft;
  uint32_t nparams, nlocals; /* nlocals counts params too */
  weft_valtype *ltypes;    /* [nlocals] */
  uint32_t area;           /* own parameter area (bytes, popped by ret) */
  bool has_mem0;           /* r14 holds memory 0's base */
  bool uses_mem0;          /* the body loads or stores memory 0 */
  X64_VEC(x64_val) stk;
  X64_VEC(x64_ctrl) ctl;
  X64_VEC(x64_fixup) fix;
  X64_VEC(x64_trap_stub) stubs;
  uint32_t max_depth;      /* operand slots used */
  uint32_t nsave;          /* IF-param save slots used */
  uint32_t max_out;        /* largest outgoing area */
  int32_t sp_off;          /* bytes pushed below the fixed frame (outgoing areas) */
  uint16_t gpr_used, xmm_used;
  /* Local cache: registers that hold a copy of a local (locals are written through to memory, so
   * a cache entry is dropped, never spilled). gcache[r] / xcache[r] = local index + 1, or 0. */
  uint16_t gpr_cached, xmm_cached;
  uint32_t gcache[16], xcache[16];
  /* Pinned locals: the hottest locals live in a register for the whole function (stored to their
   * memory home before, and reloaded after, every call). pin_local[k] is the local in pin_reg[k]. */
  uint16_t pinned_gpr, pinned_xmm;
  uint32_t npin;
  uint32_t pin_local[12];
  uint8_t pin_reg[12];
  /* bit k: pin_reg[k] equals its memory home here (x64_pins_clean after a reload on every way
   * here, until a local.set of it), so x64_save_pinned need not store it; cleared by
   * x64_cache_clear (joins, libcalls) */
  uint16_t pin_clean;
  bool unreachable;
  uint32_t cur_off;        /* wasm offset of the instruction being compiled */
  size_t frame_at, limit_at; /* prologue immediates patched at the end */
  struct x64_exn_fn *exn;  /* exception-handling state (x64_isel_exn.c), NULL until a try_table */
  uint32_t max_vdepth;     /* v128 operand slots used (x64_vslot) */
  /* stack maps: indices into mc->smslots of this function's slots that are offsets from the
   * frame's bottom (operand slots, outgoing areas), made fp-relative when the frame size is known */
  X64_VEC(uint32_t) sm_fix;
} x64_fn;

/* -- Cross-file internals -------------------------------------------------------------------- */

/* x64_isel.c: the function compiler core */
int x64_compile_func(x64_module_cc *mc, uint32_t fidx);
int x64_fail(x64_fn *c, int code, const char *fmt, ...);
x64_mem x64_slot(x64_fn *c, uint32_t depth);
x64_mem x64_local_mem(x64_fn *c, uint32_t idx);
int x64_type_of(weft_valtype t);
void x64_push_reg(x64_fn *c, int type, int reg);
void x64_push_const(x64_fn *c, int type, uint64_t imm);
x64_val x64_pop(x64_fn *c);
void x64_free_val(x64_fn *c, const x64_val *v);
int x64_alloc_gpr(x64_fn *c, uint16_t avoid);
int x64_alloc_xmm(x64_fn *c);
void x64_to_reg(x64_fn *c, x64_val *v, uint16_t avoid);
void x64_to_reg_fixed(x64_fn *c, x64_val *v, int reg);
void x64_evict(x64_fn *c, int reg);
void x64_spill_all(x64_fn *c);
void x64_cache_clear(x64_fn *c);
void x64_trap_if(x64_fn *c, int cc, uint32_t trap);
void x64_trap_site_here(x64_fn *c, uint32_t trap);
void x64_call_libcall(x64_fn *c, uint32_t id);
void x64_reload_membase(x64_fn *c);
/* After a libcall returns: drop the local cache and reload the pinned locals. */
void x64_after_libcall(x64_fn *c);
void x64_save_pinned(x64_fn *c);
void x64_pins_clean(x64_fn *c);
void x64_load_const(x64_fn *c, int type, int reg, uint64_t imm);
/* Conditional branch to label `depth` on condition `cc` (flags already set by the caller, after
 * x64_br_prepare). */
void x64_br_prepare(x64_fn *c, uint32_t depth);
void x64_br_if_cc(x64_fn *c, uint32_t depth, int cc);
void x64_if_cc(x64_fn *c, const weft_instr *in, int cc);

/* x64_isel_num.c: numeric instructions. Returns 1 when handled, 0 when not a numeric op. `next` is
 * the following instruction (for compare+branch fusion); *consumed is set when it was compiled too. */
int x64_isel_num(x64_fn *c, const weft_instr *in, const weft_instr *next, bool *consumed);

/* x64_isel_mem.c: memory, tables, globals, references. Returns 1 when handled, 0 otherwise. */
int x64_isel_mem(x64_fn *c, const weft_instr *in);

/* x64_isel_exn.c: throw, throw_ref, try_table and the handler table (weft_handler_entry).
 * x64_exn_try_begin: right after the try_table's block was pushed. x64_exn_label_end: at the end
 * of block/if/try label `kidx`, where its branches land (before the label is popped).
 * x64_exn_func_end: after the trap stubs, with the final frame size; emits the landing stubs.
 * x64_exn_free: releases the per-function state. */
int x64_isel_exn(x64_fn *c, const weft_instr *in);
void x64_exn_try_begin(x64_fn *c, const weft_instr *in);
void x64_exn_try_end(x64_fn *c, const x64_ctrl *k);
void x64_exn_label_end(x64_fn *c, uint32_t kidx);
void x64_exn_func_end(x64_fn *c, uint32_t frame);
void x64_exn_free(x64_fn *c);

/* x64_isel_cont.c: stack switching (0xE0-0xE6) through the core's continuation libcalls. Returns 1
 * when handled, 0 when not a continuation instruction. */
int x64_isel_cont(x64_fn *c, const weft_instr *in);
/* x64_isel_cont.c: br_on_null / br_on_non_null of a continuation reference (16 bytes, X64_T_V128
 * on the value stack). */
void x64_cont_br_on_null(x64_fn *c, const weft_instr *in, bool on_non_null);
/* x64_isel_cont.c, for x64_isel_gc.c: st is a GC field of continuation type (16 bytes
 * {contref, revision} in the gc layout). */
bool x64_cont_field(x64_fn *c, weft_valtype st);
/* x64_isel.c: x64_type_of maps continuation reference types to X64_T_V128 ({contref, revision}
 * takes the 16-byte path) for the module set here (per thread, by x64_module.c). */
void x64_set_type_module(const weft_module *m);
bool x64_is_cont_heap(const weft_module *m, uint32_t h);

/* x64_isel_gc.c: GC instructions (0xFB) compiled so far: i31, ref.test/cast, br_on_cast*. Returns 1
 * when handled (or when it failed: check mc->err), 0 when not one of them. */
int x64_isel_gc(x64_fn *c, const weft_instr *in);

/* x64_isel.c: the 16-byte operand slot of a v128 value at `depth` (rbp-relative, below the
 * locals). */
x64_mem x64_vslot(x64_fn *c, uint32_t depth);
/* x64_isel.c: whether a function type returns 2+ results with a v128 among them; those results
 * are stored at [rsi + 16 i] instead of [rsi + 8 i]. */
bool x64_wide_results(const weft_type *ft);

/* x64_isel_mem.c: the operand of a `size`-byte access at idx + offset (see mem_operand there). */
x64_mem x64_mem_operand(x64_fn *c, const weft_instr *in, uint32_t size, x64_val *idx, int *tmp);

/* x64_isel_simd.c: SIMD and relaxed-SIMD instructions (0x400-0x5FF) and v128 globals. Returns 1
 * when handled, 0 when not a SIMD op. */
int x64_isel_simd(x64_fn *c, const weft_instr *in);

/* x64_stackmap.c: a safepoint at the current code offset (c->b->len: the return address of the call
 * just emitted, or the resume point of an inline switch): records the stack map of the frame as
 * it is now -- every reference-typed local's home and every spilled operand slot of reference
 * type (8 bytes) or of the 16-byte kind (possible continuation references). Values still in
 * registers are not recorded: spill them (x64_spill_all, x64_save_pinned) before a call that can
 * collect or switch. Calling it twice at one offset keeps the later map. */
void x64_safepoint(x64_fn *c);
/* x64_stackmap.c: the map at the current offset (x64_safepoint's work); `ft`: also the reference
 * parameters in the outgoing area of the call just emitted; `popped16`: also the 16-byte slots
 * above the value stack (a libcall's popped operands). */
void x64_record_map(x64_fn *c, const weft_type *ft, bool popped16);
/* x64_stackmap.c: whether the return address of libcall `id` is a safepoint. */
bool x64_libcall_is_safepoint(uint32_t id);

/* x64_tramp.c: trampolines */
void x64_emit_array_tramp(x64_module_cc *mc, uint32_t fidx);
void x64_emit_import_tramp(x64_buf *b, const weft_type *ft, void *raise_addr);
uint32_t x64_area_size(uint32_t nparams);

/* x64_module.c */
int x64_compile_module(x64_state *st, const weft_module *m, weft_code_info **out, weft_diag *d);
void x64_release(x64_state *st, weft_code_info *ci);
int x64_host_trampoline(x64_state *st, const weft_module *m, uint32_t type, void **out_entry,
                        weft_diag *d);
void x64_release_tramp(x64_state *st, void *entry);

#endif
