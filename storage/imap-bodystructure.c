/*
 * BODY/BODYSTRUCTURE writer (see imap-bodystructure.h). Runs in roost-imap
 * on trees parsed from untrusted mail. The tree's depth is capped by the
 * parser, which bounds this writer's recursion; strings are quoted by
 * imap-quote and numbers come from the parser, never from the message text.
 */
#include <strings.h>

#include "buf.h"
#include "pool.h"
#include "imap-envelope.h"
#include "imap-quote.h"
#include "message-part.h"
#include "imap-bodystructure.h"

#define ENVELOPE_POOL_MAX (16U * 1024 * 1024)

struct bs_ctx {
	struct buf *out;
	bool extended;
	unsigned int flags;
	const char *error;
};

static bool bs_str(struct bs_ctx *ctx, const char *s)
{
	return imap_write_nstring(ctx->out, s, ctx->flags);
}

static bool bs_params(struct bs_ctx *ctx, const struct message_param *params, unsigned int count,
		      bool add_charset)
{
	struct buf *out = ctx->out;
	bool ok;

	if (count == 0 && !add_charset)
		return buf_append_str(out, "NIL");
	ok = buf_append_c(out, '(');
	for (unsigned int i = 0; i < count && ok; i++) {
		if (i > 0)
			ok = buf_append_c(out, ' ');
		ok = ok && bs_str(ctx, params[i].name) && buf_append_c(out, ' ') &&
		     bs_str(ctx, params[i].value);
	}
	if (ok && add_charset)
		ok = buf_append_str(out, count > 0 ? " \"charset\" \"us-ascii\""
						   : "\"charset\" \"us-ascii\"");
	return ok && buf_append_c(out, ')');
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc */
static bool bs_ext_common(struct bs_ctx *ctx, const struct message_part *part)
{
	struct buf *out = ctx->out;
	bool ok = true;

	if (part->disposition == NULL) {
		ok = buf_append_str(out, "NIL");
	} else {
		ok = buf_append_c(out, '(') && bs_str(ctx, part->disposition) &&
		     buf_append_c(out, ' ') &&
		     bs_params(ctx, part->disp_params, part->disp_params_count, false) &&
		     buf_append_c(out, ')');
	}
	ok = ok && buf_append_c(out, ' ');
	if (ok && part->languages_count == 0) {
		ok = buf_append_str(out, "NIL");
	} else if (ok) {
		ok = buf_append_c(out, '(');
		for (unsigned int i = 0; i < part->languages_count && ok; i++) {
			if (i > 0)
				ok = buf_append_c(out, ' ');
			ok = ok && bs_str(ctx, part->languages[i]);
		}
		ok = ok && buf_append_c(out, ')');
	}
	return ok && buf_append_c(out, ' ') && bs_str(ctx, part->location);
}

/* The body of an empty or unparsable container. */
static bool bs_empty_text(struct bs_ctx *ctx)
{
	return buf_append_str(ctx->out, ctx->extended
						? "(\"text\" \"plain\" (\"charset\" \"us-ascii\") "
						  "NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)"
						: "(\"text\" \"plain\" (\"charset\" \"us-ascii\") "
						  "NIL NIL \"7bit\" 0 0)");
}

static bool bs_part(struct bs_ctx *ctx, const struct message_part *part);

static bool has_charset(const struct message_part *part)
{
	return message_param_get(part->params, part->params_count, "charset") != NULL ||
	       message_param_get(part->params, part->params_count, "charset*") != NULL;
}

static bool bs_multipart(struct bs_ctx *ctx, const struct message_part *part)
{
	struct buf *out = ctx->out;
	bool ok = buf_append_c(out, '(');

	if (part->children == NULL)
		ok = ok && bs_empty_text(ctx);
	for (const struct message_part *c = part->children; c != NULL && ok; c = c->next)
		ok = bs_part(ctx, c);
	ok = ok && buf_append_c(out, ' ') && bs_str(ctx, part->subtype);
	if (ok && ctx->extended) {
		ok = buf_append_c(out, ' ') &&
		     bs_params(ctx, part->params, part->params_count, false) &&
		     buf_append_c(out, ' ') && bs_ext_common(ctx, part);
	}
	return ok && buf_append_c(out, ')');
}

static bool bs_envelope(struct bs_ctx *ctx, const struct message_part *child)
{
	struct pool *pool;
	struct imap_envelope *env;
	bool ok;

	if (child == NULL)
		return imap_envelope_write_empty(ctx->out);
	pool = pool_create(ENVELOPE_POOL_MAX);
	ok = imap_envelope_parse(pool, child->msg + child->header_offset, child->header_size, &env,
				 &ctx->error);
	if (ok && !imap_envelope_write(ctx->out, env, ctx->flags))
		ok = false;
	pool_destroy(&pool);
	return ok;
}

static bool bs_part(struct bs_ctx *ctx, const struct message_part *part)
{
	struct buf *out = ctx->out;
	bool text = (part->flags & MESSAGE_PART_FLAG_TEXT) != 0;
	bool ok;

	if ((part->flags & MESSAGE_PART_FLAG_MULTIPART) != 0)
		return bs_multipart(ctx, part);

	ok = buf_append_c(out, '(') && bs_str(ctx, part->type) && buf_append_c(out, ' ') &&
	     bs_str(ctx, part->subtype) && buf_append_c(out, ' ') &&
	     bs_params(ctx, part->params, part->params_count, text && !has_charset(part)) &&
	     buf_append_c(out, ' ') && bs_str(ctx, part->content_id) && buf_append_c(out, ' ') &&
	     bs_str(ctx, part->description) && buf_append_c(out, ' ') &&
	     bs_str(ctx, part->encoding != NULL ? part->encoding : "7bit") &&
	     buf_printf(out, " %zu", part->body_vsize);
	if (ok && (part->flags & MESSAGE_PART_FLAG_MESSAGE) != 0) {
		ok = buf_append_c(out, ' ') && bs_envelope(ctx, part->children) &&
		     buf_append_c(out, ' ') &&
		     (part->children != NULL ? bs_part(ctx, part->children) : bs_empty_text(ctx)) &&
		     buf_printf(out, " %zu", part->body_lines);
	} else if (ok && text) {
		ok = buf_printf(out, " %zu", part->body_lines);
	}
	if (ok && ctx->extended) {
		ok = buf_append_c(out, ' ') && bs_str(ctx, part->md5) && buf_append_c(out, ' ') &&
		     bs_ext_common(ctx, part);
	}
	return ok && buf_append_c(out, ')');
}

bool imap_bodystructure_write(struct buf *out, const struct message_part *part, bool extended,
			      unsigned int flags, const char **error_r)
{
	struct bs_ctx ctx = {out, extended, flags, NULL};

	if (bs_part(&ctx, part)) {
		*error_r = NULL;
		return true;
	}
	*error_r = ctx.error != NULL ? ctx.error : "Output buffer full";
	return false;
}
