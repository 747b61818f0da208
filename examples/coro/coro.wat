;; examples/coro/coro.wat -- a tiny coroutine library on weft's stack switching, for C programs.
;; `weft run --preload env=coro.wat prog.wasm` instantiates it first and registers its exports as
;; module "env", where a C program built with wasm-ld --import-table finds its function table and
;; these four functions (examples/coro/coro.h declares them). Depends on nothing but the
;; stack-switching proposal (cont.new, cont.bind, resume, suspend).

(module $coro
  ;; A coroutine body is a C function `int body(int)`: the first resume's value is its argument,
  ;; each later resume's value is what its coro_yield returns, and its result ends the coroutine.
  (type $body (func (param i32) (result i32)))
  (type $k (cont $body))
  ;; The entry: calls body number $fn of the C function table with the argument.
  (type $entry (func (param i32 i32) (result i32)))
  (type $k_entry (cont $entry))

  ;; A coroutine suspends with an i32 out and is resumed with an i32 in.
  (tag $yield (param i32) (result i32))

  ;; The C module's function table (wasm-ld --import-table imports env.__indirect_function_table
  ;; and writes its elements here when it is instantiated).
  (table $fns (export "__indirect_function_table") 1024 funcref)
  ;; The suspended coroutines, by slot (the C side chooses the slots); null: finished or never made.
  (table $conts 0 (ref null $k))

  (func $entry (param $fn i32) (param $arg i32) (result i32)
    (call_indirect $fns (type $body) (local.get $arg) (local.get $fn)))
  (elem declare func $entry)

  ;; coro_new(slot, fn): a new coroutine in `slot`, which will run C function `fn` (a function
  ;; pointer is its index in the table). A slot still holding a live coroutine is overwritten.
  (func $coro_new (export "coro_new") (param $slot i32) (param $fn i32)
    (if (i32.ge_u (local.get $slot) (table.size $conts))
      (then
        (if (i32.eq (table.grow $conts (ref.null $k)
                      (i32.sub (i32.add (local.get $slot) (i32.const 16)) (table.size $conts)))
                    (i32.const -1))
          (then (unreachable)))))
    (table.set $conts (local.get $slot)
      (cont.bind $k_entry $k (local.get $fn) (cont.new $k_entry (ref.func $entry)))))

  ;; coro_resume(slot, v): runs the coroutine in `slot` with v until it yields (the yielded value
  ;; is returned and the slot keeps the rest of it) or returns (its result is returned and the
  ;; slot becomes empty). Resuming an empty slot traps (null reference); resuming a coroutine
  ;; that is running traps too (a continuation is resumed only once).
  (func $coro_resume (export "coro_resume") (param $slot i32) (param $v i32) (result i32)
    (local $rest (ref null $k))
    (block $on_yield (result i32 (ref $k))
      (resume $k (on $yield $on_yield) (local.get $v) (table.get $conts (local.get $slot)))
      (table.set $conts (local.get $slot) (ref.null $k))
      (return))
    (local.set $rest)
    (table.set $conts (local.get $slot) (local.get $rest)))

  ;; coro_done(slot): 1 when the slot holds no coroutine to resume, else 0.
  (func $coro_done (export "coro_done") (param $slot i32) (result i32)
    (if (result i32) (i32.ge_u (local.get $slot) (table.size $conts))
      (then (i32.const 1))
      (else (ref.is_null (table.get $conts (local.get $slot))))))

  ;; coro_yield(v): suspends the running coroutine, handing v to its resumer; returns the value
  ;; of the next resume.
  (func $coro_yield (export "coro_yield") (param $v i32) (result i32)
    (suspend $yield (local.get $v)))
)
