/*
 * Conversion of text in a MIME charset to UTF-8 for searching, Sieve tests
 * and header decoding. Runs inside the sandboxed mail processes on untrusted
 * bytes and untrusted charset names: us-ascii, utf-8, iso-8859-1, iso-8859-15
 * and windows-1252 are built in; anything else goes to glibc iconv, which may
 * be unable to load its modules under the sandbox and then simply reports the
 * charset as unknown. iconv descriptors are cached per process, which is
 * single-threaded: the functions are not thread-safe.
 */
#ifndef ROOST_CHARSET_H
#define ROOST_CHARSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

/* Longest charset name looked at; longer names are unknown charsets. */
#define CHARSET_NAME_MAX 64

enum charset_result {
	/* Everything was converted. */
	CHARSET_RESULT_OK = 0,
	/* Converted, but invalid input was replaced by U+FFFD. */
	CHARSET_RESULT_INVALID_INPUT,
	/* The charset is not known (or iconv cannot load it): nothing written. */
	CHARSET_RESULT_UNKNOWN,
	/* The output buffer's maximum was reached: what fitted was written, the
	   output ends on a character boundary. */
	CHARSET_RESULT_LIMIT,
};

/*
 * Appends the UTF-8 form of len bytes in the named charset (case-insensitive,
 * may be NUL-terminated junk from a message) to out. UTF-8 output is always
 * valid UTF-8. iso-8859-1 is decoded as windows-1252, as browsers and most
 * mail readers do, because mislabelled Windows text is far more common than
 * C1 control characters; us-ascii is decoded as UTF-8 for the same reason.
 */
enum charset_result charset_to_utf8(const char *charset, const uint8_t *in, size_t len,
				    struct buf *out);

/*
 * Appends in to out with every invalid UTF-8 sequence (overlong forms,
 * surrogates, code points past U+10FFFF, truncated sequences) replaced by
 * U+FFFD. Returns OK, INVALID_INPUT or LIMIT.
 */
enum charset_result charset_utf8_sanitize(const uint8_t *in, size_t len, struct buf *out);

/* Whether len bytes are valid UTF-8 by the rules above. */
bool charset_utf8_is_valid(const uint8_t *in, size_t len);

/* Whether the charset is one of the built-in ones (no iconv needed). */
bool charset_is_builtin(const char *charset);

/* Whether charset_to_utf8() can convert from this charset right now. */
bool charset_is_known(const char *charset);

/*
 * Turns the iconv fallback on or off (default on). A process whose sandbox
 * forbids what iconv needs may turn it off so every non-built-in charset is
 * reported unknown without trying.
 */
void charset_set_iconv_enabled(bool enabled);

/*
 * Opens iconv converters for common charsets and keeps them cached, so a
 * process can call this before entering its sandbox and still convert them
 * afterwards. Returns how many could be opened.
 */
unsigned int charset_preload(void);

/* Closes the cached iconv converters. */
void charset_deinit(void);

#endif
