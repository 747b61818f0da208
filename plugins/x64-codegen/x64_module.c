/* plugins/x64-codegen/x64_module.c -- the module driver: compiles every defined function, the
 * array-call trampolines and the import trampolines into one buffer, resolves direct calls,
 * copies the result into code memory from the host (code_map, then code_publish: W^X) and
 * describes it in a weft_code_info.
 * Depends on: x64_int.h, plugin.h (host table), vm.h (weft_vmctx_layout_compute).
 */
#include <string.h>

#include "x64_int.h"

/* The code_info plus the arrays it points to, freed together. */
typedef struct x64_code {
  weft_code_info info;
  const weft_host_api *host;
  size_t map_size;
} x64_code;

static void *zalloc(const weft_host_api *h, size_t n) {
  void *p = h->alloc(h->host, n ? n : 1);
  if (p) memset(p, 0, n ? n : 1);
  return p;
}

static void align16(x64_buf *b) {
  while (b->len & 15) x64_emit_u8(b, 0xCC);
}

/* Entries whose slot list equals the previous entry's share it (most calls of a function see the
 * same frame): the slots are compacted in place. */
static void share_map_slots(x64_module_cc *mc) {
  uint32_t w = 0;
  for (uint32_t k = 0; k < mc->smaps.n; k++) {
    weft_stack_map_entry *e = &mc->smaps.v[k];
    uint32_t len = e->nrefs + e->nconts + e->nvals;
    if (e->first > mc->smslots.n || len > mc->smslots.n - e->first) { /* cannot happen */
      e->nrefs = e->nconts = e->nvals = 0;
      e->first = 0;
      continue;
    }
    if (k > 0) {
      const weft_stack_map_entry *p = &mc->smaps.v[k - 1];
      if (p->nrefs == e->nrefs && p->nconts == e->nconts && p->nvals == e->nvals &&
          (len == 0 ||
           memcmp(mc->smslots.v + p->first, mc->smslots.v + e->first, len * sizeof(int32_t)) == 0)) {
        e->first = p->first;
        continue;
      }
    }
    if (len > 0) memmove(mc->smslots.v + w, mc->smslots.v + e->first, len * sizeof(int32_t));
    e->first = w;
    w += len;
  }
  mc->smslots.n = w;
}

static int check_module(x64_module_cc *mc) {
  const weft_module *m = mc->m;
  for (uint32_t i = 0; i < m->nfuncs; i++) {
    uint32_t t = m->funcs[i].type;
    if (t >= m->ntypes || m->types[t].comp != WEFT_COMP_FUNC)
      return weft_host_diag(mc->host, mc->d, WEFT_ERR_INVALID, UINT64_MAX, "x64-codegen",
                            "function %u: type index %u is not a function type", i, t);
    /* the callee pops its parameter area (16 bytes a parameter) with ret imm16 */
    if (m->types[t].u.func.nparams > 4000 || m->types[t].u.func.nresults > 8000)
      return weft_host_diag(mc->host, mc->d, WEFT_ERR_LIMIT, UINT64_MAX, "x64-codegen",
                            "function %u: more than 4000 parameters or 8000 results", i);
    if (i >= m->nfunc_imports && (m->funcs[i].body.ninstrs == 0 || !m->funcs[i].body.code))
      return weft_host_diag(mc->host, mc->d, WEFT_ERR_INVALID, m->funcs[i].body_off, "x64-codegen",
                            "function %u: empty body", i);
  }
  return WEFT_OK;
}

static void free_cc(x64_module_cc *mc) {
  const weft_host_api *h = mc->host;
  x64_buf_free(&mc->buf);
  if (mc->traps.v) h->free(h->host, mc->traps.v);
  if (mc->pcmap.v) h->free(h->host, mc->pcmap.v);
  if (mc->calls.v) h->free(h->host, mc->calls.v);
  if (mc->func_start) h->free(h->host, mc->func_start);
  if (mc->func_end) h->free(h->host, mc->func_end);
  if (mc->array_call) h->free(h->host, mc->array_call);
  if (mc->import_tramp) h->free(h->host, mc->import_tramp);
  if (mc->handlers.v) h->free(h->host, mc->handlers.v);
  if (mc->smaps.v) h->free(h->host, mc->smaps.v);
  if (mc->smslots.v) h->free(h->host, mc->smslots.v);
}

