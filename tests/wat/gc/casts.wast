;; tests/wat/gc/casts.wast -- i31 references and type tests that need no heap object (owner: gc):
;; ref.test / ref.cast / br_on_cast / br_on_cast_fail over null, i31, funcref and externref values,
;; against abstract heap types and a concrete struct type; i31.get_s/u; ref.eq on i31 values.
;; Run by ctest as wat.gc.casts (weft wast, with the gc plugin loaded).

(module
  (type $s (struct))
  (type $a (array i8))
  (func $f)
  (elem declare func $f)

  ;; 0 -> null, else ref.i31 (k - 1)
  (func $mk (param $k i32) (result anyref)
    (if (result anyref) (i32.eqz (local.get $k))
      (then (ref.null any))
      (else (ref.i31 (i32.sub (local.get $k) (i32.const 1))))))

  ;; one bit per test, bit 0 first
  (func (export "tests") (param $k i32) (result i32)
    (local $v anyref)
    (local.set $v (call $mk (local.get $k)))
    (i32.or (i32.or (i32.or (i32.or (i32.or (i32.or (i32.or (i32.or (i32.or (i32.or
      (ref.test (ref any) (local.get $v))
      (i32.shl (ref.test (ref null any) (local.get $v)) (i32.const 1)))
      (i32.shl (ref.test (ref eq) (local.get $v)) (i32.const 2)))
      (i32.shl (ref.test (ref i31) (local.get $v)) (i32.const 3)))
      (i32.shl (ref.test (ref struct) (local.get $v)) (i32.const 4)))
      (i32.shl (ref.test (ref array) (local.get $v)) (i32.const 5)))
      (i32.shl (ref.test (ref none) (local.get $v)) (i32.const 6)))
      (i32.shl (ref.test (ref null none) (local.get $v)) (i32.const 7)))
      (i32.shl (ref.test (ref $s) (local.get $v)) (i32.const 8)))
      (i32.shl (ref.test (ref null $s) (local.get $v)) (i32.const 9)))
      (i32.shl (ref.test (ref null $a) (local.get $v)) (i32.const 10))))

  (func (export "func_tests") (result i32)
    (i32.or (i32.or (i32.or
      (ref.test (ref func) (ref.func $f))
      (i32.shl (ref.test (ref nofunc) (ref.func $f)) (i32.const 1)))
      (i32.shl (ref.test (ref null nofunc) (ref.null func)) (i32.const 2)))
      (i32.shl (ref.test (ref func) (ref.null func)) (i32.const 3))))

  (func (export "extern_tests") (param $x externref) (result i32)
    (i32.or (i32.or
      (ref.test (ref extern) (local.get $x))
      (i32.shl (ref.test (ref noextern) (local.get $x)) (i32.const 1)))
      (i32.shl (ref.test (ref null noextern) (local.get $x)) (i32.const 2))))

  (func (export "cast_i31") (param $k i32) (result i32)
    (i31.get_s (ref.cast (ref i31) (call $mk (local.get $k)))))
  (func (export "cast_struct") (param $k i32)
    (drop (ref.cast (ref null struct) (call $mk (local.get $k)))))
  (func (export "cast_null_i31") (param $k i32) (result i32)
    (ref.is_null (ref.cast (ref null i31) (call $mk (local.get $k)))))

  ;; 1 when br_on_cast took the branch, 0 otherwise
  (func (export "br_i31") (param $k i32) (result i32)
    (block $l (result (ref i31))
      (br_on_cast $l anyref (ref i31) (call $mk (local.get $k)))
      (drop)
      (return (i32.const 0)))
    (drop)
    (i32.const 1))
  (func (export "br_null_eq") (param $k i32) (result i32)
    (block $l (result (ref null eq))
      (br_on_cast $l anyref (ref null eq) (call $mk (local.get $k)))
      (drop)
      (return (i32.const 0)))
    (drop)
    (i32.const 1))
  ;; br_on_cast_fail to struct: branches for i31 and null, falls through never here
  (func (export "brf_struct") (param $k i32) (result i32)
    (block $l (result anyref)
      (br_on_cast_fail $l anyref (ref struct) (call $mk (local.get $k)))
      (drop)
      (return (i32.const 0)))
    (drop)
    (i32.const 1))
  ;; the value survives the branch intact
  (func (export "br_value") (param $k i32) (result i32)
    (i31.get_u
      (block $l (result (ref i31))
        (br_on_cast $l anyref (ref i31) (call $mk (local.get $k)))
        (drop)
        (ref.i31 (i32.const -1)))))

  (func (export "get_s") (param i32) (result i32) (i31.get_s (ref.i31 (local.get 0))))
  (func (export "get_u") (param i32) (result i32) (i31.get_u (ref.i31 (local.get 0))))
  (func (export "get_null") (result i32) (i31.get_u (ref.null i31)))
  (func (export "eq") (param i32 i32) (result i32)
    (ref.eq (ref.i31 (local.get 0)) (ref.i31 (local.get 1))))
  (global $g i31ref (ref.i31 (i32.const 42)))
  (func (export "global") (result i32) (i31.get_s (global.get $g)))
)

