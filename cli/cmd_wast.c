/* cli/cmd_wast.c -- `weft wast [options] FILE.wast|DIR...`: the spec-script runner.
 *
 * Scripts are read with the text front end (weft/text.h) and run through the embedding API
 * (weft/runtime.h) on the configured engine. Each file runs in a forked child, so a crash or a hang
 * (watchdog) in one file is reported as a failure of that file, not of the run. Messages match by
 * prefix, as the reference interpreter does; mismatching texts are counted apart. The spectest host
 * module is the reference interpreter's. Depends on: cli/cli.h, weft/text.h, weft/runtime.h.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "weft/runtime.h"
#include "weft/text.h"
#include "weft/weft.h"

/* -- Counters ---------------------------------------------------------------------------------- */

enum { K_MODULE, K_REGISTER, K_ACTION, K_RETURN, K_TRAP, K_EXHAUSTION, K_MALFORMED, K_INVALID,
       K_UNLINKABLE, K_UNINSTANTIABLE, K_EXCEPTION, K_SUSPENSION, K_COUNT };
static const char *const kind_names[K_COUNT] = {"module", "register", "action", "return", "trap",
                                                "exhaustion", "malformed", "invalid", "unlinkable",
                                                "uninstantiable", "exception", "suspension"};

typedef struct counts {
  unsigned pass[K_COUNT], fail[K_COUNT], skip[K_COUNT];
  unsigned text_mismatch;
} counts;

/* -- Expected failures ------------------------------------------------------------------------- */

typedef struct xfail {
  char *path;     /* as written: a path suffix */
  unsigned line;  /* 0: the whole file */
  bool used;
} xfail;

static xfail *xfails;
static size_t nxfails;

static bool path_matches(const char *file, const char *pat) {
  size_t fl = strlen(file), pl = strlen(pat);
  if (pl > fl) return false;
  if (strcmp(file + fl - pl, pat) != 0) return false;
  return pl == fl || file[fl - pl - 1] == '/';
}

static bool is_expected(const char *file, unsigned line) {
  for (size_t i = 0; i < nxfails; i++) {
    if (!path_matches(file, xfails[i].path)) continue;
    if (xfails[i].line == 0 || xfails[i].line == line) {
      xfails[i].used = true;
      return true;
    }
  }
  return false;
}

/* Lines "path[:line] reason"; '#' starts a comment; a reason is required. */
static int load_xfails(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    cli_error("%s: cannot open the expected-failures file: %s", path, strerror(errno));
    return CLI_EXIT_ERROR;
  }
  char buf[1024];
  unsigned ln = 0;
  while (fgets(buf, sizeof buf, f)) {
    ln++;
    char *p = buf;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '#' || *p == '\n' || *p == 0) continue;
    char *end = p;
    while (*end && *end != ' ' && *end != '\t' && *end != '\n') end++;
    char *reason = end;
    while (*reason == ' ' || *reason == '\t') reason++;
    if (*reason == '\n' || *reason == 0) {
      cli_error("%s:%u: an expected failure needs a reason after the path", path, ln);
      fclose(f);
      return CLI_EXIT_ERROR;
    }
    *end = 0;
    unsigned line = 0;
    char *colon = strrchr(p, ':');
    if (colon && colon[1] >= '0' && colon[1] <= '9') {
      line = (unsigned)strtoul(colon + 1, NULL, 10);
      *colon = 0;
    }
    xfail *nx = realloc(xfails, (nxfails + 1) * sizeof *nx);
    if (!nx) {
      fclose(f);
      cli_error("out of memory");
      return CLI_EXIT_ERROR;
    }
    xfails = nx;
    xfails[nxfails].path = strdup(p);
    xfails[nxfails].line = line;
    xfails[nxfails].used = false;
    nxfails++;
  }
  fclose(f);
  return 0;
}

/* -- Running one script (in the child) ----------------------------------------------------------- */

typedef struct named {
  char *id;
  weft_instance_t *inst;
  weft_module_t *def;
} named;

typedef struct runner {
  weft_engine *engine;
  weft_store_t *store;
  weft_linker_t *linker;
  const char *file;
  FILE *out;           /* pipe to the parent */
  bool verbose, strict;
  counts c;
  weft_instance_t *current;
  unsigned current_line;   /* line of the module behind `current` */
  int current_state;       /* 0 ok, 1 failed, 2 skipped */
  char current_why[400];
  named *names;
  size_t nnames;
  weft_module_t **modules; /* kept alive until the store goes */
  size_t nmodules;
} runner;

