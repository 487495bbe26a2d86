/*
 * master's side of the auth channel: gives every login process its own
 * connection to auth (again after auth restarts), redeems one-time tokens,
 * forwards each attempt's outcome to policy and answers failures with the
 * IP's penalty. auth is unprivileged: its answers are decoded with the
 * channel table and only ever describe the user a token was issued for.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/ipc-codec.h"
#include "ipc/msg-login.h"
#include "log.h"
#include "master.h"
#include "xalloc.h"

struct redeem_pending {
	uint32_t req_id;
	struct auth_master_redeem req;
	auth_redeem_callback_t *cb;
	void *ctx;
	struct redeem_pending *next;
};

static struct {
	struct process *proc;
	uint32_t next_req_id;
	struct redeem_pending *pending;
} ac;

/* Creates a socketpair: one end to auth (tagged with the login pid), one to login. */
static void connect_login(struct process *login)
{
	struct auth_master_client client = {.login_pid = (uint32_t)login->pid};
	struct login_auth_connect connect = {0};
	const char *svc = login->service->name;
	int pair[2];

	if (ipc_socketpair(pair) < 0) {
		log_error("socketpair() for %s failed: %m", svc);
		return;
	}
	(void)str_copy_n(client.service, sizeof(client.service), svc, strcspn(svc, "-"));
	(void)ipc_conn_send_msg(ac.proc->conn, AUTH_MASTER_MSG(AUTH_MASTER_CLIENT), &client,
				&pair[0], 1);
	(void)ipc_conn_send_msg(login->conn, LOGIN_MSG(LOGIN_AUTH_CONNECT), &connect, &pair[1], 1);
	close(pair[0]);
	close(pair[1]);
}

void auth_client_connect_login(struct process *login)
{
	if (ac.proc != NULL && ac.proc->conn != NULL && login->conn != NULL)
		connect_login(login);
}

static void redeem_send(const struct redeem_pending *p)
{
	if (ac.proc != NULL && ac.proc->conn != NULL)
		(void)ipc_conn_send_msg(ac.proc->conn, AUTH_MASTER_MSG(AUTH_MASTER_REDEEM), &p->req,
					NULL, 0);
}

void auth_client_attach(struct process *proc)
{
	ac.proc = proc;
	/* Every login process gets a connection to the new auth process. */
	for (unsigned int i = 0; i < master.service_count; i++) {
		struct service *svc = &master.services[i];

		if (svc->kind != SERVICE_LOGIN)
			continue;
		for (struct process *p = svc->processes; p != NULL; p = p->next) {
			if (!p->stopping && p->conn != NULL)
				connect_login(p);
		}
	}
	for (struct redeem_pending *p = ac.pending; p != NULL; p = p->next)
		redeem_send(p);
}

void auth_client_detach(struct process *proc)
{
	if (ac.proc == proc)
		ac.proc = NULL;
}

void auth_client_redeem(const struct auth_master_redeem *req, auth_redeem_callback_t *cb, void *ctx)
{
	struct redeem_pending *p = i_calloc(1, sizeof(*p));

	if (++ac.next_req_id == 0)
		ac.next_req_id = 1;
	p->req = *req;
	p->req.req_id = ac.next_req_id;
	p->req_id = ac.next_req_id;
	p->cb = cb;
	p->ctx = ctx;
	p->next = ac.pending;
	ac.pending = p;
	redeem_send(p);
}

void auth_client_cancel(void *ctx)
{
	struct redeem_pending **pp = &ac.pending;

	while (*pp != NULL) {
		struct redeem_pending *p = *pp;

		if (p->ctx == ctx) {
			*pp = p->next;
			free(p);
		} else {
			pp = &p->next;
		}
	}
}

static void redeem_reply(const struct auth_master_redeem_reply *reply)
{
	for (struct redeem_pending **pp = &ac.pending; *pp != NULL; pp = &(*pp)->next) {
		struct redeem_pending *p = *pp;

		if (p->req_id != reply->req_id)
			continue;
		*pp = p->next;
		p->cb(p->ctx, reply);
		free(p);
		return;
	}
	log_warning("service(auth): reply to unknown redeem request %u ignored", reply->req_id);
}

struct penalty_ctx {
	uint32_t auth_req_id;
};

static void penalty_reply(void *ctx, const union policy_msg_any *reply, bool last)
{
	struct penalty_ctx *pctx = ctx;
	struct auth_master_penalty penalty = {.req_id = pctx->auth_req_id};

	if (reply != NULL)
		penalty.delay_msecs = reply->penalty_reply.delay_msecs;
	if (ac.proc != NULL && ac.proc->conn != NULL)
		(void)ipc_conn_send_msg(ac.proc->conn, AUTH_MASTER_MSG(AUTH_MASTER_PENALTY),
					&penalty, NULL, 0);
	if (last)
		free(pctx);
}

static void auth_result(const struct auth_master_result *r)
{
	struct policy_auth_result pr;

	memset(&pr, 0, sizeof(pr));
	(void)str_copy(pr.service, sizeof(pr.service), r->service);
	(void)str_copy(pr.ip, sizeof(pr.ip), r->rip);
	pr.success = r->success;
	pr.tls = r->tls;
	policy_notify(POLICY_AUTH_RESULT, &pr);
	if (!r->success && r->req_id != 0) {
		struct penalty_ctx *pctx = i_calloc(1, sizeof(*pctx));
		struct policy_penalty_get get;

		memset(&get, 0, sizeof(get));
		pctx->auth_req_id = r->req_id;
		(void)str_copy(get.ip, sizeof(get.ip), r->rip);
		policy_request(POLICY_PENALTY_GET, &get, &get.req_id, penalty_reply, pctx);
	}
}

bool auth_client_input(struct process *proc, struct ipc_message *msg)
{
	union auth_master_msg_any m;
	const char *error;
	const struct ipc_msg_def *def =
		ipc_message_decode(&auth_master_channel, msg, &m, sizeof(m), &error);

	if (def == NULL) {
		log_error("service(auth): child %d sent an invalid message: %s", (int)proc->pid,
			  error);
		return false;
	}
	switch (def->type) {
	case AUTH_MASTER_REDEEM_REPLY:
		redeem_reply(&m.redeem_reply);
		return true;
	case AUTH_MASTER_RESULT:
		auth_result(&m.result);
		return true;
	default:
		log_error("service(auth): child %d sent %s, which only master may send",
			  (int)proc->pid, def->name);
		return false;
	}
}
