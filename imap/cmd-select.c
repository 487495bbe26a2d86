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

/* SELECT's QRESYNC parameter (RFC 7162 3.2.5). */
struct qresync_params {
	bool set;
	uint32_t uidvalidity;
	uint64_t modseq;
	bool known_set;
	struct imap_seqset known_uids; /* normalized, without "*" */
};

static void qresync_params_free(struct qresync_params *qr)
{
	imap_seqset_clear(&qr->known_uids);
}

static bool parse_number(const struct imap_arg *arg, uint64_t max, uint64_t *n_r)
{
	const char *s;
	uint64_t n = 0;

	if (arg->type != IMAP_ARG_ATOM || !imap_arg_get_atom(arg, &s) || arg->len == 0 ||
	    (arg->len > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < arg->len; i++) {
		if (s[i] < '0' || s[i] > '9' || n > (max - (uint64_t)(s[i] - '0')) / 10)
			return false;
		n = n * 10 + (uint64_t)(s[i] - '0');
	}
	*n_r = n;
	return true;
}

/* A UID set from the client, "*" meaning the largest UID. */
static bool parse_uid_set(const struct imap_arg *arg, struct imap_seqset *set_r)
{
	struct imap_seqset parsed;
	const char *s, *error;
	bool ok;

	imap_seqset_init(&parsed);
	if (arg->type != IMAP_ARG_ATOM || !imap_arg_get_atom(arg, &s))
		return false;
	ok = imap_seqset_parse(s, arg->len, IMAP_SEQSET_DEFAULT_MAX_RANGES, &parsed, &error) ==
		     IMAP_SEQSET_OK &&
	     !parsed.saved;
	if (ok)
		imap_seqset_resolve_uid(&parsed, UINT32_MAX, set_r);
	imap_seqset_clear(&parsed);
	return ok;
}

/* (uidvalidity modseq [known-uids [(known-seqs known-uids)]]) */
static bool qresync_parse(const struct imap_arg *arg, struct qresync_params *qr)
{
	const struct imap_arg *list, *match;
	size_t count, mcount;
	uint64_t n;
	struct imap_seqset ignored;
	bool ok;

	if (!imap_arg_get_list(arg, &list, &count) || count < 2 || count > 4 ||
	    !parse_number(&list[0], UINT32_MAX, &n) || n == 0 ||
	    !parse_number(&list[1], INT64_MAX, &qr->modseq) || qr->modseq == 0)
		return false;
	qr->uidvalidity = (uint32_t)n;
	imap_seqset_init(&qr->known_uids);
	if (count >= 3) {
		if (!parse_uid_set(&list[2], &qr->known_uids))
			return false;
		qr->known_set = true;
	}
	if (count == 4) {
		/* The sequence match data only helps a server without an
		   expunge log; ours reports from the log, or every missing
		   UID, so it is checked but not needed. */
		if (!imap_arg_get_list(&list[3], &match, &mcount) || mcount != 2)
			return false;
		imap_seqset_init(&ignored);
		ok = parse_uid_set(&match[0], &ignored) && parse_uid_set(&match[1], &ignored);
		imap_seqset_clear(&ignored);
		if (!ok)
			return false;
	}
	qr->set = true;
	return true;
}

/*
 * The resynchronisation SELECT (QRESYNC) owes: VANISHED (EARLIER) for the
 * known UIDs expunged since the client's modseq, then FETCH (UID FLAGS
 * MODSEQ) for every message changed (or added) since then.
 */
static void qresync_report(struct imap_client *client, const struct qresync_params *qr)
{
	struct imap_seqset all;
	struct buf out = BUF_INIT(SIZE_MAX / 2);
	uint32_t count = mailbox_count(client->box);

	imap_seqset_init(&all);
	if (!qr->known_set && mailbox_next_uid(client->box) > 1)
		imap_seqset_add_range(&all, 1, mailbox_next_uid(client->box) - 1);
	if (qr->known_set || all.count > 0)
		imap_send_vanished_earlier(client, qr->known_set ? &qr->known_uids : &all,
					   qr->modseq);
	imap_seqset_clear(&all);
	for (uint32_t seq = 1; seq <= count; seq++) {
		const struct mail_record *rec = mailbox_record(client->box, seq);

		if (rec == NULL || rec->modseq <= qr->modseq)
			continue;
		(void)buf_printf(&out, "* %u FETCH (UID %u FLAGS ", seq, rec->uid);
		imap_fetch_write_flags(client, rec, &out);
		(void)buf_printf(&out, " MODSEQ (%llu))\r\n", (unsigned long long)rec->modseq);
		if (buf_len(&out) > 256 * 1024) {
			imap_client_send(client, buf_data(&out), buf_len(&out));
			buf_reset(&out);
		}
	}
	imap_client_send(client, buf_data(&out), buf_len(&out));
	buf_free(&out);
}

static void select_mailbox(struct imap_cmd *cmd, bool readonly)
{
	struct imap_client *client = cmd->client;
	char name[1024];
	struct mailbox *box = NULL;
	struct mailbox_error err;
	struct mailbox_status status;
	struct buf out = BUF_INIT(64 * 1024);
	bool condstore = false;
	unsigned int flags = readonly ? MAILBOX_OPEN_READONLY : MAILBOX_OPEN_CLAIM_RECENT;
	struct qresync_params qr;

	memset(&qr, 0, sizeof(qr));

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
			else if (imap_arg_atom_equals(&params[i], "QRESYNC") && i + 1 < count &&
				 !qr.set) {
				if ((client->enabled & IMAP_ENABLED_QRESYNC) == 0) {
					imap_cmd_reply(cmd, "BAD QRESYNC not enabled.");
					return;
				}
				if (!qresync_parse(&params[++i], &qr)) {
					qresync_params_free(&qr);
					imap_cmd_reply(cmd, "BAD Invalid QRESYNC parameters.");
					return;
				}
			} else {
				qresync_params_free(&qr);
				imap_cmd_reply(cmd, "BAD Unknown SELECT parameter.");
				return;
			}
		}
	}
	if (!imap_cmd_mailbox_arg(cmd, 2, 0, name, sizeof(name))) {
		qresync_params_free(&qr);
		return;
	}
	/* The previous mailbox is closed even if this SELECT fails (RFC 3501). */
	if (client->box != NULL) {
		imap_unselect(client);
		imap_client_printf(client, "* OK [CLOSED] Previous mailbox closed.\r\n");
	}
	if (!mailbox_open(client->mp->user.storage, name, flags, &box, &err) ||
	    !mailbox_sync(box, 0, NULL, &err)) {
		mailbox_close(&box);
		qresync_params_free(&qr);
		imap_cmd_storage_error(cmd, &err);
		return;
	}
	/* Enabled before the mailbox is the selected one: the HIGHESTMODSEQ
	   goes out with the rest of this SELECT's answer, not twice. */
	if (condstore || qr.set)
		imap_condstore_enable(client);
	client->box = box;
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
	if (qr.set && qr.uidvalidity == status.uidvalidity)
		qresync_report(client, &qr);
	qresync_params_free(&qr);
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
