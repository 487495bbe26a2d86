/*
 * roostadm user USER: asks the running auth service (the auth-userdb
 * socket, as roost-lda does) for a user's userdb fields and prints them as
 * doveadm user does: a "field value" table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm.h"
#include "ipc/msg-auth.h"
#include "xalloc.h"

int cmd_user(struct adm_context *ctx, int argc, char **argv)
{
	struct auth_master_redeem_reply *r;
	int ret = ADM_EXIT_OK;

	if (argc != 2)
		return ADM_EXIT_USAGE;
	r = i_malloc(sizeof(*r));
	switch (adm_userdb_lookup(ctx, argv[1], r)) {
	case ADM_USERDB_OK:
		break;
	case ADM_USERDB_NOT_FOUND:
		free(r);
		return ADM_EXIT_NOTFOUND;
	case ADM_USERDB_NO_SERVER:
	case ADM_USERDB_FAILED:
		free(r);
		return ADM_EXIT_TEMPFAIL;
	}
	printf("field\tvalue\nuser\t%s\nuid\t%u\ngid\t%u\n", r->user, r->uid, r->gid);
	if (r->home[0] != '\0')
		printf("home\t%s\n", r->home);
	if (r->mail[0] != '\0')
		printf("mail\t%s\n", r->mail);
	for (const char *p = r->extra; *p != '\0';) {
		size_t len = strcspn(p, "\t");
		const char *eq = memchr(p, '=', len);

		if (eq != NULL)
			printf("%.*s\t%.*s\n", (int)(eq - p), p, (int)(len - (size_t)(eq - p) - 1),
			       eq + 1);
		p += len + (p[len] == '\t' ? 1 : 0);
	}
	free(r);
	return ret;
}
