;; tests/wat/backtrace/cont-e2e.wat -- traps inside continuations for the end-to-end backtrace
;; tests (wat.backtrace_e2e_*, tests/wat/backtrace/CMakeLists.txt): read by weft's own text front
;; end (wabt cannot parse stack switching), run with `weft run --invoke <export>`, whose stderr
;; must list exactly these functions and stack boundaries. Every function has its own name so a
;; missing, duplicated or misplaced frame changes the list. Needs validator, x64-codegen,
;; contstacks and backtrace.
(module $e2e
  (type $fv (func))
  (type $cv (cont $fv))
  (type $fi (func (param i32) (result i32)))
  (type $ci (cont $fi))
  (type $fk (func (param (ref null $cv))))
  (type $ck (cont $fk))
  (type $fr (func (result i32)))
  (type $cr (cont $fr))
  (type $fx (func (param (ref $cr)) (result i32)))
  (type $cx (cont $fx))
  (tag $t)            ;; suspended by the innermost code, handled only by the outermost handler
  (tag $u)            ;; handled by the middle handler, never suspended
  (tag $y)            ;; a generator's yield
  (tag $sw)           ;; switch
  (global $g (mut i32) (i32.const 0))
  (table $parked 1 (ref null $cv))

  ;; -- Nested: main -> resume a -> a resumes b -> b traps ----------------------------------
  (func $nest_b (param $x i32) (result i32)
    (i32.div_u (i32.const 1) (local.get $x)))
  (func $nest_a (param $x i32) (result i32)
    (i32.add (i32.const 1)
      (resume $ci (local.get $x) (cont.new $ci (ref.func $nest_b)))))
  (func $nest_main (export "nested") (param $x i32) (result i32)
    (i32.add (i32.const 2)
      (resume $ci (local.get $x) (cont.new $ci (ref.func $nest_a)))))

  ;; -- Three deep: main -> resume a -> a resumes b -> b resumes c -> c traps ----------------
  (func $deep_trap (param $x i32) (result i32)
    (if (result i32) (i32.eqz (local.get $x))
      (then (unreachable))
      (else (local.get $x))))
  (func $deep_c (param $x i32) (result i32)
    (i32.add (i32.const 1) (call $deep_trap (local.get $x))))
  (func $deep_b (param $x i32) (result i32)
    (i32.add (i32.const 1)
      (resume $ci (local.get $x) (cont.new $ci (ref.func $deep_c)))))
  (func $deep_a (param $x i32) (result i32)
    (i32.add (i32.const 1)
      (resume $ci (local.get $x) (cont.new $ci (ref.func $deep_b)))))
  (func $deep_main (export "deep") (param $x i32) (result i32)
    (i32.add (i32.const 1)
      (resume $ci (local.get $x) (cont.new $ci (ref.func $deep_a)))))

  ;; -- Forwarded: leaf suspends $t through mid's handler (only $u) to fwd_main's; ------------
  ;; fwd_main resumes the whole chain again from fwd_again, and the leaf traps.
  (func $fwd_leaf
    (suspend $t)
    (global.set $g (i32.div_s (i32.const 1) (global.get $g))))
  (func $fwd_mid
    (block $h (result (ref $cv))
      (resume $cv (on $u $h) (cont.new $cv (ref.func $fwd_leaf)))
      (return))
    (drop))
  (func $fwd_again (param $k (ref $cv))
    (resume $cv (local.get $k)))
  (func $fwd_main (export "forward") (param $x i32) (result i32)
    (global.set $g (local.get $x))
    (block $h (result (ref $cv))
      (resume $cv (on $t $h) (cont.new $cv (ref.func $fwd_mid)))
      (return (i32.const -1)))
    (call $fwd_again)
    (global.get $g))

  ;; -- Switch: sw_a switches to a fresh sw_b, which traps; sw_a is suspended -----------------
  (func $sw_boom (param $x i32)
    (global.set $g (i32.div_u (i32.const 1) (local.get $x))))
  (func $sw_b (param $k (ref null $cv))
    (table.set $parked (i32.const 0) (local.get $k))
    (call $sw_boom (global.get $g)))
  (func $sw_a
    (switch $ck $sw (cont.new $ck (ref.func $sw_b))))
  (func $sw_main (export "switch") (param $x i32) (result i32)
    (global.set $g (local.get $x))
    (resume $cv (on $sw switch) (cont.new $cv (ref.func $sw_a)))
    (global.get $g))

  ;; -- Resumed again: gen yields, gen_main takes it back and resumes it from gen_again -------
  (func $gen_step (param $x i32) (result i32)
    (i32.div_s (i32.const 100) (local.get $x)))
  (func $gen (param $x i32) (result i32)
    (suspend $y)
    (suspend $y)
    (call $gen_step (i32.sub (local.get $x) (i32.const 1))))
  (func $gen_again (param $k (ref $cr)) (result i32)
    (block $h (result (ref $cr))
      (return (resume $cr (on $y $h) (local.get $k))))
    (call $gen_again))
  (func $gen_main (export "again") (param $x i32) (result i32)
    (block $h (result (ref $cr))
      (return (resume $ci (on $y $h) (local.get $x) (cont.new $ci (ref.func $gen)))))
    (call $gen_again))

  ;; -- Switch back: sw2_a switches to sw2_b, which parks sw2_a and returns; sw2_again resumes ---
  ;; the parked sw2_a, whose switch returns, and it traps.
  (func $sw2_boom (param $x i32)
    (global.set $g (i32.div_u (i32.const 1) (local.get $x))))
  (func $sw2_b (param $k (ref null $cv))
    (table.set $parked (i32.const 0) (local.get $k)))
  (func $sw2_a
    (switch $ck $sw (cont.new $ck (ref.func $sw2_b)))
    (call $sw2_boom (global.get $g)))
  (func $sw2_again
    (resume $cv (on $sw switch) (table.get $parked (i32.const 0))))
  (func $sw2_main (export "switch-back") (param $x i32) (result i32)
    (global.set $g (local.get $x))
    (resume $cv (on $sw switch) (cont.new $cv (ref.func $sw2_a)))
    (call $sw2_again)
    (global.get $g))

  ;; -- Switch below a resume: nsw_main -> resume nsw_a -> nsw_a resumes nsw_b, which ---------
  ;; switches to nsw_c; nsw_c traps on nsw_b's place under nsw_a.
  (func $nsw_c (param $k (ref null $cv))
    (table.set $parked (i32.const 0) (local.get $k))
    (global.set $g (i32.div_u (i32.const 1) (global.get $g))))
  (func $nsw_b
    (switch $ck $sw (cont.new $ck (ref.func $nsw_c))))
  (func $nsw_a
    (resume $cv (on $sw switch) (cont.new $cv (ref.func $nsw_b))))
  (func $nsw_main (export "nested-switch") (param $x i32) (result i32)
    (global.set $g (local.get $x))
    (resume $cv (cont.new $cv (ref.func $nsw_a)))
    (global.get $g))

  ;; -- After the stacks are gone: a continuation returned (or is left suspended), then its ----
  ;; resumer traps on the initial stack; no continuation frame may show.
  (func $done_child (param $x i32) (result i32) (i32.add (local.get $x) (i32.const 1)))
  (func $done_boom (param $x i32) (result i32) (i32.div_s (i32.const 1) (local.get $x)))
  (func $done_main (export "after-return") (param $x i32) (result i32)
    (call $done_boom
      (i32.sub (resume $ci (local.get $x) (cont.new $ci (ref.func $done_child))) (i32.const 1))))
  (func $susp_child (param $x i32) (result i32) (suspend $y) (local.get $x))
  (func $susp_boom (param $x i32) (result i32) (i32.div_s (i32.const 1) (local.get $x)))
  (func $susp_main (export "after-suspend") (param $x i32) (result i32)
    (block $h (result (ref $cr))
      (return (resume $ci (on $y $h) (local.get $x) (cont.new $ci (ref.func $susp_child)))))
    (drop)
    (call $susp_boom (local.get $x)))

  ;; -- Traps raised in C on a continuation stack: memory.fill out of bounds, a consumed -------
  ;; continuation resumed again, a tag nobody handles.
  (memory 1)
  (func $c_fill (param $x i32)
    (memory.fill (local.get $x) (i32.const 0) (i32.const 16)))
  (func $c_fill_cont (param $x i32) (result i32)
    (call $c_fill (local.get $x)) (i32.const 7))
  (func $c_fill_main (export "fill") (param $x i32) (result i32)
    (resume $ci (local.get $x) (cont.new $ci (ref.func $c_fill_cont))))
  (func $c_stale_cont (param $x i32) (result i32)
    (local $k (ref null $ci))
    (local.set $k (cont.new $ci (ref.func $done_child)))
    (drop (resume $ci (local.get $x) (local.get $k)))
    (resume $ci (local.get $x) (local.get $k)))
  (func $c_stale_main (export "stale") (param $x i32) (result i32)
    (resume $ci (local.get $x) (cont.new $ci (ref.func $c_stale_cont))))
  (func $c_unh_inner (param $x i32) (result i32) (suspend $u) (local.get $x))
  (func $c_unh_cont (param $x i32) (result i32)
    (block $h (result (ref $cr))
      (return (resume $ci (on $y $h) (local.get $x) (cont.new $ci (ref.func $c_unh_inner)))))
    (drop) (i32.const 0))
  (func $c_unh_main (export "unhandled") (param $x i32) (result i32)
    (resume $ci (local.get $x) (cont.new $ci (ref.func $c_unh_cont))))

  ;; -- Handed over: ho_main starts ho_leaf, which yields; ho_main hands the suspended -------
  ;; continuation to a new one, ho_x, which resumes it; ho_leaf traps under ho_x.
  (func $ho_leaf (param $x i32) (result i32)
    (suspend $y)
    (i32.div_u (i32.const 1) (local.get $x)))
  (func $ho_x (param $k (ref $cr)) (result i32)
    (block $h (result (ref $cr))
      (return (i32.add (i32.const 1) (resume $cr (on $y $h) (local.get $k)))))
    (drop) (i32.const -1))
  (func $ho_main (export "handover") (param $x i32) (result i32)
    (local $k (ref null $cr))
    (block $h (result (ref $cr))
      (return (resume $ci (on $y $h) (local.get $x) (cont.new $ci (ref.func $ho_leaf)))))
    (local.set $k)
    (resume $cx (ref.as_non_null (local.get $k)) (cont.new $cx (ref.func $ho_x))))

  ;; -- Overflow: unbounded recursion on a continuation's stack ------------------------------
  (func $ov_rec (param $n i32) (result i32)
    (i32.add (i32.const 1) (call $ov_rec (i32.add (local.get $n) (i32.const 1)))))
  (func $ov_cont (param $n i32) (result i32) (call $ov_rec (local.get $n)))
  (func $ov_main (export "overflow") (param $n i32) (result i32)
    (resume $ci (local.get $n) (cont.new $ci (ref.func $ov_cont))))

  ;; -- Parked: a chain suspended through a handler of another tag, handed to the host -------
  ;; (test_bt_e2e_api.c walks it with walk_frames' suspended mode, then "unpark" finishes it).
  (func $park_inner (suspend $t))
  (func $park_leaf (call $park_inner) (global.set $g (i32.add (global.get $g) (i32.const 1))))
  (func $park_mid
    (block $h (result (ref $cv))
      (resume $cv (on $u $h) (cont.new $cv (ref.func $park_leaf)))
      (return))
    (drop))
  (func $park_main (export "park") (result (ref null $cv))
    (block $h (result (ref $cv))
      (resume $cv (on $t $h) (cont.new $cv (ref.func $park_mid)))
      (return (ref.null $cv))))
  (func $unpark (export "unpark") (param $k (ref null $cv)) (result i32)
    (global.set $g (i32.const 41))
    (resume $cv (local.get $k))
    (global.get $g))

  (elem declare func $nest_a $nest_b $deep_a $deep_b $deep_c $fwd_mid $fwd_leaf $sw_a $sw_b $gen
    $sw2_a $sw2_b $nsw_a $nsw_b $nsw_c $done_child $susp_child $c_fill_cont $c_stale_cont
    $c_unh_cont $c_unh_inner $ho_leaf $ho_x $ov_cont
    $park_leaf $park_mid)
)
