/*
 * Unit tests for lib/ioloop.c: descriptor callbacks, one-shot and repeating
 * timers in deadline order, removal from inside callbacks, and signals
 * delivered through signalfd.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ioloop.h"

static char order[16];
static size_t order_len;
static struct timeout *repeat_to, *once_a, *once_b;
static int repeats;

static void once_cb(void *ctx)
{
	order[order_len++] = *(const char *)ctx;
}

static void repeat_cb(void *ctx)
{
	(void)ctx;
	if (++repeats == 3) {
		timeout_remove(&repeat_to);
		ioloop_stop();
	}
}

static void test_timers(void **state)
{
	(void)state;
	ioloop_init();
	order_len = 0;
	once_b = timeout_add(20, once_cb, "b");
	once_a = timeout_add(5, once_cb, "a");
	repeat_to = timeout_add_repeat(30, repeat_cb, NULL);
	ioloop_run();
	assert_int_equal(repeats, 3);
	assert_int_equal(order_len, 2);
	assert_memory_equal(order, "ab", 2);
	timeout_remove(&once_a);
	timeout_remove(&once_b);
	ioloop_deinit();
}

static struct io *pipe_io;
static int pipe_fds[2];
static char got;

static void pipe_cb(void *ctx, uint32_t events)
{
	(void)ctx;
	assert_true((events & EPOLLIN) != 0);
	assert_int_equal(read(pipe_fds[0], &got, 1), 1);
	io_remove(&pipe_io);
	ioloop_stop();
}

static void test_io(void **state)
{
	(void)state;
	ioloop_init();
	assert_int_equal(pipe(pipe_fds), 0);
	pipe_io = io_add(pipe_fds[0], EPOLLIN, pipe_cb, NULL);
	assert_int_equal(write(pipe_fds[1], "z", 1), 1);
	ioloop_run();
	assert_int_equal(got, 'z');
	assert_null(pipe_io);
	close(pipe_fds[0]);
	close(pipe_fds[1]);
	ioloop_deinit();
}

static int got_signal;

static void sig_cb(void *ctx, int signo)
{
	(void)ctx;
	got_signal = signo;
	ioloop_stop();
}

static void test_signals(void **state)
{
	(void)state;
	ioloop_init();
	signal_add(SIGUSR2, sig_cb, NULL);
	assert_int_equal(kill(getpid(), SIGUSR2), 0);
	ioloop_run();
	assert_int_equal(got_signal, SIGUSR2);
	ioloop_deinit();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_io),
		cmocka_unit_test(test_signals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
