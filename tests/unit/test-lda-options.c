/*
 * Unit tests for roost-lda's command line (lda/options.c), its envelope
 * address checks, the -o overrides on top of roost.conf (lda/config.c) and
 * userdb extra fields (lda/userdb.c): the command lines Postfix and
 * administrators actually write for dovecot-lda.
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

#include "../../lda/lda.h"

static bool parse(struct lda_options *opts, const char **error_r, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;

	argv[argc++] = "roost-lda";
	va_start(ap, error_r);
	for (char *arg; (arg = va_arg(ap, char *)) != NULL;)
		argv[argc++] = arg;
	va_end(ap);
	argv[argc] = NULL;
	return lda_options_parse(argc, argv, opts, error_r);
}

static void test_postfix_seed_line(void **state)
{
	struct lda_options o;
	const char *error = NULL;

	(void)state;
	/* argv=/usr/lib/roost/roost-lda -f ${sender} -d ${recipient} */
	assert_true(parse(&o, &error, "-f", "sender@example.org", "-d", "jdoe+lists@example.com",
			  NULL));
	assert_string_equal(o.mail_from, "sender@example.org");
	assert_string_equal(o.user, "jdoe+lists@example.com");
	assert_null(o.mailbox);
	assert_null(o.orig_rcpt);
	assert_null(o.path);
	assert_null(o.config_path);
	assert_false(o.stderr_errors);
	assert_false(o.keep_env);
	assert_int_equal(o.override_count, 0);

	/* The null sender: Postfix passes an empty ${sender}. */
	assert_true(parse(&o, &error, "-f", "", "-d", "jdoe@example.com", NULL));
	assert_string_equal(o.mail_from, "");
}

static void test_all_options(void **state)
{
	struct lda_options o;
	const char *error = NULL;

	(void)state;
	assert_true(parse(&o, &error, "-c", "/etc/roost/alt.conf", "-a", "orig@example.com", "-r",
			  "final@example.com", "-m", "Lists/roost", "-p", "/tmp/msg", "-e", "-k",
			  "-o", "lda_mailbox_autocreate=yes", "-o",
			  "plugin/quota_rule=*:storage=1G", "-d", "jdoe", NULL));
	assert_string_equal(o.config_path, "/etc/roost/alt.conf");
	assert_string_equal(o.orig_rcpt, "orig@example.com");
	assert_string_equal(o.final_rcpt, "final@example.com");
	assert_string_equal(o.mailbox, "Lists/roost");
	assert_string_equal(o.path, "/tmp/msg");
	assert_true(o.stderr_errors);
	assert_true(o.keep_env);
	assert_int_equal(o.override_count, 2);
	assert_string_equal(o.overrides[0], "lda_mailbox_autocreate=yes");
	assert_string_equal(o.overrides[1], "plugin/quota_rule=*:storage=1G");
	assert_string_equal(o.user, "jdoe");
}

static void test_attached_and_grouped(void **state)
{
	struct lda_options o;
	const char *error = NULL;

	(void)state;
	assert_true(parse(&o, &error, "-ek", "-djdoe@example.com", "-mSpam", "-fa@b.c", NULL));
	assert_true(o.stderr_errors);
	assert_true(o.keep_env);
	assert_string_equal(o.user, "jdoe@example.com");
	assert_string_equal(o.mailbox, "Spam");
	assert_string_equal(o.mail_from, "a@b.c");
	/* A flag group may end in an option taking the next argument. */
	assert_true(parse(&o, &error, "-ed", "jdoe", NULL));
	assert_true(o.stderr_errors);
	assert_string_equal(o.user, "jdoe");
	/* A value may itself start with '-'. */
	assert_true(parse(&o, &error, "-f", "-odd@example.com", NULL));
	assert_string_equal(o.mail_from, "-odd@example.com");
	/* -m "" is INBOX (Postfix's -m ${extension} without an extension). */
	assert_true(parse(&o, &error, "-m", "Spam", "-m", "", NULL));
	assert_null(o.mailbox);
	/* "--" ends the options; nothing may follow. */
	assert_true(parse(&o, &error, "-d", "jdoe", "--", NULL));
}

