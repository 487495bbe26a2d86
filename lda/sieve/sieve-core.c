/*
 * The core language of RFC 5228: control commands (require, if, elsif,
 * else, stop), the actions keep, discard, redirect and fileinto (with the
 * :copy, :create and :flags side effects of RFC 3894, 5490 and 5232) and
 * the tests address, envelope, header, exists, size, allof, anyof, not,
 * true and false. Runs in roost-lda and roostadm; values come from
 * untrusted scripts and messages.
 */
#include <string.h>

#include "sieve-private.h"

/* Shared compiled form of header-like tests. */
struct test_hdr {
	struct sieve_match match;
	enum sieve_addrpart addrpart;
	struct sieve_tlist names;
	uint64_t index;
	bool last;
};

static struct test_hdr *test_hdr_new(struct sieve_validator *v, const struct sieve_ast_node *node,
				     struct sieve_args *args, const struct sieve_ast_arg *names,
				     const struct sieve_ast_arg *keys)
{
	struct test_hdr *t = p_malloc(v->script->pool, sizeof(*t));

	if (t == NULL) {
		sieve_v_error(v, node->line, node->col, "script is too complex (out of memory)");
		return NULL;
	}
	if (!sieve_v_tlist(v, names, &t->names))
		return NULL;
	if (keys != NULL && !sieve_v_match(v, node, args, keys))
		return NULL;
	t->match = args->match;
	t->addrpart = args->addrpart;
	t->index = args->index;
	t->last = args->last;
	return t;
}

/*
 * Control
 */

static int cmd_stop_exec(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	(void)node;
	in->stopped = true;
	return 1;
}

/*
 * Actions
 */

struct cmd_store {
	struct sieve_tstr mailbox;
	bool copy, create;
	bool has_flags;
	struct sieve_tlist flags;
	unsigned int copy_order, flags_order;
};

enum { STORE_TAG_COPY, STORE_TAG_FLAGS, STORE_TAG_CREATE };

static const struct sieve_tag_def fileinto_tags[] = {
	[STORE_TAG_COPY] = {"copy", SIEVE_PARAM_NONE, SIEVE_EXT_COPY},
	[STORE_TAG_FLAGS] = {"flags", SIEVE_PARAM_STRLIST, SIEVE_EXT_IMAP4FLAGS},
	[STORE_TAG_CREATE] = {"create", SIEVE_PARAM_NONE, SIEVE_EXT_MAILBOX},
};

static const struct sieve_tag_def keep_tags[] = {
	{"flags", SIEVE_PARAM_STRLIST, SIEVE_EXT_IMAP4FLAGS},
};

/* Order in which two tags were written: by their position in the script. */
static unsigned int tag_order(const struct sieve_ast_arg *tag)
{
	return tag == NULL ? 0 : (tag->line << 12) + tag->col + 1;
}

static bool store_validate_common(struct sieve_validator *v, struct sieve_ast_node *node,
				  struct cmd_store *c, const struct sieve_ast_arg *flags_arg,
				  const struct sieve_ast_arg *flags_tag)
{
	if (flags_arg != NULL) {
		c->has_flags = true;
		c->flags_order = tag_order(flags_tag);
		if (!sieve_v_tlist(v, flags_arg, &c->flags))
			return false;
	}
	node->data = c;
	return true;
}

static bool cmd_fileinto_validate(struct sieve_validator *v, struct sieve_ast_node *node,
				  struct sieve_args *args)
{
	struct cmd_store *c = p_malloc(v->script->pool, sizeof(*c));

	if (c == NULL)
		return false;
	if (!sieve_v_tstr(v, args->pos[0], 0, &c->mailbox))
		return false;
	if (sieve_tstr_is_const(&c->mailbox) &&
	    !sieve_utf8_valid(c->mailbox.lit.s, c->mailbox.lit.len)) {
		sieve_v_error(v, args->pos[0]->line, args->pos[0]->col,
			      "fileinto command: invalid folder name `%s' specified: "
			      "mailbox name is not valid UTF-8",
			      sieve_sanitize(v->script->pool, c->mailbox.lit.s, 64));
		return false;
	}
	c->copy = args->tag_set[STORE_TAG_COPY];
	c->copy_order = tag_order(args->tag_pos[STORE_TAG_COPY]);
	c->create = args->tag_set[STORE_TAG_CREATE];
	return store_validate_common(v, node, c, args->tag_arg[STORE_TAG_FLAGS],
				     args->tag_pos[STORE_TAG_FLAGS]);
}

