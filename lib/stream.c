/*
 * Buffered non-blocking connections over plain sockets or lib/tls (see
 * stream.h). Runs in roost-login on client sockets: input and output are
 * bounded by the caller's limits, and plain writes use MSG_NOSIGNAL so a
 * vanished client is an error, never a SIGPIPE.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "buf.h"
#include "log.h"
#include "stream.h"
#include "xalloc.h"

/* Bytes asked of the socket per read call. */
#define STREAM_READ_CHUNK 4096

struct stream {
	int fd;
	const struct stream_transport *tr;
	void *tls;
	struct buf in;
	struct buf out;
	bool eof;
	bool failed;
	bool read_wants_write; /* TLS handshake or read blocked until writable */
	bool write_wants_read; /* TLS write blocked until readable */
	char error[256];
};

struct stream *stream_create(int fd, size_t max_input, size_t max_output)
{
	struct stream *s = i_calloc(1, sizeof(*s));

	s->fd = fd;
	buf_init(&s->in, max_input);
	buf_init(&s->out, max_output);
	return s;
}

void stream_free(struct stream **stream)
{
	struct stream *s = *stream;

	if (s == NULL)
		return;
	if (s->tls != NULL)
		s->tr->free(s->tls);
	/* Input may hold a password (LOGIN, AUTHENTICATE). */
	buf_free_secret(&s->in);
	buf_free(&s->out);
	free(s);
	*stream = NULL;
}

void stream_start_tls(struct stream *s, const struct stream_transport *transport, void *conn,
		      size_t *discarded_r)
{
	if (s->tls != NULL)
		panic("stream_start_tls() on a TLS stream");
	if (buf_len(&s->out) > 0)
		panic("stream_start_tls() with unsent output");
	*discarded_r = buf_len(&s->in);
	buf_free_secret(&s->in);
	s->tr = transport;
	s->tls = conn;
}

void *stream_tls(const struct stream *s)
{
	return s->tls;
}

bool stream_is_ready(const struct stream *s)
{
	return s->tls == NULL || s->tr->handshake_done(s->tls);
}

static enum stream_result stream_fail(struct stream *s, const char *error)
{
	s->failed = true;
	(void)str_copy(s->error, sizeof(s->error), error);
	return STREAM_ERROR;
}

static enum stream_result stream_fail_errno(struct stream *s, const char *func, int err)
{
	char msg[256];

	(void)str_format(msg, sizeof(msg), "%s failed: %s", func, strerror(err));
	return stream_fail(s, msg);
}

/* Maps a TLS result of a read-side call; OK means "go on". */
static enum stream_result tls_read_side(struct stream *s, enum tls_result r)
{
	switch (r) {
	case TLS_OK:
		s->read_wants_write = false;
		return STREAM_OK;
	case TLS_WANT_READ:
		s->read_wants_write = false;
		return STREAM_WAIT;
	case TLS_WANT_WRITE:
		s->read_wants_write = true;
		return STREAM_WAIT;
	case TLS_CLOSED:
		s->eof = true;
		return STREAM_EOF;
	case TLS_ERROR:
		break;
	}
	return stream_fail(s, s->tr->error(s->tls));
}

/* Finishes a pending TLS handshake; OK when the stream may carry data. */
static enum stream_result stream_handshake(struct stream *s)
{
	if (s->tls == NULL || s->tr->handshake_done(s->tls))
		return STREAM_OK;
	return tls_read_side(s, s->tr->handshake(s->tls));
}

/* One read into the input buffer: >0 bytes, 0 nothing more, or a result. */
static enum stream_result read_once(struct stream *s, size_t *added_r)
{
	size_t room = buf_room(&s->in);
	size_t want = room < STREAM_READ_CHUNK ? room : STREAM_READ_CHUNK;
	uint8_t *p = buf_reserve(&s->in, want);
	enum stream_result r;

