;; tests/wat/stack-switching/schedulers.wast -- lightweight threads: a round-robin scheduler built
;; on suspend (threads yield and spawn; the run queue is a table of continuations) and one built on
;; switch (threads hand control directly to the next one). Each thread appends its id to a trace
;; (trace = trace * 10 + id), which the assertions check. Run by `weft wast`.

(module $sched
  (type $proc (func))
  (type $ct (cont $proc))
  (tag $yield (export "yield"))
  (tag $spawn (export "spawn") (param (ref $ct)))
  (table $q 64 (ref null $ct))
  (global $head (mut i32) (i32.const 0))
  (global $tail (mut i32) (i32.const 0))
  (global $trace (export "trace") (mut i64) (i64.const 0))

  (func $push (param $k (ref null $ct))
    (table.set $q (i32.rem_u (global.get $tail) (i32.const 64)) (local.get $k))
    (global.set $tail (i32.add (global.get $tail) (i32.const 1))))
  (func $pop (result (ref null $ct))
    (local $k (ref null $ct))
    (if (i32.eq (global.get $head) (global.get $tail)) (then (return (ref.null $ct))))
    (local.set $k (table.get $q (i32.rem_u (global.get $head) (i32.const 64))))
    (table.set $q (i32.rem_u (global.get $head) (i32.const 64)) (ref.null $ct))
    (global.set $head (i32.add (global.get $head) (i32.const 1)))
    (local.get $k))

  (func $log (export "log") (param $id i32)
    (global.set $trace (i64.add (i64.mul (global.get $trace) (i64.const 10))
                                (i64.extend_i32_u (local.get $id)))))

  (func $run (export "run") (param $main (ref $ct))
    (local $k (ref null $ct))
    (global.set $trace (i64.const 0))
    (call $push (local.get $main))
    (loop $l
      (local.set $k (call $pop))
      (if (ref.is_null (local.get $k)) (then (return)))
      (block $on_spawn (result (ref $ct) (ref $ct))
        (block $on_yield (result (ref $ct))
          (resume $ct (on $yield $on_yield) (on $spawn $on_spawn) (local.get $k))
          (br $l))
        (call $push)
        (br $l))
      ;; spawn: the child then the parent go to the back of the queue
      (local.set $k)
      (call $push)
      (call $push (local.get $k))
      (br $l)))
)
(register "sched" $sched)

(module
  (type $proc (func))
  (type $ct (cont $proc))
  (tag $yield (import "sched" "yield"))
  (tag $spawn (import "sched" "spawn") (param (ref $ct)))
  (func $log (import "sched" "log") (param i32))
  (func $run (import "sched" "run") (param (ref $ct)))
  (global $trace (import "sched" "trace") (mut i64))

  (func $a (call $log (i32.const 1)) (suspend $yield) (call $log (i32.const 1)) (suspend $yield)
           (call $log (i32.const 1)))
  (func $b (call $log (i32.const 2)) (suspend $yield) (call $log (i32.const 2)))
  (func $c (call $log (i32.const 3)))
  (func $main
    (call $log (i32.const 9))
    (suspend $spawn (cont.new $ct (ref.func $a)))
    (suspend $spawn (cont.new $ct (ref.func $b)))
    (suspend $spawn (cont.new $ct (ref.func $c)))
    (call $log (i32.const 8)))
  (elem declare func $a $b $c $main)

  (func (export "go") (result i64)
    (call $run (cont.new $ct (ref.func $main)))
    (global.get $trace))
  (func (export "lone") (result i64)
    (call $run (cont.new $ct (ref.func $c)))
    (global.get $trace))
)

;; main(9) spawns a (queue: a main); a logs 1, yields (main a); main spawns b (a b main); a logs 1
;; (b main a); b logs 2 (main a b); main spawns c (a b c main); a 1, b 2, c 3, main 8
(assert_return (invoke "go") (i64.const 91121238))
(assert_return (invoke "lone") (i64.const 3))
;; a second run reuses recycled stacks and gives the same trace
(assert_return (invoke "go") (i64.const 91121238))

;; switch without recursive types (those need the gc plugin): thread A switches to a fresh B,
;; handing B its own continuation; B parks it in a table and returns, which ends the resume in
;; the handler; the handler later resumes A from the table.
(module
  (type $f0 (func))
  (type $ca (cont $f0))
  (type $f1 (func (param (ref null $ca))))
  (type $cb (cont $f1))
  (tag $sw)
  (global $trace (mut i64) (i64.const 0))
  (table $parked 1 (ref null $ca))

  (func $log (param $id i32)
    (global.set $trace (i64.add (i64.mul (global.get $trace) (i64.const 10))
                                (i64.extend_i32_u (local.get $id)))))
  (func $a
    (call $log (i32.const 1))
    (switch $cb $sw (cont.new $cb (ref.func $b)))
    (call $log (i32.const 3)))
  (func $b (param $k (ref null $ca))
    (call $log (i32.const 2))
    (table.set $parked (i32.const 0) (local.get $k)))
  (elem declare func $a $b)

  (func (export "run") (result i64)
    (global.set $trace (i64.const 0))
    (resume $ca (on $sw switch) (cont.new $ca (ref.func $a)))
    (call $log (i32.const 4))
    (resume $ca (on $sw switch) (table.get $parked (i32.const 0)))
    (call $log (i32.const 5))
    (global.get $trace))
  ;; a switch with no (on $sw switch) handler in the chain
  (func (export "unhandled")
    (resume $ca (cont.new $ca (ref.func $a))))
  ;; switching to a consumed continuation: the parked one, resumed once already
  (func (export "stale") (result i64)
    (local $k (ref null $ca))
    (drop (call 3))
    (local.set $k (table.get $parked (i32.const 0)))
    (resume $ca (local.get $k))
    (global.get $trace))
)

(assert_return (invoke "run") (i64.const 12435))
(assert_return (invoke "run") (i64.const 12435))
(assert_trap (invoke "unhandled") "unhandled tag")
(assert_trap (invoke "stale") "continuation already consumed")
