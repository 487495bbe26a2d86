/*
 * The variables extension (RFC 5229): the set command with its modifiers
 * and the string test; references inside strings are compiled by the
 * validator (sieve-validate.c). Runs in roost-lda; values are bounded by
 * sieve_variables_max_variable_size.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "sieve-private.h"

enum {
	MOD_LOWER,
	MOD_UPPER,
	MOD_LOWERFIRST,
	MOD_UPPERFIRST,
	MOD_QUOTEWILDCARD,
	MOD_LENGTH,
	MOD_COUNT
};

static const struct sieve_tag_def set_tags[] = {
	[MOD_LOWER] = {"lower", SIEVE_PARAM_NONE, -1},
	[MOD_UPPER] = {"upper", SIEVE_PARAM_NONE, -1},
	[MOD_LOWERFIRST] = {"lowerfirst", SIEVE_PARAM_NONE, -1},
	[MOD_UPPERFIRST] = {"upperfirst", SIEVE_PARAM_NONE, -1},
	[MOD_QUOTEWILDCARD] = {"quotewildcard", SIEVE_PARAM_NONE, -1},
	[MOD_LENGTH] = {"length", SIEVE_PARAM_NONE, -1},
};

static const unsigned int mod_precedence[MOD_COUNT] = {40, 40, 30, 30, 20, 10};

struct cmd_set {
	enum sieve_tpart_type var_type;
	unsigned int var_idx;
	struct sieve_tstr value;
	bool mods[MOD_COUNT];
};

bool sieve_v_variable_target(struct sieve_validator *v, const struct sieve_ast_arg *arg,
			     enum sieve_tpart_type *type_r, unsigned int *idx_r);
static bool cmd_set_validate(struct sieve_validator *v, struct sieve_ast_node *node,
			     struct sieve_args *args)
{
	struct cmd_set *c = p_malloc(v->script->pool, sizeof(*c));
	unsigned int i, k;

	if (c == NULL)
		return false;
	for (i = 0; i < MOD_COUNT; i++) {
		c->mods[i] = args->tag_set[i];
		if (!c->mods[i])
			continue;
		for (k = 0; k < i; k++) {
			if (c->mods[k] && mod_precedence[k] == mod_precedence[i]) {
				sieve_v_error(v, node->line, node->col,
					      "modifiers :%s and :%s specified for the set command "
					      "conflict having equal precedence",
					      set_tags[k].name, set_tags[i].name);
				return false;
			}
		}
	}
	if (!sieve_v_variable_target(v, args->pos[0], &c->var_type, &c->var_idx))
		return false;
	if (!sieve_v_tstr(v, args->pos[1], 0, &c->value))
		return false;
	node->data = c;
	return true;
}

/* Length of the UTF-8 character starting at s (1 for stray bytes). */
static size_t utf8_char_len(const char *s, size_t left)
{
	unsigned char c = (unsigned char)s[0];
	size_t n = c < 0x80		? 1
		   : (c & 0xe0) == 0xc0 ? 2
		   : (c & 0xf0) == 0xe0 ? 3
		   : (c & 0xf8) == 0xf0 ? 4
					: 1;

	return n > left ? left : n;
}

static int cmd_set_exec(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct cmd_set *c = node->data;
	struct sieve_str val;
	char *s;
	size_t len, i;

	if (!sieve_rt_expand(in, &c->value, &val))
		return sieve_rt_error(in, node, "out of memory");
	s = p_strndup(in->pool, val.s, val.len);
	if (s == NULL)
		return sieve_rt_error(in, node, "out of memory");
	len = val.len;
	/* Modifiers apply from the highest precedence down (RFC 5229 4.1). */
	if (c->mods[MOD_LOWER] || c->mods[MOD_UPPER]) {
		for (i = 0; i < len; i++)
			s[i] = c->mods[MOD_LOWER] ? (char)tolower((unsigned char)s[i])
						  : (char)toupper((unsigned char)s[i]);
	}
	if (len > 0 && c->mods[MOD_LOWERFIRST])
		s[0] = (char)tolower((unsigned char)s[0]);
	if (len > 0 && c->mods[MOD_UPPERFIRST])
		s[0] = (char)toupper((unsigned char)s[0]);
	if (c->mods[MOD_QUOTEWILDCARD]) {
		struct buf b;

		buf_init(&b, len * 2 + 1);
		for (i = 0; i < len; i++) {
			if (s[i] == '*' || s[i] == '?' || s[i] == '\\')
				(void)buf_append_c(&b, '\\');
			(void)buf_append_c(&b, (uint8_t)s[i]);
		}
		s = p_strndup(in->pool, buf_data(&b), buf_len(&b));
		len = buf_len(&b);
		buf_free(&b);
		if (s == NULL)
			return sieve_rt_error(in, node, "out of memory");
	}
	if (c->mods[MOD_LENGTH]) {
		size_t chars = 0;

		for (i = 0; i < len; i += utf8_char_len(s + i, len - i))
			chars++;
		s = p_strdup_printf(in->pool, "%zu", chars);
		if (s == NULL)
			return sieve_rt_error(in, node, "out of memory");
		len = strlen(s);
	}
	if (!sieve_rt_assign(in, c->var_type, c->var_idx, s, len))
		return sieve_rt_error(in, node, "out of memory");
	return 0;
}

struct tst_string {
	struct sieve_match match;
	struct sieve_tlist source;
};

static bool tst_string_validate(struct sieve_validator *v, struct sieve_ast_node *node,
				struct sieve_args *args)
{
	struct tst_string *t = p_malloc(v->script->pool, sizeof(*t));

	if (t == NULL || !sieve_v_tlist(v, args->pos[0], &t->source) ||
	    !sieve_v_match(v, node, args, args->pos[1]))
		return false;
	t->match = args->match;
	node->data = t;
	return true;
}

static int tst_string(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct tst_string *t = node->data;
	struct sieve_str *vals;
	unsigned int i, n = 0;

	if (!sieve_rt_expand_list(in, &t->source, &vals))
		return sieve_rt_error(in, node, "out of memory");
	if (t->match.mt == SIEVE_MT_COUNT) {
		/* Empty strings are not counted (RFC 5229 section 5). */
		for (i = 0; i < t->source.count; i++) {
			if (vals[i].len > 0)
				vals[n++] = vals[i];
		}
	} else {
		n = t->source.count;
	}
	return sieve_rt_match_values(in, node, &t->match, vals, n);
}

const struct sieve_cmd_def sieve_ext_variables_cmds[] = {
	{.name = "set",
	 .kind = SIEVE_CMD_COMMAND,
	 .ext = SIEVE_EXT_VARIABLES,
	 .tags = set_tags,
	 .tags_count = N_ELEMENTS(set_tags),
	 .pos = {SIEVE_PARAM_STRING, SIEVE_PARAM_STRING},
	 .pos_min = 2,
	 .pos_max = 2,
	 .pos_names = {"name", "value"},
	 .validate = cmd_set_validate,
	 .execute = cmd_set_exec},
	{.name = "string",
	 .kind = SIEVE_CMD_TEST,
	 .ext = SIEVE_EXT_VARIABLES,
	 .common_tags = SIEVE_TAGS_MATCH,
	 .pos = {SIEVE_PARAM_STRLIST, SIEVE_PARAM_STRLIST},
	 .pos_min = 2,
	 .pos_max = 2,
	 .pos_names = {"source", "key list"},
	 .validate = tst_string_validate,
	 .test = tst_string},
};

const unsigned int sieve_ext_variables_cmds_count = N_ELEMENTS(sieve_ext_variables_cmds);
