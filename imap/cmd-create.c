/*
 * CREATE (RFC 3501 6.3.3, RFC 9051 6.3.4) with RFC 6154's USE parameter.
 * A trailing hierarchy separator only declares that children will follow,
 * so it is dropped; superior names are not created (Maildir++ lists them
 * as \Noselect parents, as Dovecot does). The name is the client's and is
 * validated by the store before any path is built from it.
 */
#include <string.h>

#include "imap.h"

/* RFC 6154 CREATE-SPECIAL-USE is not offered: attributes come from the
   configuration, so USE is accepted only when it asks for exactly those. */
static bool use_matches_config(struct imap_cmd *cmd, const char *name, const struct imap_arg *param)
{
	const struct imap_arg *list, *attrs;
	size_t count, nattrs;
	const char *configured = imap_mailbox_special_use(cmd->client, name);

	if (!imap_arg_get_list(param, &list, &count) || count != 2 ||
	    !imap_arg_atom_equals(&list[0], "USE") || !imap_arg_get_list(&list[1], &attrs, &nattrs))
		return false;
	for (size_t i = 0; i < nattrs; i++) {
		const char *attr, *p;
		size_t len;

		if (!imap_arg_get_atom(&attrs[i], &attr) || configured == NULL)
			return false;
		len = strlen(attr);
		for (p = strcasestr(configured, attr); p != NULL; p = strcasestr(p + 1, attr)) {
			if ((p == configured || p[-1] == ' ') && (p[len] == '\0' || p[len] == ' '))
				break;
		}
		if (p == NULL)
			return false;
	}
	return true;
}

void cmd_create(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	char name[1024];
	struct mailbox_error err;

	/* "foo/" declares a future parent; the mailbox is foo. */
	if (!imap_cmd_mailbox_arg(cmd, 2, IMAP_MAILBOX_ARG_PARENT, name, sizeof(name)))
		return;
	if (cmd->argc == 2 && !use_matches_config(cmd, name, &cmd->args[1])) {
		imap_cmd_reply(cmd, "NO [USEATTR] Special-use attributes are set by the "
				    "administrator.");
		return;
	}
	if (!mailbox_create(client->mp->user.storage, name, &err)) {
		imap_cmd_storage_error(cmd, &err);
		return;
	}
	imap_cmd_ok(cmd, "Create completed.");
}
