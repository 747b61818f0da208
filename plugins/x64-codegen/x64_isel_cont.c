/* plugins/x64-codegen/x64_isel_cont.c -- stack switching in the single-pass compiler: cont.new,
 * cont.bind, suspend, resume, resume_throw[_ref], switch, continuation tables and the null tests of
 * continuation references, which are 16 bytes {contref, revision} (X64_T_V128 on the value stack).
 * Each switching instruction: spill, its bookkeeping inline (the common path) or a first-half
 * libcall (everything else), the switch sequence, then the second half inline or as a libcall.
 * Depends on: x64_int.h, vm.h, plugin/contstacks.h (effects), core/cont.h (the libcalls).
 */
#include <stddef.h>
#include <string.h>

#include "weft/plugin/contstacks.h"
#include "x64_int.h"

/* -- Helpers --------------------------------------------------------------------------------- */

/* The function type behind continuation type `ct` (or a function type index), NULL after a fail. */
static const weft_type *cont_ft(x64_fn *c, uint32_t ct) {
  const weft_module *m = c->m;
  if (ct >= m->ntypes) goto bad;
  const weft_type *t = &m->types[ct];
  if (t->comp == WEFT_COMP_CONT) {
    if (t->u.cont_func >= m->ntypes) goto bad;
    t = &m->types[t->u.cont_func];
  }
  if (t->comp != WEFT_COMP_FUNC) goto bad;
  return t;
bad:
  x64_fail(c, WEFT_ERR_INVALID, "function %u: type %u is not a continuation type", c->fidx, ct);
  return NULL;
}

static const weft_type *tag_ft(x64_fn *c, uint32_t tag) {
  if (tag >= c->m->ntags || c->m->tags[tag].type >= c->m->ntypes ||
      c->m->types[c->m->tags[tag].type].comp != WEFT_COMP_FUNC) {
    x64_fail(c, WEFT_ERR_INVALID, "function %u: unknown tag %u", c->fidx, tag);
    return NULL;
  }
  return &c->m->types[c->m->tags[tag].type];
}

static uint32_t umax(uint32_t a, uint32_t b) { return a > b ? a : b; }

/* 16-byte moves through xmm15 (SSE2 movdqu). */
static void copy16(x64_fn *c, x64_mem dst, x64_mem src) {
  x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_LD, X64_XSCRATCH, src);
  x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_ST, X64_XSCRATCH, dst);
}

/* One value of type `t` (x64 type) from src to dst through GPR `tmp` or xmm15: 8 bytes for scalars
 * and references, so that a 16-byte load never follows two 8-byte stores to the same slot (a
 * store-forwarding stall on every switch). */
static void copy_val(x64_fn *c, int t, x64_mem dst, x64_mem src, int tmp) {
  if (t == X64_T_V128) {
    copy16(c, dst, src);
    return;
  }
  x64_emit_load(c->b, true, tmp, src);
  x64_emit_store(c->b, true, dst, tmp);
}

/* The io area: value i is 16 bytes at operand slot base + 2 i (weft_val_raw, core/cont.h). */
static x64_mem io_at(x64_fn *c, uint32_t base, uint32_t i) { return x64_slot(c, base + 2 * i); }

/* Checks `nops` operands exist, reserves `words` 8-byte operand slots from the first operand's slot
 * (the io area), moves operand i to io value i straight from wherever it is (register, constant,
 * its slot; last first: value i only lands on slots of operands above i, already moved), pops the
 * operands and spills everything below them. Returns the first slot's depth. With `top_xmm`: the
 * XMM register the last operand (a 16-byte value) was in, or -1; it still holds the value until
 * the caller emits anything that uses XMM registers. */
static bool begin_top(x64_fn *c, uint32_t nops, uint32_t words, uint32_t *base, int *top_xmm) {
  if (nops > c->stk.n) {
    x64_fail(c, WEFT_ERR_INVALID, "function %u: continuation instruction without its %u operands",
             c->fidx, nops);
    return false;
  }
  x64_save_pinned(c);
  *base = c->stk.n - nops;
  if (top_xmm != NULL) *top_xmm = -1;
  (void)x64_slot(c, *base + (words > 2 * nops ? words : 2 * nops)); /* reserves the io area */
  for (uint32_t i = nops; i-- > 0;) {
    const x64_val *v = &c->stk.v[*base + i];
    x64_mem dst = io_at(c, *base, i);
    if (v->type == X64_T_V128) {
      if (top_xmm != NULL && i == nops - 1 && X64_IN_REG(v) && v->reg < 14) *top_xmm = v->reg;
      if (v->kind == X64_VK_MEM)
        copy16(c, dst, x64_vslot(c, *base + i));
      else
        x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_ST, v->reg, dst);
    } else if (v->kind == X64_VK_CONST) {
      x64_emit_mov_ri(c->b, X64_SCRATCH, v->imm);
      x64_emit_store(c->b, true, dst, X64_SCRATCH);
    } else if (X64_IN_REG(v)) {
      if (X64_IS_FLOAT(v->type))
        x64_emit_sse_rm(c->b, X64_PF2, X64_SSE_MOVST, v->reg, dst);
      else
        x64_emit_store(c->b, true, dst, v->reg);
    } else if (i > 0) { /* in its slot; value 0's slot is io value 0's low half */
      x64_emit_load(c->b, true, X64_SCRATCH, x64_slot(c, *base + i));
      x64_emit_store(c->b, true, dst, X64_SCRATCH);
    }
  }
  while (c->stk.n > *base) {
    x64_val v = x64_pop(c);
    x64_free_val(c, &v);
  }
  x64_spill_all(c);
  return true;
}

static bool begin(x64_fn *c, uint32_t nops, uint32_t words, uint32_t *base) {
  return begin_top(c, nops, words, base, NULL);
}

/* Every use is on the instruction's one way out (after its paths joined): the pinned registers
 * just reloaded equal their homes. */
static void after(x64_fn *c) {
  x64_reload_membase(c);
  x64_after_libcall(c);
  x64_pins_clean(c);
}

/* Pushes io values 0..n (and a continuation reference after them when with_ref) as registers
 * loaded from the io area at `base`, never rax (it holds resume's effect while the clauses are
 * dispatched). Should the registers run out, the deepest value spills to its slot base + j, which
 * only overlaps io values already read (j < i). */
static void push_slots(x64_fn *c, uint32_t base, const weft_valtype *t, uint32_t n, bool with_ref) {
  for (uint32_t i = 0; i < n + (with_ref ? 1u : 0u); i++) {
    int type = i < n ? x64_type_of(t[i]) : X64_T_V128;
    x64_mem src = io_at(c, base, i);
    int r;
    if (type == X64_T_V128) {
      r = x64_alloc_xmm(c);
      x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_LD, r, src);
    } else if (X64_IS_FLOAT(type)) {
      r = x64_alloc_xmm(c);
      x64_emit_sse_rm(c->b, type == X64_T_F64 ? X64_PF2 : X64_PF3, X64_SSE_MOVLD, r, src);
    } else {
      r = x64_alloc_gpr(c, (uint16_t)(1u << X64_RAX));
      x64_emit_load(c->b, type != X64_T_I32, r, src);
    }
    x64_push_reg(c, type, r);
  }
}

/* rax:rdx = {contref, revision} from a libcall: a new top value in an XMM register (low quadword
 * contref, high revision). Not two 8-byte stores to a slot: the 16-byte load that reads the
 * value next would stall on store forwarding. */
static void push_rax_rdx(x64_fn *c) {
  int x = x64_alloc_xmm(c);
  x64_emit_movd_xr(c->b, true, x, X64_RAX);
  x64_emit_movd_xr(c->b, true, X64_XSCRATCH, X64_RDX);
  x64_emit_sse_rr(c->b, X64_P66, 0x0F6Cu, x, X64_XSCRATCH); /* punpcklqdq */
  x64_push_reg(c, X64_T_V128, x);
}

