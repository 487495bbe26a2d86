/*
 * The login -> mail hand-off in master: a login process passes an
 * authenticated client with a one-time token; master asks auth who the
 * token belongs to (checking it was issued to that login process for that
 * service and IP), refuses root and uids outside first_valid_uid, reserves
 * the session with policy under mail_max_userip_connections, and gives the
 * client to a mail process running as the user. Nothing login says about
 * the user is believed.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ipc/ipc-codec.h"
#include "ipc/msg-login.h"
#include "log.h"
#include "master.h"
#include "xalloc.h"

struct handoff {
	struct process *login;
	char protocol[POLICY_SERVICE_MAX]; /* imap or pop3 */
	int client_fd;
	bool reserved_sent;
	uint64_t session_id;
	struct login_handoff msg;
	struct auth_master_redeem_reply user;
	struct handoff *next;
};

static struct handoff *handoffs;

static void handoff_free(struct handoff *h)
{
	for (struct handoff **hp = &handoffs; *hp != NULL; hp = &(*hp)->next) {
		if (*hp == h) {
			*hp = h->next;
			break;
		}
	}
	auth_client_cancel(h);
	policy_request_cancel(h);
	if (h->client_fd >= 0)
		close(h->client_fd);
	explicit_bzero(h->msg.token, sizeof(h->msg.token));
	free(h);
}

static void handoff_reply(struct handoff *h, uint32_t status, pid_t mail_pid, unsigned int limit)
{
	struct login_handoff_reply reply = {
		.req_id = h->msg.req_id,
		.status = status,
		.mail_pid = (uint32_t)mail_pid,
		.limit = limit,
	};

	if (h->login->conn != NULL)
		(void)ipc_conn_send_msg(h->login->conn, LOGIN_MSG(LOGIN_HANDOFF_REPLY), &reply,
					NULL, 0);
	handoff_free(h);
}

/* The userdb result must name an unprivileged uid and gid we may use. */
static bool handoff_identity_allowed(struct handoff *h)
{
	const struct roost_settings *set = master.set;
	const struct auth_master_redeem_reply *u = &h->user;

	if (!master.is_root) {
		if (u->uid != (uint32_t)geteuid())
			log_warning("%s(%s): not running as root: the session runs as uid %u, not "
				    "the userdb's %u",
				    h->protocol, u->user, (unsigned int)geteuid(), u->uid);
		h->user.uid = (uint32_t)geteuid();
		h->user.gid = (uint32_t)getegid();
		return true;
	}
	if (u->uid == 0 || u->uid < set->first_valid_uid ||
	    (set->last_valid_uid != 0 && u->uid > set->last_valid_uid)) {
		log_error("%s(%s): Mail access not allowed for uid %u (see first_valid_uid = %u, "
			  "last_valid_uid = %u)",
			  h->protocol, u->user, u->uid, set->first_valid_uid, set->last_valid_uid);
		return false;
	}
	if (u->gid == 0 || u->gid < set->first_valid_gid ||
	    (set->last_valid_gid != 0 && u->gid > set->last_valid_gid)) {
		log_error("%s(%s): Mail access not allowed for gid %u (see first_valid_gid = %u, "
			  "last_valid_gid = %u)",
			  h->protocol, u->user, u->gid, set->first_valid_gid, set->last_valid_gid);
		return false;
	}
	return true;
}

static void handoff_start_session(struct handoff *h)
{
	struct service *svc = service_lookup(h->protocol);
	struct process *proc = svc == NULL ? NULL : mail_process_get(svc, h->user.uid, h->user.gid);
	struct master_session *session;
	struct mail_session *msg;
	struct policy_attach attach;

	if (proc == NULL) {
		struct policy_end end = {.session_id = h->session_id};

		policy_notify(POLICY_END, &end);
		handoff_reply(h, LOGIN_HANDOFF_TEMPFAIL, 0, 0);
		return;
	}
	session = master_session_add(h->session_id, proc->pid, h->protocol, h->user.user,
				     h->msg.rip, (uint64_t)time(NULL));
	session->proc = proc;

	msg = i_calloc(1, sizeof(*msg));
	msg->session_id = h->session_id;
	msg->flags = h->msg.flags;
	(void)str_copy(msg->user, sizeof(msg->user), h->user.user);
	(void)str_copy(msg->home, sizeof(msg->home), h->user.home);
	(void)str_copy(msg->mail, sizeof(msg->mail), h->user.mail);
	(void)str_copy(msg->extra, sizeof(msg->extra), h->user.extra);
	(void)str_copy(msg->rip, sizeof(msg->rip), h->msg.rip);
	(void)str_copy(msg->lip, sizeof(msg->lip), h->msg.lip);
	(void)str_copy(msg->session, sizeof(msg->session), h->msg.session);
	(void)str_copy(msg->tag, sizeof(msg->tag), h->msg.tag);
	memcpy(msg->input, h->msg.input, h->msg.input_len);
	msg->input_len = h->msg.input_len;
	if (!mail_process_assign(proc, session, h->client_fd, msg)) {
		master_session_remove(session);
		free(msg);
		handoff_reply(h, LOGIN_HANDOFF_TEMPFAIL, 0, 0);
		return;
	}
	free(msg);
	attach.session_id = h->session_id;
	attach.pid = (uint32_t)proc->pid;
	policy_notify(POLICY_ATTACH, &attach);
	handoff_reply(h, LOGIN_HANDOFF_OK, proc->pid, 0);
	/* The next pre-started process is spawned once the login is answered. */
	service_refill_later(svc);
}

