/*
 * passdbs and userdbs of roost-auth, from the passdb { } and userdb { }
 * blocks: passwd-file (Dovecot's format, re-read when the file changes),
 * static userdb args and prefetch (userdb_ fields of the passdb entry).
 * Runs sandboxed with read-only access to the files' directories; names
 * in static args are resolved before the sandbox.
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth-vars.h"
#include "auth.h"
#include "ioloop.h"
#include "log.h"
#include "net.h"
#include "passwd-file.h"
#include "password.h"
#include "xalloc.h"

#define AUTH_DB_MAX	 8
#define DB_RECHECK_MSECS 1000

enum db_driver {
	DB_PASSWD_FILE,
	DB_STATIC,
	DB_PREFETCH,
};

struct db_file {
	struct passwd_file_args args;
	struct passwd_file *file;
	uint64_t checked_ms;
	bool failed; /* unreadable: lookups are temporary failures */
};

struct passdb {
	struct db_file f;
	bool deny;
};

struct userdb {
	enum db_driver driver;
	struct db_file f;
	struct passwd_file_static_args static_args;
	bool static_uid_set, static_gid_set;
	uid_t static_uid;
	gid_t static_gid;
};

static struct {
	struct passdb passdbs[AUTH_DB_MAX];
	unsigned int passdb_count;
	struct userdb userdbs[AUTH_DB_MAX];
	unsigned int userdb_count;
	bool mail_uid_set, mail_gid_set;
	uid_t mail_uid;
	gid_t mail_gid;
	/* A hash in the first passdb's scheme, checked for unknown users. */
	struct buf dummy_hash;
} db;

/* (Re)reads a file when it changed on disk, at most once a second. */
static bool db_file_refresh(struct db_file *f)
{
	char *error = NULL;
	int changed;

	if (f->file != NULL && ioloop_now_ms() < f->checked_ms + DB_RECHECK_MSECS)
		return !f->failed;
	f->checked_ms = ioloop_now_ms();
	changed = f->file == NULL ? 1 : passwd_file_changed(f->file, &error);
	if (changed == 0)
		return !f->failed;
	if (changed < 0) {
		log_error("passwd-file %s: %s", f->args.path, error);
		free(error);
		f->failed = true;
		return false;
	}
	struct passwd_file *fresh = passwd_file_read(f->args.path, NULL, &error);

	if (fresh == NULL) {
		log_error("passwd-file %s: %s (auth runs as %s: the file must be readable by it)",
			  f->args.path, error, auth_set->default_internal_user);
		free(error);
		f->failed = true;
		return false;
	}
	passwd_file_free(&f->file);
	f->file = fresh;
	if (f->failed)
		log_info("passwd-file %s: readable again (%zu users)", f->args.path,
			 passwd_file_count(f->file));
	f->failed = false;
	return true;
}

/* The key a file is looked up by: username_format applied to user. */
static const struct passwd_file_entry *db_file_lookup(struct db_file *f, const char *user,
						      bool *tempfail_r)
{
	struct buf key = BUF_INIT(POLICY_USER_MAX * 2);
	struct auth_vars vars = {.user = user};
	const struct passwd_file_entry *e = NULL;
	const char *error;

	*tempfail_r = false;
	if (!db_file_refresh(f)) {
		*tempfail_r = true;
		return NULL;
	}
	if (f->args.username_format == NULL)
		(void)buf_append_str(&key, user);
	else if (!auth_vars_expand(&key, f->args.username_format, &vars, 0, &error)) {
		log_error("passwd-file %s: username_format: %s", f->args.path, error);
		*tempfail_r = true;
		buf_free(&key);
		return NULL;
	}
	e = passwd_file_lookup(f->file, buf_cstr(&key));
	buf_free(&key);
	return e;
}

static void db_file_init(struct db_file *f, const char *what, const struct authdb_settings *s)
{
	char *error;

	if (!passwd_file_args_parse(s->args, &f->args, &error))
		fatal("%s passwd-file: args = %s: %s", what, s->args, error);
}

static bool resolve_static_ids(struct userdb *u)
{
	char *error;

	if (u->static_args.uid != NULL) {
		if (!passwd_file_resolve_uid(u->static_args.uid, &u->static_uid, &error))
			fatal("userdb static: uid=%s: %s", u->static_args.uid, error);
		u->static_uid_set = true;
	}
	if (u->static_args.gid != NULL) {
		if (!passwd_file_resolve_gid(u->static_args.gid, &u->static_gid, &error))
			fatal("userdb static: gid=%s: %s", u->static_args.gid, error);
		u->static_gid_set = true;
	}
	return true;
}

