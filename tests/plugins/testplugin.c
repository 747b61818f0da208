/* tests/plugins/testplugin.c -- purpose-made plugins for the loader tests (tests/unit/loader),
 * built once per TP_VARIANT into <build>/tests/plugins/<name>.so: each shows one thing the loader
 * must accept or refuse, plus a codegen whose answers test the core's slot wrappers. Every
 * vtable is at least its kind's 1.0 size except in the tp-short* variants, which test that check.
 * Depends on: weft/plugin.h and weft/plugin/{validator,codegen,contstacks,backtrace,gc}.h only
 * (nothing from the core).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "weft/plugin.h"
#include "weft/plugin/backtrace.h"
#include "weft/plugin/codegen.h"
#include "weft/plugin/contstacks.h"
#include "weft/plugin/gc.h"
#include "weft/plugin/validator.h"

#ifndef TP_VARIANT
#error "define TP_VARIANT"
#endif

#define TP_GOOD 1
#define TP_NOENTRY 2
#define TP_REFUSE 3
#define TP_MAJOR 4
#define TP_OLDMINOR 5
#define TP_NEWMINOR 6
#define TP_DUP 7
#define TP_REQUIRES 8
#define TP_INITFAIL 9
#define TP_BADSIG 10
#define TP_CODEGEN 11
#define TP_SHORTCS 12 /* contstacks, backtrace, gc: a vtable one slot short of its 1.0 size */
#define TP_SHORTBT 13
#define TP_SHORTGC 14

#define TP_UNUSED __attribute__((unused)) /* not every variant uses every piece */

/* -- Shared pieces ---------------------------------------------------------------------------- */

typedef struct tp_state {
  const weft_host_api *host;
  bool strict;
  uint64_t limit;
  const char *mode;
  int64_t level;
} tp_state;

/* The validator slot: refuses modules with more than `limit` functions when strict is set, so a
 * test can see config values arrive and diagnostics travel back. */
TP_UNUSED static int tp_validate(void *state, const weft_module *m, weft_diag *d) {
  tp_state *st = state;
  if (st->strict && m->nfuncs > st->limit)
    return weft_host_diag(st->host, d, WEFT_ERR_INVALID, 0, "tp-good", "too many functions (%u > %llu)",
                          m->nfuncs, (unsigned long long)st->limit);
  return WEFT_OK;
}

TP_UNUSED static const weft_validator_iface tp_validator = {WEFT_ABI_INIT(weft_validator_iface),
                                                  .validate = tp_validate};

/* Full-size vtables of the other kinds with every slot NULL: the loader accepts them (it checks
 * sizes, not slots) and the core treats a NULL slot as "not provided". */
TP_UNUSED static const weft_contstacks_iface tp_contstacks = {WEFT_ABI_INIT(weft_contstacks_iface)};
TP_UNUSED static const weft_backtrace_iface tp_backtrace = {WEFT_ABI_INIT(weft_backtrace_iface)};
TP_UNUSED static const weft_gc_iface tp_gc = {WEFT_ABI_INIT(weft_gc_iface)};

TP_UNUSED static int tp_init(const weft_host_api *host, const weft_plugin_cfg *cfg, void **out_state,
                   weft_diag *d) {
  tp_state *st = host->alloc(host->host, sizeof *st);
  if (st == NULL) return weft_host_diag(host, d, WEFT_ERR_NOMEM, UINT64_MAX, "tp", "no memory");
  memset(st, 0, sizeof *st);
  st->host = host;
#if TP_VARIANT == TP_GOOD
  if (host->cfg_bool(host->host, cfg, "strict", &st->strict) != WEFT_OK ||
      host->cfg_size(host->host, cfg, "limit", &st->limit) != WEFT_OK ||
      host->cfg_string(host->host, cfg, "mode", &st->mode) != WEFT_OK ||
      host->cfg_int(host->host, cfg, "level", &st->level) != WEFT_OK) {
    host->free(host->host, st);
    return weft_host_diag(host, d, WEFT_ERR_CONFIG, UINT64_MAX, "tp-good", "config lookup failed");
  }
  /* An undeclared key must be refused by the host. */
  bool b;
  if (host->cfg_bool(host->host, cfg, "undeclared", &b) != WEFT_ERR_CONFIG) {
    host->free(host->host, st);
    return weft_host_diag(host, d, WEFT_ERR_INTERNAL, UINT64_MAX, "tp-good",
                          "host accepted an undeclared key");
  }
  weft_host_log(host, WEFT_LOG_INFO, "tp-good", "init strict=%d limit=%llu mode=%s level=%lld",
                (int)st->strict, (unsigned long long)st->limit, st->mode, (long long)st->level);
#else
  (void)cfg;
#endif
  *out_state = st;
  return WEFT_OK;
}

