/*
 * The SEARCH program parser (RFC 3501 6.4.4, RFC 9051 6.4.4, RFC 7162 3.1.5
 * MODSEQ, RFC 5032 OLDER/YOUNGER, RFC 5182 "$", RFC 4731/5182 RETURN
 * options): client arguments become a tree of search_key nodes in pool
 * memory, strings already case-folded. Runs in roost-imap on untrusted
 * arguments: nesting depth and key count are capped (imap_search_max_depth,
 * imap_search_max_keys), and every error text is fixed, never client bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "storage/charset.h"
#include "storage/mail-date.h"
#include "storage/message-util.h"
#include "pool.h"
#include "search.h"
#include "storage/mailbox-flags.h"

struct parse_ctx {
	struct pool *pool;
	const struct search_parse_params *params;
	unsigned int max_depth, max_keys;
	unsigned int keys;
	struct search_program *prog;
	const char *error;
	enum search_parse_result result;
};

/* Cost classes: cheap keys are tried first in AND and OR lists. */
enum key_cost {
	COST_RECORD = 0, /* flags, sizes, numbers: in the index record */
	COST_DATE = 1,	 /* the internal date: usually in the index */
	COST_HEADER = 2, /* header fields: the cache or the file */
	COST_BODY = 3,	 /* the whole message */
};

static bool fail(struct parse_ctx *ctx, enum search_parse_result result, const char *error)
{
	if (ctx->error == NULL) {
		ctx->result = result;
		ctx->error = error;
	}
	return false;
}

static struct search_key *new_key(struct parse_ctx *ctx, enum search_key_type type)
{
	struct search_key *key = p_malloc(ctx->pool, sizeof(*key));

	if (key == NULL) {
		(void)fail(ctx, SEARCH_PARSE_LIMIT, "Search program is too large");
		return NULL;
	}
	key->type = type;
	return key;
}

static bool arg_is(const struct imap_arg *arg, const char *name)
{
	return imap_arg_atom_equals(arg, name);
}

/* Takes the next argument of the key being parsed. */
static const struct imap_arg *next_arg(struct parse_ctx *ctx, const struct imap_arg *args,
				       size_t argc, size_t *pos)
{
	if (*pos >= argc) {
		(void)fail(ctx, SEARCH_PARSE_BAD, "Missing argument for search key");
		return NULL;
	}
	return &args[(*pos)++];
}

/* A number of at most max (decimal digits only, no sign). */
static bool parse_number(const char *s, uint64_t max, uint64_t *value_r)
{
	uint64_t v = 0;

	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9' || v > (max - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*value_r = v;
	return true;
}

static bool number_arg(struct parse_ctx *ctx, const struct imap_arg *args, size_t argc, size_t *pos,
		       uint64_t max, uint64_t *value_r)
{
	const struct imap_arg *arg = next_arg(ctx, args, argc, pos);
	const char *s;

	if (arg == NULL)
		return false;
	if (!imap_arg_get_atom(arg, &s) || !parse_number(s, max, value_r))
		return fail(ctx, SEARCH_PARSE_BAD, "Invalid number in search key");
	return true;
}

static bool date_arg(struct parse_ctx *ctx, const struct imap_arg *args, size_t argc, size_t *pos,
		     int64_t *day_r)
{
	const struct imap_arg *arg = next_arg(ctx, args, argc, pos);
	const char *s;
	size_t len;
	time_t t;

	if (arg == NULL)
		return false;
	if (!imap_arg_get_astring(arg, &s, &len) || strlen(s) != len ||
	    !mail_date_parse_imap_date(s, &t))
		return fail(ctx, SEARCH_PARSE_BAD, "Invalid date in search key");
	/* mail_date_parse_imap_date gives 00:00 UTC of that day. */
	*day_r = (int64_t)t / 86400;
	return true;
}

/* A string argument, checked for UTF-8 and folded into the key's needle. */
static bool text_arg(struct parse_ctx *ctx, const struct imap_arg *args, size_t argc, size_t *pos,
		     struct search_key *key)
{
	const struct imap_arg *arg = next_arg(ctx, args, argc, pos);
	struct buf folded = BUF_INIT(1024 * 1024);
	const char *s;
	size_t len;
	uint8_t *needle;

