/*
 * roostadm's `sieve check` and `sieve test`: compile scripts and run them on
 * a message file without performing anything, printing what Pigeonhole's
 * sieve-test prints so administrators can compare the two. Runs in roostadm
 * as the administrator; the files it reads are still untrusted input.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sieve-message.h"
#include "sieve-private.h"
#include "sieve-tool.h"
#include "xalloc.h"

#define EX_USAGE_CODE 64
/* Largest message file the test tool reads. */
#define SIEVE_TOOL_MAX_MESSAGE (256 * 1024 * 1024)

struct tool_opts {
	struct sieve_settings *set;
	const char *personal_dir;
	const char *global_dir;
	bool execute;
	const char *mail_from;
	const char *rcpt_to;
	const char *final_rcpt_to;
	const char *before[SIEVE_MAX_SEQUENCE];
	unsigned int before_count;
	const char *ext_spec;
};

static bool read_file(const char *path, size_t max, struct buf *out, const char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0) {
		*error_r = strerror(errno);
		return false;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		*error_r = "not a regular file";
		(void)close(fd);
		return false;
	}
	buf_init(out, max);
	for (;;) {
		uint8_t *p = buf_reserve(out, 65536);
		ssize_t n;

		if (p == NULL) {
			*error_r = "file is too large";
			(void)close(fd);
			buf_free(out);
			return false;
		}
		n = read(fd, p, 65536);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			*error_r = strerror(errno);
			(void)close(fd);
			buf_free(out);
			return false;
		}
		if (n == 0)
			break;
		buf_commit(out, (size_t)n);
	}
	(void)close(fd);
	return true;
}

int sieve_tool_load_script(const char *dir, const char *name, struct buf *data,
			   const char **error_r)
{
	char path[4096];
	struct buf tmp;
	struct stat st;

	if (strchr(name, '/') != NULL || name[0] == '.') {
		*error_r = "invalid script name";
		return -1;
	}
	if (!str_format(path, sizeof(path), "%s/%s.sieve", dir, name)) {
		*error_r = "script path is too long";
		return -1;
	}
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = strerror(errno);
		return -1;
	}
	if (!read_file(path, buf_max(data), &tmp, error_r))
		return -1;
	if (!buf_append(data, buf_data(&tmp), buf_len(&tmp))) {
		buf_free(&tmp);
		*error_r = "script is too large";
		return -1;
	}
	buf_free(&tmp);
	return 1;
}

/* Expands a leading "~/" with $HOME. */
static const char *home_path(struct pool *pool, const char *path)
{
	const char *home = getenv("HOME");

	if (strncmp(path, "~/", 2) == 0 && home != NULL)
		return p_strdup_printf(pool, "%s/%s", home, path + 2);
	return path;
}

