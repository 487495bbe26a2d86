/*
 * LIST and LSUB (RFC 3501 6.3.8-9, RFC 9051 6.3.9) with LIST-EXTENDED
 * (RFC 5258: selection SUBSCRIBED REMOTE RECURSIVEMATCH, return SUBSCRIBED
 * CHILDREN), SPECIAL-USE (RFC 6154, attributes from the configuration),
 * LIST-STATUS (RFC 5819) and CHILDREN. Patterns arrive in the client's
 * encoding (modified UTF-7, or UTF-8 after UTF8=ACCEPT) and are matched on
 * decoded names, so "*&ZeVnLIqe-" finds a name ending in Japanese text;
 * a pattern that does not decode is matched on the encoded names instead.
 */
#include <stdlib.h>
#include <string.h>

#include "imap.h"
#include "list-pattern.h"
#include "storage/mailbox-name.h"
#include "storage/mutf7.h"
#include "xalloc.h"

enum list_option {
	LIST_SEL_SUBSCRIBED = 0x01,
	LIST_SEL_REMOTE = 0x02,
	LIST_SEL_RECURSIVE = 0x04,
	LIST_SEL_SPECIAL_USE = 0x08,
	LIST_RET_SUBSCRIBED = 0x10,
	LIST_RET_CHILDREN = 0x20,
	LIST_RET_SPECIAL_USE = 0x40,
	LIST_RET_STATUS = 0x80,
};

/* Longest client form of a storage name (mUTF-7 of MAILBOX_NAME_MAX bytes). */
#define MAILBOX_NAME_MAX_WIRE 1024
/* Output is handed to the connection in pieces of about this size. */
#define LIST_FLUSH_SIZE (64 * 1024)

struct list_entry {
	char *name; /* storage name */
	char *wire; /* the client's encoding, unquoted */
	unsigned int flags;
	const char *special;
	bool matched, meets, childinfo, listed;
};

struct list_ctx {
	struct imap_cmd *cmd;
	struct imap_client *client;
	bool lsub, extended;
	unsigned int opts;
	unsigned int status_items;
	struct list_pattern *patterns[LIST_PATTERNS_MAX];
	bool raw[LIST_PATTERNS_MAX]; /* matched against wire names */
	size_t pattern_count;
	struct list_entry *entries;
	size_t count, alloc;
};

static const struct {
	const char *name;
	unsigned int opt;
} selection_options[] = {
	{"SUBSCRIBED", LIST_SEL_SUBSCRIBED | LIST_RET_SUBSCRIBED},
	{"REMOTE", LIST_SEL_REMOTE},
	{"RECURSIVEMATCH", LIST_SEL_RECURSIVE},
	{"SPECIAL-USE", LIST_SEL_SPECIAL_USE | LIST_RET_SPECIAL_USE},
};

static const struct {
	const char *name;
	unsigned int opt;
} return_options[] = {
	{"SUBSCRIBED", LIST_RET_SUBSCRIBED},
	{"CHILDREN", LIST_RET_CHILDREN},
	{"SPECIAL-USE", LIST_RET_SPECIAL_USE},
};

static bool parse_selection(struct list_ctx *ctx, const struct imap_arg *arg)
{
	const struct imap_arg *list;
	size_t count;

	if (!imap_arg_get_list(arg, &list, &count))
		return false;
	for (size_t i = 0; i < count; i++) {
		size_t j;

		for (j = 0; j < N_ELEMENTS(selection_options); j++) {
			if (imap_arg_atom_equals(&list[i], selection_options[j].name))
				break;
		}
		if (j == N_ELEMENTS(selection_options))
			return false;
		ctx->opts |= selection_options[j].opt;
	}
	/* RFC 5258 3: RECURSIVEMATCH needs another selection option that
	   is not REMOTE. */
	return (ctx->opts & LIST_SEL_RECURSIVE) == 0 ||
	       (ctx->opts & (LIST_SEL_SUBSCRIBED | LIST_SEL_SPECIAL_USE)) != 0;
}

