;; bench/stack-switching/hoard.wat -- scale: hoard(n) keeps n suspended continuations live in a
;; table (one store). Run: weft run -C contstacks.guard_pages=no -C contstacks.stack_size=64K
;;   -C contstacks.max_continuations=2000000 --invoke hoard hoard.wat 1000000
(module
  (type $f (func))
  (type $c (cont $f))
  (tag $t)
  (table $keep 1000000 (ref null $c))
  (func $s (suspend $t))
  (elem declare func $s)
  (func (export "hoard") (param $n i32) (result i32)
    (local $i i32) (local $k (ref null $c))
    (loop $l
      (block $h (result (ref $c))
        (resume $c (on $t $h) (cont.new $c (ref.func $s)))
        (unreachable))
      (local.set $k)
      (table.set $keep (local.get $i) (local.get $k))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i)))
