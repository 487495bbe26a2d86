/*
 * SASL exchanges between remote clients (through their login process) and
 * roost-auth: mechanism and plaintext policy, the SASL state machines of
 * auth/sasl.h, passdb verification, and on failure the delay
 * (auth_failure_delay plus policy's per-IP penalty, learned through master)
 * before the answer, the same for unknown users and wrong passwords. A
 * success creates the one-time token the login process hands to master.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "auth.h"
#include "base64.h"
#include "hash.h"
#include "ioloop.h"
#include "ipc/ipc-codec.h"
#include "log.h"
#include "sasl.h"
#include "xalloc.h"

/* Wait at most this long for master's penalty answer. */
#define PENALTY_WAIT_MSECS 2000
/* Requests one login process may have in flight. */
#define LOGIN_CONN_MAX_REQUESTS 10000
/* IPs with a penalty are delayed before their next exchange too. */
#define PENALTY_CACHE_MAX 10000

struct login_conn {
	struct ipc_conn *conn;
	uint32_t login_pid;
	char service[POLICY_SERVICE_MAX];
	struct auth_request *requests;
	unsigned int request_count;
	struct login_conn *prev, *next;
};

enum request_state {
	REQUEST_SASL,
	REQUEST_WAIT_PENALTY,
	REQUEST_DELAY,
};

struct auth_request {
	struct login_conn *lc;
	uint32_t id;	     /* login's id */
	uint32_t penalty_id; /* ours, for master */
	uint32_t flags;
	enum request_state state;
	struct sasl_session *sasl;
	char rip[POLICY_IP_MAX];
	char session[48];
	char user[POLICY_USER_MAX]; /* as the client gave it */
	uint64_t started_ms;
	struct timeout *to;
	enum auth_fail_reason fail_reason;
	char fail_text[AUTH_REASON_MAX];
	bool nodelay;
	struct pending_begin *pending; /* penalty wait before the exchange starts */
	struct auth_request *prev, *next;
};

struct pending_begin {
	struct auth_request *req;
	struct auth_login_request msg;
};

static struct login_conn *login_conns;
static struct sasl_server_settings sasl_set;
static uint32_t next_penalty_id;
static struct hash_table *penalties; /* rip -> (uintptr_t) msecs */

static void request_free(struct auth_request *req)
{
	struct login_conn *lc = req->lc;

	timeout_remove(&req->to);
	sasl_session_destroy(&req->sasl);
	if (req->pending != NULL) {
		explicit_bzero(req->pending, sizeof(*req->pending));
		free(req->pending);
	}
	if (req->prev != NULL)
		req->prev->next = req->next;
	else
		lc->requests = req->next;
	if (req->next != NULL)
		req->next->prev = req->prev;
	lc->request_count--;
	explicit_bzero(req, sizeof(*req));
	free(req);
}

static struct auth_request *request_find(struct login_conn *lc, uint32_t id)
{
	for (struct auth_request *r = lc->requests; r != NULL; r = r->next) {
		if (r->id == id)
			return r;
	}
	return NULL;
}

static void send_fail_now(struct auth_request *req)
{
	struct auth_login_fail fail;

	memset(&fail, 0, sizeof(fail));
	fail.id = req->id;
	fail.reason = req->fail_reason;
	(void)str_copy(fail.user, sizeof(fail.user), req->user);
	(void)str_copy(fail.text, sizeof(fail.text), req->fail_text);
	(void)ipc_conn_send_msg(req->lc->conn, AUTH_LOGIN_MSG(AUTH_LOGIN_FAIL), &fail, NULL, 0);
	request_free(req);
}

static void delay_done(void *ctx)
{
	send_fail_now(ctx);
}

/* Starts the delay once the penalty is known (or master did not answer). */
static void request_delay(struct auth_request *req, unsigned int penalty_msecs)
{
	uint64_t total = req->nodelay ? 0 : auth_set->auth_failure_delay + penalty_msecs;
	uint64_t elapsed = ioloop_now_ms() - req->started_ms;

	timeout_remove(&req->to);
	req->state = REQUEST_DELAY;
	if (total <= elapsed) {
		send_fail_now(req);
		return;
	}
	req->to = timeout_add((unsigned int)(total - elapsed), delay_done, req);
}

static void penalty_timeout(void *ctx)
{
	request_delay(ctx, 0);
}