static void db_configure(void)
{
	const struct roost_settings *set = auth_set;
	char *error;

	for (unsigned int i = 0; i < set->passdb_count && db.passdb_count < AUTH_DB_MAX; i++) {
		const struct authdb_settings *s = &set->passdbs[i];
		struct passdb *p = &db.passdbs[db.passdb_count];

		if (strcmp(s->driver, "passwd-file") != 0)
			fatal("passdb driver %s is not supported (roost has passwd-file)",
			      s->driver);
		db_file_init(&p->f, "passdb", s);
		p->deny = s->deny;
		db.passdb_count++;
	}
	for (unsigned int i = 0; i < set->userdb_count && db.userdb_count < AUTH_DB_MAX; i++) {
		const struct authdb_settings *s = &set->userdbs[i];
		struct userdb *u = &db.userdbs[db.userdb_count];

		if (strcmp(s->driver, "passwd-file") == 0) {
			u->driver = DB_PASSWD_FILE;
			db_file_init(&u->f, "userdb", s);
		} else if (strcmp(s->driver, "static") == 0) {
			u->driver = DB_STATIC;
			if (!passwd_file_static_args_parse(s->args, &u->static_args, &error))
				fatal("userdb static: args = %s: %s", s->args, error);
			(void)resolve_static_ids(u);
		} else if (strcmp(s->driver, "prefetch") == 0) {
			u->driver = DB_PREFETCH;
		} else {
			fatal("userdb driver %s is not supported (roost has passwd-file, static, "
			      "prefetch)",
			      s->driver);
		}
		db.userdb_count++;
	}
	if (set->mail_uid[0] != '\0') {
		if (!passwd_file_resolve_uid(set->mail_uid, &db.mail_uid, &error))
			fatal("mail_uid: %s", error);
		db.mail_uid_set = true;
	}
	if (set->mail_gid[0] != '\0') {
		if (!passwd_file_resolve_gid(set->mail_gid, &db.mail_gid, &error))
			fatal("mail_gid: %s", error);
		db.mail_gid_set = true;
	}
}

unsigned int auth_db_paths(const char **paths, unsigned int max)
{
	unsigned int n = 0;

	if (db.passdb_count == 0 && db.userdb_count == 0)
		db_configure();
	for (unsigned int i = 0; i < db.passdb_count && n < max; i++)
		paths[n++] = db.passdbs[i].f.args.path;
	for (unsigned int i = 0; i < db.userdb_count && n < max; i++) {
		if (db.userdbs[i].driver == DB_PASSWD_FILE)
			paths[n++] = db.userdbs[i].f.args.path;
	}
	return n;
}

void auth_db_init(void)
{
	if (db.passdb_count == 0 && db.userdb_count == 0)
		db_configure();
	if (db.passdb_count == 0)
		log_warning("No passdbs configured: every login will fail");
	else {
		const char *scheme = db.passdbs[0].f.args.scheme, *error;

		buf_init(&db.dummy_hash, 1024);
		if (scheme == NULL ||
		    !password_generate(scheme, "roost", 0, &db.dummy_hash, &error)) {
			buf_reset(&db.dummy_hash);
			(void)password_generate("SHA512-CRYPT", "roost", 0, &db.dummy_hash, &error);
		}
	}
	if (db.userdb_count == 0)
		log_warning("No userdbs configured: no session can start");
	for (unsigned int i = 0; i < db.passdb_count; i++)
		(void)db_file_refresh(&db.passdbs[i].f);
	for (unsigned int i = 0; i < db.userdb_count; i++) {
		if (db.userdbs[i].driver == DB_PASSWD_FILE)
			(void)db_file_refresh(&db.userdbs[i].f);
	}
}

bool auth_user_name(const char *raw, size_t len, char *out, size_t size)
{
	struct auth_user_settings us = {
		.username_chars = auth_set->auth_username_chars,
		.username_format = auth_set->auth_username_format,
		.default_realm = auth_set->auth_default_realm,
	};
	struct buf b = BUF_INIT(POLICY_USER_MAX - 1);
	const char *error;
	bool ok = auth_user_normalize(raw, len, &us, &b, &error) && buf_len(&b) > 0 &&
		  str_copy(out, size, buf_cstr(&b));

	buf_free(&b);
	return ok;
}

static void verbose(const char *user, const char *rip, const char *what)
{
	if (auth_set->auth_verbose)
		log_info("passwd-file(%s,%s): %s", user, rip, what);
}

