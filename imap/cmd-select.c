/*
 * SELECT and EXAMINE (RFC 3501 6.3.1-2, RFC 9051 6.3.2-3, RFC 7162
 * CONDSTORE parameter), CLOSE and UNSELECT (RFC 3691).
 */
#include <stdlib.h>
#include <string.h>

#include "imap.h"
#include "log.h"
#include "storage/mailbox-flags.h"
#include "xalloc.h"

static void select_mailbox(struct imap_cmd *cmd, bool readonly)
{
	struct imap_client *client = cmd->client;
	char name[1024];
	const char *arg, *error;
	size_t len;
	struct mailbox_error err;
	struct mailbox_status status;
	struct buf out = BUF_INIT(64 * 1024);
	bool condstore = false;
	unsigned int flags = readonly ? MAILBOX_OPEN_READONLY : MAILBOX_OPEN_CLAIM_RECENT;

	if (cmd->argc < 1 || cmd->argc > 2 || !imap_arg_get_astring(&cmd->args[0], &arg, &len)) {
		imap_cmd_reply(cmd, "BAD Invalid arguments.");
		return;
	}
	if (cmd->argc == 2) {
		const struct imap_arg *params;
		size_t count;

		if (!imap_arg_get_list(&cmd->args[1], &params, &count)) {
			imap_cmd_reply(cmd, "BAD Invalid SELECT parameters.");
			return;
		}
		for (size_t i = 0; i < count; i++) {
			if (imap_arg_atom_equals(&params[i], "CONDSTORE"))
				condstore = true;
			else {
				imap_cmd_reply(cmd, "BAD Unknown SELECT parameter.");
				return;
			}
		}
	}
	if (!imap_mailbox_name_from_client(client, arg, len, name, sizeof(name), &error)) {
		imap_cmd_reply(cmd, error);
		return;
	}
	/* The previous mailbox is closed even if this SELECT fails (RFC 3501). */
	if (client->box != NULL) {
		imap_unselect(client);
		imap_client_printf(client, "* OK [CLOSED] Previous mailbox closed.\r\n");
	}
	if (!mailbox_open(client->mp->user.storage, name, flags, &client->box, &err) ||
	    !mailbox_sync(client->box, 0, NULL, &err)) {
		mailbox_close(&client->box);
		imap_cmd_storage_error(cmd, &err);
		return;
	}
	if (condstore)
		client->enabled |= IMAP_ENABLED_CONDSTORE;
	client->readonly = readonly;
	client->state = IMAP_STATE_SELECTED;
	(void)str_copy(client->box_name, sizeof(client->box_name), name);
	mailbox_get_status(client->box, &status);
	client->known_count = status.messages;

	imap_send_flags(client);
	(void)buf_printf(&out, "* %u EXISTS\r\n", status.messages);
	if ((client->enabled & IMAP_ENABLED_IMAP4REV2) == 0) {
		(void)buf_printf(&out, "* %u RECENT\r\n", status.recent);
		if (status.first_unseen_seq != 0)
			(void)buf_printf(&out, "* OK [UNSEEN %u] First unseen.\r\n",
					 status.first_unseen_seq);
	}
	(void)buf_printf(&out, "* OK [UIDVALIDITY %u] UIDs valid\r\n", status.uidvalidity);
	(void)buf_printf(&out, "* OK [UIDNEXT %u] Predicted next UID\r\n", status.uidnext);
	if ((client->enabled & IMAP_ENABLED_CONDSTORE) != 0)
		(void)buf_printf(&out, "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
				 (unsigned long long)status.highest_modseq);
	if ((client->enabled & IMAP_ENABLED_IMAP4REV2) != 0) {
		(void)buf_append_str(&out, "* LIST () \"/\" ");
		imap_mailbox_name_write(client, name, &out);
		(void)buf_append_str(&out, "\r\n");
	}
	imap_client_send(client, buf_data(&out), buf_len(&out));
	buf_free(&out);
	imap_cmd_replyf(cmd, "OK [%s] %s completed.", readonly ? "READ-ONLY" : "READ-WRITE",
			readonly ? "Examine" : "Select");
}

void cmd_select(struct imap_cmd *cmd)
{
	select_mailbox(cmd, false);
}

void cmd_examine(struct imap_cmd *cmd)
{
	select_mailbox(cmd, true);
}

/* CLOSE: silently expunge \Deleted messages (unless read-only), then close. */
void cmd_close(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	struct mailbox_error err;

	if (!client->readonly) {
		uint32_t count = mailbox_count(client->box), n = 0;
		uint32_t *uids = i_calloc(count + 1, sizeof(*uids));

		for (uint32_t seq = 1; seq <= count; seq++) {
			const struct mail_record *rec = mailbox_record(client->box, seq);

			if (rec != NULL && (rec->flags & MAIL_DELETED) != 0)
				uids[n++] = rec->uid;
		}
		if (n > 0 && !mailbox_expunge(client->box, uids, n, &err))
			log_warning("CLOSE: expunging %s failed: %s", client->box_name, err.text);
		else
			client->expunged += n;
		free(uids);
	}
	imap_unselect(client);
	imap_cmd_reply(cmd, "OK Close completed.");
}

void cmd_unselect(struct imap_cmd *cmd)
{
	imap_unselect(cmd->client);
	imap_cmd_reply(cmd, "OK Unselect completed.");
}
