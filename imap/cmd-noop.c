/*
 * NOOP (RFC 3501 6.1.2): also the moment to report mailbox changes.
 */
#include "imap.h"

void cmd_noop(struct imap_client *client, const struct imap_command *cmd)
{
	imap_client_tagged(client, cmd->tag, "OK NOOP completed.");
}
