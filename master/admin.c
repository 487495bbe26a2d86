/*
 * The admin socket (base_dir/admin, mode 0600) through which roostadm
 * stops, reloads and queries master. Only root (or master's own uid when
 * master is not root) may connect; requests are decoded with the admin
 * channel table. Who and kick go through policy, and master checks every
 * pid policy names against its own session table before signalling it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ioloop.h"
#include "ipc/msg-admin.h"
#include "log.h"
#include "master.h"
#include "net.h"
#include "xalloc.h"

#define ADMIN_REQUEST_TIMEOUT_MSECS 10000

struct admin_client {
	struct ipc_conn *conn;
	struct timeout *to;
	bool busy;
	uint16_t request;
};

static void admin_client_destroy(struct admin_client *client)
{
	policy_request_cancel(client);
	timeout_remove(&client->to);
	ipc_conn_destroy(&client->conn);
	free(client);
}

static void admin_send(struct admin_client *client, uint16_t type, const void *msg)
{
	(void)ipc_conn_send_msg(client->conn, ADMIN_MSG(type), msg, NULL, 0);
}

static void admin_done(struct admin_client *client, uint32_t status, const char *message)
{
	struct admin_done done = {.status = status};

	(void)str_copy(done.message, sizeof(done.message), message);
	admin_send(client, ADMIN_DONE, &done);
	timeout_remove(&client->to);
	policy_request_cancel(client);
	client->busy = false;
}

static void admin_timeout(void *ctx)
{
	struct admin_client *client = ctx;

	admin_done(client, 1, "timed out waiting for the policy service");
}

static void who_reply(void *ctx, const union policy_msg_any *reply, bool last)
{
	struct admin_client *client = ctx;

	if (last) {
		admin_done(client, 0, "");
		return;
	}
	struct admin_who_row row = {.pid = reply->list_row.pid,
				    .start_time = reply->list_row.start_time};
	(void)str_copy(row.service, sizeof(row.service), reply->list_row.service);
	(void)str_copy(row.user, sizeof(row.user), reply->list_row.user);
	(void)str_copy(row.ip, sizeof(row.ip), reply->list_row.ip);
	admin_send(client, ADMIN_WHO_ROW, &row);
}

static void kick_reply(void *ctx, const union policy_msg_any *reply, bool last)
{
	struct admin_client *client = ctx;
	struct master_session *s;

	if (last) {
		admin_done(client, 0, "");
		return;
	}
	/* policy is not privileged: the pid must be a session master knows. */
	s = master_session_by_pid((pid_t)reply->list_row.pid);
	if (s == NULL || s->id != reply->list_row.session_id ||
	    strcmp(s->user, reply->list_row.user) != 0) {
		log_warning("kick: policy named pid %u for %s, which is not a live session",
			    reply->list_row.pid, reply->list_row.user);
		return;
	}
	if (kill(s->pid, SIGTERM) < 0)
		return;
	struct admin_kicked kicked = {.pid = (uint32_t)s->pid};
	(void)str_copy(kicked.user, sizeof(kicked.user), s->user);
	admin_send(client, ADMIN_KICKED, &kicked);
}

static void stats_reply(void *ctx, const union policy_msg_any *reply, bool last)
{
	struct admin_client *client = ctx;
	struct admin_stats_row row;

	if (!last) {
		memset(&row, 0, sizeof(row));
		(void)str_copy(row.name, sizeof(row.name), reply->stats_row.name);
		row.value = reply->stats_row.value;
		admin_send(client, ADMIN_STATS_ROW, &row);
		return;
	}
	for (unsigned int i = 0; i < master.service_count; i++) {
		const struct service *svc = &master.services[i];
		const struct {
			const char *what;
			uint64_t value;
		} items[] = {
			{"processes", svc->process_count},
			{"started", svc->started},
			{"crashes", svc->crashes},
		};

		for (size_t j = 0; j < N_ELEMENTS(items); j++) {
			memset(&row, 0, sizeof(row));
			(void)str_format(row.name, sizeof(row.name), "service_%s_%s", svc->name,
					 items[j].what);
			row.value = items[j].value;
			admin_send(client, ADMIN_STATS_ROW, &row);
		}
	}
	/* Always present, 0 until roost-lda reports: graphs start at 0. */
	for (uint32_t i = 0; i < STATS_DELIVERY_OUTCOME_COUNT; i++) {
		memset(&row, 0, sizeof(row));
		(void)str_copy(row.name, sizeof(row.name), stats_delivery_outcome_name(i));
		row.value = lda_stats_count(i);
		admin_send(client, ADMIN_STATS_ROW, &row);
	}
	admin_done(client, 0, "");
}

