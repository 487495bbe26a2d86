/*
 * Unit tests for storage/message-util.c: locale-free case folding, LF and
 * bare-LF counting at range edges, and NUL-safe pool copies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pool.h"
#include "../../storage/message-util.h"

static void test_case(void **state)
{
	(void)state;
	assert_true(message_mem_caseeq("Content-Type", "CONTENT-type", 12));
	assert_false(message_mem_caseeq("a", "b", 1));
	/* Only ASCII letters fold: no locale surprises with 8-bit bytes. */
	assert_false(message_mem_caseeq("\xc9", "\xe9", 1));
	assert_false(message_mem_caseeq("[", "{", 1));
	assert_true(message_mem_caseeq_str("Subject", 7, "subject"));
	assert_false(message_mem_caseeq_str("Subject", 7, "subjects"));
	assert_int_equal(message_ascii_lower('Z'), 'z');
	assert_int_equal(message_ascii_lower('@'), '@');
}

static void test_count_lf(void **state)
{
	size_t lf, bare;

	(void)state;
	message_count_lf((const uint8_t *)"a\r\nb\nc\r\n\n", 9, &lf, &bare);
	assert_int_equal(lf, 4);
	assert_int_equal(bare, 2);
	/* An LF at the start of the range has no CR before it in the range. */
	message_count_lf((const uint8_t *)"\r\n" + 1, 1, &lf, &bare);
	assert_int_equal(lf, 1);
	assert_int_equal(bare, 1);
	message_count_lf((const uint8_t *)"", 0, &lf, &bare);
	assert_int_equal(lf, 0);
	assert_int_equal(bare, 0);
}

static void test_strndup(void **state)
{
	struct pool *pool = pool_create(4096);
	char *s;

	(void)state;
	s = message_p_strndup(pool, (const uint8_t *)"a\0b\0", 4);
	assert_string_equal(s, "a\xef\xbf\xbd"
			       "b\xef\xbf\xbd");
	s = message_p_strndup(pool, (const uint8_t *)"plain", 5);
	assert_string_equal(s, "plain");
	pool_destroy(&pool);
	pool = pool_create(8);
	assert_null(message_p_strndup(pool, (const uint8_t *)"0123456789abcdefXYZ", 19));
	pool_destroy(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_case),
		cmocka_unit_test(test_count_lf),
		cmocka_unit_test(test_strndup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
