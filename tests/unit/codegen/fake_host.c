/* tests/unit/codegen/fake_host.c -- the fake host and mini-runtime behind the x64-codegen run
 * tests: what the core does for real (code memory, libcalls, signals, vmctx), done small.
 * Depends on: fake_host.h, POSIX (mmap, sigaction), vm.h.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "fake_host.h"

weft_store_ctx *fake_store;
int fake_subtype_answer;
unsigned fake_alloc_fail_at;
static const weft_code_info *cur_code;
static uint32_t pending_trap;

/* -- Host table ------------------------------------------------------------------------------ */

static bool alloc_fails(void) { return fake_alloc_fail_at && --fake_alloc_fail_at == 0; }
static void *h_alloc(void *h, size_t n) { (void)h; return alloc_fails() ? NULL : malloc(n); }
static void *h_realloc(void *h, void *p, size_t n) { (void)h; return alloc_fails() ? NULL : realloc(p, n); }
static void h_free(void *h, void *p) { (void)h; free(p); }
static void h_log(void *h, weft_log_level l, const char *o, const char *fmt, va_list ap) {
  (void)h, (void)l, (void)o, (void)fmt, (void)ap;
}
static int h_diag(void *h, weft_diag *d, int code, uint64_t off, const char *origin, const char *fmt, va_list ap) {
  (void)h;
  if (d) {
    d->code = code;
    d->offset = off;
    snprintf(d->origin, sizeof d->origin, "%s", origin);
    vsnprintf(d->message, sizeof d->message, fmt, ap);
  }
  return code;
}
static int h_code_map(void *h, size_t size, void **out) {
  (void)h;
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return WEFT_ERR_NOMEM;
  *out = p;
  return WEFT_OK;
}
static int h_code_publish(void *h, void *mem, size_t size) {
  (void)h;
  return mprotect(mem, size, PROT_READ | PROT_EXEC) == 0 ? WEFT_OK : WEFT_ERR_INTERNAL;
}
static void h_code_unmap(void *h, void *mem, size_t size) { (void)h; munmap(mem, size); }

/* -- Libcalls -------------------------------------------------------------------------------- */

static void trap_from_c(uint32_t code) {
  pending_trap = code;
  __builtin_trap(); /* SIGILL outside weft code: the handler unwinds to the entry */
}

static void lc_trap(void *vmctx, uint32_t code) { (void)vmctx; trap_from_c(code); }
static void lc_raise(void *vmctx) { (void)vmctx; trap_from_c(WEFT_TRAP_HOST); }

static weft_vm_memory *mem_of(void *vmctx, uint32_t k) {
  weft_vmctx_layout *lay = (weft_vmctx_layout *)((weft_vmctx_header *)vmctx)->reserved;
  return ((weft_vm_memory **)((uint8_t *)vmctx + lay->mems))[k];
}

static uint64_t lc_memory_grow(void *vmctx, uint32_t k, uint64_t delta) {
  weft_vm_memory *mem = mem_of(vmctx, k);
  uint64_t old = mem->length >> 16;
  if (old + delta > 16) return UINT64_MAX;
  if (mprotect(mem->base, (old + delta) << 16, PROT_READ | PROT_WRITE) != 0) return UINT64_MAX;
  mem->length = (old + delta) << 16;
  return old;
}

static void lc_memory_fill(void *vmctx, uint32_t k, uint64_t dst, uint32_t val, uint64_t len) {
  weft_vm_memory *mem = mem_of(vmctx, k);
  if (dst > mem->length || len > mem->length - dst) trap_from_c(WEFT_TRAP_MEMORY_OOB);
  memset(mem->base + dst, (int)val, len);
}

static uint32_t lc_func_subtype(void *vmctx, uint32_t a, uint32_t b) {
  (void)vmctx, (void)a, (void)b;
  return (uint32_t)fake_subtype_answer;
}

static void *h_libcall(void *h, uint32_t id) {
  (void)h;
  switch (id) {
  case WEFT_LC_TRAP: return (void *)lc_trap;
  case WEFT_LC_RAISE: return (void *)lc_raise;
  case WEFT_LC_MEMORY_GROW: return (void *)lc_memory_grow;
  case WEFT_LC_MEMORY_FILL: return (void *)lc_memory_fill;
  case WEFT_LC_FUNC_SUBTYPE: return (void *)lc_func_subtype;
  default: return NULL;
  }
}

weft_host_api fake_host = {
    WEFT_ABI_INIT(weft_host_api),
    .host = NULL,
    .alloc = h_alloc,
    .realloc = h_realloc,
    .free = h_free,
    .log = h_log,
    .diag = h_diag,
    .code_map = h_code_map,
    .code_publish = h_code_publish,
    .code_unmap = h_code_unmap,
    .libcall = h_libcall,
};

/* -- Signals --------------------------------------------------------------------------------- */

