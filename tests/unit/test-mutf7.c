/*
 * Unit tests for storage/mutf7.c: the RFC 3501 5.1.3 example, round trips,
 * characters outside the BMP, and rejection of every non-canonical or
 * malformed spelling.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "../../storage/mutf7.h"

static void both_ways(const char *mutf7, const char *utf8)
{
	struct buf b = BUF_INIT(4096);

	assert_int_equal(mutf7_to_utf8(mutf7, strlen(mutf7), &b), MUTF7_OK);
	assert_string_equal(buf_cstr(&b), utf8);
	buf_reset(&b);
	assert_int_equal(mutf7_from_utf8(utf8, strlen(utf8), &b), MUTF7_OK);
	assert_string_equal(buf_cstr(&b), mutf7);
	assert_true(mutf7_is_valid(mutf7, strlen(mutf7)));
	buf_free(&b);
}

static void bad(const char *mutf7)
{
	struct buf b = BUF_INIT(4096);

	assert_true(buf_append_str(&b, "keep"));
	assert_int_equal(mutf7_to_utf8(mutf7, strlen(mutf7), &b), MUTF7_INVALID);
	/* A rejected name leaves the output alone. */
	assert_string_equal(buf_cstr(&b), "keep");
	assert_false(mutf7_is_valid(mutf7, strlen(mutf7)));
	buf_free(&b);
}

static void test_examples(void **state)
{
	(void)state;
	/* RFC 3501 5.1.3. */
	both_ways("~peter/mail/&U,BTFw-/&ZeVnLIqe-",
		  "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	both_ways("&ZeVnLIqe-", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	both_ways("", "");
	both_ways("INBOX", "INBOX");
	both_ways("Tom &- Jerry", "Tom & Jerry");
	both_ways("&-&-", "&&");
	both_ways("Envoy&AOk-s", "Envoy\xc3\xa9s");
	both_ways("&AOkA6QDp-", "\xc3\xa9\xc3\xa9\xc3\xa9");
	both_ways("&AOk-&-", "\xc3\xa9&");
	/* Outside the BMP: a surrogate pair (U+1F600). */
	both_ways("&2D3eAA-", "\xf0\x9f\x98\x80");
	/* Control characters are encoded, not sent raw. */
	both_ways("a&AAk-b", "a\tb");
	both_ways("&AH8-", "\x7f");
}

static void test_invalid(void **state)
{
	(void)state;
	bad("&");
	bad("&ZeVnLIqe");
	bad("&ZeVnLIqe");
	bad("caf\xc3\xa9");
	bad("tab\there");
	bad("&Jjo!-");
	bad("&U/BTFw-");
	/* Encoded printable ASCII ("a"), and NUL. */
	bad("&AGE-");
	bad("&AAA-");
	/* Non-zero pad bits, surplus characters. */
	bad("&AOl-");
	bad("&AOkA-");
	/* Two shifted sequences in a row. */
	bad("&AOk-&AOk-");
	/* Lone surrogates. */
	bad("&2D0-");
	bad("&3gA-");
	bad("&2D3YPQ-");
}

static void test_from_utf8(void **state)
{
	struct buf b = BUF_INIT(4096), small = BUF_INIT(4);

	(void)state;
	assert_true(buf_append_str(&b, "x"));
	assert_int_equal(mutf7_from_utf8("caf\xe9", 4, &b), MUTF7_INVALID);
	assert_int_equal(mutf7_from_utf8("\xc0\xaf", 2, &b), MUTF7_INVALID);
	assert_int_equal(mutf7_from_utf8("\xed\xa0\x80", 3, &b), MUTF7_INVALID);
	assert_int_equal(mutf7_from_utf8("a\0b", 3, &b), MUTF7_INVALID);
	assert_int_equal(mutf7_from_utf8("\xe6\x97", 2, &b), MUTF7_INVALID);
	assert_string_equal(buf_cstr(&b), "x");
	assert_int_equal(mutf7_from_utf8("\xe6\x97\xa5\xe6\x9c\xac", 6, &small), MUTF7_LIMIT);
	assert_int_equal(buf_len(&small), 0);
	assert_int_equal(mutf7_to_utf8("abcdef", 6, &small), MUTF7_LIMIT);
	buf_free(&b);
	buf_free(&small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_from_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
