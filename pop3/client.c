/*
 * The POP3 session of roost-pop3: opens INBOX (holding the session lock
 * when pop3_lock_session is set), fixes the message list, reads command
 * lines, dispatches them, and in the UPDATE state applies deletions and
 * \Seen flags. Logs Dovecot's logout line.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ioloop.h"
#include "log.h"
#include "pop3.h"
#include "xalloc.h"

#define POP3_MAX_BAD_COMMANDS 20
#define POP3_OUTPUT_MAX	      (4 * 1024 * 1024)

static bool pop3_input(void *ctx);

static void pop3_client_log_logout(struct pop3_client *client, const char *reason)
{
	log_info("%s top=%u/%llu, retr=%u/%llu, del=%u/%u, size=%llu", reason, client->top_count,
		 (unsigned long long)client->top_bytes, client->retr_count,
		 (unsigned long long)client->retr_bytes, client->deleted_count, client->count,
		 (unsigned long long)client->total_size);
}

void pop3_client_send(struct pop3_client *client, const char *line)
{
	(void)connection_send_str(client->conn, line);
}

void pop3_client_printf(struct pop3_client *client, const char *fmt, ...)
{
	struct buf line = BUF_INIT(4096);
	va_list ap;

	va_start(ap, fmt);
	(void)buf_vprintf(&line, fmt, ap);
	va_end(ap);
	(void)connection_send(client->conn, buf_data(&line), buf_len(&line));
	buf_free(&line);
}

static void pop3_client_exit(struct pop3_client *client, const char *reason)
{
	pop3_client_log_logout(client, reason);
	mailbox_close(&client->box);
	exit(0);
}

void pop3_client_quit(struct pop3_client *client)
{
	client->quit = true;
	connection_pause(client->conn);
	if (connection_output_len(client->conn) == 0)
		pop3_client_exit(client, "Logged out");
}

bool pop3_client_update(struct pop3_client *client)
{
	const struct roost_settings *set = client->mp->set;
	struct mailbox_error err;
	uint32_t *uids = i_calloc(client->count + 1, sizeof(*uids));
	size_t n = 0;
	bool ok = true;

	/* \Seen for what was read (unless pop3_no_flag_updates). */
	if (!set->pop3_no_flag_updates) {
		for (uint32_t i = 0; i < client->count; i++) {
			if (client->messages[i].retrieved && !client->messages[i].deleted)
				uids[n++] = client->messages[i].uid;
		}
		if (n > 0 && !mailbox_update_flags(client->box, uids, n, MAILBOX_FLAGS_ADD,
						   MAIL_SEEN, 0, 0, NULL, &err))
			log_warning("Setting \\Seen failed: %s", err.text);
	}
	n = 0;
	for (uint32_t i = 0; i < client->count; i++) {
		if (client->messages[i].deleted)
			uids[n++] = client->messages[i].uid;
	}
	if (n > 0) {
		if (set->pop3_deleted_flag[0] != '\0') {
			/* Keep the mail, mark it with a keyword (pop3_deleted_flag). */
			unsigned int idx;

			ok = mailbox_keyword_add(client->box, set->pop3_deleted_flag, &idx, &err) &&
			     mailbox_update_flags(client->box, uids, n, MAILBOX_FLAGS_ADD, 0,
						  1U << idx, 0, NULL, &err);
		} else {
			ok = mailbox_expunge(client->box, uids, n, &err);
		}
		if (!ok)
			log_error("Deleting messages failed: %s", err.text);
	}
	free(uids);
	return ok;
}

static void pop3_output_flushed(void *ctx)
{
	struct pop3_client *client = ctx;

	if (client->sending) {
		if (pop3_send_more(client))
			return;
		/* The answer is complete: commands the client pipelined go on. */
		connection_resume(client->conn);
		if (!client->quit)
			(void)pop3_input(client);
		return;
	}
	if (client->quit)
		pop3_client_exit(client, "Logged out");
}

static void pop3_disconnected(void *ctx, const char *reason)
{
	struct pop3_client *client = ctx;
	char what[256];

	/* No QUIT, no UPDATE state: nothing is deleted (RFC 1939 6). */
	(void)str_format(what, sizeof(what), "Disconnected: %s", reason);
	pop3_client_exit(client, what);
}

