/*
 * roost-login's channel to master (IPC_MASTER_FD): hand-offs of
 * authenticated clients, their replies, new connections to auth, load
 * reports. master is trusted, but its messages are still decoded with the
 * channel tables.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ioloop.h"
#include "ipc/ipc-codec.h"
#include "ipc/msg-child.h"
#include "log.h"
#include "login.h"
#include "xalloc.h"

static struct ipc_conn *master_conn;

static bool master_message(void *ctx, struct ipc_message *msg)
{
	union login_msg_any *m;
	const char *error;
	const struct ipc_msg_def *def;
	struct client *c;

	(void)ctx;
	if (msg->type == CHILD_SHUTDOWN) {
		/* Serve current clients, accept no more: master started a successor. */
		exit(0);
	}
	m = i_malloc(sizeof(*m));
	def = ipc_message_decode(&login_channel, msg, m, sizeof(*m), &error);
	if (def == NULL) {
		log_error("Invalid message from master: %s", error);
		free(m);
		return false;
	}
	switch (def->type) {
	case LOGIN_HANDOFF_REPLY:
		c = clients_find_handoff(m->reply.req_id);
		if (c != NULL)
			client_handoff_reply(c, &m->reply);
		break;
	case LOGIN_AUTH_CONNECT:
		auth_conn_set_fd(msg->fds[0]);
		msg->fds[0] = -1;
		break;
	default:
		log_error("Unexpected message from master: %s", def->name);
		free(m);
		return false;
	}
	free(m);
	return true;
}

static void master_closed(void *ctx, const char *reason)
{
	(void)ctx;
	(void)reason;
	/* Without master no session can start: leave. */
	exit(0);
}

void master_conn_init(int fd)
{
	master_conn = ipc_conn_create(fd, master_message, master_closed, NULL);
}

bool master_conn_handoff(struct client *c, const struct login_handoff *msg, int fd)
{
	(void)c;
	return ipc_conn_send_msg(master_conn, LOGIN_MSG(LOGIN_HANDOFF), msg, &fd, 1);
}

void master_conn_status(void)
{
	struct child_status status = {.clients = clients_count()};

	(void)ipc_conn_send_msg(master_conn, CHILD_MSG(CHILD_STATUS), &status, NULL, 0);
}
