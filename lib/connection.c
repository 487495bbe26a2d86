/*
 * Buffered non-blocking connections (see connection.h). With a filter,
 * received bytes wait in raw_input until the input buffer has room for
 * what they decode to, and plain output is encoded in pieces into
 * wire_output just before it is sent, so one encoder flush covers
 * everything queued in one event loop pass.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "connection.h"
#include "ioloop.h"
#include "log.h"
#include "xalloc.h"

/* Bytes encoded or decoded in one step of a filter. */
#define CONNECTION_FILTER_CHUNK 65536

struct connection {
	int fd;
	struct io *io;
	struct buf input, output;
	/* With a filter: bytes read but not decoded yet, and encoded bytes
	   not sent yet. */
	struct connection_filter *filter;
	struct buf raw_input, wire_output;
	bool filter_pending;
	struct timeout *filter_kick;
	bool paused;
	bool failed;
	uint64_t bytes_in, bytes_out;
	struct timeout *deferred; /* to report a failure outside the caller's stack */
	const char *fail_reason;
	const struct connection_callbacks *cb;
	void *ctx;
};

static void connection_filter_kicked(void *ctx);

static void connection_update_io(struct connection *conn)
{
	uint32_t events = 0;

	if (conn->failed)
		return;
	if (!conn->paused && buf_room(&conn->input) > 0 &&
	    (conn->filter == NULL || buf_room(&conn->raw_input) > 0))
		events |= EPOLLIN;
	if (buf_len(&conn->output) > 0 || buf_len(&conn->wire_output) > 0)
		events |= EPOLLOUT;
	io_set_events(conn->io, events);
	/* Decoded input held back while the owner was paused or full goes
	   on without waiting for the socket. */
	if (conn->filter != NULL && !conn->paused && conn->filter_kick == NULL &&
	    (buf_len(&conn->raw_input) > 0 || conn->filter_pending) && buf_room(&conn->input) > 0)
		conn->filter_kick = timeout_add(0, connection_filter_kicked, conn);
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

/* Encodes the next piece of plain output into wire_output. */
static bool connection_encode(struct connection *conn)
{
	size_t n = buf_len(&conn->output);
	const char *error;

	if (n > CONNECTION_FILTER_CHUNK)
		n = CONNECTION_FILTER_CHUNK;
	if (!conn->filter->encode(conn->filter, buf_data(&conn->output), n,
				  n == buf_len(&conn->output), &conn->wire_output, &error)) {
		connection_fail(conn, error, false);
		return false;
	}
	buf_consume(&conn->output, n);
	return true;
}

static bool connection_flush(struct connection *conn)
{
	for (;;) {
		struct buf *b = conn->filter != NULL ? &conn->wire_output : &conn->output;

		if (conn->filter != NULL && buf_len(b) == 0 && buf_len(&conn->output) > 0 &&
		    !connection_encode(conn))
			return false;
		if (buf_len(b) == 0)
			break;
		ssize_t n = send(conn->fd, buf_data(b), buf_len(b), MSG_NOSIGNAL);

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
		buf_consume(b, (size_t)n);
	}
	/* An idle session keeps no output buffer. */
	size_t max = buf_max(&conn->output);
	buf_free(&conn->output);
	buf_init(&conn->output, max);
	if (conn->cb->output_flushed != NULL)
		conn->cb->output_flushed(conn->ctx);
	return true;
}

/* Decodes what raw_input holds into the room of the input buffer. */
static bool connection_decode(struct connection *conn)
{
	size_t room = buf_room(&conn->input), consumed = 0, produced = 0;
	const char *error;
	uint8_t *p;

	if (room > CONNECTION_FILTER_CHUNK)
		room = CONNECTION_FILTER_CHUNK;
	if (room == 0 || (buf_len(&conn->raw_input) == 0 && !conn->filter_pending))
		return true;
	p = buf_reserve(&conn->input, room);
	if (!conn->filter->decode(conn->filter, buf_data(&conn->raw_input),
				  buf_len(&conn->raw_input), &consumed, p, room, &produced,
				  &conn->filter_pending, &error)) {
		connection_fail(conn, error, false);
		return false;
	}
	buf_commit(&conn->input, produced);
	buf_consume(&conn->raw_input, consumed);
	return true;
}

/* Hands decoded input to the owner as long as there is some and it takes
   it. False when the owner stopped reading or the connection failed. */
static bool connection_filter_input(struct connection *conn)
{
	while (!conn->failed && !conn->paused) {
		size_t before = buf_len(&conn->input);

		if (!connection_decode(conn))
			return false;
		if (buf_len(&conn->input) == before)
			return true;
		if (!conn->cb->input(conn->ctx))
			return false;
	}
	return !conn->failed;
}

static void connection_filter_kicked(void *ctx)
{
	struct connection *conn = ctx;

	timeout_remove(&conn->filter_kick);
	if (connection_filter_input(conn))
		connection_update_io(conn);
}

/* Reads what the socket has into raw_input (filtered connections). */
static bool connection_read_raw(struct connection *conn)
{
	size_t room = buf_room(&conn->raw_input);
	ssize_t n;
	uint8_t *p;

	if (room > CONNECTION_FILTER_CHUNK)
		room = CONNECTION_FILTER_CHUNK;
	if (room == 0)
		return true;
	p = buf_reserve(&conn->raw_input, room);
	n = read(conn->fd, p, room);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n <= 0) {
		connection_fail(conn, n == 0 ? "Connection closed" : "read failed", false);
		return false;
	}
	buf_commit(&conn->raw_input, (size_t)n);
	conn->bytes_in += (uint64_t)n;
	return true;
}

static void connection_io(void *ctx, uint32_t events)
{
	struct connection *conn = ctx;

	if ((events & EPOLLOUT) != 0 && !connection_flush(conn))
		return;
	if (conn->failed)
		return;
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 && !conn->paused &&
	    conn->filter != NULL) {
		if (!connection_read_raw(conn) || !connection_filter_input(conn))
			return;
	} else if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 && !conn->paused) {
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
	timeout_remove(&conn->filter_kick);
	close(conn->fd);
	buf_free(&conn->input);
	buf_free(&conn->output);
	buf_free(&conn->raw_input);
	buf_free(&conn->wire_output);
	if (conn->filter != NULL)
		conn->filter->destroy(conn->filter);
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
	return buf_len(&conn->output) + buf_len(&conn->wire_output);
}

void connection_set_filter(struct connection *conn, struct connection_filter *filter)
{
	if (conn->filter != NULL)
		panic("connection_set_filter: a filter is already set");
	conn->filter = filter;
	/* What the owner queued so far goes out unencoded, first. */
	buf_move(&conn->wire_output, &conn->output);
	buf_init(&conn->output, buf_max(&conn->wire_output));
	/* Bytes read after the command that started the filter are already
	   encoded by the peer. */
	buf_move(&conn->raw_input, &conn->input);
	buf_init(&conn->input, buf_max(&conn->raw_input));
	connection_update_io(conn);
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
