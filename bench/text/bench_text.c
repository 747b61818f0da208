/* bench/text/bench_text.c -- parse + encode the whole vendored spec suite with the text front end and
 * print the time (a benchmark, never a timed test). Every .wast is read into memory first, so only
 * weft_wast_parse (lexing, parsing, encoding every text module) and the encoding of every quoted
 * module are timed. Usage: bench-text [SUITE_DIR] [REPEAT]. Depends on: weft/text.h.
 */
#define _GNU_SOURCE 1
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "weft/text.h"

typedef struct file {
  char *path;
  char *src;
  size_t len;
} file;

static file *files;
static size_t nfiles, capfiles;

static void collect(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char *p = NULL;
    if (asprintf(&p, "%s/%s", dir, e->d_name) < 0) continue;
    struct stat st;
    size_t nl = strlen(e->d_name);
    if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
      collect(p);
      free(p);
    } else if (nl > 5 && strcmp(e->d_name + nl - 5, ".wast") == 0) {
      FILE *f = fopen(p, "rb");
      if (!f) { free(p); continue; }
      char *buf = malloc((size_t)st.st_size + 1);
      size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
      fclose(f);
      if (nfiles == capfiles) {
        capfiles = capfiles ? capfiles * 2 : 256;
        files = realloc(files, capfiles * sizeof *files);
      }
      files[nfiles++] = (file){p, buf, n};
    } else {
      free(p);
    }
  }
  closedir(d);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  const char *root = argc > 1 ? argv[1] : "tests/spec/testsuite/core";
  int repeat = argc > 2 ? atoi(argv[2]) : 5;
  if (repeat < 1) repeat = 1;
  collect(root);
  size_t bytes = 0;
  for (size_t i = 0; i < nfiles; i++) bytes += files[i].len;
  if (!nfiles) {
    fprintf(stderr, "bench-text: no .wast files under %s\n", root);
    return 1;
  }
  double best = 1e9;
  size_t modules = 0, out_bytes = 0, errors = 0;
  for (int r = 0; r < repeat; r++) {
    modules = out_bytes = errors = 0;
    double t0 = now();
    for (size_t i = 0; i < nfiles; i++) {
      weft_wast *w = NULL;
      weft_diag d;
      if (weft_wast_parse(files[i].src, files[i].len, files[i].path, &w, &d) != WEFT_OK) {
        errors++;
        continue;
      }
      for (uint32_t k = 0; k < w->ncmds; k++) {
        const weft_wast_module *m = w->cmds[k].module;
        if (!m) continue;
        const uint8_t *b;
        size_t bl;
        bool owned;
        if (weft_wast_module_bytes(m, &b, &bl, &owned, &d) == WEFT_OK) {
          out_bytes += bl;
          if (owned) weft_wat_free((void *)b);
        }
        modules++;
      }
      weft_wast_free(w);
    }
    double t = now() - t0;
    if (t < best) best = t;
  }
  printf("bench-text: %zu files, %.1f MB of text, %zu modules (%zu bytes of wasm), %zu script errors\n", nfiles,
         (double)bytes / 1e6, modules, out_bytes, errors);
  printf("bench-text: parse+encode of the whole suite: best of %d runs %.3f s (%.1f MB/s)\n", repeat, best,
         (double)bytes / 1e6 / best);
  for (size_t i = 0; i < nfiles; i++) {
    free(files[i].path);
    free(files[i].src);
  }
  free(files);
  return errors ? 1 : 0;
}
