/*
 * IDLE (RFC 2177): the client waits; changes made by other sessions and by
 * deliveries are reported within a moment, woken by inotify on the
 * mailbox's directories (mailbox_watch_start), not by polling. "* OK
 * Still here" goes out every imap_idle_notify_interval. DONE ends it.
 */
#include <errno.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

#include "imap.h"
#include "ioloop.h"
#include "log.h"
#include "xalloc.h"

/* Several changes in a burst are reported together. */
#define IDLE_SETTLE_MSECS 50

struct idle_ctx {
	struct imap_cmd *cmd;
	int watch_fd;
	struct io *watch_io;
	struct timeout *notify_to;
	struct timeout *settle_to;
};

static struct idle_ctx idle;

static void idle_stop(void)
{
	io_remove(&idle.watch_io);
	if (idle.watch_fd >= 0 && idle.cmd->client->box != NULL)
		mailbox_watch_stop(idle.cmd->client->box);
	idle.watch_fd = -1;
	timeout_remove(&idle.notify_to);
	timeout_remove(&idle.settle_to);
}

static void idle_settled(void *ctx);

/* A change in the same instant as the last one seen may not show in the
   directories' stamps: look again once the storage stops trusting them. */
static void idle_schedule_recheck(void)
{
	struct imap_client *client = idle.cmd->client;
	unsigned int msecs;

	if (client->box == NULL || idle.settle_to != NULL)
		return;
	msecs = mailbox_sync_recheck_msecs(client->box);
	if (msecs > 0)
		idle.settle_to = timeout_add(msecs, idle_settled, NULL);
}

static void idle_settled(void *ctx)
{
	(void)ctx;
	timeout_remove(&idle.settle_to);
	imap_sync(idle.cmd->client, true);
	idle_schedule_recheck();
}

static void idle_watch(void *ctx, uint32_t events)
{
	uint8_t drain[4096];

	(void)ctx;
	(void)events;
	while (read(idle.watch_fd, drain, sizeof(drain)) > 0)
		;
	if (idle.settle_to == NULL)
		idle.settle_to = timeout_add(IDLE_SETTLE_MSECS, idle_settled, NULL);
}

static void idle_notify(void *ctx)
{
	(void)ctx;
	imap_client_printf(idle.cmd->client, "* OK Still here\r\n");
}

static bool idle_input(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	struct buf *in = connection_input(client->conn);
	struct imap_parse_event ev;
	size_t consumed = 0;
	enum imap_parse_result r =
		imap_parser_read_line(client->parser, buf_data(in), buf_len(in), &consumed, &ev);

	buf_consume(in, consumed);
	if (r == IMAP_PARSE_MORE)
		return true;
	idle_stop();
	if (r == IMAP_PARSE_LINE && ev.data_len == 4 &&
	    strncasecmp((const char *)ev.data, "DONE", 4) == 0)
		imap_cmd_ok(cmd, "Idle completed.");
	else
		imap_cmd_reply(cmd, "BAD Expected DONE.");
	imap_command_done(cmd);
	return true;
}

void cmd_idle(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	struct mailbox_error err;

	if (cmd->argc != 0) {
		imap_cmd_reply(cmd, "BAD IDLE takes no arguments.");
		return;
	}
	/* What changed before IDLE is told at once. */
	if (client->state == IMAP_STATE_SELECTED)
		imap_sync(client, true);
	imap_client_printf(client, "+ idling\r\n");
	idle.cmd = imap_command_take_input(cmd, idle_input);
	idle.watch_fd = -1;
	if (client->box != NULL) {
		idle.watch_fd = mailbox_watch_start(client->box, &err);
		if (idle.watch_fd < 0)
			log_warning("IDLE: watching %s failed: %s", client->box_name, err.text);
		else
			idle.watch_io = io_add(idle.watch_fd, EPOLLIN, idle_watch, NULL);
	}
	idle_schedule_recheck();
	/* Waiting is what IDLE is for: give the heap back now. */
	imap_client_trim_heap(NULL);
	if (client->set->imap_idle_notify_interval > 0)
		idle.notify_to = timeout_add_repeat(
			(unsigned int)client->set->imap_idle_notify_interval, idle_notify, NULL);
}
