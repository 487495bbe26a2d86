/*
 * MIME structure parser (see message-part.h). Runs in the mail processes on
 * untrusted messages held in memory. One pass down the message with a stack
 * of the active multipart boundaries: a part ends at the first line that
 * matches any of them (the longest match wins, so a child boundary that
 * extends or prefixes its parent's works), which is also how a missing
 * closing boundary is recovered from. Line and CRLF counts of containers are
 * summed from their children, so each byte is counted once.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pool.h"
#include "xalloc.h"
#include "message-util.h"
#include "message-part.h"

const struct message_parse_limits message_parse_default_limits = {
	.max_depth = MESSAGE_PARSE_MAX_DEPTH_DEFAULT,
	.max_parts = MESSAGE_PARSE_MAX_PARTS_DEFAULT,
	.max_boundary = MESSAGE_PARSE_MAX_BOUNDARY_DEFAULT,
	.header =
		{
			.max_fields = MESSAGE_HEADER_MAX_FIELDS_DEFAULT,
			.max_line = MESSAGE_HEADER_MAX_LINE_DEFAULT,
			.max_field = MESSAGE_HEADER_MAX_FIELD_DEFAULT,
		},
};

struct boundary {
	const char *str;
	size_t len;
	/* Lowercased first byte, for a cheap first comparison. */
	uint8_t first;
};

/* Where a part's content stopped: at a boundary line, or at the end. */
struct bmatch {
	/* Offset of the boundary line, or the message length. */
	size_t line;
	/* Offset after the boundary line and its line end. */
	size_t after;
	/* Index into the boundary stack, -1 when the data ended. */
	int level;
	/* A closing "--boundary--" line. */
	bool close;
};

/* LF and bare-LF counts of a byte range, for summing up the tree. */
struct lf_count {
	size_t lf;
	size_t bare;
};

struct parse_ctx {
	struct pool *pool;
	const uint8_t *data;
	size_t len;
	struct message_parse_limits limits;
	struct boundary *stack;
	unsigned int stack_count;
	unsigned int parts;
	const char *limit_error;
	bool nomem;
};

static void lf_add_range(struct lf_count *c, const uint8_t *data, size_t start, size_t end)
{
	size_t lf, bare;

	if (end <= start)
		return;
	message_count_lf(data + start, end - start, &lf, &bare);
	c->lf += lf;
	c->bare += bare;
}

/* Records a limit hit that loses detail but not structure. */
static void ctx_note_limit(struct parse_ctx *ctx, const char *error)
{
	if (ctx->limit_error == NULL)
		ctx->limit_error = error;
}

/* Records a limit hit that leaves the part's body unsplit. */
static void ctx_limit(struct parse_ctx *ctx, struct message_part *part, const char *error)
{
	part->flags |= MESSAGE_PART_FLAG_LIMITED;
	ctx_note_limit(ctx, error);
}

/* The end of content before a boundary line at `line`: its line end
   belongs to the boundary (RFC 2046 5.1.1). Never goes below start. */
static size_t content_end_before(const uint8_t *data, size_t start, size_t line)
{
	size_t e = line;

	if (e > start && data[e - 1] == '\n') {
		e--;
		if (e > start && data[e - 1] == '\r')
			e--;
	}
	return e;
}

/*
 * Whether the line at p (a line start) is a boundary line of any active
 * multipart; the longest matching boundary wins. The cheapest test comes
 * first, since most lines do not even start with "--".
 */
