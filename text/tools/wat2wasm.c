/* text/tools/wat2wasm.c -- command-line wrapper of weft_wat_to_wasm: FILE.wat -> FILE.wasm.
 * A developer tool beside the text library (not installed). Depends on: weft/text.h.
 */
#include <stdio.h>
#include <stdlib.h>

#include "weft/text.h"

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  if (!f) return NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    long n = ftell(f);
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
      *len = fread(buf, 1, (size_t)n, f);
      buf[*len] = 0;
    }
  }
  fclose(f);
  return buf;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: weft-wat2wasm IN.wat OUT.wasm\n");
    return 2;
  }
  size_t len = 0;
  char *src = slurp(argv[1], &len);
  if (!src) {
    fprintf(stderr, "%s: cannot read\n", argv[1]);
    return 1;
  }
  uint8_t *out = NULL;
  size_t outlen = 0;
  weft_diag d = {0};
  int rc = weft_wat_to_wasm(src, len, argv[1], &out, &outlen, &d);
  free(src);
  if (rc != WEFT_OK) {
    fprintf(stderr, "%s: %s\n", d.origin, d.message);
    return 1;
  }
  FILE *f = fopen(argv[2], "wb");
  if (!f || fwrite(out, 1, outlen, f) != outlen) {
    fprintf(stderr, "%s: cannot write\n", argv[2]);
    if (f) fclose(f);
    weft_wat_free(out);
    return 1;
  }
  fclose(f);
  weft_wat_free(out);
  return 0;
}
