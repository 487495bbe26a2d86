/*
 * Unit tests for storage/charset.c: the built-in converters, UTF-8
 * validation with replacement, iconv fallback and clean failure for unknown
 * or hostile charset names, and output limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "../../storage/charset.h"

#define IN(s) (const uint8_t *)(s), sizeof(s) - 1

static void assert_conv(const char *cs, const uint8_t *in, size_t len, enum charset_result ret,
			const char *expected)
{
	struct buf b = BUF_INIT(4096);

	assert_int_equal(charset_to_utf8(cs, in, len, &b), ret);
	assert_int_equal(buf_len(&b), strlen(expected));
	assert_memory_equal(buf_data(&b), expected, strlen(expected));
	buf_free(&b);
}

static void test_builtin(void **state)
{
	(void)state;
	assert_conv("us-ascii", IN("plain"), CHARSET_RESULT_OK, "plain");
	assert_conv("ISO-8859-1", IN("caf\xe9 \xa4"), CHARSET_RESULT_OK, "caf\xc3\xa9 \xc2\xa4");
	/* Latin-1 is read as its windows-1252 superset. */
	assert_conv("latin1", IN("\x93quoted\x94"), CHARSET_RESULT_OK,
		    "\xe2\x80\x9cquoted\xe2\x80\x9d");
	assert_conv("iso-8859-15", IN("\xa4\xbd\xbe\xe9"), CHARSET_RESULT_OK,
		    "\xe2\x82\xac\xc5\x93\xc5\xb8\xc3\xa9");
	assert_conv("Windows-1252", IN("\x80\x81\x9f"), CHARSET_RESULT_OK,
		    "\xe2\x82\xac\xc2\x81\xc5\xb8");
	assert_conv(" \"UTF-8\" ", IN("\xe6\x97\xa5"), CHARSET_RESULT_OK, "\xe6\x97\xa5");
	assert_true(charset_is_builtin("CP1252"));
	assert_false(charset_is_builtin("koi8-r"));
}

