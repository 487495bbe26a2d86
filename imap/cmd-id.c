/*
 * ID (RFC 2971): the client's list is checked and ignored; the server says
 * its name.
 */
#include "imap.h"

void cmd_id(struct imap_cmd *cmd)
{
	const struct imap_arg *list;
	size_t count;

	if (cmd->argc != 1 ||
	    (cmd->args[0].type != IMAP_ARG_NIL &&
	     (!imap_arg_get_list(&cmd->args[0], &list, &count) || count % 2 != 0 || count > 60))) {
		imap_cmd_reply(cmd, "BAD Invalid ID parameters.");
		return;
	}
	imap_client_printf(cmd->client, "* ID (\"name\" \"roost\")\r\n");
	imap_cmd_ok(cmd, "ID completed.");
}
