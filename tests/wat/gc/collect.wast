;; tests/wat/gc/collect.wast -- collections while Wasm runs (owner: gc). Run with a small heap
;; ([gc] heap_limit = 4M, min_heap = 1M): each test allocates far more than the limit in garbage,
;; so it only finishes if collections run, and it checks that what stayed reachable (from locals,
;; operand slots, a global, a table, an array, across calls) is intact afterwards.

(module
  (type $node (struct (field $v i32) (field $next (ref null $node))))
  (type $arr (array (mut (ref null $node))))
  (global $keep (mut (ref null $node)) (ref.null $node))
  (table $t 4 (ref null $node))

  ;; garbage: n nodes in a chain that becomes unreachable
  (func $garbage (param $n i32)
    (local $l (ref null $node))
    (loop $again
      (local.set $l (struct.new $node (local.get $n) (local.get $l)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $again (i32.gt_s (local.get $n) (i32.const 0)))))

  ;; a list of n nodes (values 1..n) held in a local, 10 garbage nodes made per node kept
  (func $build (param $n i32) (result (ref null $node))
    (local $l (ref null $node))
    (local $i i32)
    (loop $again
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (call $garbage (i32.const 10))
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

  (func (export "local") (param $n i32) (result i64) (call $sum (call $build (local.get $n))))

  ;; a list kept in a global and one in a table while more is built and dropped
  (func (export "global_table") (result i64)
    (global.set $keep (call $build (i32.const 20000)))
    (table.set $t (i32.const 2) (call $build (i32.const 10000)))
    (drop (call $build (i32.const 20000)))
    (i64.add (call $sum (global.get $keep)) (call $sum (table.get $t (i32.const 2)))))

  ;; an operand slot holds a list while the second argument is computed
  (func (export "operand") (result i64)
    (i64.add (call $sum (call $build (i32.const 1000)))
             (i64.mul (i64.const 0) (call $sum (call $build (i32.const 30000))))))

  ;; an array of lists
  (func (export "array") (result i64)
    (local $a (ref null $arr))
    (local $i i32)
    (local $s i64)
    (local.set $a (array.new_default $arr (i32.const 8)))
    (loop $fill
      (array.set $arr (local.get $a) (local.get $i) (call $build (i32.const 2000)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const 8))))
    (local.set $i (i32.const 0))
    (loop $add
      (local.set $s (i64.add (local.get $s) (call $sum (array.get $arr (local.get $a) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $add (i32.lt_u (local.get $i) (i32.const 8))))
    (local.get $s))
)

;; 50000 * 50001 / 2
(assert_return (invoke "local" (i32.const 50000)) (i64.const 1250025000))
;; 20000 * 20001 / 2 + 10000 * 10001 / 2
(assert_return (invoke "global_table") (i64.const 250015000))
(assert_return (invoke "operand") (i64.const 500500))
;; 8 * 2000 * 2001 / 2
(assert_return (invoke "array") (i64.const 16008000))
