/*
 * Unit tests for storage/imap-bodystructure.c: the RFC 3501 section 7.4.2
 * examples byte for byte, a multipart/alternative with attachments and a
 * message/rfc822 part (checked against Dovecot 2.3's output for the same
 * bytes), defaults, LF-only messages, and the synthesized empty bodies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "pool.h"
#include "../../storage/imap-bodystructure.h"
#include "../../storage/imap-quote.h"
#include "../../storage/message-part.h"

static struct pool *pool;

static int setup(void **state)
{
	(void)state;
	pool = pool_create(16 << 20);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pool_destroy(&pool);
	return 0;
}

static void check_bs(const char *msg, size_t len, bool extended, const char *expected)
{
	struct message_part *root;
	struct buf out = BUF_INIT(1 << 20);
	const char *error;

	assert_int_equal(message_parse(pool, (const uint8_t *)msg, len, NULL, &root, &error),
			 MESSAGE_PARSE_OK);
	assert_true(imap_bodystructure_write(&out, root, extended, 0, &error));
	assert_string_equal(buf_cstr(&out), expected);
	buf_free(&out);
}

static void check(const char *msg, bool extended, const char *expected)
{
	check_bs(msg, strlen(msg), extended, expected);
}

/* A body of `lines` CRLF lines of width-2 letters, then `tail` more
   letters without a line end. */
static void add_lines(struct buf *b, unsigned int lines, unsigned int width, unsigned int tail)
{
	for (unsigned int i = 0; i < lines; i++) {
		for (unsigned int j = 0; j + 2 < width; j++)
			assert_true(buf_append_c(b, (uint8_t)('A' + (i + j) % 26)));
		assert_true(buf_append_str(b, "\r\n"));
	}
	for (unsigned int j = 0; j < tail; j++)
		assert_true(buf_append_c(b, 'z'));
}

static void test_rfc3501_single(void **state)
{
	struct buf msg = BUF_INIT(1 << 20);

	(void)state;
	/* The message of the RFC 3501 7.4.2 FETCH example: 3028 bytes in 92
	   lines of text. */
	assert_true(buf_append_str(&msg, "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
					 "From: Terry Gray <gray@cac.washington.edu>\r\n"
					 "Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
					 "To: imap@cac.washington.edu\r\n"
					 "cc: minutes@CNRI.Reston.VA.US, John Klensin "
					 "<KLENSIN@MIT.EDU>\r\n"
					 "Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
					 "MIME-Version: 1.0\r\n"
					 "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
					 "Content-Transfer-Encoding: 7BIT\r\n"
					 "\r\n"));
	add_lines(&msg, 91, 33, 0);
	assert_true(buf_append_str(&msg, "The end of the 92nd line.\r\n" + 2));
	check_bs(buf_cstr(&msg), buf_len(&msg), false,
		 "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92)");
	check_bs(buf_cstr(&msg), buf_len(&msg), true,
		 "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92 NIL NIL "
		 "NIL NIL)");
	buf_free(&msg);
}

static void test_rfc3501_multipart(void **state)
{
	struct buf msg = BUF_INIT(1 << 20);

	(void)state;
	assert_true(buf_append_str(&msg, "MIME-Version: 1.0\r\n"
					 "Content-Type: MULTIPART/MIXED; BOUNDARY=\"x-y-z\"\r\n"
					 "\r\n"
					 "--x-y-z\r\n"
					 "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
					 "Content-Transfer-Encoding: 7BIT\r\n"
					 "\r\n"));
	add_lines(&msg, 23, 50, 2);
	assert_true(buf_append_str(&msg,
				   "\r\n--x-y-z\r\n"
				   "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII; NAME=cc.diff\r\n"
				   "Content-ID: <960723163407.20117h@cac.washington.edu>\r\n"
				   "Content-Description: Compiler diff\r\n"
				   "Content-Transfer-Encoding: BASE64\r\n"
				   "\r\n"));
	add_lines(&msg, 73, 62, 28);
	assert_true(buf_append_str(&msg, "\r\n--x-y-z--\r\n"));
	/* Byte for byte the example of RFC 3501 7.4.2 (a non-extended form). */
	check_bs(buf_cstr(&msg), buf_len(&msg), false,
		 "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1152 23)"
		 "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"cc.diff\") "
		 "\"<960723163407.20117h@cac.washington.edu>\" \"Compiler diff\" \"BASE64\" 4554 "
		 "73) \"MIXED\")");
	check_bs(
		buf_cstr(&msg), buf_len(&msg), true,
		"((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 1152 23 NIL NIL "
		"NIL NIL)"
		"(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\" \"NAME\" \"cc.diff\") "
		"\"<960723163407.20117h@cac.washington.edu>\" \"Compiler diff\" \"BASE64\" 4554 73 "
		"NIL NIL NIL NIL) \"MIXED\" (\"BOUNDARY\" \"x-y-z\") NIL NIL NIL)");
	buf_free(&msg);
}

