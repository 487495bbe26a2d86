/*
 * Unit tests for lib/auth-vars.c: Dovecot's %-variables and their long
 * forms, the path safety rules, and the user-name rules (auth_username_chars,
 * auth_default_realm, auth_username_format, recipient_delimiter).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth-vars.h"

static const char *expand(const char *tmpl, const char *user, const char *home,
			  enum auth_vars_flags flags)
{
	static struct buf b = BUF_INIT(8192);
	struct auth_vars vars = {.user = user,
				 .home = home,
				 .service = "imap",
				 .rip = "192.0.2.7",
				 .lip = "192.0.2.1"};
	const char *error;

	buf_reset(&b);
	if (!auth_vars_expand(&b, tmpl, &vars, flags, &error))
		return NULL;
	return buf_cstr(&b);
}

static void test_short_and_long_forms(void **state)
{
	(void)state;
	assert_string_equal(expand("/home/vmail/%d/%n", "jdoe@example.com", NULL, 0),
			    "/home/vmail/example.com/jdoe");
	assert_string_equal(expand("%u|%n|%d|%h|%s|%r|%l|%%", "jdoe@example.com", "/h", 0),
			    "jdoe@example.com|jdoe|example.com|/h|imap|192.0.2.7|192.0.2.1|%");
	assert_string_equal(expand("%{user} %{username} %{domain} %{home} %{service}",
				   "jdoe@example.com", "/h", 0),
			    "jdoe@example.com jdoe example.com /h imap");
	assert_string_equal(expand("%Lu %Ln %Ld %Uu %L{domain}", "JDoe@Example.COM", NULL, 0),
			    "jdoe@example.com jdoe example.com JDOE@EXAMPLE.COM example.com");
	/* Without a domain: %n is the whole name, %d is empty. */
	assert_string_equal(expand("[%n][%d]", "jdoe", NULL, 0), "[jdoe][]");
	/* The first '@' splits, as in Dovecot. */
	assert_string_equal(expand("%n %d", "a@b@c", NULL, 0), "a b@c");
	/* Offsets and widths in bytes. */
	assert_string_equal(expand("/var/mail/%1Ln/%2.3n/%Ln", "JDoe@x", NULL, 0),
			    "/var/mail/j/oe/jdoe");
	assert_string_equal(expand("%9.2n|%0n", "jdoe", NULL, 0), "|");
	assert_string_equal(expand("maildir:~/Maildir", "x", NULL, 0), "maildir:~/Maildir");
	assert_string_equal(expand("", "x", NULL, 0), "");
	/* UTF-8 passes through; only ASCII letters change case. */
	assert_string_equal(expand("%Lu", "J\xc3\x89R\xc3\xb4ME", NULL, 0), "j\xc3\x89r\xc3\xb4me");
}

static void test_errors(void **state)
{
	struct buf b = BUF_INIT(64);
	struct auth_vars vars = {.user = "jdoe@example.com"};
	const char *error;

	(void)state;
	assert_null(expand("%x", "u", NULL, 0));
	assert_null(expand("%{nope}", "u", NULL, 0));
	assert_null(expand("%{user", "u", NULL, 0));
	assert_null(expand("abc%", "u", NULL, 0));
	assert_null(expand("%L", "u", NULL, 0));
	assert_null(expand("%3.u", "u", NULL, 0));
	/* A variable without a value is an error, not an empty string. */
	assert_null(expand("%h/Maildir", "u", NULL, 0));
	assert_true(buf_append_str(&b, "keep:"));
	assert_false(auth_vars_expand(&b, "%{bogus}", &vars, 0, &error));
	assert_string_equal(error, "Unknown variable %{bogus}");
	assert_false(auth_vars_expand(&b, "%q", &vars, 0, &error));
	assert_string_equal(error, "Unknown variable %q");
	/* Output limits: the buffer's and the expansion's own. */
	assert_false(auth_vars_expand(&b, "%u%u%u%u%u", &vars, 0, &error));
	assert_string_equal(buf_cstr(&b), "keep:");
	buf_free(&b);

	static char big[AUTH_VARS_OUTPUT_MAX + 10];
	struct buf huge = BUF_INIT(1 << 20);

	memset(big, 'a', sizeof(big) - 1);
	vars.user = big;
	assert_false(auth_vars_expand(&huge, "%u", &vars, 0, &error));
	vars.user = "jdoe";
	assert_false(auth_vars_expand(&huge, big, &vars, 0, &error));
	assert_int_equal(buf_len(&huge), 0);
	buf_free(&huge);
}

