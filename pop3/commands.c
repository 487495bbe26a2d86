/*
 * POP3 commands in the TRANSACTION state (RFC 1939, RFC 2449): the
 * dispatch table and every command but RETR and TOP (retr.c). Message
 * numbers come from the client and are checked against the list fixed at
 * login.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pop3.h"

struct pop3_message *pop3_message_arg(struct pop3_client *client, const char *arg, uint32_t *num_r)
{
	char *end;
	unsigned long n;

	if (arg == NULL || arg[0] < '0' || arg[0] > '9') {
		pop3_client_send(client, "-ERR Invalid message number.\r\n");
		return NULL;
	}
	n = strtoul(arg, &end, 10);
	if (*end != '\0' || n == 0 || n > client->count) {
		pop3_client_printf(client, "-ERR There's no message %s.\r\n", arg);
		return NULL;
	}
	if (client->messages[n - 1].deleted) {
		pop3_client_send(client, "-ERR Message is deleted.\r\n");
		return NULL;
	}
	*num_r = (uint32_t)n;
	return &client->messages[n - 1];
}

static bool cmd_capa(struct pop3_client *client, const struct pop3_cmd *cmd)
{
	(void)cmd;
	pop3_client_send(client, "+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\n"
				 "AUTH-RESP-CODE\r\nUSER\r\n.\r\n");
	return true;
}

static bool cmd_noop(struct pop3_client *client, const struct pop3_cmd *cmd)
{
	(void)cmd;
	pop3_client_send(client, "+OK\r\n");
	return true;
}

static bool cmd_stat(struct pop3_client *client, const struct pop3_cmd *cmd)
{
	uint32_t count = 0;
	uint64_t size = 0;

	(void)cmd;
	for (uint32_t i = 0; i < client->count; i++) {
		if (!client->messages[i].deleted) {
			count++;
			size += client->messages[i].size;
		}
	}
	pop3_client_printf(client, "+OK %u %llu\r\n", count, (unsigned long long)size);
	return true;
}

static bool cmd_list(struct pop3_client *client, const struct pop3_cmd *cmd)
{
	struct buf out = BUF_INIT(SIZE_MAX / 2);
	uint32_t count = 0, num;

	if (cmd->argc == 1) {
		struct pop3_message *msg = pop3_message_arg(client, cmd->args[0], &num);

		if (msg != NULL)
			pop3_client_printf(client, "+OK %u %llu\r\n", num,
					   (unsigned long long)msg->size);
		return true;
	}
	for (uint32_t i = 0; i < client->count; i++) {
		if (client->messages[i].deleted)
			continue;
		count++;
		(void)buf_printf(&out, "%u %llu\r\n", i + 1,
				 (unsigned long long)client->messages[i].size);
	}
	pop3_client_printf(client, "+OK %u messages:\r\n", count);
	(void)buf_append_str(&out, ".\r\n");
	(void)connection_send(client->conn, buf_data(&out), buf_len(&out));
	buf_free(&out);
	return true;
}

static bool cmd_uidl(struct pop3_client *client, const struct pop3_cmd *cmd)
{
	struct buf out = BUF_INIT(SIZE_MAX / 2);
	char uidl[128];
	uint32_t num;

	if (cmd->argc == 1) {
		struct pop3_message *msg = pop3_message_arg(client, cmd->args[0], &num);

		if (msg != NULL) {
			pop3_uidl(client, msg, uidl, sizeof(uidl));
			pop3_client_printf(client, "+OK %u %s\r\n", num, uidl);
		}
		return true;
	}
	(void)buf_append_str(&out, "+OK\r\n");
	for (uint32_t i = 0; i < client->count; i++) {
		if (client->messages[i].deleted)
			continue;
		pop3_uidl(client, &client->messages[i], uidl, sizeof(uidl));
		(void)buf_printf(&out, "%u %s\r\n", i + 1, uidl);
	}
	(void)buf_append_str(&out, ".\r\n");
	(void)connection_send(client->conn, buf_data(&out), buf_len(&out));
	buf_free(&out);
	return true;
}

static bool cmd_dele(struct pop3_client *client, const struct pop3_cmd *cmd)
{
	uint32_t num;
	struct pop3_message *msg;

	if (cmd->argc != 1) {
		pop3_client_send(client, "-ERR Invalid message number.\r\n");
		return true;
	}
	msg = pop3_message_arg(client, cmd->args[0], &num);
	if (msg != NULL) {
		msg->deleted = true;
		client->deleted_count++;
		client->deleted_bytes += msg->size;
		pop3_client_send(client, "+OK Marked to be deleted.\r\n");
	}
	return true;
}

static bool cmd_rset(struct pop3_client *client, const struct pop3_cmd *cmd)
{
	(void)cmd;
	for (uint32_t i = 0; i < client->count; i++) {
		client->messages[i].deleted = false;
		client->messages[i].retrieved = false;
	}
	client->deleted_count = 0;
	client->deleted_bytes = 0;
	pop3_client_send(client, "+OK\r\n");
	return true;
}

static bool cmd_last(struct pop3_client *client, const struct pop3_cmd *cmd)
{
	uint32_t last = 0;

	(void)cmd;
	if (!client->mp->set->pop3_enable_last) {
		pop3_client_send(client, "-ERR Unknown command: LAST\r\n");
		return true;
	}
	for (uint32_t i = 0; i < client->count; i++) {
		if (client->messages[i].retrieved)
			last = i + 1;
	}
	pop3_client_printf(client, "+OK %u\r\n", last);
	return true;
}

static bool cmd_quit(struct pop3_client *client, const struct pop3_cmd *cmd)
{
	(void)cmd;
	if (!pop3_client_update(client)) {
		pop3_client_send(client, "-ERR [SYS/TEMP] Couldn't delete messages, try again "
					 "later.\r\n");
	} else if (client->deleted_count > 0) {
		pop3_client_send(client, "+OK Logging out, messages deleted.\r\n");
	} else {
		pop3_client_send(client, "+OK Logging out.\r\n");
	}
	pop3_client_quit(client);
	return false;
}

static const struct pop3_command commands[] = {
	{"CAPA", cmd_capa}, {"DELE", cmd_dele}, {"LAST", cmd_last}, {"LIST", cmd_list},
	{"NOOP", cmd_noop}, {"QUIT", cmd_quit}, {"RETR", cmd_retr}, {"RSET", cmd_rset},
	{"STAT", cmd_stat}, {"TOP", cmd_top},	{"UIDL", cmd_uidl},
};

const struct pop3_command *pop3_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}
