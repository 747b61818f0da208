;; tests/wasi/progs/imports_env.wat -- a module with a _start that imports a non-WASI function:
;; `weft run` must refuse it with a link error (exit 1), not crash.
(module
  (import "env" "f" (func))
  (memory (export "memory") 1)
  (func (export "_start")))