static bool match_boundary_line(const struct parse_ctx *ctx, size_t p, struct bmatch *m)
{
	const uint8_t *data = ctx->data, *lf;
	size_t len = ctx->len, best_len = 0, e;
	uint8_t first;
	int best = -1;

	if (len - p <= 2 || data[p] != '-' || data[p + 1] != '-')
		return false;
	first = message_ascii_lower(data[p + 2]);
	/* Boundaries are case-sensitive in RFC 2046, but mail with the wrong
	   case exists and no sane boundary collides. */
	for (unsigned int i = 0; i < ctx->stack_count; i++) {
		const struct boundary *b = &ctx->stack[i];

		if (b->first == first && len - p - 2 >= b->len && b->len >= best_len &&
		    message_mem_caseeq(data + p + 2, b->str, b->len)) {
			best = (int)i;
			best_len = b->len;
		}
	}
	if (best < 0)
		return false;
	e = p + 2 + best_len;
	m->line = p;
	m->level = best;
	m->close = len - e >= 2 && data[e] == '-' && data[e + 1] == '-';
	lf = memchr(data + e, '\n', len - e);
	m->after = lf == NULL ? len : (size_t)(lf - data) + 1;
	return true;
}

static void bmatch_none(const struct parse_ctx *ctx, struct bmatch *m)
{
	m->line = m->after = ctx->len;
	m->level = -1;
	m->close = false;
}

/* The first boundary line at or after from (a line start, or the line end
   just before one). */
static void find_boundary(const struct parse_ctx *ctx, size_t from, struct bmatch *m)
{
	const uint8_t *data = ctx->data;
	size_t len = ctx->len, p = from;

	bmatch_none(ctx, m);
	if (ctx->stack_count == 0)
		return;
	while (p < len) {
		const uint8_t *lf;

		if (match_boundary_line(ctx, p, m))
			return;
		lf = memchr(data + p, '\n', len - p);
		if (lf == NULL)
			break;
		p = (size_t)(lf - data) + 1;
	}
}

/*
 * Finds where the header block at start ends: after its blank line, or at
 * a boundary line (*m is then set), whichever comes first. A boundary right
 * after the blank line also ends the part, the blank line being the
 * boundary's own line end. Looks no further than that, so a part costs
 * only what its header spans.
 */
static size_t find_header_end(const struct parse_ctx *ctx, size_t start, struct bmatch *m)
{
	const uint8_t *data = ctx->data;
	size_t len = ctx->len, p = start;
	bool check = ctx->stack_count > 0;

	bmatch_none(ctx, m);
	while (p < len) {
		const uint8_t *lf;
		size_t blank = 0;

		if (data[p] == '\n')
			blank = p + 1;
		else if (data[p] == '\r' && p + 1 < len && data[p + 1] == '\n')
			blank = p + 2;
		if (blank != 0) {
			if (check && blank < len && match_boundary_line(ctx, blank, m))
				return content_end_before(data, start, m->line);
			return blank;
		}
		if (check && match_boundary_line(ctx, p, m))
			return content_end_before(data, start, m->line);
		lf = memchr(data + p, '\n', len - p);
		if (lf == NULL)
			break;
		p = (size_t)(lf - data) + 1;
	}
	return len;
}

static char *pool_value(struct parse_ctx *ctx, const struct message_header_field *f)
{
	char *s = message_p_strndup(ctx->pool, f->value, f->value_len);

	if (s == NULL)
		ctx->nomem = true;
	return s;
}

static enum message_cte cte_parse(const char *enc)
{
	if (enc == NULL || strcasecmp(enc, "7bit") == 0)
		return MESSAGE_CTE_7BIT;
	if (strcasecmp(enc, "8bit") == 0)
		return MESSAGE_CTE_8BIT;
	if (strcasecmp(enc, "binary") == 0)
		return MESSAGE_CTE_BINARY;
	if (strcasecmp(enc, "quoted-printable") == 0)
		return MESSAGE_CTE_QP;
	if (strcasecmp(enc, "base64") == 0)
		return MESSAGE_CTE_BASE64;
	return MESSAGE_CTE_UNKNOWN;
}

