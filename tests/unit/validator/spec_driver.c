/* tests/unit/validator/spec_driver.c -- runs the validator over the spec suite files wabt can parse.
 *
 * For each .wast (core/ top level, multi-memory/, simd/, relaxed-simd/; gc/ and stack-switching/
 * need syntax wabt 1.0.32 cannot read) it runs `wast2json`, decodes every module with core_decode and
 * validates it with the validator plugin (static entry weft_plugin_entry_validator, a plain malloc
 * host). Valid modules must be accepted; assert_invalid modules must be rejected, and the message
 * must start with the expected text. Files in expected-failures.txt are reported, not counted.
 * With --text (when weft's own WAT parser, text/, is linked) it instead parses the scripts with
 * weft_wast_parse, which also reads the GC and stack-switching syntax, and covers gc/ and
 * stack-switching/ too; a script it rejects as a whole is checked module by module with
 * weft_wat_to_wasm (WEFT_SPEC_SPLIT=1 forces that for every file).
 * Usage: test-validator-spec WAST2JSON WAT2WASM SUITE_DIR WORK_DIR [EXPECTED_FAILURES]
 *        test-validator-spec --text SUITE_DIR [EXPECTED_FAILURES]
 * Depends on: core/decode.h, core/types.h, the validator plugin's object library.
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "types.h"
#ifdef WEFT_VLD_HAVE_TEXT
#include "weft/text.h"
#endif
#include "weft/plugin.h"
#include "weft/plugin/validator.h"

const weft_plugin_desc *weft_plugin_entry_validator(uint32_t host_abi);

/* -- A plain host ---------------------------------------------------------------------------- */

static void *h_alloc(void *h, size_t n) { (void)h; return malloc(n ? n : 1); }
static void *h_realloc(void *h, void *p, size_t n) { (void)h; return realloc(p, n ? n : 1); }
static void h_free(void *h, void *p) { (void)h; free(p); }
static void h_log(void *h, weft_log_level l, const char *o, const char *fmt, va_list ap) {
  (void)h; (void)l; (void)o; (void)fmt; (void)ap;
}
static int h_diag(void *h, weft_diag *d, int code, uint64_t off, const char *origin,
                  const char *fmt, va_list ap) {
  (void)h;
  if (!d) return code;
  d->code = code;
  d->offset = off;
  snprintf(d->origin, sizeof d->origin, "%s", origin);
  vsnprintf(d->message, sizeof d->message, fmt, ap);
  return code;
}
static int h_cfg_bool(void *h, const weft_plugin_cfg *c, const char *k, bool *o) {
  (void)h; (void)c; (void)k; (void)o; return WEFT_ERR_CONFIG;
}
static int h_cfg_int(void *h, const weft_plugin_cfg *c, const char *k, int64_t *o) {
  (void)h; (void)c; (void)k; (void)o; return WEFT_ERR_CONFIG;
}
static int h_cfg_size(void *h, const weft_plugin_cfg *c, const char *k, uint64_t *o) {
  (void)h; (void)c; (void)k; (void)o; return WEFT_ERR_CONFIG;
}
static int h_cfg_string(void *h, const weft_plugin_cfg *c, const char *k, const char **o) {
  (void)h; (void)c; (void)k; (void)o; return WEFT_ERR_CONFIG;
}

static const weft_host_api host = {
    WEFT_ABI_INIT(weft_host_api), .host = NULL, .alloc = h_alloc, .realloc = h_realloc,
    .free = h_free, .log = h_log, .diag = h_diag, .cfg_bool = h_cfg_bool, .cfg_int = h_cfg_int,
    .cfg_size = h_cfg_size, .cfg_string = h_cfg_string};

/* -- State ----------------------------------------------------------------------------------- */

typedef struct stats {
  unsigned valid_ok, valid_rejected, valid_undecodable;
  unsigned invalid_ok, invalid_wrong_msg, invalid_accepted, invalid_undecodable;
  unsigned files, files_skipped, files_split;
} stats;

static const weft_validator_iface *vld;
static void *vstate;
static core_types *registry;
static const char *w2j, *w2w, *work;
static char *xfail;
static int verbose;
static bool text_mode;

