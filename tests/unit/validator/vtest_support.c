/* tests/unit/validator/vtest_support.c -- fake host and IR builder for the validator unit tests.
 *
 * The host hands out malloc'd memory (counting live blocks), fails allocations on request (scripted
 * with will_return on vt_alloc_gate, or after N successes), answers the validator's config keys and
 * formats diagnostics. Depends on: vtest.h.
 */
#include "vtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -- Fake host ----------------------------------------------------------------------------------- */

bool vt_script_allocs;   /* when set, every allocation asks vt_alloc_gate() for a scripted answer */
_Atomic int vt_live_allocs;
int64_t vt_cfg_max_locals = -1, vt_cfg_max_nesting = -1, vt_cfg_max_types = -1;

int vt_fail_nth = -1;     /* otherwise: fail the allocation after vt_fail_nth successful ones */

int vt_alloc_gate(void) {
  if (vt_script_allocs) return mock_type(int);
  if (vt_fail_nth < 0) return 0;
  return vt_fail_nth-- == 0;
}

static void *f_alloc(void *h, size_t n) {
  (void)h;
  if (vt_alloc_gate()) return NULL;
  vt_live_allocs++;
  return malloc(n ? n : 1);
}
static void *f_realloc(void *h, void *p, size_t n) {
  (void)h;
  if (vt_alloc_gate()) return NULL;
  if (!p) vt_live_allocs++;
  return realloc(p, n ? n : 1);
}
static void f_free(void *h, void *p) {
  (void)h;
  if (p) vt_live_allocs--;
  free(p);
}
static void f_log(void *h, weft_log_level l, const char *o, const char *fmt, va_list ap) {
  (void)h; (void)l; (void)o; (void)fmt; (void)ap;
}
static int f_diag(void *h, weft_diag *d, int code, uint64_t off, const char *origin, const char *fmt,
                  va_list ap) {
  (void)h;
  d->code = code;
  d->offset = off;
  snprintf(d->origin, sizeof d->origin, "%s", origin);
  vsnprintf(d->message, sizeof d->message, fmt, ap);
  return code;
}
static int f_cfg_bool(void *h, const weft_plugin_cfg *c, const char *k, bool *o) {
  (void)h; (void)c; (void)k; (void)o;
  return WEFT_ERR_CONFIG;
}
static int f_cfg_int(void *h, const weft_plugin_cfg *c, const char *k, int64_t *o) {
  (void)h; (void)c;
  if (strcmp(k, "max_locals") == 0 && vt_cfg_max_locals >= 0) { *o = vt_cfg_max_locals; return WEFT_OK; }
  if (strcmp(k, "max_nesting") == 0 && vt_cfg_max_nesting >= 0) { *o = vt_cfg_max_nesting; return WEFT_OK; }
  if (strcmp(k, "max_types") == 0 && vt_cfg_max_types >= 0) { *o = vt_cfg_max_types; return WEFT_OK; }
  return WEFT_ERR_CONFIG;
}
static int f_cfg_size(void *h, const weft_plugin_cfg *c, const char *k, uint64_t *o) {
  (void)h; (void)c; (void)k; (void)o;
  return WEFT_ERR_CONFIG;
}
static int f_cfg_string(void *h, const weft_plugin_cfg *c, const char *k, const char **o) {
  (void)h; (void)c; (void)k; (void)o;
  return WEFT_ERR_CONFIG;
}

const weft_host_api vt_host = {
    WEFT_ABI_INIT(weft_host_api), .host = NULL, .alloc = f_alloc, .realloc = f_realloc,
    .free = f_free, .log = f_log, .diag = f_diag, .cfg_bool = f_cfg_bool, .cfg_int = f_cfg_int,
    .cfg_size = f_cfg_size, .cfg_string = f_cfg_string};

/* A non-NULL opaque config handle so the plugin consults cfg_int. */
const weft_plugin_cfg *const vt_fake_cfg = (const weft_plugin_cfg *)&vt_host;


plugin vt_load(void) {
  plugin p;
  weft_diag d;
  p.desc = weft_plugin_entry_validator(WEFT_ABI_VERSION);
  assert_non_null(p.desc);
  assert_int_equal(p.desc->init(&vt_host, vt_fake_cfg, &p.state, &d), WEFT_OK);
  p.vi = p.desc->iface;
  return p;
}

void vt_unload(plugin *p) { p->desc->fini(p->state); }

/* -- IR builder ------------------------------------------------------------------------------ */


mod *vt_new_mod(void) {
  mod *b = calloc(1, sizeof *b);
  assert_non_null(b);
  b->m.types = b->types;
  b->m.funcs = b->funcs;
  b->m.globals = b->globals;
  b->m.mems = b->mems;
  b->m.tables = b->tables;
  b->m.tags = b->tags;
  b->m.exports = b->exports;
  b->m.pool = b->pool;
  b->m.start = WEFT_NONE;
  return b;
}

