;; Regression: the text encoder wrote a segment declared `funcref` whose items are all ref.func in
;; the funcidx form, whose type is (ref func) in Wasm 3.0, so a funcref segment for a (ref func)
;; table validated (spec elem.wast:516). A segment keeps the type it was written with.
(assert_invalid
  (module
    (func)
    (table 1 (ref func) (ref.func 0))
    (elem (i32.const 0) funcref (ref.func 0)))
  "type mismatch")

;; The funcidx forms are (ref func), so they fit a (ref func) table.
(module
  (func $f (result i32) (i32.const 7))
  (table $t 2 (ref func) (ref.func $f))
  (elem (table $t) (i32.const 1) func $f)
  (elem (table $t) (i32.const 0) (ref func) (ref.func $f))
  (type $r (func (result i32)))
  (func (export "call") (param i32) (result i32)
    (call_indirect $t (type $r) (local.get 0))))
(assert_return (invoke "call" (i32.const 0)) (i32.const 7))
(assert_return (invoke "call" (i32.const 1)) (i32.const 7))

;; Inline segments of a funcref table still take function indices.
(module
  (func $g (result i32) (i32.const 9))
  (table funcref (elem $g $g))
  (func (export "size") (result i32) (table.size 0)))
(assert_return (invoke "size") (i32.const 2))
