/*
 * Checks the mail addresses that scripts write (redirect targets, vacation
 * :from and :addresses): one RFC 5322 mailbox, bare or in angle brackets
 * with an optional display name. Runs in roost-lda and roostadm; the input
 * is script text and is only read within its length.
 */
#include <string.h>

#include "sieve-private.h"

static bool atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL || c >= 0x80;
}

static size_t skip_cfws(const char *s, size_t len, size_t i)
{
	while (i < len) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
			i++;
		} else if (s[i] == '(') {
			unsigned int depth = 0;

			while (i < len) {
				if (s[i] == '\\' && i + 1 < len)
					i++;
				else if (s[i] == '(')
					depth++;
				else if (s[i] == ')' && --depth == 0) {
					i++;
					break;
				}
				i++;
			}
		} else {
			break;
		}
	}
	return i;
}

/* Parses dot-atom or quoted-string at i; returns the end or 0 on error. */
static size_t parse_local(const char *s, size_t len, size_t i, struct buf *out,
			  const char **error_r)
{
	if (i < len && s[i] == '"') {
		i++;
		(void)buf_append_c(out, '"');
		while (i < len && s[i] != '"') {
			if (s[i] == '\\' && i + 1 < len) {
				(void)buf_append_c(out, '\\');
				i++;
			}
			(void)buf_append_c(out, (uint8_t)s[i]);
			i++;
		}
		if (i >= len) {
			*error_r = "missing '\"' at end of quoted local part";
			return 0;
		}
		(void)buf_append_c(out, '"');
		return i + 1;
	}
	for (;;) {
		size_t start = i;

		while (i < len && atext((unsigned char)s[i]))
			i++;
		if (i == start) {
			*error_r = "invalid local part";
			return 0;
		}
		(void)buf_append(out, s + start, i - start);
		if (i < len && s[i] == '.') {
			(void)buf_append_c(out, '.');
			i++;
			continue;
		}
		return i;
	}
}

static size_t parse_domain(const char *s, size_t len, size_t i, struct buf *out,
			   const char **error_r)
{
	if (i < len && s[i] == '[') {
		size_t start = i;

		while (i < len && s[i] != ']')
			i++;
		if (i >= len) {
			*error_r = "missing ']' at end of domain literal";
			return 0;
		}
		(void)buf_append(out, s + start, i + 1 - start);
		return i + 1;
	}
	for (;;) {
		size_t start = i;

		while (i < len && (atext((unsigned char)s[i]) && s[i] != '/'))
			i++;
		if (i == start) {
			*error_r = "invalid or missing domain";
			return 0;
		}
		(void)buf_append(out, s + start, i - start);
		if (i < len && s[i] == '.') {
			(void)buf_append_c(out, '.');
			i++;
			continue;
		}
		return i;
	}
}

static bool parse_addr_spec(struct pool *pool, const char *s, size_t len, size_t *ip,
			    const char **local_r, const char **domain_r, const char **error_r)
{
	struct buf lp, dom;
	size_t i = *ip;
	bool ok = false;

	buf_init(&lp, len + 4);
	buf_init(&dom, len + 4);
	i = skip_cfws(s, len, i);
	i = parse_local(s, len, i, &lp, error_r);
	if (i == 0)
		goto out;
	i = skip_cfws(s, len, i);
	if (i >= len || s[i] != '@') {
		*error_r = p_strdup_printf(
			pool, "invalid or lonely local part '%s' (expecting '@')", buf_cstr(&lp));
		goto out;
	}
	i = skip_cfws(s, len, i + 1);
	i = parse_domain(s, len, i, &dom, error_r);
	if (i == 0)
		goto out;
	*local_r = p_strndup(pool, buf_data(&lp), buf_len(&lp));
	*domain_r = p_strndup(pool, buf_data(&dom), buf_len(&dom));
	*ip = skip_cfws(s, len, i);
	ok = *local_r != NULL && *domain_r != NULL;
out:
	buf_free(&lp);
	buf_free(&dom);
	return ok;
}

bool sieve_address_parse(struct pool *pool, const char *s, size_t len, const char **local_r,
			 const char **domain_r, const char **error_r)
{
	const char *lt = memchr(s, '<', len);
	size_t i = 0;

	*error_r = "invalid address";
	if (len == 0 || memchr(s, '\0', len) != NULL) {
		*error_r = "empty address";
		return false;
	}
	if (lt != NULL) {
		/* name-addr: the display name is not checked strictly. */
		i = (size_t)(lt - s) + 1;
		if (!parse_addr_spec(pool, s, len, &i, local_r, domain_r, error_r))
			return false;
		if (i >= len || s[i] != '>') {
			*error_r = "missing '>' at end of address";
			return false;
		}
		i = skip_cfws(s, len, i + 1);
	} else {
		if (!parse_addr_spec(pool, s, len, &i, local_r, domain_r, error_r))
			return false;
	}
	if (i != len) {
		*error_r = p_strdup_printf(pool, "invalid characters after address: '%s'",
					   sieve_sanitize(pool, s + i, 40));
		return false;
	}
	return true;
}