/* Takes Pigeonhole's location syntax "[file:]PATH[;options]". */
static const char *location_path(struct pool *pool, const char *loc)
{
	const char *semi;

	if (strncmp(loc, "file:", 5) == 0)
		loc += 5;
	semi = strchr(loc, ';');
	if (semi != NULL)
		loc = p_strndup(pool, loc, (size_t)(semi - loc));
	return home_path(pool, loc);
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Handles one -o NAME=VALUE; false with a message on stderr. */
static bool tool_option(struct tool_opts *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	const char *error;
	char *name;
	int ret;

	if (eq == NULL) {
		fprintf(stderr, "sieve: invalid -o argument '%s' (expected NAME=VALUE)\n", arg);
		return false;
	}
	name = p_strndup(o->set->pool, arg, (size_t)(eq - arg));
	if (strncmp(name, "plugin/", 7) == 0)
		name += 7;
	if (strcmp(name, "sieve") == 0 || strcmp(name, "sieve_dir") == 0) {
		const char *path = location_path(o->set->pool, eq + 1);

		o->personal_dir = is_dir(path) ? path : p_strdup(o->set->pool, path);
		if (!is_dir(path)) {
			const char *slash = strrchr(path, '/');

			o->personal_dir = slash == NULL ? "."
							: p_strndup(o->set->pool, path,
								    (size_t)(slash - path));
		}
		return true;
	}
	if (strcmp(name, "sieve_global") == 0 || strcmp(name, "sieve_global_dir") == 0) {
		o->global_dir = location_path(o->set->pool, eq + 1);
		return true;
	}
	ret = sieve_settings_set(o->set, name, eq + 1, &error);
	if (ret < 0) {
		fprintf(stderr, "sieve: invalid value for setting %s: %s\n", name, error);
		return false;
	}
	/* Other Dovecot settings are accepted and ignored, as the tools do. */
	return true;
}

static bool valid_path_addr(const char *s)
{
	const char *at = strrchr(s, '@');

	if (*s == '\0')
		return true;
	return at != NULL && at != s && at[1] != '\0' && strpbrk(s, " \t<>\r\n") == NULL;
}

/* Normalises an envelope address argument: "<a@b>" -> "a@b", "<>" -> "". */
static const char *envelope_arg(struct pool *pool, const char *s)
{
	size_t len = strlen(s);

	if (len >= 2 && s[0] == '<' && s[len - 1] == '>')
		return p_strndup(pool, s + 1, len - 2);
	return s;
}

static int parse_common(struct tool_opts *o, int argc, char **argv, bool test, int *optind_r)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val;

		if (a[0] != '-' || a[1] == '\0')
			break;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (a[2] != '\0') {
			val = a + 2;
		} else if (strchr("oxfarsmcu", a[1]) != NULL) {
			if (i + 1 >= argc) {
				fprintf(stderr, "sieve: option -%c needs an argument\n", a[1]);
				return -1;
			}
			val = argv[++i];
		} else {
			val = NULL;
		}
		switch (a[1]) {
		case 'o':
			if (!tool_option(o, val))
				return -1;
			break;
		case 'x':
			o->ext_spec = val;
			break;
		case 'c':
		case 'u':
			/* Configuration and user are handled by roostadm. */
			break;
		case 'e':
			if (!test)
				goto unknown;
			o->execute = true;
			break;
		case 'f':
		case 'a':
		case 'r':
			if (!test)
				goto unknown;
			val = envelope_arg(o->set->pool, val);
			if (!valid_path_addr(val)) {
				fprintf(stderr, "sieve: invalid -%c address '%s'\n", a[1], val);
				return -1;
			}
			if (a[1] == 'f')
				o->mail_from = val;
			else if (a[1] == 'a')
				o->rcpt_to = val;
			else
				o->final_rcpt_to = val;
			break;
		case 's':
			if (!test)
				goto unknown;
			if (o->before_count >= N_ELEMENTS(o->before)) {
				fprintf(stderr, "sieve: too many -s scripts\n");
				return -1;
			}
			o->before[o->before_count++] = val;
			break;
		case 'm':
			if (!test)
				goto unknown;
			o->set->default_mailbox = p_strdup(o->set->pool, val);
			break;
		default:
unknown:
			fprintf(stderr, "sieve: unknown option '%s'\n", a);
			return -1;
		}
	}
	if (o->ext_spec != NULL) {
		const char *error;

		if (!sieve_settings_set_extensions(o->set, o->ext_spec, &error)) {
			fprintf(stderr, "sieve: -x: %s\n", error);
			return -1;
		}
	}
	*optind_r = i;
	return 0;
}

/* The name used in messages: the file name without ".sieve". */
static const char *script_name(struct pool *pool, const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len;

	base = base == NULL ? path : base + 1;
	len = strlen(base);
	if (len > 6 && strcmp(base + len - 6, ".sieve") == 0)
		return p_strndup(pool, base, len - 6);
	return base;
}

static struct sieve_script *tool_compile(const struct sieve_settings *set, const char *path,
					 bool full_name)
{
	struct sieve_error_list errs;
	struct sieve_script *script;

	sieve_error_list_init(&errs);
	script = sieve_compile_file(set, path, full_name ? path : script_name(set->pool, path),
				    &errs);
	if (buf_len(&errs.text) > 0)
		fprintf(stderr, "%s", buf_cstr(&errs.text));
	if (script == NULL && errs.errors >= SIEVE_MAX_ERRORS)
		fprintf(stderr, "%s: error: too many errors, giving up\n", path);
	sieve_error_list_free(&errs);
	return script;
}

static const struct sieve_env_ops tool_env_ops;

