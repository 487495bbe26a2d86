/*
 * The Sieve message interface implemented on roost's message parser
 * (storage/message-*): header fields, RFC 2047 decoding, address lists,
 * dates and MIME parts of a message held in memory. Runs in roost-lda and
 * roostadm on mail from the internet; all parsing is done by the storage
 * code with its limits, this file only adapts the shapes.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../../storage/charset.h"
#include "../../storage/mail-date.h"
#include "../../storage/message-address.h"
#include "../../storage/message-decode.h"
#include "../../storage/message-header.h"
#include "../../storage/message-part.h"
#include "../../storage/rfc2047.h"
#include "sieve-message.h"
#include "sieve-private.h"
#include "xalloc.h"

/* Largest decoded text kept for one MIME part (body test). */
#define SIEVE_MESSAGE_MAX_PART_TEXT (16 * 1024 * 1024)

struct sieve_message {
	struct pool *pool;
	const uint8_t *data;
	size_t size;
	struct sieve_header_field *fields;
	size_t fields_count;
	bool fields_loaded;
	size_t body_offset;
	struct sieve_body_part *parts;
	size_t parts_count;
	bool parts_loaded;
};

struct sieve_message *sieve_message_create(const void *data, size_t size)
{
	struct sieve_message *msg = i_calloc(1, sizeof(*msg));
	size_t hsize, hvsize;

	msg->pool = pool_create(SIEVE_MAX_RUNTIME_MEMORY);
	msg->data = data;
	msg->size = size;
	message_header_find_end(data, size, &hsize, &hvsize, &msg->body_offset);
	return msg;
}

void sieve_message_free(struct sieve_message **_msg)
{
	struct sieve_message *msg = *_msg;

	if (msg == NULL)
		return;
	pool_destroy(&msg->pool);
	free(msg);
	*_msg = NULL;
}

/*
 * Unfolds a raw field value the way Dovecot does, so scripts see the same
 * text: each line break disappears and the first blank of the continuation
 * line becomes a space; outer blanks are trimmed.
 */
static char *unfold(struct pool *pool, const uint8_t *raw, size_t len, size_t *len_r)
{
	char *out = p_malloc(pool, len + 1);
	size_t i = 0, n = 0, start, end;

	if (out == NULL)
		return NULL;
	while (i < len) {
		if (raw[i] == '\r' && i + 1 < len && raw[i + 1] == '\n')
			i++;
		if (raw[i] == '\n') {
			i++;
			if (i < len && (raw[i] == ' ' || raw[i] == '\t')) {
				out[n++] = ' ';
				i++;
			}
			continue;
		}
		out[n++] = (char)raw[i++];
	}
	start = 0;
	while (start < n && (out[start] == ' ' || out[start] == '\t'))
		start++;
	end = n;
	while (end > start && (out[end - 1] == ' ' || out[end - 1] == '\t' || out[end - 1] == '\r'))
		end--;
	memmove(out, out + start, end - start);
	out[end - start] = '\0';
	*len_r = end - start;
	return out;
}

static int msg_get_header_fields(void *ctx, const struct sieve_header_field **fields_r,
				 size_t *count_r)
{
	struct sieve_message *msg = ctx;
	struct message_header_iter iter;
	struct message_header_field f;
	unsigned int alloc = 0, n = 0;
	enum message_header_result ret;

	if (msg->fields_loaded) {
		*fields_r = msg->fields;
		*count_r = msg->fields_count;
		return 0;
	}
	message_header_iter_init(&iter, msg->data, msg->size, NULL);
	while ((ret = message_header_iter_next(&iter, &f)) == MESSAGE_HEADER_RESULT_FIELD) {
		struct sieve_header_field *h;
		size_t vlen = 0;
		char *value;

		if (f.malformed || f.name_len == 0)
			continue;
		if (!sieve_parray_grow(msg->pool, (void **)&msg->fields, &alloc, n + 1,
				       sizeof(*msg->fields))) {
			message_header_iter_deinit(&iter);
			return -1;
		}
		h = &msg->fields[n];
		value = unfold(msg->pool, f.raw_value, f.raw_value_len, &vlen);
		h->name = p_strndup(msg->pool, f.name, f.name_len);
		h->value = value;
		h->value_len = vlen;
		h->raw = (const char *)msg->data + f.offset;
		h->raw_len = f.size;
		if (h->name == NULL || h->value == NULL) {
			message_header_iter_deinit(&iter);
			return -1;
		}
		n++;
	}
	message_header_iter_deinit(&iter);
	/* A header limit leaves the fields read so far; the rest is body. */
	msg->fields_count = n;
	msg->fields_loaded = true;
	*fields_r = msg->fields;
	*count_r = n;
	return 0;
}

