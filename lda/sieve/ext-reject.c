/*
 * The reject and ereject actions (RFC 5429): refuse the message with a
 * reason sent back to the sender. Runs in roost-lda; the reason is script
 * text and is sanitised wherever it is printed or logged.
 */
#include <string.h>

#include "sieve-private.h"

struct cmd_reject {
	struct sieve_tstr reason;
	bool ereject;
};

static bool cmd_reject_validate(struct sieve_validator *v, struct sieve_ast_node *node,
				struct sieve_args *args)
{
	struct cmd_reject *c = p_malloc(v->script->pool, sizeof(*c));

	if (c == NULL || !sieve_v_tstr(v, args->pos[0], 0, &c->reason))
		return false;
	c->ereject = strcasecmp(node->name, "ereject") == 0;
	node->data = c;
	return true;
}

static int cmd_reject_exec(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct cmd_reject *c = node->data;
	struct sieve_action a;
	struct sieve_str reason;

	if (!sieve_rt_expand(in, &c->reason, &reason))
		return sieve_rt_error(in, node, "out of memory");
	memset(&a, 0, sizeof(a));
	a.type = SIEVE_ACTION_REJECT;
	a.reason = reason.s;
	a.ereject = c->ereject;
	return sieve_result_add(in, node, &a);
}

const struct sieve_cmd_def sieve_ext_reject_cmds[] = {
	{.name = "reject",
	 .kind = SIEVE_CMD_COMMAND,
	 .ext = SIEVE_EXT_REJECT,
	 .pos = {SIEVE_PARAM_STRING},
	 .pos_min = 1,
	 .pos_max = 1,
	 .pos_names = {"reason"},
	 .validate = cmd_reject_validate,
	 .execute = cmd_reject_exec},
	{.name = "ereject",
	 .kind = SIEVE_CMD_COMMAND,
	 .ext = SIEVE_EXT_EREJECT,
	 .pos = {SIEVE_PARAM_STRING},
	 .pos_min = 1,
	 .pos_max = 1,
	 .pos_names = {"reason"},
	 .validate = cmd_reject_validate,
	 .execute = cmd_reject_exec},
};

const unsigned int sieve_ext_reject_cmds_count = N_ELEMENTS(sieve_ext_reject_cmds);
