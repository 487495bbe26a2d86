/*
 * Unit tests for the sequence-set helper other IMAP commands use
 * (imap_seqset_resolve_client in imap/search-run.c), SEARCHRES's saved
 * result (RFC 5182) and a search over a real Maildir through the mailbox
 * source: "$" before and after a save, after expunges, in UID and sequence
 * form, and plain sets with "*" on full and empty mailboxes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/search-run.h"
#include "pool.h"

static char base[64];
static char root[128];

static int setup(void **state)
{
	(void)state;
	(void)str_copy(base, sizeof(base), "/tmp/roost-test-searchres.XXXXXX");
	if (mkdtemp(base) == NULL)
		return -1;
	(void)str_format(root, sizeof(root), "%s/root", base);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	(void)str_format(cmd, sizeof(cmd), "rm -rf %s", base);
	return system(cmd) == 0 ? 0 : -1;
}

static struct mail_storage *storage_new(void)
{
	struct mail_storage_settings set = {0};
	struct mail_storage *storage;
	struct mailbox_error err;
	char loc[512];

	(void)str_format(loc, sizeof(loc), "maildir:%s", root);
	set.mail_location = loc;
	set.user = "jdoe@example.com";
	set.home = base;
	set.hostname = "test.example";
	set.fsync = MAIL_FSYNC_NEVER;
	set.lock_timeout_secs = 5;
	if (!mail_storage_create(&set, &storage, &err))
		fail_msg("storage: %s", err.text);
	return storage;
}

static uint32_t save(struct mailbox *box, const char *data)
{
	struct mailbox_save_params params = {0};
	struct mailbox_save *s;
	struct mailbox_error err;
	uint32_t uid;

	params.internal_date = INDEX_DATE_UNKNOWN;
	assert_true(mailbox_save_begin(box, &params, &s, &err));
	assert_true(mailbox_save_write(s, data, strlen(data), &err));
	assert_true(mailbox_save_finish(&s, &uid, &err));
	return uid;
}

static const char *set_text(const struct imap_seqset *set)
{
	static char text[256];
	struct buf out = BUF_INIT(sizeof(text) - 1);

	if (set->count == 0)
		return "";
	assert_true(imap_seqset_write(&out, set));
	(void)str_copy(text, sizeof(text), buf_cstr(&out));
	buf_free(&out);
	return text;
}

static const char *resolve(struct imap_client *client, const char *str, bool uid,
			   enum imap_seqset_error want)
{
	struct imap_seqset out;
	const char *error = NULL;
	const char *text;

	imap_seqset_init(&out);
	assert_int_equal(imap_seqset_resolve_client(client, str, strlen(str), uid, &out, &error),
			 want);
	if (want != IMAP_SEQSET_OK)
		assert_non_null(error);
	text = set_text(&out);
	imap_seqset_clear(&out);
	return text;
}

/* Searches the mailbox with a program; the matches as "1,3:4". */
static const char *search(struct imap_client *client, const char *program)
{
	static char text[256];
	struct imap_parser_limits limits;
	struct imap_parser *parser;
	struct imap_parse_event ev;
	struct search_parse_params params;
	struct search_program prog;
	struct pool *pool = pool_create(1024 * 1024);
	struct imap_seqset set;
	struct mailbox_error err;
	char line[512];
	const char *error;
	uint32_t *seqs;
	uint64_t highest;
	size_t consumed, count;

	imap_parser_limits_default(&limits);
	parser = imap_parser_create(&limits);
	(void)str_format(line, sizeof(line), "a SEARCH %s\r\n", program);
	assert_int_equal(imap_parser_parse(parser, line, strlen(line), &consumed, &ev),
			 IMAP_PARSE_COMMAND);
	memset(&params, 0, sizeof(params));
	assert_int_equal(
		search_program_parse(pool, ev.cmd->args, ev.cmd->argc, &params, &prog, &error),
		SEARCH_PARSE_OK);
	/* Sets are resolved as SEARCH does it, through the command layer's
	   helper for "$"; the rest of the program matches through the real
	   mailbox source. */
	for (struct search_key *k = prog.sets; k != NULL; k = k->next_set) {
		struct imap_seqset out;

		imap_seqset_init(&out);
		if (k->u.set.saved) {
			assert_int_equal(imap_seqset_resolve_client(client, "$", 1,
								    k->type == SEARCH_KEY_UIDSET,
								    &out, &error),
					 IMAP_SEQSET_OK);
		} else {
			struct buf b = BUF_INIT(1024);

			assert_true(imap_seqset_write(&b, &k->u.set));
			assert_int_equal(imap_seqset_resolve_client(
						 client, buf_cstr(&b), buf_len(&b),
						 k->type == SEARCH_KEY_UIDSET, &out, &error),
					 IMAP_SEQSET_OK);
			buf_free(&b);
		}
		imap_seqset_clear(&k->u.set);
		k->u.set = out;
	}
	assert_true(imap_search_execute(client, &prog, &seqs, &count, &highest, &err));
	imap_seqset_init(&set);
	for (size_t i = 0; i < count; i++)
		imap_seqset_add(&set, seqs[i]);
	(void)str_copy(text, sizeof(text), set_text(&set));
	imap_seqset_clear(&set);
	free(seqs);
	search_program_free(&prog);
	pool_destroy(&pool);
	imap_parser_destroy(&parser);
	return text;
}

