/*
 * Matching a parsed SEARCH program against one message at a time: record
 * fields first, then dates, header fields (from the cache when possible)
 * and, only if still undecided, the message text, where every BODY and TEXT
 * string of the program is looked for in one pass. Runs in roost-imap on
 * untrusted messages; a message that cannot be read matches nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "storage/rfc2047.h"
#include "search.h"
#include "xalloc.h"

#define SEARCH_VALUE_MAX (4U * 1024 * 1024)

struct search_matcher {
	const struct search_program *prog;
	struct search_body body;
	/* Per message: whether the BODY/TEXT scan ran, and what it found. */
	uint64_t body_serial;
	bool body_done;
	bool *found;
	/* Scratch for one pass of the scan. */
	const uint8_t **needles;
	size_t *lens;
	bool *pass_found;
	unsigned int *pass_map;
	/* A decoded header value and its folded form. */
	struct buf value;
	struct buf folded;
};

struct search_matcher *search_matcher_create(const struct search_program *prog)
{
	struct search_matcher *m = i_calloc(1, sizeof(*m));
	size_t n = prog->body_key_count + 1;

	m->prog = prog;
	search_body_init(&m->body);
	m->found = i_calloc(n, sizeof(*m->found));
	m->needles = i_calloc(n, sizeof(*m->needles));
	m->lens = i_calloc(n, sizeof(*m->lens));
	m->pass_found = i_calloc(n, sizeof(*m->pass_found));
	m->pass_map = i_calloc(n, sizeof(*m->pass_map));
	buf_init(&m->value, SEARCH_VALUE_MAX);
	buf_init(&m->folded, SEARCH_VALUE_MAX * 5);
	return m;
}

void search_matcher_destroy(struct search_matcher **matcher)
{
	struct search_matcher *m = *matcher;

	if (m == NULL)
		return;
	search_body_deinit(&m->body);
	free(m->found);
	free(m->needles);
	free(m->lens);
	free(m->pass_found);
	free(m->pass_map);
	buf_free(&m->value);
	buf_free(&m->folded);
	free(m);
	*matcher = NULL;
}

int64_t search_local_day(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	int64_t local = t;

	if (localtime_r(&tt, &tm) != NULL)
		local += tm.tm_gmtoff;
	return local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
}

/* Days since the epoch of a time in a zone tz minutes east of UTC. */
static int64_t zone_day(int64_t t, int tz)
{
	int64_t local = t + (int64_t)tz * 60;

	return local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
}

/* One pass of the finder: TEXT strings over the headers, or the strings
   still not found over the body text. */
static void scan_pass(struct search_matcher *m, bool header)
{
	const struct search_program *prog = m->prog;
	struct search_finder finder;
	size_t n = 0;

	for (unsigned int i = 0; i < prog->body_key_count; i++) {
		const struct search_key *key = prog->body_keys[i];

		if (m->found[i] || (header && key->type != SEARCH_KEY_TEXT))
			continue;
		m->needles[n] = key->needle;
		m->lens[n] = key->needle_len;
		m->pass_map[n] = i;
		n++;
	}
	if (n == 0)
		return;
	search_finder_init(&finder, m->needles, m->lens, m->pass_found, n);
	if (finder.remaining > 0) {
		if (header)
			(void)search_body_feed_headers(&m->body, &finder);
		else
			(void)search_body_feed_texts(&m->body, &finder);
	}
	for (size_t j = 0; j < n; j++) {
		if (m->pass_found[j])
			m->found[m->pass_map[j]] = true;
	}
	search_finder_deinit(&finder);
}

/* Runs the BODY/TEXT scan for this message once. */
static bool scan_body(struct search_matcher *m, struct search_mail *mail)
{
	if (m->body_done && m->body_serial == mail->serial)
		return true;
	if (!search_body_load(&m->body, mail))
		return false;
	memset(m->found, 0, m->prog->body_key_count * sizeof(*m->found));
	scan_pass(m, true);
	scan_pass(m, false);
	m->body_done = true;
	m->body_serial = mail->serial;
	return true;
}

static bool match_header(struct search_matcher *m, struct search_mail *mail,
			 const struct search_key *key)
{
	struct search_hdr_iter iter;
	const uint8_t *blob, *value;
	size_t blob_len, value_len;
	uint8_t id;

	if (!search_mail_header(mail, key->header, &blob, &blob_len, &id))
		return false;
	search_hdr_iter_init(&iter, blob, blob_len, id);
	while (search_hdr_iter_next(&iter, &value, &value_len)) {
		/* An empty string matches every message with the field. */
		if (key->needle_len == 0)
			return true;
		buf_reset(&m->value);
		buf_reset(&m->folded);
		(void)rfc2047_decode(value, value_len, &m->value, NULL);
		(void)search_fold(buf_data(&m->value), buf_len(&m->value), &m->folded);
		if (memmem(buf_data(&m->folded), buf_len(&m->folded), key->needle,
			   key->needle_len) != NULL)
			return true;
	}
	return false;
}

