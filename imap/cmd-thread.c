/*
 * THREAD and UID THREAD (RFC 5256 section 3) with the ORDEREDSUBJECT and
 * REFERENCES algorithms. Runs in roost-imap for an authenticated but
 * untrusted client.
 */
#include <stdlib.h>
#include <string.h>

#include "search-run.h"
#include "sort.h"
#include "xalloc.h"

static void set_mail(void *ctx, struct search_mail *mail, uint32_t seq)
{
	imap_search_mail_set(mail, ctx, seq);
}

void cmd_thread(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	const struct imap_arg *args = cmd->args;
	size_t argc = cmd->argc, count;
	enum thread_algorithm alg;
	struct imap_search_source source;
	struct search_mail mail;
	const char *name;
	uint32_t *seqs, *uids = NULL;
	uint64_t highest;
	struct buf out = BUF_INIT(64 * 1024 * 1024);

	if (argc < 3 || !imap_arg_get_atom(&args[0], &name)) {
		imap_cmd_reply(cmd, "BAD Error in IMAP command THREAD: Missing algorithm.");
		return;
	}
	if (!thread_algorithm_parse(name, &alg)) {
		imap_cmd_reply(cmd, "BAD Error in IMAP command THREAD: Unknown algorithm.");
		return;
	}
	if (!imap_search_run_with_charset(cmd, "THREAD", args + 1, argc - 1, &seqs, &count,
					  &highest, NULL))
		return;

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
