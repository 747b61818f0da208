;; tests/wat/backtrace/cont-host.wat -- a trap in Wasm that the host re-entered from inside a
;; continuation (test_bt_e2e_api.c, ctest wat.backtrace-e2e-api): h_main resumes h_cont, which
;; calls the host; the host calls "inner", which traps two continuations deep. The trace crosses
;; both continuation chains and the host frames between the activations. Read by weft's text
;; front end (stack switching); the host import is env.call (i32) -> i32.
(module $host
  (import "env" "call" (func $call (param i32) (result i32)))
  (type $fi (func (param i32) (result i32)))
  (type $ci (cont $fi))

  (func $in_b (param $x i32) (result i32)
    (i32.div_u (i32.const 1) (local.get $x)))
  (func $in_a (param $x i32) (result i32)
    (i32.add (i32.const 1) (resume $ci (local.get $x) (cont.new $ci (ref.func $in_b)))))
  (func $in_main (export "inner") (param $x i32) (result i32)
    (i32.add (i32.const 1) (resume $ci (local.get $x) (cont.new $ci (ref.func $in_a)))))

  (func $h_cont (param $x i32) (result i32)
    (i32.add (i32.const 1) (call $call (local.get $x))))
  (func $h_main (export "host-main") (param $x i32) (result i32)
    (i32.add (i32.const 1) (resume $ci (local.get $x) (cont.new $ci (ref.func $h_cont)))))

  (elem declare func $in_a $in_b $h_cont)
)
