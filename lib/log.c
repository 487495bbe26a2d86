/*
 * Log writers for every roost process (see log.h). Lines never carry raw
 * control characters: they are replaced before writing, wherever the text
 * came from, so one log line is always one event.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <paths.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

enum log_target {
	LOG_TARGET_STDERR,
	LOG_TARGET_CHILD,
	LOG_TARGET_DIRECT,
};

#define LOG_PATH_MAX 1024

static struct {
	enum log_target target;
	char prefix[256];
	bool debug;
	/* Direct target only. */
	bool use_syslog[3]; /* per class: error, info, debug */
	int fd[3];
	char path[3][LOG_PATH_MAX];
	char ident[64];
	int syslog_fd;
	int syslog_facility;
	int syslog_type;	  /* SOCK_DGRAM, or SOCK_STREAM for such a /dev/log */
	bool syslog_no_reconnect; /* sandboxed: socket() would be fatal */
	char timestamp[64];
	void (*fatal_cb)(void);
} log_state = {
	.target = LOG_TARGET_STDERR,
	.fd = {-1, -1, -1},
	.syslog_fd = -1,
};

static const char *syslog_path = _PATH_LOG;

enum log_class { CLASS_ERROR, CLASS_INFO, CLASS_DEBUG };

static const char *const level_names[] = {
	[LOG_LEVEL_DEBUG] = "Debug", [LOG_LEVEL_INFO] = "Info",	  [LOG_LEVEL_WARNING] = "Warning",
	[LOG_LEVEL_ERROR] = "Error", [LOG_LEVEL_FATAL] = "Fatal", [LOG_LEVEL_PANIC] = "Panic",
};
static const char level_chars[] = "DIWEFP";

const char *log_level_name(enum log_level level)
{
	return level_names[level];
}

bool log_level_from_char(char c, enum log_level *level_r)
{
	const char *p = c == '\0' ? NULL : strchr(level_chars, c);

	if (p == NULL)
		return false;
	*level_r = (enum log_level)(p - level_chars);
	return true;
}

void log_init_stderr(const char *prefix)
{
	log_state.target = LOG_TARGET_STDERR;
	(void)str_copy(log_state.prefix, sizeof(log_state.prefix), prefix);
}

void log_init_child(void)
{
	log_state.target = LOG_TARGET_CHILD;
	log_state.prefix[0] = '\0';
}

void log_set_prefix(const char *prefix)
{
	(void)str_copy(log_state.prefix, sizeof(log_state.prefix), prefix);
}

void log_set_debug(bool enabled)
{
	log_state.debug = enabled;
}

bool log_debug_enabled(void)
{
	return log_state.debug;
}

void log_set_fatal_callback(void (*cb)(void))
{
	log_state.fatal_cb = cb;
}

