/* plugins/contstacks/cs_pool.c -- the stack pool: slabs reserved with mmap(MAP_NORESERVE) and
 * committed by touch, stacks carved from them, warm/cold free lists with a watermark above which
 * recycled stacks give their memory back (MADV_DONTNEED), and the guard-page range lookup.
 * Callers hold cs_state.lock except for cs_pool_guard_lookup (lock-free, async-signal-safe).
 * Depends on: contstacks_int.h, <sys/mman.h>, /proc/sys/vm/max_map_count (read once).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "contstacks_int.h"

/* Under valgrind, each stack is registered so its switches are not taken for stack overflows.
 * The client requests cost a few instructions when not under valgrind. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define CS_VG_REGISTER(lo, hi) ((uint32_t)VALGRIND_STACK_REGISTER((lo), (hi)))
#define CS_VG_DEREGISTER(id) VALGRIND_STACK_DEREGISTER(id)
#endif
#endif
#ifndef CS_VG_REGISTER
#define CS_VG_REGISTER(lo, hi) ((void)(lo), (void)(hi), 0u)
#define CS_VG_DEREGISTER(id) ((void)(id))
#endif

#if defined(WEFT_SANITIZE)
#include <sanitizer/asan_interface.h>
#define CS_UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define CS_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* -- Allocation wrappers (test hooks) --------------------------------------------------------- */

static bool hook_fires(uint32_t *counter) {
  if (*counter == 0) return false;
  if (--*counter == 0) return true;
  return false;
}

void *cs_mmap(cs_state *st, size_t len, int prot, int flags) {
  if (hook_fires(&st->fail_mmap_after)) return MAP_FAILED;
  return mmap(NULL, len, prot, flags, -1, 0);
}

void *cs_alloc(cs_state *st, size_t size) {
  if (hook_fires(&st->fail_alloc_after)) return NULL;
  return st->host->alloc(st->host->host, size);
}

void *cs_realloc(cs_state *st, void *ptr, size_t size) {
  if (hook_fires(&st->fail_alloc_after)) return NULL;
  return st->host->realloc(st->host->host, ptr, size);
}

/* -- Setup ------------------------------------------------------------------------------------ */

/* The kernel's limit on memory maps per process (Linux's default when it cannot be read). Each
 * stack carved with a guard page splits its slab's PROT_NONE mapping: two maps per stack. */
static uint64_t max_map_count(void) {
  unsigned long long v = 65530;
  FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
  if (f != NULL) {
    if (fscanf(f, "%llu", &v) != 1 || v < 1024) v = 65530;
    fclose(f);
  }
  return (uint64_t)v;
}

int cs_pool_init(cs_pool *p, uint64_t stack_size, bool guard_pages, uint64_t watermark) {
  memset(p, 0, sizeof *p);
  if (stack_size < CS_MIN_STACK || stack_size > CS_MAX_STACK) return WEFT_ERR_CONFIG;
  p->stack_size = (stack_size + CS_PAGE - 1) & ~(uint64_t)(CS_PAGE - 1);
  p->guard = guard_pages ? CS_PAGE : 0;
  p->watermark = watermark;
  if (guard_pages) {
    uint64_t max = max_map_count();
    p->map_budget = max - max / 8;
  }
  return WEFT_OK;
}

void cs_pool_fini(cs_state *st) {
  cs_pool *p = &st->pool;
  cs_slab *s = atomic_load_explicit(&p->slabs, memory_order_acquire);
  atomic_store_explicit(&p->slabs, NULL, memory_order_release);
  while (s != NULL) {
    cs_slab *next = atomic_load_explicit(&s->next, memory_order_relaxed);
    for (uint32_t i = 0; i < s->carved; i++) CS_VG_DEREGISTER(s->vg_ids[i]);
    munmap(s->base, (size_t)(s->stride * s->count));
    st->host->free(st->host->host, s);
    s = next;
  }
  st->host->free(st->host->host, p->warm);
  st->host->free(st->host->host, p->cold);
  p->warm = p->cold = NULL;
  p->carving = NULL;
}

/* -- Slabs ------------------------------------------------------------------------------------ */

/* Make sure the free lists can hold `n` stacks, so cs_pool_put never fails. */
static int reserve_lists(cs_state *st, uint64_t n) {
  cs_pool *p = &st->pool;
  if (n <= p->cap) return WEFT_OK;
  uint64_t cap = p->cap ? p->cap : 256;
  while (cap < n) cap *= 2;
  uint8_t **w = cs_realloc(st, p->warm, (size_t)cap * sizeof *w);
  if (w == NULL) return WEFT_ERR_NOMEM;
  p->warm = w;
  uint8_t **c = cs_realloc(st, p->cold, (size_t)cap * sizeof *c);
  if (c == NULL) return WEFT_ERR_NOMEM;
  p->cold = c;
  p->cap = cap;
  return WEFT_OK;
}

/* A new mapping: PROT_NONE when stacks have guards (each stack is made RW when carved, the guard
 * below it stays PROT_NONE), else RW at once; MAP_NORESERVE either way, pages commit on touch. */