static void report(runner *r, int kind, unsigned line, bool skipped, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void report(runner *r, int kind, unsigned line, bool skipped, const char *fmt, ...) {
  char msg[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  for (char *p = msg; *p; p++)
    if (*p == '\n') *p = ' ';
  if (skipped) r->c.skip[kind]++;
  else r->c.fail[kind]++;
  fprintf(r->out, "%c %u %s:%u: %s: %s\n", skipped ? 'S' : 'F', line, r->file, line,
          kind_names[kind], msg);
  fflush(r->out);
}

static void pass(runner *r, int kind) { r->c.pass[kind]++; }

static void keep_module(runner *r, weft_module_t *m) {
  weft_module_t **nm = realloc(r->modules, (r->nmodules + 1) * sizeof *nm);
  if (!nm) return;
  r->modules = nm;
  r->modules[r->nmodules++] = m;
}

static named *find_name(runner *r, const char *id) {
  for (size_t i = r->nnames; i-- > 0;)
    if (strcmp(r->names[i].id, id) == 0) return &r->names[i];
  return NULL;
}

static void set_name(runner *r, const char *id, weft_instance_t *inst, weft_module_t *def) {
  named *nn = realloc(r->names, (r->nnames + 1) * sizeof *nn);
  if (!nn) return;
  r->names = nn;
  r->names[r->nnames].id = strdup(id);
  r->names[r->nnames].inst = inst;
  r->names[r->nnames].def = def;
  r->nnames++;
}

/* -- spectest ---------------------------------------------------------------------------------- */

static weft_trap_t *print_cb(void *env, weft_caller_t *caller, const weft_val_t *args, size_t nargs,
                             weft_val_t *results, size_t nresults) {
  (void)env, (void)caller, (void)args, (void)nargs, (void)results, (void)nresults;
  return NULL;
}

static void define_spectest(runner *r) {
  static const struct { const char *name; weft_valtype p[2]; uint32_t np; } prints[] = {
      {"print", {0}, 0},
      {"print_i32", {WEFT_VT_I32}, 1},
      {"print_i64", {WEFT_VT_I64}, 1},
      {"print_f32", {WEFT_VT_F32}, 1},
      {"print_f64", {WEFT_VT_F64}, 1},
      {"print_i32_f32", {WEFT_VT_I32, WEFT_VT_F32}, 2},
      {"print_f64_f64", {WEFT_VT_F64, WEFT_VT_F64}, 2}};
  weft_extern_t ex;
  for (size_t i = 0; i < sizeof prints / sizeof prints[0]; i++) {
    memset(&ex, 0, sizeof ex);
    ex.kind = WEFT_EXTERN_FUNC;
    if (weft_func_new(r->store, prints[i].p, prints[i].np, NULL, 0, print_cb, NULL, NULL, &ex.of.func) == WEFT_OK)
      weft_linker_define(r->linker, "spectest", prints[i].name, &ex);
  }
  struct { const char *name; weft_valtype t; weft_val_t v; } globals[4];
  memset(globals, 0, sizeof globals);
  globals[0].name = "global_i32", globals[0].t = WEFT_VT_I32, globals[0].v.kind = WEFT_VAL_I32, globals[0].v.of.i32 = 666;
  globals[1].name = "global_i64", globals[1].t = WEFT_VT_I64, globals[1].v.kind = WEFT_VAL_I64, globals[1].v.of.i64 = 666;
  globals[2].name = "global_f32", globals[2].t = WEFT_VT_F32, globals[2].v.kind = WEFT_VAL_F32, globals[2].v.of.f32 = 666.6f;
  globals[3].name = "global_f64", globals[3].t = WEFT_VT_F64, globals[3].v.kind = WEFT_VAL_F64, globals[3].v.of.f64 = 666.6;
  for (int i = 0; i < 4; i++) {
    memset(&ex, 0, sizeof ex);
    ex.kind = WEFT_EXTERN_GLOBAL;
    if (weft_global_new(r->store, globals[i].t, false, &globals[i].v, &ex.of.global) == WEFT_OK)
      weft_linker_define(r->linker, "spectest", globals[i].name, &ex);
  }
  memset(&ex, 0, sizeof ex);
  ex.kind = WEFT_EXTERN_TABLE;
  if (weft_table_new(r->store, WEFT_VT_FUNCREF, 10, true, 20, NULL, &ex.of.table) == WEFT_OK)
    weft_linker_define(r->linker, "spectest", "table", &ex);
  weft_table_type tt;
  memset(&tt, 0, sizeof tt);
  tt.elem = WEFT_VT_FUNCREF;
  tt.limits.min = 10;
  tt.limits.max = 20;
  tt.limits.has_max = true;
  tt.limits.is64 = true;
  memset(&ex, 0, sizeof ex);
  ex.kind = WEFT_EXTERN_TABLE;
  if (weft_table_new_typed(r->store, &tt, NULL, &ex.of.table) == WEFT_OK)
    weft_linker_define(r->linker, "spectest", "table64", &ex);
  memset(&ex, 0, sizeof ex);
  ex.kind = WEFT_EXTERN_MEMORY;
  if (weft_memory_new(r->store, 1, true, 2, false, &ex.of.memory) == WEFT_OK)
    weft_linker_define(r->linker, "spectest", "memory", &ex);
  /* A tag for scripts that import one; its type, (param i32), is weft's choice (no script of the
   * vendored suite imports spectest.tag). */
  static const weft_valtype tag_params[] = {WEFT_VT_I32};
  memset(&ex, 0, sizeof ex);
  ex.kind = WEFT_EXTERN_TAG;
  if (weft_tag_new(r->store, tag_params, 1, &ex.of.tag) == WEFT_OK)
    weft_linker_define(r->linker, "spectest", "tag", &ex);
}

/* -- Values ------------------------------------------------------------------------------------ */

/* How script numbers are carried as host references. (ref.extern N) is the host pointer
 * extern_ptr(N) as an externref; (ref.host N) is the same host value internalized into the any
 * hierarchy (as the reference interpreter has it: any.convert_extern of (ref.extern N) is
 * (ref.host N)), an anyref made and read with weft_val_any_from_extern / _to_extern. The box lives
 * in the store's GC heap; the runner holds it only in the argument array on its C stack for one
 * call, where the collector's conservative scan sees it, and reads results before anything else
 * runs in the store. */
static void *extern_ptr(uint32_t n) { return (void *)(uintptr_t)(0x10000000ull + n); }

static bool to_val(weft_store_t *store, const weft_wast_value *v, weft_valtype t, weft_val_t *out) {
  memset(out, 0, sizeof *out);
  switch (v->kind) {
  case WEFT_WAST_I32: out->kind = WEFT_VAL_I32; memcpy(&out->of.i32, &v->u.i32, 4); return true;
  case WEFT_WAST_I64: out->kind = WEFT_VAL_I64; memcpy(&out->of.i64, &v->u.i64, 8); return true;
  case WEFT_WAST_F32: out->kind = WEFT_VAL_F32; memcpy(&out->of.f32, &v->u.f32, 4); return true;
  case WEFT_WAST_F64: out->kind = WEFT_VAL_F64; memcpy(&out->of.f64, &v->u.f64, 8); return true;
  case WEFT_WAST_V128: out->kind = WEFT_VAL_V128; memcpy(out->of.v128, v->u.v128, 16); return true;
  case WEFT_WAST_REF_NULL: out->kind = (uint32_t)weft_valtype_kind(t); return true;
  case WEFT_WAST_REF_EXTERN: out->kind = WEFT_VAL_EXTERNREF; out->of.ref = extern_ptr(v->index); return true;
  case WEFT_WAST_REF_HOST:
    return weft_val_any_from_extern(store, extern_ptr(v->index), out) == WEFT_OK;
  default: return false;
  }
}

static bool val_is_null(const weft_val_t *v) {
  switch (v->kind) {
  case WEFT_VAL_FUNCREF: return v->of.funcref.ref == NULL;
  case WEFT_VAL_CONTREF: return v->of.cont.contref == NULL;
  case WEFT_VAL_EXTERNREF: case WEFT_VAL_ANYREF: case WEFT_VAL_EXNREF: return v->of.ref == NULL;
  default: return false;
  }
}

static bool nan_ok(uint64_t bits, bool is64, uint8_t pat) {
  uint64_t expm = is64 ? 0x7FF0000000000000ull : 0x7F800000ull;
  uint64_t mant = is64 ? 0x000FFFFFFFFFFFFFull : 0x007FFFFFull;
  uint64_t quiet = is64 ? 0x0008000000000000ull : 0x00400000ull;
  if ((bits & expm) != expm || (bits & mant) == 0) return false;
  if (pat == WEFT_WAST_NAN_CANONICAL) return (bits & mant) == quiet;
  return (bits & quiet) != 0;
}

/* Whether anyref g is (ref.host n): an internalized host value holding extern_ptr(n). */
static bool is_host(weft_store_t *store, const weft_val_t *g, uint32_t n) {
  void *ext;
  bool host;
  if (g->kind != WEFT_VAL_ANYREF || weft_val_any_to_extern(store, g, &ext, &host) != WEFT_OK)
    return false;
  return host && ext == extern_ptr(n);
}

static bool match(weft_store_t *store, const weft_wast_value *e, const weft_val_t *g) {
  switch (e->kind) {
  case WEFT_WAST_I32: { uint32_t b; memcpy(&b, &g->of.i32, 4); return g->kind == WEFT_VAL_I32 && b == e->u.i32; }
  case WEFT_WAST_I64: { uint64_t b; memcpy(&b, &g->of.i64, 8); return g->kind == WEFT_VAL_I64 && b == e->u.i64; }
  case WEFT_WAST_F32: {
    uint32_t b;
    memcpy(&b, &g->of.f32, 4);
    if (g->kind != WEFT_VAL_F32) return false;
    return e->nan[0] ? nan_ok(b, false, e->nan[0]) : b == e->u.f32;
  }
  case WEFT_WAST_F64: {
    uint64_t b;
    memcpy(&b, &g->of.f64, 8);
    if (g->kind != WEFT_VAL_F64) return false;
    return e->nan[0] ? nan_ok(b, true, e->nan[0]) : b == e->u.f64;
  }
  case WEFT_WAST_V128: {
    if (g->kind != WEFT_VAL_V128) return false;
    if (e->shape == WEFT_WAST_F32X4 || e->shape == WEFT_WAST_F64X2) {
      int w = e->shape == WEFT_WAST_F32X4 ? 4 : 8, n = 16 / w;
      for (int i = 0; i < n; i++) {
        uint64_t gb = 0, eb = 0;
        memcpy(&gb, g->of.v128 + i * w, (size_t)w);
        memcpy(&eb, e->u.v128 + i * w, (size_t)w);
        if (e->nan[i] ? !nan_ok(gb, w == 8, e->nan[i]) : gb != eb) return false;
      }
      return true;
    }
    return memcmp(g->of.v128, e->u.v128, 16) == 0;
  }
  case WEFT_WAST_REF_NULL: return g->kind >= WEFT_VAL_FUNCREF && val_is_null(g);
  case WEFT_WAST_REF_EXTERN:
    if (g->kind != WEFT_VAL_EXTERNREF && g->kind != WEFT_VAL_ANYREF) return false;
    return e->has_index ? g->of.ref == extern_ptr(e->index) : g->of.ref != NULL;
  case WEFT_WAST_REF_HOST: return is_host(store, g, e->index);
  case WEFT_WAST_REF_FUNC: return g->kind == WEFT_VAL_FUNCREF && !val_is_null(g);
  case WEFT_WAST_REF_EXN: return g->kind == WEFT_VAL_EXNREF && !val_is_null(g);
  case WEFT_WAST_REF_CONT: return g->kind == WEFT_VAL_CONTREF && !val_is_null(g);
  case WEFT_WAST_REF_ANY: case WEFT_WAST_REF_EQ: case WEFT_WAST_REF_STRUCT: case WEFT_WAST_REF_ARRAY:
  case WEFT_WAST_REF_I31:
    /* The embedding API does not expose the object's kind: a non-null GC reference matches. */
    return g->kind == WEFT_VAL_ANYREF && !val_is_null(g);
  case WEFT_WAST_EITHER:
    for (uint32_t i = 0; i < e->neither; i++)
      if (match(store, &e->either[i], g)) return true;
    return false;
  default: return false;
  }
}

static void fmt_val(const weft_val_t *v, char *buf, size_t n) {
  switch (v->kind) {
  case WEFT_VAL_I32: snprintf(buf, n, "i32:%u", (unsigned)v->of.i32); break;
  case WEFT_VAL_I64: snprintf(buf, n, "i64:%llu", (unsigned long long)v->of.i64); break;
  case WEFT_VAL_F32: { uint32_t b; memcpy(&b, &v->of.f32, 4); snprintf(buf, n, "f32:%g(0x%08x)", (double)v->of.f32, b); break; }
  case WEFT_VAL_F64: { uint64_t b; memcpy(&b, &v->of.f64, 8); snprintf(buf, n, "f64:%g(0x%016llx)", v->of.f64, (unsigned long long)b); break; }
  case WEFT_VAL_V128: {
    size_t o = (size_t)snprintf(buf, n, "v128:");
    for (int i = 0; i < 16 && o + 3 < n; i++) o += (size_t)snprintf(buf + o, n - o, "%02x", v->of.v128[i]);
    break;
  }
  default: snprintf(buf, n, "%s", val_is_null(v) ? "ref.null" : "ref"); break;
  }
}

static void fmt_expected(const weft_wast_value *e, char *buf, size_t n) {
  switch (e->kind) {
  case WEFT_WAST_I32: snprintf(buf, n, "i32:%u", e->u.i32); break;
  case WEFT_WAST_I64: snprintf(buf, n, "i64:%llu", (unsigned long long)e->u.i64); break;
  case WEFT_WAST_F32:
    if (e->nan[0]) snprintf(buf, n, "f32:nan:%s", e->nan[0] == 1 ? "canonical" : "arithmetic");
    else snprintf(buf, n, "f32:0x%08x", e->u.f32);
    break;
  case WEFT_WAST_F64:
    if (e->nan[0]) snprintf(buf, n, "f64:nan:%s", e->nan[0] == 1 ? "canonical" : "arithmetic");
    else snprintf(buf, n, "f64:0x%016llx", (unsigned long long)e->u.f64);
    break;
  case WEFT_WAST_V128: {
    size_t o = (size_t)snprintf(buf, n, "v128:");
    for (int i = 0; i < 16 && o + 3 < n; i++) o += (size_t)snprintf(buf + o, n - o, "%02x", e->u.v128[i]);
    break;
  }
  case WEFT_WAST_REF_NULL: snprintf(buf, n, "ref.null"); break;
  case WEFT_WAST_EITHER: snprintf(buf, n, "either(%u)", e->neither); break;
  default: snprintf(buf, n, "ref pattern %d", e->kind); break;
  }
}

/* -- Actions ----------------------------------------------------------------------------------- */

/* Returns 0 ok (results in out), 1 trapped (*trap), 2 failed to run (why), 3 skipped (why). */
static int do_action(runner *r, const weft_wast_action *a, weft_val_t *out, size_t *nout, size_t maxout,
                     weft_trap_t **trap, char *why, size_t whyn) {
  *trap = NULL;
  *nout = 0;
  weft_instance_t *inst = r->current;
  if (a->module_id) {
    named *nm = find_name(r, a->module_id);
    if (!nm || !nm->inst) {
      snprintf(why, whyn, "no instance named $%s", a->module_id);
      return 2;
    }
    inst = nm->inst;
  } else if (!inst) {
    snprintf(why, whyn, r->current_state ? "the module at line %u was not instantiated: %s" : "no module instance",
             r->current_line, r->current_why);
    return r->current_state == 2 ? 3 : 2;
  }
  weft_extern_t ex;
  if (weft_instance_export_n(inst, a->field, a->field_len, &ex) != WEFT_OK) {
    snprintf(why, whyn, "no export \"%s\"", a->field);
    return 2;
  }
  if (a->kind == WEFT_WAST_GET) {
    if (ex.kind != WEFT_EXTERN_GLOBAL || weft_global_get(r->store, ex.of.global, &out[0]) != WEFT_OK) {
      snprintf(why, whyn, "\"%s\" is not a readable global", a->field);
      return 2;
    }
    *nout = 1;
    return 0;
  }
  if (ex.kind != WEFT_EXTERN_FUNC) {
    snprintf(why, whyn, "\"%s\" is not a function", a->field);
    return 2;
  }
  uint32_t np, nr;
  const weft_valtype *pt, *rt;
  if (weft_func_get_type(r->store, ex.of.func, &np, &pt, &nr, &rt) != WEFT_OK) {
    snprintf(why, whyn, "cannot get the type of \"%s\"", a->field);
    return 2;
  }
  if (np != a->nargs || nr > maxout) {
    snprintf(why, whyn, "\"%s\" takes %u arguments, the script gives %u", a->field, np, a->nargs);
    return 2;
  }
  weft_val_t args[64];
  if (np > 64) {
    snprintf(why, whyn, "too many arguments");
    return 3;
  }
  for (uint32_t i = 0; i < np; i++) {
    if (!to_val(r->store, &a->args[i], pt[i], &args[i])) {
      snprintf(why, whyn, "argument %u cannot be passed", i);
      return 3;
    }
  }
  int rc = weft_func_call(r->store, ex.of.func, args, np, out, nr, trap);
  if (rc != WEFT_OK) {
    snprintf(why, whyn, "call refused: %s", weft_status_str(rc));
    return 2;
  }
  if (*trap) return 1;
  *nout = nr;
  return 0;
}

/* -- Modules ----------------------------------------------------------------------------------- */

static bool prefix(const char *got, const char *want) { return strncmp(got, want, strlen(want)) == 0; }

/* Compile a script module. 0 ok, else a status with err filled (text errors are WEFT_ERR_TEXT). */
static int compile(runner *r, const weft_wast_module *m, weft_module_t **out, weft_error *err) {
  const uint8_t *b;
  size_t n;
  bool owned;
  memset(err, 0, sizeof *err);
  int rc = weft_wast_module_bytes(m, &b, &n, &owned, err);
  if (rc != WEFT_OK) return rc;
  rc = weft_module_new(r->engine, b, n, out, err);
  if (owned) weft_wat_free((void *)b);
  return rc;
}

static void module_cmd(runner *r, const weft_wast_cmd *cmd) {
  weft_module_t *m = NULL;
  weft_error err;
  r->current = NULL;
  r->current_line = cmd->line;
  int rc = compile(r, cmd->module, &m, &err);
  if (rc != WEFT_OK) {
    bool skip = rc == WEFT_ERR_UNSUPPORTED;
    snprintf(r->current_why, sizeof r->current_why, "%.300s", err.message);
    r->current_state = skip ? 2 : 1;
    report(r, K_MODULE, cmd->line, skip, "module did not compile: %s%s%s", err.origin, err.origin[0] ? ": " : "",
           err.message);
    return;
  }
  keep_module(r, m);
  if (cmd->module->definition) {
    if (cmd->module->id) set_name(r, cmd->module->id, NULL, m);
    r->current_state = 0;
    pass(r, K_MODULE);
    return;
  }
  weft_instance_t *inst = NULL;
  weft_trap_t *trap = NULL;
  rc = weft_linker_instantiate(r->linker, m, &inst, &trap, &err);
  if (rc != WEFT_OK || trap) {
    snprintf(r->current_why, sizeof r->current_why, "%.300s", trap ? weft_trap_message(trap) : err.message);
    r->current_state = 1;
    report(r, K_MODULE, cmd->line, false, "instantiation failed: %s", r->current_why);
    if (trap) weft_trap_free(trap);
    return;
  }
  r->current = inst;
  r->current_state = 0;
  if (cmd->module->id) set_name(r, cmd->module->id, inst, NULL);
  pass(r, K_MODULE);
}

static void instance_cmd(runner *r, const weft_wast_cmd *cmd) {
  named *d = cmd->def_id ? find_name(r, cmd->def_id) : NULL;
  if (!d || !d->def) {
    report(r, K_MODULE, cmd->line, false, "no module definition $%s", cmd->def_id ? cmd->def_id : "?");
    return;
  }
  weft_instance_t *inst = NULL;
  weft_trap_t *trap = NULL;
  weft_error err;
  memset(&err, 0, sizeof err);
  int rc = weft_linker_instantiate(r->linker, d->def, &inst, &trap, &err);
  if (rc != WEFT_OK || trap) {
    report(r, K_MODULE, cmd->line, false, "instantiation failed: %s", trap ? weft_trap_message(trap) : err.message);
    if (trap) weft_trap_free(trap);
    return;
  }
  r->current = inst;
  r->current_state = 0;
  r->current_line = cmd->line;
  if (cmd->instance_id) set_name(r, cmd->instance_id, inst, NULL);
  pass(r, K_MODULE);
}

/* assert_malformed / assert_invalid / assert_unlinkable / assert_uninstantiable / assert_trap on a
 * module. */
static void module_assert(runner *r, const weft_wast_cmd *cmd, int kind) {
  weft_module_t *m = NULL;
  weft_error err;
  int rc = compile(r, cmd->module, &m, &err);
  const char *want = cmd->message ? cmd->message : "";
  if (kind == K_MALFORMED || kind == K_INVALID) {
    if (rc == WEFT_OK) {
      keep_module(r, m);
      report(r, kind, cmd->line, false, "expected \"%s\", but the module compiled", want);
      return;
    }
    if (rc == WEFT_ERR_UNSUPPORTED) {
      report(r, kind, cmd->line, true, "expected \"%s\", got unsupported: %s", want, err.message);
      return;
    }
    bool right_kind = kind == K_MALFORMED ? (rc == WEFT_ERR_MALFORMED || rc == WEFT_ERR_TEXT)
                                          : rc == WEFT_ERR_INVALID;
    if (!prefix(err.message, want) || !right_kind) {
      r->c.text_mismatch++;
      if (r->verbose || r->strict)
        fprintf(r->out, "T %u %s:%u: %s: expected \"%s\", got %s \"%s\"\n", cmd->line, r->file, cmd->line,
                kind_names[kind], want, weft_status_str(rc), err.message);
      if (r->strict) {
        r->c.fail[kind]++;
        return;
      }
    }
    pass(r, kind);
    return;
  }
  if (rc != WEFT_OK) {
    report(r, kind, cmd->line, rc == WEFT_ERR_UNSUPPORTED, "expected \"%s\", but the module did not compile: %s",
           want, err.message);
    return;
  }
  keep_module(r, m);
  weft_instance_t *inst = NULL;
  weft_trap_t *trap = NULL;
  memset(&err, 0, sizeof err);
  rc = weft_linker_instantiate(r->linker, m, &inst, &trap, &err);
  if (kind == K_UNLINKABLE) {
    if (rc == WEFT_OK && !trap) report(r, kind, cmd->line, false, "expected \"%s\", but it linked", want);
    else if (trap) report(r, kind, cmd->line, false, "expected link error \"%s\", got trap \"%s\"", want, weft_trap_message(trap));
    else {
      if (!prefix(err.message, want)) r->c.text_mismatch++;
      pass(r, kind);
    }
  } else {
    if (rc != WEFT_OK) report(r, kind, cmd->line, false, "expected trap \"%s\", got link error \"%s\"", want, err.message);
    else if (!trap) report(r, kind, cmd->line, false, "expected trap \"%s\", but it instantiated", want);
    else {
      if (!prefix(weft_trap_message(trap), want)) r->c.text_mismatch++;
      pass(r, kind);
    }
  }
  if (trap) weft_trap_free(trap);
}

/* -- Commands ---------------------------------------------------------------------------------- */

static void action_assert(runner *r, const weft_wast_cmd *cmd, int kind) {
  weft_val_t res[64];
  size_t nres = 0;
  weft_trap_t *trap = NULL;
  char why[300] = "";
  int rc = do_action(r, &cmd->action, res, &nres, 64, &trap, why, sizeof why);
  const char *want = cmd->message ? cmd->message : "";
  if (rc >= 2) {
    report(r, kind, cmd->line, rc == 3, "%s", why);
    return;
  }
  switch (kind) {
  case K_ACTION:
    if (rc == 1) report(r, kind, cmd->line, false, "trapped: %s", weft_trap_message(trap));
    else pass(r, kind);
    break;
  case K_RETURN: {
    if (rc == 1) {
      report(r, kind, cmd->line, false, "expected results, got trap \"%s\"", weft_trap_message(trap));
      break;
    }
    if (nres != cmd->nresults) {
      report(r, kind, cmd->line, false, "expected %u results, got %zu", cmd->nresults, nres);
      break;
    }
    bool ok = true;
    for (uint32_t i = 0; i < cmd->nresults && ok; i++) {
      if (!match(r->store, &cmd->results[i], &res[i])) {
        char e[200], g[200];
        fmt_expected(&cmd->results[i], e, sizeof e);
        fmt_val(&res[i], g, sizeof g);
        report(r, kind, cmd->line, false, "result %u: expected %s, got %s", i, e, g);
        ok = false;
      }
    }
    if (ok) pass(r, kind);
    break;
  }
  case K_TRAP:
  case K_EXHAUSTION:
  case K_SUSPENSION:
    if (rc == 0) {
      report(r, kind, cmd->line, false, "expected trap \"%s\", but it returned", want);
    } else if (weft_trap_kind_of(trap) == WEFT_TRAPKIND_EXCEPTION) {
      report(r, kind, cmd->line, false, "expected trap \"%s\", got an uncaught exception", want);
    } else {
      if (!prefix(weft_trap_message(trap), want)) {
        r->c.text_mismatch++;
        if (r->verbose || r->strict)
          fprintf(r->out, "T %u %s:%u: %s: expected \"%s\", got \"%s\"\n", cmd->line, r->file, cmd->line,
                  kind_names[kind], want, weft_trap_message(trap));
        if (r->strict) {
          r->c.fail[kind]++;
          break;
        }
      }
      pass(r, kind);
    }
    break;
  case K_EXCEPTION:
    if (rc == 0) report(r, kind, cmd->line, false, "expected an uncaught exception, but it returned");
    else if (weft_trap_kind_of(trap) != WEFT_TRAPKIND_EXCEPTION)
      report(r, kind, cmd->line, false, "expected an uncaught exception, got trap \"%s\"", weft_trap_message(trap));
    else pass(r, kind);
    break;
  default: break;
  }
  if (trap) weft_trap_free(trap);
}

static void run_cmd(runner *r, const weft_wast_cmd *cmd) {
  switch (cmd->kind) {
  case WEFT_WAST_CMD_MODULE: module_cmd(r, cmd); break;
  case WEFT_WAST_CMD_INSTANCE: instance_cmd(r, cmd); break;
  case WEFT_WAST_CMD_REGISTER: {
    weft_instance_t *inst = r->current;
    if (cmd->instance_id) {
      named *nm = find_name(r, cmd->instance_id);
      inst = nm ? nm->inst : NULL;
    }
    if (!inst) report(r, K_REGISTER, cmd->line, r->current_state == 2, "nothing to register as \"%s\"", cmd->name);
    else if (weft_linker_define_instance(r->linker, cmd->name, inst) != WEFT_OK)
      report(r, K_REGISTER, cmd->line, false, "cannot register \"%s\"", cmd->name);
    else pass(r, K_REGISTER);
    break;
  }
  case WEFT_WAST_CMD_ACTION: action_assert(r, cmd, K_ACTION); break;
  case WEFT_WAST_CMD_ASSERT_RETURN: action_assert(r, cmd, K_RETURN); break;
  case WEFT_WAST_CMD_ASSERT_TRAP:
    if (cmd->module) module_assert(r, cmd, K_TRAP);
    else action_assert(r, cmd, K_TRAP);
    break;
  case WEFT_WAST_CMD_ASSERT_EXHAUSTION: action_assert(r, cmd, K_EXHAUSTION); break;
  case WEFT_WAST_CMD_ASSERT_MALFORMED: module_assert(r, cmd, K_MALFORMED); break;
  case WEFT_WAST_CMD_ASSERT_INVALID: module_assert(r, cmd, K_INVALID); break;
  case WEFT_WAST_CMD_ASSERT_UNLINKABLE: module_assert(r, cmd, K_UNLINKABLE); break;
  case WEFT_WAST_CMD_ASSERT_UNINSTANTIABLE: module_assert(r, cmd, K_UNINSTANTIABLE); break;
  case WEFT_WAST_CMD_ASSERT_EXCEPTION: action_assert(r, cmd, K_EXCEPTION); break;
  case WEFT_WAST_CMD_ASSERT_SUSPENSION: action_assert(r, cmd, K_SUSPENSION); break;
  default: break;
  }
}

/* A file that could not be run at all: one module failure. */
static void fail_counts(FILE *out) {
  fprintf(out, "C");
  for (int k = 0; k < K_COUNT; k++) fprintf(out, " 0 %d 0", k == K_MODULE ? 1 : 0);
  fprintf(out, " 0\n");
}

/* The child: run one script, write "F/S/T" lines and a final "C" line of counts to `out`. */
static int child_run(weft_engine *engine, const char *path, FILE *out, bool verbose, bool strict) {
  runner r;
  memset(&r, 0, sizeof r);
  r.engine = engine;
  r.file = path;
  r.out = out;
  r.verbose = verbose;
  r.strict = strict;
  unsigned char *src = NULL;
  size_t len = 0;
  if (cli_read_file(path, &src, &len) != 0) {
    fprintf(out, "F 0 %s: cannot read the file\n", path);
    fail_counts(out);
    return 1;
  }
  weft_wast *w = NULL;
  weft_diag d;
  memset(&d, 0, sizeof d);
  if (weft_wast_parse((const char *)src, len, path, &w, &d) != WEFT_OK) {
    fprintf(out, "F 0 %s: script: %s\n", d.origin, d.message);
    fail_counts(out);
    free(src);
    return 1;
  }
  r.store = weft_store_new(engine);
  r.linker = r.store ? weft_linker_new(r.store) : NULL;
  if (!r.linker) {
    fprintf(out, "F 0 %s: cannot create a store\n", path);
    fail_counts(out);
    weft_wast_free(w);
    free(src);
    return 1;
  }
  weft_linker_allow_shadowing(r.linker, true);
  define_spectest(&r);
  for (uint32_t i = 0; i < w->ncmds; i++) run_cmd(&r, &w->cmds[i]);
  fprintf(out, "C");
  for (int k = 0; k < K_COUNT; k++) fprintf(out, " %u %u %u", r.c.pass[k], r.c.fail[k], r.c.skip[k]);
  fprintf(out, " %u\n", r.c.text_mismatch);
  fflush(out);
  weft_linker_free(r.linker);
  weft_store_free(r.store);
  for (size_t i = 0; i < r.nmodules; i++) weft_module_free(r.modules[i]);
  free(r.modules);
  for (size_t i = 0; i < r.nnames; i++) free(r.names[i].id);
  free(r.names);
  weft_wast_free(w);
  free(src);
  return 0;
}

/* -- Driver (the parent) ----------------------------------------------------------------------- */

typedef struct totals {
  counts c;
  unsigned files;
  unsigned unexpected;
} totals;

static unsigned watchdog_seconds = 120;

/* Run one file in a child; fold its report into t. */
static void run_file(weft_engine *engine, const char *path, totals *t, bool verbose, bool strict) {
  int fds[2];
  if (pipe(fds) != 0) {
    cli_error("%s: cannot create a pipe", path);
    t->c.fail[K_MODULE]++;
    t->unexpected++;
    return;
  }
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    FILE *out = fdopen(fds[1], "w");
    alarm(watchdog_seconds);
    int rc = out ? child_run(engine, path, out, verbose, strict) : 1;
    if (out) fclose(out);
    _exit(rc);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    cli_error("%s: cannot fork", path);
    return;
  }
  FILE *in = fdopen(fds[0], "r");
  counts fc;
  memset(&fc, 0, sizeof fc);
  bool got_counts = false;
  unsigned fails = 0, unexpected = 0, lastline = 0;
  char line[1024];
  while (in && fgets(line, sizeof line, in)) {
    size_t ll = strlen(line);
    if (ll && line[ll - 1] == '\n') line[ll - 1] = 0;
    if (line[0] == 'C') {
      char *p = line + 1;
      for (int k = 0; k < K_COUNT; k++) {
        fc.pass[k] = (unsigned)strtoul(p, &p, 10);
        fc.fail[k] = (unsigned)strtoul(p, &p, 10);
        fc.skip[k] = (unsigned)strtoul(p, &p, 10);
      }
      fc.text_mismatch = (unsigned)strtoul(p, &p, 10);
      got_counts = true;
      continue;
    }
    char *sp = strchr(line + 2, ' ');
    unsigned ln = (unsigned)strtoul(line + 2, NULL, 10);
    const char *text = sp ? sp + 1 : line;
    if (line[0] == 'F') {
      fails++;
      lastline = ln;
      bool exp = is_expected(path, ln);
      if (!exp) unexpected++;
      if (!exp || verbose) printf("%s%s\n", text, exp ? " [expected]" : "");
    } else if (line[0] == 'S' && verbose) {
      printf("%s [skipped]\n", text);
    } else if (line[0] == 'T') {
      printf("%s [message]\n", text);
    }
  }
  if (in) fclose(in);
  int st = 0;
  waitpid(pid, &st, 0);
  if (!got_counts) {
    /* the child died: everything it did not report counts as one failure of the file */
    const char *why = WIFSIGNALED(st) ? (WTERMSIG(st) == SIGALRM ? "timed out" : strsignal(WTERMSIG(st))) : "exited early";
    fc.fail[K_MODULE]++;
    bool exp = is_expected(path, 0);
    if (!exp) unexpected++;
    printf("%s:%u: the run of this file stopped after line %u: %s%s\n", path, lastline, lastline, why,
           exp ? " [expected]" : "");
    for (int k = 0; k < K_COUNT; k++) fc.fail[k] += 0;
    fails++;
  }
  unsigned p = 0, f = 0, s = 0;
  for (int k = 0; k < K_COUNT; k++) {
    p += fc.pass[k];
    f += fc.fail[k];
    s += fc.skip[k];
    t->c.pass[k] += fc.pass[k];
    t->c.fail[k] += fc.fail[k];
    t->c.skip[k] += fc.skip[k];
  }
  t->c.text_mismatch += fc.text_mismatch;
  if (!got_counts && f == 0) f = fails;
  t->unexpected += unexpected;
  t->files++;
  printf("%s: %u passed, %u failed, %u skipped%s\n", path, p, f, s,
         f && !unexpected ? " (all failures expected)" : "");
}

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int cmpstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Expand a directory into its .wast files (recursively, sorted). */
static void expand(const char *path, char ***list, size_t *n) {
  struct stat st;
  size_t pl = strlen(path);
  if (pl > 1 && path[pl - 1] == '/') {
    char *trim = strdup(path);
    if (!trim) return;
    while (pl > 1 && trim[pl - 1] == '/') trim[--pl] = 0;
    expand(trim, list, n);
    free(trim);
    return;
  }
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
    char **nl = realloc(*list, (*n + 1) * sizeof *nl);
    if (!nl) return;
    *list = nl;
    (*list)[(*n)++] = strdup(path);
    return;
  }
  DIR *d = opendir(path);
  if (!d) return;
  char **sub = NULL;
  size_t ns = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    size_t need = strlen(path) + strlen(e->d_name) + 2;
    char *p = malloc(need);
    if (!p) continue;
    snprintf(p, need, "%s/%s", path, e->d_name);
    struct stat s2;
    if (stat(p, &s2) == 0 && (S_ISDIR(s2.st_mode) || ends_with(p, ".wast"))) {
      char **nl = realloc(sub, (ns + 1) * sizeof *nl);
      if (nl) {
        sub = nl;
        sub[ns++] = p;
        continue;
      }
    }
    free(p);
  }
  closedir(d);
  if (ns) qsort(sub, ns, sizeof *sub, cmpstr);
  for (size_t i = 0; i < ns; i++) {
    expand(sub[i], list, n);
    free(sub[i]);
  }
  free(sub);
}

