/* tests/unit/decode/binary_check.c -- spec-suite driver for the decoder (ctest: spec.binary).
 *
 * For every .wast that wabt's wast2json can convert, decodes each module it wrote: modules that the
 * script uses (module, assert_trap, assert_unlinkable, ...) must decode; assert_malformed binary
 * modules must be rejected, and the message is compared with the expected text by prefix.
 * assert_invalid modules are only counted (validation is the validator plugin's job).
 * Usage: decode-spec-check [-v] WAST2JSON TMPDIR PATH...   (PATH: a .wast file or a folder)
 *        decode-spec-check -f FILE.wasm                      (decode one file and print the result)
 * With WEFT_DECODE_DUMP=DIR, modules read through weft's text front end are also written to DIR.
 * Depends on: core/decode.h, core/types.h, a wast2json binary.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decode.h"
#include "types.h"
#ifdef WEFT_HAVE_TEXT
#include "weft/text.h"
#endif

typedef struct stats {
  unsigned files, skipped, by_text;
  unsigned valid_ok, valid_fail;
  unsigned mal_rejected, mal_accepted, mal_matched;
  unsigned invalid_decoded, invalid_rejected;
} stats;

static stats S;
static int verbose;
static core_types *reg;
static const char *w2j, *tmpdir;

static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  unsigned char *buf = NULL;
  if (!f) return NULL;
  if (fseek(f, 0, SEEK_END) == 0) {
    long n = ftell(f);
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) {
      buf = malloc((size_t)n + 1);
      if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
      }
      *len = (size_t)n;
    }
  }
  fclose(f);
  return buf;
}

/* Copies the JSON string value of "key" in `line` into out; false if absent. */
static int json_str(const char *line, const char *key, char *out, size_t cap) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\": \"", key);
  const char *p = strstr(line, pat);
  if (!p) return 0;
  p += strlen(pat);
  size_t n = 0;
  while (*p && *p != '"' && n + 1 < cap) {
    if (*p == '\\' && p[1]) p++;
    out[n++] = *p++;
  }
  out[n] = 0;
  return 1;
}

static int decode_path(const char *path, weft_diag *d) {
  size_t len = 0;
  unsigned char *buf = read_file(path, &len);
  if (!buf) {
    snprintf(d->message, sizeof d->message, "cannot read %s", path);
    return -1;
  }
  weft_module *m = NULL;
  memset(d, 0, sizeof *d);
  int rc = core_decode(reg, buf, len, &m, d);
  core_module_free(m);
  free(buf);
  return rc;
}

/* Shared by both front ends: one module and what the script expects of it. */
static void check_module(const char *wast, int lineno, const char *type, const uint8_t *bytes,
                         size_t len, const char *text) {
  weft_diag d;
  weft_module *m = NULL;
  memset(&d, 0, sizeof d);
  int rc = core_decode(reg, bytes, len, &m, &d);
  core_module_free(m);
  if (strcmp(type, "assert_malformed") == 0) {
    if (rc == 0) {
      S.mal_accepted++;
      printf("ACCEPTED MALFORMED %s:%d (expected \"%s\")\n", wast, lineno, text);
    } else {
      S.mal_rejected++;
      if (strncmp(d.message, text, strlen(text)) == 0) S.mal_matched++;
      else if (verbose)
        printf("message %s:%d: got \"%s\" @%llu, expected \"%s\"\n", wast, lineno, d.message,
               (unsigned long long)d.offset, text);
    }
  } else if (strcmp(type, "assert_invalid") == 0) {
    if (rc == 0) S.invalid_decoded++;
    else {
      S.invalid_rejected++;
      if (verbose) printf("invalid rejected by decoder %s:%d: %s\n", wast, lineno, d.message);
    }
  } else if (rc == 0) {
    S.valid_ok++;
  } else {
    S.valid_fail++;
    printf("REJECTED VALID %s:%d (%s): %s @%llu\n", wast, lineno, type, d.message,
           (unsigned long long)d.offset);
  }
}

static void run_json(const char *wast, const char *dir, const char *json) {
  FILE *f = fopen(json, "r");
  char line[8192], type[64], file[512], text[512], mtype[32], path[2048];
  if (!f) return;
  while (fgets(line, sizeof line, f)) {
    if (!json_str(line, "type", type, sizeof type) || !json_str(line, "filename", file, sizeof file))
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (!json_str(line, "module_type", mtype, sizeof mtype)) strcpy(mtype, "binary");
    if (strcmp(mtype, "binary") != 0) {
      unlink(path);
      continue;
    }
    const char *ln = strstr(line, "\"line\": ");
    int lineno = ln ? atoi(ln + 8) : 0;
    size_t len = 0;
    unsigned char *bytes = read_file(path, &len);
    text[0] = 0;
    json_str(line, "text", text, sizeof text);
    if (bytes) check_module(wast, lineno, type, bytes, len, text);
    else printf("cannot read %s\n", path);
    free(bytes);
    unlink(path);
  }
  fclose(f);
}

