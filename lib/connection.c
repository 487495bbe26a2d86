/*
 * Buffered non-blocking connections (see connection.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "connection.h"
#include "ioloop.h"
#include "xalloc.h"

struct connection {
	int fd;
	struct io *io;
	struct buf input, output;
	bool paused;
	bool failed;
	uint64_t bytes_in, bytes_out;
	struct timeout *deferred; /* to report a failure outside the caller's stack */
	const char *fail_reason;
	const struct connection_callbacks *cb;
	void *ctx;
};

static void connection_update_io(struct connection *conn)
{
	uint32_t events = 0;

	if (conn->failed)
		return;
	if (!conn->paused && buf_room(&conn->input) > 0)
		events |= EPOLLIN;
	if (buf_len(&conn->output) > 0)
		events |= EPOLLOUT;
	io_set_events(conn->io, events);
}

static void connection_report_failure(void *ctx)
{
	struct connection *conn = ctx;

	timeout_remove(&conn->deferred);
	conn->cb->disconnected(conn->ctx, conn->fail_reason);
}

static void connection_fail(struct connection *conn, const char *reason, bool deferred)
{
	if (conn->failed)
		return;
	conn->failed = true;
	conn->fail_reason = reason;
	io_set_events(conn->io, 0);
	if (deferred)
		conn->deferred = timeout_add(0, connection_report_failure, conn);
	else
		conn->cb->disconnected(conn->ctx, reason);
}

static bool connection_flush(struct connection *conn)
{
	while (buf_len(&conn->output) > 0) {
		ssize_t n = send(conn->fd, buf_data(&conn->output), buf_len(&conn->output),
				 MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return true;
			connection_fail(conn,
					errno == EPIPE || errno == ECONNRESET ? "Connection closed"
									      : "write failed",
					false);
			return false;
		}
		conn->bytes_out += (uint64_t)n;
		buf_consume(&conn->output, (size_t)n);
	}
	/* An idle session keeps no output buffer. */
	size_t max = buf_max(&conn->output);
	buf_free(&conn->output);
	buf_init(&conn->output, max);
	if (conn->cb->output_flushed != NULL)
		conn->cb->output_flushed(conn->ctx);
	return true;
}

static void connection_io(void *ctx, uint32_t events)
{
	struct connection *conn = ctx;

	if ((events & EPOLLOUT) != 0 && !connection_flush(conn))
		return;
	if (conn->failed)
		return;
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 && !conn->paused) {
		size_t room = buf_room(&conn->input);
		uint8_t *p;
		ssize_t n;

		if (room > 65536)
			room = 65536;
		if (room > 0) {
			p = buf_reserve(&conn->input, room);
			n = read(conn->fd, p, room);
			if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
				connection_update_io(conn);
				return;
			}
			if (n <= 0) {
				connection_fail(conn, n == 0 ? "Connection closed" : "read failed",
						false);
				return;
			}
			buf_commit(&conn->input, (size_t)n);
			conn->bytes_in += (uint64_t)n;
		}
		if (!conn->cb->input(conn->ctx))
			return;
	}
	connection_update_io(conn);
}

struct connection *connection_create(int fd, size_t input_max, size_t output_max,
				     const struct connection_callbacks *cb, void *ctx)
{
	struct connection *conn = i_calloc(1, sizeof(*conn));

	conn->fd = fd;
	conn->cb = cb;
	conn->ctx = ctx;
	buf_init(&conn->input, input_max);
	buf_init(&conn->output, output_max);
	conn->io = io_add(fd, EPOLLIN, connection_io, conn);
	return conn;
}

void connection_destroy(struct connection **_conn)
{
	struct connection *conn = *_conn;

	if (conn == NULL)
		return;
	*_conn = NULL;
	io_remove(&conn->io);
	timeout_remove(&conn->deferred);
	close(conn->fd);
	buf_free(&conn->input);
	buf_free(&conn->output);
	free(conn);
}

struct buf *connection_input(struct connection *conn)
{
	return &conn->input;
}

bool connection_send(struct connection *conn, const void *data, size_t len)
{
	if (conn->failed)
		return false;
	if (!buf_append(&conn->output, data, len)) {
		connection_fail(conn, "Output buffer full: the client is not reading", true);
		return false;
	}
	connection_update_io(conn);
	return true;
}

bool connection_send_str(struct connection *conn, const char *str)
{
	const char *s = str;
	size_t len = 0;

	while (s[len] != '\0')
		len++;
	return connection_send(conn, str, len);
}

bool connection_printf(struct connection *conn, const char *fmt, ...)
{
	va_list ap;
	bool ok;

	if (conn->failed)
		return false;
	va_start(ap, fmt);
	ok = buf_vprintf(&conn->output, fmt, ap);
	va_end(ap);
	if (!ok) {
		connection_fail(conn, "Output buffer full: the client is not reading", true);
		return false;
	}
	connection_update_io(conn);
	return true;
}

size_t connection_output_len(const struct connection *conn)
{
	return buf_len(&conn->output);
}

void connection_pause(struct connection *conn)
{
	conn->paused = true;
	connection_update_io(conn);
}

void connection_resume(struct connection *conn)
{
	conn->paused = false;
	connection_update_io(conn);
}

uint64_t connection_bytes_in(const struct connection *conn)
{
	return conn->bytes_in;
}

uint64_t connection_bytes_out(const struct connection *conn)
{
	return conn->bytes_out;
}

bool connection_inject_input(struct connection *conn, const void *data, size_t len)
{
	if (!buf_append(&conn->input, data, len))
		return false;
	conn->bytes_in += len;
	return true;
}