struct tool_env {
	struct tool_opts *o;
};

/* Applies "name=value" settings from the configuration file. */
static bool apply_conf(struct tool_opts *o, const char *const *conf)
{
	for (; conf != NULL && *conf != NULL; conf++) {
		if (!tool_option(o, *conf))
			return false;
	}
	return true;
}

int sieve_tool_check(int argc, char **argv)
{
	return sieve_tool_check_conf(argc, argv, NULL);
}

int sieve_tool_check_conf(int argc, char **argv, const char *const *conf)
{
	struct tool_opts o;
	int first, i, ret = 0;

	memset(&o, 0, sizeof(o));
	o.set = sieve_settings_create();
	if (!apply_conf(&o, conf) || parse_common(&o, argc, argv, false, &first) < 0) {
		sieve_settings_free(&o.set);
		return EX_USAGE_CODE;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: sieve check [-o NAME=VALUE]... [-x EXTENSIONS] FILE...\n");
		sieve_settings_free(&o.set);
		return EX_USAGE_CODE;
	}
	for (i = first; i < argc; i++) {
		struct sieve_script *script = tool_compile(o.set, argv[i], true);
		const char *personal = o.personal_dir;

		if (script == NULL) {
			ret = 1;
			continue;
		}
		/* Included scripts are checked where the settings say they live
		   (:personal defaults to the script's own directory). */
		if (personal == NULL) {
			const char *slash = strrchr(argv[i], '/');

			o.personal_dir = slash == NULL ? "."
						       : p_strndup(o.set->pool, argv[i],
								   (size_t)(slash - argv[i]));
		}
		if (script->includes_count > 0) {
			struct sieve_error_list errs;
			struct tool_env te = {&o};

			sieve_error_list_init(&errs);
			if (!sieve_check_includes(script, &tool_env_ops, &te, &errs))
				ret = 1;
			fprintf(stderr, "%s", buf_cstr(&errs.text));
			sieve_error_list_free(&errs);
		}
		o.personal_dir = personal;
		sieve_script_free(&script);
	}
	sieve_settings_free(&o.set);
	return ret;
}

/* The test tool's environment: INBOX exists, includes come from dirs. */
static int tool_mailbox_exists(void *ctx, const char *mailbox)
{
	struct tool_env *te = ctx;

	return strcasecmp(mailbox, te->o->set->default_mailbox) == 0 ||
	       strcasecmp(mailbox, "INBOX") == 0;
}

static int tool_script_load(void *ctx, enum sieve_include_location location, const char *name,
			    struct buf *data, const char **error_r)
{
	struct tool_env *te = ctx;
	const char *dir =
		location == SIEVE_INCLUDE_GLOBAL ? te->o->global_dir : te->o->personal_dir;

	if (dir == NULL) {
		*error_r = location == SIEVE_INCLUDE_GLOBAL ? "sieve_global is not configured"
							    : "personal script location is "
							      "not configured";
		return -1;
	}
	return sieve_tool_load_script(dir, name, data, error_r);
}

static const struct sieve_env_ops tool_env_ops = {
	.mailbox_exists = tool_mailbox_exists,
	.script_load = tool_script_load,
};

int sieve_tool_test(int argc, char **argv)
{
	return sieve_tool_test_conf(argc, argv, NULL);
}

