/*
 * SEARCH and UID SEARCH (RFC 3501 6.4.4, RFC 9051 6.4.4) with RETURN options
 * and the ESEARCH response (RFC 4731), the saved result "$" (RFC 5182),
 * MODSEQ (RFC 7162) and OLDER/YOUNGER (RFC 5032). Runs in roost-imap for an
 * authenticated but untrusted client.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pool.h"
#include "search-run.h"
#include "xalloc.h"

/* Memory for one parsed search program. */
#define SEARCH_PROGRAM_POOL_MAX (16U * 1024 * 1024)

static uint64_t now_msecs(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Saves what RETURN (SAVE) stores: only MIN/MAX when just those were asked
   for with it, else every match (RFC 5182 2.4). */
static void save_result(struct imap_client *client, unsigned int opts, const uint32_t *seqs,
			size_t count)
{
	uint32_t pick[2];
	size_t n = 0;

	if (count == 0 || (opts & (SEARCH_RETURN_ALL | SEARCH_RETURN_COUNT)) != 0 ||
	    (opts & (SEARCH_RETURN_MIN | SEARCH_RETURN_MAX)) == 0) {
		imap_search_save_result(client, seqs, count);
		return;
	}
	if ((opts & SEARCH_RETURN_MIN) != 0)
		pick[n++] = seqs[0];
	if ((opts & SEARCH_RETURN_MAX) != 0 && (n == 0 || seqs[count - 1] != pick[0]))
		pick[n++] = seqs[count - 1];
	imap_search_save_result(client, pick, n);
}

void cmd_search(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	const struct imap_arg *args = cmd->args, *list;
	size_t argc = cmd->argc, list_count, count;
	struct search_program prog;
	enum search_parse_result result;
	struct mailbox_error err;
	unsigned int opts = 0;
	bool esearch = (client->enabled & IMAP_ENABLED_IMAP4REV2) != 0;
	uint32_t *seqs, *nums;
	uint64_t *modseqs, highest, start = now_msecs(), msecs;
	const char *error;
	struct pool *pool;
	char text[64];

	if (argc >= 1 && imap_arg_atom_equals(&args[0], "RETURN")) {
		if (argc < 2 || !imap_arg_get_list(&args[1], &list, &list_count)) {
			imap_cmd_reply(cmd, "BAD Error in IMAP command SEARCH: Invalid RETURN.");
			return;
		}
		if (!search_return_parse(list, list_count, &opts, &error)) {
			imap_cmd_replyf(cmd, "BAD Error in IMAP command SEARCH: %s.", error);
			return;
		}
		esearch = true;
		args += 2;
		argc -= 2;
	} else if (esearch) {
		/* IMAP4rev2 answers a plain SEARCH with ESEARCH ... ALL. */
		opts = SEARCH_RETURN_ALL;
	}

	pool = pool_create(SEARCH_PROGRAM_POOL_MAX);
	if (!imap_search_program(cmd, pool, args, argc, true, &prog, &result)) {
		/* A NO resets the saved result; a BAD leaves it (RFC 5182). */
		if (result == SEARCH_PARSE_BADCHARSET && (opts & SEARCH_RETURN_SAVE) != 0)
			imap_search_save_result(client, NULL, 0);
		pool_destroy(&pool);
		return;
	}
	if (prog.modseq)
		imap_condstore_enable(client);
	if (!imap_search_execute(client, &prog, &seqs, &count, &highest, &err)) {
		if ((opts & SEARCH_RETURN_SAVE) != 0)
			imap_search_save_result(client, NULL, 0);
		free(seqs);
		search_program_free(&prog);
		pool_destroy(&pool);
		imap_cmd_storage_error(cmd, &err);
		return;
	}

	nums = seqs;
	modseqs = i_malloc((count + 1) * sizeof(*modseqs));
	if (cmd->uid) {
		nums = i_malloc((count + 1) * sizeof(*nums));
	}
	for (size_t i = 0; i < count; i++) {
		const struct mail_record *rec = mailbox_record(client->box, seqs[i]);

		modseqs[i] = rec->modseq;
		if (nums != seqs)
			nums[i] = rec->uid;
	}
	if (!esearch) {
		struct buf out = BUF_INIT(64 * 1024 * 1024);

		(void)buf_append_str(&out, "* SEARCH");
		for (size_t i = 0; i < count; i++) {
			(void)buf_append_c(&out, ' ');
			(void)search_append_uint(&out, nums[i]);
		}
		if (prog.modseq && count > 0)
			(void)buf_printf(&out, " (MODSEQ %llu)", (unsigned long long)highest);
		(void)buf_append_str(&out, "\r\n");
		imap_client_send(client, buf_data(&out), buf_len(&out));
		buf_free(&out);
	} else if (opts != SEARCH_RETURN_SAVE) {
		/* SAVE alone returns nothing (RFC 5182 2.4). */
		imap_search_write_esearch(cmd, opts, nums, count, false, prog.modseq, modseqs);
	}
	if ((opts & SEARCH_RETURN_SAVE) != 0)
		save_result(client, opts, seqs, count);

	if (nums != seqs)
		free(nums);
	free(seqs);
	free(modseqs);
	search_program_free(&prog);
	pool_destroy(&pool);
	msecs = now_msecs() - start;
	(void)str_format(text, sizeof(text), "Search completed (%llu.%03llu secs).",
			 (unsigned long long)(msecs / 1000), (unsigned long long)(msecs % 1000));
	imap_cmd_ok(cmd, text);
}
