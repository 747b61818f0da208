/* tests/unit/decode/test_decode.c -- cmocka tests of core/decode*.c on hand-made byte arrays:
 * every section, LEB128 edge cases, instruction immediates, malformed inputs with the spec's
 * messages, hostile sizes and truncation. Depends on: test_util.h (cmocka, decode.h).
 */
#include "test_util.h"

#include "tests.h"

/* -- A module that uses every section ------------------------------------------------------------ */

static void rich_types(buf *o) {
  buf s = {.n = 0};
  B(&s, 0x05,                                     /* 5 rec groups, 6 types */
    0x60, 0x01, 0x7F, 0x01, 0x7F,                 /* 0: func [i32] -> [i32] */
    0x60, 0x00, 0x00,                             /* 1: func [] -> [] */
    0x5D, 0x01,                                   /* 2: cont 1 */
    0x4E, 0x02,                                   /* rec of 2 */
    0x50, 0x00, 0x5F, 0x01, 0x78, 0x01,           /* 3: sub struct (mut i8) */
    0x4F, 0x01, 0x03, 0x5F, 0x02, 0x78, 0x01, 0x63, 0x04, 0x00, /* 4: sub final 3 struct */
    0x5E, 0x7E, 0x01);                            /* 5: array (mut i64) */
  section(o, 1, &s);
}

static void rich_module(buf *o) {
  buf s;
  header(o);
  rich_types(o);
  s.n = 0; /* imports */
  B(&s, 0x05, 0x01, 'm', 0x01, 'f', 0x00, 0x00,   /* func type 0 */
    0x01, 'm', 0x01, 't', 0x01, 0x70, 0x00, 0x01, /* table funcref min 1 */
    0x01, 'm', 0x03, 'm', 'e', 'm', 0x02, 0x00, 0x01, /* memory min 1 */
    0x01, 'm', 0x01, 'g', 0x03, 0x7F, 0x00,       /* global i32 const */
    0x01, 'm', 0x01, 'e', 0x04, 0x00, 0x01);      /* tag type 1 */
  section(o, 2, &s);
  s.n = 0;
  B(&s, 0x02, 0x00, 0x01); /* functions 1 (type 0), 2 (type 1) */
  section(o, 3, &s);
  s.n = 0;
  B(&s, 0x01, 0x40, 0x00, 0x64, 0x70, 0x00, 0x01, 0xD2, 0x01, 0x0B); /* table (ref func) init */
  section(o, 4, &s);
  s.n = 0;
  B(&s, 0x01, 0x05, 0x01, 0x02); /* memory64 min 1 max 2 */
  section(o, 5, &s);
  s.n = 0;
  B(&s, 0x01, 0x00, 0x01); /* tag type 1 */
  section(o, 13, &s);
  s.n = 0;
  B(&s, 0x01, 0x7E, 0x01, 0x42, 0x2A, 0x0B); /* global (mut i64) = 42 */
  section(o, 6, &s);
  s.n = 0;
  B(&s, 0x01, 0x03, 'r', 'u', 'n', 0x00, 0x01);
  section(o, 7, &s);
  s.n = 0;
  B(&s, 0x02);
  section(o, 8, &s);
  s.n = 0;
  B(&s, 0x02, 0x00, 0x41, 0x00, 0x0B, 0x01, 0x01, /* active, funcidx 1 */
    0x05, 0x70, 0x01, 0xD2, 0x02, 0x0B);           /* passive funcref exprs */
  section(o, 9, &s);
  s.n = 0;
  B(&s, 0x02);
  section(o, 12, &s);
  s.n = 0;
  {
    buf f1 = {.n = 0}, f2 = {.n = 0};
    B(&f1, 0x01, 0x02, 0x7E,             /* 2 x i64 */
      0x20, 0x00,                        /* local.get 0 */
      0x02, 0x40,                        /* block */
      0x0E, 0x02, 0x00, 0x00, 0x01,      /* br_table 0 0 default 1 */
      0x0B,                              /* end */
      0x41, 0x7F, 0x1A,                  /* i32.const -1, drop */
      0xFC, 0x08, 0x00, 0x00,            /* memory.init 0 0 */
      0x28, 0x42, 0x00, 0x10,            /* i32.load align 4 (2), memidx 0, offset 16 */
      0x0B);
    B(&f2, 0x00,
      0x1F, 0x40, 0x01, 0x00, 0x00, 0x00, 0x0B,             /* try_table (catch 0 0) end */
      0xD2, 0x02, 0xE0, 0x02,                               /* ref.func 2, cont.new 2 */
      0xE3, 0x02, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00,       /* resume 2 (on 0 0) (on 0 switch) */
      0xFD, 0x0C, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, /* v128.const */
      0x1A,
      0x0B);
    B(&s, 0x02);
    putu(&s, f1.n);
    put(&s, f1.b, f1.n);
    putu(&s, f2.n);
    put(&s, f2.b, f2.n);
  }
  section(o, 10, &s);
  s.n = 0;
  B(&s, 0x02, 0x00, 0x41, 0x08, 0x0B, 0x03, 'a', 'b', 'c', /* active at 8 */
    0x01, 0x02, 'x', 'y');                                   /* passive */
  section(o, 11, &s);
  s.n = 0;
  B(&s, 0x04, 'n', 'a', 'm', 'e',
    0x00, 0x04, 0x03, 'm', 'o', 'd',                 /* module name */
    0x01, 0x05, 0x01, 0x01, 0x02, 'f', '1');         /* function 1 = "f1" */
  section(o, 0, &s);
  s.n = 0;
  B(&s, 0x03, 'x', 'y', 'z', 0xDE, 0xAD);
  section(o, 0, &s);
}

