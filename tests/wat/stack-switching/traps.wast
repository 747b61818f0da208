;; tests/wat/stack-switching/traps.wast -- traps across stacks: a trap 50 continuations deep
;; unwinds to the host entry (and the store keeps working, with the stacks recycled), stack
;; overflow inside a continuation is a trap ("call stack exhausted"), not a crash, and an
;; exception thrown inside a continuation is caught around its resume. Run by `weft wast`.

(module
  (type $f (func (param i32) (result i32)))
  (type $c (cont $f))
  (type $v (func))
  (type $cv (cont $v))
  (tag $t (param i32))
  (tag $y)
  (global $depth (mut i32) (i32.const 0))

  ;; each level resumes the next on a new continuation; the last one traps (or returns)
  (func $nest (param $n i32) (result i32)
    (global.set $depth (i32.add (global.get $depth) (i32.const 1)))
    (if (i32.eqz (local.get $n))
      (then
        (if (i32.lt_s (global.get $depth) (i32.const 0)) (then (return (i32.const 0))))
        (unreachable)))
    (i32.add (i32.const 1)
      (resume $c (i32.sub (local.get $n) (i32.const 1)) (cont.new $c (ref.func $nest)))))
  ;; the same, but the bottom returns its depth
  (func $nest_ok (param $n i32) (result i32)
    (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))
    (i32.add (i32.const 1)
      (resume $c (i32.sub (local.get $n) (i32.const 1)) (cont.new $c (ref.func $nest_ok)))))
  (elem declare func $nest $nest_ok)

  (func (export "trap-deep") (param $n i32) (result i32)
    (global.set $depth (i32.const 0))
    (resume $c (local.get $n) (cont.new $c (ref.func $nest))))
  (func (export "depth") (result i32) (global.get $depth))
  (func (export "deep-ok") (param $n i32) (result i32)
    (resume $c (local.get $n) (cont.new $c (ref.func $nest_ok))))

  ;; unbounded recursion on a continuation stack
  (func $recurse (param $n i32) (result i32)
    (i32.add (i32.const 1) (call $recurse (i32.add (local.get $n) (i32.const 1)))))
  (elem declare func $recurse)
  (func (export "overflow") (result i32)
    (resume $c (i32.const 0) (cont.new $c (ref.func $recurse))))
  ;; overflow two continuations deep
  (func $outer_rec (param $n i32) (result i32)
    (resume $c (i32.const 0) (cont.new $c (ref.func $recurse))))
  (elem declare func $outer_rec)
  (func (export "overflow-nested") (result i32)
    (resume $c (i32.const 0) (cont.new $c (ref.func $outer_rec))))

  ;; an exception thrown on a continuation is caught by a try_table around the resume
  (func $thrower (param $n i32) (result i32) (throw $t (i32.mul (local.get $n) (i32.const 3))))
  (elem declare func $thrower)
  (func (export "catch") (param $n i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $t $h)
        (resume $c (local.get $n) (cont.new $c (ref.func $thrower))))
      (return))
    (i32.add (i32.const 1000)))
  ;; uncaught: reaches the host as an exception
  (func (export "uncaught") (param $n i32) (result i32)
    (resume $c (local.get $n) (cont.new $c (ref.func $thrower))))

  ;; resume_throw into a suspended continuation that catches it itself
  (func $catcher
    (block $h (result i32)
      (try_table (catch $t $h) (suspend $y))
      (return))
    (global.set $depth))
  (elem declare func $catcher)
  (func (export "resume-throw-caught") (result i32)
    (local $k (ref null $cv))
    (global.set $depth (i32.const 0))
    (block $hy (result (ref $cv))
      (resume $cv (on $y $hy) (cont.new $cv (ref.func $catcher)))
      (unreachable))
    (local.set $k)
    (resume_throw $cv $t (i32.const 77) (local.get $k))
    (global.get $depth))
)

(assert_trap (invoke "trap-deep" (i32.const 50)) "unreachable")
(assert_return (invoke "depth") (i32.const 51))
(assert_return (invoke "deep-ok" (i32.const 50)) (i32.const 50))
(assert_trap (invoke "trap-deep" (i32.const 50)) "unreachable")
(assert_return (invoke "deep-ok" (i32.const 200)) (i32.const 200))
(assert_exhaustion (invoke "overflow") "call stack exhausted")
(assert_exhaustion (invoke "overflow-nested") "call stack exhausted")
(assert_return (invoke "deep-ok" (i32.const 3)) (i32.const 3))
(assert_return (invoke "catch" (i32.const 5)) (i32.const 1015))
(assert_exception (invoke "uncaught" (i32.const 5)))
(assert_return (invoke "resume-throw-caught") (i32.const 77))
(assert_return (invoke "catch" (i32.const 1)) (i32.const 1003))