static bool cmd_keep_validate(struct sieve_validator *v, struct sieve_ast_node *node,
			      struct sieve_args *args)
{
	struct cmd_store *c = p_malloc(v->script->pool, sizeof(*c));

	if (c == NULL)
		return false;
	return store_validate_common(v, node, c, args->tag_arg[0], args->tag_pos[0]);
}

/* Flags for a store action: explicit :flags or the internal variable. */
static bool store_flags(struct sieve_interp *in, const struct sieve_ast_node *node,
			const struct cmd_store *c, struct sieve_action *a, unsigned int *order_r)
{
	if (c->has_flags) {
		struct sieve_str *vals;
		struct sieve_flags f;
		unsigned int i;

		if (!sieve_rt_expand_list(in, &c->flags, &vals))
			return sieve_rt_error(in, node, "out of memory") == 0;
		memset(&f, 0, sizeof(f));
		for (i = 0; i < c->flags.count; i++)
			sieve_flags_add_str(in->pool, &f, vals[i].s, vals[i].len);
		a->flags = sieve_flags_normalize(in->pool, "", 0, &a->flags_count);
		{
			char *s = sieve_flags_to_str(in->pool, &f);

			a->flags =
				sieve_flags_normalize(in->pool, s != NULL ? s : "",
						      s != NULL ? strlen(s) : 0, &a->flags_count);
		}
		a->has_flags = true;
		*order_r = c->flags_order;
	} else if (in->script->required[SIEVE_EXT_IMAP4FLAGS]) {
		char *s = sieve_flags_to_str(in->pool, sieve_rt_flags(in));

		a->flags = sieve_flags_normalize(in->pool, s != NULL ? s : "",
						 s != NULL ? strlen(s) : 0, &a->flags_count);
		a->has_flags = true;
		/* Implicit flags are printed after every explicit side effect. */
		*order_r = 1u << 30;
	}
	return true;
}

static int cmd_keep_exec(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct cmd_store *c = node->data;
	struct sieve_action a;
	unsigned int flags_order = 0;

	memset(&a, 0, sizeof(a));
	a.type = SIEVE_ACTION_STORE;
	a.keep = true;
	a.mailbox = in->set->default_mailbox;
	if (!store_flags(in, node, c, &a, &flags_order))
		return -1;
	return sieve_result_add_ordered(in, node, &a, 0, flags_order);
}

static int cmd_fileinto_exec(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct cmd_store *c = node->data;
	struct sieve_action a;
	struct sieve_str mbox;
	unsigned int flags_order = 0;

	if (!sieve_rt_expand(in, &c->mailbox, &mbox))
		return sieve_rt_error(in, node, "out of memory");
	if (!sieve_utf8_valid(mbox.s, mbox.len) || strlen(mbox.s) != mbox.len) {
		return sieve_rt_error(in, node,
				      "fileinto command: invalid folder name `%s' specified: "
				      "mailbox name is not valid UTF-8",
				      sieve_sanitize(in->pool, mbox.s, 64));
	}
	memset(&a, 0, sizeof(a));
	a.type = SIEVE_ACTION_STORE;
	a.mailbox = mbox.s;
	a.copy = c->copy;
	a.create = c->create;
	if (!store_flags(in, node, c, &a, &flags_order))
		return -1;
	return sieve_result_add_ordered(in, node, &a, c->copy ? c->copy_order : 0, flags_order);
}

static int cmd_discard_exec(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	struct sieve_action a;

	memset(&a, 0, sizeof(a));
	a.type = SIEVE_ACTION_DISCARD;
	return sieve_result_add(in, node, &a);
}

struct cmd_redirect {
	struct sieve_tstr address;
	bool copy;
};

static const struct sieve_tag_def redirect_tags[] = {
	{"copy", SIEVE_PARAM_NONE, SIEVE_EXT_COPY},
};

static bool cmd_redirect_validate(struct sieve_validator *v, struct sieve_ast_node *node,
				  struct sieve_args *args)
{
	struct cmd_redirect *c = p_malloc(v->script->pool, sizeof(*c));