static void rich_decodes(void **state) {
  (void)state;
  buf o;
  rich_module(&o);
  weft_module *m = expect_ok(NULL, &o);
  assert_int_equal(m->size, o.n);
  assert_memory_equal(m->bytes, o.b, o.n);
  /* types */
  assert_int_equal(m->ntypes, 6);
  assert_int_equal(m->types[0].comp, WEFT_COMP_FUNC);
  assert_int_equal(m->types[0].u.func.nparams, 1);
  assert_int_equal(m->types[0].u.func.params[0], WEFT_VT_I32);
  assert_int_equal(m->types[2].comp, WEFT_COMP_CONT);
  assert_int_equal(m->types[2].u.cont_func, 1);
  assert_int_equal(m->types[3].rec_start, 3);
  assert_int_equal(m->types[3].rec_size, 2);
  assert_false(m->types[3].final);
  assert_int_equal(m->types[3].super, WEFT_NONE);
  assert_true(m->types[4].final);
  assert_int_equal(m->types[4].super, 3);
  assert_int_equal(m->types[4].u.strct.nfields, 2);
  assert_int_equal(m->types[4].u.strct.fields[0].type, WEFT_VT_I8);
  assert_true(m->types[4].u.strct.fields[0].mut);
  assert_int_equal(m->types[4].u.strct.fields[1].type, WEFT_VT_MAKE_REF(1, 4));
  assert_false(m->types[4].u.strct.fields[1].mut);
  assert_int_equal(m->types[5].comp, WEFT_COMP_ARRAY);
  assert_int_equal(m->types[5].u.array.type, WEFT_VT_I64);
  assert_null(m->types[0].rtt); /* no registry given */
  /* imports and index spaces */
  assert_int_equal(m->nimports, 5);
  assert_string_equal(m->imports[2].name.str, "mem");
  assert_int_equal(m->imports[4].kind, WEFT_EXTERN_TAG);
  assert_int_equal(m->nfuncs, 3);
  assert_int_equal(m->nfunc_imports, 1);
  assert_int_equal(m->funcs[0].import, 0);
  assert_int_equal(m->funcs[2].type, 1);
  assert_int_equal(m->funcs[2].import, WEFT_NONE);
  assert_int_equal(m->ntables, 2);
  assert_int_equal(m->tables[0].type.elem, WEFT_VT_FUNCREF);
  assert_true(m->tables[1].has_init);
  assert_int_equal(m->tables[1].type.elem, WEFT_VT_MAKE_REF(0, WEFT_HT_ABS(WEFT_AHT_FUNC)));
  assert_int_equal(m->tables[1].init.ninstrs, 2);
  assert_int_equal(m->tables[1].init.code[0].op, WEFT_OP_REF_FUNC);
  assert_int_equal(m->nmems, 2);
  assert_true(m->mems[1].limits.is64);
  assert_true(m->mems[1].limits.has_max);
  assert_int_equal(m->mems[1].limits.max, 2);
  assert_int_equal(m->ntags, 2);
  assert_int_equal(m->ntag_imports, 1);
  assert_int_equal(m->nglobals, 2);
  assert_true(m->globals[1].type.mut);
  assert_int_equal(m->globals[1].init.code[0].imm.i64, 42);
  assert_int_equal(m->nexports, 1);
  assert_string_equal(m->exports[0].name.str, "run");
  assert_int_equal(m->start, 2);
  /* segments */
  assert_int_equal(m->nelems, 2);
  assert_int_equal(m->elems[0].mode, WEFT_SEG_ACTIVE);
  assert_int_equal(m->elems[0].nitems, 1);
  assert_int_equal(m->elems[0].items[0].code[0].op, WEFT_OP_REF_FUNC);
  assert_int_equal(m->elems[0].items[0].code[0].imm.x.a, 1);
  assert_int_equal(m->elems[1].mode, WEFT_SEG_PASSIVE);
  assert_int_equal(m->elems[1].type, WEFT_VT_FUNCREF);
  assert_int_equal(m->elems[1].items[0].code[0].imm.x.a, 2);
  assert_true(m->has_data_count);
  assert_int_equal(m->data_count, 2);
  assert_int_equal(m->ndatas, 2);
  assert_int_equal(m->datas[0].len, 3);
  assert_memory_equal(m->datas[0].bytes, "abc", 3);
  assert_int_equal(m->datas[0].offset.code[0].imm.i32, 8);
  assert_int_equal(m->datas[1].mode, WEFT_SEG_PASSIVE);
  /* code */
  const weft_func *f1 = &m->funcs[1];
  assert_int_equal(f1->nlocals, 2);
  assert_int_equal(f1->locals[1], WEFT_VT_I64);
  const weft_instr *c = f1->body.code;
  assert_int_equal(f1->body.ninstrs, 9);
  assert_int_equal(c[0].op, WEFT_OP_LOCAL_GET);
  assert_int_equal(c[1].op, WEFT_OP_BLOCK);
  assert_int_equal(c[1].imm.x.a, WEFT_BT_EMPTY);
  assert_int_equal(c[2].op, WEFT_OP_BR_TABLE);
  assert_int_equal(c[2].imm.x.b, 2);
  assert_int_equal(m->pool[c[2].imm.x.a + 2], 1); /* default label */
  assert_int_equal(c[4].imm.i32, -1);
  assert_int_equal(c[6].op, WEFT_OP_MEMORY_INIT);
  assert_int_equal(c[7].op, WEFT_OP_I32_LOAD);
  assert_int_equal(c[7].imm.mem.align, 2);
  assert_int_equal(c[7].imm.mem.mem, 0);
  assert_int_equal(c[7].imm.mem.offset, 16);
  assert_int_equal(c[8].op, WEFT_OP_END);
  assert_int_equal(c[0].off, f1->body_off + 4); /* size, 1 group, count, type */
  const weft_instr *g = m->funcs[2].body.code;
  assert_int_equal(g[0].op, WEFT_OP_TRY_TABLE);
  assert_int_equal(g[0].imm.x.c, 1);
  assert_int_equal(m->pool[g[0].imm.x.b], WEFT_CATCH);
  assert_int_equal(g[3].op, WEFT_OP_CONT_NEW);
  assert_int_equal(g[4].op, WEFT_OP_RESUME);
  assert_int_equal(g[4].imm.x.a, 2);
  assert_int_equal(g[4].imm.x.c, 2);
  assert_int_equal(m->pool[g[4].imm.x.b + 3], WEFT_HANDLER_ON_SWITCH);
  assert_int_equal(g[5].op, WEFT_OP_V128_CONST);
  assert_int_equal(g[5].imm.v128[15], 16);
  /* custom sections and names */
  assert_int_equal(m->ncustoms, 2);
  assert_string_equal(m->customs[1].name.str, "xyz");
  assert_int_equal(m->customs[1].len, 2);
  assert_string_equal(m->names.module, "mod");
  assert_int_equal(m->names.nfuncs, 3);
  assert_null(m->names.funcs[0]);
  assert_string_equal(m->names.funcs[1], "f1");
  /* features */
  assert_true(m->features & WEFT_FEAT_GC);
  assert_true(m->features & WEFT_FEAT_STACK_SWITCHING);
  assert_true(m->features & WEFT_FEAT_EXCEPTIONS);
  assert_true(m->features & WEFT_FEAT_SIMD);
  assert_true(m->features & WEFT_FEAT_MEMORY64);
  assert_true(m->features & WEFT_FEAT_MULTI_MEMORY);
  assert_false(m->features & WEFT_FEAT_TAIL_CALL);
  core_module_free(m);
}

