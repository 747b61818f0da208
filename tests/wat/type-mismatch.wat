;; tests/wat/type-mismatch.wat -- an invalid module: returns an i64 where an i32 is declared.
;; Assembled with wat2wasm --no-check; `weft validate` must reject it with "type mismatch".
(module
  (func (export "bad") (result i32)
    (i64.const 1))
)
