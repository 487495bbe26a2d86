/*
 * COPY and MOVE for roost-imap (RFC 3501 6.4.7, RFC 6851, RFC 4315
 * COPYUID) and what APPEND shares with them: opening a destination
 * mailbox for saving ([TRYCREATE] when it is missing), its UIDVALIDITY for
 * COPYUID/APPENDUID, and whether it is the user's Trash (the "trashed"
 * counter of the logout line). Mailbox names come from the client and are
 * validated by mailbox-name.c and the store.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "imap.h"
#include "log.h"
#include "xalloc.h"

/*
 * The last mailbox saved into stays open for the next APPEND or COPY (a
 * client appending many messages would otherwise open three directories
 * per message). It is reused only while its cur/ is still the same
 * directory, so a mailbox deleted or recreated meanwhile is opened afresh.
 */
static struct {
	struct mailbox *box;
	char name[1024];
	dev_t dev;
	ino_t ino;
} dest_keep;

static bool dest_cur_stat(struct mailbox *box, struct stat *st_r)
{
	char path[4096];

	return str_format(path, sizeof(path), "%s/cur", mailbox_get_path(box)) &&
	       stat(path, st_r) == 0;
}

static struct mailbox *dest_take_kept(const char *name)
{
	struct stat st;
	struct mailbox *box = dest_keep.box;

	if (box == NULL)
		return NULL;
	dest_keep.box = NULL;
	if (strcmp(dest_keep.name, name) == 0 && dest_cur_stat(box, &st) &&
	    st.st_dev == dest_keep.dev && st.st_ino == dest_keep.ino)
		return box;
	mailbox_close(&box);
	return NULL;
}

void imap_dest_release(struct mailbox **dest, const char *name)
{
	struct stat st;

	if (*dest == NULL)
		return;
	mailbox_close(&dest_keep.box);
	if (!dest_cur_stat(*dest, &st) || !str_copy(dest_keep.name, sizeof(dest_keep.name), name)) {
		mailbox_close(dest);
		return;
	}
	dest_keep.box = *dest;
	dest_keep.dev = st.st_dev;
	dest_keep.ino = st.st_ino;
	*dest = NULL;
}

bool imap_dest_open(struct imap_cmd *cmd, const struct imap_arg *arg, struct mailbox **dest_r,
		    char *name, size_t size)
{
	struct imap_client *client = cmd->client;
	struct mailbox_error err;
	const char *text, *error;
	size_t len;

	*dest_r = NULL;
	if (!imap_arg_get_astring(arg, &text, &len)) {
		imap_cmd_replyf(cmd, "BAD Error in IMAP command %s: Invalid mailbox name.",
				cmd->name);
		return false;
	}
	if (!imap_mailbox_name_from_client(client, text, len, name, size, &error)) {
		imap_cmd_reply(cmd, error);
		return false;
	}
	*dest_r = dest_take_kept(name);
	if (*dest_r != NULL)
		return true;
	if (!mailbox_open(client->mp->user.storage, name, MAILBOX_OPEN_SAVE_ONLY, dest_r, &err)) {
		if (err.code == MAILBOX_ERROR_NOT_FOUND) {
			struct buf out = BUF_INIT(4096);

			(void)buf_append_str(&out, "NO [TRYCREATE] Mailbox doesn't exist: ");
			(void)imap_write_text(&out, text, len);
			imap_cmd_reply(cmd, buf_cstr(&out));
			buf_free(&out);
		} else {
			imap_cmd_storage_error(cmd, &err);
		}
		return false;
	}
	return true;
}

/* UIDVALIDITY of mailboxes saved into, learned once per session: a box
   opened only for saving does not load it. */
#define DEST_CACHE_SIZE 16
static struct {
	char name[1024];
	uint32_t uidvalidity;
} dest_cache[DEST_CACHE_SIZE];
static unsigned int dest_cache_next;

uint32_t imap_dest_uidvalidity(struct imap_client *client, const char *name)
{
	struct mailbox_status status;
	struct mailbox_error err;
	unsigned int slot;

	if (client->box != NULL && strcmp(client->box_name, name) == 0)
		return mailbox_uidvalidity(client->box);
	for (unsigned int i = 0; i < DEST_CACHE_SIZE; i++) {
		if (dest_cache[i].uidvalidity != 0 && strcmp(dest_cache[i].name, name) == 0)
			return dest_cache[i].uidvalidity;
	}
	if (!mailbox_status_peek(client->mp->user.storage, name, &status, &err)) {
		log_warning("Reading the UIDVALIDITY of %s failed: %s", name, err.text);
		return 0;
	}
	slot = dest_cache_next++ % DEST_CACHE_SIZE;
	if (!str_copy(dest_cache[slot].name, sizeof(dest_cache[slot].name), name))
		return status.uidvalidity;
	dest_cache[slot].uidvalidity = status.uidvalidity;
	return status.uidvalidity;
}