/* Every strict prefix of the rich module is rejected, without crashing or leaking, unless it ends
 * exactly at a section boundary (then it is a shorter module that may be complete). */
static void rich_truncated(void **state) {
  (void)state;
  buf o, t;
  bool boundary[sizeof o.b] = {false};
  rich_module(&o);
  for (size_t p = 8; p < o.n;) { /* walk the section headers */
    boundary[p] = true;
    p++;
    uint64_t size = 0;
    unsigned shift = 0;
    while (o.b[p] & 0x80) size |= (uint64_t)(o.b[p++] & 0x7F) << (shift += 7, shift - 7);
    size |= (uint64_t)o.b[p++] << shift;
    p += size;
  }
  boundary[8] = true;
  unsigned rejected = 0;
  for (size_t n = 0; n < o.n; n++) {
    weft_module *m = NULL;
    weft_diag d;
    memcpy(t.b, o.b, n);
    t.n = n;
    int rc = dec(NULL, &t, &m, &d);
    if (rc == 0) {
      assert_true(boundary[n]);
      core_module_free(m);
      continue;
    }
    rejected++;
    assert_null(m);
    assert_true(d.offset <= n);
    assert_true(d.message[0] != 0);
  }
  assert_true(rejected > o.n - 20);
}

/* A malformed name section does not make the module fail; names are just absent. */
static void bad_name_section_ignored(void **state) {
  (void)state;
  buf o, s = {.n = 0};
  header(&o);
  B(&s, 0x04, 'n', 'a', 'm', 'e', 0x01, 0x7F, 0x01); /* subsection size past the end */
  section(&o, 0, &s);
  weft_module *m = expect_ok(NULL, &o);
  assert_null(m->names.module);
  assert_int_equal(m->ncustoms, 1);
  core_module_free(m);
}

/* -- Header, sections ----------------------------------------------------------------------------- */

static void header_errors(void **state) {
  (void)state;
  buf o = {.n = 0};
  expect_error(&o, "unexpected end");
  B(&o, 0x01);
  expect_error(&o, "unexpected end");
  o.n = 0;
  B(&o, 0x00, 0x61, 0x73, 0x6E, 0x01, 0x00, 0x00, 0x00);
  expect_error(&o, "magic header not detected");
  o.n = 0;
  B(&o, 0x00, 0x61, 0x73, 0x6D, 0x01, 0x00);
  expect_error(&o, "unexpected end");
  o.n = 0;
  B(&o, 0x00, 0x61, 0x73, 0x6D, 0x02, 0x00, 0x00, 0x00);
  assert_int_equal(expect_error(&o, "unknown binary version"), 4);
  header(&o);
  weft_module *m = expect_ok(NULL, &o);
  assert_int_equal(m->ntypes, 0);
  assert_int_equal(m->start, WEFT_NONE);
  core_module_free(m);
}

