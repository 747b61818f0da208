/* include/weft/errors.h -- status codes and trap codes, each from one X-macro list.
 *
 * A status says whether an API call did what was asked (WEFT_OK == 0); its details go into a
 * weft_diag / weft_error record. A trap is a separate outcome of running Wasm, never a status.
 * Trap messages are the spec's (reference interpreter) wording: the spec runner matches by prefix.
 * Depends on: nothing.
 */
#ifndef WEFT_ERRORS_H
#define WEFT_ERRORS_H

/* X(ID, "short description") */
#define WEFT_STATUS_LIST(X)                                                                        \
  X(OK, "ok")                                                                                      \
  X(ERR_NOMEM, "out of memory")                                                                    \
  X(ERR_IO, "i/o error")                                                                           \
  X(ERR_CONFIG, "configuration error")                                                             \
  X(ERR_PLUGIN, "plugin error")                                                                    \
  X(ERR_ABI, "plugin ABI mismatch")                                                                \
  X(ERR_MALFORMED, "malformed module")                                                             \
  X(ERR_INVALID, "invalid module")                                                                 \
  X(ERR_UNSUPPORTED, "unsupported feature")                                                        \
  X(ERR_LINK, "link error")                                                                        \
  X(ERR_LIMIT, "implementation limit exceeded")                                                    \
  X(ERR_MISUSE, "API misuse")                                                                      \
  X(ERR_TEXT, "text format error")                                                                 \
  X(ERR_INTERNAL, "internal error")

typedef enum weft_status {
#define WEFT_STATUS_ENUM(id, str) WEFT_##id,
  WEFT_STATUS_LIST(WEFT_STATUS_ENUM)
#undef WEFT_STATUS_ENUM
  WEFT_STATUS_COUNT
} weft_status;

/* X(ID, "spec message"). Order is ABI: generated code passes these numbers to the trap libcall. */
#define WEFT_TRAP_LIST(X)                                                                          \
  X(NONE, "no trap")                                                                               \
  X(UNREACHABLE, "unreachable")                                                                    \
  X(INT_DIV_ZERO, "integer divide by zero")                                                        \
  X(INT_OVERFLOW, "integer overflow")                                                              \
  X(BAD_CONVERSION, "invalid conversion to integer")                                               \
  X(MEMORY_OOB, "out of bounds memory access")                                                     \
  X(TABLE_OOB, "out of bounds table access")                                                       \
  X(UNDEFINED_ELEMENT, "undefined element")                                                        \
  X(UNINITIALIZED_ELEMENT, "uninitialized element")                                                \
  X(INDIRECT_TYPE_MISMATCH, "indirect call type mismatch")                                         \
  X(NULL_FUNC, "null function reference")                                                          \
  X(NULL_REF, "null reference")                                                                    \
  X(NULL_STRUCT, "null structure reference")                                                       \
  X(NULL_ARRAY, "null array reference")                                                            \
  X(NULL_I31, "null i31 reference")                                                                \
  X(NULL_EXN, "null exception reference")                                                          \
  X(NULL_CONT, "null continuation reference")                                                      \
  X(CAST_FAILURE, "cast failure")                                                                  \
  X(ARRAY_OOB, "out of bounds array access")                                                       \
  X(ARRAY_TOO_LARGE, "array size too large")                                                       \
  X(STACK_EXHAUSTED, "call stack exhausted")                                                       \
  X(CONT_CONSUMED, "continuation already consumed")                                                \
  X(UNHANDLED_TAG, "unhandled tag")                                                                \
  X(EXCEPTION, "uncaught exception")                                                               \
  X(HOST, "host function error")                                                                   \
  X(OUT_OF_MEMORY, "out of memory")                                                                \
  X(EXIT, "exit")

typedef enum weft_trap_code {
#define WEFT_TRAP_ENUM(id, str) WEFT_TRAP_##id,
  WEFT_TRAP_LIST(WEFT_TRAP_ENUM)
#undef WEFT_TRAP_ENUM
  WEFT_TRAP_COUNT
} weft_trap_code;

#include <stdint.h>

/* A diagnostic record, filled by the side that failed (core, plugin or text front end).
 * `code` is a weft_status. `offset` is a byte offset into the module being processed, or UINT64_MAX
 * when none applies. `origin` names who reported it and where: a plugin name, "decode", or a
 * "file:line" for config and text errors. `message` is one line, in the spec's wording where the
 * spec has one ("type mismatch", "unexpected end", ...). The embedding API calls it weft_error. */
#define WEFT_DIAG_MESSAGE_MAX 320
typedef struct weft_diag {
  int code;
  uint64_t offset;
  char origin[64];
  char message[WEFT_DIAG_MESSAGE_MAX];
} weft_diag;
typedef weft_diag weft_error;

#endif /* WEFT_ERRORS_H */
