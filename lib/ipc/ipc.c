/*
 * SEQPACKET framing and descriptor passing (see ipc.h). A frame is accepted
 * only if it arrived whole (no MSG_TRUNC/MSG_CTRUNC), carries our version,
 * and its header length matches the datagram exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ioloop.h"
#include "ipc.h"
#include "log.h"
#include "xalloc.h"

/* Beyond this many queued bytes the peer is considered stuck. */
#define IPC_CONN_MAX_QUEUED (8 * 1024 * 1024)
#define IPC_CONN_BATCH	    32

int ipc_socketpair(int fds[2])
{
	return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds);
}

static void put_header(uint8_t *hdr, uint16_t type, size_t len)
{
	hdr[0] = IPC_VERSION & 0xff;
	hdr[1] = IPC_VERSION >> 8;
	hdr[2] = type & 0xff;
	hdr[3] = (uint8_t)(type >> 8);
	hdr[4] = len & 0xff;
	hdr[5] = (len >> 8) & 0xff;
	hdr[6] = (len >> 16) & 0xff;
	hdr[7] = (len >> 24) & 0xff;
}

static int send_frame(int fd, const uint8_t *hdr, const void *payload, size_t len, const int *fds,
		      unsigned int fd_count)
{
	struct iovec iov[2] = {
		{.iov_base = (void *)hdr, .iov_len = IPC_HEADER_SIZE},
		{.iov_base = (void *)payload, .iov_len = len},
	};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * IPC_MAX_FDS)];
	} control;
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len > 0 ? 2 : 1};
	ssize_t ret;

	if (fd_count > 0) {
		struct cmsghdr *cmsg;

		memset(&control, 0, sizeof(control));
		mh.msg_control = control.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * fd_count);
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fd_count);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * fd_count);
	}
	do {
		ret = sendmsg(fd, &mh, MSG_NOSIGNAL);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -1;
	if ((size_t)ret != IPC_HEADER_SIZE + len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

int ipc_send(int fd, uint16_t type, const void *payload, size_t len, const int *fds,
	     unsigned int fd_count)
{
	uint8_t hdr[IPC_HEADER_SIZE];

	if (len > IPC_MAX_PAYLOAD || fd_count > IPC_MAX_FDS) {
		errno = EMSGSIZE;
		return -1;
	}
	put_header(hdr, type, len);
	return send_frame(fd, hdr, payload, len, fds, fd_count);
}

void ipc_message_close_fds(struct ipc_message *msg)
{
	for (unsigned int i = 0; i < msg->fd_count; i++) {
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
		msg->fds[i] = -1;
	}
	msg->fd_count = 0;
}

int ipc_recv(int fd, struct ipc_message *msg)
{
	struct iovec iov = {.iov_base = msg->data, .iov_len = sizeof(msg->data)};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * IPC_MAX_FDS)];
	} control;
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = sizeof(control.buf),
	};
	ssize_t ret;
	bool bad = false;

	msg->fd_count = 0;
	do {
		ret = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -1;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
			bad = true;
			continue;
		}
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int received;

			memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (msg->fd_count < IPC_MAX_FDS)
				msg->fds[msg->fd_count++] = received;
			else {
				close(received);
				bad = true;
			}
		}
	}
	if (ret == 0 && msg->fd_count == 0)
		return 0;
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 || ret < IPC_HEADER_SIZE)
		bad = true;
	if (!bad) {
		uint16_t version = (uint16_t)(msg->data[0] | (msg->data[1] << 8));
		uint32_t len = (uint32_t)msg->data[4] | ((uint32_t)msg->data[5] << 8) |
			       ((uint32_t)msg->data[6] << 16) | ((uint32_t)msg->data[7] << 24);

		msg->type = (uint16_t)(msg->data[2] | (msg->data[3] << 8));
		if (version != IPC_VERSION || len != (size_t)ret - IPC_HEADER_SIZE)
			bad = true;
		msg->len = len;
		msg->payload = msg->data + IPC_HEADER_SIZE;
	}
	if (bad) {
		ipc_message_close_fds(msg);
		errno = EPROTO;
		return -1;
	}
	return 1;
}

bool ipc_peer_cred(int fd, pid_t *pid_r, uid_t *uid_r, gid_t *gid_r)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred))
		return false;
	*pid_r = cred.pid;
	*uid_r = cred.uid;
	*gid_r = cred.gid;
	return true;
}

struct ipc_queued {
	struct ipc_queued *next;
	size_t len;
	int fds[IPC_MAX_FDS];
	unsigned int fd_count;
	uint8_t frame[]; /* header + payload */
};

struct ipc_conn {
	int fd;
	struct io *io;
	struct ipc_queued *head, *tail;
	size_t queued_bytes;
	bool broken;
	struct timeout *close_to;
	const char *close_reason;
	ipc_message_callback_t *on_message;
	ipc_close_callback_t *on_close;
	void *ctx;
};

/*
 * Every connection receives into one buffer: a message is handled before
 * the next is read, so a process with hundreds of children (master) keeps
 * one 61 KiB buffer instead of one per child. Only the pages a message
 * touches become memory. A handler that re-enters ipc_conn_input() (a
 * nested event loop) gets a buffer of its own for that call.
 */
static struct ipc_message ipc_conn_rx;
static bool ipc_conn_rx_busy;

static void ipc_conn_update_io(struct ipc_conn *conn)
{
	io_set_events(conn->io, EPOLLIN | (conn->head != NULL ? EPOLLOUT : 0));
}

static void ipc_conn_close_later(void *ctx)
{
	struct ipc_conn *conn = ctx;

	timeout_remove(&conn->close_to);
	conn->on_close(conn->ctx, conn->close_reason);
}

