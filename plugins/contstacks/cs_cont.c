/* plugins/contstacks/cs_cont.c -- continuation objects: cont.new (a contref plus a pooled stack with
 * the start layout written at its top), the run step the start trampoline calls, recycling of
 * finished continuations (per-thread finished list: reused in place by the next cont_new on the
 * thread, without the lock, or reaped by cont_new / collect), release, for_each_suspended, the
 * arity check and counters. Depends on: contstacks_int.h (pool, asm), weft/vm.h (contref layout).
 */
#include <string.h>

#include "contstacks_int.h"

#if defined(WEFT_SANITIZE)
#include <sanitizer/asan_interface.h>
#endif

#if defined(__GNUC__)
#define CS_LIKELY(x) __builtin_expect(!!(x), 1)
#define CS_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define CS_LIKELY(x) (x)
#define CS_UNLIKELY(x) (x)
#endif

/* Per thread: the continuations that finished on this thread, newest first. Their results still
 * sit on their stacks until the resume site has read them, so they are never recycled from the
 * trampoline itself; the next cont_new on this thread reuses the newest one in place (contref and
 * warm stack, no lock: the cont.new + resume + return cycle touches the same few lines every
 * time) and reaps the rest beyond CS_ZOMBIE_KEEP; collect reaps them all. `armed` is the `gen` of
 * the state whose thread-exit key this thread last set (saves a pthread_getspecific per finish).
 * One access per function: a TLS descriptor load in the .so where the compiler takes
 * -mtls-dialect=gnu2 (CMakeLists.txt), a __tls_get_addr call otherwise. */
typedef struct cs_tls {
  cs_cont *zombies;
  uint64_t nzombies;
  uint64_t foreign; /* how many were left after the last reap (other states' ones): the fast
                       path trims only past CS_ZOMBIE_KEEP more, so an idle state's finished
                       continuations cannot send every reuse of another state to the lock */
  uint64_t armed;
} cs_tls;
static __thread cs_tls tls;

static _Atomic uint64_t next_gen = 1;

/* -- Helpers ---------------------------------------------------------------------------------- */

static uint64_t payload_cap(uint32_t nparams, uint32_t nresults) {
  return nparams > nresults ? nparams : nresults;
}

/* Bytes of the stack the start layout needs beyond the reserve: the largest colour, header, args,
 * and one page for the trampoline's and the array-call entry's own frames. */
static uint64_t start_need(uint64_t cap) {
  return (uint64_t)CS_COLOURS * CS_COLOUR_STEP + WEFT_CS_TOS_HEADER + 16u * cap + CS_PAGE;
}

static void live_insert(cs_state *st, cs_cont *c) {
  c->prev_live = NULL;
  c->next_live = st->live_head;
  if (st->live_head != NULL) st->live_head->prev_live = c;
  st->live_head = c;
  __atomic_store_n(&st->live, st->live + 1, __ATOMIC_RELAXED); /* read without the lock: live_count */
}

static void live_remove(cs_state *st, cs_cont *c) {
  if (c->prev_live != NULL) c->prev_live->next_live = c->next_live;
  else st->live_head = c->next_live;
  if (c->next_live != NULL) c->next_live->prev_live = c->prev_live;
  c->prev_live = c->next_live = NULL;
  __atomic_store_n(&st->live, st->live - 1, __ATOMIC_RELAXED);
}

/* Move a contref's use count into st->created (lock held). */
static void fold_uses(cs_state *st, cs_cont *c) {
  st->created += atomic_load_explicit(&c->uses, memory_order_relaxed);
  atomic_store_explicit(&c->uses, 0, memory_order_relaxed);
}

/* Stack back to the pool, contref to the free list; lock held. The revision moves on, so every
 * reference handed out before is stale; the memory stays a contref (type-stable). A contref is
 * live exactly while it has a stack (pool_top != NULL). */
