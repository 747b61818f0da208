;; tests/wat/gc/cont.wast -- GC objects and continuations (owner: gc). Run with a 4M heap: the
;; handler makes ~17 MB of garbage while a chain of three continuations is suspended, so it only
;; finishes if collections run; each level keeps a list only in its own local (and the leaf one in
;; an operand slot across the suspend), and every list must be intact after the resume. Also:
;; contrefs stored in a struct field and resumed from there; a GC reference bound by cont.bind.

(module
  (type $node (struct (field $v i32) (field $next (ref null $node))))
  (type $f (func (result i64)))
  (type $c (cont $f))
  (type $fn (func (param (ref null $node)) (result i64)))
  (type $cn (cont $fn))
  (type $box (struct (field $k (mut (ref null $c)))))
  (tag $yield)

  (func $garbage (param $n i32)
    (local $l (ref null $node))
    (loop $again
      (local.set $l (struct.new $node (local.get $n) (local.get $l)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $again (i32.gt_s (local.get $n) (i32.const 0)))))

  (func $list (param $n i32) (result (ref null $node))
    (local $l (ref null $node))
    (local $i i32)
    (loop $again
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (local.set $l (struct.new $node (local.get $i) (local.get $l)))
      (br_if $again (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $l))

  (func $sum (param $l (ref null $node)) (result i64)
    (local $s i64)
    (block $done
      (loop $again
        (br_if $done (ref.is_null (local.get $l)))
        (local.set $s (i64.add (local.get $s)
                               (i64.extend_i32_u (struct.get $node $v (local.get $l)))))
        (local.set $l (struct.get $node $next (local.get $l)))
        (br $again)))
    (local.get $s))

  ;; level 3: a list of 100 (5050) in a local and one of 10 (55) on the operand stack across the
  ;; suspend
  (func $leaf (result i64)
    (local $mine (ref null $node))
    (local.set $mine (call $list (i32.const 100)))
    (i64.add (call $sum (call $list (i32.const 10)))
             (block (result i64) (suspend $yield) (call $sum (local.get $mine)))))
  ;; level 2: a list of 200 (20100), resumes the leaf without handling $yield
  (func $mid (result i64)
    (local $mine (ref null $node))
    (local.set $mine (call $list (i32.const 200)))
    (i64.add (resume $c (cont.new $c (ref.func $leaf))) (call $sum (local.get $mine))))
  ;; level 1: a list of 300 (45150)
  (func $top (result i64)
    (local $mine (ref null $node))
    (local.set $mine (call $list (i32.const 300)))
    (i64.add (resume $c (cont.new $c (ref.func $mid))) (call $sum (local.get $mine))))
  (elem declare func $leaf $mid $top $bound)

  ;; runs the chain; while it is suspended, `rounds` times: 5000 garbage nodes (a collection or
  ;; more each time with the 4M heap), then resumes it from a struct field
  (func (export "chain") (param $rounds i32) (result i64)
    (local $b (ref null $box))
    (local $k (ref null $c))
    (local.set $b (struct.new $box (ref.null $c)))
    (block $h (result (ref $c))
      (return (resume $c (on $yield $h) (cont.new $c (ref.func $top)))))
    (local.set $k)
    (struct.set $box $k (local.get $b) (local.get $k))
    (local.set $k (ref.null $c)) ;; from here on only the struct field holds it
    (loop $again
      (call $garbage (i32.const 5000))
      (local.set $rounds (i32.sub (local.get $rounds) (i32.const 1)))
      (br_if $again (i32.gt_s (local.get $rounds) (i32.const 0))))
    (resume $c (struct.get $box $k (local.get $b))))

  ;; a list bound into a fresh continuation by cont.bind, resumed later
  (func $bound (param $l (ref null $node)) (result i64) (call $sum (local.get $l)))
  (func (export "bind") (result i64)
    (local $k (ref null $c))
    (local.set $k (cont.bind $cn $c (call $list (i32.const 1000)) (cont.new $cn (ref.func $bound))))
    (resume $c (local.get $k)))
)

;; 55 + 5050 + 20100 + 45150
(assert_return (invoke "chain" (i32.const 1)) (i64.const 70355))
(assert_return (invoke "chain" (i32.const 100)) (i64.const 70355))
(assert_return (invoke "bind") (i64.const 500500))
