/*
 * The editheader extension (RFC 5293): addheader and deleteheader change
 * the header of the stored copy and what later tests see. Runs in
 * roost-lda; names and values come from scripts, are bounded by
 * sieve_editheader_max_header_size and protected fields stay untouched.
 */
#include <string.h>

#include "sieve-private.h"

/*
 * Whether a field may be changed. Received and Auto-Submitted may never be
 * deleted (RFC 5293 section 7); adding them is allowed, as in Pigeonhole.
 */
static bool protected_field(const struct sieve_settings *set, const char *name, size_t len,
			    bool deleting)
{
	const char *p = set->editheader_protected;

	if (deleting && ((len == 8 && strncasecmp(name, "received", 8) == 0) ||
			 (len == 14 && strncasecmp(name, "auto-submitted", 14) == 0)))
		return true;
	if (len == 7 && strncasecmp(name, "subject", 7) == 0)
		return false;
	while (p != NULL && *p != '\0') {
		size_t n;

		while (*p == ' ' || *p == '\t')
			p++;
		n = strcspn(p, " \t");
		if (n == len && strncasecmp(p, name, n) == 0)
			return true;
		p += n;
	}
	return false;
}

struct cmd_addheader {
	struct sieve_tstr name, value;
	bool last;
};

static const struct sieve_tag_def addheader_tags[] = {
	{"last", SIEVE_PARAM_NONE, -1},
};

static bool valid_value(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0' ||
		    ((c == '\r' || c == '\n') &&
		     !(i + 1 < len && (s[i + 1] == ' ' || s[i + 1] == '\t' || s[i + 1] == '\n'))))
			return false;
	}
	return sieve_utf8_valid(s, len);
}

static bool cmd_addheader_validate(struct sieve_validator *v, struct sieve_ast_node *node,
				   struct sieve_args *args)
{
	struct cmd_addheader *c = p_malloc(v->script->pool, sizeof(*c));

	if (c == NULL || !sieve_v_tstr(v, args->pos[0], 0, &c->name) ||
	    !sieve_v_tstr(v, args->pos[1], 0, &c->value))
		return false;
	c->last = args->tag_set[0];
	if (sieve_tstr_is_const(&c->name)) {
		if (!sieve_valid_header_name(c->name.lit.s, c->name.lit.len)) {
			sieve_v_error(v, c->name.line, c->name.col,
				      "addheader command: specified field name `%s' is invalid",
				      sieve_sanitize(v->script->pool, c->name.lit.s, 80));
			return false;
		}
		if (protected_field(v->script->set, c->name.lit.s, c->name.lit.len, false))
			sieve_v_warning(v, c->name.line, c->name.col,
					"addheader command: adding specified header field `%s' "
					"is forbidden; modification will be denied",
					sieve_sanitize(v->script->pool, c->name.lit.s, 80));
	}
	if (sieve_tstr_is_const(&c->value)) {
		if (c->value.lit.len > v->script->set->editheader_max_header_size) {
			sieve_v_error(v, c->value.line, c->value.col,
				      "addheader command: specified header value `%s' is too "
				      "large (%zu bytes)",
				      sieve_sanitize(v->script->pool, c->value.lit.s, 80),
				      c->value.lit.len);
			return false;
		}
		if (!valid_value(c->value.lit.s, c->value.lit.len)) {
			sieve_v_error(v, c->value.line, c->value.col,
				      "addheader command: specified value `%s' is invalid",
				      sieve_sanitize(v->script->pool, c->value.lit.s, 80));
			return false;
		}
	}
	node->data = c;
	return true;
}

static int cmd_addheader_exec(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct cmd_addheader *c = node->data;
	struct sieve_str name, value;
	char *unfolded;
	size_t i, n = 0;

	if (!sieve_rt_expand(in, &c->name, &name) || !sieve_rt_expand(in, &c->value, &value))
		return sieve_rt_error(in, node, "out of memory");
	if (!sieve_valid_header_name(name.s, name.len))
		return sieve_rt_error(in, node,
				      "addheader action: specified field name `%s' is invalid",
				      sieve_sanitize(in->pool, name.s, 80));
	if (value.len > in->set->editheader_max_header_size)
		return sieve_rt_error(in, node,
				      "addheader action: specified header value `%s' is too large "
				      "(%zu bytes)",
				      sieve_sanitize(in->pool, value.s, 80), value.len);
	if (!valid_value(value.s, value.len))
		return sieve_rt_error(in, node, "addheader action: specified value `%s' is invalid",
				      sieve_sanitize(in->pool, value.s, 80));
	if (protected_field(in->set, name.s, name.len, false))
		return 0;
	/* Stored unfolded: folding is applied when the message is written. */
	unfolded = p_malloc(in->pool, value.len + 1);
	if (unfolded == NULL)
		return sieve_rt_error(in, node, "out of memory");
	for (i = 0; i < value.len; i++) {
		if (value.s[i] == '\r' || value.s[i] == '\n')
			continue;
		unfolded[n++] = value.s[i];
	}
	if (sieve_msgview_add(in->msg, name.s, unfolded, n, c->last) < 0)
		return sieve_rt_error(in, node, "out of memory");
	return 0;
}

struct cmd_deleteheader {
	struct sieve_match match;
	bool has_patterns;
	struct sieve_tstr name;
	uint64_t index;
	bool last;
};

