/*
 * A user's mail context (see mail-user.h).
 */
#include <string.h>

#include "mail-location.h"
#include "mail-user.h"
#include "mountpoint.h"

static void add_quota_rule(struct mail_user *mu, unsigned int *n, const char *rule)
{
	if (*n >= MAIL_USER_QUOTA_RULES_MAX || rule == NULL || rule[0] == '\0')
		return;
	if (!str_copy(mu->quota_rule_buf[*n], sizeof(mu->quota_rule_buf[*n]), rule))
		return;
	mu->quota_rules[*n] = mu->quota_rule_buf[*n];
	(*n)++;
	mu->quota_rules[*n] = NULL;
}

/* quota_rule, quota_rule2 ... from the userdb's extra fields. */
static void quota_rules_from_extra(struct mail_user *mu, unsigned int *n, const char *extra)
{
	for (const char *p = extra; *p != '\0';) {
		size_t len = strcspn(p, "\t");
		const char *eq = memchr(p, '=', len);
		char rule[256];

		if (eq != NULL && (size_t)(eq - p) >= 10 && strncmp(p, "quota_rule", 10) == 0 &&
		    str_copy_n(rule, sizeof(rule), eq + 1, len - (size_t)(eq - p) - 1))
			add_quota_rule(mu, n, rule);
		p += len + (p[len] == '\t' ? 1 : 0);
	}
}

void mail_user_init(struct mail_user *mu, const struct roost_settings *set, const char *user,
		    const char *home, const char *mail, const char *extra)
{
	unsigned int nrules = 0;

	memset(mu, 0, sizeof(*mu));
	(void)str_copy(mu->user, sizeof(mu->user), user);
	(void)str_copy(mu->home, sizeof(mu->home), home);
	(void)str_copy(mu->mail, sizeof(mu->mail), mail[0] != '\0' ? mail : set->mail_location);
	(void)str_format(mu->mountpoints_file, sizeof(mu->mountpoints_file), "%s/%s",
			 set->state_dir, MOUNTPOINT_STATE_FILE);
	quota_rules_from_extra(mu, &nrules, extra);
	if (nrules == 0) {
		for (unsigned int i = 0; i < set->plugin_count; i++) {
			if (strncmp(set->plugin[i].key, "quota_rule", 10) == 0)
				add_quota_rule(mu, &nrules, set->plugin[i].value);
		}
	}
	mu->storage_set.mail_location = mu->mail;
	mu->storage_set.user = mu->user;
	mu->storage_set.home = mu->home[0] != '\0' ? mu->home : NULL;
	mu->storage_set.hostname = set->hostname[0] != '\0' ? set->hostname : NULL;
	mu->storage_set.mountpoints_file = mu->mountpoints_file;
	mu->storage_set.quota_rules = nrules > 0 ? mu->quota_rules : NULL;
	mu->storage_set.lock_timeout_secs =
		(unsigned int)((set->mail_max_lock_timeout + 999) / 1000);
	mu->storage_set.fsync = strcmp(set->mail_fsync, "always") == 0	? MAIL_FSYNC_ALWAYS
				: strcmp(set->mail_fsync, "never") == 0 ? MAIL_FSYNC_NEVER
									: MAIL_FSYNC_OPTIMIZED;
	mu->storage_set.very_dirty_syncs = set->maildir_very_dirty_syncs;
}

static void add_path(struct mail_user *mu, const char *path)
{
	if (path == NULL || path[0] == '\0' || mu->path_count == MAIL_USER_PATHS_MAX)
		return;
	for (unsigned int i = 0; i < mu->path_count; i++) {
		if (strcmp(mu->path_buf[i], path) == 0)
			return;
	}
	if (!str_copy(mu->path_buf[mu->path_count], MAIL_USER_PATH_MAX, path))
		return;
	mu->paths[mu->path_count].path = mu->path_buf[mu->path_count];
	mu->paths[mu->path_count].access = SANDBOX_FS_READ | SANDBOX_FS_WRITE;
	mu->path_count++;
}

bool mail_user_open(struct mail_user *mu, struct mailbox_error *err)
{
	const struct mail_location *loc;

	if (!mail_storage_create(&mu->storage_set, &mu->storage, err))
		return false;
	loc = mail_storage_location(mu->storage);
	add_path(mu, mu->home);
	add_path(mu, loc->root);
	add_path(mu, loc->inbox);
	add_path(mu, loc->index_dir);
	add_path(mu, loc->control_dir);
	return true;
}

void mail_user_deinit(struct mail_user *mu)
{
	mail_storage_destroy(&mu->storage);
}
