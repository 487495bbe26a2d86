/*
 * The FETCH engine of roost-imap: writes "* n FETCH (...)" for a set of
 * messages of the selected mailbox from the index (flags, UIDs, sizes,
 * modseqs), the mailbox cache (ENVELOPE, BODY, BODYSTRUCTURE, common header
 * fields) and, only when those lack something, the message file mapped
 * read-only. One buffer is built per message and large sections are
 * streamed as the connection drains, so a FETCH of any size never queues
 * more than a few megabytes. Message bytes are arbitrary; the client is
 * untrusted; both are handled through bounded buffers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fetch.h"
#include "imap.h"
#include "log.h"
#include "pool.h"
#include "storage/imap-bodystructure.h"
#include "storage/imap-envelope.h"
#include "storage/mail-date.h"
#include "storage/message-header.h"
#include "storage/message-part.h"
#include "xalloc.h"

/* Output is handed to the connection in chunks of this size... */
#define FETCH_CHUNK (128 * 1024)
/* ...and no more is produced while the connection holds this much. */
#define FETCH_OUTPUT_HIGH (1024 * 1024)
/* Sections up to this size are written with their message; larger ones
   are streamed. */
#define FETCH_INLINE_MAX (256 * 1024)
/* Messages up to this size are read into a reused buffer; larger ones
   are mapped (a map and unmap per small message costs more than a read). */
#define FETCH_READ_MAX (1024 * 1024)
/* Memory for one message's MIME tree. */
#define FETCH_PARSE_POOL_MAX (64 * 1024 * 1024)
/* Largest value cached for one message and field. */
#define FETCH_CACHE_VALUE_MAX (1024 * 1024)

enum fetch_failure {
	FETCH_FAIL_NONE,
	FETCH_FAIL_EXPUNGED,
	FETCH_FAIL_UNKNOWN_CTE,
	FETCH_FAIL_INTERNAL,
};

struct fetch_ctx {
	struct imap_cmd *cmd; /* the heap copy once the command owns the input */
	struct imap_client *client;
	struct mailbox *box;
	struct fetch_request req;
	struct imap_seqset seqs;
	struct imap_seqset seen; /* \Seen set by this FETCH: FLAGS goes out */
	struct imap_seqset_iter iter;
	bool send_uid;
	bool send_modseq;
	enum fetch_failure failure;
	struct buf out;

	/* The message being written. */
	uint32_t seq;
	bool in_msg;
	size_t next_section;
	bool msg_empty; /* no item written yet for this message */
	uint8_t *map;
	size_t map_len;
	bool mapped;
	bool map_is_read; /* map points into readbuf */
	struct buf readbuf;
	struct pool *pool;
	struct message_part *root;
	bool parsed;
	size_t hdr_size;
	struct buf cache_env, cache_body, cache_bs, cache_hdrs, cache_preview;
	bool have_env, have_body, have_bs, have_hdrs, have_preview;
	struct fetch_content content;
	struct fetch_writer writer;
	bool streaming;
};

static struct fetch_ctx *fetch_active;

/* ---- small writers ---- */

static void put_u64(struct buf *out, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	(void)buf_append(out, tmp + i, sizeof(tmp) - i);
}

void imap_fetch_write_flags(struct imap_client *client, const struct mail_record *rec,
			    struct buf *out)
{
	static const struct {
		uint32_t flag;
		const char *name;
		size_t len;
	} sys[] = {
		{MAIL_ANSWERED, "\\Answered", 9}, {MAIL_FLAGGED, "\\Flagged", 8},
		{MAIL_DELETED, "\\Deleted", 8},	  {MAIL_SEEN, "\\Seen", 5},
		{MAIL_DRAFT, "\\Draft", 6},
	};
	bool first = true;