static int new_slab(cs_state *st, weft_diag *d) {
  cs_pool *p = &st->pool;
  uint64_t stride = p->stack_size + p->guard;
  uint64_t count = CS_SLAB_BYTES / stride;
  if (count < 1) count = 1;
  if (count > CS_SLAB_MAX_STACKS) count = CS_SLAB_MAX_STACKS;
  int rc = reserve_lists(st, p->carved + count);
  if (rc != WEFT_OK)
    return weft_host_diag(st->host, d, rc, UINT64_MAX, CS_ORIGIN,
                          "out of memory growing the stack pool's free lists");
  cs_slab *s = cs_alloc(st, sizeof *s + (size_t)count * sizeof s->vg_ids[0]);
  if (s == NULL)
    return weft_host_diag(st->host, d, WEFT_ERR_NOMEM, UINT64_MAX, CS_ORIGIN,
                          "out of memory allocating a stack slab record");
  int prot = p->guard ? PROT_NONE : (PROT_READ | PROT_WRITE);
  void *m = cs_mmap(st, (size_t)(stride * count), prot,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
  if (m == MAP_FAILED) {
    int e = errno;
    st->host->free(st->host->host, s);
    return weft_host_diag(st->host, d, WEFT_ERR_NOMEM, UINT64_MAX, CS_ORIGIN,
                          "cannot reserve %llu bytes of address space for %llu continuation "
                          "stacks: %s",
                          (unsigned long long)(stride * count), (unsigned long long)count,
                          e ? strerror(e) : "mmap failed");
  }
  s->base = m;
  s->stride = stride;
  s->guard = p->guard;
  s->count = (uint32_t)count;
  s->carved = 0;
  atomic_store_explicit(&s->next, atomic_load_explicit(&p->slabs, memory_order_relaxed),
                        memory_order_relaxed);
  atomic_store_explicit(&p->slabs, s, memory_order_release);
  p->carving = s;
  p->nslabs++;
  return WEFT_OK;
}

/* -- Get and put ------------------------------------------------------------------------------ */

int cs_pool_get(cs_state *st, uint8_t **out_top, weft_diag *d) {
  cs_pool *p = &st->pool;
  if (p->nwarm > 0) {
    *out_top = p->warm[--p->nwarm];
    return WEFT_OK;
  }
  if (p->ncold > 0) {
    *out_top = p->cold[--p->ncold];
    return WEFT_OK;
  }
  if (p->carving == NULL || p->carving->carved == p->carving->count) {
    int rc = new_slab(st, d);
    if (rc != WEFT_OK) return rc;
  }
  if (p->map_budget != 0 && 2 * (p->carved + 1) + p->nslabs > p->map_budget)
    return weft_host_diag(st->host, d, WEFT_ERR_LIMIT, UINT64_MAX, CS_ORIGIN,
                          "too many continuation stacks with guard pages: %llu use 7/8 of "
                          "vm.max_map_count (two maps each); use [contstacks] guard_pages = no "
                          "for many stacks",
                          (unsigned long long)p->carved);
  cs_slab *s = p->carving;
  uint8_t *lo = s->base + s->stride * s->carved + s->guard;
  if (s->guard && mprotect(lo, (size_t)p->stack_size, PROT_READ | PROT_WRITE) != 0)
    return weft_host_diag(st->host, d, WEFT_ERR_NOMEM, UINT64_MAX, CS_ORIGIN,
                          "cannot make a continuation stack writable (%s): vm.max_map_count may "
                          "be reached; use [contstacks] guard_pages = no for many stacks",
                          strerror(errno));
  s->vg_ids[s->carved] = CS_VG_REGISTER(lo, lo + p->stack_size);
  s->carved++;
  p->carved++;
  *out_top = lo + p->stack_size;
  return WEFT_OK;
}

void cs_pool_put(cs_state *st, uint8_t *top) {
  cs_pool *p = &st->pool;
  uint8_t *lo = top - p->stack_size;
  CS_UNPOISON(lo, (size_t)p->stack_size);
  if (p->nwarm < p->watermark) {
    p->warm[p->nwarm++] = top;
    return;
  }
  /* Above the watermark: keep the address range, return the memory. A failing madvise only
   * means the pages stay resident; the stack is still usable. */
  (void)madvise(lo, (size_t)p->stack_size, MADV_DONTNEED);
  p->cold[p->ncold++] = top;
}

/* -- Guard lookup and stats ------------------------------------------------------------------- */

bool cs_pool_guard_lookup(const cs_pool *p, uintptr_t addr) {
  for (cs_slab *s = atomic_load_explicit(&((cs_pool *)p)->slabs, memory_order_acquire); s != NULL;
       s = atomic_load_explicit(&s->next, memory_order_acquire)) {
    uintptr_t base = (uintptr_t)s->base;
    if (s->guard == 0 || addr < base || addr - base >= s->stride * s->count) continue;
    return (addr - base) % s->stride < s->guard;
  }
  return false;
}

void cs_pool_stats(const cs_pool *p, weft_contstacks_stats *out) {
  out->stacks_mapped = p->carved;
  out->stacks_warm = p->nwarm;
  out->stacks_cold = p->ncold;
  out->mappings = p->nslabs;
  out->stack_size = p->stack_size;
  out->guard_size = p->guard;
}