	if (c == NULL)
		return false;
	if (!sieve_v_tstr(v, args->pos[0], 0, &c->address))
		return false;
	c->copy = args->tag_set[0];
	if (sieve_tstr_is_const(&c->address)) {
		const char *local, *domain, *error;

		if (!sieve_address_parse(v->script->pool, c->address.lit.s, c->address.lit.len,
					 &local, &domain, &error)) {
			sieve_v_error(v, args->pos[0]->line, args->pos[0]->col,
				      "specified redirect address '%s' is invalid: %s",
				      sieve_sanitize(v->script->pool, c->address.lit.s, 128),
				      error);
			return false;
		}
	}
	node->data = c;
	return true;
}

static int cmd_redirect_exec(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct cmd_redirect *c = node->data;
	const char *local, *domain, *error;
	struct sieve_action a;
	struct sieve_str addr;

	if (!sieve_rt_expand(in, &c->address, &addr))
		return sieve_rt_error(in, node, "out of memory");
	if (!sieve_address_parse(in->pool, addr.s, addr.len, &local, &domain, &error)) {
		return sieve_rt_error(in, node, "specified redirect address '%s' is invalid: %s",
				      sieve_sanitize(in->pool, addr.s, 128), error);
	}
	if (in->set->max_redirects == 0)
		return sieve_rt_error(in, node,
				      "local policy prohibits the use of a redirect action");
	memset(&a, 0, sizeof(a));
	a.type = SIEVE_ACTION_REDIRECT;
	a.address = p_strdup_printf(in->pool, "%s@%s", local, domain);
	a.copy = c->copy;
	return sieve_result_add(in, node, &a);
}

/*
 * Logic tests
 */

static int tst_true(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	(void)in;
	(void)node;
	return 1;
}

static int tst_false(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	(void)in;
	(void)node;
	return 0;
}

static int tst_not(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	int ret = sieve_rt_test(in, node->tests[0]);

	return ret < 0 ? -1 : !ret;
}

static int tst_allof(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	unsigned int i;

	for (i = 0; i < node->tests_count; i++) {
		int ret = sieve_rt_test(in, node->tests[i]);

		if (ret <= 0)
			return ret;
	}
	return 1;
}

static int tst_anyof(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	unsigned int i;

	for (i = 0; i < node->tests_count; i++) {
		int ret = sieve_rt_test(in, node->tests[i]);

		if (ret != 0)
			return ret;
	}
	return 0;
}

/*
 * Header tests
 */

static const char *const address_headers[] = {
	"from",
	"sender",
	"reply-to",
	"to",
	"cc",
	"bcc",
	"resent-from",
	"resent-sender",
	"resent-to",
	"resent-reply-to",
	"resent-cc",
	"resent-bcc",
	"for-approval",
	"for-handling",
	"for-comment",
	"apparently-to",
	"errors-to",
	"delivered-to",
	"return-receipt-to",
	"x-admin",
	"read-receipt-to",
	"x-confirm-reading-to",
	"return-receipt-requested",
	"registered-mail-reply-requested-by",
	"mail-followup-to",
	"mail-reply-to",
	"abuse-reports-to",
	"x-complaints-to",
	"x-report-abuse-to",
	"x-beenthere",
	"x-original-to",
};

static bool address_header_allowed(const char *name)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(address_headers); i++) {
		if (strcasecmp(address_headers[i], name) == 0)
			return true;
	}
	return false;
}

static bool check_header_names(struct sieve_validator *v, const struct sieve_ast_arg *arg,
			       const struct sieve_tlist *names, bool address)
{
	unsigned int i;

	for (i = 0; i < names->count; i++) {
		const struct sieve_tstr *n = &names->items[i];

		if (!sieve_tstr_is_const(n))
			continue;
		if (address && !address_header_allowed(n->lit.s)) {
			sieve_v_error(v, n->line, n->col,
				      "specified header '%s' is not allowed for the address test",
				      sieve_sanitize(v->script->pool, n->lit.s, 64));
			return false;
		}
		/* Pigeonhole only warns: such a field can never match. */
		if (!sieve_valid_header_name(n->lit.s, n->lit.len))
			sieve_v_warning(v, n->line, n->col,
					"specified header field name '%s' is invalid",
					sieve_sanitize(v->script->pool, n->lit.s, 64));
	}
	(void)arg;
	return true;
}

