;; examples/host.wat -- the module of examples/host.c: Wasm calls the host's "env" "square" and
;; "env" "check" (which fails for negative numbers).
(module
  (import "env" "square" (func $square (param i64) (result i64)))
  (import "env" "check" (func $check (param i64)))
  (func (export "sum_squares") (param $n i64) (result i64)
    (local $acc i64)
    (call $check (local.get $n))
    (block $done
      (loop $next
        (br_if $done (i64.eqz (local.get $n)))
        (local.set $acc (i64.add (local.get $acc) (call $square (local.get $n))))
        (local.set $n (i64.sub (local.get $n) (i64.const 1)))
        (br $next)))
    (local.get $acc))
)
