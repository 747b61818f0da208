;; bench/exceptions/exn_bench.wat -- exception-handling micro-benchmarks (bench/exceptions/README.md).
;; Every export takes an iteration count and returns a checksum (i32), so weft and V8 can be compared
;; on the same .wasm by bench/exceptions/run.sh.
;;   block(n)   a hot loop whose body sits in a plain block: the baseline
;;   try(n)     the same loop with the body inside a try_table (catch_all): must cost the same
;;   throw10(n) n throws, each from 10 frames deep, caught in the loop: throw-and-catch cost
(module
  (tag $e (param i32))
  (global $g (mut i32) (i32.const 1))

  ;; a call the optimiser cannot remove (it reads and writes a global): try_table matters around calls
  (func $step (param i32) (result i32)
    (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 31)) (local.get 0)))
    (global.get $g))

  (func (export "block") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (loop $l
      (block $b
        (block
          (local.set $acc (i32.xor (local.get $acc) (call $step (local.get $i))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc))

  (func (export "try") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (loop $l
      (block $b
        (try_table (catch_all $b)
          (local.set $acc (i32.xor (local.get $acc) (call $step (local.get $i))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc))

  ;; ten frames: $d10 -> $d9 -> ... -> $d1, which throws
  (func $d1 (param i32) (result i32) (throw $e (local.get 0)))
  (func $d2 (param i32) (result i32) (i32.add (call $d1 (local.get 0)) (i32.const 1)))
  (func $d3 (param i32) (result i32) (i32.add (call $d2 (local.get 0)) (i32.const 1)))
  (func $d4 (param i32) (result i32) (i32.add (call $d3 (local.get 0)) (i32.const 1)))
  (func $d5 (param i32) (result i32) (i32.add (call $d4 (local.get 0)) (i32.const 1)))
  (func $d6 (param i32) (result i32) (i32.add (call $d5 (local.get 0)) (i32.const 1)))
  (func $d7 (param i32) (result i32) (i32.add (call $d6 (local.get 0)) (i32.const 1)))
  (func $d8 (param i32) (result i32) (i32.add (call $d7 (local.get 0)) (i32.const 1)))
  (func $d9 (param i32) (result i32) (i32.add (call $d8 (local.get 0)) (i32.const 1)))
  (func $d10 (param i32) (result i32) (i32.add (call $d9 (local.get 0)) (i32.const 1)))

  (func (export "throw10") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (loop $l
      (block $h (result i32)
        (try_table (catch $e $h)
          (drop (call $d10 (local.get $i))))
        (i32.const 0))
      (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 3))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc))
)