int sieve_tool_test_conf(int argc, char **argv, const char *const *conf)
{
	struct tool_opts o;
	struct sieve_script *scripts[SIEVE_MAX_SEQUENCE + 1];
	struct sieve_message *msg = NULL;
	struct sieve_exec_params params;
	struct sieve_envelope env;
	struct sieve_exec *exec = NULL;
	struct sieve_result *result;
	struct tool_env tenv;
	struct buf data, out;
	const char *error;
	unsigned int i, count = 0;
	int first, ret = 0;

	memset(&o, 0, sizeof(o));
	memset(scripts, 0, sizeof(scripts));
	o.set = sieve_settings_create();
	if (!apply_conf(&o, conf) || parse_common(&o, argc, argv, true, &first) < 0) {
		sieve_settings_free(&o.set);
		return EX_USAGE_CODE;
	}
	if (argc - first != 2) {
		fprintf(stderr, "usage: sieve test [-o NAME=VALUE]... [-x EXTENSIONS] [-e] "
				"[-f SENDER] [-a RECIPIENT] SCRIPT MESSAGE\n");
		sieve_settings_free(&o.set);
		return EX_USAGE_CODE;
	}
	if (o.personal_dir == NULL) {
		const char *slash = strrchr(argv[first], '/');

		o.personal_dir = slash == NULL ? "."
					       : p_strndup(o.set->pool, argv[first],
							   (size_t)(slash - argv[first]));
	}
	for (i = 0; i < o.before_count; i++) {
		scripts[count] = tool_compile(o.set, o.before[i], false);
		if (scripts[count++] == NULL) {
			ret = 1;
			goto out;
		}
	}
	scripts[count] = tool_compile(o.set, argv[first], false);
	if (scripts[count++] == NULL) {
		fprintf(stderr, "sieve: failed to compile sieve script\n");
		ret = 1;
		goto out;
	}
	if (!read_file(argv[first + 1], SIEVE_TOOL_MAX_MESSAGE, &data, &error)) {
		fprintf(stderr, "sieve: cannot read message %s: %s\n", argv[first + 1], error);
		ret = 1;
		goto out;
	}
	msg = sieve_message_create(buf_data(&data), buf_len(&data));
	/* Envelope defaults as sieve-test takes them from the header. */
	memset(&env, 0, sizeof(env));
	env.mail_from = o.mail_from;
	if (env.mail_from == NULL) {
		const char *rp = sieve_message_header(msg, "Return-Path");

		if (rp != NULL && strcmp(rp, "<>") != 0)
			env.mail_from = sieve_message_first_address(msg, "Return-Path");
	}
	if (env.mail_from == NULL)
		env.mail_from = sieve_message_first_address(msg, "Sender");
	if (env.mail_from == NULL)
		env.mail_from = sieve_message_first_address(msg, "From");
	if (env.mail_from == NULL)
		env.mail_from = "sender@example.com";
	/* As sieve-test: the final recipient comes from -r or the header, the
	   original recipient from -a or else the final one. */
	env.rcpt_to = o.final_rcpt_to;
	if (env.rcpt_to == NULL)
		env.rcpt_to = sieve_message_first_address(msg, "Envelope-To");
	if (env.rcpt_to == NULL)
		env.rcpt_to = sieve_message_first_address(msg, "To");
	if (env.rcpt_to == NULL)
		env.rcpt_to = "recipient@example.com";
	env.orig_rcpt_to = o.rcpt_to != NULL ? o.rcpt_to : env.rcpt_to;

	memset(&tenv, 0, sizeof(tenv));
	tenv.o = &o;
	buf_init(&out, 64 * 1024 * 1024);
	memset(&params, 0, sizeof(params));
	params.set = o.set;
	params.msg = &sieve_message_ops;
	params.msg_ctx = msg;
	params.envelope = &env;
	params.env = &tool_env_ops;
	params.env_ctx = &tenv;
	params.trace = &out;
	params.print_script_names = count > 1;
	params.sequence = count > 1;
	exec = sieve_exec_create(&params);
	for (i = 0; i < count; i++) {
		if (!sieve_exec_run(exec, scripts[i], i + 1 == count))
			break;
	}
	result = sieve_exec_result(exec);
	fprintf(stderr, "%s", sieve_result_warnings(result));
	if (sieve_result_status(result) != SIEVE_STATUS_OK) {
		/* As sieve-test: the failed script's actions are not shown. */
		fprintf(stderr, "%s", sieve_result_errors(result));
		fprintf(stderr, "sieve: final result: failed; resolved with successful implicit "
				"keep\n");
		ret = 1;
	}
	if (o.execute) {
		sieve_result_decide(result);
		sieve_result_print_executed(result, &out);
	}
	if (fwrite(buf_data(&out), 1, buf_len(&out), stdout) != buf_len(&out) ||
	    fflush(stdout) != 0)
		ret = 1;
	buf_free(&out);
	buf_free(&data);
out:
	sieve_exec_free(&exec);
	sieve_message_free(&msg);
	for (i = 0; i < count; i++)
		sieve_script_free(&scripts[i]);
	sieve_settings_free(&o.set);
	return ret;
}
