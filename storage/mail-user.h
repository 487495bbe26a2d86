/*
 * One user's mail, as a session or a delivery sees it: the storage
 * settings built from roost.conf and the userdb answer (home, mail
 * location, quota rules), the storage itself, and the directories the
 * process must be allowed by Landlock. Runs in roost-imap, roost-pop3 and
 * roost-lda before their sandbox is complete; the userdb answer comes from
 * auth through master or the auth-userdb socket and is trusted.
 */
#ifndef ROOST_MAIL_USER_H
#define ROOST_MAIL_USER_H

#include <stdbool.h>

#include "mailbox.h"
#include "sandbox/sandbox.h"
#include "settings.h"

#define MAIL_USER_QUOTA_RULES_MAX 8
#define MAIL_USER_PATHS_MAX	  6
#define MAIL_USER_PATH_MAX	  1024

struct mail_user {
	char user[256];
	char home[MAIL_USER_PATH_MAX];
	char mail[MAIL_USER_PATH_MAX];
	char mountpoints_file[MAIL_USER_PATH_MAX];
	char quota_rule_buf[MAIL_USER_QUOTA_RULES_MAX][256];
	const char *quota_rules[MAIL_USER_QUOTA_RULES_MAX + 1];
	struct mail_storage_settings storage_set;
	struct mail_storage *storage;
	/* Landlock rules: home and the mail directories, read-write. */
	struct sandbox_path paths[MAIL_USER_PATHS_MAX];
	char path_buf[MAIL_USER_PATHS_MAX][MAIL_USER_PATH_MAX];
	unsigned int path_count;
};

/*
 * Fills mu from the settings (the protocol's view) and the userdb fields:
 * mail is the userdb mail field (empty = mail_location), extra the
 * tab-separated userdb fields (quota_rule, quota_rule2 ...). Quota rules
 * from plugin { quota_rule } apply when the userdb gives none.
 */
void mail_user_init(struct mail_user *mu, const struct roost_settings *set, const char *user,
		    const char *home, const char *mail, const char *extra);

/*
 * Opens (and creates if needed) the user's storage, so that its
 * directories exist, then lists them in mu->paths for Landlock. Returns
 * false with err set (NOT_MOUNTED, TEMP, PARAMS ...) on failure.
 */
bool mail_user_open(struct mail_user *mu, struct mailbox_error *err);
void mail_user_deinit(struct mail_user *mu);

#endif
