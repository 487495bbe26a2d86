/*
 * Small extensions: mailboxexists (RFC 5490), environment (RFC 5183),
 * ihave and error (RFC 5463). Runs in roost-lda and roostadm; mailbox
 * names and environment items come from scripts and are only passed to
 * the delivery environment's callbacks.
 */
#include <string.h>
#include <unistd.h>

#include "sieve-private.h"

/*
 * mailboxexists
 */

struct tst_mbexists {
	struct sieve_tlist names;
};

static bool tst_mbexists_validate(struct sieve_validator *v, struct sieve_ast_node *node,
				  struct sieve_args *args)
{
	struct tst_mbexists *t = p_malloc(v->script->pool, sizeof(*t));

	if (t == NULL || !sieve_v_tlist(v, args->pos[0], &t->names))
		return false;
	node->data = t;
	return true;
}

static int tst_mbexists(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct tst_mbexists *t = node->data;
	const struct sieve_env_ops *env;
	struct sieve_str *names;
	void *ctx;
	unsigned int i;

	if (!sieve_rt_expand_list(in, &t->names, &names))
		return sieve_rt_error(in, node, "out of memory");
	env = sieve_rt_env_ops(in, &ctx);
	for (i = 0; i < t->names.count; i++) {
		int ret;

		if (!sieve_utf8_valid(names[i].s, names[i].len))
			return 0;
		/* Without a storage to ask, only the default mailbox exists. */
		if (env == NULL || env->mailbox_exists == NULL) {
			if (strcasecmp(names[i].s, in->set->default_mailbox) != 0)
				return 0;
			continue;
		}
		ret = env->mailbox_exists(ctx, names[i].s);
		if (ret < 0)
			return sieve_rt_tempfail(in, node, "failed to check mailbox '%s'",
						 sieve_sanitize(in->pool, names[i].s, 80));
		if (ret == 0)
			return 0;
	}
	return 1;
}

/*
 * environment
 */

struct tst_env {
	struct sieve_match match;
	struct sieve_tstr name;
};

static bool tst_env_validate(struct sieve_validator *v, struct sieve_ast_node *node,
			     struct sieve_args *args)
{
	struct tst_env *t = p_malloc(v->script->pool, sizeof(*t));

	if (t == NULL || !sieve_v_tstr(v, args->pos[0], 0, &t->name) ||
	    !sieve_v_match(v, node, args, args->pos[1]))
		return false;
	t->match = args->match;
	node->data = t;
	return true;
}

static const char *env_builtin(struct sieve_interp *in, const char *name)
{
	static char host[256];

	if (strcasecmp(name, "host") == 0 || strcasecmp(name, "domain") == 0) {
		const char *v =
			strcasecmp(name, "host") == 0 ? in->set->env_host : in->set->env_domain;

		if (v == NULL)
			v = in->set->env_host;
		if (v != NULL)
			return v;
		if (gethostname(host, sizeof(host) - 1) < 0)
			return NULL;
		host[sizeof(host) - 1] = '\0';
		return host;
	}
	if (strcasecmp(name, "location") == 0)
		return "MS";
	if (strcasecmp(name, "phase") == 0)
		return "post";
	if (strcasecmp(name, "name") == 0)
		return "roost Sieve";
	if (strcasecmp(name, "version") == 0)
		return "1.0";
	return NULL;
}

static int tst_env(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct tst_env *t = node->data;
	const struct sieve_env_ops *env;
	struct sieve_str name, val;
	const char *v = NULL;
	void *ctx;

	if (!sieve_rt_expand(in, &t->name, &name))
		return sieve_rt_error(in, node, "out of memory");
	env = sieve_rt_env_ops(in, &ctx);
	if (env != NULL && env->env_item != NULL)
		v = env->env_item(ctx, name.s);
	if (v == NULL)
		v = env_builtin(in, name.s);
	if (v == NULL)
		return 0;
	val.s = v;
	val.len = strlen(v);
	return sieve_rt_match_values(in, node, &t->match, &val, 1);
}

/*
 * ihave / error
 */

struct tst_ihave {
	bool all_known;
};

static bool tst_ihave_validate(struct sieve_validator *v, struct sieve_ast_node *node,
			       struct sieve_args *args)
{
	struct tst_ihave *t = p_malloc(v->script->pool, sizeof(*t));
	const struct sieve_ast_arg *arg = args->pos[0];
	unsigned int i;

	if (t == NULL)
		return false;
	t->all_known = true;
	for (i = 0; i < arg->count; i++) {
		enum sieve_ext ext;

		if (!sieve_ext_lookup(arg->strs[i].s, &ext) || !v->script->set->extensions[ext])
			t->all_known = false;
	}
	node->data = t;
	return true;
}

static int tst_ihave(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct tst_ihave *t = node->data;

	(void)in;
	return t->all_known ? 1 : 0;
}

struct cmd_error {
	struct sieve_tstr message;
};

static bool cmd_error_validate(struct sieve_validator *v, struct sieve_ast_node *node,
			       struct sieve_args *args)
{
	struct cmd_error *c = p_malloc(v->script->pool, sizeof(*c));

	if (c == NULL || !sieve_v_tstr(v, args->pos[0], 0, &c->message))
		return false;
	node->data = c;
	return true;
}

static int cmd_error_exec(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct cmd_error *c = node->data;
	struct sieve_str msg;

	if (!sieve_rt_expand(in, &c->message, &msg))
		return sieve_rt_error(in, node, "out of memory");
	return sieve_rt_error(in, node, "%s", sieve_sanitize(in->pool, msg.s, 256));
}

const struct sieve_cmd_def sieve_ext_misc_cmds[] = {
	{.name = "mailboxexists",
	 .kind = SIEVE_CMD_TEST,
	 .ext = SIEVE_EXT_MAILBOX,
	 .pos = {SIEVE_PARAM_STRLIST},
	 .pos_min = 1,
	 .pos_max = 1,
	 .pos_names = {"mailbox names"},
	 .validate = tst_mbexists_validate,
	 .test = tst_mbexists},
	{.name = "environment",
	 .kind = SIEVE_CMD_TEST,
	 .ext = SIEVE_EXT_ENVIRONMENT,
	 .common_tags = SIEVE_TAGS_MATCH,
	 .pos = {SIEVE_PARAM_STRING, SIEVE_PARAM_STRLIST},
	 .pos_min = 2,
	 .pos_max = 2,
	 .pos_names = {"name", "key list"},
	 .validate = tst_env_validate,
	 .test = tst_env},
	{.name = "ihave",
	 .kind = SIEVE_CMD_TEST,
	 .ext = SIEVE_EXT_IHAVE,
	 .pos = {SIEVE_PARAM_STRLIST},
	 .pos_min = 1,
	 .pos_max = 1,
	 .pos_names = {"capabilities"},
	 .validate = tst_ihave_validate,
	 .test = tst_ihave},
	{.name = "error",
	 .kind = SIEVE_CMD_COMMAND,
	 .ext = SIEVE_EXT_IHAVE,
	 .pos = {SIEVE_PARAM_STRING},
	 .pos_min = 1,
	 .pos_max = 1,
	 .pos_names = {"message"},
	 .validate = cmd_error_validate,
	 .execute = cmd_error_exec},
};

const unsigned int sieve_ext_misc_cmds_count = N_ELEMENTS(sieve_ext_misc_cmds);
