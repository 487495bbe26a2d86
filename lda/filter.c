/*
 * The filtering step of a delivery: Pigeonhole's sequence of sieve_before
 * scripts, the user's script (or sieve_default) and sieve_after scripts,
 * run by the Sieve engine (lda/sieve) on the message, and the result
 * performed: stores through lda_deliver_store()/lda_deliver_keep(), mail
 * sent through the submission helper (lda/submit.h), memory of replies
 * and redirects in the user's duplicate database. lda_filter_prepare()
 * runs before the sandbox and only looks at configured paths; everything
 * else runs confined, where scripts (users') and the message (the
 * internet's) are untrusted.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "auth-vars.h"
#include "dupdb.h"
#include "lda-sandbox.h"
#include "lda.h"
#include "log.h"
#include "../storage/mailbox-name.h"
#include "sieve/sieve-compose.h"
#include "sieve/sieve-files.h"
#include "sieve/sieve-message.h"
#include "sieve/sieve-tool.h"
#include "sieve/sieve.h"
#include "submit.h"
#include "xalloc.h"

/* CPU seconds the backstop allows beyond sieve_max_cpu_time (compilation,
   the message's own parsing, the engine's coarse checks). */
#define LDA_FILTER_CPU_MARGIN 2
/* Most bytes of one outgoing message besides the delivered one. */
#define LDA_FILTER_OUT_EXTRA (1024 * 1024)
/* Most flags and keywords on one stored message. */
#define LDA_FILTER_KEYWORDS_MAX 64

struct lda_filter {
	const struct roost_settings *set;
	const struct lda_user *user;
	struct sieve_settings *sset;
	struct pool *pool;
	struct sieve_script_files files;
	struct lda_submit *submit;
	const char *submit_error; /* why there is no helper although needed */
	bool may_send;
	char hostname[256];
	char *dupdb_path;
};

/* What the engine's callbacks need during one run. */
struct filter_run {
	struct lda_delivery *d;
	struct lda_filter *f;
	struct lda_dupdb *dupdb;
	struct sieve_script *scripts[SIEVE_MAX_SEQUENCE];
	unsigned int script_count;
	bool user_ran; /* the user's own script was compiled (errors are theirs) */
};

/*
 * The CPU-time backstop: the engine checks sieve_max_cpu_time between
 * steps, but one regular expression match cannot be interrupted that
 * way. ITIMER_PROF, armed before the sandbox, fires when the process has
 * used the limit plus a margin; if scripts are running then, the handler
 * jumps out of them and the message is kept. It never jumps out of the
 * allocator: roost-lda's malloc wrappers (lda/malloc-guard.c) count how
 * deep the process is inside it, and the jump waits until they leave.
 * Memory the engine held is abandoned (the process ends soon after).
 */
static sigjmp_buf backstop_jmp;
static volatile sig_atomic_t backstop_armed, backstop_pending;
volatile sig_atomic_t lda_backstop_malloc_depth;

static void backstop_handler(int signo)
{
	(void)signo;
	if (!backstop_armed)
		return;
	if (lda_backstop_malloc_depth > 0) {
		backstop_pending = 1;
		return;
	}
	backstop_armed = 0;
	siglongjmp(backstop_jmp, 1);
}

void lda_backstop_malloc_left(void)
{
	if (backstop_pending && backstop_armed && lda_backstop_malloc_depth == 0) {
		backstop_pending = 0;
		backstop_armed = 0;
		siglongjmp(backstop_jmp, 1);
	}
}

static void backstop_arm(unsigned int seconds)
{
	struct sigaction sa;
	struct itimerval it;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = backstop_handler;
	sa.sa_flags = SA_RESTART;
	(void)sigemptyset(&sa.sa_mask);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = (time_t)seconds + LDA_FILTER_CPU_MARGIN;
	if (sigaction(SIGPROF, &sa, NULL) < 0 || setitimer(ITIMER_PROF, &it, NULL) < 0)
		log_warning("sieve: cannot arm the CPU time backstop: %m");
}

/*
 * Preparation (before the sandbox)
 */

