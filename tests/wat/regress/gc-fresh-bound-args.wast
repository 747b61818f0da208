;; tests/wat/regress/gc-fresh-bound-args.wast -- a GC reference bound into a fresh continuation by
;; cont.bind is a root while the continuation is (part gcroots). The bound arguments live in the
;; continuation's own args buffer at the top of its stack, which the root scan did not read (core
;; gcroots: "FRESH continuations' bound arguments are not roots"): the list was freed by the
;; collections the garbage below triggers (8 MB with the default 4 MB min_heap) and its cells
;; reused, so the sum came out wrong. Now a fresh continuation held in a local, a global or a struct
;; field has its arguments scanned.
(module
  (type $node (struct (field $v i32) (field $next (ref null $node))))
  (type $fn (func (param (ref null $node)) (result i32)))
  (type $cn (cont $fn))
  (type $f (func (result i32)))
  (type $c (cont $f))
  (type $box (struct (field $k (mut (ref null $c)))))
  (global $g (mut (ref null $c)) (ref.null $c))

  (func $list (param $n i32) (result (ref null $node))
    (local $l (ref null $node))
    (loop $again
      (local.set $l (struct.new $node (local.get $n) (local.get $l)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $again (i32.gt_s (local.get $n) (i32.const 0))))
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
  ;; 250,000 garbage nodes (8 MB): several collections
  (func $garbage (drop (call $list (i32.const 250000))))
  (elem declare func $sum)

  (func $bound (param $n i32) (result (ref $c))
    (cont.bind $cn $c (call $list (local.get $n)) (cont.new $cn (ref.func $sum))))

  (func (export "in_local") (result i32)
    (local $k (ref null $c))
    (local.set $k (call $bound (i32.const 100)))
    (call $garbage)
    (resume $c (local.get $k)))
  (func (export "in_global") (result i32)
    (global.set $g (call $bound (i32.const 100)))
    (call $garbage)
    (resume $c (global.get $g)))
  (func (export "in_field") (result i32)
    (local $b (ref null $box))
    (local.set $b (struct.new $box (call $bound (i32.const 100))))
    (call $garbage)
    (resume $c (struct.get $box $k (local.get $b))))
)
(assert_return (invoke "in_local") (i32.const 5050))
(assert_return (invoke "in_global") (i32.const 5050))
(assert_return (invoke "in_field") (i32.const 5050))
