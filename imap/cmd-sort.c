/*
 * SORT and UID SORT (RFC 5256 section 3, RFC 5957 DISPLAYFROM/DISPLAYTO)
 * with RETURN options answered by ESEARCH (RFC 5267 ESORT). Runs in
 * roost-imap for an authenticated but untrusted client.
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

void cmd_sort(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	const struct imap_arg *args = cmd->args, *list;
	size_t argc = cmd->argc, list_count, count, ncrit;
	struct sort_criterion crit[SORT_MAX_CRITERIA];
	struct imap_search_source source;
	struct search_mail mail;
	const char *error;
	unsigned int opts = 0;
	bool esort = false, modseq;
	uint32_t *seqs, *nums;
	uint64_t *modseqs, highest;

	if (argc >= 1 && imap_arg_atom_equals(&args[0], "RETURN")) {
		if (argc < 2 || !imap_arg_get_list(&args[1], &list, &list_count) ||
		    !search_return_parse(list, list_count, &opts, &error) ||
		    (opts & SEARCH_RETURN_SAVE) != 0) {
			imap_cmd_reply(cmd, "BAD Error in IMAP command SORT: Invalid RETURN.");
			return;
		}
		esort = true;
		args += 2;
		argc -= 2;
	}
	if (argc < 3 || !imap_arg_get_list(&args[0], &list, &list_count)) {
		imap_cmd_reply(cmd, "BAD Error in IMAP command SORT: Missing sort criteria.");
		return;
	}
	ncrit = sort_criteria_parse(list, list_count, crit, &error);
	if (ncrit == 0) {
		imap_cmd_replyf(cmd, "BAD Error in IMAP command SORT: %s.", error);
		return;
	}
	if (!imap_search_run_with_charset(cmd, "SORT", args + 1, argc - 1, &seqs, &count, &highest,
					  &modseq))
		return;

	imap_search_source_init(&source, client->box);
	search_mail_init(&mail, &source.src);
	sort_messages(crit, ncrit, &mail, set_mail, client->box, seqs, count);
	search_mail_deinit(&mail);
	imap_search_source_deinit(&source);

	nums = i_malloc((count + 1) * sizeof(*nums));
	modseqs = i_malloc((count + 1) * sizeof(*modseqs));
	for (size_t i = 0; i < count; i++) {
		const struct mail_record *rec = mailbox_record(client->box, seqs[i]);

		nums[i] = cmd->uid ? rec->uid : seqs[i];
		modseqs[i] = rec->modseq;
	}
	if (esort) {
		imap_search_write_esearch(cmd, opts, nums, count, true, modseq, modseqs);
	} else {
		struct buf out = BUF_INIT(64 * 1024 * 1024);

		(void)buf_append_str(&out, "* SORT");
		for (size_t i = 0; i < count; i++) {
			(void)buf_append_c(&out, ' ');
			(void)search_append_uint(&out, nums[i]);
		}
		if (modseq && count > 0)
			(void)buf_printf(&out, " (MODSEQ %llu)", (unsigned long long)highest);
		(void)buf_append_str(&out, "\r\n");
		imap_client_send(client, buf_data(&out), buf_len(&out));
		buf_free(&out);
	}
	free(nums);
	free(modseqs);
	free(seqs);
	imap_cmd_ok(cmd, "Sort completed.");
}
