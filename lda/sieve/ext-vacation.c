/*
 * The vacation action (RFC 5230) with :seconds (RFC 6131), and the
 * decisions taken when it is executed: never answer the null sender, our
 * own addresses, mailing lists, bulk or auto-submitted mail, system
 * addresses, mail not addressed to us, or a sender answered within the
 * period. Runs in roost-lda; the message headers it reads are hostile.
 */
#include <stdio.h>
#include <string.h>

#include "sieve-private.h"

enum {
	VAC_TAG_DAYS,
	VAC_TAG_SECONDS,
	VAC_TAG_SUBJECT,
	VAC_TAG_FROM,
	VAC_TAG_ADDRESSES,
	VAC_TAG_MIME,
	VAC_TAG_HANDLE,
};

static const struct sieve_tag_def vacation_tags[] = {
	[VAC_TAG_DAYS] = {"days", SIEVE_PARAM_NUMBER, -1},
	[VAC_TAG_SECONDS] = {"seconds", SIEVE_PARAM_NUMBER, SIEVE_EXT_VACATION_SECONDS},
	[VAC_TAG_SUBJECT] = {"subject", SIEVE_PARAM_STRING, -1},
	[VAC_TAG_FROM] = {"from", SIEVE_PARAM_STRING, -1},
	[VAC_TAG_ADDRESSES] = {"addresses", SIEVE_PARAM_STRLIST, -1},
	[VAC_TAG_MIME] = {"mime", SIEVE_PARAM_NONE, -1},
	[VAC_TAG_HANDLE] = {"handle", SIEVE_PARAM_STRING, -1},
};

struct cmd_vacation {
	bool has_period, seconds_given;
	uint64_t period;
	bool has_subject, has_from, has_handle;
	struct sieve_tstr subject, from, handle, reason;
	struct sieve_tlist addresses;
	bool mime;
};

static bool cmd_vacation_validate(struct sieve_validator *v, struct sieve_ast_node *node,
				  struct sieve_args *args)
{
	struct cmd_vacation *c = p_malloc(v->script->pool, sizeof(*c));

	if (c == NULL)
		return false;
	if (args->tag_set[VAC_TAG_DAYS] && args->tag_set[VAC_TAG_SECONDS]) {
		sieve_v_error(v, args->tag_pos[VAC_TAG_SECONDS]->line,
			      args->tag_pos[VAC_TAG_SECONDS]->col,
			      "encountered duplicate :seconds argument for the vacation command");
		return false;
	}
	if (args->tag_set[VAC_TAG_DAYS]) {
		c->has_period = true;
		c->period = args->tag_arg[VAC_TAG_DAYS]->number;
		if (c->period > UINT64_MAX / 86400)
			c->period = UINT64_MAX / 86400;
		c->period *= 86400;
	} else if (args->tag_set[VAC_TAG_SECONDS]) {
		c->has_period = true;
		c->seconds_given = true;
		c->period = args->tag_arg[VAC_TAG_SECONDS]->number;
	}
	if (args->tag_set[VAC_TAG_SUBJECT]) {
		c->has_subject = true;
		if (!sieve_v_tstr(v, args->tag_arg[VAC_TAG_SUBJECT], 0, &c->subject))
			return false;
	}
	if (args->tag_set[VAC_TAG_FROM]) {
		c->has_from = true;
		if (!sieve_v_tstr(v, args->tag_arg[VAC_TAG_FROM], 0, &c->from))
			return false;
		if (sieve_tstr_is_const(&c->from)) {
			const char *local, *domain, *error;

			if (!sieve_address_parse(v->script->pool, c->from.lit.s, c->from.lit.len,
						 &local, &domain, &error)) {
				sieve_v_error(
					v, c->from.line, c->from.col,
					"specified :from address '%s' is invalid for vacation "
					"action: %s",
					sieve_sanitize(v->script->pool, c->from.lit.s, 128), error);
				return false;
			}
		}
	}
	if (args->tag_set[VAC_TAG_HANDLE]) {
		c->has_handle = true;
		if (!sieve_v_tstr(v, args->tag_arg[VAC_TAG_HANDLE], 0, &c->handle))
			return false;
	}
	if (args->tag_set[VAC_TAG_ADDRESSES] &&
	    !sieve_v_tlist(v, args->tag_arg[VAC_TAG_ADDRESSES], &c->addresses))
		return false;
	c->mime = args->tag_set[VAC_TAG_MIME];
	if (!sieve_v_tstr(v, args->pos[0], 0, &c->reason))
		return false;
	node->data = c;
	return true;
}

