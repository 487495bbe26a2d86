/*
 * The IMAP session of roost-imap: feeds client bytes to the command parser,
 * dispatches complete commands (checking state and the UID prefix), lets
 * APPEND stream literals and IDLE own the input, writes responses, and
 * logs Dovecot's logout line. The client is authenticated but untrusted.
 */
#include <malloc.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "imap.h"
#include "ioloop.h"
#include "log.h"
#include "xalloc.h"

#define IMAP_MAX_BAD_COMMANDS 20
#define IMAP_OUTPUT_MAX	      (64 * 1024 * 1024)

void imap_client_send(struct imap_client *client, const void *data, size_t len)
{
	(void)connection_send(client->conn, data, len);
}

void imap_client_printf(struct imap_client *client, const char *fmt, ...)
{
	struct buf line = BUF_INIT(IMAP_OUTPUT_MAX);
	va_list ap;

	va_start(ap, fmt);
	(void)buf_vprintf(&line, fmt, ap);
	va_end(ap);
	imap_client_send(client, buf_data(&line), buf_len(&line));
	buf_free(&line);
}

void imap_cmd_reply(struct imap_cmd *cmd, const char *text)
{
	imap_client_printf(cmd->client, "%s %s\r\n", cmd->tag, text);
}

void imap_cmd_replyf(struct imap_cmd *cmd, const char *fmt, ...)
{
	struct buf line = BUF_INIT(64 * 1024);
	va_list ap;

	(void)buf_printf(&line, "%s ", cmd->tag);
	va_start(ap, fmt);
	(void)buf_vprintf(&line, fmt, ap);
	va_end(ap);
	(void)buf_append_str(&line, "\r\n");
	imap_client_send(cmd->client, buf_data(&line), buf_len(&line));
	buf_free(&line);
}

void imap_cmd_ok(struct imap_cmd *cmd, const char *text)
{
	struct imap_client *client = cmd->client;

	if (client->state == IMAP_STATE_SELECTED)
		imap_sync(client, cmd->uid || (cmd->def->flags & IMAP_CMD_NO_EXPUNGE) == 0);
	imap_cmd_replyf(cmd, "OK %s", text);
}

void imap_cmd_storage_error(struct imap_cmd *cmd, const struct mailbox_error *err)
{
	const char *code;

	switch (err->code) {
	case MAILBOX_ERROR_NOT_FOUND:
		code = "[NONEXISTENT] ";
		break;
	case MAILBOX_ERROR_EXISTS:
		code = "[ALREADYEXISTS] ";
		break;
	case MAILBOX_ERROR_OVER_QUOTA:
		code = "[OVERQUOTA] ";
		break;
	case MAILBOX_ERROR_LOCK_TIMEOUT:
		code = "[INUSE] ";
		break;
	case MAILBOX_ERROR_NOT_ALLOWED:
	case MAILBOX_ERROR_PERM:
		code = "[NOPERM] ";
		break;
	case MAILBOX_ERROR_INVALID_NAME:
	case MAILBOX_ERROR_PARAMS:
		code = "[CANNOT] ";
		break;
	case MAILBOX_ERROR_EXPUNGED:
		code = "[EXPUNGEISSUED] ";
		break;
	case MAILBOX_ERROR_LIMIT:
		code = "[LIMIT] ";
		break;
	default:
		code = "[SERVERBUG] ";
		break;
	}
	if (mailbox_error_is_temporary(err->code)) {
		log_error("%s failed: %s", cmd->name, err->text);
		imap_cmd_replyf(cmd,
				"NO [UNAVAILABLE] Internal error occurred. Refer to server log "
				"for more information.");
		return;
	}
	struct buf text = BUF_INIT(4096);
	(void)imap_write_text(&text, err->text, strlen(err->text));
	imap_cmd_replyf(cmd, "NO %s%s", code, buf_cstr(&text));
	buf_free(&text);
}

static void imap_client_log_logout(struct imap_client *client, const char *reason)
{
	log_info("%s in=%llu out=%llu deleted=%u expunged=%u trashed=%u hdr_count=%u "
		 "hdr_bytes=%llu body_count=%u body_bytes=%llu",
		 reason, (unsigned long long)connection_bytes_in(client->conn),
		 (unsigned long long)connection_bytes_out(client->conn), client->deleted,
		 client->expunged, client->trashed, client->fetch_hdr_count,
		 (unsigned long long)client->fetch_hdr_bytes, client->fetch_body_count,
		 (unsigned long long)client->fetch_body_bytes);
}

static void imap_client_exit(struct imap_client *client, const char *reason)
{
	imap_client_log_logout(client, reason);
	imap_unselect(client);
	exit(0);
}

