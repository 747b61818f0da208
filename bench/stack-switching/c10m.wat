;; bench/stack-switching/c10m.wat -- n coroutines, 10,000 live at a time: each coroutine is
;; created, runs to its one suspension, waits in a ring of 10,000 slots, and is resumed to
;; completion when its slot comes round again. run(n) = sum of the ids (mod 2^32) the finished
;; coroutines returned. One op = one coroutine's life.
(module
  (type $f (func (param i32) (result i32)))
  (type $c (cont $f))
  (type $r (func (result i32)))
  (type $cr (cont $r))
  (tag $wait)
  (table $ring 10000 (ref null $cr))
  (func $co (param $id i32) (result i32)
    (suspend $wait)
    (local.get $id))
  (elem declare func $co)
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $slot i32) (local $acc i32) (local $k (ref null $cr))
    (loop $l
      (local.set $slot (i32.rem_u (local.get $i) (i32.const 10000)))
      (local.set $k (table.get $ring (local.get $slot)))
      (if (i32.eqz (ref.is_null (local.get $k)))
        (then
          (local.set $acc (i32.add (local.get $acc) (resume $cr (local.get $k))))))
      (block $on (result (ref $cr))
        (drop (resume $c (on $wait $on) (local.get $i) (cont.new $c (ref.func $co))))
        (unreachable))
      (local.set $k)
      (table.set $ring (local.get $slot) (local.get $k))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    ;; drain
    (local.set $slot (i32.const 0))
    (loop $d
      (local.set $k (table.get $ring (local.get $slot)))
      (if (i32.eqz (ref.is_null (local.get $k)))
        (then
          (local.set $acc (i32.add (local.get $acc) (resume $cr (local.get $k))))))
      (local.set $slot (i32.add (local.get $slot) (i32.const 1)))
      (br_if $d (i32.lt_u (local.get $slot) (i32.const 10000))))
    (local.get $acc)))
