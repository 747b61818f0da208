;; tests/wat/fib.wat -- iterative fibonacci on i64 (a loop with locals and br_if).
;; weft run --invoke fib fib.wasm 10  ->  i64:55 ; fib 90 -> i64:2880067194370816120
(module
  (func (export "fib") (param $n i64) (result i64)
    (local $a i64) (local $b i64) (local $t i64)
    (local.set $b (i64.const 1))
    (block $done
      (loop $next
        (br_if $done (i64.eqz (local.get $n)))
        (local.set $t (i64.add (local.get $a) (local.get $b)))
        (local.set $a (local.get $b))
        (local.set $b (local.get $t))
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br $next)))
    (local.get $a))
)
