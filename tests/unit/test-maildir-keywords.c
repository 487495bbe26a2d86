/*
 * Unit tests for storage/maildir-keywords.c: dovecot-keywords files as
 * Dovecot writes them map letters to names, hostile lines are dropped, and
 * writing gives the same format back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../storage/maildir-keywords.h"

/* Written by Dovecot 2.3.19 after STORE +FLAGS (foo bar baz $Forwarded). */
static const char dovecot_sample[] = "0 foo\n1 bar\n2 baz\n3 $Forwarded\n";

static void test_dovecot_sample(void **state)
{
	struct maildir_keywords kw;

	(void)state;
	maildir_keywords_init(&kw);
	maildir_keywords_parse(&kw, dovecot_sample, strlen(dovecot_sample));
	assert_int_equal(kw.bad_lines, 0);
	assert_string_equal(maildir_keywords_name(&kw, 0), "foo");
	assert_string_equal(maildir_keywords_name(&kw, 3), "$Forwarded");
	assert_null(maildir_keywords_name(&kw, 4));
	assert_null(maildir_keywords_name(&kw, 99));
	/* IMAP keywords compare case-insensitively. */
	assert_int_equal(maildir_keywords_lookup(&kw, "$forwarded"), 3);
	assert_int_equal(maildir_keywords_lookup(&kw, "BAR"), 1);
	assert_int_equal(maildir_keywords_lookup(&kw, "nope"), -1);
	assert_int_equal(maildir_keywords_add(&kw, "Junk"), 4);
	assert_int_equal(maildir_keywords_add(&kw, "junk"), 4);
	maildir_keywords_deinit(&kw);
}

static void test_bad_lines(void **state)
{
	static const char data[] = "26 toohigh\n"
				   "1 has space\n"
				   "x name\n"
				   "2 \\Seen\n"
				   "3 a(b\n"
				   "4 ok\n"
				   "4 again\n"
				   "5 OK\n"
				   "6\n"
				   "7 \x80\x81\n"
				   "0 first";
	struct maildir_keywords kw;

	(void)state;
	maildir_keywords_init(&kw);
	maildir_keywords_parse(&kw, data, sizeof(data) - 1);
	assert_int_equal(kw.bad_lines, 9);
	assert_string_equal(maildir_keywords_name(&kw, 4), "ok");
	assert_string_equal(maildir_keywords_name(&kw, 0), "first");
	assert_null(maildir_keywords_name(&kw, 5));
	maildir_keywords_deinit(&kw);
}

static void test_full_and_write(void **state)
{
	struct maildir_keywords kw, kw2;
	struct mailbox_error err;
	char dir[] = "/tmp/roost-test-kw.XXXXXX", path[128], name[16], cmd[160];
	FILE *f;
	char buf[1024];
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/dovecot-keywords", dir);
	maildir_keywords_init(&kw);
	for (int i = 0; i < MAIL_KEYWORDS_MAX; i++) {
		snprintf(name, sizeof(name), "kw%d", i);
		assert_int_equal(maildir_keywords_add(&kw, name), i);
	}
	assert_int_equal(maildir_keywords_add(&kw, "one-too-many"), -1);
	assert_int_equal(maildir_keywords_add(&kw, "bad name"), -1);
	assert_true(maildir_keywords_write(&kw, path, false, &err));
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_true(strncmp(buf, "0 kw0\n1 kw1\n2 kw2\n", 18) == 0);
	maildir_keywords_init(&kw2);
	assert_int_equal(maildir_keywords_read(&kw2, path, &err), 1);
	for (int i = 0; i < MAIL_KEYWORDS_MAX; i++)
		assert_string_equal(maildir_keywords_name(&kw2, (unsigned int)i),
				    maildir_keywords_name(&kw, (unsigned int)i));
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(maildir_keywords_read(&kw2, path, &err), 0);
	assert_null(maildir_keywords_name(&kw2, 0));
	maildir_keywords_deinit(&kw);
	maildir_keywords_deinit(&kw2);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_name_valid(void **state)
{
	(void)state;
	assert_true(maildir_keyword_name_valid("$Junk"));
	assert_true(maildir_keyword_name_valid("NonJunk"));
	assert_false(maildir_keyword_name_valid(""));
	assert_false(maildir_keyword_name_valid("\\Seen"));
	assert_false(maildir_keyword_name_valid("a b"));
	assert_false(maildir_keyword_name_valid("a]"));
	assert_false(maildir_keyword_name_valid("a*"));
	assert_false(maildir_keyword_name_valid("caf\xc3\xa9"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dovecot_sample),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_full_and_write),
		cmocka_unit_test(test_name_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