/* Case-insensitive search for a command name in script bytes. */
static bool mentions(const char *data, size_t len, const char *word)
{
	size_t wl = strlen(word);

	for (size_t i = 0; i + wl <= len; i++) {
		if (strncasecmp(data + i, word, wl) == 0)
			return true;
	}
	return false;
}

/*
 * Whether the script at path could send mail: Sieve commands cannot be
 * made up at run time, so a script that does not name redirect, reject,
 * ereject or vacation (or include another) never sends. Unreadable or
 * large scripts count as sending.
 */
static bool script_may_send(const char *path, size_t max)
{
	static const char *const words[] = {"redirect", "reject", "vacation", "include"};
	FILE *fp = fopen(path, "re");
	char *data;
	size_t len;
	bool found = false;

	if (fp == NULL)
		return true;
	if (max > 4 * 1024 * 1024)
		max = 4 * 1024 * 1024;
	data = i_malloc(max + 1);
	len = fread(data, 1, max + 1, fp);
	(void)fclose(fp);
	if (len > max) {
		free(data);
		return true;
	}
	for (size_t i = 0; i < N_ELEMENTS(words) && !found; i++)
		found = mentions(data, len, words[i]);
	free(data);
	return found;
}

static void apply_plugin_settings(struct lda_filter *f)
{
	const char *error;

	for (unsigned int i = 0; i < f->set->plugin_count; i++) {
		const struct plugin_setting *ps = &f->set->plugin[i];

		if (sieve_settings_set(f->sset, ps->key, ps->value, &error) < 0)
			log_warning("sieve: plugin { %s = %s }: %s: setting ignored", ps->key,
				    ps->value, error);
	}
	if (sieve_settings_set(f->sset, "recipient_delimiter", f->set->recipient_delimiter,
			       &error) < 0)
		log_warning("sieve: recipient_delimiter: %s", error);
}

struct lda_filter *lda_filter_prepare(const struct roost_settings *set, const struct lda_user *user,
				      const struct sandbox_identity *id)
{
	struct lda_filter *f = i_calloc(1, sizeof(*f));
	const char *home = user->home[0] != '\0' ? user->home : NULL, *error;

	f->set = set;
	f->user = user;
	f->sset = sieve_settings_create();
	f->pool = pool_create(1024 * 1024);
	apply_plugin_settings(f);
	if (set->hostname[0] != '\0')
		(void)str_copy(f->hostname, sizeof(f->hostname), set->hostname);
	else if (gethostname(f->hostname, sizeof(f->hostname) - 1) < 0)
		(void)str_copy(f->hostname, sizeof(f->hostname), "localhost");
	if (f->sset->env_host == NULL)
		f->sset->env_host = p_strdup(f->sset->pool, f->hostname);
	if (f->sset->env_domain == NULL) {
		const char *dot = strchr(f->hostname, '.');

		f->sset->env_domain = p_strdup(f->sset->pool, dot != NULL ? dot + 1 : f->hostname);
	}
	if (sieve_script_files_resolve(f->sset, home, f->pool, &f->files, &error) < 0) {
		/* Pigeonhole gives up on Sieve for this delivery: the message is kept. */
		log_error("sieve: %s", error);
		f->files.count = 0;
	}
	if (f->files.count == 0) {
		sieve_settings_free(&f->sset);
		pool_destroy(&f->pool);
		free(f);
		return NULL;
	}
	if (f->files.personal_dir == NULL && home != NULL)
		f->files.personal_dir = p_strdup_printf(f->pool, "%s/sieve", home);
	if (home != NULL)
		f->dupdb_path = p_strdup_printf(f->pool, "%s/%s", home, LDA_DUPDB_FILE);
	for (unsigned int i = 0; i < f->files.count && !f->may_send; i++)
		f->may_send = script_may_send(f->files.paths[i], f->sset->max_script_size);
	if (f->may_send) {
		struct lda_submit_settings ss = {
			.sendmail_path = set->sendmail_path,
			.submission_host = set->submission_host,
			.helo_name = f->hostname,
			.timeout_secs = LDA_SUBMIT_DEFAULT_TIMEOUT,
			.max_message_size =
				(size_t)set->lda_max_message_size + LDA_FILTER_OUT_EXTRA,
		};

		f->submit = lda_submit_start(&ss, id, &error);
		if (f->submit == NULL) {
			f->submit_error = p_strdup(f->pool, error);
			log_error("sieve: cannot start the submission helper: %s", error);
		}
	}
	if (f->sset->max_cpu_time > 0)
		backstop_arm(f->sset->max_cpu_time);
	return f;
}

