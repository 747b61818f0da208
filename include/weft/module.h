/* include/weft/module.h -- the decoded module (IR) that plugins receive, read-only.
 *
 * core/decode.c builds it from bytes; nothing changes it afterwards. The validator decides whether it
 * is valid; the codegen compiles it. Every index space (funcs, tables, memories, globals, tags) lists
 * the imported entries first, as the spec numbers them. Function bodies are pre-decoded into flat
 * arrays of weft_instr, so no plugin parses bytecode. Variable-length immediates (br_table labels,
 * try_table catches, resume handlers) live in the module's u32 pool.
 * Everything is owned by the module and lives as long as it does.
 * Depends on: opcodes.h.
 */
#ifndef WEFT_MODULE_H
#define WEFT_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/opcodes.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WEFT_NONE UINT32_MAX /* "no index" */

/* -- Value types ----------------------------------------------------------------------------- */

/* A value type packed in 32 bits:
 *   bits 0-7   kind: a number/vector type code (0x7F i32, 0x7E i64, 0x7D f32, 0x7C f64, 0x7B v128),
 *              a packed storage type (0x78 i8, 0x77 i16; struct/array fields only),
 *              or a reference: 0x64 (ref ht) / 0x63 (ref null ht)
 *   bits 8-31  heap type of a reference: a type index (< WEFT_HT_ABSTRACT) or WEFT_HT_ABSTRACT | code,
 *              where code is the abstract heap type's binary byte (0x70 func, 0x6F extern, ...).
 * Type indices inside a module's IR are module-local; canonical identities live in weft_rtt. */
typedef uint32_t weft_valtype;

enum {
  WEFT_VT_I32 = 0x7F,
  WEFT_VT_I64 = 0x7E,
  WEFT_VT_F32 = 0x7D,
  WEFT_VT_F64 = 0x7C,
  WEFT_VT_V128 = 0x7B,
  WEFT_VT_I8 = 0x78,
  WEFT_VT_I16 = 0x77,
  WEFT_VT_REF = 0x64,
  WEFT_VT_REF_NULL = 0x63
};

/* Abstract heap types: the byte that encodes each in the binary format. */
enum {
  WEFT_AHT_EXN = 0x69,
  WEFT_AHT_ARRAY = 0x6A,
  WEFT_AHT_STRUCT = 0x6B,
  WEFT_AHT_I31 = 0x6C,
  WEFT_AHT_EQ = 0x6D,
  WEFT_AHT_ANY = 0x6E,
  WEFT_AHT_EXTERN = 0x6F,
  WEFT_AHT_FUNC = 0x70,
  WEFT_AHT_NONE = 0x71,
  WEFT_AHT_NOEXTERN = 0x72,
  WEFT_AHT_NOFUNC = 0x73,
  WEFT_AHT_NOEXN = 0x74,
  WEFT_AHT_NOCONT = 0x75,
  WEFT_AHT_CONT = 0x68
};

#define WEFT_HT_ABSTRACT 0xFFFF00u
#define WEFT_VT_KIND(t) ((uint32_t)(t)&0xFFu)
#define WEFT_VT_HEAP(t) ((uint32_t)(t) >> 8)
#define WEFT_VT_IS_REF(t) (WEFT_VT_KIND(t) == WEFT_VT_REF || WEFT_VT_KIND(t) == WEFT_VT_REF_NULL)
#define WEFT_VT_NULLABLE(t) (WEFT_VT_KIND(t) == WEFT_VT_REF_NULL)
#define WEFT_HT_IS_ABSTRACT(h) ((h) >= WEFT_HT_ABSTRACT)
#define WEFT_HT_ABS(code) (WEFT_HT_ABSTRACT | (uint32_t)(code))
#define WEFT_VT_MAKE_REF(nullable, heap)                                                           \
  ((weft_valtype)((((uint32_t)(heap)) << 8) | ((nullable) ? WEFT_VT_REF_NULL : WEFT_VT_REF)))
/* Shorthands: funcref = (ref null func), ... */
#define WEFT_VT_FUNCREF WEFT_VT_MAKE_REF(1, WEFT_HT_ABS(WEFT_AHT_FUNC))
#define WEFT_VT_EXTERNREF WEFT_VT_MAKE_REF(1, WEFT_HT_ABS(WEFT_AHT_EXTERN))
#define WEFT_VT_EXNREF WEFT_VT_MAKE_REF(1, WEFT_HT_ABS(WEFT_AHT_EXN))

/* A block type: 0x40 for [] -> [], a weft_valtype for [] -> [t], or (typeidx << 8) with kind byte 0
 * for a function type index. */
typedef uint32_t weft_blocktype;
#define WEFT_BT_EMPTY 0x40u
#define WEFT_BT_IS_TYPEIDX(bt) (((bt)&0xFFu) == 0)
#define WEFT_BT_TYPEIDX(bt) ((bt) >> 8)
#define WEFT_BT_MAKE_TYPEIDX(idx) ((weft_blocktype)((uint32_t)(idx) << 8))

/* -- Types ----------------------------------------------------------------------------------- */

