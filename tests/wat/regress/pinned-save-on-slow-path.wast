;; tests/wat/regress/pinned-save-on-slow-path.wast -- x64-codegen keeps hot locals in registers
;; ("pinned") and stores them to their memory homes before calls, skipping the store when the
;; register is known to equal its home. A first version counted the reload on the slow path of an
;; inline allocation (taken only when the bump region is full) as making every pinned register
;; equal its home for the code after it: the call that followed skipped storing $x, and the reload
;; after the call read a stale $x whenever the allocation had taken its fast path. Only a reload
;; on the instruction's one way out (after a call, a libcall-based instruction, a switch) counts
;; now (x64_pins_clean). tests/wat/gc/cont-revision.wast caught it first ("cast failure").
(module
  (type $arr (array (mut i32)))
  (type $pair (struct (field i32) (field i64)))
  (func $id (param i32) (result i32) (local.get 0))
  (func (export "array") (param $n i32) (result i32)
    (local $x i32) (local $a (ref null $arr)) (local $i i32)
    (loop $l
      (local.set $x (i32.add (local.get $x) (i32.const 3)))
      (local.set $a (array.new_default $arr (i32.const 2)))
      (local.set $x (i32.add (local.get $x) (call $id (i32.const 1))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $x))
  (func (export "struct") (param $n i32) (result i64)
    (local $x i64) (local $s (ref null $pair)) (local $i i32)
    (loop $l
      (local.set $x (i64.add (local.get $x) (i64.const 5)))
      (local.set $s (struct.new $pair (local.get $i) (local.get $x)))
      (local.set $x (i64.add (local.get $x)
                             (i64.extend_i32_u (call $id (struct.get $pair 0 (local.get $s))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $x))
  ;; no loop: $a is pinned for its many uses; array.copy is a libcall that reloads it
  (func (export "copy") (param $v i32) (result i32)
    (local $a (ref null $arr))
    (local.set $a (array.new_default $arr (i32.const 3)))
    (array.copy $arr $arr (local.get $a) (i32.const 1)
                (array.new $arr (local.get $v) (i32.const 2)) (i32.const 0) (i32.const 2))
    (i32.add (i32.add (array.get $arr (local.get $a) (i32.const 0))
                      (array.get $arr (local.get $a) (i32.const 1)))
             (i32.add (array.get $arr (local.get $a) (i32.const 2))
                      (array.len (local.get $a)))))
)
;; 100,000 iterations: the bump region fills many times, so both paths of the allocation run
(assert_return (invoke "array" (i32.const 100000)) (i32.const 400000))
(assert_return (invoke "struct" (i32.const 100000)) (i64.const 5000450000))
(assert_return (invoke "copy" (i32.const 5)) (i32.const 13))