	if (arg == NULL)
		return false;
	if (!imap_arg_get_astring(arg, &s, &len))
		return fail(ctx, SEARCH_PARSE_BAD, "Invalid string in search key");
	if (!charset_utf8_is_valid((const uint8_t *)s, len))
		return fail(ctx, SEARCH_PARSE_BAD, "Search string is not valid UTF-8");
	if (!search_fold((const uint8_t *)s, len, &folded)) {
		buf_free(&folded);
		return fail(ctx, SEARCH_PARSE_LIMIT, "Search string is too long");
	}
	needle = p_malloc(ctx->pool, buf_len(&folded) + 1);
	if (needle == NULL) {
		buf_free(&folded);
		return fail(ctx, SEARCH_PARSE_LIMIT, "Search program is too large");
	}
	memcpy(needle, buf_data(&folded), buf_len(&folded));
	key->needle = needle;
	key->needle_len = buf_len(&folded);
	buf_free(&folded);
	return true;
}

/* The lower-case copy of a header field name. */
static bool header_name(struct parse_ctx *ctx, const char *s, size_t len, struct search_key *key)
{
	char *name;

	if (len == 0 || strlen(s) != len)
		return fail(ctx, SEARCH_PARSE_BAD, "Invalid header name in search key");
	for (size_t i = 0; i < len; i++) {
		/* RFC 5322 ftext: printable US-ASCII except ':'. */
		if ((uint8_t)s[i] < 33 || (uint8_t)s[i] > 126 || s[i] == ':')
			return fail(ctx, SEARCH_PARSE_BAD, "Invalid header name in search key");
	}
	name = p_strndup(ctx->pool, s, len);
	if (name == NULL)
		return fail(ctx, SEARCH_PARSE_LIMIT, "Search program is too large");
	for (size_t i = 0; i < len; i++)
		name[i] = (char)message_ascii_lower((uint8_t)name[i]);
	key->header = name;
	return true;
}

static const struct {
	const char *name;
	uint32_t flag;
	bool set;
} flag_keys[] = {
	{"ANSWERED", MAIL_ANSWERED, true}, {"UNANSWERED", MAIL_ANSWERED, false},
	{"DELETED", MAIL_DELETED, true},   {"UNDELETED", MAIL_DELETED, false},
	{"DRAFT", MAIL_DRAFT, true},	   {"UNDRAFT", MAIL_DRAFT, false},
	{"FLAGGED", MAIL_FLAGGED, true},   {"UNFLAGGED", MAIL_FLAGGED, false},
	{"SEEN", MAIL_SEEN, true},	   {"UNSEEN", MAIL_SEEN, false},
	{"RECENT", MAIL_RECENT, true},	   {"OLD", MAIL_RECENT, false},
};

static const struct {
	const char *name;
	uint32_t flag;
} system_flags[] = {
	{"\\Answered", MAIL_ANSWERED}, {"\\Deleted", MAIL_DELETED}, {"\\Draft", MAIL_DRAFT},
	{"\\Flagged", MAIL_FLAGGED},   {"\\Seen", MAIL_SEEN},	    {"\\Recent", MAIL_RECENT},
};

static const struct {
	const char *name;
	enum search_key_type type;
} header_keys[] = {
	{"FROM", SEARCH_KEY_HEADER}, {"TO", SEARCH_KEY_HEADER},	     {"CC", SEARCH_KEY_HEADER},
	{"BCC", SEARCH_KEY_HEADER},  {"SUBJECT", SEARCH_KEY_HEADER},
};

static const struct {
	const char *name;
	enum search_key_type type;
} date_keys[] = {
	{"BEFORE", SEARCH_KEY_BEFORE}, {"ON", SEARCH_KEY_ON},
	{"SINCE", SEARCH_KEY_SINCE},   {"SENTBEFORE", SEARCH_KEY_SENTBEFORE},
	{"SENTON", SEARCH_KEY_SENTON}, {"SENTSINCE", SEARCH_KEY_SENTSINCE},
};

/* A flag key, optionally negated: a FLAG key or NOT (FLAG key). */
static struct search_key *flag_key(struct parse_ctx *ctx, uint32_t flag, bool set)
{
	struct search_key *key = new_key(ctx, SEARCH_KEY_FLAG), *not ;

	if (key == NULL)
		return NULL;
	key->u.flag = flag;
	if (set)
		return key;
	not = new_key(ctx, SEARCH_KEY_NOT);
	if (not != NULL)
		not ->children = key;
	return not ;
}

static struct search_key *parse_key(struct parse_ctx *ctx, const struct imap_arg *args, size_t argc,
				    size_t *pos, unsigned int depth);

