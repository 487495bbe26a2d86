/*
 * RFC 2047 encoded-word decoder (see rfc2047.h). Runs in the sandboxed mail
 * processes on header text from the internet. Every scan is bounded by the
 * input length and each "=?" is examined once, so hostile input cannot make
 * decoding worse than linear.
 */
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "charset.h"
#include "message-util.h"
#include "rfc2047.h"

struct encoded_word {
	/* Charset name without any RFC 2231 "*language" suffix. */
	char charset[CHARSET_NAME_MAX + 1];
	uint8_t encoding;
	const uint8_t *text;
	size_t text_len;
	/* Offset just past the closing "?=". */
	size_t end;
};

static bool is_lwsp(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Parses "=?charset?e?text?=" at in[pos]; false when it is not one. */
static bool ew_parse(const uint8_t *in, size_t len, size_t pos, struct encoded_word *ew)
{
	size_t p = pos + 2, cs_start = p, cs_len;
	const uint8_t *q;

	while (p < len && in[p] != '?') {
		if (in[p] <= 0x20 || in[p] >= 0x7f)
			return false;
		p++;
	}
	if (p >= len)
		return false;
	cs_len = p - cs_start;
	q = memchr(in + cs_start, '*', cs_len);
	if (q != NULL)
		cs_len = (size_t)(q - (in + cs_start));
	if (cs_len == 0 || cs_len > CHARSET_NAME_MAX)
		return false;
	memcpy(ew->charset, in + cs_start, cs_len);
	ew->charset[cs_len] = '\0';
	p++;
	if (p + 2 > len || in[p + 1] != '?')
		return false;
	ew->encoding = message_ascii_lower(in[p]);
	if (ew->encoding != 'b' && ew->encoding != 'q')
		return false;
	p += 2;
	ew->text = in + p;
	/* The text ends at the first '?', which must start "?=". Spaces are
	   tolerated inside because some mailers emit them unencoded. */
	while (p < len && in[p] != '?') {
		if (in[p] == '\r' || in[p] == '\n')
			return false;
		p++;
	}
	if (p + 1 >= len || in[p + 1] != '=')
		return false;
	ew->text_len = (size_t)(in + p - ew->text);
	ew->end = p + 2;
	return true;
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = message_ascii_lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool decode_q(const uint8_t *p, size_t n, struct buf *out)
{
	size_t i = 0;

	while (i < n) {
		size_t run = i;

		while (i < n && p[i] != '=' && p[i] != '_')
			i++;
		if (!buf_append(out, p + run, i - run))
			return false;
		if (i == n)
			break;
		if (p[i] == '_') {
			if (!buf_append_c(out, ' '))
				return false;
			i++;
			continue;
		}
		if (i + 2 >= n)
			return false;
		int hi = hex_value(p[i + 1]), lo = hex_value(p[i + 2]);

		if (hi < 0 || lo < 0)
			return false;
		if (!buf_append_c(out, (uint8_t)(hi * 16 + lo)))
			return false;
		i += 3;
	}
	return true;
}

static int b64_value(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static bool decode_b(const uint8_t *p, size_t n, struct buf *out)
{
	uint32_t acc = 0;
	unsigned int bits = 0;
	bool padding = false;

	for (size_t i = 0; i < n; i++) {
		int v;

		if (p[i] == ' ' || p[i] == '\t')
			continue;
		if (p[i] == '=') {
			padding = true;
			continue;
		}
		v = b64_value(p[i]);
		/* Data after padding or outside the alphabet: not base64. */
		if (v < 0 || padding)
			return false;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (!buf_append_c(out, (uint8_t)(acc >> bits)))
				return false;
			acc &= (1U << bits) - 1;
		}
	}
	/* A lone sextet at the end cannot hold a byte. */
	return bits < 6;
}

struct rfc2047_ctx {
	struct buf *out;
	/* Decoded bytes of adjacent words in one charset, not yet converted. */
	struct buf pending;
	char pending_charset[CHARSET_NAME_MAX + 1];
	unsigned int flags;
};

static bool ctx_flush(struct rfc2047_ctx *ctx)
{
	enum charset_result ret;

	if (buf_len(&ctx->pending) == 0)
		return true;
	ret = charset_to_utf8(ctx->pending_charset, buf_data(&ctx->pending), buf_len(&ctx->pending),
			      ctx->out);
	if (ret == CHARSET_RESULT_UNKNOWN) {
		ctx->flags |= RFC2047_FLAG_UNKNOWN_CHARSET;
		ret = charset_utf8_sanitize(buf_data(&ctx->pending), buf_len(&ctx->pending),
					    ctx->out);
	}
	buf_reset(&ctx->pending);
	if (ret == CHARSET_RESULT_INVALID_INPUT)
		ctx->flags |= RFC2047_FLAG_INVALID_INPUT;
	return ret != CHARSET_RESULT_LIMIT;
}

static bool ctx_raw(struct rfc2047_ctx *ctx, const uint8_t *p, size_t n)
{
	enum charset_result ret;

	if (n == 0)
		return true;
	if (!ctx_flush(ctx))
		return false;
	ret = charset_utf8_sanitize(p, n, ctx->out);
	if (ret == CHARSET_RESULT_INVALID_INPUT)
		ctx->flags |= RFC2047_FLAG_INVALID_INPUT;
	return ret != CHARSET_RESULT_LIMIT;
}

static bool only_lwsp(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!is_lwsp(p[i]))
			return false;
	}
	return true;
}

