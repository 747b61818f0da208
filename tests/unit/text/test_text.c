/* tests/unit/text/test_text.c -- cmocka unit tests of the text front end: lexer, number parsing
 * (floats especially), identifiers, the encoder and the script model.
 * Depends on: weft-text-obj (text/wat_int.h for the number parsers), cmocka.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "wat_int.h"

static void test_placeholder_encode(void **state) {
  (void)state;
  uint8_t *b = NULL;
  size_t n = 0;
  assert_int_equal(weft_wat_to_wasm("(module)", 8, "t", &b, &n, NULL), WEFT_OK);
  assert_int_equal(n, 8);
  weft_wat_free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_placeholder_encode)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