static const struct sieve_tag_def deleteheader_tags[] = {
	{"index", SIEVE_PARAM_NUMBER, -1},
	{"last", SIEVE_PARAM_NONE, -1},
};

static bool cmd_deleteheader_validate(struct sieve_validator *v, struct sieve_ast_node *node,
				      struct sieve_args *args)
{
	struct cmd_deleteheader *c = p_malloc(v->script->pool, sizeof(*c));

	if (c == NULL || !sieve_v_tstr(v, args->pos[0], 0, &c->name))
		return false;
	if (args->tag_set[1] && !args->tag_set[0]) {
		sieve_v_error(v, node->line, node->col,
			      "the :last tag for the deleteheader command requires :index tag to "
			      "be specified as well");
		return false;
	}
	if (args->tag_set[0]) {
		c->index = args->tag_arg[0]->number;
		if (c->index == 0) {
			sieve_v_error(v, node->line, node->col,
				      "the :index tag for the deleteheader command requires a "
				      "number argument greater than zero");
			return false;
		}
		c->last = args->tag_set[1];
	}
	if (sieve_tstr_is_const(&c->name)) {
		if (!sieve_valid_header_name(c->name.lit.s, c->name.lit.len)) {
			sieve_v_error(v, c->name.line, c->name.col,
				      "deleteheader command: specified field name `%s' is invalid",
				      sieve_sanitize(v->script->pool, c->name.lit.s, 80));
			return false;
		}
		if (protected_field(v->script->set, c->name.lit.s, c->name.lit.len, true))
			sieve_v_warning(v, c->name.line, c->name.col,
					"deleteheader command: deleting specified header field "
					"`%s' is forbidden; modification will be denied",
					sieve_sanitize(v->script->pool, c->name.lit.s, 80));
	}
	if (args->pos_count > 1) {
		c->has_patterns = true;
		if (!sieve_v_match(v, node, args, args->pos[1]))
			return false;
		c->match = args->match;
	}
	node->data = c;
	return true;
}

static int cmd_deleteheader_exec(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct cmd_deleteheader *c = node->data;
	const unsigned int *idx;
	unsigned int *del, ndel = 0, i;
	struct sieve_str name;
	int count;

	if (!sieve_rt_expand(in, &c->name, &name))
		return sieve_rt_error(in, node, "out of memory");
	if (!sieve_valid_header_name(name.s, name.len))
		return sieve_rt_error(in, node,
				      "deleteheader action: specified field name `%s' is invalid",
				      sieve_sanitize(in->pool, name.s, 80));
	if (protected_field(in->set, name.s, name.len, true))
		return 0;
	count = sieve_msgview_positions(in->msg, name.s, &idx);
	if (count < 0)
		return sieve_rt_error(in, node, "failed to read header");
	if (count == 0)
		return 0;
	del = p_malloc_array(in->pool, (size_t)count, sizeof(*del));
	if (del == NULL)
		return sieve_rt_error(in, node, "out of memory");
	for (i = 0; i < (unsigned int)count; i++) {
		if (c->index > 0) {
			uint64_t want = c->last ? (uint64_t)count - c->index : c->index - 1;

			if (c->index > (uint64_t)count || i != want)
				continue;
		}
		if (c->has_patterns) {
			struct sieve_str val;
			int ret;
			bool saved = in->mv_enabled;

			if (!sieve_msgview_decoded(in->msg, idx[i], &val))
				return sieve_rt_error(in, node, "failed to read header");
			in->mv_enabled = false;
			ret = sieve_rt_match_values(in, node, &c->match, &val, 1);
			in->mv_enabled = saved;
			if (ret < 0)
				return -1;
			if (ret == 0)
				continue;
		}
		del[ndel++] = idx[i];
	}
	/* Delete from the back so earlier positions stay valid. */
	while (ndel > 0)
		sieve_msgview_delete(in->msg, del[--ndel]);
	return 0;
}

const struct sieve_cmd_def sieve_ext_editheader_cmds[] = {
	{.name = "addheader",
	 .kind = SIEVE_CMD_COMMAND,
	 .ext = SIEVE_EXT_EDITHEADER,
	 .tags = addheader_tags,
	 .tags_count = N_ELEMENTS(addheader_tags),
	 .pos = {SIEVE_PARAM_STRING, SIEVE_PARAM_STRING},
	 .pos_min = 2,
	 .pos_max = 2,
	 .pos_names = {"field name", "value"},
	 .validate = cmd_addheader_validate,
	 .execute = cmd_addheader_exec},
	{.name = "deleteheader",
	 .kind = SIEVE_CMD_COMMAND,
	 .ext = SIEVE_EXT_EDITHEADER,
	 .common_tags = SIEVE_TAGS_MATCH,
	 .tags = deleteheader_tags,
	 .tags_count = N_ELEMENTS(deleteheader_tags),
	 .pos = {SIEVE_PARAM_STRING, SIEVE_PARAM_STRLIST},
	 .pos_min = 1,
	 .pos_max = 2,
	 .pos_names = {"field name", "value patterns"},
	 .validate = cmd_deleteheader_validate,
	 .execute = cmd_deleteheader_exec},
};

const unsigned int sieve_ext_editheader_cmds_count = N_ELEMENTS(sieve_ext_editheader_cmds);
