/* tests/wasi/progs/stdin_stats.c -- guest program (wasm32-wasi): reads all of stdin (fd_read) into
 * a buffer that grows with realloc (memory.grow), then prints the byte and line counts, a
 * checksum, and the last line upper-cased. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  size_t cap = 16, len = 0;
  char *buf = malloc(cap);
  size_t n;
  char chunk[1000];
  while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0) {
    while (len + n + 1 > cap) cap *= 2;
    buf = realloc(buf, cap);
    if (buf == NULL) return 1;
    memcpy(buf + len, chunk, n);
    len += n;
  }
  buf[len] = '\0';
  size_t lines = 0;
  unsigned long sum = 0;
  for (size_t i = 0; i < len; i++) {
    if (buf[i] == '\n') lines++;
    sum = sum * 31 + (unsigned char)buf[i];
  }
  char *last = len > 0 ? buf + len - 1 : buf;
  if (len > 0 && *last == '\n') *last-- = '\0';
  while (last > buf && last[-1] != '\n') last--;
  for (char *p = last; *p; p++) *p = (char)toupper((unsigned char)*p);
  printf("bytes=%zu lines=%zu sum=%lu last=%s\n", len, lines, sum % 1000003, last);
  free(buf);
  return 0;
}
