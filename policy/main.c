/*
 * roost-policy: the live session registry, connection limits, penalties and
 * counters (DESIGN.md's policy row). Started by master as root, it confines
 * itself before serving: empty chroot, roostnull, no capabilities, no
 * filesystem or network, a strict seccomp allow-list. Its only peer is
 * master.
 */
#include <stdlib.h>

#include "child.h"
#include "ioloop.h"
#include "log.h"
#include "policy-sandbox.h"
#include "policy-server.h"

int main(int argc, char **argv)
{
	struct child_context ctx;
	struct sandbox_identity id;

	child_describe_sandbox(argc, argv, &policy_sandbox);
	/* 1. What master handed over: settings and our identity. */
	child_init(&ctx);
	/* 2. Everything that needs privileges or new descriptors, first. */
	ioloop_init();
	policy_server_init(ctx.master_fd, (unsigned int)ctx.set->auth_penalty_max);
	/* 3. Drop privileges: chroot, uid, capabilities, Landlock, seccomp. */
	child_sandbox_identity(&ctx, &id);
	sandbox_enter(&policy_sandbox, &id);
	child_run_test_hook(ctx.service->test_hook);
	/* 4. Serve. */
	child_ready(&ctx);
	ioloop_run();
	fatal("policy: event loop returned");
}