static bool tst_header_validate(struct sieve_validator *v, struct sieve_ast_node *node,
				struct sieve_args *args)
{
	struct test_hdr *t = test_hdr_new(v, node, args, args->pos[0], args->pos[1]);

	if (t == NULL || !check_header_names(v, args->pos[0], &t->names, false))
		return false;
	node->data = t;
	return true;
}

static bool tst_address_validate(struct sieve_validator *v, struct sieve_ast_node *node,
				 struct sieve_args *args)
{
	struct test_hdr *t = test_hdr_new(v, node, args, args->pos[0], args->pos[1]);

	if (t == NULL || !check_header_names(v, args->pos[0], &t->names, true))
		return false;
	node->data = t;
	return true;
}

static bool tst_exists_validate(struct sieve_validator *v, struct sieve_ast_node *node,
				struct sieve_args *args)
{
	struct test_hdr *t = test_hdr_new(v, node, args, args->pos[0], NULL);

	if (t == NULL || !check_header_names(v, args->pos[0], &t->names, false))
		return false;
	node->data = t;
	return true;
}

/*
 * Collects the values of the named header fields (decoded), honouring
 * :index/:last. Returns the count or -1 after a runtime error.
 */
int sieve_rt_header_values(struct sieve_interp *in, const struct sieve_ast_node *node,
			   const struct sieve_tlist *names, uint64_t index, bool last, bool decode,
			   struct sieve_str **vals_r)
{
	struct sieve_str *names_x, *out = NULL;
	unsigned int i, n = 0, alloc = 0;

	if (!sieve_rt_expand_list(in, names, &names_x))
		return sieve_rt_error(in, node, "out of memory");
	for (i = 0; i < names->count; i++) {
		struct sieve_str *vals;
		int count, j;

		if (!sieve_valid_header_name(names_x[i].s, names_x[i].len))
			continue;
		count = sieve_msgview_get(in->msg, names_x[i].s, decode, &vals);
		if (count < 0)
			return sieve_rt_error(in, node, "failed to read header field `%s'",
					      sieve_sanitize(in->pool, names_x[i].s, 80));
		for (j = 0; j < count; j++) {
			if (index > 0) {
				uint64_t want = last ? (uint64_t)count - index : index - 1;

				if (index > (uint64_t)count || (uint64_t)j != want)
					continue;
			}
			if (!sieve_parray_grow(in->pool, (void **)&out, &alloc, n + 1,
					       sizeof(*out)))
				return sieve_rt_error(in, node, "out of memory");
			out[n++] = vals[j];
		}
	}
	*vals_r = out;
	return (int)n;
}

static int tst_header(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct test_hdr *t = node->data;
	struct sieve_str *vals;
	int n = sieve_rt_header_values(in, node, &t->names, t->index, t->last, true, &vals);

	if (n < 0)
		return -1;
	return sieve_rt_match_values(in, node, &t->match, vals, (unsigned int)n);
}

static int tst_exists(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct test_hdr *t = node->data;
	struct sieve_str *names_x;
	unsigned int i;

	if (!sieve_rt_expand_list(in, &t->names, &names_x))
		return sieve_rt_error(in, node, "out of memory");
	for (i = 0; i < t->names.count; i++) {
		struct sieve_str *vals;
		int count;

		if (!sieve_valid_header_name(names_x[i].s, names_x[i].len))
			return 0;
		count = sieve_msgview_get(in->msg, names_x[i].s, false, &vals);
		if (count < 0)
			return sieve_rt_error(in, node, "failed to read header field `%s'",
					      sieve_sanitize(in->pool, names_x[i].s, 80));
		if (count == 0)
			return 0;
	}
	return 1;
}

/* Extracts an address part; false when the address has no such part. */
bool sieve_rt_address_part(struct sieve_interp *in, enum sieve_addrpart ap, const char *local,
			   const char *domain, struct sieve_str *out)
{
	const char *delim = in->set->recipient_delimiter;
	size_t dpos;

	switch (ap) {
	case SIEVE_AP_ALL:
		if (domain == NULL)
			out->s = local;
		else
			out->s = p_strdup_printf(in->pool, "%s@%s", local, domain);
		break;
	case SIEVE_AP_LOCALPART:
		out->s = local;
		break;
	case SIEVE_AP_DOMAIN:
		if (domain == NULL)
			return false;
		out->s = domain;
		break;
	case SIEVE_AP_USER:
	case SIEVE_AP_DETAIL:
		dpos = delim == NULL || *delim == '\0' ? strlen(local) : strcspn(local, delim);
		if (ap == SIEVE_AP_USER) {
			out->s = p_strndup(in->pool, local, dpos);
		} else {
			if (local[dpos] == '\0')
				return false;
			out->s = local + dpos + 1;
		}
		break;
	}
	if (out->s == NULL)
		return false;
	out->len = strlen(out->s);
	return true;
}

