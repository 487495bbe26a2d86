/*
 * Strict RFC 4648 base64 (standard alphabet, padded) for SASL exchanges and
 * stored password hashes. Used by roost-login (relaying AUTHENTICATE data),
 * roost-auth (SASL mechanisms, password schemes) and roostadm; the decoder
 * trusts nothing about its input and refuses anything non-canonical.
 */
#ifndef ROOST_BASE64_H
#define ROOST_BASE64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Length of the encoding of n bytes, or SIZE_MAX when it would overflow. */
size_t base64_encoded_len(size_t n);
/* Upper bound of the decoded length of n base64 characters. */
size_t base64_decoded_max(size_t n);

/*
 * Appends the padded encoding of data to out. Returns false, leaving out
 * unchanged, when the result would exceed the buffer's maximum.
 */
bool base64_encode(struct buf *out, const void *data, size_t len);

enum base64_error {
	BASE64_OK = 0,
	/* A byte outside the alphabet (whitespace and NUL included). */
	BASE64_ERR_CHAR,
	/* Length not a multiple of 4, or '=' anywhere but the last one or two places. */
	BASE64_ERR_PADDING,
	/* The unused bits of the last group are not zero (a second spelling). */
	BASE64_ERR_NONCANONICAL,
	/* The decoded bytes do not fit in the output buffer's maximum. */
	BASE64_ERR_TOO_LONG,
};

/*
 * Appends the bytes encoded by in[0..len) to out. The input must be the
 * exact canonical encoding: alphabet A-Z a-z 0-9 + /, padding to a multiple
 * of 4, zero pad bits, no whitespace. Empty input decodes to nothing. On any
 * error out is left unchanged and the reason is returned.
 */
enum base64_error base64_decode(struct buf *out, const void *in, size_t len);

/*
 * Same, into a fixed array: *len_r gets the decoded length. Fails with
 * BASE64_ERR_TOO_LONG when more than dst_size bytes would come out.
 */
enum base64_error base64_decode_to(uint8_t *dst, size_t dst_size, const void *in, size_t len,
				   size_t *len_r);

/* A short English description of an error, for logs. */
const char *base64_strerror(enum base64_error err);

#endif
