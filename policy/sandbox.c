/*
 * roost-policy's confinement, declared once: no filesystem, no network, no
 * new processes. It only reads master's messages and answers them.
 */
#include "policy-sandbox.h"

static const char *const policy_syscalls[] = {
	NULL, /* nothing beyond the base set: epoll, IPC, memory, time */
};

const struct sandbox_profile policy_sandbox = {
	.name = "policy",
	.syscalls = policy_syscalls,
	.landlock_fs = true,
	.landlock_net = true,
	.landlock_scope = true,
};
