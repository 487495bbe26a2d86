/*
 * Comparators (RFC 4790: i;octet, i;ascii-casemap, i;ascii-numeric) and
 * match types (:is, :contains, :matches, :regex, relational :value/:count)
 * with the match values of RFC 5229. Runs in roost-lda on values from
 * hostile messages: :matches never backtracks (a pattern is split at its
 * stars and each piece is placed leftmost once), regexes are POSIX.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "sieve-private.h"

/* One piece of a :matches pattern between two stars. */
struct glob_seg {
	char *bytes; /* lowercased for i;ascii-casemap */
	char *any;   /* 1 where the pattern had '?' */
	size_t len;
	bool has_any;
};

struct sieve_glob {
	struct glob_seg *segs;
	unsigned int count; /* stars + 1 */
	size_t min_len;
};

struct sieve_glob *sieve_glob_compile(struct pool *pool, const char *key, size_t len,
				      enum sieve_cmp cmp)
{
	struct sieve_glob *g = p_malloc(pool, sizeof(*g));
	unsigned int stars = 0, seg = 0;
	char *bytes, *any;
	size_t i, used = 0;

	if (g == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		if (key[i] == '\\' && i + 1 < len)
			i++;
		else if (key[i] == '*')
			stars++;
	}
	g->count = stars + 1;
	g->segs = p_malloc_array(pool, g->count, sizeof(*g->segs));
	/* All pieces share two buffers: memory stays linear in the key. */
	bytes = p_malloc(pool, len + 1);
	any = p_malloc(pool, len + 1);
	if (g->segs == NULL || bytes == NULL || any == NULL)
		return NULL;
	g->segs[0].bytes = bytes;
	g->segs[0].any = any;
	for (i = 0; i < len; i++) {
		struct glob_seg *s = &g->segs[seg];
		char c = key[i];
		bool is_any = false;

		if (c == '*') {
			seg++;
			g->segs[seg].bytes = bytes + used;
			g->segs[seg].any = any + used;
			continue;
		}
		if (c == '?') {
			is_any = true;
		} else if (c == '\\' && i + 1 < len) {
			c = key[++i];
		}
		if (cmp == SIEVE_CMP_CASEMAP)
			c = (char)tolower((unsigned char)c);
		bytes[used] = c;
		any[used] = is_any ? 1 : 0;
		used++;
		if (is_any)
			s->has_any = true;
		s->len++;
		g->min_len += 1;
	}
	return g;
}

static bool seg_at(const struct glob_seg *s, const char *v)
{
	size_t i;

	if (!s->has_any)
		return memcmp(s->bytes, v, s->len) == 0;
	for (i = 0; i < s->len; i++) {
		if (s->any[i] == 0 && s->bytes[i] != v[i])
			return false;
	}
	return true;
}

/* Leftmost position >= from where s matches inside v[0..end). */
static bool seg_find(const struct glob_seg *s, const char *v, size_t from, size_t end,
		     size_t *pos_r)
{
	size_t p;

	if (s->len == 0) {
		*pos_r = from;
		return true;
	}
	if (end < from || end - from < s->len)
		return false;
	if (!s->has_any) {
		const char *f = memmem(v + from, end - from, s->bytes, s->len);

		if (f == NULL)
			return false;
		*pos_r = (size_t)(f - v);
		return true;
	}
	for (p = from; p + s->len <= end; p++) {
		if (seg_at(s, v + p)) {
			*pos_r = p;
			return true;
		}
	}
	return false;
}

static void mv_add(struct sieve_matchvals *mv, const char *orig, size_t off, size_t len)
{
	if (mv == NULL || mv->count >= SIEVE_MAX_MATCH_VALUES)
		return;
	mv->v[mv->count].s = orig + off;
	mv->v[mv->count].len = len;
	mv->count++;
}

