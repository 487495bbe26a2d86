/*
 * DELETE (RFC 3501 6.3.4, RFC 9051 6.3.5): the mailbox and its messages go;
 * its children stay and the name lives on as a \Noselect parent. INBOX
 * cannot be deleted. Deleting the selected mailbox closes it first, as
 * Dovecot does, so no view points into removed directories.
 */
#include <string.h>

#include "imap.h"

void cmd_delete(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	char name[1024];
	const char *arg, *error;
	size_t len;
	struct mailbox_error err;

	if (cmd->argc != 1 || !imap_arg_get_astring(&cmd->args[0], &arg, &len)) {
		imap_cmd_reply(cmd, "BAD Invalid arguments.");
		return;
	}
	if (!imap_mailbox_name_from_client(client, arg, len, name, sizeof(name), &error)) {
		imap_cmd_reply(cmd, error);
		return;
	}
	if (client->box != NULL && strcmp(client->box_name, name) == 0 &&
	    strcmp(name, "INBOX") != 0)
		imap_unselect(client);
	if (!mailbox_delete(client->mp->user.storage, name, &err)) {
		imap_cmd_storage_error(cmd, &err);
		return;
	}
	imap_cmd_ok(cmd, "Delete completed.");
}
