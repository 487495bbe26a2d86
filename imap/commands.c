/*
 * The IMAP command table of roost-imap and the post-login capability list.
 */
#include <string.h>

#include "imap.h"

static const struct imap_command_def commands[] = {
	{"CAPABILITY", cmd_capability},
	{"ID", cmd_id},
	{"LOGOUT", cmd_logout},
	{"NOOP", cmd_noop},
};

const struct imap_command_def *imap_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

const char *imap_capability_string(void)
{
	return "IMAP4rev1 IMAP4rev2 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+";
}