static void mv_add_anys(struct sieve_matchvals *mv, const struct glob_seg *s, const char *orig,
			size_t at)
{
	size_t i;

	if (!s->has_any)
		return;
	for (i = 0; i < s->len; i++) {
		if (s->any[i] != 0)
			mv_add(mv, orig, at + i, 1);
	}
}

/* v is the (possibly lowercased) value, orig the original for captures. */
static bool glob_match(const struct sieve_glob *g, const char *v, const char *orig, size_t len,
		       struct sieve_matchvals *mv)
{
	const struct glob_seg *first = &g->segs[0], *last = &g->segs[g->count - 1];
	size_t pos, tail_start;
	unsigned int i;

	if (len < g->min_len)
		return false;
	if (g->count == 1) {
		if (len != first->len || !seg_at(first, v))
			return false;
		mv_add(mv, orig, 0, len);
		mv_add_anys(mv, first, orig, 0);
		return true;
	}
	if (!seg_at(first, v))
		return false;
	tail_start = len - last->len;
	if (tail_start < first->len || !seg_at(last, v + tail_start))
		return false;
	pos = first->len;
	/* Place the middle pieces leftmost; only the last star stretches. */
	if (mv != NULL)
		mv->count = 1;
	mv_add_anys(mv, first, orig, 0);
	for (i = 1; i + 1 < g->count; i++) {
		size_t found;

		if (!seg_find(&g->segs[i], v, pos, tail_start, &found))
			return false;
		mv_add(mv, orig, pos, found - pos);
		mv_add_anys(mv, &g->segs[i], orig, found);
		pos = found + g->segs[i].len;
	}
	mv_add(mv, orig, pos, tail_start - pos);
	mv_add_anys(mv, last, orig, tail_start);
	if (mv != NULL) {
		mv->v[0].s = orig;
		mv->v[0].len = len;
	}
	return true;
}

/* Bounds on a script's regex, counted in its expanded form (see below). */
#define SIEVE_REGEX_MAX_NODES	    20000
#define SIEVE_REGEX_MAX_LOOPS	    1000
#define SIEVE_REGEX_MAX_EMPTY_LOOPS 16

/* What an expression costs regcomp(): its nodes, its repetition operators,
   and those of them repeating something that can match the empty string. */
struct re_cost {
	uint64_t nodes, loops, empty_loops;
};

/* One group level of the estimate: the cost so far and that of the last
   atom (which a following quantifier repeats), and whether the current
   alternative before and after its last atom, an earlier alternative and
   the last atom can match the empty string. */
struct re_frame {
	struct re_cost sum, last;
	bool alt_before_empty, alt_empty, any_empty, last_empty;
};

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static void re_cost_add(struct re_cost *to, const struct re_cost *c)
{
	to->nodes = sat_add(to->nodes, c->nodes);
	to->loops = sat_add(to->loops, c->loops);
	to->empty_loops = sat_add(to->empty_loops, c->empty_loops);
}

static bool re_cost_over(const struct re_cost *c)
{
	return c->nodes > SIEVE_REGEX_MAX_NODES || c->loops > SIEVE_REGEX_MAX_LOOPS ||
	       c->empty_loops > SIEVE_REGEX_MAX_EMPTY_LOOPS;
}

static void re_frame_start(struct re_frame *f)
{
	memset(f, 0, sizeof(*f));
	f->alt_before_empty = true;
	f->alt_empty = true;
}

/* Appends an expression of cost c to the current alternative. */
static void re_append(struct re_frame *f, const struct re_cost *c, bool empty)
{
	re_cost_add(&f->sum, c);
	f->last = *c;
	f->last_empty = empty;
	f->alt_before_empty = f->alt_empty;
	f->alt_empty = f->alt_empty && empty;
}

static void re_atom(struct re_frame *f, bool empty)
{
	const struct re_cost one = {.nodes = 1};

	re_append(f, &one, empty);
}