void imap_client_logout(struct imap_client *client)
{
	client->logged_out = true;
	client->state = IMAP_STATE_LOGOUT;
	connection_pause(client->conn);
	if (connection_output_len(client->conn) == 0)
		imap_client_exit(client, "Logged out");
}

static void imap_output_flushed(void *ctx)
{
	struct imap_client *client = ctx;

	if (client->busy != NULL && client->busy_output != NULL && !client->logged_out) {
		client->busy_output(client->busy);
		return;
	}
	if (client->logged_out)
		imap_client_exit(client, "Logged out");
}

static void imap_disconnected(void *ctx, const char *reason)
{
	char what[256];

	(void)str_format(what, sizeof(what), "Disconnected: %s", reason);
	imap_client_exit(ctx, what);
}

/* Resolves "UID FETCH" and the like; NULL (after a BAD) when unknown. */
static const struct imap_command_def *
command_lookup(struct imap_client *client, const struct imap_command *pc, struct imap_cmd *cmd)
{
	const struct imap_command_def *def;
	const char *sub;

	cmd->name = pc->name;
	cmd->args = pc->args;
	cmd->argc = pc->argc;
	if (strcmp(pc->name, "UID") == 0) {
		if (pc->argc == 0 || !imap_arg_get_atom(&pc->args[0], &sub)) {
			imap_cmd_reply(cmd, "BAD Missing UID command.");
			return NULL;
		}
		def = imap_command_find(sub);
		if (def == NULL || (def->flags & IMAP_CMD_UID) == 0) {
			imap_cmd_reply(cmd, "BAD Unknown UID command.");
			return NULL;
		}
		cmd->uid = true;
		cmd->name = def->name;
		cmd->args = pc->args + 1;
		cmd->argc = pc->argc - 1;
		return def;
	}
	def = imap_command_find(pc->name);
	if (def == NULL) {
		if (++client->bad_commands >= IMAP_MAX_BAD_COMMANDS) {
			imap_client_printf(client, "* BYE Too many invalid IMAP commands.\r\n");
			imap_client_logout(client);
			return NULL;
		}
		imap_cmd_reply(cmd, "BAD Error in IMAP command received by server.");
	}
	return def;
}

static void imap_client_command(struct imap_client *client, const struct imap_command *pc)
{
	struct imap_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.client = client;
	(void)str_copy(cmd.tag, sizeof(cmd.tag), pc->tag);
	cmd.def = command_lookup(client, pc, &cmd);
	if (cmd.def == NULL)
		return;
	if ((cmd.def->flags & IMAP_CMD_SELECTED) != 0 && client->state != IMAP_STATE_SELECTED) {
		imap_cmd_reply(&cmd, IMAP_NO_SELECTED);
		return;
	}
	cmd.def->run(&cmd);
}

struct imap_cmd *imap_command_take_input(struct imap_cmd *cmd, bool (*input)(struct imap_cmd *cmd))
{
	struct imap_cmd *copy = i_malloc(sizeof(*copy));

	*copy = *cmd;
	copy->args = NULL;
	copy->argc = 0;
	copy->client->busy = copy;
	copy->client->busy_input = input;
	return copy;
}

/*
 * A session quiet for a moment gives back the heap it no longer uses. A
 * sync of a large mailbox allocates and frees several buffers the size of
 * its index, and glibc keeps the freed pages: on a shared INBOX of 2,000
 * messages under bench/imap/mixed.sh that was a third of a session's
 * memory (PSS 1.35 MB, 0.83 MB after malloc_trim).
 */
#define IMAP_TRIM_QUIET_MSECS 1000

static struct timeout *trim_to;

void imap_client_trim_heap(void *ctx)
{
	(void)ctx;
	timeout_remove(&trim_to);
	(void)malloc_trim(0);
}

void imap_command_done(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;

	if (client->busy == cmd) {
		client->busy = NULL;
		client->busy_input = NULL;
		client->busy_output = NULL;
	}
	free(cmd);
	if (trim_to == NULL)
		trim_to = timeout_add(IMAP_TRIM_QUIET_MSECS, imap_client_trim_heap, NULL);
	else
		timeout_reset(trim_to);
	/* Commands the client pipelined behind it go on now. */
	imap_client_resume(client);
}

static enum imap_literal_action literal_announced(struct imap_client *client,
						  const struct imap_literal_info *lit)
{
	const struct imap_command_def *def =
		lit->name == NULL ? NULL : imap_command_find(lit->name);

	if (def != NULL && def->literal != NULL)
		return def->literal(client, lit);
	return IMAP_LITERAL_ACCEPT;
}

/* The command receiving a streamed literal: LITERAL_DATA events do not
   carry the command's name, the LITERAL event before them does. */
static const struct imap_command_def *literal_stream_def;

