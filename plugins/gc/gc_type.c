/* plugins/gc/gc_type.c -- object layouts of the "gc" plugin, one per (module, type index).
 *
 * A struct's fields are laid out in declaration order, each at its natural alignment, after the
 * 16-byte header; reference fields are 8 bytes, continuation fields 16 ({contref, revision}, not
 * GC references: left out of ref_offs, elem_ref 0). An array is the header followed by its
 * elements. Layouts are made on first use and kept by the heap. Depends on: gc_int.h, module.h.
 */
#include <string.h>

#include "gc_int.h"

/* A field the collector traces: a reference that is no continuation reference. */
static bool gc_ref(const weft_module *m, weft_valtype t) {
  return WEFT_VT_IS_REF(t) && !weft_gc_cont_storage(m, t);
}

const weft_gc_type *gc_type_layout(weft_gc_heap *h, const weft_module *m, uint32_t idx,
                                   weft_diag *d) {
  const weft_host_api *host = h->host;
  for (gc_type_node *n = h->types; n != NULL; n = n->next)
    if (n->m == m && n->idx == idx) return &n->ty;
  if (m == NULL || idx >= m->ntypes ||
      (m->types[idx].comp != WEFT_COMP_STRUCT && m->types[idx].comp != WEFT_COMP_ARRAY)) {
    weft_host_diag(host, d, WEFT_ERR_MISUSE, UINT64_MAX, GC_ORIGIN,
                   "type %u: expected a struct or array type", idx);
    return NULL;
  }
  const weft_type *t = &m->types[idx];
  uint32_t nfields = t->comp == WEFT_COMP_STRUCT ? t->u.strct.nfields : 0;
  uint32_t nrefs = 0;
  for (uint32_t i = 0; i < nfields; i++)
    if (gc_ref(m, t->u.strct.fields[i].type)) nrefs++;
  size_t bytes = sizeof(gc_type_node) + ((size_t)nfields + nrefs) * sizeof(uint32_t);
  gc_type_node *n = host->alloc(host->host, bytes);
  if (n == NULL) {
    weft_host_diag(host, d, WEFT_ERR_NOMEM, UINT64_MAX, GC_ORIGIN,
                   "out of memory laying out type %u", idx);
    return NULL;
  }
  memset(n, 0, bytes);
  n->m = m;
  n->idx = idx;
  n->ty.rtt = t->rtt;
  if (t->comp == WEFT_COMP_ARRAY) {
    n->ty.kind = WEFT_GC_ARRAY;
    n->ty.size = WEFT_GC_HEADER_SIZE;
    n->ty.elem_size = weft_gc_storage_size_in(m, t->u.array.type);
    n->ty.elem_ref = gc_ref(m, t->u.array.type) ? 1u : 0u;
  } else {
    uint32_t *field_offs = n->offs, *ref_offs = n->offs + nfields;
    uint64_t off = WEFT_GC_HEADER_SIZE;
    uint32_t r = 0;
    for (uint32_t i = 0; i < nfields; i++) {
      weft_valtype ft = t->u.strct.fields[i].type;
      uint32_t sz = weft_gc_storage_size_in(m, ft);
      off = (off + sz - 1) & ~(uint64_t)(sz - 1);
      field_offs[i] = (uint32_t)off;
      if (gc_ref(m, ft)) ref_offs[r++] = (uint32_t)off;
      off += sz;
    }
    off = weft_gc_struct_size_in(m, t); /* the end rounded to 8: the codegen's cell size too */
    if (off > UINT32_MAX / 2) {
      host->free(host->host, n);
      weft_host_diag(host, d, WEFT_ERR_LIMIT, UINT64_MAX, GC_ORIGIN,
                     "type %u: struct of %llu bytes is too large", idx, (unsigned long long)off);
      return NULL;
    }
    n->ty.kind = WEFT_GC_STRUCT;
    n->ty.size = (uint32_t)off;
    n->ty.nfields = nfields;
    n->ty.nrefs = nrefs;
    n->ty.field_offs = field_offs;
    n->ty.ref_offs = ref_offs;
  }
  n->next = h->types;
  h->types = n;
  return &n->ty;
}

void gc_types_free(weft_gc_heap *h) {
  gc_type_node *n = h->types;
  while (n != NULL) {
    gc_type_node *next = n->next;
    h->host->free(h->host->host, n);
    n = next;
  }
  h->types = NULL;
}
