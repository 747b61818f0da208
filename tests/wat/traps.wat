;; tests/wat/traps.wat -- traps reach the command line with the spec's messages and exit 134.
(module
  (memory 1)
  (func (export "div") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "unreachable") (unreachable))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func $deep (export "deep") (param i32) (result i32)
    (i32.add (i32.const 1) (call $deep (local.get 0))))
)
