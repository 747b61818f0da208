;; bench/stack-switching/create.wat -- short-lived continuations: n times cont.new + resume of a
;; function that returns at once. run(n) = sum of i*3 for i < n (mod 2^32). One op = one cycle.
(module
  (type $f (func (param i32) (result i32)))
  (type $c (cont $f))
  (func $body (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (elem declare func $body)
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (loop $l
      (local.set $acc (i32.add (local.get $acc)
        (resume $c (local.get $i) (cont.new $c (ref.func $body)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc)))
