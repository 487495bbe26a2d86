/*
 * MOVE and UID MOVE (RFC 6851): COPY, the untagged OK [COPYUID], then the
 * source messages expunged and reported (EXPUNGE, or VANISHED under
 * QRESYNC) before the tagged OK; the work is in copy.c.
 */
#include "imap.h"

void cmd_move(struct imap_cmd *cmd)
{
	imap_copy_run(cmd, true);
}