/* Adds func type [params] -> [results]; lists end at 0. */
uint32_t vt_add_functype(mod *b, const weft_valtype *ps, uint32_t np, const weft_valtype *rs,
                             uint32_t nr) {
  uint32_t i = b->m.ntypes++;
  weft_type *t = &b->types[i];
  memset(t, 0, sizeof *t);
  t->comp = WEFT_COMP_FUNC;
  t->final = true;
  t->super = WEFT_NONE;
  t->rec_start = i;
  t->rec_size = 1;
  if (np) memcpy(b->tv[i], ps, np * sizeof *ps);
  if (nr) memcpy(b->tv[i] + np, rs, nr * sizeof *rs);
  t->u.func.nparams = np;
  t->u.func.params = b->tv[i];
  t->u.func.nresults = nr;
  t->u.func.results = b->tv[i] + np;
  return i;
}

uint32_t vt_add_type(mod *b, uint8_t comp, bool final, uint32_t super) {
  uint32_t i = b->m.ntypes++;
  weft_type *t = &b->types[i];
  memset(t, 0, sizeof *t);
  t->comp = comp;
  t->final = final;
  t->nsupers = super == WEFT_NONE ? 0 : 1;
  t->super = super;
  t->rec_start = i;
  t->rec_size = 1;
  return i;
}

/* Adds a defined function with the given body (an `end` is appended). */
uint32_t vt_add_func(mod *b, uint32_t type, const weft_valtype *locals, uint32_t nlocals,
                         const weft_instr *body, uint32_t n) {
  uint32_t i = b->m.nfuncs++;
  weft_func *f = &b->funcs[i];
  memset(f, 0, sizeof *f);
  f->type = type;
  f->import = WEFT_NONE;
  f->nlocals = nlocals;
  f->locals = locals;
  for (uint32_t k = 0; k < n; k++) {
    b->code[i][k] = body[k];
    if (!b->code[i][k].off) b->code[i][k].off = 100 * (i + 1) + k;
  }
  b->code[i][n] = OP(END);
  b->code[i][n].off = 100 * (i + 1) + n;
  f->body.code = b->code[i];
  f->body.ninstrs = n + 1;
  f->body_off = 100 * (i + 1);
  f->body_size = 4 * (n + 1);
  return i;
}

uint32_t vt_add_global(mod *b, weft_valtype t, bool mut, const weft_instr *init, uint32_t n) {
  uint32_t i = b->m.nglobals++;
  weft_global *g = &b->globals[i];
  memset(g, 0, sizeof *g);
  g->type.type = t;
  g->type.mut = mut;
  g->import = WEFT_NONE;
  for (uint32_t k = 0; k < n; k++) b->ginit[i][k] = init[k];
  b->ginit[i][n] = OP(END);
  g->init.code = b->ginit[i];
  g->init.ninstrs = n + 1;
  return i;
}

void vt_add_memory(mod *b, uint64_t min, bool is64) {
  weft_memory *mm = &b->mems[b->m.nmems++];
  memset(mm, 0, sizeof *mm);
  mm->limits.min = min;
  mm->limits.is64 = is64;
  mm->import = WEFT_NONE;
}

int vt_validate(mod *b, weft_diag *d) {
  plugin p = vt_load();
  memset(d, 0, sizeof *d);
  int rc = p.vi->validate(p.state, &b->m, d);
  vt_unload(&p);
  return rc;
}

/* Expects rejection with a message starting with `prefix`. */
void vt_expect_invalid(mod *b, const char *prefix) {
  weft_diag d;
  int rc = vt_validate(b, &d);
  if (rc != WEFT_ERR_INVALID || strncmp(d.message, prefix, strlen(prefix)) != 0)
    fail_msg("expected \"%s\", got rc=%d \"%s\"", prefix, rc, d.message);
  assert_string_equal(d.origin, "validator");
  free(b);
}

void vt_expect_valid(mod *b) {
  weft_diag d;
  int rc = vt_validate(b, &d);
  if (rc != WEFT_OK) fail_msg("expected a valid module, got rc=%d \"%s\"", rc, d.message);
  free(b);
}

const weft_valtype vt_i32x2[2] = {I32, I32};

void vt_add_table(mod *b, weft_valtype elem, uint64_t min, bool is64) {
  weft_table *t = &b->tables[b->m.ntables++];
  memset(t, 0, sizeof *t);
  t->type.elem = elem;
  t->type.limits.min = min;
  t->type.limits.is64 = is64;
  t->import = WEFT_NONE;
}