/* A failure: report it, learn the IP's penalty, then answer after the delay. */
static void request_fail(struct auth_request *req, enum auth_fail_reason reason, const char *text)
{
	req->fail_reason = reason;
	(void)str_copy(req->fail_text, sizeof(req->fail_text), text);
	sasl_session_destroy(&req->sasl);
	/* Only a wrong user or password is a guess worth penalizing. */
	if (reason != AUTH_FAIL_CREDENTIALS && reason != AUTH_FAIL_DISABLED) {
		auth_master_result(0, req->lc->service, req->rip, false,
				   (req->flags & AUTH_REQUEST_TLS) != 0);
		request_delay(req, 0);
		return;
	}
	if (++next_penalty_id == 0)
		next_penalty_id = 1;
	req->penalty_id = next_penalty_id;
	req->state = REQUEST_WAIT_PENALTY;
	auth_master_result(req->penalty_id, req->lc->service, req->rip, false,
			   (req->flags & AUTH_REQUEST_TLS) != 0);
	req->to = timeout_add(PENALTY_WAIT_MSECS, penalty_timeout, req);
}

static void penalty_remember(const char *rip, uint32_t msecs)
{
	if (msecs == 0) {
		(void)hash_remove(penalties, rip, strlen(rip));
		return;
	}
	if (hash_count(penalties) >= PENALTY_CACHE_MAX &&
	    hash_get(penalties, rip, strlen(rip)) == NULL)
		return;
	(void)hash_set(penalties, rip, strlen(rip), (void *)(uintptr_t)msecs);
}

void auth_request_penalty(uint32_t penalty_id, uint32_t delay_msecs)
{
	for (struct login_conn *lc = login_conns; lc != NULL; lc = lc->next) {
		for (struct auth_request *r = lc->requests; r != NULL; r = r->next) {
			if (r->state == REQUEST_WAIT_PENALTY && r->penalty_id == penalty_id) {
				penalty_remember(r->rip, delay_msecs);
				request_delay(r, delay_msecs);
				return;
			}
		}
	}
}

static void request_success(struct auth_request *req, const char *user)
{
	struct auth_login_ok ok;

	memset(&ok, 0, sizeof(ok));
	ok.id = req->id;
	(void)str_copy(ok.user, sizeof(ok.user), user);
	if (!auth_token_create(user, req->lc->login_pid, req->lc->service, req->rip, ok.token)) {
		request_fail(req, AUTH_FAIL_TEMP, "");
		return;
	}
	ok.token_len = AUTH_TOKEN_SIZE;
	auth_master_result(0, req->lc->service, req->rip, true,
			   (req->flags & AUTH_REQUEST_TLS) != 0);
	penalty_remember(req->rip, 0);
	(void)ipc_conn_send_msg(req->lc->conn, AUTH_LOGIN_MSG(AUTH_LOGIN_OK), &ok, NULL, 0);
	explicit_bzero(&ok, sizeof(ok));
	request_free(req);
}

/* The SASL exchange finished: check the credentials it produced. */
static void request_verify(struct auth_request *req)
{
	char user[POLICY_USER_MAX];
	const char *raw = sasl_session_user(req->sasl);
	struct auth_db_user result;
	enum auth_db_result r;

	(void)str_copy(req->user, sizeof(req->user), raw);
	if (!auth_user_name(raw, strlen(raw), user, sizeof(user))) {
		if (auth_set->auth_verbose)
			log_info("passwd-file(%s,%s): invalid user name", raw, req->rip);
		request_fail(req, AUTH_FAIL_CREDENTIALS, "");
		return;
	}
	if (sasl_session_verified(req->sasl)) {
		/* SCRAM proved the password; only the account's state is left. */
		const char *stored, *scheme;

		r = auth_passdb_credentials(user, req->rip, &stored, &scheme, &result);
	} else {
		r = auth_passdb_verify(user, sasl_session_password(req->sasl), req->rip, &result);
	}
	req->nodelay = result.nodelay;
	switch (r) {
	case AUTH_DB_OK:
		request_success(req, result.user);
		break;
	case AUTH_DB_DISABLED:
		request_fail(req, AUTH_FAIL_DISABLED, result.reason);
		break;
	case AUTH_DB_TEMPFAIL:
		request_fail(req, AUTH_FAIL_TEMP, "");
		break;
	default:
		request_fail(req, AUTH_FAIL_CREDENTIALS, "");
		break;
	}
}

/*
 * Runs one SASL step with base64 data from the client; b64 NULL means the
 * client sent no initial response (the mechanism may send a challenge).
 */
