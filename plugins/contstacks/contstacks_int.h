/* plugins/contstacks/contstacks_int.h -- internals of the "contstacks" plugin shared by its files
 * (prefix cs_): the plugin state, the stack pool (cs_pool.c), continuation objects (cs_cont.c), the
 * reference switch protocol in C (cs_ref.c) and the assembly primitives (cs_switch.S).
 * Depends on: weft/plugin/contstacks.h, weft/vm.h, <pthread.h>.
 */
#ifndef WEFT_CONTSTACKS_INT_H
#define WEFT_CONTSTACKS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "weft/plugin.h"
#include "weft/plugin/contstacks.h"
#include "weft/vm.h"

#define CS_ORIGIN "contstacks"
#define CS_PAGE 4096u
#define CS_SLAB_BYTES ((uint64_t)256 << 20) /* target size of one mapping of stacks */
#define CS_SLAB_MAX_STACKS 1024u
#define CS_CONT_BLOCK 256u                  /* contrefs per allocation block */
#define CS_ZOMBIE_KEEP 64u /* finished continuations a thread keeps (with their stacks) for reuse */
#define CS_MIN_STACK ((uint64_t)16 << 10)
#define CS_MAX_STACK ((uint64_t)1 << 30)
#ifndef CS_COLOURS
#define CS_COLOURS 32u /* stack tops are staggered by CS_COLOUR_STEP (cache-set colouring) */
#endif
#ifndef CS_COLOUR_STEP
#define CS_COLOUR_STEP 64u
#endif

/* -- Stack pool (cs_pool.c) -------------------------------------------------------------------- */

/* One mapping holding `count` stacks of `stride` bytes; each stack is `guard` bytes of PROT_NONE
 * followed by its usable bytes. Slabs are never unmapped before fini, and their list is published
 * with release stores so guard_lookup can read it from a signal handler. */
typedef struct cs_slab {
  struct cs_slab *_Atomic next;
  uint8_t *base;
  uint64_t stride, guard;
  uint32_t count, carved; /* stacks handed out of this slab at least once */
  uint32_t vg_ids[];       /* valgrind stack ids of the carved stacks (0 outside valgrind) */
} cs_slab;

typedef struct cs_pool {
  uint64_t stack_size; /* usable bytes */
  uint64_t guard;      /* per-stack guard bytes (0: shared-mapping mode) */
  uint64_t watermark;  /* warm stacks kept with their memory */
  cs_slab *_Atomic slabs;
  cs_slab *carving;    /* the slab new stacks come from */
  uint8_t **warm;      /* free stack tops, memory kept (LIFO) */
  uint8_t **cold;      /* free stack tops, memory returned */
  uint64_t nwarm, ncold, cap; /* cap >= stacks ever carved, so pushes never fail */
  uint64_t carved, nslabs;
  uint64_t map_budget; /* guard mode: most memory maps the stacks may take (7/8 of
                          vm.max_map_count), so malloc, Wasm memories and a collection that
                          would release stacks still find maps; 0 = no budget */
} cs_pool;

/* -- Continuation objects (cs_cont.c) ---------------------------------------------------------- */

/* A contref plus the plugin's own fields (vm.h allows fields after `values`). 256 bytes, 64-byte
 * aligned (blocks are aligned), laid out by who touches what: lines 0-1 are the ABI part the
 * switches use; line 2 holds everything the start trampoline's run step and the cont_new fast path
 * read or write (owner, func, caller, store, result count, finished-list link), so finishing and
 * reusing a continuation touches no line the switches do not; line 3 is cold (slow path, ASan). */
typedef struct cs_cont {
  _Alignas(64) weft_contref pub; /* must be first; @128 values */
  struct cs_state *owner;        /* @144 */
  const weft_funcref *func;      /* @152 */
  void *caller_vmctx;            /* @160 */
  struct cs_cont *next;          /* @168 free list / finished list */
  const weft_store_ctx *store;   /* @176 of caller_vmctx (NULL when it is NULL) */
  uint32_t nresults : 31;        /* @184 (<= max_cap < 2^31); the payload cap is args.capacity */
  uint32_t finished : 1;         /* on the finished list of the thread it finished on */
  _Atomic uint32_t uses;         /* @188 handed out by cont_new since its last recycle (wraps
                                    are folded into cs_state.created); read by stats */
  /* -- line 3: cold -- */
  uint8_t *pool_top;           /* the stack's real top in the pool (NULL: not live); pub.stack_top
                                  is below it by the stack's colour (cs_cont.c) */
  struct cs_cont *prev_live, *next_live;
  /* ASan fiber bookkeeping (WEFT_SANITIZE builds only; harmless otherwise) */
  void *asan_fake;
  const void *asan_parent_bottom;
  size_t asan_parent_size;
} cs_cont;
_Static_assert(sizeof(cs_cont) == 256, "cs_cont: four cache lines");
_Static_assert(offsetof(cs_cont, owner) == 144 && offsetof(cs_cont, uses) == 188,
               "cs_cont: the run step's fields share line 2 with values");

