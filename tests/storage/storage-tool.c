/*
 * A command-line window onto the mail store for scripted tests (built by
 * dovecot-compat.py against build/test's libraries): dumps what roost sees
 * in a Maildir and performs saves, flag changes, expunges, creates and
 * subscriptions. Runs as a plain tool; trusts its arguments.
 *
 *   storage-tool ROOT dump BOX
 *   storage-tool ROOT save BOX "FLAGS" FILE      (prints the UID)
 *   storage-tool ROOT store BOX UID "FLAGS"      (replaces flags)
 *   storage-tool ROOT expunge BOX UID
 *   storage-tool ROOT create BOX
 *   storage-tool ROOT subscribe BOX
 *   storage-tool ROOT list
 *
 * FLAGS is an IMAP flag list without parentheses: "\Seen $Junk".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mailbox.h"

static struct mail_storage *storage;

static void die(const char *what, const struct mailbox_error *err)
{
	fprintf(stderr, "%s: %s (%s)\n", what, err->text, mailbox_error_code_name(err->code));
	exit(1);
}

static struct mailbox *open_box(const char *name, unsigned int flags)
{
	struct mailbox *box;
	struct mailbox_error err;

	if (!mailbox_open(storage, name, flags, &box, &err))
		die("open", &err);
	return box;
}

static void parse_flags(struct mailbox *box, const char *text, uint32_t *flags_r,
			uint32_t *keywords_r)
{
	static const struct {
		const char *name;
		uint32_t flag;
	} sys[] = {{"\\Seen", MAIL_SEEN},
		   {"\\Answered", MAIL_ANSWERED},
		   {"\\Flagged", MAIL_FLAGGED},
		   {"\\Deleted", MAIL_DELETED},
		   {"\\Draft", MAIL_DRAFT}};
	char *copy = strdup(text), *save = NULL;

	*flags_r = 0;
	*keywords_r = 0;
	for (char *tok = strtok_r(copy, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		bool found = false;
		struct mailbox_error err;
		unsigned int idx;

		for (size_t i = 0; i < N_ELEMENTS(sys); i++) {
			if (strcasecmp(tok, sys[i].name) == 0) {
				*flags_r |= sys[i].flag;
				found = true;
			}
		}
		if (found)
			continue;
		if (!mailbox_keyword_add(box, tok, &idx, &err))
			die("keyword", &err);
		*keywords_r |= 1U << idx;
	}
	free(copy);
}

static void print_flags(const struct mailbox *box, const struct mail_record *rec)
{
	static const char *const names[] = {"\\Seen", "\\Answered", "\\Flagged", "\\Deleted",
					    "\\Draft"};
	bool first = true;

	for (int i = 0; i < 5; i++) {
		if ((rec->flags & (1U << i)) != 0) {
			printf("%s%s", first ? "" : " ", names[i]);
			first = false;
		}
	}
	for (unsigned int k = 0; k < MAIL_KEYWORDS_MAX; k++) {
		const char *kw = mailbox_keyword_name(box, k);

		if ((rec->keywords & (1U << k)) != 0 && kw != NULL) {
			printf("%s%s", first ? "" : " ", kw);
			first = false;
		}
	}
}

int main(int argc, char **argv)
{
	struct mail_storage_settings set = {0};
	struct mailbox_error err;
	struct mailbox *box;
	char loc[4096];

	if (argc < 3) {
		fprintf(stderr, "usage: storage-tool ROOT COMMAND [ARGS]\n");
		return 2;
	}
	log_init_stderr("storage-tool");
	snprintf(loc, sizeof(loc), "maildir:%s", argv[1]);
	set.mail_location = loc;
	set.user = "tester";
	if (!mail_storage_create(&set, &storage, &err))
		die("storage", &err);
	if (strcmp(argv[2], "dump") == 0 && argc == 4) {
		box = open_box(argv[3], MAILBOX_OPEN_READONLY);
		printf("UIDVALIDITY %u\nUIDNEXT %u\n", mailbox_uidvalidity(box),
		       mailbox_next_uid(box));
		for (uint32_t seq = 1; seq <= mailbox_count(box); seq++) {
			const struct mail_record *rec = mailbox_record(box, seq);

			printf("MSG %u %llu (", rec->uid, (unsigned long long)rec->vsize);
			print_flags(box, rec);
			printf(")\n");
		}
		mailbox_close(&box);
	} else if (strcmp(argv[2], "save") == 0 && argc == 6) {
		struct mailbox_save_params params = {0};
		struct mailbox_save *save;
		char buf[65536];
		size_t n;
		uint32_t uid;
		FILE *f = fopen(argv[5], "rb");

		if (f == NULL) {
			perror(argv[5]);
			return 1;
		}
		box = open_box(argv[3], MAILBOX_OPEN_SAVE_ONLY);
		params.internal_date = INDEX_DATE_UNKNOWN;
		parse_flags(box, argv[4], &params.flags, &params.keywords);
		if (!mailbox_save_begin(box, &params, &save, &err))
			die("save", &err);
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
			if (!mailbox_save_write(save, buf, n, &err))
				die("save", &err);
		}
		fclose(f);
		if (!mailbox_save_finish(&save, &uid, &err))
			die("save", &err);
		printf("%u\n", uid);
		mailbox_close(&box);
	} else if (strcmp(argv[2], "store") == 0 && argc == 6) {
		uint32_t uid = (uint32_t)strtoul(argv[4], NULL, 10), flags, keywords;
		struct mailbox_update_result res;

		box = open_box(argv[3], 0);
		parse_flags(box, argv[5], &flags, &keywords);
		if (!mailbox_update_flags(box, &uid, 1, MAILBOX_FLAGS_REPLACE, flags, keywords, 0,
					  &res, &err))
			die("store", &err);
		mailbox_close(&box);
	} else if (strcmp(argv[2], "expunge") == 0 && argc == 5) {
		uint32_t uid = (uint32_t)strtoul(argv[4], NULL, 10);

		box = open_box(argv[3], 0);
		if (!mailbox_expunge(box, &uid, 1, &err))
			die("expunge", &err);
		mailbox_close(&box);
	} else if (strcmp(argv[2], "create") == 0 && argc == 4) {
		if (!mailbox_create(storage, argv[3], &err))
			die("create", &err);
	} else if (strcmp(argv[2], "subscribe") == 0 && argc == 4) {
		if (!mailbox_subscribe(storage, argv[3], true, &err))
			die("subscribe", &err);
	} else if (strcmp(argv[2], "list") == 0 && argc == 3) {
		struct mailbox_list list;

		if (!mailbox_list_get(storage, &list, &err))
			die("list", &err);
		for (size_t i = 0; i < list.count; i++) {
			const struct mailbox_info *info = &list.infos[i];

			printf("LIST %s%s%s%s\n", info->name,
			       (info->flags & MAILBOX_INFO_NOSELECT) != 0 ? " \\Noselect" : "",
			       (info->flags & MAILBOX_INFO_SUBSCRIBED) != 0 ? " \\Subscribed" : "",
			       (info->flags & MAILBOX_INFO_NONEXISTENT) != 0 ? " \\NonExistent"
									     : "");
		}
		mailbox_list_free(&list);
	} else {
		fprintf(stderr, "bad command\n");
		return 2;
	}
	mail_storage_destroy(&storage);
	return 0;
}
