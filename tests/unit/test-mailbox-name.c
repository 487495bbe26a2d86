/*
 * Unit tests for storage/mailbox-name.c: names that could escape the mail
 * root or confuse the on-disk layout are refused, valid ones map to the
 * directories Dovecot uses, and directory names map back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../storage/mailbox-name.h"

static void test_invalid_names(void **state)
{
	static const char *const bad[] = {
		"",
		"../x",
		"..",
		".",
		"a/../b",
		"a/..",
		"/etc/passwd",
		"~root",
		"~/x",
		"a//b",
		"a/",
		".hidden",
		"a/.b",
		"a\x01"
		"b",
		"a\x7f",
		"tab\there",
		"line\nbreak",
		"bad\xff"
		"utf8",
		"\xc0\xaf",	/* overlong '/' */
		"\xed\xa0\x80", /* surrogate */
		"a\xc2\x85"
		"b",		/* C1 control */
		"Archive.2024", /* '.' separates levels on disk */
	};
	struct mailbox_error err;
	char longname[300];

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		if (mailbox_name_validate(bad[i], MAIL_LAYOUT_MAILDIRPP, &err))
			fail_msg("accepted %s", bad[i]);
		assert_int_equal(err.code, MAILBOX_ERROR_INVALID_NAME);
	}
	memset(longname, 'a', sizeof(longname));
	longname[MAILBOX_NAME_MAX + 1] = '\0';
	assert_false(mailbox_name_validate(longname, MAIL_LAYOUT_MAILDIRPP, &err));
	longname[MAILBOX_NAME_MAX] = '\0';
	assert_true(mailbox_name_validate(longname, MAIL_LAYOUT_MAILDIRPP, &err));
	/* LAYOUT=fs: '.' inside a level is fine, the Maildir subdirs are not. */
	assert_true(mailbox_name_validate("Archive.2024", MAIL_LAYOUT_FS, &err));
	assert_false(mailbox_name_validate("a/cur", MAIL_LAYOUT_FS, &err));
	assert_false(mailbox_name_validate("tmp", MAIL_LAYOUT_FS, &err));
	assert_true(mailbox_name_validate("tmp", MAIL_LAYOUT_MAILDIRPP, &err));
}

static void test_valid_names(void **state)
{
	static const char *const good[] = {"Sent",	  "Lists/roost",     "a b", "R&D", "x~y",
					   "caf\xc3\xa9", "\xf0\x9f\x93\xa7"};
	struct mailbox_error err;

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(good); i++)
		assert_true(mailbox_name_validate(good[i], MAIL_LAYOUT_MAILDIRPP, &err));
	assert_true(mailbox_name_is_inbox("INBOX"));
	assert_true(mailbox_name_is_inbox("inbox"));
	assert_false(mailbox_name_is_inbox("INBOX/x"));
}

static void test_to_dir(void **state)
{
	struct buf out = BUF_INIT(512);
	struct mailbox_error err;

	(void)state;
	assert_true(mailbox_name_to_dir("Lists/roost", MAIL_LAYOUT_MAILDIRPP, &out, &err));
	assert_string_equal(buf_cstr(&out), ".Lists.roost");
	buf_reset(&out);
	assert_true(mailbox_name_to_dir("Lists/roost", MAIL_LAYOUT_FS, &out, &err));
	assert_string_equal(buf_cstr(&out), "Lists/roost");
	buf_reset(&out);
	/* '&' is escaped as modified UTF-7 requires. */
	assert_true(mailbox_name_to_dir("R&D", MAIL_LAYOUT_MAILDIRPP, &out, &err));
	assert_string_equal(buf_cstr(&out), ".R&-D");
	buf_reset(&out);
	/* RFC 3501's example, and Dovecot's directory for it. */
	assert_true(mailbox_name_to_dir("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
					"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
					MAIL_LAYOUT_FS, &out, &err) == false);
	assert_true(mailbox_name_to_dir("peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/"
					"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
					MAIL_LAYOUT_MAILDIRPP, &out, &err));
	assert_string_equal(buf_cstr(&out), ".peter.mail.&U,BTFw-.&ZeVnLIqe-");
	buf_reset(&out);
	assert_false(mailbox_name_to_dir("../x", MAIL_LAYOUT_MAILDIRPP, &out, &err));
	assert_false(mailbox_name_to_dir("../x", MAIL_LAYOUT_FS, &out, &err));
	buf_free(&out);
}

static void test_from_maildirpp(void **state)
{
	struct buf out = BUF_INIT(512);

	(void)state;
	assert_true(mailbox_name_from_maildirpp(".Lists.roost", &out));
	assert_string_equal(buf_cstr(&out), "Lists/roost");
	buf_reset(&out);
	assert_true(mailbox_name_from_maildirpp(".R&-D", &out));
	assert_string_equal(buf_cstr(&out), "R&D");
	buf_reset(&out);
	assert_true(mailbox_name_from_maildirpp(".&ZeVnLIqe-", &out));
	assert_string_equal(buf_cstr(&out), "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	buf_reset(&out);
	/* Not canonical (a character that needs no encoding), or broken. */
	assert_false(mailbox_name_from_maildirpp(".&AGE-", &out));
	buf_reset(&out);
	assert_false(mailbox_name_from_maildirpp(".&ZeVn", &out));
	buf_reset(&out);
	assert_false(mailbox_name_from_maildirpp("..", &out));
	buf_reset(&out);
	assert_false(mailbox_name_from_maildirpp("..roost-trash.1", &out));
	buf_reset(&out);
	assert_false(mailbox_name_from_maildirpp(".a..b", &out));
	buf_reset(&out);
	assert_false(mailbox_name_from_maildirpp("cur", &out));
	buf_reset(&out);
	assert_false(mailbox_name_from_maildirpp(".a.", &out));
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalid_names),
		cmocka_unit_test(test_valid_names),
		cmocka_unit_test(test_to_dir),
		cmocka_unit_test(test_from_maildirpp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