static size_t add_path(struct sandbox_path *paths, size_t n, size_t max, const char *path,
		       unsigned int access)
{
	if (path == NULL || n >= max)
		return n;
	paths[n].path = path;
	paths[n].access = access;
	return n + 1;
}

size_t lda_filter_sandbox_paths(const struct lda_filter *f, struct sandbox_path *paths, size_t max)
{
	char real[PATH_MAX];
	size_t n = 0;

	if (f == NULL)
		return 0;
	for (unsigned int i = 0; i < f->files.count; i++) {
		/* The file itself (where a link such as ~/.dovecot.sieve leads). */
		const char *p = realpath(f->files.paths[i], real) != NULL ? p_strdup(f->pool, real)
									  : f->files.paths[i];

		n = add_path(paths, n, max, p, SANDBOX_FS_READ);
	}
	n = add_path(paths, n, max, f->files.personal_dir, SANDBOX_FS_READ);
	n = add_path(paths, n, max, f->files.global_dir, SANDBOX_FS_READ);
	if (f->files.user_log != NULL) {
		const char *slash = strrchr(f->files.user_log, '/');

		if (slash != NULL && slash != f->files.user_log)
			n = add_path(paths, n, max,
				     p_strndup(f->pool, f->files.user_log,
					       (size_t)(slash - f->files.user_log)),
				     SANDBOX_FS_READ | SANDBOX_FS_WRITE);
	}
	return n;
}

/*
 * The engine's view of the delivery environment
 */

static int env_mailbox_exists(void *ctx, const char *mailbox);

static int env_duplicate_check(void *ctx, enum sieve_dup_kind kind, const void *id, size_t id_len)
{
	struct filter_run *r = ctx;

	if (r->dupdb == NULL)
		return 0;
	return lda_dupdb_check(r->dupdb, (unsigned int)kind, id, id_len, time(NULL));
}

static void env_duplicate_mark(void *ctx, enum sieve_dup_kind kind, const void *id, size_t id_len,
			       time_t expires)
{
	struct filter_run *r = ctx;

	if (r->dupdb != NULL)
		lda_dupdb_mark(r->dupdb, (unsigned int)kind, id, id_len, expires);
}

static int env_script_load(void *ctx, enum sieve_include_location location, const char *name,
			   struct buf *data, const char **error_r)
{
	struct filter_run *r = ctx;
	const char *dir = location == SIEVE_INCLUDE_GLOBAL ? r->f->files.global_dir
							   : r->f->files.personal_dir;

	if (dir == NULL) {
		*error_r = location == SIEVE_INCLUDE_GLOBAL ? "sieve_global is not configured"
							    : "the user has no script directory";
		return -1;
	}
	return sieve_tool_load_script(dir, name, data, error_r);
}

/* RFC 5183 items as Pigeonhole gives them at delivery. */
static const char *env_item(void *ctx, const char *name)
{
	(void)ctx;
	if (strcasecmp(name, "location") == 0)
		return "MDA";
	if (strcasecmp(name, "phase") == 0)
		return "during";
	return NULL;
}

static const struct sieve_env_ops filter_env_ops = {
	.mailbox_exists = env_mailbox_exists,
	.duplicate_check = env_duplicate_check,
	.duplicate_mark = env_duplicate_mark,
	.script_load = env_script_load,
	.env_item = env_item,
};

/*
 * Sieve names mailboxes with the separator of the administrator's
 * namespace. Maildir++ never allows '.' in a roost name (it separates
 * levels on disk), so a script written for Dovecot's default '.'
 * separator ("Archive.2024") means what roost calls "Archive/2024".
 */
