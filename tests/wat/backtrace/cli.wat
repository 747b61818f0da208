;; tests/wat/backtrace/cli.wat -- `weft run` prints the backtrace of a trap in plain recursion
;; (assembled with wat2wasm --debug-names; no imports, so `weft run --invoke` can run it).
(module $cli
  (func $down (export "down") (param $n i32) (result i32)
    (if (i32.eqz (local.get $n))
      (then (return (i32.div_s (i32.const 1) (local.get $n)))))
    (i32.add (i32.const 1) (call $down (i32.sub (local.get $n) (i32.const 1)))))
  (func $middle (param i32) (result i32)
    (call $down (local.get 0)))
  (func $start (export "start") (param i32) (result i32)
    (call $middle (local.get 0)))
)
