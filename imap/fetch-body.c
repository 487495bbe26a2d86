/*
 * The bytes of a FETCH section in roost-imap: BODY[section] and BINARY
 * (RFC 3501 6.4.5, RFC 3516) selected from a message mapped in memory and
 * described as slices, then written in pieces with LF turned into CRLF and
 * transfer encodings decoded on the way, so a large body is streamed, not
 * copied. Message bytes are the user's mail but arbitrary: every offset
 * comes from the MIME parser's bounded tree, every size is checked.
 */
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "storage/message-decode.h"
#include "storage/message-header.h"
#include "storage/message-part.h"
#include "storage/message-util.h"
#include "xalloc.h"

/* Bytes of headers built in memory for one section (HEADER.FIELDS of a
   huge header, rewritten MIME headers of BINARY[]). */
#define FETCH_CONTENT_MEM_MAX (16 * 1024 * 1024)
/* Input read per step while writing or counting. */
#define FETCH_WRITE_STEP (32 * 1024)

void fetch_content_init(struct fetch_content *content)
{
	memset(content, 0, sizeof(*content));
	buf_init(&content->mem, FETCH_CONTENT_MEM_MAX);
}

void fetch_content_reset(struct fetch_content *content)
{
	content->count = 0;
	content->size = 0;
	buf_reset(&content->mem);
}

void fetch_content_free(struct fetch_content *content)
{
	free(content->slices);
	buf_free(&content->mem);
	memset(content, 0, sizeof(*content));
}

static struct fetch_slice *slice_add(struct fetch_content *c, enum fetch_slice_mode mode)
{
	struct fetch_slice *s;

	if (c->count == c->alloc) {
		c->alloc = c->alloc == 0 ? 4 : c->alloc * 2;
		c->slices = i_realloc(c->slices, c->alloc * sizeof(*c->slices));
	}
	s = &c->slices[c->count++];
	memset(s, 0, sizeof(*s));
	s->mode = mode;
	return s;
}

/* Message bytes with bare LFs as CRLF. */
static void add_crlf(struct fetch_content *c, const uint8_t *p, size_t len)
{
	struct fetch_slice *s;
	size_t lf, bare;

	if (len == 0)
		return;
	message_count_lf(p, len, &lf, &bare);
	s = slice_add(c, FETCH_SLICE_CRLF);
	s->data = p;
	s->len = len;
	s->out_size = len + bare;
	c->size += s->out_size;
}

/* content->mem bytes from off to its current end. */
static void add_mem_from(struct fetch_content *c, size_t off)
{
	struct fetch_slice *s;

	if (buf_len(&c->mem) == off)
		return;
	s = slice_add(c, FETCH_SLICE_MEM);
	s->mem_off = off;
	s->len = buf_len(&c->mem) - off;
	s->out_size = s->len;
	c->size += s->out_size;
}

/* Appends p with bare LFs as CRLF; false when out is full. */
static bool append_crlf(struct buf *out, const uint8_t *p, size_t len)
{
	while (len > 0) {
		const uint8_t *nl = memchr(p, '\n', len);
		size_t seg = nl == NULL ? len : (size_t)(nl - p);

		if (nl == NULL)
			return buf_append(out, p, len);
		if (seg > 0 && p[seg - 1] == '\r') {
			if (!buf_append(out, p, seg + 1))
				return false;
		} else if (!buf_append(out, p, seg) || !buf_append(out, "\r\n", 2)) {
			return false;
		}
		p += seg + 1;
		len -= seg + 1;
	}
	return true;
}

/* Decoded size of a body, by decoding it in steps. */
static uint64_t decoded_size(const uint8_t *p, size_t len, enum message_cte cte)
{
	struct message_decoder dec;
	struct buf tmp = BUF_INIT(SIZE_MAX / 2);
	uint64_t total = 0;

	message_decoder_init(&dec, cte);
	for (size_t pos = 0; pos < len;) {
		size_t n = len - pos < FETCH_WRITE_STEP ? len - pos : FETCH_WRITE_STEP;

		(void)message_decoder_feed(&dec, p + pos, n, &tmp);
		total += buf_len(&tmp);
		buf_reset(&tmp);
		pos += n;
	}
	(void)message_decoder_finish(&dec, &tmp);
	total += buf_len(&tmp);
	buf_free(&tmp);
	return total;
}

static void add_decode(struct fetch_content *c, const uint8_t *p, size_t len, enum message_cte cte)
{
	struct fetch_slice *s;

	if (len == 0)
		return;
	s = slice_add(c, FETCH_SLICE_DECODE);
	s->data = p;
	s->len = len;
	s->cte = (int)cte;
	s->out_size = decoded_size(p, len, cte);
	c->size += s->out_size;
}

