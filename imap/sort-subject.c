/*
 * Base subject extraction for SORT SUBJECT and THREAD (RFC 5256 section 2.1
 * steps 1-7 and the ABNF of section 5), which every server and disconnected
 * client must follow exactly. Runs in roost-imap on untrusted Subject
 * values: the work is done on a bounded copy, each step only shortens it,
 * so every loop ends.
 */
#include <string.h>

#include "sort.h"
#include "storage/rfc2047.h"

/* Longest subject looked at after decoding; longer ones are cut. */
#define SORT_SUBJECT_MAX (64U * 1024)

static bool is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static bool lower_is(uint8_t c, char want)
{
	return (c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c) == (uint8_t)want;
}

/*
 * subj-blob = "[" *BLOBCHAR "]" *WSP, BLOBCHAR any byte but NUL, "[" and "]".
 * Returns the end of the blob starting at p, or 0 when there is none.
 */
static size_t match_blob(const uint8_t *s, size_t p, size_t end)
{
	if (p >= end || s[p] != '[')
		return 0;
	for (p++; p < end && s[p] != ']'; p++) {
		if (s[p] == '[' || s[p] == '\0')
			return 0;
	}
	if (p >= end)
		return 0;
	for (p++; p < end && is_wsp(s[p]); p++)
		;
	return p;
}

/* subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"; 0 if none. */
static size_t match_refwd(const uint8_t *s, size_t p, size_t end)
{
	size_t q;

	if (p + 2 <= end && lower_is(s[p], 'r') && lower_is(s[p + 1], 'e'))
		p += 2;
	else if (p + 2 <= end && lower_is(s[p], 'f') && lower_is(s[p + 1], 'w')) {
		p += 2;
		if (p < end && lower_is(s[p], 'd'))
			p++;
	} else
		return 0;
	while (p < end && is_wsp(s[p]))
		p++;
	if ((q = match_blob(s, p, end)) != 0)
		p = q;
	return p < end && s[p] == ':' ? p + 1 : 0;
}

/* subj-leader = (*subj-blob subj-refwd) / WSP; 0 if none. */
static size_t match_leader(const uint8_t *s, size_t p, size_t end, bool *refwd_r)
{
	size_t q = p, r;

	if (p < end && is_wsp(s[p])) {
		*refwd_r = false;
		return p + 1;
	}
	/* The blobs before a refwd: try the refwd after each of them. */
	for (;;) {
		if ((r = match_refwd(s, q, end)) != 0) {
			*refwd_r = true;
			return r;
		}
		if ((r = match_blob(s, q, end)) == 0)
			return 0;
		q = r;
	}
}

bool sort_base_subject(const uint8_t *subject, size_t len, struct buf *out, bool *reply_r)
{
	struct buf decoded = BUF_INIT(SORT_SUBJECT_MAX);
	uint8_t *s;
	size_t start = 0, end = 0, n;
	bool reply = false, again, ok;

	/* (1) Encoded words to UTF-8; tabs and line breaks (continuations)
	   become spaces and runs of spaces one space. */
	(void)rfc2047_decode(subject, len, &decoded, NULL);
	n = buf_len(&decoded);
	if (n == 0) {
		*reply_r = false;
		buf_free(&decoded);
		return true;
	}
	s = buf_data_mut(&decoded);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i] == '\t' || s[i] == '\r' || s[i] == '\n' ? ' ' : s[i];

		if (c == ' ' && end > 0 && s[end - 1] == ' ')
			continue;
		s[end++] = c;
	}

	do {
		bool changed;

		/* (2) subj-trailer = "(fwd)" / WSP, removed from the end. */
		for (;;) {
			if (end > start && s[end - 1] == ' ')
				end--;
			else if (end - start >= 5 && s[end - 1] == ')' && s[end - 5] == '(' &&
				 lower_is(s[end - 4], 'f') && lower_is(s[end - 3], 'w') &&
				 lower_is(s[end - 2], 'd')) {
				end -= 5;
				reply = true;
			} else
				break;
		}
		do {
			bool refwd;
			size_t q;

			changed = false;
			/* (3) Every subj-leader at the start. */
			while ((q = match_leader(s, start, end, &refwd)) != 0) {
				start = q;
				reply = reply || refwd;
				changed = true;
			}
			/* (4) A subj-blob, if something (the subj-base) is left
			   after it. */
			q = match_blob(s, start, end);
			if (q != 0 && q < end) {
				start = q;
				changed = true;
			}
			/* (5) Until neither matches. */
		} while (changed);

		/* (6) "[fwd:" ... "]" around all of it: remove, start over. */
		again = false;
		if (end - start >= 6 && s[start] == '[' && lower_is(s[start + 1], 'f') &&
		    lower_is(s[start + 2], 'w') && lower_is(s[start + 3], 'd') &&
		    s[start + 4] == ':' && s[end - 1] == ']') {
			start += 5;
			end--;
			reply = true;
			again = true;
		}
	} while (again);

	/* (7) What is left is the base subject. */
	ok = search_fold(s + start, end - start, out);
	buf_free(&decoded);
	*reply_r = reply;
	return ok;
}
