/*
 * The searchable text of a message for SEARCH BODY and TEXT: the header
 * blocks with encoded words decoded, and every text part of the body. Parts
 * that are 7bit/8bit in US-ASCII or UTF-8 are searched as they are in the
 * file; only quoted-printable, base64 and other charsets are decoded first.
 * Where those blocks and parts lie is kept in the mailbox cache (the
 * "layout"), so later searches skip MIME parsing and read each file only up
 * to its last text part. Runs in roost-imap on untrusted messages and cache
 * values: the MIME parser's limits apply, a layout that does not fit the
 * file is ignored, and decoded text is capped (a capped part is searched as
 * far as it got).
 */
#include <string.h>

#include "pool.h"
#include "search.h"
#include "storage/charset.h"
#include "storage/message-decode.h"
#include "storage/message-header.h"
#include "storage/message-part.h"
#include "storage/rfc2047.h"

/* Memory for one message's MIME tree, and for its decoded text. */
#define SEARCH_BODY_POOL_MAX	(64U * 1024 * 1024)
#define SEARCH_BODY_DECODED_MAX (64U * 1024 * 1024)
#define SEARCH_BODY_HEADER_MAX	(8U * 1024 * 1024)
/* Layouts with more segments than this are not cached. */
#define SEARCH_LAYOUT_MAX_SEGMENTS 4096
#define SEARCH_LAYOUT_VERSION	   1

void search_body_init(struct search_body *sb)
{
	memset(sb, 0, sizeof(*sb));
	sb->pool = pool_create(SEARCH_BODY_POOL_MAX);
	buf_init(&sb->decoded, SEARCH_BODY_DECODED_MAX);
	buf_init(&sb->header, SEARCH_BODY_HEADER_MAX);
	buf_init(&sb->layout, SEARCH_CACHE_BLOB_MAX);
}

void search_body_deinit(struct search_body *sb)
{
	pool_destroy(&sb->pool);
	buf_free(&sb->decoded);
	buf_free(&sb->header);
	buf_free(&sb->layout);
}

bool search_body_feed_header(struct search_body *sb, const uint8_t *data, size_t len,
			     struct search_finder *finder)
{
	struct message_header_iter iter;
	struct message_header_field field;
	bool more = true;

	buf_reset(&sb->header);
	message_header_iter_init(&iter, data, len, NULL);
	while (message_header_iter_next(&iter, &field) == MESSAGE_HEADER_RESULT_FIELD) {
		bool ok;

		if (field.malformed || field.name_len == 0)
			continue;
		ok = buf_append(&sb->header, field.name, field.name_len) &&
		     buf_append(&sb->header, ": ", 2) &&
		     rfc2047_decode(field.value, field.value_len, &sb->header, NULL) &&
		     buf_append_c(&sb->header, '\n');
		if (!ok || buf_len(&sb->header) > SEARCH_BODY_HEADER_MAX / 2) {
			/* Search what there is and go on with an empty buffer. */
			more = search_finder_feed(finder, buf_data(&sb->header),
						  buf_len(&sb->header));
			buf_reset(&sb->header);
			if (!more)
				break;
		}
	}
	message_header_iter_deinit(&iter);
	if (more && buf_len(&sb->header) > 0)
		more = search_finder_feed(finder, buf_data(&sb->header), buf_len(&sb->header));
	search_finder_break(finder);
	return more;
}

/* ---- the layout ---- */

/* The charset of a text part that needs converting, NULL when its bytes
   are UTF-8 already (none, US-ASCII or UTF-8). */
static const char *part_charset(struct pool *pool, const struct message_part *part)
{
	char csbuf[CHARSET_NAME_MAX + 1];
	const char *charset = message_part_charset(part, csbuf, sizeof(csbuf));

	if (charset == NULL || strcasecmp(charset, "us-ascii") == 0 ||
	    strcasecmp(charset, "utf-8") == 0 || strcasecmp(charset, "utf8") == 0)
		return NULL;
	/* Unknown names convert as UTF-8, as message_decode_text does. */
	return p_strdup(pool, charset);
}