static void request_step(struct auth_request *req, const uint8_t *b64, size_t len)
{
	struct buf data = BUF_INIT(AUTH_SASL_DATA_MAX);
	struct buf challenge = BUF_INIT(AUTH_SASL_DATA_MAX);
	struct auth_login_continue *cont;
	const char *error = NULL;
	enum sasl_result r;

	/* "=" is an empty initial response (RFC 4959). */
	if (b64 != NULL && !(len == 1 && b64[0] == '=') &&
	    base64_decode(&data, b64, len) != BASE64_OK) {
		buf_free(&data);
		request_fail(req, AUTH_FAIL_MALFORMED, "");
		return;
	}
	r = sasl_step(req->sasl, b64 == NULL ? NULL : buf_data(&data), buf_len(&data), &challenge,
		      &error);
	buf_free_secret(&data);
	switch (r) {
	case SASL_CONTINUE:
		cont = i_calloc(1, sizeof(*cont));
		cont->id = req->id;
		{
			struct buf out = BUF_INIT(sizeof(cont->data));

			(void)base64_encode(&out, buf_data(&challenge), buf_len(&challenge));
			memcpy(cont->data, buf_data(&out), buf_len(&out));
			cont->data_len = buf_len(&out);
			buf_free(&out);
		}
		(void)ipc_conn_send_msg(req->lc->conn, AUTH_LOGIN_MSG(AUTH_LOGIN_CONTINUE), cont,
					NULL, 0);
		free(cont);
		break;
	case SASL_SUCCESS:
		request_verify(req);
		break;
	case SASL_MALFORMED:
		if (sasl_session_user(req->sasl) != NULL)
			(void)str_copy(req->user, sizeof(req->user), sasl_session_user(req->sasl));
		request_fail(req, AUTH_FAIL_MALFORMED, "");
		break;
	case SASL_FAILURE:
		if (sasl_session_user(req->sasl) != NULL)
			(void)str_copy(req->user, sizeof(req->user), sasl_session_user(req->sasl));
		request_fail(req,
			     sasl_session_failure(req->sasl) == SASL_FAIL_TEMP
				     ? AUTH_FAIL_TEMP
				     : AUTH_FAIL_CREDENTIALS,
			     "");
		break;
	}
	buf_free_secret(&challenge);
}

static bool mech_configured(const char *name)
{
	const char *p = auth_set->auth_mechanisms;
	size_t len = strlen(name);

	while (*p != '\0') {
		size_t wlen = strcspn(p, " ,");

		if (wlen == len && strncasecmp(p, name, len) == 0)
			return true;
		p += wlen;
		while (*p == ' ' || *p == ',')
			p++;
	}
	return false;
}

static void request_begin_now(struct auth_request *req, const struct auth_login_request *m);

static void penalty_predelay_done(void *ctx)
{
	struct pending_begin *pb = ctx;
	struct auth_request *req = pb->req;

	timeout_remove(&req->to);
	req->pending = NULL;
	request_begin_now(req, &pb->msg);
	explicit_bzero(pb, sizeof(*pb));
	free(pb);
}

static void request_begin_now(struct auth_request *req, const struct auth_login_request *m)
{
	enum sasl_mech_id mech;

	if (!sasl_mech_find(m->mech, &mech) || !mech_configured(m->mech)) {
		request_fail(req, AUTH_FAIL_MECH, "");
		return;
	}
	if (sasl_mech_is_plaintext(mech) && auth_set->disable_plaintext_auth &&
	    (m->flags & AUTH_REQUEST_SECURED) == 0) {
		request_fail(req, AUTH_FAIL_PLAINTEXT, "");
		return;
	}
	req->sasl = sasl_session_create(mech, &sasl_set);
	if ((m->flags & AUTH_REQUEST_HAS_INITIAL) != 0)
		request_step(req, m->initial, m->initial_len);
	else
		request_step(req, NULL, 0);
}

