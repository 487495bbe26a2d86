/*
 * Case folding for SEARCH, SORT and THREAD (RFC 5051 i;unicode-casemap over
 * the Basic Multilingual Plane) and the incremental substring finder that
 * BODY and TEXT run over message text. Runs in roost-imap on untrusted text:
 * invalid UTF-8 is replaced, output space is computed before writing, and
 * the finder keeps only a bounded window of any text it is fed.
 */
#include <string.h>

#include "search.h"

#include "search-fold-data.h"

/* Input folded per step; the output needs at most FOLD_EXPANSION times it. */
#define FOLD_STEP      (16 * 1024)
#define FOLD_EXPANSION 5

static const uint8_t replacement[3] = {0xef, 0xbf, 0xbd};

/*
 * Length of the valid UTF-8 sequence at p (n bytes available) and its code
 * point; 0 when the bytes are invalid, -1 when they are a valid start that
 * is cut short by the end of the input.
 */
static int utf8_next(const uint8_t *p, size_t n, uint32_t *cp_r)
{
	uint8_t c = p[0];
	int len;
	uint32_t cp, min;

	if (c < 0xc2 || c > 0xf4)
		return 0;
	if (c < 0xe0) {
		len = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if (c < 0xf0) {
		len = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else {
		len = 4;
		cp = c & 0x07;
		min = 0x10000;
	}
	for (int i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return -1;
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
		/* Reject overlong and out-of-range forms as early as possible,
		   so a truncated invalid prefix is not reported as partial. */
		if (i == 1 && ((len == 3 && cp < 0x20) || (len == 4 && (cp < 0x10 || cp > 0x10f))))
			return 0;
	}
	if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	*cp_r = cp;
	return len;
}

/*
 * Folds complete characters of in[0..len) into out (room for
 * len * FOLD_EXPANSION bytes). With final false, a sequence cut short at the
 * end is left unconsumed. Returns the bytes written; *consumed_r the input
 * used.
 */
static size_t fold_bytes(const uint8_t *in, size_t len, bool final, uint8_t *out,
			 size_t *consumed_r)
{
	uint8_t *o = out;
	size_t i = 0;

	while (i < len) {
		uint8_t c = in[i];
		uint32_t cp;
		int n;

		if (c < 0x80) {
			*o++ = c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c;
			i++;
			continue;
		}
		n = utf8_next(in + i, len - i, &cp);
		if (n < 0 && !final)
			break;
		if (n <= 0) {
			memcpy(o, replacement, sizeof(replacement));
			o += sizeof(replacement);
			i++;
			continue;
		}
		if (cp < 0x10000) {
			unsigned int block = fold_page[cp >> 8];
			unsigned int entry = block == 0 ? 0 : fold_block[block][cp & 0xff];

			if (entry != 0) {
				memcpy(o, &fold_entry[entry][1], fold_entry[entry][0]);
				o += fold_entry[entry][0];
				i += (size_t)n;
				continue;
			}
		}
		memcpy(o, in + i, (size_t)n);
		o += n;
		i += (size_t)n;
	}
	*consumed_r = i;
	return (size_t)(o - out);
}

bool search_fold(const uint8_t *in, size_t len, struct buf *out)
{
	while (len > 0) {
		size_t step = len < FOLD_STEP ? len : FOLD_STEP, used, written;
		uint8_t *dst = buf_reserve(out, step * FOLD_EXPANSION);

		if (dst == NULL)
			return false;
		/* A sequence cut by the step boundary is finished in the
		   next step; only the real end of the input is final. */
		written = fold_bytes(in, step, step == len, dst, &used);
		if (used == 0) {
			/* A truncated sequence longer than the step cannot
			   happen (steps are far longer than 4 bytes), but be
			   safe: take the rest as final. */
			written = fold_bytes(in, len < 4 ? len : 4, true, dst, &used);
		}
		buf_commit(out, written);
		in += used;
		len -= used;
	}
	return true;
}

void search_finder_init(struct search_finder *finder, const uint8_t *const *needles,
			const size_t *needle_lens, bool *found, size_t count)
{
	memset(finder, 0, sizeof(*finder));
	finder->needles = needles;
	finder->needle_lens = needle_lens;
	finder->count = count;
	finder->found = found;
	for (size_t i = 0; i < count; i++) {
		found[i] = false;
		if (needle_lens[i] > finder->max_len)
			finder->max_len = needle_lens[i];
	}
	finder->remaining = count;
	/* Empty needles occur in any text, even an empty one. */
	for (size_t i = 0; i < count; i++) {
		if (needle_lens[i] == 0) {
			found[i] = true;
			finder->remaining--;
		}
	}
	buf_init(&finder->window, SIZE_MAX / 2);
}

/* Looks for the needles not found yet in the window. */
static void finder_scan(struct search_finder *finder)
{
	const uint8_t *data = buf_data(&finder->window);
	size_t len = buf_len(&finder->window);

	for (size_t i = 0; i < finder->count && finder->remaining > 0; i++) {
		if (finder->found[i] || finder->needle_lens[i] > len)
			continue;
		if (memmem(data, len, finder->needles[i], finder->needle_lens[i]) != NULL) {
			finder->found[i] = true;
			finder->remaining--;
		}
	}
	/* Only the last max_len - 1 bytes can still begin a match. */
	if (finder->max_len > 0 && len > finder->max_len - 1)
		buf_consume(&finder->window, len - (finder->max_len - 1));
}

/* Folds len bytes (final: nothing follows) into the window and scans it. */
static void finder_fold(struct search_finder *finder, const uint8_t *text, size_t len, bool final)
{
	while (len > 0 && finder->remaining > 0) {
		size_t step = len < FOLD_STEP ? len : FOLD_STEP, used, written;
		uint8_t *dst = buf_reserve(&finder->window, step * FOLD_EXPANSION);

		if (dst == NULL)
			return;
		written = fold_bytes(text, step, final && step == len, dst, &used);
		buf_commit(&finder->window, written);
		if (used < step && step == len) {
			/* An incomplete sequence at the end: keep it for the
			   next piece. */
			finder->partial_len = step - used;
			memcpy(finder->partial, text + used, finder->partial_len);
			used = step;
		} else if (used == 0) {
			used = step;
		}
		text += used;
		len -= used;
		finder_scan(finder);
	}
}

bool search_finder_feed(struct search_finder *finder, const uint8_t *text, size_t len)
{
	if (finder->remaining == 0)
		return false;
	if (finder->partial_len > 0 && len > 0) {
		/* Complete the sequence the last piece ended in. */
		uint8_t joined[8];
		size_t take = len < 4 ? len : 4, n = finder->partial_len;

		memcpy(joined, finder->partial, n);
		memcpy(joined + n, text, take);
		finder->partial_len = 0;
		/* Fold exactly one character from the joined bytes. */
		uint32_t cp;
		int clen = utf8_next(joined, n + take, &cp);

		if (clen < 0 && take == len) {
			/* Still incomplete: keep waiting. */
			memcpy(finder->partial, joined, n + take);
			finder->partial_len = n + take;
			return true;
		}
		if (clen <= 0 || (size_t)clen <= n) {
			/* The held bytes were invalid after all. */
			finder_fold(finder, joined, n, true);
		} else {
			finder_fold(finder, joined, (size_t)clen, true);
			text += (size_t)clen - n;
			len -= (size_t)clen - n;
		}
	}
	finder_fold(finder, text, len, false);
	return finder->remaining > 0;
}

void search_finder_break(struct search_finder *finder)
{
	if (finder->partial_len > 0) {
		size_t n = finder->partial_len;
		uint8_t held[4];

		memcpy(held, finder->partial, n);
		finder->partial_len = 0;
		finder_fold(finder, held, n, true);
	}
	buf_reset(&finder->window);
}

void search_finder_deinit(struct search_finder *finder)
{
	buf_free(&finder->window);
}