static void section_errors(void **state) {
  (void)state;
  buf o;
  header(&o);
  B(&o, 0x0E, 0x01, 0x00);
  assert_int_equal(expect_error(&o, "malformed section id"), 8);
  header(&o);
  B(&o, 0x01, 0x05, 0x00); /* size past the end */
  expect_error(&o, "length out of bounds");
  header(&o);
  B(&o, 0x01, 0x02, 0x00, 0x00); /* type section with a trailing byte */
  expect_error(&o, "section size mismatch");
  header(&o);
  B(&o, 0x03, 0x01, 0x00, 0x01, 0x01, 0x00); /* function section, then type section */
  expect_error(&o, "unexpected content after last section");
  header(&o);
  B(&o, 0x01, 0x01, 0x00, 0x01, 0x01, 0x00); /* two type sections */
  expect_error(&o, "unexpected content after last section");
  header(&o);
  B(&o, 0x0D, 0x01, 0x00, 0x05, 0x01, 0x00); /* tag (13) must come after memory (5) */
  expect_error(&o, "unexpected content after last section");
  header(&o);
  B(&o, 0x05, 0x01, 0x00, 0x0D, 0x01, 0x00, 0x06, 0x01, 0x00); /* memory, tag, global: fine */
  core_module_free(expect_ok(NULL, &o));
  header(&o);
  B(&o, 0x01, 0x03, 0x01, 0x60, 0x00); /* function type cut short inside its section */
  expect_error(&o, "unexpected end");
  header(&o);
  B(&o, 0x00, 0x03, 0x02, 0xC0, 0x80); /* custom section with an overlong-encoded name */
  expect_error(&o, "malformed UTF-8 encoding");
  header(&o);
  B(&o, 0x00, 0x04, 0x03, 0xED, 0xA0, 0x80); /* a surrogate */
  expect_error(&o, "malformed UTF-8 encoding");
  header(&o);
  B(&o, 0x00, 0x05, 0x04, 0xF0, 0x9F, 0x98, 0x80); /* U+1F600 is fine */
  core_module_free(expect_ok(NULL, &o));
}

static void entity_errors(void **state) {
  (void)state;
  buf o;
  header(&o);
  B(&o, 0x02, 0x05, 0x01, 0x00, 0x00, 0x05, 0x00); /* import kind 5 */
  expect_error(&o, "malformed import kind");
  header(&o);
  B(&o, 0x04, 0x03, 0x01, 0x70, 0x08);
  expect_error(&o, "malformed limits flags");
  header(&o);
  B(&o, 0x05, 0x03, 0x01, 0x02, 0x01); /* shared flag: not in Wasm 3.0 */
  expect_error(&o, "malformed limits flags");
  header(&o);
  B(&o, 0x04, 0x04, 0x01, 0x7F, 0x00, 0x01); /* table of i32 */
  expect_error(&o, "malformed reference type");
  header(&o);
  B(&o, 0x06, 0x06, 0x01, 0x7F, 0x02, 0x41, 0x00, 0x0B);
  expect_error(&o, "malformed mutability");
  header(&o);
  B(&o, 0x0D, 0x03, 0x01, 0x01, 0x00); /* tag attribute 1 */
  expect_error(&o, "zero byte expected");
  header(&o);
  B(&o, 0x04, 0x0A, 0x01, 0x40, 0x01, 0x70, 0x00, 0x01, 0xD0, 0x70, 0x0B, 0x00);
  expect_error(&o, "zero byte expected");
  header(&o);
  B(&o, 0x07, 0x04, 0x01, 0x00, 0x05, 0x00);
  expect_error(&o, "malformed export kind");
  header(&o);
  B(&o, 0x09, 0x02, 0x01, 0x08);
  expect_error(&o, "malformed elements segment kind");
  header(&o);
  B(&o, 0x09, 0x04, 0x01, 0x01, 0x01, 0x00); /* elemkind 1 */
  expect_error(&o, "malformed element kind");
  header(&o);
  B(&o, 0x0B, 0x02, 0x01, 0x03);
  expect_error(&o, "malformed data segment kind");
  header(&o);
  B(&o, 0x02, 0x07, 0x01, 0x01, 0x6D, 0xFF, 0xFF, 0xFF, 0x0F); /* name length past the end */
  expect_error(&o, "length out of bounds");
}

static void count_errors(void **state) {
  (void)state;
  buf o;
  header(&o);
  B(&o, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00); /* function, no code */
  expect_error(&o, "function and code section have inconsistent lengths");
  header(&o);
  B(&o, 0x0A, 0x04, 0x01, 0x02, 0x00, 0x0B); /* code, no function section */
  expect_error(&o, "function and code section have inconsistent lengths");
  header(&o);
  B(&o, 0x0C, 0x01, 0x01); /* data count 1, no data */
  expect_error(&o, "data count and data section have inconsistent lengths");
  header(&o);
  B(&o, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01,
    0x0A, 0x07, 0x01, 0x05, 0x00, 0xFC, 0x09, 0x00, 0x0B, /* data.drop 0 */
    0x0B, 0x03, 0x01, 0x01, 0x00);
  expect_error(&o, "data count section required");
  header(&o);
  B(&o, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F); /* section size 2^32-1 */
  expect_error(&o, "length out of bounds");
  header(&o);
  B(&o, 0x01, 0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F); /* 2^32-1 types in 4 bytes */
  expect_error(&o, "length out of bounds");
}