static void handoff_reserved(void *ctx, const union policy_msg_any *reply, bool last)
{
	struct handoff *h = ctx;
	unsigned int limit =
		settings_for_protocol(master.set, h->protocol)->mail_max_userip_connections;

	(void)last;
	if (reply == NULL) {
		handoff_reply(h, LOGIN_HANDOFF_TEMPFAIL, 0, 0);
		return;
	}
	if (!reply->reserve_reply.granted) {
		h->reserved_sent = false;
		handoff_reply(h, LOGIN_HANDOFF_LIMIT, 0, limit);
		return;
	}
	handoff_start_session(h);
}

static void handoff_redeemed(void *ctx, const struct auth_master_redeem_reply *reply)
{
	struct handoff *h = ctx;
	struct policy_reserve reserve;

	if (reply == NULL || reply->status != USERDB_OK) {
		if (reply != NULL && reply->status == USERDB_NOT_FOUND)
			log_error("%s-login: child %d presented a token auth did not accept",
				  h->protocol, (int)h->login->pid);
		handoff_reply(h,
			      reply != NULL && reply->status == USERDB_NOT_FOUND
				      ? LOGIN_HANDOFF_DENIED
				      : LOGIN_HANDOFF_TEMPFAIL,
			      0, 0);
		return;
	}
	h->user = *reply;
	if (!handoff_identity_allowed(h)) {
		handoff_reply(h, LOGIN_HANDOFF_DENIED, 0, 0);
		return;
	}
	memset(&reserve, 0, sizeof(reserve));
	h->session_id = ++master.next_session_id;
	reserve.session_id = h->session_id;
	reserve.limit = settings_for_protocol(master.set, h->protocol)->mail_max_userip_connections;
	(void)str_copy(reserve.service, sizeof(reserve.service), h->protocol);
	(void)str_copy(reserve.user, sizeof(reserve.user), h->user.user);
	(void)str_copy(reserve.ip, sizeof(reserve.ip), h->msg.rip);
	h->reserved_sent = true;
	policy_request(POLICY_RESERVE, &reserve, &reserve.req_id, handoff_reserved, h);
}

bool handoff_input(struct process *login, struct ipc_message *msg)
{
	struct handoff *h = i_calloc(1, sizeof(*h));
	struct auth_master_redeem redeem;
	const char *error;
	const char *name = login->service->name;

	h->client_fd = -1;
	if (ipc_message_decode(&login_channel, msg, &h->msg, sizeof(h->msg), &error) == NULL ||
	    msg->type != LOGIN_HANDOFF || h->msg.token_len != AUTH_TOKEN_SIZE) {
		log_error("service(%s): child %d sent an invalid hand-off: %s", name,
			  (int)login->pid, msg->type != LOGIN_HANDOFF ? "wrong type" : error);
		free(h);
		return false;
	}
	/* The descriptor is ours now; the channel must not close it. */
	h->client_fd = msg->fds[0];
	msg->fds[0] = -1;
	h->login = login;
	(void)str_copy_n(h->protocol, sizeof(h->protocol), name, strcspn(name, "-"));
	h->next = handoffs;
	handoffs = h;

	memset(&redeem, 0, sizeof(redeem));
	memcpy(redeem.token, h->msg.token, AUTH_TOKEN_SIZE);
	redeem.token_len = AUTH_TOKEN_SIZE;
	redeem.login_pid = (uint32_t)login->pid;
	(void)str_copy(redeem.service, sizeof(redeem.service), h->protocol);
	(void)str_copy(redeem.rip, sizeof(redeem.rip), h->msg.rip);
	auth_client_redeem(&redeem, handoff_redeemed, h);
	return true;
}

void handoff_login_gone(struct process *login)
{
	struct handoff *h = handoffs;

	while (h != NULL) {
		struct handoff *next = h->next;

		if (h->login == login) {
			if (h->reserved_sent) {
				/* policy may have granted it already: give it back. */
				struct policy_end end = {.session_id = h->session_id};

				policy_notify(POLICY_END, &end);
			}
			handoff_free(h);
		}
		h = next;
	}
}
