/*
 * IPC between roost processes: AF_UNIX SOCK_SEQPACKET sockets carrying
 * framed messages {version, type, len} + payload, with descriptors passed by
 * SCM_RIGHTS. This is the only code that passes descriptors. Payloads are
 * decoded by ipc-codec.h against a per-channel table; nothing here trusts
 * the peer beyond the frame's own length checks.
 */
#ifndef ROOST_IPC_H
#define ROOST_IPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

#define IPC_VERSION	1
#define IPC_HEADER_SIZE 8
/* Largest payload; SEQPACKET keeps it in one datagram. */
#define IPC_MAX_PAYLOAD (60 * 1024)
#define IPC_MAX_FDS	4

/* The first descriptor of every child is its channel to master. */
#define IPC_MASTER_FD 3

struct ipc_message {
	uint16_t type;
	size_t len;
	const uint8_t *payload; /* points into data */
	int fds[IPC_MAX_FDS];
	unsigned int fd_count;
	uint8_t data[IPC_HEADER_SIZE + IPC_MAX_PAYLOAD];
};

/* Creates a SEQPACKET socketpair (close-on-exec). Returns -1 with errno. */
int ipc_socketpair(int fds[2]);

/*
 * Sends one message, blocking until it is queued in the kernel. Returns 0,
 * or -1 with errno (EAGAIN on a non-blocking socket whose buffer is full).
 */
int ipc_send(int fd, uint16_t type, const void *payload, size_t len, const int *fds,
	     unsigned int fd_count);

/*
 * Receives one message. Returns 1 on success, 0 on EOF, -1 on error with
 * errno set (EAGAIN, or EPROTO for a malformed frame: truncated, bad
 * version, length mismatch, too many descriptors). Descriptors of a rejected
 * frame are closed. The caller owns msg->fds and must close the ones it does
 * not keep (ipc_message_close_fds()).
 */
int ipc_recv(int fd, struct ipc_message *msg);
void ipc_message_close_fds(struct ipc_message *msg);

/* The uid/gid/pid of the peer (SO_PEERCRED). */
bool ipc_peer_cred(int fd, pid_t *pid_r, uid_t *uid_r, gid_t *gid_r);

/*
 * A non-blocking connection on the event loop with an outgoing queue, for
 * a side that must never block on its peer (master towards children). The
 * handler is called for each received message; returning false, a receive
 * error or EOF calls the close callback, after which the connection must be
 * destroyed by its owner. The message (payload and descriptors) lives only
 * for the handler's call: connections share one receive buffer, and the
 * descriptors the handler did not take (set to -1) are closed after it.
 */
struct ipc_conn;
typedef bool ipc_message_callback_t(void *ctx, struct ipc_message *msg);
typedef void ipc_close_callback_t(void *ctx, const char *reason);

struct ipc_conn *ipc_conn_create(int fd, ipc_message_callback_t *on_message,
				 ipc_close_callback_t *on_close, void *ctx);
/* Closes the descriptor and frees the queue; *conn becomes NULL. */
void ipc_conn_destroy(struct ipc_conn **conn);
int ipc_conn_fd(const struct ipc_conn *conn);
/*
 * Queues a message (its descriptors are duplicated, the caller keeps its
 * own). Fails only when the queue limit is exceeded: the peer is not reading
 * and the connection is closed with a reason.
 */
bool ipc_conn_send(struct ipc_conn *conn, uint16_t type, const void *payload, size_t len,
		   const int *fds, unsigned int fd_count);

#endif
