/*
 * The lda-stats socket (base_dir/lda-stats): roost-lda reports each
 * delivery's outcome here and master counts them for `roostadm stats`.
 * It takes auth-userdb's group and mode, so whoever may look users up for
 * a delivery may report one; a report is trusted only as far as counting
 * it, and a malformed one is logged with the sender's SO_PEERCRED.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ioloop.h"
#include "ipc/msg-stats.h"
#include "log.h"
#include "master.h"
#include "net.h"
#include "xalloc.h"

/*
 * Reporters connected at once. Each roost-lda holds its connection for the
 * whole delivery; beyond this many new ones are closed at once, and those
 * deliveries go uncounted (the delivery itself never notices).
 */
#define LDA_STATS_MAX_CLIENTS 512

struct lda_stats_client {
	struct ipc_conn *conn;
	pid_t pid;
	uid_t uid;
	bool reported;
	struct lda_stats_client *prev, *next;
};

static struct {
	int fd;
	struct io *io;
	char path[1100];
	struct lda_stats_client *clients;
	unsigned int client_count;
	uint64_t counts[STATS_DELIVERY_OUTCOME_COUNT];
} lda_stats = {.fd = -1};

static void lda_stats_client_destroy(struct lda_stats_client *client)
{
	if (client->prev != NULL)
		client->prev->next = client->next;
	else
		lda_stats.clients = client->next;
	if (client->next != NULL)
		client->next->prev = client->prev;
	lda_stats.client_count--;
	ipc_conn_destroy(&client->conn);
	free(client);
}

static bool lda_stats_refuse(const struct lda_stats_client *client, const char *why)
{
	log_warning("lda-stats: refused a report from pid %d (uid %u): %s", (int)client->pid,
		    (unsigned int)client->uid, why);
	return false;
}

static bool lda_stats_message(void *ctx, struct ipc_message *msg)
{
	struct lda_stats_client *client = ctx;
	union stats_msg_any m;
	const char *error;

	if (ipc_message_decode(&stats_channel, msg, &m, sizeof(m), &error) == NULL)
		return lda_stats_refuse(client, error);
	if (client->reported)
		return lda_stats_refuse(client, "a second report on one connection");
	if (stats_delivery_outcome_name(m.delivery.outcome) == NULL)
		return lda_stats_refuse(client, "unknown outcome");
	client->reported = true;
	lda_stats.counts[m.delivery.outcome]++;
	return true;
}

static void lda_stats_closed(void *ctx, const char *reason)
{
	struct lda_stats_client *client = ctx;

	/* A refused message was logged already; a broken frame is not. */
	if (strcmp(reason, "disconnected") != 0 && strcmp(reason, "protocol violation") != 0)
		(void)lda_stats_refuse(client, reason);
	lda_stats_client_destroy(client);
}

static void lda_stats_accept(void *ctx, uint32_t events)
{
	struct lda_stats_client *client;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	int fd;

	(void)ctx;
	(void)events;
	fd = accept4(lda_stats.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	if (lda_stats.client_count >= LDA_STATS_MAX_CLIENTS ||
	    !ipc_peer_cred(fd, &pid, &uid, &gid)) {
		close(fd);
		return;
	}
	client = i_calloc(1, sizeof(*client));
	client->pid = pid;
	client->uid = uid;
	client->next = lda_stats.clients;
	if (client->next != NULL)
		client->next->prev = client;
	lda_stats.clients = client;
	lda_stats.client_count++;
	client->conn = ipc_conn_create(fd, lda_stats_message, lda_stats_closed, client);
}

/* auth-userdb's group and mode, or root's group and 0600 without it. */
static void lda_stats_access(gid_t *gid_r, mode_t *mode_r)
{
	struct stat st;

	*gid_r = 0;
	*mode_r = 0600;
	if (master.userdb_fd >= 0 && stat(master.userdb_path, &st) == 0) {
		*gid_r = st.st_gid;
		*mode_r = st.st_mode & 0666;
	}
}

void lda_stats_init(void)
{
	mode_t old = umask(0077);
	mode_t mode;
	gid_t gid;

	if (!str_format(lda_stats.path, sizeof(lda_stats.path), "%s/%s", master.set->base_dir,
			LDA_STATS_SOCKET))
		fatal("base_dir is too long");
	lda_stats.fd = net_listen_unix(lda_stats.path, 128, SOCK_SEQPACKET);
	umask(old);
	if (lda_stats.fd < 0)
		fatal("Can't create the delivery statistics socket %s: %m", lda_stats.path);
	lda_stats_access(&gid, &mode);
	if ((master.is_root && chown(lda_stats.path, 0, gid) < 0) ||
	    chmod(lda_stats.path, mode) < 0)
		fatal("Can't set the owner and mode of %s: %m", lda_stats.path);
	lda_stats.io = io_add(lda_stats.fd, EPOLLIN, lda_stats_accept, NULL);
}

void lda_stats_deinit(void)
{
	while (lda_stats.clients != NULL)
		lda_stats_client_destroy(lda_stats.clients);
	if (lda_stats.fd < 0)
		return;
	io_remove(&lda_stats.io);
	close(lda_stats.fd);
	lda_stats.fd = -1;
	(void)unlink(lda_stats.path);
}

uint64_t lda_stats_count(enum stats_delivery_outcome outcome)
{
	return outcome < STATS_DELIVERY_OUTCOME_COUNT ? lda_stats.counts[outcome] : 0;
}
