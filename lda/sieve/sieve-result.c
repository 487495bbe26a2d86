/*
 * The result of running Sieve scripts on one message: the ordered actions
 * with Pigeonhole's duplicate and conflict rules (RFC 5228 section 2.10.5,
 * RFC 5429, RFC 5230), the implicit keep, sieve-test's printed layout and
 * the execution-time decisions of `sieve-test -e`. Runs in roost-lda and
 * roostadm; everything it holds was produced by the interpreter from
 * untrusted input and is sanitised before it is printed.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve-compose.h"
#include "sieve-private.h"
#include "xalloc.h"

struct res_action {
	struct sieve_action a;
	unsigned int script_no;
	unsigned int line;
	/* Order of the :copy and :flags side effects as written (create is
	   always printed first); 0 = absent. */
	unsigned int copy_order, flags_order;
	bool executed; /* from an earlier script of the sequence */
};

struct sieve_result {
	const struct sieve_settings *set;
	struct sieve_msgview *msg;
	const struct sieve_envelope *env;
	const struct sieve_env_ops *env_ops;
	void *env_ctx;
	struct pool *pool;
	struct res_action *acts;
	unsigned int count, alloc;
	unsigned int script_first;
	unsigned int script_no;
	struct sieve_flags flags;
	bool flags_used;
	bool sequence; /* keep is deferred (see sieve_exec_params) */
	struct buf errors;
	struct buf warnings;
	enum sieve_status status;
	bool tempfail;
	bool failed;
	/* The final action list (sieve_result_finish). */
	struct sieve_action *final;
	unsigned int final_count;
	bool finished;
	bool keep_pending;	 /* keep in effect after the last script */
	const char **keep_flags; /* flags of an earlier deferred keep */
	unsigned int keep_flags_count;
	bool keep_has_flags;
};

struct sieve_result *sieve_result_create(const struct sieve_settings *set,
					 struct sieve_msgview *msg,
					 const struct sieve_envelope *env,
					 const struct sieve_env_ops *env_ops, void *env_ctx,
					 bool sequence)
{
	struct sieve_result *r = i_calloc(1, sizeof(*r));

	r->sequence = sequence;
	r->set = set;
	r->msg = msg;
	r->env = env;
	r->env_ops = env_ops;
	r->env_ctx = env_ctx;
	r->pool = pool_create(SIEVE_MAX_RUNTIME_MEMORY);
	buf_init(&r->errors, 64 * 1024);
	buf_init(&r->warnings, 64 * 1024);
	return r;
}

void sieve_result_free(struct sieve_result **_r)
{
	struct sieve_result *r = *_r;

	if (r == NULL)
		return;
	buf_free(&r->errors);
	buf_free(&r->warnings);
	pool_destroy(&r->pool);
	free(r);
	*_r = NULL;
}

struct pool *sieve_result_pool(struct sieve_result *r)
{
	return r->pool;
}

const struct sieve_settings *sieve_result_settings(const struct sieve_result *r)
{
	return r->set;
}

const struct sieve_envelope *sieve_result_envelope(const struct sieve_result *r)
{
	return r->env;
}

struct sieve_msgview *sieve_result_msgview(const struct sieve_result *r)
{
	return r->msg;
}

struct sieve_flags *sieve_result_flags(struct sieve_result *r)
{
	return &r->flags;
}

void sieve_result_set_flags_used(struct sieve_result *r)
{
	r->flags_used = true;
}

void sieve_result_set_error(struct sieve_result *r, const char *msg)
{
	(void)buf_append_str(&r->errors, msg);
	(void)buf_append_c(&r->errors, '\n');
}

void sieve_result_set_warning(struct sieve_result *r, const char *msg)
{
	(void)buf_append_str(&r->warnings, msg);
	(void)buf_append_c(&r->warnings, '\n');
}

void sieve_result_set_tempfail(struct sieve_result *r)
{
	r->tempfail = true;
}

const char *sieve_result_warnings(const struct sieve_result *r)
{
	return buf_cstr(&r->warnings);
}

/*
 * Flags (imap4flags, RFC 5232)
 */

static const char *const system_flags[] = {"\\flagged", "\\answered", "\\deleted", "\\seen",
					   "\\draft"};

static bool keyword_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}