static void usage(FILE *out) {
  fputs("usage: weft wast [options] FILE.wast|DIR...\n"
        "Run spec scripts; print 'FILE: N passed, N failed, N skipped' per file, a total by assertion\n"
        "kind, and 'N passed, N failed'. Exit status 0 only when every failure is listed as expected.\n\n"
        "  --expected-failures FILE  known failures, one 'path[:line] reason' per line\n"
        "  --strict-messages         a rejection with the wrong message text counts as a failure\n"
        "  --timeout SECONDS         per-file watchdog (default 120; 0 = none)\n"
        "  -v, --verbose             also print expected failures, skips and message mismatches\n",
        out);
  cli_common_usage(out);
}

int cli_cmd_wast(int argc, char **argv) {
  cli_common common;
  cli_common_init(&common);
  const char *xfail_path = NULL;
  bool verbose = false, strict = false;
  char **inputs = NULL;
  size_t ninputs = 0;
  int rc = CLI_EXIT_ERROR;
  weft_engine *engine = NULL;
  char **files = NULL;
  size_t nfiles = 0;
  for (int i = 1; i < argc;) {
    int took = cli_common_take(&common, argc, argv, &i);
    if (took < 0) goto done;
    if (took > 0) continue;
    const char *a = argv[i];
    if (strcmp(a, "--expected-failures") == 0 && i + 1 < argc) {
      xfail_path = argv[i + 1];
      i += 2;
    } else if (strncmp(a, "--expected-failures=", 20) == 0) {
      xfail_path = a + 20;
      i++;
    } else if (strcmp(a, "--timeout") == 0 && i + 1 < argc) {
      watchdog_seconds = (unsigned)strtoul(argv[i + 1], NULL, 10);
      i += 2;
    } else if (strcmp(a, "--strict-messages") == 0) {
      strict = true;
      i++;
    } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
      verbose = true;
      i++;
    } else if (a[0] == '-' && a[1]) {
      cli_error("wast: unknown option '%s' (see weft wast --help)", a);
      goto done;
    } else {
      char **ni = realloc(inputs, (ninputs + 1) * sizeof *ni);
      if (!ni) goto done;
      inputs = ni;
      inputs[ninputs++] = argv[i];
      i++;
    }
  }
  if (common.help) {
    usage(stdout);
    rc = 0;
    goto done;
  }
  if (!ninputs) {
    cli_error("wast: no script given: weft wast FILE.wast|DIR... (see --help)");
    goto done;
  }
  if (xfail_path && load_xfails(xfail_path) != 0) goto done;
  if (cli_engine_new(&common, &engine, NULL) != 0) goto done;
  for (size_t i = 0; i < ninputs; i++) expand(inputs[i], &files, &nfiles);
  totals t;
  memset(&t, 0, sizeof t);
  for (size_t i = 0; i < nfiles; i++) run_file(engine, files[i], &t, verbose, strict);
  unsigned p = 0, f = 0, s = 0;
  for (int k = 0; k < K_COUNT; k++) {
    p += t.c.pass[k];
    f += t.c.fail[k];
    s += t.c.skip[k];
  }
  printf("total: %u passed, %u failed, %u skipped (", p, f, s);
  bool first = true;
  for (int k = 0; k < K_COUNT; k++) {
    unsigned all = t.c.pass[k] + t.c.fail[k] + t.c.skip[k];
    if (!all) continue;
    printf("%s%s %u/%u", first ? "" : ", ", kind_names[k], t.c.pass[k], all);
    first = false;
  }
  printf("); %u message mismatches; %u files; %u unexpected failures\n", t.c.text_mismatch, t.files, t.unexpected);
  printf("%u passed, %u failed\n", p, f);
  if (xfail_path) {
    for (size_t i = 0; i < nxfails; i++)
      if (!xfails[i].used)
        printf("note: expected failure %s%s%.0u did not fail (remove it from %s)\n", xfails[i].path,
               xfails[i].line ? ":" : "", xfails[i].line, xfail_path);
  }
  rc = t.unexpected ? 1 : 0;
done:
  for (size_t i = 0; i < nfiles; i++) free(files[i]);
  free(files);
  free(inputs);
  for (size_t i = 0; i < nxfails; i++) free(xfails[i].path);
  free(xfails);
  xfails = NULL;
  nxfails = 0;
  if (engine) weft_engine_free(engine);
  cli_common_free(&common);
  return rc;
}
