/* tests/unit/contstacks/fake_host.h -- a fake host API table for the contstacks unit tests: malloc-
 * backed allocation with scripted failures, diag into weft_diag, and a config section of literal
 * key=value pairs. Never links the core. Depends on: weft/plugin.h.
 */
#ifndef CS_TEST_FAKE_HOST_H
#define CS_TEST_FAKE_HOST_H

#include "weft/plugin.h"

/* A config section: up to 8 "key", "value" pairs (values in ini text form). */
struct weft_plugin_cfg {
  const char *keys[8];
  const char *vals[8];
  unsigned n;
};

/* The table; fake_host_reset() clears the failure script and the counters. */
extern weft_host_api fake_host;
extern unsigned fake_alloc_fail_after; /* the Nth alloc/realloc from now returns NULL (0: never) */
extern long fake_live_allocs;          /* allocations not yet freed */
void fake_host_reset(void);

#endif