static int facility_from_name(const char *name)
{
	static const struct {
		const char *name;
		int value;
	} facilities[] = {
		{"mail", LOG_MAIL},	{"daemon", LOG_DAEMON}, {"user", LOG_USER},
		{"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
		{"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5},
		{"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
	};
	for (size_t i = 0; i < N_ELEMENTS(facilities); i++) {
		if (strcmp(facilities[i].name, name) == 0)
			return facilities[i].value;
	}
	return -1;
}

static int log_open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
}

/*
 * Our own syslog client instead of syslog(3): glibc's reconnects with
 * socket() and connect() whenever a send fails (the syslog daemon was
 * restarted), which seccomp forbids in a sandboxed roost-lda. The socket
 * is connected before the sandbox; once sandboxed, a failed send loses
 * that line rather than the process.
 */
static void syslog_connect(void)
{
	static const int types[] = {SOCK_DGRAM, SOCK_STREAM};
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	if (!str_copy(sun.sun_path, sizeof(sun.sun_path), syslog_path))
		return;
	for (size_t i = 0; i < N_ELEMENTS(types); i++) {
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
			log_state.syslog_fd = fd;
			log_state.syslog_type = types[i];
			return;
		}
		close(fd);
		if (errno != EPROTOTYPE)
			return;
	}
}

static void syslog_disconnect(void)
{
	if (log_state.syslog_fd >= 0)
		close(log_state.syslog_fd);
	log_state.syslog_fd = -1;
}

/* Sends "<PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE" as syslog(3) does. */
static void syslog_send(int priority, const struct buf *msg)
{
	struct buf packet = BUF_INIT(LOG_LINE_MAX + 1024);
	time_t now = time(NULL);
	struct tm tm;
	char stamp[32] = "";

	if (localtime_r(&now, &tm) != NULL)
		(void)strftime(stamp, sizeof(stamp), "%b %e %T", &tm);
	(void)buf_printf(&packet, "<%d>%s %s[%ld]: ", log_state.syslog_facility | priority, stamp,
			 log_state.ident, (long)getpid());
	(void)buf_append(&packet, buf_data(msg), buf_len(msg));
	for (int attempt = 0; attempt < 2; attempt++) {
		if (log_state.syslog_fd < 0) {
			if (log_state.syslog_no_reconnect)
				break;
			syslog_connect();
			if (log_state.syslog_fd < 0)
				break;
		}
		/* A stream /dev/log separates messages with NUL bytes. */
		if (send(log_state.syslog_fd, buf_cstr(&packet),
			 buf_len(&packet) + (log_state.syslog_type == SOCK_STREAM ? 1 : 0),
			 MSG_NOSIGNAL) >= 0)
			break;
		if (errno == EINTR) {
			attempt--;
			continue;
		}
		if (log_state.syslog_no_reconnect)
			break;
		syslog_disconnect();
	}
	buf_free(&packet);
}

void log_syslog_keep_connection(void)
{
	log_state.syslog_no_reconnect = true;
}

#ifdef ROOST_TEST_HOOKS
void log_set_syslog_path(const char *path)
{
	syslog_disconnect();
	syslog_path = path;
}
#endif

bool log_init_direct(const struct log_settings *set, const char **error_r)
{
	static char errbuf[LOG_PATH_MAX + 64];
	const char *paths[3];
	int fds[3] = {-1, -1, -1};
	bool want_syslog = false;
	int facility = facility_from_name(set->syslog_facility);

	if (facility < 0) {
		(void)str_format(errbuf, sizeof(errbuf), "Unknown syslog_facility: %s",
				 set->syslog_facility);
		*error_r = errbuf;
		return false;
	}
	paths[CLASS_ERROR] = set->log_path;
	paths[CLASS_INFO] = set->info_log_path[0] != '\0' ? set->info_log_path : set->log_path;
	paths[CLASS_DEBUG] =
		set->debug_log_path[0] != '\0' ? set->debug_log_path : paths[CLASS_INFO];

	for (int i = 0; i < 3; i++) {
		if (strcmp(paths[i], "syslog") == 0) {
			want_syslog = true;
			continue;
		}
		/* Share one descriptor between classes writing the same file. */
		for (int j = 0; j < i; j++) {
			if (fds[j] >= 0 && strcmp(paths[i], paths[j]) == 0)
				fds[i] = fds[j];
		}
		if (fds[i] >= 0)
			continue;
		fds[i] = log_open_file(paths[i]);
		if (fds[i] < 0) {
			(void)str_format(errbuf, sizeof(errbuf), "Can't open log file %s: %s",
					 paths[i], strerror(errno));
			for (int j = 0; j < i; j++) {
				if (fds[j] >= 0 && (j == 0 || fds[j] != fds[j - 1]))
					close(fds[j]);
			}
			*error_r = errbuf;
			return false;
		}
	}
	/* Close the old descriptors that are not reused. */
	for (int i = 0; i < 3; i++) {
		int fd = log_state.fd[i];
		bool dup = false;

		for (int j = 0; j < i; j++)
			dup = dup || log_state.fd[j] == fd;
		if (fd >= 0 && !dup)
			close(fd);
	}
	for (int i = 0; i < 3; i++) {
		log_state.fd[i] = fds[i];
		log_state.use_syslog[i] = strcmp(paths[i], "syslog") == 0;
		(void)str_copy(log_state.path[i], sizeof(log_state.path[i]), paths[i]);
	}
	if (want_syslog) {
		(void)str_copy(log_state.ident, sizeof(log_state.ident), set->syslog_ident);
		log_state.syslog_facility = facility;
		/* Time zone now: a sandbox may not read /etc/localtime later. */
		tzset();
		if (log_state.syslog_fd < 0)
			syslog_connect();
	}
	(void)str_copy(log_state.timestamp, sizeof(log_state.timestamp), set->log_timestamp);
	log_state.debug = set->debug;
	log_state.target = LOG_TARGET_DIRECT;
	return true;
}

void log_reopen(void)
{
	int newfd[3] = {-1, -1, -1};

	if (log_state.target != LOG_TARGET_DIRECT)
		return;
	for (int i = 0; i < 3; i++) {
		if (log_state.fd[i] < 0)
			continue;
		for (int j = 0; j < i; j++) {
			if (log_state.fd[j] == log_state.fd[i])
				newfd[i] = newfd[j];
		}
		if (newfd[i] < 0)
			newfd[i] = log_open_file(log_state.path[i]);
		if (newfd[i] < 0) {
			log_error("Can't reopen log file %s: %m", log_state.path[i]);
			newfd[i] = log_state.fd[i];
		}
	}
	for (int i = 0; i < 3; i++) {
		int fd = log_state.fd[i];
		bool seen = false;

		for (int j = 0; j < i; j++)
			seen = seen || log_state.fd[j] == fd;
		if (fd >= 0 && !seen && fd != newfd[i])
			close(fd);
		log_state.fd[i] = newfd[i];
	}
}

int log_get_fds(int *fds, int max)
{
	int n = 0;

	for (int i = 0; i < 3 && n < max; i++) {
		if (log_state.fd[i] >= 0)
			fds[n++] = log_state.fd[i];
	}
	if (log_state.syslog_fd >= 0 && n < max)
		fds[n++] = log_state.syslog_fd;
	return n;
}

/* Copies text into out, replacing control characters; keeps UTF-8 intact. */
static void log_sanitize(struct buf *out, const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '\0')
			break;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			c = '?';
		if (!buf_append_c(out, c))
			break;
	}
}

