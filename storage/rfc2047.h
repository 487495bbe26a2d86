/*
 * RFC 2047 encoded-word decoding of header text into UTF-8, for SEARCH,
 * SORT, Sieve header tests and display names. Runs in the sandboxed mail
 * processes on untrusted header values; malformed words are left exactly as
 * they were, and raw 8-bit text is passed through as sanitized UTF-8.
 */
#ifndef ROOST_RFC2047_H
#define ROOST_RFC2047_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

/* What rfc2047_decode() met on the way; a bit mask. */
enum rfc2047_flags {
	/* At least one encoded word was decoded. */
	RFC2047_FLAG_DECODED = 0x01,
	/* A word looked encoded but was malformed and was kept as it was. */
	RFC2047_FLAG_MALFORMED = 0x02,
	/* A word's charset was unknown: its bytes were taken as UTF-8. */
	RFC2047_FLAG_UNKNOWN_CHARSET = 0x04,
	/* Invalid bytes were replaced by U+FFFD. */
	RFC2047_FLAG_INVALID_INPUT = 0x08,
};

/*
 * Appends the decoded, UTF-8 form of len bytes of header text (usually an
 * unfolded value) to out. Whitespace between two adjacent encoded words is
 * dropped and the words' bytes are joined before charset conversion, so a
 * character split across words survives. Both "B" and "Q" are accepted in
 * either case, and an RFC 2231 language suffix ("utf-8*en") is ignored.
 * Returns false when out's maximum was reached (out then holds a prefix);
 * *flags_r (may be NULL) receives enum rfc2047_flags bits.
 */
bool rfc2047_decode(const uint8_t *in, size_t len, struct buf *out, unsigned int *flags_r);

#endif
