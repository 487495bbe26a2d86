/*
 * RFC 5322 header block iterator (see message-header.h). Runs in the mail
 * processes on untrusted messages held in memory: every line is found with
 * memchr inside the given length, LF-only line ends are accepted, and lines
 * that are not fields are reported as malformed instead of stopping the walk.
 */
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "xalloc.h"
#include "message-util.h"
#include "message-header.h"

const struct message_header_limits message_header_default_limits = {
	.max_fields = MESSAGE_HEADER_MAX_FIELDS_DEFAULT,
	.max_line = MESSAGE_HEADER_MAX_LINE_DEFAULT,
	.max_field = MESSAGE_HEADER_MAX_FIELD_DEFAULT,
};

/* One physical line: [start, content_end) is the text, next the following line. */
struct hdr_line {
	size_t start;
	size_t content_end;
	size_t next;
	bool bare_lf;
	bool has_lf;
};

static void hdr_line_read(const uint8_t *data, size_t len, size_t pos, struct hdr_line *line)
{
	const uint8_t *lf = memchr(data + pos, '\n', len - pos);

	line->start = pos;
	if (lf == NULL) {
		line->content_end = len;
		line->next = len;
		line->has_lf = false;
		line->bare_lf = false;
		return;
	}
	line->has_lf = true;
	line->next = (size_t)(lf - data) + 1;
	line->content_end = line->next - 1;
	if (line->content_end > pos && data[line->content_end - 1] == '\r') {
		line->content_end--;
		line->bare_lf = false;
	} else {
		line->bare_lf = true;
	}
}

void message_header_iter_init(struct message_header_iter *iter, const uint8_t *data, size_t len,
			      const struct message_header_limits *limits)
{
	memset(iter, 0, sizeof(*iter));
	iter->data = data;
	iter->len = len;
	iter->limits = limits != NULL ? *limits : message_header_default_limits;
}

void message_header_iter_deinit(struct message_header_iter *iter)
{
	I_FREE(iter->unfold_);
	iter->unfold_alloc_ = 0;
}

static bool is_name_char(uint8_t c)
{
	/* RFC 5322 ftext: printable US-ASCII except the colon. */
	return c >= 33 && c <= 126 && c != ':';
}

/* Splits the first line into name and value; false when it is not a field. */
static bool field_split_name(const uint8_t *data, const struct hdr_line *line, size_t *name_end_r,
			     size_t *colon_r)
{
	const uint8_t *colon = memchr(data + line->start, ':', line->content_end - line->start);
	size_t end;

	if (colon == NULL)
		return false;
	*colon_r = (size_t)(colon - data);
	end = *colon_r;
	/* RFC 5322 obs-optional allows whitespace before the colon. */
	while (end > line->start && message_is_wsp(data[end - 1]))
		end--;
	if (end == line->start)
		return false;
	for (size_t i = line->start; i < end; i++) {
		if (!is_name_char(data[i]))
			return false;
	}
	*name_end_r = end;
	return true;
}

static void iter_fail(struct message_header_iter *iter, size_t pos, const char *error)
{
	iter->pos = pos;
	iter->done = true;
	iter->error = error;
}

static void iter_finish(struct message_header_iter *iter, size_t body_offset, bool blank)
{
	iter->done = true;
	iter->have_blank_line = blank;
	iter->body_offset = body_offset;
	iter->pos = body_offset;
}

/* Removes folding line ends from the raw value into the iterator's storage. */
static void field_unfold(struct message_header_iter *iter, struct message_header_field *field)
{
	const uint8_t *p = field->raw_value, *end = p + field->raw_value_len;
	uint8_t *w;

	if (iter->unfold_alloc_ < field->raw_value_len + 1) {
		size_t n = field->raw_value_len + 1;

		if (n < 256)
			n = 256;
		iter->unfold_ = i_realloc(iter->unfold_, n);
		iter->unfold_alloc_ = n;
	}
	w = iter->unfold_;
	while (p < end) {
		const uint8_t *lf = memchr(p, '\n', (size_t)(end - p));
		size_t n = lf == NULL ? (size_t)(end - p) : (size_t)(lf - p);

		if (lf != NULL && n > 0 && p[n - 1] == '\r')
			n--;
		memcpy(w, p, n);
		w += n;
		if (lf == NULL)
			break;
		p = lf + 1;
	}
	field->value = iter->unfold_;
	field->value_len = (size_t)(w - iter->unfold_);
}

static void field_trim_value(struct message_header_field *field)
{
	const uint8_t *v = field->value;
	size_t n = field->value_len;

	while (n > 0 && message_is_wsp(v[0])) {
		v++;
		n--;
	}
	while (n > 0 && message_is_wsp(v[n - 1]))
		n--;
	field->value = v;
	field->value_len = n;
}

enum message_header_result message_header_iter_next(struct message_header_iter *iter,
						    struct message_header_field *field_r)
{
	const uint8_t *data = iter->data;
	struct hdr_line line;
	size_t name_end, colon, start, last_content_end;
	bool folded = false;