bool imap_mailbox_is_trash(struct imap_client *client, const char *name)
{
	const struct roost_settings *set = client->set;

	for (unsigned int i = 0; i < set->namespace_count; i++) {
		const struct namespace_settings *ns = &set->namespaces[i];

		for (unsigned int j = 0; j < ns->mailbox_count; j++) {
			const struct mailbox_settings *mb = &ns->mailboxes[j];

			if (mb->name != NULL && strcmp(mb->name, name) == 0 &&
			    mb->special_use != NULL &&
			    strcasestr(mb->special_use, "\\Trash") != NULL)
				return true;
		}
	}
	return false;
}

/* The UIDs in order, runs of consecutive ones as lo:hi; false if none. */
static bool write_uid_list(struct buf *out, const uint32_t *uids, const uint32_t *keep,
			   size_t count)
{
	bool any = false;

	for (size_t i = 0; i < count;) {
		size_t j = i;

		if (keep[i] == 0) {
			i++;
			continue;
		}
		while (j + 1 < count && keep[j + 1] != 0 && uids[j + 1] == uids[j] + 1)
			j++;
		(void)buf_printf(out, "%s%u", any ? "," : "", uids[i]);
		if (j > i)
			(void)buf_printf(out, ":%u", uids[j]);
		any = true;
		i = j + 1;
	}
	return any;
}

/* "src-uids dst-uids" of the messages that were copied, in the same order
   (RFC 4315 3): each list on its own may use ranges. */
static bool write_copyuid(struct buf *out, const uint32_t *src, const uint32_t *dst, size_t count)
{
	return write_uid_list(out, src, dst, count) && buf_append_c(out, ' ') &&
	       write_uid_list(out, dst, dst, count);
}

void imap_copy_run(struct imap_cmd *cmd, bool move)
{
	struct imap_client *client = cmd->client;
	struct imap_seqset seqs;
	struct mailbox *dest = NULL;
	struct mailbox_error err;
	char name[1024];
	uint32_t *uids = NULL, *dest_uids = NULL;
	size_t count = 0, copied = 0;
	struct buf code = BUF_INIT(SIZE_MAX / 2);
	const char *done = move ? "Move completed." : "Copy completed.";

	if (cmd->argc != 2) {
		imap_cmd_replyf(cmd, "BAD Error in IMAP command %s: Invalid arguments.", cmd->name);
		return;
	}
	if (!imap_msgset_get(cmd, &cmd->args[0], &seqs, NULL))
		return;
	if (move && client->readonly) {
		imap_cmd_reply(cmd, "NO [READ-ONLY] Mailbox is read-only.");
		goto out;
	}
	if (!imap_dest_open(cmd, &cmd->args[1], &dest, name, sizeof(name)))
		goto out;
	uids = imap_msgset_uids(client, &seqs, &count);
	if (count == 0) {
		imap_cmd_ok(cmd, "No messages found.");
		goto out;
	}
	dest_uids = i_calloc(count, sizeof(*dest_uids));
	if (!mailbox_copy(client->box, uids, count, dest, dest_uids, &err)) {
		imap_cmd_storage_error(cmd, &err);
		goto out;
	}
	for (size_t i = 0; i < count; i++)
		copied += dest_uids[i] != 0;
	if (imap_mailbox_is_trash(client, name))
		client->trashed += (unsigned int)copied;
	imap_dest_release(&dest, name);
	(void)buf_printf(&code, "[COPYUID %u ", imap_dest_uidvalidity(client, name));
	if (!write_copyuid(&code, uids, dest_uids, count))
		buf_reset(&code); /* everything was expunged meanwhile */
	else
		(void)buf_append_str(&code, "] ");
	if (move) {
		/* Only what reached the destination leaves the source. */
		size_t n = 0;

		for (size_t i = 0; i < count; i++) {
			if (dest_uids[i] != 0)
				uids[n++] = uids[i];
		}
		if (buf_len(&code) > 0)
			imap_client_printf(client, "* OK %sMoved UIDs.\r\n", buf_cstr(&code));
		if (n > 0 && !mailbox_expunge(client->box, uids, n, &err)) {
			imap_cmd_storage_error(cmd, &err);
			goto out;
		}
		client->expunged += (unsigned int)n;
		imap_sync(client, true);
		if ((client->enabled & IMAP_ENABLED_QRESYNC) != 0 && client->box != NULL) {
			buf_reset(&code);
			(void)buf_printf(&code, "[HIGHESTMODSEQ %llu] %s",
					 (unsigned long long)mailbox_highest_modseq(client->box),
					 done);
			imap_cmd_ok(cmd, buf_cstr(&code));
		} else {
			imap_cmd_ok(cmd, done);
		}
		goto out;
	}
	(void)buf_append_str(&code, done);
	imap_cmd_ok(cmd, buf_cstr(&code));
out:
	mailbox_close(&dest);
	free(uids);
	free(dest_uids);
	buf_free(&code);
	imap_seqset_clear(&seqs);
}
