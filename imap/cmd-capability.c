/*
 * CAPABILITY (RFC 3501 6.1.1, RFC 9051 6.1.1).
 */
#include "imap.h"

void cmd_capability(struct imap_cmd *cmd)
{
	struct buf caps = BUF_INIT(4096);

	if (cmd->argc != 0) {
		imap_cmd_reply(cmd, "BAD CAPABILITY takes no arguments.");
		return;
	}
	imap_write_capability(cmd->client, &caps);
	imap_client_printf(cmd->client, "* CAPABILITY %s\r\n", buf_cstr(&caps));
	buf_free(&caps);
	imap_cmd_ok(cmd, "Capability completed.");
}
