/*
 * Unit tests for roost-policy's state (policy/registry.c, penalty.c,
 * counters.c): reservation under a limit, release, filters for who/kick,
 * penalty growth and decay, counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../policy/policy.h"

static void test_reserve_under_limit(void **state)
{
	struct registry *reg = registry_create();
	unsigned int count;

	(void)state;
	for (uint64_t id = 1; id <= 10; id++) {
		assert_true(registry_reserve(reg, id, "imap", "jdoe", "192.0.2.7", 10, 0, &count));
		assert_int_equal(count, id);
	}
	/* The 11th session of the same user from the same IP is refused... */
	assert_false(registry_reserve(reg, 11, "imap", "jdoe", "192.0.2.7", 10, 0, &count));
	assert_int_equal(count, 10);
	/* ...but not from another IP, another user or another protocol. */
	assert_true(registry_reserve(reg, 12, "imap", "jdoe", "192.0.2.8", 10, 0, &count));
	assert_true(registry_reserve(reg, 13, "imap", "other", "192.0.2.7", 10, 0, &count));
	assert_true(registry_reserve(reg, 14, "pop3", "jdoe", "192.0.2.7", 10, 0, &count));
	assert_int_equal(registry_count(reg, "imap"), 12);
	assert_int_equal(registry_count(reg, "pop3"), 1);
	assert_int_equal(registry_count(reg, NULL), 13);
	/* Ending one makes room again; a duplicate id is refused. */
	assert_true(registry_end(reg, 5));
	assert_false(registry_end(reg, 5));
	assert_true(registry_reserve(reg, 15, "imap", "jdoe", "192.0.2.7", 10, 0, &count));
	assert_false(registry_reserve(reg, 15, "imap", "x", "192.0.2.9", 10, 0, &count));
	/* Limit 0 means unlimited. */
	for (uint64_t id = 100; id < 200; id++)
		assert_true(registry_reserve(reg, id, "pop3", "bulk", "::1", 0, 0, &count));
	registry_destroy(&reg);
	assert_null(reg);
}

struct seen {
	unsigned int n;
	pid_t pids[16];
};

static void collect(void *ctx, const struct policy_session *s)
{
	struct seen *seen = ctx;

	seen->pids[seen->n++] = s->pid;
}

static void test_filters(void **state)
{
	struct registry *reg = registry_create();
	struct seen seen;
	unsigned int count;

	(void)state;
	assert_true(
		registry_reserve(reg, 1, "imap", "jdoe@example.com", "192.0.2.7", 0, 0, &count));
	assert_true(registry_reserve(reg, 2, "imap", "foo", "192.0.2.200", 0, 0, &count));
	assert_true(registry_reserve(reg, 3, "pop3", "foo", "198.51.100.1", 0, 0, &count));
	assert_true(registry_reserve(reg, 4, "imap", "foo", "2001:db8::1", 0, 0, &count));
	assert_true(registry_attach(reg, 1, 101));
	assert_true(registry_attach(reg, 2, 102));
	assert_true(registry_attach(reg, 3, 103));
	assert_true(registry_attach(reg, 4, 104));
	assert_false(registry_attach(reg, 99, 199));

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(registry_foreach(reg, "foo", "192.0.2.0/24", collect, &seen), 1);
	assert_int_equal(seen.pids[0], 102);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(registry_foreach(reg, "*@example.com", "", collect, &seen), 1);
	assert_int_equal(seen.pids[0], 101);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(registry_foreach(reg, "", "2001:db8::/32", collect, &seen), 1);
	assert_int_equal(seen.pids[0], 104);
	assert_int_equal(registry_foreach(reg, "f?o", "", collect, &seen), 3);
	assert_int_equal(registry_foreach(reg, "", "", collect, &seen), 4);
	/* A network that does not parse matches nothing rather than everything. */
	assert_int_equal(registry_foreach(reg, "", "not/a/net", collect, &seen), 0);
	registry_destroy(&reg);
}

static void test_penalty_grows_and_decays(void **state)
{
	struct penalty *p = penalty_create(15000, 60000);
	unsigned int failures;
	uint64_t now = 1000000;

	(void)state;
	assert_int_equal(penalty_delay(p, "192.0.2.7", now, &failures), 0);
	penalty_failure(p, "192.0.2.7", now);
	assert_int_equal(penalty_delay(p, "192.0.2.7", now, &failures), 0);
	assert_int_equal(failures, 1);
	penalty_failure(p, "192.0.2.7", now);
	assert_int_equal(penalty_delay(p, "192.0.2.7", now, &failures), 1000);
	penalty_failure(p, "192.0.2.7", now);
	assert_int_equal(penalty_delay(p, "192.0.2.7", now, &failures), 2000);
	for (int i = 0; i < 10; i++)
		penalty_failure(p, "192.0.2.7", now);
	assert_int_equal(penalty_delay(p, "192.0.2.7", now, &failures), 15000);
	assert_int_equal(failures, 13);
	/* Other IPs are not affected. */
	assert_int_equal(penalty_delay(p, "192.0.2.8", now, &failures), 0);
	/* One decay period halves the count: 13 -> 6 -> 16 s capped at 15 s. */
	assert_int_equal(penalty_delay(p, "192.0.2.7", now + 60000, &failures), 15000);
	assert_int_equal(failures, 6);
	/* Three periods: 13 >> 3 = 1, no extra delay. */
	assert_int_equal(penalty_delay(p, "192.0.2.7", now + 180000, &failures), 0);
	assert_int_equal(failures, 1);
	/* Fully decayed records are dropped. */
	assert_int_equal(penalty_ip_count(p), 1);
	penalty_expire(p, now + 3600000);
	assert_int_equal(penalty_ip_count(p), 0);
	penalty_destroy(&p);
}

static void test_penalty_bounded(void **state)
{
	struct penalty *p = penalty_create(15000, 60000);
	char ip[64];

	(void)state;
	for (unsigned int i = 0; i < PENALTY_MAX_IPS + 100; i++) {
		snprintf(ip, sizeof(ip), "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		penalty_failure(p, ip, 1000 + i);
	}
	assert_int_equal(penalty_ip_count(p), PENALTY_MAX_IPS);
	penalty_destroy(&p);
}

static void test_counters(void **state)
{
	struct counters *c = counters_create();

	(void)state;
	assert_true(counters_add(c, "logins_imap", 1));
	assert_true(counters_add(c, "logins_imap", 2));
	assert_true(counters_add(c, "auth_failures_pop3", 1));
	assert_int_equal(counters_get(c, "logins_imap"), 3);
	assert_int_equal(counters_get(c, "nothing"), 0);
	counters_destroy(&c);
	assert_null(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reserve_under_limit),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_penalty_grows_and_decays),
		cmocka_unit_test(test_penalty_bounded),
		cmocka_unit_test(test_counters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