static const char *store_name(struct lda_delivery *d, struct pool *pool, const char *mailbox)
{
	char *name;

	if (mail_storage_location(d->storage)->layout != MAIL_LAYOUT_MAILDIRPP ||
	    strchr(mailbox, '.') == NULL || strchr(mailbox, MAILBOX_HIERARCHY_SEP) != NULL)
		return mailbox;
	name = p_strdup(pool, mailbox);
	if (name == NULL)
		return mailbox;
	for (char *p = name; *p != '\0'; p++) {
		if (*p == '.')
			*p = MAILBOX_HIERARCHY_SEP;
	}
	return name;
}

static struct pool *scratch_pool;

static int env_mailbox_exists(void *ctx, const char *mailbox)
{
	struct filter_run *r = ctx;
	struct mailbox_error err;
	bool exists;

	if (!mailbox_exists(r->d->storage, store_name(r->d, scratch_pool, mailbox), &exists,
			    &err)) {
		/* An invalid name does not exist; anything else is a failure. */
		return err.code == MAILBOX_ERROR_INVALID_NAME || err.code == MAILBOX_ERROR_NOT_FOUND
			       ? 0
			       : -1;
	}
	return exists ? 1 : 0;
}

/*
 * Errors: the log gets every line with file:line:column; the user's own
 * script's errors also go to their sieve log, as Pigeonhole writes them.
 */

static void log_lines(enum log_level level, const char *text)
{
	while (*text != '\0') {
		size_t len = strcspn(text, "\n");

		if (len > 0)
			log_printf(level, "sieve: %.*s", (int)len, text);
		text += len;
		if (*text == '\n')
			text++;
	}
}

static void user_log(struct lda_filter *f, const char *text)
{
	const char *error;

	if (f->files.user_log == NULL || text[0] == '\0')
		return;
	if (!sieve_user_log_append(f->files.user_log, text, &error))
		log_error("sieve: cannot write the user log %s: %s", f->files.user_log, error);
}

/* Whether an error line belongs to a script of the administrator. */
static bool global_line(const struct lda_filter *f, const char *line)
{
	for (unsigned int i = 0; i < f->files.count; i++) {
		size_t len = strlen(f->files.paths[i]);

		if (((int)i != f->files.user_index || f->files.user_is_default) &&
		    strncmp(line, f->files.paths[i], len) == 0 && line[len] == ':')
			return true;
	}
	return false;
}

/* The lines of text that are the user's business. */
static void user_log_lines(struct filter_run *r, const char *text)
{
	struct buf mine = BUF_INIT(256 * 1024);

	while (*text != '\0') {
		size_t len = strcspn(text, "\n");

		if (len > 0 && !global_line(r->f, text)) {
			(void)buf_append(&mine, text, len);
			(void)buf_append_c(&mine, '\n');
		}
		text += len;
		if (*text == '\n')
			text++;
	}
	if (r->user_ran)
		user_log(r->f, buf_cstr(&mine));
	buf_free(&mine);
}

/*
 * Running the sequence
 */

static void run_sequence(struct filter_run *r, struct sieve_exec *exec)
{
	struct lda_filter *f = r->f;

	for (unsigned int i = 0; i < f->files.count; i++) {
		const char *path = f->files.paths[i];
		bool users = (int)i == f->files.user_index && !f->files.user_is_default;
		struct sieve_error_list errs;
		struct sieve_script *script;

		sieve_error_list_init(&errs);
		script = sieve_compile_file(f->sset, path, path, &errs);
		if (users)
			r->user_ran = true;
		if (buf_len(&errs.text) > 0) {
			log_lines(script == NULL ? LOG_LEVEL_ERROR : LOG_LEVEL_WARNING,
				  buf_cstr(&errs.text));
			if (users)
				user_log(f, buf_cstr(&errs.text));
		}
		sieve_error_list_free(&errs);
		if (script == NULL) {
			if (users)
				log_error(
					"sieve: failed to compile script %s (see the user log %s)",
					path, f->files.user_log != NULL ? f->files.user_log : "-");
			else
				log_error("sieve: failed to compile script %s", path);
			sieve_exec_abort(exec, NULL);
			return;
		}
		r->scripts[r->script_count++] = script;
		if (!sieve_exec_run(exec, script, i + 1 == f->files.count))
			return;
	}
}

