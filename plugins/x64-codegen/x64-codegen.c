/* plugins/x64-codegen/x64-codegen.c -- the x64-codegen plugin's descriptor and entry (kind "codegen").
 *
 *   weft_module (validated IR) --x64_module.c--> per function: x64_isel*.c --> x64_emit.c bytes
 *       --> trampolines (x64_tramp.c) --> host code_map / code_publish (W^X) --> weft_code_info
 *
 * Config keys: bounds_checks = guard | explicit. Depends on: x64_int.h, plugin.h, plugin/codegen.h.
 */
#include <string.h>

#include "x64_int.h"

static const weft_cfg_key keys[] = {
    {"bounds_checks", WEFT_CFG_ENUM, "guard",
     "guard: rely on the 4 GiB + 2 GiB guard reservation for 32-bit memories; explicit: compare "
     "every access against the memory's length",
     "guard|explicit"},
};

static int init(const weft_host_api *host, const weft_plugin_cfg *cfg, void **out_state, weft_diag *d) {
  *out_state = NULL;
  x64_state *st = host->alloc(host->host, sizeof *st);
  if (!st) return weft_host_diag(host, d, WEFT_ERR_NOMEM, UINT64_MAX, "x64-codegen", "out of memory");
  memset(st, 0, sizeof *st);
  st->host = host;
  if (cfg) {
    const char *bc = NULL;
    int rc = host->cfg_string(host->host, cfg, "bounds_checks", &bc);
    if (rc) {
      host->free(host->host, st);
      return weft_host_diag(host, d, rc, UINT64_MAX, "x64-codegen", "cannot read bounds_checks");
    }
    st->explicit_bounds = bc && strcmp(bc, "explicit") == 0;
  }
  *out_state = st;
  return WEFT_OK;
}

static void fini(void *state) {
  x64_state *st = state;
  if (st) st->host->free(st->host->host, st);
}

static int compile(void *state, const weft_module *m, weft_code_info **out, weft_diag *d) {
  return x64_compile_module(state, m, out, d);
}

static void release(void *state, weft_code_info *code) { x64_release(state, code); }

static int host_trampoline(void *state, const weft_module *m, uint32_t type, void **out_entry,
                           weft_diag *d) {
  return x64_host_trampoline(state, m, type, out_entry, d);
}

static void release_tramp(void *state, void *entry) { x64_release_tramp(state, entry); }

static const weft_codegen_iface iface = {
    WEFT_ABI_INIT(weft_codegen_iface),
    .compile = compile,
    .release = release,
    .host_trampoline = host_trampoline,
    .release_tramp = release_tramp,
};

WEFT_PLUGIN_DEFINE(x64_codegen, .name = "x64-codegen", .kind = WEFT_PLUGIN_CODEGEN, .version = "0.1.0",
                   .keys = keys, .nkeys = 1, .init = init, .fini = fini, .iface = &iface)
