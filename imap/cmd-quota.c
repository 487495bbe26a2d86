/*
 * QUOTA (RFC 9208): GETQUOTAROOT, GETQUOTA and SETQUOTA over the store's
 * quota_rule limits (userdb or plugin { }) and its usage. There is one
 * root, "User quota" as Dovecot names it, with the resources STORAGE (in
 * units of 1024 octets) and MESSAGE; a mailbox the rules ignore has no
 * root. Limits are the administrator's: SETQUOTA is refused.
 */
#include <string.h>

#include "imap.h"

#define QUOTA_ROOT_NAME "User quota"

/* "* QUOTA "User quota" (STORAGE u l MESSAGE u l)" for a mailbox's limits. */
static bool write_quota(struct imap_cmd *cmd, const char *mailbox, struct buf *out)
{
	struct mail_storage *storage = cmd->client->mp->user.storage;
	const struct quota_rules *rules = mail_storage_quota_rules(storage);
	struct quota_usage usage;
	struct mailbox_error err;
	uint64_t bytes, messages;
	bool first = true;

	if (!mail_storage_quota_usage(storage, &usage, &err)) {
		imap_cmd_storage_error(cmd, &err);
		return false;
	}
	quota_rules_limits(rules, mailbox, &bytes, &messages);
	(void)buf_append_str(out, "* QUOTA \"" QUOTA_ROOT_NAME "\" (");
	if (bytes > 0) {
		(void)buf_printf(out, "STORAGE %llu %llu", (unsigned long long)(usage.bytes / 1024),
				 (unsigned long long)(bytes / 1024));
		first = false;
	}
	if (messages > 0)
		(void)buf_printf(out, "%sMESSAGE %llu %llu", first ? "" : " ",
				 (unsigned long long)usage.messages, (unsigned long long)messages);
	(void)buf_append_str(out, ")\r\n");
	return true;
}

void cmd_getquotaroot(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	const struct quota_rules *rules = mail_storage_quota_rules(client->mp->user.storage);
	struct buf out = BUF_INIT(8192);
	char name[1024];

	if (!imap_cmd_mailbox_arg(cmd, 1, IMAP_MAILBOX_ARG_EXISTING, name, sizeof(name)))
		return;
	(void)buf_append_str(&out, "* QUOTAROOT ");
	imap_mailbox_name_write(client, name, &out);
	if (!quota_rules_empty(rules) && !quota_rules_ignored(rules, name)) {
		(void)buf_append_str(&out, " \"" QUOTA_ROOT_NAME "\"\r\n");
		if (!write_quota(cmd, name, &out)) {
			buf_free(&out);
			return;
		}
	} else {
		(void)buf_append_str(&out, "\r\n");
	}
	imap_client_send(client, buf_data(&out), buf_len(&out));
	buf_free(&out);
	imap_cmd_ok(cmd, "Getquotaroot completed.");
}

void cmd_getquota(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	const struct quota_rules *rules = mail_storage_quota_rules(client->mp->user.storage);
	struct buf out = BUF_INIT(8192);
	const char *root;
	size_t len;

	if (cmd->argc != 1 || !imap_arg_get_astring(&cmd->args[0], &root, &len)) {
		imap_cmd_reply(cmd, "BAD Invalid arguments.");
		return;
	}
	if (quota_rules_empty(rules) || strcmp(root, QUOTA_ROOT_NAME) != 0) {
		imap_cmd_reply(cmd, "NO [NONEXISTENT] Quota root doesn't exist.");
		return;
	}
	/* The root's own limits: those of the default rule. */
	if (!write_quota(cmd, "", &out)) {
		buf_free(&out);
		return;
	}
	imap_client_send(client, buf_data(&out), buf_len(&out));
	buf_free(&out);
	imap_cmd_ok(cmd, "Getquota completed.");
}

void cmd_setquota(struct imap_cmd *cmd)
{
	const struct imap_arg *list;
	const char *root;
	size_t len, count;

	/* SETQUOTA root (resource limit ...): checked, then refused. */
	if (cmd->argc != 2 || !imap_arg_get_astring(&cmd->args[0], &root, &len) ||
	    !imap_arg_get_list(&cmd->args[1], &list, &count) || count % 2 != 0) {
		imap_cmd_reply(cmd, "BAD Invalid arguments.");
		return;
	}
	for (size_t i = 0; i < count; i += 2) {
		const char *res, *limit;

		if (!imap_arg_get_atom(&list[i], &res) ||
		    !imap_arg_get_atom(&list[i + 1], &limit) ||
		    limit[strspn(limit, "0123456789")] != '\0' || limit[0] == '\0') {
			imap_cmd_reply(cmd, "BAD Invalid quota resource list.");
			return;
		}
	}
	imap_cmd_reply(cmd, "NO [CANNOT] Quota limits are set by the administrator.");
}
