/*
 * CAPABILITY (RFC 3501 6.1.1, RFC 9051 6.1.1).
 */
#include "imap.h"

void cmd_capability(struct imap_client *client, const struct imap_command *cmd)
{
	if (cmd->argc != 0) {
		imap_client_tagged(client, cmd->tag, "BAD CAPABILITY takes no arguments.");
		return;
	}
	imap_client_printf(client, "* CAPABILITY %s\r\n", imap_capability_string());
	imap_client_tagged(client, cmd->tag, "OK Capability completed.");
}