static void recycle(cs_state *st, cs_cont *c) {
  if (c->pool_top == NULL) return;
  live_remove(st, c);
  fold_uses(st, c);
  cs_pool_put(st, c->pool_top);
  c->pool_top = NULL;
  c->pub.stack_top = NULL;
  c->pub.stack_size = 0;
  c->pub.revision++;
  /* no longer resumable, whatever it was */
  if (c->pub.csi.state != WEFT_STACK_TRAPPED) c->pub.csi.state = WEFT_STACK_RETURNED;
  c->pub.args = (weft_payloads){0, 0, NULL};
  c->pub.values = (weft_payloads){0, 0, NULL};
  c->pub.parent_chain = (weft_stack_chain){WEFT_CHAIN_ABSENT, NULL};
  c->pub.last_ancestor = NULL;
  c->func = NULL;
  c->next = st->free_conts;
  st->free_conts = c;
}

/* Recycle this thread's finished continuations that belong to `st`; lock held. */
static void reap_locked(cs_state *st, cs_tls *t) {
  cs_cont **pp = &t->zombies;
  while (*pp != NULL) {
    cs_cont *z = *pp;
    if (z->owner == st) {
      *pp = z->next;
      t->nzombies--;
      z->finished = false;
      recycle(st, z);
    } else {
      pp = &z->next;
    }
  }
  t->foreign = t->nzombies;
}

static int grow_conts(cs_state *st) {
  void *raw = cs_alloc(st, sizeof(cs_block) + 64u);
  if (raw == NULL) return WEFT_ERR_NOMEM;
  cs_block *b = (cs_block *)(void *)(((uintptr_t)raw + 63u) & ~(uintptr_t)63u);
  memset(b, 0, sizeof *b);
  b->raw = raw;
  b->next = st->blocks;
  st->blocks = b;
  for (uint32_t i = CS_CONT_BLOCK; i-- > 0;) {
    b->conts[i].owner = st;
    b->conts[i].next = st->free_conts;
    st->free_conts = &b->conts[i];
  }
  return WEFT_OK;
}

void cs_cont_init(cs_state *st) {
  st->gen = atomic_fetch_add_explicit(&next_gen, 1, memory_order_relaxed);
  /* the largest cap with start_need(cap) <= stack_size - reserve (0 when none fits) */
  uint64_t avail = st->pool.stack_size - st->reserve, fixed = start_need(0);
  uint64_t cap = avail > fixed ? (avail - fixed) / 16u : 0;
  st->max_cap = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
}

/* -- The arity check -------------------------------------------------------------------------- */

int cs_check_arity(void *state, uint32_t nparams, uint32_t nresults, weft_diag *d) {
  cs_state *st = state;
  uint64_t need = start_need(payload_cap(nparams, nresults));
  uint64_t avail = st->pool.stack_size - st->reserve;
  if (need > avail)
    return weft_host_diag(st->host, d, WEFT_ERR_LIMIT, UINT64_MAX, CS_ORIGIN,
                          "continuation type with %u params and %u results needs %llu bytes of "
                          "stack for its payload and start frames, but [contstacks] stack_size = "
                          "%llu leaves %llu: raise stack_size",
                          nparams, nresults, (unsigned long long)need,
                          (unsigned long long)st->pool.stack_size, (unsigned long long)avail);
  return WEFT_OK;
}

/* -- cont.new --------------------------------------------------------------------------------- */

/* The start layout at the stack's top (weft/plugin/contstacks.h): control context aimed at the
 * trampoline, owner pointer, args buffer, launch record. For cap <= 1 all of it is one cache line
 * (stack_top is 64-byte aligned). */
static void write_start(cs_cont *c, uint64_t cap) {
  uint8_t *tos = c->pub.stack_top;
  weft_control_ctx *cc = weft_contref_cc(&c->pub);
  weft_val_raw *args = (weft_val_raw *)(void *)(tos - WEFT_CS_TOS_OWNER - 16u * cap);
  uintptr_t *launch = (uintptr_t *)(void *)((uint8_t *)args - 16);
  *(cs_cont **)(void *)(tos - WEFT_CS_TOS_OWNER) = c;
  launch[0] = (uintptr_t)c;
  launch[1] = 0;
  cc->rsp = (uintptr_t)launch;
  cc->rbp = (uintptr_t)(tos - 0x10);
  cc->rip = (uintptr_t)&cs_cont_start;
  c->pub.args = (weft_payloads){0, (uint32_t)cap, cap ? args : NULL};
}