static int cmd_vacation_exec(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct cmd_vacation *c = node->data;
	const struct sieve_settings *set = in->set;
	struct sieve_action a;
	struct sieve_str reason, s;
	uint64_t period;

	memset(&a, 0, sizeof(a));
	a.type = SIEVE_ACTION_VACATION;
	if (!sieve_rt_expand(in, &c->reason, &reason))
		return sieve_rt_error(in, node, "out of memory");
	a.vacation.reason = reason.s;
	a.vacation.mime = c->mime;
	period = c->has_period ? c->period : set->vacation_default_period;
	if (period < set->vacation_min_period) {
		if (c->seconds_given)
			sieve_rt_warning(in, node,
					 "specified :seconds value '%llu' is under the "
					 "minimum",
					 (unsigned long long)period);
		period = set->vacation_min_period;
	}
	if (set->vacation_max_period > 0 && period > set->vacation_max_period)
		period = set->vacation_max_period;
	a.vacation.seconds = period;
	if (c->has_subject) {
		if (!sieve_rt_expand(in, &c->subject, &s))
			return sieve_rt_error(in, node, "out of memory");
		a.vacation.subject = s.s;
	}
	if (c->has_from) {
		const char *local, *domain, *error;

		if (!sieve_rt_expand(in, &c->from, &s))
			return sieve_rt_error(in, node, "out of memory");
		if (!sieve_address_parse(in->pool, s.s, s.len, &local, &domain, &error)) {
			return sieve_rt_error(in, node,
					      "specified :from address '%s' is invalid for "
					      "vacation action: %s",
					      sieve_sanitize(in->pool, s.s, 128), error);
		}
		a.vacation.from = s.s;
	}
	if (c->addresses.count > 0) {
		struct sieve_str *vals;
		const char **addrs;
		unsigned int i, n = 0;

		if (!sieve_rt_expand_list(in, &c->addresses, &vals))
			return sieve_rt_error(in, node, "out of memory");
		addrs = p_malloc_array(in->pool, c->addresses.count + 1, sizeof(*addrs));
		if (addrs == NULL)
			return sieve_rt_error(in, node, "out of memory");
		for (i = 0; i < c->addresses.count; i++) {
			const char *local, *domain, *error;

			if (!sieve_address_parse(in->pool, vals[i].s, vals[i].len, &local, &domain,
						 &error))
				continue;
			addrs[n++] = p_strdup_printf(in->pool, "%s@%s", local, domain);
		}
		a.vacation.addresses = addrs;
		a.vacation.addresses_count = n;
	}
	if (c->has_handle) {
		if (!sieve_rt_expand(in, &c->handle, &s))
			return sieve_rt_error(in, node, "out of memory");
		a.vacation.handle = s.s;
	} else {
		/* Like Pigeonhole, the default handle is made from the strings as
		   written in the script, before variables are substituted. */
		a.vacation.handle =
			p_strdup_printf(in->pool, "%s%s%s%s", c->reason.lit.s,
					c->has_subject ? c->subject.lit.s : "<default-subject>",
					c->has_from ? c->from.lit.s : "<default-from>",
					c->mime ? "<MIME>" : "<NO-MIME>");
	}
	if (a.vacation.handle == NULL)
		return sieve_rt_error(in, node, "out of memory");
	return sieve_result_add(in, node, &a);
}

const struct sieve_cmd_def sieve_ext_vacation_cmds[] = {
	{.name = "vacation",
	 .kind = SIEVE_CMD_COMMAND,
	 .ext = SIEVE_EXT_VACATION,
	 .tags = vacation_tags,
	 .tags_count = N_ELEMENTS(vacation_tags),
	 .pos = {SIEVE_PARAM_STRING},
	 .pos_min = 1,
	 .pos_max = 1,
	 .pos_names = {"reason"},
	 .validate = cmd_vacation_validate,
	 .execute = cmd_vacation_exec},
};

