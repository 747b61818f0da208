/* include/weft/weft.h -- the embedding API, umbrella header.
 *
 * Three outcomes stay apart in every call that runs Wasm: a status (WEFT_OK or an error: the API was
 * misused or something could not be done; nothing ran), a trap (an object with a kind, a message and
 * frames), and success (results written). Ownership and thread-safety are stated on every
 * declaration. Depends on: errors.h.
 */
#ifndef WEFT_WEFT_H
#define WEFT_WEFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/errors.h"
#include "weft/engine.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WEFT_API __attribute__((visibility("default")))

#define WEFT_VERSION_STRING "0.1.0"

#include "weft/runtime.h" /* stores, modules, linkers, instances, funcs, traps (runtime) */

/* The library's version, "major.minor.patch". Static storage; any thread. */
WEFT_API const char *weft_version(void);

/* The short description of a status code ("out of memory"), or "unknown status". Static storage. */
WEFT_API const char *weft_status_str(int status);

/* The spec message of a trap code ("integer divide by zero"), or "unknown trap". Static storage. */
WEFT_API const char *weft_trap_str(int trap_code);

#ifdef __cplusplus
}
#endif
#endif /* WEFT_WEFT_H */
