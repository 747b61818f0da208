/* text/wat_int.h -- internals of the text front end, shared by the text/ files only.
 *
 * Pipeline: wat_lex.c (source -> token array) -> wat_module.c / wat_instr.c (tokens -> binary
 * sections) -> bytes; wast_script.c drives the same parser for .wast commands. Errors unwind with
 * longjmp to the one entry point that set the jump buffer; all memory of a parse is either in the
 * arena or in the ctx's buffers, which that entry point frees, so unwinding leaks nothing.
 * Depends on: weft/text.h, weft/module.h, weft/opcodes.h.
 */
#ifndef WEFT_TEXT_WAT_INT_H
#define WEFT_TEXT_WAT_INT_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/module.h"
#include "weft/opcodes.h"
#include "weft/text.h"

/* -- Arena and byte buffers -------------------------------------------------------------------- */

typedef struct wat_arena_blk wat_arena_blk;
typedef struct wat_arena {
  wat_arena_blk *head;
} wat_arena;

void *wat_arena_alloc(wat_arena *a, size_t n); /* zeroed; NULL on OOM */
void wat_arena_free(wat_arena *a);

typedef struct wat_buf {
  uint8_t *d;
  size_t len, cap;
} wat_buf;

bool wat_buf_reserve(wat_buf *b, size_t extra);
void wat_buf_free(wat_buf *b);

/* -- Tokens ------------------------------------------------------------------------------------ */

typedef enum wat_tok_kind {
  WAT_T_EOF,
  WAT_T_LPAR,
  WAT_T_RPAR,
  WAT_T_KEYWORD, /* starts with a-z */
  WAT_T_ID,      /* $name or $"name": v/vlen is the name without '$' (decoded for $"...") */
  WAT_T_NUM,     /* starts with a digit or a sign, or inf / nan forms */
  WAT_T_STRING,  /* v/vlen: the raw text between the quotes (escapes not yet decoded) */
  WAT_T_RESERVED
} wat_tok_kind;

typedef struct wat_tok {
  const char *p; /* source text of the whole token */
  uint32_t len;
  uint8_t kind;
  uint32_t line, col;
  const char *v; /* value: see wat_tok_kind */
  uint32_t vlen;
} wat_tok;

/* -- The parser context ------------------------------------------------------------------------ */

/* A name -> index map (open addressing). */
typedef struct wat_map {
  struct wat_map_ent { const char *k; uint32_t klen; uint32_t v; } *e;
  uint32_t cap, n;
} wat_map;

/* One index space (funcs, tables, ...). */
typedef struct wat_space {
  wat_map names;
  uint32_t n;        /* entries so far (imports + definitions) */
  uint32_t nimports;
  const char **idnames; /* per index: identifier or NULL (funcs only, for the name section) */
  uint32_t *idlens;
  uint32_t cap;
} wat_space;

typedef struct wat_functype {
  uint32_t np, nr;
  weft_valtype *v; /* params then results */
} wat_functype;

typedef struct wat_typeinfo {
  uint8_t comp;     /* weft_comp_kind, 0 while unknown */
  bool plain_func;  /* singleton rec group, final, no supertypes: eligible for inline type uses */
  wat_functype ft;  /* comp == FUNC */
  wat_map fields;   /* struct field names */
} wat_typeinfo;

typedef struct wat_label {
  const char *name;
  uint32_t len;
} wat_label;

enum { WAT_SP_TYPE, WAT_SP_FUNC, WAT_SP_TABLE, WAT_SP_MEM, WAT_SP_GLOBAL, WAT_SP_TAG, WAT_SP_ELEM,
       WAT_SP_DATA, WAT_SP_COUNT };

/* Module sections being built, in binary order of their ids. */
enum { WAT_SEC_TYPE, WAT_SEC_IMPORT, WAT_SEC_FUNC, WAT_SEC_TABLE, WAT_SEC_MEM, WAT_SEC_TAG,
       WAT_SEC_GLOBAL, WAT_SEC_EXPORT, WAT_SEC_START, WAT_SEC_ELEM, WAT_SEC_CODE, WAT_SEC_DATA,
       WAT_SEC_COUNT };

#define WAT_MAX_DEPTH 2000 /* nesting of folded expressions / blocks before an error */