typedef enum weft_comp_kind {
  WEFT_COMP_FUNC = 0x60,
  WEFT_COMP_STRUCT = 0x5F,
  WEFT_COMP_ARRAY = 0x5E,
  WEFT_COMP_CONT = 0x5D
} weft_comp_kind;

typedef struct weft_fieldtype {
  weft_valtype type; /* storage type: may be WEFT_VT_I8 / WEFT_VT_I16 */
  bool mut;
} weft_fieldtype;

/* The canonical, engine-wide identity of a type (iso-recursive canonicalization of rec groups).
 * Records have stable addresses for the engine's life. Subtyping is O(1):
 *   a <: b  iff  b->depth <= a->depth && a->supers[b->depth] == b
 * where supers[0..depth] is the chain from the root supertype down to the type itself. */
typedef struct weft_rtt {
  uint32_t id;     /* engine-wide canonical type id, the weft_funcref.type_index */
  uint32_t depth;  /* number of declared supertypes above this type */
  const struct weft_rtt *const *supers; /* supers[depth] == this */
  uint8_t comp;    /* weft_comp_kind */
  bool final;
} weft_rtt;

typedef struct weft_type {
  uint8_t comp;        /* weft_comp_kind */
  bool final;
  uint32_t nsupers;    /* as declared; valid modules have at most 1 */
  uint32_t super;      /* first declared supertype index, or WEFT_NONE */
  uint32_t rec_start;  /* first type index of this type's rec group */
  uint32_t rec_size;   /* number of types in the rec group */
  const weft_rtt *rtt; /* canonical identity, set by the decoder (NULL only when a module was
                        * decoded without a type registry: tests and fuzzing) */
  union {
    struct {
      uint32_t nparams, nresults;
      const weft_valtype *params;
      const weft_valtype *results;
    } func;
    struct {
      uint32_t nfields;
      const weft_fieldtype *fields;
    } strct;
    weft_fieldtype array;
    uint32_t cont_func; /* the function type index of (cont $ft), as written (may be out of range) */
  } u;
} weft_type;

/* -- Instructions ---------------------------------------------------------------------------- */

typedef enum weft_catch_kind {
  WEFT_CATCH = 0x00,
  WEFT_CATCH_REF = 0x01,
  WEFT_CATCH_ALL = 0x02,
  WEFT_CATCH_ALL_REF = 0x03
} weft_catch_kind;

typedef enum weft_handler_kind {
  WEFT_HANDLER_ON_LABEL = 0x00, /* (on $tag $label) */
  WEFT_HANDLER_ON_SWITCH = 0x01 /* (on $tag switch) */
} weft_handler_kind;

/* One decoded instruction, 24 bytes. `op` is a weft_op; the immediate shapes per opcode are listed in
 * opcodes.h. `off` is the byte offset of the instruction within the module. The body's final `end`
 * is included. */
typedef struct weft_instr {
  uint16_t op;
  uint8_t b; /* small immediate: lane index, br_on_cast flags */
  uint8_t pad;
  uint32_t off;
  union {
    struct {
      uint32_t a, b, c, d;
    } x;
    struct {
      uint64_t offset;
      uint32_t mem;
      uint32_t align; /* log2 */
    } mem;
    int32_t i32;
    int64_t i64;
    uint32_t f32; /* raw bits */
    uint64_t f64; /* raw bits */
    uint8_t v128[16];
  } imm;
} weft_instr;

/* A constant or function-body expression: instructions up to and including the final `end`. */
typedef struct weft_expr {
  uint32_t ninstrs;
  const weft_instr *code;
} weft_expr;

/* -- Entities -------------------------------------------------------------------------------- */

typedef enum weft_extern_kind {
  WEFT_EXTERN_FUNC = 0,
  WEFT_EXTERN_TABLE = 1,
  WEFT_EXTERN_MEMORY = 2,
  WEFT_EXTERN_GLOBAL = 3,
  WEFT_EXTERN_TAG = 4
} weft_extern_kind;

typedef struct weft_limits {
  uint64_t min;
  uint64_t max; /* valid when has_max */
  bool has_max;
  bool is64;    /* memory64 / table64: index type i64 */
  bool shared;
} weft_limits;

typedef struct weft_table_type {
  weft_valtype elem;
  weft_limits limits;
} weft_table_type;

typedef struct weft_global_type {
  weft_valtype type;
  bool mut;
} weft_global_type;

/* A name as it appears in the binary: UTF-8 (checked by the decoder), not NUL-terminated inside the
 * module bytes. `str` is a NUL-terminated copy; `len` the byte length (names may contain NUL). */
typedef struct weft_name {
  const char *str;
  uint32_t len;
} weft_name;

typedef struct weft_import {
  weft_name module, name;
  uint8_t kind;   /* weft_extern_kind */
  uint32_t index; /* index in the kind's index space */
  uint32_t off;   /* byte offset of the import entry */
} weft_import;

typedef struct weft_func {
  uint32_t type;      /* type index */
  uint32_t import;    /* index into imports, or WEFT_NONE for a defined function */
  /* Defined functions only: */
  uint32_t nlocals;   /* declared locals, not counting parameters (at most 50000: decoder limit) */
  const weft_valtype *locals;
  weft_expr body;
  uint32_t body_off;  /* byte offset of the body (its size LEB) and its size */
  uint32_t body_size;
} weft_func;