/* Parses argc arguments as a list of keys: the children of an AND. */
static struct search_key *parse_list(struct parse_ctx *ctx, const struct imap_arg *args,
				     size_t argc, unsigned int depth)
{
	struct search_key *and = new_key(ctx, SEARCH_KEY_AND), **tail;
	size_t pos = 0;

	if (and == NULL)
		return NULL;
	if (argc == 0) {
		(void)fail(ctx, SEARCH_PARSE_BAD, "Empty search key list");
		return NULL;
	}
	tail = &and->children;
	while (pos < argc) {
		struct search_key *key = parse_key(ctx, args, argc, &pos, depth);

		if (key == NULL)
			return NULL;
		*tail = key;
		tail = &key->next;
	}
	return and;
}

static struct search_key *seqset_key(struct parse_ctx *ctx, const char *s,
				     enum search_key_type type)
{
	struct search_key *key = new_key(ctx, type);
	const char *error;

	if (key == NULL)
		return NULL;
	key->next_set = ctx->prog->sets;
	ctx->prog->sets = key;
	if (imap_seqset_parse(s, strlen(s), IMAP_SEQSET_DEFAULT_MAX_RANGES, &key->u.set, &error) !=
	    IMAP_SEQSET_OK) {
		(void)fail(ctx, SEARCH_PARSE_BAD, error);
		return NULL;
	}
	if (key->u.set.saved)
		ctx->prog->uses_saved = true;
	return key;
}

static struct search_key *modseq_key(struct parse_ctx *ctx, const struct imap_arg *args,
				     size_t argc, size_t *pos)
{
	struct search_key *key = new_key(ctx, SEARCH_KEY_MODSEQ);
	const char *s;
	size_t len;

	if (key == NULL)
		return NULL;
	/* Optional entry name and type (RFC 7162 3.1.5): per-flag modseqs
	   are not kept, so they only need to be well-formed. */
	if (*pos < argc && args[*pos].type != IMAP_ARG_ATOM) {
		if (!imap_arg_get_string(&args[*pos], &s, &len) || len < 7 ||
		    strncmp(s, "/flags/", 7) != 0 || *pos + 1 >= argc ||
		    !(arg_is(&args[*pos + 1], "priv") || arg_is(&args[*pos + 1], "shared") ||
		      arg_is(&args[*pos + 1], "all"))) {
			(void)fail(ctx, SEARCH_PARSE_BAD, "Invalid MODSEQ entry in search key");
			return NULL;
		}
		*pos += 2;
	}
	if (!number_arg(ctx, args, argc, pos, INT64_MAX, &key->u.number))
		return NULL;
	ctx->prog->modseq = true;
	return key;
}

static struct search_key *keyword_key(struct parse_ctx *ctx, const struct imap_arg *args,
				      size_t argc, size_t *pos, bool set)
{
	const struct imap_arg *arg = next_arg(ctx, args, argc, pos);
	struct search_key *key;
	const char *s;
	int idx;

	if (arg == NULL)
		return NULL;
	if (!imap_arg_get_atom(arg, &s) || *s == '\0') {
		(void)fail(ctx, SEARCH_PARSE_BAD, "Invalid keyword in search key");
		return NULL;
	}
	for (size_t i = 0; i < N_ELEMENTS(system_flags); i++) {
		if (strcasecmp(s, system_flags[i].name) == 0)
			return flag_key(ctx, system_flags[i].flag, set);
	}
	idx = *s == '\\' || ctx->params->keyword_lookup == NULL
		      ? -1
		      : ctx->params->keyword_lookup(ctx->params->ctx, s);
	if (idx < 0) {
		/* A keyword the mailbox does not have: no message has it. */
		key = new_key(ctx, set ? SEARCH_KEY_NONE : SEARCH_KEY_ALL);
		return key;
	}
	key = new_key(ctx, SEARCH_KEY_KEYWORD);
	if (key == NULL)
		return NULL;
	key->u.keyword = (unsigned int)idx;
	if (set)
		return key;
	struct search_key *not = new_key(ctx, SEARCH_KEY_NOT);

	if (not != NULL)
		not ->children = key;
	return not ;
}

