/*
 * LIST pattern matching (see list-pattern.h). Runs in roost-imap on
 * client patterns and in roostadm on mailbox masks: a pattern is matched by stepping a set of
 * pattern positions over the name, never by backtracking, so "*%*%*%..." costs the same as any
 * other pattern of its length.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "list-pattern.h"
#include "xalloc.h"

struct list_pattern {
	char *text;
	size_t len;
	char sep;
	/* Two rows of the match table, len + 1 entries each. */
	bool *cur, *next;
};

bool list_pattern_combine(const char *ref, size_t ref_len, const char *pattern, size_t pattern_len,
			  char sep, struct buf *out)
{
	if (ref_len > 0 && pattern_len > 0 && ref[ref_len - 1] == sep && pattern[0] == sep) {
		pattern++;
		pattern_len--;
	}
	if (ref_len > LIST_PATTERN_MAX || pattern_len > LIST_PATTERN_MAX - ref_len)
		return false;
	return buf_append(out, ref, ref_len) && buf_append(out, pattern, pattern_len);
}

static bool is_wildcard(char c)
{
	return c == '*' || c == '%';
}

struct list_pattern *list_pattern_compile(const char *pattern, size_t len, char sep)
{
	struct list_pattern *p = i_calloc(1, sizeof(*p));
	size_t o = 0;

	p->text = i_malloc(len + 1);
	p->sep = sep;
	for (size_t i = 0; i < len;) {
		if (!is_wildcard(pattern[i])) {
			p->text[o++] = pattern[i++];
			continue;
		}
		/* A run of wildcards matches like its widest member. */
		char w = '%';

		for (; i < len && is_wildcard(pattern[i]); i++) {
			if (pattern[i] == '*')
				w = '*';
		}
		p->text[o++] = w;
	}
	p->text[o] = '\0';
	p->len = o;
	p->cur = i_calloc(o + 1, sizeof(bool));
	p->next = i_calloc(o + 1, sizeof(bool));
	return p;
}

void list_pattern_free(struct list_pattern **_p)
{
	struct list_pattern *p = *_p;

	if (p == NULL)
		return;
	*_p = NULL;
	free(p->text);
	free(p->cur);
	free(p->next);
	free(p);
}

const char *list_pattern_text(const struct list_pattern *pattern)
{
	return pattern->text;
}

static char ascii_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

bool list_pattern_match(struct list_pattern *p, const char *name, size_t len)
{
	bool *cur = p->cur, *next = p->next, *tmp;
	const char *t = p->text;
	size_t m = p->len;
	/* INBOX is case-insensitive, also as the first level of a child. */
	size_t ci_len =
		len >= 5 && strncasecmp(name, "INBOX", 5) == 0 && (len == 5 || name[5] == p->sep)
			? 5
			: 0;

	cur[0] = true;
	for (size_t j = 1; j <= m; j++)
		cur[j] = cur[j - 1] && is_wildcard(t[j - 1]);
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool any = false;

		next[0] = false;
		for (size_t j = 1; j <= m; j++) {
			char pc = t[j - 1];

			if (pc == '*')
				next[j] = next[j - 1] || cur[j];
			else if (pc == '%')
				next[j] = next[j - 1] || (cur[j] && c != p->sep);
			else
				next[j] = cur[j - 1] &&
					  (pc == c ||
					   (i < ci_len && ascii_upper(pc) == ascii_upper(c)));
			any = any || next[j];
		}
		tmp = cur;
		cur = next;
		next = tmp;
		if (!any)
			return false;
	}
	return cur[m];
}
