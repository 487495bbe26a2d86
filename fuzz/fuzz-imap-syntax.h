/*
 * Shared check for the fuzz harnesses that write IMAP responses: the output
 * must be well-formed IMAP data (balanced parentheses outside strings,
 * terminated quoted strings, literals whose announced size fits, no CR, LF,
 * NUL or 8-bit bytes outside literals). Used only by fuzz/ programs.
 */
#ifndef ROOST_FUZZ_IMAP_SYNTAX_H
#define ROOST_FUZZ_IMAP_SYNTAX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline bool fuzz_imap_syntax_ok(const uint8_t *p, size_t len)
{
	size_t i = 0, depth = 0;

	while (i < len) {
		uint8_t c = p[i];

		if (c == '"') {
			for (i++; i < len && p[i] != '"'; i++) {
				if (p[i] == '\\') {
					i++;
					if (i >= len || (p[i] != '"' && p[i] != '\\'))
						return false;
				} else if (p[i] == '\r' || p[i] == '\n' || p[i] == 0 ||
					   p[i] >= 0x80) {
					return false;
				}
			}
			if (i >= len)
				return false;
			i++;
		} else if (c == '{') {
			size_t n = 0, digits = 0;

			for (i++; i < len && p[i] >= '0' && p[i] <= '9'; i++, digits++)
				n = n * 10 + (size_t)(p[i] - '0');
			if (digits == 0 || len - i < 3 || p[i] != '}' || p[i + 1] != '\r' ||
			    p[i + 2] != '\n')
				return false;
			i += 3;
			if (n > len - i)
				return false;
			for (size_t k = 0; k < n; k++) {
				if (p[i + k] == 0)
					return false;
			}
			i += n;
		} else if (c == '(') {
			depth++;
			i++;
		} else if (c == ')') {
			if (depth == 0)
				return false;
			depth--;
			i++;
		} else if (c == '\r' || c == '\n' || c == 0 || c >= 0x80) {
			return false;
		} else {
			i++;
		}
	}
	return depth == 0;
}

#endif
