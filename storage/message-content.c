/*
 * MIME structured header value parsing (see message-content.h). Runs in
 * the sandboxed mail processes on untrusted values: every scan is bounded by
 * the value's length, comments are skipped iteratively, and the number of
 * parameters is capped so the RFC 2231 joining stays cheap.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "pool.h"
#include "xalloc.h"
#include "charset.h"
#include "rfc2047.h"
#include "message-util.h"
#include "message-content.h"

struct content_lexer {
	const uint8_t *in;
	size_t len;
	size_t pos;
};

static bool is_tspecial(uint8_t c)
{
	return strchr("()<>@,;:\\\"/[]?=", c) != NULL && c != '\0';
}

static bool is_token_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f && !is_tspecial(c);
}

static void skip_cfws(struct content_lexer *lx)
{
	while (lx->pos < lx->len) {
		uint8_t c = lx->in[lx->pos];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			lx->pos++;
		} else if (c == '(') {
			size_t depth = 0;

			while (lx->pos < lx->len) {
				c = lx->in[lx->pos++];
				if (c == '\\')
					lx->pos++;
				else if (c == '(')
					depth++;
				else if (c == ')' && --depth == 0)
					break;
			}
			if (lx->pos > lx->len)
				lx->pos = lx->len;
		} else {
			break;
		}
	}
}

/* A run of token characters; its length may be 0. */
static size_t read_token(struct content_lexer *lx, const uint8_t **p_r)
{
	size_t start = lx->pos;

	while (lx->pos < lx->len && is_token_char(lx->in[lx->pos]))
		lx->pos++;
	*p_r = lx->in + start;
	return lx->pos - start;
}

/* Moves past the next ';' that is not inside a quoted string. */
static void skip_to_semicolon(struct content_lexer *lx)
{
	bool quoted = false;

	while (lx->pos < lx->len) {
		uint8_t c = lx->in[lx->pos];

		if (quoted && c == '\\') {
			lx->pos += 2;
			continue;
		}
		if (c == '"')
			quoted = !quoted;
		else if (c == ';' && !quoted)
			return;
		lx->pos++;
	}
	if (lx->pos > lx->len)
		lx->pos = lx->len;
}

/* Reads a parameter value (quoted string or bare run) into b. */
static void read_value(struct content_lexer *lx, struct buf *b)
{
	if (lx->pos < lx->len && lx->in[lx->pos] == '"') {
		lx->pos++;
		while (lx->pos < lx->len && lx->in[lx->pos] != '"') {
			if (lx->in[lx->pos] == '\\' && lx->pos + 1 < lx->len)
				lx->pos++;
			(void)buf_append_c(b, lx->in[lx->pos]);
			lx->pos++;
		}
		if (lx->pos < lx->len)
			lx->pos++;
		return;
	}
	/* Bare values in the wild hold '/', '=', '?' and more: read up to the
	   next whitespace or ';' like other servers. */
	size_t start = lx->pos;

	while (lx->pos < lx->len) {
		uint8_t c = lx->in[lx->pos];

		if (c == ';' || c == ' ' || c == '\t' || c == '\r' || c == '\n')
			break;
		lx->pos++;
	}
	(void)buf_append(b, lx->in + start, lx->pos - start);
}

/* RFC 2231 view of a parameter name. */
struct rfc2231_name {
	size_t base_len;
	/* -1 for "name*" (extended, no sections), else the section number. */
	int section;
	bool extended;
};

static bool rfc2231_split(const char *name, struct rfc2231_name *r)
{
	const char *star = strchr(name, '*');
	unsigned int section = 0;
	const char *p;

	if (star == NULL || star == name)
		return false;
	r->base_len = (size_t)(star - name);
	if (star[1] == '\0') {
		r->section = -1;
		r->extended = true;
		return true;
	}
	p = star + 1;
	if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
		return false;
	while (*p >= '0' && *p <= '9') {
		section = section * 10 + (unsigned int)(*p - '0');
		if (section > MESSAGE_PARAM_MAX_SECTION)
			return false;
		p++;
	}
	if (*p == '*' && p[1] == '\0')
		r->extended = true;
	else if (*p == '\0')
		r->extended = false;
	else
		return false;
	r->section = (int)section;
	return true;
}

struct section_ref {
	unsigned int index;
	int section;
};

static int section_cmp(const void *a, const void *b)
{
	const struct section_ref *sa = a, *sb = b;

	if (sa->section != sb->section)
		return sa->section < sb->section ? -1 : 1;
	return sa->index < sb->index ? -1 : (sa->index > sb->index ? 1 : 0);
}

/* Appends an unextended section to an extended value, escaping what a
   percent-decoder would otherwise change. */
static void append_pct_escaped(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		uint8_t c = (uint8_t)*s;

		if (c == '%' || c < 0x20 || c >= 0x7f) {
			(void)buf_append_c(b, '%');
			(void)buf_append_c(b, (uint8_t)hex[c >> 4]);
			(void)buf_append_c(b, (uint8_t)hex[c & 15]);
		} else {
			(void)buf_append_c(b, c);
		}
	}
}

