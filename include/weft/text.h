/* include/weft/text.h -- the WebAssembly text front end: WAT -> binary bytes, and the .wast script model.
 *
 * text/ turns the text format (Wasm 3.0 + stack switching, folded and flat forms, every abbreviation)
 * into plain binary Wasm bytes; the core never sees text. Scripts (.wast) are parsed into a list of
 * commands that a runner (cli/cmd_wast.c) executes through the embedding API.
 * Depends on: errors.h (weft_diag). Nothing here touches an engine or a store.
 */
#ifndef WEFT_TEXT_H
#define WEFT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/errors.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef WEFT_API
#define WEFT_API __attribute__((visibility("default")))
#endif

/* -- Modules ------------------------------------------------------------------------------------ */

/* Convert one module in the text format -- `(module ...)` or bare module fields -- into binary bytes.
 * `filename` only names the source in diagnostics (may be NULL). On WEFT_OK, *out_bytes is a
 * malloc'd buffer of *out_len bytes that the caller frees with weft_wat_free(). On error returns
 * WEFT_ERR_TEXT (bad text) or WEFT_ERR_NOMEM; `out_diag` (may be NULL) gets origin "file:line:col"
 * and a one-line message ("expected ')' but found 'i32.add'", "unknown operator 'i32.foo'", ...).
 * Never crashes and never recurses on input depth. Thread-safe: no shared state. */
WEFT_API int weft_wat_to_wasm(const char *src, size_t len, const char *filename, uint8_t **out_bytes,
                              size_t *out_len, weft_diag *out_diag);

/* Free a buffer returned by this header's functions. NULL is ignored. */
WEFT_API void weft_wat_free(void *p);

/* -- Scripts: values ---------------------------------------------------------------------------- */

typedef enum weft_wast_val_kind {
  WEFT_WAST_I32,
  WEFT_WAST_I64,
  WEFT_WAST_F32,      /* bits in u.f32, or a NaN pattern in nan[0] */
  WEFT_WAST_F64,      /* bits in u.f64, or a NaN pattern in nan[0] */
  WEFT_WAST_V128,     /* bytes in u.v128; shape in `shape`; per-lane NaN patterns in nan[] */
  WEFT_WAST_REF_NULL, /* heap: the abstract heap type's byte (0x70 func ...), 0 = any null (result) */
  WEFT_WAST_REF_EXTERN, /* (ref.extern N); as a result without N: any non-null extern */
  WEFT_WAST_REF_HOST,   /* (ref.host N) */
  WEFT_WAST_REF_FUNC,   /* result pattern (ref.func): any non-null function reference */
  WEFT_WAST_REF_ANY,    /* result patterns: any non-null reference of that family */
  WEFT_WAST_REF_EQ,
  WEFT_WAST_REF_STRUCT,
  WEFT_WAST_REF_ARRAY,
  WEFT_WAST_REF_I31,
  WEFT_WAST_REF_EXN,
  WEFT_WAST_REF_CONT,
  WEFT_WAST_EITHER    /* result: one of `either` alternatives */
} weft_wast_val_kind;

/* v128 lane shapes, as written after v128.const. */
typedef enum weft_wast_shape {
  WEFT_WAST_I8X16, WEFT_WAST_I16X8, WEFT_WAST_I32X4, WEFT_WAST_I64X2, WEFT_WAST_F32X4, WEFT_WAST_F64X2
} weft_wast_shape;

/* NaN patterns of a float result (per lane for v128). */
enum { WEFT_WAST_NAN_NONE = 0, WEFT_WAST_NAN_CANONICAL = 1, WEFT_WAST_NAN_ARITHMETIC = 2 };

typedef struct weft_wast_value {
  uint8_t kind;   /* weft_wast_val_kind */
  uint8_t shape;  /* weft_wast_shape (V128) */
  uint8_t nan[4]; /* NaN pattern per float lane (F32/F64 use nan[0]) */
  bool has_index; /* REF_EXTERN / REF_HOST / REF_I31 written with a number */
  uint8_t heap;   /* REF_NULL: abstract heap type byte, 0 when unspecified */
  uint32_t index; /* REF_EXTERN / REF_HOST number */
  union {
    uint32_t i32, f32;
    uint64_t i64, f64;
    uint8_t v128[16];
  } u;
  uint32_t neither;                      /* EITHER: alternatives */
  const struct weft_wast_value *either;
} weft_wast_value;

/* -- Scripts: commands -------------------------------------------------------------------------- */

typedef enum weft_wast_mod_form {
  WEFT_WAST_MOD_TEXT,   /* (module ...): encoded while parsing the script */
  WEFT_WAST_MOD_BINARY, /* (module binary "..."): the bytes as written */
  WEFT_WAST_MOD_QUOTE   /* (module quote "..."): text, parsed only by weft_wast_module_bytes() */
} weft_wast_mod_form;

