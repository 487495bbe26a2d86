/*
 * Small string helpers for the Sieve engine: case-insensitive compares,
 * pool copies, Pigeonhole-style sanitising of values for messages, UTF-8
 * checks and the parsing of size and period setting values. Used in
 * roost-lda and roostadm on untrusted strings; every copy is bounded.
 */
#include <ctype.h>
#include <string.h>

#include "sieve-private.h"

char *sieve_pstrndup(struct pool *pool, const char *s, size_t len)
{
	return p_strndup(pool, s, len);
}

char *sieve_str_lower(struct pool *pool, const char *s, size_t len)
{
	char *out = p_strndup(pool, s, len);
	size_t i;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return out;
}

/* Length of the UTF-8 sequence at s, or 0 when it is not a valid one. */
static size_t utf8_seq_len(const unsigned char *s, size_t left)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool sieve_utf8_valid(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_seq_len((const unsigned char *)s + i, len - i);

		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

char *sieve_sanitize(struct pool *pool, const char *s, size_t max)
{
	size_t len = strlen(s), i = 0;
	struct buf b;
	char *ret;

	buf_init(&b, max + 8);
	while (i < max && i < len) {
		size_t left = (max - i < len - i) ? max - i : len - i;
		size_t n = utf8_seq_len((const unsigned char *)s + i, left);

		if (n == 0) {
			/* A sequence cut by the limit ends the output. */
			if (utf8_seq_len((const unsigned char *)s + i, len - i) != 0)
				break;
			(void)buf_append_c(&b, '?');
			i++;
			continue;
		}
		if ((unsigned char)s[i] < 0x20)
			(void)buf_append_c(&b, '?');
		else
			(void)buf_append(&b, s + i, n);
		i += n;
	}
	if (i < len) {
		if (max < 3) {
			buf_reset(&b);
		} else {
			const uint8_t *d = buf_data(&b);
			size_t l = buf_len(&b);

			while (l > max - 3) {
				l--;
				while (l > 0 && (d[l] & 0xc0) == 0x80)
					l--;
			}
			buf_truncate(&b, l);
			(void)buf_append_str(&b, "...");
		}
	}
	ret = p_strndup(pool, buf_data(&b), buf_len(&b));
	buf_free(&b);
	return ret != NULL ? ret : (char *)"";
}

static bool parse_u64(const char *s, const char **end_r, uint64_t *v_r)
{
	uint64_t v = 0;
	const char *p = s;

	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p)) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
			return false;
		p++;
	}
	*end_r = p;
	*v_r = v;
	return true;
}

bool sieve_parse_size(const char *s, uint64_t *v_r)
{
	const char *end;
	uint64_t v, mul = 1;

	while (*s == ' ')
		s++;
	if (!parse_u64(s, &end, &v))
		return false;
	while (*end == ' ')
		end++;
	switch (tolower((unsigned char)*end)) {
	case '\0':
		break;
	case 'b':
		break;
	case 'k':
		mul = 1024;
		break;
	case 'm':
		mul = 1024 * 1024;
		break;
	case 'g':
		mul = 1024ULL * 1024 * 1024;
		break;
	case 't':
		mul = 1024ULL * 1024 * 1024 * 1024;
		break;
	default:
		return false;
	}
	if (*end != '\0') {
		end++;
		if (tolower((unsigned char)*end) == 'b')
			end++;
		if (*end != '\0')
			return false;
	}
	if (__builtin_mul_overflow(v, mul, v_r))
		return false;
	return true;
}

bool sieve_parse_period(const char *s, uint64_t *v_r)
{
	const char *end;
	uint64_t v, mul = 1;

	while (*s == ' ')
		s++;
	if (!parse_u64(s, &end, &v))
		return false;
	while (*end == ' ')
		end++;
	if (*end != '\0') {
		const char *unit = end;

		if (strcasecmp(unit, "s") == 0 || strncasecmp(unit, "sec", 3) == 0)
			mul = 1;
		else if (strcasecmp(unit, "m") == 0 || strncasecmp(unit, "min", 3) == 0)
			mul = 60;
		else if (strcasecmp(unit, "h") == 0 || strncasecmp(unit, "hour", 4) == 0)
			mul = 3600;
		else if (strcasecmp(unit, "d") == 0 || strncasecmp(unit, "day", 3) == 0)
			mul = 86400;
		else if (strcasecmp(unit, "w") == 0 || strncasecmp(unit, "week", 4) == 0)
			mul = 7 * 86400;
		else
			return false;
	}
	if (__builtin_mul_overflow(v, mul, v_r))
		return false;
	return true;
}
