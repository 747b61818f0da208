;; bench/stack-switching/switch.wat -- switch without recursive types (a ping-pong between two
;; continuations needs a recursive continuation type, which weft only accepts with a gc plugin):
;; each round the handler resumes a fresh A, A switches to a fresh B handing over itself, B parks
;; A in a table and returns, the handler resumes A, A returns. run(n) = n * 3 (mod 2^32).
;; One op = one round: 2 cont.new, 1 switch, 2 resumes, 2 returns.
(module
  (type $f0 (func))
  (type $ca (cont $f0))
  (type $f1 (func (param (ref null $ca))))
  (type $cb (cont $f1))
  (tag $sw)
  (global $acc (mut i32) (i32.const 0))
  (table $parked 1 (ref null $ca))
  (func $a
    (global.set $acc (i32.add (global.get $acc) (i32.const 1)))
    (switch $cb $sw (cont.new $cb (ref.func $b)))
    (global.set $acc (i32.add (global.get $acc) (i32.const 1))))
  (func $b (param $k (ref null $ca))
    (global.set $acc (i32.add (global.get $acc) (i32.const 1)))
    (table.set $parked (i32.const 0) (local.get $k)))
  (elem declare func $a $b)
  (func (export "run") (param $n i32) (result i32)
    (local $i i32)
    (loop $l
      (resume $ca (on $sw switch) (cont.new $ca (ref.func $a)))
      (resume $ca (on $sw switch) (table.get $parked (i32.const 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (global.get $acc)))
