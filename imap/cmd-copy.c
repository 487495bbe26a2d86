/*
 * COPY and UID COPY (RFC 3501 6.4.7, RFC 9051 6.4.7) with UIDPLUS's
 * [COPYUID] (RFC 4315); the work is in copy.c, shared with MOVE.
 */
#include "imap.h"

void cmd_copy(struct imap_cmd *cmd)
{
	imap_copy_run(cmd, false);
}