bool fetch_header_fields(const uint8_t *hdr, size_t len, const char *const *fields,
			 size_t field_count, bool not, struct buf *out)
{
	struct message_header_iter iter;
	struct message_header_field f;
	bool ok = true;

	message_header_iter_init(&iter, hdr, len, NULL);
	while (ok && message_header_iter_next(&iter, &f) == MESSAGE_HEADER_RESULT_FIELD) {
		bool match = false;

		if (f.malformed)
			continue;
		for (size_t i = 0; i < field_count && !match; i++)
			match = message_header_name_is(&f, fields[i]);
		if (match != not )
			ok = append_crlf(out, hdr + f.offset, f.size);
	}
	/* A header cut short by a limit still gets what was found. */
	message_header_iter_deinit(&iter);
	return ok && buf_append(out, "\r\n", 2);
}

bool fetch_cache_headers_build(const uint8_t *hdr, size_t len, struct buf *out)
{
	struct message_header_iter iter;
	struct message_header_field f;
	bool ok = true;

	message_header_iter_init(&iter, hdr, len, NULL);
	while (ok && message_header_iter_next(&iter, &f) == MESSAGE_HEADER_RESULT_FIELD) {
		int idx;
		size_t at;

		if (f.malformed ||
		    (idx = fetch_cache_header_index((const char *)f.name, f.name_len)) < 0)
			continue;
		at = buf_len(out);
		ok = buf_put_u8(out, (uint8_t)idx) && buf_put_u32(out, 0) &&
		     append_crlf(out, hdr + f.offset, f.size);
		if (ok) {
			uint32_t n = (uint32_t)(buf_len(out) - at - 5);
			uint8_t *p = buf_data_mut(out) + at + 1;

			p[0] = (uint8_t)n;
			p[1] = (uint8_t)(n >> 8);
			p[2] = (uint8_t)(n >> 16);
			p[3] = (uint8_t)(n >> 24);
		}
	}
	message_header_iter_deinit(&iter);
	return ok;
}

bool fetch_cache_headers_select(const uint8_t *value, size_t len, uint64_t mask, struct buf *out)
{
	struct cursor c;

	cursor_init(&c, value, len);
	while (cursor_left(&c) > 0) {
		uint8_t idx;
		uint32_t n;
		const uint8_t *p;

		if (!cursor_get_u8(&c, &idx) || !cursor_get_u32(&c, &n) ||
		    !cursor_get_bytes(&c, n, &p) || idx >= fetch_cache_headers_count)
			return false;
		if ((mask & (1ULL << idx)) != 0 && !buf_append(out, p, n))
			return false;
	}
	return buf_append(out, "\r\n", 2);
}

bool fetch_content_from_cache_headers(struct fetch_content *c, const uint8_t *value, size_t len,
				      uint64_t mask)
{
	fetch_content_reset(c);
	if (!fetch_cache_headers_select(value, len, mask, &c->mem)) {
		fetch_content_reset(c);
		return false;
	}
	add_mem_from(c, 0);
	return true;
}

static bool add_header_fields(struct fetch_content *c, const struct fetch_section *s,
			      const uint8_t *hdr, size_t len)
{
	size_t off = buf_len(&c->mem);

	if (!fetch_header_fields(hdr, len, s->fields, s->field_count,
				 s->text == FETCH_TEXT_HEADER_FIELDS_NOT, &c->mem))
		return false;
	add_mem_from(c, off);
	return true;
}

/*
 * The header of a part with its Content-Transfer-Encoding field dropped
 * and "Content-Transfer-Encoding: binary" added as its last field, as
 * BINARY[] of a whole message presents decoded parts (the way Dovecot
 * writes it, so clients see the same bytes).
 */
static bool add_binary_header(struct fetch_content *c, const uint8_t *hdr, size_t len)
{
	struct message_header_iter iter;
	struct message_header_field f;
	size_t off = buf_len(&c->mem), done = 0;
	bool ok = true;

	message_header_iter_init(&iter, hdr, len, NULL);
	while (ok && message_header_iter_next(&iter, &f) == MESSAGE_HEADER_RESULT_FIELD) {
		ok = append_crlf(&c->mem, hdr + done, f.offset - done);
		if (ok && (f.malformed || !message_header_name_is(&f, "Content-Transfer-Encoding")))
			ok = append_crlf(&c->mem, hdr + f.offset, f.size);
		done = f.offset + f.size;
	}
	message_header_iter_deinit(&iter);
	ok = ok && buf_append_str(&c->mem, "Content-Transfer-Encoding: binary\r\n") &&
	     append_crlf(&c->mem, hdr + done, len - done);
	if (ok)
		add_mem_from(c, off);
	return ok;
}