/*
 * Performing the result
 */

/* "\\Seen" ... to store flags, the rest to keyword names. */
static uint32_t split_flags(const struct sieve_action *a, const char **keywords, size_t max)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} sys[] = {
		{"\\seen", MAIL_SEEN},	     {"\\answered", MAIL_ANSWERED},
		{"\\flagged", MAIL_FLAGGED}, {"\\deleted", MAIL_DELETED},
		{"\\draft", MAIL_DRAFT},
	};
	uint32_t flags = 0;
	size_t n = 0;

	for (unsigned int i = 0; i < a->flags_count; i++) {
		const char *name = a->flags[i];
		bool system = false;

		for (size_t j = 0; j < N_ELEMENTS(sys); j++) {
			if (strcasecmp(name, sys[j].name) == 0) {
				flags |= sys[j].flag;
				system = true;
			}
		}
		if (!system && name[0] != '\\' && n + 1 < max)
			keywords[n++] = name;
	}
	keywords[n] = NULL;
	return flags;
}

/* Drops Return-Path fields from the header: the next hop writes its own. */
static void strip_return_path(const uint8_t *msg, size_t size, struct buf *out)
{
	size_t pos = 0;
	bool skipping = false;

	while (pos < size) {
		const uint8_t *lf = memchr(msg + pos, '\n', size - pos);
		size_t end = lf != NULL ? (size_t)(lf - msg) + 1 : size;
		size_t len = end - pos;

		if (len == 1 || (len == 2 && msg[pos] == '\r')) {
			/* The blank line: the body follows untouched. */
			(void)buf_append(out, msg + pos, size - pos);
			return;
		}
		if (msg[pos] == ' ' || msg[pos] == '\t') {
			if (!skipping)
				(void)buf_append(out, msg + pos, len);
		} else {
			skipping = len >= 12 &&
				   strncasecmp((const char *)msg + pos, "Return-Path:", 12) == 0;
			if (!skipping)
				(void)buf_append(out, msg + pos, len);
		}
		pos = end;
	}
}

/* Expands rejection_subject / rejection_reason: %s %t %r %n %%. */
static char *expand_rejection(struct pool *pool, const char *tmpl, const char *subject,
			      const char *recipient, const char *reason)
{
	struct buf out = BUF_INIT(64 * 1024);
	char *s;

	for (const char *p = tmpl; *p != '\0'; p++) {
		if (*p != '%' || p[1] == '\0') {
			(void)buf_append_c(&out, (uint8_t)*p);
			continue;
		}
		switch (*++p) {
		case 's':
			(void)buf_append_str(&out, subject != NULL ? subject : "");
			break;
		case 't':
			(void)buf_append_str(&out, recipient);
			break;
		case 'r':
			(void)buf_append_str(&out, reason);
			break;
		case 'n':
			(void)buf_append_str(&out, "\r\n");
			break;
		case '%':
			(void)buf_append_c(&out, '%');
			break;
		default:
			break;
		}
	}
	s = p_strdup(pool, buf_cstr(&out));
	buf_free(&out);
	return s;
}

enum send_outcome {
	SEND_OK,
	SEND_FAILED,
	SEND_TEMPFAIL,
};

static enum send_outcome send_one(struct filter_run *r, const char *what, const struct buf *msg,
				  const struct sieve_outgoing *env)
{
	struct lda_filter *f = r->f;
	struct lda_submit_reply reply;

	if (f->submit == NULL) {
		log_error("sieve: cannot send %s to <%s>: %s", what, env->rcpt_to,
			  f->submit_error != NULL ? f->submit_error : "no submission helper");
		return SEND_TEMPFAIL;
	}
	lda_submit_send(f->submit, env->mail_from, env->rcpt_to, buf_data(msg), buf_len(msg),
			&reply);
	if (reply.status == LDA_SUBMIT_OK)
		return SEND_OK;
	log_error("sieve: failed to send %s to <%s>%s: %s", what, env->rcpt_to,
		  reply.status == LDA_SUBMIT_TEMPFAIL ? " (temporary failure)" : "", reply.text);
	return reply.status == LDA_SUBMIT_TEMPFAIL ? SEND_TEMPFAIL : SEND_FAILED;
}

