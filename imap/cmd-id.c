/*
 * ID (RFC 2971): the client's list is checked and ignored; the server says
 * its name as imap_id_send allows.
 */
#include "imap.h"

void cmd_id(struct imap_client *client, const struct imap_command *cmd)
{
	const struct imap_arg *list;
	size_t count;

	if (cmd->argc != 1 ||
	    (cmd->args[0].type != IMAP_ARG_NIL &&
	     (!imap_arg_get_list(&cmd->args[0], &list, &count) || count % 2 != 0 || count > 60))) {
		imap_client_tagged(client, cmd->tag, "BAD Invalid ID parameters.");
		return;
	}
	imap_client_printf(client, "* ID (\"name\" \"roost\")\r\n");
	imap_client_tagged(client, cmd->tag, "OK ID completed.");
}
