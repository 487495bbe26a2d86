/*
 * Mailbox names between the client and the store: the client speaks
 * modified UTF-7 (RFC 3501 5.1.3), or UTF-8 after ENABLE UTF8=ACCEPT; the
 * store takes UTF-8 with '/' as the hierarchy separator and validates the
 * names itself (no "..", no control characters, no absolute paths).
 */
#include <string.h>

#include "imap.h"
#include "storage/mailbox-name.h"
#include "storage/mutf7.h"

bool imap_mailbox_name_from_client(struct imap_client *client, const char *name, size_t len,
				   char *out, size_t size, const char **error_r)
{
	struct buf b = BUF_INIT(MAILBOX_NAME_MAX * 4);
	bool ok;

	if (len == 0 || memchr(name, '\0', len) != NULL) {
		*error_r = "NO [CANNOT] Invalid mailbox name.";
		return false;
	}
	if (len == 5 && strncasecmp(name, "INBOX", 5) == 0)
		return str_copy(out, size, "INBOX");
	/* INBOX/child keeps INBOX's canonical spelling too. */
	if (len > 6 && strncasecmp(name, "INBOX/", 6) == 0) {
		(void)buf_append_str(&b, "INBOX");
		name += 5;
		len -= 5;
	}
	if ((client->enabled & IMAP_ENABLED_UTF8) != 0)
		ok = buf_append(&b, name, len);
	else
		ok = mutf7_to_utf8(name, len, &b) == MUTF7_OK;
	if (!ok || !str_copy(out, size, buf_cstr(&b))) {
		*error_r = "NO [CANNOT] Invalid mailbox name: not valid modified UTF-7.";
		buf_free(&b);
		return false;
	}
	buf_free(&b);
	return true;
}

bool imap_cmd_mailbox_arg(struct imap_cmd *cmd, size_t argc_max, unsigned int flags, char *name_r,
			  size_t size)
{
	struct mail_storage *storage = cmd->client->mp->user.storage;
	struct mailbox_error err;
	const char *arg, *error;
	size_t len;
	bool exists;

	if (cmd->argc < 1 || cmd->argc > argc_max ||
	    !imap_arg_get_astring(&cmd->args[0], &arg, &len)) {
		imap_cmd_reply(cmd, "BAD Invalid arguments.");
		return false;
	}
	if ((flags & IMAP_MAILBOX_ARG_PARENT) != 0 && len > 1 && arg[len - 1] == '/')
		len--;
	if (!imap_mailbox_name_from_client(cmd->client, arg, len, name_r, size, &error)) {
		imap_cmd_reply(cmd, error);
		return false;
	}
	if ((flags & IMAP_MAILBOX_ARG_EXISTING) == 0)
		return true;
	if (!mailbox_exists(storage, name_r, &exists, &err)) {
		imap_cmd_storage_error(cmd, &err);
		return false;
	}
	if (!exists) {
		struct buf text = BUF_INIT(4096);

		(void)imap_write_text(&text, arg, len);
		imap_cmd_replyf(cmd, IMAP_NO_SUCH "%s", buf_cstr(&text));
		buf_free(&text);
		return false;
	}
	return true;
}

void imap_mailbox_name_write(struct imap_client *client, const char *name, struct buf *out)
{
	struct buf b = BUF_INIT(MAILBOX_NAME_MAX * 8);

	if ((client->enabled & IMAP_ENABLED_UTF8) != 0 ||
	    mutf7_from_utf8(name, strlen(name), &b) != MUTF7_OK) {
		buf_reset(&b);
		(void)buf_append_str(&b, name);
	}
	(void)imap_write_astring(out, buf_data(&b), buf_len(&b),
				 (client->enabled & IMAP_ENABLED_UTF8) != 0 ? IMAP_WRITE_UTF8 : 0);
	buf_free(&b);
}

void imap_mailbox_name_wire(const struct imap_client *client, const char *name, struct buf *out)
{
	size_t start = buf_len(out);

	if ((client->enabled & IMAP_ENABLED_UTF8) != 0 ||
	    mutf7_from_utf8(name, strlen(name), out) != MUTF7_OK) {
		buf_truncate(out, start);
		(void)buf_append_str(out, name);
	}
}