static void test_usage_errors(void **state)
{
	struct lda_options o;
	const char *error = NULL;

	(void)state;
	assert_false(parse(&o, &error, "-x", NULL));
	assert_string_equal(error, "Unknown option: -x");
	assert_false(parse(&o, &error, "-d", NULL));
	assert_string_equal(error, "Option -d needs a value");
	assert_false(parse(&o, &error, "-d", "jdoe", "extra", NULL));
	assert_string_equal(error, "extra");
	assert_false(parse(&o, &error, "-d", "jdoe", "--", "extra", NULL));
	assert_string_equal(error, "extra");
	assert_false(parse(&o, &error, "-o", "no_equals_sign", NULL));
	assert_string_equal(error, "-o needs NAME=VALUE");
	assert_false(parse(&o, &error, "-ekz", NULL));
	assert_string_equal(error, "Unknown option: -z");
}

static void test_too_many_overrides(void **state)
{
	char *argv[2 * LDA_OVERRIDES_MAX + 4];
	struct lda_options o;
	const char *error = NULL;
	int argc = 0;

	(void)state;
	argv[argc++] = "roost-lda";
	for (int i = 0; i <= LDA_OVERRIDES_MAX; i++) {
		argv[argc++] = "-o";
		argv[argc++] = "mail_debug=yes";
	}
	argv[argc] = NULL;
	assert_false(lda_options_parse(argc, argv, &o, &error));
	assert_string_equal(error, "Too many -o options");
	assert_true(lda_options_parse(argc - 2, argv, &o, &error));
	assert_int_equal(o.override_count, LDA_OVERRIDES_MAX);
}

static void test_address_parse(void **state)
{
	char out[LDA_ADDRESS_MAX + 1];
	char long_addr[LDA_ADDRESS_MAX + 16];

	(void)state;
	assert_true(lda_address_parse("user@example.com", false, false, out));
	assert_string_equal(out, "user@example.com");
	assert_true(lda_address_parse("<user@example.com>", false, false, out));
	assert_string_equal(out, "user@example.com");
	assert_true(lda_address_parse("<>", true, false, out));
	assert_string_equal(out, "");
	assert_true(lda_address_parse("", true, false, out));
	assert_false(lda_address_parse("", false, true, out));
	assert_false(lda_address_parse("<>", false, true, out));
	/* RFC 5321 local parts: dot-atoms, quoted strings, 8-bit (SMTPUTF8). */
	assert_true(lda_address_parse("first.last+tag@example.com", false, false, out));
	assert_true(lda_address_parse("\"john doe\"@example.com", false, false, out));
	assert_string_equal(out, "\"john doe\"@example.com");
	assert_true(lda_address_parse("\"a\\\"b\"@example.com", false, false, out));
	assert_true(lda_address_parse("j\xc3\xb6rg@example.com", false, false, out));
	assert_true(lda_address_parse("postmaster@[192.0.2.1]", false, false, out));
	assert_true(lda_address_parse("jdoe", false, true, out));
	assert_false(lda_address_parse("jdoe", false, false, out));
	/* Not addresses. */
	assert_false(lda_address_parse("a@b@c", false, true, out));
	assert_false(lda_address_parse("<a@b", false, true, out));
	assert_false(lda_address_parse("a@b>", false, true, out));
	assert_false(lda_address_parse("a b@c", false, true, out));
	assert_false(lda_address_parse("a@b\nX-Evil: 1", false, true, out));
	assert_false(lda_address_parse("@example.com", false, true, out));
	assert_false(lda_address_parse("user@", false, true, out));
	assert_false(lda_address_parse("\"open@example.com", false, true, out));
	assert_false(lda_address_parse("user@exa mple.com", false, true, out));
	memset(long_addr, 'a', sizeof(long_addr) - 1);
	long_addr[sizeof(long_addr) - 1] = '\0';
	long_addr[10] = '@';
	assert_false(lda_address_parse(long_addr, false, true, out));
	long_addr[LDA_ADDRESS_MAX] = '\0';
	assert_true(lda_address_parse(long_addr, false, true, out));
	assert_int_equal(strlen(out), LDA_ADDRESS_MAX);
}