;; null: (ref null any) 0x2, (ref null none) 0x80, (ref null $s) 0x200, (ref null $a) 0x400
(assert_return (invoke "tests" (i32.const 0)) (i32.const 0x682))
;; i31: any 0x1, null any 0x2, eq 0x4, i31 0x8
(assert_return (invoke "tests" (i32.const 1)) (i32.const 0xf))
(assert_return (invoke "tests" (i32.const 0x40000000)) (i32.const 0xf))
(assert_return (invoke "func_tests") (i32.const 0x5))
(assert_return (invoke "extern_tests" (ref.extern 1)) (i32.const 0x1))
(assert_return (invoke "extern_tests" (ref.extern 2)) (i32.const 0x1))
(assert_return (invoke "extern_tests" (ref.null extern)) (i32.const 0x4))

(assert_return (invoke "cast_i31" (i32.const 6)) (i32.const 5))
(assert_return (invoke "cast_i31" (i32.const 0x80000000)) (i32.const -1))
(assert_trap (invoke "cast_i31" (i32.const 0)) "cast failure")
(assert_trap (invoke "cast_struct" (i32.const 3)) "cast failure")
(assert_return (invoke "cast_struct" (i32.const 0)))
(assert_return (invoke "cast_null_i31" (i32.const 0)) (i32.const 1))
(assert_return (invoke "cast_null_i31" (i32.const 9)) (i32.const 0))

(assert_return (invoke "br_i31" (i32.const 0)) (i32.const 0))
(assert_return (invoke "br_i31" (i32.const 5)) (i32.const 1))
(assert_return (invoke "br_null_eq" (i32.const 0)) (i32.const 1))
(assert_return (invoke "br_null_eq" (i32.const 5)) (i32.const 1))
(assert_return (invoke "brf_struct" (i32.const 0)) (i32.const 1))
(assert_return (invoke "brf_struct" (i32.const 5)) (i32.const 1))
(assert_return (invoke "br_value" (i32.const 1235)) (i32.const 1234))
(assert_return (invoke "br_value" (i32.const 0)) (i32.const 0x7fffffff))

(assert_return (invoke "get_s" (i32.const 0x3fffffff)) (i32.const 0x3fffffff))
(assert_return (invoke "get_s" (i32.const 0x40000000)) (i32.const -0x40000000))
(assert_return (invoke "get_s" (i32.const -1)) (i32.const -1))
(assert_return (invoke "get_u" (i32.const -1)) (i32.const 0x7fffffff))
(assert_return (invoke "get_u" (i32.const 0x80000001)) (i32.const 1))
(assert_trap (invoke "get_null") "null i31 reference")
(assert_return (invoke "eq" (i32.const 5) (i32.const 0x80000005)) (i32.const 1))
(assert_return (invoke "eq" (i32.const 5) (i32.const 6)) (i32.const 0))
(assert_return (invoke "global") (i32.const 42))
