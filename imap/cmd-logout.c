/*
 * LOGOUT (RFC 3501 6.1.3).
 */
#include "imap.h"

void cmd_logout(struct imap_client *client, const struct imap_command *cmd)
{
	imap_client_printf(client, "* BYE Logging out\r\n");
	imap_client_tagged(client, cmd->tag, "OK Logout completed.");
	imap_client_logout(client);
}
