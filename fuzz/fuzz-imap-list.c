/*
 * libFuzzer harness for lib/list-pattern.c (LIST and LSUB patterns).
 * Input: "reference\npattern\nname\nname...". Every match must agree with
 * a plain recursive matcher (run only where it stays cheap), and no
 * pattern may make matching slow or read out of bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../lib/list-pattern.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
}

/* The definition of RFC 3501 6.3.8, written the obvious way. */
static bool naive(const char *p, size_t plen, const char *n, size_t nlen, size_t pos, size_t ci)
{
	if (plen == 0)
		return nlen == 0;
	if (*p == '*' || *p == '%') {
		for (size_t k = 0; k <= nlen; k++) {
			if (k > 0 && *p == '%' && n[k - 1] == '/')
				break;
			if (naive(p + 1, plen - 1, n + k, nlen - k, pos + k, ci))
				return true;
		}
		return false;
	}
	if (nlen == 0)
		return false;
	if (*p != *n && !(pos < ci && upper(*p) == upper(*n)))
		return false;
	return naive(p + 1, plen - 1, n + 1, nlen - 1, pos + 1, ci);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *end = in + size;
	const char *nl = memchr(in, '\n', size), *pat, *pend;
	struct buf combined = BUF_INIT(LIST_PATTERN_MAX);
	struct list_pattern *p;
	unsigned int wildcards = 0;

	if (nl == NULL)
		return 0;
	pat = nl + 1;
	pend = memchr(pat, '\n', (size_t)(end - pat));
	if (pend == NULL)
		pend = end;
	if (!list_pattern_combine(in, (size_t)(nl - in), pat, (size_t)(pend - pat), '/',
				  &combined)) {
		buf_free(&combined);
		return 0;
	}
	p = list_pattern_compile(buf_cstr(&combined), buf_len(&combined), '/');
	for (const char *t = list_pattern_text(p); *t != '\0'; t++)
		wildcards += *t == '*' || *t == '%';
	for (const char *name = pend + (pend < end); name < end;) {
		const char *ne = memchr(name, '\n', (size_t)(end - name));
		size_t len;

		if (ne == NULL)
			ne = end;
		len = (size_t)(ne - name);
		bool got = list_pattern_match(p, name, len);
		if (wildcards <= 6 && len <= 64) {
			size_t ci = len >= 5 && strncasecmp(name, "INBOX", 5) == 0 &&
						    (len == 5 || name[5] == '/')
					    ? 5
					    : 0;
			const char *t = list_pattern_text(p);

			if (got != naive(t, strlen(t), name, len, 0, ci) &&
			    memchr(buf_data(&combined), '\0', buf_len(&combined)) == NULL)
				abort();
		}
		name = ne + 1;
	}
	list_pattern_free(&p);
	buf_free(&combined);
	return 0;
}
