/*
 * Unit tests for storage/mountpoint.c: the registry file round-trips, a
 * mail root under an unmounted registered mountpoint is recognised, and
 * mounted ones (/ and /proc here) are told apart from bare directories.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "../../storage/mountpoint.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	str_copy(dir, sizeof(dir), "/tmp/roost-test-mount.XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_add_remove(void **state)
{
	struct mountpoint_list list;
	struct mailbox_error err;
	char file[128];

	(void)state;
	snprintf(file, sizeof(file), "%s/mounts", dir);
	assert_true(mountpoint_list_read(file, &list, &err));
	assert_int_equal(list.count, 0);
	assert_true(mountpoint_add(file, "/srv/mail/", &err));
	assert_true(mountpoint_add(file, "/srv/other", &err));
	assert_false(mountpoint_add(file, "/srv/mail", &err));
	assert_int_equal(err.code, MAILBOX_ERROR_EXISTS);
	assert_false(mountpoint_add(file, "relative", &err));
	assert_false(mountpoint_add(file, "/a/../b", &err));
	assert_true(mountpoint_list_read(file, &list, &err));
	assert_int_equal(list.count, 2);
	assert_string_equal(list.paths[0], "/srv/mail");
	mountpoint_list_free(&list);
	assert_true(mountpoint_remove(file, "/srv/mail", &err));
	assert_false(mountpoint_remove(file, "/srv/mail", &err));
	assert_int_equal(err.code, MAILBOX_ERROR_NOT_FOUND);
	assert_true(mountpoint_list_read(file, &list, &err));
	assert_int_equal(list.count, 1);
	assert_string_equal(list.paths[0], "/srv/other");
	mountpoint_list_free(&list);
}

static void test_parse(void **state)
{
	static const char good[] = "# comment\n\n/a\n/b/c/\n";
	struct mountpoint_list list;
	struct mailbox_error err;

	(void)state;
	assert_true(mountpoint_list_parse(good, strlen(good), &list, &err));
	assert_int_equal(list.count, 2);
	assert_string_equal(list.paths[1], "/b/c");
	mountpoint_list_free(&list);
	assert_false(mountpoint_list_parse("/ok\nnot/abs\n", 12, &list, &err));
	assert_int_equal(err.code, MAILBOX_ERROR_PARAMS);
	assert_false(mountpoint_list_parse("/a\0b\n", 5, &list, &err));
}

static void test_check(void **state)
{
	struct mountpoint_list list;
	struct mailbox_error err;
	const char *m;
	char bare[128], text[512];

	(void)state;
	snprintf(bare, sizeof(bare), "%s/bare", dir);
	assert_int_equal(mkdir(bare, 0700), 0);
	snprintf(text, sizeof(text), "/proc\n%s\n/nonexistent/mnt\n", bare);
	assert_true(mountpoint_list_parse(text, strlen(text), &list, &err));
	assert_true(mountpoint_is_mounted("/"));
	assert_true(mountpoint_is_mounted("/proc"));
	assert_false(mountpoint_is_mounted(bare));
	assert_false(mountpoint_is_mounted("/nonexistent/mnt"));
	snprintf(text, sizeof(text), "%s/vmail/example.com/jdoe", bare);
	assert_int_equal(mountpoint_check(&list, text, &m), MOUNTPOINT_STATE_NOT_MOUNTED);
	assert_string_equal(m, bare);
	assert_int_equal(mountpoint_check(&list, "/proc/self", &m), MOUNTPOINT_STATE_MOUNTED);
	assert_int_equal(mountpoint_check(&list, "/nonexistent/mnt", &m),
			 MOUNTPOINT_STATE_NOT_MOUNTED);
	/* A prefix of a component is not "under". */
	assert_int_equal(mountpoint_check(&list, "/processes/x", &m),
			 MOUNTPOINT_STATE_UNREGISTERED);
	assert_null(m);
	mountpoint_list_free(&list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_remove),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_check),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
