/*
 * roostadm's confinement for the commands that open a user's mail (mailbox
 * list|status|create, force-resync): once it runs as the user and the
 * store is set up it may touch that user's mail and nothing else, exactly
 * as roost-lda and the mail processes: Landlock to the user's home and
 * mail directories, seccomp with the store's list, no new processes,
 * sockets or privileges. The Maildir it reads is untrusted.
 */
#include "adm-sandbox.h"
#include "storage/storage-syscalls.h"

static const char *const adm_mail_syscalls[] = {
	MAIL_STORAGE_SYSCALLS,
	NULL,
};

const struct sandbox_profile adm_mail_sandbox = {
	.name = "roostadm",
	.syscalls = adm_mail_syscalls,
	.landlock_fs = true,
	.landlock_net = true,
	.landlock_scope = true,
};
