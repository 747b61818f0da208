;; tests/wasi/progs/continuation.wat -- WASI host calls (fd_write) made from inside a continuation,
;; before and after it suspends: host functions must not assume they run on the main stack.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "from a continuation\n")
  (type $f (func))
  (type $c (cont $f))
  (tag $yield)
  (func $body
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 20))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (suspend $yield)
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (elem declare func $body)
  (func (export "_start")
    (local $k (ref null $c))
    (local.set $k (cont.new $c (ref.func $body)))
    (block $done
      (block $h (result (ref $c))
        (resume $c (on $yield $h) (local.get $k))
        (br $done))
      (local.set $k)
      (resume $c (local.get $k)))))
