/* core/memory.c -- linear memories: address-space reservation (4 GiB + 2 GiB guard, so 32-bit
 * accesses need no bounds checks) with a small pool of freed reservations, growth within the
 * limits, and the memory part of the API.
 * Depends on: core/runtime_int.h, mmap/mprotect/madvise, pthread mutex (the pool).
 */
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "runtime_int.h"

/* -- Reservation ------------------------------------------------------------------------------ */

#define GIB ((uint64_t)1 << 30)
/* Every memory reserves this much: 4 GiB of addressable pages plus a 2 GiB guard region, so an
 * i32 index plus an offset below 2^31 always lands in the reservation. memory64 uses the same
 * reservation with explicit checks, and cannot grow past 4 GiB (memory.grow returns -1). */
#define RESERVATION (6 * GIB)
#define MAX_PAGES_32 ((uint64_t)65536)

/* -- Reservation pool ------------------------------------------------------------------------- */

/* Unmapping a 6 GiB reservation frees its page tables, and the next reservation's first touches
 * must allocate them again: for a small instance with a memory these were most of the cost of
 * instantiate + free (perf: unmap_page_range, free_pgd_range, __pmd_alloc/__pte_alloc under the
 * data-segment copy). So up to POOL_MAX freed reservations are kept, process-wide: each goes back
 * to PROT_NONE with its pages dropped (MADV_DONTNEED: anonymous private pages read as zero when
 * touched again), so a reused one behaves exactly like a fresh mmap. */
#define POOL_MAX 32

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static void *pool[POOL_MAX];
static size_t pool_n;

/* A PROT_NONE reservation of RESERVATION bytes: from the pool, else a new mapping. NULL on failure. */
static void *reservation_take(void) {
  void *base = NULL;
  pthread_mutex_lock(&pool_lock);
  if (pool_n > 0) base = pool[--pool_n];
  pthread_mutex_unlock(&pool_lock);
  if (base != NULL) return base;
  base = mmap(NULL, RESERVATION, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return base != MAP_FAILED ? base : NULL;
}

/* Gives back a reservation whose first `used` bytes are accessible: to the pool once reset, or to
 * the kernel when the pool is full or the reset fails. */
static void reservation_give(void *base, uint64_t used) {
  bool keep = used == 0 || (madvise(base, (size_t)used, MADV_DONTNEED) == 0 &&
                            mprotect(base, (size_t)used, PROT_NONE) == 0);
  if (keep) {
    pthread_mutex_lock(&pool_lock);
    if (pool_n < POOL_MAX)
      pool[pool_n++] = base;
    else
      keep = false;
    pthread_mutex_unlock(&pool_lock);
  }
  if (!keep) munmap(base, RESERVATION);
}

/* -- Memories --------------------------------------------------------------------------------- */

static uint64_t max_pages(const weft_limits *l) {
  uint64_t cap = MAX_PAGES_32; /* also the implementation limit of memory64 */
  if (l->has_max && l->max < cap) return l->max;
  return cap;
}

int core_rt_memory_create(const weft_limits *limits, weft_vm_memory *vm, core_memory **out) {
  *out = NULL;
  if (limits->min > max_pages(limits)) return WEFT_ERR_LIMIT;
  core_memory *m = calloc(1, sizeof *m);
  if (m == NULL) return WEFT_ERR_NOMEM;
  m->vm = vm != NULL ? vm : &m->storage;
  m->limits = *limits;
  uint8_t *base = reservation_take();
  if (base == NULL) {
    free(m);
    return WEFT_ERR_NOMEM;
  }
  uint64_t bytes = limits->min * WEFT_WASM_PAGE_SIZE;
  if (bytes > 0 && mprotect(base, (size_t)bytes, PROT_READ | PROT_WRITE) != 0) {
    munmap(base, RESERVATION); /* a failed mprotect may have changed part of it */
    free(m);
    return WEFT_ERR_NOMEM;
  }
  m->reserved = RESERVATION;
  m->vm->base = base;
  m->vm->length = bytes;
  *out = m;
  return WEFT_OK;
}

void core_rt_memory_destroy(core_memory *m) {
  if (m == NULL) return;
  if (m->vm->base != NULL) reservation_give(m->vm->base, m->vm->length);
  free(m);
}

uint64_t core_rt_memory_grow(core_memory *m, uint64_t delta) {
  uint64_t old = m->vm->length / WEFT_WASM_PAGE_SIZE;
  if (delta == 0) return old;
  if (delta > max_pages(&m->limits) - old) return UINT64_MAX;
  uint64_t bytes = (old + delta) * WEFT_WASM_PAGE_SIZE;
  if (mprotect(m->vm->base + m->vm->length, (size_t)(bytes - m->vm->length),
               PROT_READ | PROT_WRITE) != 0)
    return UINT64_MAX;
  m->vm->length = bytes;
  m->limits.min = old + delta;
  return old;
}

/* -- API -------------------------------------------------------------------------------------- */

static core_memory *mem_obj(weft_store_t *s, weft_memory_t m) {
  return s != NULL && m.store_id == s->id ? m.obj : NULL;
}

int weft_memory_new(weft_store_t *store, uint64_t min, bool has_max, uint64_t max, bool is64,
                    weft_memory_t *out) {
  if (store == NULL || out == NULL || (has_max && max < min)) return WEFT_ERR_MISUSE;
  weft_limits l = {.min = min, .max = max, .has_max = has_max, .is64 = is64};
  core_memory *m;
  int rc = core_rt_memory_create(&l, NULL, &m);
  if (rc != WEFT_OK) return rc;
  if (core_rt_vec_push(&store->memories, m) != WEFT_OK) {
    core_rt_memory_destroy(m);
    return WEFT_ERR_NOMEM;
  }
  *out = (weft_memory_t){store->id, m};
  return WEFT_OK;
}

uint8_t *weft_memory_data(weft_store_t *store, weft_memory_t m) {
  core_memory *o = mem_obj(store, m);
  return o != NULL ? o->vm->base : NULL;
}

uint64_t weft_memory_data_size(weft_store_t *store, weft_memory_t m) {
  core_memory *o = mem_obj(store, m);
  return o != NULL ? o->vm->length : 0;
}

int weft_memory_get_type(weft_store_t *store, weft_memory_t m, weft_limits *out) {
  core_memory *o = mem_obj(store, m);
  if (o == NULL || out == NULL) return WEFT_ERR_MISUSE;
  *out = o->limits;
  return WEFT_OK;
}

uint64_t weft_memory_size(weft_store_t *store, weft_memory_t m) {
  return weft_memory_data_size(store, m) / WEFT_WASM_PAGE_SIZE;
}

int weft_memory_grow(weft_store_t *store, weft_memory_t m, uint64_t delta, uint64_t *out_old) {
  core_memory *o = mem_obj(store, m);
  if (o == NULL) return WEFT_ERR_MISUSE;
  uint64_t old = core_rt_memory_grow(o, delta);
  if (old == UINT64_MAX) return WEFT_ERR_LIMIT;
  if (out_old != NULL) *out_old = old;
  return WEFT_OK;
}
