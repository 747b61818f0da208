;; tests/wat/stack-switching/chains.wast -- suspensions forwarded through intermediate handlers
;; that do not handle their tag, cont.bind partial application on fresh and suspended
;; continuations, and host frames as barriers. Run by `weft wast`.

(module
  (type $f (func (result i32)))
  (type $c (cont $f))
  (type $fi (func (param i32) (result i32)))
  (type $ci (cont $fi))
  (tag $outer (param i32) (result i32))
  (tag $inner)

  ;; innermost: suspends with $outer, which only the outermost resume handles
  (func $leaf (result i32)
    (i32.add (suspend $outer (i32.const 20)) (i32.const 1)))
  ;; middle: resumes the leaf handling only $inner (never raised), doubles its result
  (func $middle (result i32)
    (block $h (result (ref $c))
      (return (i32.mul (resume $c (on $inner $h) (cont.new $c (ref.func $leaf))) (i32.const 2))))
    (unreachable))
  (func $middle2 (result i32)
    (block $h (result (ref $c))
      (return (i32.add (resume $c (on $inner $h) (cont.new $c (ref.func $middle))) (i32.const 100))))
    (unreachable))
  (elem declare func $leaf $middle $middle2)

  ;; the outermost handles $outer: 20 arrives through two handlers that do not handle it; the
  ;; answer 20 + 1 goes back to the leaf: leaf 22, middle 44, middle2 144
  (func (export "forward") (result i32)
    (local $k (ref null $ci)) (local $v i32)
    (block $h (result i32 (ref $ci))
      (return (resume $c (on $outer $h) (cont.new $c (ref.func $middle2)))))
    (local.set $k) (local.set $v)
    (block $h2 (result i32 (ref $ci))
      (return (resume $ci (on $outer $h2) (i32.add (local.get $v) (i32.const 1)) (local.get $k))))
    (unreachable))
  ;; the suspended chain keeps its intermediate handlers: the value seen by the outermost
  (func (export "seen") (result i32)
    (block $h (result i32 (ref $ci))
      (drop (resume $c (on $outer $h) (cont.new $c (ref.func $middle2))))
      (return (i32.const -1)))
    (drop))
  ;; with no $outer handler anywhere the suspension traps
  (func (export "unhandled") (result i32)
    (resume $c (cont.new $c (ref.func $middle2))))

  ;; cont.bind on a fresh continuation: (x, y) -> x * 10 + y, bind x then resume with y
  (type $f2 (func (param i32 i32) (result i32)))
  (type $c2 (cont $f2))
  (func $pair (param $x i32) (param $y i32) (result i32)
    (i32.add (i32.mul (local.get $x) (i32.const 10)) (local.get $y)))
  (elem declare func $pair)
  (func (export "bind-fresh") (param $x i32) (param $y i32) (result i32)
    (resume $ci (local.get $y) (cont.bind $c2 $ci (local.get $x) (cont.new $c2 (ref.func $pair)))))
  (func (export "bind-all") (param $x i32) (param $y i32) (result i32)
    (resume $c (cont.bind $c2 $c (local.get $x) (local.get $y) (cont.new $c2 (ref.func $pair)))))

  ;; cont.bind on a suspended continuation: the tag's result is bound, then resumed with nothing:
  ;; leaf returns v + 1
  (func (export "bind-suspended") (param $v i32) (result i32)
    (local $k (ref null $ci))
    (block $h (result i32 (ref $ci))
      (return (resume $c (on $outer $h) (cont.new $c (ref.func $leaf)))))
    (local.set $k)
    (drop)
    (resume $c (cont.bind $ci $c (local.get $v) (local.get $k))))
)

(assert_return (invoke "forward") (i32.const 144))
(assert_return (invoke "seen") (i32.const 20))
(assert_suspension (invoke "unhandled") "unhandled tag")
(assert_return (invoke "bind-fresh" (i32.const 4) (i32.const 2)) (i32.const 42))
(assert_return (invoke "bind-all" (i32.const 7) (i32.const 3)) (i32.const 73))
(assert_return (invoke "bind-suspended" (i32.const 41)) (i32.const 42))