/* BINARY[]: the whole message with every encoded leaf part decoded. */
static enum fetch_content_result build_binary_message(struct fetch_content *c, const uint8_t *msg,
						      size_t len, const struct message_part *root)
{
	size_t cursor = 0;

	for (const struct message_part *p = root; p != NULL; p = message_part_next(p)) {
		if (p->children != NULL)
			continue;
		if (p->cte == MESSAGE_CTE_UNKNOWN)
			return FETCH_CONTENT_UNKNOWN_CTE;
		if (p->cte != MESSAGE_CTE_BASE64 && p->cte != MESSAGE_CTE_QP)
			continue;
		if (p->header_offset < cursor || p->body_offset + p->body_size > len)
			continue;
		add_crlf(c, msg + cursor, p->header_offset - cursor);
		if (!add_binary_header(c, msg + p->header_offset, p->header_size))
			return FETCH_CONTENT_LIMIT;
		add_decode(c, msg + p->body_offset, p->body_size, p->cte);
		cursor = p->body_offset + p->body_size;
	}
	add_crlf(c, msg + cursor, len - cursor);
	return FETCH_CONTENT_OK;
}

bool fetch_content_is_binary(const struct fetch_content *c)
{
	for (size_t i = 0; i < c->count; i++) {
		const struct fetch_slice *s = &c->slices[i];
		const uint8_t *p =
			s->mode == FETCH_SLICE_MEM ? buf_data(&c->mem) + s->mem_off : s->data;

		if (s->mode == FETCH_SLICE_DECODE && s->cte != MESSAGE_CTE_7BIT &&
		    s->cte != MESSAGE_CTE_8BIT)
			return true;
		if (memchr(p, '\0', s->len) != NULL)
			return true;
	}
	return false;
}

bool fetch_section_needs_parse(const struct fetch_section *s)
{
	return s->part[0] != '\0' || s->kind != FETCH_KIND_BODY;
}

enum fetch_content_result fetch_content_build(struct fetch_content *c,
					      const struct fetch_section *s, const uint8_t *msg,
					      size_t len, const struct message_part *root)
{
	const struct message_part *node, *m;
	size_t hsize, hvsize, body;

	fetch_content_reset(c);
	if (s->part[0] == '\0' && s->kind == FETCH_KIND_BODY) {
		message_header_find_end(msg, len, &hsize, &hvsize, &body);
		switch (s->text) {
		case FETCH_TEXT_NONE:
			add_crlf(c, msg, len);
			break;
		case FETCH_TEXT_HEADER:
			add_crlf(c, msg, hsize);
			break;
		case FETCH_TEXT_TEXT:
			add_crlf(c, msg + body, len - body);
			break;
		case FETCH_TEXT_HEADER_FIELDS:
		case FETCH_TEXT_HEADER_FIELDS_NOT:
			if (!add_header_fields(c, s, msg, hsize))
				return FETCH_CONTENT_LIMIT;
			break;
		case FETCH_TEXT_MIME:
			break; /* the parser refuses MIME without a part */
		}
		return FETCH_CONTENT_OK;
	}
	if (root == NULL)
		return FETCH_CONTENT_OK;
	if (s->part[0] == '\0')
		return build_binary_message(c, msg, len, root);
	node = message_part_find_section(root, s->part);
	if (node == NULL)
		return FETCH_CONTENT_OK;
	if (s->kind != FETCH_KIND_BODY) {
		if (node->children != NULL) {
			/* A multipart or message: nothing to decode at this level. */
			add_crlf(c, msg + node->body_offset, node->body_size);
			return FETCH_CONTENT_OK;
		}
		if (node->cte == MESSAGE_CTE_UNKNOWN)
			return FETCH_CONTENT_UNKNOWN_CTE;
		add_decode(c, msg + node->body_offset, node->body_size, node->cte);
		return FETCH_CONTENT_OK;
	}
	switch (s->text) {
	case FETCH_TEXT_NONE:
		add_crlf(c, msg + node->body_offset, node->body_size);
		return FETCH_CONTENT_OK;
	case FETCH_TEXT_MIME:
		add_crlf(c, msg + node->header_offset, node->header_size);
		return FETCH_CONTENT_OK;
	default:
		break;
	}
	/* HEADER, TEXT and HEADER.FIELDS of a part address the message it
	   encapsulates; any other part has none. */
	if ((node->flags & MESSAGE_PART_FLAG_MESSAGE) == 0 || node->children == NULL)
		return FETCH_CONTENT_OK;
	m = node->children;
	switch (s->text) {
	case FETCH_TEXT_HEADER:
		add_crlf(c, msg + m->header_offset, m->header_size);
		break;
	case FETCH_TEXT_TEXT:
		add_crlf(c, msg + m->body_offset, m->body_size);
		break;
	case FETCH_TEXT_HEADER_FIELDS:
	case FETCH_TEXT_HEADER_FIELDS_NOT:
		if (!add_header_fields(c, s, msg + m->header_offset, m->header_size))
			return FETCH_CONTENT_LIMIT;
		break;
	default:
		break;
	}
	return FETCH_CONTENT_OK;
}

