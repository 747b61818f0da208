;; spectest exports a tag, (param i32), for scripts that import one: caught in Wasm and escaping to the runner.
(module
  (import "spectest" "tag" (tag $t (param i32)))
  (func (export "f") (result i32)
    (block $h (result i32)
      (try_table (catch $t $h) (throw $t (i32.const 42)))
      (i32.const 0))))
(assert_return (invoke "f") (i32.const 42))
(module
  (import "spectest" "tag" (tag $t (param i32)))
  (func (export "g") (throw $t (i32.const 1))))
(assert_exception (invoke "g"))
