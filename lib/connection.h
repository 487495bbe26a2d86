/*
 * A non-blocking client connection on the event loop with bounded input
 * and output buffers, for the mail processes (roost-imap, roost-pop3),
 * which talk to their client through a plain socket (login does TLS).
 * The input buffer's limit is the protocol's line limit: hitting it is
 * reported, never silently truncated.
 */
#ifndef ROOST_CONNECTION_H
#define ROOST_CONNECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct connection;

struct connection_callbacks {
	/*
	 * New bytes are in connection_input(conn). Consume what was handled
	 * with buf_consume(); return false to stop reading (the owner will
	 * destroy the connection or call connection_resume()).
	 */
	bool (*input)(void *ctx);
	/* The client closed, or reading/writing failed. */
	void (*disconnected)(void *ctx, const char *reason);
	/* All queued output was sent (optional). */
	void (*output_flushed)(void *ctx);
};

/*
 * A transformation of the bytes on the wire that a protocol negotiated
 * (IMAP COMPRESS=DEFLATE): the owner keeps reading and writing plain bytes
 * and the connection runs them through the filter. The filter is trusted
 * code; the bytes it decodes are not.
 */
struct connection_filter {
	/*
	 * Decodes received bytes: uses *consumed_r bytes of in and writes
	 * *produced_r bytes (at most out_size) to out. *pending_r tells that
	 * decoded bytes are still held back for lack of room. False with
	 * *error_r for input that cannot be decoded (the peer is dropped).
	 */
	bool (*decode)(struct connection_filter *filter, const uint8_t *in, size_t in_len,
		       size_t *consumed_r, uint8_t *out, size_t out_size, size_t *produced_r,
		       bool *pending_r, const char **error_r);
	/*
	 * Encodes all of in, appending to out. flush is set on the last piece
	 * of the output queued so far: the peer must be able to decode all
	 * of it now. False with *error_r when out is full or encoding failed.
	 */
	bool (*encode)(struct connection_filter *filter, const uint8_t *in, size_t in_len,
		       bool flush, struct buf *out, const char **error_r);
	/* Frees the filter (called by connection_destroy). */
	void (*destroy)(struct connection_filter *filter);
};

struct connection *connection_create(int fd, size_t input_max, size_t output_max,
				     const struct connection_callbacks *cb, void *ctx);
/* Closes the descriptor and frees everything; *conn becomes NULL. */
void connection_destroy(struct connection **conn);
struct buf *connection_input(struct connection *conn);
/* Queues output; false (and disconnects) when output_max would be exceeded. */
bool connection_send(struct connection *conn, const void *data, size_t len);
bool connection_send_str(struct connection *conn, const char *str);
bool connection_printf(struct connection *conn, const char *fmt, ...) ATTR_PRINTF(2, 3);
size_t connection_output_len(const struct connection *conn);
/* Stops and restarts reading (e.g. while a command waits for storage). */
void connection_pause(struct connection *conn);
void connection_resume(struct connection *conn);
/* Byte counters for the "Logged out in=... out=..." line. */
uint64_t connection_bytes_in(const struct connection *conn);
uint64_t connection_bytes_out(const struct connection *conn);
/*
 * From now on every byte read is decoded and every byte written is encoded
 * by filter, which the connection owns from here on. Output queued before
 * the call still goes out as it is (the protocol's "OK, compressing from
 * here" answer); input already read but not consumed is decoded first.
 * Only one filter can be set.
 */
void connection_set_filter(struct connection *conn, struct connection_filter *filter);
/* Feeds bytes as if read from the client (the hand-off's pipelined input). */
bool connection_inject_input(struct connection *conn, const void *data, size_t len);

#endif