/* Everything of a FRESH continuation but its stack and its place on the live list: c has a stack
 * (stack_top, stack_size, pool_top set). The caller publishes it (*out). */
static void init_fresh(cs_state *st, cs_cont *c, void *caller_vmctx, const weft_funcref *f,
                       uint32_t nresults, uint64_t cap) {
  /* from line 1 (stack_top - stack_size is the slot's lowest byte), not pool_top on cold line 3 */
  c->pub.csi.limits.stack_limit =
      (uintptr_t)(c->pub.stack_top - c->pub.stack_size + st->reserve);
  c->pub.csi.limits.last_wasm_entry_fp = 0;
  c->pub.csi.limits.last_wasm_entry_sp = 0;
  c->pub.csi.limits.last_wasm_entry_trap_handler = 0;
  c->pub.csi.state = WEFT_STACK_FRESH;
  c->pub.csi.first_switch_handler = 0;
  c->pub.csi.handlers = (weft_handler_list){0, 0, NULL};
  c->pub.parent_chain = (weft_stack_chain){WEFT_CHAIN_ABSENT, NULL};
  c->pub.last_ancestor = &c->pub;
  c->pub.values = (weft_payloads){0, 0, NULL};
  c->func = f;
  c->caller_vmctx = caller_vmctx;
  c->store = caller_vmctx != NULL ? ((const weft_vmctx_header *)caller_vmctx)->store_ctx : NULL;
  c->nresults = nresults & 0x7fffffffu; /* cap <= max_cap < 2^31 (check_arity) */
  c->finished = false;
#if defined(WEFT_SANITIZE)
  c->asan_fake = NULL;
  c->asan_parent_bottom = NULL;
  c->asan_parent_size = 0;
#endif
  write_start(c, cap);
}

/* The fast path's rare chores, out of line: a contref's uses counter wrapped (2^32 more cont_new
 * calls for st->created), or this thread holds more finished continuations than CS_ZOMBIE_KEEP
 * beyond other states' ones (reap this state's to the pool, and beyond its watermark their memory
 * to the system, as before reuse existed). `t` is passed in: one TLS access per cont_new. */
__attribute__((noinline, cold)) static void reuse_chores(cs_state *st, cs_tls *t, bool wrapped,
                                                         bool trim) {
  pthread_mutex_lock(&st->lock);
  if (wrapped) st->created += (uint64_t)1 << 32;
  if (trim) reap_locked(st, t);
  pthread_mutex_unlock(&st->lock);
}

/* Fast path: reuse the newest continuation that finished on this thread -- contref and stack --
 * in place. It is still live (and counted), so neither the lock, the pool nor the live list is
 * touched, and max_continuations cannot be exceeded by it. Its revision moves on, as recycling
 * would move it, so references to its finished self are stale. */
static inline cs_cont *reuse_zombie(cs_state *st, cs_tls *t, uint64_t cap) {
  cs_cont *c = t->zombies;
  if (c == NULL || c->owner != st || cap > st->max_cap) return NULL;
  t->zombies = c->next;
  t->nzombies--;
  bool trim = t->nzombies > CS_ZOMBIE_KEEP + t->foreign;
  c->next = NULL;
  c->pub.revision++;
  uint32_t u = atomic_load_explicit(&c->uses, memory_order_relaxed) + 1u;
  atomic_store_explicit(&c->uses, u, memory_order_relaxed);
  if (CS_UNLIKELY(u == 0 || trim)) reuse_chores(st, t, u == 0, trim);
#if defined(WEFT_SANITIZE)
  /* what the pool does for a recycled stack: the dead frames' redzones go */
  __asan_unpoison_memory_region(c->pool_top - st->pool.stack_size, (size_t)st->pool.stack_size);
#endif
  return c;
}

/* Slow path: reap this thread's finished continuations, then a free contref and a pooled stack,
 * under the lock. */