/* -- LEB128 ------------------------------------------------------------------------------------- */

/* A module with one function of type [] -> [] whose body (after its locals) is `code`. */
static void one_func(buf *o, const uint8_t *code, size_t n) {
  buf s = {.n = 0}, body = {.n = 0};
  header(o);
  B(&s, 0x01, 0x60, 0x00, 0x00);
  section(o, 1, &s);
  s.n = 0;
  B(&s, 0x01, 0x00);
  section(o, 3, &s);
  put(&body, code, n);
  s.n = 0;
  B(&s, 0x01);
  putu(&s, body.n);
  put(&s, body.b, body.n);
  section(o, 10, &s);
}
#define ONE_FUNC(o, ...)                                                                           \
  do {                                                                                             \
    static const uint8_t c_[] = {__VA_ARGS__};                                                     \
    one_func((o), c_, sizeof c_);                                                                  \
  } while (0)

static const weft_instr *first_instr(weft_module *m) { return m->funcs[0].body.code; }

static void leb_edges(void **state) {
  (void)state;
  buf o;
  weft_module *m;
  /* u32: the largest value in 5 bytes; padding with 0x80 is fine up to 5 bytes */
  ONE_FUNC(&o, 0x00, 0x20, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x0B);
  m = expect_ok(NULL, &o);
  assert_int_equal(first_instr(m)->imm.x.a, 0xFFFFFFFFu);
  core_module_free(m);
  ONE_FUNC(&o, 0x00, 0x20, 0x83, 0x80, 0x80, 0x80, 0x00, 0x0B);
  m = expect_ok(NULL, &o);
  assert_int_equal(first_instr(m)->imm.x.a, 3);
  core_module_free(m);
  ONE_FUNC(&o, 0x00, 0x20, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0x0B);
  expect_error(&o, "integer too large");
  ONE_FUNC(&o, 0x00, 0x20, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0B);
  expect_error(&o, "integer representation too long");
  /* s32 */
  ONE_FUNC(&o, 0x00, 0x41, 0x80, 0x80, 0x80, 0x80, 0x78, 0x1A, 0x0B);
  m = expect_ok(NULL, &o);
  assert_int_equal(first_instr(m)->imm.i32, INT32_MIN);
  core_module_free(m);
  ONE_FUNC(&o, 0x00, 0x41, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x1A, 0x0B);
  m = expect_ok(NULL, &o);
  assert_int_equal(first_instr(m)->imm.i32, INT32_MAX);
  core_module_free(m);
  ONE_FUNC(&o, 0x00, 0x41, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x1A, 0x0B); /* -1, sign-padded */
  m = expect_ok(NULL, &o);
  assert_int_equal(first_instr(m)->imm.i32, -1);
  core_module_free(m);
  ONE_FUNC(&o, 0x00, 0x41, 0xFF, 0xFF, 0xFF, 0xFF, 0x4F, 0x1A, 0x0B); /* unused bits not sign */
  expect_error(&o, "integer too large");
  ONE_FUNC(&o, 0x00, 0x41, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x1A, 0x0B);
  expect_error(&o, "integer representation too long");
  /* s64 */
  ONE_FUNC(&o, 0x00, 0x42, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7F, 0x1A, 0x0B);
  m = expect_ok(NULL, &o);
  assert_true(first_instr(m)->imm.i64 == INT64_MIN);
  core_module_free(m);
  ONE_FUNC(&o, 0x00, 0x42, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x1A, 0x0B);
  m = expect_ok(NULL, &o);
  assert_true(first_instr(m)->imm.i64 == INT64_MAX);
  core_module_free(m);
  ONE_FUNC(&o, 0x00, 0x42, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x41, 0x1A, 0x0B);
  expect_error(&o, "integer too large");
  /* u64 memarg offset */
  ONE_FUNC(&o, 0x00, 0x41, 0x00, 0x28, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
           0x01, 0x1A, 0x0B);
  m = expect_ok(NULL, &o);
  assert_true(first_instr(m)[1].imm.mem.offset == UINT64_MAX);
  core_module_free(m);
  ONE_FUNC(&o, 0x00, 0x41, 0x00, 0x28, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
           0x02, 0x1A, 0x0B);
  expect_error(&o, "integer too large");
  /* truncated LEB at the end of the module */
  ONE_FUNC(&o, 0x00, 0x41, 0x80);
  expect_error(&o, "unexpected end");
}

/* -- Instructions ------------------------------------------------------------------------------- */

