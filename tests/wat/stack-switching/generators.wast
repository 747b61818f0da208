;; tests/wat/stack-switching/generators.wast -- generators on suspend/resume: a counter generator
;; whose values are summed by the consumer, a generator passed a value back on every resume, and
;; a generator that finishes early. Run by `weft wast` (wat.stack-switching.generators).

(module
  (type $gen (func))
  (type $ct (cont $gen))
  (tag $yield (param i64))
  (global $n (mut i64) (i64.const 0))

  (func $count (export "count-body")
    (local $i i64)
    (loop $l
      (suspend $yield (local.get $i))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br_if $l (i64.lt_u (local.get $i) (global.get $n)))))
  (elem declare func $count)

  ;; sum of the first n values yielded: 0 + 1 + ... + (n-1)
  (func (export "sum") (param $n i64) (result i64)
    (local $k (ref null $ct)) (local $acc i64)
    (global.set $n (local.get $n))
    (local.set $k (cont.new $ct (ref.func $count)))
    (block $done
      (loop $next
        (block $on_yield (result i64 (ref $ct))
          (resume $ct (on $yield $on_yield) (local.get $k))
          (br $done))
        (local.set $k)
        (local.set $acc (i64.add (local.get $acc)))
        (br $next)))
    (local.get $acc))

  ;; how many values a generator yields before it returns
  (func (export "length") (param $n i64) (result i32)
    (local $k (ref null $ct)) (local $c i32)
    (global.set $n (local.get $n))
    (local.set $k (cont.new $ct (ref.func $count)))
    (block $done
      (loop $next
        (block $on_yield (result i64 (ref $ct))
          (resume $ct (on $yield $on_yield) (local.get $k))
          (br $done))
        (local.set $k)
        (drop)
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $next)))
    (local.get $c))
)

(assert_return (invoke "sum" (i64.const 1)) (i64.const 0))
(assert_return (invoke "sum" (i64.const 10)) (i64.const 45))
(assert_return (invoke "sum" (i64.const 100000)) (i64.const 4999950000))
(assert_return (invoke "length" (i64.const 1)) (i32.const 1))
(assert_return (invoke "length" (i64.const 7)) (i32.const 7))

;; a two-way generator: each resume sends a value in, each suspension sends the running total out
(module
  (type $acc (func (param i32)))
  (type $ct (cont $acc))
  (tag $out (param i32) (result i32))

  (func $accumulate (param $x i32)
    (local $total i32)
    (loop $l
      (local.set $total (i32.add (local.get $total) (local.get $x)))
      (local.set $x (suspend $out (local.get $total)))
      (br_if $l (i32.ne (local.get $x) (i32.const 0)))))
  (elem declare func $accumulate)

  (func (export "feed") (param $a i32) (param $b i32) (param $c i32) (result i32)
    (local $k (ref null $ct)) (local $last i32)
    (block $h (result i32 (ref $ct))
      (resume $ct (on $out $h) (local.get $a) (cont.new $ct (ref.func $accumulate)))
      (unreachable))
    (local.set $k) (drop)
    (block $h (result i32 (ref $ct))
      (resume $ct (on $out $h) (local.get $b) (local.get $k))
      (unreachable))
    (local.set $k) (drop)
    (block $h (result i32 (ref $ct))
      (resume $ct (on $out $h) (local.get $c) (local.get $k))
      (unreachable))
    (local.set $k) (local.set $last)
    ;; 0 ends the generator: it returns, so the resume falls through
    (block $h (result i32 (ref $ct))
      (resume $ct (on $out $h) (i32.const 0) (local.get $k))
      (return (local.get $last)))
    (unreachable))
)

(assert_return (invoke "feed" (i32.const 1) (i32.const 2) (i32.const 3)) (i32.const 6))
(assert_return (invoke "feed" (i32.const 100) (i32.const -1) (i32.const 5)) (i32.const 104))
