/*
 * The searchable text of a message for SEARCH BODY and TEXT: the header
 * fields with encoded words decoded, and every text part of the body. Parts
 * that are 7bit/8bit in US-ASCII or UTF-8 are searched as they are in the
 * file; only quoted-printable, base64 and other charsets are decoded first.
 * Runs in roost-imap on untrusted messages: the MIME parser's limits apply,
 * and decoded text is capped (a capped part is searched as far as it got).
 */
#include <string.h>

#include "storage/charset.h"
#include "storage/message-decode.h"
#include "storage/message-header.h"
#include "storage/message-part.h"
#include "pool.h"
#include "storage/rfc2047.h"
#include "search.h"

/* Memory for one message's MIME tree, and for its decoded text. */
#define SEARCH_BODY_POOL_MAX	(64U * 1024 * 1024)
#define SEARCH_BODY_DECODED_MAX (64U * 1024 * 1024)
#define SEARCH_BODY_HEADER_MAX	(8U * 1024 * 1024)

void search_body_init(struct search_body *sb)
{
	memset(sb, 0, sizeof(*sb));
	sb->pool = pool_create(SEARCH_BODY_POOL_MAX);
	buf_init(&sb->decoded, SEARCH_BODY_DECODED_MAX);
	buf_init(&sb->header, SEARCH_BODY_HEADER_MAX);
}

void search_body_deinit(struct search_body *sb)
{
	pool_destroy(&sb->pool);
	buf_free(&sb->decoded);
	buf_free(&sb->header);
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

/* Whether a part's body is UTF-8 text as it is in the file. */
static bool part_is_plain_utf8(const struct message_part *part)
{
	char csbuf[CHARSET_NAME_MAX + 1];
	const char *charset;

	if (part->cte != MESSAGE_CTE_7BIT && part->cte != MESSAGE_CTE_8BIT &&
	    part->cte != MESSAGE_CTE_BINARY)
		return false;
	charset = message_part_charset(part, csbuf, sizeof(csbuf));
	return charset == NULL || strcasecmp(charset, "us-ascii") == 0 ||
	       strcasecmp(charset, "utf-8") == 0 || strcasecmp(charset, "utf8") == 0;
}

static bool feed_part_body(struct search_body *sb, const struct message_part *part,
			   struct search_finder *finder)
{
	bool more;

	if (part_is_plain_utf8(part)) {
		more = search_finder_feed(finder, part->msg + part->body_offset, part->body_size);
	} else {
		buf_reset(&sb->decoded);
		(void)message_decode_text(part, &sb->decoded, NULL);
		more = search_finder_feed(finder, buf_data(&sb->decoded), buf_len(&sb->decoded));
	}
	search_finder_break(finder);
	return more;
}

void search_body_parse(struct search_body *sb, const uint8_t *msg, size_t len)
{
	const char *error;

	pool_clear(sb->pool);
	sb->msg = msg;
	sb->len = len;
	if (message_parse(sb->pool, msg, len, NULL, &sb->root, &error) == MESSAGE_PARSE_ERROR)
		sb->root = NULL;
}

bool search_body_feed_headers(struct search_body *sb, struct search_finder *finder)
{
	size_t hsize, hvsize, body;

	if (sb->root == NULL) {
		/* Out of parser memory: the top header is all there is. */
		message_header_find_end(sb->msg, sb->len, &hsize, &hvsize, &body);
		return search_body_feed_header(sb, sb->msg, body, finder);
	}
	/* The message's header, each MIME part's and each encapsulated
	   message's: TEXT looks at all of them, as Dovecot does. */
	for (const struct message_part *p = sb->root; p != NULL; p = message_part_next(p)) {
		if (!search_body_feed_header(sb, sb->msg + p->header_offset, p->header_size,
					     finder))
			return false;
	}
	return finder->remaining > 0;
}

bool search_body_feed_texts(struct search_body *sb, struct search_finder *finder)
{
	size_t hsize, hvsize, body;

	if (sb->root == NULL) {
		/* The body as plain text is the best that can be searched. */
		message_header_find_end(sb->msg, sb->len, &hsize, &hvsize, &body);
		(void)search_finder_feed(finder, sb->msg + body, sb->len - body);
		search_finder_break(finder);
		return finder->remaining > 0;
	}
	for (const struct message_part *p = sb->root; p != NULL; p = message_part_next(p)) {
		if ((p->flags & MESSAGE_PART_FLAG_TEXT) == 0 || p->children != NULL)
			continue;
		if (!feed_part_body(sb, p, finder))
			return false;
	}
	return finder->remaining > 0;
}
