;; tests/wat/gc/reclaim.wast -- unreachable suspended continuations are reclaimed (part gcroots).
;; Run with [contstacks] max_continuations = 20000 and [gc] min_heap = 64K: 100,000 continuations
;; are made and left suspended, and each is dropped; only the collections that the allocations
;; trigger (one per ~2,000 iterations) keep the live count under the limit, so without reclaiming
;; "drop_many" traps "too many continuations". Reachable ones (a table, a struct field, a global)
;; are kept through all of it and still resume, each with the list its suspended frame holds.
;; The same for 100,000 fresh continuations (cont.new, never resumed), one kept in a global.

(module
  (type $node (struct (field $v i32) (field $next (ref null $node))))
  (type $f (func (result i32)))
  (type $c (cont $f))
  (type $box (struct (field $k (mut (ref null $c)))))
  (tag $yield)
  (table $keep 100 (ref null $c))
  (global $g (mut (ref null $c)) (ref.null $c))
  (global $b (mut (ref null $box)) (ref.null $box))

  (func $list (param $n i32) (result (ref null $node))
    (local $l (ref null $node))
    (local $i i32)
    (loop $again
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (local.set $l (struct.new $node (local.get $i) (local.get $l)))
      (br_if $again (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $l))

  (func $sum (param $l (ref null $node)) (result i32)
    (local $s i32)
    (block $done
      (loop $again
        (br_if $done (ref.is_null (local.get $l)))
        (local.set $s (i32.add (local.get $s) (struct.get $node $v (local.get $l))))
        (local.set $l (struct.get $node $next (local.get $l)))
        (br $again)))
    (local.get $s))

  ;; suspends holding a list of 10 (sum 55) in a local, returns its sum when resumed
  (func $body (result i32)
    (local $mine (ref null $node))
    (local.set $mine (call $list (i32.const 10)))
    (suspend $yield)
    (call $sum (local.get $mine)))
  (elem declare func $body)

  ;; a new continuation, run to its suspend
  (func $suspended (result (ref $c))
    (block $h (result (ref $c))
      (drop (resume $c (on $yield $h) (cont.new $c (ref.func $body))))
      (unreachable)))

  ;; n continuations made, suspended and dropped (each made 10 nodes of garbage too)
  (func (export "drop_many") (param $n i32) (result i32)
    (local $i i32)
    (loop $again
      (drop (call $suspended))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i))

  ;; 100 kept in the table, one in a global, one in a struct field held by a global
  (func (export "keep")
    (local $i i32)
    (loop $again
      (table.set $keep (local.get $i) (call $suspended))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 100))))
    (global.set $g (call $suspended))
    (global.set $b (struct.new $box (call $suspended))))

  ;; fresh ones (cont.new, never resumed) dropped too, with garbage to trigger collections; one
  ;; more kept in a global
  (global $fresh (mut (ref null $c)) (ref.null $c))
  (func $seven (result i32) (i32.const 7))
  (elem declare func $seven)
  (func (export "drop_fresh") (param $n i32) (result i32)
    (local $i i32)
    (global.set $fresh (cont.new $c (ref.func $seven)))
    (loop $again
      (drop (cont.new $c (ref.func $seven)))
      (drop (call $list (i32.const 10)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (local.get $n))))
    (resume $c (global.get $fresh)))

  ;; resumes every kept one: 102 x 55
  (func (export "resume_kept") (result i32)
    (local $i i32) (local $s i32)
    (loop $again
      (local.set $s (i32.add (local.get $s)
                             (resume $c (table.get $keep (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $again (i32.lt_u (local.get $i) (i32.const 100))))
    (local.set $s (i32.add (local.get $s) (resume $c (global.get $g))))
    (i32.add (local.get $s) (resume $c (struct.get $box $k (global.get $b)))))
)

(assert_return (invoke "drop_many" (i32.const 1000)) (i32.const 1000))
(assert_return (invoke "keep"))
(assert_return (invoke "drop_many" (i32.const 100000)) (i32.const 100000))
(assert_return (invoke "drop_fresh" (i32.const 100000)) (i32.const 7))
(assert_return (invoke "resume_kept") (i32.const 5610))
