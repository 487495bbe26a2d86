/*
 * roost-auth's channel to master: new login connections, token
 * redemption, penalties for failed IPs, and the report of each attempt.
 */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "ipc/ipc-codec.h"
#include "log.h"
#include "xalloc.h"

static struct ipc_conn *master_conn;

static void handle_redeem(const struct auth_master_redeem *r)
{
	struct auth_master_redeem_reply *reply = i_calloc(1, sizeof(*reply));
	char user[POLICY_USER_MAX];

	reply->req_id = r->req_id;
	if (!auth_token_redeem(r->token, r->token_len, r->login_pid, r->service, r->rip, user,
			       sizeof(user)))
		reply->status = USERDB_NOT_FOUND;
	else
		reply->status = auth_userdb_lookup(user, reply);
	reply->req_id = r->req_id;
	(void)ipc_conn_send_msg(master_conn, AUTH_MASTER_MSG(AUTH_MASTER_REDEEM_REPLY), reply, NULL,
				0);
	free(reply);
}

static bool master_message(void *ctx, struct ipc_message *msg)
{
	union auth_master_msg_any *m = i_malloc(sizeof(*m));
	const char *error;
	const struct ipc_msg_def *def =
		ipc_message_decode(&auth_master_channel, msg, m, sizeof(*m), &error);
	bool ok = true;

	(void)ctx;
	if (def == NULL) {
		log_error("Invalid message from master: %s", error);
		free(m);
		return false;
	}
	switch (def->type) {
	case AUTH_MASTER_CLIENT:
		auth_login_conn_add(msg->fds[0], m->client.login_pid, m->client.service);
		msg->fds[0] = -1;
		break;
	case AUTH_MASTER_REDEEM:
		handle_redeem(&m->redeem);
		break;
	case AUTH_MASTER_PENALTY:
		auth_request_penalty(m->penalty.req_id, m->penalty.delay_msecs);
		break;
	default:
		log_error("Unexpected message from master: %s", def->name);
		ok = false;
		break;
	}
	free(m);
	return ok;
}

static void master_closed(void *ctx, const char *reason)
{
	(void)ctx;
	(void)reason;
	exit(0);
}

void auth_master_init(int fd)
{
	master_conn = ipc_conn_create(fd, master_message, master_closed, NULL);
}

void auth_master_result(uint32_t req_id, const char *service, const char *rip, bool success,
			bool tls)
{
	struct auth_master_result r;

	memset(&r, 0, sizeof(r));
	r.req_id = req_id;
	(void)str_copy(r.service, sizeof(r.service), service);
	(void)str_copy(r.rip, sizeof(r.rip), rip);
	r.success = success;
	r.tls = tls;
	(void)ipc_conn_send_msg(master_conn, AUTH_MASTER_MSG(AUTH_MASTER_RESULT), &r, NULL, 0);
}
