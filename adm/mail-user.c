/*
 * Opening one user's mail for roostadm's mail commands, as doveadm does
 * with -u: userdb lookup through the running auth, the user's uid and gid,
 * the store, then the sandbox (adm/sandbox.c) before the first byte of the
 * Maildir is read. Runs in roostadm, as root or as the user; the userdb
 * answer is trusted, the Maildir's contents are not.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adm-sandbox.h"
#include "adm.h"
#include "ipc/msg-auth.h"
#include "log.h"
#include "storage/mail-user.h"
#include "xalloc.h"

/* Whether the user's uid and gid are allowed to have mail (as roost-lda). */
static bool identity_allowed(const struct roost_settings *set,
			     const struct auth_master_redeem_reply *r)
{
	if (r->uid == 0 || r->uid < set->first_valid_uid ||
	    (set->last_valid_uid != 0 && r->uid > set->last_valid_uid)) {
		log_error("Mail access for users with UID %u not permitted (see first_valid_uid "
			  "in config file, uid from userdb lookup).",
			  r->uid);
		return false;
	}
	if (r->gid < set->first_valid_gid ||
	    (set->last_valid_gid != 0 && r->gid > set->last_valid_gid)) {
		log_error("Mail access for users with GID %u not permitted (see first_valid_gid "
			  "in config file, gid from userdb lookup).",
			  r->gid);
		return false;
	}
	return true;
}

int adm_mail_user_open(struct adm_context *ctx, const char *user, struct mail_user *mu)
{
	/* stdout's buffer, so stdio never probes the terminal (ioctl) once
	   confined. */
	static char outbuf[8192];
	const struct roost_settings *set = settings_for_protocol(adm_settings(ctx), "doveadm");
	struct auth_master_redeem_reply *r = i_malloc(sizeof(*r));
	struct sandbox_identity id;
	struct sandbox_path paths[ADM_SANDBOX_PATHS_MAX];
	const struct mail_location *loc;
	struct mailbox_error err;
	size_t n = 0;
	int ret = ADM_EXIT_OK;

	switch (adm_userdb_lookup(ctx, user, r)) {
	case ADM_USERDB_OK:
		break;
	case ADM_USERDB_NOT_FOUND:
		ret = ADM_EXIT_NOUSER;
		goto out;
	case ADM_USERDB_NO_SERVER:
	case ADM_USERDB_FAILED:
		ret = ADM_EXIT_TEMPFAIL;
		goto out;
	}
	if (!identity_allowed(set, r)) {
		ret = ADM_EXIT_TEMPFAIL;
		goto out;
	}
	memset(&id, 0, sizeof(id));
	id.uid = r->uid;
	id.gid = r->gid;
	id.vsz_limit = set->default_vsz_limit;
	if (geteuid() == 0) {
		id.change_user = true;
	} else if (geteuid() != r->uid || getegid() != r->gid) {
		log_error("%s has uid %u and gid %u: run roostadm as root or as that user", r->user,
			  r->uid, r->gid);
		ret = ADM_EXIT_TEMPFAIL;
		goto out;
	}
	(void)setvbuf(stdout, outbuf, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, sizeof(outbuf));
	/* From here on everything runs as the user: no supplementary groups. */
	sandbox_drop_privileges(&adm_mail_sandbox, &id);
	mail_user_init(mu, set, r->user, r->home, r->mail, r->extra);
	if (mu->mail[0] == '\0') {
		log_error("mail_location not set and the userdb gave no mail location for %s",
			  r->user);
		ret = ADM_EXIT_CONFIG;
		goto out;
	}
	if (!mail_user_open(mu, &err)) {
		log_error("%s: mail storage unavailable: %s", r->user, err.text);
		ret = ADM_EXIT_TEMPFAIL;
		goto out;
	}
	loc = mail_storage_location(mu->storage);
	mail_location_mkdir_dirs(loc);
	for (unsigned int i = 0; i < mu->path_count && n < ADM_SANDBOX_PATHS_MAX - 1; i++)
		paths[n++] = mu->paths[i];
	if (access(mu->mountpoints_file, F_OK) == 0) {
		/* The store tells a bind mount from a bare directory by it. */
		paths[n].path = "/proc/self/mountinfo";
		paths[n].access = SANDBOX_FS_READ;
		n++;
	}
	id.paths = paths;
	id.path_count = n;
	sandbox_confine(&adm_mail_sandbox, &id);
out:
	free(r);
	return ret;
}
