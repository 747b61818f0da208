;; tests/wat/stack-switching/limits.wast -- run with -C contstacks.max_continuations=100
;; (wat.stack-switching.limits): holding more suspended continuations than allowed traps with the
;; plugin's message and never crashes; the store goes on (suspended continuations held in a table
;; stay live until a gc plugin releases them, so the budget stays spent).
(module
  (type $f (func))
  (type $c (cont $f))
  (tag $t)
  (table $keep 1000 (ref null $c))
  (func $s (suspend $t))
  (elem declare func $s)
  (func (export "hoard") (param $n i32)
    (local $i i32) (local $k (ref null $c))
    (loop $l
      (block $h (result (ref $c))
        (resume $c (on $t $h) (cont.new $c (ref.func $s)))
        (unreachable))
      (local.set $k)
      (table.set $keep (local.get $i) (local.get $k))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n)))))
  (func (export "ok") (result i32) (i32.const 1))
)
(assert_return (invoke "hoard" (i32.const 50)))
(assert_trap (invoke "hoard" (i32.const 500)) "too many continuations")
(assert_return (invoke "ok") (i32.const 1))
