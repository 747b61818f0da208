/* bench/kernels/richards.c -- a Richards-like operating-system scheduler simulation: an idle task, a
 * worker, two handlers and two devices exchange packets through priority-ordered task queues, dispatched
 * through function pointers (call_indirect in wasm). n is the idle task's count of device releases.
 * Checksum: packets queued and tasks held, mixed. Depends on bench.h; everything is in static arrays. */
#include "bench.h"

/* -- Data ------------------------------------------------------------------------------------------ */

enum { T_IDLE, T_WORK, T_HANDLER_A, T_HANDLER_B, T_DEV_A, T_DEV_B, T_COUNT };
enum { K_DEVICE, K_WORK };
enum { ST_PACKET = 1, ST_WAIT = 2, ST_HOLD = 4 };

typedef struct packet {
  struct packet *link;
  int32_t dest;   /* task id the packet is addressed to, overwritten by the sender on queueing */
  int32_t kind;
  int32_t a1;     /* work: index into a2; device: the data byte */
  uint8_t a2[4];
} packet;

struct task;
typedef struct task *(*task_fn)(struct task *t, packet *p);

typedef struct task {
  struct task *next;  /* in descending priority order */
  int32_t id, pri, state;
  packet *queue;
  task_fn fn;
  int32_t v1, v2;     /* task-private state */
  packet *p1, *p2;
} task;

static task tasks[T_COUNT];
static task *by_id[T_COUNT];
static task *task_list;
static task *current;
static packet pool[16];
static uint32_t queue_count, hold_count;

/* -- Scheduler primitives -------------------------------------------------------------------------- */

static int runnable(const task *t)
{
  return !(t->state & ST_HOLD) && (!(t->state & ST_WAIT) || (t->state & ST_PACKET));
}

static task *hold_self(void)
{
  hold_count++;
  current->state |= ST_HOLD;
  return current->next;
}

static task *wait_self(void)
{
  current->state |= ST_WAIT;
  return current;
}

static task *release(int32_t id)
{
  task *t = by_id[id];
  t->state &= ~ST_HOLD;
  return t->pri > current->pri ? t : current;
}

static void append(packet *p, packet **head)
{
  p->link = 0;
  while (*head)
    head = &(*head)->link;
  *head = p;
}

/* Sends p to its destination task; the destination runs next when it outranks the sender. */
static task *queue_packet(packet *p)
{
  task *t = by_id[p->dest];
  queue_count++;
  p->dest = current->id;
  if (!t->queue) {
    t->queue = p;
    p->link = 0;
    t->state |= ST_PACKET;
    return t->pri > current->pri ? t : current;
  }
  append(p, &t->queue);
  return current;
}

/* -- Tasks ----------------------------------------------------------------------------------------- */

static task *idle_fn(task *t, packet *p)
{
  (void)p;
  if (--t->v2 == 0)
    return hold_self();
  if (t->v1 & 1) {
    t->v1 = (t->v1 >> 1) ^ 0xD008;
    return release(T_DEV_B);
  }
  t->v1 >>= 1;
  return release(T_DEV_A);
}

static task *work_fn(task *t, packet *p)
{
  if (!p)
    return wait_self();
  t->v1 = t->v1 == T_HANDLER_A ? T_HANDLER_B : T_HANDLER_A;
  p->dest = t->v1;
  p->a1 = 0;
  for (int i = 0; i < 4; i++) {
    if (++t->v2 > 26)
      t->v2 = 1;
    p->a2[i] = (uint8_t)('A' - 1 + t->v2);
  }
  return queue_packet(p);
}

static task *handler_fn(task *t, packet *p)
{
  if (p)
    append(p, p->kind == K_WORK ? &t->p1 : &t->p2);
  if (t->p1) {
    packet *work = t->p1;
    if (work->a1 >= 4) {
      t->p1 = work->link;
      return queue_packet(work);
    }
    if (t->p2) {
      packet *dev = t->p2;
      t->p2 = dev->link;
      dev->a1 = work->a2[work->a1++];
      return queue_packet(dev);
    }
  }
  return wait_self();
}

static task *device_fn(task *t, packet *p)
{
  if (!p) {
    if (!t->p1)
      return wait_self();
    packet *q = t->p1;
    t->p1 = 0;
    return queue_packet(q);
  }
  t->p1 = p;
  t->v1 += p->a1;
  return hold_self();
}

/* -- Setup and the dispatch loop ------------------------------------------------------------------- */

static void add_task(int32_t id, int32_t pri, packet *queue, int32_t state, task_fn fn, int32_t v1, int32_t v2)
{
  task *t = &tasks[id];
  t->id = id;
  t->pri = pri;
  t->queue = queue;
  t->state = state | (queue ? ST_PACKET : 0);
  t->fn = fn;
  t->v1 = v1;
  t->v2 = v2;
  t->p1 = t->p2 = 0;
  by_id[id] = t;
  task **at = &task_list;   /* keep the list in descending priority */
  while (*at && (*at)->pri >= pri)
    at = &(*at)->next;
  t->next = *at;
  *at = t;
}

static packet *make_packet(int *used, packet *link, int32_t dest, int32_t kind)
{
  packet *p = &pool[(*used)++];
  p->link = link;
  p->dest = dest;
  p->kind = kind;
  p->a1 = 0;
  memset(p->a2, 0, sizeof p->a2);
  return p;
}

uint32_t run(int32_t n)
{
  int used = 0;
  task_list = 0;
  queue_count = hold_count = 0;
  add_task(T_IDLE, 0, 0, 0, idle_fn, 1, clamp_n(n, 1, 1 << 30));
  packet *wq = make_packet(&used, 0, T_IDLE, K_WORK);
  wq = make_packet(&used, wq, T_IDLE, K_WORK);
  add_task(T_WORK, 1000, wq, ST_WAIT, work_fn, T_HANDLER_A, 0);
  packet *da = make_packet(&used, 0, T_DEV_A, K_DEVICE);
  da = make_packet(&used, da, T_DEV_A, K_DEVICE);
  da = make_packet(&used, da, T_DEV_A, K_DEVICE);
  add_task(T_HANDLER_A, 2000, da, ST_WAIT, handler_fn, 0, 0);
  packet *db = make_packet(&used, 0, T_DEV_B, K_DEVICE);
  db = make_packet(&used, db, T_DEV_B, K_DEVICE);
  db = make_packet(&used, db, T_DEV_B, K_DEVICE);
  add_task(T_HANDLER_B, 3000, db, ST_WAIT, handler_fn, 0, 0);
  add_task(T_DEV_A, 4000, 0, ST_WAIT, device_fn, 0, 0);
  add_task(T_DEV_B, 5000, 0, ST_WAIT, device_fn, 0, 0);

  current = task_list;
  while (current) {
    if (!runnable(current)) {
      current = current->next;
      continue;
    }
    packet *p = 0;
    if (current->state & ST_PACKET) {
      p = current->queue;
      current->queue = p->link;
      if (!current->queue)
        current->state &= ~ST_PACKET;
    }
    current->state &= ~ST_WAIT;
    current = current->fn(current, p);
  }
  return queue_count * 2654435761u ^ hold_count ^ (uint32_t)tasks[T_DEV_A].v1 << 8 ^
         (uint32_t)tasks[T_DEV_B].v1 << 16;
}
