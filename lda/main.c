/*
 * roost-lda: delivers one message from the MTA (Postfix's pipe(8), as
 * dovecot-lda is used) into one user's Maildir. Started by the MTA as the
 * mail user (or as root, then it drops to the user): it reads the
 * configuration, asks roost-auth for the user, sets up the store, confines
 * itself, and only then reads the message, which is untrusted. Every
 * failure before the message is safely stored exits EX_TEMPFAIL so the MTA
 * retries; nothing is ever half-delivered.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "auth-vars.h"
#include "../storage/charset.h"
#include "child.h"
#include "lda-sandbox.h"
#include "lda-stats.h"
#include "lda.h"
#include "log.h"
#include "../storage/mountpoint.h"
#include "xalloc.h"

/* How long roost-auth may take to answer the userdb lookup. */
#define LDA_USERDB_TIMEOUT_SECS 30
/* Most quota_rule, quota_rule2 ... settings read. */
#define LDA_QUOTA_RULES_MAX 10

#if defined(__SANITIZE_ADDRESS__)
/*
 * Sanitizer builds: the MTA runs roost-lda with an empty environment, so
 * ASAN_OPTIONS cannot switch LeakSanitizer off, and its exit-time scan
 * (ptrace of its own threads) cannot run inside the sandbox.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0:abort_on_error=1";
}
#endif

static bool opt_stderr;
/* Until the log is open, log lines already go to stderr. */
static bool log_on_stderr = true;

/* Any fatal() on the way (configuration, memory) must not bounce the mail. */
static void lda_fatal_exit(void)
{
	_exit(LDA_EXIT_TEMPFAIL);
}

/*
 * Logs why the delivery did not happen and exits with code. The reason also
 * goes to stderr, where the MTA puts it in its log and bounce, with -e and
 * for permanent failures (roost-lda sends no bounces of its own).
 */
ATTR_NORETURN ATTR_PRINTF(2, 3) static void lda_exit(int code, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_error("%s", text);
	if ((opt_stderr || code != LDA_EXIT_TEMPFAIL) && !log_on_stderr)
		fprintf(stderr, "%s\n", text);
	exit(code);
}

/*
 * A permanent refusal (EX_NOPERM). dovecot-lda would mail the rejection
 * itself without -e; roost-lda lets the MTA bounce, with the RFC 3463 code
 * in front of the reason so the bounce says why. -e gives the bare reason,
 * exactly as dovecot-lda -e writes it.
 */
ATTR_NORETURN static void lda_reject_exit(const char *dsn, const char *reason)
{
	if (opt_stderr || dsn == NULL)
		fprintf(stderr, "%s\n", reason);
	else
		fprintf(stderr, "%s %s\n", dsn, reason);
	exit(LDA_EXIT_NOPERM);
}

/*
 * Whether the syslog socket answers now. When it does not, glibc tries to
 * open a new socket for every later line, which the sandbox forbids: the
 * process would be killed after storing the message and the MTA would
 * deliver it again. Lines that could not reach syslog are lost either way.
 */
static bool syslog_reachable(void)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok;

	(void)str_copy(sun.sun_path, sizeof(sun.sun_path), _PATH_LOG);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static void lda_log_init(const struct roost_settings *set)
{
	struct log_settings ls = {
		.log_path = set->log_path,
		.info_log_path = set->info_log_path[0] != '\0' ? set->info_log_path : set->log_path,
		.syslog_ident = set->instance_name,
		.syslog_facility = set->syslog_facility,
		.log_timestamp = set->log_timestamp,
		.debug = set->mail_debug,
	};
	const char *error;

	ls.debug_log_path = set->debug_log_path[0] != '\0' ? set->debug_log_path : ls.info_log_path;
	if ((strcmp(ls.log_path, "syslog") == 0 || strcmp(ls.info_log_path, "syslog") == 0 ||
	     strcmp(ls.debug_log_path, "syslog") == 0) &&
	    !syslog_reachable()) {
		if (strcmp(ls.log_path, "syslog") == 0)
			ls.log_path = "/dev/null";
		if (strcmp(ls.info_log_path, "syslog") == 0)
			ls.info_log_path = "/dev/null";
		if (strcmp(ls.debug_log_path, "syslog") == 0)
			ls.debug_log_path = "/dev/null";
	}
	if (!log_init_direct(&ls, &error))
		lda_exit(LDA_EXIT_TEMPFAIL, "%s", error);
	log_on_stderr = strcmp(set->log_path, "/dev/stderr") == 0;
}