static bool imap_parse_input(struct imap_client *client)
{
	struct buf *in = connection_input(client->conn);

	while (!client->logged_out && client->busy == NULL) {
		struct imap_parse_event ev;
		size_t consumed = 0;
		enum imap_parse_result r = imap_parser_parse(client->parser, buf_data(in),
							     buf_len(in), &consumed, &ev);
		const struct imap_command_def *def;

		if (r == IMAP_PARSE_LITERAL_DATA) {
			/* The chunk points into the input buffer: hand it over
			   before consuming moves the rest of the buffer. */
			def = literal_stream_def;
			if (ev.data_last)
				literal_stream_def = NULL;
			if (def != NULL && def->literal_data != NULL)
				def->literal_data(client, ev.data, ev.data_len, ev.data_last);
			buf_consume(in, consumed);
			continue;
		}
		buf_consume(in, consumed);
		switch (r) {
		case IMAP_PARSE_MORE:
			return true;
		case IMAP_PARSE_COMMAND:
			imap_client_command(client, ev.cmd);
			break;
		case IMAP_PARSE_LITERAL:
			switch (literal_announced(client, &ev.literal)) {
			case IMAP_LITERAL_ACCEPT:
				if (!imap_parser_literal_accept(client->parser))
					break; /* reported as too large by the next parse */
				if (ev.literal.sync)
					imap_client_send(client, "+ OK\r\n", 6);
				break;
			case IMAP_LITERAL_STREAM:
				literal_stream_def = ev.literal.name == NULL
							     ? NULL
							     : imap_command_find(ev.literal.name);
				imap_parser_literal_stream(client->parser);
				if (ev.literal.sync)
					imap_client_send(client, "+ OK\r\n", 6);
				break;
			case IMAP_LITERAL_REJECT:
				imap_parser_literal_reject(client->parser);
				break;
			}
			break;
		case IMAP_PARSE_LITERAL_DATA:
			break; /* handled above */
		case IMAP_PARSE_LINE:
			break;
		case IMAP_PARSE_ERROR:
			imap_client_printf(
				client, "%s BAD Error in IMAP command received by server: %s\r\n",
				ev.error_tag != NULL ? ev.error_tag : "*", ev.error_msg);
			if (ev.error_fatal) {
				imap_client_printf(client, "* BYE Invalid input.\r\n");
				imap_client_logout(client);
			}
			break;
		}
	}
	return !client->logged_out;
}

static bool imap_input(void *ctx)
{
	struct imap_client *client = ctx;

	if (client->busy != NULL && client->busy_input != NULL) {
		if (!client->busy_input(client->busy))
			return !client->logged_out;
		if (client->busy != NULL)
			return true;
	}
	return imap_parse_input(client);
}

/* Lets pipelined input run after a busy command finished. */
void imap_client_resume(struct imap_client *client)
{
	if (!client->logged_out && client->busy == NULL)
		(void)imap_parse_input(client);
}

static const struct connection_callbacks imap_callbacks = {
	.input = imap_input,
	.disconnected = imap_disconnected,
	.output_flushed = imap_output_flushed,
};

void imap_client_start(struct mail_process *mp)
{
	struct imap_client *client = i_calloc(1, sizeof(*client));
	struct imap_parser_limits limits;
	struct buf caps = BUF_INIT(4096);

	client->mp = mp;
	client->set = mp->set;
	client->state = IMAP_STATE_AUTHENTICATED;
	imap_parser_limits_default(&limits);
	limits.max_line_length = mp->set->imap_max_line_length;
	limits.literal_minus = mp->set->imap_literal_minus;
	client->parser = imap_parser_create(&limits);
	client->conn = connection_create(mp->client_fd, limits.max_line_length + 2, IMAP_OUTPUT_MAX,
					 &imap_callbacks, client);
	if (mp->storage_failed) {
		if (mp->session.tag[0] != '\0')
			imap_client_printf(client,
					   "%s NO [UNAVAILABLE] Mail storage is not available "
					   "right now. Try again later.\r\n",
					   mp->session.tag);
		else
			imap_client_printf(client, "* BYE [UNAVAILABLE] Mail storage is not "
						   "available right now.\r\n");
		imap_client_logout(client);
		return;
	}
	imap_mailbox_autocreate(client);
	imap_write_capability(client, &caps);
	if (mp->session.tag[0] != '\0')
		imap_client_printf(client, "%s OK [CAPABILITY %s] Logged in\r\n", mp->session.tag,
				   buf_cstr(&caps));
	else
		imap_client_printf(client, "* PREAUTH [CAPABILITY %s] Logged in\r\n",
				   buf_cstr(&caps));
	buf_free(&caps);
	if (mp->session.input_len > 0) {
		(void)connection_inject_input(client->conn, mp->session.input,
					      mp->session.input_len);
		(void)imap_input(client);
	}
}
