/*
 * The include extension (RFC 6609): include of :personal and :global
 * scripts (loaded through the environment callback and compiled on first
 * use), return, and global variables. Runs in roost-lda; included scripts
 * are as untrusted as the main one and bounded by the include limits.
 */
#include <string.h>

#include "sieve-private.h"

enum { INC_TAG_PERSONAL, INC_TAG_GLOBAL, INC_TAG_ONCE, INC_TAG_OPTIONAL };

static const struct sieve_tag_def include_tags[] = {
	[INC_TAG_PERSONAL] = {"personal", SIEVE_PARAM_NONE, -1},
	[INC_TAG_GLOBAL] = {"global", SIEVE_PARAM_NONE, -1},
	[INC_TAG_ONCE] = {"once", SIEVE_PARAM_NONE, -1},
	[INC_TAG_OPTIONAL] = {"optional", SIEVE_PARAM_NONE, -1},
};

static bool valid_script_name(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > 255 || !sieve_utf8_valid(name, len))
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c < 0x20 || c == 0x7f)
			return false;
	}
	return !(len == 1 && name[0] == '.') && !(len == 2 && name[0] == '.' && name[1] == '.');
}

static bool cmd_include_validate(struct sieve_validator *v, struct sieve_ast_node *node,
				 struct sieve_args *args)
{
	struct sieve_include_ref *ref = p_malloc(v->script->pool, sizeof(*ref));
	struct sieve_tstr name;

	if (ref == NULL)
		return false;
	if (args->tag_set[INC_TAG_PERSONAL] && args->tag_set[INC_TAG_GLOBAL]) {
		sieve_v_error(v, node->line, node->col,
			      "include: cannot use location tags ':personal' and ':global' "
			      "multiple times");
		return false;
	}
	if (!sieve_v_tstr(v, args->pos[0], 0, &name))
		return false;
	if (!sieve_tstr_is_const(&name)) {
		sieve_v_error(v, name.line, name.col,
			      "the include command requires a constant string for its value "
			      "argument");
		return false;
	}
	if (!valid_script_name(name.lit.s, name.lit.len)) {
		sieve_v_error(v, name.line, name.col, "include: invalid script name '%s'",
			      sieve_sanitize(v->script->pool, name.lit.s, 80));
		return false;
	}
	ref->location =
		args->tag_set[INC_TAG_GLOBAL] ? SIEVE_INCLUDE_GLOBAL : SIEVE_INCLUDE_PERSONAL;
	ref->name = name.lit.s;
	ref->once = args->tag_set[INC_TAG_ONCE];
	ref->optional = args->tag_set[INC_TAG_OPTIONAL];
	ref->line = node->line;
	ref->col = node->col;
	node->data = ref;
	if (!sieve_parray_grow(v->script->pool, (void **)&v->script->includes,
			       &v->script->includes_alloc, v->script->includes_count + 1,
			       sizeof(*v->script->includes)))
		return false;
	v->script->includes[v->script->includes_count++] = ref;
	return true;
}

static int cmd_include_exec(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	return sieve_rt_include(in, node, node->data);
}

static int cmd_return_exec(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	(void)node;
	if (in->include_depth == 0)
		in->stopped = true;
	else
		in->returned = true;
	return 1;
}

static bool cmd_global_validate(struct sieve_validator *v, struct sieve_ast_node *node,
				struct sieve_args *args)
{
	const struct sieve_ast_arg *arg = args->pos[0];
	unsigned int i;

	if (!sieve_v_ext(v, SIEVE_EXT_VARIABLES)) {
		sieve_v_error(v, node->line, node->col,
			      "global command requires that variables extension is active");
		return false;
	}
	for (i = 0; i < arg->count; i++) {
		const char *name = arg->strs[i].s;
		unsigned int k;

		if (!sieve_valid_variable_name(name, arg->strs[i].len)) {
			sieve_v_error(v, arg->str_lines[i], arg->str_cols[i],
				      "invalid variable identifier '%s'",
				      sieve_sanitize(v->script->pool, name, 64));
			return false;
		}
		for (k = 0; k < v->script->locals.count; k++) {
			if (strcasecmp(v->script->locals.names[k], name) == 0) {
				sieve_v_error(v, arg->str_lines[i], arg->str_cols[i],
					      "declaration of new global variable '%s' conflicts "
					      "with earlier local use",
					      sieve_sanitize(v->script->pool, name, 64));
				return false;
			}
		}
		if (sieve_v_declare_global(v, name, arg->str_lines[i], arg->str_cols[i]) < 0)
			return false;
	}
	return true;
}

static int cmd_global_exec(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	(void)in;
	(void)node;
	return 0;
}

const struct sieve_cmd_def sieve_ext_include_cmds[] = {
	{.name = "include",
	 .kind = SIEVE_CMD_COMMAND,
	 .ext = SIEVE_EXT_INCLUDE,
	 .tags = include_tags,
	 .tags_count = N_ELEMENTS(include_tags),
	 .pos = {SIEVE_PARAM_STRING},
	 .pos_min = 1,
	 .pos_max = 1,
	 .pos_names = {"value"},
	 .validate = cmd_include_validate,
	 .execute = cmd_include_exec},
	{.name = "return",
	 .kind = SIEVE_CMD_COMMAND,
	 .ext = SIEVE_EXT_INCLUDE,
	 .execute = cmd_return_exec},
	{.name = "global",
	 .kind = SIEVE_CMD_COMMAND,
	 .ext = SIEVE_EXT_INCLUDE,
	 .pos = {SIEVE_PARAM_STRLIST},
	 .pos_min = 1,
	 .pos_max = 1,
	 .pos_names = {"value"},
	 .validate = cmd_global_validate,
	 .execute = cmd_global_exec},
};

const unsigned int sieve_ext_include_cmds_count = N_ELEMENTS(sieve_ext_include_cmds);