static void test_path_safety(void **state)
{
	(void)state;
	assert_string_equal(
		expand("/home/vmail/%d/%n", "jdoe@example.com", NULL, AUTH_VARS_FLAG_PATH),
		"/home/vmail/example.com/jdoe");
	assert_null(expand("/home/vmail/%d/%n", "jdoe@..", NULL, AUTH_VARS_FLAG_PATH));
	assert_null(expand("/home/vmail/%d/%n", "..@example.com", NULL, AUTH_VARS_FLAG_PATH));
	assert_null(expand("/home/vmail/%u", "../../etc", NULL, AUTH_VARS_FLAG_PATH));
	assert_null(expand("/home/vmail/%u", "a/b", NULL, AUTH_VARS_FLAG_PATH));
	assert_null(expand("/home/%u", "a\nb", NULL, AUTH_VARS_FLAG_PATH));
	/* An empty local part would make the domain's directory the user's home. */
	assert_null(expand("/home/vmail/%d/%n", "@example.com", NULL, AUTH_VARS_FLAG_PATH));
	assert_string_equal(expand("/home/vmail/%d/%n", "@example.com", NULL, 0),
			    "/home/vmail/example.com/");
	/* An empty domain is allowed: sites without domains use %d too. */
	assert_string_equal(expand("/home/%d/%n", "jdoe", NULL, AUTH_VARS_FLAG_PATH),
			    "/home//jdoe");
	/* "..." and "a..b" are names, not parent references. */
	assert_string_equal(expand("/m/%u", "...", NULL, AUTH_VARS_FLAG_PATH), "/m/...");
	assert_string_equal(expand("/m/%u", "a..b", NULL, AUTH_VARS_FLAG_PATH), "/m/a..b");
	/* %h may hold slashes; the result is still checked. */
	assert_string_equal(expand("maildir:%h/Maildir", "u", "/home/u", AUTH_VARS_FLAG_PATH),
			    "maildir:/home/u/Maildir");
	assert_null(expand("%h/Maildir", "u", "/home/../etc", AUTH_VARS_FLAG_PATH));
	/* Without the flag a template may do what the administrator wrote. */
	assert_string_equal(expand("%u", "../x", NULL, 0), "../x");
}

static const char *norm(const char *raw, const char *chars, const char *format, const char *realm)
{
	static struct buf b = BUF_INIT(1024);
	struct auth_user_settings set = {
		.username_chars = chars, .username_format = format, .default_realm = realm};
	const char *error;

	buf_reset(&b);
	if (!auth_user_normalize(raw, strlen(raw), &set, &b, &error)) {
		assert_int_equal(buf_len(&b), 0);
		return NULL;
	}
	return buf_cstr(&b);
}

