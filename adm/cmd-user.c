/*
 * roostadm user USER: asks the running auth service (the auth-userdb
 * socket, as roost-lda does) for a user's userdb fields and prints them as
 * doveadm user does: a "field value" table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "adm.h"
#include "ipc/msg-auth.h"
#include "log.h"
#include "xalloc.h"

int cmd_user(struct adm_context *ctx, int argc, char **argv)
{
	const struct roost_settings *set;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct auth_userdb_lookup lookup;
	struct ipc_message *msg;
	union auth_userdb_msg_any *m;
	const char *error;
	int fd, ret = ADM_EXIT_OK;

	if (argc != 2)
		return ADM_EXIT_USAGE;
	set = adm_settings(ctx);
	if (!str_format(sun.sun_path, sizeof(sun.sun_path), "%s/%s", set->base_dir,
			AUTH_USERDB_SOCKET))
		fatal("base_dir is too long");
	memset(&lookup, 0, sizeof(lookup));
	lookup.id = 1;
	if (!str_copy(lookup.user, sizeof(lookup.user), argv[1])) {
		log_error("User name too long");
		return ADM_EXIT_USAGE;
	}
	(void)str_copy(lookup.service, sizeof(lookup.service), "doveadm");
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		log_error("The server is not running (connect(%s) failed: %m)", sun.sun_path);
		return ADM_EXIT_TEMPFAIL;
	}
	msg = i_malloc(sizeof(*msg));
	m = i_malloc(sizeof(*m));
	if (ipc_send_msg(fd, AUTH_USERDB_MSG(AUTH_USERDB_LOOKUP), &lookup, NULL, 0) < 0 ||
	    ipc_recv(fd, msg) <= 0 ||
	    ipc_message_decode(&auth_userdb_channel, msg, m, sizeof(*m), &error) == NULL ||
	    msg->type != AUTH_USERDB_REPLY) {
		log_error("userdb lookup failed: no valid answer from auth");
		ret = ADM_EXIT_TEMPFAIL;
	} else if (m->reply.status == USERDB_NOT_FOUND) {
		log_error("userdb lookup: user %s doesn't exist", argv[1]);
		ret = ADM_EXIT_NOTFOUND;
	} else if (m->reply.status != USERDB_OK) {
		log_error("userdb lookup failed for %s (see the server log)", argv[1]);
		ret = ADM_EXIT_TEMPFAIL;
	} else {
		const struct auth_master_redeem_reply *r = &m->reply;

		printf("field\tvalue\nuser\t%s\nuid\t%u\ngid\t%u\n", r->user, r->uid, r->gid);
		if (r->home[0] != '\0')
			printf("home\t%s\n", r->home);
		if (r->mail[0] != '\0')
			printf("mail\t%s\n", r->mail);
		for (const char *p = r->extra; *p != '\0';) {
			size_t len = strcspn(p, "\t");
			const char *eq = memchr(p, '=', len);

			if (eq != NULL)
				printf("%.*s\t%.*s\n", (int)(eq - p), p,
				       (int)(len - (size_t)(eq - p) - 1), eq + 1);
			p += len + (p[len] == '\t' ? 1 : 0);
		}
	}
	close(fd);
	free(msg);
	free(m);
	return ret;
}
