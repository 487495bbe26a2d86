/*
 * The duplicate test (RFC 7352): has a message with this Message-ID (or
 * chosen header value or :uniqueid) been seen before? The id is recorded
 * only when the delivery commits (sieve_result_commit). Runs in roost-lda;
 * the database is reached through the environment callbacks.
 */
#include <string.h>
#include <time.h>

#include "sieve-private.h"

enum { DUP_TAG_HANDLE, DUP_TAG_HEADER, DUP_TAG_UNIQUEID, DUP_TAG_SECONDS, DUP_TAG_LAST };

static const struct sieve_tag_def duplicate_tags[] = {
	[DUP_TAG_HANDLE] = {"handle", SIEVE_PARAM_STRING, -1},
	[DUP_TAG_HEADER] = {"header", SIEVE_PARAM_STRING, -1},
	[DUP_TAG_UNIQUEID] = {"uniqueid", SIEVE_PARAM_STRING, -1},
	[DUP_TAG_SECONDS] = {"seconds", SIEVE_PARAM_NUMBER, -1},
	[DUP_TAG_LAST] = {"last", SIEVE_PARAM_NONE, -1},
};

struct tst_duplicate {
	bool has_handle, has_header, has_uniqueid, has_seconds, last;
	struct sieve_tstr handle, header, uniqueid;
	uint64_t seconds;
};

static bool tst_duplicate_validate(struct sieve_validator *v, struct sieve_ast_node *node,
				   struct sieve_args *args)
{
	struct tst_duplicate *t = p_malloc(v->script->pool, sizeof(*t));

	if (t == NULL)
		return false;
	if (args->tag_set[DUP_TAG_HEADER] && args->tag_set[DUP_TAG_UNIQUEID]) {
		sieve_v_error(v, node->line, node->col,
			      "the :header and :uniqueid arguments of the duplicate test are "
			      "mutually exclusive");
		return false;
	}
	if ((t->has_handle = args->tag_set[DUP_TAG_HANDLE]) &&
	    !sieve_v_tstr(v, args->tag_arg[DUP_TAG_HANDLE], 0, &t->handle))
		return false;
	if ((t->has_header = args->tag_set[DUP_TAG_HEADER])) {
		if (!sieve_v_tstr(v, args->tag_arg[DUP_TAG_HEADER], 0, &t->header))
			return false;
		if (sieve_tstr_is_const(&t->header) &&
		    !sieve_valid_header_name(t->header.lit.s, t->header.lit.len)) {
			sieve_v_error(v, t->header.line, t->header.col,
				      "specified header field name '%s' is invalid",
				      sieve_sanitize(v->script->pool, t->header.lit.s, 64));
			return false;
		}
	}
	if ((t->has_uniqueid = args->tag_set[DUP_TAG_UNIQUEID]) &&
	    !sieve_v_tstr(v, args->tag_arg[DUP_TAG_UNIQUEID], 0, &t->uniqueid))
		return false;
	if ((t->has_seconds = args->tag_set[DUP_TAG_SECONDS]))
		t->seconds = args->tag_arg[DUP_TAG_SECONDS]->number;
	t->last = args->tag_set[DUP_TAG_LAST];
	node->data = t;
	return true;
}

static int tst_duplicate(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct tst_duplicate *t = node->data;
	const struct sieve_env_ops *env;
	struct sieve_str handle = {"", 0}, value, *vals;
	uint64_t period;
	char *id;
	void *ctx;
	int ret;

	if (t->has_uniqueid) {
		if (!sieve_rt_expand(in, &t->uniqueid, &value))
			return sieve_rt_error(in, node, "out of memory");
	} else {
		struct sieve_str hname;
		const char *name = "message-id";
		int n;

		if (t->has_header) {
			if (!sieve_rt_expand(in, &t->header, &hname))
				return sieve_rt_error(in, node, "out of memory");
			name = hname.s;
		}
		n = sieve_msgview_get(in->msg, name, false, &vals);
		if (n < 0)
			return sieve_rt_error(in, node, "failed to read header field `%s'",
					      sieve_sanitize(in->pool, name, 80));
		if (n == 0)
			return 0;
		value = vals[0];
	}
	if (t->has_handle && !sieve_rt_expand(in, &t->handle, &handle))
		return sieve_rt_error(in, node, "out of memory");
	period = t->has_seconds ? t->seconds : in->set->duplicate_default_period;
	if (in->set->duplicate_max_period > 0 && period > in->set->duplicate_max_period)
		period = in->set->duplicate_max_period;
	id = p_strdup_printf(in->pool, "duplicate\n%s\n%s", handle.s, value.s);
	if (id == NULL)
		return sieve_rt_error(in, node, "out of memory");
	env = sieve_rt_env_ops(in, &ctx);
	ret = 0;
	if (env != NULL && env->duplicate_check != NULL) {
		ret = env->duplicate_check(ctx, SIEVE_DUP_TEST, id, strlen(id));
		if (ret < 0)
			return sieve_rt_tempfail(in, node, "failed to check for duplicate");
	}
	/* Recorded at commit; :last refreshes the period of a known id. */
	if (ret == 0 || t->last) {
		struct sieve_action a;

		memset(&a, 0, sizeof(a));
		a.type = SIEVE_ACTION_TRACK_DUPLICATE;
		a.duplicate.handle = t->has_handle ? handle.s : NULL;
		a.duplicate.last = t->last;
		a.duplicate.id = id;
		a.duplicate.id_len = strlen(id);
		a.duplicate.expires = sieve_rt_now(in) + (time_t)period;
		if (sieve_result_add(in, node, &a) < 0)
			return -1;
	}
	return ret > 0 ? 1 : 0;
}

const struct sieve_cmd_def sieve_ext_duplicate_cmds[] = {
	{.name = "duplicate",
	 .kind = SIEVE_CMD_TEST,
	 .ext = SIEVE_EXT_DUPLICATE,
	 .tags = duplicate_tags,
	 .tags_count = N_ELEMENTS(duplicate_tags),
	 .validate = tst_duplicate_validate,
	 .test = tst_duplicate},
};

const unsigned int sieve_ext_duplicate_cmds_count = N_ELEMENTS(sieve_ext_duplicate_cmds);