/*
 * The last atom in k copies, `optional` of them (or one loop) behind an
 * epsilon branch. A loop over something that can match the empty string
 * makes glibc's epsilon closures blow up exponentially, so those count apart.
 */
static void re_repeat(struct re_frame *f, uint64_t k, uint64_t optional, bool empty_after)
{
	struct re_cost extra, *last = &f->last;
	uint64_t empty_loops = f->last_empty ? optional : 0;

	extra.nodes = sat_mul(last->nodes, k - 1);
	extra.loops = sat_add(sat_mul(last->loops, k - 1), optional);
	extra.empty_loops = sat_add(sat_mul(last->empty_loops, k - 1), empty_loops);
	re_cost_add(&f->sum, &extra);
	re_cost_add(last, &extra);
	f->last_empty = f->last_empty || empty_after;
	f->alt_empty = f->alt_before_empty && f->last_empty;
}

/*
 * glibc's regcomp() copies a repeated expression once per repetition
 * ("x{1,32767}" takes gigabytes, so does "a+++++++++++++++++++"), and a
 * script is untrusted. This estimates the expanded expression (a group
 * counts its contents, "+" doubles, "{n,m}" multiplies by m) and refuses
 * what would not fit in small bounds. Repetitions cost more than their
 * nodes: epsilon closures grow with the square of their number ("(x?){1,9999}"
 * takes most of a minute) and exponentially when what they repeat can be
 * empty ("((.*)?)+" sixteen times takes seconds, ".*++++++++++++" too).
 */
bool sieve_regex_too_complex(const char *re)
{
	struct re_frame stack[64];
	unsigned int depth = 0;
	struct re_frame *f = &stack[0];
	const char *p = re;

	re_frame_start(f);
	while (*p != '\0') {
		switch (*p) {
		case '\\':
			if (p[1] != '\0')
				p++;
			/* A back-reference may stand for an empty group. */
			re_atom(f, *p >= '1' && *p <= '9');
			break;
		case '[':
			/* A bracket expression is one node. */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p != '\0' && *p != ']') {
				if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
					char end = p[1];

					p += 2;
					while (*p != '\0' && !(*p == end && p[1] == ']'))
						p++;
					if (*p != '\0')
						p++;
				}
				if (*p != '\0')
					p++;
			}
			if (*p == '\0')
				return false;
			re_atom(f, false);
			break;
		case '(':
			if (depth + 1 >= N_ELEMENTS(stack))
				return true;
			f = &stack[++depth];
			re_frame_start(f);
			break;
		case ')':
			if (depth > 0) {
				const struct re_frame g = *f;

				f = &stack[--depth];
				re_append(f, &g.sum, g.any_empty || g.alt_empty);
			} else {
				re_atom(f, false);
			}
			break;
		case '|':
			f->any_empty = f->any_empty || f->alt_empty;
			f->alt_before_empty = true;
			f->alt_empty = true;
			memset(&f->last, 0, sizeof(f->last));
			f->last_empty = false;
			break;
		case '^':
		case '$':
			re_atom(f, true);
			break;
		case '*':
		case '?':
			re_repeat(f, 1, 1, true);
			break;
		case '+':
			re_repeat(f, 2, 1, false);
			break;
		case '{': {
			uint64_t n = 0, m = 0, k;
			bool comma = false, have_m = false;

			for (p++; *p >= '0' && *p <= '9'; p++)
				n = sat_add(sat_mul(n, 10), (uint64_t)(*p - '0'));
			if (*p == ',') {
				comma = true;
				for (p++; *p >= '0' && *p <= '9'; p++) {
					m = sat_add(sat_mul(m, 10), (uint64_t)(*p - '0'));
					have_m = true;
				}
			}
			if (*p != '}')
				return false; /* regcomp() will reject it */
			k = have_m ? m : comma ? sat_add(n, 1) : n;
			if (k == 0)
				k = 1;
			re_repeat(f, k, have_m ? (m > n ? m - n : 0) : comma ? 1 : 0, n == 0);
			break;
		}
		default:
			re_atom(f, false);
			break;
		}
		if (re_cost_over(&f->sum))
			return true;
		p++;
	}
	while (depth > 0) {
		const struct re_frame g = *f;

		f = &stack[--depth];
		re_cost_add(&f->sum, &g.sum);
	}
	return re_cost_over(&f->sum);
}

