;; tests/wat/exceptions/exn_api.wat -- the module of test_exn_api.c: exceptions across the host
;; boundary. env.host(x) is the host function of the test; env.tag is a host tag (param i32 i64).
(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (import "env" "tag" (tag $ht (param i32 i64)))
  (tag $e (export "e") (param i32))
  (func (export "throw") (param i32) (result i32) (throw $e (local.get 0)))
  (func (export "throw2") (param i32 i64) (throw $ht (local.get 0) (local.get 1)))
  ;; host(x) with catch $e -> payload + 1000, catch $ht -> i32 + i64 + 2000
  (func $via_host (export "via_host") (param i32) (result i32)
    (block $he (result i32 i64)
      (block $ee (result i32)
        (try_table (result i32) (catch $e $ee) (catch $ht $he) (call $host (local.get 0)))
        (return))
      (i32.const 1000) (i32.add) (return))
    (i32.wrap_i64) (i32.add) (i32.const 2000) (i32.add))
  (func (export "via_host_all") (param i32) (result i32)
    (block $h
      (try_table (result i32) (catch_all $h) (call $host (local.get 0)))
      (return))
    (i32.const -1))
  (func (export "uncaught_via_host") (param i32) (result i32) (call $host (local.get 0)))
  ;; n times via_host(2): the host throws, Wasm catches by value; returns the sum
  (func (export "via_host_loop") (param $n i32) (result i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (call $via_host (i32.const 2))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))
    (local.get $s))
  ;; rethrows the exnref the host hands in, catches it with catch_all_ref and drops it
  (func (export "catch_ref_drop") (param $x exnref)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (throw_ref (local.get $x)))
      (unreachable))
    (drop)))