struct perform {
	const uint8_t *stored; /* the message as stored (editheader applied) */
	size_t stored_size;
	bool failed;	 /* an action failed: the message must be kept */
	bool tempfail;	 /* defer the whole delivery */
	bool stored_any; /* a copy was stored somewhere */
	bool rejected;	 /* a reject bounce went out */
};

/* Redirects, vacation replies and rejects go out before anything is
   stored: a temporary failure then defers a delivery that did nothing. */
static void perform_sends(struct filter_run *r, struct sieve_result *result, struct perform *p)
{
	struct lda_delivery *d = r->d;
	struct pool *pool = pool_create(64 * 1024);
	struct buf source;
	bool have_source = false;
	unsigned int n = sieve_result_count(result);

	for (unsigned int i = 0; i < n && !p->tempfail; i++) {
		const struct sieve_action *a = sieve_result_action(result, i);
		struct buf out;
		struct sieve_outgoing env;
		enum send_outcome o;
		bool composed = false;

		if (a->type != SIEVE_ACTION_REDIRECT && a->type != SIEVE_ACTION_VACATION &&
		    a->type != SIEVE_ACTION_REJECT) {
			if (a->type == SIEVE_ACTION_DISCARD)
				lda_deliver_log(d, false,
						"marked message to be discarded if not explicitly "
						"delivered (discard action)");
			continue;
		}
		if (a->skip) {
			lda_deliver_log(d, false, "%s", a->skip_reason);
			p->failed = p->failed || a->skip_keep;
			continue;
		}
		buf_init(&out, p->stored_size + LDA_FILTER_OUT_EXTRA);
		switch (a->type) {
		case SIEVE_ACTION_REDIRECT:
			if (!have_source) {
				buf_init(&source, p->stored_size + 1);
				strip_return_path(p->stored, p->stored_size, &source);
				have_source = true;
			}
			composed = sieve_compose_redirect(result, a, buf_data(&source),
							  buf_len(&source), &out, &env);
			break;
		case SIEVE_ACTION_VACATION:
			composed = sieve_compose_vacation(result, a, r->f->hostname, &out, &env);
			break;
		case SIEVE_ACTION_REJECT: {
			const char *subject = d->msg->subject;

			composed = sieve_compose_reject_text(
				result, a, p->stored, p->stored_size, r->f->hostname,
				expand_rejection(pool, d->set->rejection_subject, subject,
						 d->rcpt_to, a->reason),
				expand_rejection(pool, d->set->rejection_reason, subject,
						 d->rcpt_to, a->reason),
				&out, &env);
			break;
		}
		default:
			break;
		}
		if (!composed) {
			log_error("sieve: %s: cannot compose the message (too large?)",
				  a->location);
			p->failed = true;
			buf_free(&out);
			continue;
		}
		o = send_one(r,
			     a->type == SIEVE_ACTION_REDIRECT	? "redirect"
			     : a->type == SIEVE_ACTION_VACATION ? "vacation response"
								: "rejection",
			     &out, &env);
		buf_free(&out);
		if (o == SEND_OK) {
			sieve_result_commit_action(result, i);
			if (a->type == SIEVE_ACTION_REDIRECT)
				lda_deliver_log(d, false, "forwarded to <%s>", env.rcpt_to);
			else if (a->type == SIEVE_ACTION_VACATION)
				lda_deliver_log(d, false, "sent vacation response to <%s>",
						env.rcpt_to);
			else {
				lda_deliver_log(d, false, "rejected message from <%s> (%s)",
						env.rcpt_to, a->ereject ? "ereject" : "reject");
				p->rejected = true;
			}
			continue;
		}
		/* A vacation reply that did not go out never holds up the mail. */
		if (a->type == SIEVE_ACTION_VACATION)
			continue;
		if (o == SEND_TEMPFAIL)
			p->tempfail = true;
		else
			p->failed = true;
	}
	if (have_source)
		buf_free(&source);
	pool_destroy(&pool);
}