static char *write_config(const char *text)
{
	char *path = strdup("/tmp/test-lda-options-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_settings_overrides(void **state)
{
	char *path = write_config("mail_location = maildir:~/Maildir\n"
				  "lda_mailbox_autocreate = no\n"
				  "protocol lda {\n"
				  "  lda_mailbox_autosubscribe = no\n"
				  "  plugin {\n    quota_rule = *:storage=10M\n  }\n"
				  "}\n");
	const char *overrides[] = {"lda_mailbox_autocreate=yes", "lda_mailbox_autosubscribe = yes",
				   "plugin/quota_rule=*:storage=1G", "mail_location=maildir:/m/%u"};
	struct roost_settings *set;
	const struct roost_settings *lda;
	char *error = NULL;

	(void)state;
	/* Without overrides: the file as written. */
	set = lda_settings_read(path, NULL, 0, &error);
	assert_non_null(set);
	lda = settings_for_protocol(set, "lda");
	assert_false(lda->lda_mailbox_autocreate);
	assert_false(lda->lda_mailbox_autosubscribe);
	assert_string_equal(settings_plugin_get(lda, "quota_rule"), "*:storage=10M");
	settings_free(&set);

	/* -o wins over the global value and over protocol lda { }. */
	set = lda_settings_read(path, overrides, N_ELEMENTS(overrides), &error);
	assert_non_null(set);
	lda = settings_for_protocol(set, "lda");
	assert_true(lda->lda_mailbox_autocreate);
	assert_true(lda->lda_mailbox_autosubscribe);
	assert_string_equal(settings_plugin_get(lda, "quota_rule"), "*:storage=1G");
	assert_string_equal(lda->mail_location, "maildir:/m/%u");
	/* The defaults are still there. */
	assert_int_equal(lda->lda_max_message_size, 100ULL * 1024 * 1024);
	settings_free(&set);

	/* A bad override is named in the error. */
	{
		const char *bad[] = {"lda_mailbox_autocreat=yes"};

		assert_null(lda_settings_read(path, bad, 1, &error));
		assert_non_null(strstr(error, "Invalid -o lda_mailbox_autocreat=yes"));
		assert_non_null(strstr(error, "did you mean lda_mailbox_autocreate?"));
		free(error);
	}
	{
		const char *bad[] = {"lda_max_message_size=lots"};

		assert_null(lda_settings_read(path, bad, 1, &error));
		assert_non_null(strstr(error, "Invalid -o lda_max_message_size=lots"));
		free(error);
	}
	{
		const char *bad[] = {"=yes"};

		assert_null(lda_settings_read(path, bad, 1, &error));
		assert_non_null(strstr(error, "not NAME=VALUE"));
		free(error);
	}
	unlink(path);
	free(path);

	/* A missing file is an error naming it. */
	assert_null(lda_settings_read("/nonexistent/roost.conf", NULL, 0, &error));
	assert_non_null(strstr(error, "/nonexistent/roost.conf"));
	free(error);
}

static void test_user_extra(void **state)
{
	struct lda_user user;

	(void)state;
	memset(&user, 0, sizeof(user));
	(void)str_copy(user.extra, sizeof(user.extra),
		       "quota_rule=*:storage=1G\tquota_rule2=Trash:ignore\tempty=\tnice=10");
	assert_string_equal(lda_user_extra(&user, "quota_rule"), "*:storage=1G");
	assert_string_equal(lda_user_extra(&user, "quota_rule2"), "Trash:ignore");
	assert_string_equal(lda_user_extra(&user, "empty"), "");
	assert_string_equal(lda_user_extra(&user, "nice"), "10");
	assert_null(lda_user_extra(&user, "quota"));
	assert_null(lda_user_extra(&user, "quota_rule3"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_postfix_seed_line),    cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_attached_and_grouped), cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_too_many_overrides),   cmocka_unit_test(test_address_parse),
		cmocka_unit_test(test_settings_overrides),   cmocka_unit_test(test_user_extra),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