/* Checks the passdb entry's own restrictions (nologin, allow_nets). */
static enum auth_db_result entry_allowed(const struct passwd_file_entry *e, const char *user,
					 const char *rip, struct auth_db_user *r)
{
	const char *nets = passwd_file_entry_get(e, "allow_nets");
	const char *reason = passwd_file_entry_get(e, "reason");
	struct net_ip ip;

	if (nets != NULL && (!net_ip_parse(rip, &ip) || !net_ip_in_list(&ip, nets))) {
		verbose(user, rip, "allow_nets check failed: IP not in allowed networks");
		return AUTH_DB_MISMATCH;
	}
	if (passwd_file_entry_get(e, "nologin") != NULL) {
		(void)str_copy(r->reason, sizeof(r->reason),
			       reason != NULL ? reason : "Login disabled for this user.");
		return AUTH_DB_DISABLED;
	}
	r->nodelay = passwd_file_entry_get(e, "nodelay") != NULL;
	return AUTH_DB_OK;
}

enum auth_db_result auth_passdb_verify(const char *user, const char *password, const char *rip,
				       struct auth_db_user *r)
{
	enum auth_db_result result = AUTH_DB_UNKNOWN_USER;

	memset(r, 0, sizeof(*r));
	(void)str_copy(r->user, sizeof(r->user), user);
	for (unsigned int i = 0; i < db.passdb_count; i++) {
		struct passdb *p = &db.passdbs[i];
		bool tempfail;
		const struct passwd_file_entry *e = db_file_lookup(&p->f, user, &tempfail);
		const char *error = NULL;
		enum password_result pr;

		if (tempfail) {
			result = AUTH_DB_TEMPFAIL;
			continue;
		}
		if (e == NULL)
			continue;
		if (p->deny) {
			verbose(user, rip, "User is in deny passdb");
			return AUTH_DB_DISABLED;
		}
		if (passwd_file_entry_get(e, "nopassword") != NULL)
			pr = PASSWORD_OK;
		else if (e->password == NULL)
			pr = PASSWORD_MISMATCH;
		else
			pr = password_verify(e->password,
					     p->f.args.scheme != NULL ? p->f.args.scheme : "CRYPT",
					     password, &error);
		if (pr == PASSWORD_OK)
			return entry_allowed(e, user, rip, r);
		if (pr == PASSWORD_MISMATCH) {
			verbose(user, rip, "Password mismatch");
			result = AUTH_DB_MISMATCH;
			continue;
		}
		log_error("passwd-file(%s,%s): %s", user, rip,
			  error != NULL ? error : "password verification failed");
		if (result != AUTH_DB_MISMATCH)
			result = AUTH_DB_TEMPFAIL;
	}
	if (result == AUTH_DB_UNKNOWN_USER) {
		/* Spend the time a real check would, so unknown users look the same. */
		const char *error;

		if (buf_len(&db.dummy_hash) > 0)
			(void)password_verify(buf_cstr(&db.dummy_hash), "CRYPT", password, &error);
		verbose(user, rip, "unknown user");
	}
	return result;
}

enum auth_db_result auth_passdb_credentials(const char *user, const char *rip,
					    const char **stored_r, const char **default_scheme_r,
					    struct auth_db_user *r)
{
	enum auth_db_result result = AUTH_DB_UNKNOWN_USER;

	memset(r, 0, sizeof(*r));
	(void)str_copy(r->user, sizeof(r->user), user);
	for (unsigned int i = 0; i < db.passdb_count; i++) {
		struct passdb *p = &db.passdbs[i];
		bool tempfail;
		const struct passwd_file_entry *e = db_file_lookup(&p->f, user, &tempfail);
		enum auth_db_result allowed;

		if (tempfail) {
			result = AUTH_DB_TEMPFAIL;
			continue;
		}
		if (e == NULL)
			continue;
		if (p->deny)
			return AUTH_DB_DISABLED;
		if (e->password == NULL)
			return AUTH_DB_MISMATCH;
		allowed = entry_allowed(e, user, rip, r);
		if (allowed != AUTH_DB_OK)
			return allowed;
		*stored_r = e->password;
		*default_scheme_r = p->f.args.scheme != NULL ? p->f.args.scheme : "CRYPT";
		return AUTH_DB_OK;
	}
	if (result == AUTH_DB_UNKNOWN_USER)
		verbose(user, rip, "unknown user");
	return result;
}

/* Copies userdb fields (userdb_ prefix stripped) into the reply's extra. */
static void extra_add(struct auth_master_redeem_reply *r, const char *key, const char *value)
{
	size_t len = strlen(r->extra);

	if (strncmp(key, "userdb_", 7) == 0)
		key += 7;
	if (strcmp(key, "mail") == 0) {
		(void)str_copy(r->mail, sizeof(r->mail), value != NULL ? value : "");
		return;
	}
	if (strcmp(key, "home") == 0 || strcmp(key, "uid") == 0 || strcmp(key, "gid") == 0)
		return; /* handled by the caller from the entry's own fields */
	(void)str_format(r->extra + len, sizeof(r->extra) - len, "%s%s=%s", len > 0 ? "\t" : "",
			 key, value != NULL ? value : "");
}

