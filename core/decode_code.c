/* core/decode_code.c -- the instruction decoder: expression bytes -> flat weft_instr arrays.
 *
 * One loop, no recursion: block nesting is tracked on a byte stack (D->ctl) whose depth is bounded
 * by the bytes of the expression. Immediate shapes come from the X-macro table in opcodes.h, so
 * every opcode listed there decodes and nothing else does ("illegal opcode"). Variable-length
 * immediates go to the module's u32 pool. Depends on: decode.h, weft/opcodes.h.
 */
#include "decode.h"

#include <string.h>

/* -- Opcode table ------------------------------------------------------------------------------- */

/* imm_tab[op] = 1 + weft_imm_kind for every known internal opcode, 0 for illegal ones. */
static const uint8_t imm_tab[WEFT_OP_LIMIT] = {
#define IMM_ROW(id, code, text, imm, sig) [code] = (uint8_t)(WEFT_IMM_##imm + 1),
    WEFT_OPCODE_LIST(IMM_ROW)
#undef IMM_ROW
};

/* The feature bits each opcode implies (weft_feature), computed from its number at compile time. */
#define FEAT_OF(op)                                                                                \
  ((op) >= 0x500   ? (WEFT_FEAT_SIMD | WEFT_FEAT_RELAXED_SIMD)                                     \
   : (op) >= 0x400 ? WEFT_FEAT_SIMD                                                                \
   : (op) >= 0x200 ? 0                                                                             \
   : (op) >= 0x100 ? (WEFT_FEAT_GC | WEFT_FEAT_GC_HEAP)                                            \
   : ((op) == 0x08 || (op) == 0x0A || (op) == 0x1F) ? WEFT_FEAT_EXCEPTIONS                         \
   : ((op) == 0x12 || (op) == 0x13 || (op) == 0x15) ? WEFT_FEAT_TAIL_CALL                          \
   : ((op) == 0xD3)                 ? WEFT_FEAT_GC                                                 \
   : ((op) >= 0xE0 && (op) <= 0xE6) ? WEFT_FEAT_STACK_SWITCHING                                    \
                                    : 0)
static const uint16_t feat_tab[WEFT_OP_LIMIT] = {
#define FEAT_ROW(id, code, text, imm, sig) [code] = (uint16_t)FEAT_OF(code),
    WEFT_OPCODE_LIST(FEAT_ROW)
#undef FEAT_ROW
};
_Static_assert(WEFT_FEAT_GC_HEAP < 0x10000 && WEFT_FEAT_STACK_SWITCHING < 0x10000,
               "feat_tab holds the feature bits of opcodes in 16 bits");

enum { CTL_BLOCK = 0, CTL_IF = 1, CTL_ELSE = 2 };

/* -- Immediates --------------------------------------------------------------------------------- */

static bool s32v(core_dec *D, int32_t *out) {
  if (D->p < D->end && *D->p < 0x40) { /* one-byte non-negative */
    *out = *D->p++;
    return true;
  }
  int64_t v;
  if (!core_dec_leb_s(D, 32, &v)) return false;
  *out = (int32_t)v;
  return true;
}

static bool bytes(core_dec *D, void *out, size_t n) {
  if ((size_t)(D->end - D->p) < n) {
    D->p = D->end;
    return core_dec_eof(D);
  }
  memcpy(out, D->p, n);
  D->p += n;
  return true;
}

static bool blocktype(core_dec *D, weft_blocktype *out) {
  if (D->p >= D->end) return core_dec_eof(D);
  uint8_t b = *D->p;
  if (b == 0x40) {
    D->p++;
    *out = WEFT_BT_EMPTY;
    return true;
  }
  if (b >= 0x40 && b < 0x80) return core_dec_valtype(D, out);
  const uint8_t *at = D->p;
  int64_t v;
  if (!core_dec_leb_s(D, 33, &v)) return false;
  if (v < 0) return core_dec_fail(D, at, WEFT_ERR_MALFORMED, "malformed reference type");
  *out = WEFT_BT_MAKE_TYPEIDX(v > 0xFFFFFF ? 0xFFFFFFu : (uint32_t)v);
  return true;
}