static int new_locked(cs_state *st, cs_tls *t, cs_cont **out, weft_diag *d) {
  int rc = WEFT_OK;
  cs_cont *c = NULL;
  uint8_t *top = NULL;
  pthread_mutex_lock(&st->lock);
  reap_locked(st, t);
  if (st->live >= st->max_conts) {
    rc = weft_host_diag(st->host, d, WEFT_ERR_LIMIT, UINT64_MAX, CS_ORIGIN,
                        "too many continuations: [contstacks] max_continuations = %llu live "
                        "continuations reached",
                        (unsigned long long)st->max_conts);
    goto out;
  }
  if (st->free_conts == NULL && grow_conts(st) != WEFT_OK) {
    rc = weft_host_diag(st->host, d, WEFT_ERR_NOMEM, UINT64_MAX, CS_ORIGIN,
                        "out of memory allocating continuation objects");
    goto out;
  }
  rc = cs_pool_get(st, &top, d);
  if (rc != WEFT_OK) goto out;
  c = st->free_conts;
  st->free_conts = c->next;
  c->next = NULL;
  /* FRESH before it is on the live list, which for_each_suspended reads under this lock */
  c->pub.csi.state = WEFT_STACK_FRESH;
  live_insert(st, c);
  atomic_store_explicit(&c->uses, atomic_load_explicit(&c->uses, memory_order_relaxed) + 1u,
                        memory_order_relaxed);
  c->pool_top = top;
  /* Colour: every stack's top would otherwise sit at the same offset modulo the slab stride, so the
   * hot lines of thousands of suspended stacks (control context, args, the last frames) would all
   * compete for the same L1/L2 sets. Stagger them by 0..31 x 64 bytes, by address. */
  uint32_t h = (uint32_t)((uintptr_t)top >> 12) * 0x9E3779B1u;
  uintptr_t colour = (uintptr_t)(h >> 27) % CS_COLOURS * CS_COLOUR_STEP;
  c->pub.stack_top = top - colour;
  c->pub.stack_size = st->pool.stack_size - colour;
out:
  pthread_mutex_unlock(&st->lock);
  *out = c;
  return rc;
}

/* The slow path of cont_new: the checks with messages, then new_locked. Out of line, so the fast
 * path's function saves few registers. */
__attribute__((noinline)) static int new_slow(cs_state *st, cs_tls *t, void *caller_vmctx,
                                              const weft_funcref *f, uint32_t nparams,
                                              uint32_t nresults, weft_contref **out, weft_diag *d) {
  cs_cont *c = NULL;
  if (f == NULL)
    return weft_host_diag(st->host, d, WEFT_ERR_MISUSE, UINT64_MAX, CS_ORIGIN,
                          "null function reference");
  int rc = cs_check_arity(st, nparams, nresults, d);
  if (rc != WEFT_OK) return rc;
  rc = new_locked(st, t, &c, d);
  if (rc != WEFT_OK) return rc;
  init_fresh(st, c, caller_vmctx, f, nresults, payload_cap(nparams, nresults));
  *out = &c->pub;
  return WEFT_OK;
}

int cs_cont_new(void *state, void *caller_vmctx, const weft_funcref *f, uint32_t nparams,
                uint32_t nresults, weft_contref **out, weft_diag *d) {
  cs_state *st = state;
  uint64_t cap = payload_cap(nparams, nresults);
  cs_tls *t = &tls;
  *out = NULL;
  cs_cont *c = CS_LIKELY(f != NULL) ? reuse_zombie(st, t, cap) : NULL;
  if (CS_UNLIKELY(c == NULL)) return new_slow(st, t, caller_vmctx, f, nparams, nresults, out, d);
  init_fresh(st, c, caller_vmctx, f, nresults, cap);
  *out = &c->pub;
  return WEFT_OK;
}

/* -- Running (on the continuation's stack) ----------------------------------------------------- */

#if defined(WEFT_SANITIZE)
/* Sanitizer builds: what cs_cont_run does after the body returns (cs_asan_leave runs deep inside
 * the ASan runtime) would overwrite the dead frames of a trapped body before its resume site
 * captures the backtrace. The body runs below a gap those calls reuse instead: a quarter of the
 * room above the stack limit, at most CS_ASAN_GAP bytes. Not instrumented itself: ASan's
 * unpoisoning of the gap on return is a call that would overwrite the body's return address. */
#define CS_ASAN_GAP 4096u
#endif

