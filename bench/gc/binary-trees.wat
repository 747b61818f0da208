;; bench/gc/binary-trees.wat -- the Benchmarks Game's binary-trees on the GC proposal's structs
;; (owner: gc). run(n) does a stretch tree of depth n + 1, keeps a long-lived tree of depth n, and
;; for depths 4, 6, .., n builds and checks 2^(n - d + 4) trees; returns the sum of every check
;; (an answer to compare across engines). Not a test: bench/gc/run.sh times it.
(module
  (type $t (struct (field $l (ref null $t)) (field $r (ref null $t))))

  (func $make (param $d i32) (result (ref $t))
    (if (result (ref $t)) (i32.eqz (local.get $d))
      (then (struct.new $t (ref.null $t) (ref.null $t)))
      (else (struct.new $t (call $make (i32.sub (local.get $d) (i32.const 1)))
                           (call $make (i32.sub (local.get $d) (i32.const 1)))))))

  (func $check (param $n (ref null $t)) (result i32)
    (local $l (ref null $t))
    (local.set $l (struct.get $t $l (local.get $n)))
    (if (result i32) (ref.is_null (local.get $l))
      (then (i32.const 1))
      (else (i32.add (i32.const 1)
              (i32.add (call $check (local.get $l))
                       (call $check (struct.get $t $r (local.get $n))))))))

  (func (export "run") (param $n i32) (result i64)
    (local $total i64) (local $long (ref null $t)) (local $d i32) (local $iters i32) (local $i i32)
    (local.set $total (i64.extend_i32_u (call $check (call $make (i32.add (local.get $n) (i32.const 1))))))
    (local.set $long (call $make (local.get $n)))
    (local.set $d (i32.const 4))
    (block $done
      (loop $depths
        (br_if $done (i32.gt_s (local.get $d) (local.get $n)))
        (local.set $iters (i32.shl (i32.const 1)
                                   (i32.add (i32.sub (local.get $n) (local.get $d)) (i32.const 4))))
        (local.set $i (i32.const 0))
        (loop $trees
          (local.set $total (i64.add (local.get $total)
                                     (i64.extend_i32_u (call $check (call $make (local.get $d))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $trees (i32.lt_u (local.get $i) (local.get $iters))))
        (local.set $d (i32.add (local.get $d) (i32.const 2)))
        (br $depths)))
    (i64.add (local.get $total) (i64.extend_i32_u (call $check (local.get $long)))))
)
