/*
 * Unit tests for storage/imap-envelope.c: the RFC 3501 7.4.2 example byte
 * for byte, encoded words kept encoded, groups, defaults for Sender and
 * Reply-To, repeated fields, and hostile values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "pool.h"
#include "../../storage/imap-envelope.h"
#include "../../storage/message-address.h"

static void check(const char *hdr, const char *expected)
{
	struct buf out = BUF_INIT(1 << 20);
	const char *error = NULL;

	assert_true(imap_envelope_write_header(&out, (const uint8_t *)hdr, strlen(hdr), 0, &error));
	assert_string_equal(buf_cstr(&out), expected);
	buf_free(&out);
}

static void test_rfc3501_example(void **state)
{
	(void)state;
	check("Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
	      "From: Terry Gray <gray@cac.washington.edu>\r\n"
	      "Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
	      "To: imap@cac.washington.edu\r\n"
	      "cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n"
	      "Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
	      "MIME-Version: 1.0\r\n"
	      "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
	      "\r\n"
	      "body\r\n",
	      "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" "
	      "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
	      "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
	      "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
	      "((NIL NIL \"imap\" \"cac.washington.edu\")) "
	      "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")"
	      "(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) NIL NIL "
	      "\"<B27397-0100000@cac.washington.edu>\")");
}

static void test_encoded_words_stay_encoded(void **state)
{
	(void)state;
	check("From: =?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>\n"
	      "Subject: =?utf-8?B?w6l0w6k=?= report\n"
	      "To: =?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>\n\n",
	      "(NIL \"=?utf-8?B?w6l0w6k=?= report\" "
	      "((\"=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=\" NIL \"keld\" \"dkuug.dk\")) "
	      "((\"=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=\" NIL \"keld\" \"dkuug.dk\")) "
	      "((\"=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?=\" NIL \"keld\" \"dkuug.dk\")) "
	      "((\"=?US-ASCII?Q?Keith_Moore?=\" NIL \"moore\" \"cs.utk.edu\")) NIL NIL NIL NIL)");
}

static void test_groups_and_defaults(void **state)
{
	(void)state;
	/* Groups as RFC 3501 describes them; Sender/Reply-To fall back to
	   From when absent or empty. */
	check("From: a@b.c\nSender:\nReply-To: \nTo: undisclosed-recipients:;\n"
	      "Cc: A Group:Ed Jones <c@a.test>,joe@where.test;\nBcc: <@x,@y:u@z>\n\n",
	      "(NIL NIL ((NIL NIL \"a\" \"b.c\")) ((NIL NIL \"a\" \"b.c\")) ((NIL NIL \"a\" "
	      "\"b.c\")) "
	      "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL)) "
	      "((NIL NIL \"A Group\" NIL)(\"Ed Jones\" NIL \"c\" \"a.test\")"
	      "(NIL NIL \"joe\" \"where.test\")(NIL NIL NIL NIL)) "
	      "((NIL \"@x,@y\" \"u\" \"z\")) NIL NIL)");
	/* Missing parts of an address, empty fields, no header at all. */
	check("From: root\nTo: <>\nSubject:\nMessage-ID:  \n\n",
	      "(NIL \"\" ((NIL NIL \"root\" \"MISSING_DOMAIN\")) ((NIL NIL \"root\" "
	      "\"MISSING_DOMAIN\")) ((NIL NIL \"root\" \"MISSING_DOMAIN\")) "
	      "((NIL NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\")) NIL NIL NIL \"\")");
	check("", "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	check("\nFrom: in@body\n", "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	/* Repeated fields: first string wins, address lists add up. */
	check("Subject: first\nSubject: second\nTo: a@x\nTo: b@x\n\n",
	      "(NIL \"first\" NIL NIL NIL ((NIL NIL \"a\" \"x\")(NIL NIL \"b\" \"x\")) NIL NIL NIL "
	      "NIL)");
}

static void test_hostile(void **state)
{
	struct buf out = BUF_INIT(4096);
	static const char hdr[] = "Subject: \"quoted\" \\ and\r\n\tfolded\nFrom: \"x\\\"y\" <a@b>\n"
				  "In-Reply-To: caf\xc3\xa9\nMessage-ID: a\0b\n\n";
	const char *error;

	(void)state;
	assert_true(
		imap_envelope_write_header(&out, (const uint8_t *)hdr, sizeof(hdr) - 1, 0, &error));
	assert_string_equal(
		buf_cstr(&out),
		"(NIL \"\\\"quoted\\\" \\\\ and\tfolded\" ((\"x\\\"y\" NIL \"a\" \"b\")) "
		"((\"x\\\"y\" NIL \"a\" \"b\")) ((\"x\\\"y\" NIL \"a\" \"b\")) NIL NIL NIL "
		"{5}\r\ncaf\xc3\xa9 {5}\r\na\xef\xbf\xbd"
		"b)");
	buf_free(&out);

	/* The output limit is an error, not an overflow. */
	buf_init(&out, 10);
	assert_false(
		imap_envelope_write_header(&out, (const uint8_t *)hdr, sizeof(hdr) - 1, 0, &error));
	assert_string_equal(error, "Output buffer full");
	buf_free(&out);
}

static void test_parse_struct(void **state)
{
	static const char hdr[] =
		"From: A <a@x>\nCC: c@x\nDate: Mon, 7 Feb 1994 21:52:25 -0800\n\n";
	struct pool *pool = pool_create(65536);
	struct imap_envelope *env;
	const char *error;

	(void)state;
	assert_true(imap_envelope_parse(pool, (const uint8_t *)hdr, sizeof(hdr) - 1, &env, &error));
	assert_string_equal(env->from->name, "A");
	assert_ptr_equal(env->sender, env->from);
	assert_string_equal(env->cc->domain, "x");
	assert_string_equal(env->date, "Mon, 7 Feb 1994 21:52:25 -0800");
	assert_null(env->subject);
	pool_destroy(&pool);

	/* A pool too small is a clean error. */
	pool = pool_create(32);
	assert_false(
		imap_envelope_parse(pool, (const uint8_t *)hdr, sizeof(hdr) - 1, &env, &error));
	assert_non_null(error);
	pool_destroy(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3501_example),
		cmocka_unit_test(test_encoded_words_stay_encoded),
		cmocka_unit_test(test_groups_and_defaults),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_parse_struct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