TP_UNUSED static void tp_fini(void *state) {
  tp_state *st = state;
  if (st != NULL) st->host->free(st->host->host, st);
}

/* -- Variants --------------------------------------------------------------------------------- */

#if TP_VARIANT == TP_GOOD
static const weft_cfg_key tp_keys[] = {
    {"strict", WEFT_CFG_BOOL, "no", "refuse modules with more than `limit` functions", NULL},
    {"limit", WEFT_CFG_SIZE, "4K", "the most functions a module may have", NULL},
    {"mode", WEFT_CFG_ENUM, "fast", "how hard to look", "fast|slow"},
    {"level", WEFT_CFG_INT, "3", "a number", NULL},
};
WEFT_PLUGIN_DEFINE(tp_good, .name = "tp-good", .kind = WEFT_PLUGIN_VALIDATOR, .version = "1.2.3",
                   .keys = tp_keys, .nkeys = 4, .init = tp_init, .fini = tp_fini,
                   .iface = &tp_validator, .summary = "test validator")

#elif TP_VARIANT == TP_NOENTRY
/* A shared object that is not a weft plugin: it exports a function under another name. */
WEFT_PLUGIN_EXPORT int not_a_weft_plugin(void);
WEFT_PLUGIN_EXPORT int not_a_weft_plugin(void) { return 42; }

#elif TP_VARIANT == TP_REFUSE
WEFT_PLUGIN_EXPORT const weft_plugin_desc *weft_plugin_entry(uint32_t host_abi);
WEFT_PLUGIN_EXPORT const weft_plugin_desc *weft_plugin_entry(uint32_t host_abi) {
  (void)host_abi;
  return NULL;
}

#elif TP_VARIANT == TP_MAJOR
static const weft_plugin_desc tp_desc = {
    .abi_version = WEFT_ABI_MAKE(WEFT_ABI_MAJOR + 1, 0), .struct_size = sizeof(weft_plugin_desc),
    .name = "tp-major", .kind = WEFT_PLUGIN_BACKTRACE, .version = "9.0", .build_sig = WEFT_BUILD_SIG,
    .init = tp_init, .fini = tp_fini, .iface = &tp_backtrace};
WEFT_PLUGIN_EXPORT const weft_plugin_desc *weft_plugin_entry(uint32_t host_abi);
WEFT_PLUGIN_EXPORT const weft_plugin_desc *weft_plugin_entry(uint32_t host_abi) {
  (void)host_abi; /* a careless plugin that does not check the host: the core must */
  return &tp_desc;
}

#elif TP_VARIANT == TP_OLDMINOR
/* A 1.0 plugin: its descriptor ends before `summary` (1.1). The bytes after the 1.0 end are
 * poisoned, so a core that read `summary` without WEFT_HAS would print garbage or crash. */
static union {
  weft_plugin_desc d;
  unsigned char bytes[sizeof(weft_plugin_desc) + 64];
} tp_old;
WEFT_PLUGIN_EXPORT const weft_plugin_desc *weft_plugin_entry(uint32_t host_abi);
WEFT_PLUGIN_EXPORT const weft_plugin_desc *weft_plugin_entry(uint32_t host_abi) {
  if (WEFT_ABI_MAJOR_OF(host_abi) != 1) return NULL;
  memset(tp_old.bytes, 0xA5, sizeof tp_old.bytes);
  weft_plugin_desc *d = &tp_old.d;
  d->abi_version = WEFT_ABI_MAKE(1, 0);
  d->struct_size = (uint32_t)WEFT_PLUGIN_DESC_SIZE_1_0;
  d->name = "tp-oldminor";
  d->kind = WEFT_PLUGIN_BACKTRACE;
  d->version = "0.9";
  d->build_sig = WEFT_BUILD_SIG;
  d->keys = NULL;
  d->nkeys = 0;
  d->requires = NULL;
  d->nrequires = 0;
  d->init = tp_init;
  d->fini = tp_fini;
  d->iface = &tp_backtrace;
  return d;
}

