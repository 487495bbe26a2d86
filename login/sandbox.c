/*
 * roost-login's confinement, declared once: it accepts connections on the
 * listeners master handed over, reads and writes sockets, creates the
 * socketpairs for TLS proxying, and nothing else: no filesystem, no new
 * network connections, no new processes.
 */
#include <sys/socket.h>

#include "login-sandbox.h"

static const char *const login_syscalls[] = {
	"accept4", "getsockname", "getpeername", "shutdown", NULL,
};

static const struct sandbox_arg_rule login_arg_rules[] = {
	/* TLS clients are proxied through a UNIX socketpair. */
	{"socketpair", 0, AF_UNIX},
	{NULL, 0, 0},
};

const struct sandbox_profile login_sandbox = {
	.name = "login",
	.syscalls = login_syscalls,
	.arg_rules = login_arg_rules,
	.landlock_fs = true,
	.landlock_net = true,
	.landlock_scope = true,
};