/* Reads one Content-* field into the part; the first occurrence wins. */
static void part_header_field(struct parse_ctx *ctx, struct message_part *part,
			      const struct message_header_field *f, bool *have_ct)
{
	const uint8_t *n = f->name + 8;
	size_t nl = f->name_len - 8;
	struct message_content c;

	if (message_mem_caseeq_str(n, nl, "type")) {
		if (*have_ct)
			return;
		*have_ct = true;
		if (!message_content_parse(ctx->pool, f->value, f->value_len, true, &c)) {
			ctx->nomem = true;
			return;
		}
		if (c.params_limited)
			ctx_note_limit(ctx, "Too many Content-Type parameters");
		if (c.invalid)
			return;
		part->type = c.type;
		part->subtype = c.subtype;
		part->params = c.params;
		part->params_count = c.params_count;
	} else if (message_mem_caseeq_str(n, nl, "transfer-encoding")) {
		if (part->encoding != NULL)
			return;
		if (!message_content_parse(ctx->pool, f->value, f->value_len, false, &c)) {
			ctx->nomem = true;
			return;
		}
		part->encoding = c.type;
		part->cte = cte_parse(c.type);
	} else if (message_mem_caseeq_str(n, nl, "disposition")) {
		if (part->disposition != NULL)
			return;
		if (!message_content_parse(ctx->pool, f->value, f->value_len, false, &c)) {
			ctx->nomem = true;
			return;
		}
		if (c.params_limited)
			ctx_note_limit(ctx, "Too many Content-Disposition parameters");
		if (c.invalid)
			return;
		part->disposition = c.type;
		part->disp_params = c.params;
		part->disp_params_count = c.params_count;
	} else if (message_mem_caseeq_str(n, nl, "id")) {
		if (part->content_id == NULL)
			part->content_id = pool_value(ctx, f);
	} else if (message_mem_caseeq_str(n, nl, "description")) {
		if (part->description == NULL)
			part->description = pool_value(ctx, f);
	} else if (message_mem_caseeq_str(n, nl, "md5")) {
		if (part->md5 == NULL)
			part->md5 = pool_value(ctx, f);
	} else if (message_mem_caseeq_str(n, nl, "location")) {
		if (part->location == NULL)
			part->location = pool_value(ctx, f);
	} else if (message_mem_caseeq_str(n, nl, "language")) {
		int ret;

		if (part->languages != NULL)
			return;
		ret = message_content_languages(ctx->pool, f->value, f->value_len,
						&part->languages);
		if (ret < 0)
			ctx->nomem = true;
		else
			part->languages_count = (unsigned int)ret;
	}
}

/* Parses the header in [start, end) and sets the part's header fields. */
static void part_parse_header(struct parse_ctx *ctx, struct message_part *part, size_t start,
			      size_t end, struct lf_count *hdr_lf)
{
	struct message_header_iter iter;
	struct message_header_field f;
	enum message_header_result ret;
	bool have_ct = false;

	message_header_iter_init(&iter, ctx->data + start, end - start, &ctx->limits.header);
	while ((ret = message_header_iter_next(&iter, &f)) == MESSAGE_HEADER_RESULT_FIELD) {
		if (f.name_len > 8 && message_mem_caseeq(f.name, "content-", 8))
			part_header_field(ctx, part, &f, &have_ct);
		if (ctx->nomem)
			break;
	}
	part->header_offset = start;
	if (ret == MESSAGE_HEADER_RESULT_LIMIT) {
		/* The rest, from the line that broke the limit, is body. */
		ctx_limit(ctx, part, iter.error);
		part->body_offset = start + iter.pos;
	} else if (ret == MESSAGE_HEADER_RESULT_END) {
		part->body_offset = start + iter.body_offset;
		if (!iter.have_blank_line)
			part->flags |= MESSAGE_PART_FLAG_NO_BLANK_LINE;
	} else {
		part->body_offset = start + iter.pos;
	}
	message_header_iter_deinit(&iter);
	part->header_size = part->body_offset - start;
	lf_add_range(hdr_lf, ctx->data, start, part->body_offset);
	part->header_vsize = part->header_size + hdr_lf->bare;
}

