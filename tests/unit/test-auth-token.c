/*
 * Unit tests for roost-auth's one-time tokens (auth/token.c): single use,
 * bound to login pid, service and IP, and expiring.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../auth/auth.h"
#include "ioloop.h"

const struct roost_settings *auth_set;

static void test_single_use_and_binding(void **state)
{
	uint8_t token[AUTH_TOKEN_SIZE], other[AUTH_TOKEN_SIZE];
	char user[POLICY_USER_MAX];

	(void)state;
	assert_true(auth_token_create("jdoe", 100, "imap", "192.0.2.7", token));
	assert_true(auth_token_create("jdoe", 100, "imap", "192.0.2.7", other));
	assert_memory_not_equal(token, other, AUTH_TOKEN_SIZE);
	/* Another login process, service or IP cannot use it, and it is gone. */
	assert_false(auth_token_redeem(token, AUTH_TOKEN_SIZE, 101, "imap", "192.0.2.7", user,
				       sizeof(user)));
	assert_false(auth_token_redeem(token, AUTH_TOKEN_SIZE, 100, "imap", "192.0.2.7", user,
				       sizeof(user)));
	assert_false(auth_token_redeem(other, AUTH_TOKEN_SIZE, 100, "pop3", "192.0.2.7", user,
				       sizeof(user)));
	assert_true(auth_token_create("jdoe", 100, "imap", "192.0.2.7", token));
	assert_false(auth_token_redeem(token, AUTH_TOKEN_SIZE, 100, "imap", "192.0.2.8", user,
				       sizeof(user)));
	/* The right holder redeems it exactly once. */
	assert_true(auth_token_create("jdoe", 100, "imap", "192.0.2.7", token));
	assert_true(auth_token_redeem(token, AUTH_TOKEN_SIZE, 100, "imap", "192.0.2.7", user,
				      sizeof(user)));
	assert_string_equal(user, "jdoe");
	assert_false(auth_token_redeem(token, AUTH_TOKEN_SIZE, 100, "imap", "192.0.2.7", user,
				       sizeof(user)));
	/* A wrong length never matches. */
	assert_false(auth_token_redeem(token, 16, 100, "imap", "192.0.2.7", user, sizeof(user)));
}

static void test_expiry(void **state)
{
	uint8_t token[AUTH_TOKEN_SIZE];
	char user[POLICY_USER_MAX];

	(void)state;
	/* The tests run with 100 ms tokens. */
	assert_true(auth_token_create("jdoe", 100, "imap", "::1", token));
	usleep(150 * 1000);
	ioloop_refresh_now();
	assert_false(
		auth_token_redeem(token, AUTH_TOKEN_SIZE, 100, "imap", "::1", user, sizeof(user)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_use_and_binding),
		cmocka_unit_test(test_expiry),
	};
	ioloop_init();
	auth_tokens_init(100);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
