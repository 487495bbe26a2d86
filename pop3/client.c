/*
 * The POP3 session of roost-pop3: reads command lines from the client,
 * dispatches them, writes replies, and logs Dovecot's logout line.
 */
#include <stdlib.h>
#include <string.h>

#include "ioloop.h"
#include "log.h"
#include "pop3.h"
#include "xalloc.h"

#define POP3_MAX_BAD_COMMANDS 20
#define POP3_OUTPUT_MAX	      (4 * 1024 * 1024)

static void pop3_client_log_logout(struct pop3_client *client, const char *reason)
{
	log_info("%s top=%u/%llu, retr=%u/%llu, del=%u/%u, size=%llu", reason, client->top_count,
		 (unsigned long long)client->top_bytes, client->retr_count,
		 (unsigned long long)client->retr_bytes, client->deleted_count,
		 client->message_count, (unsigned long long)client->mailbox_size);
}

void pop3_client_send(struct pop3_client *client, const char *line)
{
	(void)connection_send_str(client->conn, line);
}

void pop3_client_quit(struct pop3_client *client)
{
	client->quit = true;
	connection_pause(client->conn);
	if (connection_output_len(client->conn) == 0) {
		pop3_client_log_logout(client, "Logged out");
		exit(0);
	}
}

static void pop3_output_flushed(void *ctx)
{
	struct pop3_client *client = ctx;

	if (client->quit) {
		pop3_client_log_logout(client, "Logged out");
		exit(0);
	}
}

static void pop3_disconnected(void *ctx, const char *reason)
{
	struct pop3_client *client = ctx;
	char what[256];

	(void)str_format(what, sizeof(what), "Disconnected: %s", reason);
	pop3_client_log_logout(client, what);
	exit(0);
}

static bool pop3_input(void *ctx)
{
	struct pop3_client *client = ctx;
	struct buf *in = connection_input(client->conn);
	struct pop3_cmd *cmd = i_malloc(sizeof(*cmd));

	while (!client->quit) {
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
			pop3_client_send(client, "-ERR Unknown command.\r\n");
			continue;
		}
		if (!command->run(client, cmd))
			break;
	}
	free(cmd);
	return !client->quit;
}

static const struct connection_callbacks pop3_callbacks = {
	.input = pop3_input,
	.disconnected = pop3_disconnected,
	.output_flushed = pop3_output_flushed,
};

void pop3_client_start(struct mail_process *mp)
{
	struct pop3_client *client = i_calloc(1, sizeof(*client));

	client->mp = mp;
	client->conn = connection_create(mp->client_fd, POP3_LINE_MAX, POP3_OUTPUT_MAX,
					 &pop3_callbacks, client);
	pop3_client_send(client, "+OK Logged in.\r\n");
	if (mp->session.input_len > 0) {
		(void)connection_inject_input(client->conn, mp->session.input,
					      mp->session.input_len);
		(void)pop3_input(client);
	}
}
