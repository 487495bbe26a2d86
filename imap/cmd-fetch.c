/*
 * FETCH and UID FETCH (RFC 3501 6.4.5, RFC 9051 6.4.5), with RFC 7162's
 * MODSEQ item and CHANGEDSINCE/VANISHED modifiers: checks the arguments,
 * sets \Seen on the messages whose bodies are about to be read (one batch
 * of renames, before any response), and hands the rest to fetch.c.
 */
#include <stdlib.h>

#include "fetch.h"
#include "imap.h"
#include "log.h"

/* Sets \Seen on the unseen messages of seqs; *seen_r lists them. */
static void fetch_set_seen(struct imap_cmd *cmd, const struct imap_seqset *seqs,
			   const struct fetch_request *req, struct imap_seqset *seen_r)
{
	struct imap_client *client = cmd->client;
	struct mailbox_update_result *results;
	struct mailbox_error err;
	uint32_t *uids;
	size_t count, n = 0;

	uids = imap_msgset_uids(client, seqs, &count);
	for (size_t i = 0; i < count; i++) {
		uint32_t seq = mailbox_seq_by_uid(client->box, uids[i]);
		const struct mail_record *rec = mailbox_record(client->box, seq);

		if (rec == NULL || (rec->flags & MAIL_SEEN) != 0 ||
		    (req->changedsince_set && rec->modseq <= req->changedsince))
			continue;
		uids[n++] = uids[i];
	}
	if (n == 0) {
		free(uids);
		return;
	}
	results = calloc(n, sizeof(*results));
	if (results == NULL || !mailbox_update_flags(client->box, uids, n, MAILBOX_FLAGS_ADD,
						     MAIL_SEEN, 0, 0, results, &err)) {
		if (results != NULL)
			log_warning("FETCH: setting \\Seen in %s failed: %s", client->box_name,
				    err.text);
		free(results);
		free(uids);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (results[i].status == MAILBOX_UPDATE_CHANGED) {
			uint32_t seq = mailbox_seq_by_uid(client->box, results[i].uid);

			if (seq != 0)
				imap_seqset_add(seen_r, seq);
		}
	}
	free(results);
	free(uids);
}

void cmd_fetch(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	struct imap_seqset seqs, uids, seen;
	struct fetch_request req;
	const char *error;

	if (cmd->argc < 2) {
		imap_cmd_reply(cmd, "BAD Error in IMAP command FETCH: Invalid arguments.");
		return;
	}
	if (!imap_msgset_get(cmd, &cmd->args[0], &seqs, &uids))
		return;
	if (!fetch_request_parse(&req, cmd->args + 1, cmd->argc - 1, &error)) {
		imap_cmd_replyf(cmd, "BAD Error in IMAP command %sFETCH: %s",
				cmd->uid ? "UID " : "", error);
		goto out;
	}
	if (req.vanished && (!cmd->uid || (client->enabled & IMAP_ENABLED_QRESYNC) == 0)) {
		imap_cmd_reply(cmd, cmd->uid
					    ? "BAD Error in IMAP command UID FETCH: VANISHED "
					      "needs ENABLE QRESYNC"
					    : "BAD Error in IMAP command FETCH: VANISHED needs UID "
					      "FETCH");
		fetch_request_free(&req);
		goto out;
	}
	if ((req.items & FETCH_ITEM_MODSEQ) != 0 || req.changedsince_set)
		imap_condstore_enable(client);
	if (req.vanished)
		imap_send_vanished_earlier(client, &uids, req.changedsince);
	imap_seqset_init(&seen);
	if (req.sets_seen && !client->readonly)
		fetch_set_seen(cmd, &seqs, &req, &seen);
	imap_fetch_start(cmd, &req, &seqs, &seen);
out:
	imap_seqset_clear(&seqs);
	imap_seqset_clear(&uids);
}
