/*
 * A buffered, non-blocking client connection over a plain socket or TLS,
 * for event-loop servers (roost-login's IMAP and POP3 front ends and its
 * TLS proxy). It owns bounded input and output buffers, hides OpenSSL's
 * "read wants write" cases behind stream_events(), and switches to TLS for
 * STARTTLS/STLS. It trusts nothing it reads; its limits come from the caller.
 *
 * Idle connections hold no buffer memory: each buffer is freed as soon as it
 * is empty, which is what keeps thousands of idle clients cheap.
 */
#ifndef ROOST_STREAM_H
#define ROOST_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/tls.h"

enum stream_result {
	STREAM_OK,    /* stream_read: new input; stream_flush: output all sent */
	STREAM_WAIT,  /* nothing to do now: wait for stream_events() */
	STREAM_FULL,  /* stream_read: input buffer at its maximum; consume first */
	STREAM_EOF,   /* the peer closed the connection */
	STREAM_ERROR, /* socket or TLS error: stream_error() says which */
};

struct stream;

/*
 * Wraps a connected non-blocking socket (not closed by stream_free()). Input
 * is bounded by max_input bytes, queued output by max_output.
 */
struct stream *stream_create(int fd, size_t max_input, size_t max_output);
/* Frees buffers and TLS state and sets *stream to NULL. */
void stream_free(struct stream **stream);

/*
 * A secure layer over the socket, as a table of functions so that this file
 * never references OpenSSL: binaries that use streams without TLS (the mail
 * processes) do not load it. lib/tls provides tls_stream_transport, whose
 * conn is a struct tls_conn.
 */
struct stream_transport {
	enum tls_result (*handshake)(void *conn);
	enum tls_result (*read)(void *conn, void *buf, size_t size, size_t *read_r);
	enum tls_result (*write)(void *conn, const void *data, size_t size, size_t *written_r);
	bool (*handshake_done)(const void *conn);
	const char *(*error)(const void *conn);
	void (*free)(void *conn); /* frees conn */
};

/*
 * Switches to TLS (implicit TLS right after accept, or after answering
 * STARTTLS/STLS once that answer is flushed), e.g.
 * stream_start_tls(s, &tls_stream_transport, tls_conn, &discarded).
 * Takes ownership of conn. Input still buffered is plaintext the client
 * sent after the command: it is dropped (so it can never be taken as sent
 * over TLS, the STARTTLS command injection problem) and *discarded_r tells
 * how many bytes were dropped. Queued output must have been flushed first
 * (panics otherwise).
 */
void stream_start_tls(struct stream *stream, const struct stream_transport *transport, void *conn,
		      size_t *discarded_r);
/* The transport's conn (a struct tls_conn *), NULL for a plain connection. */
void *stream_tls(const struct stream *stream);
/* True for plain connections and for TLS ones whose handshake completed. */
bool stream_is_ready(const struct stream *stream);

/*
 * Reads what the socket has (and drives a pending TLS handshake). STREAM_OK
 * means new input is in stream_input(); the other results say why nothing
 * was added. Keeps reading until the socket would block or the buffer is
 * full. TLS may hold decrypted bytes that no epoll event will announce, so
 * after consuming input the caller calls stream_read() again before waiting.
 * A typical loop, on any event: stream_flush(), stream_read(), handle and
 * consume input, stream_read() again if anything was consumed, then
 * stream_flush() and wait for stream_events().
 */
enum stream_result stream_read(struct stream *stream);
/* The buffered input; valid until the next read or consume. */
const uint8_t *stream_input(const struct stream *stream, size_t *len_r);
/* Drops n bytes from the front of the input. */
void stream_consume(struct stream *stream, size_t n);

/*
 * Queues bytes for stream_flush() (responses are batched: one TLS record or
 * send() for all of them). Returns false, queueing nothing, when the output
 * would exceed max_output (a client that does not read its responses; the
 * caller disconnects it) or the stream already failed.
 */
bool stream_send(struct stream *stream, const void *data, size_t len);
/* Sends queued output: STREAM_OK when all is out, STREAM_WAIT when not yet. */
enum stream_result stream_flush(struct stream *stream);
size_t stream_output_pending(const struct stream *stream);

/*
 * The epoll events to wait for now (EPOLLIN, EPOLLOUT or both): includes
 * the direction TLS is blocked on, and leaves out EPOLLIN while the input
 * buffer is full.
 */
uint32_t stream_events(const struct stream *stream);
/* The last error, e.g. "SSL_read() syscall failed: ...", "" when none. */
const char *stream_error(const struct stream *stream);

#endif