static bool pop3_input(void *ctx)
{
	struct pop3_client *client = ctx;
	struct buf *in = connection_input(client->conn);
	struct pop3_cmd *cmd = i_malloc(sizeof(*cmd));

	while (!client->quit && !client->sending) {
		const uint8_t *data = buf_data(in);
		const uint8_t *nl = memchr(data, '\n', buf_len(in));
		const struct pop3_command *command;
		size_t len;

		if (nl == NULL) {
			if (buf_room(in) == 0) {
				pop3_client_send(client, "-ERR Input line too long.\r\n");
				buf_reset(in);
			}
			break;
		}
		len = (size_t)(nl - data);
		if (!pop3_cmd_parse((const char *)data, len, cmd)) {
			buf_consume(in, len + 1);
			pop3_client_send(client, "-ERR Invalid command.\r\n");
			continue;
		}
		buf_consume(in, len + 1);
		command = pop3_command_find(cmd->name);
		if (command == NULL) {
			if (++client->bad_commands >= POP3_MAX_BAD_COMMANDS) {
				pop3_client_send(client, "-ERR Too many invalid commands.\r\n");
				pop3_client_quit(client);
				break;
			}
			pop3_client_printf(client, "-ERR Unknown command: %s\r\n", cmd->name);
			continue;
		}
		if (cmd->args_bad) {
			pop3_client_send(client, "-ERR Invalid arguments.\r\n");
			continue;
		}
		if (!command->run(client, cmd))
			break;
	}
	free(cmd);
	/* While an answer streams, read nothing more: it waits in the socket. */
	if (client->sending)
		connection_pause(client->conn);
	return !client->quit;
}

static const struct connection_callbacks pop3_callbacks = {
	.input = pop3_input,
	.disconnected = pop3_disconnected,
	.output_flushed = pop3_output_flushed,
};

/* Opens INBOX and fixes the message list for the session. */
static bool pop3_open_inbox(struct pop3_client *client)
{
	const struct roost_settings *set = client->mp->set;
	unsigned int flags =
		MAILBOX_OPEN_AUTOCREATE | (set->pop3_lock_session ? MAILBOX_OPEN_SESSION_LOCK : 0);
	struct mailbox_error err;
	const char *error;

	if (!pop3_uidl_format_valid(set->pop3_uidl_format, &error)) {
		log_error("%s", error);
		pop3_client_send(client, "-ERR [SYS/TEMP] Server configuration error.\r\n");
		return false;
	}
	if (client->mp->storage_failed) {
		pop3_client_send(client, "-ERR [SYS/TEMP] Couldn't open INBOX: mail storage is "
					 "not available.\r\n");
		return false;
	}
	if (!mailbox_open(client->mp->user.storage, "INBOX", flags, &client->box, &err) ||
	    !mailbox_sync(client->box, 0, NULL, &err)) {
		if (err.code == MAILBOX_ERROR_LOCK_TIMEOUT)
			pop3_client_send(client, "-ERR [IN-USE] Couldn't open INBOX: Timeout while "
						 "waiting for lock\r\n");
		else {
			log_error("Couldn't open INBOX: %s", err.text);
			pop3_client_send(client, "-ERR [SYS/TEMP] Couldn't open INBOX.\r\n");
		}
		return false;
	}
	uint32_t total = mailbox_count(client->box);
	int hidden = set->pop3_deleted_flag[0] == '\0'
			     ? -1
			     : mailbox_keyword_lookup(client->box, set->pop3_deleted_flag);

	client->messages = i_calloc(total + 1, sizeof(*client->messages));
	for (uint32_t seq = 1; seq <= total; seq++) {
		const struct mail_record *rec = mailbox_record(client->box, seq);
		struct pop3_message *msg;

		/* Messages POP3 already "deleted" with pop3_deleted_flag stay hidden. */
		if (hidden >= 0 && (rec->keywords & (1U << hidden)) != 0)
			continue;
		msg = &client->messages[client->count++];
		msg->uid = rec->uid;
		msg->size = rec->vsize;
		client->total_size += rec->vsize;
	}
	return true;
}

void pop3_client_start(struct mail_process *mp)
{
	struct pop3_client *client = i_calloc(1, sizeof(*client));

	client->mp = mp;
	client->conn = connection_create(mp->client_fd, POP3_LINE_MAX, POP3_OUTPUT_MAX,
					 &pop3_callbacks, client);
	if (!pop3_open_inbox(client)) {
		pop3_client_quit(client);
		return;
	}
	pop3_client_send(client, "+OK Logged in.\r\n");
	if (mp->session.input_len > 0) {
		(void)connection_inject_input(client->conn, mp->session.input,
					      mp->session.input_len);
		(void)pop3_input(client);
	}
}