	(void)buf_append_c(out, '(');
	for (size_t i = 0; i < N_ELEMENTS(sys); i++) {
		if ((rec->flags & sys[i].flag) == 0)
			continue;
		if (!first)
			(void)buf_append_c(out, ' ');
		(void)buf_append(out, sys[i].name, sys[i].len);
		first = false;
	}
	for (unsigned int i = 0; rec->keywords != 0 && i < MAIL_KEYWORDS_MAX; i++) {
		const char *name;

		if ((rec->keywords & (1U << i)) == 0 ||
		    (name = mailbox_keyword_name(client->box, i)) == NULL)
			continue;
		if (!first)
			(void)buf_append_c(out, ' ');
		(void)buf_append_str(out, name);
		first = false;
	}
	if ((rec->flags & MAIL_RECENT) != 0 && (client->enabled & IMAP_ENABLED_IMAP4REV2) == 0) {
		if (!first)
			(void)buf_append_c(out, ' ');
		(void)buf_append(out, "\\Recent", 7);
	}
	(void)buf_append_c(out, ')');
}

/* The server's zone offset in minutes for a time (INTERNALDATE). */
static int local_tz_offset(time_t t)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return 0;
	return (int)(tm.tm_gmtoff / 60);
}

/* ---- the message file ---- */

static void msg_unmap(struct fetch_ctx *ctx)
{
	if (ctx->mapped && ctx->map_len > 0 && !ctx->map_is_read)
		(void)munmap(ctx->map, ctx->map_len);
	ctx->map_is_read = false;
	ctx->map = NULL;
	ctx->map_len = 0;
	ctx->mapped = false;
	ctx->root = NULL;
	ctx->parsed = false;
	if (ctx->pool != NULL)
		pool_clear(ctx->pool);
}

