/*
 * master's relay of its children's log lines. Each child writes framed
 * lines ("\001" level text "\n") to its own pipe; master adds the prefix it
 * chose for that child, so a child cannot write lines that look like
 * another process's. Unframed output (a sanitizer report, a libc abort
 * message) is logged as an error of that child. Lines are bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ioloop.h"
#include "log.h"
#include "master.h"

static void relay_line(struct process *proc, const char *line, size_t len)
{
	enum log_level level = LOG_LEVEL_ERROR;
	char prefix[sizeof(proc->log_prefix) + 2];

	if (len >= 2 && line[0] == LOG_CHILD_MARK && log_level_from_char(line[1], &level)) {
		line += 2;
		len -= 2;
	}
	(void)str_format(prefix, sizeof(prefix), "%s: ", proc->log_prefix);
	log_write_prefixed(level, prefix, line, len);
}

/* Relays every complete line in the partial buffer. */
static void relay_lines(struct process *proc, bool flush)
{
	struct buf *b = &proc->log_partial;

	for (;;) {
		const uint8_t *data = buf_data(b);
		const uint8_t *nl = memchr(data, '\n', buf_len(b));

		if (nl == NULL) {
			if ((flush || buf_room(b) == 0) && buf_len(b) > 0) {
				relay_line(proc, (const char *)data, buf_len(b));
				buf_reset(b);
			}
			return;
		}
		relay_line(proc, (const char *)data, (size_t)(nl - data));
		buf_consume(b, (size_t)(nl - data) + 1);
	}
}

enum relay_result { RELAY_MORE, RELAY_AGAIN, RELAY_END };

/* Reads a bounded amount of what is available. */
static enum relay_result relay_read(struct process *proc)
{
	uint8_t tmp[8192];

	for (int rounds = 0; rounds < 16; rounds++) {
		size_t room = buf_room(&proc->log_partial);
		ssize_t n = read(proc->log_fd, tmp, room < sizeof(tmp) ? room : sizeof(tmp));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? RELAY_AGAIN : RELAY_END;
		if (n == 0)
			return RELAY_END;
		(void)buf_append(&proc->log_partial, tmp, (size_t)n);
		relay_lines(proc, false);
	}
	return RELAY_MORE;
}

static void relay_close(struct process *proc)
{
	relay_lines(proc, true);
	io_remove(&proc->log_io);
	close(proc->log_fd);
	proc->log_fd = -1;
}

static void relay_input(void *ctx, uint32_t events)
{
	struct process *proc = ctx;

	(void)events;
	if (relay_read(proc) == RELAY_END)
		relay_close(proc);
}

void log_relay_start(struct process *proc, int fd)
{
	proc->log_fd = fd;
	buf_init(&proc->log_partial, LOG_LINE_MAX);
	(void)fcntl(fd, F_SETFL, O_NONBLOCK);
	proc->log_io = io_add(fd, EPOLLIN, relay_input, proc);
}

void log_relay_finish(struct process *proc)
{
	if (proc->log_fd >= 0) {
		/* The child is gone: take everything it wrote, however much. */
		while (relay_read(proc) == RELAY_MORE)
			;
		relay_close(proc);
	}
	buf_free(&proc->log_partial);
}
