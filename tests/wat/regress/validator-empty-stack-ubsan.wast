;; Regression (found by fuzz-decode under UBSan): the validator's fast path for simple instructions
;; computed `vals + nvals - 0` while its value stack was still unallocated (NULL + 0 is undefined
;; behaviour) for a function whose first instruction pops nothing, e.g. i32.const. It shows only in
;; a WEFT_SANITIZE build; there this script aborts without the fix.
(assert_invalid
  (module binary
    "\00asm" "\01\00\00\00"
    "\01\04\01\60\00\00"                  ;; type 0: [] -> []
    "\03\02\01\00"                        ;; func 0: type 0
    "\0a\12\01\10\00"                     ;; code: 1 body of 16 bytes, no locals
    "\41\80\7e\41\80\80\01\41\81\ff\3f"   ;; i32.const x3
    "\0a\00\00\0b")                       ;; throw_ref on an i32
  "type mismatch")
(module (func (result i32) (i32.const 1)))
