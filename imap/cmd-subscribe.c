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
	struct mailbox_error err;

	if (!imap_cmd_mailbox_arg(cmd, 1, set ? IMAP_MAILBOX_ARG_EXISTING : 0, name, sizeof(name)))
		return;
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
