/*
 * The mailbox { } blocks of roost.conf's namespaces as roost-imap uses
 * them: special_use attributes for LIST (RFC 6154) and auto = create /
 * subscribe, applied when the session starts, as Dovecot does. The
 * configuration is trusted (master parsed it); names from it still go
 * through the store's validation before they touch the disk.
 */
#include <string.h>

#include "imap.h"
#include "log.h"
#include "settings.h"
#include "storage/mailbox-name.h"

/* Names in mailbox { } blocks use '/' (the store's separator) and INBOX in
   any case; namespaces of other types are not served by this store. */
static bool namespace_served(const struct namespace_settings *ns)
{
	return !ns->disabled && strcmp(ns->type, "private") == 0;
}

static bool names_equal(const char *a, const char *b)
{
	if (mailbox_name_is_inbox(a) || mailbox_name_is_inbox(b))
		return mailbox_name_is_inbox(a) && mailbox_name_is_inbox(b);
	return strcmp(a, b) == 0;
}

const char *imap_mailbox_special_use(const struct imap_client *client, const char *name)
{
	const struct roost_settings *set = client->set;

	for (unsigned int i = 0; i < set->namespace_count; i++) {
		const struct namespace_settings *ns = &set->namespaces[i];

		if (!namespace_served(ns))
			continue;
		for (unsigned int j = 0; j < ns->mailbox_count; j++) {
			const struct mailbox_settings *mb = &ns->mailboxes[j];

			if (mb->special_use[0] != '\0' && names_equal(mb->name, name))
				return mb->special_use;
		}
	}
	return NULL;
}

void imap_mailbox_autocreate(struct imap_client *client)
{
	const struct roost_settings *set = client->set;
	struct mail_storage *storage = client->mp->user.storage;

	for (unsigned int i = 0; i < set->namespace_count; i++) {
		const struct namespace_settings *ns = &set->namespaces[i];

		if (!namespace_served(ns))
			continue;
		for (unsigned int j = 0; j < ns->mailbox_count; j++) {
			const struct mailbox_settings *mb = &ns->mailboxes[j];
			bool subscribe = strcmp(mb->auto_, "subscribe") == 0;
			struct mailbox_error err;

			if (!subscribe && strcmp(mb->auto_, "create") != 0)
				continue;
			if (!mailbox_create(storage, mb->name, &err) &&
			    err.code != MAILBOX_ERROR_EXISTS) {
				log_warning("Autocreating mailbox %s failed: %s", mb->name,
					    err.text);
				continue;
			}
			if (subscribe && !mailbox_subscribe(storage, mb->name, true, &err))
				log_warning("Autosubscribing to mailbox %s failed: %s", mb->name,
					    err.text);
		}
	}
}
