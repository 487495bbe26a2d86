/*
 * Running searches on the selected mailbox for SEARCH, SORT and THREAD: the
 * mailbox as a search_source (message files read once, header blobs through
 * the mailbox cache), sequence sets resolved against the view, and the
 * program parsed from a command's arguments with the session's limits. Runs
 * in roost-imap; the client is authenticated but untrusted.
 */
#ifndef ROOST_IMAP_SEARCH_RUN_H
#define ROOST_IMAP_SEARCH_RUN_H

#include "imap.h"
#include "search.h"

/* The selected mailbox as a search_source. */
struct imap_search_source {
	struct search_source src;
	struct mailbox *box;
	/* The message last read: a heap buffer, or a mapping for large files. */
	uint8_t *buf;
	size_t buf_alloc;
	void *map;
	size_t map_len;
	bool cache_added;
	/* A failure other than "expunged meanwhile": the command fails. */
	bool error;
	struct mailbox_error err;
};

void imap_search_source_init(struct imap_search_source *s, struct mailbox *box);
/* Writes queued cache values and frees the buffers. */
void imap_search_source_deinit(struct imap_search_source *s);
/* Sets a search_mail to message seq of the view (record fields filled). */
void imap_search_mail_set(struct search_mail *mail, struct mailbox *box, uint32_t seq);

/*
 * Parses a search program from a command's arguments with the session's
 * limits and resolves its sequence sets. On failure the command has been
 * answered (BAD, NO [BADCHARSET], BAD [LIMIT]) and *result_r says which;
 * the program is then already freed.
 */
bool imap_search_program(struct imap_cmd *cmd, struct pool *pool, const struct imap_arg *args,
			 size_t argc, bool charset_prefix, struct search_program *prog_r,
			 enum search_parse_result *result_r);

/*
 * Matches prog against every message of the view. *seqs_r (ascending,
 * caller frees) lists the matches; *highest_modseq_r is the highest modseq
 * among them. False when messages could not be read for a reason other
 * than being expunged meanwhile (err says why).
 */
bool imap_search_execute(struct imap_client *client, const struct search_program *prog,
			 uint32_t **seqs_r, size_t *count_r, uint64_t *highest_modseq_r,
			 struct mailbox_error *err);

/* Most memory one SORT or THREAD search program may take. */
#define SEARCH_RUN_POOL_MAX (16U * 1024 * 1024)

/*
 * SORT and THREAD after their first argument: args[0] is the charset
 * (NO [BADCHARSET] when unsupported), the rest the search program, which
 * is parsed and run on the selected mailbox. False after answering (name
 * is the command's, for BAD texts); else as imap_search_execute, and
 * *modseq_r (may be NULL) says whether the program used MODSEQ.
 */
bool imap_search_run_with_charset(struct imap_cmd *cmd, const char *name,
				  const struct imap_arg *args, size_t argc, uint32_t **seqs_r,
				  size_t *count_r, uint64_t *highest_modseq_r, bool *modseq_r);

/* Saves a SEARCH result (UIDs) for "$" (RFC 5182); NULL/0 saves the empty set. */
void imap_search_save_result(struct imap_client *client, const uint32_t *seqs, size_t count);

/* Appends "TAG" as ESEARCH writes it: (TAG "tag"). */
void imap_search_write_tag(struct imap_cmd *cmd, struct buf *out);

/*
 * Sends the ESEARCH response (RFC 4731; RFC 5267 for SORT, sorted true)
 * for the result options opts over nums (sequence numbers or, for UID
 * commands, UIDs; ascending unless sorted), with the MODSEQ result item
 * when modseq is set (modseqs[i] belongs to nums[i]).
 */
void imap_search_write_esearch(struct imap_cmd *cmd, unsigned int opts, const uint32_t *nums,
			       size_t count, bool sorted, bool modseq, const uint64_t *modseqs);

#endif