int x64_compile_module(x64_state *st, const weft_module *m, weft_code_info **out, weft_diag *d) {
  x64_module_cc mc;
  memset(&mc, 0, sizeof mc);
  mc.host = st->host;
  mc.st = st;
  mc.m = m;
  mc.d = d;
  x64_set_type_module(m);
  *out = NULL;
  const weft_host_api *h = st->host;
  x64_buf_init(&mc.buf, h);
  weft_vmctx_layout_compute(&mc.lay, m);
  for (uint32_t i = 0; i < WEFT_LC_COUNT; i++) mc.libcalls[i] = h->libcall(h->host, i);
  int rc = check_module(&mc);
  x64_code *code = NULL;
  void *mem = NULL;
  if (rc) goto fail;
  uint32_t ndef = m->nfuncs - m->nfunc_imports;
  mc.func_start = zalloc(h, sizeof(uint32_t) * ndef);
  mc.func_end = zalloc(h, sizeof(uint32_t) * ndef);
  mc.array_call = zalloc(h, sizeof(uint32_t) * ndef);
  mc.import_tramp = zalloc(h, sizeof(uint32_t) * m->nfuncs);
  if (!mc.func_start || !mc.func_end || !mc.array_call || !mc.import_tramp) goto nomem;
  for (uint32_t i = 0; i < ndef; i++) {
    align16(&mc.buf);
    mc.func_start[i] = (uint32_t)mc.buf.len;
    rc = x64_compile_func(&mc, m->nfunc_imports + i);
    if (rc) goto fail;
    mc.func_end[i] = (uint32_t)mc.buf.len;
  }
  for (uint32_t i = 0; i < ndef; i++) {
    align16(&mc.buf);
    mc.array_call[i] = (uint32_t)mc.buf.len;
    x64_emit_array_tramp(&mc, m->nfunc_imports + i);
  }
  for (uint32_t i = 0; i < m->nfuncs; i++) {
    mc.import_tramp[i] = UINT32_MAX;
    if (i >= m->nfunc_imports) continue;
    for (uint32_t j = 0; j < i; j++) {
      if (m->funcs[j].type == m->funcs[i].type) {
        mc.import_tramp[i] = mc.import_tramp[j];
        break;
      }
    }
    if (mc.import_tramp[i] != UINT32_MAX) continue;
    align16(&mc.buf);
    mc.import_tramp[i] = (uint32_t)mc.buf.len;
    x64_emit_import_tramp(&mc.buf, &m->types[m->funcs[i].type], mc.libcalls[WEFT_LC_RAISE]);
  }
  if (mc.buf.len == 0) x64_emit_u8(&mc.buf, 0xCC);
  if (mc.buf.oom || mc.oom) goto nomem;
  if (mc.buf.len > INT32_MAX) {
    rc = weft_host_diag(h, d, WEFT_ERR_LIMIT, UINT64_MAX, "x64-codegen", "code larger than 2 GiB");
    goto fail;
  }
  for (uint32_t i = 0; i < mc.calls.n; i++) {
    x64_call_fix *f = &mc.calls.v[i];
    x64_patch_rel32(&mc.buf, f->at, mc.func_start[f->func - m->nfunc_imports]);
  }
  code = zalloc(h, sizeof *code);
  if (!code) goto nomem;
  rc = h->code_map(h->host, mc.buf.len, &mem);
  if (rc) {
    rc = weft_host_diag(h, d, rc, UINT64_MAX, "x64-codegen", "cannot map %zu bytes of code", mc.buf.len);
    goto fail;
  }
  memcpy(mem, mc.buf.p, mc.buf.len);
  rc = h->code_publish(h->host, mem, mc.buf.len);
  if (rc) {
    h->code_unmap(h->host, mem, mc.buf.len);
    rc = weft_host_diag(h, d, rc, UINT64_MAX, "x64-codegen", "cannot publish code");
    goto fail;
  }
  code->host = h;
  code->map_size = mc.buf.len;
  weft_code_info *ci = &code->info;
  ci->abi_version = WEFT_ABI_VERSION;
  ci->struct_size = (uint32_t)sizeof *ci;
  ci->code = mem;
  ci->code_size = mc.buf.len;
  ci->nfuncs = ndef;
  ci->func_start = mc.func_start;
  ci->func_end = mc.func_end;
  ci->array_call = mc.array_call;
  ci->import_tramp = mc.import_tramp;
  ci->ntrap_sites = mc.traps.n;
  ci->trap_sites = mc.traps.v;
  ci->npc_map = mc.pcmap.n;
  ci->pc_map = mc.pcmap.v;
  ci->nhandlers = mc.handlers.n;
  ci->handlers = mc.handlers.v;
  mc.handlers.v = NULL;
  share_map_slots(&mc);
  ci->nstack_maps = mc.smaps.n;
  ci->stack_maps = mc.smaps.v;
  ci->nstack_map_slots = mc.smslots.n;
  ci->stack_map_slots = mc.smslots.v;
  mc.smaps.v = NULL;
  mc.smslots.v = NULL;
  mc.func_start = mc.func_end = mc.array_call = mc.import_tramp = NULL;
  mc.traps.v = NULL;
  mc.pcmap.v = NULL;
  free_cc(&mc);
  *out = ci;
  return WEFT_OK;
nomem:
  rc = weft_host_diag(h, d, WEFT_ERR_NOMEM, UINT64_MAX, "x64-codegen", "out of memory while compiling");
fail:
  if (code) h->free(h->host, code);
  free_cc(&mc);
  return rc ? rc : WEFT_ERR_INTERNAL;
}

