/*
 * Unit tests for storage/message-content.c: Content-Type and
 * Content-Disposition parsing with comments and quoting, RFC 2231 examples
 * (continuations, charsets, languages), decoded parameter values and
 * Content-Language lists.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "pool.h"
#include "../../storage/message-content.h"

static struct pool *pool;

static int setup(void **state)
{
	(void)state;
	pool = pool_create(1 << 20);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pool_destroy(&pool);
	return 0;
}

static void parse(const char *value, bool subtype, struct message_content *c)
{
	assert_true(message_content_parse(pool, (const uint8_t *)value, strlen(value), subtype, c));
}

static void test_content_type(void **state)
{
	struct message_content c;

	(void)state;
	/* RFC 2045 5.1: these are equivalent. */
	parse("text/plain; charset=us-ascii (Plain text)", true, &c);
	assert_false(c.invalid);
	assert_string_equal(c.type, "text");
	assert_string_equal(c.subtype, "plain");
	assert_int_equal(c.params_count, 1);
	assert_string_equal(c.params[0].name, "charset");
	assert_string_equal(c.params[0].value, "us-ascii");
	parse("text/plain; charset=\"us-ascii\"", true, &c);
	assert_string_equal(c.params[0].value, "us-ascii");

	parse(" (c) TEXT / HTML ; CHARSET = \"iso-8859-1\"; Format=flowed;", true, &c);
	assert_string_equal(c.type, "TEXT");
	assert_string_equal(c.subtype, "HTML");
	assert_int_equal(c.params_count, 2);
	assert_string_equal(message_param_get(c.params, c.params_count, "charset"), "iso-8859-1");
	assert_string_equal(message_param_get(c.params, c.params_count, "FORMAT"), "flowed");

	parse("multipart/mixed; boundary=----=_NextPart_000_0001_01C3=?x?=", true, &c);
	assert_string_equal(c.params[0].value, "----=_NextPart_000_0001_01C3=?x?=");
	parse("text/plain; name=\"a \\\"q\\\" b\"; x=; charset; y=z", true, &c);
	assert_int_equal(c.params_count, 3);
	assert_string_equal(c.params[0].value, "a \"q\" b");
	assert_string_equal(c.params[1].value, "");
	assert_string_equal(c.params[2].name, "y");

	parse("text", true, &c);
	assert_true(c.invalid);
	parse("text/", true, &c);
	assert_true(c.invalid);
	parse("", true, &c);
	assert_true(c.invalid);
	parse("te xt/plain", true, &c);
	assert_true(c.invalid);
	parse("attachment; filename=a b", false, &c);
	assert_false(c.invalid);
	assert_string_equal(c.type, "attachment");
	assert_null(c.subtype);
	assert_string_equal(c.params[0].value, "a");
	parse("text/plain; name=\"unterminated", true, &c);
	assert_string_equal(c.params[0].value, "unterminated");
}

static void test_rfc2231(void **state)
{
	struct message_content c;

	(void)state;
	/* RFC 2231 section 3. */
	parse("message/external-body; access-type=URL;\r\n"
	      " URL*0=\"ftp://\";\r\n URL*1=\"cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar\"",
	      true, &c);
	assert_int_equal(c.params_count, 2);
	assert_string_equal(c.params[1].name, "URL");
	assert_string_equal(c.params[1].value,
			    "ftp://cs.utk.edu/pub/moore/bulk-mailer/bulk-mailer.tar");
	/* Section 4. */
	parse("application/x-stuff; title*=us-ascii'en-us'This%20is%20%2A%2A%2Afun%2A%2A%2A", true,
	      &c);
	assert_string_equal(c.params[0].name, "title*");
	assert_string_equal(message_param_get_utf8(pool, c.params, c.params_count, "title"),
			    "This is ***fun***");
	/* Section 4.1, sections out of order. */
	parse("application/x-stuff; title*2=\"isn't it!\"; "
	      "title*1*=%2A%2A%2Afun%2A%2A%2A%20; title*0*=us-ascii'en'This%20is%20even%20more%20",
	      true, &c);
	assert_int_equal(c.params_count, 1);
	assert_string_equal(c.params[0].name, "title*");
	assert_string_equal(c.params[0].value, "us-ascii'en'This%20is%20even%20more%20"
					       "%2A%2A%2Afun%2A%2A%2A%20isn't it!");
	assert_string_equal(message_param_get_utf8(pool, c.params, c.params_count, "title"),
			    "This is even more ***fun*** isn't it!");

	/* A literal '%' in a plain section must survive the joining. */
	parse("a/b; n*0=\"100%\"; n*1*=%20sure", true, &c);
	assert_string_equal(c.params[0].value, "''100%25%20sure");
	assert_string_equal(message_param_get_utf8(pool, c.params, c.params_count, "n"),
			    "100% sure");

	/* Charsets, and what mail readers produce. */
	parse("attachment; filename*=utf-8''%E2%82%AC%20rates.txt", false, &c);
	assert_string_equal(message_param_get_utf8(pool, c.params, c.params_count, "filename"),
			    "\xe2\x82\xac rates.txt");
	parse("attachment; filename*=iso-8859-1'fr'caf%E9.txt; filename=\"cafe.txt\"", false, &c);
	assert_string_equal(message_param_get_utf8(pool, c.params, c.params_count, "filename"),
			    "caf\xc3\xa9.txt");
	parse("attachment; filename=\"=?UTF-8?B?w6l0w6kucGRm?=\"", false, &c);
	assert_string_equal(message_param_get_utf8(pool, c.params, c.params_count, "filename"),
			    "\xc3\xa9t\xc3\xa9.pdf");
	parse("attachment; filename*=x-unknown''%FF", false, &c);
	assert_string_equal(message_param_get_utf8(pool, c.params, c.params_count, "filename"),
			    "\xef\xbf\xbd");
	assert_null(message_param_get_utf8(pool, c.params, c.params_count, "missing"));

	/* Not RFC 2231 names: kept as they are. */
	parse("a/b; x*01=1; *=2; y*z=3", true, &c);
	assert_int_equal(c.params_count, 3);
	assert_string_equal(c.params[0].name, "x*01");
}

static void test_limits(void **state)
{
	struct message_content c;
	struct buf b = BUF_INIT(65536);

	(void)state;
	assert_true(buf_append_str(&b, "text/plain"));
	for (unsigned int i = 0; i < MESSAGE_PARAMS_MAX_DEFAULT + 10; i++)
		assert_true(buf_printf(&b, "; p%u=v", i));
	assert_true(message_content_parse(pool, buf_data(&b), buf_len(&b), true, &c));
	assert_true(c.params_limited);
	assert_int_equal(c.params_count, MESSAGE_PARAMS_MAX_DEFAULT);
	buf_free(&b);
}

static void test_languages(void **state)
{
	const char **langs;
	const char *v = "(comment) en-US , fr,,de (German)";

	(void)state;
	assert_int_equal(message_content_languages(pool, (const uint8_t *)v, strlen(v), &langs), 3);
	assert_string_equal(langs[0], "en-US");
	assert_string_equal(langs[1], "fr");
	assert_string_equal(langs[2], "de");
	assert_int_equal(message_content_languages(pool, (const uint8_t *)" ", 1, &langs), 0);
	assert_null(langs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_rfc2231),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_languages),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
