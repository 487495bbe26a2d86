/*
 * The IMAP command table of roost-imap and the capability list after login.
 * A command missing here is answered with BAD; every handler lives in its
 * own cmd-NAME.c file.
 */
#include <string.h>

#include "imap.h"

static const struct imap_command_def commands[] = {
	{"CAPABILITY", cmd_capability, 0, NULL, NULL},
	{"CHECK", cmd_check, IMAP_CMD_SELECTED, NULL, NULL},
	{"CLOSE", cmd_close, IMAP_CMD_SELECTED, NULL, NULL},
	{"ENABLE", cmd_enable, 0, NULL, NULL},
	{"EXAMINE", cmd_examine, 0, NULL, NULL},
	{"ID", cmd_id, 0, NULL, NULL},
	{"IDLE", cmd_idle, 0, NULL, NULL},
	{"LOGOUT", cmd_logout, 0, NULL, NULL},
	{"NAMESPACE", cmd_namespace, 0, NULL, NULL},
	{"NOOP", cmd_noop, 0, NULL, NULL},
	{"SELECT", cmd_select, 0, NULL, NULL},
	{"UNSELECT", cmd_unselect, IMAP_CMD_SELECTED, NULL, NULL},
	/* Mailbox management (imap-box). */
	{"COMPRESS", cmd_compress, 0, NULL, NULL},
	{"CREATE", cmd_create, 0, NULL, NULL},
	{"DELETE", cmd_delete, 0, NULL, NULL},
	{"GETQUOTA", cmd_getquota, 0, NULL, NULL},
	{"GETQUOTAROOT", cmd_getquotaroot, 0, NULL, NULL},
	{"LIST", cmd_list, 0, NULL, NULL},
	{"LSUB", cmd_lsub, 0, NULL, NULL},
	{"RENAME", cmd_rename, 0, NULL, NULL},
	{"SETQUOTA", cmd_setquota, 0, NULL, NULL},
	{"STATUS", cmd_status, 0, NULL, NULL},
	{"SUBSCRIBE", cmd_subscribe, 0, NULL, NULL},
	{"UNSUBSCRIBE", cmd_unsubscribe, 0, NULL, NULL},
	/* Searching and ordering (imap-search). */
	{"SEARCH", cmd_search, IMAP_CMD_SELECTED | IMAP_CMD_NO_EXPUNGE | IMAP_CMD_UID, NULL, NULL},
	{"SORT", cmd_sort, IMAP_CMD_SELECTED | IMAP_CMD_NO_EXPUNGE | IMAP_CMD_UID, NULL, NULL},
	{"THREAD", cmd_thread, IMAP_CMD_SELECTED | IMAP_CMD_NO_EXPUNGE | IMAP_CMD_UID, NULL, NULL},
	/* Message commands. */
	{"APPEND", cmd_append, 0, cmd_append_literal, cmd_append_literal_data},
	{"COPY", cmd_copy, IMAP_CMD_SELECTED | IMAP_CMD_UID, NULL, NULL},
	{"EXPUNGE", cmd_expunge, IMAP_CMD_SELECTED | IMAP_CMD_UID, NULL, NULL},
	{"FETCH", cmd_fetch, IMAP_CMD_SELECTED | IMAP_CMD_NO_EXPUNGE | IMAP_CMD_UID, NULL, NULL},
	{"MOVE", cmd_move, IMAP_CMD_SELECTED | IMAP_CMD_UID, NULL, NULL},
	{"STORE", cmd_store, IMAP_CMD_SELECTED | IMAP_CMD_NO_EXPUNGE | IMAP_CMD_UID, NULL, NULL},
};

const struct imap_command_def *imap_command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcasecmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

void imap_write_capability(struct imap_client *client, struct buf *out)
{
	(void)client;
	(void)buf_append_str(out, "IMAP4rev1 IMAP4rev2 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE "
				  "NAMESPACE UNSELECT");
	(void)buf_append_str(out, client->set->imap_literal_minus ? " LITERAL-" : " LITERAL+");
	/* Mailbox management (imap-box). */
	(void)buf_append_str(out, " CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE STATUS=SIZE "
				  "QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE UTF8=ACCEPT "
				  "COMPRESS=DEFLATE");
	/* Searching and ordering (imap-search). */
	(void)buf_append_str(out, " ESEARCH SEARCHRES WITHIN SORT SORT=DISPLAY ESORT "
				  "THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT");
	/* Message commands. */
	(void)buf_append_str(out, " UIDPLUS MOVE CONDSTORE QRESYNC BINARY MULTIAPPEND PREVIEW");
	imap_append_write_capability(client, out);
}
