/*
 * Transfer and charset decoding of message bodies (see message-decode.h).
 * Runs in roost-imap and roost-lda on untrusted bodies. The decoders are
 * table- and memchr-driven loops with no per-byte calls through pointers;
 * what a piece cannot decide alone is held back in a small bounded carry.
 */
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "message-util.h"
#include "message-decode.h"

/* Longest run of white space at the end of a quoted-printable piece that is
   held back to see whether a line end follows; longer runs are content. */
#define QP_WS_CARRY_MAX 4096

#define B64_INVALID 0x40
#define B64_PAD	    0x41
#define B64_SPACE   0x42

static uint8_t b64_table[256];
static bool b64_table_ready;

static void b64_table_init(void)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	memset(b64_table, B64_INVALID, sizeof(b64_table));
	for (unsigned int i = 0; i < 64; i++)
		b64_table[(uint8_t)alphabet[i]] = (uint8_t)i;
	b64_table['='] = B64_PAD;
	b64_table[' '] = B64_SPACE;
	b64_table['\t'] = B64_SPACE;
	b64_table['\r'] = B64_SPACE;
	b64_table['\n'] = B64_SPACE;
	b64_table_ready = true;
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

void message_decoder_init(struct message_decoder *dec, enum message_cte cte)
{
	memset(dec, 0, sizeof(*dec));
	dec->cte = cte;
	if (!b64_table_ready)
		b64_table_init();
	buf_init(&dec->carry, SIZE_MAX / 2);
}

static bool base64_feed(struct message_decoder *dec, const uint8_t *in, size_t len, struct buf *out)
{
	uint32_t acc = dec->acc;
	unsigned int bits = dec->bits;
	size_t n = 0, room = len / 4 * 3 + 3;
	uint8_t *w = buf_reserve(out, room);

	if (w == NULL) {
		/* Not enough room for the worst case: decode what fits. */
		room = buf_room(out);
		w = buf_reserve(out, room);
		if (w == NULL)
			return false;
	}
	for (size_t i = 0; i < len; i++) {
		uint8_t v = b64_table[in[i]];

		if (v < 64) {
			acc = (acc << 6) | v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				if (n == room) {
					buf_commit(out, n);
					dec->acc = acc;
					dec->bits = bits;
					return false;
				}
				w[n++] = (uint8_t)(acc >> bits);
				acc &= (1U << bits) - 1;
			}
		} else if (v == B64_PAD) {
			/* End of a base64 stream; mail sometimes concatenates
			   several, so whatever follows starts afresh. */
			if (bits >= 6)
				dec->repaired = true;
			acc = 0;
			bits = 0;
		} else if (v == B64_INVALID) {
			/* RFC 2045 6.8: ignore characters outside the alphabet. */
			dec->repaired = true;
		}
	}
	buf_commit(out, n);
	dec->acc = acc;
	dec->bits = bits;
	return true;
}

static bool is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/*
 * Decodes quoted-printable from p, stopping early (when !final) where the
 * rest of the piece cannot be interpreted without what follows. Returns the
 * number of bytes consumed, or SIZE_MAX when out is full.
 */
static size_t qp_decode(struct message_decoder *dec, const uint8_t *p, size_t n, bool final,
			struct buf *out)
{
	size_t i = 0, run = 0;

#define QP_FLUSH(end)                                     \
	do {                                              \
		if (!buf_append(out, p + run, (end)-run)) \
			return SIZE_MAX;                  \
	} while (0)