typedef struct weft_table {
  weft_table_type type;
  uint32_t import;
  bool has_init;      /* Wasm 3.0 table with an explicit init expression */
  weft_expr init;
} weft_table;

typedef struct weft_memory {
  weft_limits limits; /* in 64 KiB pages */
  uint32_t import;
} weft_memory;

typedef struct weft_global {
  weft_global_type type;
  uint32_t import;
  weft_expr init;     /* defined globals only */
} weft_global;

typedef struct weft_tag {
  uint32_t type;      /* function type index */
  uint32_t import;
} weft_tag;

typedef struct weft_export {
  weft_name name;
  uint8_t kind;       /* weft_extern_kind */
  uint32_t index;
} weft_export;

typedef enum weft_seg_mode {
  WEFT_SEG_ACTIVE = 0,
  WEFT_SEG_PASSIVE = 1,
  WEFT_SEG_DECLARATIVE = 2
} weft_seg_mode;

typedef struct weft_elem {
  uint8_t mode;       /* weft_seg_mode */
  uint32_t table;     /* active only */
  weft_expr offset;   /* active only */
  weft_valtype type;  /* element reference type: (ref func) for the funcidx forms (flags 0-3, as
                       * the reference interpreter), funcref for flags 4, as written for 5-7 */
  uint32_t nitems;
  const weft_expr *items; /* funcidx forms are given as (ref.func i) expressions */
  uint32_t off;
} weft_elem;

typedef struct weft_data {
  uint8_t mode;       /* weft_seg_mode: active or passive */
  uint32_t mem;
  weft_expr offset;
  const uint8_t *bytes;
  uint32_t len;
  uint32_t off;
} weft_data;

typedef struct weft_custom {
  weft_name name;
  const uint8_t *bytes;
  uint32_t len;
  uint32_t off;
} weft_custom;

/* Features a module uses, found while decoding; the core checks them against [wasm] switches.
 * Set from the types, heap types, limits and opcodes the module contains (e.g. GC for struct/array
 * types, any/eq/i31/struct/array/none heap types, rec/sub and 0xFB opcodes; EXCEPTIONS for tags,
 * exn/noexn, throw/throw_ref/try_table; MULTI_MEMORY for more than one memory or a memidx != 0).
 * THREADS is never set: shared limits are malformed in Wasm 3.0. */
typedef enum weft_feature {
  WEFT_FEAT_SIMD = 1u << 0,
  WEFT_FEAT_RELAXED_SIMD = 1u << 1,
  WEFT_FEAT_GC = 1u << 2,             /* struct/array types or GC instructions */
  WEFT_FEAT_EXCEPTIONS = 1u << 3,     /* tags, throw, try_table, exnref */
  WEFT_FEAT_STACK_SWITCHING = 1u << 4,/* cont types, 0xE0-0xE6 */
  WEFT_FEAT_TAIL_CALL = 1u << 5,
  WEFT_FEAT_MEMORY64 = 1u << 6,       /* memory64 or table64 */
  WEFT_FEAT_MULTI_MEMORY = 1u << 7,
  WEFT_FEAT_THREADS = 1u << 8,        /* shared memories */
  WEFT_FEAT_GC_HEAP = 1u << 9         /* GC heap objects: struct/array types or 0xFB instructions.
                                         Needs a gc plugin; WEFT_FEAT_GC alone (rec groups, sub
                                         types, abstract heap types) does not */
} weft_feature;

/* Names from the "name" custom section (or none). func_names[i] is NULL when function i has none. */
typedef struct weft_names {
  const char *module;
  uint32_t nfuncs;
  const char *const *funcs;
} weft_names;

/* -- The module ------------------------------------------------------------------------------ */

typedef struct weft_module {
  const uint8_t *bytes; /* a private copy of the binary, for offsets and data segments */
  size_t size;

  uint32_t ntypes;
  const weft_type *types;

  uint32_t nimports;
  const weft_import *imports;

  uint32_t nfuncs, nfunc_imports;
  const weft_func *funcs;
  uint32_t ntables, ntable_imports;
  const weft_table *tables;
  uint32_t nmems, nmem_imports;
  const weft_memory *mems;
  uint32_t nglobals, nglobal_imports;
  const weft_global *globals;
  uint32_t ntags, ntag_imports;
  const weft_tag *tags;

  uint32_t nexports;
  const weft_export *exports;

  uint32_t start; /* funcidx or WEFT_NONE */

  uint32_t nelems;
  const weft_elem *elems;
  uint32_t ndatas;
  const weft_data *datas;
  bool has_data_count;
  uint32_t data_count;

  uint32_t ncustoms;
  const weft_custom *customs;
  weft_names names;

  const uint32_t *pool; /* variable-length immediates, see opcodes.h */
  uint32_t npool;

  uint32_t features; /* weft_feature bits */
} weft_module;

#ifdef __cplusplus
}
#endif
#endif /* WEFT_MODULE_H */
