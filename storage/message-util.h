/*
 * Small byte helpers shared by the message parsers in storage/: ASCII case
 * folding that ignores the locale, line counting, and copying untrusted
 * header bytes into pool strings. Runs wherever messages are parsed and
 * trusts nothing about the bytes it is given beyond their length.
 */
#ifndef ROOST_MESSAGE_UTIL_H
#define ROOST_MESSAGE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;

static inline uint8_t message_ascii_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
}

static inline bool message_is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* Whether n bytes of a and b are equal, ignoring ASCII case. */
bool message_mem_caseeq(const void *a, const void *b, size_t n);
/* Whether the n bytes at p equal the NUL-terminated s, ignoring ASCII case. */
bool message_mem_caseeq_str(const void *p, size_t n, const char *s);

/*
 * Counts the LFs in len bytes and how many of them have no CR before them
 * (an LF at p[0] counts as bare). The second number is what turns a
 * physical size into the CRLF size IMAP reports.
 */
void message_count_lf(const uint8_t *p, size_t len, size_t *lf_r, size_t *bare_lf_r);

/*
 * Copies n untrusted bytes into a NUL-terminated pool string. NUL bytes
 * become U+FFFD so the result is never cut short silently. NULL when the
 * pool is exhausted.
 */
char *message_p_strndup(struct pool *pool, const uint8_t *p, size_t n);

#endif