/* Valid flag: a known system flag or an IMAP keyword atom. */
static bool flag_valid(const char *s, size_t len)
{
	unsigned int i;

	if (len > 0 && s[0] == '\\') {
		for (i = 0; i < N_ELEMENTS(system_flags); i++) {
			if (strlen(system_flags[i]) == len &&
			    strncasecmp(system_flags[i], s, len) == 0)
				return true;
		}
		return false;
	}
	return keyword_valid(s, len);
}

static int flags_find(const struct sieve_flags *f, const char *s, size_t len)
{
	unsigned int i;

	for (i = 0; i < f->count; i++) {
		if (strlen(f->items[i]) == len && strncasecmp(f->items[i], s, len) == 0)
			return (int)i;
	}
	return -1;
}

void sieve_flags_clear(struct sieve_flags *f)
{
	f->count = 0;
}

void sieve_flags_add_str(struct pool *pool, struct sieve_flags *f, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t start, flen;
		char *copy;

		while (i < len && s[i] == ' ')
			i++;
		start = i;
		while (i < len && s[i] != ' ')
			i++;
		flen = i - start;
		if (flen == 0 || !flag_valid(s + start, flen) ||
		    flags_find(f, s + start, flen) >= 0)
			continue;
		copy = p_strndup(pool, s + start, flen);
		if (copy == NULL || !sieve_parray_grow(pool, (void **)&f->items, &f->alloc,
						       f->count + 1, sizeof(*f->items)))
			return;
		f->items[f->count++] = copy;
	}
}

void sieve_flags_remove_str(struct sieve_flags *f, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t start;
		int idx;

		while (i < len && s[i] == ' ')
			i++;
		start = i;
		while (i < len && s[i] != ' ')
			i++;
		if (i == start)
			continue;
		idx = flags_find(f, s + start, i - start);
		if (idx >= 0) {
			memmove(&f->items[idx], &f->items[idx + 1],
				(f->count - (unsigned int)idx - 1) * sizeof(*f->items));
			f->count--;
		}
	}
}

char *sieve_flags_to_str(struct pool *pool, const struct sieve_flags *f)
{
	struct buf b;
	unsigned int i;
	char *ret;

	buf_init(&b, SIZE_MAX / 2);
	for (i = 0; i < f->count; i++) {
		if (i > 0)
			(void)buf_append_c(&b, ' ');
		(void)buf_append_str(&b, f->items[i]);
	}
	ret = p_strndup(pool, buf_data(&b), buf_len(&b));
	buf_free(&b);
	return ret;
}

/* Normalised flags for an action: system flags first in Pigeonhole's order. */
static const char **flags_for_action(struct pool *pool, const struct sieve_flags *f,
				     unsigned int *count_r)
{
	const char **out = p_malloc_array(pool, f->count + 1, sizeof(*out));
	unsigned int i, k, n = 0;

	*count_r = 0;
	if (out == NULL)
		return NULL;
	for (k = 0; k < N_ELEMENTS(system_flags); k++) {
		for (i = 0; i < f->count; i++) {
			if (strcasecmp(f->items[i], system_flags[k]) == 0)
				out[n++] = system_flags[k];
		}
	}
	for (i = 0; i < f->count; i++) {
		if (f->items[i][0] != '\\')
			out[n++] = p_strdup(pool, f->items[i]);
	}
	*count_r = n;
	return out;
}

const char **sieve_flags_normalize(struct pool *pool, const char *s, size_t len,
				   unsigned int *count_r)
{
	struct sieve_flags f;

	memset(&f, 0, sizeof(f));
	sieve_flags_add_str(pool, &f, s, len);
	return flags_for_action(pool, &f, count_r);
}

/*
 * Adding actions
 */

static const char *action_name(const struct sieve_action *a)
{
	switch (a->type) {
	case SIEVE_ACTION_STORE:
		return "store";
	case SIEVE_ACTION_REDIRECT:
		return "redirect";
	case SIEVE_ACTION_DISCARD:
		return "discard";
	case SIEVE_ACTION_REJECT:
		return a->ereject ? "ereject" : "reject";
	case SIEVE_ACTION_VACATION:
		return "vacation";
	case SIEVE_ACTION_TRACK_DUPLICATE:
		return "duplicate";
	}
	return "?";
}

