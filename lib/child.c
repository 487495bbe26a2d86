/*
 * Child start-up (see child.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "child.h"
#include "log.h"
#include "xalloc.h"

#define CHILD_SETTINGS_MAX (16 * 1024 * 1024)

void child_init(struct child_context *ctx)
{
	struct buf text = BUF_INIT(CHILD_SETTINGS_MAX);
	struct ipc_message *msg = i_malloc(sizeof(*msg));
	union child_msg_any *m = i_malloc(sizeof(*m));
	char *error;

	memset(ctx, 0, sizeof(*ctx));
	log_init_child();
	ctx->master_fd = IPC_MASTER_FD;
	for (;;) {
		const struct ipc_msg_def *def;
		const char *problem;
		int ret = ipc_recv(ctx->master_fd, msg);

		if (ret <= 0)
			fatal("Reading start-up settings from master failed: %s",
			      ret == 0 ? "master closed the connection" : strerror(errno));
		def = ipc_message_decode(&child_channel, msg, m, sizeof(*m), &problem);
		if (def == NULL)
			fatal("Invalid start-up message from master: %s", problem);
		if (def->type == CHILD_SETTINGS_CHUNK) {
			if (!buf_append(&text, m->chunk.data, m->chunk.data_len))
				fatal("Settings from master are too large");
			continue;
		}
		if (def->type != CHILD_INIT)
			fatal("Unexpected start-up message from master: %s", def->name);
		ctx->init = m->init;
		break;
	}
	ctx->set = settings_read_text("master", buf_cstr(&text), buf_len(&text), &error);
	if (ctx->set == NULL)
		fatal("Settings from master are invalid: %s", error);
	ctx->service = settings_service(ctx->set, ctx->init.service);
	if (ctx->service == NULL)
		fatal("Unknown service from master: %s", ctx->init.service);
	log_set_debug((ctx->init.flags & CHILD_INIT_DEBUG) != 0);
	buf_free(&text);
	free(msg);
	free(m);
}

void child_sandbox_identity(const struct child_context *ctx, struct sandbox_identity *id)
{
	memset(id, 0, sizeof(*id));
	id->change_user = (ctx->init.flags & CHILD_INIT_CHANGE_USER) != 0;
	id->uid = ctx->init.uid;
	id->gid = ctx->init.gid;
	id->chroot_dir = ctx->init.chroot[0] != '\0' && id->change_user ? ctx->init.chroot : NULL;
	id->vsz_limit = ctx->init.vsz_limit;
	id->nofile_limit = ctx->init.nofile_limit;
}

void child_ready(const struct child_context *ctx)
{
	struct child_ready ready = {.pid = (uint32_t)getpid()};

	if (ipc_send_msg(ctx->master_fd, CHILD_MSG(CHILD_READY), &ready, NULL, 0) < 0)
		fatal("Telling master we are ready failed: %m");
}

void child_describe_sandbox(int argc, char **argv, const struct sandbox_profile *profile)
{
	struct buf out = BUF_INIT(64 * 1024);

	if (argc != 2 || strcmp(argv[1], "--sandbox-profile") != 0)
		return;
	sandbox_profile_describe(profile, &out);
	if (write(STDOUT_FILENO, buf_data(&out), buf_len(&out)) < 0)
		exit(1);
	exit(0);
}

void child_deinit(struct child_context *ctx)
{
	settings_free(&ctx->set);
}

#ifdef ROOST_TEST_HOOKS
void child_run_test_hook(const char *hook)
{
	if (hook[0] == '\0')
		return;
	log_info("test hook: %s", hook);
	if (strcmp(hook, "oom") == 0) {
		/* Touch every page so the allocation is real. */
		for (size_t total = 0;; total += 1024 * 1024) {
			char *p = i_malloc(1024 * 1024);

			memset(p, 0x5a, 1024 * 1024);
#if defined(__SANITIZE_ADDRESS__)
			/* No RLIMIT_AS under ASan: stop at a size past the test's limit. */
			if (total > 64 * 1024 * 1024)
				fatal_oom(1024 * 1024);
#endif
		}
	} else if (strcmp(hook, "forbidden-syscall") == 0) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		/* The release filter kills us before this line; the debug one refuses. */
		if (fd < 0 && errno == ENOSYS)
			log_info("test hook: socket(AF_INET) was refused by the debug filter");
		else
			log_error("test hook: socket(AF_INET) was not stopped by the sandbox "
				  "(fd %d: %m)",
				  fd);
	} else if (strncmp(hook, "open:", 5) == 0) {
		int fd = open(hook + 5, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			log_info("test hook: open(%s) failed: %m", hook + 5);
		else {
			log_error("test hook: open(%s) succeeded", hook + 5);
			close(fd);
		}
	} else {
		log_error("test hook: unknown hook %s", hook);
	}
}
#else
void child_run_test_hook(const char *hook)
{
	(void)hook;
}
#endif
