;; Regression: a v128.const with too few lanes whose first literal was also out of range reported
;; "constant out of range"; the reference interpreter counts the lanes first (simd_const.wast:475).
(assert_malformed
  (module quote "(func (v128.const i32x4 0x10000000000000000 0x10000000000000000) drop)")
  "wrong number of lane literals")
(assert_malformed
  (module quote "(func (v128.const i32x4 0x100000000 1 2 3) drop)")
  "constant out of range")