typedef struct wat_ctx {
  jmp_buf jb;
  int status;
  weft_diag *diag;
  const char *file;
  wat_arena arena;

  wat_tok *toks;
  size_t ntoks, pos;

  /* module being built */
  wat_space sp[WAT_SP_COUNT];
  wat_typeinfo *types;
  uint32_t ntypes_cap;
  uint32_t nexplicit_types; /* types written as (type ...) fields */
  uint32_t nrec;            /* entries of the type section (rec groups) */
  uint32_t nsec[WAT_SEC_COUNT]; /* vector counts */
  wat_buf sec[WAT_SEC_COUNT];
  bool has_start;
  bool uses_datacount;
  bool seen_def;            /* a non-import definition was seen: later imports are malformed */
  const char *seen_def_kind;
  const char *mod_name;
  uint32_t mod_name_len;

  /* current function */
  wat_map locals;
  uint32_t nlocals;
  const char **local_names; /* for the name section: per function, collected into `names_local` */
  uint32_t *local_lens;
  uint32_t local_cap;
  wat_label *labels;
  uint32_t nlabels, labels_cap;
  wat_buf body;  /* current instruction stream */
  wat_buf pend;  /* pending plain instructions of folded expressions */
  wat_buf scratch; /* segment items and offsets while a field is encoded */
  wat_buf kstack;  /* kinds of the open flat blocks */
  wat_buf tmp;     /* immediates being collected (handlers, catches, br_table labels) */
  wat_buf names_local; /* local-names subsection payload being built */
  uint32_t nnames_local;
  uint32_t depth;
  unsigned compat; /* WAT_COMPAT_* bits: encoding choices of other tools, for cross-checks only */
} wat_ctx;

/* Encoding choices that differ between encoders, both valid binary for the same text. weft follows
 * the reference interpreter; these bits reproduce wabt's choices so that the suite cross-check can
 * tell an explained difference from a real one. */
enum {
  WAT_COMPAT_WABT_BLOCKTYPE = 1u << 0, /* "(type $t)" block type of [] -> [t?] written short */
  WAT_COMPAT_WABT_SELECT = 1u << 1,    /* "select (result)" with no types written as 0x1B */
  WAT_COMPAT_WABT_ELEM = 1u << 2       /* funcref segments of ref.func items in the funcidx form
                                          (the Wasm 2.0 rule; in 3.0 that form has type (ref func)) */
};
#define WAT_NO_QUOTE 0x40000000u /* inside "(module quote ...)": no second level of quoting */
int wat_to_wasm_compat(const char *src, size_t len, const char *filename, unsigned compat,
                       uint8_t **out_bytes, size_t *out_len, weft_diag *out_diag);

/* -- Lexer (wat_lex.c) ------------------------------------------------------------------------- */

/* Tokenize src into ctx->toks (arena). Errors unwind. */
void wat_lex(wat_ctx *c, const char *src, size_t len);
/* Decode a string token's escapes into dst (arena copy, NUL-terminated). */
uint8_t *wat_string(wat_ctx *c, const wat_tok *t, size_t *out_len);
/* Check that bytes are valid UTF-8. */
bool wat_utf8_valid(const uint8_t *s, size_t n);