typedef struct cs_block {
  struct cs_block *next;
  void *raw;      /* what the host allocated (the block is aligned up to 64 inside it) */
  cs_cont conts[CS_CONT_BLOCK];
} cs_block;

/* -- Plugin state (contstacks.c) --------------------------------------------------------------- */

typedef struct cs_state {
  const weft_host_api *host;
  pthread_mutex_t lock; /* recursive; pool, free contrefs, live list, counters */
  cs_pool pool;
  uint64_t max_conts;
  cs_block *blocks;
  cs_cont *free_conts;
  cs_cont *live_head;
  uint64_t live;    /* contrefs handed out and not recycled (finished ones count until recycled) */
  uint64_t created; /* cont_new calls, less those still counted in each contref's `uses` */
  uint64_t gen;     /* unique per state (a thread caches which state armed its exit key) */
  uint32_t max_cap; /* the largest max(nparams, nresults) the start layout fits (check_arity) */
  uint64_t reserve; /* bytes at a stack's bottom kept for host code (below stack_limit) */
  /* test hooks: make the Nth mmap / alloc from now fail (0 = never) */
  uint32_t fail_mmap_after, fail_alloc_after;
  /* set on a thread once it finished a continuation: its destructor recycles that thread's finished
   * list when the thread exits (so an exiting thread leaks nothing) */
  pthread_key_t exit_key;
  bool has_exit_key;
} cs_state;

/* -- Pool --------------------------------------------------------------------------------------- */

int cs_pool_init(cs_pool *p, uint64_t stack_size, bool guard_pages, uint64_t watermark);
void cs_pool_fini(cs_state *st);
/* A stack (its top address) in *out_top; the pool lock is held by the caller. */
int cs_pool_get(cs_state *st, uint8_t **out_top, weft_diag *d);
/* Give a stack back; lock held. */
void cs_pool_put(cs_state *st, uint8_t *top);
bool cs_pool_guard_lookup(const cs_pool *p, uintptr_t addr);
void cs_pool_stats(const cs_pool *p, weft_contstacks_stats *out);

/* mmap/alloc wrappers that honour the test hooks. */
void *cs_mmap(cs_state *st, size_t len, int prot, int flags);
void *cs_alloc(cs_state *st, size_t size);
void *cs_realloc(cs_state *st, void *ptr, size_t size);

/* -- Continuations ------------------------------------------------------------------------------ */

int cs_cont_new(void *state, void *caller_vmctx, const weft_funcref *f, uint32_t nparams,
                uint32_t nresults, weft_contref **out, weft_diag *d);
int cs_cont_release(void *state, weft_contref *c);
void cs_for_each_suspended(void *state, const weft_store_ctx *store,
                           void (*visit)(void *ud, weft_contref *c), void *ud);
/* whether c is a contref of this state, made for `store` unless recycled (vtable owns, 1.4) */
bool cs_cont_owns(void *state, const weft_store_ctx *store, const weft_contref *c);
const uint64_t *cs_live_count(void *state);
/* every live continuation of `store`, any state (vtable for_each_cont, since 1.3; part gcroots) */
void cs_for_each_cont(void *state, const weft_store_ctx *store,
                      void (*visit)(void *ud, weft_contref *c), void *ud);
void cs_collect(void *state);
int cs_check_arity(void *state, uint32_t nparams, uint32_t nresults, weft_diag *d);
void cs_stats(void *state, weft_contstacks_stats *out);
bool cs_guard_lookup(void *state, uintptr_t addr);
void cs_cont_fini(cs_state *st);
/* The exit_key destructor: recycles the exiting thread's finished continuations of state `st`. */
void cs_thread_exit(void *st);
/* init: the state's generation number and max_cap (after the pool and reserve are set). */
void cs_cont_init(cs_state *st);

/* Called by the start trampoline on the continuation's own stack: runs the function through its
 * array_call and returns the control effect to deliver to the parent (RETURN or TRAP). */
