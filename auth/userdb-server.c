/*
 * The auth-userdb socket of roost-auth (base_dir/auth-userdb, bound by
 * master with the mode and group the configuration asks for): roost-lda
 * and roostadm ask for a user's uid, gid, home and mail location. Each
 * connection may ask many questions; each answer is one message.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "ioloop.h"
#include "ipc/ipc-codec.h"
#include "log.h"
#include "xalloc.h"

#define USERDB_MAX_CONNECTIONS 1024

static int listen_fd = -1;
static struct io *listen_io;
static unsigned int conn_count;

struct userdb_conn {
	struct ipc_conn *conn;
};

static bool userdb_message(void *ctx, struct ipc_message *msg)
{
	struct userdb_conn *uc = ctx;
	union auth_userdb_msg_any *m = i_malloc(sizeof(*m));
	struct auth_master_redeem_reply *reply;
	char user[POLICY_USER_MAX];
	const char *error;

	if (ipc_message_decode(&auth_userdb_channel, msg, m, sizeof(*m), &error) == NULL ||
	    msg->type != AUTH_USERDB_LOOKUP) {
		free(m);
		return false;
	}
	reply = i_calloc(1, sizeof(*reply));
	if (!auth_user_name(m->lookup.user, strlen(m->lookup.user), user, sizeof(user)))
		reply->status = USERDB_NOT_FOUND;
	else
		reply->status = auth_userdb_lookup(user, reply);
	reply->req_id = m->lookup.id;
	(void)ipc_conn_send_msg(uc->conn, AUTH_USERDB_MSG(AUTH_USERDB_REPLY), reply, NULL, 0);
	free(reply);
	free(m);
	return true;
}

static void userdb_closed(void *ctx, const char *reason)
{
	struct userdb_conn *uc = ctx;

	(void)reason;
	ipc_conn_destroy(&uc->conn);
	free(uc);
	conn_count--;
}

static void userdb_accept(void *ctx, uint32_t events)
{
	(void)ctx;
	(void)events;
	for (int i = 0; i < 32; i++) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct userdb_conn *uc;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_error("auth-userdb: accept() failed: %m");
			return;
		}
		if (conn_count >= USERDB_MAX_CONNECTIONS) {
			close(fd);
			continue;
		}
		uc = i_calloc(1, sizeof(*uc));
		uc->conn = ipc_conn_create(fd, userdb_message, userdb_closed, uc);
		conn_count++;
	}
}

void auth_userdb_server_init(int fd)
{
	listen_fd = fd;
	listen_io = io_add(fd, EPOLLIN, userdb_accept, NULL);
}
