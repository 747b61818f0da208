/* core/decode_names.c -- the "name" custom section: module name and function names.
 *
 * Custom sections never make a module fail (the spec ignores their errors), so this parser works on
 * a private copy of the decoding context without a diagnostic, and on any error simply leaves the
 * module without names. Later subsections (locals, labels, ...) are skipped.
 * Depends on: decode.h.
 */
#include "decode.h"

#include <string.h>

static bool read_name(core_dec *N, const uint8_t *end, const char **out) {
  uint32_t n;
  if (!core_dec_u32(N, &n) || n > (size_t)(end - N->p)) return false;
  char *s = core_dec_alloc(N, (size_t)n + 1);
  if (!s) return false;
  memcpy(s, N->p, n);
  s[n] = 0;
  N->p += n;
  *out = s;
  return true;
}

static bool parse(core_dec *N, weft_names *names, uint32_t nfuncs) {
  uint8_t last = 0;
  bool first = true;
  while (N->p < N->end) {
    uint8_t id;
    uint32_t size;
    if (!core_dec_u8(N, &id) || !core_dec_u32(N, &size)) return false;
    if (size > (size_t)(N->end - N->p)) return false;
    if (!first && id <= last) return false; /* subsections are ordered and unique */
    first = false;
    last = id;
    const uint8_t *sub_end = N->p + size;
    const uint8_t *sec_end = N->end;
    N->end = sub_end; /* every read of the subsection stays inside it */
    if (id == 0) {
      if (!read_name(N, sub_end, &names->module) || N->p != sub_end) return false;
    } else if (id == 1) {
      uint32_t n;
      if (!core_dec_u32(N, &n) || n > (size_t)(sub_end - N->p)) return false;
      const char **funcs = core_dec_alloc(N, (size_t)nfuncs * sizeof *funcs);
      if (nfuncs && !funcs) return false;
      for (uint32_t i = 0; i < n; i++) {
        uint32_t idx;
        const char *s;
        if (!core_dec_u32(N, &idx) || !read_name(N, sub_end, &s)) return false;
        if (idx < nfuncs) funcs[idx] = s;
      }
      if (N->p != sub_end) return false;
      names->nfuncs = nfuncs;
      names->funcs = funcs;
    }
    N->end = sec_end;
    N->p = sub_end;
  }
  return true;
}

void core_dec_names(core_dec *D, weft_module *m, const uint8_t *p, const uint8_t *end) {
  core_dec N = *D;
  weft_names names = {0};
  N.d = NULL;
  N.failed = false;
  N.p = p;
  N.end = end;
  if (parse(&N, &names, m->nfuncs)) m->names = names;
  D->arena = N.arena; /* keep whatever was allocated: the arena owns it */
}