	*added_r = 0;
	if (p == NULL)
		panic("stream: buffer reserve inside its room failed");
	if (s->tls != NULL) {
		size_t n = 0;

		r = tls_read_side(s, s->tr->read(s->tls, p, want, &n));
		if (r == STREAM_OK) {
			buf_commit(&s->in, n);
			*added_r = n;
		}
		return r;
	}
	for (;;) {
		ssize_t ret = recv(s->fd, p, want, 0);

		if (ret > 0) {
			buf_commit(&s->in, (size_t)ret);
			*added_r = (size_t)ret;
			return STREAM_OK;
		}
		if (ret == 0) {
			s->eof = true;
			return STREAM_EOF;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return STREAM_WAIT;
		return stream_fail_errno(s, "read()", errno);
	}
}

enum stream_result stream_read(struct stream *s)
{
	enum stream_result r;
	size_t total = 0;

	if (s->failed)
		return STREAM_ERROR;
	if (s->eof)
		return STREAM_EOF;
	r = stream_handshake(s);
	if (r != STREAM_OK)
		return r;
	/* A TLS write that waited for input may go on now. */
	if (s->write_wants_read && buf_len(&s->out) > 0 && stream_flush(s) == STREAM_ERROR)
		return STREAM_ERROR;
	for (;;) {
		size_t added;

		if (buf_room(&s->in) == 0) {
			r = total > 0 ? STREAM_OK : STREAM_FULL;
			break;
		}
		r = read_once(s, &added);
		total += added;
		if (r != STREAM_OK) {
			/* Report the bytes first; EOF or the error comes next call. */
			if (total > 0 && r != STREAM_ERROR)
				r = STREAM_OK;
			break;
		}
	}
	if (buf_len(&s->in) == 0)
		buf_free_secret(&s->in);
	return r;
}

const uint8_t *stream_input(const struct stream *s, size_t *len_r)
{
	*len_r = buf_len(&s->in);
	return buf_data(&s->in);
}

void stream_consume(struct stream *s, size_t n)
{
	if (n >= buf_len(&s->in)) {
		buf_free_secret(&s->in);
		return;
	}
	buf_consume(&s->in, n);
}

bool stream_send(struct stream *s, const void *data, size_t len)
{
	if (s->failed)
		return false;
	return buf_append(&s->out, data, len);
}

size_t stream_output_pending(const struct stream *s)
{
	return buf_len(&s->out);
}

enum stream_result stream_flush(struct stream *s)
{
	enum stream_result r;

	if (s->failed)
		return STREAM_ERROR;
	r = stream_handshake(s);
	if (r != STREAM_OK)
		return r == STREAM_EOF ? STREAM_ERROR : r;
	while (buf_len(&s->out) > 0) {
		size_t n = 0;

		if (s->tls != NULL) {
			switch (s->tr->write(s->tls, buf_data(&s->out), buf_len(&s->out), &n)) {
			case TLS_OK:
				s->write_wants_read = false;
				break;
			case TLS_WANT_WRITE:
				s->write_wants_read = false;
				return STREAM_WAIT;
			case TLS_WANT_READ:
				s->write_wants_read = true;
				return STREAM_WAIT;
			case TLS_CLOSED:
			case TLS_ERROR:
				return stream_fail(s, s->tr->error(s->tls));
			}
		} else {
			ssize_t ret =
				send(s->fd, buf_data(&s->out), buf_len(&s->out), MSG_NOSIGNAL);

			if (ret < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					return STREAM_WAIT;
				return stream_fail_errno(s, "write()", errno);
			}
			n = (size_t)ret;
		}
		buf_consume(&s->out, n);
	}
	buf_free(&s->out);
	return STREAM_OK;
}

uint32_t stream_events(const struct stream *s)
{
	uint32_t events = 0;

	if (s->failed || s->eof)
		return 0;
	if ((buf_room(&s->in) > 0 && !s->read_wants_write) || s->write_wants_read)
		events |= EPOLLIN;
	if ((buf_len(&s->out) > 0 && !s->write_wants_read) || s->read_wants_write)
		events |= EPOLLOUT;
	return events;
}

const char *stream_error(const struct stream *s)
{
	return s->error;
}