static enum log_class level_class(enum log_level level)
{
	if (level == LOG_LEVEL_DEBUG)
		return CLASS_DEBUG;
	if (level == LOG_LEVEL_INFO)
		return CLASS_INFO;
	return CLASS_ERROR;
}

static int level_syslog_priority(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_DEBUG:
		return LOG_DEBUG;
	case LOG_LEVEL_INFO:
		return LOG_INFO;
	case LOG_LEVEL_WARNING:
		return LOG_WARNING;
	case LOG_LEVEL_ERROR:
		return LOG_ERR;
	case LOG_LEVEL_FATAL:
	case LOG_LEVEL_PANIC:
		return LOG_CRIT;
	}
	return LOG_ERR;
}

static void write_all(int fd, const void *p, size_t len)
{
	const char *cp = p;

	while (len > 0) {
		ssize_t n = write(fd, cp, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		cp += n;
		len -= (size_t)n;
	}
}

/* The format is the administrator's log_timestamp setting, not input. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static bool log_strftime(char *dst, size_t size, const struct tm *tm)
{
	return strftime(dst, size, log_state.timestamp, tm) > 0;
}
#pragma GCC diagnostic pop

void log_write_prefixed(enum log_level level, const char *prefix, const char *text, size_t len)
{
	struct buf line = BUF_INIT(LOG_LINE_MAX + 512);
	enum log_class class = level_class(level);
	char stamp[128];

	if (level == LOG_LEVEL_DEBUG && !log_state.debug)
		return;

	switch (log_state.target) {
	case LOG_TARGET_CHILD:
		(void)buf_append_c(&line, LOG_CHILD_MARK);
		(void)buf_append_c(&line, (uint8_t)level_chars[level]);
		(void)buf_append_str(&line, prefix);
		log_sanitize(&line, text, len);
		buf_truncate(&line, LOG_LINE_MAX - 1);
		(void)buf_append_c(&line, '\n');
		write_all(STDERR_FILENO, buf_data(&line), buf_len(&line));
		break;
	case LOG_TARGET_STDERR:
		(void)buf_append_str(&line, prefix);
		(void)buf_printf(&line, "%s: ", level_names[level]);
		log_sanitize(&line, text, len);
		(void)buf_append_c(&line, '\n');
		write_all(STDERR_FILENO, buf_data(&line), buf_len(&line));
		break;
	case LOG_TARGET_DIRECT:
		if (log_state.use_syslog[class]) {
			/* Syslog carries the level itself; Dovecot omits "Info: ". */
			(void)buf_append_str(&line, prefix);
			if (level != LOG_LEVEL_INFO)
				(void)buf_printf(&line, "%s: ", level_names[level]);
			log_sanitize(&line, text, len);
			buf_truncate(&line, LOG_LINE_MAX);
			syslog_send(level_syslog_priority(level), &line);
			break;
		}
		if (log_state.timestamp[0] != '\0') {
			time_t now = time(NULL);
			struct tm tm;

			if (localtime_r(&now, &tm) != NULL &&
			    log_strftime(stamp, sizeof(stamp), &tm))
				(void)buf_append_str(&line, stamp);
		}
		(void)buf_append_str(&line, prefix);
		(void)buf_printf(&line, "%s: ", level_names[level]);
		log_sanitize(&line, text, len);
		(void)buf_append_c(&line, '\n');
		write_all(log_state.fd[class], buf_data(&line), buf_len(&line));
		break;
	}
	buf_free(&line);
}