bool rfc2047_decode(const uint8_t *in, size_t len, struct buf *out, unsigned int *flags_r)
{
	struct rfc2047_ctx ctx;
	struct encoded_word ew;
	struct buf word;
	size_t pos = 0, text_start = 0;
	bool after_word = false, ok = true;

	memset(&ctx, 0, sizeof(ctx));
	ctx.out = out;
	/* Decoded words are never longer than their encoded form. */
	buf_init(&ctx.pending, len + 1);
	buf_init(&word, len + 1);

	while (pos + 1 < len) {
		const uint8_t *q = memchr(in + pos, '=', len - pos - 1);
		size_t at;
		bool decoded;

		if (q == NULL)
			break;
		at = (size_t)(q - in);
		if (in[at + 1] != '?' || !ew_parse(in, len, at, &ew)) {
			pos = at + 1;
			continue;
		}
		buf_reset(&word);
		if (ew.encoding == 'q')
			decoded = decode_q(ew.text, ew.text_len, &word);
		else
			decoded = decode_b(ew.text, ew.text_len, &word);
		if (!decoded) {
			/* Keep the malformed word as text; look past its "=?". */
			ctx.flags |= RFC2047_FLAG_MALFORMED;
			pos = at + 2;
			continue;
		}
		/* Text before the word goes out as it is, unless it is only the
		   whitespace that separates two encoded words. */
		if (!(after_word && only_lwsp(in + text_start, at - text_start)) &&
		    !ctx_raw(&ctx, in + text_start, at - text_start)) {
			ok = false;
			break;
		}
		if (buf_len(&ctx.pending) > 0 && strcasecmp(ew.charset, ctx.pending_charset) != 0 &&
		    !ctx_flush(&ctx)) {
			ok = false;
			break;
		}
		(void)buf_append(&ctx.pending, buf_data(&word), buf_len(&word));
		(void)str_copy(ctx.pending_charset, sizeof(ctx.pending_charset), ew.charset);
		ctx.flags |= RFC2047_FLAG_DECODED;
		after_word = true;
		pos = text_start = ew.end;
	}
	if (ok)
		ok = ctx_raw(&ctx, in + text_start, len - text_start) && ctx_flush(&ctx);
	buf_free(&word);
	buf_free(&ctx.pending);
	if (flags_r != NULL)
		*flags_r = ctx.flags;
	return ok;
}
