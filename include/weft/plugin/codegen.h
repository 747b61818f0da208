/* include/weft/plugin/codegen.h -- interface of a plugin of kind "codegen".
 *
 * The codegen compiles a validated module to native code and describes what it produced: where each
 * function starts, its array-call trampoline, the trap sites and the pc -> wasm offset map. The code
 * memory comes from the host table (code_map / code_publish), so it is never writable and executable
 * at once. The vmctx layout comes from weft_vmctx_layout_compute() (vm.h).
 * Depends on: plugin.h, module.h, vm.h.
 */
#ifndef WEFT_PLUGIN_CODEGEN_H
#define WEFT_PLUGIN_CODEGEN_H

#include "weft/module.h"
#include "weft/plugin.h"
#include "weft/vm.h"

/* A place in the code that can fault or trap, sorted by code offset. */
typedef struct weft_trap_site {
  uint32_t code_off; /* offset of the faulting / trapping instruction from weft_code_info.code */
  uint32_t trap;     /* weft_trap_code a fault at this pc means (e.g. MEMORY_OOB for a guard page) */
  uint32_t wasm_off; /* module byte offset of the wasm instruction */
} weft_trap_site;

/* pc -> wasm offset, sorted by code offset: entry i covers [code_off_i, code_off_{i+1}). */
typedef struct weft_pc_map_entry {
  uint32_t code_off;
  uint32_t wasm_off;
} weft_pc_map_entry;

/* An exception handler (one catch clause of a try_table), since 1.2. A frame whose return address
 * lies at code offset `ra` with start < ra <= end is covered. Entries are ordered innermost
 * try_table first, and the clauses of one try_table in their order, so the first match wins. */
typedef struct weft_handler_entry {
  uint32_t start, end; /* code offsets of the try_table body */
  uint32_t tag;        /* module tag index, or UINT32_MAX for catch_all / catch_all_ref */
  uint32_t kind;       /* weft_catch_kind (module.h) */
  uint32_t landing;    /* code offset to jump to, with rbp = the frame's fp, rsp = fp - frame */
  uint32_t frame;      /* bytes from the frame's fp down to its rsp at the landing */
  uint32_t slot;       /* the payload goes to [rsp + 8 * (slot + i)], then the exnref (*_ref) */
  uint32_t pad;
} weft_handler_entry;

/* Or-ed into weft_handler_entry.kind: the landing stub places the payload itself (the codegen keeps
 * some values, v128, outside the 8-byte slots); the unwinder jumps with rax = the exception object,
 * whose payload (16-byte weft_val_raw slots) starts WEFT_EXN_PAYLOAD_OFFSET bytes in. since 1.2 */
#define WEFT_HANDLER_STUB_PAYLOAD 0x100u
#define WEFT_EXN_PAYLOAD_OFFSET 24u
/* Or-ed into THROW's tag index: the payload is in 16-byte cells (v128 values), not 8-byte ones. */
#define WEFT_THROW_WIDE_PAYLOAD 0x80000000u

/* A stack map, since 1.3: the frame slots that hold references at one safepoint (a call's return
 * address, or the resume point of an inline stack switch), as byte offsets from the frame's fp.
 * From slot `first` of weft_code_info.stack_map_slots: nrefs 8-byte reference slots (GC
 * references, funcrefs, externrefs: the collector ignores what is not one of its objects), then
 * nconts 16-byte slots of continuation type (null or {contref, revision} of a real contref), then
 * nvals 16-byte operand slots that hold a continuation reference or v128 data (a consumer checks
 * the contref against the store's continuations before it trusts it). Entries are sorted by
 * code_off, one per offset; entries with equal slot lists share them. */
typedef struct weft_stack_map_entry {
  uint32_t code_off; /* offset from weft_code_info.code of the return address / resume point */
  uint32_t first;    /* index of the first slot in weft_code_info.stack_map_slots */
  uint32_t nrefs;
  uint32_t nconts;
  uint32_t nvals;
} weft_stack_map_entry;

/* What a compilation produced. Owned by the codegen plugin; freed by its `release`. */
typedef struct weft_code_info {
  WEFT_ABI_HEADER;
  void *code;        /* executable, published */
  size_t code_size;
  uint32_t nfuncs;   /* defined functions: module funcs [nfunc_imports, nfuncs) */
  const uint32_t *func_start;  /* [nfuncs] offset of the wasm_call entry */
  const uint32_t *func_end;    /* [nfuncs] end offset of the function's code */
  const uint32_t *array_call;  /* [nfuncs] offset of its array-call trampoline (weft_array_call_fn) */
  /* [module nfuncs] for each *imported* function index, the offset of a wasm->array trampoline for
   * its type, or UINT32_MAX for defined functions; the core fills wasm_call holes with it. */
  const uint32_t *import_tramp;
  uint32_t ntrap_sites;
  const weft_trap_site *trap_sites;
  uint32_t npc_map;
  const weft_pc_map_entry *pc_map;
  /* since 1.2: exception handlers (try_table catch clauses), see weft_handler_entry */
  uint32_t nhandlers;
  const weft_handler_entry *handlers;
  /* since 1.3: stack maps of the safepoints (see weft_stack_map_entry); a consumer checks
   * WEFT_HAS(ci, weft_code_info, stack_map_slots) first: older codegens publish none */
  uint32_t nstack_maps;
  const weft_stack_map_entry *stack_maps;
  uint32_t nstack_map_slots;
  const int32_t *stack_map_slots;
} weft_code_info;

typedef struct weft_codegen_iface {
  WEFT_ABI_HEADER;
  /* Compile a validated module. Returns WEFT_OK with *out set, or an error with `d` filled
   * (WEFT_ERR_UNSUPPORTED names the instruction not yet compiled; WEFT_ERR_NOMEM). since 1.0 */
  int (*compile)(void *state, const weft_module *m, weft_code_info **out, weft_diag *d);
  /* Free what compile returned. since 1.0 */
  void (*release)(void *state, weft_code_info *code);
  /* A stand-alone wasm->array trampoline for function type `ft` (module-local `m`, index `type`),
   * used to fill the wasm_call hole of a host funcref. *out_entry stays valid until `release_tramp`.
   * since 1.0 */
  int (*host_trampoline)(void *state, const weft_module *m, uint32_t type, void **out_entry,
                         weft_diag *d);
  void (*release_tramp)(void *state, void *entry);
} weft_codegen_iface;

#endif
