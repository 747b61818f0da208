/* tests/fuzz/fuzz_compile.c -- libFuzzer target: the whole load path of the embedding API on
 * arbitrary bytes. weft_module_new (decode, the validator plugin, the x64-codegen plugin, the
 * stack-size check of contstacks) with the build tree's default configuration, then, for a module
 * that loads and has neither imports nor a start function, weft_instance_new in a fresh store
 * (globals, tables, memories, element and data segments, GC types). Exported code is never called:
 * it need not terminate. Any crash, sanitizer report or leak is a finding; a refused module or a
 * trap during instantiation is not.
 * Build: -DWEFT_FUZZ=ON with clang-14 (see tests/fuzz/CMakeLists.txt). The five plugins of the
 * default configuration are linked in (their WEFT_PLUGIN_STATIC objects, instrumented like the
 * core) and registered with weft_config_add_static_plugin, so none is loaded from disk.
 * Depends on: the public API (weft/engine.h, weft/runtime.h, weft/plugin.h), weft-core-obj and the
 * plugins' -obj libraries.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft/engine.h"
#include "weft/module.h"
#include "weft/plugin.h"
#include "weft/runtime.h"

const weft_plugin_desc *weft_plugin_entry_validator(uint32_t host_abi);
const weft_plugin_desc *weft_plugin_entry_x64_codegen(uint32_t host_abi);
const weft_plugin_desc *weft_plugin_entry_contstacks(uint32_t host_abi);
const weft_plugin_desc *weft_plugin_entry_backtrace(uint32_t host_abi);
const weft_plugin_desc *weft_plugin_entry_gc(uint32_t host_abi);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static weft_engine *engine;

static void make_engine(void) {
  weft_config *cfg = NULL;
  weft_error err;
  memset(&err, 0, sizeof err);
  static const weft_plugin_entry_fn entries[] = {
      weft_plugin_entry_validator, weft_plugin_entry_x64_codegen, weft_plugin_entry_contstacks,
      weft_plugin_entry_backtrace, weft_plugin_entry_gc};
  bool ok = weft_config_load(weft_config_default_path(), &cfg, &err) == WEFT_OK;
  for (size_t i = 0; ok && i < sizeof entries / sizeof entries[0]; i++)
    ok = weft_config_add_static_plugin(cfg, entries[i], &err) == WEFT_OK;
  if (!ok || weft_engine_new(cfg, &engine, &err) != WEFT_OK) {
    fprintf(stderr, "fuzz-compile: no engine: %s\n", err.message);
    abort();
  }
  weft_config_free(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (engine == NULL) make_engine();
  weft_module_t *m = NULL;
  weft_error err;
  memset(&err, 0, sizeof err);
  if (weft_module_new(engine, data, size, &m, &err) != WEFT_OK) {
    if (err.message[0] == '\0') abort(); /* every refusal says why */
    return 0;
  }
  const struct weft_module *ir = weft_module_ir(m);
  if (weft_module_import_count(m) == 0 && ir != NULL && ir->start == WEFT_NONE) {
    weft_store_t *s = weft_store_new(engine);
    weft_instance_t *inst = NULL;
    weft_trap_t *trap = NULL;
    if (s != NULL) {
      (void)weft_instance_new(s, m, NULL, 0, &inst, &trap, &err);
      weft_trap_free(trap);
      weft_store_free(s);
    }
  }
  weft_module_free(m);
  return 0;
}