static void test_normalize(void **state)
{
	static char longname[AUTH_USER_MAX_LEN + 2];

	(void)state;
	assert_string_equal(norm("JDoe@Example.com", NULL, NULL, NULL), "jdoe@example.com");
	assert_string_equal(norm("JDoe", NULL, NULL, "Example.com"), "jdoe@example.com");
	assert_string_equal(norm("JDoe@other.org", NULL, NULL, "example.com"), "jdoe@other.org");
	assert_string_equal(norm("JDoe", NULL, "", ""), "JDoe");
	assert_string_equal(norm("JDoe@Example.com", NULL, "%n", NULL), "JDoe");
	/* Dovecot's default character set refuses spaces, quotes, '+', '/' ... */
	assert_null(norm("j doe", NULL, NULL, NULL));
	assert_null(norm("jdoe+x@example.com", NULL, NULL, NULL));
	assert_null(norm("../etc", NULL, NULL, NULL));
	assert_null(norm("j\xc3\xa9", NULL, NULL, NULL));
	/* ... unless auth_username_chars is empty; control bytes never pass. */
	assert_string_equal(norm("j doe+x", "", "", NULL), "j doe+x");
	assert_null(norm("j\x01x", "", NULL, NULL));
	assert_null(norm("j\rx", "", NULL, NULL));
	assert_null(norm("", NULL, NULL, NULL));
	assert_null(norm("@", NULL, "%n", NULL)); /* empty after formatting */
	memset(longname, 'a', sizeof(longname) - 1);
	assert_null(norm(longname, NULL, NULL, NULL));
	longname[AUTH_USER_MAX_LEN] = '\0';
	assert_non_null(norm(longname, NULL, NULL, NULL));
	assert_null(norm(longname, NULL, NULL, "example.com")); /* realm makes it too long */
	assert_null(norm("jdoe", NULL, "%Lx", NULL));		/* bad format: error */

	struct buf b = BUF_INIT(64);
	struct auth_user_settings set = {0};
	const char *error;

	assert_false(auth_user_normalize("a\0b", 3, &set, &b, &error));
	buf_free(&b);
}

static void test_split_detail(void **state)
{
	struct buf user = BUF_INIT(256), detail = BUF_INIT(256);

	(void)state;
	assert_int_equal(auth_user_split_detail("jdoe+lists@example.com", "+", &user, &detail), 1);
	assert_string_equal(buf_cstr(&user), "jdoe@example.com");
	assert_string_equal(buf_cstr(&detail), "lists");
	buf_reset(&user);
	buf_reset(&detail);
	/* Several delimiters; the first one found splits; no domain. */
	assert_int_equal(auth_user_split_detail("jdoe-a+b", "+-", &user, &detail), 1);
	assert_string_equal(buf_cstr(&user), "jdoe");
	assert_string_equal(buf_cstr(&detail), "a+b");
	buf_reset(&user);
	buf_reset(&detail);
	assert_int_equal(auth_user_split_detail("jdoe+@example.com", "+", &user, &detail), 1);
	assert_string_equal(buf_cstr(&user), "jdoe@example.com");
	assert_string_equal(buf_cstr(&detail), "");
	buf_reset(&user);
	/* A delimiter in the domain or in first place does not split. */
	assert_int_equal(auth_user_split_detail("jdoe@ex+ample.com", "+", &user, &detail), 0);
	assert_string_equal(buf_cstr(&user), "jdoe@ex+ample.com");
	buf_reset(&user);
	assert_int_equal(auth_user_split_detail("+jdoe@example.com", "+", &user, &detail), 0);
	buf_reset(&user);
	assert_int_equal(auth_user_split_detail("jdoe+x@example.com", "", &user, &detail), 0);
	assert_string_equal(buf_cstr(&user), "jdoe+x@example.com");
	buf_reset(&user);
	assert_int_equal(auth_user_split_detail("jdoe+x@example.com", NULL, &user, &detail), 0);
	buf_free(&user);

	struct buf tiny = BUF_INIT(4);

	assert_int_equal(auth_user_split_detail("jdoe+x@example.com", "+", &tiny, &detail), -1);
	assert_int_equal(buf_len(&tiny), 0);
	buf_free(&tiny);
	buf_free(&detail);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_and_long_forms), cmocka_unit_test(test_errors),
		cmocka_unit_test(test_path_safety),	     cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_split_detail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
