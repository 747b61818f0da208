;; examples/trap.wat -- the module of examples/trap.c: exports that trap.
(module
  (memory 1)
  (func (export "div") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1)))
  (func (export "peek") (param i32) (result i32) (i32.load (local.get 0)))
)