static void drop_to(x64_fn *c, uint32_t h) {
  while (c->stk.n > h) {
    x64_val v = x64_pop(c);
    x64_free_val(c, &v);
  }
}

/* The switch itself, inline (docs/STACK-SWITCHING.md §3): rsi = L (the control context to load),
 * r8 = S (the one to save into), rdi = the effect. No call or return crosses stacks: one indirect
 * jmp. Whoever switches back lands right after it with the effect in rdi and every register but
 * rsp/rbp clobbered, so vmctx is reloaded here; the caller reloads the rest (after()). */
static size_t emit_switch(x64_fn *c) {
  static const uint8_t seq[] = {
      0x48, 0x8b, 0x06,                         /* mov rax, [rsi]      new rsp */
      0x48, 0x8b, 0x4e, 0x08,                   /* mov rcx, [rsi+8]    new rbp */
      0x48, 0x8b, 0x56, 0x10,                   /* mov rdx, [rsi+16]   new rip */
      0x49, 0x89, 0x20,                         /* mov [r8], rsp */
      0x49, 0x89, 0x68, 0x08,                   /* mov [r8+8], rbp */
      0x4c, 0x8d, 0x1d, 0x0c, 0x00, 0x00, 0x00, /* lea r11, [rip+12]   the byte after jmp */
      0x4d, 0x89, 0x58, 0x10,                   /* mov [r8+16], r11 */
      0x48, 0x89, 0xc4,                         /* mov rsp, rax */
      0x48, 0x89, 0xcd,                         /* mov rbp, rcx */
      0xff, 0xe2,                               /* jmp rdx */
  };
  if (!x64_buf_reserve(c->b, sizeof seq)) return c->b->len;
  for (size_t i = 0; i < sizeof seq; i++) x64_emit_u8(c->b, seq[i]);
  size_t landing = c->b->len;
  x64_safepoint(c); /* the resume point: where a suspended frame or a parent's resume site stops */
  x64_emit_load(c->b, true, X64_VMCTX, x64_m(X64_RBP, -8));
  return landing;
}

/* After a first-half libcall: rax:rdx = {cc, effect} (S = L = cc), or {S, L} for switch. */
static void switch_regs_from_libcall(x64_fn *c, bool same) {
  if (same) {
    x64_emit_mov_rr(c->b, true, X64_RDI, X64_RDX);
    x64_emit_mov_rr(c->b, true, X64_RSI, X64_RAX);
    x64_emit_mov_rr(c->b, true, X64_R8, X64_RAX);
  } else {
    x64_emit_mov_rr(c->b, true, X64_RSI, X64_RDX);
    x64_emit_mov_rr(c->b, true, X64_R8, X64_RAX);
    x64_emit_mov_ri(c->b, X64_RDI, WEFT_EFFECT_MAKE(WEFT_EFFECT_SWITCH, 0));
  }
}

/* Second-half libcall arguments: rdi = vmctx, rsi = the effect that arrived. */
static void second_half_regs(x64_fn *c) {
  x64_emit_mov_rr(c->b, true, X64_RSI, X64_RDI);
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
}

/* -- The inline protocol ---------------------------------------------------------------------- */

/* docs/STACK-SWITCHING.md §4 in generated code: the revision check, payload appends (capacity
 * checked), the chain splice, all four limit words, the handler list in the resumer's frame and
 * the handler search by tag address, with no call. Anything off the common path (null or stale
 * references, full payload buffers, no handler, a trap or an exception coming back, resume_throw)
 * jumps, before anything is changed, to the libcall that does the whole instruction in C
 * (core/cont.c) and raises the spec's trap. Sanitizer builds always take the libcalls, which
 * bracket each switch with the ASan fiber annotations (§9). */
#if defined(WEFT_SANITIZE)
#define INLINE_PROTOCOL 0
#else
#define INLINE_PROTOCOL 1
#endif

enum {
  VM_STORE_CTX = offsetof(weft_vmctx_header, store_ctx),
  CTX_CHAIN_KIND = offsetof(weft_store_ctx, stack_chain),
  CTX_CHAIN_CSI = offsetof(weft_store_ctx, stack_chain) + sizeof(uintptr_t),
  CSI_STATE = offsetof(weft_common_stack_info, state),
  CSI_FIRST_SWITCH = offsetof(weft_common_stack_info, first_switch_handler),
  CSI_HANDLERS = offsetof(weft_common_stack_info, handlers),
  CSI_HANDLERS_DATA = offsetof(weft_common_stack_info, handlers) + offsetof(weft_handler_list, data),
  CR_PARENT_KIND = offsetof(weft_contref, parent_chain),
  CR_PARENT_CSI = offsetof(weft_contref, parent_chain) + sizeof(uintptr_t),
  CR_LAST_ANCESTOR = offsetof(weft_contref, last_ancestor),
  CR_REVISION = offsetof(weft_contref, revision),
  CR_STACK_TOP = offsetof(weft_contref, stack_top),
  CR_ARGS = offsetof(weft_contref, args),
  CR_ARGS_DATA = offsetof(weft_contref, args) + offsetof(weft_payloads, data),
  CR_VALUES = offsetof(weft_contref, values),
  CR_VALUES_DATA = offsetof(weft_contref, values) + offsetof(weft_payloads, data),
  PL_CAPACITY = offsetof(weft_payloads, capacity),
  PL_DATA = offsetof(weft_payloads, data),
  CC_SIZE = sizeof(weft_control_ctx),
};

/* Forward jumps to one label (the slow path, or a join point). */
typedef struct jumps {
  size_t at[24];
  uint32_t n;
} jumps;

static void jump_if(x64_fn *c, jumps *j, int cc) {
  size_t at = cc < 0 ? x64_emit_jmp(c->b) : x64_emit_jcc(c->b, cc);
  if (j->n < sizeof j->at / sizeof j->at[0])
    j->at[j->n++] = at;
  else
    x64_fail(c, WEFT_ERR_INTERNAL, "function %u: too many jumps in one switch sequence", c->fidx);
}

static void land(x64_fn *c, jumps *j) {
  for (uint32_t i = 0; i < j->n; i++) x64_patch_rel32(c->b, j->at[i], c->b->len);
  j->n = 0;
}

static void ld(x64_fn *c, int r, int base, int32_t disp) {
  x64_emit_load(c->b, true, r, x64_m(base, disp));
}
static void ld32(x64_fn *c, int r, int base, int32_t disp) {
  x64_emit_load(c->b, false, r, x64_m(base, disp));
}
static void st(x64_fn *c, int base, int32_t disp, int r) {
  x64_emit_store(c->b, true, x64_m(base, disp), r);
}
static void st32i(x64_fn *c, int base, int32_t disp, uint32_t v) {
  x64_emit_store_imm32(c->b, false, x64_m(base, disp), (int32_t)v);
}
/* A control context's address: stack_top - 24 of contref `r`, into `dst`. */
static void cc_of(x64_fn *c, int dst, int r) {
  ld(c, dst, r, CR_STACK_TOP);
  x64_emit_alu_ri(c->b, X64_SUB, true, dst, CC_SIZE);
}
/* Prefetches the top lines of contref r's stack: the control context and the frames a resume
 * returns into. A suspended stack is usually cold (c10m: 10,000 of them); its lines are otherwise
 * reached one dependent miss after another (context, then each frame). Clobbers rax. */
static void prefetch_top(x64_fn *c, int r) {
  ld(c, X64_RAX, r, CR_STACK_TOP);
  for (int32_t i = 1; i <= 6; i++) x64_emit_rm(c->b, 0, 0x0F18u, 1, x64_m(X64_RAX, -64 * i));
}