static void test_resolve_and_saved(void **state)
{
	struct mail_storage *storage = storage_new();
	struct imap_client client;
	struct mailbox_error err;
	uint32_t uids[6];
	uint32_t seqs[3] = {2, 4, 5};

	(void)state;
	memset(&client, 0, sizeof(client));
	assert_true(mailbox_open(storage, "INBOX", 0, &client.box, &err));

	/* Empty mailbox: "*" has nothing to stand for in sequence numbers;
	   as a UID it is UIDNEXT, which no message has. */
	assert_string_equal(resolve(&client, "*", false, IMAP_SEQSET_OUT_OF_RANGE), "");
	assert_string_equal(resolve(&client, "*", true, IMAP_SEQSET_OK), "1");
	assert_string_equal(resolve(&client, "$", false, IMAP_SEQSET_OK), "");

	for (int i = 0; i < 6; i++) {
		char msg[128];

		(void)str_format(msg, sizeof(msg), "Subject: m%d\r\n\r\nbody %s\r\n", i + 1,
				 i % 2 == 0 ? "even" : "odd");
		uids[i] = save(client.box, msg);
	}
	assert_true(mailbox_sync(client.box, 0, NULL, &err));
	assert_int_equal(mailbox_count(client.box), 6);

	assert_string_equal(resolve(&client, "2:4,6", false, IMAP_SEQSET_OK), "2:4,6");
	assert_string_equal(resolve(&client, "5:*", false, IMAP_SEQSET_OK), "5:6");
	assert_string_equal(resolve(&client, "7", false, IMAP_SEQSET_OUT_OF_RANGE), "");
	assert_string_equal(resolve(&client, "1:x", false, IMAP_SEQSET_SYNTAX), "");
	assert_string_equal(resolve(&client, "$,1", false, IMAP_SEQSET_SYNTAX), "");
	/* UID sets come back as written, "*" being the highest UID. */
	assert_string_equal(resolve(&client, "1:*", true, IMAP_SEQSET_OK), "1:6");
	assert_string_equal(resolve(&client, "100:200", true, IMAP_SEQSET_OK), "100:200");

	/* "$" is empty until a SEARCH saves, then holds what it saved. */
	assert_string_equal(resolve(&client, "$", true, IMAP_SEQSET_OK), "");
	imap_search_save_result(&client, seqs, 3);
	assert_string_equal(resolve(&client, "$", false, IMAP_SEQSET_OK), "2,4:5");
	assert_string_equal(resolve(&client, "$", true, IMAP_SEQSET_OK), "2,4:5");

	/* Searches through the real mailbox, "$" included. */
	assert_string_equal(search(&client, "BODY even"), "1,3,5");
	assert_string_equal(search(&client, "$ BODY even"), "5");
	assert_string_equal(search(&client, "UID $ SUBJECT m2"), "2");
	assert_string_equal(search(&client, "OR $ 1"), "1:2,4:5");

	/* Expunge message 4 (UID uids[3]): "$" loses it, the others move. */
	assert_true(mailbox_expunge(client.box, &uids[3], 1, &err));
	assert_true(mailbox_sync(client.box, 0, NULL, &err));
	assert_int_equal(mailbox_count(client.box), 5);
	assert_string_equal(resolve(&client, "$", false, IMAP_SEQSET_OK), "2,4");
	{
		char want[64];

		(void)str_format(want, sizeof(want), "%u,%u", uids[1], uids[4]);
		assert_string_equal(resolve(&client, "$", true, IMAP_SEQSET_OK), want);
	}
	assert_string_equal(search(&client, "$"), "2,4");

	/* A failed save empties it; unselecting forgets it. */
	imap_search_save_result(&client, NULL, 0);
	assert_string_equal(resolve(&client, "$", false, IMAP_SEQSET_OK), "");
	imap_search_save_result(&client, seqs, 1);
	client.saved_valid = false;
	assert_string_equal(resolve(&client, "$", false, IMAP_SEQSET_OK), "");

	imap_seqset_clear(&client.saved_uids);
	mailbox_close(&client.box);
	mail_storage_destroy(&storage);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_and_saved),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