/* Sets the type defaults and the MULTIPART/MESSAGE/TEXT flags. */
static void part_set_type(struct parse_ctx *ctx, struct message_part *part)
{
	const struct message_part *parent = part->parent;

	if (part->type == NULL) {
		part->flags |= MESSAGE_PART_FLAG_DEFAULT_TYPE;
		/* RFC 2046 5.1.5: in a digest the default is message/rfc822. */
		if (parent != NULL && (parent->flags & MESSAGE_PART_FLAG_MULTIPART) != 0 &&
		    strcasecmp(parent->subtype, "digest") == 0) {
			part->type = "message";
			part->subtype = "rfc822";
		} else {
			part->type = "text";
			part->subtype = "plain";
		}
	}
	if (strcasecmp(part->type, "multipart") == 0) {
		const char *b = message_param_get(part->params, part->params_count, "boundary");

		/* An RFC 2231 "boundary*" is rare but legal. */
		if (b == NULL &&
		    message_param_get(part->params, part->params_count, "boundary*") != NULL) {
			b = message_param_get_utf8(ctx->pool, part->params, part->params_count,
						   "boundary");
			if (b == NULL)
				ctx->nomem = true;
		}
		if (b == NULL || b[0] == '\0') {
			/* Unusable as a multipart: read it as text/plain, as
			   RFC 2045 5.2 says for an invalid Content-Type. */
			part->type = "text";
			part->subtype = "plain";
			part->params = NULL;
			part->params_count = 0;
			part->flags |= MESSAGE_PART_FLAG_DEFAULT_TYPE;
		} else {
			part->boundary = b;
			part->flags |= MESSAGE_PART_FLAG_MULTIPART;
			if (strlen(b) > ctx->limits.max_boundary)
				ctx_limit(ctx, part, "Multipart boundary too long");
			return;
		}
	}
	if (strcasecmp(part->type, "message") == 0 &&
	    (strcasecmp(part->subtype, "rfc822") == 0 || strcasecmp(part->subtype, "global") == 0))
		part->flags |= MESSAGE_PART_FLAG_MESSAGE;
	else if (strcasecmp(part->type, "text") == 0)
		part->flags |= MESSAGE_PART_FLAG_TEXT;
}

static struct message_part *part_new(struct parse_ctx *ctx, struct message_part *parent)
{
	struct message_part *part;

	if (ctx->parts >= ctx->limits.max_parts) {
		ctx_limit(ctx, parent, "Too many MIME parts");
		return NULL;
	}
	part = p_malloc(ctx->pool, sizeof(*part));
	if (part == NULL) {
		ctx->nomem = true;
		return NULL;
	}
	ctx->parts++;
	part->parent = parent;
	part->msg = ctx->data;
	return part;
}

static void parse_part(struct parse_ctx *ctx, struct message_part *part, size_t start,
		       unsigned int depth, struct bmatch *m, struct lf_count *total);

/* Sets the body range and its counts, and adds header+body to *total. */
static void part_finish(struct message_part *part, size_t body_end, const struct lf_count *hdr,
			const struct lf_count *body, struct lf_count *total)
{
	part->body_size = body_end - part->body_offset;
	part->body_vsize = part->body_size + body->bare;
	part->body_lines = body->lf;
	total->lf += hdr->lf + body->lf;
	total->bare += hdr->bare + body->bare;
}

/* Parses a multipart body: preamble, children, epilogue. */
static void parse_multipart(struct parse_ctx *ctx, struct message_part *part, unsigned int depth,
			    struct bmatch *m, struct lf_count *body)
{
	struct message_part *last = NULL;
	struct bmatch b;
	size_t cursor = part->body_offset, end;
	unsigned int level = ctx->stack_count;