const unsigned int sieve_ext_vacation_cmds_count = N_ELEMENTS(sieve_ext_vacation_cmds);

/*
 * Execution-time decisions
 */

static const char *const list_headers[] = {
	"list-id",	    "list-owner", "list-subscribe", "list-post",
	"list-unsubscribe", "list-help",  "list-archive",
};

static const char *const my_address_headers[] = {
	"to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc",
};

static bool address_eq(const char *a, const char *b)
{
	const char *at_a = strrchr(a, '@'), *at_b = strrchr(b, '@');

	if (at_a == NULL || at_b == NULL)
		return strcasecmp(a, b) == 0;
	/* Local parts compared case-insensitively too, as Pigeonhole does. */
	return at_a - a == at_b - b && strncasecmp(a, b, (size_t)(at_a - a)) == 0 &&
	       strcasecmp(at_a, at_b) == 0;
}

static bool is_system_address(const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t llen = at != NULL ? (size_t)(at - addr) : strlen(addr);

	if (strncasecmp(addr, "MAILER-DAEMON", 13) == 0 || strncasecmp(addr, "LISTSERV", 8) == 0 ||
	    strncasecmp(addr, "majordomo", 9) == 0 || strncasecmp(addr, "owner-", 6) == 0)
		return true;
	return llen >= 8 && strncasecmp(addr + llen - 8, "-request", 8) == 0;
}

/* Whether any address in To, Cc, Bcc and their Resent- forms equals addr. */
static bool headers_contain(struct sieve_vacation_ctx *rv, const char *addr)
{
	unsigned int h;

	for (h = 0; h < N_ELEMENTS(my_address_headers); h++) {
		struct sieve_str *vals;
		int n = sieve_msgview_get(rv->msg, my_address_headers[h], false, &vals), i;

		for (i = 0; i < n; i++) {
			struct sieve_address *addrs;
			size_t count, j;
			bool invalid;

			if (rv->msg->ops->parse_addresses(rv->msg->ctx, rv->pool, vals[i].s,
							  vals[i].len, &addrs, &count,
							  &invalid) < 0)
				continue;
			for (j = 0; j < count; j++) {
				char *full;

				if (addrs[j].local_part == NULL || addrs[j].domain == NULL)
					continue;
				full = p_strdup_printf(rv->pool, "%s@%s", addrs[j].local_part,
						       addrs[j].domain);
				if (full != NULL && address_eq(full, addr))
					return true;
			}
		}
	}
	return false;
}

static const char *vacation_dupid(struct pool *pool, const struct sieve_action *a,
				  const char *sender, size_t *len_r)
{
	char *lower = sieve_str_lower(pool, sender, strlen(sender));
	char *id = p_strdup_printf(pool, "vacation\n%s\n%s", lower != NULL ? lower : sender,
				   a->vacation.handle);

	*len_r = id != NULL ? strlen(id) : 0;
	return id;
}

/* sieve_vacation_default_subject_template: "%$" stands for the subject. */
static const char *subject_template(struct pool *pool, const char *tpl, const char *subject)
{
	struct buf b;
	const char *out;

	buf_init(&b, strlen(tpl) + strlen(subject) * 4 + 1);
	for (; *tpl != '\0'; tpl++) {
		if (tpl[0] == '%' && tpl[1] == '$') {
			(void)buf_append_str(&b, subject);
			tpl++;
		} else if (strncmp(tpl, "%{subject}", 10) == 0) {
			(void)buf_append_str(&b, subject);
			tpl += 9;
		} else {
			(void)buf_append_c(&b, (uint8_t)*tpl);
		}
	}
	out = p_strndup(pool, buf_data(&b), buf_len(&b));
	buf_free(&b);
	return out != NULL ? out : subject;
}

