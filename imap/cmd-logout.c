/*
 * LOGOUT (RFC 3501 6.1.3).
 */
#include "imap.h"

void cmd_logout(struct imap_cmd *cmd)
{
	imap_client_printf(cmd->client, "* BYE Logging out\r\n");
	imap_cmd_reply(cmd, "OK Logout completed.");
	imap_client_logout(cmd->client);
}
