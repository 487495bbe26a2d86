/*
 * THREAD and UID THREAD (RFC 5256 section 3) with the ORDEREDSUBJECT and
 * REFERENCES algorithms. Runs in roost-imap for an authenticated but
 * untrusted client.
 */
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "search-run.h"
#include "sort.h"
#include "xalloc.h"

#define THREAD_PROGRAM_POOL_MAX (16U * 1024 * 1024)

static void set_mail(void *ctx, struct search_mail *mail, uint32_t seq)
{
	imap_search_mail_set(mail, ctx, seq);
}

void cmd_thread(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	const struct imap_arg *args = cmd->args;
	size_t argc = cmd->argc, count, len;
	enum thread_algorithm alg;
	struct search_program prog;
	enum search_parse_result result;
	struct imap_search_source source;
	struct search_mail mail;
	struct mailbox_error err;
	const char *name, *charset;
	uint32_t *seqs, *uids = NULL;
	uint64_t highest;
	struct pool *pool;
	struct buf out = BUF_INIT(64 * 1024 * 1024);

	if (argc < 3 || !imap_arg_get_atom(&args[0], &name)) {
		imap_cmd_reply(cmd, "BAD Error in IMAP command THREAD: Missing algorithm.");
		return;
	}
	if (!thread_algorithm_parse(name, &alg)) {
		imap_cmd_reply(cmd, "BAD Error in IMAP command THREAD: Unknown algorithm.");
		return;
	}
	if (!imap_arg_get_astring(&args[1], &charset, &len)) {
		imap_cmd_reply(cmd, "BAD Error in IMAP command THREAD: Invalid charset.");
		return;
	}
	if (!search_charset_is_supported(charset)) {
		imap_cmd_reply(cmd, "NO [BADCHARSET (" SEARCH_CHARSETS ")] Unsupported charset.");
		return;
	}
	pool = pool_create(THREAD_PROGRAM_POOL_MAX);
	if (!imap_search_program(cmd, pool, args + 2, argc - 2, false, &prog, &result)) {
		pool_destroy(&pool);
		return;
	}
	if (prog.modseq)
		client->enabled |= IMAP_ENABLED_CONDSTORE;
	if (!imap_search_execute(client, &prog, &seqs, &count, &highest, &err)) {
		free(seqs);
		search_program_free(&prog);
		pool_destroy(&pool);
		imap_cmd_storage_error(cmd, &err);
		return;
	}
	search_program_free(&prog);
	pool_destroy(&pool);

	if (cmd->uid) {
		uids = i_malloc((count + 1) * sizeof(*uids));
		for (size_t i = 0; i < count; i++)
			uids[i] = mailbox_record(client->box, seqs[i])->uid;
	}
	(void)buf_append_str(&out, "* THREAD ");
	imap_search_source_init(&source, client->box);
	search_mail_init(&mail, &source.src);
	thread_messages(alg, &mail, set_mail, client->box, seqs, uids, count, &out);
	search_mail_deinit(&mail);
	imap_search_source_deinit(&source);
	if (count == 0)
		buf_truncate(&out, buf_len(&out) - 1);
	(void)buf_append_str(&out, "\r\n");
	imap_client_send(client, buf_data(&out), buf_len(&out));
	buf_free(&out);
	free(uids);
	free(seqs);
	imap_cmd_ok(cmd, "Thread completed.");
}