/* The 32 bytes of limits from [src] to [dst]. */
static void copy_limits(x64_fn *c, int dst, int src) {
  copy16(c, x64_m(dst, 0), x64_m(src, 0));
  copy16(c, x64_m(dst, 16), x64_m(src, 16));
}

/* The revision check of the reference at `ref` (rsi = its contref) and the payload it appends to:
 * rcx = &args (FRESH) or &values (SUSPENDED), r9 = length, r10 = data, rax = length + n, after
 * checking that `n` more values fit (n == 0: no payload, rcx unset). Clobbers rax, r8; keeps rdx
 * and rdi. Jumps to slow otherwise, before changing anything. With `xmm` >= 0 the reference is
 * taken from that register (begin_top) rather than reloaded from `ref`, which begin_top has just
 * stored: one store-to-load forwarding fewer on the way to the switch (about 1 ns of a
 * pingpong switch or a generator round trip, interleaved A/B, 30 runs). */
static void check_ref(x64_fn *c, x64_mem ref, int xmm, uint32_t n, jumps *slow) {
  x64_buf *b = c->b;
  if (xmm >= 0)
    x64_emit_movd_rx(b, true, X64_RSI, xmm);
  else
    x64_emit_load(b, true, X64_RSI, ref);
  x64_emit_test_rr(b, true, X64_RSI, X64_RSI);
  jump_if(c, slow, X64_CC_E);
  x64_mem rev = ref;
  rev.disp += 8;
  if (xmm >= 0)
    x64_emit_pextrq(b, X64_RAX, xmm, 1);
  else
    x64_emit_load(b, true, X64_RAX, rev);
  x64_emit_alu_rm(b, X64_CMP, true, X64_RAX, x64_m(X64_RSI, CR_REVISION));
  jump_if(c, slow, X64_CC_NE);
  ld32(c, X64_RAX, X64_RSI, CSI_STATE);
  if (n > 0) x64_emit_lea(b, true, X64_RCX, x64_m(X64_RSI, CR_VALUES));
  x64_emit_alu_ri(b, X64_CMP, false, X64_RAX, WEFT_STACK_SUSPENDED);
  size_t susp = x64_emit_jcc(b, X64_CC_E);
  if (n > 0) x64_emit_lea(b, true, X64_RCX, x64_m(X64_RSI, CR_ARGS));
  x64_emit_test_rr(b, false, X64_RAX, X64_RAX); /* FRESH */
  jump_if(c, slow, X64_CC_NE);
  x64_patch_rel32(b, susp, b->len);
  if (n == 0) return;
  ld32(c, X64_R9, X64_RCX, 0);
  ld(c, X64_R10, X64_RCX, PL_DATA);
  x64_emit_test_rr(b, true, X64_R10, X64_R10);
  jump_if(c, slow, X64_CC_E);
  x64_emit_lea(b, true, X64_RAX, x64_m(X64_R9, (int32_t)n));
  ld32(c, X64_R8, X64_RCX, PL_CAPACITY);
  x64_emit_alu_rr(b, X64_CMP, true, X64_RAX, X64_R8);
  jump_if(c, slow, X64_CC_A);
}

/* After check_ref: payload length += n, r10 = &data[old length], then values 0..n-1 of types `t`
 * from io to there. */
static void append_io(x64_fn *c, uint32_t base, const weft_valtype *t, uint32_t n) {
  x64_emit_store(c->b, false, x64_m(X64_RCX, 0), X64_RAX);
  x64_emit_shift_ri(c->b, X64_SHL, true, X64_R9, 4);
  x64_emit_alu_rr(c->b, X64_ADD, true, X64_R10, X64_R9);
  for (uint32_t i = 0; i < n; i++)
    copy_val(c, x64_type_of(t[i]), x64_m(X64_R10, (int32_t)(16 * i)), io_at(c, base, i), X64_RAX);
}

/* {contref in r, its revision} as one 16-byte store to dst (through xmm14/xmm15). */
static void store_ref16(x64_fn *c, x64_mem dst, int r) {
  x64_emit_movd_xr(c->b, true, 14, r);
  x64_emit_sse_rm(c->b, X64_PF3, 0x0F7Eu, X64_XSCRATCH, x64_m(r, CR_REVISION)); /* movq */
  x64_emit_sse_rr(c->b, X64_P66, 0x0F6Cu, 14, X64_XSCRATCH);                     /* punpcklqdq */
  x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_ST, 14, dst);
}

/* The handler search (§4 suspend 1) for the tag of module index `tag`: from the chain's head, each
 * parent's suspend clauses [0, first_switch) or switch clauses [first_switch, length) compared with
 * the tag's address. In: rdi = the store context. On a hit: rdx = la (the chain element whose parent
 * holds the clause), r8 = the index in that parent's list. Reaching an initial stack (host frames
 * are barriers) jumps to slow, which raises "unhandled tag". Clobbers rax, rcx, r9, r10. */
static void find_handler(x64_fn *c, uint32_t tag, bool want_switch, jumps *slow) {
  x64_buf *b = c->b;
  x64_emit_alu_mi(b, X64_CMP, true, x64_m(X64_RDI, CTX_CHAIN_KIND), WEFT_CHAIN_CONTINUATION);
  jump_if(c, slow, X64_CC_NE);
  ld(c, X64_R9, X64_VMCTX, (int32_t)(c->mc->lay.tags + 8 * tag));
  ld(c, X64_RDX, X64_RDI, CTX_CHAIN_CSI);
  size_t top = b->len;
  ld(c, X64_RCX, X64_RDX, CR_PARENT_CSI);
  x64_emit_test_rr(b, true, X64_RCX, X64_RCX);
  jump_if(c, slow, X64_CC_E);
  ld32(c, X64_RAX, X64_RCX, CSI_HANDLERS);         /* length */
  ld32(c, X64_R8, X64_RCX, CSI_FIRST_SWITCH);
  x64_emit_alu_rr(b, X64_CMP, false, X64_R8, X64_RAX);
  x64_emit_cmov(b, X64_CC_A, false, X64_R8, X64_RAX); /* split = min(first_switch, length) */
  if (!want_switch) {
    x64_emit_mov_rr(b, false, X64_RAX, X64_R8);
    x64_emit_alu_rr(b, X64_XOR, false, X64_R8, X64_R8);
  }
  ld(c, X64_R10, X64_RCX, CSI_HANDLERS_DATA);
  jumps found = {0};
  size_t scan = b->len;
  x64_emit_alu_rr(b, X64_CMP, false, X64_R8, X64_RAX);
  size_t next = x64_emit_jcc(b, X64_CC_AE);
  x64_emit_alu_rm(b, X64_CMP, true, X64_R9, x64_mi(X64_R10, X64_R8, 3, 0));
  jump_if(c, &found, X64_CC_E);
  x64_emit_alu_ri(b, X64_ADD, false, X64_R8, 1);
  x64_patch_rel32(b, x64_emit_jmp(b), scan);
  x64_patch_rel32(b, next, b->len);
  x64_emit_alu_mi(b, X64_CMP, true, x64_m(X64_RDX, CR_PARENT_KIND), WEFT_CHAIN_CONTINUATION);
  jump_if(c, slow, X64_CC_NE);
  x64_emit_mov_rr(b, true, X64_RDX, X64_RCX); /* the parent: its CSI is the contref */
  x64_patch_rel32(b, x64_emit_jmp(b), top);
  land(c, &found);
}

/* -- cont.new, cont.bind --------------------------------------------------------------------- */

static void do_cont_new(x64_fn *c, uint32_t ct) {
  const weft_type *ft = cont_ft(c, ct);
  uint32_t base;
  if (!ft || !begin(c, 1, 2, &base)) return;
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  x64_emit_load(c->b, true, X64_RSI, x64_slot(c, base));
  x64_emit_mov_ri32(c->b, X64_RDX, ft->u.func.nparams);
  x64_emit_mov_ri32(c->b, X64_RCX, ft->u.func.nresults);
  x64_call_libcall(c, WEFT_LC_CONT_NEW_REF);
  after(c);
  push_rax_rdx(c);
}

