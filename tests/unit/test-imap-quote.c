/*
 * Unit tests for storage/imap-quote.c: when a value becomes NIL, an atom, a
 * quoted string or a literal, and that no byte can escape its string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "../../storage/imap-quote.h"

static void check_string(const char *in, size_t len, unsigned int flags, const char *expected)
{
	struct buf b = BUF_INIT(4096);

	assert_true(imap_write_string(&b, (const uint8_t *)in, len, flags));
	assert_int_equal(buf_len(&b), strlen(expected));
	assert_memory_equal(buf_data(&b), expected, strlen(expected));
	buf_free(&b);
}

static void check_astring(const char *in, const char *expected)
{
	struct buf b = BUF_INIT(4096);

	assert_true(imap_write_astring(&b, (const uint8_t *)in, strlen(in), 0));
	assert_string_equal(buf_cstr(&b), expected);
	buf_free(&b);
}

static void test_strings(void **state)
{
	struct buf b = BUF_INIT(64);

	(void)state;
	check_string("plain text", 10, 0, "\"plain text\"");
	check_string("", 0, 0, "\"\"");
	check_string("a\"b\\c", 5, 0, "\"a\\\"b\\\\c\"");
	check_string("tab\there", 8, 0, "\"tab\there\"");
	/* CR, LF and 8-bit bytes need a literal. */
	check_string("two\r\nlines", 10, 0, "{10}\r\ntwo\r\nlines");
	check_string("x\ny", 3, 0, "{3}\r\nx\ny");
	check_string("caf\xc3\xa9", 5, 0, "{5}\r\ncaf\xc3\xa9");
	/* With UTF8=ACCEPT valid UTF-8 may be quoted, invalid may not. */
	check_string("caf\xc3\xa9", 5, IMAP_QUOTE_FLAG_UTF8, "\"caf\xc3\xa9\"");
	check_string("caf\xe9", 4, IMAP_QUOTE_FLAG_UTF8, "{4}\r\ncaf\xe9");
	/* NUL is not allowed in any IMAP string: U+FFFD, and the literal's
	   length counts it. */
	check_string("a\0b", 3, 0,
		     "{5}\r\na\xef\xbf\xbd"
		     "b");
	check_string("a\0\"", 3, IMAP_QUOTE_FLAG_UTF8, "\"a\xef\xbf\xbd\\\"\"");

	assert_true(imap_write_nstring(&b, NULL, 0));
	assert_true(imap_write_nstring(&b, "NIL", 0));
	assert_string_equal(buf_cstr(&b), "NIL\"NIL\"");
	buf_free(&b);
}

static void test_astrings(void **state)
{
	(void)state;
	check_astring("INBOX", "INBOX");
	check_astring("a]b", "a]b");
	check_astring("", "\"\"");
	check_astring("nil", "\"nil\"");
	check_astring("two words", "\"two words\"");
	check_astring("a(b", "\"a(b\"");
	check_astring("a{b", "\"a{b\"");
	check_astring("50%", "\"50%\"");
	check_astring("a*", "\"a*\"");
	check_astring("\xc3\xa9", "{2}\r\n\xc3\xa9");
	assert_true(imap_is_atom_char('a'));
	assert_false(imap_is_atom_char(']'));
	assert_false(imap_is_atom_char(0x7f));
}

static void test_limit(void **state)
{
	struct buf b = BUF_INIT(5);

	(void)state;
	assert_false(imap_write_string(&b, (const uint8_t *)"abcdef", 6, 0));
	assert_true(buf_len(&b) <= 5);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_astrings),
		cmocka_unit_test(test_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
