;; examples/hello.wat -- the module of examples/hello.c: two exports to call from C.
(module
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "scale") (param f64) (result f64) (f64.mul (local.get 0) (f64.const 2.5)))
)