static bool memarg(core_dec *D, weft_instr *in) {
  const uint8_t *at = D->p;
  uint32_t flags, mem = 0;
  if (!core_dec_u32(D, &flags)) return false;
  if (flags >= 0x80) return core_dec_fail(D, at, WEFT_ERR_MALFORMED, "malformed memop flags");
  if (flags & 0x40u) {
    if (!core_dec_u32(D, &mem)) return false;
    if (mem) D->features |= WEFT_FEAT_MULTI_MEMORY;
  }
  in->imm.mem.mem = mem;
  in->imm.mem.align = flags & 0x3Fu;
  if (D->p < D->end && *D->p < 0x80) {
    in->imm.mem.offset = *D->p++;
    return true;
  }
  return core_dec_leb_u(D, 64, &in->imm.mem.offset);
}

static bool pool_reserve(core_dec *D, uint64_t words) {
  return core_dec_grow(D, (void **)&D->pool, &D->cpool, (uint64_t)D->npool + words, sizeof(uint32_t));
}

/* try_table catches: kind, tag, label per catch. */
static bool catches(core_dec *D, weft_instr *in) {
  uint32_t n;
  if (!core_dec_len(D, &n) || !pool_reserve(D, (uint64_t)n * 3)) return false;
  in->imm.x.b = D->npool;
  in->imm.x.c = n;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t kind;
    uint32_t tag = 0, label;
    if (!core_dec_u8(D, &kind)) return false;
    if (kind > WEFT_CATCH_ALL_REF)
      return core_dec_fail(D, D->p - 1, WEFT_ERR_MALFORMED, "malformed catch clause");
    if (kind <= WEFT_CATCH_REF && !core_dec_u32(D, &tag)) return false;
    if (!core_dec_u32(D, &label)) return false;
    D->pool[D->npool++] = kind;
    D->pool[D->npool++] = tag;
    D->pool[D->npool++] = label;
  }
  return true;
}

/* resume handlers: kind, tag, label (0 for switch) per handler. */
static bool handlers(core_dec *D, weft_instr *in) {
  uint32_t n;
  if (!core_dec_len(D, &n) || !pool_reserve(D, (uint64_t)n * 3)) return false;
  in->imm.x.b = D->npool;
  in->imm.x.c = n;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t kind;
    uint32_t tag, label = 0;
    if (D->p >= D->end) return core_dec_eof(D);
    kind = *D->p;
    if (kind > WEFT_HANDLER_ON_SWITCH)
      return core_dec_fail(D, D->p, WEFT_ERR_MALFORMED, "ON opcode expected");
    D->p++;
    if (!core_dec_u32(D, &tag)) return false;
    if (kind == WEFT_HANDLER_ON_LABEL && !core_dec_u32(D, &label)) return false;
    D->pool[D->npool++] = kind;
    D->pool[D->npool++] = tag;
    D->pool[D->npool++] = label;
  }
  return true;
}

static bool br_table(core_dec *D, weft_instr *in) {
  uint32_t n;
  if (!core_dec_len(D, &n) || !pool_reserve(D, (uint64_t)n + 1)) return false;
  in->imm.x.a = D->npool;
  in->imm.x.b = n;
  for (uint32_t i = 0; i <= n; i++) {
    if (!core_dec_u32(D, &D->pool[D->npool])) return false;
    D->npool++;
  }
  return true;
}

static bool select_t(core_dec *D, weft_instr *in) {
  uint32_t n;
  if (!core_dec_len(D, &n)) return false;
  in->imm.x.a = n;
  for (uint32_t i = 0; i < n; i++) {
    weft_valtype t;
    if (!core_dec_valtype(D, &t)) return false;
    if (i == 0) in->imm.x.b = t;
  }
  return true;
}

static bool two(core_dec *D, weft_instr *in) {
  return core_dec_u32(D, &in->imm.x.a) && core_dec_u32(D, &in->imm.x.b);
}