/* "lda(USER): " from mail_log_prefix. */
static void lda_log_prefix(const struct roost_settings *set, const char *user)
{
	struct buf prefix = BUF_INIT(255);
	struct auth_vars vars = {.user = user, .service = "lda"};
	const char *error;

	if (!auth_vars_expand(&prefix, set->mail_log_prefix, &vars, 0, &error)) {
		buf_reset(&prefix);
		(void)buf_printf(&prefix, "lda(%s): ", user);
	}
	log_set_prefix(buf_cstr(&prefix));
	buf_free(&prefix);
}

/* "994(vmail)" for messages about identities. */
static const char *uid_name(uid_t uid, char *buf, size_t size)
{
	struct passwd *pw = getpwuid(uid);

	(void)str_format(buf, size, "%u(%s)", (unsigned int)uid, pw != NULL ? pw->pw_name : "?");
	return buf;
}

/*
 * Who we deliver as: the userdb's uid and gid. As root we become them; as
 * anyone else we must already be them, as with dovecot-lda.
 */
static void lda_identity(const struct roost_settings *set, const struct lda_user *user,
			 struct sandbox_identity *id)
{
	char a[128], b[128];

	if (user->uid == 0 || user->uid < set->first_valid_uid ||
	    (set->last_valid_uid != 0 && user->uid > set->last_valid_uid))
		lda_exit(LDA_EXIT_TEMPFAIL,
			 "Mail access for users with UID %u not permitted (see first_valid_uid in "
			 "config file, uid from userdb lookup).",
			 (unsigned int)user->uid);
	if (user->gid < set->first_valid_gid ||
	    (set->last_valid_gid != 0 && user->gid > set->last_valid_gid))
		lda_exit(LDA_EXIT_TEMPFAIL,
			 "Mail access for users with GID %u not permitted (see first_valid_gid in "
			 "config file, gid from userdb lookup).",
			 (unsigned int)user->gid);
	memset(id, 0, sizeof(*id));
	id->uid = user->uid;
	id->gid = user->gid;
	if (geteuid() == 0) {
		id->change_user = true;
		return;
	}
	if (geteuid() != user->uid)
		lda_exit(LDA_EXIT_TEMPFAIL,
			 "setuid(%s from userdb lookup) failed with euid=%s: Operation not "
			 "permitted (This binary should probably be called with process user set "
			 "to %s instead of %s)",
			 uid_name(user->uid, a, sizeof(a)), uid_name(geteuid(), b, sizeof(b)), a,
			 b);
	if (getegid() != user->gid)
		lda_exit(LDA_EXIT_TEMPFAIL,
			 "setgid(%u from userdb lookup) failed with euid=%s, gid=%u, egid=%u: "
			 "Operation not permitted (This binary should probably be called with "
			 "process group set to %u instead of %u)",
			 (unsigned int)user->gid, uid_name(geteuid(), b, sizeof(b)),
			 (unsigned int)getgid(), (unsigned int)getegid(), (unsigned int)user->gid,
			 (unsigned int)getegid());
}

/* Whether the command line overrode a setting (-o NAME=VALUE). */
static bool overridden(const struct lda_options *opts, const char *name)
{
	size_t len = strlen(name);

	for (unsigned int i = 0; i < opts->override_count; i++) {
		if (strncmp(opts->overrides[i], name, len) == 0 &&
		    (opts->overrides[i][len] == '=' || opts->overrides[i][len] == ' '))
			return true;
	}
	return false;
}

/* Without -d: deliver to ourselves, as dovecot-lda does for a non-root caller. */
static void lda_self_user(const struct roost_settings *set, const char *env_user,
			  const char *env_home, struct lda_user *user)
{
	struct passwd *pw = getpwuid(geteuid());

	memset(user, 0, sizeof(*user));
	if (env_user != NULL && env_home != NULL) {
		(void)str_copy(user->name, sizeof(user->name), env_user);
		(void)str_copy(user->home, sizeof(user->home), env_home);
	} else if (pw != NULL) {
		(void)str_copy(user->name, sizeof(user->name), pw->pw_name);
		(void)str_copy(user->home, sizeof(user->home),
			       env_home != NULL ? env_home : pw->pw_dir);
	} else {
		lda_exit(LDA_EXIT_USAGE, "Couldn't lookup our username (uid=%u)",
			 (unsigned int)geteuid());
	}
	user->uid = geteuid();
	user->gid = getegid();
	(void)str_copy(user->mail, sizeof(user->mail), set->mail_location);
}