static struct search_key *parse_atom_key(struct parse_ctx *ctx, const char *name,
					 const struct imap_arg *args, size_t argc, size_t *pos,
					 unsigned int depth)
{
	struct search_key *key;
	const struct imap_arg *arg;
	const char *s;
	size_t len;

	if (strcasecmp(name, "ALL") == 0)
		return new_key(ctx, SEARCH_KEY_ALL);
	for (size_t i = 0; i < N_ELEMENTS(flag_keys); i++) {
		if (strcasecmp(name, flag_keys[i].name) == 0)
			return flag_key(ctx, flag_keys[i].flag, flag_keys[i].set);
	}
	if (strcasecmp(name, "NEW") == 0) {
		/* RECENT UNSEEN */
		struct search_key *and = new_key(ctx, SEARCH_KEY_AND);

		if (and == NULL || (and->children = flag_key(ctx, MAIL_RECENT, true)) == NULL ||
		    (and->children->next = flag_key(ctx, MAIL_SEEN, false)) == NULL)
			return NULL;
		return and;
	}
	for (size_t i = 0; i < N_ELEMENTS(header_keys); i++) {
		if (strcasecmp(name, header_keys[i].name) == 0) {
			key = new_key(ctx, SEARCH_KEY_HEADER);
			if (key == NULL || !header_name(ctx, name, strlen(name), key) ||
			    !text_arg(ctx, args, argc, pos, key))
				return NULL;
			return key;
		}
	}
	for (size_t i = 0; i < N_ELEMENTS(date_keys); i++) {
		if (strcasecmp(name, date_keys[i].name) == 0) {
			key = new_key(ctx, date_keys[i].type);
			if (key == NULL || !date_arg(ctx, args, argc, pos, &key->u.day))
				return NULL;
			return key;
		}
	}
	if (strcasecmp(name, "HEADER") == 0) {
		key = new_key(ctx, SEARCH_KEY_HEADER);
		if (key == NULL || (arg = next_arg(ctx, args, argc, pos)) == NULL)
			return NULL;
		if (!imap_arg_get_astring(arg, &s, &len)) {
			(void)fail(ctx, SEARCH_PARSE_BAD, "Invalid header name in search key");
			return NULL;
		}
		if (!header_name(ctx, s, len, key) || !text_arg(ctx, args, argc, pos, key))
			return NULL;
		return key;
	}
	if (strcasecmp(name, "BODY") == 0 || strcasecmp(name, "TEXT") == 0) {
		key = new_key(ctx,
			      strcasecmp(name, "BODY") == 0 ? SEARCH_KEY_BODY : SEARCH_KEY_TEXT);
		if (key == NULL || !text_arg(ctx, args, argc, pos, key))
			return NULL;
		return key;
	}
	if (strcasecmp(name, "KEYWORD") == 0 || strcasecmp(name, "UNKEYWORD") == 0)
		return keyword_key(ctx, args, argc, pos, strcasecmp(name, "KEYWORD") == 0);
	if (strcasecmp(name, "LARGER") == 0 || strcasecmp(name, "SMALLER") == 0) {
		key = new_key(ctx, strcasecmp(name, "LARGER") == 0 ? SEARCH_KEY_LARGER
								   : SEARCH_KEY_SMALLER);
		if (key == NULL || !number_arg(ctx, args, argc, pos, INT64_MAX, &key->u.number))
			return NULL;
		return key;
	}
	if (strcasecmp(name, "OLDER") == 0 || strcasecmp(name, "YOUNGER") == 0) {
		uint64_t secs;

		key = new_key(ctx, strcasecmp(name, "OLDER") == 0 ? SEARCH_KEY_OLDER
								  : SEARCH_KEY_YOUNGER);
		if (key == NULL || !number_arg(ctx, args, argc, pos, UINT32_MAX, &secs))
			return NULL;
		if (secs == 0) {
			(void)fail(ctx, SEARCH_PARSE_BAD, "Invalid interval in search key");
			return NULL;
		}
		/* The boundary as an absolute time, fixed for the command. */
		key->u.number = (uint64_t)((int64_t)ctx->params->now - (int64_t)secs);
		return key;
	}
	if (strcasecmp(name, "MODSEQ") == 0)
		return modseq_key(ctx, args, argc, pos);
	if (strcasecmp(name, "UID") == 0) {
		arg = next_arg(ctx, args, argc, pos);
		if (arg == NULL)
			return NULL;
		if (!imap_arg_get_atom(arg, &s)) {
			(void)fail(ctx, SEARCH_PARSE_BAD, "Invalid UID set in search key");
			return NULL;
		}
		return seqset_key(ctx, s, SEARCH_KEY_UIDSET);
	}
	if (strcasecmp(name, "NOT") == 0) {
		key = new_key(ctx, SEARCH_KEY_NOT);
		if (key == NULL)
			return NULL;
		if (*pos >= argc) {
			(void)fail(ctx, SEARCH_PARSE_BAD, "Missing argument for search key");
			return NULL;
		}
		key->children = parse_key(ctx, args, argc, pos, depth + 1);
		return key->children == NULL ? NULL : key;
	}
	if (strcasecmp(name, "OR") == 0) {
		key = new_key(ctx, SEARCH_KEY_OR);
		if (key == NULL)
			return NULL;
		for (int i = 0; i < 2; i++) {
			struct search_key *child;

			if (*pos >= argc) {
				(void)fail(ctx, SEARCH_PARSE_BAD,
					   "Missing argument for search key");
				return NULL;
			}
			child = parse_key(ctx, args, argc, pos, depth + 1);
			if (child == NULL)
				return NULL;
			if (i == 0)
				key->children = child;
			else
				key->children->next = child;
		}
		return key;
	}
	if ((name[0] >= '0' && name[0] <= '9') || name[0] == '*' || name[0] == '$')
		return seqset_key(ctx, name, SEARCH_KEY_SEQSET);
	(void)fail(ctx, SEARCH_PARSE_BAD, "Unknown search key");
	return NULL;
}