static bool add_segment(struct search_body *sb, size_t *alloc, bool text, uint8_t cte,
			const char *charset, size_t offset, size_t size)
{
	if (sb->count == *alloc) {
		size_t n = *alloc == 0 ? 16 : *alloc * 2;
		struct search_segment *s =
			p_realloc(sb->pool, sb->segments, *alloc * sizeof(*s), n * sizeof(*s));

		if (s == NULL)
			return false;
		sb->segments = s;
		*alloc = n;
	}
	sb->segments[sb->count++] = (struct search_segment){text, cte, charset, offset, size};
	return true;
}

/* The layout of a parsed message: every header block, every text part. */
static bool layout_from_tree(struct search_body *sb, const struct message_part *root)
{
	size_t alloc = 0;

	for (const struct message_part *p = root; p != NULL; p = message_part_next(p)) {
		if (!add_segment(sb, &alloc, false, 0, NULL, p->header_offset, p->header_size))
			return false;
		if ((p->flags & MESSAGE_PART_FLAG_TEXT) == 0 || p->children != NULL)
			continue;
		if (!add_segment(sb, &alloc, true, (uint8_t)p->cte, part_charset(sb->pool, p),
				 p->body_offset, p->body_size))
			return false;
	}
	return true;
}

/* Serializes the layout for the cache; false when it does not fit. */
static bool layout_write(const struct search_body *sb, struct buf *out)
{
	bool ok = sb->count <= SEARCH_LAYOUT_MAX_SEGMENTS &&
		  buf_put_u8(out, SEARCH_LAYOUT_VERSION) && buf_put_u32(out, (uint32_t)sb->count);

	for (size_t i = 0; ok && i < sb->count; i++) {
		const struct search_segment *s = &sb->segments[i];
		size_t cslen = s->charset == NULL ? 0 : strlen(s->charset);

		ok = s->offset <= UINT32_MAX && s->size <= UINT32_MAX - s->offset && cslen <= 255 &&
		     buf_put_u8(out, s->text ? 1 : 0) && buf_put_u8(out, s->cte) &&
		     buf_put_u32(out, (uint32_t)s->offset) && buf_put_u32(out, (uint32_t)s->size) &&
		     buf_put_u8(out, (uint8_t)cslen) && buf_append(out, s->charset, cslen);
	}
	return ok;
}

/*
 * Reads a cached layout (untrusted) into sb; *end_r is where its last
 * segment ends. False when it is malformed.
 */
static bool layout_read(struct search_body *sb, const uint8_t *data, size_t len, size_t *end_r)
{
	struct cursor c;
	uint8_t version;
	uint32_t count;
	size_t alloc = 0, end = 0;

	cursor_init(&c, data, len);
	if (!cursor_get_u8(&c, &version) || version != SEARCH_LAYOUT_VERSION ||
	    !cursor_get_u32(&c, &count) || count > SEARCH_LAYOUT_MAX_SEGMENTS)
		return false;
	for (uint32_t i = 0; i < count; i++) {
		uint8_t text, cte, cslen;
		uint32_t offset, size;
		const uint8_t *cs;
		char *charset = NULL;

		if (!cursor_get_u8(&c, &text) || !cursor_get_u8(&c, &cte) ||
		    !cursor_get_u32(&c, &offset) || !cursor_get_u32(&c, &size) ||
		    !cursor_get_u8(&c, &cslen) || !cursor_get_bytes(&c, cslen, &cs) || text > 1 ||
		    cte > MESSAGE_CTE_UNKNOWN || size > UINT32_MAX - offset)
			return false;
		if (cslen > 0 && (charset = p_strndup(sb->pool, cs, cslen)) == NULL)
			return false;
		if (!add_segment(sb, &alloc, text == 1, cte, charset, offset, size))
			return false;
		if ((size_t)offset + size > end)
			end = (size_t)offset + size;
	}
	*end_r = end;
	return cursor_left(&c) == 0;
}