static int tst_address(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct test_hdr *t = node->data;
	struct sieve_str *vals, *parts = NULL;
	unsigned int i, n = 0, alloc = 0;
	int count;

	count = sieve_rt_header_values(in, node, &t->names, t->index, t->last, false, &vals);
	if (count < 0)
		return -1;
	for (i = 0; i < (unsigned int)count; i++) {
		const struct sieve_address *addrs;
		size_t naddrs, j;
		bool invalid = false;
		struct sieve_str decoded;
		size_t dlen;
		const char *d;

		if (sieve_msgview_addresses(in->msg, &vals[i], &addrs, &naddrs, &invalid) < 0)
			return sieve_rt_error(in, node, "failed to parse address header");
		if (invalid || naddrs == 0) {
			/* Not an address list: only :all sees the whole value. */
			if (t->addrpart != SIEVE_AP_ALL ||
			    (!invalid && naddrs == 0 && vals[i].len == 0))
				continue;
			d = in->msg->ops->decode_header(in->msg->ctx, in->pool, vals[i].s,
							vals[i].len, &dlen);
			if (d == NULL)
				return sieve_rt_error(in, node, "out of memory");
			decoded.s = d;
			decoded.len = dlen;
			if (!sieve_parray_grow(in->pool, (void **)&parts, &alloc, n + 1,
					       sizeof(*parts)))
				return sieve_rt_error(in, node, "out of memory");
			parts[n++] = decoded;
			continue;
		}
		for (j = 0; j < naddrs; j++) {
			struct sieve_str part;

			if (addrs[j].local_part == NULL)
				continue;
			if (!sieve_rt_address_part(in, t->addrpart, addrs[j].local_part,
						   addrs[j].domain, &part))
				continue;
			if (!sieve_parray_grow(in->pool, (void **)&parts, &alloc, n + 1,
					       sizeof(*parts)))
				return sieve_rt_error(in, node, "out of memory");
			parts[n++] = part;
		}
	}
	return sieve_rt_match_values(in, node, &t->match, parts, n);
}

/*
 * envelope (RFC 5228 section 5.4)
 */

static bool tst_envelope_validate(struct sieve_validator *v, struct sieve_ast_node *node,
				  struct sieve_args *args)
{
	struct test_hdr *t = test_hdr_new(v, node, args, args->pos[0], args->pos[1]);
	unsigned int i;

	if (t == NULL)
		return false;
	for (i = 0; i < t->names.count; i++) {
		const struct sieve_tstr *n = &t->names.items[i];

		if (!sieve_tstr_is_const(n))
			continue;
		if (strcasecmp(n->lit.s, "from") != 0 && strcasecmp(n->lit.s, "to") != 0 &&
		    strcasecmp(n->lit.s, "auth") != 0) {
			sieve_v_error(v, n->line, n->col,
				      "specified envelope part '%s' is not supported by the "
				      "envelope test",
				      sieve_sanitize(v->script->pool, n->lit.s, 64));
			return false;
		}
		if (strcasecmp(n->lit.s, "auth") == 0 && t->addrpart != SIEVE_AP_ALL) {
			static const char *const apn[] = {"all", "localpart", "domain", "user",
							  "detail"};

			sieve_v_error(v, n->line, n->col,
				      "address part ':%s' specified while non-address envelope "
				      "part '%s' is tested with the envelope test",
				      apn[t->addrpart], n->lit.s);
			return false;
		}
	}
	node->data = t;
	return true;
}

/* Splits an envelope path at its last '@'. */
static void split_path(struct pool *pool, const char *path, const char **local_r,
		       const char **domain_r)
{
	const char *at = strrchr(path, '@');

	if (at == NULL) {
		*local_r = path;
		*domain_r = NULL;
		return;
	}
	*local_r = p_strndup(pool, path, (size_t)(at - path));
	*domain_r = at + 1;
}