/*
 * Joins RFC 2231 sections "name*0", "name*1*", ... into one parameter at the
 * position of the first section. Parameters are capped, so the quadratic
 * grouping is bounded.
 */
static bool rfc2231_join(struct pool *pool, struct message_param *params, unsigned int *count)
{
	unsigned int n = *count, out = 0;
	bool any = false;

	for (unsigned int i = 0; i < n && !any; i++)
		any = strchr(params[i].name, '*') != NULL;
	if (!any)
		return true;

	bool *used = i_calloc(n == 0 ? 1 : n, sizeof(*used));
	struct section_ref *refs = i_calloc(n == 0 ? 1 : n, sizeof(*refs));
	struct buf value = BUF_INIT(SIZE_MAX / 2);
	bool ok = true;

	for (unsigned int i = 0; i < n; i++) {
		struct rfc2231_name r, r2;
		unsigned int nrefs = 0;
		bool any_extended = false;
		char *name;

		if (used[i])
			continue;
		if (!rfc2231_split(params[i].name, &r) || r.section < 0) {
			params[out++] = params[i];
			continue;
		}
		for (unsigned int j = i; j < n; j++) {
			if (used[j] || !rfc2231_split(params[j].name, &r2) || r2.section < 0 ||
			    r2.base_len != r.base_len ||
			    !message_mem_caseeq(params[j].name, params[i].name, r.base_len))
				continue;
			used[j] = true;
			refs[nrefs].index = j;
			refs[nrefs].section = r2.section;
			nrefs++;
			any_extended |= r2.extended;
		}
		qsort(refs, nrefs, sizeof(*refs), section_cmp);
		buf_reset(&value);
		for (unsigned int k = 0; k < nrefs; k++) {
			const struct message_param *p = &params[refs[k].index];

			if (k > 0 && refs[k].section == refs[k - 1].section)
				continue; /* a repeated section: the first one wins */
			(void)rfc2231_split(p->name, &r2);
			if (!any_extended || r2.extended) {
				(void)buf_append_str(&value, p->value);
			} else {
				if (k == 0)
					(void)buf_append_str(&value, "''");
				append_pct_escaped(&value, p->value);
			}
		}
		name = p_strdup_printf(pool, "%.*s%s", (int)r.base_len, params[i].name,
				       any_extended ? "*" : "");
		params[out].name = name;
		params[out].value = p_strndup(pool, buf_data(&value), buf_len(&value));
		if (name == NULL || params[out].value == NULL) {
			ok = false;
			break;
		}
		out++;
	}
	buf_free(&value);
	free(used);
	free(refs);
	*count = out;
	return ok;
}

bool message_content_parse(struct pool *pool, const uint8_t *value, size_t len, bool with_subtype,
			   struct message_content *content_r)
{
	struct content_lexer lx = {value, len, 0};
	const uint8_t *type, *subtype = NULL, *name;
	size_t type_len, subtype_len = 0, name_len;
	struct buf v = BUF_INIT(len + 1);
	unsigned int alloc = 0;

	memset(content_r, 0, sizeof(*content_r));
	skip_cfws(&lx);
	type_len = read_token(&lx, &type);
	if (with_subtype) {
		skip_cfws(&lx);
		if (lx.pos < len && value[lx.pos] == '/') {
			lx.pos++;
			skip_cfws(&lx);
			subtype_len = read_token(&lx, &subtype);
		}
		if (subtype_len == 0)
			content_r->invalid = true;
	}
	if (type_len == 0)
		content_r->invalid = true;
	content_r->type = p_strndup(pool, type, type_len);
	content_r->subtype = with_subtype ? p_strndup(pool, subtype, subtype_len) : NULL;
	if (content_r->type == NULL || (with_subtype && content_r->subtype == NULL))
		return false;

	while (lx.pos < len) {
		struct message_param *param;

		skip_cfws(&lx);
		if (lx.pos >= len)
			break;
		if (value[lx.pos] != ';') {
			/* Junk where a ';' belongs: skip to the next parameter. */
			skip_to_semicolon(&lx);
			continue;
		}
		lx.pos++;
		skip_cfws(&lx);
		name_len = read_token(&lx, &name);
		skip_cfws(&lx);
		if (name_len == 0 || lx.pos >= len || value[lx.pos] != '=') {
			/* "charset" without a value: ignored, as other servers do. */
			skip_to_semicolon(&lx);
			continue;
		}
		lx.pos++;
		skip_cfws(&lx);
		buf_reset(&v);
		read_value(&lx, &v);
		if (content_r->params_count >= MESSAGE_PARAMS_MAX_DEFAULT) {
			content_r->params_limited = true;
			continue;
		}
		if (content_r->params_count == alloc) {
			unsigned int nalloc = alloc == 0 ? 4 : alloc * 2;

			content_r->params = p_realloc(pool, content_r->params,
						      alloc * sizeof(*content_r->params),
						      nalloc * sizeof(*content_r->params));
			if (content_r->params == NULL)
				goto nomem;
			alloc = nalloc;
		}
		param = &content_r->params[content_r->params_count++];
		param->name = p_strndup(pool, name, name_len);
		param->value = message_p_strndup(pool, buf_data(&v), buf_len(&v));
		if (param->name == NULL || param->value == NULL)
			goto nomem;
	}
	buf_free(&v);
	return rfc2231_join(pool, content_r->params, &content_r->params_count);
nomem:
	buf_free(&v);
	return false;
}