	memset(field_r, 0, sizeof(*field_r));
	if (iter->done)
		return iter->error != NULL ? MESSAGE_HEADER_RESULT_LIMIT
					   : MESSAGE_HEADER_RESULT_END;
	if (iter->pos >= iter->len) {
		iter_finish(iter, iter->len, false);
		return MESSAGE_HEADER_RESULT_END;
	}
	start = iter->pos;
	hdr_line_read(data, iter->len, start, &line);
	if (line.has_lf && line.content_end == line.start) {
		/* The blank line that ends the header block. */
		iter->header_size += line.next - line.start;
		iter->header_vsize += line.next - line.start + (line.bare_lf ? 1 : 0);
		iter->header_lines++;
		iter_finish(iter, line.next, true);
		return MESSAGE_HEADER_RESULT_END;
	}
	if (iter->field_count >= iter->limits.max_fields) {
		iter_fail(iter, start, "Too many header fields");
		return MESSAGE_HEADER_RESULT_LIMIT;
	}

	field_r->offset = start;
	if (!message_is_wsp(data[start]) && field_split_name(data, &line, &name_end, &colon)) {
		field_r->name = data + start;
		field_r->name_len = name_end - start;
		field_r->raw_value = data + colon + 1;
	} else {
		field_r->malformed = true;
		field_r->name = data + start;
		field_r->name_len = 0;
		field_r->raw_value = data + start;
	}

	/* The field continues on every following line that starts with WSP. */
	for (;;) {
		size_t line_len = line.content_end - line.start;

		if (line_len > iter->limits.max_line) {
			iter_fail(iter, start, "Header line too long");
			return MESSAGE_HEADER_RESULT_LIMIT;
		}
		if (line.next - start > iter->limits.max_field) {
			iter_fail(iter, start, "Header field too large");
			return MESSAGE_HEADER_RESULT_LIMIT;
		}
		field_r->lines++;
		field_r->vsize += line.next - line.start + (line.bare_lf ? 1 : 0);
		last_content_end = line.content_end;
		if (line.next >= iter->len || !message_is_wsp(data[line.next]))
			break;
		hdr_line_read(data, iter->len, line.next, &line);
		folded = true;
	}
	field_r->size = line.next - start;
	field_r->raw_value_len = (size_t)(data + last_content_end - field_r->raw_value);

	if (folded) {
		field_unfold(iter, field_r);
	} else {
		field_r->value = field_r->raw_value;
		field_r->value_len = field_r->raw_value_len;
	}
	field_trim_value(field_r);

	iter->field_count++;
	if (field_r->malformed)
		iter->malformed_count++;
	iter->header_size += field_r->size;
	iter->header_vsize += field_r->vsize;
	iter->header_lines += field_r->lines;
	iter->pos = line.next;
	return MESSAGE_HEADER_RESULT_FIELD;
}

bool message_header_name_is(const struct message_header_field *field, const char *name)
{
	return message_mem_caseeq_str(field->name, field->name_len, name);
}

void message_header_find_end(const uint8_t *data, size_t len, size_t *header_size_r,
			     size_t *header_vsize_r, size_t *body_offset_r)
{
	size_t pos = 0, lf, bare;

	/* A blank line is an LF at the start of the data or right after an LF,
	   optionally with a CR before it. */
	while (pos < len) {
		const uint8_t *q = memchr(data + pos, '\n', len - pos);
		size_t at;

		if (q == NULL) {
			pos = len;
			break;
		}
		at = (size_t)(q - data);
		if (at == 0 || data[at - 1] == '\n' ||
		    (data[at - 1] == '\r' && (at == 1 || data[at - 2] == '\n'))) {
			pos = at + 1;
			break;
		}
		pos = at + 1;
	}
	message_count_lf(data, pos, &lf, &bare);
	*header_size_r = pos;
	*header_vsize_r = pos + bare;
	*body_offset_r = pos;
}

int message_header_get_all(struct pool *pool, const uint8_t *data, size_t len, const char *name,
			   struct message_header_value **values_r, const char **error_r)
{
	struct message_header_iter iter;
	struct message_header_field field;
	struct message_header_value *values = NULL;
	size_t count = 0, alloc = 0;
	enum message_header_result ret;
	int result = -1;

	*values_r = NULL;
	message_header_iter_init(&iter, data, len, NULL);
	while ((ret = message_header_iter_next(&iter, &field)) == MESSAGE_HEADER_RESULT_FIELD) {
		char *v;

		if (!message_header_name_is(&field, name))
			continue;
		if (count == alloc) {
			size_t nalloc = alloc == 0 ? 4 : alloc * 2;

			values = p_realloc(pool, values, alloc * sizeof(*values),
					   nalloc * sizeof(*values));
			if (values == NULL)
				goto nomem;
			alloc = nalloc;
		}
		v = p_strndup(pool, field.value, field.value_len);
		if (v == NULL)
			goto nomem;
		values[count].value = v;
		values[count].len = field.value_len;
		count++;
	}
	if (ret == MESSAGE_HEADER_RESULT_LIMIT) {
		*error_r = iter.error;
		goto out;
	}
	*values_r = count > 0 ? values : NULL;
	result = (int)count;
	goto out;
nomem:
	*error_r = "Out of memory for header values (pool limit)";
out:
	message_header_iter_deinit(&iter);
	return result;
}

const char *message_header_get_first(struct pool *pool, const uint8_t *data, size_t len,
				     const char *name)
{
	struct message_header_iter iter;
	struct message_header_field field;
	const char *ret = NULL;

	message_header_iter_init(&iter, data, len, NULL);
	while (message_header_iter_next(&iter, &field) == MESSAGE_HEADER_RESULT_FIELD) {
		if (message_header_name_is(&field, name)) {
			ret = message_p_strndup(pool, field.value, field.value_len);
			break;
		}
	}
	message_header_iter_deinit(&iter);
	return ret;
}