static const char *msg_decode_header(void *ctx, struct pool *pool, const char *value, size_t len,
				     size_t *len_r)
{
	struct buf b;
	char *out;

	(void)ctx;
	buf_init(&b, len * 4 + 16);
	(void)rfc2047_decode((const uint8_t *)value, len, &b, NULL);
	out = p_strndup(pool, buf_data(&b), buf_len(&b));
	*len_r = buf_len(&b);
	buf_free(&b);
	return out;
}

static int msg_parse_addresses(void *ctx, struct pool *pool, const char *value, size_t len,
			       struct sieve_address **addrs_r, size_t *count_r, bool *invalid_r)
{
	struct message_address *list, *a;
	struct sieve_address *out;
	unsigned int count = 0;
	const char *error = NULL;
	size_t n = 0;

	(void)ctx;
	*addrs_r = NULL;
	*count_r = 0;
	*invalid_r = false;
	list = message_address_parse(pool, (const uint8_t *)value, len, 0, &count, &error);
	if (list == NULL && error != NULL) {
		/* Too many addresses: treat the value as not an address list. */
		*invalid_r = true;
		return 0;
	}
	out = p_malloc_array(pool, count + 1, sizeof(*out));
	if (out == NULL)
		return -1;
	for (a = list; a != NULL; a = a->next) {
		if (a->type != MESSAGE_ADDRESS_MAILBOX || a->mailbox == NULL || a->domain == NULL ||
		    a->mailbox[0] == '\0' || a->domain[0] == '\0')
			continue;
		out[n].local_part = a->mailbox;
		out[n].domain = a->domain;
		n++;
	}
	/* A value without a single usable address is not an address list. */
	if (n == 0 && len > 0)
		*invalid_r = true;
	*addrs_r = out;
	*count_r = n;
	return 0;
}

static bool msg_parse_date(void *ctx, const char *value, size_t len, time_t *time_r,
			   int *tz_offset_min_r)
{
	(void)ctx;
	return mail_date_parse((const uint8_t *)value, len, time_r, tz_offset_min_r);
}

static uint64_t msg_get_size(void *ctx)
{
	struct sieve_message *msg = ctx;

	return msg->size;
}

static int msg_get_raw_body(void *ctx, const char **data_r, size_t *size_r)
{
	struct sieve_message *msg = ctx;

	*data_r = (const char *)msg->data + msg->body_offset;
	*size_r = msg->size - msg->body_offset;
	return 0;
}

/* The decoded UTF-8 text of a leaf part (transfer encoding and charset). */
static bool part_text(struct sieve_message *msg, const struct message_part *p,
		      struct sieve_body_part *out)
{
	struct buf b;

	buf_init(&b, SIEVE_MESSAGE_MAX_PART_TEXT);
	/* Undecodable parts are still searched, with U+FFFD for bad bytes. */
	(void)message_decode_text(p, &b, NULL);
	out->text = p_strndup(msg->pool, buf_data(&b), buf_len(&b));
	out->text_len = buf_len(&b);
	buf_free(&b);
	return out->text != NULL;
}

/* Sanitised UTF-8 copy of len raw bytes. */
static const char *raw_text(struct pool *pool, const uint8_t *p, size_t len, size_t *len_r)
{
	struct buf b;
	char *out;

	buf_init(&b, len * 3 + 16);
	(void)charset_utf8_sanitize(p, len, &b);
	out = p_strndup(pool, buf_data(&b), buf_len(&b));
	*len_r = buf_len(&b);
	buf_free(&b);
	return out;
}

/*
 * The preamble and epilogue of a multipart (RFC 2046 section 5.1.1): what
 * comes before the first delimiter line (without the line end that belongs
 * to it) and after the close-delimiter line.
 */
static void multipart_texts(const struct sieve_message *msg, const struct message_part *p,
			    size_t *pre_start_r, size_t *pre_end_r, size_t *epi_start_r,
			    size_t *epi_end_r)
{
	const uint8_t *d = msg->data;
	size_t start = p->body_offset, end = p->body_offset + p->body_size;
	const struct message_part *c, *last = NULL;
	size_t blen = p->boundary != NULL ? strlen(p->boundary) : 0;
	size_t q, e, l;

	*pre_start_r = *pre_end_r = start;
	*epi_start_r = *epi_end_r = end;
	if (p->children == NULL || blen == 0)
		return;
	q = p->children->header_offset;
	if (q > start && d[q - 1] == '\n')
		q--;
	if (q > start && d[q - 1] == '\r')
		q--;
	while (q > start && d[q - 1] != '\n')
		q--;
	e = q;
	if (e > start && d[e - 1] == '\n')
		e--;
	if (e > start && d[e - 1] == '\r')
		e--;
	*pre_end_r = e;
	for (c = p->children; c != NULL; c = c->next)
		last = c;
	/* Find the close-delimiter line after the last child. */
	for (l = last->body_offset + last->body_size; l < end;) {
		size_t eol = l;

		while (eol < end && d[eol] != '\n')
			eol++;
		if (eol - l >= blen + 4 && d[l] == '-' && d[l + 1] == '-' &&
		    memcmp(d + l + 2, p->boundary, blen) == 0 && d[l + 2 + blen] == '-' &&
		    d[l + 3 + blen] == '-') {
			*epi_start_r = eol < end ? eol + 1 : end;
			return;
		}
		l = eol + 1;
	}
}