static const char alt_msg[] =
	"From: =?utf-8?q?Ren=C3=A9_Dupont?= <rene@example.fr>\r\n"
	"To: \"Smith, Ann\" <ann@example.com>, team: bob@example.com, carol@example.com;\r\n"
	"Subject: =?iso-8859-1?q?R=E9union?= notes\r\n"
	"Date: Tue, 3 Sep 2024 10:00:00 +0200\r\n"
	"Message-ID: <notes-42@example.fr>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"mix\"\r\n"
	"\r\n"
	"--mix\r\n"
	"Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
	"\r\n"
	"--alt\r\n"
	"Content-Type: text/plain; charset=iso-8859-1\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"R=E9union demain.\r\n"
	"--alt\r\n"
	"Content-Type: text/html; charset=utf-8\r\n"
	"\r\n"
	"<p>R\xc3\xa9union demain.</p>\r\n"
	"--alt--\r\n"
	"--mix\r\n"
	"Content-Type: image/png; name=\"plan.png\"\r\n"
	"Content-ID: <plan@example.fr>\r\n"
	"Content-Disposition: inline; filename=\"plan.png\"\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"iVBORw0KGgo=\r\n"
	"--mix\r\n"
	"Content-Type: application/pdf; name=\"agenda.pdf\"\r\n"
	"Content-Description: Agenda\r\n"
	"Content-Disposition: attachment; filename=\"agenda.pdf\"; size=4\r\n"
	"Content-Language: fr\r\n"
	"Content-Location: agenda.pdf\r\n"
	"Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"JVBERg==\r\n"
	"--mix\r\n"
	"Content-Type: message/rfc822\r\n"
	"Content-Disposition: attachment\r\n"
	"\r\n"
	"From: bob@example.com\r\n"
	"Subject: Re: agenda\r\n"
	"Message-ID: <r1@example.com>\r\n"
	"In-Reply-To: <notes-41@example.fr>\r\n"
	"\r\n"
	"Looks good.\r\n"
	"--mix--\r\n";

static const char alt_bodystructure[] =
	"("
	"((\"text\" \"plain\" (\"charset\" \"iso-8859-1\") NIL NIL \"quoted-printable\" 17 0 "
	"NIL NIL NIL NIL)"
	"(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 23 0 NIL NIL NIL NIL) "
	"\"alternative\" (\"boundary\" \"alt\") NIL NIL NIL)"
	"(\"image\" \"png\" (\"name\" \"plan.png\") \"<plan@example.fr>\" NIL \"base64\" 12 NIL "
	"(\"inline\" (\"filename\" \"plan.png\")) NIL NIL)"
	"(\"application\" \"pdf\" (\"name\" \"agenda.pdf\") NIL \"Agenda\" \"base64\" 8 "
	"\"Q2hlY2sgSW50ZWdyaXR5IQ==\" (\"attachment\" (\"filename\" \"agenda.pdf\" \"size\" "
	"\"4\")) "
	"(\"fr\") \"agenda.pdf\")"
	"(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 123 "
	"(NIL \"Re: agenda\" ((NIL NIL \"bob\" \"example.com\")) ((NIL NIL \"bob\" "
	"\"example.com\")) "
	"((NIL NIL \"bob\" \"example.com\")) NIL NIL NIL \"<notes-41@example.fr>\" "
	"\"<r1@example.com>\") "
	"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 11 0 NIL NIL NIL NIL) 5 "
	"NIL (\"attachment\" NIL) NIL NIL) "
	"\"mixed\" (\"boundary\" \"mix\") NIL NIL NIL)";

static const char alt_body[] =
	"("
	"((\"text\" \"plain\" (\"charset\" \"iso-8859-1\") NIL NIL \"quoted-printable\" 17 0)"
	"(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 23 0) \"alternative\")"
	"(\"image\" \"png\" (\"name\" \"plan.png\") \"<plan@example.fr>\" NIL \"base64\" 12)"
	"(\"application\" \"pdf\" (\"name\" \"agenda.pdf\") NIL \"Agenda\" \"base64\" 8)"
	"(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 123 "
	"(NIL \"Re: agenda\" ((NIL NIL \"bob\" \"example.com\")) ((NIL NIL \"bob\" "
	"\"example.com\")) "
	"((NIL NIL \"bob\" \"example.com\")) NIL NIL NIL \"<notes-41@example.fr>\" "
	"\"<r1@example.com>\") "
	"(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 11 0) 5) \"mixed\")";