	while (i < n) {
		uint8_t c = p[i];
		size_t j;

		if (c == '=') {
			QP_FLUSH(i);
			if (i + 1 >= n && !final)
				return i;
			if (i + 1 < n && hex_value(p[i + 1]) >= 0) {
				if (i + 2 >= n && !final)
					return i;
				if (i + 2 < n && hex_value(p[i + 2]) >= 0) {
					if (!buf_append_c(out, (uint8_t)(hex_value(p[i + 1]) * 16 +
									 hex_value(p[i + 2]))))
						return SIZE_MAX;
					i += 3;
					run = i;
					continue;
				}
			}
			/* A soft line break: '=', optional white space, line end. */
			for (j = i + 1; j < n && is_wsp(p[j]); j++)
				;
			if (j >= n && !final && j - i <= QP_WS_CARRY_MAX)
				return i;
			if (j >= n) {
				i = run = j;
				continue;
			}
			if (p[j] == '\n') {
				i = run = j + 1;
				continue;
			}
			if (p[j] == '\r') {
				if (j + 1 >= n && !final)
					return i;
				if (j + 1 < n && p[j + 1] == '\n') {
					i = run = j + 2;
					continue;
				}
			}
			/* Not an escape: keep the '=' as it is. */
			dec->repaired = true;
			if (!buf_append_c(out, '='))
				return SIZE_MAX;
			i++;
			run = i;
			continue;
		}
		if (is_wsp(c)) {
			for (j = i; j < n && is_wsp(p[j]); j++)
				;
			if (j >= n) {
				if (!final && j - i <= QP_WS_CARRY_MAX) {
					QP_FLUSH(i);
					return i;
				}
				if (final) {
					/* Trailing white space at the very end. */
					QP_FLUSH(i);
					return n;
				}
				i = j;
				continue;
			}
			if (p[j] == '\n' || (p[j] == '\r' && j + 1 < n && p[j + 1] == '\n')) {
				/* RFC 2045 6.7 (3): trailing white space is dropped. */
				QP_FLUSH(i);
				i = run = j;
				continue;
			}
			if (p[j] == '\r' && j + 1 >= n && !final) {
				QP_FLUSH(i);
				return i;
			}
			i = j;
			continue;
		}
		if (c == '\n') {
			QP_FLUSH(i > run && p[i - 1] == '\r' ? i - 1 : i);
			if (!buf_append(out, "\r\n", 2))
				return SIZE_MAX;
			i++;
			run = i;
			continue;
		}
		if (c == '\r' && i + 1 >= n && !final) {
			QP_FLUSH(i);
			return i;
		}
		i++;
	}
	QP_FLUSH(n);
	return n;
#undef QP_FLUSH
}

static bool qp_feed(struct message_decoder *dec, const uint8_t *in, size_t len, bool final,
		    struct buf *out)
{
	size_t used;

	while (buf_len(&dec->carry) > 0) {
		/* Complete the held-back bytes up to the next line end, which
		   settles them, then go on with the rest directly. */
		const uint8_t *lf = memchr(in, '\n', len);
		size_t take = lf == NULL ? len : (size_t)(lf - in) + 1;
		bool last = final && take == len;

		(void)buf_append(&dec->carry, in, take);
		in += take;
		len -= take;
		used = qp_decode(dec, buf_data(&dec->carry), buf_len(&dec->carry), last, out);
		if (used == SIZE_MAX)
			return false;
		buf_consume(&dec->carry, used);
		if (len == 0)
			return true;
	}
	used = qp_decode(dec, in, len, final, out);
	if (used == SIZE_MAX)
		return false;
	if (used < len)
		(void)buf_append(&dec->carry, in + used, len - used);
	return true;
}