static int tst_envelope(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct test_hdr *t = node->data;
	const struct sieve_envelope *env = sieve_rt_envelope(in);
	struct sieve_str *names_x, *vals = NULL;
	unsigned int i, n = 0;

	if (!sieve_rt_expand_list(in, &t->names, &names_x))
		return sieve_rt_error(in, node, "out of memory");
	vals = p_malloc_array(in->pool, t->names.count + 1, sizeof(*vals));
	if (vals == NULL)
		return sieve_rt_error(in, node, "out of memory");
	for (i = 0; i < t->names.count; i++) {
		const char *path = NULL, *local, *domain;
		struct sieve_str part;

		if (env == NULL)
			break;
		if (strcasecmp(names_x[i].s, "from") == 0) {
			path = env->mail_from;
		} else if (strcasecmp(names_x[i].s, "to") == 0) {
			/* Pigeonhole tests the original recipient here. */
			path = env->orig_rcpt_to != NULL ? env->orig_rcpt_to : env->rcpt_to;
		} else if (strcasecmp(names_x[i].s, "auth") == 0) {
			if (env->auth_user != NULL && t->addrpart == SIEVE_AP_ALL) {
				vals[n].s = env->auth_user;
				vals[n].len = strlen(env->auth_user);
				n++;
			}
			continue;
		} else {
			continue;
		}
		if (path == NULL)
			continue;
		if (*path == '\0') {
			/* The null reverse-path matches "" for :all only. */
			if (t->addrpart == SIEVE_AP_ALL) {
				vals[n].s = "";
				vals[n].len = 0;
				n++;
			}
			continue;
		}
		split_path(in->pool, path, &local, &domain);
		if (local == NULL)
			return sieve_rt_error(in, node, "out of memory");
		if (sieve_rt_address_part(in, t->addrpart, local, domain, &part))
			vals[n++] = part;
	}
	return sieve_rt_match_values(in, node, &t->match, vals, n);
}

/*
 * size
 */

struct tst_size {
	bool over;
	uint64_t limit;
};

static const struct sieve_tag_def size_tags[] = {
	{"over", SIEVE_PARAM_NUMBER, -1},
	{"under", SIEVE_PARAM_NUMBER, -1},
};

static bool tst_size_validate(struct sieve_validator *v, struct sieve_ast_node *node,
			      struct sieve_args *args)
{
	struct tst_size *t;

	if (args->tag_set[0] == args->tag_set[1]) {
		if (args->tag_set[0])
			sieve_v_error(v, node->line, node->col,
				      "exactly one of the ':under' or ':over' tags must be "
				      "specified for the size test, but more were found");
		else
			sieve_v_error(v, node->line, node->col,
				      "the size test requires either the :under or the :over "
				      "tag to be specified");
		return false;
	}
	t = p_malloc(v->script->pool, sizeof(*t));
	if (t == NULL)
		return false;
	t->over = args->tag_set[0];
	t->limit = t->over ? args->tag_arg[0]->number : args->tag_arg[1]->number;
	node->data = t;
	return true;
}

static int tst_size(struct sieve_interp *in, const struct sieve_ast_node *node)
{
	const struct tst_size *t = node->data;
	uint64_t size = in->msg->ops->get_size(in->msg->ctx);

	return t->over ? size > t->limit : size < t->limit;
}

#define STR_LIST SIEVE_PARAM_STRLIST
#define STR	 SIEVE_PARAM_STRING

