/*
 * roost-policy's protocol handler: decodes master's requests with the
 * policy channel table and answers them. Runs sandboxed; a message that
 * does not decode is a protocol violation and ends the process, since its
 * only peer is master.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ioloop.h"
#include "log.h"
#include "policy-server.h"
#include "policy.h"
#include "xalloc.h"

/* How often decayed penalty records are dropped. */
#define PENALTY_EXPIRE_INTERVAL_MSECS (60 * 1000)
#define PENALTY_DECAY_MSECS	      (5 * 60 * 1000)

struct policy_server {
	struct ipc_conn *conn;
	struct registry *registry;
	struct penalty *penalty;
	struct counters *counters;
	struct timeout *expire_to;
};

static struct policy_server server;

static void send_or_die(const struct ipc_msg_def *def, const void *msg)
{
	if (!ipc_conn_send_msg(server.conn, def, msg, NULL, 0))
		fatal("Lost the connection to master");
}

static void count_name(char *dst, size_t size, const char *what, const char *service, bool tls)
{
	(void)str_format(dst, size, "%s_%s%s", what, service, tls ? "_tls" : "");
}

static void handle_reserve(const struct policy_reserve *r)
{
	struct policy_reserve_reply reply = {.req_id = r->req_id};
	unsigned int count;
	char name[POLICY_NAME_MAX];

	reply.granted = registry_reserve(server.registry, r->session_id, r->service, r->user, r->ip,
					 r->limit, (uint64_t)time(NULL), &count);
	reply.count = count;
	if (reply.granted) {
		count_name(name, sizeof(name), "sessions_started", r->service, false);
		(void)counters_add(server.counters, name, 1);
	} else {
		count_name(name, sizeof(name), "sessions_refused_limit", r->service, false);
		(void)counters_add(server.counters, name, 1);
	}
	send_or_die(POLICY_MSG(POLICY_RESERVE_REPLY), &reply);
}

static void handle_restore(const struct policy_restore *r)
{
	struct policy_session s = {
		.id = r->session_id, .pid = (pid_t)r->pid, .start_time = r->start_time};

	(void)str_copy(s.service, sizeof(s.service), r->service);
	(void)str_copy(s.user, sizeof(s.user), r->user);
	(void)str_copy(s.ip, sizeof(s.ip), r->ip);
	if (!registry_restore(server.registry, &s))
		log_warning("Could not restore session %llu of %s",
			    (unsigned long long)r->session_id, r->user);
}

static void handle_auth_result(const struct policy_auth_result *r)
{
	char name[POLICY_NAME_MAX];

	count_name(name, sizeof(name), r->success ? "logins" : "auth_failures", r->service,
		   r->tls != 0);
	(void)counters_add(server.counters, name, 1);
	if (!r->success && r->ip[0] != '\0')
		penalty_failure(server.penalty, r->ip, ioloop_now_ms());
}

static void handle_penalty_get(const struct policy_penalty_get *r)
{
	struct policy_penalty_reply reply = {.req_id = r->req_id};
	unsigned int failures;

	reply.delay_msecs = penalty_delay(server.penalty, r->ip, ioloop_now_ms(), &failures);
	reply.failures = failures;
	if (reply.delay_msecs > 0)
		(void)counters_add(server.counters, "auth_penalties", 1);
	send_or_die(POLICY_MSG(POLICY_PENALTY_REPLY), &reply);
}

struct list_ctx {
	uint32_t req_id;
};

static void list_row(void *_ctx, const struct policy_session *s)
{
	struct list_ctx *ctx = _ctx;
	struct policy_list_row row = {
		.req_id = ctx->req_id,
		.session_id = s->id,
		.pid = (uint32_t)s->pid,
		.start_time = s->start_time,
	};

	(void)str_copy(row.service, sizeof(row.service), s->service);
	(void)str_copy(row.user, sizeof(row.user), s->user);
	(void)str_copy(row.ip, sizeof(row.ip), s->ip);
	send_or_die(POLICY_MSG(POLICY_LIST_ROW), &row);
}

