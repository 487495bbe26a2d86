/*
 * Unit tests for storage/message-address.c: the examples of RFC 5322
 * appendix A (including the obsolete forms of A.6.3), groups as IMAP
 * ENVELOPE needs them, and malformed lists from real mail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "pool.h"
#include "../../storage/message-address.h"

/* Renders a list as "name|route|mailbox|domain" elements, NULL as "~",
   invalid ones marked with "!", group markers as "G(name)" and "/G". */
static void render(const struct message_address *addr, struct buf *b)
{
	for (; addr != NULL; addr = addr->next) {
		if (buf_len(b) > 0)
			buf_append_str(b, " ");
		switch (addr->type) {
		case MESSAGE_ADDRESS_GROUP_START:
			buf_printf(b, "G(%s)", addr->mailbox);
			break;
		case MESSAGE_ADDRESS_GROUP_END:
			buf_append_str(b, "/G");
			break;
		case MESSAGE_ADDRESS_MAILBOX:
			buf_printf(b, "%s|%s|%s|%s", addr->name ? addr->name : "~",
				   addr->route ? addr->route : "~",
				   addr->mailbox ? addr->mailbox : "~",
				   addr->domain ? addr->domain : "~");
			break;
		}
		if (addr->invalid)
			buf_append_str(b, "!");
	}
}

static void check(const char *in, const char *expected)
{
	struct pool *pool = pool_create(1 << 20);
	struct buf b = BUF_INIT(65536);
	const char *error = "unset";
	struct message_address *list;

	list = message_address_parse(pool, (const uint8_t *)in, strlen(in), 0, NULL, &error);
	assert_null(error);
	render(list, &b);
	assert_string_equal(buf_cstr(&b), expected);
	buf_free(&b);
	pool_destroy(&pool);
}

static void test_rfc5322_examples(void **state)
{
	(void)state;
	/* A.1.1 */
	check("John Doe <jdoe@machine.example>", "John Doe|~|jdoe|machine.example");
	check("Mary Smith <mary@example.net>", "Mary Smith|~|mary|example.net");
	/* A.1.2 */
	check("\"Joe Q. Public\" <john.q.public@example.com>",
	      "Joe Q. Public|~|john.q.public|example.com");
	check("Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
	      "Mary Smith|~|mary|x.test ~|~|jdoe|example.org Who?|~|one|y.test");
	check("<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
	      "~|~|boss|nil.test Giant; \"Big\" Box|~|sysservices|example.net");
	check("A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
	      "G(A Group) Ed Jones|~|c|a.test ~|~|joe|where.test John|~|jdoe|one.test /G");
	check("Undisclosed recipients:;", "G(Undisclosed recipients) /G");
	/* A.1.3 */
	check("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
	      "Pete|~|pete|silly.test");
	check("A Group(Some people)\r\n     :Chris Jones <c@(Chris's host.)public.example>,\r\n"
	      "         joe@example.org,\r\n  John <jdoe@one.test> (my dear friend); (the end of "
	      "the group)",
	      "G(A Group) Chris Jones|~|c|public.example ~|~|joe|example.org John|~|jdoe|one.test "
	      "/G");
	/* A.6.3 obsolete forms. */
	check("John Doe <jdoe@machine(comment).  example>", "John Doe|~|jdoe|machine.example");
	check("Mary Smith\r\n  \r\n <mary@example.net>", "Mary Smith|~|mary|example.net");
	check("Joe Q. Public <john.q.public@example.com>",
	      "Joe Q. Public|~|john.q.public|example.com");
	check("Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example",
	      "Mary Smith|@node.test|mary|example.net ~|~|jdoe|test.example");
	check("john . doe @ ex . com", "~|~|john.doe|ex.com");
}

static void test_envelope_shapes(void **state)
{
	(void)state;
	check("Terry Gray <gray@cac.washington.edu>", "Terry Gray|~|gray|cac.washington.edu");
	check("imap@cac.washington.edu", "~|~|imap|cac.washington.edu");
	check("<@route1,@route2:user@dom.ain>", "~|@route1,@route2|user|dom.ain");
	check("\"quoted local\"@x.y", "~|~|quoted local|x.y");
	check("a(b)@c (d)", "d|~|a|c");
	check("=?utf-8?q?J=C3=B6rg?= <j@x.de>", "=?utf-8?q?J=C3=B6rg?=|~|j|x.de");
	check("\"J\\\"oe\" <a@[1.2.3.4]>", "J\"oe|~|a|[1.2.3.4]");
	check("\"\" <a@b>", "~|~|a|b");
	check("", "");
	check(" , ,,(only a comment), ", "");
}

static void test_malformed(void **state)
{
	(void)state;
	check("root", "~|~|root|~!");
	check("undisclosed recipients", "~|~|undisclosed recipients|~!");
	check("foo@", "~|~|foo|~!");
	check("@bar", "~|~|~|bar!");
	check("<>", "~|~|~|~!");
	check("x <y>", "x|~|y|~!");
	check("\"unterminated", "~|~|unterminated|~!");
	check("(unterminated comment a@b", "");
	check("a@b <c@d>", "~|~|a|b!");
	check("<a@b> junk, c@d", "~|~|a|b! ~|~|c|d");
	check("<a@b", "~|~|a|b!");
	check("group: a@b", "G(group) ~|~|a|b /G");
	check("a@b;", "~|~|a|b");
	check("g1: a@b, g2: c@d;;", "G(g1) ~|~|a|b ~|~|c|d /G");
	check(":;", "G()! /G");
	check("a@b c@d", "~|~|a|b!");
	check("\"x\"\"y\" <a@b>", "xy|~|a|b");
	check("a@\xc3\xa9xample.com", "~|~|a|\xc3\xa9xample.com");
	check("nul\0byte", "~|~|nul|~!");
}

static void test_nul_and_limits(void **state)
{
	static const char in[] = "a\0b@c";
	struct pool *pool = pool_create(1 << 20);
	const char *error;
	struct message_address *list;
	unsigned int count;
	struct buf b = BUF_INIT(1 << 20);

	(void)state;
	list = message_address_parse(pool, (const uint8_t *)in, sizeof(in) - 1, 0, &count, &error);
	assert_non_null(list);
	assert_string_equal(list->mailbox, "a\xef\xbf\xbd"
					   "b");
	assert_int_equal(count, 1);

	for (int i = 0; i < 20; i++)
		buf_printf(&b, "u%d@x, ", i);
	list = message_address_parse(pool, buf_data(&b), buf_len(&b), 10, &count, &error);
	assert_null(list);
	assert_string_equal(error, "Too many addresses in one header");
	list = message_address_parse(pool, buf_data(&b), buf_len(&b), 20, &count, &error);
	assert_non_null(list);
	assert_int_equal(count, 20);
	pool_destroy(&pool);

	/* A pool too small is a clean error. */
	pool = pool_create(64);
	list = message_address_parse(pool, buf_data(&b), buf_len(&b), 0, &count, &error);
	assert_null(list);
	assert_non_null(error);
	pool_destroy(&pool);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5322_examples),
		cmocka_unit_test(test_envelope_shapes),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_nul_and_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
