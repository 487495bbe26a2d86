/*
 * Helpers shared by roost-imap's message commands (FETCH, STORE, COPY,
 * MOVE, EXPUNGE, SELECT QRESYNC): turning a client's sequence set into
 * message numbers of the selected mailbox, CONDSTORE enabling, and
 * VANISHED (EARLIER) from the store's expunge log. Sets come from the
 * client and are bounded by lib/imap-seqset's range limit.
 */
#include <stdlib.h>
#include <string.h>

#include "imap.h"
#include "log.h"
#include "xalloc.h"

bool imap_msgset_get(struct imap_cmd *cmd, const struct imap_arg *arg, struct imap_seqset *seqs_r,
		     struct imap_seqset *uids_r)
{
	struct imap_client *client = cmd->client;
	struct imap_seqset set;
	const char *text, *error;

	imap_seqset_init(seqs_r);
	if (uids_r != NULL)
		imap_seqset_init(uids_r);
	if (arg->type != IMAP_ARG_ATOM || !imap_arg_get_atom(arg, &text)) {
		imap_cmd_replyf(cmd, "BAD Error in IMAP command %s: Invalid messageset", cmd->name);
		return false;
	}
	imap_seqset_init(&set);
	if (imap_seqset_resolve_client(client, text, arg->len, cmd->uid, &set, &error) !=
	    IMAP_SEQSET_OK) {
		imap_cmd_replyf(cmd, "BAD Error in IMAP command %s: %s", cmd->name, error);
		imap_seqset_clear(&set);
		return false;
	}
	if (!cmd->uid) {
		imap_seqset_copy(seqs_r, &set);
	} else {
		imap_uids_to_seqs(client->box, &set, seqs_r);
		if (uids_r != NULL)
			imap_seqset_copy(uids_r, &set);
	}
	imap_seqset_clear(&set);
	return true;
}

uint32_t *imap_msgset_uids(struct imap_client *client, const struct imap_seqset *seqs,
			   size_t *count_r)
{
	uint64_t n = imap_seqset_count(seqs);
	uint32_t *uids = i_malloc((size_t)(n + 1) * sizeof(*uids));
	size_t count = 0;

	for (size_t i = 0; i < seqs->count; i++) {
		for (uint32_t seq = seqs->ranges[i].lo;; seq++) {
			const struct mail_record *rec = mailbox_record(client->box, seq);

			if (rec != NULL)
				uids[count++] = rec->uid;
			if (seq == seqs->ranges[i].hi)
				break;
		}
	}
	*count_r = count;
	return uids;
}

void imap_condstore_enable(struct imap_client *client)
{
	if ((client->enabled & IMAP_ENABLED_CONDSTORE) != 0)
		return;
	client->enabled |= IMAP_ENABLED_CONDSTORE;
	if (client->box != NULL)
		imap_client_printf(client, "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
				   (unsigned long long)mailbox_highest_modseq(client->box));
}

/* Adds the UIDs in lo..hi that no message of the view has. */
static void add_missing_uids(struct mailbox *box, uint32_t lo, uint32_t hi, struct imap_seqset *out)
{
	uint32_t seq = mailbox_seq_from_uid(box, lo), count = mailbox_count(box);
	uint64_t next = lo;

	for (; seq <= count; seq++) {
		uint32_t uid = mailbox_record(box, seq)->uid;

		if (uid > hi)
			break;
		if (uid > next)
			imap_seqset_add_range(out, (uint32_t)next, uid - 1);
		next = (uint64_t)uid + 1;
	}
	if (next <= hi)
		imap_seqset_add_range(out, (uint32_t)next, hi);
}

void imap_send_vanished_earlier(struct imap_client *client, const struct imap_seqset *uids,
				uint64_t modseq)
{
	struct mailbox *box = client->box;
	struct mailbox_error err;
	struct imap_seqset vanished;
	uint32_t *expunged = NULL;
	size_t count = 0;
	bool complete = false;
	uint32_t next_uid = mailbox_next_uid(box);

	imap_seqset_init(&vanished);
	if (!mailbox_expunged_since(box, modseq, &expunged, &count, &complete, &err)) {
		log_warning("Reading the expunge log of %s failed: %s", client->box_name, err.text);
		complete = false;
	}
	if (complete) {
		for (size_t i = 0; i < count; i++) {
			if (imap_seqset_contains(uids, expunged[i]))
				imap_seqset_add(&vanished, expunged[i]);
		}
	} else {
		/* The log no longer reaches back: every UID the client may
		   know of and the mailbox lacks could have been expunged. */
		for (size_t i = 0; i < uids->count && next_uid > 1; i++) {
			uint32_t lo = uids->ranges[i].lo, hi = uids->ranges[i].hi;

			if (lo >= next_uid)
				break;
			if (hi >= next_uid)
				hi = next_uid - 1;
			add_missing_uids(box, lo, hi, &vanished);
		}
	}
	free(expunged);
	if (vanished.count > 0) {
		struct buf out = BUF_INIT(SIZE_MAX / 2);

		(void)buf_append_str(&out, "* VANISHED (EARLIER) ");
		(void)imap_seqset_write(&out, &vanished);
		(void)buf_append_str(&out, "\r\n");
		imap_client_send(client, buf_data(&out), buf_len(&out));
		buf_free(&out);
	}
	imap_seqset_clear(&vanished);
}