/* Reports the connection's end from the loop, never from a caller's stack. */
static void ipc_conn_fail(struct ipc_conn *conn, const char *reason)
{
	if (conn->broken)
		return;
	conn->broken = true;
	conn->close_reason = reason;
	io_set_events(conn->io, 0);
	conn->close_to = timeout_add(0, ipc_conn_close_later, conn);
}

static void ipc_conn_flush(struct ipc_conn *conn)
{
	while (conn->head != NULL) {
		struct ipc_queued *q = conn->head;

		if (send_frame(conn->fd, q->frame, q->frame + IPC_HEADER_SIZE,
			       q->len - IPC_HEADER_SIZE, q->fds, q->fd_count) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			ipc_conn_fail(conn, "send failed");
			return;
		}
		conn->head = q->next;
		if (conn->head == NULL)
			conn->tail = NULL;
		conn->queued_bytes -= q->len;
		for (unsigned int i = 0; i < q->fd_count; i++)
			close(q->fds[i]);
		free(q);
	}
	ipc_conn_update_io(conn);
}

static void ipc_conn_input_batch(struct ipc_conn *conn, struct ipc_message *msg)
{
	for (int i = 0; i < IPC_CONN_BATCH; i++) {
		int ret = ipc_recv(conn->fd, msg);

		if (ret < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (ret <= 0) {
			conn->broken = true;
			io_set_events(conn->io, 0);
			conn->on_close(conn->ctx, ret == 0	    ? "disconnected"
						  : errno == EPROTO ? "malformed message"
								    : "receive failed");
			return;
		}
		if (!conn->on_message(conn->ctx, msg)) {
			ipc_message_close_fds(msg);
			conn->broken = true;
			io_set_events(conn->io, 0);
			conn->on_close(conn->ctx, "protocol violation");
			return;
		}
		ipc_message_close_fds(msg);
	}
}

static void ipc_conn_input(void *ctx, uint32_t events)
{
	struct ipc_conn *conn = ctx;

	if (conn->broken)
		return;
	if ((events & EPOLLOUT) != 0)
		ipc_conn_flush(conn);
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) == 0 || conn->broken)
		return;
	if (!ipc_conn_rx_busy) {
		ipc_conn_rx_busy = true;
		ipc_conn_input_batch(conn, &ipc_conn_rx);
		ipc_conn_rx_busy = false;
	} else {
		struct ipc_message *msg = i_malloc(sizeof(*msg));

		ipc_conn_input_batch(conn, msg);
		free(msg);
	}
}

struct ipc_conn *ipc_conn_create(int fd, ipc_message_callback_t *on_message,
				 ipc_close_callback_t *on_close, void *ctx)
{
	struct ipc_conn *conn = i_calloc(1, sizeof(*conn));
	int flags = fcntl(fd, F_GETFL);

	/* The loop must never block on a peer. */
	if (flags >= 0 && (flags & O_NONBLOCK) == 0)
		(void)fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	conn->fd = fd;
	conn->on_message = on_message;
	conn->on_close = on_close;
	conn->ctx = ctx;
	conn->io = io_add(fd, EPOLLIN, ipc_conn_input, conn);
	return conn;
}

int ipc_conn_fd(const struct ipc_conn *conn)
{
	return conn->fd;
}

void ipc_conn_destroy(struct ipc_conn **_conn)
{
	struct ipc_conn *conn = *_conn;

	if (conn == NULL)
		return;
	*_conn = NULL;
	io_remove(&conn->io);
	timeout_remove(&conn->close_to);
	while (conn->head != NULL) {
		struct ipc_queued *q = conn->head;

		conn->head = q->next;
		for (unsigned int i = 0; i < q->fd_count; i++)
			close(q->fds[i]);
		free(q);
	}
	close(conn->fd);
	free(conn);
}

bool ipc_conn_send(struct ipc_conn *conn, uint16_t type, const void *payload, size_t len,
		   const int *fds, unsigned int fd_count)
{
	struct ipc_queued *q;

	if (conn->broken)
		return false;
	if (len > IPC_MAX_PAYLOAD || fd_count > IPC_MAX_FDS)
		panic("ipc_conn_send: message too large (%zu bytes, %u fds)", len, fd_count);
	if (conn->head == NULL && ipc_send(conn->fd, type, payload, len, fds, fd_count) == 0)
		return true;
	if (conn->head == NULL && errno != EAGAIN && errno != EWOULDBLOCK) {
		ipc_conn_fail(conn, "send failed");
		return false;
	}
	if (conn->queued_bytes + len > IPC_CONN_MAX_QUEUED) {
		ipc_conn_fail(conn, "peer is not reading its messages");
		return false;
	}
	q = i_malloc(sizeof(*q) + IPC_HEADER_SIZE + len);
	q->next = NULL;
	q->len = IPC_HEADER_SIZE + len;
	put_header(q->frame, type, len);
	if (len > 0)
		memcpy(q->frame + IPC_HEADER_SIZE, payload, len);
	q->fd_count = 0;
	for (unsigned int i = 0; i < fd_count; i++) {
		int dupfd = fcntl(fds[i], F_DUPFD_CLOEXEC, 0);

		if (dupfd < 0) {
			for (unsigned int j = 0; j < q->fd_count; j++)
				close(q->fds[j]);
			free(q);
			ipc_conn_fail(conn, "dup failed");
			return false;
		}
		q->fds[q->fd_count++] = dupfd;
	}
	if (conn->tail == NULL)
		conn->head = q;
	else
		conn->tail->next = q;
	conn->tail = q;
	conn->queued_bytes += q->len;
	ipc_conn_update_io(conn);
	return true;
}
