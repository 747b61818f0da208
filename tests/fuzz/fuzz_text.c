/* tests/fuzz/fuzz_text.c -- libFuzzer target for the text front end: the input is parsed both as a
 * module (weft_wat_to_wasm) and as a script (weft_wast_parse, then every quoted module).
 * Built only with -DWEFT_FUZZ=ON and clang. Depends on: weft/text.h (weft-text-obj).
 */
#define _GNU_SOURCE 1 /* memmem */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "weft/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *out = NULL;
  size_t len = 0;
  weft_diag d;
  if (weft_wat_to_wasm((const char *)data, size, "fuzz", &out, &len, &d) == WEFT_OK) {
    /* every module encoded from text starts with the magic and version ("(module binary ...)" is
       passed through as written, so it is exempt) */
    if (!memmem(data, size, "binary", 6) &&
        (len < 8 || out[0] != 0 || out[1] != 'a' || out[2] != 's' || out[3] != 'm'))
      abort();
    weft_wat_free(out);
  }
  weft_wast *w = NULL;
  if (weft_wast_parse((const char *)data, size, "fuzz", &w, &d) == WEFT_OK) {
    for (uint32_t i = 0; i < w->ncmds; i++) {
      const weft_wast_module *m = w->cmds[i].module;
      if (!m) continue;
      const uint8_t *b;
      size_t bl;
      bool owned;
      if (weft_wast_module_bytes(m, &b, &bl, &owned, &d) == WEFT_OK && owned) weft_wat_free((void *)b);
    }
    weft_wast_free(w);
  }
  return 0;
}