static bool parse_return(struct list_ctx *ctx, const struct imap_arg *arg)
{
	const struct imap_arg *list, *items;
	size_t count, nitems;

	if (!imap_arg_get_list(arg, &list, &count))
		return false;
	for (size_t i = 0; i < count; i++) {
		size_t j;

		if (imap_arg_atom_equals(&list[i], "STATUS")) {
			/* RFC 5819: STATUS (items) */
			if (i + 1 >= count || !imap_arg_get_list(&list[i + 1], &items, &nitems) ||
			    !imap_status_parse(ctx->client, items, nitems, &ctx->status_items))
				return false;
			ctx->opts |= LIST_RET_STATUS;
			i++;
			continue;
		}
		for (j = 0; j < N_ELEMENTS(return_options); j++) {
			if (imap_arg_atom_equals(&list[i], return_options[j].name))
				break;
		}
		if (j == N_ELEMENTS(return_options))
			return false;
		ctx->opts |= return_options[j].opt;
	}
	return true;
}

/* Adds one reference + pattern; false (BAD) when it is too long. */
static bool add_pattern(struct list_ctx *ctx, const char *ref, size_t ref_len, const char *pat,
			size_t pat_len)
{
	struct buf combined = BUF_INIT(LIST_PATTERN_MAX), decoded = BUF_INIT(LIST_PATTERN_MAX * 4);
	bool raw = true;

	if (ctx->pattern_count == LIST_PATTERNS_MAX ||
	    !list_pattern_combine(ref, ref_len, pat, pat_len, '/', &combined)) {
		buf_free(&combined);
		return false;
	}
	if ((ctx->client->enabled & IMAP_ENABLED_UTF8) == 0 &&
	    mutf7_to_utf8(buf_cstr(&combined), buf_len(&combined), &decoded) == MUTF7_OK)
		raw = false;
	ctx->raw[ctx->pattern_count] = raw;
	ctx->patterns[ctx->pattern_count++] =
		raw ? list_pattern_compile(buf_cstr(&combined), buf_len(&combined), '/')
		    : list_pattern_compile(buf_cstr(&decoded), buf_len(&decoded), '/');
	buf_free(&combined);
	buf_free(&decoded);
	return true;
}

static ssize_t entry_find(const struct list_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < ctx->count; i++) {
		if (strcmp(ctx->entries[i].name, name) == 0)
			return (ssize_t)i;
	}
	return -1;
}

static size_t entry_add(struct list_ctx *ctx, const char *name, unsigned int flags)
{
	struct list_entry *e;
	struct buf wire = BUF_INIT(MAILBOX_NAME_MAX_WIRE);

	if (ctx->count == ctx->alloc) {
		ctx->alloc = ctx->alloc == 0 ? 64 : ctx->alloc * 2;
		ctx->entries = i_realloc_array(ctx->entries, ctx->alloc, sizeof(*ctx->entries));
	}
	e = &ctx->entries[ctx->count];
	memset(e, 0, sizeof(*e));
	e->name = i_strdup(name);
	imap_mailbox_name_wire(ctx->client, name, &wire);
	e->wire = i_strdup(buf_cstr(&wire));
	buf_free(&wire);
	e->flags = flags;
	if ((flags & (MAILBOX_INFO_NONEXISTENT | MAILBOX_INFO_NOSELECT)) == 0)
		e->special = imap_mailbox_special_use(ctx->client, name);
	for (size_t i = 0; i < ctx->pattern_count && !e->matched; i++) {
		const char *s = ctx->raw[i] ? e->wire : e->name;

		e->matched = list_pattern_match(ctx->patterns[i], s, strlen(s));
	}
	return ctx->count++;
}

static bool entry_meets(const struct list_ctx *ctx, const struct list_entry *e)
{
	if (ctx->lsub || (ctx->opts & LIST_SEL_SUBSCRIBED) != 0) {
		if ((e->flags & MAILBOX_INFO_SUBSCRIBED) == 0)
			return false;
	} else if ((e->flags & MAILBOX_INFO_NONEXISTENT) != 0) {
		return false;
	}
	if ((ctx->opts & LIST_SEL_SPECIAL_USE) != 0 && e->special == NULL)
		return false;
	return true;
}

/*
 * RFC 3501 6.3.9 and RFC 5258 3: a name that meets the selection but does
 * not match the pattern makes each of its matching ancestors appear (LSUB:
 * as \Noselect; RECURSIVEMATCH: with CHILDINFO).
 */