static bool expected_failure(const char *name) {
  if (!xfail) return false;
  size_t n = strlen(name);
  for (const char *p = xfail; (p = strstr(p, name)) != NULL; p += n)
    if ((p == xfail || p[-1] == '\n') && (p[n] == '\n' || p[n] == ' ' || p[n] == 0)) return true;
  return false;
}

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  uint8_t *buf = NULL;
  size_t cap = 0, n = 0;
  for (;;) {
    if (n == cap) {
      cap = cap ? cap * 2 : 65536;
      uint8_t *nb = realloc(buf, cap);
      if (!nb) { free(buf); fclose(f); return NULL; }
      buf = nb;
    }
    size_t r = fread(buf + n, 1, cap - n, f);
    if (r == 0) break;
    n += r;
  }
  fclose(f);
  *len = n;
  return buf;
}

/* Copies the JSON string value of "key" on `line` into out. */
static bool json_str(const char *line, const char *key, char *out, size_t cap) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\": \"", key);
  const char *p = strstr(line, pat);
  if (!p) return false;
  p += strlen(pat);
  size_t n = 0;
  while (*p && *p != '"' && n + 1 < cap) {
    if (*p == '\\' && p[1]) p++;
    out[n++] = *p++;
  }
  out[n] = 0;
  return true;
}

/* Decodes and validates one binary. Returns -1 when it does not decode, else the status. */
static int check_bytes(const uint8_t *bytes, size_t len, weft_diag *d) {
  weft_module *m = NULL;
  memset(d, 0, sizeof *d);
  int rc = core_decode(registry, bytes, len, &m, d);
  if (rc != WEFT_OK) return -1;
  rc = vld->validate(vstate, m, d);
  core_module_free(m);
  return rc;
}

static int check_module(const char *path, weft_diag *d) {
  size_t len = 0;
  uint8_t *bytes = read_file(path, &len);
  memset(d, 0, sizeof *d);
  if (!bytes) { snprintf(d->message, sizeof d->message, "cannot read %.200s", path); return -1; }
  int rc = check_bytes(bytes, len, d);
  free(bytes);
  return rc;
}

/* Books one outcome: `valid` says what the suite expects, `text` the expected message prefix. */
static void book(stats *t, bool xf, const char *name, int lineno, bool valid, const char *text,
                 int rc, const weft_diag *d) {
  if (valid) {
    if (rc == -1) t->valid_undecodable++;
    else if (rc == WEFT_OK) t->valid_ok++;
    else {
      t->valid_rejected++;
      if (verbose || !xf) printf("  %s:%d: valid module rejected: %s\n", name, lineno, d->message);
    }
    return;
  }
  if (rc == -1) {
    t->invalid_undecodable++;
    if (verbose) printf("  %s:%d: not decodable: %s\n", name, lineno, d->message);
  } else if (rc == WEFT_OK) {
    t->invalid_accepted++;
    if (verbose || !xf) printf("  %s:%d: invalid module accepted (expected \"%s\")\n", name, lineno, text);
  } else if (strncmp(d->message, text, strlen(text)) != 0) {
    t->invalid_wrong_msg++;
    if (verbose || !xf)
      printf("  %s:%d: message \"%s\", expected \"%s\"\n", name, lineno, d->message, text);
  } else {
    t->invalid_ok++;
  }
}

