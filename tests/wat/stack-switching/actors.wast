;; tests/wat/stack-switching/actors.wast -- actors on suspend/resume: each actor is a continuation
;; that blocks in `recv` (parked in a table of continuations, one slot per actor) and posts with
;; `send` (a message queue in memory); the scheduler delivers messages by binding them to the
;; parked continuation. A pipeline of N actors: actor i adds i and forwards; the last one sums.
;; Run by `weft wast`.

(module
  (type $fv (func))
  (type $cv (cont $fv))
  (type $fi (func (param i32)))
  (type $ci (cont $fi))
  (tag $recv (param i32) (result i32))  ;; (my id) -> message
  (tag $send (param i32 i32))           ;; (to, message)
  (memory 1)
  (table $mbox 64 (ref null $ci))
  (global $n (mut i32) (i32.const 0))
  (global $total (mut i32) (i32.const 0))
  (global $qh (mut i32) (i32.const 0))
  (global $qt (mut i32) (i32.const 0))
  (global $parked (mut i32) (i32.const 0))

  (func $enqueue (param $to i32) (param $msg i32)
    (local $a i32)
    (local.set $a (i32.shl (i32.and (global.get $qt) (i32.const 1023)) (i32.const 3)))
    (i32.store (local.get $a) (local.get $to))
    (i32.store offset=4 (local.get $a) (local.get $msg))
    (global.set $qt (i32.add (global.get $qt) (i32.const 1))))

  (func $actor (param $id i32)
    (local $v i32)
    (loop $l
      (local.set $v (suspend $recv (local.get $id)))
      (if (i32.eqz (local.get $v))
        (then
          (if (i32.lt_u (i32.add (local.get $id) (i32.const 1)) (global.get $n))
            (then (suspend $send (i32.add (local.get $id) (i32.const 1)) (i32.const 0))))
          (return)))
      (if (i32.eq (i32.add (local.get $id) (i32.const 1)) (global.get $n))
        (then (global.set $total (i32.add (global.get $total) (local.get $v))))
        (else (suspend $send (i32.add (local.get $id) (i32.const 1))
                             (i32.add (local.get $v) (local.get $id)))))
      (br $l)))
  (elem declare func $actor)

  ;; runs an actor until it blocks in recv (parked under the id it passed) or finishes
  (func $run2 (param $k (ref null $cv))
    (local $kr (ref null $ci))
    (loop $l
      (block $on_send (result i32 i32 (ref $cv))
        (block $on_recv (result i32 (ref $ci))
          (resume $cv (on $recv $on_recv) (on $send $on_send) (local.get $k))
          (return))
        (local.set $kr)
        (table.set $mbox (local.get $kr))
        (global.set $parked (i32.add (global.get $parked) (i32.const 1)))
        (return))
      (local.set $k)
      (call $enqueue)
      (br $l)))

  (func (export "pipeline") (param $n i32) (param $msgs i32) (result i32)
    (local $i i32) (local $a i32) (local $to i32) (local $k (ref null $ci))
    (global.set $n (local.get $n))
    (global.set $total (i32.const 0))
    (global.set $parked (i32.const 0))
    ;; start every actor: each runs to its first recv and parks
    (loop $start
      (call $run2 (cont.bind $ci $cv (local.get $i) (cont.new $ci (ref.func $actor))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $start (i32.lt_u (local.get $i) (local.get $n))))
    ;; messages 1..msgs, then the stop message 0, all to actor 0
    (local.set $i (i32.const 1))
    (loop $post
      (if (i32.le_u (local.get $i) (local.get $msgs))
        (then
          (call $enqueue (i32.const 0) (local.get $i))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $post))))
    (call $enqueue (i32.const 0) (i32.const 0))
    ;; deliver until the queue is empty
    (loop $deliver
      (if (i32.ne (global.get $qh) (global.get $qt))
        (then
          (local.set $a (i32.shl (i32.and (global.get $qh) (i32.const 1023)) (i32.const 3)))
          (global.set $qh (i32.add (global.get $qh) (i32.const 1)))
          (local.set $to (i32.load (local.get $a)))
          (local.set $k (table.get $mbox (local.get $to)))
          (table.set $mbox (local.get $to) (ref.null $ci))
          (call $run2 (cont.bind $ci $cv (i32.load offset=4 (local.get $a)) (local.get $k)))
          (br $deliver))))
    (global.get $total))
  (func (export "parked") (result i32) (global.get $parked))
)

;; N = 5: a message x reaches the last actor as x + (0+1+2+3) = x + 6; 1..3 give 7+8+9 = 24
(assert_return (invoke "pipeline" (i32.const 5) (i32.const 3)) (i32.const 24))
;; 5 actors parked at the start, then once per message each except the last's stop
(assert_return (invoke "parked") (i32.const 20))
;; N = 20, 100 messages: sum(1..100) + 100 * (0+...+18) = 5050 + 17100
(assert_return (invoke "pipeline" (i32.const 20) (i32.const 100)) (i32.const 22150))
