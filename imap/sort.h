/*
 * SORT and THREAD (RFC 5256, RFC 5957 DISPLAYFROM/DISPLAYTO): base subject
 * extraction, sort criteria and the ORDEREDSUBJECT and REFERENCES threading
 * algorithms, over messages seen through search_mail. Runs in roost-imap on
 * untrusted header values; nothing here depends on the session, so the
 * fuzz harness can drive it with messages held in memory.
 */
#ifndef ROOST_IMAP_SORT_H
#define ROOST_IMAP_SORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "imap-parser.h"
#include "search.h"

/* ---- base subject (sort-subject.c) ---- */

/*
 * Appends the base subject of a Subject: value (raw, as in the header) to
 * out, extracted exactly as RFC 5256 section 2.1 says and then case-folded
 * (search_fold) so that base subjects compare with memcmp(). *reply_r is
 * set when extraction removed a subj-refwd, a "(fwd)" trailer or a
 * subj-fwd-hdr/subj-fwd-trl pair (a reply or forward, RFC 5256 REFERENCES).
 * False when out's maximum was reached.
 */
bool sort_base_subject(const uint8_t *subject, size_t len, struct buf *out, bool *reply_r);

/* ---- SORT (sort.c) ---- */

/*
 * A stable merge sort of n elements of size bytes. Used instead of libc's
 * qsort(), which asks the kernel for the machine's memory size (sysinfo)
 * on large arrays, a call the mail processes' sandbox need not allow.
 */
void sort_array(void *base, size_t n, size_t size,
		int (*cmp)(const void *a, const void *b, void *ctx), void *ctx);

enum sort_key {
	SORT_KEY_ARRIVAL,
	SORT_KEY_CC,
	SORT_KEY_DATE,
	SORT_KEY_FROM,
	SORT_KEY_SIZE,
	SORT_KEY_SUBJECT,
	SORT_KEY_TO,
	SORT_KEY_DISPLAYFROM,
	SORT_KEY_DISPLAYTO,
};

struct sort_criterion {
	enum sort_key key;
	bool reverse;
};

/* Most criteria in one SORT command (each key once, with REVERSE). */
#define SORT_MAX_CRITERIA 16

/*
 * Parses the parenthesized sort criteria: 1*(["REVERSE" SP] key). Returns
 * how many were stored in crit_r, 0 with *error_r (a fixed text) on error.
 */
size_t sort_criteria_parse(const struct imap_arg *list, size_t count,
			   struct sort_criterion crit_r[SORT_MAX_CRITERIA], const char **error_r);

/* Fills mail for message seq (record fields; the rest loads on demand). */
typedef void sort_mail_set_t(void *ctx, struct search_mail *mail, uint32_t seq);

/*
 * Orders seqs (count, ascending on entry) by the criteria; messages equal
 * by every criterion stay in mailbox order (RFC 5256). mail is the
 * search_mail to load each message with; set_mail points it at a message.
 */
void sort_messages(const struct sort_criterion *crit, size_t ncrit, struct search_mail *mail,
		   sort_mail_set_t *set_mail, void *ctx, uint32_t *seqs, size_t count);

/* ---- THREAD (thread.c) ---- */

enum thread_algorithm {
	THREAD_ORDEREDSUBJECT,
	THREAD_REFERENCES,
	/* REFERENCES without gathering by subject, threads ordered by their
	   newest message (draft-ietf-morg-inthread REFS, as Dovecot does). */
	THREAD_REFS,
};

/* The algorithm named (any case), false if unknown. */
bool thread_algorithm_parse(const char *name, enum thread_algorithm *alg_r);

/*
 * Threads the messages seqs (count, ascending) and appends the thread
 * lists of the THREAD response ("(2)(3 6 (4 23)(44 7 96))", without
 * "* THREAD") to out. With uids set, message numbers are written as UIDs
 * (UID THREAD); uids[i] belongs to seqs[i].
 */
void thread_messages(enum thread_algorithm alg, struct search_mail *mail, sort_mail_set_t *set_mail,
		     void *ctx, const uint32_t *seqs, const uint32_t *uids, size_t count,
		     struct buf *out);

/*
 * Normalized Message-IDs for threading: the msg-ids found in a header value
 * (RFC 5322 syntax, quoted local parts unquoted, comments and garbage
 * between them skipped), each as "local@domain" appended to out with a NUL
 * after it. Returns how many were found (max at most).
 */
size_t thread_msgids_parse(const uint8_t *value, size_t len, size_t max, struct buf *out);

#endif
