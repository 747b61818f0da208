/* tests/unit/validator/vtest.h -- shared fixtures of the validator unit tests.
 *
 * A fake host table (scripted allocation failures, config answers, recorded diagnostics) and a small
 * builder for hand-made weft_module IR. Defined in vtest_support.c; used by test_validator.c and
 * test_validator_ref.c. Depends on: cmocka, include/weft/plugin/validator.h.
 */
#ifndef WEFT_TESTS_VTEST_H
#define WEFT_TESTS_VTEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>

#include "weft/plugin/validator.h"

const weft_plugin_desc *weft_plugin_entry_validator(uint32_t host_abi);

/* -- Fake host ---------------------------------------------------------------------------------- */

extern bool vt_script_allocs;  /* when set, every allocation asks vt_alloc_gate() (will_return) */
extern _Atomic int vt_live_allocs; /* allocations not yet freed (atomic: threaded tests) */
extern int vt_fail_nth;        /* >= 0: the allocation after that many successful ones fails */
extern int64_t vt_cfg_max_locals, vt_cfg_max_nesting, vt_cfg_max_types; /* -1: key not set */
extern const weft_host_api vt_host;
extern const weft_plugin_cfg *const vt_fake_cfg;
int vt_alloc_gate(void);

typedef struct plugin {
  const weft_plugin_desc *desc;
  const weft_validator_iface *vi;
  void *state;
} plugin;

plugin vt_load(void);
void vt_unload(plugin *p);

/* -- IR builder --------------------------------------------------------------------------------- */

#define I32 WEFT_VT_I32
#define I64 WEFT_VT_I64
#define F32 WEFT_VT_F32
#define REFN(ht) WEFT_VT_MAKE_REF(0, ht)
#define REFNULL(ht) WEFT_VT_MAKE_REF(1, ht)
#define ABS(x) WEFT_HT_ABS(WEFT_AHT_##x)

#define OP(o) ((weft_instr){.op = WEFT_OP_##o})
#define OPA(o, a_) ((weft_instr){.op = WEFT_OP_##o, .imm.x = {.a = (a_)}})
#define OPAB(o, a_, b_) ((weft_instr){.op = WEFT_OP_##o, .imm.x = {.a = (a_), .b = (b_)}})
#define OPABC(o, a_, b_, c_) ((weft_instr){.op = WEFT_OP_##o, .imm.x = {.a = (a_), .b = (b_), .c = (c_)}})
#define CONST32(v) ((weft_instr){.op = WEFT_OP_I32_CONST, .imm.i32 = (v)})
#define CONST64(v) ((weft_instr){.op = WEFT_OP_I64_CONST, .imm.i64 = (v)})
#define MEMOP(o, al, offs) ((weft_instr){.op = WEFT_OP_##o, .imm.mem = {.offset = (offs), .align = (al)}})

/* Up to 8 types, 4 functions, 4 globals; built fresh per test. */
typedef struct mod {
  weft_module m;
  weft_type types[8];
  weft_func funcs[4];
  weft_global globals[4];
  weft_memory mems[2];
  weft_table tables[2];
  weft_tag tags[4];
  weft_export exports[4];
  weft_instr code[4][48];
  weft_instr ginit[4][4];
  weft_valtype tv[8][8]; /* storage for func params/results */
  weft_fieldtype fields[8][4];
  uint32_t pool[32];
} mod;

extern const weft_valtype vt_i32x2[2];

mod *vt_new_mod(void);
uint32_t vt_add_functype(mod *b, const weft_valtype *ps, uint32_t np, const weft_valtype *rs,
                         uint32_t nr);
uint32_t vt_add_type(mod *b, uint8_t comp, bool final, uint32_t super);
uint32_t vt_add_func(mod *b, uint32_t type, const weft_valtype *locals, uint32_t nlocals,
                     const weft_instr *body, uint32_t n);
uint32_t vt_add_global(mod *b, weft_valtype t, bool mut, const weft_instr *init, uint32_t n);
void vt_add_memory(mod *b, uint64_t min, bool is64);
void vt_add_table(mod *b, weft_valtype elem, uint64_t min, bool is64);
int vt_validate(mod *b, weft_diag *d);
void vt_expect_invalid(mod *b, const char *prefix); /* rejected, message starts with prefix */
void vt_expect_valid(mod *b);

/* The test groups; each returns the number of failed tests. */
int vt_run_ref_tests(void);

#endif /* WEFT_TESTS_VTEST_H */