/* The day of the Date: header in its own zone; false if there is none. */
static bool sent_day(struct search_mail *mail, int64_t *day_r)
{
	const uint8_t *blob, *value;
	size_t blob_len, value_len;
	time_t t;
	int tz;

	if (!search_mail_std_headers(mail, &blob, &blob_len) ||
	    !search_hdr_first(blob, blob_len, SEARCH_HDR_DATE, &value, &value_len) ||
	    !search_hdr_date(value, value_len, &t, &tz))
		return false;
	*day_r = zone_day((int64_t)t, tz);
	return true;
}

static bool match_key(struct search_matcher *m, struct search_mail *mail,
		      const struct search_key *key)
{
	int64_t date, day;

	switch (key->type) {
	case SEARCH_KEY_ALL:
		return true;
	case SEARCH_KEY_NONE:
		return false;
	case SEARCH_KEY_AND:
		for (const struct search_key *c = key->children; c != NULL; c = c->next) {
			if (!match_key(m, mail, c))
				return false;
		}
		return true;
	case SEARCH_KEY_OR:
		for (const struct search_key *c = key->children; c != NULL; c = c->next) {
			if (match_key(m, mail, c))
				return true;
		}
		return false;
	case SEARCH_KEY_NOT:
		return !match_key(m, mail, key->children);
	case SEARCH_KEY_SEQSET:
		return imap_seqset_contains(&key->u.set, mail->seq);
	case SEARCH_KEY_UIDSET:
		return imap_seqset_contains(&key->u.set, mail->uid);
	case SEARCH_KEY_FLAG:
		return (mail->flags & key->u.flag) != 0;
	case SEARCH_KEY_KEYWORD:
		return key->u.keyword < 32 && (mail->keywords & (1U << key->u.keyword)) != 0;
	case SEARCH_KEY_LARGER:
		return mail->size > key->u.number;
	case SEARCH_KEY_SMALLER:
		return mail->size < key->u.number;
	case SEARCH_KEY_MODSEQ:
		return mail->modseq >= key->u.number;
	case SEARCH_KEY_BEFORE:
	case SEARCH_KEY_ON:
	case SEARCH_KEY_SINCE:
		if (!search_mail_internal_date(mail, &date))
			return false;
		day = search_local_day(date);
		return key->type == SEARCH_KEY_BEFORE ? day < key->u.day
		       : key->type == SEARCH_KEY_ON   ? day == key->u.day
						      : day >= key->u.day;
	case SEARCH_KEY_OLDER:
	case SEARCH_KEY_YOUNGER:
		if (!search_mail_internal_date(mail, &date))
			return false;
		return key->type == SEARCH_KEY_OLDER ? date <= (int64_t)key->u.number
						     : date > (int64_t)key->u.number;
	case SEARCH_KEY_SENTBEFORE:
	case SEARCH_KEY_SENTON:
	case SEARCH_KEY_SENTSINCE:
		if (!sent_day(mail, &day))
			return false;
		return key->type == SEARCH_KEY_SENTBEFORE ? day < key->u.day
		       : key->type == SEARCH_KEY_SENTON	  ? day == key->u.day
							  : day >= key->u.day;
	case SEARCH_KEY_HEADER:
		return match_header(m, mail, key);
	case SEARCH_KEY_BODY:
	case SEARCH_KEY_TEXT:
		return scan_body(m, mail) && m->found[key->body_index];
	}
	return false;
}

bool search_matcher_match(struct search_matcher *matcher, struct search_mail *mail)
{
	bool ret;

	if (matcher->body_serial != mail->serial)
		matcher->body_done = false;
	ret = match_key(matcher, mail, matcher->prog->root);
	/* NOT over a message that could not be read must not match it. */
	return ret && !mail->failed;
}

static bool resolve_tree(struct search_key *key,
			 bool (*resolve)(void *ctx, struct search_key *key, const char **error_r),
			 void *ctx, const char **error_r)
{
	if ((key->type == SEARCH_KEY_SEQSET || key->type == SEARCH_KEY_UIDSET) &&
	    !resolve(ctx, key, error_r))
		return false;
	for (struct search_key *c = key->children; c != NULL; c = c->next) {
		if (!resolve_tree(c, resolve, ctx, error_r))
			return false;
	}
	return true;
}

bool search_program_resolve_sets(struct search_program *prog,
				 bool (*resolve)(void *ctx, struct search_key *key,
						 const char **error_r),
				 void *ctx, const char **error_r)
{
	return prog->root == NULL || resolve_tree(prog->root, resolve, ctx, error_r);
}
