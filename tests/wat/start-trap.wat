;; tests/wat/start-trap.wat -- a start function that traps: instantiation fails with the trap.
(module
  (memory 1)
  (func $init (drop (i32.load (i32.const 65536))))
  (start $init)
  (func (export "_start"))
)