static void run_file(const char *dir, const char *name, stats *s, stats *xs) {
  char cmd[8192], json[2048], line[65536];
  snprintf(json, sizeof json, "%.1000s/%.1000s.json", work, name);
  snprintf(cmd, sizeof cmd, "cd '%.1000s' && '%.1000s' --enable-all '%.1000s/%.1000s' -o '%.2000s' >/dev/null 2>&1",
           work, w2j, dir, name, json);
  if (system(cmd) != 0) {
    s->files_skipped++;
    return;
  }
  bool xfile = expected_failure(name);
  (xfile ? xs : s)->files++;
  FILE *f = fopen(json, "r");
  if (!f) return;
  while (fgets(line, sizeof line, f)) {
    char type[64], file[512], text[512], mtype[32], path[2048];
    text[0] = 0;
    if (!json_str(line, "type", type, sizeof type) || !json_str(line, "filename", file, sizeof file))
      continue;
    bool invalid = strcmp(type, "assert_invalid") == 0;
    bool valid = strcmp(type, "module") == 0 || strcmp(type, "assert_uninstantiable") == 0 ||
                 strcmp(type, "assert_unlinkable") == 0 || strcmp(type, "assert_trap") == 0;
    if (!invalid && !valid) continue;
    char *ln = strstr(line, "\"line\": ");
    int lineno = ln ? atoi(ln + 8) : 0;
    char key[600];
    snprintf(key, sizeof key, "%.500s:%d", name, lineno);
    bool xf = xfile || expected_failure(key);
    stats *t = xf ? xs : s;
    snprintf(path, sizeof path, "%.1000s/%.500s", work, file);
    if (json_str(line, "module_type", mtype, sizeof mtype) && strcmp(mtype, "text") == 0) {
      char out[2100];
      snprintf(out, sizeof out, "%.2000s.wasm", path);
      snprintf(cmd, sizeof cmd, "'%.1000s' --enable-all --no-check '%.1000s' -o '%.1000s' >/dev/null 2>&1",
               w2w, path, out);
      if (system(cmd) != 0) {
        if (invalid) t->invalid_undecodable++;
        else t->valid_undecodable++;
        continue;
      }
      snprintf(path, sizeof path, "%.2040s", out);
    }
    weft_diag d;
    int rc = check_module(path, &d);
    if (invalid) json_str(line, "text", text, sizeof text);
    book(t, xf, name, lineno, valid, text, rc, &d);
  }
  fclose(f);
}


#ifdef WEFT_VLD_HAVE_TEXT
/* -- weft's own script parser ---------------------------------------------------------------- */

/* -- Fallback for scripts weft_wast_parse rejects: module by module ---------------------------- */

/* Past whitespace and comments (line ";;", nested block "(; ;)"). */
static size_t skip_blank(const char *s, size_t n, size_t i) {
  for (;;) {
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
    if (i + 1 < n && s[i] == ';' && s[i + 1] == ';') {
      while (i < n && s[i] != '\n') i++;
    } else if (i + 1 < n && s[i] == '(' && s[i + 1] == ';') {
      int depth = 0;
      while (i < n) {
        if (i + 1 < n && s[i] == '(' && s[i + 1] == ';') { depth++; i += 2; }
        else if (i + 1 < n && s[i] == ';' && s[i + 1] == ')') { i += 2; if (--depth == 0) break; }
        else i++;
      }
    } else {
      return i;
    }
  }
}

/* One past the ')' closing the s-expression that opens at s[i], or n. */
static size_t sexpr_end(const char *s, size_t n, size_t i) {
  int depth = 0;
  while (i < n) {
    size_t j = skip_blank(s, n, i);
    if (j != i) { i = j; continue; }
    char ch = s[i];
    if (ch == '"') {
      for (i++; i < n && s[i] != '"'; i++)
        if (s[i] == '\\') i++;
      i++;
      continue;
    }
    if (ch == '(') depth++;
    else if (ch == ')' && --depth == 0) return i + 1;
    i++;
  }
  return n;
}

static bool starts(const char *s, size_t n, size_t i, const char *word) {
  size_t l = strlen(word);
  return i + l <= n && memcmp(s + i, word, l) == 0;
}

/* Converts the module text s[a, b) and validates it; -1 when it does not convert or decode. */
static int check_text_module(const char *s, size_t a, size_t b, weft_diag *d) {
  uint8_t *bytes = NULL;
  size_t blen = 0;
  memset(d, 0, sizeof *d);
  if (weft_wat_to_wasm(s + a, b - a, "module", &bytes, &blen, d) != WEFT_OK) return -1;
  int rc = check_bytes(bytes, blen, d);
  weft_wat_free(bytes);
  return rc;
}

