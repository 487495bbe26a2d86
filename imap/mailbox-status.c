/*
 * STATUS items (RFC 3501 6.3.10, RFC 9051 6.3.11, RFC 7162 HIGHESTMODSEQ,
 * RFC 8438 SIZE) for STATUS and LIST-STATUS (RFC 5819). Runs in roost-imap:
 * other mailboxes are peeked at read-only, so a STATUS never takes \Recent
 * away from anyone nor disturbs the selected mailbox's view.
 */
#include <string.h>

#include "imap.h"

static const struct {
	const char *name;
	unsigned int item;
} status_items[] = {
	/* Responses list the items in this order, as the RFC 3501 example
	   does, whatever order the client asked in. */
	{"MESSAGES", IMAP_STATUS_MESSAGES}, {"RECENT", IMAP_STATUS_RECENT},
	{"UIDNEXT", IMAP_STATUS_UIDNEXT},   {"UIDVALIDITY", IMAP_STATUS_UIDVALIDITY},
	{"UNSEEN", IMAP_STATUS_UNSEEN},	    {"HIGHESTMODSEQ", IMAP_STATUS_HIGHESTMODSEQ},
	{"SIZE", IMAP_STATUS_SIZE},	    {"DELETED", IMAP_STATUS_DELETED},
};

bool imap_status_parse(struct imap_client *client, const struct imap_arg *args, size_t count,
		       unsigned int *items_r)
{
	*items_r = 0;
	if (count == 0)
		return false;
	for (size_t i = 0; i < count; i++) {
		size_t j;

		for (j = 0; j < N_ELEMENTS(status_items); j++) {
			if (imap_arg_atom_equals(&args[i], status_items[j].name))
				break;
		}
		if (j == N_ELEMENTS(status_items))
			return false;
		*items_r |= status_items[j].item;
	}
	if ((*items_r & IMAP_STATUS_HIGHESTMODSEQ) != 0)
		imap_condstore_enable(client);
	return true;
}

bool imap_status_write(struct imap_client *client, const char *name, unsigned int items,
		       struct buf *out, struct mailbox_error *err)
{
	struct mailbox_status st;
	bool first = true;

	if (client->box != NULL && strcmp(client->box_name, name) == 0) {
		/* The selected mailbox as this session knows it: counts that
		   do not run ahead of the EXISTS the client has seen. */
		mailbox_get_status(client->box, &st);
	} else if (!mailbox_status_peek(client->mp->user.storage, name, &st, err)) {
		return false;
	}
	(void)buf_append_str(out, "* STATUS ");
	imap_mailbox_name_write(client, name, out);
	(void)buf_append_str(out, " (");
	for (size_t i = 0; i < N_ELEMENTS(status_items); i++) {
		unsigned long long value;

		if ((items & status_items[i].item) == 0)
			continue;
		switch (status_items[i].item) {
		case IMAP_STATUS_MESSAGES:
			value = st.messages;
			break;
		case IMAP_STATUS_RECENT:
			value = st.recent;
			break;
		case IMAP_STATUS_UIDNEXT:
			value = st.uidnext;
			break;
		case IMAP_STATUS_UIDVALIDITY:
			value = st.uidvalidity;
			break;
		case IMAP_STATUS_UNSEEN:
			value = st.unseen;
			break;
		case IMAP_STATUS_HIGHESTMODSEQ:
			value = st.highest_modseq;
			break;
		case IMAP_STATUS_SIZE:
			value = st.vsize;
			break;
		default:
			value = st.deleted;
			break;
		}
		(void)buf_printf(out, "%s%s %llu", first ? "" : " ", status_items[i].name, value);
		first = false;
	}
	(void)buf_append_str(out, ")\r\n");
	return true;
}
