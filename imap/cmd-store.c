/*
 * STORE and UID STORE (RFC 3501 6.4.6, RFC 9051 6.4.6) with CONDSTORE's
 * UNCHANGEDSINCE and [MODIFIED] (RFC 7162 3.1.3): changes system flags and
 * keywords through the store (new keywords go into dovecot-keywords) and
 * answers with the messages' new flags, and their modseqs once CONDSTORE
 * is on. The client's flags are checked by flags-parse.c.
 */
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "imap.h"
#include "log.h"
#include "xalloc.h"

/* Keyword bits for the names; new names are added for FLAGS/+FLAGS. */
static bool store_keywords(struct imap_cmd *cmd, const struct imap_store_args *args,
			   uint32_t *keywords_r)
{
	struct imap_client *client = cmd->client;
	struct mailbox_error err;
	bool created = false;

	*keywords_r = 0;
	for (size_t i = 0; i < args->flags.keyword_count; i++) {
		const char *name = args->flags.keywords[i];
		int idx = mailbox_keyword_lookup(client->box, name);
		unsigned int added;

		if (idx >= 0) {
			*keywords_r |= 1U << idx;
			continue;
		}
		if (args->op == IMAP_STORE_REMOVE)
			continue; /* nothing has it */
		if (!mailbox_keyword_add(client->box, name, &added, &err)) {
			if (err.code == MAILBOX_ERROR_PARAMS)
				imap_cmd_reply(cmd,
					       "BAD Error in IMAP command STORE: Invalid keyword.");
			else
				imap_cmd_storage_error(cmd, &err);
			return false;
		}
		*keywords_r |= 1U << added;
		created = true;
	}
	if (created)
		imap_send_flags(client);
	return true;
}

/* "* n FETCH (UID u MODSEQ (m) FLAGS (...))" for one stored message. */
static void store_reply(struct imap_cmd *cmd, const struct imap_store_args *args, uint32_t seq,
			bool changed, struct buf *out)
{
	struct imap_client *client = cmd->client;
	const struct mail_record *rec = mailbox_record(client->box, seq);
	bool condstore = (client->enabled & IMAP_ENABLED_CONDSTORE) != 0;
	bool uid = cmd->uid || (client->enabled & IMAP_ENABLED_QRESYNC) != 0;
	bool first = true;

	if (rec == NULL || (args->silent && !(condstore && changed)))
		return;
	(void)buf_printf(out, "* %u FETCH (", seq);
	if (uid) {
		(void)buf_printf(out, "UID %u", rec->uid);
		first = false;
	}
	if (condstore) {
		(void)buf_printf(out, "%sMODSEQ (%llu)", first ? "" : " ",
				 (unsigned long long)rec->modseq);
		first = false;
	}
	if (!args->silent) {
		(void)buf_append_str(out, first ? "FLAGS " : " FLAGS ");
		imap_fetch_write_flags(client, rec, out);
	}
	(void)buf_append_str(out, ")\r\n");
}

void cmd_store(struct imap_cmd *cmd)
{
	static const enum mailbox_flag_op ops[] = {
		[IMAP_STORE_REPLACE] = MAILBOX_FLAGS_REPLACE,
		[IMAP_STORE_ADD] = MAILBOX_FLAGS_ADD,
		[IMAP_STORE_REMOVE] = MAILBOX_FLAGS_REMOVE,
	};
	struct imap_client *client = cmd->client;
	struct imap_store_args args;
	struct imap_seqset seqs, modified;
	struct mailbox_update_result *results = NULL;
	struct mailbox_error err;
	struct buf out = BUF_INIT(SIZE_MAX / 2);
	uint32_t *uids = NULL, *was_deleted = NULL, keywords;
	size_t count = 0;
	const char *error;

	imap_seqset_init(&modified);
	if (cmd->argc < 3) {
		imap_cmd_reply(cmd, "BAD Error in IMAP command STORE: Invalid arguments.");
		return;
	}
	if (!imap_store_args_parse(cmd->args + 1, cmd->argc - 1, &args, &error)) {
		imap_cmd_replyf(cmd, "BAD Error in IMAP command STORE: %s.", error);
		return;
	}
	if (!imap_msgset_get(cmd, &cmd->args[0], &seqs, NULL))
		return;
	if (args.unchangedsince_set)
		imap_condstore_enable(client);
	if (client->readonly) {
		imap_seqset_clear(&seqs);
		imap_cmd_ok(cmd, "Store ignored with read-only mailbox.");
		return;
	}
	if (!store_keywords(cmd, &args, &keywords))
		goto out;
	uids = imap_msgset_uids(client, &seqs, &count);
	if (count == 0) {
		imap_cmd_ok(cmd, "Store completed.");
		goto out;
	}
	results = i_calloc(count, sizeof(*results));
	was_deleted = i_calloc(count, sizeof(*was_deleted));
	for (size_t i = 0; i < count; i++) {
		const struct mail_record *rec =
			mailbox_record(client->box, mailbox_seq_by_uid(client->box, uids[i]));

		was_deleted[i] = rec != NULL && (rec->flags & MAIL_DELETED) != 0;
	}
	if (args.unchangedsince_set && args.unchangedsince == 0) {
		/* Every message has a modseq above 0: nothing may change. */
		for (size_t i = 0; i < count; i++) {
			results[i].uid = uids[i];
			results[i].status = MAILBOX_UPDATE_MODIFIED;
		}
	} else if (!mailbox_update_flags(
			   client->box, uids, count, ops[args.op], args.flags.flags, keywords,
			   args.unchangedsince_set ? args.unchangedsince : 0, results, &err)) {
		imap_cmd_storage_error(cmd, &err);
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		uint32_t seq = mailbox_seq_by_uid(client->box, results[i].uid);
		const struct mail_record *rec = mailbox_record(client->box, seq);

		switch (results[i].status) {
		case MAILBOX_UPDATE_CHANGED:
			if (rec != NULL && !was_deleted[i] && (rec->flags & MAIL_DELETED) != 0)
				client->deleted++;
			store_reply(cmd, &args, seq, true, &out);
			break;
		case MAILBOX_UPDATE_UNCHANGED:
			store_reply(cmd, &args, seq, false, &out);
			break;
		case MAILBOX_UPDATE_MODIFIED:
			imap_seqset_add(&modified, cmd->uid ? results[i].uid : seq);
			break;
		case MAILBOX_UPDATE_EXPUNGED:
			break;
		}
	}
	imap_client_send(client, buf_data(&out), buf_len(&out));
	if (modified.count > 0) {
		struct buf text = BUF_INIT(SIZE_MAX / 2);

		(void)buf_append_str(&text, "[MODIFIED ");
		(void)imap_seqset_write(&text, &modified);
		(void)buf_append_str(&text, "] Conditional STORE failed.");
		imap_cmd_ok(cmd, buf_cstr(&text));
		buf_free(&text);
	} else {
		imap_cmd_ok(cmd, "Store completed.");
	}
out:
	buf_free(&out);
	free(results);
	free(uids);
	free(was_deleted);
	imap_seqset_clear(&seqs);
	imap_seqset_clear(&modified);
}