static void perform_stores(struct filter_run *r, struct sieve_result *result, struct perform *p)
{
	struct lda_delivery *d = r->d;
	unsigned int n = sieve_result_count(result);

	for (unsigned int i = 0; i < n && !p->tempfail; i++) {
		const struct sieve_action *a = sieve_result_action(result, i);
		const char *keywords[LDA_FILTER_KEYWORDS_MAX + 1];
		struct mailbox_error err;
		uint32_t flags;

		if (a->type != SIEVE_ACTION_STORE)
			continue;
		flags = split_flags(a, keywords, N_ELEMENTS(keywords));
		if (a->keep) {
			if (lda_deliver_keep(d, flags, keywords)) {
				p->stored_any = true;
			} else if (d->status == LDA_STATUS_TEMPFAIL) {
				p->tempfail = true;
			} else {
				/* Rejected by the store (quota, size): that is final. */
				return;
			}
			continue;
		}
		if (lda_deliver_store(d, store_name(d, scratch_pool, a->mailbox), flags, keywords,
				      a->create, &err)) {
			p->stored_any = true;
			continue;
		}
		/* Pigeonhole: a failed fileinto falls back to the implicit keep. */
		p->failed = true;
	}
}

static void perform(struct filter_run *r, struct sieve_result *result)
{
	struct lda_delivery *d = r->d;
	struct lda_message edited_msg, *orig_msg = d->msg;
	struct buf edited = BUF_INIT(0);
	struct perform p = {.stored = d->msg->data, .stored_size = d->msg->size};
	const char *error;

	if (sieve_result_header_edited(result)) {
		buf_init(&edited, d->msg->size + LDA_FILTER_OUT_EXTRA);
		if (sieve_result_apply_edits(result, d->msg->data, d->msg->size, &edited)) {
			edited_msg = *d->msg;
			edited_msg.data = buf_data(&edited);
			edited_msg.size = buf_len(&edited);
			d->msg = &edited_msg;
			p.stored = edited_msg.data;
			p.stored_size = edited_msg.size;
		} else {
			log_error("sieve: the edited header does not fit: storing the message "
				  "unchanged");
		}
	}
	d->status = LDA_STATUS_OK;
	perform_sends(r, result, &p);
	if (!p.tempfail)
		perform_stores(r, result, &p);
	if (!p.tempfail && p.failed && !p.stored_any && d->status == LDA_STATUS_OK) {
		log_info("sieve: an action failed: keeping the message in %s", d->default_mailbox);
		(void)lda_deliver_keep(d, 0, NULL);
	}
	if (!p.tempfail && p.rejected && !p.stored_any && d->status == LDA_STATUS_OK) {
		/* Rejected, and the sender already has the bounce. */
		d->status = LDA_STATUS_REJECTED;
		d->bounced = true;
	}
	if (p.tempfail) {
		d->status = LDA_STATUS_TEMPFAIL;
		if (d->reason[0] == '\0')
			(void)str_copy(d->reason, sizeof(d->reason),
				       "Temporary failure in Sieve actions");
	} else if (d->status == LDA_STATUS_OK) {
		/* The duplicate test's ids count once the mail is delivered. */
		for (unsigned int i = 0; i < sieve_result_count(result); i++) {
			if (sieve_result_action(result, i)->type == SIEVE_ACTION_TRACK_DUPLICATE)
				sieve_result_commit_action(result, i);
		}
	}
	if (r->dupdb != NULL && !lda_dupdb_flush(r->dupdb, time(NULL), &error))
		log_error("sieve: cannot write the duplicate database %s: %s", r->f->dupdb_path,
			  error);
	d->msg = orig_msg;
	buf_free(&edited);
}

/* postmaster_address with %d (and %u, %n) of the recipient. */
static void set_postmaster(struct lda_filter *f, const struct lda_delivery *d)
{
	struct buf out = BUF_INIT(1024);
	struct auth_vars vars = {.user = d->rcpt_to, .service = "lda"};
	const char *error, *at;

	if (auth_vars_expand(&out, d->set->postmaster_address, &vars, 0, &error)) {
		at = strrchr(buf_cstr(&out), '@');
		if (at == NULL || at[1] == '\0') {
			if (at == NULL)
				(void)buf_append_c(&out, '@');
			(void)buf_append_str(&out, f->hostname);
		}
		f->sset->postmaster_address = p_strdup(f->sset->pool, buf_cstr(&out));
	}
	buf_free(&out);
}

