;; tests/wat/backtrace/bt.wat -- traps for the backtrace end-to-end tests (assembled with
;; wat2wasm --debug-names, so the name section carries $bt and the function names):
;; plain recursion, a libcall trap, a host trap, Wasm -> host -> Wasm reentry, stack exhaustion,
;; and a function without a name.
(module $bt
  (import "env" "host" (func $host (param i32) (result i32)))
  (memory 1)
  ;; down(n): recurses n times, then divides by zero
  (func $down (export "down") (param $n i32) (result i32)
    (if (i32.eqz (local.get $n))
      (then (return (i32.div_s (i32.const 1) (local.get $n)))))
    (i32.add (i32.const 1) (call $down (i32.sub (local.get $n) (i32.const 1)))))
  (func $middle (param i32) (result i32)
    (call $down (local.get 0)))
  (func $start (export "start") (param i32) (result i32)
    (call $middle (local.get 0)))
  ;; memory.fill out of bounds: the trap is raised in a libcall (C code)
  (func $fill (param i32) (result i32)
    (memory.fill (i32.const 65530) (i32.const 0) (local.get 0))
    (i32.const 0))
  (func $viafill (export "viafill") (param i32) (result i32)
    (call $fill (local.get 0)))
  ;; calls the host, which traps itself or calls back into "start"
  (func $tohost (export "tohost") (param i32) (result i32)
    (call $host (local.get 0)))
  (func $outer (export "outer") (param i32) (result i32)
    (call $tohost (local.get 0)))
  (func $deep (export "deep") (param i32) (result i32)
    (call $deep (i32.add (local.get 0) (i32.const 1))))
  (func (export "anon") (param i32) (result i32)
    (call $down (local.get 0)))
)
