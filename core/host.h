/* core/host.h -- the weft_host_api table the core hands to plugins (implementation in core/host.c).
 *
 * One core_host per engine. It carries the log sink, the allocation fault hook used by tests, and
 * the code-memory slots (W^X: map RW, publish RX, unmap). Depends on: weft/plugin.h, weft/engine.h.
 */
#ifndef WEFT_CORE_HOST_H
#define WEFT_CORE_HOST_H

#include <stdarg.h>
#include <stdint.h>

#include "weft/engine.h"
#include "weft/plugin.h"

typedef struct core_host {
  weft_host_api api;     /* api.host points back at this struct */
  weft_log_sink sink;    /* NULL: drop log lines */
  void *sink_ud;
  uint64_t alloc_count;  /* allocations (alloc and realloc) made through the table so far */
  uint64_t alloc_fail_at;/* fail the allocation whose count reaches this number; 0 = never */
} core_host;

/* Fill the table. The struct must not move afterwards (api.host points at it). */
void core_host_init(core_host *h, weft_log_sink sink, void *sink_ud);

/* Make the nth allocation from now fail (1 = the next one); 0 turns the hook off. Tests only. */
void core_host_fail_alloc(core_host *h, uint64_t nth);

/* printf-style helpers on top of the slots, for the core's own use. */
void core_host_logf(core_host *h, weft_log_level level, const char *origin, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Fill `d` (when not NULL) and return `code`. origin may be NULL. offset is UINT64_MAX for none. */
int core_diagf(weft_diag *d, int code, uint64_t offset, const char *origin, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int core_diagv(weft_diag *d, int code, uint64_t offset, const char *origin, const char *fmt,
               va_list ap);

#endif /* WEFT_CORE_HOST_H */
