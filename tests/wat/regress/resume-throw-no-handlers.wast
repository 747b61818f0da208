;; tests/wat/regress/resume-throw-no-handlers.wast -- resume_throw and resume_throw_ref without
;; handler clauses, in a module with no other handler list: x64-codegen computed the address of
;; clause 0 in the module's (absent) clause pool, NULL + 0, which is undefined behaviour; clang's
;; UBSan stopped on it (found by tests/fuzz/fuzz_compile.c on the spec suite's resume_throw.wast;
;; gcc's UBSan, the one CI runs, does not check that case). The traps and the exception are the
;; point here; the fuzz input is tests/fuzz/compile-regress/resume-throw-null-pool.wasm.
(module
  (type $f (func))
  (type $c (cont $f))
  (tag $e (param i32))
  (func $body)
  (elem declare func $body)
  (func (export "throw-null")
    (resume_throw $c $e (i32.const 1) (ref.null $c)))
  (func (export "throw-fresh")
    (resume_throw $c $e (i32.const 7) (cont.new $c (ref.func $body)))))
(assert_trap (invoke "throw-null") "null continuation reference")
(assert_exception (invoke "throw-fresh"))

(module
  (type $f (func))
  (type $c (cont $f))
  (tag $e (param i32))
  (func (export "throw-ref-null")
    (resume_throw_ref $c (ref.null exn) (ref.null $c))))
(assert_trap (invoke "throw-ref-null") "null exception reference")
