/*
 * STATUS (RFC 3501 6.3.10, RFC 9051 6.3.11) with HIGHESTMODSEQ (RFC 7162),
 * SIZE (RFC 8438) and DELETED. Other mailboxes are peeked at read-only;
 * the selected one answers from this session's view.
 */
#include "imap.h"

void cmd_status(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	char name[1024];
	const struct imap_arg *items;
	size_t count;
	unsigned int mask;
	struct mailbox_error err;
	struct buf out = BUF_INIT(8192);

	if (cmd->argc != 2 || !imap_arg_get_list(&cmd->args[1], &items, &count)) {
		imap_cmd_reply(cmd, "BAD Invalid arguments.");
		return;
	}
	if (!imap_cmd_mailbox_arg(cmd, 2, 0, name, sizeof(name)))
		return;
	if (!imap_status_parse(client, items, count, &mask)) {
		imap_cmd_reply(cmd, "BAD Invalid status items.");
		return;
	}
	if (!imap_status_write(client, name, mask, &out, &err)) {
		buf_free(&out);
		imap_cmd_storage_error(cmd, &err);
		return;
	}
	imap_client_send(client, buf_data(&out), buf_len(&out));
	buf_free(&out);
	imap_cmd_ok(cmd, "Status completed.");
}
