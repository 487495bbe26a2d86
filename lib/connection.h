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
/* Feeds bytes as if read from the client (the hand-off's pipelined input). */
bool connection_inject_input(struct connection *conn, const void *data, size_t len);

#endif
