;; tests/wat/backtrace/cont.wat -- Wasm running on a real continuation stack (contstacks plugin):
;; outer calls the host, which runs inner as a continuation (cont_new + the documented resume
;; protocol); inner calls the host again, which walks the live frames across the boundary; bad
;; traps inside the continuation, and the trap carries the frames of both stacks.
(module $cont
  (import "env" "run_cont" (func $run_cont (param i32) (result i32)))
  (import "env" "walk" (func $walk (param i32) (result i32)))
  (func $inner (export "inner") (param i32) (result i32)
    (i32.add (call $walk (local.get 0)) (i32.const 1)))
  (func $outer (export "outer") (param i32) (result i32)
    (i32.add (call $run_cont (local.get 0)) (i32.const 1)))
  ;; run as a continuation by run_cont(x < 0): traps two frames deep
  (func $boom (param i32) (result i32) (unreachable))
  (func $bad (export "bad") (param i32) (result i32)
    (i32.add (call $boom (local.get 0)) (i32.const 1)))
)