int sieve_regex_flags(enum sieve_cmp cmp)
{
	return REG_EXTENDED | (cmp == SIEVE_CMP_CASEMAP ? REG_ICASE : 0);
}

/* i;ascii-numeric: the leading digits as a number, or "infinity". */
static int numeric_order(const struct sieve_str *a, const struct sieve_str *b)
{
	size_t la = 0, lb = 0, sa = 0, sb = 0;

	while (la < a->len && isdigit((unsigned char)a->s[la]))
		la++;
	while (lb < b->len && isdigit((unsigned char)b->s[lb]))
		lb++;
	if (la == 0 || lb == 0) {
		if (la == 0 && lb == 0)
			return 0;
		return la == 0 ? 1 : -1;
	}
	while (sa + 1 < la && a->s[sa] == '0')
		sa++;
	while (sb + 1 < lb && b->s[sb] == '0')
		sb++;
	if (la - sa != lb - sb)
		return la - sa < lb - sb ? -1 : 1;
	return memcmp(a->s + sa, b->s + sb, la - sa) < 0   ? -1
	       : memcmp(a->s + sa, b->s + sb, la - sa) > 0 ? 1
							   : 0;
}

int sieve_cmp_order(enum sieve_cmp cmp, const struct sieve_str *a, const struct sieve_str *b)
{
	size_t n = a->len < b->len ? a->len : b->len, i;

	switch (cmp) {
	case SIEVE_CMP_NUMERIC:
		return numeric_order(a, b);
	case SIEVE_CMP_CASEMAP:
		for (i = 0; i < n; i++) {
			int ca = tolower((unsigned char)a->s[i]);
			int cb = tolower((unsigned char)b->s[i]);

			if (ca != cb)
				return ca < cb ? -1 : 1;
		}
		break;
	case SIEVE_CMP_OCTET: {
		int r = memcmp(a->s, b->s, n);

		if (r != 0)
			return r < 0 ? -1 : 1;
		break;
	}
	}
	if (a->len == b->len)
		return 0;
	return a->len < b->len ? -1 : 1;
}

bool sieve_rel_holds(enum sieve_rel rel, int order)
{
	switch (rel) {
	case SIEVE_REL_GT:
		return order > 0;
	case SIEVE_REL_GE:
		return order >= 0;
	case SIEVE_REL_LT:
		return order < 0;
	case SIEVE_REL_LE:
		return order <= 0;
	case SIEVE_REL_EQ:
		return order == 0;
	case SIEVE_REL_NE:
		return order != 0;
	}
	return false;
}

static bool casemap_contains(const struct sieve_str *v, const struct sieve_str *k)
{
	size_t i, j;

	if (k->len == 0)
		return true;
	if (k->len > v->len)
		return false;
	for (i = 0; i + k->len <= v->len; i++) {
		/* Skip quickly to a possible first character. */
		if (tolower((unsigned char)v->s[i]) != tolower((unsigned char)k->s[0]))
			continue;
		for (j = 1; j < k->len; j++) {
			if (tolower((unsigned char)v->s[i + j]) != tolower((unsigned char)k->s[j]))
				break;
		}
		if (j == k->len)
			return true;
	}
	return false;
}

