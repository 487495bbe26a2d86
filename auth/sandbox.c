/*
 * roost-auth's confinement: it reads its passdb/userdb files (Landlock:
 * read-only on their directories, so that a file replaced by rename is
 * still readable) and talks to master, login processes and the
 * auth-userdb socket. No writes, no network, no new processes.
 */
#include "auth-sandbox.h"

static const char *const auth_syscalls[] = {
	"openat", "accept4", "getsockname", "getpeername", "statx", "stat", NULL,
};

const struct sandbox_profile auth_sandbox = {
	.name = "auth",
	.syscalls = auth_syscalls,
	.landlock_fs = true,
	.landlock_net = true,
	.landlock_scope = true,
};
