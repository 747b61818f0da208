/* include/weft/plugin/backtrace.h -- interface of a plugin of kind "backtrace".
 *
 * The backtrace plugin walks the rbp chain of Wasm frames across every stack of a stack chain
 * (DESIGN §10; notes/stack-switching-wasmtime.md §5-§6) and names the frames. The core uses it to
 * put frames on traps (core/frames.c) and exposes it to other plugins (the gc root scanner) through
 * the host table's walk_frames slot. Depends on: plugin.h, vm.h (stack chain, contrefs), module.h.
 */
#ifndef WEFT_PLUGIN_BACKTRACE_H
#define WEFT_PLUGIN_BACKTRACE_H

#include "weft/module.h"
#include "weft/plugin.h"
#include "weft/vm.h"

struct weft_code_info; /* weft/plugin/codegen.h */

/* -- Frames ---------------------------------------------------------------------------------- */

/* weft_frame.flags */
#define WEFT_FRAME_WASM 0x1u       /* pc lies in compiled Wasm code (else a host or trampoline frame) */
#define WEFT_FRAME_TRAP_PC 0x2u    /* pc is the faulting instruction itself, not a return address */
#define WEFT_FRAME_RESUMED 0x4u    /* first frame after a continuation boundary: the resume site */
#define WEFT_FRAME_ACTIVATION 0x8u /* first frame of an older activation (host frames in between) */

/* One frame, innermost first. */
typedef struct weft_frame {
  uintptr_t pc;   /* the frame's pc: the trap pc for the innermost, else a return address */
  uintptr_t fp;   /* the frame's rbp: [fp] is the caller's rbp, [fp + 8] the return address */
  uint32_t stack; /* 0 for the stack the walk started on, +1 at each stack boundary crossed */
  uint32_t flags; /* WEFT_FRAME_* */
  uint32_t stack_kind; /* weft_chain_kind of the stack the frame lives on */
  uint32_t pad;
} weft_frame;

/* The callback of a walk. `visit` returns false to stop the walk early. Only Wasm frames
 * (WEFT_FRAME_WASM) are reported unless `host_frames` is true. `max_frames` caps the frames
 * reported: 0 means the plugin's [backtrace] max_frames, UINT32_MAX no cap (a gc root scan must
 * see every frame). */
typedef struct weft_frame_visitor {
  void *ud;
  bool (*visit)(void *ud, const weft_frame *f);
  bool host_frames;
  uint32_t max_frames;
} weft_frame_visitor;

/* Where a walk starts: one activation (one host -> Wasm entry) and the older ones behind it.
 * Activations are linked newest first; each one's stack chain is walked head first. */
typedef struct weft_activation {
  uintptr_t pc, fp;       /* innermost frame: a trap pc/fp or last_wasm_exit_pc/fp; pc may be 0
                             (then the frame at fp is a host frame and is stepped over) */
  uintptr_t entry_fp;     /* the walk of the running stack ends when fp reaches this value */
  uintptr_t stack_lo;     /* bounds of the initial (thread) stack: every fp on it lies in */
  uintptr_t stack_hi;     /*   [stack_lo, stack_hi - 16] */
  weft_stack_chain chain; /* the activation's chain: its head is the stack pc/fp lie on; a
                             continuation head is walked within [stack_top - stack_size,
                             stack_top) and left through its control context */
  const struct weft_activation *older; /* the next older activation, or NULL */
  uint32_t flags;         /* WEFT_ACT_* */
  uint32_t pad;
} weft_activation;

/* weft_activation.flags */
#define WEFT_ACT_TRAP_PC 0x1u /* pc is a faulting pc (report it with WEFT_FRAME_TRAP_PC) */

/* What a frame means in Wasm terms. */
typedef struct weft_frame_sym {
  uint32_t func_index;   /* module function index; UINT32_MAX when pc is no Wasm function */
  uint32_t wasm_off;     /* module byte offset of the instruction; UINT32_MAX when unknown */
  const char *module;    /* the module's name from its name section, or NULL */
  const char *func;      /* the function's name from the name section, or NULL */
} weft_frame_sym;

/* -- The interface --------------------------------------------------------------------------- */

/* Status of a walk: WEFT_OK when it reached the end of the outermost activation or the visitor
 * stopped it, WEFT_ERR_LIMIT when the [backtrace] max_frames cut it, WEFT_ERR_MALFORMED when a
 * frame pointer was corrupt (not increasing, unaligned, out of its stack): the frames before it
 * were still reported. A walk never reads outside the stack bounds it was given. */
typedef struct weft_backtrace_iface {
  WEFT_ABI_HEADER;
  /* Walk `act` and the older activations linked from it. Allocates nothing; safe to call on any
   * stack. since 1.0 */
  int (*walk)(void *state, const weft_activation *act, const weft_frame_visitor *v);
  /* Walk a suspended continuation `c` (state SUSPENDED): from the suspension point held in its
   * last ancestor's control context through each parent up to the last ancestor. since 1.0 */
  int (*walk_suspended)(void *state, const weft_contref *c, const weft_frame_visitor *v);
  /* Name a frame through the host table (code_func slot). false when pc is no Wasm function.
   * since 1.0 */
  bool (*symbolize)(void *state, const weft_frame *f, weft_frame_sym *out);
  /* Write the display name "<module>!<func>" (fallbacks "<unknown>" and "wasm-function[N]") into
   * buf (always NUL-terminated when cap > 0). Returns the length it needed. since 1.0 */
  size_t (*format_name)(void *state, const weft_frame_sym *sym, char *buf, size_t cap);
  /* Notifications from the core when compiled code of module `m` is registered / unregistered
   * (e.g. to write /tmp/perf-PID.map). May be NULL. since 1.0 */
  void (*code_added)(void *state, const weft_module *m, const struct weft_code_info *ci);
  void (*code_removed)(void *state, const weft_module *m, const struct weft_code_info *ci);
} weft_backtrace_iface;

#endif /* WEFT_PLUGIN_BACKTRACE_H */