static void do_cont_bind(x64_fn *c, uint32_t src, uint32_t dst) {
  const weft_type *fs = cont_ft(c, src), *fd = cont_ft(c, dst);
  if (!fs || !fd) return;
  if (fd->u.func.nparams > fs->u.func.nparams) {
    x64_fail(c, WEFT_ERR_INVALID, "function %u: cont.bind to a type with more params", c->fidx);
    return;
  }
  uint32_t n = fs->u.func.nparams - fd->u.func.nparams, base;
  if (!begin(c, n + 1, 2 * (n + 1), &base)) return;
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  x64_emit_lea(c->b, true, X64_RSI, io_at(c, base, 0));
  x64_emit_mov_ri32(c->b, X64_RDX, src);
  x64_emit_mov_ri32(c->b, X64_RCX, dst);
  x64_call_libcall(c, WEFT_LC_CONT_BIND);
  after(c);
  push_rax_rdx(c);
}

/* -- suspend, switch ------------------------------------------------------------------------- */

/* The suspender's side after the handler search (rdx = la, r8 = list index, rdi = ctx): it becomes
 * the head of a suspended chain ending at la, its payload buffer the frame's io area with `np`
 * values of capacity `cap`; la leaves the running chain. */
static void suspend_self(x64_fn *c, uint32_t base, uint32_t np, uint32_t cap) {
  x64_buf *b = c->b;
  ld(c, X64_RSI, X64_RDI, CTX_CHAIN_CSI);
  st(c, X64_RSI, CR_LAST_ANCESTOR, X64_RDX);
  x64_emit_mov_ri(b, X64_RAX, (uint64_t)np | (uint64_t)cap << 32);
  st(c, X64_RSI, CR_VALUES, X64_RAX);
  x64_emit_lea(b, true, X64_RAX, io_at(c, base, 0));
  st(c, X64_RSI, CR_VALUES_DATA, X64_RAX);
  st32i(c, X64_RSI, CSI_STATE, WEFT_STACK_SUSPENDED);
}

/* Woken after suspend/switch (rdi = the effect): RESUME and SWITCH left the values in the io area;
 * the payload buffer is forgotten. RESUME_THROW goes to the second-half libcall, which throws. */
static void woken(x64_fn *c, uint32_t base, uint32_t libcall, uint32_t imm) {
  x64_buf *b = c->b;
  jumps done = {0};
  size_t slow = 0;
  if (INLINE_PROTOCOL) {
    x64_emit_mov_rr(b, true, X64_RAX, X64_RDI);
    x64_emit_shift_ri(b, X64_SHR, true, X64_RAX, 32);
    x64_emit_alu_ri(b, X64_CMP, false, X64_RAX, WEFT_EFFECT_RESUME_THROW);
    slow = x64_emit_jcc(b, X64_CC_E);
    ld(c, X64_RCX, X64_VMCTX, VM_STORE_CTX);
    ld(c, X64_RCX, X64_RCX, CTX_CHAIN_CSI);
    x64_emit_alu_rr(b, X64_XOR, false, X64_RAX, X64_RAX);
    st(c, X64_RCX, CR_VALUES, X64_RAX);
    st(c, X64_RCX, CR_VALUES_DATA, X64_RAX);
    jump_if(c, &done, -1);
    x64_patch_rel32(b, slow, b->len);
  }
  second_half_regs(c);
  x64_emit_lea(b, true, X64_RDX, x64_slot(c, base));
  x64_emit_mov_ri32(b, X64_RCX, imm);
  x64_emit_mov_rr(b, true, X64_R8, X64_RBP);
  x64_call_libcall(c, libcall);
  land(c, &done);
  after(c);
}

static void do_suspend(x64_fn *c, uint32_t tag) {
  const weft_type *tt = tag_ft(c, tag);
  if (!tt) return;
  uint32_t np = tt->u.func.nparams, nr = tt->u.func.nresults, base;
  uint32_t cap = umax(1, umax(np, nr));
  /* io doubles as the suspender's payload buffer: max(1, np, nr) 16-byte slots */
  if (!begin(c, np, 2 * cap, &base)) return;
  x64_buf *b = c->b;
  jumps slow = {0}, go = {0};
  if (INLINE_PROTOCOL) {
    ld(c, X64_RDI, X64_VMCTX, VM_STORE_CTX);
    find_handler(c, tag, false, &slow);
    suspend_self(c, base, np, cap);
    x64_emit_alu_rr(b, X64_XOR, false, X64_RAX, X64_RAX); /* la->parent_chain = ABSENT */
    st(c, X64_RDX, CR_PARENT_KIND, X64_RAX);
    st(c, X64_RDX, CR_PARENT_CSI, X64_RAX);
    cc_of(c, X64_RSI, X64_RDX);
    x64_emit_mov_ri(b, X64_RDI, WEFT_EFFECT_MAKE(WEFT_EFFECT_SUSPEND, 0));
    x64_emit_alu_rr(b, X64_OR, true, X64_RDI, X64_R8);
    x64_emit_mov_rr(b, true, X64_R8, X64_RSI);
    jump_if(c, &go, -1);
    land(c, &slow);
  }
  x64_emit_mov_rr(b, true, X64_RDI, X64_VMCTX);
  x64_emit_mov_ri32(b, X64_RSI, tag);
  x64_emit_lea(b, true, X64_RDX, x64_slot(c, base));
  x64_emit_mov_rr(b, true, X64_RCX, X64_RBP);
  x64_call_libcall(c, WEFT_LC_SUSPEND);
  switch_regs_from_libcall(c, true);
  land(c, &go);
  emit_switch(c);
  woken(c, base, WEFT_LC_SUSPEND_END, tag);
  push_slots(c, base, tt->u.func.results, nr, false);
}

/* switch's inline first half (§4 switch): rdi = ctx, then the handler search over the switch
 * clauses, the target's revision check and payload (its args, then the switcher), the switcher
 * suspended up to la, the target's chain spliced below la's old parent h, and the switch. */
