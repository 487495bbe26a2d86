/*
 * Start-up of every process master spawns: read the hand-over master
 * writes on IPC_MASTER_FD (flattened settings, then identity), build the
 * sandbox identity from it, report readiness. Everything read here comes
 * from master and is trusted; it is still length-checked by the codec.
 */
#ifndef ROOST_CHILD_H
#define ROOST_CHILD_H

#include <stdbool.h>

#include "ipc/msg-child.h"
#include "sandbox/sandbox.h"
#include "settings.h"

struct child_context {
	struct roost_settings *set;
	struct child_init init;
	const struct service_settings *service;
	int master_fd;
};

/*
 * Blocks until master's hand-over is complete and parses it. Sets up
 * logging through master first. Fatal (exit 89) on any inconsistency:
 * without its settings a child cannot run.
 */
void child_init(struct child_context *ctx_r);
/* The identity master decided, ready for sandbox_enter(). */
void child_sandbox_identity(const struct child_context *ctx, struct sandbox_identity *id_r);
/* Tells master the child is confined and serving. */
void child_ready(const struct child_context *ctx);
/*
 * `roost-X --sandbox-profile` prints the compiled-in profile and exits, so
 * that tests can hold SECURITY.md to what the binary really does. Returns
 * when the argument is absent.
 */
void child_describe_sandbox(int argc, char **argv, const struct sandbox_profile *profile);
/* Frees the settings. */
void child_deinit(struct child_context *ctx);

/*
 * Test-only failure hooks (builds with ROOST_TEST_HOOKS), run after the
 * sandbox is entered: "oom" allocates until the vsz_limit is hit,
 * "forbidden-syscall" makes a system call no profile allows,
 * "open:PATH" tries to read a file and logs the result. Release builds
 * reject the test_hook setting, and this function does nothing.
 */
void child_run_test_hook(const char *hook);

#endif