/* ---- PREVIEW ---- */

struct preview_pick {
	const struct message_part *plain;
	const struct message_part *html;
};

static bool preview_pick_part(const struct message_part *part, void *context)
{
	struct preview_pick *pick = context;

	if (pick->plain == NULL && message_part_is_type(part, "text", "plain"))
		pick->plain = part;
	else if (pick->html == NULL && message_part_is_type(part, "text", "html"))
		pick->html = part;
	return pick->plain == NULL;
}

/* Drops <tags> and turns the common entities into their characters. */
static void preview_strip_html(struct buf *text)
{
	static const struct {
		const char *entity;
		const char *text;
	} entities[] = {
		{"&nbsp;", " "}, {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""},
	};
	uint8_t *p = buf_data_mut(text);
	size_t len = buf_len(text), w = 0;
	bool in_tag = false;

	for (size_t i = 0; i < len; i++) {
		size_t k;

		if (in_tag) {
			in_tag = p[i] != '>';
			if (!in_tag)
				p[w++] = ' ';
			continue;
		}
		if (p[i] == '<') {
			in_tag = true;
			continue;
		}
		for (k = 0; k < N_ELEMENTS(entities); k++) {
			size_t n = strlen(entities[k].entity);

			if (len - i >= n && memcmp(p + i, entities[k].entity, n) == 0) {
				p[w++] = (uint8_t)entities[k].text[0];
				i += n - 1;
				break;
			}
		}
		if (k == N_ELEMENTS(entities))
			p[w++] = p[i];
	}
	buf_truncate(text, w);
}

bool fetch_preview_build(const struct message_part *root, struct buf *out)
{
	struct preview_pick pick = {NULL, NULL};
	struct message_part copy;
	struct buf text = BUF_INIT(FETCH_PREVIEW_INPUT_MAX * 4);
	unsigned int chars = 0;
	bool space = false, ok = true;
	const uint8_t *p;

	(void)message_text_parts_walk(root, preview_pick_part, &pick);
	if (pick.plain == NULL && pick.html == NULL)
		return true;
	copy = pick.plain != NULL ? *pick.plain : *pick.html;
	if (copy.cte == MESSAGE_CTE_UNKNOWN)
		return true;
	/* The start of the text is all a preview needs. */
	if (copy.body_size > FETCH_PREVIEW_INPUT_MAX)
		copy.body_size = FETCH_PREVIEW_INPUT_MAX;
	(void)message_decode_text(&copy, &text, NULL);
	if (pick.plain == NULL)
		preview_strip_html(&text);
	p = buf_data(&text);
	for (size_t i = 0; i < buf_len(&text) && ok; i++) {
		uint8_t c = p[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c < 0x20 || c == 0x7f) {
			space = buf_len(out) > 0;
			continue;
		}
		/* A character starts at every byte that is not a continuation. */
		if ((c & 0xc0) != 0x80) {
			/* The collapsed space counts as a character too. */
			if (chars + (space ? 2 : 1) > FETCH_PREVIEW_CHARS)
				break;
			if (space) {
				ok = buf_append_c(out, ' ');
				space = false;
				chars++;
			}
			chars++;
		}
		ok = ok && buf_append_c(out, c);
	}
	buf_free(&text);
	return ok;
}

/* ---- writing ---- */

void fetch_writer_init(struct fetch_writer *w, const struct fetch_content *content, uint64_t start,
		       uint64_t count)
{
	memset(w, 0, sizeof(*w));
	w->content = content;
	if (start > content->size)
		start = content->size;
	if (count > content->size - start)
		count = content->size - start;
	w->skip = start;
	w->left = count;
	buf_init(&w->pending, SIZE_MAX / 2);
}

