;; tests/wat/stack-switching/drop-many.wast -- the default configuration (guard pages, so about
;; 28,000 stacks fit under vm.max_map_count; max_continuations far above that): 200,000 suspended
;; continuations made and dropped by a module that allocates no GC object. When the stacks run
;; out, cont.new collects (the gc plugin releases the unreachable ones, their stacks go back to the
;; pool) and tries again. Regression: the pool used to take every map the kernel allowed, so the
;; collection itself could not allocate and released nothing ("cannot make a continuation stack
;; writable"); the pool now stops at 7/8 of vm.max_map_count.
(module
  (type $f (func (param i32) (result i32)))
  (type $c (cont $f))
  (type $r (func (result i32)))
  (type $cr (cont $r))
  (tag $t (param i32) (result i32))
  (func $gen (param $x i32) (result i32)
    (i32.add (suspend $t (local.get $x)) (i32.const 1)))
  (elem declare func $gen)
  (func $start (param $x i32) (result (ref $c))
    (block $h (result i32 (ref $c))
      (drop (resume $cr (on $t $h) (cont.bind $c $cr (local.get $x) (cont.new $c (ref.func $gen)))))
      (unreachable))
    (return))
  (func (export "drop_many") (param $n i32) (result i32)
    (local $i i32) (local $held (ref null $c))
    (local.set $held (call $start (i32.const 40)))
    (loop $l
      (drop (call $start (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (resume $c (i32.const 41) (local.get $held)))
)
(assert_return (invoke "drop_many" (i32.const 100000)) (i32.const 42))
(assert_return (invoke "drop_many" (i32.const 100000)) (i32.const 42))