static struct search_key *parse_key(struct parse_ctx *ctx, const struct imap_arg *args, size_t argc,
				    size_t *pos, unsigned int depth)
{
	const struct imap_arg *arg = &args[(*pos)++];
	const struct imap_arg *list;
	size_t count;
	const char *name;

	if (depth > ctx->max_depth) {
		(void)fail(ctx, SEARCH_PARSE_LIMIT,
			   "Search program is nested too deeply (imap_search_max_depth)");
		return NULL;
	}
	/* Keys as the client wrote them: a group, NOT and OR count once. */
	if (++ctx->keys > ctx->max_keys) {
		(void)fail(ctx, SEARCH_PARSE_LIMIT,
			   "Search program has too many keys (imap_search_max_keys)");
		return NULL;
	}
	if (imap_arg_get_list(arg, &list, &count))
		return parse_list(ctx, list, count, depth + 1);
	if (arg->type != IMAP_ARG_ATOM || !imap_arg_get_atom(arg, &name)) {
		(void)fail(ctx, SEARCH_PARSE_BAD, "Invalid search key");
		return NULL;
	}
	return parse_atom_key(ctx, name, args, argc, pos, depth);
}

static enum key_cost key_cost(const struct search_key *key)
{
	enum key_cost cost = COST_RECORD;

	switch (key->type) {
	case SEARCH_KEY_AND:
	case SEARCH_KEY_OR:
	case SEARCH_KEY_NOT:
		for (const struct search_key *c = key->children; c != NULL; c = c->next) {
			enum key_cost cc = key_cost(c);

			if (cc > cost)
				cost = cc;
		}
		return cost;
	case SEARCH_KEY_BEFORE:
	case SEARCH_KEY_ON:
	case SEARCH_KEY_SINCE:
	case SEARCH_KEY_OLDER:
	case SEARCH_KEY_YOUNGER:
		return COST_DATE;
	case SEARCH_KEY_SENTBEFORE:
	case SEARCH_KEY_SENTON:
	case SEARCH_KEY_SENTSINCE:
	case SEARCH_KEY_HEADER:
		return COST_HEADER;
	case SEARCH_KEY_BODY:
	case SEARCH_KEY_TEXT:
		return COST_BODY;
	default:
		return COST_RECORD;
	}
}

/*
 * Orders the children of AND and OR lists by cost (stable), so that the
 * message file is read only when the cheap keys did not decide already;
 * collects BODY and TEXT keys.
 */
static bool finish_tree(struct parse_ctx *ctx, struct search_key *key)
{
	if (key->type == SEARCH_KEY_BODY || key->type == SEARCH_KEY_TEXT) {
		struct search_program *prog = ctx->prog;

		key->body_index = prog->body_key_count;
		prog->body_keys[prog->body_key_count++] = key;
		return true;
	}
	if (key->type != SEARCH_KEY_AND && key->type != SEARCH_KEY_OR &&
	    key->type != SEARCH_KEY_NOT)
		return true;
	if (key->type != SEARCH_KEY_NOT) {
		struct search_key *sorted = NULL;

		for (enum key_cost cost = COST_RECORD; cost <= COST_BODY; cost++) {
			struct search_key **tail = &sorted;

			while (*tail != NULL)
				tail = &(*tail)->next;
			for (struct search_key **p = &key->children; *p != NULL;) {
				struct search_key *c = *p;

				if (key_cost(c) == cost) {
					*p = c->next;
					c->next = NULL;
					*tail = c;
					tail = &c->next;
				} else {
					p = &c->next;
				}
			}
		}
		key->children = sorted;
	}
	for (struct search_key *c = key->children; c != NULL; c = c->next) {
		if (!finish_tree(ctx, c))
			return false;
	}
	return true;
}