static void test_alternative_attachments_rfc822(void **state)
{
	char *lf = strdup(alt_msg), *w = lf;

	(void)state;
	check(alt_msg, true, alt_bodystructure);
	check(alt_msg, false, alt_body);
	/* The same message stored with LF line ends reports the same sizes. */
	for (const char *r = alt_msg; *r != '\0'; r++) {
		if (*r != '\r')
			*w++ = *r;
	}
	*w = '\0';
	check(lf, true, alt_bodystructure);
	check(lf, false, alt_body);
	free(lf);
}

static void test_defaults_and_synthesized(void **state)
{
	(void)state;
	check("Subject: x\n\nhello\n", true,
	      "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 7 1 NIL NIL NIL "
	      "NIL)");
	/* The default charset goes after the other parameters. */
	check("Content-Type: text/plain; format=flowed\n\nx", false,
	      "(\"text\" \"plain\" (\"format\" \"flowed\" \"charset\" \"us-ascii\") NIL NIL "
	      "\"7bit\" "
	      "1 0)");
	/* No lines for non-text bodies; empty strings stay strings. */
	check("Content-Type: image/gif\nContent-ID:\n\nGIF89a", true,
	      "(\"image\" \"gif\" NIL \"\" NIL \"7bit\" 6 NIL NIL NIL NIL)");
	/* A multipart without parts gets one empty text/plain part. */
	check("Content-Type: multipart/mixed; boundary=b\n\nno parts\n", true,
	      "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL "
	      "NIL) "
	      "\"mixed\" (\"boundary\" \"b\") NIL NIL NIL)");
	/* An empty and an encoded message/rfc822. */
	check("Content-Type: message/rfc822\n\n", false,
	      "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 0 (NIL NIL NIL NIL NIL NIL NIL NIL NIL "
	      "NIL) "
	      "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) 0)");
	check("Content-Type: message/rfc822\nContent-Transfer-Encoding: "
	      "base64\n\nU3ViamVjdDogeA==\n",
	      false,
	      "(\"message\" \"rfc822\" NIL NIL NIL \"base64\" 18 (NIL NIL NIL NIL NIL NIL NIL NIL "
	      "NIL "
	      "NIL) (\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) 1)");
	/* RFC 2231 parameters are joined, never split; hostile values are
	   quoted or sent as literals. */
	check("Content-Type: application/x-stuff; title*0*=us-ascii'en'a%20; title*1=\"b\\\"c\"\n"
	      "Content-Description: two\r\n lines\n\n",
	      true,
	      "(\"application\" \"x-stuff\" (\"title*\" \"us-ascii'en'a%20b\\\"c\") NIL \"two "
	      "lines\" "
	      "\"7bit\" 0 NIL NIL NIL NIL)");
	check("Content-Type: text/plain; name=\"caf\xc3\xa9\"\n\n", false,
	      "(\"text\" \"plain\" (\"name\" {5}\r\ncaf\xc3\xa9 \"charset\" \"us-ascii\") NIL NIL "
	      "\"7bit\" 0 0)");
}

static void test_utf8_and_limit(void **state)
{
	static const char msg[] = "Content-Type: text/plain; name=\"caf\xc3\xa9\"\n\n";
	struct message_part *root;
	struct buf out = BUF_INIT(1 << 20), small = BUF_INIT(20);
	const char *error;

	(void)state;
	assert_int_equal(
		message_parse(pool, (const uint8_t *)msg, sizeof(msg) - 1, NULL, &root, &error),
		MESSAGE_PARSE_OK);
	assert_true(imap_bodystructure_write(&out, root, false, IMAP_QUOTE_FLAG_UTF8, &error));
	assert_string_equal(buf_cstr(&out), "(\"text\" \"plain\" (\"name\" \"caf\xc3\xa9\" "
					    "\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)");
	assert_false(imap_bodystructure_write(&small, root, true, 0, &error));
	assert_string_equal(error, "Output buffer full");
	buf_free(&out);
	buf_free(&small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3501_single),
		cmocka_unit_test(test_rfc3501_multipart),
		cmocka_unit_test(test_alternative_attachments_rfc822),
		cmocka_unit_test(test_defaults_and_synthesized),
		cmocka_unit_test(test_utf8_and_limit),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
