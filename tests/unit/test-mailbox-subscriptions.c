/*
 * Unit tests for storage/mailbox-subscriptions.c: the subscriptions file as
 * Dovecot 2.3 writes it (observed: "V\t2", an empty line, '\t' between
 * levels, modified UTF-7 names) parses to API names and is written back
 * byte for byte; older header-less files and hostile lines are handled.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../storage/mailbox.h"
#include "../../storage/mailbox-subscriptions.h"

/* Written by Dovecot 2.3.19 after SUBSCRIBE Lists/roost, INBOX and
   &ZeVnLIqe- (separator '/'). */
static const char dovecot_sample[] = "V\t2\n\nLists\troost\nINBOX\n&ZeVnLIqe-\n";

static void test_dovecot_round_trip(void **state)
{
	char **names = mailbox_subscriptions_parse(dovecot_sample, strlen(dovecot_sample),
						   MAIL_LAYOUT_MAILDIRPP);
	struct buf out = BUF_INIT(4096);

	(void)state;
	assert_string_equal(names[0], "Lists/roost");
	assert_string_equal(names[1], "INBOX");
	assert_string_equal(names[2], "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	assert_null(names[3]);
	assert_true(mailbox_subscriptions_format(names, &out));
	assert_string_equal(buf_cstr(&out), dovecot_sample);
	buf_free(&out);
	mailbox_subscriptions_free(&names);
	assert_null(names);
}

static void test_hostile_and_old(void **state)
{
	static const char data[] = "V\t2\n\n../x\n\tlead\ntrail\t\nInbox\nok\nok\n&broken\n"
				   "a\x01"
				   "b\n";
	static const char old[] = "Sent\nLists/roost\n";
	char **names;

	(void)state;
	names = mailbox_subscriptions_parse(data, sizeof(data) - 1, MAIL_LAYOUT_MAILDIRPP);
	assert_string_equal(names[0], "INBOX");
	assert_string_equal(names[1], "ok");
	assert_null(names[2]);
	mailbox_subscriptions_free(&names);
	names = mailbox_subscriptions_parse(old, strlen(old), MAIL_LAYOUT_MAILDIRPP);
	assert_string_equal(names[0], "Sent");
	assert_string_equal(names[1], "Lists/roost");
	assert_null(names[2]);
	mailbox_subscriptions_free(&names);
	names = mailbox_subscriptions_parse("", 0, MAIL_LAYOUT_FS);
	assert_null(names[0]);
	mailbox_subscriptions_free(&names);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dovecot_round_trip),
		cmocka_unit_test(test_hostile_and_old),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
