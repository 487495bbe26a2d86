/*
 * Modified UTF-7 (RFC 3501 section 5.1.3) mailbox name conversion to and
 * from UTF-8. Runs in roost-imap on names sent by clients and on names read
 * from disk. Decoding is strict: only the one canonical encoding of a name
 * is accepted, so two different wire names can never map to one mailbox.
 */
#ifndef ROOST_MUTF7_H
#define ROOST_MUTF7_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

enum mutf7_result {
	MUTF7_OK = 0,
	/* The input is not valid (canonical mUTF-7, or UTF-8). */
	MUTF7_INVALID,
	/* The output buffer's maximum was reached. */
	MUTF7_LIMIT,
};

/*
 * Appends the UTF-8 form of len bytes of modified UTF-7 to out. INVALID for
 * bytes outside printable ASCII, an unterminated or malformed "&...-"
 * sequence, base64 that is not the shortest form (non-zero or surplus pad
 * bits, two shifted sequences in a row), an unpaired surrogate, U+0000, or
 * a character that should have been written directly. out is unchanged
 * unless the result is OK.
 */
enum mutf7_result mutf7_to_utf8(const char *in, size_t len, struct buf *out);

/*
 * Appends the modified UTF-7 form of len bytes of UTF-8 to out. INVALID when
 * the input is not valid UTF-8 or contains U+0000; out is then unchanged.
 */
enum mutf7_result mutf7_from_utf8(const char *in, size_t len, struct buf *out);

/* Whether len bytes are valid, canonical modified UTF-7. */
bool mutf7_is_valid(const char *in, size_t len);

#endif
