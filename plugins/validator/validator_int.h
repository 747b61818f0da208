/* plugins/validator/validator_int.h -- internals shared by the validator plugin's files.
 *
 *   validator.c          descriptor, entry, init/fini (config keys)
 *   validator_types.c    type-section rules, value/heap subtyping, type helpers
 *   validator_module.c   module-level rules: imports, tables, memories, globals, segments, exports
 *   validator_func.c     the spec appendix algorithm over function bodies and constant expressions
 *   validator_ref.c      GC, reference and stack-switching instructions (called from validator_func.c)
 * Depends on: include/weft/plugin/validator.h, include/weft/module.h.
 */
#ifndef WEFT_VALIDATOR_INT_H
#define WEFT_VALIDATOR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/module.h"
#include "weft/plugin.h"
#include "weft/plugin/validator.h"

#define VLD_ORIGIN "validator"

/* The "unknown" type of the spec's algorithm: what a pop from an unreachable stack returns. */
#define VLD_BOT ((weft_valtype)0)
/* A reference whose heap type is unknown (pop_ref on an unreachable stack). */
#define VLD_HT_BOT WEFT_HT_ABS(0)

/* Plugin state: read-only after init. */
typedef struct vld_state {
  const weft_host_api *host;
  uint32_t max_locals;
  uint32_t max_nesting;
  uint32_t max_function_size; /* body bytes */
  uint32_t max_types;
} vld_state;

/* One control frame of the spec's algorithm. Label/param/result lists point into the module (type
 * section) or at `single` through vld_ctrl_results(); nothing is allocated per block. */
typedef struct vld_ctrl {
  uint16_t op;           /* block, loop, if, else, try_table, or 0 for the function */
  bool unreachable;
  uint32_t height;       /* value stack height at entry (after params are popped) */
  uint32_t init_height;  /* local-initialisation stack height at entry */
  uint32_t nparams, nresults;
  const weft_valtype *params;
  const weft_valtype *results; /* NULL with nresults == 1: the result is `single` */
  weft_valtype single;
} vld_ctrl;

/* Per-validation context; one per validate() call, reused across all function bodies. */
typedef struct vld_ctx {
  const vld_state *st;
  const weft_host_api *host;
  const weft_module *m;
  weft_diag *d;
  int status;           /* WEFT_OK until the first error */
  uint64_t off;         /* module offset of the current instruction or entry; UINT64_MAX: none */

  weft_valtype *vals;
  uint32_t nvals, capvals;
  vld_ctrl *ctrls;
  uint32_t nctrls, capctrls;

  /* Locals of the current function: params then declared locals. */
  weft_valtype *locals;
  uint32_t nlocals, caplocals;
  uint8_t *local_init;   /* 1 when initialised */
  uint32_t *init_stack;  /* locals set since entry to the enclosing blocks */
  uint32_t ninit;

  uint8_t *refs;         /* bitmap of declared function references (C.refs) */
  uint32_t nglobals_visible; /* globals a constant expression may read */
  const weft_valtype *fresults; /* current function's results */
  uint32_t nfresults;
  bool in_const;          /* validating a constant expression */
  weft_valtype scratch[4];/* small temporary type lists */
} vld_ctx;

/* -- Errors (validator_func.c) ---------------------------------------------------------------- */
int vld_fail(vld_ctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vld_nomem(vld_ctx *c);

/* -- Types and subtyping (validator_types.c) ------------------------------------------------- */
const weft_type *vld_type(const vld_ctx *c, uint32_t idx); /* NULL when out of range */
const weft_type *vld_func_type(vld_ctx *c, uint32_t idx);  /* fails "unknown type" / non-func */
const weft_type *vld_cont_type(vld_ctx *c, uint32_t idx);  /* fails "non-continuation type" */
bool vld_heap_sub(const vld_ctx *c, uint32_t a, uint32_t b);
bool vld_val_sub(const vld_ctx *c, weft_valtype a, weft_valtype b);
bool vld_val_eq(const vld_ctx *c, weft_valtype a, weft_valtype b);
bool vld_func_sub(const vld_ctx *c, const weft_type *a, const weft_type *b);
uint32_t vld_heap_top(const vld_ctx *c, uint32_t ht);
bool vld_defaultable(weft_valtype t);
weft_valtype vld_unpack(weft_valtype t);
int vld_check_valtype(vld_ctx *c, weft_valtype t, uint32_t ntypes_visible);
int vld_check_types(vld_ctx *c);
size_t vld_fmt_type(const vld_ctx *c, weft_valtype t, char *buf, size_t cap);

/* -- Value and control stacks (validator_func.c) --------------------------------------------- */
int vld_push(vld_ctx *c, weft_valtype t);
int vld_pop(vld_ctx *c, weft_valtype *out);
int vld_pop_expect(vld_ctx *c, weft_valtype expect, weft_valtype *out);
int vld_pop_list(vld_ctx *c, const weft_valtype *ts, uint32_t n);
int vld_push_list(vld_ctx *c, const weft_valtype *ts, uint32_t n);
int vld_pop_ref(vld_ctx *c, weft_valtype *out);
int vld_set_unreachable(vld_ctx *c);
int vld_label(vld_ctx *c, uint32_t depth, const weft_valtype **out_ts, uint32_t *out_n);
int vld_check_tag(vld_ctx *c, uint32_t tag, const weft_type **out);

/* -- Function bodies and constant expressions (validator_func.c) ------------------------------ */
int vld_ctx_init(vld_ctx *c, const vld_state *st, const weft_module *m, weft_diag *d);
void vld_ctx_fini(vld_ctx *c);
int vld_check_func(vld_ctx *c, uint32_t funcidx);
void vld_sigs_init(void);
int vld_check_const(vld_ctx *c, const weft_expr *e, weft_valtype expect, uint32_t nglobals_visible,
                    uint64_t entry_off);

/* -- References, GC, stack switching (validator_ref.c) --------------------------------------- */
int vld_instr_ref(vld_ctx *c, const weft_instr *in);

/* -- Module (validator_module.c) ------------------------------------------------------------- */
int vld_validate_module(const vld_state *st, const weft_module *m, weft_diag *d);

#endif /* WEFT_VALIDATOR_INT_H */