	ctx->stack[level].str = part->boundary;
	ctx->stack[level].len = strlen(part->boundary);
	ctx->stack[level].first = message_ascii_lower((uint8_t)part->boundary[0]);
	ctx->stack_count++;

	find_boundary(ctx, part->body_offset, &b);
	for (;;) {
		struct message_part *child;

		if (b.level != (int)level) {
			/* The data or an outer part ended before our closing
			   boundary: what we have is all there is. */
			part->flags |= MESSAGE_PART_FLAG_NO_CLOSE;
			ctx->stack_count--;
			end = b.level >= 0 ? content_end_before(ctx->data, cursor, b.line)
					   : ctx->len;
			*m = b;
			break;
		}
		if (b.close) {
			/* The epilogue runs to the next outer boundary. */
			ctx->stack_count--;
			find_boundary(ctx, b.after, m);
			end = m->level >= 0 ? content_end_before(ctx->data, b.line, m->line)
					    : ctx->len;
			break;
		}
		/* Preamble or the previous child's line end, and the delimiter. */
		lf_add_range(body, ctx->data, cursor, b.after);
		cursor = b.after;
		child = part_new(ctx, part);
		if (child == NULL) {
			if (ctx->nomem)
				return;
			find_boundary(ctx, b.after, &b);
			continue;
		}
		if (last == NULL)
			part->children = child;
		else
			last->next = child;
		last = child;
		part->children_count++;
		parse_part(ctx, child, b.after, depth + 1, &b, body);
		if (ctx->nomem)
			return;
		cursor = child->body_offset + child->body_size;
	}
	lf_add_range(body, ctx->data, cursor, end);
	part->body_size = end - part->body_offset;
}

/*
 * Parses one part starting at start; *m receives the boundary line that
 * ended it (level -1: the data ended). Only the header region is looked at
 * before the type is known, so nested multiparts do not rescan the rest of
 * the message at every level.
 */
static void parse_part(struct parse_ctx *ctx, struct message_part *part, size_t start,
		       unsigned int depth, struct bmatch *m, struct lf_count *total)
{
	struct lf_count hdr = {0, 0}, body = {0, 0};
	size_t hdr_end, content_end;
	bool ended;

	hdr_end = find_header_end(ctx, start, m);
	ended = m->level >= 0;
	part_parse_header(ctx, part, start, hdr_end, &hdr);
	if (ctx->nomem)
		return;
	part_set_type(ctx, part);

	if ((part->flags & (MESSAGE_PART_FLAG_MULTIPART | MESSAGE_PART_FLAG_MESSAGE)) != 0 &&
	    (part->flags & MESSAGE_PART_FLAG_LIMITED) == 0 && depth >= ctx->limits.max_depth)
		ctx_limit(ctx, part, "MIME parts nested too deeply");
	if ((part->flags & MESSAGE_PART_FLAG_LIMITED) != 0) {
		/* Whatever limit hit this part, its body stays opaque. */
	} else if ((part->flags & MESSAGE_PART_FLAG_MULTIPART) != 0) {
		parse_multipart(ctx, part, depth, m, &body);
		if (ctx->nomem)
			return;
		part_finish(part, part->body_offset + part->body_size, &hdr, &body, total);
		return;
	} else if ((part->flags & MESSAGE_PART_FLAG_MESSAGE) != 0 &&
		   (part->cte == MESSAGE_CTE_7BIT || part->cte == MESSAGE_CTE_8BIT ||
		    part->cte == MESSAGE_CTE_BINARY)) {
		/* An encoded message/rfc822 cannot be parsed in place; it stays
		   a leaf like any other encoded body. */
		struct message_part *child = part_new(ctx, part);

		if (child != NULL) {
			part->children = child;
			part->children_count = 1;
			parse_part(ctx, child, part->body_offset, depth + 1, m, &body);
			if (ctx->nomem)
				return;
			part_finish(part, child->body_offset + child->body_size, &hdr, &body,
				    total);
			return;
		}
		if (ctx->nomem)
			return;
	}
	if (!ended)
		find_boundary(ctx, part->body_offset, m);
	content_end = m->level >= 0 ? content_end_before(ctx->data, part->body_offset, m->line)
				    : ctx->len;
	lf_add_range(&body, ctx->data, part->body_offset, content_end);
	part_finish(part, content_end, &hdr, &body, total);
}