static bool mailbox_equal(const char *a, const char *b)
{
	if (strcasecmp(a, "INBOX") == 0 && strcasecmp(b, "INBOX") == 0)
		return true;
	return strcmp(a, b) == 0;
}

static bool address_equal(const char *a, const char *b)
{
	const char *at_a = strrchr(a, '@'), *at_b = strrchr(b, '@');

	if (at_a == NULL || at_b == NULL)
		return strcmp(a, b) == 0;
	return at_a - a == at_b - b && strncmp(a, b, (size_t)(at_a - a)) == 0 &&
	       strcasecmp(at_a, at_b) == 0;
}

static bool tries_deliver(const struct sieve_action *a)
{
	return a->type == SIEVE_ACTION_STORE || a->type == SIEVE_ACTION_REDIRECT;
}

static bool sends_response(const struct sieve_action *a)
{
	return a->type == SIEVE_ACTION_REJECT || a->type == SIEVE_ACTION_VACATION;
}

/* Conflict check from the point of view of a (reject or vacation). */
static int check_conflict(struct sieve_interp *in, const struct sieve_ast_node *node,
			  const struct sieve_action *a, const struct sieve_action *other)
{
	if (a->type == SIEVE_ACTION_REJECT) {
		if (tries_deliver(other)) {
			return sieve_rt_error(in, node,
					      "reject/ereject action conflicts with other action: "
					      "the %s action (%s) tries to deliver the message",
					      action_name(other), other->location);
		}
		if (sends_response(other)) {
			return sieve_rt_error(in, node,
					      "reject/ereject action conflicts with other action: "
					      "the %s action (%s) also sends a response to the "
					      "sender",
					      action_name(other), other->location);
		}
	} else if (a->type == SIEVE_ACTION_VACATION && other->type == SIEVE_ACTION_REJECT) {
		return sieve_rt_error(in, node,
				      "vacation action conflicts with other action: the %s action "
				      "(%s) also sends a response back to the sender",
				      action_name(other), other->location);
	}
	return 0;
}