#if defined(WEFT_SANITIZE)
__attribute__((noinline, no_sanitize_address))
#else
/* One frame fewer between the trampoline and the body: fewer stack lines to touch on the way out */
__attribute__((always_inline)) inline
#endif
static bool run_body(cs_cont *c) {
  const weft_funcref *f = c->func;
  size_t n = (size_t)c->pub.args.capacity; /* max(nparams, nresults), fixed by cont_new */
#if defined(WEFT_SANITIZE)
  uintptr_t here = (uintptr_t)__builtin_frame_address(0), limit = c->pub.csi.limits.stack_limit;
  size_t gap = here > limit ? (size_t)(here - limit) / 4u : 0u;
  if (gap > CS_ASAN_GAP) gap = CS_ASAN_GAP;
  volatile char pad[gap + 1u];
  pad[gap] = 0;
  (void)pad[gap]; /* keeps the gap allocated */
#endif
  return f->array_call(f->vmctx, c->caller_vmctx, c->pub.args.data, n);
}

/* First finish on this thread for this state: arm the state's thread-exit key so an exiting
 * thread recycles its finished list. Out of line: the run step stays call-free after the body. */
__attribute__((noinline, cold)) static void arm_exit_key(cs_state *st, cs_tls *t) {
  t->armed = st->gen;
  if (st->has_exit_key && pthread_getspecific(st->exit_key) == NULL)
    (void)pthread_setspecific(st->exit_key, st); /* failure: only a leak at thread exit */
}

uint64_t cs_cont_run(cs_cont *c) {
  cs_asan_arrive(NULL); /* records the resumer's stack in c (cs_asan_expect) */
  bool ok = run_body(c);
  uint64_t effect;
  if (CS_LIKELY(ok)) {
    c->pub.args.length = c->nresults;
    c->pub.csi.state = WEFT_STACK_RETURNED;
    effect = WEFT_EFFECT_MAKE(WEFT_EFFECT_RETURN, 0);
  } else {
    c->pub.args.length = 0;
    c->pub.values = (weft_payloads){0, 0, NULL};
    c->pub.csi.state = WEFT_STACK_TRAPPED;
    effect = WEFT_EFFECT_MAKE(WEFT_EFFECT_TRAP, 0);
  }
  cs_tls *t = &tls;
  c->finished = true;
  c->next = t->zombies;
  t->zombies = c;
  t->nzombies++;
  cs_state *st = c->owner;
  if (CS_UNLIKELY(t->armed != st->gen)) arm_exit_key(st, t);
  /* this fiber dies: no fake stack to keep */
  cs_asan_leave(NULL, c->asan_parent_bottom, c->asan_parent_size);
  return effect;
}

/* -- Release, collect, visit ------------------------------------------------------------------ */

int cs_cont_release(void *state, weft_contref *pub) {
  cs_state *st = state;
  cs_cont *c = (cs_cont *)pub;
  if (pub == NULL) return WEFT_ERR_MISUSE;
  if (c->owner != st) return WEFT_ERR_MISUSE;
  uint32_t s = pub->csi.state;
  if (s == WEFT_STACK_RUNNING || s == WEFT_STACK_PARENT) return WEFT_ERR_MISUSE;
  pthread_mutex_lock(&st->lock);
  if (c->finished) {
    /* on a finished list: recycle it now if the list is this thread's; another thread's list
     * recycles it itself (recycling it here too would recycle it twice) */
    bool mine = false;
    cs_tls *t = &tls;
    for (cs_cont **pp = &t->zombies; *pp != NULL; pp = &(*pp)->next)
      if (*pp == c) {
        *pp = c->next;
        t->nzombies--;
        if (t->foreign > t->nzombies) t->foreign = t->nzombies;
        mine = true;
        break;
      }
    if (mine) {
      c->finished = false;
      recycle(st, c);
    }
  } else {
    recycle(st, c);
  }
  pthread_mutex_unlock(&st->lock);
  return WEFT_OK;
}

void cs_collect(void *state) {
  cs_state *st = state;
  cs_tls *t = &tls;
  if (t->zombies == NULL) return;
  pthread_mutex_lock(&st->lock);
  reap_locked(st, t);
  pthread_mutex_unlock(&st->lock);
}

void cs_thread_exit(void *state) { cs_collect(state); }

