/*
 * libFuzzer harness for SORT and THREAD of roost-imap: RFC 5256 base subject
 * extraction of the whole input as a Subject value, Message-ID parsing of
 * it, and the REFERENCES, ORDEREDSUBJECT and REFS threading algorithms over
 * up to eight messages cut from the input at each "\n\n\n". Checks: base
 * subjects are valid UTF-8 and a base subject never needs more extraction
 * (idempotent); thread output has balanced parentheses and names every
 * message exactly once.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storage/charset.h"

/* The code lives in roost-imap, which is no library: build it in. */
#include "imap/search-fold.c"
#include "imap/search-headers.c"
#include "imap/search-mail.c"
#include "imap/sort-subject.c"
#include "imap/sort.c"
#include "imap/thread.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MSGS 8

struct fuzz_msgs {
	const uint8_t *data[MAX_MSGS];
	size_t len[MAX_MSGS];
	size_t count;
};

static bool fz_internal_date(void *ctx, uint32_t seq, int64_t *date_r)
{
	(void)ctx;
	*date_r = 1000000000 + (int64_t)(seq % 3) * 60;
	return true;
}

static bool fz_read(void *context, uint32_t seq, const uint8_t **data_r, size_t *len_r)
{
	struct fuzz_msgs *m = context;

	*data_r = m->data[seq - 1];
	*len_r = m->len[seq - 1];
	return true;
}

static void fz_set(void *ctx, struct search_mail *mail, uint32_t seq)
{
	(void)ctx;
	search_mail_reset(mail, seq);
	mail->uid = seq + 100;
}

static void check_threads(const struct buf *out, size_t count, uint32_t base)
{
	const uint8_t *p = buf_data(out);
	size_t len = buf_len(out);
	unsigned int seen[MAX_MSGS] = {0};
	int depth = 0;

	for (size_t i = 0; i < len;) {
		if (p[i] == '(') {
			depth++;
			i++;
		} else if (p[i] == ')') {
			if (--depth < 0)
				abort();
			i++;
		} else if (p[i] == ' ') {
			i++;
		} else if (p[i] >= '0' && p[i] <= '9') {
			uint32_t n = 0;

			while (i < len && p[i] >= '0' && p[i] <= '9')
				n = n * 10 + (uint32_t)(p[i++] - '0');
			if (n < base + 1 || n > base + count || seen[n - base - 1]++ != 0)
				abort();
		} else {
			abort();
		}
	}
	if (depth != 0)
		abort();
	for (size_t i = 0; i < count; i++) {
		if (seen[i] != 1)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf base = BUF_INIT(1024 * 1024), again = BUF_INIT(1024 * 1024);
	struct buf ids = BUF_INIT(1024 * 1024);
	struct fuzz_msgs msgs;
	struct search_source src;
	struct search_mail mail;
	uint32_t seqs[MAX_MSGS], uids[MAX_MSGS];
	bool reply, reply2;

	if (size > 64 * 1024)
		return 0;
	if (!sort_base_subject(data, size, &base, &reply) ||
	    !charset_utf8_is_valid(buf_data(&base), buf_len(&base)))
		abort();
	/* Extraction is done on the decoded text; a folded base subject
	   without encoded words extracts to itself. */
	if (memmem(buf_data(&base), buf_len(&base), "=?", 2) == NULL) {
		if (!sort_base_subject(buf_data(&base), buf_len(&base), &again, &reply2) ||
		    buf_len(&again) != buf_len(&base) ||
		    memcmp(buf_data(&again), buf_data(&base), buf_len(&base)) != 0 || reply2)
			abort();
	}
	(void)thread_msgids_parse(data, size, 1000, &ids);

	memset(&msgs, 0, sizeof(msgs));
	for (size_t off = 0; off <= size && msgs.count < MAX_MSGS;) {
		const uint8_t *end = memmem(data + off, size - off, "\n\n\n", 3);
		size_t n = end != NULL ? (size_t)(end - (data + off)) : size - off;

		msgs.data[msgs.count] = data + off;
		msgs.len[msgs.count] = n;
		seqs[msgs.count] = (uint32_t)msgs.count + 1;
		uids[msgs.count] = (uint32_t)msgs.count + 101;
		msgs.count++;
		if (end == NULL)
			break;
		off += n + 3;
	}
	memset(&src, 0, sizeof(src));
	src.internal_date = fz_internal_date;
	src.read = fz_read;
	src.ctx = &msgs;
	search_mail_init(&mail, &src);
	for (int alg = 0; alg < 3; alg++) {
		static const enum thread_algorithm algs[] = {THREAD_REFERENCES,
							     THREAD_ORDEREDSUBJECT, THREAD_REFS};
		struct buf out = BUF_INIT(1024 * 1024);

		thread_messages(algs[alg], &mail, fz_set, NULL, seqs, alg == 1 ? uids : NULL,
				msgs.count, &out);
		check_threads(&out, msgs.count, alg == 1 ? 100 : 0);
		buf_free(&out);
	}
	search_mail_deinit(&mail);
	buf_free(&base);
	buf_free(&again);
	buf_free(&ids);
	return 0;
}
