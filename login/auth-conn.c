/*
 * roost-login's connection to roost-auth: a socketpair master set up for
 * this process. Requests carry the client's id; replies are decoded with the
 * auth-login table and matched to the client still waiting for them. If auth
 * goes away, waiting clients get a temporary failure and master sends a new
 * connection once auth is back.
 */
#include <stdlib.h>
#include <string.h>

#include "ipc/ipc-codec.h"
#include "log.h"
#include "login.h"
#include "xalloc.h"

static struct ipc_conn *auth_conn;

static void fail_all_waiting(void)
{
	struct client *c;

	/* Every client in an exchange with the old auth process gets a temporary failure. */
	while ((c = clients_find_auth_any()) != NULL)
		client_auth_reply_fail(c, AUTH_FAIL_TEMP, "", "");
}

static bool auth_message(void *ctx, struct ipc_message *msg)
{
	union auth_login_msg_any *m = i_malloc(sizeof(*m));
	const char *error;
	const struct ipc_msg_def *def =
		ipc_message_decode(&auth_login_channel, msg, m, sizeof(*m), &error);
	struct client *c;
	bool ok = true;

	(void)ctx;
	if (def == NULL || def->type < AUTH_LOGIN_CONTINUE) {
		log_error("Invalid message from auth: %s", def == NULL ? error : "a request");
		free(m);
		return false;
	}
	/* Every reply starts with the request id. */
	c = clients_find_auth(m->cont.id);
	if (c == NULL) {
		/* The client left while auth was working: nothing to do. */
		free(m);
		return true;
	}
	switch (def->type) {
	case AUTH_LOGIN_CONTINUE:
		client_auth_reply_continue(c, m->cont.data, m->cont.data_len);
		break;
	case AUTH_LOGIN_OK:
		client_auth_reply_ok(c, m->ok.user, m->ok.token, m->ok.token_len);
		break;
	case AUTH_LOGIN_FAIL:
		client_auth_reply_fail(c, (enum auth_fail_reason)m->fail.reason, m->fail.user,
				       m->fail.text);
		break;
	default:
		ok = false;
		break;
	}
	explicit_bzero(m, sizeof(*m));
	free(m);
	return ok;
}

static void auth_closed(void *ctx, const char *reason)
{
	(void)ctx;
	log_warning("Connection to auth lost (%s); waiting for a new one", reason);
	ipc_conn_destroy(&auth_conn);
	fail_all_waiting();
}

void auth_conn_set_fd(int fd)
{
	if (auth_conn != NULL) {
		ipc_conn_destroy(&auth_conn);
		fail_all_waiting();
	}
	auth_conn = ipc_conn_create(fd, auth_message, auth_closed, NULL);
}

bool auth_conn_available(void)
{
	return auth_conn != NULL;
}

bool auth_conn_request(struct client *c, const struct auth_login_request *req)
{
	(void)c;
	return auth_conn != NULL &&
	       ipc_conn_send_msg(auth_conn, AUTH_LOGIN_MSG(AUTH_LOGIN_REQUEST), req, NULL, 0);
}

void auth_conn_respond(struct client *c, const char *data, size_t len)
{
	struct auth_login_response *resp;

	if (auth_conn == NULL || len > sizeof(resp->data)) {
		client_auth_reply_fail(
			c, len > AUTH_SASL_DATA_MAX ? AUTH_FAIL_MALFORMED : AUTH_FAIL_TEMP, "", "");
		return;
	}
	resp = i_calloc(1, sizeof(*resp));
	resp->id = c->auth_id;
	memcpy(resp->data, data, len);
	resp->data_len = len;
	if (!ipc_conn_send_msg(auth_conn, AUTH_LOGIN_MSG(AUTH_LOGIN_RESPONSE), resp, NULL, 0))
		client_auth_reply_fail(c, AUTH_FAIL_TEMP, "", "");
	explicit_bzero(resp, sizeof(*resp));
	free(resp);
}

void auth_conn_abort(struct client *c)
{
	struct auth_login_abort abort_msg = {.id = c->auth_id};

	if (auth_conn != NULL)
		(void)ipc_conn_send_msg(auth_conn, AUTH_LOGIN_MSG(AUTH_LOGIN_ABORT), &abort_msg,
					NULL, 0);
	c->auth_id = 0;
}
