/*
 * Searches on the selected mailbox for SEARCH, SORT and THREAD: the mailbox
 * as a search_source, sequence sets (and "$", RFC 5182) resolved against
 * the view, the matching loop, and the saved search result. Runs in
 * roost-imap for an authenticated but untrusted client; message files and
 * cached values are untrusted bytes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pool.h"
#include "search-run.h"
#include "storage/mailbox-flags.h"
#include "xalloc.h"

/* Files larger than this are mapped instead of read. */
#define SEARCH_MAP_MIN (1024U * 1024)
/* A prefix read takes the whole file when only this much more is left. */
#define SEARCH_PREFIX_SLACK (16U * 1024)

static void source_unmap(struct imap_search_source *s)
{
	if (s->map != NULL) {
		(void)munmap(s->map, s->map_len);
		s->map = NULL;
		s->map_len = 0;
	}
}

/* Reads the first want bytes of message seq (all of it when shorter). */
static bool source_load(struct imap_search_source *s, uint32_t seq, size_t want,
			const uint8_t **data_r, size_t *len_r, bool *complete_r)
{
	struct mailbox_error err;
	struct stat st;
	size_t size, done = 0;
	int fd;

	source_unmap(s);
	if (!mailbox_mail_open(s->box, seq, &fd, &err)) {
		if (err.code != MAILBOX_ERROR_EXPUNGED && !s->error) {
			s->error = true;
			s->err = err;
		}
		return false;
	}
	if (fstat(fd, &st) < 0 || st.st_size < 0 || (uint64_t)st.st_size > SIZE_MAX / 2) {
		(void)mailbox_error_errno(&s->err, errno, "fstat(%s/...) failed",
					  mailbox_get_path(s->box));
		s->error = true;
		close(fd);
		return false;
	}
	size = (size_t)st.st_size;
	/* A little more than asked for costs less than a second read. */
	if (want < size && size - want > SEARCH_PREFIX_SLACK)
		size = want;
	*complete_r = size == (size_t)st.st_size;
	if (size >= SEARCH_MAP_MIN) {
		void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);

		if (map != MAP_FAILED) {
			close(fd);
			s->map = map;
			s->map_len = size;
			*data_r = map;
			*len_r = size;
			return true;
		}
	}
	if (size + 1 > s->buf_alloc) {
		s->buf_alloc = size + 1 > 65536 ? size + 1 : 65536;
		free(s->buf);
		s->buf = i_malloc(s->buf_alloc);
	}
	/* One read() normally gets it all; a file that grew is cut at the
	   size seen, one that shrank ends early. */
	while (done < size) {
		ssize_t n = read(fd, s->buf + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			(void)mailbox_error_errno(&s->err, errno, "read(%s/...) failed",
						  mailbox_get_path(s->box));
			s->error = true;
			close(fd);
			return false;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	if (done < size)
		*complete_r = true;
	*data_r = s->buf;
	*len_r = done;
	return true;
}

static bool source_read(void *ctx, uint32_t seq, const uint8_t **data_r, size_t *len_r)
{
	bool complete;

	return source_load(ctx, seq, SIZE_MAX, data_r, len_r, &complete);
}

static bool source_read_prefix(void *ctx, uint32_t seq, size_t min_len, const uint8_t **data_r,
			       size_t *len_r, bool *complete_r)
{
	return source_load(ctx, seq, min_len, data_r, len_r, complete_r);
}

static bool source_internal_date(void *ctx, uint32_t seq, int64_t *date_r)
{
	struct imap_search_source *s = ctx;
	struct mailbox_error err;
	int64_t save_date;

	if (!mailbox_mail_get_dates(s->box, seq, date_r, &save_date, &err)) {
		if (err.code != MAILBOX_ERROR_EXPUNGED && !s->error) {
			s->error = true;
			s->err = err;
		}
		return false;
	}
	return true;
}

static bool source_cache_lookup(void *ctx, uint32_t seq, uint16_t field, const uint8_t **data_r,
				size_t *len_r)
{
	struct imap_search_source *s = ctx;

	return mailbox_cache_lookup(s->box, seq, field, data_r, len_r);
}

static void source_cache_add(void *ctx, uint32_t seq, uint16_t field, const void *data, size_t len)
{
	struct imap_search_source *s = ctx;

	if (mailbox_cache_add(s->box, seq, field, data, len))
		s->cache_added = true;
}

void imap_search_source_init(struct imap_search_source *s, struct mailbox *box)
{
	memset(s, 0, sizeof(*s));
	s->box = box;
	s->src.internal_date = source_internal_date;
	s->src.read = source_read;
	s->src.read_prefix = source_read_prefix;
	s->src.cache_lookup = source_cache_lookup;
	s->src.cache_add = source_cache_add;
	s->src.ctx = s;
}

void imap_search_source_deinit(struct imap_search_source *s)
{
	struct mailbox_error err;

	source_unmap(s);
	free(s->buf);
	s->buf = NULL;
	if (s->cache_added && !mailbox_cache_flush(s->box, &err))
		log_warning("%s: could not write cached header fields: %s",
			    mailbox_get_path(s->box), err.text);
}

void imap_search_mail_set(struct search_mail *mail, struct mailbox *box, uint32_t seq)
{
	const struct mail_record *rec = mailbox_record(box, seq);

	search_mail_reset(mail, seq);
	if (rec == NULL) {
		mail->failed = true;
		return;
	}
	mail->uid = rec->uid;
	mail->flags = rec->flags;
	mail->keywords = rec->keywords;
	mail->size = rec->vsize;
	mail->modseq = rec->modseq;
}

/* ---- sequence sets ---- */

void imap_uids_to_seqs(struct mailbox *box, const struct imap_seqset *uids,
		       struct imap_seqset *seqs_r)
{
	imap_seqset_clear(seqs_r);
	for (size_t i = 0; i < uids->count; i++) {
		uint32_t first = mailbox_seq_from_uid(box, uids->ranges[i].lo);
		uint32_t last = uids->ranges[i].hi == UINT32_MAX
					? mailbox_count(box)
					: mailbox_seq_from_uid(box, uids->ranges[i].hi + 1) - 1;

		if (first <= last && first <= mailbox_count(box))
			imap_seqset_add_range(seqs_r, first, last);
	}
}

/* The UIDs of the messages whose sequence numbers are in a normalized set. */
static void seqs_to_uids(struct mailbox *box, const struct imap_seqset *seqs,
			 struct imap_seqset *uids_r)
{
	struct imap_seqset_iter iter;
	uint32_t seq, lo = 0, hi = 0;

	imap_seqset_clear(uids_r);
	imap_seqset_iter_init(&iter, seqs);
	while (imap_seqset_iter_next(&iter, &seq)) {
		const struct mail_record *rec = mailbox_record(box, seq);

		if (rec == NULL)
			continue;
		if (lo != 0 && rec->uid == hi + 1) {
			hi = rec->uid;
			continue;
		}
		if (lo != 0)
			imap_seqset_add_range(uids_r, lo, hi);
		lo = hi = rec->uid;
	}
	if (lo != 0)
		imap_seqset_add_range(uids_r, lo, hi);
}

/* The highest UID in the view, or UIDNEXT when it is empty (RFC 9051 "*"). */
static uint32_t star_uid(struct mailbox *box)
{
	uint32_t count = mailbox_count(box);

	return count > 0 ? mailbox_record(box, count)->uid : mailbox_next_uid(box);
}

enum imap_seqset_error imap_seqset_resolve_client(struct imap_client *client, const char *str,
						  size_t len, bool uid, struct imap_seqset *out_r,
						  const char **error_r)
{
	struct imap_seqset parsed, saved_seqs;
	enum imap_seqset_error ret;

	imap_seqset_init(&parsed);
	imap_seqset_clear(out_r);
	ret = imap_seqset_parse(str, len, IMAP_SEQSET_DEFAULT_MAX_RANGES, &parsed, error_r);
	if (ret != IMAP_SEQSET_OK) {
		imap_seqset_clear(&parsed);
		return ret;
	}
	if (parsed.saved) {
		imap_seqset_clear(&parsed);
		if (!client->saved_valid || client->box == NULL)
			return IMAP_SEQSET_OK;
		imap_seqset_init(&saved_seqs);
		imap_uids_to_seqs(client->box, &client->saved_uids, &saved_seqs);
		if (uid)
			seqs_to_uids(client->box, &saved_seqs, out_r);
		else
			imap_seqset_copy(out_r, &saved_seqs);
		imap_seqset_clear(&saved_seqs);
		return IMAP_SEQSET_OK;
	}
	if (uid) {
		imap_seqset_resolve_uid(&parsed, client->box == NULL ? 1 : star_uid(client->box),
					out_r);
		ret = IMAP_SEQSET_OK;
	} else {
		ret = imap_seqset_resolve_seq(&parsed,
					      client->box == NULL ? 0 : mailbox_count(client->box),
					      out_r, error_r);
	}
	imap_seqset_clear(&parsed);
	return ret;
}

struct resolve_ctx {
	struct imap_client *client;
};

/*
 * Resolves a SEARCH key's set in place. Numbers beyond the mailbox are
 * dropped rather than refused: clients search "1:*" in empty mailboxes, and
 * Dovecot answers them.
 */
static bool resolve_key(void *context, struct search_key *key, const char **error_r)
{
	struct resolve_ctx *ctx = context;
	struct mailbox *box = ctx->client->box;
	struct imap_seqset out;
	uint32_t count = mailbox_count(box);

	(void)error_r;
	imap_seqset_init(&out);
	if (key->u.set.saved) {
		if (ctx->client->saved_valid) {
			if (key->type == SEARCH_KEY_UIDSET)
				imap_seqset_copy(&out, &ctx->client->saved_uids);
			else
				imap_uids_to_seqs(box, &ctx->client->saved_uids, &out);
		}
	} else if (key->type == SEARCH_KEY_UIDSET) {
		imap_seqset_resolve_uid(&key->u.set, star_uid(box), &out);
	} else {
		for (size_t i = 0; i < key->u.set.count; i++) {
			uint32_t lo = key->u.set.ranges[i].lo, hi = key->u.set.ranges[i].hi;

			lo = lo == IMAP_SEQ_STAR ? count : lo;
			hi = hi == IMAP_SEQ_STAR ? count : hi;
			if (lo > hi) {
				uint32_t t = lo;

				lo = hi;
				hi = t;
			}
			if (hi > count)
				hi = count;
			if (lo >= 1 && lo <= hi)
				imap_seqset_add_range(&out, lo, hi);
		}
	}
	imap_seqset_clear(&key->u.set);
	key->u.set = out;
	return true;
}

static int keyword_lookup(void *ctx, const char *name)
{
	struct imap_client *client = ctx;

	return mailbox_keyword_lookup(client->box, name);
}

bool imap_search_program(struct imap_cmd *cmd, struct pool *pool, const struct imap_arg *args,
			 size_t argc, bool charset_prefix, struct search_program *prog_r,
			 enum search_parse_result *result_r)
{
	struct imap_client *client = cmd->client;
	struct search_parse_params params;
	struct resolve_ctx rctx = {client};
	const char *error;

	memset(&params, 0, sizeof(params));
	params.max_depth = client->set->imap_search_max_depth;
	params.max_keys = client->set->imap_search_max_keys;
	params.charset_prefix = charset_prefix;
	params.utf8_accept = (client->enabled & IMAP_ENABLED_UTF8) != 0;
	params.keyword_lookup = keyword_lookup;
	params.ctx = client;
	params.now = time(NULL);
	*result_r = search_program_parse(pool, args, argc, &params, prog_r, &error);
	switch (*result_r) {
	case SEARCH_PARSE_OK:
		break;
	case SEARCH_PARSE_BAD:
		search_program_free(prog_r);
		imap_cmd_replyf(cmd, "BAD Error in IMAP command %s: %s.", cmd->name, error);
		return false;
	case SEARCH_PARSE_BADCHARSET:
		search_program_free(prog_r);
		imap_cmd_replyf(cmd, "NO [BADCHARSET (" SEARCH_CHARSETS ")] %s.", error);
		return false;
	case SEARCH_PARSE_LIMIT:
		search_program_free(prog_r);
		imap_cmd_replyf(cmd, "BAD [LIMIT] %s.", error);
		return false;
	}
	(void)search_program_resolve_sets(prog_r, resolve_key, &rctx, &error);
	return true;
}

bool imap_search_execute(struct imap_client *client, const struct search_program *prog,
			 uint32_t **seqs_r, size_t *count_r, uint64_t *highest_modseq_r,
			 struct mailbox_error *err)
{
	struct imap_search_source source;
	struct search_mail mail;
	struct search_matcher *matcher = search_matcher_create(prog);
	uint32_t count = mailbox_count(client->box);
	uint32_t *seqs = i_malloc(((size_t)count + 1) * sizeof(*seqs));
	size_t n = 0;
	uint64_t highest = 0;
	bool ok;

	imap_search_source_init(&source, client->box);
	search_mail_init(&mail, &source.src);
	for (uint32_t seq = 1; seq <= count; seq++) {
		imap_search_mail_set(&mail, client->box, seq);
		if (mail.failed || !search_matcher_match(matcher, &mail))
			continue;
		seqs[n++] = seq;
		if (mail.modseq > highest)
			highest = mail.modseq;
	}
	search_mail_deinit(&mail);
	search_matcher_destroy(&matcher);
	ok = !source.error;
	if (!ok && err != NULL)
		*err = source.err;
	imap_search_source_deinit(&source);
	*seqs_r = seqs;
	*count_r = n;
	*highest_modseq_r = highest;
	return ok;
}

bool imap_search_run_with_charset(struct imap_cmd *cmd, const char *name,
				  const struct imap_arg *args, size_t argc, uint32_t **seqs_r,
				  size_t *count_r, uint64_t *highest_modseq_r, bool *modseq_r)
{
	struct imap_client *client = cmd->client;
	struct search_program prog;
	enum search_parse_result result;
	struct mailbox_error err;
	const char *charset;
	struct pool *pool;
	size_t len;
	bool ok;

	if (!imap_arg_get_astring(&args[0], &charset, &len)) {
		imap_cmd_replyf(cmd, "BAD Error in IMAP command %s: Invalid charset.", name);
		return false;
	}
	if (!search_charset_is_supported(charset)) {
		imap_cmd_reply(cmd, "NO [BADCHARSET (" SEARCH_CHARSETS ")] Unsupported charset.");
		return false;
	}
	pool = pool_create(SEARCH_RUN_POOL_MAX);
	if (!imap_search_program(cmd, pool, args + 1, argc - 1, false, &prog, &result)) {
		pool_destroy(&pool);
		return false;
	}
	if (prog.modseq)
		imap_condstore_enable(client);
	if (modseq_r != NULL)
		*modseq_r = prog.modseq;
	ok = imap_search_execute(client, &prog, seqs_r, count_r, highest_modseq_r, &err);
	search_program_free(&prog);
	pool_destroy(&pool);
	if (!ok) {
		I_FREE(*seqs_r);
		imap_cmd_storage_error(cmd, &err);
	}
	return ok;
}

void imap_search_save_result(struct imap_client *client, const uint32_t *seqs, size_t count)
{
	imap_seqset_clear(&client->saved_uids);
	for (size_t i = 0; i < count; i++) {
		const struct mail_record *rec = mailbox_record(client->box, seqs[i]);

		if (rec != NULL)
			imap_seqset_add(&client->saved_uids, rec->uid);
	}
	client->saved_valid = true;
}

void imap_search_write_tag(struct imap_cmd *cmd, struct buf *out)
{
	(void)buf_append_str(out, "(TAG ");
	(void)imap_write_string(out, cmd->tag, strlen(cmd->tag), 0);
	(void)buf_append_c(out, ')');
}

/* Appends nums (count, ascending) as a sequence-set: "1:3,7". */
static void write_set(struct buf *out, const uint32_t *nums, size_t count)
{
	for (size_t i = 0; i < count;) {
		size_t j = i;

		while (j + 1 < count && nums[j + 1] == nums[j] + 1)
			j++;
		if (i > 0)
			(void)buf_append_c(out, ',');
		(void)search_append_uint(out, nums[i]);
		if (j > i) {
			(void)buf_append_c(out, ':');
			(void)search_append_uint(out, nums[j]);
		}
		i = j + 1;
	}
}

void imap_search_write_esearch(struct imap_cmd *cmd, unsigned int opts, const uint32_t *nums,
			       size_t count, bool sorted, bool modseq, const uint64_t *modseqs)
{
	struct buf out = BUF_INIT(64 * 1024 * 1024);
	uint64_t highest = 0;

	(void)buf_append_str(&out, "* ESEARCH ");
	imap_search_write_tag(cmd, &out);
	if (cmd->uid)
		(void)buf_append_str(&out, " UID");
	if (count > 0) {
		/* For SORT, MIN and MAX are the first and last in sort
		   order (RFC 5267), as Dovecot answers. */
		size_t min = 0, max = count - 1;

		if ((opts & SEARCH_RETURN_MIN) != 0)
			(void)buf_printf(&out, " MIN %u", nums[min]);
		if ((opts & SEARCH_RETURN_MAX) != 0)
			(void)buf_printf(&out, " MAX %u", nums[max]);
		/* The MODSEQ returned is the highest of the messages the
		   options return (RFC 4731 3.2): just MIN and/or MAX, or all. */
		if ((opts & (SEARCH_RETURN_ALL | SEARCH_RETURN_COUNT)) != 0 ||
		    (opts & (SEARCH_RETURN_MIN | SEARCH_RETURN_MAX)) == 0) {
			for (size_t i = 0; i < count; i++)
				highest = modseqs[i] > highest ? modseqs[i] : highest;
		} else {
			if ((opts & SEARCH_RETURN_MIN) != 0)
				highest = modseqs[min];
			if ((opts & SEARCH_RETURN_MAX) != 0 && modseqs[max] > highest)
				highest = modseqs[max];
		}
	}
	if ((opts & SEARCH_RETURN_ALL) != 0 && count > 0) {
		(void)buf_append_str(&out, " ALL ");
		if (!sorted) {
			write_set(&out, nums, count);
		} else {
			/* In sort order, so no ranges. */
			for (size_t i = 0; i < count; i++) {
				if (i > 0)
					(void)buf_append_c(&out, ',');
				(void)search_append_uint(&out, nums[i]);
			}
		}
	}
	/* Dovecot's order of the items: MIN MAX ALL COUNT. */
	if ((opts & SEARCH_RETURN_COUNT) != 0)
		(void)buf_printf(&out, " COUNT %zu", count);
	if (modseq && count > 0)
		(void)buf_printf(&out, " MODSEQ %llu", (unsigned long long)highest);
	(void)buf_append_str(&out, "\r\n");
	imap_client_send(cmd->client, buf_data(&out), buf_len(&out));
	buf_free(&out);
}
