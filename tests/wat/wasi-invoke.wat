;; tests/wat/wasi-invoke.wat -- `weft run --invoke` on a module that imports WASI: the export prints
;; through fd_write and returns its errno.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\10\00\00\00\06\00\00\00")  ;; iovec {buf = 16, len = 6}
  (data (i32.const 16) "hello\n")
  (func (export "greet") (result i32)
    (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 32)))
)
