/*
 * Unit tests for lib/log.c's direct writers: syslog packets in syslog(3)'s
 * layout on a socket of our own, reconnection after the syslog daemon
 * restarts, no reconnection once sandboxed, and log files with control
 * characters replaced.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "log.h"

static char dir[64];
static char sock_path[128];

/* A fresh "syslog daemon": a datagram socket bound at sock_path. */
static int syslogd_start(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	(void)unlink(sock_path);
	assert_true(str_copy(sun.sun_path, sizeof(sun.sun_path), sock_path));
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* The next packet, or "" when none is waiting. */
static const char *syslogd_read(int fd)
{
	static char packet[LOG_LINE_MAX + 1024];
	ssize_t n = recv(fd, packet, sizeof(packet) - 1, MSG_DONTWAIT);

	packet[n < 0 ? 0 : n] = '\0';
	return packet;
}

static void init_syslog(void)
{
	const struct log_settings set = {
		.log_path = "syslog",
		.info_log_path = "",
		.debug_log_path = "",
		.syslog_ident = "roost",
		.syslog_facility = "mail",
		.log_timestamp = "",
	};
	const char *error;

	log_set_syslog_path(sock_path);
	assert_true(log_init_direct(&set, &error));
	log_set_prefix("lda(jdoe): ");
}

static int setup(void **state)
{
	(void)state;
	(void)str_copy(dir, sizeof(dir), "/tmp/test-log.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_true(str_format(sock_path, sizeof(sock_path), "%s/log", dir));
	return 0;
}

static int teardown(void **state)
{
	char path[160];

	(void)state;
	(void)unlink(sock_path);
	(void)str_format(path, sizeof(path), "%s/file.log", dir);
	(void)unlink(path);
	(void)rmdir(dir);
	return 0;
}

static void test_syslog_packet_layout(void **state)
{
	int fd = syslogd_start();
	char expect[64];
	const char *p;

	(void)state;
	init_syslog();
	log_info("saved mail to %s", "INBOX");
	p = syslogd_read(fd);
	/* LOG_MAIL | LOG_INFO = 22; "Mmm dd hh:mm:ss " is 16 bytes. */
	assert_memory_equal(p, "<22>", 4);
	assert_true(strlen(p) > 20 && p[7] == ' ' && p[10] == ' ' && p[13] == ':');
	assert_true(str_format(expect, sizeof(expect), " roost[%ld]: ", (long)getpid()));
	assert_non_null(strstr(p, expect));
	assert_string_equal(strstr(p, expect) + strlen(expect), "lda(jdoe): saved mail to INBOX");

	log_error("bad\nline\001");
	p = syslogd_read(fd);
	assert_memory_equal(p, "<19>", 4); /* LOG_MAIL | LOG_ERR */
	assert_string_equal(strstr(p, expect) + strlen(expect), "lda(jdoe): Error: bad?line?");
	close(fd);
}

static void test_syslog_reconnects_after_restart(void **state)
{
	int fd = syslogd_start();

	(void)state;
	init_syslog();
	log_info("one");
	assert_non_null(strstr(syslogd_read(fd), "one"));
	/* The daemon restarts: a new socket at the same path. */
	close(fd);
	fd = syslogd_start();
	log_info("two");
	assert_non_null(strstr(syslogd_read(fd), "two"));
	close(fd);
}

static void test_sandboxed_syslog_never_reconnects(void **state)
{
	int fd = syslogd_start(), before, after;

	(void)state;
	init_syslog();
	log_syslog_keep_connection();
	log_info("one");
	assert_non_null(strstr(syslogd_read(fd), "one"));
	close(fd);
	fd = syslogd_start();
	/* The line is lost, no socket is created and the process goes on. */
	before = dup(0);
	close(before);
	log_info("two");
	after = dup(0);
	close(after);
	assert_int_equal(before, after);
	assert_string_equal(syslogd_read(fd), "");
	close(fd);
}

static void test_file_lines(void **state)
{
	const struct log_settings set = {
		.log_path = "",
		.info_log_path = "",
		.debug_log_path = "",
		.syslog_ident = "roost",
		.syslog_facility = "mail",
		.log_timestamp = "",
	};
	char path[160], data[256];
	struct log_settings s = set;
	const char *error;
	ssize_t n;
	int fd;

	(void)state;
	assert_true(str_format(path, sizeof(path), "%s/file.log", dir));
	s.log_path = path;
	assert_true(log_init_direct(&s, &error));
	log_set_prefix("master: ");
	log_warning("x\ry");
	log_info("ok");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, data, sizeof(data) - 1);
	close(fd);
	assert_true(n > 0);
	data[n] = '\0';
	assert_string_equal(data, "master: Warning: x?y\nmaster: Info: ok\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syslog_packet_layout),
		cmocka_unit_test(test_syslog_reconnects_after_restart),
		cmocka_unit_test(test_sandboxed_syslog_never_reconnects),
		cmocka_unit_test(test_file_lines),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
