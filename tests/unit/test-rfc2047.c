/*
 * Unit tests for storage/rfc2047.c, with the examples of RFC 2047 section 8
 * and the malformed words seen in real mail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "../../storage/rfc2047.h"

static unsigned int check(const char *in, const char *expected)
{
	struct buf b = BUF_INIT(4096);
	unsigned int flags = 0;

	assert_true(rfc2047_decode((const uint8_t *)in, strlen(in), &b, &flags));
	assert_string_equal(buf_cstr(&b), expected);
	buf_free(&b);
	return flags;
}

static void test_rfc_examples(void **state)
{
	(void)state;
	/* RFC 2047 section 8. */
	check("=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>", "Keith Moore <moore@cs.utk.edu>");
	check("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>",
	      "Keld J\xc3\xb8rn Simonsen <keld@dkuug.dk>");
	check("=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>",
	      "Andr\xc3\xa9 Pirard <PIRARD@vm1.ulg.ac.be>");
	check("=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n"
	      " =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=",
	      "If you can read this you understand the example.");
	check("(=?ISO-8859-1?Q?a?=)", "(a)");
	check("(=?ISO-8859-1?Q?a?= b)", "(a b)");
	check("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", "(ab)");
	check("(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", "(ab)");
	check("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", "(ab)");
	check("(=?ISO-8859-1?Q?a_b?=)", "(a b)");
	check("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", "(a b)");
}

static void test_split_character(void **state)
{
	(void)state;
	/* "日本" with the UTF-8 bytes of one character split over two words. */
	check("=?UTF-8?B?5pel5pw=?= =?UTF-8?B?rA==?=", "\xe6\x97\xa5\xe6\x9c\xac");
	check("=?utf-8?q?caf=C3?= =?utf-8?q?=A9?=", "caf\xc3\xa9");
	/* Different charsets are converted separately. */
	check("=?iso-8859-1?q?=E9?= =?utf-8?q?=C3=A9?=", "\xc3\xa9\xc3\xa9");
}

static void test_malformed(void **state)
{
	unsigned int flags;

	(void)state;
	flags = check("=?utf-8?q?bad=ZZ?= x", "=?utf-8?q?bad=ZZ?= x");
	assert_true((flags & RFC2047_FLAG_MALFORMED) != 0);
	check("=?utf-8?x?abc?=", "=?utf-8?x?abc?=");
	check("=?utf-8?b?!!!?=", "=?utf-8?b?!!!?=");
	check("=?utf-8?q?unterminated", "=?utf-8?q?unterminated");
	check("=?\?q?a?=", "=?\?q?a?=");
	check("=?", "=?");
	check("=", "=");
	check("a=?b", "a=?b");
	/* A malformed word between good ones keeps its surrounding space. */
	check("=?utf-8?q?a?= =?utf-8?q?=G?= =?utf-8?q?b?=", "a =?utf-8?q?=G?= b");
	/* Words glued to text are still decoded, as mail readers do. */
	check("Re:=?utf-8?q?x?=", "Re:x");
	/* Unencoded spaces inside the text are tolerated. */
	check("=?utf-8?q?two words?=", "two words");
	/* The RFC 2231 language suffix is ignored. */
	check("=?US-ASCII*EN?Q?Keith_Moore?=", "Keith Moore");
	/* Lowercase encodings and missing base64 padding. */
	check("=?utf-8?b?w6k?=", "\xc3\xa9");
	check("=?utf-8?q?\?=", "");
}

static void test_charsets(void **state)
{
	unsigned int flags;

	(void)state;
	flags = check("=?x-unknown?q?abc?=", "abc");
	assert_true((flags & RFC2047_FLAG_UNKNOWN_CHARSET) != 0);
	flags = check("=?koi8-r?b?0NLJ18XU?=", "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
	assert_int_equal(flags, RFC2047_FLAG_DECODED);
	/* Invalid UTF-8 inside a word and raw 8-bit text are sanitized. */
	flags = check("=?utf-8?q?=FF?= caf\xe9", "\xef\xbf\xbd caf\xef\xbf\xbd");
	assert_true((flags & RFC2047_FLAG_INVALID_INPUT) != 0);
	check("plain caf\xc3\xa9", "plain caf\xc3\xa9");
}

static void test_limit(void **state)
{
	struct buf b = BUF_INIT(4);
	const char *in = "=?utf-8?q?abcdef?=";

	(void)state;
	assert_false(rfc2047_decode((const uint8_t *)in, strlen(in), &b, NULL));
	assert_true(buf_len(&b) <= 4);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_examples), cmocka_unit_test(test_split_character),
		cmocka_unit_test(test_malformed),    cmocka_unit_test(test_charsets),
		cmocka_unit_test(test_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