static void test_utf8_invalid(void **state)
{
	(void)state;
	/* Overlong, surrogate, past U+10FFFF, truncated, lone continuation. */
	assert_conv("utf-8", IN("a\xc0\xafz"), CHARSET_RESULT_INVALID_INPUT,
		    "a\xef\xbf\xbd\xef\xbf\xbdz");
	assert_conv("utf-8", IN("\xed\xa0\x80"), CHARSET_RESULT_INVALID_INPUT,
		    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_conv("utf-8", IN("\xf4\x90\x80\x80"), CHARSET_RESULT_INVALID_INPUT,
		    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	assert_conv("utf-8", IN("x\xe6\x97"), CHARSET_RESULT_INVALID_INPUT, "x\xef\xbf\xbd");
	assert_conv("us-ascii", IN("\x80"), CHARSET_RESULT_INVALID_INPUT, "\xef\xbf\xbd");
	assert_conv("utf-8", IN("\xf0\x9f\x98\x80"), CHARSET_RESULT_OK, "\xf0\x9f\x98\x80");
	assert_true(charset_utf8_is_valid(IN("\xc3\xa9\xf0\x9f\x98\x80")));
	assert_false(charset_utf8_is_valid(IN("\xc3")));
	assert_false(charset_utf8_is_valid(IN("\xe0\x80\x80")));
}

static void test_iconv(void **state)
{
	(void)state;
	/* KOI8-R "привет" and ISO-2022-JP (stateful) for "日本". */
	assert_conv("koi8-r", IN("\xd0\xd2\xc9\xd7\xc5\xd4"), CHARSET_RESULT_OK,
		    "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
	assert_conv("ISO-2022-JP", IN("\x1b$BF|K\\\x1b(B"), CHARSET_RESULT_OK,
		    "\xe6\x97\xa5\xe6\x9c\xac");
	/* Left in the JIS shift state: the next use must start from ASCII. */
	assert_conv("iso-2022-jp", IN("\x1b$BF|K\\"), CHARSET_RESULT_OK,
		    "\xe6\x97\xa5\xe6\x9c\xac");
	assert_conv("iso-2022-jp", IN("ab"), CHARSET_RESULT_OK, "ab");
	assert_conv("shift_jis", IN("\x93\xfa\x96\x7b"), CHARSET_RESULT_OK,
		    "\xe6\x97\xa5\xe6\x9c\xac");
	assert_conv("gb2312", IN("\xd6\xd0\xce\xc4"), CHARSET_RESULT_OK,
		    "\xe4\xb8\xad\xe6\x96\x87");
	assert_true(charset_preload() > 0);
}

static void test_iconv_invalid_output(void **state)
{
	struct buf b = BUF_INIT(4096);

	(void)state;
	/* glibc passes UCS-4 values past U+10FFFF and surrogates through as
	   invalid UTF-8; the converter must repair them (found by fuzzing). */
	assert_int_equal(charset_to_utf8("ucs-4", IN("\x67\x6c\x65\x64\x00\x00\x00\x41"), &b),
			 CHARSET_RESULT_INVALID_INPUT);
	assert_true(charset_utf8_is_valid(buf_data(&b), buf_len(&b)));
	assert_true(buf_len(&b) > 0 && buf_data(&b)[buf_len(&b) - 1] == 'A');
	buf_reset(&b);
	assert_int_equal(charset_to_utf8("ucs-4", IN("\x00\x00\xd8\x00"), &b),
			 CHARSET_RESULT_INVALID_INPUT);
	assert_true(charset_utf8_is_valid(buf_data(&b), buf_len(&b)));
	buf_free(&b);
}

static void test_unknown(void **state)
{
	(void)state;
	assert_conv("x-no-such-charset", IN("abc"), CHARSET_RESULT_UNKNOWN, "");
	/* Names iconv would read specially, or that cannot be charsets. */
	assert_conv("utf-8//TRANSLIT", IN("abc"), CHARSET_RESULT_UNKNOWN, "");
	assert_conv("../../etc/passwd", IN("abc"), CHARSET_RESULT_UNKNOWN, "");
	assert_conv("", IN("abc"), CHARSET_RESULT_UNKNOWN, "");
	assert_conv(NULL, IN("abc"), CHARSET_RESULT_UNKNOWN, "");
	assert_conv("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		    IN("abc"), CHARSET_RESULT_UNKNOWN, "");
	assert_false(charset_is_known("unknown-8bit"));
	assert_true(charset_is_known("koi8-u"));

	/* With iconv off, only the built-in charsets remain. */
	charset_set_iconv_enabled(false);
	assert_conv("koi8-r", IN("abc"), CHARSET_RESULT_UNKNOWN, "");
	assert_conv("utf-8", IN("abc"), CHARSET_RESULT_OK, "abc");
	charset_set_iconv_enabled(true);
}

static void test_limit(void **state)
{
	struct buf b = BUF_INIT(5);

	(void)state;
	/* Cut on a character boundary, never in the middle of one. */
	assert_int_equal(charset_to_utf8("utf-8", IN("abc\xc3\xa9\xc3\xa9"), &b),
			 CHARSET_RESULT_LIMIT);
	assert_true(buf_len(&b) <= 5);
	assert_true(charset_utf8_is_valid(buf_data(&b), buf_len(&b)));
	buf_reset(&b);
	assert_int_equal(charset_to_utf8("latin1", IN("\xe9\xe9\xe9"), &b), CHARSET_RESULT_LIMIT);
	assert_true(charset_utf8_is_valid(buf_data(&b), buf_len(&b)));
	buf_reset(&b);
	assert_int_equal(charset_to_utf8("koi8-r", IN("\xd0\xd2\xc9\xd7\xc5\xd4"), &b),
			 CHARSET_RESULT_LIMIT);
	assert_true(charset_utf8_is_valid(buf_data(&b), buf_len(&b)));
	buf_free(&b);
	charset_deinit();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin), cmocka_unit_test(test_utf8_invalid),
		cmocka_unit_test(test_iconv),	cmocka_unit_test(test_iconv_invalid_output),
		cmocka_unit_test(test_unknown), cmocka_unit_test(test_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