/* Cuts s after max UTF-8 characters (0 = no limit). */
static const char *cut_codepoints(struct pool *pool, const char *s, unsigned int max)
{
	size_t i = 0;
	unsigned int n = 0;

	if (max == 0)
		return s;
	while (s[i] != '\0') {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (n == max)
				return p_strndup(pool, s, i);
			n++;
		}
		i++;
	}
	return s;
}

void sieve_vacation_decide(struct sieve_vacation_ctx *vc, struct sieve_action *a)
{
	const char *sender = vc->env != NULL ? vc->env->mail_from : NULL;
	const char *recipient = vc->env != NULL ? vc->env->rcpt_to : NULL;
	const char *reply_from = NULL;
	struct sieve_str *vals;
	unsigned int i;
	int n, k;

	a->skip = true;
	if (recipient == NULL || *recipient == '\0') {
		a->skip_reason = "vacation action aborted: envelope recipient is <>";
		return;
	}
	if (sender == NULL || *sender == '\0') {
		a->skip_reason = "discarded vacation reply to <>";
		return;
	}
	if (address_eq(sender, recipient)) {
		a->skip_reason =
			p_strdup_printf(vc->pool, "discarded vacation reply to own address <%s>",
					sieve_sanitize(vc->pool, sender, 128));
		return;
	}
	for (i = 0; i < a->vacation.addresses_count; i++) {
		if (address_eq(sender, a->vacation.addresses[i])) {
			a->skip_reason = p_strdup_printf(
				vc->pool,
				"discarded vacation reply to own address <%s> (as specified using "
				":addresses argument)",
				sieve_sanitize(vc->pool, sender, 128));
			return;
		}
	}
	if (vc->env_ops != NULL && vc->env_ops->duplicate_check != NULL) {
		size_t len;
		const char *id = vacation_dupid(vc->pool, a, sender, &len);

		if (id != NULL &&
		    vc->env_ops->duplicate_check(vc->env_ctx, SIEVE_DUP_VACATION, id, len) > 0) {
			a->skip_reason = p_strdup_printf(
				vc->pool, "discarded duplicate vacation response to <%s>",
				sieve_sanitize(vc->pool, sender, 128));
			return;
		}
	}
	for (i = 0; i < N_ELEMENTS(list_headers); i++) {
		if (sieve_msgview_get(vc->msg, list_headers[i], false, &vals) > 0) {
			a->skip_reason = p_strdup_printf(
				vc->pool,
				"discarding vacation response to mailinglist recipient <%s>",
				sieve_sanitize(vc->pool, sender, 128));
			return;
		}
	}
	n = sieve_msgview_get(vc->msg, "auto-submitted", false, &vals);
	for (k = 0; k < n; k++) {
		if (strcasecmp(vals[k].s, "no") != 0) {
			a->skip_reason = p_strdup_printf(
				vc->pool,
				"discarding vacation response to auto-submitted message from <%s>",
				sieve_sanitize(vc->pool, sender, 128));
			return;
		}
	}
	n = sieve_msgview_get(vc->msg, "precedence", false, &vals);
	for (k = 0; k < n; k++) {
		if (strcasecmp(vals[k].s, "junk") == 0 || strcasecmp(vals[k].s, "bulk") == 0 ||
		    strcasecmp(vals[k].s, "list") == 0) {
			a->skip_reason = p_strdup_printf(
				vc->pool,
				"discarding vacation response to precedence=%s message from <%s>",
				sieve_sanitize(vc->pool, vals[k].s, 64),
				sieve_sanitize(vc->pool, sender, 128));
			return;
		}
	}
	n = sieve_msgview_get(vc->msg, "x-auto-response-suppress", false, &vals);
	for (k = 0; k < n; k++) {
		const char *p = vals[k].s;

		while (*p != '\0') {
			size_t len;

			while (*p == ' ' || *p == ',' || *p == '\t')
				p++;
			len = strcspn(p, " ,\t");
			if ((len == 3 && strncasecmp(p, "OOF", 3) == 0) ||
			    (len == 3 && strncasecmp(p, "All", 3) == 0)) {
				a->skip_reason = p_strdup_printf(
					vc->pool,
					"discarding vacation response to message from <%s> (`%.*s' "
					"flag found in x-auto-response-suppress header)",
					sieve_sanitize(vc->pool, sender, 128), (int)len, p);
				return;
			}
			p += len;
		}
	}
	if (is_system_address(sender)) {
		a->skip_reason = p_strdup_printf(
			vc->pool, "not sending vacation response to system address <%s>",
			sieve_sanitize(vc->pool, sender, 128));
		return;
	}
	if (!vc->set->vacation_dont_check_recipient) {
		bool found = false;

		if (headers_contain(vc, recipient)) {
			found = true;
			reply_from = recipient;
		}
		if (!found && vc->set->vacation_use_original_recipient &&
		    vc->env->orig_rcpt_to != NULL && headers_contain(vc, vc->env->orig_rcpt_to)) {
			found = true;
			reply_from = vc->env->orig_rcpt_to;
		}
		for (i = 0; !found && i < a->vacation.addresses_count; i++) {
			if (headers_contain(vc, a->vacation.addresses[i])) {
				found = true;
				reply_from = a->vacation.addresses[i];
			}
		}
		if (!found) {
			a->skip_reason = p_strdup_printf(
				vc->pool,
				"discarding vacation response for implicitly delivered message; no "
				"known (envelope) recipient address found in message headers "
				"(recipient=<%s>, %s%sand%s additional `:addresses' are specified)",
				sieve_sanitize(vc->pool, recipient, 128),
				vc->set->vacation_use_original_recipient && vc->env->orig_rcpt_to
					? "original-recipient=<"
					: "",
				vc->set->vacation_use_original_recipient && vc->env->orig_rcpt_to
					? p_strdup_printf(vc->pool, "%s>, ", vc->env->orig_rcpt_to)
					: "",
				a->vacation.addresses_count > 0 ? "" : " no");
			return;
		}
	} else {
		reply_from = recipient;
	}
	a->skip = false;
	a->skip_reason = NULL;
	a->vacation.reply_to = sender;
	a->vacation.reply_from = a->vacation.from != NULL
					 ? a->vacation.from
					 : p_strdup_printf(vc->pool, "<%s>", reply_from);
	n = sieve_msgview_get(vc->msg, "subject", true, &vals);
	if (a->vacation.subject != NULL && a->vacation.subject[0] != '\0') {
		a->vacation.reply_subject = a->vacation.subject;
	} else if (n > 0 && vc->set->vacation_default_subject_template != NULL) {
		a->vacation.reply_subject = subject_template(
			vc->pool, vc->set->vacation_default_subject_template, vals[0].s);
	} else if (vc->set->vacation_default_subject != NULL) {
		a->vacation.reply_subject = vc->set->vacation_default_subject;
	} else if (n > 0) {
		a->vacation.reply_subject = p_strdup_printf(vc->pool, "Auto: %s", vals[0].s);
	} else {
		a->vacation.reply_subject = "Automated reply";
	}
	/* Long subjects are cut (sieve_vacation_max_subject_codepoints). */
	a->vacation.reply_subject = cut_codepoints(vc->pool, a->vacation.reply_subject,
						   vc->set->vacation_max_subject_codepoints);
	if ((n = sieve_msgview_get(vc->msg, "message-id", false, &vals)) > 0) {
		a->vacation.in_reply_to = vals[0].s;
		if (sieve_msgview_get(vc->msg, "references", false, &vals) > 0) {
			a->vacation.references = p_strdup_printf(vc->pool, "%s %s", vals[0].s,
								 a->vacation.in_reply_to);
		} else {
			a->vacation.references = a->vacation.in_reply_to;
		}
	}
}

void sieve_vacation_commit(struct sieve_vacation_ctx *vc, const struct sieve_action *a)
{
	size_t len;
	const char *id;

	if (a->vacation.reply_to == NULL || vc->env_ops == NULL ||
	    vc->env_ops->duplicate_mark == NULL)
		return;
	id = vacation_dupid(vc->pool, a, a->vacation.reply_to, &len);
	if (id != NULL)
		vc->env_ops->duplicate_mark(vc->env_ctx, SIEVE_DUP_VACATION, id, len,
					    time(NULL) + (time_t)a->vacation.seconds);
}