static void request_begin(struct login_conn *lc, const struct auth_login_request *m)
{
	struct auth_request *req;
	uintptr_t penalty;

	if (request_find(lc, m->id) != NULL || lc->request_count >= LOGIN_CONN_MAX_REQUESTS) {
		log_error("login process %u: duplicate or too many requests", lc->login_pid);
		return;
	}
	req = i_calloc(1, sizeof(*req));
	req->lc = lc;
	req->id = m->id;
	req->flags = m->flags;
	req->started_ms = ioloop_now_ms();
	(void)str_copy(req->rip, sizeof(req->rip), m->rip);
	(void)str_copy(req->session, sizeof(req->session), m->session);
	req->next = lc->requests;
	if (lc->requests != NULL)
		lc->requests->prev = req;
	lc->requests = req;
	lc->request_count++;

	/* An IP with a penalty waits before it may even try again. */
	penalty = (uintptr_t)hash_get(penalties, req->rip, strlen(req->rip));
	if (penalty > 0) {
		struct pending_begin *pb = i_calloc(1, sizeof(*pb));

		pb->req = req;
		pb->msg = *m;
		req->pending = pb;
		req->to = timeout_add((unsigned int)penalty, penalty_predelay_done, pb);
		return;
	}
	request_begin_now(req, m);
}

static bool login_message(void *ctx, struct ipc_message *msg)
{
	struct login_conn *lc = ctx;
	union auth_login_msg_any *m = i_malloc(sizeof(*m));
	const char *error;
	const struct ipc_msg_def *def =
		ipc_message_decode(&auth_login_channel, msg, m, sizeof(*m), &error);
	struct auth_request *req;
	bool ok = true;

	if (def == NULL) {
		log_error("login process %u sent an invalid message: %s", lc->login_pid, error);
		free(m);
		return false;
	}
	switch (def->type) {
	case AUTH_LOGIN_REQUEST:
		request_begin(lc, &m->request);
		break;
	case AUTH_LOGIN_RESPONSE:
		req = request_find(lc, m->response.id);
		if (req != NULL && req->state == REQUEST_SASL && req->sasl != NULL)
			request_step(req, m->response.data, m->response.data_len);
		break;
	case AUTH_LOGIN_ABORT:
		req = request_find(lc, m->abort.id);
		/* A failure in progress keeps its delay: aborting must not skip it. */
		if (req != NULL && req->state == REQUEST_SASL)
			request_free(req);
		break;
	default:
		log_error("login process %u sent %s, which only auth may send", lc->login_pid,
			  def->name);
		ok = false;
		break;
	}
	explicit_bzero(m, sizeof(*m));
	free(m);
	return ok;
}

static void login_closed(void *ctx, const char *reason)
{
	struct login_conn *lc = ctx;

	(void)reason;
	while (lc->requests != NULL)
		request_free(lc->requests);
	ipc_conn_destroy(&lc->conn);
	if (lc->prev != NULL)
		lc->prev->next = lc->next;
	else
		login_conns = lc->next;
	if (lc->next != NULL)
		lc->next->prev = lc->prev;
	free(lc);
}

static enum sasl_lookup_result scram_lookup(void *context, const char *raw_user,
					    struct password_scram *creds_r)
{
	char user[POLICY_USER_MAX];
	struct auth_db_user result;
	const char *stored, *scheme, *error;

	(void)context;
	if (!auth_user_name(raw_user, strlen(raw_user), user, sizeof(user)))
		return SASL_LOOKUP_UNKNOWN_USER;
	switch (auth_passdb_credentials(user, "", &stored, &scheme, &result)) {
	case AUTH_DB_OK:
		break;
	case AUTH_DB_TEMPFAIL:
		return SASL_LOOKUP_TEMPFAIL;
	case AUTH_DB_UNKNOWN_USER:
		return SASL_LOOKUP_UNKNOWN_USER;
	default:
		return SASL_LOOKUP_UNUSABLE;
	}
	switch (password_scram_get(stored, scheme, creds_r, &error)) {
	case PASSWORD_OK:
		return SASL_LOOKUP_OK;
	case PASSWORD_INTERNAL:
		return SASL_LOOKUP_TEMPFAIL;
	default:
		return SASL_LOOKUP_UNUSABLE;
	}
}

void auth_login_conn_add(int fd, uint32_t login_pid, const char *service)
{
	struct login_conn *lc = i_calloc(1, sizeof(*lc));

	if (penalties == NULL) {
		penalties = hash_create();
		sasl_set.scram_lookup = scram_lookup;
		if (getrandom(sasl_set.fake_salt_key, sizeof(sasl_set.fake_salt_key), 0) !=
		    (ssize_t)sizeof(sasl_set.fake_salt_key))
			fatal("getrandom() failed: %m");
	}
	lc->login_pid = login_pid;
	(void)str_copy(lc->service, sizeof(lc->service), service);
	lc->conn = ipc_conn_create(fd, login_message, login_closed, lc);
	lc->next = login_conns;
	if (login_conns != NULL)
		login_conns->prev = lc;
	login_conns = lc;
}
