/*
 * The IMAP session of roost-imap: feeds client bytes to the command parser,
 * dispatches complete commands, writes responses and logs Dovecot's
 * logout line. The client is authenticated but still untrusted.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ioloop.h"
#include "log.h"
#include "imap.h"
#include "xalloc.h"

#define IMAP_MAX_BAD_COMMANDS 20
#define IMAP_OUTPUT_MAX	      (16 * 1024 * 1024)

void imap_client_send(struct imap_client *client, const char *data, size_t len)
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
	imap_client_send(client, (const char *)buf_data(&line), buf_len(&line));
	buf_free(&line);
}

void imap_client_tagged(struct imap_client *client, const char *tag, const char *text)
{
	imap_client_printf(client, "%s %s\r\n", tag, text);
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

void imap_client_logout(struct imap_client *client)
{
	client->logged_out = true;
	connection_pause(client->conn);
	if (connection_output_len(client->conn) == 0) {
		imap_client_log_logout(client, "Logged out");
		exit(0);
	}
}

static void imap_output_flushed(void *ctx)
{
	struct imap_client *client = ctx;

	if (client->logged_out) {
		imap_client_log_logout(client, "Logged out");
		exit(0);
	}
}

static void imap_disconnected(void *ctx, const char *reason)
{
	struct imap_client *client = ctx;
	char what[256];

	(void)str_format(what, sizeof(what), "Disconnected: %s", reason);
	imap_client_log_logout(client, what);
	exit(0);
}

static void imap_client_command(struct imap_client *client, const struct imap_command *cmd)
{
	const struct imap_command_def *def = imap_command_find(cmd->name);

	if (def == NULL) {
		if (++client->bad_commands >= IMAP_MAX_BAD_COMMANDS) {
			imap_client_printf(client, "* BYE Too many invalid IMAP commands.\r\n");
			imap_client_logout(client);
			return;
		}
		imap_client_tagged(client, cmd->tag,
				   "BAD Error in IMAP command received by server.");
		return;
	}
	def->run(client, cmd);
}

static bool imap_input(void *ctx)
{
	struct imap_client *client = ctx;
	struct buf *in = connection_input(client->conn);

	while (!client->logged_out) {
		struct imap_parse_event ev;
		size_t consumed = 0;
		enum imap_parse_result r = imap_parser_parse(client->parser, buf_data(in),
							     buf_len(in), &consumed, &ev);

		buf_consume(in, consumed);
		switch (r) {
		case IMAP_PARSE_MORE:
			return true;
		case IMAP_PARSE_COMMAND:
			imap_client_command(client, ev.cmd);
			break;
		case IMAP_PARSE_LITERAL:
			if (imap_parser_literal_accept(client->parser) && ev.literal.sync)
				imap_client_printf(client, "+ OK\r\n");
			break;
		case IMAP_PARSE_LITERAL_DATA:
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
	return false;
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

	client->mp = mp;
	imap_parser_limits_default(&limits);
	limits.max_line_length = mp->set->imap_max_line_length;
	limits.literal_minus = mp->set->imap_literal_minus;
	client->parser = imap_parser_create(&limits);
	client->conn = connection_create(mp->client_fd, limits.max_line_length + 2, IMAP_OUTPUT_MAX,
					 &imap_callbacks, client);
	if (mp->session.tag[0] != '\0')
		imap_client_printf(client, "%s OK [CAPABILITY %s] Logged in\r\n", mp->session.tag,
				   imap_capability_string());
	if (mp->session.input_len > 0) {
		(void)connection_inject_input(client->conn, mp->session.input,
					      mp->session.input_len);
		(void)imap_input(client);
	}
}
