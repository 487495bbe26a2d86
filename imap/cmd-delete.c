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
	struct mailbox_error err;

	if (!imap_cmd_mailbox_arg(cmd, 1, 0, name, sizeof(name)))
		return;
	if (client->box != NULL && strcmp(client->box_name, name) == 0 &&
	    strcmp(name, "INBOX") != 0)
		imap_unselect(client);
	if (!mailbox_delete(client->mp->user.storage, name, &err)) {
		imap_cmd_storage_error(cmd, &err);
		return;
	}
	imap_cmd_ok(cmd, "Delete completed.");
}
