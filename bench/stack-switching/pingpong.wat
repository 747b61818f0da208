;; bench/stack-switching/pingpong.wat -- switch ping-pong: two continuations of a recursive type
;; hand control to each other with `switch`, n switches in all. run(n) = n (mod 2^32).
;; One op = one switch. weft loads it only with the gc plugin (the rec group).
(module
  (rec
    (type $ft (func (param (ref null $ct))))
    (type $ct (cont $ft)))
  (tag $sw)
  (global $left (mut i32) (i32.const 0))
  (global $count (mut i32) (i32.const 0))
  (func $player (type $ft) (param $k (ref null $ct))
    (loop $l
      (if (i32.gt_s (global.get $left) (i32.const 0))
        (then
          (global.set $left (i32.sub (global.get $left) (i32.const 1)))
          (global.set $count (i32.add (global.get $count) (i32.const 1)))
          (local.set $k (switch $ct $sw (local.get $k)))
          (br $l)))))
  (elem declare func $player)
  (func (export "run") (param $n i32) (result i32)
    (global.set $left (local.get $n))
    (global.set $count (i32.const 0))
    (resume $ct (on $sw switch) (cont.new $ct (ref.func $player)) (cont.new $ct (ref.func $player)))
    (global.get $count)))
