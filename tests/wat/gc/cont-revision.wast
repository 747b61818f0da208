;; tests/wat/gc/cont-revision.wast -- continuation references in GC struct fields and array
;; elements keep the whole 64-bit revision (16-byte fields, plugins/gc/gc_type.c): a reference
;; stored by struct.new / struct.set / array.new_fixed / array.new / array.set / array.fill /
;; array.copy, its continuation consumed, the object reused n times (as in
;; tests/wat/stack-switching/revision-wrap.wast: n = 32767 + 32768 k makes the low 16 bits of the
;; revision match again), then read back from the field and resumed: it must trap, never run the
;; new continuation. Also: fresh references resume from every kind of field; the fields around a
;; continuation field stay intact. Needs the gc plugin. Run by `weft wast`.

(module
  (type $f (func))
  (type $c (cont $f))
  (type $box (struct (field $pad i32) (field $k (mut (ref null $c))) (field $tail i64)))
  (type $arr (array (mut (ref null $c))))
  (type $abs (struct (field $a (mut contref)) (field $b i32) (field $z (mut nullcontref))))
  (global $ran (mut i32) (i32.const 0))

  (func $nop)
  (func $mark (global.set $ran (i32.add (global.get $ran) (i32.const 1))))
  (elem declare func $nop $mark)

  ;; n reuses of the continuation object on top of this thread's free list
  (func $reuse (param $n i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (resume $c (cont.new $c (ref.func $nop)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l))))

  ;; a GC object holding k, made by the instruction numbered `where`; $load reads it back
  (func $store (param $where i32) (param $k (ref null $c)) (result eqref)
    (local $a (ref null $arr))
    (local $b (ref null $box))
    (block $copy
      (block $fill
        (block $set
          (block $new
            (block $fixed
              (block $sset
                (block $snew
                  (br_table $snew $sset $fixed $new $set $fill $copy (local.get $where)))
                (return (struct.new $box (i32.const 7) (local.get $k) (i64.const 9))))
              (local.set $b (struct.new_default $box))
              (struct.set $box $k (local.get $b) (local.get $k))
              (return (local.get $b)))
            (return (array.new_fixed $arr 3 (ref.null $c) (local.get $k) (ref.null $c))))
          (return (array.new $arr (local.get $k) (i32.const 3))))
        (local.set $a (array.new_default $arr (i32.const 3)))
        (array.set $arr (local.get $a) (i32.const 1) (local.get $k))
        (return (local.get $a)))
      (local.set $a (array.new_default $arr (i32.const 3)))
      (array.fill $arr (local.get $a) (i32.const 1) (local.get $k) (i32.const 2))
      (return (local.get $a)))
    (local.set $a (array.new_default $arr (i32.const 3)))
    (array.copy $arr $arr (local.get $a) (i32.const 1)
                (array.new $arr (local.get $k) (i32.const 2)) (i32.const 0) (i32.const 2))
    (local.get $a))

  (func $load (param $h eqref) (result (ref null $c))
    (if (result (ref null $c)) (ref.test (ref $box) (local.get $h))
      (then (struct.get $box $k (ref.cast (ref $box) (local.get $h))))
      (else (array.get $arr (ref.cast (ref $arr) (local.get $h)) (i32.const 1)))))

  ;; a fresh reference read back from the field resumes
  (func (export "fresh") (param $where i32) (result i32)
    (global.set $ran (i32.const 0))
    (resume $c (call $load (call $store (local.get $where) (cont.new $c (ref.func $mark)))))
    (global.get $ran))

  ;; the stale reference read back after n reuses must trap
  (func (export "stale") (param $where i32) (param $n i32) (result i32)
    (local $k (ref null $c))
    (local $h eqref)
    (local.set $k (cont.new $c (ref.func $nop)))
    (local.set $h (call $store (local.get $where) (local.get $k)))
    (resume $c (local.get $k))
    (call $reuse (local.get $n))
    (global.set $ran (i32.const 0))
    (drop (cont.new $c (ref.func $mark)))
    (resume $c (call $load (local.get $h)))
    (global.get $ran))

  ;; the neighbours of a continuation field, and null in the other elements
  (func (export "box-fields") (result i64)
    (local $b (ref $box))
    (local.set $b (struct.new $box (i32.const 7) (cont.new $c (ref.func $nop)) (i64.const 9)))
    (struct.set $box $k (local.get $b) (ref.null $c))
    (i64.add (i64.extend_i32_u (struct.get $box $pad (local.get $b)))
             (struct.get $box $tail (local.get $b))))
  (func (export "array-others-null") (param $where i32) (result i32)
    (local $a (ref $arr))
    (local.set $a (ref.cast (ref $arr) (call $store (local.get $where)
                                                    (cont.new $c (ref.func $nop)))))
    (i32.add (i32.mul (array.len (local.get $a)) (i32.const 10))
             (ref.is_null (array.get $arr (local.get $a) (i32.const 0)))))
  (func (export "abstract") (result i32)
    (local $s (ref $abs))
    (local.set $s (struct.new $abs (cont.new $c (ref.func $nop)) (i32.const 5) (ref.null nocont)))
    (i32.add (i32.add (struct.get $abs $b (local.get $s))
                      (i32.mul (ref.is_null (struct.get $abs $a (local.get $s))) (i32.const 10)))
             (i32.mul (ref.is_null (struct.get $abs $z (local.get $s))) (i32.const 100))))
)

(assert_return (invoke "fresh" (i32.const 0)) (i32.const 1))
(assert_return (invoke "fresh" (i32.const 1)) (i32.const 1))
(assert_return (invoke "fresh" (i32.const 2)) (i32.const 1))
(assert_return (invoke "fresh" (i32.const 3)) (i32.const 1))
(assert_return (invoke "fresh" (i32.const 4)) (i32.const 1))
(assert_return (invoke "fresh" (i32.const 5)) (i32.const 1))
(assert_return (invoke "fresh" (i32.const 6)) (i32.const 1))

(assert_trap (invoke "stale" (i32.const 0) (i32.const 32767)) "continuation already consumed")
(assert_trap (invoke "stale" (i32.const 0) (i32.const 65535)) "continuation already consumed")
(assert_trap (invoke "stale" (i32.const 0) (i32.const 98303)) "continuation already consumed")
(assert_trap (invoke "stale" (i32.const 1) (i32.const 65535)) "continuation already consumed")
(assert_trap (invoke "stale" (i32.const 2) (i32.const 65535)) "continuation already consumed")
(assert_trap (invoke "stale" (i32.const 3) (i32.const 65535)) "continuation already consumed")
(assert_trap (invoke "stale" (i32.const 4) (i32.const 65535)) "continuation already consumed")
(assert_trap (invoke "stale" (i32.const 5) (i32.const 65535)) "continuation already consumed")
(assert_trap (invoke "stale" (i32.const 6) (i32.const 65535)) "continuation already consumed")
(assert_trap (invoke "stale" (i32.const 6) (i32.const 1)) "continuation already consumed")

(assert_return (invoke "box-fields") (i64.const 16))
(assert_return (invoke "array-others-null" (i32.const 2)) (i32.const 31))
(assert_return (invoke "array-others-null" (i32.const 4)) (i32.const 31))
(assert_return (invoke "array-others-null" (i32.const 5)) (i32.const 31))
(assert_return (invoke "array-others-null" (i32.const 6)) (i32.const 31))
(assert_return (invoke "abstract") (i32.const 105))
(assert_return (invoke "fresh" (i32.const 3)) (i32.const 1))