typedef struct weft_wast_module {
  uint8_t form;          /* weft_wast_mod_form */
  bool definition;       /* (module definition ...) */
  const char *id;        /* "$name" without the '$', or NULL */
  const uint8_t *bytes;  /* TEXT / BINARY: the binary module */
  size_t len;
  const char *quote;     /* QUOTE: the concatenated text */
  size_t quote_len;
  uint32_t line, col;
  const char *src;       /* the module's source text, "(module" to its ')' (a copy; not NUL-safe) */
  size_t src_len;
  const char *error;     /* TEXT: the module did not parse ("line:col: message"); bytes is NULL.
                            The script still loads; weft_wast_module_bytes() returns this error. */
} weft_wast_module;

typedef enum weft_wast_cmd_kind {
  WEFT_WAST_CMD_MODULE,          /* module: define and instantiate (definition: define only) */
  WEFT_WAST_CMD_INSTANCE,        /* (module instance $I $M): instantiate a definition */
  WEFT_WAST_CMD_REGISTER,        /* (register "name" $M?) */
  WEFT_WAST_CMD_ACTION,          /* bare (invoke ...) / (get ...) */
  WEFT_WAST_CMD_ASSERT_RETURN,
  WEFT_WAST_CMD_ASSERT_TRAP,     /* action, or module when `module` is set */
  WEFT_WAST_CMD_ASSERT_EXHAUSTION,
  WEFT_WAST_CMD_ASSERT_MALFORMED,
  WEFT_WAST_CMD_ASSERT_INVALID,
  WEFT_WAST_CMD_ASSERT_UNLINKABLE,
  WEFT_WAST_CMD_ASSERT_UNINSTANTIABLE,
  WEFT_WAST_CMD_ASSERT_EXCEPTION,
  WEFT_WAST_CMD_ASSERT_SUSPENSION,
  WEFT_WAST_CMD_COUNT
} weft_wast_cmd_kind;

typedef enum weft_wast_action_kind { WEFT_WAST_INVOKE, WEFT_WAST_GET } weft_wast_action_kind;

typedef struct weft_wast_action {
  uint8_t kind;            /* weft_wast_action_kind */
  const char *module_id;   /* "$M" without '$', or NULL for the latest instance */
  const char *field;       /* export name (NUL-terminated copy) */
  size_t field_len;
  uint32_t nargs;
  const weft_wast_value *args;
} weft_wast_action;

typedef struct weft_wast_cmd {
  uint8_t kind;            /* weft_wast_cmd_kind */
  uint32_t line, col;      /* position of the command's '(' in the script */
  weft_wast_module *module;/* MODULE, ASSERT_{MALFORMED,INVALID,UNLINKABLE,UNINSTANTIABLE}, ASSERT_TRAP
                              on a module; NULL otherwise */
  const char *instance_id; /* INSTANCE: the new instance's id; REGISTER: the module id or NULL */
  const char *def_id;      /* INSTANCE: the definition's id */
  const char *name;        /* REGISTER: the name under which the instance is registered */
  weft_wast_action action; /* ACTION and assertions over an action */
  bool has_action;
  uint32_t nresults;       /* ASSERT_RETURN */
  const weft_wast_value *results;
  const char *message;     /* expected message of assert_* (NUL-terminated), or NULL */
} weft_wast_cmd;

/* The short keyword of a command kind ("assert_return", ...). Static storage. */
WEFT_API const char *weft_wast_cmd_name(int kind);

typedef struct weft_wast {
  const char *filename;
  uint32_t ncmds;
  const weft_wast_cmd *cmds;
  void *priv_;             /* owned by text/ */
} weft_wast;

/* Parse a .wast script. Text modules are encoded now; quoted modules are kept as text. On WEFT_OK
 * *out is owned by the caller (weft_wast_free) and everything it points to lives as long as it does.
 * Errors as for weft_wat_to_wasm(). Thread-safe: no shared state. */
WEFT_API int weft_wast_parse(const char *src, size_t len, const char *filename, weft_wast **out,
                             weft_diag *out_diag);

/* The binary bytes of a script module. For QUOTE modules this parses the text now (each call parses
 * again); on WEFT_OK *out_bytes is malloc'd (free with weft_wat_free) and *out_owned is true. For
 * TEXT/BINARY the bytes belong to the script and *out_owned is false. Errors: WEFT_ERR_TEXT with
 * `out_diag` filled (the message is what a malformed quoted module is matched against). */
WEFT_API int weft_wast_module_bytes(const weft_wast_module *m, const uint8_t **out_bytes,
                                    size_t *out_len, bool *out_owned, weft_diag *out_diag);

/* Free a script and everything it owns. NULL is ignored. */
WEFT_API void weft_wast_free(weft_wast *w);

#ifdef __cplusplus
}
#endif
#endif /* WEFT_TEXT_H */
