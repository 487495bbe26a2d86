/*
 * NAMESPACE (RFC 2342): one personal namespace with '/' as the hierarchy
 * separator, as Dovecot's default configuration has it.
 */
#include "imap.h"

void cmd_namespace(struct imap_cmd *cmd)
{
	imap_client_printf(cmd->client, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
	imap_cmd_ok(cmd, "Namespace completed.");
}
