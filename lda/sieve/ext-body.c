/*
 * The body test (RFC 5173): match the raw body, the decoded text parts or
 * the parts of chosen content types. Runs in roost-lda; the MIME parts are
 * produced by the message parser from hostile input and only read here.
 */
#include <string.h>

#include "sieve-private.h"

enum body_transform { BODY_TEXT, BODY_RAW, BODY_CONTENT };

enum { BODY_TAG_RAW, BODY_TAG_CONTENT, BODY_TAG_TEXT };

static const struct sieve_tag_def body_tags[] = {
	[BODY_TAG_RAW] = {"raw", SIEVE_PARAM_NONE, -1},
	[BODY_TAG_CONTENT] = {"content", SIEVE_PARAM_STRLIST, -1},
	[BODY_TAG_TEXT] = {"text", SIEVE_PARAM_NONE, -1},
};

struct tst_body {
	struct sieve_match match;
	enum body_transform transform;
	struct sieve_tlist types;
};

static bool tst_body_validate(struct sieve_validator *v, struct sieve_ast_node *node,
			      struct sieve_args *args)
{
	struct tst_body *t = p_malloc(v->script->pool, sizeof(*t));
	unsigned int n = (args->tag_set[BODY_TAG_RAW] ? 1 : 0) +
			 (args->tag_set[BODY_TAG_CONTENT] ? 1 : 0) +
			 (args->tag_set[BODY_TAG_TEXT] ? 1 : 0);

	if (t == NULL)
		return false;
	if (n > 1) {
		sieve_v_error(v, node->line, node->col,
			      "the :raw, :content and :text arguments for the body test are "
			      "mutually exclusive, but more than one was specified");
		return false;
	}
	if (args->tag_set[BODY_TAG_RAW]) {
		t->transform = BODY_RAW;
	} else if (args->tag_set[BODY_TAG_CONTENT]) {
		t->transform = BODY_CONTENT;
		if (!sieve_v_tlist(v, args->tag_arg[BODY_TAG_CONTENT], &t->types))
			return false;
	} else {
		t->transform = BODY_TEXT;
	}
	if (!sieve_v_match(v, node, args, args->pos[0]))
		return false;
	t->match = args->match;
	node->data = t;
	return true;
}

/* RFC 5173 section 5: "type" matches any subtype, "type/sub" exactly, "" all. */
static bool content_type_matches(const char *ct, const struct sieve_str *want)
{
	const char *slash = strchr(ct, '/');
	size_t tlen = slash != NULL ? (size_t)(slash - ct) : strlen(ct);

	const char *ws;

	if (want->len == 0)
		return true;
	/* A leading or trailing slash or a second one matches nothing. */
	ws = memchr(want->s, '/', want->len);
	if (want->s[0] == '/' || want->s[want->len - 1] == '/' ||
	    (ws != NULL && memchr(ws + 1, '/', want->len - (size_t)(ws + 1 - want->s)) != NULL))
		return false;
	if (memchr(want->s, '/', want->len) == NULL)
		return want->len == tlen && strncasecmp(ct, want->s, tlen) == 0;
	return strlen(ct) == want->len && strncasecmp(ct, want->s, want->len) == 0;
}

static int tst_body(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct tst_body *t = node->data;
	const struct sieve_body_part *parts;
	struct sieve_str *vals = NULL, *types = NULL;
	size_t count, i;
	unsigned int n = 0, k;
	bool mv_saved = in->mv_enabled;
	int ret;

	if (t->transform == BODY_RAW) {
		struct sieve_str raw;

		if (in->msg->ops->get_raw_body == NULL ||
		    in->msg->ops->get_raw_body(in->msg->ctx, &raw.s, &raw.len) < 0)
			return sieve_rt_error(in, node, "failed to read message body");
		/* The raw body may contain NULs; compare it as one value. */
		raw.s = p_strndup(in->pool, raw.s, raw.len);
		if (raw.s == NULL)
			return sieve_rt_error(in, node, "out of memory");
		in->mv_enabled = false;
		ret = sieve_rt_match_values(in, node, &t->match, &raw, 1);
		in->mv_enabled = mv_saved;
		return ret;
	}
	if (sieve_msgview_body_parts(in->msg, &parts, &count) < 0)
		return sieve_rt_error(in, node, "failed to read message body");
	if (t->transform == BODY_CONTENT && !sieve_rt_expand_list(in, &t->types, &types))
		return sieve_rt_error(in, node, "out of memory");
	vals = p_malloc_array(in->pool, count + 1, sizeof(*vals));
	if (vals == NULL)
		return sieve_rt_error(in, node, "out of memory");
	for (i = 0; i < count; i++) {
		const struct sieve_body_part *p = &parts[i];
		bool want = false;

		if (t->transform == BODY_TEXT) {
			want = !p->multipart && !p->message &&
			       strncasecmp(p->content_type, "text/", 5) == 0;
		} else {
			for (k = 0; k < t->types.count && !want; k++) {
				/* Containers only match an explicit "multipart" type. */
				if (p->multipart && !(types[k].len >= 9 &&
						      strncasecmp(types[k].s, "multipart", 9) == 0))
					continue;
				want = content_type_matches(p->content_type, &types[k]);
			}
		}
		if (!want || p->text == NULL)
			continue;
		vals[n].s = p->text;
		vals[n].len = p->text_len;
		n++;
	}
	/* The body test does not set match variables (RFC 5173 section 6). */
	in->mv_enabled = false;
	ret = sieve_rt_match_values(in, node, &t->match, vals, n);
	in->mv_enabled = mv_saved;
	return ret;
}

const struct sieve_cmd_def sieve_ext_body_cmds[] = {
	{.name = "body",
	 .kind = SIEVE_CMD_TEST,
	 .ext = SIEVE_EXT_BODY,
	 .common_tags = SIEVE_TAGS_MATCH,
	 .tags = body_tags,
	 .tags_count = N_ELEMENTS(body_tags),
	 .pos = {SIEVE_PARAM_STRLIST},
	 .pos_min = 1,
	 .pos_max = 1,
	 .pos_names = {"key list"},
	 .validate = tst_body_validate,
	 .test = tst_body},
};

const unsigned int sieve_ext_body_cmds_count = N_ELEMENTS(sieve_ext_body_cmds);
