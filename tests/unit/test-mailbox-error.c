/*
 * Unit tests for storage/mailbox-error.c: codes keep their meaning for the
 * protocol layers (temporary or not), errno texts are appended, long texts
 * are cut safely and a NULL error pointer is accepted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>

#include <cmocka.h>

#include "../../storage/mailbox-error.h"

static void test_codes(void **state)
{
	struct mailbox_error err;
	char big[2000];

	(void)state;
	assert_false(mailbox_error_set(&err, MAILBOX_ERROR_OVER_QUOTA, "Quota %s", "exceeded"));
	assert_int_equal(err.code, MAILBOX_ERROR_OVER_QUOTA);
	assert_string_equal(err.text, "Quota exceeded");
	assert_false(mailbox_error_errno(&err, ENOENT, "open(%s) failed", "/x"));
	assert_int_equal(err.code, MAILBOX_ERROR_TEMP);
	assert_string_equal(err.text, "open(/x) failed: No such file or directory");
	assert_false(mailbox_error_errno(&err, EACCES, "open"));
	assert_int_equal(err.code, MAILBOX_ERROR_PERM);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	mailbox_error_set(&err, MAILBOX_ERROR_TEMP, "%s", big);
	assert_int_equal(strlen(err.text), MAILBOX_ERROR_TEXT_MAX - 1);
	mailbox_error_clear(&err);
	assert_int_equal(err.code, MAILBOX_ERROR_NONE);
	assert_string_equal(err.text, "");
	assert_false(mailbox_error_set(NULL, MAILBOX_ERROR_TEMP, "dropped"));
	assert_false(mailbox_error_errno(NULL, EIO, "dropped"));
	mailbox_error_clear(NULL);
}

static void test_temporary(void **state)
{
	(void)state;
	assert_true(mailbox_error_is_temporary(MAILBOX_ERROR_TEMP));
	assert_true(mailbox_error_is_temporary(MAILBOX_ERROR_LOCK_TIMEOUT));
	assert_true(mailbox_error_is_temporary(MAILBOX_ERROR_NOT_MOUNTED));
	assert_false(mailbox_error_is_temporary(MAILBOX_ERROR_OVER_QUOTA));
	assert_false(mailbox_error_is_temporary(MAILBOX_ERROR_INVALID_NAME));
	assert_string_equal(mailbox_error_code_name(MAILBOX_ERROR_LOCK_TIMEOUT), "lock timeout");
	for (int c = MAILBOX_ERROR_NONE; c <= MAILBOX_ERROR_NO_FILE; c++)
		assert_string_not_equal(mailbox_error_code_name((enum mailbox_error_code)c),
					"unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_temporary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