static unsigned int count_body_keys(const struct search_key *key)
{
	unsigned int n = key->type == SEARCH_KEY_BODY || key->type == SEARCH_KEY_TEXT ? 1 : 0;

	for (const struct search_key *c = key->children; c != NULL; c = c->next)
		n += count_body_keys(c);
	return n;
}

bool search_charset_is_supported(const char *name)
{
	return strcasecmp(name, "UTF-8") == 0 || strcasecmp(name, "US-ASCII") == 0 ||
	       strcasecmp(name, "UTF8") == 0;
}

enum search_parse_result search_program_parse(struct pool *pool, const struct imap_arg *args,
					      size_t argc, const struct search_parse_params *params,
					      struct search_program *prog_r, const char **error_r)
{
	struct parse_ctx ctx;
	const char *charset;
	size_t len;

	memset(prog_r, 0, sizeof(*prog_r));
	memset(&ctx, 0, sizeof(ctx));
	ctx.pool = pool;
	ctx.params = params;
	ctx.prog = prog_r;
	ctx.max_depth = params->max_depth != 0 ? params->max_depth : SEARCH_DEFAULT_MAX_DEPTH;
	ctx.max_keys = params->max_keys != 0 ? params->max_keys : SEARCH_DEFAULT_MAX_KEYS;
	*error_r = NULL;

	if (params->charset_prefix && argc > 0 && arg_is(&args[0], "CHARSET")) {
		if (params->utf8_accept) {
			*error_r = "CHARSET is not allowed after ENABLE UTF8=ACCEPT";
			return SEARCH_PARSE_BAD;
		}
		if (argc < 2 || !imap_arg_get_astring(&args[1], &charset, &len)) {
			*error_r = "Missing charset name";
			return SEARCH_PARSE_BAD;
		}
		if (!search_charset_is_supported(charset)) {
			*error_r = "Unsupported charset";
			return SEARCH_PARSE_BADCHARSET;
		}
		args += 2;
		argc -= 2;
	}
	if (argc == 0) {
		*error_r = "Missing search program";
		return SEARCH_PARSE_BAD;
	}
	prog_r->root = parse_list(&ctx, args, argc, 0);
	prog_r->key_count = ctx.keys;
	if (prog_r->root == NULL) {
		*error_r = ctx.error != NULL ? ctx.error : "Invalid search program";
		return ctx.error != NULL ? ctx.result : SEARCH_PARSE_BAD;
	}
	unsigned int nbody = count_body_keys(prog_r->root);

	prog_r->body_keys = p_malloc_array(pool, nbody + 1, sizeof(*prog_r->body_keys));
	if (prog_r->body_keys == NULL) {
		*error_r = "Search program is too large";
		return SEARCH_PARSE_LIMIT;
	}
	(void)finish_tree(&ctx, prog_r->root);
	return SEARCH_PARSE_OK;
}

void search_program_free(struct search_program *prog)
{
	for (struct search_key *key = prog->sets; key != NULL; key = key->next_set)
		imap_seqset_clear(&key->u.set);
	prog->sets = NULL;
	prog->root = NULL;
}

bool search_return_parse(const struct imap_arg *list, size_t count, unsigned int *opts_r,
			 const char **error_r)
{
	static const struct {
		const char *name;
		unsigned int opt;
	} names[] = {
		{"MIN", SEARCH_RETURN_MIN},   {"MAX", SEARCH_RETURN_MAX},
		{"ALL", SEARCH_RETURN_ALL},   {"COUNT", SEARCH_RETURN_COUNT},
		{"SAVE", SEARCH_RETURN_SAVE},
	};
	unsigned int opts = 0;

	for (size_t i = 0; i < count; i++) {
		size_t j;

		for (j = 0; j < N_ELEMENTS(names); j++) {
			if (imap_arg_atom_equals(&list[i], names[j].name))
				break;
		}
		if (j == N_ELEMENTS(names)) {
			*error_r = "Unknown search return option";
			return false;
		}
		opts |= names[j].opt;
	}
	/* RETURN () means RETURN (ALL) (RFC 4731 3.1). */
	*opts_r = opts == 0 ? SEARCH_RETURN_ALL : opts;
	return true;
}
