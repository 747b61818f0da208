/* tests/unit/host/test_host.c -- the weft_host_api table (core/host.c): the allocation fault hook,
 * logging through the sink, diagnostics, config lookups, W^X code memory and libcall addresses.
 * Depends on: weft-core-obj (core/host.h, core/config.h, core/libcalls.h), cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "host.h"
#include "libcalls.h"
#include "runtime_int.h"
#include "weft/plugin/codegen.h"
#include "weft/vm.h"

/* -- Helpers --------------------------------------------------------------------------------- */

/* The permissions /proc/self/maps shows for the mapping holding `addr` ("rw-p"), or "". */
static void perms_of(const void *addr, char out[5]) {
  out[0] = '\0';
  FILE *f = fopen("/proc/self/maps", "r");
  assert_non_null(f);
  char line[512];
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned long lo, hi;
    char perms[5];
    if (sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && (uintptr_t)addr >= lo &&
        (uintptr_t)addr < hi) {
      memcpy(out, perms, 5);
      break;
    }
  }
  fclose(f);
}

static char last_log[600];
static int log_calls;

static void sink(void *ud, weft_log_level level, const char *origin, const char *message) {
  log_calls++;
  snprintf(last_log, sizeof last_log, "%s|%d|%s|%s", (const char *)ud, (int)level, origin, message);
}

/* -- Tests ----------------------------------------------------------------------------------- */

static void table_is_complete(void **s) {
  (void)s;
  core_host h;
  core_host_init(&h, NULL, NULL);
  const weft_host_api *api = &h.api;
  assert_int_equal(api->abi_version, WEFT_ABI_VERSION);
  assert_int_equal(api->struct_size, sizeof(weft_host_api));
  assert_ptr_equal(api->host, &h);
  assert_true(WEFT_HAS(api, weft_host_api, libcall));
  void (*const *slot)(void) = (void (*const *)(void))&api->alloc;
  size_t nslots = (sizeof(weft_host_api) - offsetof(weft_host_api, alloc)) / sizeof(void *);
  for (size_t i = 0; i < nslots; i++) assert_non_null(slot[i]);
}

static void alloc_fault_hook(void **s) {
  (void)s;
  core_host h;
  core_host_init(&h, NULL, NULL);
  const weft_host_api *api = &h.api;
  core_host_fail_alloc(&h, 3); /* the third allocation from now fails */
  void *a = api->alloc(api->host, 16);
  void *b = api->alloc(api->host, 16);
  assert_non_null(a);
  assert_non_null(b);
  assert_null(api->realloc(api->host, a, 64)); /* third: fails, a stays valid */
  memset(a, 1, 16);
  void *c = api->alloc(api->host, 0);            /* fourth: fine again, size 0 is allowed */
  assert_non_null(c);
  a = api->realloc(api->host, a, 64);
  assert_non_null(a);
  assert_int_equal(h.alloc_count, 5);
  core_host_fail_alloc(&h, 1);
  void *m = NULL;
  assert_int_equal(api->code_map(api->host, 100, &m), WEFT_ERR_NOMEM); /* code memory counts too */
  assert_null(m);
  core_host_fail_alloc(&h, 0);
  void *d = api->alloc(api->host, 8);
  assert_non_null(d);
  api->free(api->host, a);
  api->free(api->host, b);
  api->free(api->host, c);
  api->free(api->host, d);
  api->free(api->host, NULL);
}

static void logging(void **s) {
  (void)s;
  core_host quiet;
  core_host_init(&quiet, NULL, NULL);
  log_calls = 0;
  weft_host_log(&quiet.api, WEFT_LOG_ERROR, "p", "dropped %d", 1); /* no sink: dropped, no crash */
  assert_int_equal(log_calls, 0);
  core_host h;
  char ud[] = "ud";
  core_host_init(&h, sink, ud);
  weft_host_log(&h.api, WEFT_LOG_WARN, "gc", "heap at %d%%\nsecond line", 90);
  assert_int_equal(log_calls, 1);
  assert_string_equal(last_log, "ud|1|gc|heap at 90% second line");
  core_host_logf(&h, WEFT_LOG_DEBUG, NULL, "x");
  assert_string_equal(last_log, "ud|3||x");
}