static void instr_errors(void **state) {
  (void)state;
  buf o;
  ONE_FUNC(&o, 0x00, 0x06, 0x0B);
  expect_error(&o, "illegal opcode");
  ONE_FUNC(&o, 0x00, 0xFB, 0x7F, 0x0B);
  expect_error(&o, "illegal opcode");
  ONE_FUNC(&o, 0x00, 0xFC, 0x12, 0x0B);
  expect_error(&o, "illegal opcode");
  ONE_FUNC(&o, 0x00, 0xFD, 0x9A, 0x01, 0x0B);
  expect_error(&o, "illegal opcode");
  ONE_FUNC(&o, 0x00, 0xFD, 0x80, 0x80, 0x04, 0x0B); /* 0x10000 */
  expect_error(&o, "illegal opcode");
  ONE_FUNC(&o, 0x00, 0x01); /* no end: the body runs out */
  expect_error(&o, "unexpected end");
  ONE_FUNC(&o, 0x00, 0x05, 0x0B); /* else outside if */
  expect_error(&o, "END opcode expected");
  ONE_FUNC(&o, 0x00, 0x04, 0x40, 0x05, 0x05, 0x0B, 0x0B); /* two elses */
  expect_error(&o, "END opcode expected");
  ONE_FUNC(&o, 0x00, 0x0B, 0x01); /* trailing byte after the body's end */
  expect_error(&o, "section size mismatch");
  ONE_FUNC(&o, 0x00, 0x41, 0x00, 0x28, 0x80, 0x01, 0x00, 0x1A, 0x0B); /* memarg flags 0x80 */
  expect_error(&o, "malformed memop flags");
  ONE_FUNC(&o, 0x00, 0xE3, 0x00, 0x01, 0x02, 0x00, 0x0B); /* handler kind 2 */
  expect_error(&o, "ON opcode expected");
  ONE_FUNC(&o, 0x00, 0x1F, 0x40, 0x01, 0x04, 0x00, 0x0B, 0x0B); /* catch kind 4 */
  expect_error(&o, "malformed catch clause");
  ONE_FUNC(&o, 0x00, 0xFB, 0x18, 0x04, 0x00, 0x70, 0x70, 0x0B); /* br_on_cast flags 4 */
  expect_error(&o, "malformed br_on_cast flags");
  ONE_FUNC(&o, 0x00, 0xD0, 0x7F, 0x0B); /* ref.null i32 */
  expect_error(&o, "malformed heap type");
  ONE_FUNC(&o, 0x00, 0x02, 0x40, 0x0B, 0x0B, 0x0B); /* one end too many */
  expect_error(&o, "section size mismatch");
  ONE_FUNC(&o, 0x01, 0x01, 0x7A, 0x0B); /* local of type 0x7A */
  expect_error(&o, "malformed reference type");
}

static void locals_limits(void **state) {
  (void)state;
  buf o;
  weft_module *m;
  ONE_FUNC(&o, 0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x7F, 0x02, 0x7E, 0x0B);
  expect_error(&o, "too many locals");
  ONE_FUNC(&o, 0x01, 0x80, 0x80, 0x80, 0x80, 0x08, 0x7F, 0x0B); /* 2^31: an implementation limit */
  expect_error(&o, "too many locals");
  ONE_FUNC(&o, 0x02, 0x03, 0x7F, 0x02, 0x64, 0x00, 0x0B); /* 3 x i32, 2 x (ref 0) */
  m = expect_ok(NULL, &o);
  assert_int_equal(m->funcs[0].nlocals, 5);
  assert_int_equal(m->funcs[0].locals[2], WEFT_VT_I32);
  assert_int_equal(m->funcs[0].locals[4], WEFT_VT_MAKE_REF(0, 0));
  core_module_free(m);
}