static enum mail_fsync_mode fsync_mode(const char *name)
{
	if (strcmp(name, "always") == 0)
		return MAIL_FSYNC_ALWAYS;
	if (strcmp(name, "never") == 0)
		return MAIL_FSYNC_NEVER;
	return MAIL_FSYNC_OPTIMIZED;
}

/* quota_rule, quota_rule2, ...: userdb fields win over plugin { } values,
   and -o plugin/quota_rule... over both. */
static size_t quota_rules(const struct roost_settings *set, const struct lda_options *opts,
			  const struct lda_user *user, char *rules[LDA_QUOTA_RULES_MAX + 1])
{
	size_t n = 0;

	for (unsigned int i = 1; i <= LDA_QUOTA_RULES_MAX; i++) {
		char key[32];
		const char *value;

		if (i == 1)
			(void)str_copy(key, sizeof(key), "quota_rule");
		else
			(void)str_format(key, sizeof(key), "quota_rule%u", i);
		{
			char name[40];

			(void)str_format(name, sizeof(name), "plugin/%s", key);
			value = overridden(opts, name) ? NULL : lda_user_extra(user, key);
		}
		if (value == NULL)
			value = settings_plugin_get(set, key);
		if (value != NULL && value[0] != '\0')
			rules[n++] = i_strdup(value);
	}
	rules[n] = NULL;
	return n;
}

static struct mail_storage *lda_storage_open(const struct roost_settings *set,
					     const struct lda_options *opts,
					     const struct lda_user *user, char *mounts_file,
					     size_t mounts_size)
{
	char *rules[LDA_QUOTA_RULES_MAX + 1];
	struct mail_storage_settings ss = {
		.mail_location = user->mail,
		.user = user->name,
		.home = user->home[0] != '\0' ? user->home : NULL,
		.quota_rules = (const char *const *)rules,
		.lock_timeout_secs = (unsigned int)((set->mail_max_lock_timeout + 999) / 1000),
		.fsync = fsync_mode(set->mail_fsync),
	};
	struct mail_storage *storage;
	struct mailbox_error err;
	size_t count = quota_rules(set, opts, user, rules);
	bool ok;

	if (str_format(mounts_file, mounts_size, "%s/%s", set->state_dir, MOUNTPOINT_STATE_FILE))
		ss.mountpoints_file = mounts_file;
	if (ss.mail_location[0] == '\0')
		lda_exit(LDA_EXIT_TEMPFAIL,
			 "mail_location not set and the userdb gave no mail location");
	ok = mail_storage_create(&ss, &storage, &err);
	for (size_t i = 0; i < count; i++)
		free(rules[i]);
	if (!ok)
		lda_exit(LDA_EXIT_TEMPFAIL, "Mail storage unavailable: %s", err.text);
	mail_location_mkdir_dirs(mail_storage_location(storage));
	return storage;
}