uint64_t cs_cont_run(cs_cont *c);

/* -- Assembly (cs_switch.S) --------------------------------------------------------------------- */

/* The C-callable switch: callee-saved registers preserved, then the inline sequence. */
uint64_t cs_stack_switch(weft_control_ctx *store, const weft_control_ctx *load, uint64_t effect);
/* Where a Fresh continuation's first resume lands (never called directly). */
void cs_cont_start(void);

/* -- Reference protocol in C (cs_ref.c) --------------------------------------------------------- */

/* The resume / suspend protocol of docs/STACK-SWITCHING.md §4 written in C over cs_stack_switch,
 * with ASan fiber annotations. Generated code inlines the same steps; tests and host code use these.
 * cs_ref_resume: `c` already passed the revision check. `args`/nargs are appended to c's payload
 * (args when FRESH, values otherwise; capacity checked); `tags` are the handler clauses, suspend
 * clauses [0, first_switch), switch clauses [first_switch, ntags). Returns the effect; on SUSPEND
 * *out_cont is the suspender (its values hold the tag's params: the handler takes them and sets
 * values.length = 0); on RETURN the results are in (*out_cont)->args.data. A TRAP with a nonzero
 * low word means refused without switching (that trap code). */
uint64_t cs_ref_resume(weft_store_ctx *ctx, weft_contref *c, const weft_val_raw *args, uint32_t nargs,
                       void *const *tags, uint32_t ntags, uint32_t first_switch,
                       weft_contref **out_cont);
/* Suspend the running continuation to the nearest handler of `tag`. `buf` (capacity `cap` slots)
 * holds the nvals params and receives the resume values. Returns the effect it was resumed with,
 * or WEFT_EFFECT_MAKE(WEFT_EFFECT_TRAP, WEFT_TRAP_UNHANDLED_TAG) without switching when no
 * handler exists up to the initial stack. */
uint64_t cs_ref_suspend(weft_store_ctx *ctx, void *tag, weft_val_raw *buf, uint32_t nvals,
                        uint32_t cap);
/* switch: the running continuation suspends itself (to the nearest (on tag switch) handler h) and
 * `s` (already revision-checked) runs in its place below h, receiving args ++ [switcher]. `buf`
 * (capacity cap) receives the values the switcher is later woken with. Returns that effect, or a
 * refused TRAP|code without switching. */
uint64_t cs_ref_switch(weft_store_ctx *ctx, weft_contref *s, const weft_val_raw *args, uint32_t nargs,
                       void *tag, weft_val_raw *buf, uint32_t cap);
/* cont.bind: append args to c's payload (args when FRESH, values when SUSPENDED), capacity
 * checked: WEFT_OK, WEFT_ERR_LIMIT (does not fit, nothing written), WEFT_ERR_MISUSE (bad state). */
int cs_ref_bind(weft_contref *c, const weft_val_raw *args, uint32_t nargs);

/* ASan fiber annotations (no-ops without WEFT_SANITIZE). Before a switch: cs_asan_leave with the
 * target stack's bounds; *fake saves this fiber's fake stack (pass NULL when this fiber dies). When
 * the switch is into the stack of a chain whose last ancestor is `la`, call cs_asan_expect(la) first:
 * the arriving side records where it came from there (la's parent stack, the target of the chain's
 * next suspend). After arriving on a stack: cs_asan_arrive with the fake stack saved when leaving. */
#if defined(WEFT_SANITIZE)
void cs_asan_leave(void **fake, const void *bottom, size_t size);
void cs_asan_expect(cs_cont *la);
void cs_asan_arrive(void *fake);
#else
/* inline no-ops: the run step and the reference protocol pay nothing for them */
static inline void cs_asan_leave(void **fake, const void *bottom, size_t size) {
  (void)fake;
  (void)bottom;
  (void)size;
}
static inline void cs_asan_expect(cs_cont *la) { (void)la; }
static inline void cs_asan_arrive(void *fake) { (void)fake; }
#endif
/* The same per instruction (vtable slots asan_*; see weft/plugin/contstacks.h). */
void cs_asan_before_resume(void **fake, const weft_contref *c);
void cs_asan_after_resume(void *fake);
void cs_asan_before_suspend(weft_contref *a, const weft_contref *la);
void cs_asan_before_switch(weft_contref *a, const weft_contref *la, const weft_contref *s);
void cs_asan_after_suspend(weft_contref *a);

#endif /* WEFT_CONTSTACKS_INT_H */