static const char **copy_strings(struct pool *pool, const char *const *src, unsigned int n)
{
	const char **out = p_malloc_array(pool, n + 1, sizeof(*out));
	unsigned int i;

	if (out == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		out[i] = p_strdup(pool, src[i]);
	return out;
}

static const char *pdup(struct pool *pool, const char *s)
{
	return s == NULL ? NULL : p_strdup(pool, s);
}

/* Copies an action's strings into the result pool. */
static void action_copy(struct sieve_result *r, struct sieve_action *dst,
			const struct sieve_action *src)
{
	*dst = *src;
	dst->location = pdup(r->pool, src->location);
	dst->mailbox = pdup(r->pool, src->mailbox);
	dst->flags = copy_strings(r->pool, src->flags, src->flags_count);
	dst->address = pdup(r->pool, src->address);
	dst->reason = pdup(r->pool, src->reason);
	dst->vacation.subject = pdup(r->pool, src->vacation.subject);
	dst->vacation.from = pdup(r->pool, src->vacation.from);
	dst->vacation.handle = pdup(r->pool, src->vacation.handle);
	dst->vacation.reason = pdup(r->pool, src->vacation.reason);
	dst->vacation.addresses =
		copy_strings(r->pool, src->vacation.addresses, src->vacation.addresses_count);
	dst->duplicate.handle = pdup(r->pool, src->duplicate.handle);
	dst->duplicate.id = src->duplicate.id == NULL
				    ? NULL
				    : p_strndup(r->pool, src->duplicate.id, src->duplicate.id_len);
}

int sieve_result_add_ordered(struct sieve_interp *in, const struct sieve_ast_node *node,
			     const struct sieve_action *act, unsigned int copy_order,
			     unsigned int flags_order)
{
	struct sieve_result *r = in->result;
	struct res_action *ra;
	unsigned int i, instances = 0;
	struct sieve_action a = *act;

	a.location = sieve_rt_location(in, node);
	if (r->sequence && a.keep) {
		/* A deferred keep: an earlier one is taken over and moves here. */
		for (i = 0; i < r->count; i++) {
			if (r->acts[i].a.keep)
				break;
		}
		if (i < r->count) {
			struct res_action old = r->acts[i];

			memmove(&r->acts[i], &r->acts[i + 1],
				(r->count - i - 1) * sizeof(*r->acts));
			r->count--;
			if (i < r->script_first)
				r->script_first--;
			if (!a.has_flags && old.a.has_flags) {
				a.has_flags = true;
				a.flags = old.a.flags;
				a.flags_count = old.a.flags_count;
				flags_order = old.flags_order;
			}
		}
	}
	for (i = 0; i < r->count; i++) {
		struct res_action *o = &r->acts[i];

		/* In a sequence keep is no store: it neither merges nor conflicts. */
		if (r->sequence && (a.keep || o->a.keep))
			continue;

		if (o->a.type == a.type) {
			bool dup = false;

			instances++;
			switch (a.type) {
			case SIEVE_ACTION_STORE:
				dup = mailbox_equal(a.mailbox, o->a.mailbox);
				break;
			case SIEVE_ACTION_REDIRECT:
				dup = address_equal(a.address, o->a.address);
				break;
			case SIEVE_ACTION_DISCARD:
				dup = true;
				break;
			case SIEVE_ACTION_TRACK_DUPLICATE:
				dup = a.duplicate.id_len == o->a.duplicate.id_len &&
				      memcmp(a.duplicate.id, o->a.duplicate.id,
					     a.duplicate.id_len) == 0;
				break;
			case SIEVE_ACTION_REJECT:
				if (o->executed)
					return 0;
				return sieve_rt_error(in, node,
						      "duplicate reject/ereject action not allowed "
						      "(previously triggered one was here: %s)",
						      o->a.location);
			case SIEVE_ACTION_VACATION:
				if (o->executed)
					return 0;
				return sieve_rt_error(in, node,
						      "duplicate vacation action not allowed "
						      "(previously triggered one was here: %s)",
						      o->a.location);
			}
			if (!dup)
				continue;
			/* Merge into the existing action. */
			if (a.type == SIEVE_ACTION_STORE) {
				if (a.keep && !o->a.keep) {
					o->a.keep = true;
					o->a.location = p_strdup(r->pool, a.location);
				}
				if (a.has_flags) {
					o->a.has_flags = true;
					o->a.flags = copy_strings(r->pool, a.flags, a.flags_count);
					o->a.flags_count = a.flags_count;
					if (o->flags_order == 0)
						o->flags_order = 1000;
				}
				if (o->executed && o->script_no != r->script_no) {
					/* A keep of an earlier script comes back to life. */
					o->script_no = r->script_no;
				}
			}
			return 0;
		}
		if (o->executed)
			continue;
		if (check_conflict(in, node, &a, &o->a) < 0 ||
		    check_conflict(in, node, &o->a, &a) < 0)
			return -1;
	}
	if (r->set->max_actions > 0 && r->count >= r->set->max_actions) {
		return sieve_rt_error(in, node,
				      "total number of actions exceeds policy limit (%u > %u)",
				      r->count + 1, r->set->max_actions);
	}
	if (a.type == SIEVE_ACTION_REDIRECT && instances >= r->set->max_redirects) {
		return sieve_rt_error(in, node,
				      "number of redirect actions exceeds policy limit (%u > %u)",
				      instances + 1, r->set->max_redirects);
	}
	if (!sieve_parray_grow(r->pool, (void **)&r->acts, &r->alloc, r->count + 1,
			       sizeof(*r->acts)))
		return sieve_rt_error(in, node, "out of memory");
	ra = &r->acts[r->count++];
	memset(ra, 0, sizeof(*ra));
	action_copy(r, &ra->a, &a);
	ra->script_no = r->script_no;
	ra->line = node != NULL ? node->line : 0;
	ra->copy_order = copy_order;
	ra->flags_order = flags_order;
	return 0;
}

int sieve_result_add(struct sieve_interp *in, const struct sieve_ast_node *node,
		     const struct sieve_action *act)
{
	return sieve_result_add_ordered(in, node, act, act->copy ? 1 : 0, act->has_flags ? 2 : 0);
}

/*
 * Sequences
 */

void sieve_result_script_start(struct sieve_result *r)
{
	unsigned int i;

	for (i = 0; i < r->count; i++)
		r->acts[i].executed = true;
	r->script_first = r->count;
	r->script_no++;
}

void sieve_result_script_failed(struct sieve_result *r)
{
	unsigned int i, n = 0;

	/* Drop what the failed script added; earlier scripts stay done. */
	for (i = 0; i < r->count; i++) {
		if (r->acts[i].script_no != r->script_no || r->acts[i].executed)
			r->acts[n++] = r->acts[i];
	}
	r->count = n;
	r->failed = true;
	r->status = r->tempfail ? SIEVE_STATUS_TEMPFAIL : SIEVE_STATUS_FAILED;
}

/* Whether the actions of the current script leave the implicit keep on. */
static bool script_implicit_keep(const struct sieve_result *r)
{
	unsigned int i;

	for (i = 0; i < r->count; i++) {
		const struct res_action *ra = &r->acts[i];

		if (ra->script_no != r->script_no)
			continue;
		switch (ra->a.type) {
		case SIEVE_ACTION_STORE:
		case SIEVE_ACTION_REDIRECT:
			if (!ra->a.copy)
				return false;
			break;
		case SIEVE_ACTION_DISCARD:
		case SIEVE_ACTION_REJECT:
			return false;
		case SIEVE_ACTION_VACATION:
		case SIEVE_ACTION_TRACK_DUPLICATE:
			break;
		}
	}
	return true;
}

static bool script_explicit_keep(const struct sieve_result *r)
{
	unsigned int i;

	for (i = 0; i < r->count; i++) {
		if (r->acts[i].script_no == r->script_no && r->acts[i].a.keep)
			return true;
	}
	return false;
}

bool sieve_result_keep_in_effect(const struct sieve_result *r)
{
	return script_implicit_keep(r) || script_explicit_keep(r);
}

/*
 * Printing (the layout of Pigeonhole's sieve-test)
 */

static void print_flags(struct buf *out, const char *const *flags, unsigned int count)
{
	unsigned int i;

	if (count == 0)
		return;
	(void)buf_append_str(out, "        + add IMAP flags:");
	for (i = 0; i < count; i++)
		(void)buf_printf(out, " %s", flags[i]);
	(void)buf_append_c(out, '\n');
}

static void print_action(struct sieve_result *r, const struct res_action *ra, struct buf *out,
			 bool multiscript)
{
	const struct sieve_action *a = &ra->a;

	switch (a->type) {
	case SIEVE_ACTION_STORE:
		if (multiscript && a->keep)
			(void)buf_append_str(out, " * keep\n");
		else
			(void)buf_printf(out, " * store message in folder: %s\n",
					 sieve_sanitize(r->pool, a->mailbox, 128));
		if (a->create)
			(void)buf_append_str(out,
					     "        + create mailbox if it does not exist\n");
		if (ra->copy_order != 0 && ra->flags_order != 0 && ra->flags_order < ra->copy_order)
			print_flags(out, a->flags, a->flags_count);
		if (ra->copy_order != 0)
			(void)buf_append_str(out, "        + preserve implicit keep\n");
		if (ra->flags_order != 0 &&
		    (ra->copy_order == 0 || ra->flags_order > ra->copy_order))
			print_flags(out, a->flags, a->flags_count);
		break;
	case SIEVE_ACTION_REDIRECT:
		(void)buf_printf(out, " * redirect message to: <%s>\n", a->address);
		if (a->copy)
			(void)buf_append_str(out, "        + preserve implicit keep\n");
		break;
	case SIEVE_ACTION_DISCARD:
		(void)buf_append_str(out, " * discard\n");
		break;
	case SIEVE_ACTION_REJECT:
		(void)buf_printf(out, " * reject message with reason: %s\n",
				 sieve_sanitize(r->pool, a->reason, 128));
		break;
	case SIEVE_ACTION_VACATION:
		(void)buf_append_str(out, " * send vacation message:\n");
		(void)buf_printf(out, "    => seconds : %llu\n",
				 (unsigned long long)a->vacation.seconds);
		if (a->vacation.subject != NULL)
			(void)buf_printf(out, "    => subject : %s\n", a->vacation.subject);
		if (a->vacation.from != NULL)
			(void)buf_printf(out, "    => from    : %s\n", a->vacation.from);
		(void)buf_printf(out, "    => handle  : %s\n", a->vacation.handle);
		(void)buf_printf(out, "\nSTART MESSAGE\n%s\nEND MESSAGE\n", a->vacation.reason);
		break;
	case SIEVE_ACTION_TRACK_DUPLICATE:
		(void)buf_printf(out, " * track %sduplicate", a->duplicate.last ? "last " : "");
		if (a->duplicate.handle != NULL)
			(void)buf_printf(out, " with handle: %s",
					 sieve_sanitize(r->pool, a->duplicate.handle, 128));
		(void)buf_append_c(out, '\n');
		break;
	}
}

void sieve_result_print_script(struct sieve_result *r, struct buf *out, bool multiscript)
{
	unsigned int i, printed = 0;

	(void)buf_append_str(out, "\nPerformed actions:\n\n");
	for (i = r->script_first; i < r->count; i++) {
		if (r->acts[i].script_no != r->script_no)
			continue;
		print_action(r, &r->acts[i], out, multiscript);
		printed++;
	}
	/* Merged keeps of earlier scripts belong to this script now. */
	for (i = 0; i < r->script_first; i++) {
		if (r->acts[i].script_no != r->script_no)
			continue;
		print_action(r, &r->acts[i], out, multiscript);
		printed++;
	}
	if (printed == 0)
		(void)buf_append_str(out, "  (none)\n");
	(void)buf_append_str(out, "\nImplicit keep:\n\n");
	if (script_implicit_keep(r)) {
		if (multiscript)
			(void)buf_append_str(out, " * keep\n");
		else
			(void)buf_printf(out, " * store message in folder: %s\n",
					 sieve_sanitize(r->pool, r->set->default_mailbox, 128));
		if (r->flags_used) {
			unsigned int n;
			const char **f = flags_for_action(r->pool, &r->flags, &n);

			print_flags(out, f, n);
		}
	} else {
		(void)buf_append_str(out, "  (none)\n");
	}
	(void)buf_append_str(out, "\n");
}

/*
 * The final result
 */

void sieve_result_finish(struct sieve_result *r, const struct sieve_flags *flags, bool failed)
{
	unsigned int i, n = 0;
	bool keep;
	struct sieve_action *k = NULL;

	if (r->finished)
		return;
	r->finished = true;
	keep = failed || r->script_no == 0 || sieve_result_keep_in_effect(r);
	r->final = p_malloc_array(r->pool, r->count + 1, sizeof(*r->final));
	if (r->final == NULL) {
		r->status = SIEVE_STATUS_TEMPFAIL;
		return;
	}
	for (i = 0; i < r->count; i++) {
		const struct res_action *ra = &r->acts[i];

		/* A keep of an earlier script only meant "continue". */
		if (ra->a.keep && ra->script_no != r->script_no)
			continue;
		if (ra->a.keep)
			k = &r->final[n];
		r->final[n++] = ra->a;
	}
	if (keep && k == NULL) {
		/* The implicit keep, unless an equal store is already there. */
		for (i = 0; i < n; i++) {
			if (r->final[i].type == SIEVE_ACTION_STORE &&
			    mailbox_equal(r->final[i].mailbox, r->set->default_mailbox))
				break;
		}
		if (i == n) {
			struct sieve_action *a = &r->final[n++];

			memset(a, 0, sizeof(*a));
			a->type = SIEVE_ACTION_STORE;
			a->keep = true;
			a->mailbox = r->set->default_mailbox;
			a->location = "implicit keep";
			if (r->flags_used && !failed) {
				a->flags = flags_for_action(r->pool, flags, &a->flags_count);
				a->has_flags = a->flags_count > 0;
			}
		}
	}
	r->final_count = n;
	if (failed)
		r->status = r->tempfail ? SIEVE_STATUS_TEMPFAIL : SIEVE_STATUS_FAILED;
}

enum sieve_status sieve_result_status(const struct sieve_result *r)
{
	return r->status;
}

const char *sieve_result_errors(const struct sieve_result *r)
{
	return buf_cstr(&r->errors);
}

unsigned int sieve_result_count(const struct sieve_result *r)
{
	return r->final_count;
}

const struct sieve_action *sieve_result_action(const struct sieve_result *r, unsigned int idx)
{
	return idx < r->final_count ? &r->final[idx] : NULL;
}

bool sieve_result_discarded(const struct sieve_result *r)
{
	unsigned int i;

	for (i = 0; i < r->final_count; i++) {
		if (r->final[i].type == SIEVE_ACTION_STORE ||
		    r->final[i].type == SIEVE_ACTION_REDIRECT)
			return false;
	}
	return true;
}

bool sieve_result_header_edited(const struct sieve_result *r)
{
	return r->msg->edited;
}

/*
 * Execution-time decisions
 */

static void vacation_ctx(struct sieve_result *r, struct sieve_vacation_ctx *vc)
{
	vc->set = r->set;
	vc->msg = r->msg;
	vc->pool = r->pool;
	vc->env = r->env;
	vc->env_ops = r->env_ops;
	vc->env_ctx = r->env_ctx;
}

/*
 * The id under which a redirect of this message to this address is
 * remembered: the message's (Resent-)Message-ID with the envelope, so the
 * same message arriving twice is not forwarded twice. NULL without an id.
 */
static const char *redirect_dupid(struct sieve_result *r, const struct sieve_action *a)
{
	struct sieve_str *vals;
	const char *msgid = NULL;

	if (sieve_msgview_get(r->msg, "resent-message-id", false, &vals) > 0)
		msgid = vals[0].s;
	else if (sieve_msgview_get(r->msg, "message-id", false, &vals) > 0)
		msgid = vals[0].s;
	if (msgid == NULL)
		return NULL;
	return p_strdup_printf(r->pool, "redirect\n%s\n%s\n%s\n%s", msgid,
			       r->env != NULL && r->env->mail_from != NULL ? r->env->mail_from : "",
			       r->env != NULL && r->env->rcpt_to != NULL ? r->env->rcpt_to : "",
			       a->address);
}

/* Why a redirect must not be sent (loop or already done), or NULL. */
static const char *redirect_check(struct sieve_result *r, const struct sieve_action *a,
				  bool *loop_r)
{
	struct sieve_str *vals;
	const char *id;
	int n, i;

	/* Our own marker with our address means the message came back. */
	n = sieve_msgview_get(r->msg, "x-sieve-redirected-from", false, &vals);
	for (i = 0; i < n && r->env != NULL && r->env->rcpt_to != NULL; i++) {
		if (strcasestr(vals[i].s, r->env->rcpt_to) != NULL) {
			*loop_r = true;
			return p_strdup_printf(r->pool,
					       "not forwarding message to <%s>: the "
					       "`x-sieve-redirected-from' header indicates a mail "
					       "loop",
					       a->address);
		}
	}
	if (r->env_ops == NULL || r->env_ops->duplicate_check == NULL)
		return NULL;
	id = redirect_dupid(r, a);
	if (id != NULL &&
	    r->env_ops->duplicate_check(r->env_ctx, SIEVE_DUP_REDIRECT, id, strlen(id)) > 0)
		return p_strdup_printf(r->pool, "discarded duplicate forward to <%s>", a->address);
	return NULL;
}

void sieve_result_decide(struct sieve_result *r)
{
	struct sieve_vacation_ctx vc;
	unsigned int i;

	vacation_ctx(r, &vc);
	for (i = 0; i < r->final_count; i++) {
		struct sieve_action *a = &r->final[i];

		if (a->type == SIEVE_ACTION_VACATION) {
			sieve_vacation_decide(&vc, a);
		} else if (a->type == SIEVE_ACTION_REDIRECT) {
			bool loop = false;
			const char *reason = redirect_check(r, a, &loop);

			if (reason != NULL) {
				a->skip = true;
				a->skip_reason = reason;
				/* A loop must not lose the message; a repeat already
				   went out the first time. */
				a->skip_keep = loop;
			}
		} else if (a->type == SIEVE_ACTION_REJECT &&
			   (r->env == NULL || r->env->mail_from == NULL ||
			    r->env->mail_from[0] == '\0')) {
			a->skip = true;
			a->skip_reason = "not sending reject message to <>";
		}
	}
}

void sieve_result_commit_action(struct sieve_result *r, unsigned int idx)
{
	struct sieve_vacation_ctx vc;
	const struct sieve_action *a;

	if (idx >= r->final_count || r->env_ops == NULL || r->env_ops->duplicate_mark == NULL)
		return;
	a = &r->final[idx];
	if (a->skip)
		return;
	vacation_ctx(r, &vc);
	if (a->type == SIEVE_ACTION_VACATION) {
		sieve_vacation_commit(&vc, a);
	} else if (a->type == SIEVE_ACTION_REDIRECT) {
		const char *id = redirect_dupid(r, a);

		if (id != NULL)
			r->env_ops->duplicate_mark(r->env_ctx, SIEVE_DUP_REDIRECT, id, strlen(id),
						   time(NULL) + 86400);
	} else if (a->type == SIEVE_ACTION_TRACK_DUPLICATE) {
		r->env_ops->duplicate_mark(r->env_ctx, SIEVE_DUP_TEST, a->duplicate.id,
					   a->duplicate.id_len, a->duplicate.expires);
	}
}

void sieve_result_commit(struct sieve_result *r)
{
	for (unsigned int i = 0; i < r->final_count; i++)
		sieve_result_commit_action(r, i);
}

void sieve_result_print_executed(const struct sieve_result *r, struct buf *out)
{
	unsigned int i;

	(void)buf_append_str(out, "\nExecuted actions:\n\n");
	if (r->final_count == 0)
		(void)buf_append_str(out, "  (none)\n");
	for (i = 0; i < r->final_count; i++) {
		const struct sieve_action *a = &r->final[i];

		switch (a->type) {
		case SIEVE_ACTION_STORE:
			(void)buf_printf(out, " * store message in folder: %s\n",
					 sieve_sanitize(r->pool, a->mailbox, 128));
			break;
		case SIEVE_ACTION_REDIRECT:
			if (a->skip)
				(void)buf_printf(out, " * redirect message not sent: %s\n",
						 a->skip_reason);
			else
				(void)buf_printf(out, " * redirect message to: <%s>\n", a->address);
			break;
		case SIEVE_ACTION_DISCARD:
			(void)buf_append_str(out, " * discard\n");
			break;
		case SIEVE_ACTION_REJECT:
			if (a->skip)
				(void)buf_printf(out, " * reject message not sent: %s\n",
						 a->skip_reason);
			else
				(void)buf_append_str(out, " * reject message\n");
			break;
		case SIEVE_ACTION_VACATION:
			if (a->skip)
				(void)buf_printf(out, " * vacation message not sent: %s\n",
						 a->skip_reason);
			else
				(void)buf_printf(out, " * send vacation message to: <%s>\n",
						 a->vacation.reply_to);
			break;
		case SIEVE_ACTION_TRACK_DUPLICATE:
			break;
		}
	}
	(void)buf_append_str(out, "\n");
}

/*
 * Header edits applied to the stored copy
 */

bool sieve_result_apply_edits(const struct sieve_result *r, const void *raw, size_t raw_size,
			      struct buf *out)
{
	const struct sieve_header_field *orig;
	size_t orig_count, body_off = raw_size;
	const char *data = raw;
	unsigned int i;
	size_t p;

	/* The body starts at the blank line after the header. */
	if (raw_size > 0 &&
	    (data[0] == '\n' || (raw_size > 1 && data[0] == '\r' && data[1] == '\n'))) {
		body_off = 0;
	} else {
		for (p = 0; p + 1 < raw_size; p++) {
			if (data[p] == '\n' &&
			    (data[p + 1] == '\n' ||
			     (data[p + 1] == '\r' && p + 2 < raw_size && data[p + 2] == '\n'))) {
				body_off = p + 1;
				break;
			}
		}
	}
	if (!r->msg->edited)
		return buf_append(out, raw, raw_size);
	if (r->msg->ops->get_header_fields(r->msg->ctx, &orig, &orig_count) < 0)
		return false;
	for (i = 0; i < r->msg->count; i++) {
		const struct sieve_hfield *h = &r->msg->fields[i];

		if (h->orig_index >= 0 && (size_t)h->orig_index < orig_count &&
		    orig[h->orig_index].raw != NULL) {
			(void)buf_append(out, orig[h->orig_index].raw, orig[h->orig_index].raw_len);
		} else {
			(void)sieve_compose_header(out, h->name, h->raw.s);
		}
	}
	return buf_append(out, data + body_off, raw_size - body_off);
}
