/*
 * roostadm mailbox list|status|create -u USER and roostadm force-resync -u
 * USER: one user's mailboxes, as doveadm shows and changes them. Each runs
 * as the user inside the sandbox of adm/sandbox.c (adm_mail_user_open())
 * and reaches the Maildir only through storage/; names are UTF-8 with '/'
 * between levels. A mask may hold IMAP's wildcards: '*' matches anything,
 * '%' anything but '/'.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm.h"
#include "list-pattern.h"
#include "log.h"
#include "storage/mail-user.h"
#include "storage/mailbox-name.h"
#include "xalloc.h"

enum status_field {
	STATUS_MESSAGES = 0x01,
	STATUS_RECENT = 0x02,
	STATUS_UIDNEXT = 0x04,
	STATUS_UIDVALIDITY = 0x08,
	STATUS_UNSEEN = 0x10,
	STATUS_HIGHESTMODSEQ = 0x20,
	STATUS_VSIZE = 0x40,
};

/* In doveadm's order, which is the order printed whatever was asked. */
static const struct {
	const char *name;
	unsigned int field;
	bool summable; /* allowed with -t */
} status_fields[] = {
	{"messages", STATUS_MESSAGES, true}, {"recent", STATUS_RECENT, true},
	{"uidnext", STATUS_UIDNEXT, false},  {"uidvalidity", STATUS_UIDVALIDITY, false},
	{"unseen", STATUS_UNSEEN, true},     {"highestmodseq", STATUS_HIGHESTMODSEQ, false},
	{"vsize", STATUS_VSIZE, true},
};

/* The mailboxes chosen by masks and names, with what happened to them. */
struct selection {
	struct mailbox_list list;
	bool *done; /* list entries already handled (a name given twice) */
	int ret;
};

typedef int mailbox_callback_t(struct mail_user *mu, const char *name, void *ctx);

static bool mask_has_wildcards(const char *mask)
{
	return strpbrk(mask, "*%") != NULL;
}

/* Whether name matches mask, as IMAP's LIST matches (lib/list-pattern.c:
   time proportional to their lengths whatever the mask, INBOX in any case). */
static bool mask_match(const char *mask, const char *name)
{
	struct list_pattern *pattern = list_pattern_compile(mask, strlen(mask), '/');
	bool match = list_pattern_match(pattern, name, strlen(name));

	list_pattern_free(&pattern);
	return match;
}

/*
 * Prints a name that came from the user's Maildir or subscriptions file:
 * the store validates names, but nothing from there may move the
 * administrator's terminal, so control characters become '?'.
 */
static void print_name(const char *name)
{
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++)
		putchar(*p < 0x20 || *p == 0x7f ? '?' : *p);
}

/* Exit code for a storage error, as doveadm maps them. */
static int error_exit_code(const struct mailbox_error *err)
{
	switch (err->code) {
	case MAILBOX_ERROR_NOT_FOUND:
		return ADM_EXIT_NOTFOUND;
	case MAILBOX_ERROR_EXISTS:
	case MAILBOX_ERROR_NOT_ALLOWED:
		return ADM_EXIT_DATAERR;
	case MAILBOX_ERROR_INVALID_NAME:
		return ADM_EXIT_USAGE;
	default:
		return ADM_EXIT_TEMPFAIL;
	}
}

/*
 * Calls cb for each mailbox that the arguments name: a name without
 * wildcards must exist (else 68), a mask selects the selectable mailboxes
 * it matches, in list order. Each mailbox is handled once. Returns the
 * last failure's exit code, or 0.
 */
static int for_each_mailbox(struct mail_user *mu, char **args, int count, mailbox_callback_t *cb,
			    void *ctx)
{
	struct selection sel = {.ret = ADM_EXIT_OK};
	struct mailbox_error err;

	if (!mailbox_list_get(mu->storage, &sel.list, &err)) {
		log_error("Listing mailboxes failed: %s", err.text);
		return error_exit_code(&err);
	}
	sel.done = i_calloc(sel.list.count + 1, sizeof(*sel.done));
	for (int i = 0; i < count; i++) {
		bool literal = !mask_has_wildcards(args[i]), found = false;

		for (size_t j = 0; j < sel.list.count; j++) {
			const struct mailbox_info *info = &sel.list.infos[j];

			if ((info->flags & (MAILBOX_INFO_NOSELECT | MAILBOX_INFO_NONEXISTENT)) != 0)
				continue;
			if (literal ? (strcmp(info->name, args[i]) != 0 &&
				       !(mailbox_name_is_inbox(args[i]) &&
					 mailbox_name_is_inbox(info->name)))
				    : !mask_match(args[i], info->name))
				continue;
			found = true;
			if (sel.done[j])
				continue;
			sel.done[j] = true;
			int r = cb(mu, info->name, ctx);

			if (r != ADM_EXIT_OK)
				sel.ret = r;
		}
		if (literal && !found) {
			log_error("Mailbox %s: Mailbox doesn't exist: %s", args[i], args[i]);
			sel.ret = ADM_EXIT_NOTFOUND;
		}
	}
	free(sel.done);
	mailbox_list_free(&sel.list);
	return sel.ret;
}

