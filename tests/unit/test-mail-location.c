/*
 * Unit tests for storage/mail-location.c: mail_location strings as Dovecot
 * administrators write them expand to the same paths, and user names that
 * would add path components are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../storage/mail-location.h"

static const struct mail_location_vars jdoe = {"jdoe@Example.COM", "/home/jdoe"};

static struct mail_location *parse_ok(const char *spec, const struct mail_location_vars *vars)
{
	struct mail_location *loc;
	struct mailbox_error err;

	if (!mail_location_parse(spec, vars, &loc, &err))
		fail_msg("%s: %s", spec, err.text);
	return loc;
}

static void parse_bad(const char *spec, const struct mail_location_vars *vars)
{
	struct mail_location *loc;
	struct mailbox_error err;

	assert_false(mail_location_parse(spec, vars, &loc, &err));
	assert_int_equal(err.code, MAILBOX_ERROR_PARAMS);
	assert_null(loc);
}

static void test_seed_forms(void **state)
{
	struct mail_location *loc;

	(void)state;
	loc = parse_ok("maildir:~/Maildir", &jdoe);
	assert_string_equal(loc->root, "/home/jdoe/Maildir");
	assert_null(loc->index_dir);
	assert_null(loc->control_dir);
	assert_int_equal(loc->layout, MAIL_LAYOUT_MAILDIRPP);
	mail_location_free(&loc);
	assert_null(loc);

	loc = parse_ok("maildir:/home/vmail/%d/%n", &jdoe);
	assert_string_equal(loc->root, "/home/vmail/Example.COM/jdoe");
	mail_location_free(&loc);

	loc = parse_ok("maildir:/var/vmail/%Ld/%Ln/:INDEX=/var/idx/%u:CONTROL=/var/ctl/%Lu:"
		       "LAYOUT=fs",
		       &jdoe);
	assert_string_equal(loc->root, "/var/vmail/example.com/jdoe");
	assert_string_equal(loc->index_dir, "/var/idx/jdoe@Example.COM");
	assert_string_equal(loc->control_dir, "/var/ctl/jdoe@example.com");
	assert_int_equal(loc->layout, MAIL_LAYOUT_FS);
	mail_location_free(&loc);

	loc = parse_ok("maildir:%h/Mail:INDEX=MEMORY:INBOX=%h/Inbox", &jdoe);
	assert_string_equal(loc->root, "/home/jdoe/Mail");
	assert_true(loc->index_memory);
	assert_null(loc->index_dir);
	assert_string_equal(loc->inbox, "/home/jdoe/Inbox");
	mail_location_free(&loc);
}

static void test_modifiers(void **state)
{
	struct buf out = BUF_INIT(256);
	struct mailbox_error err;
	static const struct {
		const char *tmpl, *expect;
	} cases[] = {
		{"/m/%1n/%n", "/m/j/jdoe"}, {"/m/%2.1n", "/m/o"},
		{"/m/%-2.2n", "/m/oe"},	    {"/m/%-1n", "/m/e"},
		{"/m/%Un", "/m/JDOE"},	    {"/m/%{username}@%{domain}", "/m/jdoe@Example.COM"},
		{"/m/%%n", "/m/%n"},	    {"/m/%9n", "/m/jdoe"},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		buf_reset(&out);
		assert_true(mail_location_expand(cases[i].tmpl, &jdoe, &out, &err));
		assert_string_equal(buf_cstr(&out), cases[i].expect);
	}
	buf_free(&out);
}

static void test_errors(void **state)
{
	static const struct mail_location_vars evil = {"../../etc@x", "/home/e"};
	static const struct mail_location_vars dots = {"..", "/home/e"};
	static const struct mail_location_vars dom = {"a@../x", "/home/e"};
	static const struct mail_location_vars nohome = {"jdoe", NULL};
	static const struct mail_location_vars ctl = {"a\nb", "/home/e"};

	(void)state;
	parse_bad("mbox:~/mail", &jdoe);
	parse_bad("maildir:", &jdoe);
	parse_bad("maildir:relative/path", &jdoe);
	parse_bad("maildir:/", &jdoe);
	parse_bad("maildir:/a/../b", &jdoe);
	parse_bad("maildir:/a/./b", &jdoe);
	parse_bad("maildir:~/M:UNKNOWN=1", &jdoe);
	parse_bad("maildir:~/M:LAYOUT=weird", &jdoe);
	parse_bad("maildir:~/M:INDEX=rel", &jdoe);
	parse_bad("maildir:~/M:NOEQUALS", &jdoe);
	parse_bad("maildir:/m/%x", &jdoe);
	parse_bad("maildir:/m/%", &jdoe);
	parse_bad("maildir:/m/%{nope}", &jdoe);
	parse_bad("maildir:/m/%{user", &jdoe);
	parse_bad("maildir:~other/M", &jdoe);
	parse_bad("maildir:/m/%n", &evil);
	parse_bad("maildir:/m/%n", &dots);
	parse_bad("maildir:/m/%d", &dom);
	parse_bad("maildir:~/M", &nohome);
	parse_bad("maildir:/m/%u", &ctl);
}

static void test_colons(void **state)
{
	struct mail_location *loc;

	(void)state;
	loc = parse_ok("maildir:/srv/a::b/%n//", &jdoe);
	assert_string_equal(loc->root, "/srv/a:b/jdoe");
	mail_location_free(&loc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_forms),
		cmocka_unit_test(test_modifiers),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_colons),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