static void instr_immediates(void **state) {
  (void)state;
  buf o;
  ONE_FUNC(&o, 0x00,
           0x11, 0x02, 0x01,                                  /* call_indirect type 2 table 1 */
           0x1C, 0x01, 0x7C,                                  /* select (result f64) */
           0x43, 0x00, 0x00, 0x80, 0x3F,                      /* f32.const 1.0 */
           0x44, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xF0, 0x3F, /* f64.const 1.0 */
           0x28, 0x40, 0x03, 0x04,                            /* i32.load mem 3 offset 4 */
           0xFD, 0x54, 0x00, 0x00, 0x07,                      /* v128.load8_lane lane 7 */
           0xFD, 0x15, 0x0F,                                  /* i8x16.extract_lane_s 15 */
           0xFD, 0x80, 0x02,                                  /* 0x100: i8x16.relaxed_swizzle */
           0xFB, 0x02, 0x05, 0x01,                            /* struct.get 5 1 */
           0xFB, 0x08, 0x05, 0x03,                            /* array.new_fixed 5 3 */
           0xFB, 0x18, 0x03, 0x00, 0x6E, 0x05,                /* br_on_cast 0 anyref (ref null 5) */
           0xFB, 0x17, 0x6B,                                  /* ref.cast (ref null struct) */
           0xFC, 0x0E, 0x01, 0x02,                            /* table.copy 1 2 */
           0xFC, 0x0C, 0x03, 0x04,                            /* table.init elem 3 table 4 */
           0xE1, 0x01, 0x02,                                  /* cont.bind 1 2 */
           0xE4, 0x01, 0x02, 0x00,                            /* resume_throw 1 tag 2 */
           0xE5, 0x01, 0x00,                                  /* resume_throw_ref 1 */
           0xE6, 0x01, 0x03,                                  /* switch 1 tag 3 */
           0x12, 0x00,                                        /* return_call 0 */
           0x02, 0x07,                                        /* block (type 7) */
           0x0B, 0x0B);
  weft_module *m = expect_ok(NULL, &o);
  const weft_instr *c = first_instr(m);
  int i = 0;
  assert_int_equal(c[i].op, WEFT_OP_CALL_INDIRECT);
  assert_int_equal(c[i].imm.x.a, 2);
  assert_int_equal(c[i++].imm.x.b, 1);
  assert_int_equal(c[i].op, WEFT_OP_SELECT_T);
  assert_int_equal(c[i].imm.x.a, 1);
  assert_int_equal(c[i++].imm.x.b, WEFT_VT_F64);
  assert_int_equal(c[i++].imm.f32, 0x3F800000u);
  assert_true(c[i++].imm.f64 == 0x3FF0000000000000ull);
  assert_int_equal(c[i].imm.mem.mem, 3);
  assert_int_equal(c[i].imm.mem.align, 0);
  assert_int_equal(c[i++].imm.mem.offset, 4);
  assert_int_equal(c[i].op, WEFT_OP_V128_LOAD8_LANE);
  assert_int_equal(c[i++].b, 7);
  assert_int_equal(c[i].op, WEFT_OP_I8X16_EXTRACT_LANE_S);
  assert_int_equal(c[i++].b, 15);
  assert_int_equal(c[i++].op, 0x400 + 0x100);
  assert_int_equal(c[i].op, WEFT_OP_STRUCT_GET);
  assert_int_equal(c[i].imm.x.a, 5);
  assert_int_equal(c[i++].imm.x.b, 1);
  assert_int_equal(c[i].op, WEFT_OP_ARRAY_NEW_FIXED);
  assert_int_equal(c[i++].imm.x.b, 3);
  assert_int_equal(c[i].op, WEFT_OP_BR_ON_CAST);
  assert_int_equal(c[i].b, 3);
  assert_int_equal(c[i].imm.x.a, 0);
  assert_int_equal(c[i].imm.x.b, WEFT_VT_MAKE_REF(1, WEFT_HT_ABS(WEFT_AHT_ANY)));
  assert_int_equal(c[i++].imm.x.c, WEFT_VT_MAKE_REF(1, 5));
  assert_int_equal(c[i].op, WEFT_OP_REF_CAST_NULL);
  assert_int_equal(c[i++].imm.x.a, WEFT_VT_MAKE_REF(1, WEFT_HT_ABS(WEFT_AHT_STRUCT)));
  assert_int_equal(c[i].op, WEFT_OP_TABLE_COPY);
  assert_int_equal(c[i].imm.x.a, 1);
  assert_int_equal(c[i++].imm.x.b, 2);
  assert_int_equal(c[i].op, WEFT_OP_TABLE_INIT);
  assert_int_equal(c[i].imm.x.a, 3);
  assert_int_equal(c[i++].imm.x.b, 4);
  assert_int_equal(c[i].op, WEFT_OP_CONT_BIND);
  assert_int_equal(c[i++].imm.x.b, 2);
  assert_int_equal(c[i].op, WEFT_OP_RESUME_THROW);
  assert_int_equal(c[i].imm.x.d, 2);
  assert_int_equal(c[i++].imm.x.c, 0);
  assert_int_equal(c[i++].op, WEFT_OP_RESUME_THROW_REF);
  assert_int_equal(c[i].op, WEFT_OP_SWITCH);
  assert_int_equal(c[i++].imm.x.b, 3);
  assert_int_equal(c[i++].op, WEFT_OP_RETURN_CALL);
  assert_int_equal(c[i].op, WEFT_OP_BLOCK);
  assert_true(WEFT_BT_IS_TYPEIDX(c[i].imm.x.a));
  assert_int_equal(WEFT_BT_TYPEIDX(c[i++].imm.x.a), 7);
  assert_true(m->features & WEFT_FEAT_RELAXED_SIMD);
  assert_true(m->features & WEFT_FEAT_TAIL_CALL);
  assert_true(m->features & WEFT_FEAT_MULTI_MEMORY);
  core_module_free(m);
}

/* Deep nesting is decoded without recursion. */
static void deep_nesting(void **state) {
  (void)state;
  enum { DEPTH = 3000 };
  static uint8_t code[2 * DEPTH + DEPTH + 2];
  size_t n = 0;
  code[n++] = 0x00;
  for (int i = 0; i < DEPTH; i++) {
    code[n++] = 0x02;
    code[n++] = 0x40;
  }
  for (int i = 0; i < DEPTH; i++) code[n++] = 0x0B;
  code[n++] = 0x0B;
  buf o;
  one_func(&o, code, n);
  weft_module *m = expect_ok(NULL, &o);
  assert_int_equal(m->funcs[0].body.ninstrs, 2 * DEPTH + 1);
  core_module_free(m);
  one_func(&o, code, n - 1); /* one end missing */
  expect_error(&o, "unexpected end");
}

/* Type indices in the type section must not point past the current rec group. */
static void type_forward_refs(void **state) {
  (void)state;
  buf o, s = {.n = 0};
  header(&o);
  B(&s, 0x02, 0x60, 0x01, 0x63, 0x01, 0x00, 0x60, 0x00, 0x00); /* type 0 refers to type 1 */
  section(&o, 1, &s);
  expect_error(&o, "unknown type 1");
  {
    weft_module *m = NULL;
    weft_diag d;
    assert_int_equal(dec(NULL, &o, &m, &d), WEFT_ERR_INVALID); /* invalid, not malformed */
    assert_int_equal(d.offset, 14); /* the heap type byte */
  }
  header(&o);
  s.n = 0;
  B(&s, 0x01, 0x4E, 0x02, 0x60, 0x01, 0x63, 0x01, 0x00, 0x60, 0x00, 0x00); /* same, in one group */
  section(&o, 1, &s);
  core_module_free(expect_ok(NULL, &o));
  header(&o);
  s.n = 0;
  B(&s, 0x01, 0x50, 0x01, 0x01, 0x5F, 0x00); /* supertype 1 past the group */
  section(&o, 1, &s);
  expect_error(&o, "unknown type 1");
  header(&o);
  s.n = 0;
  B(&s, 0x01, 0x5D, 0x05); /* cont of type 5 */
  section(&o, 1, &s);
  expect_error(&o, "unknown type 5");
  header(&o);
  s.n = 0;
  B(&s, 0x01, 0x5C, 0x00);
  section(&o, 1, &s);
  expect_error(&o, "malformed definition type");
}

