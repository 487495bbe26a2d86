/*
 * Delivery statistics: roost-lda tells the running server (master, on
 * base_dir/lda-stats) what became of the message, for `roostadm stats`
 * and Munin. Runs in roost-lda; the socket is connected before the sandbox
 * and the report is sent from an exit handler, so every exit path after
 * the connect is counted without the delivery code knowing about it. A
 * delivery never waits for or fails because of this.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc/msg-stats.h"
#include "lda-stats.h"
#include "log.h"

static struct {
	int fd;
	pid_t pid;
	const struct lda_delivery *d;
} lda_stats = {.fd = -1};

static enum stats_delivery_outcome lda_stats_outcome(int status)
{
	switch (status) {
	case LDA_EXIT_OK:
		/* A Sieve reject that sent its own bounce also exits 0. */
		if (lda_stats.d->status == LDA_STATUS_REJECTED)
			return STATS_DELIVERY_REJECTED;
		return lda_stats.d->saved_count > 0 ? STATS_DELIVERY_STORED
						    : STATS_DELIVERY_DISCARDED;
	case LDA_EXIT_TEMPFAIL:
		return STATS_DELIVERY_TEMPFAIL;
	default:
		/* 77 over quota or too large, 67 unknown user, 64 bad command
		   line: the MTA bounces all of them. */
		return STATS_DELIVERY_REJECTED;
	}
}

static void lda_stats_exit(int status, void *ctx)
{
	struct stats_delivery report = {0};

	(void)ctx;
	if (lda_stats.fd < 0 || getpid() != lda_stats.pid)
		return;
	report.outcome = lda_stats_outcome(status);
	/* Non-blocking: a full queue or a gone server loses the count only. */
	if (ipc_send_msg(lda_stats.fd, STATS_MSG(STATS_DELIVERY), &report, NULL, 0) < 0)
		log_debug("Delivery statistics not sent: %m");
	close(lda_stats.fd);
	lda_stats.fd = -1;
}

void lda_stats_start(const char *base_dir, const struct lda_delivery *d)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (lda_stats.fd >= 0 ||
	    !str_format(sun.sun_path, sizeof(sun.sun_path), "%s/%s", base_dir, LDA_STATS_SOCKET))
		return;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return;
	/* A UNIX socket connects at once or fails at once (EAGAIN when the
	   server's backlog is full): never a wait. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		log_debug("Delivery statistics off: connect(%s) failed: %m", sun.sun_path);
		close(fd);
		return;
	}
	if (on_exit(lda_stats_exit, NULL) != 0) {
		close(fd);
		return;
	}
	lda_stats.fd = fd;
	lda_stats.pid = getpid();
	lda_stats.d = d;
}