const char *message_param_get(const struct message_param *params, unsigned int count,
			      const char *name)
{
	for (unsigned int i = 0; i < count; i++) {
		if (strcasecmp(params[i].name, name) == 0)
			return params[i].value;
	}
	return NULL;
}

static int hex_digit(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = message_ascii_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static const char *decode_extended(struct pool *pool, const char *value)
{
	const char *q1 = strchr(value, '\''), *q2 = q1 == NULL ? NULL : strchr(q1 + 1, '\'');
	const char *text = q2 != NULL ? q2 + 1 : value;
	char charset[CHARSET_NAME_MAX + 1] = "";
	size_t n = strlen(text);
	struct buf raw = BUF_INIT(n + 1), out = BUF_INIT(n * 4 + 16);
	const char *ret;

	if (q2 != NULL && q1 > value && (size_t)(q1 - value) <= CHARSET_NAME_MAX)
		(void)str_copy_n(charset, sizeof(charset), value, (size_t)(q1 - value));
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (text[i] == '%' && i + 2 < n && (hi = hex_digit((uint8_t)text[i + 1])) >= 0 &&
		    (lo = hex_digit((uint8_t)text[i + 2])) >= 0) {
			(void)buf_append_c(&raw, (uint8_t)(hi * 16 + lo));
			i += 2;
		} else {
			(void)buf_append_c(&raw, (uint8_t)text[i]);
		}
	}
	if (charset[0] == '\0' ||
	    charset_to_utf8(charset, buf_data(&raw), buf_len(&raw), &out) == CHARSET_RESULT_UNKNOWN)
		(void)charset_utf8_sanitize(buf_data(&raw), buf_len(&raw), &out);
	ret = message_p_strndup(pool, buf_data(&out), buf_len(&out));
	buf_free(&raw);
	buf_free(&out);
	return ret;
}

const char *message_param_get_utf8(struct pool *pool, const struct message_param *params,
				   unsigned int count, const char *name)
{
	size_t name_len = strlen(name);
	const char *plain = NULL, *ret;
	struct buf out;

	for (unsigned int i = 0; i < count; i++) {
		const char *pn = params[i].name;

		if (strncasecmp(pn, name, name_len) != 0)
			continue;
		if (pn[name_len] == '*' && pn[name_len + 1] == '\0')
			return decode_extended(pool, params[i].value);
		if (pn[name_len] == '\0' && plain == NULL)
			plain = params[i].value;
	}
	if (plain == NULL)
		return NULL;
	buf_init(&out, strlen(plain) * 4 + 16);
	(void)rfc2047_decode((const uint8_t *)plain, strlen(plain), &out, NULL);
	ret = message_p_strndup(pool, buf_data(&out), buf_len(&out));
	buf_free(&out);
	return ret;
}

int message_content_languages(struct pool *pool, const uint8_t *value, size_t len,
			      const char ***langs_r)
{
	struct content_lexer lx = {value, len, 0};
	const char **langs = NULL;
	unsigned int count = 0, alloc = 0;

	*langs_r = NULL;
	while (lx.pos < len && count < MESSAGE_LANGUAGES_MAX) {
		size_t start;

		skip_cfws(&lx);
		start = lx.pos;
		while (lx.pos < len) {
			uint8_t c = value[lx.pos];

			if (c == ',' || c == ' ' || c == '\t' || c == '(' || c == '\r' || c == '\n')
				break;
			lx.pos++;
		}
		if (lx.pos > start) {
			if (count == alloc) {
				unsigned int nalloc = alloc == 0 ? 4 : alloc * 2;

				langs = p_realloc(pool, langs, alloc * sizeof(*langs),
						  nalloc * sizeof(*langs));
				if (langs == NULL)
					return -1;
				alloc = nalloc;
			}
			langs[count] = message_p_strndup(pool, value + start, lx.pos - start);
			if (langs[count] == NULL)
				return -1;
			count++;
		}
		skip_cfws(&lx);
		if (lx.pos < len && value[lx.pos] == ',')
			lx.pos++;
		else if (lx.pos < len && lx.pos == start)
			lx.pos++; /* a stray character: step over it */
	}
	*langs_r = count > 0 ? langs : NULL;
	return (int)count;
}