/* Report an error at token t (or the current token when t is NULL) and unwind. */
_Noreturn void wat_fail(wat_ctx *c, const wat_tok *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
_Noreturn void wat_oom(wat_ctx *c);
void *wat_alloc(wat_ctx *c, size_t n); /* arena, unwinds on OOM */

/* Token helpers (wat_lex.c). */
const wat_tok *wat_peek(wat_ctx *c, size_t k);
const wat_tok *wat_next(wat_ctx *c);
bool wat_is_kw(const wat_tok *t, const char *kw);
bool wat_peek_lpar_kw(wat_ctx *c, const char *kw); /* "(" kw */
void wat_expect_lpar(wat_ctx *c);
void wat_expect_rpar(wat_ctx *c);
void wat_expect_kw(wat_ctx *c, const char *kw);
void wat_skip_sexpr(wat_ctx *c); /* skip from '(' to the matching ')' */

/* Buffer writers: unwind on OOM. */
void wat_u8(wat_ctx *c, wat_buf *b, uint8_t v);
void wat_bytes(wat_ctx *c, wat_buf *b, const void *p, size_t n);
void wat_u32(wat_ctx *c, wat_buf *b, uint32_t v);
void wat_u64(wat_ctx *c, wat_buf *b, uint64_t v);
void wat_s32(wat_ctx *c, wat_buf *b, int32_t v);
void wat_s64(wat_ctx *c, wat_buf *b, int64_t v);
void wat_name(wat_ctx *c, wat_buf *b, const uint8_t *s, size_t n);

/* Maps. */
bool wat_map_get(const wat_map *m, const char *k, uint32_t klen, uint32_t *out);
bool wat_map_put(wat_ctx *c, wat_map *m, const char *k, uint32_t klen, uint32_t v); /* false: dup */
void wat_map_free(wat_map *m);

/* -- Numbers (wat_num.c) ----------------------------------------------------------------------- */

/* Parse integer literals. `bits` 32 or 64; accepts signed and unsigned ranges. false: malformed or
 * out of range. */
bool wat_parse_int(const char *s, size_t n, unsigned bits, uint64_t *out);
bool wat_parse_uint(const char *s, size_t n, uint64_t max, uint64_t *out);
bool wat_parse_f32(const char *s, size_t n, uint32_t *out_bits);
bool wat_parse_f64(const char *s, size_t n, uint64_t *out_bits);
/* Is the literal well formed (whatever its range)? Distinguishes "unknown operator" (a malformed
 * token) from "constant out of range" in messages. */
bool wat_num_syntax(const char *s, size_t n, bool is_float);

/* Numeric helpers over tokens: unwind with a message on error. */
uint32_t wat_tok_u32(wat_ctx *c, const wat_tok *t);
uint64_t wat_tok_u64(wat_ctx *c, const wat_tok *t);

/* -- Module parser (wat_module.c) -------------------------------------------------------------- */

/* Parse the module at ctx->pos: either "(module ...)" or bare fields up to EOF / the matching ')'.
 * `wrapped`: the "(module" has been consumed (the id may follow). Result in *out (malloc'd). */
void wat_module(wat_ctx *c, bool wrapped, uint8_t **out, size_t *out_len);
void wat_ctx_init(wat_ctx *c, const char *file, weft_diag *d);
void wat_ctx_free(wat_ctx *c);
void wat_ctx_reset_module(wat_ctx *c);

/* Shared with wat_instr.c */
uint32_t wat_resolve(wat_ctx *c, int space, const wat_tok *t);
weft_valtype wat_valtype(wat_ctx *c);            /* parse a value type at pos */
weft_valtype wat_reftype(wat_ctx *c);            /* parse a reference type at pos */
bool wat_at_valtype(wat_ctx *c);
uint32_t wat_heaptype(wat_ctx *c);               /* heap part of a weft_valtype */
void wat_put_valtype(wat_ctx *c, wat_buf *b, weft_valtype t);
void wat_put_heaptype(wat_ctx *c, wat_buf *b, uint32_t heap);
/* Type use: "(type x)? (param ...)* (result ...)*"; returns a type index. When `names` is set,
 * parameter ids are declared as locals. */
uint32_t wat_typeuse(wat_ctx *c, bool declare_params, bool allow_ids, uint32_t *out_nparams);
/* Block type: returns a weft_blocktype and writes it. */
void wat_blocktype(wat_ctx *c, wat_buf *b);

/* Small helpers of wat_module.c shared with wat_fields.c. */
const wat_tok *wat_opt_id(wat_ctx *c);          /* an optional $id at pos */
int wat_space_of_kw(const wat_tok *t);          /* func/table/memory/global/tag -> WAT_SP_*, else -1 */

/* -- Module fields (wat_fields.c): pass 3, pos after the field keyword ------------------------- */

void wat_func_field(wat_ctx *c, uint32_t idx);
void wat_table_field(wat_ctx *c, uint32_t idx);
void wat_memory_field(wat_ctx *c, uint32_t idx);
void wat_global_field(wat_ctx *c, uint32_t idx);
void wat_tag_field(wat_ctx *c, uint32_t idx);
void wat_import_field(wat_ctx *c);
void wat_export_field(wat_ctx *c);
void wat_elem_field(wat_ctx *c);
void wat_data_field(wat_ctx *c);

/* -- Instructions (wat_instr.c) ---------------------------------------------------------------- */

/* Parse instructions (flat and folded) into b until ')' (not consumed). */
void wat_instrs(wat_ctx *c, wat_buf *b);
/* A constant expression in a segment/global: either "(offset instr*)"-style already opened by the
 * caller, or one folded instruction. */
void wat_expr_end(wat_ctx *c, wat_buf *b); /* instrs then 0x0B */

/* Opcode lookup: text mnemonic -> internal op and immediate shape. */
typedef struct wat_opinfo {
  const char *name;
  uint16_t op;
  uint8_t imm;
  uint8_t natalign; /* log2 natural alignment for memory ops */
} wat_opinfo;
const wat_opinfo *wat_op_lookup(const char *s, size_t n);
void wat_put_op(wat_ctx *c, wat_buf *b, uint16_t op);

/* v128.const operands: shape then lanes, into 16 bytes. */
void wat_v128_lanes(wat_ctx *c, uint8_t out[16]);

#endif /* WEFT_TEXT_WAT_INT_H */