void log_vprintf(enum log_level level, const char *fmt, va_list ap)
{
	int saved_errno = errno;
	struct buf text = BUF_INIT(LOG_LINE_MAX);

	if (level == LOG_LEVEL_DEBUG && !log_state.debug)
		return;
	errno = saved_errno; /* so that %m still works */
	if (!buf_vprintf(&text, fmt, ap)) {
		/* Too long for one line: format into a bigger buffer and cut. */
		struct buf big = BUF_INIT(1024 * 1024);

		errno = saved_errno;
		(void)buf_vprintf(&big, fmt, ap);
		(void)buf_append(&text, buf_data(&big), LOG_LINE_MAX);
		buf_free(&big);
	}
	log_write_prefixed(level, log_state.prefix, buf_cstr(&text), buf_len(&text));
	buf_free(&text);
	errno = saved_errno;
}

void log_printf(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(level, fmt, ap);
	va_end(ap);
}

#define LOG_FN(name, level)                  \
	void name(const char *fmt, ...)      \
	{                                    \
		va_list ap;                  \
		va_start(ap, fmt);           \
		log_vprintf(level, fmt, ap); \
		va_end(ap);                  \
	}
LOG_FN(log_debug, LOG_LEVEL_DEBUG)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_warning, LOG_LEVEL_WARNING)
LOG_FN(log_error, LOG_LEVEL_ERROR)

ATTR_NORETURN static void log_fatal_exit(int code)
{
	if (log_state.fatal_cb != NULL) {
		void (*cb)(void) = log_state.fatal_cb;

		log_state.fatal_cb = NULL;
		cb();
	}
	exit(code);
}

void log_fatal_code(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(LOG_LEVEL_FATAL, fmt, ap);
	va_end(ap);
	log_fatal_exit(code);
}

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(LOG_LEVEL_FATAL, fmt, ap);
	va_end(ap);
	log_fatal_exit(EXIT_FATAL);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vprintf(LOG_LEVEL_PANIC, fmt, ap);
	va_end(ap);
	abort();
}