/* Parses "-u USER" plus the command's own flags; NULL user = usage error. */
static const char *parse_user(int argc, char **argv, const char *flags, bool *flag_r)
{
	const char *user = NULL;
	char optstring[16];
	int c;

	(void)str_format(optstring, sizeof(optstring), "+u:%s", flags);
	optind = 1;
	*flag_r = false;
	while ((c = getopt(argc, argv, optstring)) != -1) {
		if (c == 'u')
			user = optarg;
		else if (flags[0] != '\0' && c == flags[0])
			*flag_r = true;
		else
			return NULL;
	}
	return user;
}

/* ---- list ---- */

static int mailbox_cmd_list(struct mail_user *mu, bool subscribed, char **masks, int count)
{
	struct mailbox_list list;
	struct mailbox_error err;

	if (!mailbox_list_get(mu->storage, &list, &err)) {
		log_error("Listing mailboxes failed: %s", err.text);
		return error_exit_code(&err);
	}
	for (size_t i = 0; i < list.count; i++) {
		const struct mailbox_info *info = &list.infos[i];
		bool match = count == 0;

		if (subscribed ? (info->flags & MAILBOX_INFO_SUBSCRIBED) == 0
			       : (info->flags & MAILBOX_INFO_NONEXISTENT) != 0)
			continue;
		for (int j = 0; j < count && !match; j++)
			match = mask_match(masks[j], info->name);
		if (match) {
			print_name(info->name);
			putchar('\n');
		}
	}
	mailbox_list_free(&list);
	return ADM_EXIT_OK;
}

/* ---- status ---- */

struct status_ctx {
	unsigned int fields;
	bool totals;
	struct mailbox_status sum;
};

/* FIELDS: "all" or names separated by spaces, in one argument as doveadm
   takes them. */
static bool status_parse_fields(const char *arg, bool totals, unsigned int *fields_r)
{
	char word[32];
	bool ok = true;

	*fields_r = 0;
	for (const char *p = arg; *p != '\0' && ok;) {
		size_t len = strcspn(p, " ");
		bool known = false;

		if (len == 0) {
			p++;
			continue;
		}
		if (!str_copy_n(word, sizeof(word), p, len)) {
			log_error("Unknown status field: %.*s", (int)len, p);
			return false;
		}
		p += len;

		for (size_t i = 0; i < N_ELEMENTS(status_fields); i++) {
			if (strcmp(word, "all") == 0) {
				if (!totals || status_fields[i].summable)
					*fields_r |= status_fields[i].field;
				known = true;
			} else if (strcmp(word, status_fields[i].name) == 0) {
				if (totals && !status_fields[i].summable) {
					log_error("Status field %s can't be used with -t", word);
					ok = false;
				}
				*fields_r |= status_fields[i].field;
				known = true;
			}
		}
		if (!known && ok) {
			log_error("Unknown status field: %s", word);
			ok = false;
		}
	}
	return ok && *fields_r != 0;
}

static void status_print(unsigned int fields, const struct mailbox_status *st)
{
	const uint64_t values[] = {st->messages, st->recent,	     st->uidnext, st->uidvalidity,
				   st->unseen,	 st->highest_modseq, st->vsize};
	bool first = true;

	for (size_t i = 0; i < N_ELEMENTS(status_fields); i++) {
		if ((fields & status_fields[i].field) == 0)
			continue;
		printf("%s%s=%llu", first ? "" : " ", status_fields[i].name,
		       (unsigned long long)values[i]);
		first = false;
	}
	printf("\n");
}

