;; tests/wat/stack-switching/switch-pingpong.wast -- a scheduler built on switch with a recursive
;; continuation type (needs the gc plugin for the rec group; wat.stack-switching.switch-pingpong
;; is registered only when it is built): two threads hand control back and forth with `switch`,
;; each logging its id; whichever finishes its rounds first returns to the handler.
(module
  (rec
    (type $ft (func (param (ref null $ct))))
    (type $ct (cont $ft)))
  (tag $sw)
  (global $trace (mut i64) (i64.const 0))
  (global $rounds (mut i32) (i32.const 0))

  (func $log (param $id i32)
    (global.set $trace (i64.add (i64.mul (global.get $trace) (i64.const 10))
                                (i64.extend_i32_u (local.get $id)))))
  (func $thread (param $id i32) (param $k (ref null $ct))
    (local $i i32)
    (loop $l
      (call $log (local.get $id))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (if (i32.lt_u (local.get $i) (global.get $rounds))
        (then
          (local.set $k (switch $ct $sw (local.get $k)))
          (br $l)))))
  (func $t1 (type $ft) (param $p (ref null $ct)) (call $thread (i32.const 1) (local.get $p)))
  (func $t2 (type $ft) (param $p (ref null $ct)) (call $thread (i32.const 2) (local.get $p)))
  (elem declare func $t1 $t2)

  (func (export "pingpong") (param $rounds i32) (result i64)
    (global.set $trace (i64.const 0))
    (global.set $rounds (local.get $rounds))
    (resume $ct (on $sw switch) (cont.new $ct (ref.func $t2)) (cont.new $ct (ref.func $t1)))
    (global.get $trace))
)

(assert_return (invoke "pingpong" (i32.const 1)) (i64.const 1))
(assert_return (invoke "pingpong" (i32.const 2)) (i64.const 121))
(assert_return (invoke "pingpong" (i32.const 4)) (i64.const 1212121))
(assert_return (invoke "pingpong" (i32.const 4)) (i64.const 1212121))
