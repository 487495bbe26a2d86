/*
 * The imap4flags extension (RFC 5232): setflag, addflag, removeflag and
 * hasflag on the internal flag variable or on named variables; the :flags
 * tag of fileinto and keep lives in sieve-core.c. Runs in roost-lda;
 * invalid IMAP flags from scripts are dropped, as Pigeonhole does.
 */
#include <string.h>

#include "sieve-private.h"

enum flag_op { FLAG_SET, FLAG_ADD, FLAG_REMOVE };

struct cmd_flag {
	enum flag_op op;
	bool has_var;
	enum sieve_tpart_type var_type;
	unsigned int var_idx;
	struct sieve_tlist flags;
};

/* Resolves a constant variable name for imap4flags or set. */
bool sieve_v_variable_target(struct sieve_validator *v, const struct sieve_ast_arg *arg,
			     enum sieve_tpart_type *type_r, unsigned int *idx_r)
{
	const char *name = arg->strs[0].s;
	size_t len = arg->strs[0].len;
	int idx;

	if (len > 0 && name[0] >= '0' && name[0] <= '9') {
		sieve_v_error(v, arg->line, arg->col, "cannot assign to match variable");
		return false;
	}
	if (len > 7 && strncasecmp(name, "global.", 7) == 0 && sieve_v_ext(v, SIEVE_EXT_INCLUDE) &&
	    sieve_valid_variable_name(name + 7, len - 7)) {
		idx = sieve_v_declare_global(v, name + 7, arg->line, arg->col);
		if (idx < 0)
			return false;
		*type_r = SIEVE_TPART_GLOBAL;
		*idx_r = (unsigned int)idx;
		return true;
	}
	if (!sieve_valid_variable_name(name, len)) {
		sieve_v_error(v, arg->line, arg->col, "invalid variable name '%s'",
			      sieve_sanitize(v->script->pool, name, 64));
		return false;
	}
	{
		unsigned int i;

		for (i = 0; i < v->script->globals.count; i++) {
			if (strcasecmp(v->script->globals.names[i], name) == 0) {
				*type_r = SIEVE_TPART_GLOBAL;
				*idx_r = i;
				return true;
			}
		}
	}
	idx = sieve_v_declare_local(v, name, arg->line, arg->col);
	if (idx < 0)
		return false;
	*type_r = SIEVE_TPART_LOCAL;
	*idx_r = (unsigned int)idx;
	return true;
}

static bool cmd_flag_validate(struct sieve_validator *v, struct sieve_ast_node *node,
			      struct sieve_args *args)
{
	struct cmd_flag *c = p_malloc(v->script->pool, sizeof(*c));
	const struct sieve_ast_arg *flags = args->pos[0];

	if (c == NULL)
		return false;
	if (strcasecmp(node->name, "setflag") == 0)
		c->op = FLAG_SET;
	else if (strcasecmp(node->name, "addflag") == 0)
		c->op = FLAG_ADD;
	else
		c->op = FLAG_REMOVE;
	if (args->pos_count == 2) {
		if (args->pos[0]->type != SIEVE_ARG_STRING) {
			sieve_v_error(v, args->pos[0]->line, args->pos[0]->col,
				      "if a second argument is specified for the %s command, the "
				      "first must be a string (variable name), but a string list "
				      "was found",
				      node->name);
			return false;
		}
		if (!sieve_v_ext(v, SIEVE_EXT_VARIABLES)) {
			sieve_v_error(v, node->line, node->col,
				      "the %s command only allows for the specification of a "
				      "variable name when the variables extension is active",
				      node->name);
			return false;
		}
		if (!sieve_v_variable_target(v, args->pos[0], &c->var_type, &c->var_idx))
			return false;
		c->has_var = true;
		flags = args->pos[1];
	}
	if (!sieve_v_tlist(v, flags, &c->flags))
		return false;
	node->data = c;
	return true;
}

/* Reads a named variable into a flag set. */
static void var_to_flags(struct sieve_interp *in, enum sieve_tpart_type type, unsigned int idx,
			 struct sieve_flags *f)
{
	struct sieve_tpart part;
	struct sieve_tstr t;
	struct sieve_str val;

	memset(&part, 0, sizeof(part));
	memset(&t, 0, sizeof(t));
	part.type = type;
	part.index = idx;
	t.parts = &part;
	t.parts_count = 1;
	if (sieve_rt_expand(in, &t, &val))
		sieve_flags_add_str(in->pool, f, val.s, val.len);
}