void x64_release(x64_state *st, weft_code_info *ci) {
  if (!ci) return;
  x64_code *code = (x64_code *)ci;
  const weft_host_api *h = st->host;
  h->code_unmap(h->host, ci->code, code->map_size);
  h->free(h->host, (void *)ci->func_start);
  h->free(h->host, (void *)ci->func_end);
  h->free(h->host, (void *)ci->array_call);
  h->free(h->host, (void *)ci->import_tramp);
  if (ci->trap_sites) h->free(h->host, (void *)ci->trap_sites);
  if (ci->pc_map) h->free(h->host, (void *)ci->pc_map);
  if (ci->handlers) h->free(h->host, (void *)ci->handlers);
  if (ci->stack_maps) h->free(h->host, (void *)ci->stack_maps);
  if (ci->stack_map_slots) h->free(h->host, (void *)ci->stack_map_slots);
  h->free(h->host, code);
}

/* -- Stand-alone host trampolines ------------------------------------------------------------ */

/* A trampoline's mapping starts with its size so release_tramp can unmap it. */
int x64_host_trampoline(x64_state *st, const weft_module *m, uint32_t type, void **out_entry,
                        weft_diag *d) {
  const weft_host_api *h = st->host;
  *out_entry = NULL;
  x64_set_type_module(m);
  if (!m || type >= m->ntypes || m->types[type].comp != WEFT_COMP_FUNC ||
      m->types[type].u.func.nparams > 4000 || m->types[type].u.func.nresults > 8000)
    return weft_host_diag(h, d, WEFT_ERR_MISUSE, UINT64_MAX, "x64-codegen",
                          "host_trampoline: type %u is not a function type", type);
  x64_buf b;
  x64_buf_init(&b, h);
  x64_emit_u64(&b, 0);
  x64_emit_u64(&b, 0);
  x64_emit_import_tramp(&b, &m->types[type], h->libcall(h->host, WEFT_LC_RAISE));
  int rc = WEFT_OK;
  void *mem = NULL;
  if (b.oom) {
    rc = weft_host_diag(h, d, WEFT_ERR_NOMEM, UINT64_MAX, "x64-codegen", "out of memory");
    goto out;
  }
  uint64_t size = b.len;
  memcpy(b.p, &size, 8);
  rc = h->code_map(h->host, b.len, &mem);
  if (rc) {
    rc = weft_host_diag(h, d, rc, UINT64_MAX, "x64-codegen", "cannot map trampoline code");
    goto out;
  }
  memcpy(mem, b.p, b.len);
  rc = h->code_publish(h->host, mem, b.len);
  if (rc) {
    h->code_unmap(h->host, mem, b.len);
    rc = weft_host_diag(h, d, rc, UINT64_MAX, "x64-codegen", "cannot publish trampoline code");
    goto out;
  }
  *out_entry = (uint8_t *)mem + 16;
out:
  x64_buf_free(&b);
  return rc;
}

void x64_release_tramp(x64_state *st, void *entry) {
  if (!entry) return;
  uint8_t *mem = (uint8_t *)entry - 16;
  uint64_t size;
  memcpy(&size, mem, 8);
  st->host->code_unmap(st->host->host, mem, (size_t)size);
}
