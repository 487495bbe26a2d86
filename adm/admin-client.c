/*
 * roostadm's connection to master's admin socket: one request, rows until
 * DONE. The answers are decoded with the admin channel table; master is
 * trusted, but a malformed answer is still an error, not a crash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "adm.h"
#include "log.h"
#include "xalloc.h"

const struct roost_settings *adm_settings(struct adm_context *ctx)
{
	char *error;

	if (ctx->set == NULL) {
		ctx->set = settings_read_file(ctx->config_path, &error);
		if (ctx->set == NULL) {
			log_printf(LOG_LEVEL_FATAL, "%s", error);
			exit(ADM_EXIT_CONFIG);
		}
	}
	return ctx->set;
}

void adm_settings_lenient(struct adm_context *ctx)
{
	if (ctx->set != NULL || ctx->config_error != NULL)
		return;
	ctx->set = settings_read_file(ctx->config_path, &ctx->config_error);
	if (ctx->set == NULL &&
	    !settings_find_base_dir(ctx->config_path, ctx->base_dir, sizeof(ctx->base_dir))) {
		/* Broken syntax: nothing says which server to ask. */
		log_printf(LOG_LEVEL_FATAL, "%s", ctx->config_error);
		exit(ADM_EXIT_CONFIG);
	}
}

uint32_t adm_request(struct adm_context *ctx, uint16_t type, const struct admin_request *req,
		     adm_row_callback_t *row_cb, void *cb_ctx, const char **message_r)
{
	static char message[1024];
	const char *base_dir =
		ctx->config_error != NULL ? ctx->base_dir : adm_settings(ctx)->base_dir;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct ipc_message *msg;
	union admin_msg_any m;
	const char *error;
	int fd;

	if (!str_format(sun.sun_path, sizeof(sun.sun_path), "%s/%s", base_dir, ADMIN_SOCKET_NAME))
		fatal("base_dir is too long");
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (ctx->config_error != NULL) {
			/* No server to ask: the file's own error is the news. */
			log_printf(LOG_LEVEL_FATAL, "%s", ctx->config_error);
			exit(ADM_EXIT_CONFIG);
		}
		log_error("The server is not running (connect(%s) failed: %m)", sun.sun_path);
		exit(ADM_EXIT_TEMPFAIL);
	}
	msg = i_malloc(sizeof(*msg));
	if (ipc_send_msg(fd, ADMIN_MSG(type), req, NULL, 0) < 0)
		fatal("Sending the request failed: %m");
	for (;;) {
		int ret = ipc_recv(fd, msg);

		if (ret <= 0) {
			log_error("The server closed the connection before answering");
			exit(ADM_EXIT_TEMPFAIL);
		}
		if (ipc_message_decode(&admin_channel, msg, &m, sizeof(m), &error) == NULL)
			fatal("Invalid answer from the server: %s", error);
		if (msg->type == ADMIN_DONE)
			break;
		if (row_cb != NULL)
			row_cb(cb_ctx, msg->type, &m);
	}
	close(fd);
	free(msg);
	(void)str_copy(message, sizeof(message), m.done.message);
	*message_r = message;
	return m.done.status;
}