static void filter_free(struct lda_filter **_f)
{
	struct lda_filter *f = *_f;

	lda_submit_finish(&f->submit);
	sieve_settings_free(&f->sset);
	pool_destroy(&f->pool);
	free(f);
	*_f = NULL;
}

void lda_filter_run(struct lda_delivery *d)
{
	static struct filter_run r;
	struct lda_filter *f = d->filter;
	struct sieve_exec_params params;
	struct sieve_envelope env;
	struct sieve_message *msg;
	struct sieve_exec *exec;
	struct sieve_result *result;

	if (f == NULL) {
		(void)lda_deliver_keep(d, 0, NULL);
		return;
	}
	memset(&r, 0, sizeof(r));
	r.d = d;
	r.f = f;
	if (f->dupdb_path != NULL)
		r.dupdb = lda_dupdb_open(f->dupdb_path);
	scratch_pool = f->pool;
	f->sset->default_mailbox = p_strdup(f->sset->pool, d->default_mailbox);
	set_postmaster(f, d);
	memset(&env, 0, sizeof(env));
	env.mail_from = d->mail_from;
	env.rcpt_to = d->rcpt_to;
	env.orig_rcpt_to = d->orig_rcpt_to;
	msg = sieve_message_create(d->msg->data, d->msg->size);
	memset(&params, 0, sizeof(params));
	params.set = f->sset;
	params.msg = &sieve_message_ops;
	params.msg_ctx = msg;
	params.envelope = &env;
	params.env = &filter_env_ops;
	params.env_ctx = &r;
	params.sequence = f->files.count > 1;
	exec = sieve_exec_create(&params);

	if (sigsetjmp(backstop_jmp, 1) != 0) {
		/* The backstop fired inside the engine: abandon its state. */
		const char *text = "sieve: execution exceeded the CPU time limit "
				   "(sieve_max_cpu_time): keeping the message\n";

		log_error("%.*s", (int)strlen(text) - 1, text);
		user_log(f, text);
		(void)lda_deliver_keep(d, 0, NULL);
		return;
	}
	backstop_pending = 0;
	backstop_armed = 1;
	run_sequence(&r, exec);
	result = sieve_exec_result(exec);
	sieve_result_decide(result);
	backstop_armed = 0;

	if (sieve_result_warnings(result)[0] != '\0') {
		log_lines(LOG_LEVEL_WARNING, sieve_result_warnings(result));
		user_log_lines(&r, sieve_result_warnings(result));
	}
	switch (sieve_result_status(result)) {
	case SIEVE_STATUS_OK:
		perform(&r, result);
		break;
	case SIEVE_STATUS_FAILED:
		log_lines(LOG_LEVEL_ERROR, sieve_result_errors(result));
		user_log_lines(&r, sieve_result_errors(result));
		perform(&r, result);
		if (d->status == LDA_STATUS_OK)
			log_info("sieve: execution of the script sequence failed, but implicit "
				 "keep was successful%s%s",
				 r.user_ran && f->files.user_log != NULL ? " (user log " : "",
				 r.user_ran && f->files.user_log != NULL
					 ? p_strdup_printf(f->pool, "%s)", f->files.user_log)
					 : "");
		break;
	case SIEVE_STATUS_TEMPFAIL:
		log_lines(LOG_LEVEL_ERROR, sieve_result_errors(result));
		d->status = LDA_STATUS_TEMPFAIL;
		(void)str_copy(d->reason, sizeof(d->reason), "Temporary failure in Sieve");
		break;
	}
	sieve_exec_free(&exec);
	for (unsigned int i = 0; i < r.script_count; i++)
		sieve_script_free(&r.scripts[i]);
	sieve_message_free(&msg);
	lda_dupdb_free(&r.dupdb);
	scratch_pool = NULL;
	filter_free(&d->filter);
}
