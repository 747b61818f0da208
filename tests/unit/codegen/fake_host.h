/* tests/unit/codegen/fake_host.h -- a fake host table and mini-runtime for the x64-codegen tests:
 * libc allocation, mmap code memory (W^X), test libcalls, a store context, a trap signal handler
 * that resumes at the innermost entry's landing pad, and vmctx set-up for one instance.
 * Depends on: plugin.h, plugin/codegen.h, vm.h. Never links the real core.
 */
#ifndef WEFT_TEST_FAKE_HOST_H
#define WEFT_TEST_FAKE_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "weft/plugin/codegen.h"

extern weft_host_api fake_host;
extern weft_store_ctx *fake_store;
extern int fake_subtype_answer;     /* FUNC_SUBTYPE's result */
extern unsigned fake_alloc_fail_at; /* fail the Nth allocation from now (0 = never) */

/* An instance of a compiled module, with one memory (reserved 6 GiB) per module memory, tables
 * of funcrefs and globals. */
typedef struct fake_inst {
  const weft_module *m;
  weft_code_info *ci;
  weft_vmctx_layout lay;
  uint8_t *vmctx;
  weft_vm_memory mems[2];
  weft_vm_table tables[2];
  weft_funcref *table_elems[2][16];
  weft_vm_global globals[4];
} fake_inst;

void fake_host_init(void);
void fake_inst_init(fake_inst *in, const weft_module *m, weft_code_info *ci,
                    weft_funcref *const *imports);
void fake_inst_fini(fake_inst *in);
/* Call defined function `fidx` through its array-call trampoline. Returns false on a trap and
 * leaves its code in fake_store->trap_code. */
bool fake_call(fake_inst *in, uint32_t fidx, weft_val_raw *slots, size_t n);

#endif