/* Decodes the immediates of `in` (whose op is set) of shape `kind`. */
static bool immediates(core_dec *D, weft_instr *in, unsigned kind) {
  switch (kind) {
  case WEFT_IMM_NONE: return true;
  case WEFT_IMM_BLOCK: return blocktype(D, &in->imm.x.a);
  case WEFT_IMM_LABEL:
  case WEFT_IMM_FUNC:
  case WEFT_IMM_TYPE:
  case WEFT_IMM_LOCAL:
  case WEFT_IMM_GLOBAL:
  case WEFT_IMM_TABLE:
  case WEFT_IMM_MEM:
  case WEFT_IMM_TAG:
  case WEFT_IMM_DATA:
  case WEFT_IMM_ELEM: return core_dec_u32(D, &in->imm.x.a);
  case WEFT_IMM_BR_TABLE: return br_table(D, in);
  case WEFT_IMM_CALL_INDIRECT:
  case WEFT_IMM_TYPE_TYPE:
  case WEFT_IMM_TYPE_FIELD:
  case WEFT_IMM_TYPE_N:
  case WEFT_IMM_TYPE_DATA:
  case WEFT_IMM_TYPE_ELEM:
  case WEFT_IMM_MEM_DATA:
  case WEFT_IMM_MEM_MEM:
  case WEFT_IMM_TABLE_ELEM:
  case WEFT_IMM_TABLE_TABLE:
  case WEFT_IMM_SWITCH: return two(D, in);
  case WEFT_IMM_SELECT_T: return select_t(D, in);
  case WEFT_IMM_TRY_TABLE: return blocktype(D, &in->imm.x.a) && catches(D, in);
  case WEFT_IMM_MEMARG: return memarg(D, in);
  case WEFT_IMM_MEMARG_LANE: return memarg(D, in) && core_dec_u8(D, &in->b);
  case WEFT_IMM_I32: return s32v(D, &in->imm.i32);
  case WEFT_IMM_I64: return core_dec_leb_s(D, 64, &in->imm.i64);
  case WEFT_IMM_F32: return bytes(D, &in->imm.f32, 4);
  case WEFT_IMM_F64: return bytes(D, &in->imm.f64, 8);
  case WEFT_IMM_V128:
  case WEFT_IMM_SHUFFLE: return bytes(D, in->imm.v128, 16);
  case WEFT_IMM_HEAPTYPE: {
    uint32_t ht;
    if (!core_dec_heaptype(D, &ht)) return false;
    in->imm.x.a = WEFT_VT_MAKE_REF(1, ht);
    return true;
  }
  case WEFT_IMM_REFTYPE: {
    uint32_t ht;
    if (!core_dec_heaptype(D, &ht)) return false;
    bool nullable = in->op == WEFT_OP_REF_TEST_NULL || in->op == WEFT_OP_REF_CAST_NULL;
    in->imm.x.a = WEFT_VT_MAKE_REF(nullable, ht);
    return true;
  }
  case WEFT_IMM_BR_ON_CAST: {
    uint32_t h1, h2;
    if (!core_dec_u8(D, &in->b)) return false;
    if (in->b & 0xFCu)
      return core_dec_fail(D, D->p - 1, WEFT_ERR_MALFORMED, "malformed br_on_cast flags");
    if (!core_dec_u32(D, &in->imm.x.a) || !core_dec_heaptype(D, &h1) ||
        !core_dec_heaptype(D, &h2))
      return false;
    in->imm.x.b = WEFT_VT_MAKE_REF(in->b & 1u, h1);
    in->imm.x.c = WEFT_VT_MAKE_REF((in->b >> 1) & 1u, h2);
    return true;
  }
  case WEFT_IMM_LANE: return core_dec_u8(D, &in->b);
  case WEFT_IMM_RESUME: return core_dec_u32(D, &in->imm.x.a) && handlers(D, in);
  case WEFT_IMM_RESUME_THROW:
    return core_dec_u32(D, &in->imm.x.a) && core_dec_u32(D, &in->imm.x.d) && handlers(D, in);
  default: return core_dec_fail(D, D->p, WEFT_ERR_INTERNAL, "unhandled immediate shape %u", kind);
  }
}

/* -- Expressions -------------------------------------------------------------------------------- */