static void diagnostics(void **s) {
  (void)s;
  core_host h;
  core_host_init(&h, NULL, NULL);
  weft_diag d;
  memset(&d, 0x55, sizeof d);
  int rc = weft_host_diag(&h.api, &d, WEFT_ERR_INVALID, 0x1234, "validator", "type mismatch in %s",
                          "block\r\n");
  assert_int_equal(rc, WEFT_ERR_INVALID);
  assert_int_equal(d.code, WEFT_ERR_INVALID);
  assert_int_equal(d.offset, 0x1234);
  assert_string_equal(d.origin, "validator");
  assert_string_equal(d.message, "type mismatch in block  ");
  /* Long texts are cut to the record, still terminated. */
  char big[1000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  weft_host_diag(&h.api, &d, WEFT_ERR_LIMIT, UINT64_MAX, big, "%s", big);
  assert_int_equal(strlen(d.origin), sizeof d.origin - 1);
  assert_int_equal(strlen(d.message), sizeof d.message - 1);
  /* A NULL record is allowed: the code still comes back. */
  assert_int_equal(core_diagf(NULL, WEFT_ERR_IO, 0, "x", "y"), WEFT_ERR_IO);
}

static void config_lookups(void **s) {
  (void)s;
  core_host h;
  core_host_init(&h, NULL, NULL);
  const weft_host_api *api = &h.api;
  static const weft_cfg_key keys[] = {
      {"on", WEFT_CFG_BOOL, "no", "", NULL},
      {"n", WEFT_CFG_INT, "0", "", NULL},
      {"sz", WEFT_CFG_SIZE, "1K", "", NULL},
      {"name", WEFT_CFG_STRING, "", "", NULL},
      {"mode", WEFT_CFG_ENUM, "a", "", "a|b"},
  };
  const char *values[] = {"yes", "-7", "2M", "hello", "b"};
  weft_plugin_cfg cfg = {"p", keys, 5, values};
  bool b = false;
  int64_t i = 0;
  uint64_t z = 0;
  const char *str = NULL;
  assert_int_equal(api->cfg_bool(api->host, &cfg, "on", &b), WEFT_OK);
  assert_true(b);
  assert_int_equal(api->cfg_int(api->host, &cfg, "n", &i), WEFT_OK);
  assert_int_equal(i, -7);
  assert_int_equal(api->cfg_size(api->host, &cfg, "sz", &z), WEFT_OK);
  assert_int_equal(z, 2u << 20);
  assert_int_equal(api->cfg_string(api->host, &cfg, "name", &str), WEFT_OK);
  assert_string_equal(str, "hello");
  assert_int_equal(api->cfg_string(api->host, &cfg, "mode", &str), WEFT_OK);
  assert_string_equal(str, "b");
  /* Undeclared keys and type confusion are refused. */
  assert_int_equal(api->cfg_bool(api->host, &cfg, "other", &b), WEFT_ERR_CONFIG);
  assert_int_equal(api->cfg_bool(api->host, &cfg, "n", &b), WEFT_ERR_CONFIG);
  assert_int_equal(api->cfg_size(api->host, &cfg, "n", &z), WEFT_ERR_CONFIG);
  assert_int_equal(api->cfg_int(api->host, NULL, "n", &i), WEFT_ERR_CONFIG);
}

static void code_memory_is_w_xor_x(void **s) {
  (void)s;
  core_host h;
  core_host_init(&h, NULL, NULL);
  const weft_host_api *api = &h.api;
  void *mem = NULL;
  assert_int_equal(api->code_map(api->host, 0, &mem), WEFT_ERR_LIMIT);
  assert_int_equal(api->code_map(api->host, 6, &mem), WEFT_OK);
  assert_non_null(mem);
  char perms[5];
  perms_of(mem, perms);
  assert_string_equal(perms, "rw-p");
  static const unsigned char code[] = {0xB8, 0x2A, 0x00, 0x00, 0x00, 0xC3}; /* mov eax,42; ret */
  memcpy(mem, code, sizeof code);
  assert_int_equal(api->code_publish(api->host, mem, sizeof code), WEFT_OK);
  perms_of(mem, perms);
  assert_string_equal(perms, "r-xp");
  int (*fn)(void);
  memcpy(&fn, &mem, sizeof fn);
  assert_int_equal(fn(), 42);
  api->code_unmap(api->host, mem, sizeof code);
  perms_of(mem, perms);
  assert_string_equal(perms, "");
  assert_int_equal(api->code_publish(api->host, NULL, 10), WEFT_ERR_MISUSE);
}

static void libcalls(void **s) {
  (void)s;
  core_host h;
  core_host_init(&h, NULL, NULL);
  for (uint32_t id = 0; id < WEFT_LC_COUNT; id++)
    assert_ptr_equal(h.api.libcall(h.api.host, id), core_libcall_addr(id));
  assert_non_null(h.api.libcall(h.api.host, WEFT_LC_MEMORY_GROW));
  assert_null(h.api.libcall(h.api.host, WEFT_LC_COUNT + 100));
}

/* The 1.1 code_lookup slot answers from the code registry. */
static void code_registry_queries(void **s) {
  (void)s;
  core_host h;
  core_host_init(&h, NULL, NULL);
  const weft_host_api *api = &h.api;
  assert_true(WEFT_HAS(api, weft_host_api, code_lookup));
  static unsigned char code[64];
  static const weft_trap_site sites[] = {{8, WEFT_TRAP_INT_DIV_ZERO, 0x40}};
  static const weft_pc_map_entry pcs[] = {{0, 0x30}, {16, 0x50}};
  weft_code_info ci;
  memset(&ci, 0, sizeof ci);
  ci.abi_version = WEFT_ABI_VERSION;
  ci.struct_size = sizeof ci;
  ci.code = code;
  ci.code_size = sizeof code;
  ci.ntrap_sites = 1;
  ci.trap_sites = sites;
  ci.npc_map = 2;
  ci.pc_map = pcs;
  uint32_t trap = 77, off = 77;
  assert_false(api->code_lookup(api->host, (uintptr_t)code + 8, &trap, &off));
  assert_int_equal(trap, WEFT_TRAP_NONE);
  assert_int_equal(off, UINT32_MAX);
  assert_int_equal(core_rt_registry_add(&ci), WEFT_OK);
  assert_true(api->code_lookup(api->host, (uintptr_t)code + 8, &trap, &off));
  assert_int_equal(trap, WEFT_TRAP_INT_DIV_ZERO);
  assert_int_equal(off, 0x40);
  assert_true(api->code_lookup(api->host, (uintptr_t)code + 20, &trap, &off));
  assert_int_equal(trap, WEFT_TRAP_NONE);
  assert_int_equal(off, 0x50);
  assert_false(api->code_lookup(api->host, (uintptr_t)code + sizeof code, NULL, NULL));
  core_rt_registry_remove(&ci);
  assert_false(api->code_lookup(api->host, (uintptr_t)code + 8, &trap, &off));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(table_is_complete),
      cmocka_unit_test(alloc_fault_hook),
      cmocka_unit_test(logging),
      cmocka_unit_test(diagnostics),
      cmocka_unit_test(config_lookups),
      cmocka_unit_test(code_memory_is_w_xor_x),
      cmocka_unit_test(libcalls),
      cmocka_unit_test(code_registry_queries),
  };
  return cmocka_run_group_tests_name("host", tests, NULL, NULL);
}
