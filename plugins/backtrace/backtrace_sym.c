/* plugins/backtrace/backtrace_sym.c -- naming frames: function index and module offset from the
 * host's code registry (code_func slot, which reads the codegen's function ranges and pc map), names
 * from the module's name section, and the display form "<module>!<func>".
 * Depends on: backtrace_int.h, module.h (weft_names).
 */
#include <string.h>

#include "backtrace_int.h"

/* -- Lookups --------------------------------------------------------------------------------- */

bool bt_pc_is_wasm(const bt_state *st, uintptr_t pc) {
  const weft_host_api *h = st->host;
  if (st->has_code_func) return h->code_func(h->host, pc, NULL, NULL, NULL);
  /* a 1.1 host: any registered code counts (trampolines included) */
  uint32_t trap, off;
  return WEFT_HAS(h, weft_host_api, code_lookup) && h->code_lookup != NULL &&
         h->code_lookup(h->host, pc, &trap, &off);
}

bool bt_symbolize(void *state, const weft_frame *f, weft_frame_sym *out) {
  const bt_state *st = state;
  *out = (weft_frame_sym){UINT32_MAX, UINT32_MAX, NULL, NULL};
  if (st == NULL || f == NULL || f->pc == 0 || !st->has_code_func) return false;
  /* A return address points after the call; the call itself is one byte earlier. */
  uintptr_t pc = (f->flags & WEFT_FRAME_TRAP_PC) ? f->pc : f->pc - 1;
  const weft_module *m = NULL;
  uint32_t func = UINT32_MAX, off = UINT32_MAX;
  if (!st->host->code_func(st->host->host, pc, &func, &off, &m)) return false;
  out->func_index = func;
  out->wasm_off = off;
  if (m != NULL) {
    out->module = m->names.module;
    if (func < m->names.nfuncs && m->names.funcs != NULL) out->func = m->names.funcs[func];
  }
  return true;
}

/* -- Display --------------------------------------------------------------------------------- */

/* Copies n bytes of `s` to buf + at, as far as cap allows; returns the new length. */
static size_t put(char *buf, size_t cap, size_t at, const char *s, size_t n) {
  if (at < cap) memcpy(buf + at, s, n < cap - at ? n : cap - at);
  return at + n;
}

/* Written out by hand: a trap names every frame, and snprintf was most of the capture's cost. */
size_t bt_format_name(void *state, const weft_frame_sym *sym, char *buf, size_t cap) {
  (void)state;
  const char *mod = sym->module != NULL && sym->module[0] != '\0' ? sym->module : "<unknown>";
  size_t at = put(buf, cap, 0, mod, strlen(mod));
  at = put(buf, cap, at, "!", 1);
  if (sym->func != NULL) {
    at = put(buf, cap, at, sym->func, strlen(sym->func));
  } else {
    char num[12];
    size_t k = sizeof num;
    uint32_t v = sym->func_index;
    do {
      num[--k] = (char)('0' + v % 10);
      v /= 10;
    } while (v != 0);
    at = put(buf, cap, at, "wasm-function[", 14);
    at = put(buf, cap, at, num + k, sizeof num - k);
    at = put(buf, cap, at, "]", 1);
  }
  if (cap > 0) buf[at < cap ? at : cap - 1] = '\0';
  return at;
}