bool search_body_load(struct search_body *sb, struct search_mail *mail)
{
	const uint8_t *data, *msg;
	size_t len, msg_len, end;
	struct message_part *root;
	const char *error;

	pool_clear(sb->pool);
	sb->segments = NULL;
	sb->count = 0;
	sb->msg = NULL;
	sb->len = 0;
	if (mail->src->cache_lookup != NULL &&
	    mail->src->cache_lookup(mail->src->ctx, mail->seq, SEARCH_CACHE_FIELD_LAYOUT, &data,
				    &len)) {
		if (layout_read(sb, data, len, &end)) {
			if (!search_mail_message_prefix(mail, end, &msg, &msg_len))
				return false;
			/* A layout that does not fit this file is stale. */
			if (msg_len >= end) {
				sb->msg = msg;
				sb->len = msg_len;
				return true;
			}
		}
		pool_clear(sb->pool);
		sb->segments = NULL;
		sb->count = 0;
	}
	if (!search_mail_message(mail, &msg, &msg_len))
		return false;
	sb->msg = msg;
	sb->len = msg_len;
	if (message_parse(sb->pool, msg, msg_len, NULL, &root, &error) == MESSAGE_PARSE_ERROR ||
	    !layout_from_tree(sb, root)) {
		/* Out of parser memory: the top header and the rest as plain
		   text are the best that can be searched. */
		size_t hsize, hvsize, body, alloc = 0;

		pool_clear(sb->pool);
		sb->segments = NULL;
		sb->count = 0;
		message_header_find_end(msg, msg_len, &hsize, &hvsize, &body);
		(void)add_segment(sb, &alloc, false, 0, NULL, 0, body);
		(void)add_segment(sb, &alloc, true, MESSAGE_CTE_8BIT, NULL, body, msg_len - body);
		return true;
	}
	buf_reset(&sb->layout);
	if (mail->src->cache_add != NULL && layout_write(sb, &sb->layout))
		mail->src->cache_add(mail->src->ctx, mail->seq, SEARCH_CACHE_FIELD_LAYOUT,
				     buf_data(&sb->layout), buf_len(&sb->layout));
	return true;
}

bool search_body_feed_headers(struct search_body *sb, struct search_finder *finder)
{
	/* The message's header, each MIME part's and each encapsulated
	   message's: TEXT looks at all of them, as Dovecot does. */
	for (size_t i = 0; i < sb->count; i++) {
		const struct search_segment *s = &sb->segments[i];

		if (s->text)
			continue;
		if (!search_body_feed_header(sb, sb->msg + s->offset, s->size, finder))
			return false;
	}
	return finder->remaining > 0;
}

static bool feed_text(struct search_body *sb, const struct search_segment *s,
		      struct search_finder *finder)
{
	struct message_part part;
	struct message_param param;
	bool more;

	if (s->charset == NULL && (s->cte == MESSAGE_CTE_7BIT || s->cte == MESSAGE_CTE_8BIT ||
				   s->cte == MESSAGE_CTE_BINARY)) {
		/* UTF-8 as it is in the file: no decoding at all. */
		more = search_finder_feed(finder, sb->msg + s->offset, s->size);
	} else {
		memset(&part, 0, sizeof(part));
		part.msg = sb->msg;
		part.body_offset = s->offset;
		part.body_size = s->size;
		part.cte = (enum message_cte)s->cte;
		if (s->charset != NULL) {
			param.name = "charset";
			param.value = s->charset;
			part.params = &param;
			part.params_count = 1;
		}
		buf_reset(&sb->decoded);
		(void)message_decode_text(&part, &sb->decoded, NULL);
		more = search_finder_feed(finder, buf_data(&sb->decoded), buf_len(&sb->decoded));
	}
	search_finder_break(finder);
	return more;
}

bool search_body_feed_texts(struct search_body *sb, struct search_finder *finder)
{
	for (size_t i = 0; i < sb->count; i++) {
		if (sb->segments[i].text && !feed_text(sb, &sb->segments[i], finder))
			return false;
	}
	return finder->remaining > 0;
}