bool core_dec_expr(core_dec *D, weft_expr *out) {
  uint32_t first = D->nins;
  uint32_t depth = 0;
  for (;;) {
    if (D->nins == D->cins &&
        !core_dec_grow(D, (void **)&D->ins, &D->cins, (uint64_t)D->nins + 1, sizeof(weft_instr)))
      return false;
    const uint8_t *at = D->p;
    if (at >= D->end) return core_dec_eof(D);
    uint8_t b = *D->p++;
    weft_instr *in = &D->ins[D->nins];
    memset(in, 0, sizeof *in);
    in->off = (uint32_t)(at - D->base);
    uint32_t op = b;
    switch (b) {
    case WEFT_OP_END:
      in->op = WEFT_OP_END;
      D->nins++;
      if (depth == 0) {
        out->code = (const weft_instr *)(uintptr_t)first;
        out->ninstrs = D->nins - first;
        return true;
      }
      depth--;
      continue;
    case WEFT_OP_ELSE:
      if (depth == 0 || D->ctl[depth - 1] != CTL_IF)
        return core_dec_fail(D, at, WEFT_ERR_MALFORMED, "END opcode expected");
      D->ctl[depth - 1] = CTL_ELSE;
      in->op = WEFT_OP_ELSE;
      D->nins++;
      continue;
    case 0x07: /* catch, catch_all of the legacy proposal end a block in the reference decoder */
    case 0x19: return core_dec_fail(D, at, WEFT_ERR_MALFORMED, "END opcode expected");
    case 0x18: return core_dec_fail(D, at, WEFT_ERR_MALFORMED, "misplaced DELEGATE opcode");
    case WEFT_PREFIX_GC:
    case WEFT_PREFIX_MISC:
    case WEFT_PREFIX_SIMD: {
      uint32_t sub;
      if (!core_dec_u32(D, &sub)) return false;
      uint32_t lim = b == WEFT_PREFIX_SIMD ? 0x200 : 0x100;
      if (sub >= lim)
        return core_dec_fail(D, at, WEFT_ERR_MALFORMED, "illegal opcode %02x %02x", b, sub);
      op = (b == WEFT_PREFIX_GC ? 0x100 : b == WEFT_PREFIX_MISC ? 0x200 : 0x400) + sub;
      if (!imm_tab[op])
        return core_dec_fail(D, at, WEFT_ERR_MALFORMED, "illegal opcode %02x %02x", b, sub);
      break;
    }
    default:
      if (!imm_tab[op]) return core_dec_fail(D, at, WEFT_ERR_MALFORMED, "illegal opcode %02x", b);
      break;
    }
    in->op = (uint16_t)op;
    unsigned kind = imm_tab[op] - 1u;
    if (kind != WEFT_IMM_NONE && !immediates(D, in, kind)) return false;
    D->features |= feat_tab[op];
    switch (op) {
    case WEFT_OP_BLOCK:
    case WEFT_OP_LOOP:
    case WEFT_OP_IF:
    case WEFT_OP_TRY_TABLE:
      if (!core_dec_grow(D, (void **)&D->ctl, &D->cctl, (uint64_t)depth + 1, 1)) return false;
      D->ctl[depth++] = op == WEFT_OP_IF ? CTL_IF : CTL_BLOCK;
      break;
    case WEFT_OP_MEMORY_INIT:
      if (in->imm.x.b) D->features |= WEFT_FEAT_MULTI_MEMORY;
      D->uses_data |= D->in_body;
      break;
    case WEFT_OP_DATA_DROP:
    case WEFT_OP_ARRAY_NEW_DATA:
    case WEFT_OP_ARRAY_INIT_DATA: D->uses_data |= D->in_body; break;
    case WEFT_OP_MEMORY_SIZE:
    case WEFT_OP_MEMORY_GROW:
    case WEFT_OP_MEMORY_FILL:
    case WEFT_OP_MEMORY_COPY:
      if (in->imm.x.a | in->imm.x.b) D->features |= WEFT_FEAT_MULTI_MEMORY;
      break;
    default: break;
    }
    D->nins++;
  }
}