enum message_parse_result message_parse(struct pool *pool, const uint8_t *data, size_t len,
					const struct message_parse_limits *limits,
					struct message_part **root_r, const char **error_r)
{
	struct parse_ctx ctx;
	struct message_part *root;
	struct bmatch m;
	struct lf_count total = {0, 0};

	*root_r = NULL;
	*error_r = NULL;
	memset(&ctx, 0, sizeof(ctx));
	ctx.pool = pool;
	ctx.data = data;
	ctx.len = len;
	ctx.limits = limits != NULL ? *limits : message_parse_default_limits;
	if (ctx.limits.max_parts == 0)
		ctx.limits.max_parts = 1;
	ctx.stack = i_calloc((size_t)ctx.limits.max_depth + 1, sizeof(*ctx.stack));

	root = p_malloc(pool, sizeof(*root));
	if (root != NULL) {
		root->msg = data;
		ctx.parts = 1;
		parse_part(&ctx, root, 0, 0, &m, &total);
	}
	free(ctx.stack);
	if (root == NULL || ctx.nomem) {
		*error_r = "Out of memory for the MIME structure (pool limit)";
		return MESSAGE_PARSE_ERROR;
	}
	*root_r = root;
	if (ctx.limit_error != NULL) {
		*error_r = ctx.limit_error;
		return MESSAGE_PARSE_LIMITED;
	}
	return MESSAGE_PARSE_OK;
}

bool message_part_is_type(const struct message_part *part, const char *type, const char *subtype)
{
	return strcasecmp(part->type, type) == 0 &&
	       (subtype == NULL || strcasecmp(part->subtype, subtype) == 0);
}

const struct message_part *message_part_find_section(const struct message_part *root,
						     const char *section)
{
	const struct message_part *node = root;
	bool is_message = true;
	const char *p = section;

	while (*p != '\0') {
		unsigned long n = 0;

		if (*p < '1' || *p > '9')
			return NULL;
		while (*p >= '0' && *p <= '9') {
			n = n * 10 + (unsigned long)(*p - '0');
			if (n > 1000000)
				return NULL;
			p++;
		}
		if (*p == '.' && p[1] != '\0')
			p++;
		else if (*p != '\0')
			return NULL;

		if ((node->flags & MESSAGE_PART_FLAG_MULTIPART) != 0) {
			const struct message_part *child = node->children;

			for (unsigned long i = 1; i < n && child != NULL; i++)
				child = child->next;
			if (child == NULL)
				return NULL;
			node = child;
		} else if (!(is_message && n == 1)) {
			return NULL;
		}
		is_message = false;
		if (*p != '\0' && (node->flags & MESSAGE_PART_FLAG_MESSAGE) != 0 &&
		    node->children != NULL) {
			node = node->children;
			is_message = true;
		}
	}
	return node == root && section[0] == '\0' ? NULL : node;
}

const struct message_part *message_part_next_within(const struct message_part *part,
						    const struct message_part *top)
{
	if (part->children != NULL)
		return part->children;
	while (part != top) {
		if (part->next != NULL)
			return part->next;
		part = part->parent;
	}
	return NULL;
}

unsigned int message_part_count(const struct message_part *part)
{
	unsigned int n = 0;

	for (const struct message_part *p = part; p != NULL; p = message_part_next_within(p, part))
		n++;
	return n;
}

const struct message_part *message_part_next(const struct message_part *part)
{
	const struct message_part *root = part;

	while (root->parent != NULL)
		root = root->parent;
	return message_part_next_within(part, root);
}
