/* tests/unit/decode/test_main.c -- runs the decoder and type-registry test groups (unit.decode). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tests.h"

int main(void) {
  int failed = 0;
  failed += _cmocka_run_group_tests("decode", decode_tests, decode_ntests, NULL, NULL);
  failed += _cmocka_run_group_tests("types", types_tests, types_ntests, NULL, NULL);
  return failed ? 1 : 0;
}
