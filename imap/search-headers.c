/*
 * The header fields SEARCH, SORT and THREAD read, as one compact blob per
 * message that the mailbox cache keeps (SEARCH_CACHE_FIELD_*), so that header
 * searches of a large mailbox do not open message files again. Runs in
 * roost-imap; blobs come back from a cache file and are parsed as untrusted
 * bytes: every length is checked and a malformed blob reads as empty.
 */
#include <string.h>

#include "storage/mail-date.h"
#include "storage/message-header.h"
#include "storage/message-util.h"
#include "search.h"

#define SEARCH_HDR_BLOB_VERSION 1

static const char *const std_names[SEARCH_HDR_COUNT] = {
	[SEARCH_HDR_FROM] = "from",
	[SEARCH_HDR_TO] = "to",
	[SEARCH_HDR_CC] = "cc",
	[SEARCH_HDR_BCC] = "bcc",
	[SEARCH_HDR_SUBJECT] = "subject",
	[SEARCH_HDR_DATE] = "date",
	[SEARCH_HDR_MESSAGE_ID] = "message-id",
	[SEARCH_HDR_IN_REPLY_TO] = "in-reply-to",
	[SEARCH_HDR_REFERENCES] = "references",
	[SEARCH_HDR_REPLY_TO] = "reply-to",
	[SEARCH_HDR_SENDER] = "sender",
};

int search_hdr_lookup(const char *name, size_t len)
{
	for (int i = 0; i < SEARCH_HDR_COUNT; i++) {
		if (strlen(std_names[i]) == len && message_mem_caseeq(std_names[i], name, len))
			return i;
	}
	return -1;
}

static bool put_value(struct buf *out, uint8_t id, const uint8_t *value, size_t len)
{
	if (len > UINT32_MAX)
		return false;
	return buf_put_u8(out, id) && buf_put_u32(out, (uint32_t)len) &&
	       buf_append(out, value, len);
}

bool search_hdr_build(const uint8_t *msg, size_t len, const char *named, struct buf *out)
{
	struct message_header_iter iter;
	struct message_header_field field;
	size_t name_len = named == NULL ? 0 : strlen(named);
	bool ok;

	if (name_len > 255)
		return false;
	ok = buf_put_u8(out, SEARCH_HDR_BLOB_VERSION);
	if (named != NULL)
		ok = ok && buf_put_u8(out, (uint8_t)name_len) && buf_append(out, named, name_len);
	message_header_iter_init(&iter, msg, len, NULL);
	/* A header that hits a limit is used as far as it was read. */
	while (ok && message_header_iter_next(&iter, &field) == MESSAGE_HEADER_RESULT_FIELD) {
		int id;

		if (field.malformed || field.name_len == 0)
			continue;
		if (named != NULL) {
			if (field.name_len == name_len &&
			    message_mem_caseeq(field.name, named, name_len))
				ok = put_value(out, SEARCH_HDR_NAMED, field.value, field.value_len);
			continue;
		}
		id = search_hdr_lookup((const char *)field.name, field.name_len);
		if (id >= 0)
			ok = put_value(out, (uint8_t)id, field.value, field.value_len);
	}
	message_header_iter_deinit(&iter);
	return ok;
}

/* Skips the version and, for a named blob, the name; false if malformed. */
static bool blob_start(struct cursor *c, const uint8_t *blob, size_t len, bool named)
{
	uint8_t version, n;

	cursor_init(c, blob, len);
	if (!cursor_get_u8(c, &version) || version != SEARCH_HDR_BLOB_VERSION)
		return false;
	if (named)
		return cursor_get_u8(c, &n) && cursor_skip(c, n);
	return true;
}

bool search_hdr_blob_is(const uint8_t *blob, size_t len, const char *named)
{
	struct cursor c;
	uint8_t version, n;
	const uint8_t *name;

	if (named == NULL) {
		/* A standard blob starts with an entry id, never a name
		   length that is followed by the name; the version says it. */
		cursor_init(&c, blob, len);
		return cursor_get_u8(&c, &version) && version == SEARCH_HDR_BLOB_VERSION;
	}
	cursor_init(&c, blob, len);
	return cursor_get_u8(&c, &version) && version == SEARCH_HDR_BLOB_VERSION &&
	       cursor_get_u8(&c, &n) && n == strlen(named) && cursor_get_bytes(&c, n, &name) &&
	       memcmp(name, named, n) == 0;
}

void search_hdr_iter_init(struct search_hdr_iter *iter, const uint8_t *blob, size_t len, uint8_t id)
{
	iter->id = id;
	if (!blob_start(&iter->c, blob, len, id == SEARCH_HDR_NAMED))
		cursor_init(&iter->c, NULL, 0);
}

bool search_hdr_iter_next(struct search_hdr_iter *iter, const uint8_t **value_r, size_t *len_r)
{
	uint8_t id;
	uint32_t n;
	const uint8_t *p;

	while (cursor_get_u8(&iter->c, &id)) {
		if (!cursor_get_u32(&iter->c, &n) || !cursor_get_bytes(&iter->c, n, &p)) {
			cursor_init(&iter->c, NULL, 0);
			return false;
		}
		if (id == iter->id) {
			*value_r = p;
			*len_r = n;
			return true;
		}
	}
	return false;
}

bool search_hdr_first(const uint8_t *blob, size_t len, uint8_t id, const uint8_t **value_r,
		      size_t *len_r)
{
	struct search_hdr_iter iter;

	search_hdr_iter_init(&iter, blob, len, id);
	return search_hdr_iter_next(&iter, value_r, len_r);
}

bool search_hdr_date(const uint8_t *value, size_t len, time_t *time_r, int *tz_r)
{
	return mail_date_parse(value, len, time_r, tz_r);
}
