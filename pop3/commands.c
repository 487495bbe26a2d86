/*
 * POP3 commands in the TRANSACTION state (RFC 1939, RFC 2449). The mailbox
 * commands arrive with the storage work; this file holds the dispatch
 * table and the commands that need no mailbox.
 */
#include <string.h>

#include "pop3.h"

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

static bool cmd_quit(struct pop3_client *client, const struct pop3_cmd *cmd)
{
	(void)cmd;
	pop3_client_send(client, "+OK Logging out.\r\n");
	pop3_client_quit(client);
	return false;
}

static const struct pop3_command commands[] = {
	{"CAPA", cmd_capa},
	{"NOOP", cmd_noop},
	{"QUIT", cmd_quit},
};

const struct pop3_command *pop3_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}