static int regex_match(const regex_t *re, const struct sieve_str *value, struct sieve_matchvals *mv)
{
	regmatch_t pm[SIEVE_MAX_MATCH_VALUES];
	unsigned int i, n;

	if (regexec(re, value->s, mv != NULL ? SIEVE_MAX_MATCH_VALUES : 0, mv != NULL ? pm : NULL,
		    0) != 0)
		return 0;
	if (mv == NULL)
		return 1;
	n = (unsigned int)re->re_nsub + 1;
	if (n > SIEVE_MAX_MATCH_VALUES)
		n = SIEVE_MAX_MATCH_VALUES;
	mv->count = 0;
	for (i = 0; i < n; i++) {
		if (pm[i].rm_so < 0 || pm[i].rm_eo < pm[i].rm_so)
			mv_add(mv, value->s, 0, 0);
		else
			mv_add(mv, value->s, (size_t)pm[i].rm_so,
			       (size_t)(pm[i].rm_eo - pm[i].rm_so));
	}
	return 1;
}

int sieve_match_one(struct pool *pool, const struct sieve_match *m, unsigned int key_idx,
		    const struct sieve_str *key, const struct sieve_str *value,
		    struct sieve_matchvals *mv, const char **error_r)
{
	*error_r = NULL;
	switch (m->mt) {
	case SIEVE_MT_IS:
		if (m->cmp == SIEVE_CMP_NUMERIC)
			return numeric_order(value, key) == 0 ? 1 : 0;
		return sieve_cmp_order(m->cmp, value, key) == 0 ? 1 : 0;
	case SIEVE_MT_CONTAINS:
		if (m->cmp == SIEVE_CMP_CASEMAP)
			return casemap_contains(value, key) ? 1 : 0;
		if (key->len == 0)
			return 1;
		return memmem(value->s, value->len, key->s, key->len) != NULL ? 1 : 0;
	case SIEVE_MT_MATCHES: {
		const struct sieve_glob *g =
			m->globs != NULL && key_idx < m->keys.count ? m->globs[key_idx] : NULL;
		struct sieve_matchvals tmp;
		const char *v = value->s;
		char *lowered = NULL;
		bool ok;

		if (g == NULL) {
			g = sieve_glob_compile(pool, key->s, key->len, m->cmp);
			if (g == NULL) {
				*error_r = "out of memory";
				return -1;
			}
		}
		if (m->cmp == SIEVE_CMP_CASEMAP) {
			lowered = sieve_str_lower(pool, value->s, value->len);
			if (lowered == NULL) {
				*error_r = "out of memory";
				return -1;
			}
			v = lowered;
		}
		memset(&tmp, 0, sizeof(tmp));
		ok = glob_match(g, v, value->s, value->len, mv != NULL ? &tmp : NULL);
		if (ok && mv != NULL)
			*mv = tmp;
		return ok ? 1 : 0;
	}
	case SIEVE_MT_REGEX: {
		const regex_t *re =
			m->regexes != NULL && key_idx < m->keys.count ? m->regexes[key_idx] : NULL;
		regex_t tmp;
		int ret;

		if (re != NULL)
			return regex_match(re, value, mv);
		if (sieve_regex_too_complex(key->s)) {
			*error_r = p_strdup_printf(pool, "regular expression '%s' is too complex",
						   sieve_sanitize(pool, key->s, 128));
			return -1;
		}
		ret = regcomp(&tmp, key->s, sieve_regex_flags(m->cmp));
		if (ret != 0) {
			char err[256];

			(void)regerror(ret, &tmp, err, sizeof(err));
			*error_r = p_strdup_printf(pool,
						   "invalid regular expression '%s' for regex "
						   "match: %s",
						   sieve_sanitize(pool, key->s, 128), err);
			return -1;
		}
		ret = regex_match(&tmp, value, mv);
		regfree(&tmp);
		return ret;
	}
	case SIEVE_MT_VALUE:
	case SIEVE_MT_COUNT:
		return sieve_rel_holds(m->rel, sieve_cmp_order(m->cmp, value, key)) ? 1 : 0;
	}
	return 0;
}
