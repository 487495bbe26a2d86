/*
 * Writing values as IMAP strings (RFC 3501 / RFC 9051 section 4.3): NIL,
 * atom, quoted string or literal, whichever the bytes allow. Used by the
 * ENVELOPE and BODYSTRUCTURE writers and by roost-imap for every string it
 * sends; the values are untrusted and can never break out of their string.
 */
#ifndef ROOST_IMAP_QUOTE_H
#define ROOST_IMAP_QUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

enum imap_quote_flags {
	/* The client enabled UTF8=ACCEPT (RFC 6855) or speaks IMAP4rev2:
	   valid UTF-8 may go into quoted strings instead of literals. */
	IMAP_QUOTE_FLAG_UTF8 = 0x01,
};

/*
 * Appends len bytes as a quoted string, or as a literal "{n}\r\n..." when
 * they hold CR, LF or 8-bit bytes (see IMAP_QUOTE_FLAG_UTF8). NUL bytes,
 * which no IMAP string may carry, are sent as U+FFFD. Returns false when
 * out's maximum was reached (out then holds a partial string).
 */
bool imap_write_string(struct buf *out, const uint8_t *s, size_t len, unsigned int flags);

/* imap_write_string() of a C string, or NIL for NULL. */
bool imap_write_nstring(struct buf *out, const char *s, unsigned int flags);

/* An atom when the bytes are a valid non-NIL atom, else a string. */
bool imap_write_astring(struct buf *out, const uint8_t *s, size_t len, unsigned int flags);

/* Whether c may appear in an IMAP atom (RFC 3501 ATOM-CHAR). */
bool imap_is_atom_char(uint8_t c);

#endif
