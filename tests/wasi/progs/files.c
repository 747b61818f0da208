/* tests/wasi/progs/files.c -- guest program (wasm32-wasi): file I/O in a preopened directory whose
 * guest name is argv[1]: read a file the host made, write/append/read back/seek/stat a new one,
 * make and list and remove a directory, unlink a file (path_open, fd_read, fd_write, fd_seek,
 * fd_filestat_get, path_create_directory, fd_readdir, path_remove_directory, path_unlink_file). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char path[512];

static const char *at(const char *dir, const char *name) {
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return path;
}

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  const char *dir = argv[1];
  char line[128];

  FILE *f = fopen(at(dir, "inside.txt"), "r");
  if (f == NULL || fgets(line, sizeof line, f) == NULL) {
    printf("cannot read inside.txt: %s\n", strerror(errno));
    return 1;
  }
  fclose(f);
  printf("inside: %s", line);

  f = fopen(at(dir, "out.txt"), "w");
  if (f == NULL) {
    printf("cannot create out.txt: %s\n", strerror(errno));
    return 1;
  }
  fprintf(f, "line one\n");
  fclose(f);
  f = fopen(at(dir, "out.txt"), "a");
  fprintf(f, "line two\n");
  fclose(f);

  f = fopen(at(dir, "out.txt"), "r");
  while (fgets(line, sizeof line, f) != NULL) printf("read: %s", line);
  fseek(f, 5, SEEK_SET);
  printf("after seek: %c\n", fgetc(f));
  fseek(f, 0, SEEK_END);
  printf("size by seek: %ld\n", ftell(f));
  fclose(f);

  struct stat st;
  if (stat(at(dir, "out.txt"), &st) != 0) return 1;
  printf("size by stat: %lld, regular: %d\n", (long long)st.st_size, S_ISREG(st.st_mode));

  if (mkdir(at(dir, "newdir"), 0755) != 0) {
    printf("mkdir: %s\n", strerror(errno));
    return 1;
  }
  f = fopen(at(dir, "newdir/tmp.txt"), "w");
  fputs("x", f);
  fclose(f);

  DIR *d = opendir(dir);
  char *names[32];
  int n = 0;
  for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL && n < 32;)
    if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
  if (d != NULL) closedir(d);
  qsort(names, (size_t)n, sizeof names[0], cmp);
  printf("listing:");
  for (int i = 0; i < n; i++) printf(" %s", names[i]);
  printf("\n");

  printf("rmdir non-empty fails: %d\n", rmdir(at(dir, "newdir")) != 0);
  printf("unlink: %d\n", unlink(at(dir, "newdir/tmp.txt")));
  printf("rmdir: %d\n", rmdir(at(dir, "newdir")));
  printf("missing: %s\n", fopen(at(dir, "missing.txt"), "r") == NULL ? strerror(errno) : "found?");
  return 0;
}