static bool entry_ids(const struct passwd_file_entry *e, struct auth_master_redeem_reply *r)
{
	char *error;
	uid_t uid;
	gid_t gid;

	if (e->uid != NULL) {
		if (!passwd_file_resolve_uid(e->uid, &uid, &error)) {
			log_error("userdb(%s): uid %s: %s", r->user, e->uid, error);
			free(error);
			return false;
		}
		r->uid = (uint32_t)uid;
	}
	if (e->gid != NULL) {
		if (!passwd_file_resolve_gid(e->gid, &gid, &error)) {
			log_error("userdb(%s): gid %s: %s", r->user, e->gid, error);
			free(error);
			return false;
		}
		r->gid = (uint32_t)gid;
	}
	if (e->home != NULL)
		(void)str_copy(r->home, sizeof(r->home), e->home);
	return true;
}

static bool expand_path(const char *tmpl, const char *user, const char *home, char *out,
			size_t size)
{
	struct buf b = BUF_INIT(AUTH_PATH_MAX - 1);
	struct auth_vars vars = {.user = user, .home = home};
	const char *error;
	bool ok = auth_vars_expand(&b, tmpl, &vars, AUTH_VARS_FLAG_PATH, &error) &&
		  str_copy(out, size, buf_cstr(&b));

	if (!ok)
		log_error("userdb(%s): expanding %s failed: %s", user, tmpl, error);
	buf_free(&b);
	return ok;
}

enum auth_userdb_status auth_userdb_lookup(const char *user, struct auth_master_redeem_reply *r)
{
	bool found = false, ids_ok = true;

	memset(r, 0, sizeof(*r));
	(void)str_copy(r->user, sizeof(r->user), user);
	r->uid = db.mail_uid_set ? (uint32_t)db.mail_uid : (uint32_t)-1;
	r->gid = db.mail_gid_set ? (uint32_t)db.mail_gid : (uint32_t)-1;
	for (unsigned int i = 0; i < db.userdb_count && !found; i++) {
		struct userdb *u = &db.userdbs[i];
		const struct passwd_file_entry *e = NULL;
		bool tempfail = false;

		switch (u->driver) {
		case DB_PASSWD_FILE:
			e = db_file_lookup(&u->f, user, &tempfail);
			if (tempfail)
				return USERDB_TEMPFAIL;
			if (e == NULL)
				continue;
			ids_ok = entry_ids(e, r);
			for (size_t j = 0; j < e->field_count; j++)
				extra_add(r, e->fields[j].key, e->fields[j].value);
			found = true;
			break;
		case DB_STATIC:
			if (u->static_uid_set)
				r->uid = (uint32_t)u->static_uid;
			if (u->static_gid_set)
				r->gid = (uint32_t)u->static_gid;
			if (u->static_args.home != NULL &&
			    !expand_path(u->static_args.home, user, NULL, r->home, sizeof(r->home)))
				return USERDB_TEMPFAIL;
			for (size_t j = 0; j < u->static_args.field_count; j++)
				extra_add(r, u->static_args.fields[j].key,
					  u->static_args.fields[j].value);
			found = true;
			break;
		case DB_PREFETCH:
			/* The passdb entry's userdb_ fields. */
			for (unsigned int k = 0; k < db.passdb_count && e == NULL; k++)
				e = db_file_lookup(&db.passdbs[k].f, user, &tempfail);
			if (e == NULL)
				continue;
			ids_ok = entry_ids(e, r);
			for (size_t j = 0; j < e->field_count; j++) {
				if (strncmp(e->fields[j].key, "userdb_", 7) == 0)
					extra_add(r, e->fields[j].key, e->fields[j].value);
			}
			found = true;
			break;
		}
	}
	if (!found)
		return USERDB_NOT_FOUND;
	if (!ids_ok || r->uid == (uint32_t)-1 || r->gid == (uint32_t)-1) {
		if (ids_ok)
			log_error(
				"userdb(%s): no uid or gid (set them in the userdb or mail_uid and "
				"mail_gid)",
				user);
		return USERDB_TEMPFAIL;
	}
	if (r->home[0] == '\0' && auth_set->mail_home[0] != '\0' &&
	    !expand_path(auth_set->mail_home, user, NULL, r->home, sizeof(r->home)))
		return USERDB_TEMPFAIL;
	if (r->mail[0] == '\0')
		(void)str_copy(r->mail, sizeof(r->mail), auth_set->mail_location);
	return USERDB_OK;
}