#elif TP_VARIANT == TP_NEWMINOR
/* A plugin from the future (1.7): a longer descriptor whose extra fields this core ignores. */
static struct {
  weft_plugin_desc d;
  void *since_1_7[4];
} tp_new = {
    .d = {.abi_version = WEFT_ABI_MAKE(1, 7), .struct_size = sizeof(weft_plugin_desc) + 4 * sizeof(void *),
          .name = "tp-newminor", .kind = WEFT_PLUGIN_CONTSTACKS, .version = "2.0",
          .build_sig = WEFT_BUILD_SIG, .init = tp_init, .fini = tp_fini, .iface = &tp_contstacks,
          .summary = "from the future"},
    .since_1_7 = {NULL, NULL, NULL, NULL}};
WEFT_PLUGIN_EXPORT const weft_plugin_desc *weft_plugin_entry(uint32_t host_abi);
WEFT_PLUGIN_EXPORT const weft_plugin_desc *weft_plugin_entry(uint32_t host_abi) {
  if (WEFT_ABI_MAJOR_OF(host_abi) != 1) return NULL;
  return &tp_new.d;
}

#elif TP_VARIANT == TP_DUP
WEFT_PLUGIN_DEFINE(tp_dup, .name = "tp-dup", .kind = WEFT_PLUGIN_VALIDATOR, .version = "1.0",
                   .init = tp_init, .fini = tp_fini, .iface = &tp_validator)

#elif TP_VARIANT == TP_REQUIRES
static const char *const tp_requires[] = {"backtrace"};
WEFT_PLUGIN_DEFINE(tp_requires, .name = "tp-requires", .kind = WEFT_PLUGIN_GC, .version = "1.0",
                   .requires = tp_requires, .nrequires = 1, .init = tp_init, .fini = tp_fini,
                   .iface = &tp_gc)

#elif TP_VARIANT == TP_INITFAIL
static int tp_init_fail(const weft_host_api *host, const weft_plugin_cfg *cfg, void **out_state,
                        weft_diag *d) {
  (void)cfg;
  *out_state = NULL;
  return weft_host_diag(host, d, WEFT_ERR_NOMEM, UINT64_MAX, "tp-initfail",
                        "cannot reserve the test heap");
}
WEFT_PLUGIN_DEFINE(tp_initfail, .name = "tp-initfail", .kind = WEFT_PLUGIN_CONTSTACKS,
                   .version = "1.0", .init = tp_init_fail, .fini = tp_fini,
                   .iface = &tp_contstacks)

#elif TP_VARIANT == TP_BADSIG
static const weft_plugin_desc tp_desc = {
    WEFT_ABI_INIT(weft_plugin_desc), .name = "tp-badsig", .kind = WEFT_PLUGIN_BACKTRACE,
    .version = "1.0", .build_sig = "x86_64-linux-lp64/some-other-flags", .init = tp_init,
    .fini = tp_fini, .iface = &tp_backtrace};
WEFT_PLUGIN_EXPORT const weft_plugin_desc *weft_plugin_entry(uint32_t host_abi);
WEFT_PLUGIN_EXPORT const weft_plugin_desc *weft_plugin_entry(uint32_t host_abi) {
  if (WEFT_ABI_MAJOR_OF(host_abi) != WEFT_ABI_MAJOR) return NULL;
  return &tp_desc;
}

#elif TP_VARIANT == TP_CODEGEN
/* compile: a module with 13 functions gets code info of another major, 14 gets none, 15 fails
 * without a message; others get a good (empty) result. host_trampoline hands out a marker. */
static weft_code_info tp_bad_major = {.abi_version = WEFT_ABI_MAKE(WEFT_ABI_MAJOR + 1, 0),
                                      .struct_size = sizeof(weft_code_info)};