static void run_text_split(const char *name, const char *s, size_t n, stats *st, stats *xs) {
  bool xfile = expected_failure(name);
  (xfile ? xs : st)->files++;
  int line = 1;
  size_t counted = 0;
  for (size_t i = skip_blank(s, n, 0); i < n; i = skip_blank(s, n, i)) {
    if (s[i] != '(') { i++; continue; }
    size_t e = sexpr_end(s, n, i);
    for (; counted < i; counted++)
      if (s[counted] == '\n') line++;
    size_t m = i, me = e; /* the module inside the command */
    bool valid = true;
    const char *msg = "";
    char text[512];
    if (starts(s, n, i, "(assert_invalid") || starts(s, n, i, "(assert_unlinkable") ||
        starts(s, n, i, "(assert_uninstantiable") || starts(s, n, i, "(assert_trap")) {
      valid = !starts(s, n, i, "(assert_invalid");
      m = skip_blank(s, n, i + 1 + strcspn(s + i + 1, " \t\n\r("));
      me = sexpr_end(s, n, m);
      if (!valid) {
        size_t q = skip_blank(s, n, me), k = 0;
        if (q < n && s[q] == '"')
          for (q++; q < n && s[q] != '"' && k + 1 < sizeof text; q++) text[k++] = s[q];
        text[k] = 0;
        msg = text;
      }
    }
    if (starts(s, n, m, "(module") && !starts(s, n, m, "(module quote") &&
        !starts(s, n, m, "(module binary") && !starts(s, n, m, "(module definition") &&
        !starts(s, n, m, "(module instance")) {
      char key[600];
      snprintf(key, sizeof key, "%.500s:%d", name, line);
      bool xf = xfile || expected_failure(key);
      weft_diag d;
      int rc = check_text_module(s, m, me, &d);
      book(xf ? xs : st, xf, name, line, valid, msg, rc, &d);
    }
    i = e;
  }
}

static void run_text_file(const char *dir, const char *name, stats *s, stats *xs) {
  char path[2100];
  snprintf(path, sizeof path, "%.1000s/%.1000s", dir, name);
  size_t len = 0;
  char *src = (char *)read_file(path, &len);
  weft_wast *w = NULL;
  weft_diag d;
  memset(&d, 0, sizeof d);
  if (!src) {
    s->files_skipped++;
    return;
  }
  if (getenv("WEFT_SPEC_SPLIT") || weft_wast_parse(src, len, name, &w, &d) != WEFT_OK) {
    /* The script as a whole does not parse: take its modules one by one. */
    if (verbose) printf("  %s: not parsed (%s %s); checking module by module\n", name, d.origin, d.message);
    s->files_split++;
    run_text_split(name, src, len, s, xs);
    free(src);
    return;
  }
  bool xfile = expected_failure(name);
  (xfile ? xs : s)->files++;
  for (uint32_t i = 0; i < w->ncmds; i++) {
    const weft_wast_cmd *c = &w->cmds[i];
    bool invalid = c->kind == WEFT_WAST_CMD_ASSERT_INVALID;
    bool valid = c->kind == WEFT_WAST_CMD_MODULE || c->kind == WEFT_WAST_CMD_ASSERT_UNLINKABLE ||
                 c->kind == WEFT_WAST_CMD_ASSERT_UNINSTANTIABLE ||
                 (c->kind == WEFT_WAST_CMD_ASSERT_TRAP && c->module);
    if ((!invalid && !valid) || !c->module) continue;
    char key[600];
    snprintf(key, sizeof key, "%.500s:%u", name, c->line);
    bool xf = xfile || expected_failure(key);
    stats *t = xf ? xs : s;
    const uint8_t *bytes = NULL;
    size_t blen = 0;
    bool owned = false;
    int rc;
    if (weft_wast_module_bytes(c->module, &bytes, &blen, &owned, &d) != WEFT_OK) {
      rc = -1;
    } else {
      rc = check_bytes(bytes, blen, &d);
      if (owned) weft_wat_free((void *)bytes);
    }
    book(t, xf, name, (int)c->line, valid, c->message ? c->message : "", rc, &d);
  }
  weft_wast_free(w);
  free(src);
}
#endif

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_dir(const char *suite, const char *sub, stats *s, stats *xs) {
  char dir[2048];
  snprintf(dir, sizeof dir, "%s%s%s", suite, sub[0] ? "/" : "", sub);
  DIR *dp = opendir(dir);
  if (!dp) return;
  char *names[1024];
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(dp)) != NULL && n < 1024) {
    size_t l = strlen(e->d_name);
    if (l > 5 && strcmp(e->d_name + l - 5, ".wast") == 0) names[n++] = strdup(e->d_name);
  }
  closedir(dp);
  qsort(names, n, sizeof names[0], cmp_str);
  for (size_t i = 0; i < n; i++) {
#ifdef WEFT_VLD_HAVE_TEXT
    if (text_mode) run_text_file(dir, names[i], s, xs);
    else
#endif
      run_file(dir, names[i], s, xs);
    free(names[i]);
  }
}

