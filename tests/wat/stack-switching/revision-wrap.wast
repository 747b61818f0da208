;; tests/wat/stack-switching/revision-wrap.wast -- one-shot checks must compare the whole 64-bit
;; revision (docs/STACK-SWITCHING.md): a reference captured at the start and consumed, then the
;; same continuation object reused 65,536 times (cont.new + resume to return; contstacks recycles a
;; returned contref onto a LIFO free list, so the next cont.new on this thread gets it back), then
;; one more cont.new, and the stale reference resumed: it must trap, never run the new one.
;; Each reuse moves the revision by 2 (consume, recycle), so with n loop reuses the final cont.new
;; hands the object out at revision r0 + 2n + 2: for n = 32767 + 32768 k its low 16 bits equal the
;; stale reference's (r0) again -- those n are the ones a 16-bit check gets wrong. Run by `weft wast`.

(module
  (type $f (func))
  (type $c (cont $f))
  (type $fi (func (param i32) (result i32)))
  (type $ci (cont $fi))
  (global $stale (mut (ref null $c)) (ref.null $c))
  (global $ran (mut i32) (i32.const 0))

  (func $nop)
  (func $mark (global.set $ran (i32.add (global.get $ran) (i32.const 1))))
  (func $twice (param i32) (result i32)
    (global.set $ran (i32.const 2))
    (i32.add (local.get 0) (local.get 0)))
  (elem declare func $nop $mark $twice)

  ;; capture, consume, reuse n times, make one more (same type), resume the stale reference
  (func (export "stale-after") (param $n i32) (result i32)
    (global.set $stale (cont.new $c (ref.func $nop)))
    (resume $c (global.get $stale))
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (resume $c (cont.new $c (ref.func $nop)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (global.set $ran (i32.const 0))
    (drop (cont.new $c (ref.func $mark)))
    (resume $c (global.get $stale))
    (global.get $ran))

  ;; the same with a continuation of another type waiting in the recycled object: a stale
  ;; reference of type $c must not run a $ci body
  (func (export "stale-other-type") (param $n i32) (result i32)
    (local $fresh (ref null $ci))
    (global.set $stale (cont.new $c (ref.func $nop)))
    (resume $c (global.get $stale))
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (resume $c (cont.new $c (ref.func $nop)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (global.set $ran (i32.const 0))
    (local.set $fresh (cont.new $ci (ref.func $twice)))
    (resume $c (global.get $stale))
    (global.get $ran))

  ;; the fresh one is still intact after the stale attempt trapped
  (func (export "fresh-ok") (result i32)
    (resume $ci (i32.const 21) (cont.new $ci (ref.func $twice))))
)

(assert_trap (invoke "stale-other-type" (i32.const 98303)) "continuation already consumed")
(assert_trap (invoke "stale-after" (i32.const 1)) "continuation already consumed")
(assert_trap (invoke "stale-after" (i32.const 32767)) "continuation already consumed")
(assert_trap (invoke "stale-after" (i32.const 65535)) "continuation already consumed")
(assert_trap (invoke "stale-after" (i32.const 65536)) "continuation already consumed")
(assert_trap (invoke "stale-after" (i32.const 98303)) "continuation already consumed")
(assert_trap (invoke "stale-after" (i32.const 131071)) "continuation already consumed")
(assert_return (invoke "fresh-ok") (i32.const 42))
