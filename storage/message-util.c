/*
 * Byte helpers for the message parsers (see message-util.h). Used in every
 * process that parses mail; the input is untrusted and only ever read within
 * the lengths the callers give.
 */
#include <string.h>

#include "pool.h"
#include "message-util.h"

bool message_mem_caseeq(const void *a, const void *b, size_t n)
{
	const uint8_t *pa = a, *pb = b;

	for (size_t i = 0; i < n; i++) {
		if (pa[i] != pb[i] && message_ascii_lower(pa[i]) != message_ascii_lower(pb[i]))
			return false;
	}
	return true;
}

bool message_mem_caseeq_str(const void *p, size_t n, const char *s)
{
	return strlen(s) == n && message_mem_caseeq(p, s, n);
}

void message_count_lf(const uint8_t *p, size_t len, size_t *lf_r, size_t *bare_lf_r)
{
	const uint8_t *start = p, *end = p + len, *q;
	size_t lf = 0, bare = 0;

	while (p < end && (q = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		lf++;
		if (q == start || q[-1] != '\r')
			bare++;
		p = q + 1;
	}
	*lf_r = lf;
	*bare_lf_r = bare;
}

char *message_p_strndup(struct pool *pool, const uint8_t *p, size_t n)
{
	size_t nuls = 0, size;
	const uint8_t *q = p, *end = p + n;
	char *ret, *w;

	while (q < end && (q = memchr(q, '\0', (size_t)(end - q))) != NULL) {
		nuls++;
		q++;
	}
	if (nuls == 0)
		return p_strndup(pool, p, n);
	/* Each NUL grows from one byte to three (EF BF BD). */
	if (nuls > (SIZE_MAX - n - 1) / 2)
		return NULL;
	size = n + nuls * 2;
	ret = p_malloc(pool, size + 1);
	if (ret == NULL)
		return NULL;
	w = ret;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\0') {
			memcpy(w, "\xEF\xBF\xBD", 3);
			w += 3;
		} else {
			*w++ = (char)p[i];
		}
	}
	*w = '\0';
	return ret;
}