/* Maps the message read-only; false with ctx->failure set. */
static bool msg_map(struct fetch_ctx *ctx)
{
	struct mailbox_error err;
	struct stat st;
	size_t hvsize, body;
	int fd;

	if (ctx->mapped)
		return true;
	if (!mailbox_mail_open(ctx->box, ctx->seq, &fd, &err)) {
		if (err.code == MAILBOX_ERROR_EXPUNGED) {
			ctx->failure = ctx->failure == FETCH_FAIL_NONE ? FETCH_FAIL_EXPUNGED
								       : ctx->failure;
		} else {
			log_error("FETCH: opening message %u of %s failed: %s", ctx->seq,
				  ctx->client->box_name, err.text);
			ctx->failure = FETCH_FAIL_INTERNAL;
		}
		return false;
	}
	if (fstat(fd, &st) < 0 || st.st_size < 0 || (uint64_t)st.st_size > SIZE_MAX / 2) {
		log_error("FETCH: fstat of message %u of %s failed: %m", ctx->seq,
			  ctx->client->box_name);
		close(fd);
		ctx->failure = FETCH_FAIL_INTERNAL;
		return false;
	}
	ctx->map_len = (size_t)st.st_size;
	if (ctx->map_len == 0) {
		ctx->map = (uint8_t *)"";
	} else if (ctx->map_len <= FETCH_READ_MAX) {
		uint8_t *p;
		size_t done = 0;

		buf_reset(&ctx->readbuf);
		p = buf_reserve(&ctx->readbuf, ctx->map_len);
		while (p != NULL && done < ctx->map_len) {
			ssize_t n = pread(fd, p + done, ctx->map_len - done, (off_t)done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			done += (size_t)n;
		}
		if (p == NULL || done < ctx->map_len) {
			/* A file cut short under us is not worth the confusion. */
			log_error("FETCH: reading message %u of %s failed: %s", ctx->seq,
				  ctx->client->box_name, p == NULL ? "no memory" : "short read");
			close(fd);
			ctx->map_len = 0;
			ctx->failure = FETCH_FAIL_INTERNAL;
			return false;
		}
		buf_commit(&ctx->readbuf, done);
		ctx->map = buf_data_mut(&ctx->readbuf);
		ctx->map_is_read = true;
	} else {
		void *p = mmap(NULL, ctx->map_len, PROT_READ, MAP_PRIVATE, fd, 0);

		if (p == MAP_FAILED) {
			log_error("FETCH: mapping message %u of %s (%zu bytes) failed: %m",
				  ctx->seq, ctx->client->box_name, ctx->map_len);
			close(fd);
			ctx->map_len = 0;
			ctx->failure = FETCH_FAIL_INTERNAL;
			return false;
		}
		ctx->map = p;
	}
	close(fd);
	ctx->mapped = true;
	message_header_find_end(ctx->map, ctx->map_len, &ctx->hdr_size, &hvsize, &body);
	return true;
}

/* Parses the MIME structure (once per message). */
static bool msg_parse(struct fetch_ctx *ctx)
{
	const char *error;

	if (ctx->parsed)
		return ctx->root != NULL;
	ctx->parsed = true;
	if (ctx->pool == NULL)
		ctx->pool = pool_create(FETCH_PARSE_POOL_MAX);
	if (message_parse(ctx->pool, ctx->map, ctx->map_len, NULL, &ctx->root, &error) ==
	    MESSAGE_PARSE_ERROR) {
		log_warning("FETCH: message %u of %s: %s", ctx->seq, ctx->client->box_name, error);
		ctx->root = NULL;
		return false;
	}
	return true;
}

/* ---- cached values ---- */

static bool cache_get(struct fetch_ctx *ctx, uint16_t field, struct buf *dst)
{
	const uint8_t *data;
	size_t len;

	buf_reset(dst);
	if (!mailbox_cache_lookup(ctx->box, ctx->seq, field, &data, &len))
		return false;
	return buf_append(dst, data, len);
}

static void cache_put(struct fetch_ctx *ctx, uint16_t field, const struct buf *value)
{
	/* An empty header-fields or preview value is worth keeping: "none". */
	if ((buf_len(value) > 0 || field == FETCH_CACHE_HEADERS || field == FETCH_CACHE_PREVIEW) &&
	    buf_len(value) <= FETCH_CACHE_VALUE_MAX)
		(void)mailbox_cache_add(ctx->box, ctx->seq, field, buf_data(value), buf_len(value));
}

/* ENVELOPE from the header, cached for the next time. */
static void compute_envelope(struct fetch_ctx *ctx)
{
	const char *error;

	buf_reset(&ctx->cache_env);
	if (!msg_map(ctx))
		return;
	if (!imap_envelope_write_header(&ctx->cache_env, ctx->map, ctx->hdr_size, 0, &error)) {
		log_warning("FETCH: ENVELOPE of message %u of %s: %s", ctx->seq,
			    ctx->client->box_name, error);
		buf_reset(&ctx->cache_env);
		(void)imap_envelope_write_empty(&ctx->cache_env);
		ctx->have_env = true;
		return;
	}
	ctx->have_env = true;
	cache_put(ctx, FETCH_CACHE_ENVELOPE, &ctx->cache_env);
}

static void compute_structure(struct fetch_ctx *ctx, bool extended)
{
	struct buf *dst = extended ? &ctx->cache_bs : &ctx->cache_body;
	const char *error = "the MIME parser ran out of memory";

	buf_reset(dst);
	if (!msg_map(ctx))
		return;
	if (!msg_parse(ctx) || !imap_bodystructure_write(dst, ctx->root, extended, 0, &error)) {
		log_warning("FETCH: %s of message %u of %s: %s",
			    extended ? "BODYSTRUCTURE" : "BODY", ctx->seq, ctx->client->box_name,
			    error);
		buf_reset(dst);
		(void)buf_append_str(dst, "(\"text\" \"plain\" NIL NIL NIL \"7bit\" 0 0)");
	} else {
		cache_put(ctx, extended ? FETCH_CACHE_BODYSTRUCTURE : FETCH_CACHE_BODY, dst);
	}
	if (extended)
		ctx->have_bs = true;
	else
		ctx->have_body = true;
}

static void compute_preview(struct fetch_ctx *ctx)
{
	buf_reset(&ctx->cache_preview);
	ctx->have_preview = true;
	if (!msg_map(ctx) || !msg_parse(ctx))
		return;
	if (!fetch_preview_build(ctx->root, &ctx->cache_preview))
		buf_reset(&ctx->cache_preview);
	cache_put(ctx, FETCH_CACHE_PREVIEW, &ctx->cache_preview);
}

/* ---- one message ---- */

static bool any_binary_unknown(const struct message_part *root, const struct fetch_section *s)
{
	const struct message_part *node;

	if (s->part[0] == '\0') {
		for (node = root; node != NULL; node = message_part_next(node)) {
			if (node->children == NULL && node->cte == MESSAGE_CTE_UNKNOWN)
				return true;
		}
		return false;
	}
	node = message_part_find_section(root, s->part);
	return node != NULL && node->children == NULL && node->cte == MESSAGE_CTE_UNKNOWN;
}

/*
 * Everything that can fail for a message is done before its response
 * starts: cache probes, opening and parsing. False skips the message.
 */
static bool msg_prepare(struct fetch_ctx *ctx)
{
	const struct fetch_request *req = &ctx->req;
	bool need_file = false, need_parse = false, want_hdrs = false;

	ctx->have_env = (req->items & FETCH_ITEM_ENVELOPE) != 0 &&
			cache_get(ctx, FETCH_CACHE_ENVELOPE, &ctx->cache_env);
	ctx->have_body = (req->items & FETCH_ITEM_BODY) != 0 &&
			 cache_get(ctx, FETCH_CACHE_BODY, &ctx->cache_body);
	ctx->have_bs = (req->items & FETCH_ITEM_BODYSTRUCTURE) != 0 &&
		       cache_get(ctx, FETCH_CACHE_BODYSTRUCTURE, &ctx->cache_bs);
	ctx->have_preview = (req->items & FETCH_ITEM_PREVIEW) != 0 &&
			    cache_get(ctx, FETCH_CACHE_PREVIEW, &ctx->cache_preview);
	ctx->have_hdrs = false;
	if ((req->items & FETCH_ITEM_ENVELOPE) != 0 && !ctx->have_env)
		need_file = true;
	if ((req->items & FETCH_ITEM_PREVIEW) != 0 && !ctx->have_preview)
		need_file = need_parse = true;
	if (((req->items & FETCH_ITEM_BODY) != 0 && !ctx->have_body) ||
	    ((req->items & FETCH_ITEM_BODYSTRUCTURE) != 0 && !ctx->have_bs))
		need_file = need_parse = true;
	for (size_t i = 0; i < req->section_count; i++) {
		const struct fetch_section *s = &req->sections[i];

		if (s->cacheable) {
			want_hdrs = true;
			if (!ctx->have_hdrs)
				ctx->have_hdrs =
					cache_get(ctx, FETCH_CACHE_HEADERS, &ctx->cache_hdrs);
			if (ctx->have_hdrs)
				continue;
		}
		need_file = true;
		if (fetch_section_needs_parse(s))
			need_parse = true;
	}
	if (!need_file)
		return true;
	if (!msg_map(ctx))
		return false;
	if (!want_hdrs && (req->items & FETCH_ITEM_ENVELOPE) != 0)
		ctx->have_hdrs = cache_get(ctx, FETCH_CACHE_HEADERS, &ctx->cache_hdrs);
	if ((want_hdrs || (req->items & FETCH_ITEM_ENVELOPE) != 0) && !ctx->have_hdrs) {
		/* A client that lists envelopes or header fields will ask again. */
		buf_reset(&ctx->cache_hdrs);
		if (fetch_cache_headers_build(ctx->map, ctx->hdr_size, &ctx->cache_hdrs)) {
			cache_put(ctx, FETCH_CACHE_HEADERS, &ctx->cache_hdrs);
			ctx->have_hdrs = true;
		}
	}
	if (need_parse && !msg_parse(ctx)) {
		ctx->failure = FETCH_FAIL_INTERNAL;
		return false;
	}
	for (size_t i = 0; i < req->section_count; i++) {
		const struct fetch_section *s = &req->sections[i];

		if (s->kind != FETCH_KIND_BODY && ctx->root != NULL &&
		    any_binary_unknown(ctx->root, s)) {
			ctx->failure = FETCH_FAIL_UNKNOWN_CTE;
			return false;
		}
	}
	return true;
}

static void sep(struct buf *out, bool *first)
{
	if (!*first)
		(void)buf_append_c(out, ' ');
	*first = false;
}

/* The items that come from the index and the cache. */
static void msg_write_simple(struct fetch_ctx *ctx, const struct mail_record *rec)
{
	struct imap_client *client = ctx->client;
	const struct fetch_request *req = &ctx->req;
	struct buf *out = &ctx->out;
	bool first = true;
	bool seen_now = ctx->seen.count > 0 && imap_seqset_contains(&ctx->seen, ctx->seq);
	bool flags = (req->items & FETCH_ITEM_FLAGS) != 0 || seen_now;

	(void)buf_append(out, "* ", 2);
	put_u64(out, ctx->seq);
	(void)buf_append(out, " FETCH (", 8);
	if (ctx->send_uid) {
		sep(out, &first);
		(void)buf_append(out, "UID ", 4);
		put_u64(out, rec->uid);
	}
	if (flags) {
		sep(out, &first);
		(void)buf_append(out, "FLAGS ", 6);
		imap_fetch_write_flags(client, rec, out);
	}
	/* A flag change this FETCH made carries its modseq (RFC 7162 3.1). */
	if (ctx->send_modseq || (seen_now && (client->enabled & IMAP_ENABLED_CONDSTORE) != 0)) {
		sep(out, &first);
		(void)buf_append(out, "MODSEQ (", 8);
		put_u64(out, rec->modseq);
		(void)buf_append_c(out, ')');
	}
	if ((req->items & FETCH_ITEM_INTERNALDATE) != 0) {
		struct mailbox_error err;
		char date[MAIL_DATE_FORMAT_SIZE];
		int64_t idate = 0, sdate;

		if (!mailbox_mail_get_dates(ctx->box, ctx->seq, &idate, &sdate, &err))
			idate = 0;
		(void)mail_date_format_imap((time_t)idate, local_tz_offset((time_t)idate), date,
					    sizeof(date));
		sep(out, &first);
		(void)buf_append(out, "INTERNALDATE \"", 14);
		(void)buf_append_str(out, date);
		(void)buf_append_c(out, '"');
	}
	if ((req->items & FETCH_ITEM_RFC822_SIZE) != 0) {
		sep(out, &first);
		(void)buf_append(out, "RFC822.SIZE ", 12);
		put_u64(out, rec->vsize);
	}
	if ((req->items & FETCH_ITEM_ENVELOPE) != 0) {
		if (!ctx->have_env)
			compute_envelope(ctx);
		sep(out, &first);
		(void)buf_append(out, "ENVELOPE ", 9);
		if (ctx->have_env)
			(void)buf_append(out, buf_data(&ctx->cache_env), buf_len(&ctx->cache_env));
		else
			(void)imap_envelope_write_empty(out);
	}
	if ((req->items & FETCH_ITEM_BODY) != 0) {
		if (!ctx->have_body)
			compute_structure(ctx, false);
		sep(out, &first);
		(void)buf_append(out, "BODY ", 5);
		(void)buf_append(out, buf_data(&ctx->cache_body), buf_len(&ctx->cache_body));
	}
	if ((req->items & FETCH_ITEM_BODYSTRUCTURE) != 0) {
		if (!ctx->have_bs)
			compute_structure(ctx, true);
		sep(out, &first);
		(void)buf_append(out, "BODYSTRUCTURE ", 14);
		(void)buf_append(out, buf_data(&ctx->cache_bs), buf_len(&ctx->cache_bs));
	}
	if ((req->items & FETCH_ITEM_PREVIEW) != 0) {
		if (!ctx->have_preview)
			compute_preview(ctx);
		sep(out, &first);
		(void)buf_append(out, "PREVIEW ", 8);
		(void)imap_write_string(
			out, buf_data(&ctx->cache_preview), buf_len(&ctx->cache_preview),
			(client->enabled & IMAP_ENABLED_UTF8) != 0 ? IMAP_WRITE_UTF8 : 0);
	}
	ctx->msg_empty = first;
}

/* Flushes the chunk to the connection. */
static void out_flush(struct fetch_ctx *ctx)
{
	if (buf_len(&ctx->out) > 0) {
		imap_client_send(ctx->client, buf_data(&ctx->out), buf_len(&ctx->out));
		buf_reset(&ctx->out);
	}
}

static bool output_full(struct fetch_ctx *ctx)
{
	return connection_output_len(ctx->client->conn) >= FETCH_OUTPUT_HIGH;
}

/*
 * Writes the next section's "NAME[..]<o> {n}\r\n" and, if small, its
 * bytes. Returns true when a large section was set up for streaming.
 */
static bool msg_write_section(struct fetch_ctx *ctx, const struct fetch_section *s)
{
	struct imap_client *client = ctx->client;
	struct buf *out = &ctx->out;
	enum fetch_content_result res = FETCH_CONTENT_OK;
	uint64_t start = 0, count;

	if (!ctx->msg_empty)
		(void)buf_append_c(out, ' ');
	ctx->msg_empty = false;
	if (s->cacheable && ctx->have_hdrs &&
	    fetch_content_from_cache_headers(&ctx->content, buf_data(&ctx->cache_hdrs),
					     buf_len(&ctx->cache_hdrs), s->cached_mask)) {
		res = FETCH_CONTENT_OK;
	} else if (msg_map(ctx)) {
		res = fetch_content_build(&ctx->content, s, ctx->map, ctx->map_len,
					  fetch_section_needs_parse(s) && msg_parse(ctx) ? ctx->root
											 : NULL);
	} else {
		/* Mapped in msg_prepare; only a vanished file gets here. */
		fetch_content_reset(&ctx->content);
	}
	if (res == FETCH_CONTENT_UNKNOWN_CTE)
		ctx->failure = FETCH_FAIL_UNKNOWN_CTE;
	else if (res == FETCH_CONTENT_LIMIT)
		log_warning("FETCH: %s of message %u of %s: too large to build", s->name, ctx->seq,
			    client->box_name);
	if (res != FETCH_CONTENT_OK)
		fetch_content_reset(&ctx->content);

	(void)buf_append_str(out, s->name);
	if (s->kind == FETCH_KIND_BINARY_SIZE) {
		(void)buf_append_c(out, ' ');
		put_u64(out, ctx->content.size);
		return false;
	}
	count = ctx->content.size;
	if (s->partial) {
		start = s->partial_offset < count ? s->partial_offset : count;
		count -= start;
		if (count > s->partial_size)
			count = s->partial_size;
		(void)buf_append_c(out, '<');
		put_u64(out, s->partial_offset);
		(void)buf_append_c(out, '>');
	}
	(void)buf_append_c(out, ' ');
	(void)imap_write_literal_header(
		out, count, s->kind == FETCH_KIND_BINARY && fetch_content_is_binary(&ctx->content));
	if (s->header_only) {
		client->fetch_hdr_count++;
		client->fetch_hdr_bytes += count;
	} else {
		client->fetch_body_count++;
		client->fetch_body_bytes += count;
	}
	fetch_writer_init(&ctx->writer, &ctx->content, start, count);
	if (count <= FETCH_INLINE_MAX) {
		(void)fetch_writer_write(&ctx->writer, out, (size_t)count);
		fetch_writer_deinit(&ctx->writer);
		return false;
	}
	out_flush(ctx);
	ctx->streaming = true;
	return true;
}

/* Streams the current large section; true when it is complete. */
static bool msg_stream(struct fetch_ctx *ctx)
{
	while (!output_full(ctx)) {
		bool more = fetch_writer_write(&ctx->writer, &ctx->out, FETCH_CHUNK);

		out_flush(ctx);
		if (!more) {
			fetch_writer_deinit(&ctx->writer);
			ctx->streaming = false;
			return true;
		}
	}
	return false;
}

static void msg_end(struct fetch_ctx *ctx)
{
	(void)buf_append(&ctx->out, ")\r\n", 3);
	ctx->in_msg = false;
	msg_unmap(ctx);
	if (buf_len(&ctx->out) >= FETCH_CHUNK)
		out_flush(ctx);
}

/* Starts the next message; false when there is none left. */
static bool msg_begin(struct fetch_ctx *ctx)
{
	const struct mail_record *rec;
	uint32_t seq;

	for (;;) {
		if (!imap_seqset_iter_next(&ctx->iter, &seq))
			return false;
		rec = mailbox_record(ctx->box, seq);
		if (rec == NULL)
			continue;
		if (ctx->req.changedsince_set && rec->modseq <= ctx->req.changedsince)
			continue;
		ctx->seq = seq;
		if (!msg_prepare(ctx)) {
			msg_unmap(ctx);
			continue;
		}
		break;
	}
	ctx->in_msg = true;
	ctx->next_section = 0;
	msg_write_simple(ctx, rec);
	return true;
}

static void fetch_finish(struct fetch_ctx *ctx)
{
	struct imap_cmd *cmd = ctx->cmd;
	bool owned = ctx->client->busy == cmd;

	out_flush(ctx);
	switch (ctx->failure) {
	case FETCH_FAIL_NONE:
		imap_cmd_ok(cmd, "Fetch completed.");
		break;
	case FETCH_FAIL_EXPUNGED:
		imap_cmd_reply(
			cmd, "NO [EXPUNGEISSUED] Some of the requested messages no longer exist.");
		break;
	case FETCH_FAIL_UNKNOWN_CTE:
		imap_cmd_reply(cmd, "NO [UNKNOWN-CTE] Unknown Content-Transfer-Encoding.");
		break;
	case FETCH_FAIL_INTERNAL:
		imap_cmd_reply(cmd, "NO [SERVERBUG] Internal error occurred. Refer to server log "
				    "for more information.");
		break;
	}
	msg_unmap(ctx);
	pool_destroy(&ctx->pool);
	fetch_request_free(&ctx->req);
	imap_seqset_clear(&ctx->seqs);
	imap_seqset_clear(&ctx->seen);
	buf_free(&ctx->out);
	buf_free(&ctx->cache_env);
	buf_free(&ctx->cache_body);
	buf_free(&ctx->cache_bs);
	buf_free(&ctx->cache_hdrs);
	buf_free(&ctx->cache_preview);
	buf_free(&ctx->readbuf);
	fetch_content_free(&ctx->content);
	if (fetch_active == ctx)
		fetch_active = NULL;
	free(ctx);
	if (owned)
		imap_command_done(cmd);
}

/* Runs until done (true) or until the connection must drain (false). */
static bool fetch_continue(struct fetch_ctx *ctx)
{
	for (;;) {
		if (output_full(ctx))
			return false;
		if (ctx->streaming) {
			if (!msg_stream(ctx))
				return false;
			continue;
		}
		if (ctx->in_msg) {
			if (ctx->next_section < ctx->req.section_count) {
				const struct fetch_section *s =
					&ctx->req.sections[ctx->next_section++];

				(void)msg_write_section(ctx, s);
				continue;
			}
			msg_end(ctx);
			continue;
		}
		if (!msg_begin(ctx))
			return true;
	}
}

static bool fetch_input(struct imap_cmd *cmd)
{
	(void)cmd;
	/* Pipelined commands wait until the FETCH is written. */
	return true;
}

static void fetch_output(struct imap_cmd *cmd)
{
	struct fetch_ctx *ctx = fetch_active;

	if (ctx == NULL || ctx->cmd != cmd)
		return;
	if (fetch_continue(ctx))
		fetch_finish(ctx);
}

void imap_fetch_start(struct imap_cmd *cmd, struct fetch_request *req, struct imap_seqset *seqs,
		      struct imap_seqset *seen)
{
	struct imap_client *client = cmd->client;
	struct fetch_ctx *ctx = i_calloc(1, sizeof(*ctx));

	ctx->cmd = cmd;
	ctx->client = client;
	ctx->box = client->box;
	ctx->req = *req;
	memset(req, 0, sizeof(*req));
	ctx->seqs = *seqs;
	imap_seqset_init(seqs);
	if (seen != NULL) {
		ctx->seen = *seen;
		imap_seqset_init(seen);
	}
	ctx->send_uid = cmd->uid || (ctx->req.items & FETCH_ITEM_UID) != 0;
	ctx->send_modseq = (ctx->req.items & FETCH_ITEM_MODSEQ) != 0 || ctx->req.changedsince_set;
	buf_init(&ctx->out, 64 * 1024 * 1024);
	buf_init(&ctx->cache_env, 16 * 1024 * 1024);
	buf_init(&ctx->cache_body, 16 * 1024 * 1024);
	buf_init(&ctx->cache_bs, 16 * 1024 * 1024);
	buf_init(&ctx->cache_hdrs, 16 * 1024 * 1024);
	buf_init(&ctx->cache_preview, 64 * 1024);
	buf_init(&ctx->readbuf, FETCH_READ_MAX);
	fetch_content_init(&ctx->content);
	imap_seqset_iter_init(&ctx->iter, &ctx->seqs);
	fetch_active = ctx;
	if (fetch_continue(ctx)) {
		fetch_finish(ctx);
		return;
	}
	/* The connection must drain first: own it until the end. */
	out_flush(ctx);
	ctx->cmd = imap_command_take_input(cmd, fetch_input);
	client->busy_output = fetch_output;
}
