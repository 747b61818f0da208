;; tests/wat/stack-switching/limit-gc.wast -- run with -C contstacks.max_continuations=1000 and the
;; gc plugin (wat.stack-switching.limit-gc): when cont.new finds the limit reached, a collection
;; releases the continuations nothing references any more and cont.new is tried again. The module
;; allocates no GC object, so nothing else would ever collect: dropping 100,000 suspended
;; continuations only works through that retry. Continuations still referenced (a table, a local)
;; are kept, still resume, and holding more of them than the limit traps as before.
(module
  (type $f (func (param i32) (result i32)))
  (type $c (cont $f))
  (type $r (func (result i32)))
  (type $cr (cont $r))
  (tag $t (param i32) (result i32))
  (table $keep 2000 (ref null $c))
  (func $gen (param $x i32) (result i32)
    (i32.add (suspend $t (local.get $x)) (i32.const 1)))
  (elem declare func $gen)
  ;; runs a fresh $gen up to its suspension and returns the suspended continuation
  (func $start (param $x i32) (result (ref $c))
    (block $h (result i32 (ref $c))
      (drop (resume $cr (on $t $h) (cont.bind $c $cr (local.get $x) (cont.new $c (ref.func $gen)))))
      (unreachable))
    (return))
  ;; n suspended continuations, each dropped; `held` stays in a local all along and is resumed at
  ;; the end: its answer plus one
  (func (export "drop_many") (param $n i32) (result i32)
    (local $i i32) (local $held (ref null $c))
    (local.set $held (call $start (i32.const 40)))
    (drop (i32.const 0))
    (loop $l
      (drop (call $start (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (resume $c (i32.const 41) (local.get $held)))
  ;; keeps n in the table (n > 1000 traps "too many continuations")
  (func (export "keep") (param $n i32)
    (local $i i32)
    (loop $l
      (table.set $keep (local.get $i) (call $start (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  (func (export "resume_kept") (param $i i32) (param $v i32) (result i32)
    (resume $c (local.get $v) (table.get $keep (local.get $i))))
  (func (export "clear")
    (table.fill $keep (i32.const 0) (ref.null $c) (i32.const 2000)))
)
(assert_return (invoke "drop_many" (i32.const 100000)) (i32.const 42))
(assert_return (invoke "keep" (i32.const 900)))
(assert_return (invoke "drop_many" (i32.const 10000)) (i32.const 42))
(assert_return (invoke "resume_kept" (i32.const 899) (i32.const 7)) (i32.const 8))
(assert_trap (invoke "keep" (i32.const 1500)) "too many continuations")
(assert_return (invoke "clear"))
(assert_return (invoke "drop_many" (i32.const 10000)) (i32.const 42))
