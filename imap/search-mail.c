/*
 * One message as SEARCH, SORT and THREAD see it: record fields set by the
 * caller, and the internal date, header fields and message bytes loaded on
 * first use through a search_source (the mailbox, or memory in the fuzz
 * harness). Header blobs go through the mailbox cache so a second search
 * of the same mailbox needs no message file. Runs in roost-imap; cached
 * values are untrusted and checked before use.
 */
#include <string.h>

#include "search.h"
#include "storage/message-header.h"

#define SEARCH_BLOB_MAX (64U * 1024 * 1024)
/* Read first for the header fields: most header blocks end before this. */
#define SEARCH_HEADER_PREFIX (16U * 1024)

void search_mail_init(struct search_mail *mail, const struct search_source *src)
{
	memset(mail, 0, sizeof(*mail));
	mail->src = src;
	buf_init(&mail->std, SEARCH_BLOB_MAX);
	buf_init(&mail->named, SEARCH_BLOB_MAX);
}

void search_mail_reset(struct search_mail *mail, uint32_t seq)
{
	mail->serial++;
	mail->seq = seq;
	mail->uid = 0;
	mail->flags = 0;
	mail->keywords = 0;
	mail->size = 0;
	mail->modseq = 0;
	mail->failed = false;
	mail->have_date = false;
	mail->have_std = false;
	mail->have_msg = false;
	mail->msg_complete = false;
	mail->msg = NULL;
	mail->msg_len = 0;
	buf_reset(&mail->std);
	buf_reset(&mail->named);
	mail->named_name[0] = '\0';
}

void search_mail_deinit(struct search_mail *mail)
{
	buf_free(&mail->std);
	buf_free(&mail->named);
}

bool search_mail_internal_date(struct search_mail *mail, int64_t *date_r)
{
	if (!mail->have_date) {
		if (mail->failed ||
		    !mail->src->internal_date(mail->src->ctx, mail->seq, &mail->internal_date)) {
			mail->failed = true;
			return false;
		}
		mail->have_date = true;
	}
	*date_r = mail->internal_date;
	return true;
}

bool search_mail_message(struct search_mail *mail, const uint8_t **data_r, size_t *len_r)
{
	if (!mail->have_msg || !mail->msg_complete) {
		if (mail->failed ||
		    !mail->src->read(mail->src->ctx, mail->seq, &mail->msg, &mail->msg_len)) {
			mail->failed = true;
			return false;
		}
		mail->have_msg = true;
		mail->msg_complete = true;
	}
	*data_r = mail->msg;
	*len_r = mail->msg_len;
	return true;
}

bool search_mail_message_prefix(struct search_mail *mail, size_t min_len, const uint8_t **data_r,
				size_t *len_r)
{
	if (mail->src->read_prefix == NULL)
		return search_mail_message(mail, data_r, len_r);
	if (!mail->have_msg || (!mail->msg_complete && mail->msg_len < min_len)) {
		if (mail->failed ||
		    !mail->src->read_prefix(mail->src->ctx, mail->seq, min_len, &mail->msg,
					    &mail->msg_len, &mail->msg_complete)) {
			mail->failed = true;
			return false;
		}
		mail->have_msg = true;
	}
	*data_r = mail->msg;
	*len_r = mail->msg_len;
	return true;
}

/* The header block of the message: read as a prefix when it ends early. */
static bool mail_header_block(struct search_mail *mail, const uint8_t **data_r, size_t *len_r)
{
	size_t hsize, hvsize, body;

	if (!search_mail_message_prefix(mail, SEARCH_HEADER_PREFIX, data_r, len_r))
		return false;
	message_header_find_end(*data_r, *len_r, &hsize, &hvsize, &body);
	if (mail->msg_complete || body < *len_r)
		return true;
	/* The header goes on past the prefix. */
	return search_mail_message(mail, data_r, len_r);
}

/* Cache field of a named header: a hash of the name over the named range. */
static uint16_t named_field(const char *lname)
{
	uint32_t h = 2166136261U;

	for (const char *p = lname; *p != '\0'; p++)
		h = (h ^ (uint8_t)*p) * 16777619U;
	return (uint16_t)(SEARCH_CACHE_FIELD_NAMED_FIRST + h % SEARCH_CACHE_FIELD_NAMED_COUNT);
}

/* Loads a blob from the cache or builds (and caches) it from the message. */
static bool load_blob(struct search_mail *mail, uint16_t field, const char *named, struct buf *out)
{
	const uint8_t *data, *msg;
	size_t len, msg_len;

	buf_reset(out);
	if (mail->src->cache_lookup != NULL &&
	    mail->src->cache_lookup(mail->src->ctx, mail->seq, field, &data, &len) &&
	    search_hdr_blob_is(data, len, named))
		return buf_append(out, data, len);
	if (!mail_header_block(mail, &msg, &msg_len))
		return false;
	if (!search_hdr_build(msg, msg_len, named, out)) {
		/* Too large to keep: not an error, the caller searches what
		   fitted, and nothing is cached. */
		return true;
	}
	if (mail->src->cache_add != NULL && buf_len(out) <= SEARCH_CACHE_BLOB_MAX)
		mail->src->cache_add(mail->src->ctx, mail->seq, field, buf_data(out), buf_len(out));
	return true;
}

bool search_mail_std_headers(struct search_mail *mail, const uint8_t **blob_r, size_t *len_r)
{
	if (!mail->have_std) {
		if (mail->failed ||
		    !load_blob(mail, SEARCH_CACHE_FIELD_HEADERS, NULL, &mail->std)) {
			mail->failed = true;
			return false;
		}
		mail->have_std = true;
	}
	*blob_r = buf_data(&mail->std);
	*len_r = buf_len(&mail->std);
	return true;
}

bool search_mail_header(struct search_mail *mail, const char *lname, const uint8_t **blob_r,
			size_t *len_r, uint8_t *id_r)
{
	int id = search_hdr_lookup(lname, strlen(lname));

	if (id >= 0) {
		*id_r = (uint8_t)id;
		return search_mail_std_headers(mail, blob_r, len_r);
	}
	*id_r = SEARCH_HDR_NAMED;
	if (strcmp(mail->named_name, lname) != 0 || mail->named_name[0] == '\0') {
		if (mail->failed || strlen(lname) >= sizeof(mail->named_name)) {
			/* Names this long are never cached: build directly. */
			const uint8_t *msg;
			size_t msg_len;

			mail->named_name[0] = '\0';
			buf_reset(&mail->named);
			if (!mail_header_block(mail, &msg, &msg_len))
				return false;
			(void)search_hdr_build(msg, msg_len, lname, &mail->named);
		} else {
			if (!load_blob(mail, named_field(lname), lname, &mail->named)) {
				mail->failed = true;
				return false;
			}
			(void)str_copy(mail->named_name, sizeof(mail->named_name), lname);
		}
	}
	*blob_r = buf_data(&mail->named);
	*len_r = buf_len(&mail->named);
	return true;
}
