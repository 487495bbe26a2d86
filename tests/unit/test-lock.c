/*
 * Unit tests for storage/lock.c: a lock held by another process makes a
 * waiter time out with the distinct lock-timeout error, the lock is free
 * once the holder exits (even by SIGKILL), and shared locks coexist.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "../../storage/lock.h"

static char path[64];

static int setup(void **state)
{
	int fd;

	(void)state;
	str_copy(path, sizeof(path), "/tmp/roost-test-lock.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return unlink(path);
}

/* Forks a child that takes the lock, signals readiness, then sleeps. */
static pid_t hold_in_child(enum lock_mode mode)
{
	int p[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct lock_file *lock;
		struct mailbox_error err;

		close(p[0]);
		if (lock_file_acquire(path, mode, 1000, &lock, &err) != 1)
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(2);
		sleep(30);
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_timeout_then_free(void **state)
{
	struct lock_file *lock = NULL;
	struct mailbox_error err;
	pid_t pid = hold_in_child(LOCK_MODE_EXCLUSIVE);
	double t0 = now();
	int status;

	(void)state;
	assert_int_equal(lock_file_acquire(path, LOCK_MODE_EXCLUSIVE, 300, &lock, &err), 0);
	assert_null(lock);
	assert_int_equal(err.code, MAILBOX_ERROR_LOCK_TIMEOUT);
	assert_non_null(strstr(err.text, "Timeout while waiting for lock"));
	assert_true(now() - t0 >= 0.29);
	assert_true(now() - t0 < 2.0);
	/* A shared request waits too. */
	assert_int_equal(lock_file_acquire(path, LOCK_MODE_SHARED, 0, &lock, &err), 0);
	/* The holder dies without unlocking: the lock goes with it. */
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	assert_int_equal(lock_file_acquire(path, LOCK_MODE_EXCLUSIVE, 1000, &lock, &err), 1);
	assert_string_equal(lock_file_path(lock), path);
	lock_file_release(&lock);
	assert_null(lock);
	lock_file_release(&lock);
}

static void test_shared(void **state)
{
	struct lock_file *a = NULL, *b = NULL;
	struct mailbox_error err;
	pid_t pid = hold_in_child(LOCK_MODE_SHARED);
	int status;

	(void)state;
	assert_int_equal(lock_file_acquire(path, LOCK_MODE_SHARED, 0, &a, &err), 1);
	assert_int_equal(lock_file_acquire(path, LOCK_MODE_EXCLUSIVE, 100, &b, &err), 0);
	lock_file_release(&a);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	assert_int_equal(lock_file_acquire(path, LOCK_MODE_EXCLUSIVE, 0, &b, &err), 1);
	lock_file_release(&b);
}

static void test_not_regular(void **state)
{
	struct lock_file *lock = NULL;
	struct mailbox_error err;

	(void)state;
	assert_int_equal(lock_file_acquire("/dev/null", LOCK_MODE_EXCLUSIVE, 0, &lock, &err), -1);
	assert_int_equal(
		lock_file_acquire("/nonexistent/dir/lock", LOCK_MODE_EXCLUSIVE, 0, &lock, &err),
		-1);
	assert_int_equal(err.code, MAILBOX_ERROR_TEMP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeout_then_free),
		cmocka_unit_test(test_shared),
		cmocka_unit_test(test_not_regular),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
