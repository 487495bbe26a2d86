/*
 * Unit tests for storage/quota.c: Dovecot quota_rule strings give the
 * limits Dovecot would apply, and saves over a limit are refused with the
 * over-quota error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../storage/quota.h"

static void add_ok(struct quota_rules *rules, const char *rule)
{
	struct mailbox_error err;

	if (!quota_rules_add(rules, rule, &err))
		fail_msg("%s: %s", rule, err.text);
}

static void test_limits(void **state)
{
	struct quota_rules rules = {0};
	uint64_t bytes, msgs;

	(void)state;
	assert_true(quota_rules_empty(&rules));
	add_ok(&rules, "*:storage=2G");
	/* A second "*" rule changes only the limits it names, as Dovecot. */
	add_ok(&rules, "*:messages=10000");
	quota_rules_limits(&rules, "INBOX", &bytes, &msgs);
	assert_int_equal(bytes, 2048ULL * 1024 * 1024);
	assert_int_equal(msgs, 10000);
	add_ok(&rules, "*:storage=1G");
	add_ok(&rules, "Trash:storage=+100M");
	add_ok(&rules, "Spam:ignore");
	add_ok(&rules, "Archive:storage=50%");
	add_ok(&rules, "Big:bytes=2048");
	add_ok(&rules, "Plain:storage=100");
	quota_rules_limits(&rules, "INBOX", &bytes, &msgs);
	assert_int_equal(bytes, 1024ULL * 1024 * 1024);
	assert_int_equal(msgs, 10000);
	quota_rules_limits(&rules, "Trash", &bytes, &msgs);
	assert_int_equal(bytes, 1024ULL * 1024 * 1024 + 100ULL * 1024 * 1024);
	assert_int_equal(msgs, 10000);
	quota_rules_limits(&rules, "Archive", &bytes, &msgs);
	assert_int_equal(bytes, 512ULL * 1024 * 1024);
	quota_rules_limits(&rules, "Big", &bytes, &msgs);
	assert_int_equal(bytes, 2048);
	/* storage= without a suffix is in kilobytes, as in Dovecot. */
	quota_rules_limits(&rules, "Plain", &bytes, &msgs);
	assert_int_equal(bytes, 100 * 1024);
	assert_true(quota_rules_ignored(&rules, "Spam"));
	assert_false(quota_rules_ignored(&rules, "INBOX"));
	quota_rules_free(&rules);
}

static void test_check(void **state)
{
	struct quota_rules rules = {0};
	struct quota_usage usage = {1000, 9};
	struct mailbox_error err;

	(void)state;
	add_ok(&rules, "*:bytes=1100:messages=10");
	assert_true(quota_check(&rules, "INBOX", &usage, 100, 1, &err));
	assert_false(quota_check(&rules, "INBOX", &usage, 101, 1, &err));
	assert_int_equal(err.code, MAILBOX_ERROR_OVER_QUOTA);
	assert_string_equal(err.text, QUOTA_EXCEEDED_MESSAGE);
	assert_false(quota_check(&rules, "INBOX", &usage, 1, 2, &err));
	usage.bytes = UINT64_MAX - 5;
	assert_false(quota_check(&rules, "INBOX", &usage, 10, 1, &err));
	quota_rules_free(&rules);
	/* No rules: unlimited. */
	assert_true(quota_check(&rules, "INBOX", &usage, 10, 1, &err));
	/* storage=0 means no limit. */
	add_ok(&rules, "*:storage=0");
	usage.bytes = 1ULL << 50;
	assert_true(quota_check(&rules, "INBOX", &usage, 10, 1, &err));
	quota_rules_free(&rules);
}

static void test_bad_rules(void **state)
{
	static const char *const bad[] = {"storage=1G",	   ":storage=1G",
					  "*:storage=1X",  "*:storage=",
					  "*:storage=abc", "*:nokey=5",
					  "*:storage=+5M", "*:messages=10%",
					  "*:storage",	   "*:storage=99999999999999999999T"};
	struct quota_rules rules = {0};
	struct mailbox_error err;

	(void)state;
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		if (quota_rules_add(&rules, bad[i], &err))
			fail_msg("accepted %s", bad[i]);
		assert_int_equal(err.code, MAILBOX_ERROR_PARAMS);
	}
	assert_true(quota_rules_empty(&rules));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_bad_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