/* user@hostname for a user name without a domain (dovecot-lda's rule). */
static void user_address(const struct roost_settings *set, const char *user, char *out, size_t size)
{
	char host[256];

	if (strchr(user, '@') != NULL) {
		(void)str_copy(out, size, user);
		return;
	}
	if (set->hostname[0] != '\0')
		(void)str_copy(host, sizeof(host), set->hostname);
	else if (gethostname(host, sizeof(host)) < 0)
		(void)str_copy(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	(void)str_format(out, size, "%s@%s", user, host);
}

/* Clears the environment, keeping TZ, as dovecot-lda does without -k. */
static void clear_environment(void)
{
	const char *tz = getenv("TZ");
	char *keep = tz != NULL ? i_strdup(tz) : NULL;

	(void)clearenv();
	if (keep != NULL) {
		(void)setenv("TZ", keep, 1);
		free(keep);
	}
}

int main(int argc, char **argv)
{
	static struct lda_options opts;
	static struct lda_user user;
	static struct lda_message msg;
	static struct lda_delivery d;
	static char mail_from_buf[LDA_ADDRESS_MAX + 1], orig_buf[LDA_ADDRESS_MAX + 1],
		final_buf[LDA_ADDRESS_MAX + 1], socket_path[1100], mounts_file[1100],
		host_addr[LDA_ADDRESS_MAX + 300];
	struct roost_settings *all_set;
	const struct roost_settings *set;
	struct sandbox_identity id;
	struct sandbox_path paths[LDA_SANDBOX_PATHS_MAX];
	struct mail_storage *storage;
	const char *error, *env_user, *env_home, *mail_from = NULL, *orig_rcpt, *final_rcpt;
	char *conf_error = NULL;
	uint64_t input_size;
	int input_fd = STDIN_FILENO;

	child_describe_sandbox(argc, argv, &lda_sandbox);
	if (argc == 2 && strcmp(argv[1], "--sandbox-profile=submit") == 0) {
		static char opt[] = "--sandbox-profile";
		char *args[] = {argv[0], opt, NULL};

		child_describe_sandbox(2, args, &lda_submit_sandbox);
	}
	log_init_stderr("lda: ");
	log_set_fatal_callback(lda_fatal_exit);
	(void)signal(SIGPIPE, SIG_IGN);
	(void)signal(SIGXFSZ, SIG_IGN);

	/* 1. Command line and environment. */
	if (!lda_options_parse(argc, argv, &opts, &error)) {
		fprintf(stderr, "%s", lda_usage_text);
		lda_exit(LDA_EXIT_USAGE, "%s", error);
	}
	opt_stderr = opts.stderr_errors;
	env_user = getenv("USER") != NULL ? i_strdup(getenv("USER")) : NULL;
	env_home = getenv("HOME") != NULL ? i_strdup(getenv("HOME")) : NULL;
	if (!opts.keep_env)
		clear_environment();

	/* 2. Configuration (with -o) and our own log. */
	all_set = lda_settings_read(opts.config_path != NULL ? opts.config_path
							     : SYSCONFDIR "/roost/roost.conf",
				    opts.overrides, opts.override_count, &conf_error);
	if (all_set == NULL)
		lda_exit(LDA_EXIT_TEMPFAIL, "%s", conf_error);
	set = settings_for_protocol(all_set, "lda");
	lda_log_init(set);
	/* Every exit from here on is reported to the server for its counters. */
	lda_stats_start(set->base_dir, &d);

	/* 3. The envelope from the command line (-f and -a come from SMTP). */
	if (opts.mail_from != NULL) {
		if (lda_address_parse(opts.mail_from, true, true, mail_from_buf))
			mail_from = mail_from_buf;
		else {
			log_info("Broken -f parameter %s: proceeding with <> as sender",
				 opts.mail_from);
			mail_from = "";
		}
	}
	if (opts.orig_rcpt != NULL && !lda_address_parse(opts.orig_rcpt, false, true, orig_buf))
		lda_exit(LDA_EXIT_USAGE, "Invalid -a parameter: %s", opts.orig_rcpt);
	if (opts.final_rcpt != NULL && !lda_address_parse(opts.final_rcpt, false, true, final_buf))
		lda_exit(LDA_EXIT_USAGE, "Invalid -r parameter: %s", opts.final_rcpt);

	/* 4. The user: userdb with -d, else whoever runs us. */
	if (opts.user != NULL) {
		(void)str_format(socket_path, sizeof(socket_path), "%s/%s", set->base_dir,
				 AUTH_USERDB_SOCKET);
		switch (lda_userdb_lookup(socket_path, opts.user, set->recipient_delimiter,
					  LDA_USERDB_TIMEOUT_SECS, &user, &error)) {
		case LDA_USERDB_OK:
			break;
		case LDA_USERDB_NOT_FOUND:
			lda_log_prefix(set, opts.user);
			lda_exit(LDA_EXIT_NOUSER, "%s", error);
		case LDA_USERDB_TEMPFAIL:
			lda_log_prefix(set, opts.user);
			lda_exit(LDA_EXIT_TEMPFAIL, "%s", error);
		}
	} else if (geteuid() == 0) {
		lda_exit(LDA_EXIT_USAGE, "destination user parameter (-d user) not given");
	} else {
		lda_self_user(set, env_user, env_home, &user);
	}
	lda_log_prefix(set, user.name);
	log_debug("user %s: uid=%u gid=%u home=%s mail=%s%s%s%s", user.name, (unsigned int)user.uid,
		  (unsigned int)user.gid, user.home, user.mail,
		  user.detail[0] != '\0' ? " detail=" : "", user.detail,
		  opts.user != NULL ? " (from userdb)" : " (running user)");
	/* -o wins over the userdb, as with dovecot-lda. */
	if (overridden(&opts, "mail_location"))
		(void)str_copy(user.mail, sizeof(user.mail), set->mail_location);

	/* 5. Become the user, then set up the store as the user. Sieve's
	   scripts and submission helper come before NO_NEW_PRIVS when we
	   already are the user, so a set-gid sendmail (postdrop) still works. */
	lda_identity(set, &user, &id);
	id.vsz_limit = set->default_vsz_limit + 2 * set->lda_max_message_size;
	if (!id.change_user)
		d.filter = lda_filter_prepare(set, &user, &id);
	sandbox_drop_privileges(&lda_sandbox, &id);
	if (id.change_user)
		d.filter = lda_filter_prepare(set, &user, &id);
	if (opts.path != NULL) {
		input_fd = open(opts.path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (input_fd < 0)
			lda_exit(LDA_EXIT_TEMPFAIL, "Can't open delivery mail %s: %s", opts.path,
				 strerror(errno));
	}
	storage = lda_storage_open(set, &opts, &user, mounts_file, sizeof(mounts_file));
	if (user.home[0] != '\0' && chdir(user.home) < 0 && errno != ENOENT)
		log_warning("chdir(%s) failed: %m", user.home);
	/* The recipient when neither -a nor the header names one (uname()). */
	user_address(set, opts.user != NULL ? opts.user : user.name, host_addr, sizeof(host_addr));
	charset_set_iconv_enabled(false);

	/* 6. Confine, then read the message. */
	id.paths = paths;
	id.path_count = lda_sandbox_paths(mail_storage_location(storage), user.home,
					  access(mounts_file, F_OK) == 0, paths);
	id.path_count += lda_filter_sandbox_paths(d.filter, paths + id.path_count,
						  LDA_SANDBOX_PATHS_MAX - id.path_count);
	sandbox_confine(&lda_sandbox, &id);

	switch (lda_message_read(input_fd, set->lda_max_message_size, &msg, &input_size, &error)) {
	case LDA_READ_OK:
		break;
	case LDA_READ_TOO_LARGE: {
		char text[256];

		(void)str_format(text, sizeof(text),
				 "Message too large (more than lda_max_message_size = %llu bytes)",
				 (unsigned long long)set->lda_max_message_size);
		log_info("rejected: %s", text);
		lda_reject_exit("5.2.3", text);
	}
	case LDA_READ_ERROR:
		lda_exit(LDA_EXIT_TEMPFAIL, "%s", error);
	}
	lda_message_parse_header(&msg, set->lda_original_recipient_header);

	/* 7. The envelope's defaults, the trace fields, then deliver. */
	if (mail_from == NULL)
		mail_from = msg.from_line_sender;
	if (opts.orig_rcpt != NULL)
		orig_rcpt = orig_buf;
	else if (msg.orig_rcpt_header != NULL)
		orig_rcpt = msg.orig_rcpt_header;
	else
		orig_rcpt = host_addr;
	final_rcpt = opts.final_rcpt != NULL ? final_buf : orig_rcpt;
	log_debug("Destination address: %s (source: %s), envelope sender: <%s>", orig_rcpt,
		  opts.orig_rcpt != NULL	      ? "-a parameter"
		  : orig_rcpt == msg.orig_rcpt_header ? set->lda_original_recipient_header
						      : "user@hostname",
		  mail_from != NULL ? mail_from : "");
	lda_message_add_trace(&msg, mail_from, final_rcpt);

	d.set = set;
	d.user = &user;
	d.storage = storage;
	d.msg = &msg;
	d.mail_from = mail_from != NULL ? mail_from : "";
	d.rcpt_to = final_rcpt;
	d.orig_rcpt_to = orig_rcpt;
	d.default_mailbox = opts.mailbox != NULL ? opts.mailbox : "INBOX";
	lda_filter_run(&d);

	switch (d.status) {
	case LDA_STATUS_OK:
		break;
	case LDA_STATUS_REJECTED:
		if (d.bounced)
			break; /* Sieve's reject sent the bounce itself */
		lda_deliver_log(&d, false, "rejected: %s", d.reason);
		lda_reject_exit(d.dsn, d.reason);
	case LDA_STATUS_TEMPFAIL:
		if (opt_stderr)
			fprintf(stderr, "%s\n", d.reason);
		return LDA_EXIT_TEMPFAIL;
	}
	mail_storage_destroy(&storage);
	lda_message_free(&msg);
	settings_free(&all_set);
	return LDA_EXIT_OK;
}