static char *lower_type(struct pool *pool, const char *type, const char *subtype)
{
	char *s = p_strdup_printf(pool, "%s/%s", type != NULL ? type : "text",
				  subtype != NULL ? subtype : "plain");
	size_t i;

	for (i = 0; s != NULL && s[i] != '\0'; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
	return s;
}

static int msg_get_body_parts(void *ctx, struct pool *pool, const struct sieve_body_part **parts_r,
			      size_t *count_r)
{
	struct sieve_message *msg = ctx;
	struct message_part *root;
	const struct message_part *p;
	const char *error;
	unsigned int alloc = 0;
	size_t n = 0;

	(void)pool;
	if (msg->parts_loaded) {
		*parts_r = msg->parts;
		*count_r = msg->parts_count;
		return 0;
	}
	if (message_parse(msg->pool, msg->data, msg->size, NULL, &root, &error) ==
	    MESSAGE_PARSE_ERROR)
		return -1;
	for (p = root; p != NULL; p = message_part_next(p)) {
		struct sieve_body_part *bp;

		if (!sieve_parray_grow(msg->pool, (void **)&msg->parts, &alloc, (unsigned int)n + 1,
				       sizeof(*msg->parts)))
			return -1;
		bp = &msg->parts[n++];
		memset(bp, 0, sizeof(*bp));
		bp->content_type = lower_type(msg->pool, p->type, p->subtype);
		if (bp->content_type == NULL)
			return -1;
		bp->attachment =
			p->disposition != NULL && strcasecmp(p->disposition, "attachment") == 0;
		if ((p->flags & MESSAGE_PART_FLAG_MULTIPART) != 0) {
			size_t ps, pe, es, ee;
			struct sieve_body_part *epi;

			/* Two values: the preamble, then the epilogue. */
			multipart_texts(msg, p, &ps, &pe, &es, &ee);
			bp->multipart = true;
			bp->text = raw_text(msg->pool, msg->data + ps, pe - ps, &bp->text_len);
			if (bp->text == NULL ||
			    !sieve_parray_grow(msg->pool, (void **)&msg->parts, &alloc,
					       (unsigned int)n + 1, sizeof(*msg->parts)))
				return -1;
			epi = &msg->parts[n++];
			*epi = msg->parts[n - 2];
			epi->text = raw_text(msg->pool, msg->data + es, ee - es, &epi->text_len);
			if (epi->text == NULL)
				return -1;
			continue;
		}
		if ((p->flags & MESSAGE_PART_FLAG_MESSAGE) != 0) {
			/* RFC 5173 5.2: an encapsulated message is searched in
			   its header only. */
			if (p->children != NULL)
				bp->text =
					raw_text(msg->pool, msg->data + p->children->header_offset,
						 p->children->header_size, &bp->text_len);
			bp->message = true;
			continue;
		}
		if (!part_text(msg, p, bp))
			return -1;
	}
	msg->parts_count = n;
	msg->parts_loaded = true;
	*parts_r = msg->parts;
	*count_r = n;
	return 0;
}

const struct sieve_message_ops sieve_message_ops = {
	.get_header_fields = msg_get_header_fields,
	.decode_header = msg_decode_header,
	.parse_addresses = msg_parse_addresses,
	.parse_date = msg_parse_date,
	.get_size = msg_get_size,
	.get_body_parts = msg_get_body_parts,
	.get_raw_body = msg_get_raw_body,
};

const char *sieve_message_first_address(struct sieve_message *msg, const char *header)
{
	const char *value = message_header_get_first(msg->pool, msg->data, msg->size, header);
	struct message_address *list, *a;
	const char *error;

	if (value == NULL)
		return NULL;
	list = message_address_parse(msg->pool, (const uint8_t *)value, strlen(value), 0, NULL,
				     &error);
	for (a = list; a != NULL; a = a->next) {
		if (a->type == MESSAGE_ADDRESS_MAILBOX && a->mailbox != NULL) {
			if (a->domain == NULL)
				return a->mailbox;
			return p_strdup_printf(msg->pool, "%s@%s", a->mailbox, a->domain);
		}
	}
	return NULL;
}

const char *sieve_message_header(struct sieve_message *msg, const char *header)
{
	return message_header_get_first(msg->pool, msg->data, msg->size, header);
}