static void print_stats(const char *what, const stats *s) {
  unsigned inv = s->invalid_ok + s->invalid_wrong_msg + s->invalid_accepted;
  unsigned val = s->valid_ok + s->valid_rejected;
  printf("%s: %u files (%u skipped: %s cannot parse them; %u checked module by module)\n", what,
         s->files, s->files_skipped, text_mode ? "weft_wast_parse" : "wast2json", s->files_split);
  printf("  valid modules:   %u accepted, %u rejected, %u not decodable\n", s->valid_ok,
         s->valid_rejected, s->valid_undecodable);
  printf("  invalid modules: %u rejected with the expected message, %u with another message, %u "
         "accepted, %u not decodable\n",
         s->invalid_ok, s->invalid_wrong_msg, s->invalid_accepted, s->invalid_undecodable);
  printf("  valid accepted: %.1f%%; invalid rejected with matching message: %.1f%%\n",
         val ? 100.0 * s->valid_ok / val : 100.0, inv ? 100.0 * s->invalid_ok / inv : 100.0);
}

int main(int argc, char **argv) {
  const char *suite, *xfile = NULL;
  if (argc >= 3 && strcmp(argv[1], "--text") == 0) {
#ifndef WEFT_VLD_HAVE_TEXT
    fprintf(stderr, "built without the text front end\n");
    return 2;
#else
    text_mode = true;
    suite = argv[2];
    if (argc > 3) xfile = argv[3];
#endif
  } else if (argc >= 5) {
    w2j = argv[1];
    w2w = argv[2];
    suite = argv[3];
    work = argv[4];
    if (argc > 5) xfile = argv[5];
  } else {
    fprintf(stderr, "usage: %s WAST2JSON WAT2WASM SUITE_DIR WORK_DIR [EXPECTED_FAILURES]\n"
                    "       %s --text SUITE_DIR [EXPECTED_FAILURES]\n", argv[0], argv[0]);
    return 2;
  }
  verbose = getenv("WEFT_SPEC_VERBOSE") != NULL;
  char *suite_abs = realpath(suite, NULL); /* run_file changes directory inside its commands */
  if (!suite_abs) {
    fprintf(stderr, "cannot open suite folder %s\n", suite);
    return 2;
  }
  suite = suite_abs;
  if (xfile) {
    size_t n;
    xfail = (char *)read_file(xfile, &n);
    if (xfail) {
      char *z = realloc(xfail, n + 1);
      if (z) { xfail = z; xfail[n] = 0; } else { free(xfail); xfail = NULL; }
    }
  }
  if (!text_mode) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "mkdir -p '%.4000s'", work);
    if (system(cmd) != 0) return 2;
  }
  const weft_plugin_desc *desc = weft_plugin_entry_validator(WEFT_ABI_VERSION);
  weft_diag d;
  if (!desc || desc->init(&host, NULL, &vstate, &d) != WEFT_OK) {
    fprintf(stderr, "validator init failed\n");
    return 2;
  }
  vld = desc->iface;
  registry = core_types_new();
  if (!registry) return 2;
  stats s, xs;
  memset(&s, 0, sizeof s);
  memset(&xs, 0, sizeof xs);
  run_dir(suite, "", &s, &xs);
  run_dir(suite, "multi-memory", &s, &xs);
  run_dir(suite, "simd", &s, &xs);
  run_dir(suite, "relaxed-simd", &s, &xs);
  if (text_mode) {
    run_dir(suite, "gc", &s, &xs);
    run_dir(suite, "stack-switching", &s, &xs);
  }
  print_stats("counted", &s);
  if (xs.files || xs.valid_ok + xs.valid_rejected + xs.invalid_ok + xs.invalid_wrong_msg + xs.invalid_accepted)
    print_stats("expected failures (expected-failures.txt)", &xs);
  desc->fini(vstate);
  core_types_free(registry);
  free(xfail);
  free(suite_abs);
  bool ok = s.valid_rejected == 0 && s.invalid_accepted == 0 && s.invalid_wrong_msg == 0 &&
            s.files > 0;
  printf("%s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
