;; tests/wat/gc/roots.wast -- precise roots in frames and continuations (part gcroots). Run with
;; [gc] stress = yes: every allocation collects, so each list below lives through hundreds of
;; collections, and a slot the stack maps leave out frees its list, whose cells the next
;; allocations reuse: the sums come out wrong. Each list is held in exactly one place: a local of a
;; frame three continuations deep while the chain is suspended, an operand slot across a suspend,
;; a local across calls that allocate, a fresh continuation's bound argument (cont.bind) held in a
;; local, a parameter, a global and a struct field.

(module
  (type $node (struct (field $v i32) (field $next (ref null $node))))
  (type $f (func (result i64)))
  (type $c (cont $f))
  (type $fn (func (param (ref null $node)) (result i64)))
  (type $cn (cont $fn))
  (type $box (struct (field $k (mut (ref null $c)))))
  (tag $yield)
  (global $kept (mut (ref null $c)) (ref.null $c))

  ;; n unreachable nodes: n collections under stress
  (func $churn (param $n i32)
    (loop $again
      (drop (struct.new $node (local.get $n) (ref.null $node)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $again (i32.gt_s (local.get $n) (i32.const 0)))))

  ;; the list n -> ... -> 1 (sum n (n + 1) / 2), with one collection per node
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

  ;; a list in a local survives calls that collect (the running frame's map)
  (func (export "local") (result i64)
    (local $mine (ref null $node))
    (local.set $mine (call $list (i32.const 50)))
    (call $churn (i32.const 100))
    (call $sum (local.get $mine)))

  ;; a list on the operand stack survives a call that collects
  (func (export "operand") (result i64)
    (i64.add (call $sum (call $list (i32.const 20)))
             (block (result i64) (call $churn (i32.const 100)) (i64.const 0))))

  ;; level 3 of a chain: a list (sum 1275) in a local and one (sum 55) on the operand stack
  ;; across the suspend
  (func $leaf (result i64)
    (local $mine (ref null $node))
    (local.set $mine (call $list (i32.const 50)))
    (i64.add (call $sum (call $list (i32.const 10)))
             (block (result i64) (suspend $yield) (call $sum (local.get $mine)))))
  ;; level 2: its own list (sum 210), resumes the leaf without a handler for $yield
  (func $mid (result i64)
    (local $mine (ref null $node))
    (local.set $mine (call $list (i32.const 20)))
    (i64.add (resume $c (cont.new $c (ref.func $leaf))) (call $sum (local.get $mine))))
  ;; level 1: its own list (sum 465)
  (func $top (result i64)
    (local $mine (ref null $node))
    (local.set $mine (call $list (i32.const 30)))
    (i64.add (resume $c (cont.new $c (ref.func $mid))) (call $sum (local.get $mine))))
  (func $bound (param $l (ref null $node)) (result i64) (call $sum (local.get $l)))
  (elem declare func $leaf $mid $top $bound)

  ;; the chain suspended three deep while 100 collections run; resumed from a local
  (func (export "chain") (result i64)
    (local $k (ref null $c))
    (block $h (result (ref $c))
      (return (resume $c (on $yield $h) (cont.new $c (ref.func $top)))))
    (local.set $k)
    (call $churn (i32.const 100))
    (resume $c (local.get $k)))

  ;; the same, the suspended chain held only by a struct field (continuation fields are traced)
  (func (export "chain_in_field") (result i64)
    (local $b (ref null $box))
    (local $k (ref null $c))
    (local.set $b (struct.new $box (ref.null $c)))
    (block $h (result (ref $c))
      (return (resume $c (on $yield $h) (cont.new $c (ref.func $top)))))
    (local.set $k)
    (struct.set $box $k (local.get $b) (local.get $k))
    (local.set $k (ref.null $c)) ;; from here on only the field holds it
    (call $churn (i32.const 100))
    (resume $c (struct.get $box $k (local.get $b))))

  ;; the same, held only by a global
  (func (export "chain_in_global") (result i64)
    (block $h (result (ref $c))
      (return (resume $c (on $yield $h) (cont.new $c (ref.func $top)))))
    (global.set $kept)
    (call $churn (i32.const 100))
    (resume $c (global.get $kept)))

  ;; a list bound into a fresh continuation (its args buffer) held in a local
  (func (export "bound") (result i64)
    (local $k (ref null $c))
    (local.set $k (cont.bind $cn $c (call $list (i32.const 40)) (cont.new $cn (ref.func $bound))))
    (call $churn (i32.const 100))
    (resume $c (local.get $k)))

  ;; a fresh continuation passed as a parameter to a function that collects
  (func $later (param $k (ref null $c)) (result i64)
    (call $churn (i32.const 100))
    (resume $c (local.get $k)))
  (func (export "bound_param") (result i64)
    (call $later (cont.bind $cn $c (call $list (i32.const 30)) (cont.new $cn (ref.func $bound)))))
)

(assert_return (invoke "local") (i64.const 1275))
(assert_return (invoke "operand") (i64.const 210))
(assert_return (invoke "chain") (i64.const 2005))
(assert_return (invoke "chain_in_field") (i64.const 2005))
(assert_return (invoke "chain_in_global") (i64.const 2005))
(assert_return (invoke "bound") (i64.const 820))
(assert_return (invoke "bound_param") (i64.const 465))