void fetch_writer_deinit(struct fetch_writer *w)
{
	if (w->dec_active) {
		struct buf tmp = BUF_INIT(SIZE_MAX / 2);

		/* Frees the decoder's carry buffer. */
		(void)message_decoder_finish(w->dec, &tmp);
		buf_free(&tmp);
	}
	free(w->dec);
	buf_free(&w->pending);
	memset(w, 0, sizeof(*w));
}

/* Converts one step of a CRLF slice's input into pending. */
static void produce_crlf(struct fetch_writer *w, const struct fetch_slice *s)
{
	size_t n = s->len - w->in_pos < FETCH_WRITE_STEP ? s->len - w->in_pos : FETCH_WRITE_STEP;
	const uint8_t *p = s->data + w->in_pos;

	for (size_t i = 0; i < n;) {
		const uint8_t *nl = memchr(p + i, '\n', n - i);
		size_t seg = nl == NULL ? n - i : (size_t)(nl - (p + i));

		if (nl == NULL) {
			(void)buf_append(&w->pending, p + i, seg);
			w->prev_cr = p[n - 1] == '\r';
			break;
		}
		if (seg > 0 ? p[i + seg - 1] == '\r' : w->prev_cr) {
			(void)buf_append(&w->pending, p + i, seg + 1);
		} else {
			(void)buf_append(&w->pending, p + i, seg);
			(void)buf_append(&w->pending, "\r\n", 2);
		}
		w->prev_cr = false;
		i += seg + 1;
	}
	w->in_pos += n;
}

/* Decodes one step of a DECODE slice into pending. */
static void produce_decode(struct fetch_writer *w, const struct fetch_slice *s)
{
	size_t n = s->len - w->in_pos < FETCH_WRITE_STEP ? s->len - w->in_pos : FETCH_WRITE_STEP;

	if (!w->dec_active) {
		if (w->dec == NULL)
			w->dec = i_malloc(sizeof(*w->dec));
		message_decoder_init(w->dec, (enum message_cte)s->cte);
		w->dec_active = true;
	}
	(void)message_decoder_feed(w->dec, s->data + w->in_pos, n, &w->pending);
	w->in_pos += n;
	if (w->in_pos == s->len) {
		(void)message_decoder_finish(w->dec, &w->pending);
		w->dec_active = false;
	}
}

/* Fills pending with the next piece of output; false at the end. */
static bool produce(struct fetch_writer *w)
{
	const struct fetch_content *c = w->content;

	buf_reset(&w->pending);
	w->pending_pos = 0;
	while (w->slice < c->count) {
		const struct fetch_slice *s = &c->slices[w->slice];

		if (w->in_pos == 0 && !w->dec_active && w->skip >= s->out_size) {
			/* Skipped whole without looking at it. */
			w->skip -= s->out_size;
			w->slice++;
			continue;
		}
		if (w->in_pos < s->len || w->dec_active) {
			switch (s->mode) {
			case FETCH_SLICE_CRLF:
				produce_crlf(w, s);
				break;
			case FETCH_SLICE_DECODE:
				produce_decode(w, s);
				break;
			case FETCH_SLICE_MEM:
				(void)buf_append(&w->pending, buf_data(&c->mem) + s->mem_off,
						 s->len);
				w->in_pos = s->len;
				break;
			}
		}
		if (w->in_pos >= s->len && !w->dec_active) {
			w->slice++;
			w->in_pos = 0;
			w->prev_cr = false;
		}
		if (buf_len(&w->pending) > 0)
			return true;
	}
	return false;
}

bool fetch_writer_write(struct fetch_writer *w, struct buf *out, size_t max)
{
	while (w->left > 0 && max > 0) {
		size_t avail = buf_len(&w->pending) - w->pending_pos;
		size_t n;

		if (avail == 0) {
			if (produce(w))
				continue;
			/* The slices produced less than they promised (cannot
			   happen unless a size computation is wrong): pad, so
			   the announced literal stays intact. */
			buf_reset(&w->pending);
			w->pending_pos = 0;
			n = w->skip + w->left < FETCH_WRITE_STEP ? (size_t)(w->skip + w->left)
								 : FETCH_WRITE_STEP;
			memset(buf_reserve(&w->pending, n), ' ', n);
			buf_commit(&w->pending, n);
			continue;
		}
		if (w->skip > 0) {
			n = w->skip < avail ? (size_t)w->skip : avail;
			w->skip -= n;
			w->pending_pos += n;
			continue;
		}
		n = avail;
		if (n > max)
			n = max;
		if (n > w->left)
			n = (size_t)w->left;
		if (!buf_append(out, buf_data(&w->pending) + w->pending_pos, n))
			break;
		w->pending_pos += n;
		w->left -= n;
		max -= n;
	}
	return w->left > 0;
}
