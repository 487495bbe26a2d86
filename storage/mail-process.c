/*
 * Mail process start-up (see mail-process.h). Lives with the storage
 * because a session's confinement is the user's mail directories.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ioloop.h"
#include "ipc/ipc-codec.h"
#include "log.h"
#include "mail-process.h"
#include "xalloc.h"

static void receive_session(struct mail_process *mp)
{
	struct ipc_message *msg = i_malloc(sizeof(*msg));
	const char *error;

	for (;;) {
		int ret = ipc_recv(mp->ctx.master_fd, msg);

		if (ret == 0)
			exit(0); /* an idle process master no longer wants */
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			fatal("Reading the session from master failed: %m");
		}
		break;
	}
	if (ipc_message_decode(&mail_channel, msg, &mp->session, sizeof(mp->session), &error) ==
	    NULL)
		fatal("Invalid session from master: %s", error);
	mp->client_fd = msg->fds[0];
	free(msg);
}

void mail_process_start(struct mail_process *mp, const char *protocol,
			const struct sandbox_profile *profile, int argc, char **argv)
{
	struct sandbox_identity id;

	memset(mp, 0, sizeof(*mp));
	child_describe_sandbox(argc, argv, profile);
	/* 1. Settings and identity from master; become that uid at once. */
	child_init(&mp->ctx);
	mp->set = settings_for_protocol(mp->ctx.set, protocol);
	child_sandbox_identity(&mp->ctx, &id);
	sandbox_drop_privileges(profile, &id);
	child_ready(&mp->ctx);

	/* 2. Wait (pre-started) or go on (fresh) with the session. */
	receive_session(mp);
	ioloop_init();

	/* 3. The user's storage, whose directories Landlock then allows. */
	mail_user_init(&mp->user, mp->set, mp->session.user, mp->session.home, mp->session.mail,
		       mp->session.extra);
	if (!mail_user_open(&mp->user, &mp->storage_error)) {
		mp->storage_failed = true;
		log_error("Mail storage unavailable: %s", mp->storage_error.text);
	}

	/*
	 * 4. Confine to this user's files before reading the client. The
	 * start-up's large buffers (settings text, two 61 KiB IPC messages)
	 * are free now but their pages would stay in the heap for the whole
	 * session: give them back.
	 */
	(void)malloc_trim(0);
	id.paths = mp->user.paths;
	id.path_count = mp->user.path_count;
	sandbox_confine(profile, &id);
	if (mp->session.home[0] != '\0' && chdir(mp->session.home) < 0 && errno != ENOENT)
		log_warning("chdir(%s) failed: %m", mp->session.home);
	child_run_test_hook(mp->ctx.service->test_hook);
}