static void handle_list(const struct policy_list *r)
{
	struct list_ctx ctx = {.req_id = r->req_id};
	struct policy_list_end end = {.req_id = r->req_id};

	end.count = registry_foreach(server.registry, r->user_mask, r->net, list_row, &ctx);
	send_or_die(POLICY_MSG(POLICY_LIST_END), &end);
}

struct stats_ctx {
	uint32_t req_id;
};

static void stats_row(void *_ctx, const char *name, uint64_t value)
{
	struct stats_ctx *ctx = _ctx;
	struct policy_stats_row row = {.req_id = ctx->req_id, .value = value};

	(void)str_copy(row.name, sizeof(row.name), name);
	send_or_die(POLICY_MSG(POLICY_STATS_ROW), &row);
}

static void handle_stats(const struct policy_stats *r)
{
	static const char *const services[] = {"imap", "pop3"};
	struct stats_ctx ctx = {.req_id = r->req_id};
	struct policy_stats_end end = {.req_id = r->req_id};
	char name[POLICY_NAME_MAX];

	counters_foreach(server.counters, stats_row, &ctx);
	stats_row(&ctx, "sessions_now", registry_count(server.registry, NULL));
	for (size_t i = 0; i < N_ELEMENTS(services); i++) {
		count_name(name, sizeof(name), "sessions_now", services[i], false);
		stats_row(&ctx, name, registry_count(server.registry, services[i]));
	}
	stats_row(&ctx, "penalty_ips", penalty_ip_count(server.penalty));
	send_or_die(POLICY_MSG(POLICY_STATS_END), &end);
}

static bool policy_message(void *ctx, struct ipc_message *msg)
{
	union policy_msg_any m;
	const char *error;
	const struct ipc_msg_def *def =
		ipc_message_decode(&policy_channel, msg, &m, sizeof(m), &error);

	(void)ctx;
	if (def == NULL) {
		log_error("Invalid message from master: %s", error);
		return false;
	}
	switch (def->type) {
	case POLICY_RESERVE:
		handle_reserve(&m.reserve);
		break;
	case POLICY_ATTACH:
		(void)registry_attach(server.registry, m.attach.session_id, (pid_t)m.attach.pid);
		break;
	case POLICY_END:
		(void)registry_end(server.registry, m.end.session_id);
		break;
	case POLICY_RESTORE:
		handle_restore(&m.restore);
		break;
	case POLICY_AUTH_RESULT:
		handle_auth_result(&m.auth_result);
		break;
	case POLICY_PENALTY_GET:
		handle_penalty_get(&m.penalty_get);
		break;
	case POLICY_LIST:
		handle_list(&m.list);
		break;
	case POLICY_STATS:
		handle_stats(&m.stats);
		break;
	case POLICY_COUNT:
		(void)counters_add(server.counters, m.count.name, m.count.delta);
		break;
	default:
		log_error("Unexpected message from master: %s", def->name);
		return false;
	}
	return true;
}

static void policy_master_closed(void *ctx, const char *reason)
{
	(void)ctx;
	/* Without master there is nobody to serve: leave quietly on EOF. */
	if (strcmp(reason, "disconnected") != 0)
		log_error("Connection to master failed: %s", reason);
	exit(0);
}

static void policy_expire(void *ctx)
{
	(void)ctx;
	penalty_expire(server.penalty, ioloop_now_ms());
}

void policy_server_init(int master_fd, unsigned int penalty_max_msecs)
{
	server.registry = registry_create();
	server.penalty = penalty_create(penalty_max_msecs, PENALTY_DECAY_MSECS);
	server.counters = counters_create();
	server.conn = ipc_conn_create(master_fd, policy_message, policy_master_closed, NULL);
	server.expire_to = timeout_add_repeat(PENALTY_EXPIRE_INTERVAL_MSECS, policy_expire, NULL);
}