static bool admin_valid_filter(const struct admin_request *r, const char **error_r)
{
	struct net_ip ip;
	unsigned int bits;

	if (r->net[0] != '\0' && !net_cidr_parse(r->net, &ip, &bits)) {
		*error_r = "Invalid IP or network (expected an address or address/bits)";
		return false;
	}
	return true;
}

static void admin_policy_request(struct admin_client *client, uint16_t type,
				 const struct admin_request *r, policy_reply_callback_t *cb)
{
	if (type == POLICY_LIST) {
		struct policy_list list;

		memset(&list, 0, sizeof(list));
		(void)str_copy(list.user_mask, sizeof(list.user_mask), r->user_mask);
		(void)str_copy(list.net, sizeof(list.net), r->net);
		policy_request(POLICY_LIST, &list, &list.req_id, cb, client);
	} else {
		struct policy_stats stats = {0};

		policy_request(POLICY_STATS, &stats, &stats.req_id, cb, client);
	}
	client->to = timeout_add(ADMIN_REQUEST_TIMEOUT_MSECS, admin_timeout, client);
}

static bool admin_message(void *ctx, struct ipc_message *msg)
{
	struct admin_client *client = ctx;
	union admin_msg_any m;
	const char *error;
	const struct ipc_msg_def *def =
		ipc_message_decode(&admin_channel, msg, &m, sizeof(m), &error);

	if (def == NULL || def->type >= ADMIN_WHO_ROW || client->busy)
		return false;
	client->busy = true;
	client->request = def->type;
	switch (def->type) {
	case ADMIN_STOP:
		log_info("Stopping on request from roostadm");
		admin_done(client, 0, "");
		master_request_stop();
		break;
	case ADMIN_RELOAD: {
		char *reload_error;

		/* The parse error goes back to whoever asked (roostadm reload,
		   roost reload, systemctl reload) as well as to the log. */
		if (master_reload(&reload_error)) {
			admin_done(client, 0, "");
		} else {
			admin_done(client, ADMIN_STATUS_CONFIG, reload_error);
			free(reload_error);
		}
		break;
	}
	case ADMIN_LOG_REOPEN:
		master_log_reopen();
		admin_done(client, 0, "");
		break;
	case ADMIN_WHO:
	case ADMIN_KICK:
		if (!admin_valid_filter(&m.request, &error)) {
			admin_done(client, 2, error);
			break;
		}
		admin_policy_request(client, POLICY_LIST, &m.request,
				     def->type == ADMIN_WHO ? who_reply : kick_reply);
		break;
	case ADMIN_STATS:
		admin_policy_request(client, POLICY_STATS, &m.request, stats_reply);
		break;
	default:
		return false;
	}
	return true;
}

static void admin_closed(void *ctx, const char *reason)
{
	(void)reason;
	admin_client_destroy(ctx);
}

static void admin_accept(void *ctx, uint32_t events)
{
	struct admin_client *client;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int fd;

	(void)ctx;
	(void)events;
	fd = accept4(master.admin_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (!ipc_peer_cred(fd, &pid, &uid, &gid) || (uid != 0 && uid != geteuid())) {
		log_warning("admin: refused a connection from uid %u (pid %d)", (unsigned int)uid,
			    (int)pid);
		close(fd);
		return;
	}
	client = i_calloc(1, sizeof(*client));
	client->conn = ipc_conn_create(fd, admin_message, admin_closed, client);
}

void admin_init(void)
{
	mode_t old = umask(0077);

	if (!str_format(master.admin_path, sizeof(master.admin_path), "%s/%s", master.set->base_dir,
			ADMIN_SOCKET_NAME))
		fatal("base_dir is too long");
	master.admin_fd = net_listen_unix(master.admin_path, 16, SOCK_SEQPACKET);
	umask(old);
	if (master.admin_fd < 0)
		fatal("Can't create the admin socket %s: %m", master.admin_path);
	if (chmod(master.admin_path, 0600) < 0)
		fatal("chmod(%s) failed: %m", master.admin_path);
	master.admin_io = io_add(master.admin_fd, EPOLLIN, admin_accept, NULL);
}

void admin_deinit(void)
{
	if (master.admin_fd < 0)
		return;
	io_remove(&master.admin_io);
	close(master.admin_fd);
	master.admin_fd = -1;
	(void)unlink(master.admin_path);
}
