;; Regression: the text parser used 0xffffffff as "no type use", so `(type 0xffffffff)` was taken
;; for an implicit type and the module validated (spec call_indirect.wast:1031).
(assert_invalid
  (module
    (table 1 funcref)
    (func (call_indirect (type 0xffffffff) (i32.const 0))))
  "unknown type")
(assert_invalid
  (module (func (type 0xffffffff)))
  "unknown type")
