/*
 * The userdb lookup of roost-lda: one question (two with a recipient
 * delimiter) to roost-auth over base_dir/auth-userdb, before the sandbox.
 * The socket is master's and auth answers with typed, length-checked
 * messages; a missing or silent server is a temporary failure so the MTA
 * retries instead of bouncing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "auth-vars.h"
#include "ipc/ipc-codec.h"
#include "lda.h"
#include "log.h"
#include "xalloc.h"

static char userdb_error[512];

static int userdb_connect(const char *socket_path, unsigned int timeout_secs)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = timeout_secs};
	int fd;

	if (!str_copy(sun.sun_path, sizeof(sun.sun_path), socket_path)) {
		(void)str_format(userdb_error, sizeof(userdb_error), "%s: path too long",
				 socket_path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		(void)str_format(userdb_error, sizeof(userdb_error), "socket() failed: %s",
				 strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int err = errno;

		(void)str_format(userdb_error, sizeof(userdb_error), "connect(%s) failed: %s%s",
				 socket_path, strerror(err),
				 err == ENOENT || err == ECONNREFUSED ? " (is roost running?)"
				 : err == EACCES
					 ? " (roost-lda must run as mail_uid or in mail_gid)"
					 : "");
		close(fd);
		return -1;
	}
	return fd;
}

/* One lookup on the connection; the reply goes to *reply. */
static enum lda_userdb_result userdb_ask(int fd, uint32_t id, const char *user,
					 struct auth_master_redeem_reply *reply)
{
	struct auth_userdb_lookup lookup;
	struct ipc_message *msg = i_malloc(sizeof(*msg));
	union auth_userdb_msg_any *m = i_malloc(sizeof(*m));
	enum lda_userdb_result result = LDA_USERDB_TEMPFAIL;
	const char *error = NULL;
	int ret;

	memset(&lookup, 0, sizeof(lookup));
	lookup.id = id;
	(void)str_copy(lookup.user, sizeof(lookup.user), user);
	(void)str_copy(lookup.service, sizeof(lookup.service), "lda");
	if (ipc_send_msg(fd, AUTH_USERDB_MSG(AUTH_USERDB_LOOKUP), &lookup, NULL, 0) < 0) {
		(void)str_format(userdb_error, sizeof(userdb_error),
				 "userdb lookup: sending to auth failed: %s", strerror(errno));
		goto out;
	}
	do {
		ret = ipc_recv(fd, msg);
	} while (ret < 0 && errno == EINTR);
	if (ret <= 0) {
		(void)str_format(userdb_error, sizeof(userdb_error),
				 "userdb lookup: no answer from auth: %s",
				 ret == 0				   ? "connection closed"
				 : errno == EAGAIN || errno == EWOULDBLOCK ? "timed out"
									   : strerror(errno));
		goto out;
	}
	ipc_message_close_fds(msg);
	if (ipc_message_decode(&auth_userdb_channel, msg, m, sizeof(*m), &error) == NULL ||
	    msg->type != AUTH_USERDB_REPLY || m->reply.req_id != id) {
		(void)str_format(userdb_error, sizeof(userdb_error),
				 "userdb lookup: invalid answer from auth: %s",
				 error != NULL ? error : "unexpected message");
		goto out;
	}
	*reply = m->reply;
	switch (reply->status) {
	case USERDB_OK:
		result = LDA_USERDB_OK;
		break;
	case USERDB_NOT_FOUND:
		result = LDA_USERDB_NOT_FOUND;
		(void)str_copy(userdb_error, sizeof(userdb_error), "Unknown user");
		break;
	default:
		(void)str_copy(userdb_error, sizeof(userdb_error),
			       "userdb lookup failed temporarily (see the auth log)");
		break;
	}
out:
	free(msg);
	free(m);
	return result;
}

enum lda_userdb_result lda_userdb_lookup(const char *socket_path, const char *user,
					 const char *delimiters, unsigned int timeout_secs,
					 struct lda_user *user_r, const char **error_r)
{
	struct buf base = BUF_INIT(POLICY_USER_MAX - 1), detail = BUF_INIT(POLICY_USER_MAX - 1);
	struct auth_master_redeem_reply *reply = i_calloc(1, sizeof(*reply));
	enum lda_userdb_result result;
	int split, fd;

	memset(user_r, 0, sizeof(*user_r));
	*error_r = userdb_error;
	if (strlen(user) >= POLICY_USER_MAX) {
		(void)str_copy(userdb_error, sizeof(userdb_error), "User name too long");
		result = LDA_USERDB_NOT_FOUND;
		goto out;
	}
	split = auth_user_split_detail(user, delimiters, &base, &detail);
	fd = userdb_connect(socket_path, timeout_secs);
	if (fd < 0) {
		result = LDA_USERDB_TEMPFAIL;
		goto out;
	}
	result = userdb_ask(fd, 1, split > 0 ? buf_cstr(&base) : user, reply);
	if (result == LDA_USERDB_NOT_FOUND && split > 0) {
		/* "jdoe+lists" may itself be a user. */
		result = userdb_ask(fd, 2, user, reply);
		buf_reset(&detail);
	}
	close(fd);
	if (result != LDA_USERDB_OK)
		goto out;
	(void)str_copy(user_r->name, sizeof(user_r->name), reply->user);
	(void)str_copy(user_r->detail, sizeof(user_r->detail), buf_cstr(&detail));
	user_r->uid = (uid_t)reply->uid;
	user_r->gid = (gid_t)reply->gid;
	(void)str_copy(user_r->home, sizeof(user_r->home), reply->home);
	(void)str_copy(user_r->mail, sizeof(user_r->mail), reply->mail);
	(void)str_copy(user_r->extra, sizeof(user_r->extra), reply->extra);
out:
	free(reply);
	buf_free(&base);
	buf_free(&detail);
	return result;
}

const char *lda_user_extra(const struct lda_user *user, const char *key)
{
	static char value[AUTH_EXTRA_MAX];
	size_t key_len = strlen(key);

	for (const char *p = user->extra; *p != '\0';) {
		size_t len = strcspn(p, "\t");

		if (len > key_len && strncmp(p, key, key_len) == 0 && p[key_len] == '=') {
			(void)str_copy_n(value, sizeof(value), p + key_len + 1, len - key_len - 1);
			return value;
		}
		p += len + (p[len] == '\t' ? 1 : 0);
	}
	return NULL;
}
