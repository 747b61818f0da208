;; invalid: an i64 where the result is i32
(module (func (export "f") (result i32) i64.const 1))
