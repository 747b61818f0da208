;; tests/wat/start.wat -- `weft run FILE` without --invoke runs the exported _start; a start
;; function (the module's own) runs at instantiation and can trap there.
(module
  (global $ran (mut i32) (i32.const 0))
  (func $init (global.set $ran (i32.const 1)))
  (start $init)
  (func (export "_start")
    (if (i32.eqz (global.get $ran)) (then (unreachable))))
  (func (export "ran") (result i32) (global.get $ran))
)
