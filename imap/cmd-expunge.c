/*
 * EXPUNGE (RFC 3501 6.4.3) and UID EXPUNGE (RFC 4315 2.1): removes the
 * messages marked \Deleted (only those in the UID set for UID EXPUNGE);
 * the EXPUNGE or VANISHED responses come from the sync before the tagged
 * OK, which carries HIGHESTMODSEQ under QRESYNC (RFC 7162 3.2.10).
 */
#include <stdlib.h>

#include "imap.h"
#include "xalloc.h"

void cmd_expunge(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	struct imap_seqset seqs;
	struct mailbox_error err;
	uint32_t count = mailbox_count(client->box), n = 0, *uids;
	bool ok = true;

	imap_seqset_init(&seqs);
	if (cmd->uid ? cmd->argc != 1 : cmd->argc != 0) {
		imap_cmd_replyf(cmd, "BAD Error in IMAP command %sEXPUNGE: Invalid arguments.",
				cmd->uid ? "UID " : "");
		return;
	}
	if (cmd->uid && !imap_msgset_get(cmd, &cmd->args[0], &seqs, NULL))
		return;
	if (client->readonly) {
		/* Nothing can be expunged; as Dovecot, not an error. */
		imap_seqset_clear(&seqs);
		imap_cmd_ok(cmd, "Expunge completed.");
		return;
	}
	uids = i_calloc((size_t)count + 1, sizeof(*uids));
	for (uint32_t seq = 1; seq <= count; seq++) {
		const struct mail_record *rec = mailbox_record(client->box, seq);

		if (rec == NULL || (rec->flags & MAIL_DELETED) == 0 ||
		    (cmd->uid && !imap_seqset_contains(&seqs, seq)))
			continue;
		uids[n++] = rec->uid;
	}
	if (n > 0) {
		ok = mailbox_expunge(client->box, uids, n, &err);
		if (ok)
			client->expunged += n;
	}
	free(uids);
	imap_seqset_clear(&seqs);
	if (!ok) {
		imap_cmd_storage_error(cmd, &err);
		return;
	}
	imap_sync(client, true);
	if ((client->enabled & IMAP_ENABLED_QRESYNC) != 0 && client->box != NULL) {
		char text[128];

		(void)str_format(text, sizeof(text), "[HIGHESTMODSEQ %llu] Expunge completed.",
				 (unsigned long long)mailbox_highest_modseq(client->box));
		imap_cmd_ok(cmd, text);
		return;
	}
	imap_cmd_ok(cmd, "Expunge completed.");
}
