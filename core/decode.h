/* core/decode.h -- the binary decoder: bytes -> weft_module (include/weft/module.h).
 *
 * The first part is the core-facing API. The second part is internal to core/decode*.c: the decoding
 * context, the LEB128 readers and the helpers that the section decoder (decode.c), the instruction
 * decoder (decode_code.c) and the name-section reader (decode_names.c) share.
 * Depends on: weft/module.h, weft/errors.h, types.h.
 */
#ifndef WEFT_CORE_DECODE_H
#define WEFT_CORE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"
#include "weft/errors.h"
#include "weft/module.h"

/* Decodes `len` bytes into a new module. The module keeps a private copy of the bytes, so the
 * caller may free `bytes` at once. `types` is the engine's registry: each type gets its canonical
 * rtt; with NULL, canonicalization is skipped and every weft_type.rtt stays NULL (tests, fuzzing).
 * Returns WEFT_OK and writes *out (owned by the caller, freed with core_module_free), or an error
 * with `d` filled (origin "decode", the byte offset, the spec's message): WEFT_ERR_MALFORMED,
 * WEFT_ERR_INVALID ("unknown type N": a type section that refers past its own rec group, which
 * canonicalization cannot resolve), WEFT_ERR_LIMIT (an implementation limit), WEFT_ERR_NOMEM. On
 * error *out is NULL and nothing leaks. Thread-safe (the registry locks itself). Otherwise never
 * validates: index bounds, typing and the rest are the validator plugin's. */
int core_decode(core_types *types, const uint8_t *bytes, size_t len, weft_module **out,
                weft_diag *d);

/* Frees a module from core_decode and everything it owns (never the registry's rtts). NULL is a
 * no-op. */
void core_module_free(weft_module *m);

/* Implementation limits (the reference interpreter has none of these; V8 and wasm-tools share them). */
#define CORE_DEC_MAX_LOCALS 50000u    /* declared locals per function */
#define CORE_DEC_MAX_TYPES 1000000u   /* types per module */

/* -- Internal: decoding context ------------------------------------------------------------- */

typedef struct core_arena core_arena;

typedef struct core_dec {
  const uint8_t *base; /* the module's private copy of the bytes */
  const uint8_t *p;    /* read cursor */
  const uint8_t *end;  /* end of the module: reads are bounded by it; sizes are checked after */
  weft_diag *d;    /* may be NULL */
  bool failed;
  int err;         /* the weft_status of the first error */
  core_arena *arena;

  weft_instr *ins; /* every expression of the module, back to back */
  uint32_t nins, cins;
  uint32_t *pool;
  uint32_t npool, cpool;
  uint8_t *ctl; /* control-structure scratch stack of the expression being decoded */
  uint32_t cctl;

  uint32_t type_limit; /* inside the type section: type indices must be below it; else WEFT_NONE */
  uint32_t features;   /* weft_feature bits */
  bool uses_data;      /* a function body names a data segment (data count section required) */
  bool in_body;        /* decoding a function body (not a constant expression) */
} core_dec;

/* Records the first error (later ones are ignored) and returns false. `at` is the position the
 * message is about; `code` a weft_status. */
bool core_dec_fail(core_dec *D, const uint8_t *at, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
bool core_dec_eof(core_dec *D);
bool core_dec_leb_u(core_dec *D, unsigned bits, uint64_t *out);
bool core_dec_leb_s(core_dec *D, unsigned bits, int64_t *out);
bool core_dec_valtype(core_dec *D, weft_valtype *out);
bool core_dec_heaptype(core_dec *D, uint32_t *out);
/* Grows a D-owned vector (*vec, capacity *cap, element size esz) to hold `need` elements. */
bool core_dec_grow(core_dec *D, void **vec, uint32_t *cap, uint64_t need, size_t esz);
/* Decodes an expression (a function body or a constant expression) up to its final `end`.
 * out->code holds the index of its first instruction in D->ins until the module is finished. */
bool core_dec_expr(core_dec *D, weft_expr *out);
/* Parses the "name" custom section into m->names; never fails the module (custom sections are
 * ignored on error). */
void core_dec_names(core_dec *D, weft_module *m, const uint8_t *p, const uint8_t *end);
void *core_dec_alloc(core_dec *D, size_t size);

static inline bool core_dec_u8(core_dec *D, uint8_t *out) {
  if (D->p >= D->end) {
    *out = 0;
    return core_dec_eof(D);
  }
  *out = *D->p++;
  return true;
}

static inline bool core_dec_u32(core_dec *D, uint32_t *out) {
  if (D->p < D->end && *D->p < 0x80) {
    *out = *D->p++;
    return true;
  }
  uint64_t v = 0;
  bool ok = core_dec_leb_u(D, 32, &v);
  *out = (uint32_t)v;
  return ok;
}

/* A vector or byte length: a u32 no larger than the bytes that remain from the start of its own
 * LEB ("length out of bounds"; counting the LEB too is the reference interpreter's rule), so that
 * nothing is ever allocated on an untrusted count. */
static inline bool core_dec_len(core_dec *D, uint32_t *out) {
  const uint8_t *at = D->p;
  if (!core_dec_u32(D, out)) return false;
  if (*out > (size_t)(D->end - at))
    return core_dec_fail(D, at, WEFT_ERR_MALFORMED, "length out of bounds");
  return true;
}

/* A byte-string length (names, data, bodies): core_dec_len, and then the bytes must all be there
 * ("unexpected end of section or function" otherwise). */
static inline bool core_dec_blen(core_dec *D, uint32_t *out) {
  if (!core_dec_len(D, out)) return false;
  if (*out > (size_t)(D->end - D->p)) return core_dec_eof(D);
  return true;
}

#endif /* WEFT_CORE_DECODE_H */
