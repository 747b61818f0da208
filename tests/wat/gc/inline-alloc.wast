;; tests/wat/gc/inline-alloc.wast -- inline bump allocation (x64_isel_gc.c + the gc heap's regions):
;; every field written by the fast path (i8/i16 packing, i64, f32, f64, refs), struct.new_default
;; reading zeros from cells that held garbage, small array.new_fixed, a linked list that survives
;; the collections of a 4M heap, and a struct still in the open allocation region recognised as a
;; heap object (extern.convert_any / any.convert_extern give it back as itself). (owner: gcalloc)
(module
  (type $m (struct (field $a (mut i8)) (field $b (mut i16)) (field $c (mut i32)) (field $d (mut i64))
                   (field $e (mut f32)) (field $f (mut f64)) (field $r (mut anyref))))
  (type $node (struct (field $v i32) (field $next (ref null $node))))
  (type $bytes (array (mut i8)))

  (func $mk (result (ref $m))
    (struct.new $m (i32.const -1) (i32.const 0x12345) (i32.const -3) (i64.const 0x123456789a)
                   (f32.const 1.5) (f64.const -2.25) (ref.i31 (i32.const 77))))
  (func (export "fields") (result i32 i32 i32 i64 f32 f64 i32)
    (local $x (ref null $m))
    (local.set $x (call $mk))
    (struct.get_u $m $a (local.get $x)) (struct.get_s $m $b (local.get $x))
    (struct.get $m $c (local.get $x)) (struct.get $m $d (local.get $x))
    (struct.get $m $e (local.get $x)) (struct.get $m $f (local.get $x))
    (i31.get_s (ref.cast (ref i31) (struct.get $m $r (local.get $x)))))

  ;; n dirty objects, then n defaults: every default reads zero (cells are reused after collections)
  (func (export "defaults-zero") (param $n i32) (result i32)
    (local $i i32) (local $bad i32) (local $x (ref null $m))
    (loop $l
      (drop (call $mk))
      (local.set $x (struct.new_default $m))
      (if (i32.or (i32.or (struct.get_u $m $a (local.get $x)) (struct.get_u $m $b (local.get $x)))
                  (i32.or (struct.get $m $c (local.get $x))
                          (i32.or (i32.wrap_i64 (struct.get $m $d (local.get $x)))
                                  (i32.eqz (ref.is_null (struct.get $m $r (local.get $x)))))))
        (then (local.set $bad (i32.add (local.get $bad) (i32.const 1)))))
      (if (f64.ne (struct.get $m $f (local.get $x)) (f64.const 0))
        (then (local.set $bad (i32.add (local.get $bad) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $bad))

  ;; a list of n nodes built among 40 garbage structs each; returns the sum of the values
  (func (export "list") (param $n i32) (result i64)
    (local $i i32) (local $j i32) (local $h (ref null $node)) (local $s i64)
    (loop $l
      (local.set $j (i32.const 0))
      (loop $g
        (drop (struct.new $node (local.get $j) (local.get $h)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $g (i32.lt_u (local.get $j) (i32.const 40))))
      (local.set $h (struct.new $node (local.get $i) (local.get $h)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (block $done
      (loop $w
        (br_if $done (ref.is_null (local.get $h)))
        (local.set $s (i64.add (local.get $s)
                               (i64.extend_i32_u (struct.get $node $v (local.get $h)))))
        (local.set $h (struct.get $node $next (local.get $h)))
        (br $w)))
    (local.get $s))

  (func (export "fixed") (result i32 i32 i32)
    (local $a (ref null $bytes))
    (local.set $a (array.new_fixed $bytes 3 (i32.const 0x101) (i32.const 2) (i32.const -1)))
    (array.len (local.get $a))
    (i32.add (array.get_u $bytes (local.get $a) (i32.const 0))
             (array.get_u $bytes (local.get $a) (i32.const 1)))
    (array.get_s $bytes (local.get $a) (i32.const 2)))

  ;; a struct just allocated inline crosses to extern and back as itself, not as a host box
  (func (export "roundtrip") (result i32)
    (local $x (ref null $node))
    (local.set $x (struct.new $node (i32.const 5) (ref.null $node)))
    (ref.eq (local.get $x)
            (ref.cast (ref null eq) (any.convert_extern (extern.convert_any (local.get $x))))))
)

(assert_return (invoke "fields") (i32.const 0xff) (i32.const 0x2345) (i32.const -3)
               (i64.const 0x123456789a) (f32.const 1.5) (f64.const -2.25) (i32.const 77))
(assert_return (invoke "defaults-zero" (i32.const 100000)) (i32.const 0))
(assert_return (invoke "list" (i32.const 20000)) (i64.const 199990000))
(assert_return (invoke "fixed") (i32.const 3) (i32.const 3) (i32.const -1))
(assert_return (invoke "roundtrip") (i32.const 1))
