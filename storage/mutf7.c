/*
 * Modified UTF-7 conversion (see mutf7.h). Runs in roost-imap on client
 * input. Every rule that gives a name more than one spelling is an error
 * here, and output is built in a scratch buffer so a rejected name leaves
 * the caller's buffer untouched.
 */
#include <string.h>

#include "buf.h"
#include "charset.h"
#include "mutf7.h"

static const char b64_chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

static bool is_direct(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

static bool put_utf8(struct buf *b, unsigned long cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xC0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xE0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xF0 | (cp >> 18));
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (unsigned char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return buf_append(b, u, n);
}

/* Decodes the base64 of one shifted sequence in[start, end). */
static enum mutf7_result decode_shifted(const char *in, size_t start, size_t end, struct buf *out)
{
	unsigned long acc = 0, high = 0;
	unsigned int bits = 0;

	for (size_t i = start; i < end; i++) {
		int v = b64_value(in[i]);

		if (v < 0)
			return MUTF7_INVALID;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits < 16)
			continue;
		bits -= 16;
		unsigned long unit = (acc >> bits) & 0xFFFF;

		acc &= (1UL << bits) - 1;
		if (high != 0) {
			if (unit < 0xDC00 || unit > 0xDFFF)
				return MUTF7_INVALID;
			if (!put_utf8(out, 0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00)))
				return MUTF7_LIMIT;
			high = 0;
		} else if (unit >= 0xD800 && unit <= 0xDBFF) {
			high = unit;
		} else if (unit >= 0xDC00 && unit <= 0xDFFF) {
			return MUTF7_INVALID;
		} else if (unit == 0 || (unit >= 0x20 && unit <= 0x7e)) {
			/* NUL, or printable ASCII that must be written as itself. */
			return MUTF7_INVALID;
		} else if (!put_utf8(out, unit)) {
			return MUTF7_LIMIT;
		}
	}
	/* The shortest form leaves fewer than 6 bits over, all zero; an empty
	   sequence would have to be "&-". */
	if (high != 0 || bits >= 6 || acc != 0 || end == start)
		return MUTF7_INVALID;
	return MUTF7_OK;
}

enum mutf7_result mutf7_to_utf8(const char *in, size_t len, struct buf *out)
{
	struct buf tmp = BUF_INIT(buf_room(out));
	enum mutf7_result ret = MUTF7_OK;
	bool after_shift = false;
	size_t i = 0;

	while (i < len && ret == MUTF7_OK) {
		unsigned char c = (unsigned char)in[i];

		if (!is_direct(c)) {
			ret = MUTF7_INVALID;
		} else if (c != '&') {
			size_t run = i;

			while (i < len && is_direct((unsigned char)in[i]) && in[i] != '&')
				i++;
			if (!buf_append(&tmp, in + run, i - run))
				ret = MUTF7_LIMIT;
			after_shift = false;
		} else if (i + 1 < len && in[i + 1] == '-') {
			if (!buf_append_c(&tmp, '&'))
				ret = MUTF7_LIMIT;
			i += 2;
			after_shift = false;
		} else {
			const char *dash = memchr(in + i + 1, '-', len - i - 1);
			size_t end;

			/* "&A-&B-" is "&AB-" spelt differently. */
			if (dash == NULL || after_shift) {
				ret = MUTF7_INVALID;
				break;
			}
			end = (size_t)(dash - in);
			ret = decode_shifted(in, i + 1, end, &tmp);
			i = end + 1;
			after_shift = true;
		}
	}
	if (ret == MUTF7_OK && !buf_append(out, buf_data(&tmp), buf_len(&tmp)))
		ret = MUTF7_LIMIT;
	buf_free(&tmp);
	return ret;
}

bool mutf7_is_valid(const char *in, size_t len)
{
	struct buf tmp = BUF_INIT(len * 2 + 16);
	bool ok = mutf7_to_utf8(in, len, &tmp) == MUTF7_OK;

	buf_free(&tmp);
	return ok;
}

/* Reads one UTF-8 code point; 0 length when invalid. */
static size_t get_utf8(const unsigned char *p, size_t left, unsigned long *cp_r)
{
	size_t n;

	if (p[0] < 0x80)
		n = 1;
	else if (p[0] >= 0xF0)
		n = 4;
	else if (p[0] >= 0xE0)
		n = 3;
	else
		n = 2;
	if (n > left || !charset_utf8_is_valid(p, n))
		return 0;
	if (n == 1)
		*cp_r = p[0];
	else if (n == 2)
		*cp_r = ((unsigned long)(p[0] & 0x1F) << 6) | (p[1] & 0x3F);
	else if (n == 3)
		*cp_r = ((unsigned long)(p[0] & 0x0F) << 12) | ((unsigned long)(p[1] & 0x3F) << 6) |
			(p[2] & 0x3F);
	else
		*cp_r = ((unsigned long)(p[0] & 0x07) << 18) |
			((unsigned long)(p[1] & 0x3F) << 12) | ((unsigned long)(p[2] & 0x3F) << 6) |
			(p[3] & 0x3F);
	return n;
}

static bool put_b64_bits(struct buf *b, unsigned long *acc, unsigned int *bits)
{
	while (*bits >= 6) {
		*bits -= 6;
		if (!buf_append_c(b, (uint8_t)b64_chars[(*acc >> *bits) & 0x3F]))
			return false;
	}
	*acc &= (1UL << *bits) - 1;
	return true;
}

enum mutf7_result mutf7_from_utf8(const char *in, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)in;
	struct buf tmp = BUF_INIT(buf_room(out));
	enum mutf7_result ret = MUTF7_OK;
	size_t i = 0;

	while (i < len && ret == MUTF7_OK) {
		unsigned long acc = 0, cp;
		unsigned int bits = 0;

		if (is_direct(p[i])) {
			bool ok =
				p[i] == '&' ? buf_append(&tmp, "&-", 2) : buf_append_c(&tmp, p[i]);

			if (!ok)
				ret = MUTF7_LIMIT;
			i++;
			continue;
		}
		/* A run of characters that need encoding, as UTF-16 in base64. */
		if (!buf_append_c(&tmp, '&'))
			ret = MUTF7_LIMIT;
		while (i < len && !is_direct(p[i]) && ret == MUTF7_OK) {
			size_t n = get_utf8(p + i, len - i, &cp);

			if (n == 0 || cp == 0) {
				ret = MUTF7_INVALID;
				break;
			}
			i += n;
			if (cp >= 0x10000) {
				cp -= 0x10000;
				acc = (acc << 16) | (0xD800 | (cp >> 10));
				bits += 16;
				if (!put_b64_bits(&tmp, &acc, &bits))
					ret = MUTF7_LIMIT;
				cp = 0xDC00 | (cp & 0x3FF);
			}
			acc = (acc << 16) | cp;
			bits += 16;
			if (!put_b64_bits(&tmp, &acc, &bits))
				ret = MUTF7_LIMIT;
		}
		if (ret != MUTF7_OK)
			break;
		if (bits > 0) {
			acc <<= 6 - bits;
			bits = 6;
			if (!put_b64_bits(&tmp, &acc, &bits))
				ret = MUTF7_LIMIT;
		}
		if (!buf_append_c(&tmp, '-'))
			ret = MUTF7_LIMIT;
	}
	if (ret == MUTF7_OK && !buf_append(out, buf_data(&tmp), buf_len(&tmp)))
		ret = MUTF7_LIMIT;
	buf_free(&tmp);
	return ret;
}
