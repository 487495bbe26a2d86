/*
 * RENAME (RFC 3501 6.3.5, RFC 9051 6.3.6). Children move with their
 * parent; renaming INBOX moves its messages into the new mailbox and
 * leaves INBOX in place, empty. Subscriptions follow the renamed names.
 * Under IMAP4rev2 the new name is announced with an OLDNAME LIST response.
 */
#include <stdlib.h>
#include <string.h>

#include "imap.h"
#include "log.h"

static bool under(const char *name, const char *parent)
{
	size_t len = strlen(parent);

	return strncmp(name, parent, len) == 0 && (name[len] == '\0' || name[len] == '/');
}

/* Moves the subscriptions of old_name and its children to new_name. */
static void rename_subscriptions(struct mail_storage *storage, const char *old_name,
				 const char *new_name)
{
	struct mailbox_error err;
	char **subs = NULL;

	if (!mailbox_subscriptions_get(storage, &subs, &err)) {
		log_warning("RENAME: reading subscriptions failed: %s", err.text);
		return;
	}
	for (size_t i = 0; subs[i] != NULL; i++) {
		char target[1024];

		if (!under(subs[i], old_name) || !str_format(target, sizeof(target), "%s%s",
							     new_name, subs[i] + strlen(old_name)))
			continue;
		if (!mailbox_subscribe(storage, subs[i], false, &err) ||
		    !mailbox_subscribe(storage, target, true, &err))
			log_warning("RENAME: moving the subscription of %s failed: %s", subs[i],
				    err.text);
	}
	mailbox_subscriptions_free(&subs);
}

void cmd_rename(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	struct mail_storage *storage = client->mp->user.storage;
	char old_name[1024], new_name[1024];
	const char *old_arg, *new_arg, *error;
	size_t old_len, new_len;
	struct mailbox_error err;
	bool inbox;

	if (cmd->argc != 2 || !imap_arg_get_astring(&cmd->args[0], &old_arg, &old_len) ||
	    !imap_arg_get_astring(&cmd->args[1], &new_arg, &new_len)) {
		imap_cmd_reply(cmd, "BAD Invalid arguments.");
		return;
	}
	if (new_len > 1 && new_arg[new_len - 1] == '/')
		new_len--;
	if (!imap_mailbox_name_from_client(client, old_arg, old_len, old_name, sizeof(old_name),
					   &error) ||
	    !imap_mailbox_name_from_client(client, new_arg, new_len, new_name, sizeof(new_name),
					   &error)) {
		imap_cmd_reply(cmd, error);
		return;
	}
	inbox = strcmp(old_name, "INBOX") == 0;
	/* The selected mailbox's directories are about to move. */
	if (!inbox && client->box != NULL && under(client->box_name, old_name))
		imap_unselect(client);
	if (!mailbox_rename(storage, old_name, new_name, &err)) {
		imap_cmd_storage_error(cmd, &err);
		return;
	}
	if (!inbox)
		rename_subscriptions(storage, old_name, new_name);
	if (!inbox && (client->enabled & IMAP_ENABLED_IMAP4REV2) != 0) {
		struct buf out = BUF_INIT(8192);

		(void)buf_append_str(&out, "* LIST () \"/\" ");
		imap_mailbox_name_write(client, new_name, &out);
		(void)buf_append_str(&out, " (\"OLDNAME\" (");
		imap_mailbox_name_write(client, old_name, &out);
		(void)buf_append_str(&out, "))\r\n");
		imap_client_send(client, buf_data(&out), buf_len(&out));
		buf_free(&out);
	}
	imap_cmd_ok(cmd, "Rename completed.");
}
