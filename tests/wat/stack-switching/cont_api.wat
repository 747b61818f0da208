;; tests/wat/stack-switching/cont_api.wat -- the module of test_cont_api.c: continuation references
;; at the host boundary, and host frames as barriers for suspensions.
(module
  (type $f (func (result i32)))
  (type $c (cont $f))
  (type $fi (func (param i32) (result i32)))
  (type $ci (cont $fi))
  (import "env" "host" (func $host (param i32) (result i32)))
  (tag $t (param i32) (result i32))
  (global $g (export "g") (mut (ref null $ci)) (ref.null $ci))
  (table $tab (export "tab") 4 (ref null $ci))

  ;; suspends with $t; resumed with x it returns x * 2
  (func $body (result i32) (i32.mul (suspend $t (i32.const 5)) (i32.const 2)))
  ;; calls the host, which calls back into "suspender": the host frame sits between the
  ;; suspension and the handler below
  (func $via_host (result i32) (call $host (i32.const 1)))
  (func (export "suspender") (result i32) (suspend $t (i32.const 9)))
  ;; a host call made on a continuation stack (no suspension involved)
  (func $plain_host (result i32) (call $host (i32.const 0)))
  (elem declare func $body $via_host $plain_host)

  ;; runs $body to its suspension and returns the suspended continuation to the host
  (func (export "start") (result (ref null $ci))
    (block $h (result i32 (ref $ci))
      (drop (resume $c (on $t $h) (cont.new $c (ref.func $body))))
      (return (ref.null $ci)))
    (return))
  ;; the same, stored by Wasm in the global for the host to read
  (func (export "start-into-global")
    (block $h (result i32 (ref $ci))
      (drop (resume $c (on $t $h) (cont.new $c (ref.func $body))))
      (return))
    (global.set $g)
    (drop))
  ;; resumes a continuation the host passes in
  (func (export "finish") (param $k (ref null $ci)) (param $x i32) (result i32)
    (resume $ci (local.get $x) (local.get $k)))
  (func (export "finish-global") (param $x i32) (result i32)
    (resume $ci (local.get $x) (global.get $g)))
  (func (export "finish-table") (param $i i32) (param $x i32) (result i32)
    (resume $ci (local.get $x) (table.get $tab (local.get $i))))
  ;; the handler is here, but the suspension happens beyond a host frame: "unhandled tag"
  (func (export "barrier") (result i32)
    (block $h (result i32 (ref $ci))
      (return (resume $c (on $t $h) (cont.new $c (ref.func $via_host)))))
    (drop) (drop) (i32.const -1))
  (func (export "host-on-cont") (result i32)
    (block $h (result i32 (ref $ci))
      (return (resume $c (on $t $h) (cont.new $c (ref.func $plain_host)))))
    (drop) (drop) (i32.const -1))
)
