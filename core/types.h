/* core/types.h -- the engine-wide type registry: iso-recursive canonicalization of rec groups.
 *
 * One registry per engine; it outlives every module. core/decode.c interns each rec group of a type
 * section and stores the canonical weft_rtt in weft_type.rtt. Depends on: weft/module.h, weft/errors.h.
 */
#ifndef WEFT_CORE_TYPES_H
#define WEFT_CORE_TYPES_H

#include <stdint.h>

#include "weft/errors.h"
#include "weft/module.h"

typedef struct core_types core_types;

/* Creates an empty registry. Returns NULL when out of memory. The caller owns it and frees it with
 * core_types_free after every module decoded against it is gone (rtts are never freed earlier). */
core_types *core_types_new(void);
void core_types_free(core_types *t);

/* Interns the rec group types[start .. start+n) of a module whose types [0, start) already carry
 * their rtt. Two groups get the same canonical types iff they are structurally identical, where a
 * reference into the group is compared by its position in the group and a reference outside it by
 * canonical id (iso-recursive equivalence). On success writes the n canonical rtts to out[0..n) and
 * returns WEFT_OK. Errors: WEFT_ERR_NOMEM, WEFT_ERR_LIMIT (more than 0xFFFEFF canonical types, or a
 * supertype chain deeper than 63, the limit V8 and wasm-tools use), WEFT_ERR_INVALID ("unknown type
 * N": a reference past the end of the group). A declared supertype that is not an earlier type is
 * kept in the key but left out of the rtt's supers chain (the validator rejects such modules).
 * Thread-safe. */
int core_types_intern(core_types *t, const weft_type *types, uint32_t start, uint32_t n,
                      const weft_rtt **out, weft_diag *d);

/* The rtt with canonical id `id`, or NULL if there is none. The record lives as long as the registry.
 * Thread-safe. */
const weft_rtt *core_types_get(core_types *t, uint32_t id);

/* The canonical composite type behind an rtt (`rtt` must come from this registry, or NULL gives
 * NULL). In a canonical type every concrete heap type (in params, results, fields, cont_func) is a
 * canonical id, not a module index; `super` is the canonical id of the declared supertype (or
 * WEFT_NONE); rec_start is the canonical id of the first type of its group. Lives as long as the
 * registry. Thread-safe (immutable once interned). */
const weft_type *core_types_canon(const weft_rtt *rtt);

/* The signature of canonical function type `id`: writes its parameter and result lists (canonical
 * valtypes, see core_types_canon). Returns WEFT_OK, or WEFT_ERR_MISUSE if `id` is not a function
 * type of this registry. Any out pointer may be NULL. Thread-safe. */
int core_types_func_sig(core_types *t, uint32_t id, uint32_t *out_nparams,
                        const weft_valtype **out_params, uint32_t *out_nresults,
                        const weft_valtype **out_results);

/* Number of canonical types interned so far (for tests and statistics). Thread-safe. */
uint32_t core_types_count(core_types *t);

#endif /* WEFT_CORE_TYPES_H */
