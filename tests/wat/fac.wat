;; tests/wat/fac.wat -- recursive factorial on i64: the walking skeleton's first program.
;; weft run --invoke fac fac.wasm 10  ->  i64:3628800
(module
  (func $fac (export "fac") (param $n i64) (result i64)
    (if (result i64) (i64.lt_u (local.get $n) (i64.const 2))
      (then (i64.const 1))
      (else (i64.mul (local.get $n) (call $fac (i64.sub (local.get $n) (i64.const 1)))))))
)
