/*
 * Telling the client what changed in the selected mailbox (RFC 3501 7.3,
 * 7.4; RFC 7162 VANISHED and MODSEQ): other sessions' flag changes and
 * expunges and new deliveries, reported as untagged responses at the points
 * the protocol allows them.
 */
#include <stdlib.h>
#include <string.h>

#include "imap.h"
#include "log.h"
#include "storage/mailbox-flags.h"

static const struct {
	uint32_t flag;
	const char *name;
} system_flags[] = {
	{MAIL_ANSWERED, "\\Answered"}, {MAIL_FLAGGED, "\\Flagged"}, {MAIL_DELETED, "\\Deleted"},
	{MAIL_SEEN, "\\Seen"},	       {MAIL_DRAFT, "\\Draft"},
};

void imap_write_flags(struct imap_client *client, uint32_t flags, uint32_t keywords,
		      struct buf *out)
{
	bool first = true;

	(void)buf_append_c(out, '(');
	for (size_t i = 0; i < sizeof(system_flags) / sizeof(system_flags[0]); i++) {
		if ((flags & system_flags[i].flag) == 0)
			continue;
		(void)buf_printf(out, "%s%s", first ? "" : " ", system_flags[i].name);
		first = false;
	}
	for (unsigned int i = 0; i < 32; i++) {
		const char *name;

		if ((keywords & (1U << i)) == 0 || client->box == NULL ||
		    (name = mailbox_keyword_name(client->box, i)) == NULL)
			continue;
		(void)buf_printf(out, "%s%s", first ? "" : " ", name);
		first = false;
	}
	if ((flags & MAIL_RECENT) != 0 && (client->enabled & IMAP_ENABLED_IMAP4REV2) == 0)
		(void)buf_printf(out, "%s\\Recent", first ? "" : " ");
	(void)buf_append_c(out, ')');
}

void imap_send_flags(struct imap_client *client)
{
	struct buf out = BUF_INIT(8192), kw = BUF_INIT(4096);

	for (unsigned int i = 0; i < 32; i++) {
		const char *name = mailbox_keyword_name(client->box, i);

		if (name != NULL)
			(void)buf_printf(&kw, " %s", name);
	}
	(void)buf_printf(&out, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft%s)\r\n",
			 buf_cstr(&kw));
	if (client->readonly)
		(void)buf_append_str(&out, "* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n");
	else
		(void)buf_printf(&out,
				 "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen "
				 "\\Draft%s \\*)] Flags permitted.\r\n",
				 buf_cstr(&kw));
	imap_client_send(client, buf_data(&out), buf_len(&out));
	buf_free(&out);
	buf_free(&kw);
}

/* "* N FETCH (FLAGS (...) UID n [MODSEQ (m)])" for a changed message. */
static void send_fetch_flags(struct imap_client *client, uint32_t seq, struct buf *out)
{
	const struct mail_record *rec = mailbox_record(client->box, seq);

	if (rec == NULL)
		return;
	(void)buf_printf(out, "* %u FETCH (FLAGS ", seq);
	imap_write_flags(client, rec->flags, rec->keywords, out);
	(void)buf_printf(out, " UID %u", rec->uid);
	if ((client->enabled & IMAP_ENABLED_CONDSTORE) != 0)
		(void)buf_printf(out, " MODSEQ (%llu)", (unsigned long long)rec->modseq);
	(void)buf_append_str(out, ")\r\n");
}

/* VANISHED (RFC 7162 3.2.10): the expunged UIDs as a compact set. */
static void send_vanished(const struct mailbox_changes *ch, struct buf *out)
{
	uint32_t *uids = malloc(ch->expunged_count * sizeof(*uids));

	if (uids == NULL)
		return;
	memcpy(uids, ch->expunged_uids, ch->expunged_count * sizeof(*uids));
	/* expunged_uids is ascending (storage contract). */
	(void)buf_append_str(out, "* VANISHED ");
	for (size_t i = 0; i < ch->expunged_count;) {
		size_t j = i;

		while (j + 1 < ch->expunged_count && uids[j + 1] == uids[j] + 1)
			j++;
		(void)buf_printf(out, "%s%u", i == 0 ? "" : ",", uids[i]);
		if (j > i)
			(void)buf_printf(out, ":%u", uids[j]);
		i = j + 1;
	}
	(void)buf_append_str(out, "\r\n");
	free(uids);
}

void imap_sync(struct imap_client *client, bool allow_expunge)
{
	struct mailbox_changes ch;
	struct mailbox_error err;
	struct buf out = BUF_INIT(64 * 1024 * 1024);
	uint32_t count;

	if (client->box == NULL || !allow_expunge)
		return;
	memset(&ch, 0, sizeof(ch));
	if (!mailbox_sync(client->box, 0, &ch, &err)) {
		log_warning("Syncing %s failed: %s", client->box_name, err.text);
		buf_free(&out);
		return;
	}
	if (ch.uidvalidity_changed) {
		imap_client_printf(client, "* BYE Mailbox UIDVALIDITY changed\r\n");
		mailbox_changes_free(&ch);
		buf_free(&out);
		imap_client_logout(client);
		return;
	}
	if (ch.expunged_count > 0) {
		if ((client->enabled & IMAP_ENABLED_QRESYNC) != 0)
			send_vanished(&ch, &out);
		else {
			/* Descending, so that each number is still right when sent. */
			for (size_t i = ch.expunged_count; i > 0; i--)
				(void)buf_printf(&out, "* %u EXPUNGE\r\n", ch.expunged_seqs[i - 1]);
		}
		client->known_count -= (uint32_t)ch.expunged_count > client->known_count
					       ? client->known_count
					       : (uint32_t)ch.expunged_count;
	}
	imap_client_send(client, buf_data(&out), buf_len(&out));
	buf_reset(&out);
	if (ch.keywords_changed)
		imap_send_flags(client);
	count = mailbox_count(client->box);
	if (count != client->known_count) {
		(void)buf_printf(&out, "* %u EXISTS\r\n", count);
		if ((client->enabled & IMAP_ENABLED_IMAP4REV2) == 0)
			(void)buf_printf(&out, "* %u RECENT\r\n", ch.recent_count);
		client->known_count = count;
	}
	for (size_t i = 0; i < ch.changed_count; i++)
		send_fetch_flags(client, ch.changed_seqs[i], &out);
	imap_client_send(client, buf_data(&out), buf_len(&out));
	buf_free(&out);
	mailbox_changes_free(&ch);
}

void imap_unselect(struct imap_client *client)
{
	mailbox_close(&client->box);
	client->box_name[0] = '\0';
	client->known_count = 0;
	client->saved_valid = false;
	if (client->state == IMAP_STATE_SELECTED)
		client->state = IMAP_STATE_AUTHENTICATED;
}