static int status_one(struct mail_user *mu, const char *name, void *_ctx)
{
	struct status_ctx *ctx = _ctx;
	struct mailbox_status st;
	struct mailbox_error err;

	if (!mailbox_status_peek(mu->storage, name, &st, &err)) {
		log_error("Mailbox %s: Failed to lookup mailbox status: %s", name, err.text);
		return error_exit_code(&err);
	}
	if (ctx->totals) {
		ctx->sum.messages += st.messages;
		ctx->sum.recent += st.recent;
		ctx->sum.unseen += st.unseen;
		ctx->sum.vsize += st.vsize;
		return ADM_EXIT_OK;
	}
	print_name(name);
	putchar(' ');
	status_print(ctx->fields, &st);
	return ADM_EXIT_OK;
}

/* ---- create ---- */

static int mailbox_cmd_create(struct mail_user *mu, bool subscribe, char **names, int count)
{
	struct mailbox_error err;
	int ret = ADM_EXIT_OK;

	for (int i = 0; i < count; i++) {
		if (!mailbox_create(mu->storage, names[i], &err) ||
		    (subscribe && !mailbox_subscribe(mu->storage, names[i], true, &err))) {
			log_error("Can't create mailbox %s: %s", names[i],
				  err.code == MAILBOX_ERROR_EXISTS ? "Mailbox already exists"
								   : err.text);
			ret = error_exit_code(&err);
		}
	}
	return ret;
}

/* ---- force-resync ---- */

static int resync_one(struct mail_user *mu, const char *name, void *ctx)
{
	struct mailbox *box;
	struct mailbox_error err;
	bool ok;

	(void)ctx;
	/* Read-only: the index and dovecot-uidlist are rebuilt and rewritten,
	   but no message file is moved or renamed. */
	if (!mailbox_open(mu->storage, name, MAILBOX_OPEN_READONLY, &box, &err)) {
		log_error("Mailbox %s: force-resync failed: %s", name, err.text);
		return error_exit_code(&err);
	}
	ok = mailbox_sync(box, MAILBOX_SYNC_FORCE_SCAN, NULL, &err);
	mailbox_close(&box);
	if (!ok) {
		log_error("Mailbox %s: force-resync failed: %s", name, err.text);
		return error_exit_code(&err);
	}
	return ADM_EXIT_OK;
}

int cmd_force_resync(struct adm_context *ctx, int argc, char **argv)
{
	struct mail_user mu;
	const char *user;
	bool unused;
	int ret;

	user = parse_user(argc, argv, "", &unused);
	if (user == NULL || optind == argc)
		return ADM_EXIT_USAGE;
	ret = adm_mail_user_open(ctx, user, &mu);
	if (ret != ADM_EXIT_OK)
		return ret;
	ret = for_each_mailbox(&mu, argv + optind, argc - optind, resync_one, NULL);
	mail_user_deinit(&mu);
	return ret;
}

int cmd_mailbox(struct adm_context *ctx, int argc, char **argv)
{
	struct status_ctx sctx;
	struct mail_user mu;
	const char *cmd, *user;
	bool flag;
	int ret;

	if (argc < 2)
		return ADM_EXIT_USAGE;
	cmd = argv[1];
	argc--;
	argv++;
	memset(&sctx, 0, sizeof(sctx));
	if (strcmp(cmd, "list") == 0) {
		user = parse_user(argc, argv, "s", &flag);
	} else if (strcmp(cmd, "status") == 0) {
		user = parse_user(argc, argv, "t", &sctx.totals);
		/* FIELDS, then at least one mailbox or mask. */
		if (user != NULL && argc - optind < 2)
			return ADM_EXIT_USAGE;
		if (user != NULL && !status_parse_fields(argv[optind++], sctx.totals, &sctx.fields))
			return ADM_EXIT_USAGE;
	} else if (strcmp(cmd, "create") == 0) {
		user = parse_user(argc, argv, "s", &flag);
		if (user != NULL && optind == argc)
			return ADM_EXIT_USAGE;
	} else {
		return ADM_EXIT_USAGE;
	}
	if (user == NULL)
		return ADM_EXIT_USAGE;
	ret = adm_mail_user_open(ctx, user, &mu);
	if (ret != ADM_EXIT_OK)
		return ret;
	if (strcmp(cmd, "list") == 0) {
		ret = mailbox_cmd_list(&mu, flag, argv + optind, argc - optind);
	} else if (strcmp(cmd, "create") == 0) {
		ret = mailbox_cmd_create(&mu, flag, argv + optind, argc - optind);
	} else {
		ret = for_each_mailbox(&mu, argv + optind, argc - optind, status_one, &sctx);
		if (sctx.totals)
			status_print(sctx.fields, &sctx.sum);
	}
	mail_user_deinit(&mu);
	return ret;
}
