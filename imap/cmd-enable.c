/*
 * ENABLE (RFC 5161): CONDSTORE, QRESYNC (which implies CONDSTORE),
 * UTF8=ACCEPT and IMAP4rev2. Unknown capabilities are ignored, as the RFC
 * says; the untagged ENABLED lists what was newly enabled. A BAD enables
 * nothing. Turning CONDSTORE on with a mailbox selected also reports its
 * HIGHESTMODSEQ, as every CONDSTORE enabling command does (RFC 7162 3.1).
 */
#include <string.h>

#include "imap.h"

void cmd_enable(struct imap_cmd *cmd)
{
	static const struct {
		const char *name;
		unsigned int bits;
	} known[] = {
		{"CONDSTORE", IMAP_ENABLED_CONDSTORE},
		{"QRESYNC", IMAP_ENABLED_QRESYNC | IMAP_ENABLED_CONDSTORE},
		{"UTF8=ACCEPT", IMAP_ENABLED_UTF8},
		{"IMAP4rev2", IMAP_ENABLED_IMAP4REV2},
	};
	struct imap_client *client = cmd->client;
	struct buf out = BUF_INIT(1024);
	unsigned int enabled = client->enabled;

	if (cmd->argc == 0) {
		imap_cmd_reply(cmd, "BAD Missing capabilities.");
		return;
	}
	(void)buf_append_str(&out, "* ENABLED");
	for (size_t i = 0; i < cmd->argc; i++) {
		const char *name;

		if (!imap_arg_get_atom(&cmd->args[i], &name)) {
			imap_cmd_reply(cmd, "BAD Invalid arguments.");
			buf_free(&out);
			return;
		}
		for (size_t j = 0; j < sizeof(known) / sizeof(known[0]); j++) {
			if (strcasecmp(name, known[j].name) != 0 ||
			    (enabled & known[j].bits) == known[j].bits)
				continue;
			enabled |= known[j].bits;
			(void)buf_printf(&out, " %s", known[j].name);
		}
	}
	(void)buf_append_str(&out, "\r\n");
	imap_client_send(client, buf_data(&out), buf_len(&out));
	buf_free(&out);
	/* CONDSTORE goes on the one way every enabling command takes it. */
	client->enabled |= enabled & ~(unsigned int)IMAP_ENABLED_CONDSTORE;
	if ((enabled & IMAP_ENABLED_CONDSTORE) != 0)
		imap_condstore_enable(client);
	imap_cmd_ok(cmd, "Enabled.");
}