#ifdef WEFT_HAVE_TEXT
/* weft's own text front end, for the scripts wast2json cannot read (GC, stack switching, ...).
 * Returns 0 when the script was parsed. Quoted and text-malformed modules are not the decoder's. */
static int run_text(const char *wast) {
  size_t len = 0;
  unsigned char *src = read_file(wast, &len);
  weft_wast *w = NULL;
  weft_diag d;
  if (!src) return -1;
  int rc = weft_wast_parse((const char *)src, len, wast, &w, &d);
  free(src);
  if (rc != WEFT_OK) return -1;
  for (uint32_t i = 0; i < w->ncmds; i++) {
    const weft_wast_cmd *c = &w->cmds[i];
    const weft_wast_module *mod = c->module;
    if (!mod || mod->form == WEFT_WAST_MOD_QUOTE) continue;
    const char *type = weft_wast_cmd_name(c->kind);
    if (c->kind == WEFT_WAST_CMD_ASSERT_MALFORMED && mod->form != WEFT_WAST_MOD_BINARY) continue;
    const char *dump = getenv("WEFT_DECODE_DUMP"); /* a folder: keep the modules (fuzz seeds) */
    if (dump && c->kind == WEFT_WAST_CMD_MODULE) {
      char path[1024];
      const char *base = strrchr(wast, '/');
      snprintf(path, sizeof path, "%s/%s.%u.wasm", dump, base ? base + 1 : wast, i);
      FILE *out = fopen(path, "wb");
      if (out) {
        fwrite(mod->bytes, 1, mod->len, out);
        fclose(out);
      }
    }
    check_module(wast, (int)c->line, type, mod->bytes, mod->len, c->message ? c->message : "");
  }
  weft_wast_free(w);
  return 0;
}
#endif

static int visit(const char *fpath, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)ftw;
  size_t n = strlen(fpath);
  if (flag != FTW_F || n < 5 || strcmp(fpath + n - 5, ".wast") != 0) return 0;
  char dir[1024], json[1100], cmd[4096];
  S.files++;
  snprintf(dir, sizeof dir, "%s/w%u", tmpdir, S.files);
  mkdir(dir, 0755);
  snprintf(json, sizeof json, "%s/t.json", dir);
  snprintf(cmd, sizeof cmd, "'%s' --enable-all '%s' -o '%s' >/dev/null 2>&1", w2j, fpath, json);
  if (system(cmd) != 0) {
#ifdef WEFT_HAVE_TEXT
    if (run_text(fpath) == 0) {
      S.by_text++;
    } else
#endif
    {
      S.skipped++;
      if (verbose) printf("skipped (no front end reads it): %s\n", fpath);
    }
  } else {
    run_json(fpath, dir, json);
  }
  /* remove whatever is left (text modules, the json) */
  DIR *dh = opendir(dir);
  if (dh) {
    struct dirent *e;
    char p[2048];
    while ((e = readdir(dh))) {
      if (e->d_name[0] == '.') continue;
      snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      unlink(p);
    }
    closedir(dh);
  }
  rmdir(dir);
  return 0;
}

int main(int argc, char **argv) {
  int a = 1;
  reg = core_types_new();
  if (!reg) return 2;
  if (argc == 3 && strcmp(argv[1], "-f") == 0) {
    weft_diag d;
    int rc = decode_path(argv[2], &d);
    if (rc == 0) printf("ok\n");
    else printf("error %d @%llu: %s\n", rc, (unsigned long long)d.offset, d.message);
    core_types_free(reg);
    return rc == 0 ? 0 : 1;
  }
  if (a < argc && strcmp(argv[a], "-v") == 0) {
    verbose = 1;
    a++;
  }
  if (argc - a < 3) {
    fprintf(stderr, "usage: %s [-v] WAST2JSON TMPDIR PATH...\n       %s -f FILE.wasm\n", argv[0],
            argv[0]);
    return 2;
  }
  w2j = argv[a];
  tmpdir = argv[a + 1];
  mkdir(tmpdir, 0755);
  for (int i = a + 2; i < argc; i++) nftw(argv[i], visit, 16, FTW_PHYS);
  printf("spec.binary: %u .wast files: %u through wast2json, %u through weft's text front end, "
         "%u skipped (neither reads them)\n",
         S.files, S.files - S.by_text - S.skipped, S.by_text, S.skipped);
  printf("  modules that must decode: %u decoded, %u rejected\n", S.valid_ok, S.valid_fail);
  printf("  assert_malformed (binary): %u rejected (%u with the expected message), %u accepted\n",
         S.mal_rejected, S.mal_matched, S.mal_accepted);
  printf("  assert_invalid: %u decoded, %u rejected by the decoder\n", S.invalid_decoded,
         S.invalid_rejected);
  printf("  canonical types in the registry: %u\n", core_types_count(reg));
  core_types_free(reg);
  return (S.valid_fail || S.mal_accepted) ? 1 : 0;
}