/* The live continuations of `store` (every store when NULL), all of them or only the suspended
 * ones, under the lock; visit may release the one it is given. */
static void for_each_live(cs_state *st, const weft_store_ctx *store, bool suspended_only,
                          void (*visit)(void *ud, weft_contref *c), void *ud) {
  pthread_mutex_lock(&st->lock);
  cs_cont *c = st->live_head;
  while (c != NULL) {
    cs_cont *next = c->next_live; /* visit may release c */
    if ((!suspended_only || c->pub.csi.state == WEFT_STACK_SUSPENDED) &&
        (store == NULL || c->store == store))
      visit(ud, &c->pub);
    c = next;
  }
  pthread_mutex_unlock(&st->lock);
}

const uint64_t *cs_live_count(void *state) { return &((cs_state *)state)->live; }

bool cs_cont_owns(void *state, const weft_store_ctx *store, const weft_contref *ref) {
  cs_state *st = state;
  uintptr_t p = (uintptr_t)ref;
  bool ok = false;
  pthread_mutex_lock(&st->lock);
  for (const cs_block *b = st->blocks; b != NULL && !ok; b = b->next) {
    uintptr_t lo = (uintptr_t)&b->conts[0], hi = (uintptr_t)&b->conts[CS_CONT_BLOCK];
    if (p < lo || p >= hi || (p - lo) % sizeof(cs_cont) != 0) continue;
    const cs_cont *c = (const cs_cont *)(const void *)ref;
    /* a recycled one is accepted whatever store it served: it is RETURNED or TRAPPED with its
     * revision moved on, so any use of it traps "continuation already consumed" */
    ok = c->pool_top == NULL || store == NULL || c->store == store;
  }
  pthread_mutex_unlock(&st->lock);
  return ok;
}

void cs_for_each_suspended(void *state, const weft_store_ctx *store,
                           void (*visit)(void *ud, weft_contref *c), void *ud) {
  for_each_live(state, store, true, visit, ud);
}

/* for_each_suspended without the state filter (part gcroots: the gc root scanner also needs the
 * FRESH ones) */
void cs_for_each_cont(void *state, const weft_store_ctx *store,
                      void (*visit)(void *ud, weft_contref *c), void *ud) {
  for_each_live(state, store, false, visit, ud);
}

/* -- Stats and teardown ----------------------------------------------------------------------- */

void cs_stats(void *state, weft_contstacks_stats *out) {
  cs_state *st = state;
  uint32_t size = out->struct_size;
  weft_contstacks_stats s;
  memset(&s, 0, sizeof s);
  pthread_mutex_lock(&st->lock);
  s.live = st->live;
  s.created = st->created;
  for (const cs_block *b = st->blocks; b != NULL; b = b->next)
    for (uint32_t i = 0; i < CS_CONT_BLOCK; i++)
      s.created += atomic_load_explicit(&b->conts[i].uses, memory_order_relaxed);
  cs_pool_stats(&st->pool, &s);
  pthread_mutex_unlock(&st->lock);
  s.abi_version = WEFT_ABI_VERSION;
  s.struct_size = size < sizeof s ? size : (uint32_t)sizeof s;
  memcpy(out, &s, s.struct_size);
}

bool cs_guard_lookup(void *state, uintptr_t addr) {
  const cs_state *st = state;
  return cs_pool_guard_lookup(&st->pool, addr);
}

void cs_cont_fini(cs_state *st) {
  /* drop this thread's zombies of this state (other threads' lists must be empty by now) */
  cs_tls *t = &tls;
  for (cs_cont **pp = &t->zombies; *pp != NULL;) {
    if ((*pp)->owner == st) {
      *pp = (*pp)->next;
      t->nzombies--;
      if (t->foreign > t->nzombies) t->foreign = t->nzombies;
    } else {
      pp = &(*pp)->next;
    }
  }
  if (t->armed == st->gen) t->armed = 0;
  cs_block *b = st->blocks;
  while (b != NULL) {
    cs_block *next = b->next;
    st->host->free(st->host->host, b->raw);
    b = next;
  }
  st->blocks = NULL;
  st->free_conts = NULL;
  st->live_head = NULL;
}
