;; tests/unit/runtime/calls.wat -- module of test_runtime_wasm.c: call_indirect checks, deep recursion,
;; Wasm -> host -> Wasm reentry, a trap inside the reentered call.
(module
  (type $unop (func (param i32) (result i32)))
  (type $nullary (func (result i32)))
  (import "env" "reenter" (func $reenter (param i32) (result i32)))
  (table (export "tab") 4 funcref)
  (elem (i32.const 0) $inc $seven)
  (func $inc (type $unop) (i32.add (local.get 0) (i32.const 1)))
  (func $seven (type $nullary) (i32.const 7))
  (func (export "call") (param $i i32) (param $x i32) (result i32)
    (call_indirect (type $unop) (local.get $x) (local.get $i)))
  (func $deep (export "deep") (param i32) (result i32)
    (i32.add (call $deep (local.get 0)) (i32.const 1)))
  (func (export "outer") (param i32) (result i32)
    (i32.add (call $reenter (local.get 0)) (i32.const 100)))
  (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 10) (local.get 0)))
)