static int cmd_flag_exec(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct cmd_flag *c = node->data;
	struct sieve_flags local, *f;
	struct sieve_str *vals;
	unsigned int i;

	if (!sieve_rt_expand_list(in, &c->flags, &vals))
		return sieve_rt_error(in, node, "out of memory");
	memset(&local, 0, sizeof(local));
	if (c->has_var) {
		f = &local;
		if (c->op != FLAG_SET)
			var_to_flags(in, c->var_type, c->var_idx, f);
	} else {
		f = sieve_rt_flags(in);
		if (c->op == FLAG_SET)
			sieve_flags_clear(f);
	}
	for (i = 0; i < c->flags.count; i++) {
		if (c->op == FLAG_REMOVE)
			sieve_flags_remove_str(f, vals[i].s, vals[i].len);
		else
			sieve_flags_add_str(c->has_var ? in->pool : sieve_result_pool(in->result),
					    f, vals[i].s, vals[i].len);
	}
	if (c->has_var) {
		char *s = sieve_flags_to_str(in->pool, f);

		if (s == NULL || !sieve_rt_assign(in, c->var_type, c->var_idx, s, strlen(s)))
			return sieve_rt_error(in, node, "out of memory");
	}
	return 0;
}

struct tst_hasflag {
	struct sieve_match match;
	bool has_vars;
	struct sieve_tlist vars;
};

static bool tst_hasflag_validate(struct sieve_validator *v, struct sieve_ast_node *node,
				 struct sieve_args *args)
{
	struct tst_hasflag *t = p_malloc(v->script->pool, sizeof(*t));
	const struct sieve_ast_arg *keys = args->pos[0];

	if (t == NULL)
		return false;
	if (args->pos_count == 2) {
		if (!sieve_v_ext(v, SIEVE_EXT_VARIABLES)) {
			sieve_v_error(v, node->line, node->col,
				      "the hasflag test only allows for the specification of a "
				      "variable name when the variables extension is active");
			return false;
		}
		t->has_vars = true;
		if (!sieve_v_tlist(v, args->pos[0], &t->vars))
			return false;
		keys = args->pos[1];
	}
	if (!sieve_v_match(v, node, args, keys))
		return false;
	t->match = args->match;
	node->data = t;
	return true;
}

static int tst_hasflag(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct tst_hasflag *t = node->data;
	struct sieve_flags f;
	struct sieve_str *vals;
	unsigned int i;

	memset(&f, 0, sizeof(f));
	if (t->has_vars) {
		struct sieve_str *names;

		if (!sieve_rt_expand_list(in, &t->vars, &names))
			return sieve_rt_error(in, node, "out of memory");
		for (i = 0; i < t->vars.count; i++) {
			struct sieve_tstr *var = &t->vars.items[i];
			struct sieve_tpart part;
			struct sieve_tstr tt;
			struct sieve_str val;
			int idx = -1;
			unsigned int k;

			/* Variable names are resolved at runtime against the scope. */
			for (k = 0; k < in->script->locals.count; k++) {
				if (strcasecmp(in->script->locals.names[k], names[i].s) == 0) {
					idx = (int)k;
					break;
				}
			}
			(void)var;
			if (idx < 0)
				continue;
			memset(&part, 0, sizeof(part));
			memset(&tt, 0, sizeof(tt));
			part.type = SIEVE_TPART_LOCAL;
			part.index = (unsigned int)idx;
			tt.parts = &part;
			tt.parts_count = 1;
			if (sieve_rt_expand(in, &tt, &val))
				sieve_flags_add_str(in->pool, &f, val.s, val.len);
		}
	} else {
		const struct sieve_flags *cur = sieve_rt_flags(in);

		for (i = 0; i < cur->count; i++)
			sieve_flags_add_str(in->pool, &f, cur->items[i], strlen(cur->items[i]));
	}
	vals = p_malloc_array(in->pool, f.count + 1, sizeof(*vals));
	if (vals == NULL)
		return sieve_rt_error(in, node, "out of memory");
	for (i = 0; i < f.count; i++) {
		vals[i].s = f.items[i];
		vals[i].len = strlen(f.items[i]);
	}
	return sieve_rt_match_values(in, node, &t->match, vals, f.count);
}

#define FLAG_CMD(n)                                                                             \
	{                                                                                       \
		.name = n, .kind = SIEVE_CMD_COMMAND, .ext = SIEVE_EXT_IMAP4FLAGS,              \
		.pos = {SIEVE_PARAM_STRLIST, SIEVE_PARAM_STRLIST}, .pos_min = 1, .pos_max = 2,  \
		.pos_names = {"list of flags", "list of flags"}, .validate = cmd_flag_validate, \
		.execute = cmd_flag_exec                                                        \
	}

const struct sieve_cmd_def sieve_ext_imap4flags_cmds[] = {
	FLAG_CMD("setflag"),
	FLAG_CMD("addflag"),
	FLAG_CMD("removeflag"),
	{.name = "hasflag",
	 .kind = SIEVE_CMD_TEST,
	 .ext = SIEVE_EXT_IMAP4FLAGS,
	 .common_tags = SIEVE_TAGS_MATCH,
	 .pos = {SIEVE_PARAM_STRLIST, SIEVE_PARAM_STRLIST},
	 .pos_min = 1,
	 .pos_max = 2,
	 .pos_names = {"list of flags", "list of flags"},
	 .validate = tst_hasflag_validate,
	 .test = tst_hasflag},
};

const unsigned int sieve_ext_imap4flags_cmds_count = N_ELEMENTS(sieve_ext_imap4flags_cmds);
