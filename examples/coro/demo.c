/* examples/coro/demo.c -- weft's demo program: three uses of coroutines in plain C, each
 * coroutine on its own stack, switched by weft's native stack switching (coro.wat):
 * a round-robin scheduler of tasks, the same-fringe problem (two recursive tree walkers), and a
 * prime sieve built as a pipeline of generator coroutines, checked against trial division.
 * Usage: weft run --preload env=coro.wat coro-demo.wasm [PRIMES]   (default 100, at most 2000)
 * Depends on: coro.h / coro.c, wasi-libc (printf, malloc).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coro.h"

#define PTR(v) ((void *)(intptr_t)(v))
#define INT(p) ((int)(intptr_t)(p))

/* -- 1. A round-robin scheduler ---------------------------------------------------------------- */

/* Each task prints one line per turn and yields to the scheduler; they take different numbers
 * of turns. Every line is formatted in a buffer on the task's own C stack. */
static void say(const char *task, const char *fmt, int a, int b) {
  char line[64];
  snprintf(line, sizeof line, fmt, a, b);
  printf("  %-9s %s\n", task, line);
}

static int fib(int n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

static int task_fib(int turns) {
  for (int i = 1; i <= turns; i++) {
    say("[fib]", "fib(%d) = %d", i * 5, fib(i * 5)); /* a recursive computation per turn */
    coro_yield(0);
  }
  return turns;
}

static int task_squares(int turns) {
  for (int i = 1; i <= turns; i++) {
    say("[squares]", "%d^2 = %d", i, i * i);
    coro_yield(0);
  }
  return turns;
}

static int task_countdown(int from) {
  for (int i = from; i > 0; i--) {
    say("[launch]", "T-%d%.0d", i, 0);
    coro_yield(0);
  }
  say("[launch]", "liftoff%.0d%.0d", 0, 0);
  return from + 1;
}

static int run_scheduler(void) {
  struct { const char *name; int (*body)(int); int arg; coro *c; } tasks[] = {
    {"fib", task_fib, 4, NULL},
    {"squares", task_squares, 2, NULL},
    {"launch", task_countdown, 3, NULL},
  };
  enum { NTASKS = sizeof tasks / sizeof tasks[0] };
  printf("== a scheduler runs three tasks in turns (each [task] line is printed by that task)\n");
  for (int i = 0; i < NTASKS; i++)
    if ((tasks[i].c = coro_new(tasks[i].body, tasks[i].arg)) == NULL) return 1;
  int live = NTASKS;
  while (live > 0) {
    for (int i = 0; i < NTASKS; i++) {
      if (coro_done(tasks[i].c)) continue;
      int r = coro_resume(tasks[i].c, 0);
      if (coro_done(tasks[i].c)) {
        printf("  %-9s finished after %d turns\n", tasks[i].name, r);
        live--;
      }
    }
  }
  for (int i = 0; i < NTASKS; i++) coro_free(tasks[i].c);
  return 0;
}

/* -- 2. Same fringe ---------------------------------------------------------------------------- */

/* A binary tree whose leaves hold positive numbers; the fringe is the leaves left to right. */
typedef struct tree {
  const struct tree *left, *right;
  int leaf;
} tree;

#define LEAF(v) (&(const tree){NULL, NULL, (v)})
#define NODE(l, r) (&(const tree){(l), (r), 0})

/* Yields every leaf from inside the recursion: the walker's whole call chain is suspended. */
static void walk(const tree *t) {
  if (t->left == NULL) {
    coro_yield(t->leaf);
    return;
  }
  walk(t->left);
  walk(t->right);
}

static int walker(int t) {
  walk(PTR(t));
  return 0; /* the end of the fringe */
}

static void print_tree(const tree *t) {
  if (t->left == NULL) {
    printf("%d", t->leaf);
    return;
  }
  putchar('(');
  print_tree(t->left);
  putchar(' ');
  print_tree(t->right);
  putchar(')');
}

/* Compares the fringes one leaf at a time, never building a list. 0 ok, 1 out of memory. */
static int same_fringe(const tree *a, const tree *b) {
  coro *wa = coro_new(walker, INT(a)), *wb = coro_new(walker, INT(b));
  if (wa == NULL || wb == NULL) return 1;
  printf("  ");
  print_tree(a);
  printf(" vs ");
  print_tree(b);
  for (int i = 1;; i++) {
    int x = coro_resume(wa, 0), y = coro_resume(wb, 0);
    if (x != y) {
      printf(": they differ at leaf %d (", i);
      printf(x != 0 ? "%d" : "end", x);
      printf(" vs ");
      printf(y != 0 ? "%d" : "end", y);
      printf(")\n");
      break;
    }
    if (x == 0) {
      printf(": same fringe, %d leaves\n", i - 1);
      break;
    }
  }
  coro_free(wa);
  coro_free(wb);
  return 0;
}

static int run_fringe(void) {
  const tree *a = NODE(NODE(LEAF(1), LEAF(2)), NODE(LEAF(3), NODE(LEAF(4), LEAF(5))));
  const tree *b = NODE(LEAF(1), NODE(LEAF(2), NODE(LEAF(3), NODE(LEAF(4), LEAF(5)))));
  const tree *c = NODE(NODE(NODE(LEAF(1), LEAF(2)), LEAF(3)), NODE(LEAF(5), LEAF(4)));
  const tree *d = NODE(NODE(LEAF(1), LEAF(2)), LEAF(3));
  printf("== same fringe: two tree walkers, each suspended deep inside its own recursion\n");
  return same_fringe(a, b) || same_fringe(a, c) || same_fringe(a, d);
}

/* -- 3. A prime sieve as a pipeline of generators ---------------------------------------------- */

/* The pipeline: a counter 2, 3, 4, ... and, for each prime found, a filter coroutine that pulls
 * from the stage before it and passes on what its prime does not divide. */
typedef struct filter {
  coro *source;
  int prime;
} filter;

static int count_from(int n) {
  for (;;) coro_yield(n++);
}

static int sieve_stage(int arg) {
  const filter *f = PTR(arg);
  for (;;) {
    int v = coro_resume(f->source, 0);
    if (v % f->prime != 0) coro_yield(v);
  }
}

static int is_prime(int n) {
  for (int d = 2; d * d <= n; d++)
    if (n % d == 0) return 0;
  return n >= 2;
}

static int run_sieve(int n) {
  coro **stages = calloc((size_t)n + 1, sizeof *stages);
  filter *filters = calloc((size_t)n, sizeof *filters);
  int rc = 1, last = 0, wrong = 0, expect = 1;
  long long sum = 0;
  unsigned long before = coro_switches();
  printf("== the first %d primes from a pipeline of generator coroutines, one per prime\n", n);
  if (stages == NULL || filters == NULL || (stages[0] = coro_new(count_from, 2)) == NULL) goto out;
  for (int i = 0; i < n; i++) {
    int p = coro_resume(stages[i], 0); /* the first number the whole pipeline lets through */
    do expect++; while (!is_prime(expect));
    if (p != expect) wrong++;
    printf("%s%6d", i % 10 == 0 ? " " : "", p);
    if (i % 10 == 9 || i == n - 1) putchar('\n');
    filters[i] = (filter){stages[i], p};
    if ((stages[i + 1] = coro_new(sieve_stage, INT(&filters[i]))) == NULL) goto out;
    last = p;
    sum += p;
  }
  printf("  prime #%d is %d, the sum is %lld; %d coroutines in the chain, %lu switches\n", n, last,
         sum, n + 1, coro_switches() - before);
  printf("  checked against trial division: %s\n", wrong == 0 ? "all correct" : "WRONG");
  rc = wrong != 0;
out:
  if (rc != 0 && wrong == 0) printf("  out of memory\n");
  for (int i = 0; stages != NULL && i <= n; i++) coro_free(stages[i]);
  free(stages);
  free(filters);
  return rc;
}

/* -- Main -------------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 100;
  if (n < 1 || n > 2000) {
    fprintf(stderr, "usage: %s [PRIMES]   (1 to 2000, default 100)\n", argv[0]);
    return 2;
  }
  if (run_scheduler() != 0 || run_fringe() != 0) return 1;
  return run_sieve(n);
}