static void switch_fast(x64_fn *c, uint32_t tag, uint32_t base, int ref_xmm, const weft_type *ft,
                        uint32_t n2, jumps *slow, size_t *lea_at) {
  uint32_t np1 = ft->u.func.nparams;
  x64_buf *b = c->b;
  ld(c, X64_RDI, X64_VMCTX, VM_STORE_CTX);
  find_handler(c, tag, true, slow); /* GPRs only: ref_xmm still holds the target */
  check_ref(c, io_at(c, base, np1 - 1), ref_xmm, np1, slow); /* keeps rdx = la, rdi = ctx */
  /* committed: the target is consumed and gets args ++ [the switcher] */
  x64_emit_alu_mi(b, X64_ADD, true, x64_m(X64_RSI, CR_REVISION), 1);
  append_io(c, base, ft->u.func.params, np1 - 1);
  ld(c, X64_R8, X64_RDI, CTX_CHAIN_CSI); /* a, the switcher */
  store_ref16(c, x64_m(X64_R10, (int32_t)(16 * (np1 - 1))), X64_R8);
  /* the switcher: suspended up to la, buffer = io, keeps its entry fields */
  st(c, X64_R8, CR_LAST_ANCESTOR, X64_RDX);
  x64_emit_mov_ri(b, X64_RAX, (uint64_t)umax(1, n2) << 32);
  st(c, X64_R8, CR_VALUES, X64_RAX);
  x64_emit_lea(b, true, X64_RAX, io_at(c, base, 0));
  st(c, X64_R8, CR_VALUES_DATA, X64_RAX);
  st32i(c, X64_R8, CSI_STATE, WEFT_STACK_SUSPENDED);
  ld(c, X64_RAX, X64_RDI, 8);
  st(c, X64_R8, 8, X64_RAX);
  copy16(c, x64_m(X64_R8, 16), x64_m(X64_RDI, 16));
  /* h = la->parent_chain; la leaves the chain */
  ld(c, X64_R9, X64_RDX, CR_PARENT_KIND);
  ld(c, X64_R10, X64_RDX, CR_PARENT_CSI);
  x64_emit_alu_rr(b, X64_XOR, false, X64_RAX, X64_RAX);
  st(c, X64_RDX, CR_PARENT_KIND, X64_RAX);
  st(c, X64_RDX, CR_PARENT_CSI, X64_RAX);
  /* the target runs: its last ancestor sla returns to h */
  ld(c, X64_RCX, X64_RSI, CR_LAST_ANCESTOR);
  st32i(c, X64_RSI, CSI_STATE, WEFT_STACK_RUNNING);
  st(c, X64_RCX, CR_PARENT_KIND, X64_R9);
  st(c, X64_RCX, CR_PARENT_CSI, X64_R10);
  st(c, X64_RSI, CR_LAST_ANCESTOR, X64_RAX);
  x64_emit_store_imm32(b, true, x64_m(X64_RDI, CTX_CHAIN_KIND), WEFT_CHAIN_CONTINUATION);
  st(c, X64_RDI, CTX_CHAIN_CSI, X64_RSI);
  copy_limits(c, X64_RDI, X64_RSI);
  /* The switch itself, its own form of §3: the target's context goes straight to registers (no
   * copy through a frame slot, whose store-to-load forwarding sat on the path to the jmp), then
   * *cc(sla) = *cc(la) (the target's chain now returns to h), then the switcher's context into
   * cc(la). Word by word: the switch sequence wrote these contexts with 8-byte stores. It lands
   * where the out-of-line path's sequence does (`landing`, patched by the caller). */
  cc_of(c, X64_RCX, X64_RCX);
  cc_of(c, X64_RDX, X64_RDX);
  ld(c, X64_RAX, X64_RCX, 0);
  ld(c, X64_R9, X64_RCX, 8);
  ld(c, X64_R10, X64_RCX, 16);
  for (int32_t i = 0; i < CC_SIZE; i += 8) {
    ld(c, X64_R11, X64_RDX, i);
    st(c, X64_RCX, i, X64_R11);
  }
  st(c, X64_RDX, 0, X64_RSP);
  st(c, X64_RDX, 8, X64_RBP);
  *lea_at = x64_emit_lea_rip(b, X64_R11);
  st(c, X64_RDX, 16, X64_R11);
  x64_emit_mov_ri(b, X64_RDI, WEFT_EFFECT_MAKE(WEFT_EFFECT_SWITCH, 0));
  x64_emit_mov_rr(b, true, X64_RSP, X64_RAX);
  x64_emit_mov_rr(b, true, X64_RBP, X64_R9);
  x64_emit_jmp_r(b, X64_R10);
}

static void do_switch(x64_fn *c, uint32_t ct, uint32_t tag) {
  const weft_type *ft = cont_ft(c, ct);
  if (!ft || !tag_ft(c, tag)) return;
  uint32_t np1 = ft->u.func.nparams;
  if (np1 == 0 || !WEFT_VT_IS_REF(ft->u.func.params[np1 - 1])) {
    x64_fail(c, WEFT_ERR_INVALID, "function %u: switch type %u takes no continuation", c->fidx, ct);
    return;
  }
  const weft_type *f2 = cont_ft(c, WEFT_VT_HEAP(ft->u.func.params[np1 - 1]));
  if (!f2) return;
  uint32_t n2 = f2->u.func.nparams, base;
  /* io: the operands / the switcher's payload buffer, then the switchee's old control context */
  uint32_t words = umax(np1, umax(1, n2));
  int ref_xmm;
  if (!begin_top(c, np1, 2 * words + 3, &base, &ref_xmm)) return;
  x64_buf *b = c->b;
  jumps slow = {0};
  size_t lea_at = SIZE_MAX;
  if (INLINE_PROTOCOL) {
    switch_fast(c, tag, base, ref_xmm, ft, n2, &slow, &lea_at);
    land(c, &slow);
  }
  x64_emit_mov_rr(b, true, X64_RDI, X64_VMCTX);
  x64_emit_lea(b, true, X64_RSI, io_at(c, base, np1 - 1));
  x64_emit_lea(b, true, X64_RDX, x64_slot(c, base));
  x64_emit_mov_ri32(b, X64_RCX, ct);
  x64_emit_mov_ri32(b, X64_R8, tag);
  x64_emit_mov_rr(b, true, X64_R9, X64_RBP);
  x64_call_libcall(c, WEFT_LC_SWITCH);
  switch_regs_from_libcall(c, false);
  size_t landing = emit_switch(c);
  if (lea_at != SIZE_MAX) x64_patch_rel32(b, lea_at, landing);
  woken(c, base, WEFT_LC_SWITCH_END, ct);
  push_slots(c, base, f2->u.func.params, n2, false);
}

/* -- resume, resume_throw, resume_throw_ref -------------------------------------------------- */

/* resume's inline first half (§4 resume 1-6): the revision check and the args appended; then the
 * splice, the limits, and the handler list in the frame's save area (`save`: tag addresses, suspend
 * clauses first, then the original chain, as core/cont.c's second half reads them). Leaves rsi =
 * r8 = cc(la), rdi = RESUME. */
static void resume_fast(x64_fn *c, uint32_t base, int ref_xmm, const weft_type *ft, uint32_t save,
                        const uint32_t *w, uint32_t count, jumps *slow) {
  uint32_t np = ft->u.func.nparams;
  x64_buf *b = c->b;
  ld(c, X64_RDI, X64_VMCTX, VM_STORE_CTX);
  ld(c, X64_RDX, X64_RDI, CTX_CHAIN_CSI); /* the original chain's stack */
  x64_emit_test_rr(b, true, X64_RDX, X64_RDX);
  jump_if(c, slow, X64_CC_E);
  check_ref(c, io_at(c, base, np), ref_xmm, np, slow); /* keeps rdx, rdi */
  prefetch_top(c, X64_RSI);
  /* committed */
  x64_emit_alu_mi(b, X64_ADD, true, x64_m(X64_RSI, CR_REVISION), 1);
  if (np > 0) append_io(c, base, ft->u.func.params, np);
  ld(c, X64_R8, X64_RSI, CR_LAST_ANCESTOR);
  ld(c, X64_RAX, X64_RDI, CTX_CHAIN_KIND);
  x64_emit_store(b, true, x64_slot(c, save + count), X64_RAX);
  x64_emit_store(b, true, x64_slot(c, save + count + 1), X64_RDX);
  st(c, X64_R8, CR_PARENT_KIND, X64_RAX);
  st(c, X64_R8, CR_PARENT_CSI, X64_RDX);
  x64_emit_store_imm32(b, true, x64_m(X64_RSI, CR_LAST_ANCESTOR), 0);
  x64_emit_store_imm32(b, true, x64_m(X64_RDI, CTX_CHAIN_KIND), WEFT_CHAIN_CONTINUATION);
  st(c, X64_RDI, CTX_CHAIN_CSI, X64_RSI);
  st32i(c, X64_RSI, CSI_STATE, WEFT_STACK_RUNNING);
  st32i(c, X64_RDX, CSI_STATE, WEFT_STACK_PARENT);
  copy_limits(c, X64_RDX, X64_RDI);
  copy_limits(c, X64_RDI, X64_RSI);
  uint32_t k = 0, nsusp = 0;
  for (uint32_t pass = 0; pass < 2; pass++)
    for (uint32_t i = 0; i < count; i++) {
      if ((w[3 * i] == WEFT_HANDLER_ON_SWITCH) != (pass == 1)) continue;
      ld(c, X64_RAX, X64_VMCTX, (int32_t)(c->mc->lay.tags + 8 * w[3 * i + 1]));
      x64_emit_store(b, true, x64_slot(c, save + k++), X64_RAX);
      if (pass == 0) nsusp++;
    }
  x64_emit_mov_ri(b, X64_RAX, (uint64_t)count | (uint64_t)count << 32);
  st(c, X64_RDX, CSI_HANDLERS, X64_RAX);
  x64_emit_lea(b, true, X64_RAX, x64_slot(c, save));
  st(c, X64_RDX, CSI_HANDLERS_DATA, X64_RAX);
  st32i(c, X64_RDX, CSI_FIRST_SWITCH, nsusp);
  cc_of(c, X64_RSI, X64_R8);
  x64_emit_mov_rr(b, true, X64_R8, X64_RSI);
  x64_emit_mov_ri(b, X64_RDI, WEFT_EFFECT_MAKE(WEFT_EFFECT_RESUME, 0));
}