static void mark_ancestors(struct list_ctx *ctx, size_t idx)
{
	char parent[MAILBOX_NAME_MAX_WIRE];
	char *slash;

	if (!str_copy(parent, sizeof(parent), ctx->entries[idx].name))
		return;
	while ((slash = strrchr(parent, '/')) != NULL) {
		ssize_t j;

		*slash = '\0';
		j = entry_find(ctx, parent);
		if (j < 0)
			j = (ssize_t)entry_add(ctx, parent, MAILBOX_INFO_NONEXISTENT);
		if (ctx->entries[j].matched) {
			ctx->entries[j].childinfo = true;
			ctx->entries[j].listed = true;
		}
	}
}

static int entry_cmp(const void *a, const void *b)
{
	const struct list_entry *x = a, *y = b;
	bool xi = strcmp(x->name, "INBOX") == 0, yi = strcmp(y->name, "INBOX") == 0;

	if (xi != yi)
		return xi ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void write_attributes(const struct list_ctx *ctx, const struct list_entry *e,
			     struct buf *out)
{
	bool extended = ctx->extended;
	bool children = !extended || (ctx->opts & LIST_RET_CHILDREN) != 0;
	bool special = !extended || (ctx->opts & LIST_RET_SPECIAL_USE) != 0;
	size_t start;

	(void)buf_append_c(out, '(');
	start = buf_len(out);
	if (ctx->lsub) {
		if ((e->flags & MAILBOX_INFO_SUBSCRIBED) == 0)
			(void)buf_append_str(out, "\\Noselect ");
	} else {
		if ((ctx->opts & LIST_RET_SUBSCRIBED) != 0 &&
		    (e->flags & MAILBOX_INFO_SUBSCRIBED) != 0)
			(void)buf_append_str(out, "\\Subscribed ");
		if ((e->flags & MAILBOX_INFO_NONEXISTENT) != 0)
			(void)buf_append_str(out, extended ? "\\NonExistent " : "\\Noselect ");
		else if ((e->flags & MAILBOX_INFO_NOSELECT) != 0)
			(void)buf_append_str(out, "\\Noselect ");
		if (children && (e->flags & MAILBOX_INFO_NONEXISTENT) == 0) {
			if ((e->flags & MAILBOX_INFO_HAS_CHILDREN) != 0)
				(void)buf_append_str(out, "\\HasChildren ");
			else if ((e->flags & MAILBOX_INFO_HAS_NO_CHILDREN) != 0)
				(void)buf_append_str(out, "\\HasNoChildren ");
		}
		if (special && e->special != NULL)
			(void)buf_printf(out, "%s ", e->special);
	}
	if (buf_len(out) > start)
		buf_truncate(out, buf_len(out) - 1);
	(void)buf_append_str(out, ") \"/\" ");
}

static void write_entry(struct list_ctx *ctx, const struct list_entry *e, struct buf *out)
{
	struct mailbox_error err;

	(void)buf_printf(out, "* %s ", ctx->lsub ? "LSUB" : "LIST");
	write_attributes(ctx, e, out);
	imap_mailbox_name_write(ctx->client, e->name, out);
	if (!ctx->lsub && e->childinfo && (ctx->opts & LIST_SEL_RECURSIVE) != 0 &&
	    (ctx->opts & LIST_SEL_SUBSCRIBED) != 0)
		(void)buf_append_str(out, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
	(void)buf_append_str(out, "\r\n");
	if ((ctx->opts & LIST_RET_STATUS) != 0 &&
	    (e->flags & (MAILBOX_INFO_NOSELECT | MAILBOX_INFO_NONEXISTENT)) == 0) {
		size_t mark = buf_len(out);

		/* RFC 5819: a mailbox whose status cannot be had gets none. */
		if (!imap_status_write(ctx->client, e->name, ctx->status_items, out, &err))
			buf_truncate(out, mark);
	}
}

static bool list_parse(struct list_ctx *ctx, const char **error_r)
{
	const struct imap_arg *args = ctx->cmd->args, *pats;
	size_t argc = ctx->cmd->argc, i = 0, npats;
	const char *ref, *pat;
	size_t ref_len, pat_len;

	*error_r = "BAD Invalid arguments.";
	if (!ctx->lsub && argc > 0 && args[0].type == IMAP_ARG_LIST) {
		ctx->extended = true;
		if (!parse_selection(ctx, &args[0])) {
			*error_r = "BAD Invalid LIST selection options.";
			return false;
		}
		i++;
	}
	if (i + 2 > argc || !imap_arg_get_astring(&args[i], &ref, &ref_len))
		return false;
	i++;
	if (!ctx->lsub && args[i].type == IMAP_ARG_LIST) {
		ctx->extended = true;
		(void)imap_arg_get_list(&args[i], &pats, &npats);
		if (npats == 0)
			return false;
	} else {
		pats = &args[i];
		npats = 1;
	}
	i++;
	for (size_t j = 0; j < npats; j++) {
		if (!imap_arg_get_astring(&pats[j], &pat, &pat_len))
			return false;
		if (!add_pattern(ctx, ref, ref_len, pat, pat_len)) {
			*error_r = "BAD LIST pattern too long, or too many patterns.";
			return false;
		}
	}
	if (i < argc) {
		ctx->extended = true;
		if (ctx->lsub || i + 2 != argc || !imap_arg_atom_equals(&args[i], "RETURN") ||
		    !parse_return(ctx, &args[i + 1])) {
			*error_r = "BAD Invalid LIST return options.";
			return false;
		}
	}
	/* "LIST ref """: the hierarchy separator and the root. */
	if (!ctx->extended && pat_len == 0) {
		*error_r = NULL;
		return false;
	}
	return true;
}

static void list_free(struct list_ctx *ctx)
{
	for (size_t i = 0; i < ctx->pattern_count; i++)
		list_pattern_free(&ctx->patterns[i]);
	for (size_t i = 0; i < ctx->count; i++) {
		free(ctx->entries[i].name);
		free(ctx->entries[i].wire);
	}
	free(ctx->entries);
}

static void list_run(struct imap_cmd *cmd, bool lsub)
{
	struct imap_client *client = cmd->client;
	struct list_ctx ctx;
	struct mailbox_list list;
	struct mailbox_error err;
	struct buf out = BUF_INIT(16 * 1024 * 1024);
	const char *error;
	size_t initial;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cmd = cmd;
	ctx.client = client;
	ctx.lsub = lsub;
	if (!list_parse(&ctx, &error)) {
		list_free(&ctx);
		if (error != NULL) {
			imap_cmd_reply(cmd, error);
			return;
		}
		if (!lsub)
			imap_client_printf(client, "* LIST (\\Noselect) \"/\" \"\"\r\n");
		imap_cmd_ok(cmd, lsub ? "Lsub completed." : "List completed.");
		return;
	}
	if (!mailbox_list_get(client->mp->user.storage, &list, &err)) {
		list_free(&ctx);
		imap_cmd_storage_error(cmd, &err);
		return;
	}
	for (size_t i = 0; i < list.count; i++)
		(void)entry_add(&ctx, list.infos[i].name, list.infos[i].flags);
	mailbox_list_free(&list);
	initial = ctx.count;
	for (size_t i = 0; i < initial; i++) {
		struct list_entry *e = &ctx.entries[i];

		e->meets = entry_meets(&ctx, e);
		if (e->meets && e->matched)
			e->listed = true;
	}
	if (lsub || (ctx.opts & LIST_SEL_RECURSIVE) != 0) {
		for (size_t i = 0; i < initial; i++) {
			if (ctx.entries[i].meets && !ctx.entries[i].matched)
				mark_ancestors(&ctx, i);
		}
	}
	qsort(ctx.entries, ctx.count, sizeof(*ctx.entries), entry_cmp);
	for (size_t i = 0; i < ctx.count; i++) {
		if (!ctx.entries[i].listed)
			continue;
		write_entry(&ctx, &ctx.entries[i], &out);
		if (buf_len(&out) >= LIST_FLUSH_SIZE) {
			imap_client_send(client, buf_data(&out), buf_len(&out));
			buf_reset(&out);
		}
	}
	imap_client_send(client, buf_data(&out), buf_len(&out));
	buf_free(&out);
	list_free(&ctx);
	imap_cmd_ok(cmd, lsub ? "Lsub completed." : "List completed.");
}

void cmd_list(struct imap_cmd *cmd)
{
	list_run(cmd, false);
}

void cmd_lsub(struct imap_cmd *cmd)
{
	list_run(cmd, true);
}
