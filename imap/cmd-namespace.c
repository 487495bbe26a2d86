/*
 * NAMESPACE (RFC 2342, RFC 9051 6.3.10) from the configured namespaces.
 * The store serves one personal hierarchy with '/' as its separator, so
 * only private namespaces without a prefix can be announced; shared and
 * public namespaces, and prefixed ones, are not served and are left out
 * (logged once), rather than announced and then failing.
 */
#include <string.h>

#include "imap.h"
#include "log.h"
#include "settings.h"

void cmd_namespace(struct imap_cmd *cmd)
{
	static bool warned;
	const struct roost_settings *set = cmd->client->set;

	for (unsigned int i = 0; i < set->namespace_count; i++) {
		const struct namespace_settings *ns = &set->namespaces[i];

		if (ns->disabled || ns->hidden)
			continue;
		if (strcmp(ns->type, "private") == 0 && ns->prefix[0] == '\0' &&
		    (ns->separator[0] == '\0' || strcmp(ns->separator, "/") == 0))
			continue;
		if (!warned)
			log_warning("namespace %s: only private namespaces without prefix and "
				    "with separator '/' are served; not announced",
				    ns->name);
		warned = true;
	}
	/* Several unprefixed private namespaces are one and the same here. */
	imap_client_printf(cmd->client, "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
	imap_cmd_ok(cmd, "Namespace completed.");
}