/* resume's inline second half for RETURN and SUSPEND (rdi = the effect; §4 resume 7-8): the chain
 * and the parent back, the limits back (a suspender keeps its entry fields), then RETURN: the
 * results from the continuation's args to io, rax = 0; SUSPEND | i: its payload and {nc, revision}
 * to io, rax = the effect. `pay` = the suspend clauses' tag type when their params agree, else
 * NULL (a copy loop over the payload's length, at most `words` - 1). Anything else goes to `slow`
 * untouched. */
static void resume_back_fast(x64_fn *c, uint32_t base, const weft_type *ft, uint32_t save,
                             uint32_t count, uint32_t nsusp, const weft_type *pay, uint32_t words,
                             jumps *slow, jumps *done) {
  uint32_t nr = ft->u.func.nresults;
  x64_buf *b = c->b;
  size_t fast = 0;
  if (nsusp > 0) {
    x64_emit_mov_rr(b, true, X64_RAX, X64_RDI);
    x64_emit_shift_ri(b, X64_SHR, true, X64_RAX, 32);
    x64_emit_alu_ri(b, X64_CMP, false, X64_RAX, WEFT_EFFECT_SUSPEND);
    fast = x64_emit_jcc(b, X64_CC_E);
  }
  x64_emit_test_rr(b, true, X64_RDI, X64_RDI);
  jump_if(c, slow, X64_CC_NE);
  if (nsusp > 0) x64_patch_rel32(b, fast, b->len);
  ld(c, X64_R10, X64_VMCTX, VM_STORE_CTX);
  ld(c, X64_RSI, X64_R10, CTX_CHAIN_CSI); /* nc */
  x64_emit_load(b, true, X64_RDX, x64_slot(c, save + count));
  x64_emit_load(b, true, X64_RCX, x64_slot(c, save + count + 1));
  st(c, X64_R10, CTX_CHAIN_KIND, X64_RDX);
  st(c, X64_R10, CTX_CHAIN_CSI, X64_RCX);
  st32i(c, X64_RCX, CSI_STATE, WEFT_STACK_RUNNING);
  x64_emit_alu_rr(b, X64_XOR, false, X64_RAX, X64_RAX);
  st(c, X64_RCX, CSI_HANDLERS, X64_RAX);
  st(c, X64_RCX, CSI_HANDLERS_DATA, X64_RAX);
  st32i(c, X64_RCX, CSI_FIRST_SWITCH, 0);
  size_t susp = 0;
  if (nsusp > 0) {
    x64_emit_test_rr(b, true, X64_RDI, X64_RDI);
    susp = x64_emit_jcc(b, X64_CC_NE);
  }
  /* RETURN */
  st32i(c, X64_RSI, CSI_STATE, WEFT_STACK_RETURNED);
  copy_limits(c, X64_R10, X64_RCX);
  if (nr > 0) ld(c, X64_R9, X64_RSI, CR_ARGS_DATA);
  for (uint32_t i = 0; i < nr; i++)
    copy_val(c, x64_type_of(ft->u.func.results[i]), io_at(c, base, i),
             x64_m(X64_R9, (int32_t)(16 * i)), X64_RAX);
  x64_emit_alu_rr(b, X64_XOR, false, X64_RAX, X64_RAX);
  if (nsusp == 0) return;
  jump_if(c, done, -1);
  /* SUSPEND | i */
  x64_patch_rel32(b, susp, b->len);
  ld(c, X64_RAX, X64_R10, 8);
  st(c, X64_RSI, 8, X64_RAX);
  copy16(c, x64_m(X64_RSI, 16), x64_m(X64_R10, 16));
  copy_limits(c, X64_R10, X64_RCX);
  ld(c, X64_R9, X64_RSI, CR_VALUES_DATA);
  x64_emit_lea(b, true, X64_R11, io_at(c, base, 0));
  if (pay != NULL) {
    uint32_t np = pay->u.func.nparams;
    for (uint32_t i = 0; i < np; i++)
      copy_val(c, x64_type_of(pay->u.func.params[i]), x64_m(X64_R11, (int32_t)(16 * i)),
               x64_m(X64_R9, (int32_t)(16 * i)), X64_RAX);
    store_ref16(c, x64_m(X64_R11, (int32_t)(16 * np)), X64_RSI);
  } else {
    ld32(c, X64_RDX, X64_RSI, CR_VALUES);
    x64_emit_alu_ri(b, X64_CMP, false, X64_RDX, (int32_t)(words - 1));
    x64_trap_if(c, X64_CC_A, WEFT_TRAP_UNREACHABLE);
    x64_emit_alu_rr(b, X64_XOR, false, X64_RCX, X64_RCX);
    size_t top = b->len;
    x64_emit_alu_rr(b, X64_CMP, true, X64_RCX, X64_RDX);
    size_t out = x64_emit_jcc(b, X64_CC_AE);
    x64_emit_mov_rr(b, true, X64_RAX, X64_RCX);
    x64_emit_shift_ri(b, X64_SHL, true, X64_RAX, 4);
    copy16(c, x64_mi(X64_R11, X64_RAX, 0, 0), x64_mi(X64_R9, X64_RAX, 0, 0));
    x64_emit_alu_ri(b, X64_ADD, true, X64_RCX, 1);
    x64_patch_rel32(b, x64_emit_jmp(b), top);
    x64_patch_rel32(b, out, b->len);
    x64_emit_shift_ri(b, X64_SHL, true, X64_RDX, 4);
    store_ref16(c, x64_mi(X64_R11, X64_RDX, 0, 0), X64_RSI);
  }
  st32i(c, X64_RSI, CR_VALUES, 0);
  x64_emit_mov_rr(b, true, X64_RAX, X64_RDI);
}

/* Whether two function types have params of the same machine types. */
static bool same_params(const weft_type *a, const weft_type *b) {
  if (a->u.func.nparams != b->u.func.nparams) return false;
  for (uint32_t i = 0; i < a->u.func.nparams; i++)
    if (x64_type_of(a->u.func.params[i]) != x64_type_of(b->u.func.params[i])) return false;
  return true;
}

/* `nops` operands below the reference (resume: the continuation's params; resume_throw: the
 * tag's params; resume_throw_ref: the exnref); tag = UINT32_MAX for resume_throw_ref, and
 * UINT32_MAX - 1 for plain resume. */