/* 7bit/8bit: copies with every bare LF turned into CRLF. */
static bool crlf_feed(struct message_decoder *dec, const uint8_t *in, size_t len, struct buf *out)
{
	const uint8_t *p = in, *end = in + len, *lf;

	if (len == 0)
		return true;
	while ((lf = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		bool has_cr = lf > in ? lf[-1] == '\r' : dec->last_cr;

		if (!buf_append(out, p, (size_t)(lf - p)) ||
		    !buf_append(out, has_cr ? "\n" : "\r\n", has_cr ? 1 : 2))
			return false;
		p = lf + 1;
	}
	if (!buf_append(out, p, (size_t)(end - p)))
		return false;
	dec->last_cr = end[-1] == '\r';
	return true;
}

bool message_decoder_feed(struct message_decoder *dec, const uint8_t *in, size_t len,
			  struct buf *out)
{
	switch (dec->cte) {
	case MESSAGE_CTE_BASE64:
		return base64_feed(dec, in, len, out);
	case MESSAGE_CTE_QP:
		return qp_feed(dec, in, len, false, out);
	case MESSAGE_CTE_7BIT:
	case MESSAGE_CTE_8BIT:
		return crlf_feed(dec, in, len, out);
	case MESSAGE_CTE_BINARY:
	case MESSAGE_CTE_UNKNOWN:
		break;
	}
	return buf_append(out, in, len);
}

bool message_decoder_finish(struct message_decoder *dec, struct buf *out)
{
	bool ok = true;

	if (dec->cte == MESSAGE_CTE_QP && buf_len(&dec->carry) > 0) {
		struct buf rest = BUF_INIT(SIZE_MAX / 2);

		/* qp_feed() would append to the carry it is reading. */
		buf_move(&rest, &dec->carry);
		ok = qp_feed(dec, buf_data(&rest), buf_len(&rest), true, out);
		buf_free(&rest);
	}
	if (dec->cte == MESSAGE_CTE_BASE64 && dec->bits >= 6)
		dec->repaired = true; /* a lone character cannot make a byte */
	buf_free(&dec->carry);
	return ok;
}

enum message_decode_result message_decode_body(const struct message_part *part, struct buf *out)
{
	struct message_decoder dec;
	bool ok;

	if (part->cte == MESSAGE_CTE_UNKNOWN)
		return MESSAGE_DECODE_UNKNOWN_ENCODING;
	message_decoder_init(&dec, part->cte);
	ok = message_decoder_feed(&dec, part->msg + part->body_offset, part->body_size, out);
	ok = message_decoder_finish(&dec, out) && ok;
	if (!ok)
		return MESSAGE_DECODE_LIMIT;
	return dec.repaired ? MESSAGE_DECODE_REPAIRED : MESSAGE_DECODE_OK;
}

const char *message_part_charset(const struct message_part *part, char *buf, size_t size)
{
	const char *cs = message_param_get(part->params, part->params_count, "charset");
	const char *q;

	if (cs != NULL)
		return cs;
	/* RFC 2231 form: charset'language'value, the value is the charset. */
	cs = message_param_get(part->params, part->params_count, "charset*");
	if (cs == NULL)
		return NULL;
	q = strchr(cs, '\'');
	if (q != NULL)
		q = strchr(q + 1, '\'');
	if (q == NULL || !str_copy(buf, size, q + 1))
		return NULL;
	return buf;
}

enum message_decode_result message_decode_text(const struct message_part *part, struct buf *out,
					       bool *charset_unknown_r)
{
	struct message_decoder dec;
	struct buf raw = BUF_INIT(buf_room(out));
	enum message_decode_result ret = MESSAGE_DECODE_OK;
	enum charset_result cret;
	char csbuf[CHARSET_NAME_MAX + 1];
	const char *charset = message_part_charset(part, csbuf, sizeof(csbuf));
	bool ok;

	if (charset_unknown_r != NULL)
		*charset_unknown_r = false;
	/* An unknown encoding is still worth searching: take it as 8bit. */
	message_decoder_init(&dec, part->cte == MESSAGE_CTE_UNKNOWN ? MESSAGE_CTE_8BIT : part->cte);
	ok = message_decoder_feed(&dec, part->msg + part->body_offset, part->body_size, &raw);
	ok = message_decoder_finish(&dec, &raw) && ok;
	if (part->cte == MESSAGE_CTE_UNKNOWN)
		ret = MESSAGE_DECODE_UNKNOWN_ENCODING;
	else if (dec.repaired)
		ret = MESSAGE_DECODE_REPAIRED;

	cret = charset_to_utf8(charset != NULL ? charset : "us-ascii", buf_data(&raw),
			       buf_len(&raw), out);
	if (cret == CHARSET_RESULT_UNKNOWN) {
		if (charset_unknown_r != NULL)
			*charset_unknown_r = true;
		cret = charset_utf8_sanitize(buf_data(&raw), buf_len(&raw), out);
		if (ret == MESSAGE_DECODE_OK)
			ret = MESSAGE_DECODE_REPAIRED;
	}
	buf_free(&raw);
	if (!ok || cret == CHARSET_RESULT_LIMIT)
		return MESSAGE_DECODE_LIMIT;
	return ret;
}

unsigned int message_text_parts_walk(const struct message_part *root, message_part_callback_t *cb,
				     void *context)
{
	unsigned int n = 0;

	for (const struct message_part *p = root; p != NULL;
	     p = message_part_next_within(p, root)) {
		if ((p->flags & MESSAGE_PART_FLAG_TEXT) == 0 || p->children != NULL)
			continue;
		n++;
		if (!cb(p, context))
			break;
	}
	return n;
}
