/*
 * NOOP and CHECK (RFC 3501 6.1.2, 6.4.1): the moments a client polls for
 * mailbox changes, which imap_cmd_ok() reports before the tagged OK.
 */
#include "imap.h"

void cmd_noop(struct imap_cmd *cmd)
{
	imap_cmd_ok(cmd, "NOOP completed.");
}

void cmd_check(struct imap_cmd *cmd)
{
	imap_cmd_ok(cmd, "Check completed.");
}
