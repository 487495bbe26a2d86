/*
 * roost-pop3's confinement: one user's mail, nothing else. Landlock limits
 * the filesystem to the user's home and mail directories (added at session
 * start); seccomp allows file work but no new processes or network.
 */
#include "pop3-sandbox.h"
#include "storage/storage-syscalls.h"

static const char *const pop3_syscalls[] = {
	MAIL_STORAGE_SYSCALLS,
	NULL,
};

const struct sandbox_profile pop3_sandbox = {
	.name = "pop3",
	.syscalls = pop3_syscalls,
	.landlock_fs = true,
	.landlock_net = true,
	.landlock_scope = true,
};