static void do_resume(x64_fn *c, const weft_instr *in, uint32_t tag) {
  uint32_t ct = in->imm.x.a, pool = in->imm.x.b, count = in->imm.x.c;
  const weft_type *ft = cont_ft(c, ct);
  if (!ft) return;
  if (pool > c->m->npool || count > (c->m->npool - pool) / 3) {
    x64_fail(c, WEFT_ERR_INVALID, "function %u: resume handlers outside the pool", c->fidx);
    return;
  }
  uint32_t nops;
  if (tag == UINT32_MAX - 1) {
    nops = ft->u.func.nparams;
  } else if (tag == UINT32_MAX) {
    nops = 1;
  } else {
    const weft_type *tt = tag_ft(c, tag);
    if (!tt) return;
    nops = tt->u.func.nparams;
  }
  uint32_t nr = ft->u.func.nresults;
  uint32_t words = umax(1, umax(nops, nr));
  const uint32_t *w = count > 0 ? c->m->pool + pool : NULL; /* no pool at all when nothing uses it */
  uint32_t nsusp = 0;
  const weft_type *pay = NULL; /* the suspend clauses' tag type when all agree on the params */
  bool uniform = true;
  for (uint32_t i = 0; i < count; i++) {
    if (w[3 * i] == WEFT_HANDLER_ON_SWITCH) continue;
    const weft_type *tt = tag_ft(c, w[3 * i + 1]);
    if (!tt) return;
    if (w[3 * i + 2] + 1 > c->ctl.n) {
      x64_fail(c, WEFT_ERR_INVALID, "function %u: resume handler label out of range", c->fidx);
      return;
    }
    words = umax(words, tt->u.func.nparams + 1);
    if (nsusp++ == 0)
      pay = tt;
    else if (!same_params(pay, tt))
      uniform = false;
  }
  if (!uniform) pay = NULL;
  uint32_t base;
  /* io: operands / results / handler payloads, then the handler list, the original chain and an
   * ASan slot (core/cont.c) */
  int ref_xmm;
  if (!begin_top(c, nops + 1, 2 * words + count + 3, &base, &ref_xmm)) return;
  uint32_t save = base + 2 * words;
  x64_buf *b = c->b;
  uint32_t libcall = tag == UINT32_MAX - 1 ? WEFT_LC_RESUME : WEFT_LC_RESUME_THROW;
  bool inline_ok = INLINE_PROTOCOL && tag == UINT32_MAX - 1;
  jumps slow = {0}, go = {0};
  if (inline_ok) {
    resume_fast(c, base, ref_xmm, ft, save, w, count, &slow);
    jump_if(c, &go, -1);
    land(c, &slow);
  }
  x64_emit_mov_rr(b, true, X64_RDI, X64_VMCTX);
  x64_emit_lea(b, true, X64_RSI, io_at(c, base, nops));
  x64_emit_lea(b, true, X64_RDX, x64_slot(c, base));
  x64_emit_mov_ri(b, X64_RCX, ((uint64_t)ct << 32) | count);
  x64_emit_mov_ri(b, X64_R8, ((uint64_t)pool << 32) | tag);
  x64_emit_mov_rr(b, true, X64_R9, X64_RBP);
  x64_call_libcall(c, libcall);
  switch_regs_from_libcall(c, true);
  land(c, &go);
  emit_switch(c);
  /* back: rax = 0 returned, results in io; SUSPEND << 32 | k (k-th suspend clause): the tag's
   * params and the continuation in io */
  jumps done = {0};
  if (inline_ok) resume_back_fast(c, base, ft, save, count, nsusp, pay, words, &slow, &done);
  if (inline_ok) jump_if(c, &done, -1);
  land(c, &slow);
  second_half_regs(c);
  x64_emit_lea(b, true, X64_RDX, x64_slot(c, base));
  x64_emit_mov_ri(b, X64_RCX, ((uint64_t)ct << 32) | count);
  x64_emit_mov_ri(b, X64_R8, ((uint64_t)pool << 32) | tag);
  x64_emit_mov_rr(b, true, X64_R9, X64_RBP);
  x64_call_libcall(c, WEFT_LC_RESUME_END);
  land(c, &done);
  after(c);
  for (uint32_t i = 0, k = 0; i < count; i++) {
    if (w[3 * i] == WEFT_HANDLER_ON_SWITCH) continue;
    const weft_type *tt = &c->m->types[c->m->tags[w[3 * i + 1]].type];
    /* not this clause: skip the moves out of io, which the next clause reads again */
    x64_emit_mov_ri(b, X64_SCRATCH, WEFT_EFFECT_MAKE(WEFT_EFFECT_SUSPEND, k));
    x64_emit_alu_rr(b, X64_CMP, true, X64_RAX, X64_SCRATCH);
    size_t skip = x64_emit_jcc(b, X64_CC_NE);
    push_slots(c, base, tt->u.func.params, tt->u.func.nparams, true);
    uint32_t depth = w[3 * i + 2];
    x64_br_prepare(c, depth);
    x64_emit_mov_ri(b, X64_SCRATCH, WEFT_EFFECT_MAKE(WEFT_EFFECT_SUSPEND, k));
    x64_emit_alu_rr(b, X64_CMP, true, X64_RAX, X64_SCRATCH);
    x64_br_if_cc(c, depth, X64_CC_E);
    drop_to(c, base);
    x64_patch_rel32(b, skip, b->len);
    k++;
  }
  if (nsusp > 0) { /* no clause took it: an effect this resume did not install */
    x64_emit_test_rr(b, true, X64_RAX, X64_RAX);
    x64_trap_if(c, X64_CC_NE, WEFT_TRAP_UNREACHABLE);
  }
  push_slots(c, base, ft->u.func.results, nr, false);
}

/* -- Tables of continuations ----------------------------------------------------------------- */

/* Elements of a continuation table are 16-byte slots (weft_vm_table.elem_size), the whole
 * {contref, revision}. */
static bool is_cont_table(x64_fn *c, uint32_t t) {
  return t < c->m->ntables && x64_is_cont_heap(c->m, WEFT_VT_HEAP(c->m->tables[t].type.elem));
}

/* idx (in a register) becomes the byte offset of its element after a bounds check; the scratch
 * register holds the table's base. */
static void cont_elem(x64_fn *c, uint32_t t, x64_val *idx) {
  x64_to_reg(c, idx, 0);
  if (idx->kind != X64_VK_REG) { /* a pinned local read in place: shifted below, so copy it */
    int r = x64_alloc_gpr(c, (uint16_t)(1u << idx->reg));
    x64_emit_mov_rr(c->b, true, r, idx->reg);
    idx->kind = X64_VK_REG;
    idx->reg = (uint8_t)r;
  }
  if (!c->m->tables[t].type.limits.is64) x64_emit_mov_rr(c->b, false, idx->reg, idx->reg);
  x64_emit_load(c->b, true, X64_SCRATCH, x64_m(X64_VMCTX, (int32_t)(c->mc->lay.tables + 8 * t)));
  x64_emit_alu_rm(c->b, X64_CMP, true, idx->reg, x64_m(X64_SCRATCH, 8));
  x64_trap_if(c, X64_CC_AE, WEFT_TRAP_TABLE_OOB);
  x64_emit_load(c->b, true, X64_SCRATCH, x64_m(X64_SCRATCH, 0));
  x64_emit_shift_ri(c->b, X64_SHL, true, idx->reg, 4);
}

static void cont_table_get(x64_fn *c, uint32_t t) {
  int x = x64_alloc_xmm(c); /* first: a spill may use r11 */
  x64_val idx = x64_pop(c);
  cont_elem(c, t, &idx);
  x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_LD, x, x64_mi(X64_SCRATCH, idx.reg, 0, 0));
  x64_free_val(c, &idx);
  x64_push_reg(c, X64_T_V128, x);
}

static void cont_table_set(x64_fn *c, uint32_t t) {
  x64_val v = x64_pop(c);
  x64_val idx = x64_pop(c);
  x64_to_reg(c, &v, 0);
  cont_elem(c, t, &idx);
  x64_emit_sse_rm(c->b, X64_PF3, X64_SSE_MOVDQU_ST, v.reg, x64_mi(X64_SCRATCH, idx.reg, 0, 0));
  x64_free_val(c, &idx);
  x64_free_val(c, &v);
}

