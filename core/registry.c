/* core/registry.c -- the code registry: which address ranges hold compiled Wasm code, and what a
 * fault at a pc there means (trap sites from the codegen's weft_code_info).
 * Written under a mutex by module creation/destruction; read by the signal handler without locks:
 * the table is an immutable sorted array swapped atomically, and a writer frees the old one only
 * after no handler is reading. Depends on: core/runtime_int.h, pthreads.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "exn.h"
#include "runtime_int.h"

/* -- The table -------------------------------------------------------------------------------- */

typedef struct reg_entry {
  uintptr_t start, end;
  const weft_code_info *ci;
} reg_entry;

typedef struct reg_table {
  size_t n;
  reg_entry e[];
} reg_table;

static _Atomic(reg_table *) current;
static atomic_uint readers;
static pthread_mutex_t writer = PTHREAD_MUTEX_INITIALIZER;

/* Publishes `t` and frees the table it replaces once no reader can still see it. */
static void publish(reg_table *t) {
  reg_table *old = atomic_exchange(&current, t);
  while (atomic_load(&readers) != 0) sched_yield();
  free(old);
}

/* -- Writers ---------------------------------------------------------------------------------- */

int core_rt_registry_add(const weft_code_info *ci) {
  if (ci == NULL || ci->code == NULL || ci->code_size == 0) return WEFT_OK;
  int rc = WEFT_OK;
  pthread_mutex_lock(&writer);
  reg_table *old = atomic_load(&current);
  size_t n = old != NULL ? old->n : 0;
  reg_table *t = malloc(sizeof *t + (n + 1) * sizeof(reg_entry));
  if (t == NULL) {
    rc = WEFT_ERR_NOMEM;
    goto out;
  }
  uintptr_t start = (uintptr_t)ci->code;
  size_t j = 0;
  bool placed = false;
  for (size_t i = 0; i < n; i++) {
    if (!placed && old->e[i].start > start) {
      t->e[j++] = (reg_entry){start, start + ci->code_size, ci};
      placed = true;
    }
    t->e[j++] = old->e[i];
  }
  if (!placed) t->e[j++] = (reg_entry){start, start + ci->code_size, ci};
  t->n = j;
  publish(t);
out:
  pthread_mutex_unlock(&writer);
  return rc;
}

void core_rt_registry_remove(const weft_code_info *ci) {
  if (ci == NULL) return;
  pthread_mutex_lock(&writer);
  reg_table *old = atomic_load(&current);
  if (old == NULL) goto out;
  reg_table *t = malloc(sizeof *t + old->n * sizeof(reg_entry));
  if (t == NULL) {
    /* Cannot shrink: leave the entry (harmless: its code is unmapped, so no pc will match it
     * unless the range is reused, and then the newer entry sorts first). */
    goto out;
  }
  size_t j = 0;
  for (size_t i = 0; i < old->n; i++)
    if (old->e[i].ci != ci) t->e[j++] = old->e[i];
  t->n = j;
  publish(t);
out:
  pthread_mutex_unlock(&writer);
}

/* -- Reader (async-signal-safe) --------------------------------------------------------------- */

bool core_rt_registry_lookup(uintptr_t pc, uint32_t *trap, uint32_t *wasm_off) {
  bool found = false;
  atomic_fetch_add(&readers, 1);
  reg_table *t = atomic_load(&current);
  if (t == NULL) goto out;
  size_t lo = 0, hi = t->n;
  while (lo < hi) { /* last entry with start <= pc */
    size_t mid = lo + (hi - lo) / 2;
    if (t->e[mid].start <= pc) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0 || pc >= t->e[lo - 1].end) goto out;
  const weft_code_info *ci = t->e[lo - 1].ci;
  uint32_t off = (uint32_t)(pc - t->e[lo - 1].start);
  found = true;
  *trap = WEFT_TRAP_NONE;
  *wasm_off = UINT32_MAX;
  size_t a = 0, b = ci->ntrap_sites;
  while (a < b) {
    size_t mid = a + (b - a) / 2;
    if (ci->trap_sites[mid].code_off < off) a = mid + 1;
    else b = mid;
  }
  if (a < ci->ntrap_sites && ci->trap_sites[a].code_off == off) {
    *trap = ci->trap_sites[a].trap;
    *wasm_off = ci->trap_sites[a].wasm_off;
  } else if (ci->npc_map > 0) {
    size_t x = 0, y = ci->npc_map;
    while (x < y) {
      size_t mid = x + (y - x) / 2;
      if (ci->pc_map[mid].code_off <= off) x = mid + 1;
      else y = mid;
    }
    if (x > 0) *wasm_off = ci->pc_map[x - 1].wasm_off;
  }
out:
  atomic_fetch_sub(&readers, 1);
  return found;
}

/* The compiled module holding `pc` and its code start, or NULL (async-signal-safe). The result
 * stays valid while code of that module is on the stack (used by the unwinder, core/exn.c). */
const weft_code_info *core_rt_registry_find(uintptr_t pc, uintptr_t *out_base) {
  const weft_code_info *ci = NULL;
  atomic_fetch_add(&readers, 1);
  reg_table *t = atomic_load(&current);
  if (t != NULL) {
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
      size_t mid = lo + (hi - lo) / 2;
      if (t->e[mid].start <= pc) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && pc < t->e[lo - 1].end) {
      ci = t->e[lo - 1].ci;
      *out_base = t->e[lo - 1].start;
    }
  }
  atomic_fetch_sub(&readers, 1);
  return ci;
}