static void on_signal(int sig, siginfo_t *si, void *ctx) {
  (void)si;
  ucontext_t *uc = ctx;
  uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
  uint32_t code = WEFT_TRAP_NONE;
  if (cur_code && pc >= (uintptr_t)cur_code->code && pc < (uintptr_t)cur_code->code + cur_code->code_size) {
    uint32_t off = (uint32_t)(pc - (uintptr_t)cur_code->code);
    uint32_t lo = 0, hi = cur_code->ntrap_sites;
    while (lo < hi) {
      uint32_t mid = (lo + hi) / 2;
      if (cur_code->trap_sites[mid].code_off < off)
        lo = mid + 1;
      else
        hi = mid;
    }
    if (lo < cur_code->ntrap_sites && cur_code->trap_sites[lo].code_off == off)
      code = cur_code->trap_sites[lo].trap;
  } else if (pending_trap) {
    code = pending_trap;
    pending_trap = 0;
  }
  if (code == WEFT_TRAP_NONE || !fake_store->limits.last_wasm_entry_trap_handler) {
    signal(sig, SIG_DFL);
    return;
  }
  fake_store->trap_code = code;
  fake_store->trap_pc = pc;
  uc->uc_mcontext.gregs[REG_RIP] = (greg_t)fake_store->limits.last_wasm_entry_trap_handler;
  uc->uc_mcontext.gregs[REG_RSP] = (greg_t)fake_store->limits.last_wasm_entry_sp;
  uc->uc_mcontext.gregs[REG_RBP] = (greg_t)fake_store->limits.last_wasm_entry_fp;
}

/* cmocka installs its own handlers around each test, so ours are installed again every time. */
void fake_host_init(void) {
  if (!fake_store) fake_store = calloc(1, sizeof(weft_store_ctx) + 64);
  static uint8_t altstack[65536];
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigaction(SIGILL, &sa, NULL);
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGFPE, &sa, NULL);
}

/* -- Instances ------------------------------------------------------------------------------- */

void fake_inst_init(fake_inst *in, const weft_module *m, weft_code_info *ci, weft_funcref *const *imports) {
  memset(in, 0, sizeof *in);
  in->m = m;
  in->ci = ci;
  weft_vmctx_layout_compute(&in->lay, m);
  in->vmctx = aligned_alloc(16, in->lay.size + 16);
  memset(in->vmctx, 0, in->lay.size + 16);
  weft_vmctx_header *hd = (weft_vmctx_header *)in->vmctx;
  hd->magic = WEFT_VMCTX_MAGIC;
  hd->store_ctx = fake_store;
  hd->reserved = &in->lay; /* the test libcalls find the layout here */
  weft_funcref **funcs = (weft_funcref **)(in->vmctx + in->lay.funcs);
  weft_funcref *own = (weft_funcref *)(in->vmctx + in->lay.own_funcs);
  for (uint32_t i = 0; i < m->nfuncs; i++) {
    if (i < m->nfunc_imports) {
      funcs[i] = imports[i];
      continue;
    }
    uint32_t k = i - m->nfunc_imports;
    own[k].array_call = (weft_array_call_fn)(void *)((uint8_t *)ci->code + ci->array_call[k]);
    own[k].wasm_call = (uint8_t *)ci->code + ci->func_start[k];
    own[k].type_index = m->funcs[i].type + 100; /* canonical id: module type + 100 */
    own[k].vmctx = in->vmctx;
    funcs[i] = &own[k];
  }
  uint32_t *type_ids = (uint32_t *)(in->vmctx + in->lay.type_ids);
  for (uint32_t t = 0; t < m->ntypes; t++) type_ids[t] = t + 100;
  for (uint32_t k = 0; k < m->nmems && k < 2; k++) {
    uint8_t *base = mmap(NULL, 6ull << 30, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    in->mems[k].base = base;
    in->mems[k].length = m->mems[k].limits.min << 16;
    if (in->mems[k].length) mprotect(base, in->mems[k].length, PROT_READ | PROT_WRITE);
    ((weft_vm_memory **)(in->vmctx + in->lay.mems))[k] = &in->mems[k];
  }
  for (uint32_t k = 0; k < m->ntables && k < 2; k++) {
    in->tables[k].base = (uint8_t *)in->table_elems[k];
    in->tables[k].size = m->tables[k].type.limits.min;
    in->tables[k].elem_size = 8;
    ((weft_vm_table **)(in->vmctx + in->lay.tables))[k] = &in->tables[k];
  }
  for (uint32_t k = 0; k < m->nglobals && k < 4; k++)
    ((weft_vm_global **)(in->vmctx + in->lay.globals))[k] = &in->globals[k];
}

void fake_inst_fini(fake_inst *in) {
  for (uint32_t k = 0; k < in->m->nmems && k < 2; k++) munmap(in->mems[k].base, 6ull << 30);
  free(in->vmctx);
}

bool fake_call(fake_inst *in, uint32_t fidx, weft_val_raw *slots, size_t n) {
  char here;
  cur_code = in->ci;
  fake_store->trap_code = WEFT_TRAP_NONE;
  fake_store->limits.stack_limit = (uintptr_t)&here - (512u << 10);
  uint32_t k = fidx - in->m->nfunc_imports;
  weft_array_call_fn f = (weft_array_call_fn)(void *)((uint8_t *)in->ci->code + in->ci->array_call[k]);
  return f(in->vmctx, NULL, slots, n);
}