static void more_errors(void **state) {
  (void)state;
  buf o, s = {.n = 0};
  header(&o);
  B(&s, 0x01, 0x5E, 0x76, 0x00); /* array of storage type 0x76 */
  section(&o, 1, &s);
  expect_error(&o, "malformed storage type");
  header(&o);
  s.n = 0;
  B(&s, 0x01, 0x5D, 0x70); /* cont of an abstract heap type */
  section(&o, 1, &s);
  expect_error(&o, "malformed type index");
  header(&o);
  s.n = 0;
  B(&s, 0x01, 0xE0, 0x7F); /* a composite type byte written as a 2-byte LEB */
  section(&o, 1, &s);
  expect_error(&o, "integer representation too long");
  ONE_FUNC(&o, 0x00, 0x18, 0x00, 0x0B);
  expect_error(&o, "misplaced DELEGATE opcode");
  ONE_FUNC(&o, 0x00, 0x07, 0x0B);
  expect_error(&o, "END opcode expected");
  ONE_FUNC(&o, 0x00, 0x43, 0x00, 0x00); /* f32.const cut short at the end of the module */
  expect_error(&o, "unexpected end of section or function");
  header(&o);
  B(&o, 0x0B, 0x06, 0x01, 0x01, 0x04, 'a', 'b', 'c'); /* data: 4 bytes declared, 3 given */
  expect_error(&o, "unexpected end of section or function");
  header(&o);
  B(&o, 0x07, 0x05, 0x01, 0x01, 0x80, 0x00, 0x00); /* export name: a lone continuation byte */
  expect_error(&o, "malformed UTF-8 encoding");
  core_module_free(NULL); /* a no-op */
  {
    /* data.drop in a global's initializer is invalid, not malformed: no data count needed */
    weft_module *m;
    header(&o);
    B(&o, 0x06, 0x07, 0x01, 0x7F, 0x00, 0xFC, 0x09, 0x00, 0x0B);
    m = expect_ok(NULL, &o);
    core_module_free(m);
    ONE_FUNC(&o, 0x00, 0x3F, 0x01, 0x1A, 0x0B); /* memory.size 1: multi-memory */
    m = expect_ok(NULL, &o);
    assert_true(m->features & WEFT_FEAT_MULTI_MEMORY);
    core_module_free(m);
  }
}

/* Name section: out-of-range indices are ignored; disordered subsections drop the names. */
static void name_section_rules(void **state) {
  (void)state;
  buf o, s = {.n = 0};
  weft_module *m;
  ONE_FUNC(&o, 0x00, 0x0B);
  B(&s, 0x04, 'n', 'a', 'm', 'e', 0x01, 0x08, 0x02, 0x00, 0x01, 'a', 0x05, 0x02, 'z', 'z');
  section(&o, 0, &s);
  m = expect_ok(NULL, &o);
  assert_int_equal(m->names.nfuncs, 1);
  assert_string_equal(m->names.funcs[0], "a");
  core_module_free(m);
  ONE_FUNC(&o, 0x00, 0x0B);
  s.n = 0;
  B(&s, 0x04, 'n', 'a', 'm', 'e', 0x01, 0x04, 0x01, 0x00, 0x01, 'a', 0x00, 0x02, 0x01, 'm');
  section(&o, 0, &s);
  m = expect_ok(NULL, &o);
  assert_null(m->names.funcs);
  assert_null(m->names.module);
  core_module_free(m);
  /* regression (fuzz-decode): a length LEB that runs past its subsection must not be trusted */
  ONE_FUNC(&o, 0x00, 0x0B);
  s.n = 0;
  B(&s, 0x04, 'n', 'a', 'm', 'e', 0x00, 0x01, 0x85, 0x00);
  section(&o, 0, &s);
  m = expect_ok(NULL, &o);
  assert_null(m->names.module);
  core_module_free(m);
}

const struct CMUnitTest decode_tests[] = {
    cmocka_unit_test(more_errors), cmocka_unit_test(name_section_rules),
    cmocka_unit_test(rich_decodes),    cmocka_unit_test(rich_truncated),
    cmocka_unit_test(bad_name_section_ignored), cmocka_unit_test(header_errors),
    cmocka_unit_test(section_errors),  cmocka_unit_test(entity_errors),
    cmocka_unit_test(count_errors),    cmocka_unit_test(leb_edges),
    cmocka_unit_test(instr_errors),    cmocka_unit_test(locals_limits),
    cmocka_unit_test(instr_immediates), cmocka_unit_test(deep_nesting),
    cmocka_unit_test(type_forward_refs),
};
const size_t decode_ntests = sizeof decode_tests / sizeof decode_tests[0];
