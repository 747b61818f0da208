/* tests/unit/decode/tests.h -- the test tables of the decoder test executable (test_main.c runs them). */
#ifndef TEST_DECODE_TESTS_H
#define TEST_DECODE_TESTS_H
#include <stddef.h>
struct CMUnitTest;
extern const struct CMUnitTest decode_tests[];
extern const size_t decode_ntests;
extern const struct CMUnitTest types_tests[];
extern const size_t types_ntests;
#endif
