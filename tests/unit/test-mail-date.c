/*
 * Unit tests for storage/mail-date.c: RFC 5322 dates including the
 * obsolete forms of RFC 5322 section 4.3 and appendix A.6, the IMAP date
 * formats, and rejection of out-of-range fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../storage/mail-date.h"

static void check(const char *in, long long expected, int expected_tz)
{
	time_t t = 0;
	int tz = 12345;

	assert_true(mail_date_parse((const uint8_t *)in, strlen(in), &t, &tz));
	assert_int_equal((long long)t, expected);
	assert_int_equal(tz, expected_tz);
}

static void check_bad(const char *in)
{
	time_t t = 7;
	int tz = 7;

	assert_false(mail_date_parse((const uint8_t *)in, strlen(in), &t, &tz));
	assert_int_equal(t, 7);
	assert_int_equal(tz, 7);
}

static void test_rfc5322(void **state)
{
	(void)state;
	/* RFC 3501's example message, 1994-02-08 05:52:25 UTC. */
	check("Mon, 7 Feb 1994 21:52:25 -0800 (PST)", 760686745, -480);
	check("Mon, 07 Feb 1994 21:52:25 -0800", 760686745, -480);
	check("7 Feb 1994 21:52:25 -0800", 760686745, -480);
	check("Fri, 21 Nov 1997 09:55:06 -0600", 880127706, -360);
	check("Thu, 13 Feb 1969 23:32:54 -0330", -27723426, -210);
	check("Thu, 01 Jan 1970 00:00:00 +0000", 0, 0);
	check("Sat, 1 Jan 2000 00:00:00 +0100", 946681200, 60);
	/* Missing seconds, and a leap second. */
	check("Mon, 7 Feb 1994 21:52 -0800", 760686720, -480);
	check("Thu, 31 Dec 1998 23:59:60 +0000", 915148799, 0);
}

static void test_obsolete(void **state)
{
	(void)state;
	/* RFC 5322 A.6.3 and section 4.3. */
	check("21 Nov 97 09:55:06 GMT", 880106106, 0);
	check("Thu,\r\n      13\r\n        Feb\r\n          1969\r\n      23:32\r\n"
	      "               -0330 (Newfoundland Time)",
	      -27723480, -210);
	check("Mon, 7 Feb 94 21:52:25 PST", 760686745, -480);
	check("Mon, 7 Feb 94 21:52:25 pdt", 760683145, -420);
	check("1 Jan 49 00:00:00 EST", 2493090000, -300);
	check("1 Jan 50 00:00:00 UT", -631152000, 0);
	check("1 Jan 100 00:00:00 +0000", 946684800, 0);
	/* Military and unknown zones are "no information": +0000. */
	check("Mon, 7 Feb 1994 21:52:25 Z", 760657945, 0);
	check("Mon, 7 Feb 1994 21:52:25 A", 760657945, 0);
	check("Mon, 7 Feb 1994 21:52:25 CEST", 760657945, 0);
	check("Mon, 7 Feb 1994 21:52:25", 760657945, 0);
	/* Forms seen in the wild. */
	check("Monday, 7-Feb-1994 21:52:25 -0800", 760686745, -480);
	check("Mon Feb  7 21:52:25 1994", 760657945, 0);
	check("Mon, 7 February 1994 21:52:25 +0000", 760657945, 0);
	check("(comment) Mon , 7 Feb 1994 21:52:25 +0000 (more)", 760657945, 0);
}

static void test_bad(void **state)
{
	(void)state;
	check_bad("");
	check_bad("yesterday");
	check_bad("Mon, 32 Jan 1994 00:00:00 +0000");
	check_bad("Mon, 29 Feb 1993 00:00:00 +0000");
	check_bad("Mon, 7 Foo 1994 21:52:25 +0000");
	check_bad("Mon, 7 Feb 1994 24:00:00 +0000");
	check_bad("Mon, 7 Feb 1994 21:60:00 +0000");
	check_bad("Mon, 7 Feb 1994");
	check_bad("Mon, 7 Feb 12345 21:52:25 +0000");
	check_bad("Mon, 123 Feb 1994 21:52:25 +0000");
	/* Trailing junk after the zone position is ignored. */
	check("Mon, 7 Feb 1994 21:52:25:99 +0000", 760657945, 0);
	/* A broken zone does not lose the date. */
	check("Mon, 7 Feb 1994 21:52:25 +99999", 760657945, 0);
	check("Mon, 7 Feb 1994 21:52:25 +2500", 760657945, 0);
}

static void test_imap(void **state)
{
	char buf[MAIL_DATE_FORMAT_SIZE];
	time_t t;
	int tz;

	(void)state;
	assert_true(mail_date_parse_imap_date("1-Feb-1994", &t));
	assert_int_equal((long long)t, 760060800);
	assert_true(mail_date_parse_imap_date("01-feb-1994", &t));
	assert_false(mail_date_parse_imap_date("1-Feb-94", &t));
	assert_false(mail_date_parse_imap_date("1 Feb 1994", &t));
	assert_false(mail_date_parse_imap_date("1-Feb-1994x", &t));

	assert_true(mail_date_parse_imap_datetime("17-Jul-1996 02:44:25 -0700", &t, &tz));
	assert_int_equal((long long)t, 837596665);
	assert_int_equal(tz, -420);
	assert_true(mail_date_parse_imap_datetime(" 7-Feb-1994 21:52:25 -0800", &t, &tz));
	assert_int_equal((long long)t, 760686745);
	assert_false(mail_date_parse_imap_datetime("7-Feb-1994 21:52:25 -0800", &t, &tz));
	assert_false(mail_date_parse_imap_datetime("17-Jul-1996 02:44:25", &t, &tz));
	assert_false(mail_date_parse_imap_datetime("17-Jul-1996 02:44:25 -0700 ", &t, &tz));
	assert_false(mail_date_parse_imap_datetime("17-Jul-1996 2:44:25 -0700", &t, &tz));

	assert_true(mail_date_format_imap(760686745, -480, buf, sizeof(buf)));
	assert_string_equal(buf, " 7-Feb-1994 21:52:25 -0800");
	assert_true(mail_date_format_imap(837596665, -420, buf, sizeof(buf)));
	assert_string_equal(buf, "17-Jul-1996 02:44:25 -0700");
	assert_true(mail_date_format_rfc5322(760686745, -480, buf, sizeof(buf)));
	assert_string_equal(buf, "Mon, 7 Feb 1994 21:52:25 -0800");
	assert_true(mail_date_format_rfc5322(-27723426, -210, buf, sizeof(buf)));
	assert_string_equal(buf, "Thu, 13 Feb 1969 23:32:54 -0330");
	assert_true(mail_date_format_rfc5322(0, 330, buf, sizeof(buf)));
	assert_string_equal(buf, "Thu, 1 Jan 1970 05:30:00 +0530");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5322),
		cmocka_unit_test(test_obsolete),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_imap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