const struct sieve_cmd_def sieve_core_cmds[] = {
	{.name = "require", .kind = SIEVE_CMD_COMMAND, .ext = -1, .control = SIEVE_CTRL_REQUIRE},
	{.name = "if",
	 .kind = SIEVE_CMD_COMMAND,
	 .ext = -1,
	 .subtests = SIEVE_SUBTESTS_ONE,
	 .block = true,
	 .control = SIEVE_CTRL_IF},
	{.name = "elsif",
	 .kind = SIEVE_CMD_COMMAND,
	 .ext = -1,
	 .subtests = SIEVE_SUBTESTS_ONE,
	 .block = true,
	 .control = SIEVE_CTRL_ELSIF},
	{.name = "else",
	 .kind = SIEVE_CMD_COMMAND,
	 .ext = -1,
	 .block = true,
	 .control = SIEVE_CTRL_ELSE},
	{.name = "stop", .kind = SIEVE_CMD_COMMAND, .ext = -1, .execute = cmd_stop_exec},
	{.name = "keep",
	 .kind = SIEVE_CMD_COMMAND,
	 .ext = -1,
	 .tags = keep_tags,
	 .tags_count = N_ELEMENTS(keep_tags),
	 .validate = cmd_keep_validate,
	 .execute = cmd_keep_exec},
	{.name = "discard", .kind = SIEVE_CMD_COMMAND, .ext = -1, .execute = cmd_discard_exec},
	{.name = "redirect",
	 .kind = SIEVE_CMD_COMMAND,
	 .ext = -1,
	 .tags = redirect_tags,
	 .tags_count = N_ELEMENTS(redirect_tags),
	 .pos = {STR},
	 .pos_min = 1,
	 .pos_max = 1,
	 .pos_names = {"address"},
	 .validate = cmd_redirect_validate,
	 .execute = cmd_redirect_exec},
	{.name = "fileinto",
	 .kind = SIEVE_CMD_COMMAND,
	 .ext = SIEVE_EXT_FILEINTO,
	 .tags = fileinto_tags,
	 .tags_count = N_ELEMENTS(fileinto_tags),
	 .pos = {STR},
	 .pos_min = 1,
	 .pos_max = 1,
	 .pos_names = {"folder"},
	 .validate = cmd_fileinto_validate,
	 .execute = cmd_fileinto_exec},
	{.name = "true", .kind = SIEVE_CMD_TEST, .ext = -1, .test = tst_true},
	{.name = "false", .kind = SIEVE_CMD_TEST, .ext = -1, .test = tst_false},
	{.name = "not",
	 .kind = SIEVE_CMD_TEST,
	 .ext = -1,
	 .subtests = SIEVE_SUBTESTS_ONE,
	 .test = tst_not},
	{.name = "allof",
	 .kind = SIEVE_CMD_TEST,
	 .ext = -1,
	 .subtests = SIEVE_SUBTESTS_LIST,
	 .test = tst_allof},
	{.name = "anyof",
	 .kind = SIEVE_CMD_TEST,
	 .ext = -1,
	 .subtests = SIEVE_SUBTESTS_LIST,
	 .test = tst_anyof},
	{.name = "address",
	 .kind = SIEVE_CMD_TEST,
	 .ext = -1,
	 .common_tags = SIEVE_TAGS_MATCH | SIEVE_TAGS_ADDRPART | SIEVE_TAGS_INDEX,
	 .pos = {STR_LIST, STR_LIST},
	 .pos_min = 2,
	 .pos_max = 2,
	 .pos_names = {"header list", "key list"},
	 .validate = tst_address_validate,
	 .test = tst_address},
	{.name = "header",
	 .kind = SIEVE_CMD_TEST,
	 .ext = -1,
	 .common_tags = SIEVE_TAGS_MATCH | SIEVE_TAGS_INDEX,
	 .pos = {STR_LIST, STR_LIST},
	 .pos_min = 2,
	 .pos_max = 2,
	 .pos_names = {"header names", "key list"},
	 .validate = tst_header_validate,
	 .test = tst_header},
	{.name = "exists",
	 .kind = SIEVE_CMD_TEST,
	 .ext = -1,
	 .pos = {STR_LIST},
	 .pos_min = 1,
	 .pos_max = 1,
	 .pos_names = {"header names"},
	 .validate = tst_exists_validate,
	 .test = tst_exists},
	{.name = "size",
	 .kind = SIEVE_CMD_TEST,
	 .ext = -1,
	 .tags = size_tags,
	 .tags_count = N_ELEMENTS(size_tags),
	 .validate = tst_size_validate,
	 .test = tst_size},
	{.name = "envelope",
	 .kind = SIEVE_CMD_TEST,
	 .ext = SIEVE_EXT_ENVELOPE,
	 .common_tags = SIEVE_TAGS_MATCH | SIEVE_TAGS_ADDRPART,
	 .pos = {STR_LIST, STR_LIST},
	 .pos_min = 2,
	 .pos_max = 2,
	 .pos_names = {"envelope part", "key list"},
	 .validate = tst_envelope_validate,
	 .test = tst_envelope},
};

const unsigned int sieve_core_cmds_count = N_ELEMENTS(sieve_core_cmds);
