/*
 * SUBSCRIBE and UNSUBSCRIBE (RFC 3501 6.3.6-7). Subscribing to a mailbox
 * that does not exist is refused, as Dovecot does (it catches typos);
 * unsubscribing works for any valid name, so stale subscriptions of
 * deleted mailboxes can be removed.
 */
#include "imap.h"

static void subscribe(struct imap_cmd *cmd, bool set)
{
	struct imap_client *client = cmd->client;
	struct mail_storage *storage = client->mp->user.storage;
	char name[1024];
	const char *arg, *error;
	size_t len;
	struct mailbox_error err;
	bool exists;

	if (cmd->argc != 1 || !imap_arg_get_astring(&cmd->args[0], &arg, &len)) {
		imap_cmd_reply(cmd, "BAD Invalid arguments.");
		return;
	}
	if (!imap_mailbox_name_from_client(client, arg, len, name, sizeof(name), &error)) {
		imap_cmd_reply(cmd, error);
		return;
	}
	if (set) {
		if (!mailbox_exists(storage, name, &exists, &err)) {
			imap_cmd_storage_error(cmd, &err);
			return;
		}
		if (!exists) {
			struct buf text = BUF_INIT(4096);

			(void)imap_write_text(&text, arg, len);
			imap_cmd_replyf(cmd, IMAP_NO_SUCH "%s", buf_cstr(&text));
			buf_free(&text);
			return;
		}
	}
	if (!mailbox_subscribe(storage, name, set, &err)) {
		imap_cmd_storage_error(cmd, &err);
		return;
	}
	imap_cmd_ok(cmd, set ? "Subscribe completed." : "Unsubscribe completed.");
}

void cmd_subscribe(struct imap_cmd *cmd)
{
	subscribe(cmd, true);
}

void cmd_unsubscribe(struct imap_cmd *cmd)
{
	subscribe(cmd, false);
}
