/*
 * roostadm's userdb lookups: one question to the running roost-auth over
 * base_dir/auth-userdb, as roost-lda asks (service "doveadm"). Used by
 * `roostadm user` and by the commands that open a user's mail. auth's
 * answer is trusted; it is still decoded with the channel's table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "adm.h"
#include "ipc/msg-auth.h"
#include "log.h"
#include "xalloc.h"

/* How long auth may take to answer. */
#define ADM_USERDB_TIMEOUT_SECS 30

enum adm_userdb_result adm_userdb_lookup(struct adm_context *ctx, const char *user,
					 struct auth_master_redeem_reply *reply_r)
{
	const struct roost_settings *set = adm_settings(ctx);
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = ADM_USERDB_TIMEOUT_SECS};
	struct auth_userdb_lookup lookup;
	struct ipc_message *msg;
	union auth_userdb_msg_any *m;
	enum adm_userdb_result result = ADM_USERDB_FAILED;
	const char *error;
	int fd, ret;

	if (!str_format(sun.sun_path, sizeof(sun.sun_path), "%s/%s", set->base_dir,
			AUTH_USERDB_SOCKET))
		fatal("base_dir is too long");
	memset(&lookup, 0, sizeof(lookup));
	lookup.id = 1;
	if (!str_copy(lookup.user, sizeof(lookup.user), user)) {
		log_error("User name too long: %s", user);
		return ADM_USERDB_NOT_FOUND;
	}
	(void)str_copy(lookup.service, sizeof(lookup.service), "doveadm");
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			log_error("The server is not running (connect(%s) failed: %m)",
				  sun.sun_path);
		else
			log_error("connect(%s) failed: %m", sun.sun_path);
		if (fd >= 0)
			close(fd);
		return ADM_USERDB_NO_SERVER;
	}
	msg = i_malloc(sizeof(*msg));
	m = i_malloc(sizeof(*m));
	if (ipc_send_msg(fd, AUTH_USERDB_MSG(AUTH_USERDB_LOOKUP), &lookup, NULL, 0) < 0) {
		log_error("userdb lookup failed: sending to auth failed: %m");
		goto out;
	}
	do {
		ret = ipc_recv(fd, msg);
	} while (ret < 0 && errno == EINTR);
	if (ret <= 0) {
		log_error("userdb lookup failed: no answer from auth");
		goto out;
	}
	ipc_message_close_fds(msg);
	if (ipc_message_decode(&auth_userdb_channel, msg, m, sizeof(*m), &error) == NULL ||
	    msg->type != AUTH_USERDB_REPLY || m->reply.req_id != lookup.id) {
		log_error("userdb lookup failed: no valid answer from auth");
		goto out;
	}
	*reply_r = m->reply;
	if (m->reply.status == USERDB_OK) {
		result = ADM_USERDB_OK;
	} else if (m->reply.status == USERDB_NOT_FOUND) {
		log_error("userdb lookup: user %s doesn't exist", user);
		result = ADM_USERDB_NOT_FOUND;
	} else {
		log_error("userdb lookup failed for %s (see the server log)", user);
	}
out:
	close(fd);
	free(msg);
	free(m);
	return result;
}