/* table.grow (init, delta) and table.fill (i, value, n): the libcalls take a pointer to the
 * 16-byte value, here its spill slot. */
static void cont_table_grow(x64_fn *c, uint32_t t) {
  x64_save_pinned(c);
  x64_spill_all(c);
  uint32_t d = c->stk.n - 2;
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  x64_emit_lea(c->b, true, X64_RDX, x64_vslot(c, d));
  x64_emit_load(c->b, true, X64_RCX, x64_slot(c, d + 1));
  drop_to(c, d);
  x64_emit_mov_ri(c->b, X64_RSI, t);
  x64_call_libcall(c, WEFT_LC_TABLE_GROW);
  x64_after_libcall(c);
  bool is64 = c->m->tables[t].type.limits.is64;
  if (!is64) x64_emit_mov_rr(c->b, false, X64_RAX, X64_RAX);
  c->gpr_used |= 1u << X64_RAX;
  x64_push_reg(c, is64 ? X64_T_I64 : X64_T_I32, X64_RAX);
}

static void cont_table_fill(x64_fn *c, uint32_t t) {
  x64_save_pinned(c);
  x64_spill_all(c);
  uint32_t d = c->stk.n - 3;
  x64_emit_mov_rr(c->b, true, X64_RDI, X64_VMCTX);
  x64_emit_load(c->b, true, X64_RDX, x64_slot(c, d));
  x64_emit_lea(c->b, true, X64_RCX, x64_vslot(c, d + 1));
  x64_emit_load(c->b, true, X64_R8, x64_slot(c, d + 2));
  drop_to(c, d);
  x64_emit_mov_ri(c->b, X64_RSI, t);
  x64_call_libcall(c, WEFT_LC_TABLE_FILL);
  x64_after_libcall(c);
}

/* -- Null tests of continuation references ---------------------------------------------------- */

/* The contref half of a 16-byte value into GPR r (null iff 0). */
static void low_word(x64_fn *c, const x64_val *v, int r) {
  if (v->kind == X64_VK_MEM)
    x64_emit_load(c->b, true, r, x64_vslot(c, v->depth));
  else
    x64_emit_movd_rx(c->b, true, r, v->reg);
}

static bool top_is_cont(x64_fn *c) { return c->stk.n > 0 && c->stk.v[c->stk.n - 1].type == X64_T_V128; }

static void cont_ref_null(x64_fn *c) {
  int x = x64_alloc_xmm(c);
  x64_emit_sse_rr(c->b, 0, X64_SSE_XOR, x, x);
  x64_push_reg(c, X64_T_V128, x);
}

static void cont_is_null(x64_fn *c) {
  int r = x64_alloc_gpr(c, 0);
  x64_val a = x64_pop(c);
  low_word(c, &a, r);
  x64_free_val(c, &a);
  x64_emit_test_rr(c->b, true, r, r);
  x64_emit_setcc(c->b, X64_CC_E, r);
  x64_emit_movzx8_rr(c->b, r, r);
  x64_push_reg(c, X64_T_I32, r);
}

static void cont_as_non_null(x64_fn *c) {
  low_word(c, &c->stk.v[c->stk.n - 1], X64_SCRATCH);
  x64_emit_test_rr(c->b, true, X64_SCRATCH, X64_SCRATCH);
  x64_trap_if(c, X64_CC_E, WEFT_TRAP_NULL_REF);
}

void x64_cont_br_on_null(x64_fn *c, const weft_instr *in, bool on_non_null) {
  if (!on_non_null) {
    int r = x64_alloc_gpr(c, 0); /* holds the test word across the label's moves */
    low_word(c, &c->stk.v[c->stk.n - 1], r);
    x64_val v = x64_pop(c);
    x64_br_prepare(c, in->imm.x.a);
    x64_emit_test_rr(c->b, true, r, r);
    x64_br_if_cc(c, in->imm.x.a, X64_CC_E);
    c->gpr_used &= (uint16_t)~(1u << r);
    X64_PUSH(c, c->stk, v);
  } else {
    x64_br_prepare(c, in->imm.x.a);
    low_word(c, &c->stk.v[c->stk.n - 1], X64_SCRATCH);
    x64_emit_test_rr(c->b, true, X64_SCRATCH, X64_SCRATCH);
    x64_br_if_cc(c, in->imm.x.a, X64_CC_NE);
    x64_val v = x64_pop(c);
    x64_free_val(c, &v);
  }
}

/* -- Continuation references in GC fields ------------------------------------------------ */

/* A struct or array field of continuation type: 16 bytes {contref, revision} in the gc layout
 * (plugin/gc.h), moved whole by x64_isel_gc.c with the full revision. */
bool x64_cont_field(x64_fn *c, weft_valtype st) {
  return WEFT_VT_IS_REF(st) && x64_is_cont_heap(c->m, WEFT_VT_HEAP(st));
}

/* -- Dispatch -------------------------------------------------------------------------------- */

int x64_isel_cont(x64_fn *c, const weft_instr *in) {
  switch (in->op) {
  case WEFT_OP_CONT_NEW: do_cont_new(c, in->imm.x.a); return 1;
  case WEFT_OP_CONT_BIND: do_cont_bind(c, in->imm.x.a, in->imm.x.b); return 1;
  case WEFT_OP_SUSPEND: do_suspend(c, in->imm.x.a); return 1;
  case WEFT_OP_SWITCH: do_switch(c, in->imm.x.a, in->imm.x.b); return 1;
  case WEFT_OP_RESUME: do_resume(c, in, UINT32_MAX - 1); return 1;
  case WEFT_OP_RESUME_THROW: do_resume(c, in, in->imm.x.d); return 1;
  case WEFT_OP_RESUME_THROW_REF: do_resume(c, in, UINT32_MAX); return 1;
  case WEFT_OP_TABLE_GET:
    if (!is_cont_table(c, in->imm.x.a)) return 0;
    cont_table_get(c, in->imm.x.a);
    return 1;
  case WEFT_OP_TABLE_SET:
    if (!is_cont_table(c, in->imm.x.a)) return 0;
    cont_table_set(c, in->imm.x.a);
    return 1;
  case WEFT_OP_TABLE_GROW:
    if (!is_cont_table(c, in->imm.x.a) || c->stk.n < 2) return 0;
    cont_table_grow(c, in->imm.x.a);
    return 1;
  case WEFT_OP_TABLE_FILL:
    if (!is_cont_table(c, in->imm.x.a) || c->stk.n < 3) return 0;
    cont_table_fill(c, in->imm.x.a);
    return 1;
  case WEFT_OP_REF_NULL:
    if (!x64_is_cont_heap(c->m, WEFT_VT_HEAP(in->imm.x.a))) return 0;
    cont_ref_null(c);
    return 1;
  case WEFT_OP_REF_IS_NULL:
    if (!top_is_cont(c)) return 0;
    cont_is_null(c);
    return 1;
  case WEFT_OP_REF_AS_NON_NULL:
    if (!top_is_cont(c)) return 0;
    cont_as_non_null(c);
    return 1;
  case WEFT_OP_REF_TEST: case WEFT_OP_REF_TEST_NULL: case WEFT_OP_REF_CAST: case WEFT_OP_REF_CAST_NULL:
  case WEFT_OP_BR_ON_CAST: case WEFT_OP_BR_ON_CAST_FAIL:
    if (!top_is_cont(c)) return 0; /* x64_isel_gc.c casts 8-byte references only */
    x64_fail(c, WEFT_ERR_UNSUPPORTED,
             "function %u: casts of continuation references are not supported by x64-codegen",
             c->fidx);
    return 1;
  default: return 0;
  }
}
