/* tests/wasi/progs/listdir.c -- guest program (wasm32-wasi): counts the entries of directory
 * argv[1] with readdir (fd_readdir, called again and again with cookies for a big directory) and
 * checks that no name is seen twice. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  DIR *d = opendir(argv[1]);
  if (d == NULL) {
    perror("opendir");
    return 1;
  }
  size_t n = 0, cap = 64;
  char **names = malloc(cap * sizeof *names);
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (n == cap) names = realloc(names, (cap *= 2) * sizeof *names);
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof *names, cmp);
  size_t dups = 0;
  for (size_t i = 1; i < n; i++) dups += strcmp(names[i - 1], names[i]) == 0;
  printf("entries=%zu duplicates=%zu first=%s last=%s\n", n, dups, n ? names[0] : "",
         n ? names[n - 1] : "");
  return 0;
}
