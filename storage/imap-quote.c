/*
 * IMAP string writer (see imap-quote.h). Runs in roost-imap on values taken
 * from messages and from clients. One scan classifies the bytes, a second
 * writes them, so output length is exact and a literal's announced size
 * always matches what follows it.
 */
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "charset.h"
#include "imap-quote.h"

#define REPLACEMENT	"\xEF\xBF\xBD"
#define REPLACEMENT_LEN 3

bool imap_is_atom_char(uint8_t c)
{
	/* ATOM-CHAR: any CHAR except atom-specials: ( ) { SP CTL % * " \ ] */
	if (c <= 0x20 || c >= 0x7f)
		return false;
	return strchr("(){%*\"\\]", c) == NULL;
}

/* Appends s with each NUL replaced by U+FFFD. */
static bool append_no_nul(struct buf *out, const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const uint8_t *nul = memchr(s + i, '\0', len - i);
		size_t run = nul == NULL ? len - i : (size_t)(nul - (s + i));

		if (!buf_append(out, s + i, run))
			return false;
		i += run;
		if (i < len) {
			if (!buf_append(out, REPLACEMENT, REPLACEMENT_LEN))
				return false;
			i++;
		}
	}
	return true;
}

bool imap_write_string(struct buf *out, const uint8_t *s, size_t len, unsigned int flags)
{
	size_t nuls = 0, escapes = 0;
	bool literal = false, eight_bit = false;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = s[i];

		if (c == '\r' || c == '\n')
			literal = true;
		else if (c == '\0')
			nuls++;
		else if (c >= 0x80)
			eight_bit = true;
		else if (c == '"' || c == '\\')
			escapes++;
	}
	if (nuls > 0 && (flags & IMAP_QUOTE_FLAG_UTF8) == 0)
		literal = true;
	if (eight_bit && ((flags & IMAP_QUOTE_FLAG_UTF8) == 0 || !charset_utf8_is_valid(s, len)))
		literal = true;

	if (literal) {
		size_t n = len + nuls * (REPLACEMENT_LEN - 1);

		return buf_printf(out, "{%zu}\r\n", n) && append_no_nul(out, s, len);
	}
	if (!buf_append_c(out, '"'))
		return false;
	if (escapes == 0 && nuls == 0) {
		if (!buf_append(out, s, len))
			return false;
	} else {
		for (size_t i = 0; i < len; i++) {
			bool ok;

			if (s[i] == '"' || s[i] == '\\')
				ok = buf_append_c(out, '\\') && buf_append_c(out, s[i]);
			else if (s[i] == '\0')
				ok = buf_append(out, REPLACEMENT, REPLACEMENT_LEN);
			else
				ok = buf_append_c(out, s[i]);
			if (!ok)
				return false;
		}
	}
	return buf_append_c(out, '"');
}

bool imap_write_nstring(struct buf *out, const char *s, unsigned int flags)
{
	if (s == NULL)
		return buf_append_str(out, "NIL");
	return imap_write_string(out, (const uint8_t *)s, strlen(s), flags);
}

bool imap_write_astring(struct buf *out, const uint8_t *s, size_t len, unsigned int flags)
{
	bool atom = len > 0;

	for (size_t i = 0; i < len && atom; i++)
		atom = imap_is_atom_char(s[i]) || s[i] == ']';
	if (atom && len == 3 && strncasecmp((const char *)s, "NIL", 3) == 0)
		atom = false;
	if (atom)
		return buf_append(out, s, len);
	return imap_write_string(out, s, len, flags);
}