static int tp_released;
static int tp_compile(void *state, const weft_module *m, weft_code_info **out, weft_diag *d) {
  tp_state *st = state;
  (void)d;
  if (m->nfuncs == 13) {
    *out = &tp_bad_major;
    return WEFT_OK;
  }
  if (m->nfuncs == 14) {
    *out = NULL;
    return WEFT_OK;
  }
  if (m->nfuncs == 15) return WEFT_ERR_UNSUPPORTED; /* no message: the wrapper must add one */
  weft_code_info *ci = st->host->alloc(st->host->host, sizeof *ci);
  if (ci == NULL) return WEFT_ERR_NOMEM;
  memset(ci, 0, sizeof *ci);
  ci->abi_version = WEFT_ABI_VERSION;
  ci->struct_size = sizeof *ci;
  *out = ci;
  return WEFT_OK;
}
static void tp_release(void *state, weft_code_info *code) {
  tp_state *st = state;
  tp_released++;
  if (code != &tp_bad_major) st->host->free(st->host->host, code);
}
static char tp_tramp_marker;
static int tp_host_trampoline(void *state, const weft_module *m, uint32_t type, void **out_entry,
                              weft_diag *d) {
  tp_state *st = state;
  (void)m;
  if (type == 7)
    return weft_host_diag(st->host, d, WEFT_ERR_UNSUPPORTED, UINT64_MAX, "tp-codegen",
                          "no trampoline for type %u", type);
  *out_entry = &tp_tramp_marker;
  return WEFT_OK;
}
static void tp_release_tramp(void *state, void *entry) {
  (void)state;
  if (entry == &tp_tramp_marker) tp_released += 100;
}
/* Lets the test read how many releases the core made (a test hook, not part of the ABI). */
static int tp_released_count(void) { return tp_released; }
static const struct {
  weft_codegen_iface iface;
  int (*released)(void); /* past the 1.0 vtable; the core ignores it */
} tp_codegen = {{WEFT_ABI_INIT(weft_codegen_iface), .compile = tp_compile, .release = tp_release,
                 .host_trampoline = tp_host_trampoline, .release_tramp = tp_release_tramp},
                tp_released_count};
WEFT_PLUGIN_DEFINE(tp_codegen, .name = "tp-codegen", .kind = WEFT_PLUGIN_CODEGEN, .version = "1.0",
                   .init = tp_init, .fini = tp_fini, .iface = &tp_codegen.iface)

#elif TP_VARIANT == TP_SHORTCS
/* Built against a header that lacked the last 1.0 slot: struct_size stops where it begins. */
static const weft_contstacks_iface tp_short = {
    .abi_version = WEFT_ABI_VERSION,
    .struct_size = (uint32_t)offsetof(weft_contstacks_iface, asan_after_suspend)};
WEFT_PLUGIN_DEFINE(tp_shortcs, .name = "tp-shortcs", .kind = WEFT_PLUGIN_CONTSTACKS,
                   .version = "1.0", .init = tp_init, .fini = tp_fini, .iface = &tp_short)

#elif TP_VARIANT == TP_SHORTBT
static const weft_backtrace_iface tp_short = {
    .abi_version = WEFT_ABI_VERSION,
    .struct_size = (uint32_t)offsetof(weft_backtrace_iface, code_removed)};
WEFT_PLUGIN_DEFINE(tp_shortbt, .name = "tp-shortbt", .kind = WEFT_PLUGIN_BACKTRACE,
                   .version = "1.0", .init = tp_init, .fini = tp_fini, .iface = &tp_short)

#elif TP_VARIANT == TP_SHORTGC
/* The bare ABI header: what every plugin of these kinds declared before the sizes were checked. */
static const weft_abi_header tp_short = {WEFT_ABI_VERSION, (uint32_t)sizeof(weft_abi_header)};
WEFT_PLUGIN_DEFINE(tp_shortgc, .name = "tp-shortgc", .kind = WEFT_PLUGIN_GC, .version = "1.0",
                   .init = tp_init, .fini = tp_fini, .iface = &tp_short)
#endif
