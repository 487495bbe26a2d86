/*
 * Strict base64 (RFC 4648 section 4) for SASL and password hashes. Runs in
 * roost-login, roost-auth and roostadm; input is hostile, so the decoder
 * checks every byte and the padding, and never writes past its output.
 */
#include <stdint.h>
#include <string.h>

#include "base64.h"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0..63 for alphabet characters, 64 for '=', 255 for everything else. */
static uint8_t b64_value(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return (uint8_t)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (uint8_t)(c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (uint8_t)(c - '0' + 52);
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	if (c == '=')
		return 64;
	return 255;
}

size_t base64_encoded_len(size_t n)
{
	size_t groups = n / 3 + (n % 3 != 0 ? 1 : 0), r;

	if (!size_mul(groups, 4, &r))
		return SIZE_MAX;
	return r;
}

size_t base64_decoded_max(size_t n)
{
	return n / 4 * 3 + (n % 4 != 0 ? 3 : 0);
}

static void encode_to(char *dst, const uint8_t *src, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];

		dst[o++] = b64_alphabet[(v >> 18) & 63];
		dst[o++] = b64_alphabet[(v >> 12) & 63];
		dst[o++] = b64_alphabet[(v >> 6) & 63];
		dst[o++] = b64_alphabet[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)src[i] << 16;

		dst[o++] = b64_alphabet[(v >> 18) & 63];
		dst[o++] = b64_alphabet[(v >> 12) & 63];
		dst[o++] = '=';
		dst[o++] = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8;

		dst[o++] = b64_alphabet[(v >> 18) & 63];
		dst[o++] = b64_alphabet[(v >> 12) & 63];
		dst[o++] = b64_alphabet[(v >> 6) & 63];
		dst[o++] = '=';
	}
}

bool base64_encode(struct buf *out, const void *data, size_t len)
{
	size_t n = base64_encoded_len(len);
	uint8_t *dst;

	if (n == SIZE_MAX || n > buf_room(out))
		return false;
	if (n == 0)
		return true;
	dst = buf_reserve(out, n);
	if (dst == NULL)
		return false;
	encode_to((char *)dst, data, len);
	buf_commit(out, n);
	return true;
}

/* Decodes into dst, which has room for the padded-exact decoded length. */
static enum base64_error decode_to(uint8_t *dst, const uint8_t *src, size_t len, size_t *len_r)
{
	size_t i, o = 0;

	if (len % 4 != 0)
		return BASE64_ERR_PADDING;
	for (i = 0; i < len; i += 4) {
		uint8_t v[4];
		unsigned int k, pad = 0;
		bool last = i + 4 == len;

		for (k = 0; k < 4; k++) {
			v[k] = b64_value(src[i + k]);
			if (v[k] == 255)
				return BASE64_ERR_CHAR;
		}
		/* '=' may only end the final group, as "x=" or "xy=" tails. */
		if (v[0] == 64 || v[1] == 64)
			return BASE64_ERR_PADDING;
		if (v[2] == 64) {
			if (v[3] != 64 || !last)
				return BASE64_ERR_PADDING;
			pad = 2;
		} else if (v[3] == 64) {
			if (!last)
				return BASE64_ERR_PADDING;
			pad = 1;
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12;

		if (pad == 2) {
			if ((v[1] & 0x0f) != 0)
				return BASE64_ERR_NONCANONICAL;
			dst[o++] = (uint8_t)(w >> 16);
		} else if (pad == 1) {
			if ((v[2] & 0x03) != 0)
				return BASE64_ERR_NONCANONICAL;
			w |= (uint32_t)v[2] << 6;
			dst[o++] = (uint8_t)(w >> 16);
			dst[o++] = (uint8_t)(w >> 8);
		} else {
			w |= (uint32_t)v[2] << 6 | v[3];
			dst[o++] = (uint8_t)(w >> 16);
			dst[o++] = (uint8_t)(w >> 8);
			dst[o++] = (uint8_t)w;
		}
	}
	*len_r = o;
	return BASE64_OK;
}

enum base64_error base64_decode(struct buf *out, const void *in, size_t len)
{
	const uint8_t *s = in;
	size_t real, n = 0;
	enum base64_error err;
	uint8_t *dst;

	if (len == 0)
		return BASE64_OK;
	if (len % 4 != 0)
		return BASE64_ERR_PADDING;
	/*
	 * The exact output length follows from the padding, so a buffer that is
	 * just big enough takes valid data; decode_to() never writes more than
	 * this because it rejects misplaced '=' before writing their group.
	 */
	real = len / 4 * 3;
	if (s[len - 1] == '=')
		real -= s[len - 2] == '=' ? 2 : 1;
	if (real > buf_room(out))
		return BASE64_ERR_TOO_LONG;
	dst = buf_reserve(out, real);
	if (dst == NULL)
		return BASE64_ERR_TOO_LONG;
	err = decode_to(dst, s, len, &n);
	if (err != BASE64_OK)
		return err;
	buf_commit(out, n);
	return BASE64_OK;
}

enum base64_error base64_decode_to(uint8_t *dst, size_t dst_size, const void *in, size_t len,
				   size_t *len_r)
{
	struct buf b = BUF_INIT(dst_size);
	enum base64_error err;

	*len_r = 0;
	err = base64_decode(&b, in, len);
	if (err == BASE64_OK) {
		if (buf_len(&b) > 0)
			memcpy(dst, buf_data(&b), buf_len(&b));
		*len_r = buf_len(&b);
	}
	buf_free_secret(&b);
	return err;
}

const char *base64_strerror(enum base64_error err)
{
	switch (err) {
	case BASE64_OK:
		return "no error";
	case BASE64_ERR_CHAR:
		return "invalid base64 character";
	case BASE64_ERR_PADDING:
		return "invalid base64 length or padding";
	case BASE64_ERR_NONCANONICAL:
		return "non-canonical base64 (pad bits not zero)";
	case BASE64_ERR_TOO_LONG:
		return "base64 data too long";
	}
	return "unknown base64 error";
}
