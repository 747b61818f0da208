;; bench/stack-switching/gen.wat -- suspend/resume round trip: one generator yields n values, the
;; consumer sums them. run(n) = sum of 0..n-1 (mod 2^32). One op = one suspend + one resume.
(module
  (type $g (func))
  (type $c (cont $g))
  (tag $yield (param i32))
  (global $n (mut i32) (i32.const 0))
  (func $gen
    (local $i i32)
    (loop $l
      (suspend $yield (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (global.get $n)))))
  (elem declare func $gen)
  (func (export "run") (param $n i32) (result i32)
    (local $k (ref null $c)) (local $acc i32)
    (global.set $n (local.get $n))
    (local.set $k (cont.new $c (ref.func $gen)))
    (block $done
      (loop $next
        (block $on (result i32 (ref $c))
          (resume $c (on $yield $on) (local.get $k))
          (br $done))
        (local.set $k)
        (local.set $acc (i32.add (local.get $acc)))
        (br $next)))
    (local.get $acc)))
