/*
 * IMAP sequence sets (see imap-seqset.h). Runs in roost-imap on client text:
 * the parser follows the RFC 9051 grammar exactly and counts elements before
 * it allocates, so a hostile set costs at most max_ranges ranges.
 */
#include <stdlib.h>
#include <string.h>

#include "imap-seqset.h"
#include "log.h"
#include "xalloc.h"

void imap_seqset_init(struct imap_seqset *set)
{
	memset(set, 0, sizeof(*set));
}

void imap_seqset_clear(struct imap_seqset *set)
{
	free(set->ranges);
	memset(set, 0, sizeof(*set));
}

static void seqset_reserve(struct imap_seqset *set, size_t n)
{
	if (n <= set->alloc)
		return;
	size_t alloc = set->alloc < 8 ? 8 : set->alloc;

	while (alloc < n)
		alloc *= 2;
	set->ranges = i_realloc_array(set->ranges, alloc, sizeof(*set->ranges));
	set->alloc = alloc;
}

static void seqset_push(struct imap_seqset *set, uint32_t lo, uint32_t hi)
{
	seqset_reserve(set, set->count + 1);
	set->ranges[set->count].lo = lo;
	set->ranges[set->count].hi = hi;
	set->count++;
}

void imap_seqset_copy(struct imap_seqset *dst, const struct imap_seqset *src)
{
	if (dst == src)
		return;
	imap_seqset_clear(dst);
	seqset_reserve(dst, src->count);
	if (src->count > 0)
		memcpy(dst->ranges, src->ranges, src->count * sizeof(*src->ranges));
	dst->count = src->count;
	dst->has_star = src->has_star;
	dst->saved = src->saved;
}

static int range_cmp(const void *a, const void *b)
{
	const struct imap_seq_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return 0;
}

/* Sorts and merges overlapping or adjacent ranges (lo <= hi in each). */
static void seqset_normalize(struct imap_seqset *set)
{
	size_t i, out = 0;
	bool sorted = true;

	for (i = 1; i < set->count && sorted; i++)
		sorted = set->ranges[i - 1].lo <= set->ranges[i].lo;
	if (!sorted)
		qsort(set->ranges, set->count, sizeof(*set->ranges), range_cmp);
	for (i = 0; i < set->count; i++) {
		struct imap_seq_range r = set->ranges[i];

		if (out > 0 && (uint64_t)set->ranges[out - 1].hi + 1 >= r.lo) {
			if (r.hi > set->ranges[out - 1].hi)
				set->ranges[out - 1].hi = r.hi;
		} else {
			set->ranges[out++] = r;
		}
	}
	set->count = out;
	set->has_star = false;
}

/* Parses one seq-number at str[*pos]; 0 stands for "*". */
static bool parse_number(const char *str, size_t len, size_t *pos, uint32_t *n_r,
			 const char **error_r)
{
	uint64_t n = 0;
	size_t start = *pos;

	if (*pos < len && str[*pos] == '*') {
		(*pos)++;
		*n_r = IMAP_SEQ_STAR;
		return true;
	}
	while (*pos < len && str[*pos] >= '0' && str[*pos] <= '9') {
		if (*pos == start && str[*pos] == '0') {
			*error_r = "Invalid sequence number 0";
			return false;
		}
		n = n * 10 + (uint64_t)(str[*pos] - '0');
		if (n > UINT32_MAX) {
			*error_r = "Sequence number too large";
			return false;
		}
		(*pos)++;
	}
	if (*pos == start) {
		*error_r = "Invalid sequence set";
		return false;
	}
	*n_r = (uint32_t)n;
	return true;
}

enum imap_seqset_error imap_seqset_parse(const char *str, size_t len, size_t max_ranges,
					 struct imap_seqset *set_r, const char **error_r)
{
	size_t pos = 0;

	imap_seqset_clear(set_r);
	*error_r = NULL;
	if (len == 1 && str[0] == '$') {
		set_r->saved = true;
		return IMAP_SEQSET_OK;
	}
	if (len == 0) {
		*error_r = "Empty sequence set";
		return IMAP_SEQSET_SYNTAX;
	}
	for (;;) {
		uint32_t lo, hi;

		if (set_r->count >= max_ranges) {
			*error_r = "Too many sequence ranges";
			imap_seqset_clear(set_r);
			return IMAP_SEQSET_TOO_MANY;
		}
		if (!parse_number(str, len, &pos, &lo, error_r))
			goto syntax;
		hi = lo;
		if (pos < len && str[pos] == ':') {
			pos++;
			if (!parse_number(str, len, &pos, &hi, error_r))
				goto syntax;
		}
		/* Store "*" as hi so that lo <= hi holds for numbers. */
		if (lo == IMAP_SEQ_STAR || hi == IMAP_SEQ_STAR) {
			uint32_t other = lo == IMAP_SEQ_STAR ? hi : lo;

			lo = other;
			hi = IMAP_SEQ_STAR;
			set_r->has_star = true;
		} else if (lo > hi) {
			uint32_t t = lo;

			lo = hi;
			hi = t;
		}
		seqset_push(set_r, lo, hi);
		if (pos == len)
			break;
		if (str[pos] != ',') {
			*error_r = "Invalid sequence set";
			goto syntax;
		}
		pos++;
	}
	if (!set_r->has_star)
		seqset_normalize(set_r);
	return IMAP_SEQSET_OK;
syntax:
	imap_seqset_clear(set_r);
	return IMAP_SEQSET_SYNTAX;
}

/* Copies set into out with "*" replaced by star, normalized. */
static void seqset_resolve(const struct imap_seqset *set, uint32_t star, struct imap_seqset *out)
{
	struct imap_seqset tmp;

	if (set->saved)
		panic("imap_seqset: \"$\" must be substituted before resolving");
	imap_seqset_init(&tmp);
	seqset_reserve(&tmp, set->count);
	for (size_t i = 0; i < set->count; i++) {
		uint32_t lo = set->ranges[i].lo, hi = set->ranges[i].hi;

		if (lo == IMAP_SEQ_STAR)
			lo = star;
		if (hi == IMAP_SEQ_STAR)
			hi = star;
		if (lo > hi) {
			uint32_t t = lo;

			lo = hi;
			hi = t;
		}
		tmp.ranges[tmp.count].lo = lo;
		tmp.ranges[tmp.count].hi = hi;
		tmp.count++;
	}
	seqset_normalize(&tmp);
	/* Zero can only come from "*" in an empty mailbox: it matches nothing. */
	if (tmp.count > 0 && tmp.ranges[0].lo == 0) {
		if (tmp.ranges[0].hi == 0) {
			memmove(tmp.ranges, tmp.ranges + 1, (tmp.count - 1) * sizeof(*tmp.ranges));
			tmp.count--;
		} else {
			tmp.ranges[0].lo = 1;
		}
	}
	imap_seqset_clear(out);
	*out = tmp;
}

enum imap_seqset_error imap_seqset_resolve_seq(const struct imap_seqset *set, uint32_t msg_count,
					       struct imap_seqset *out_r, const char **error_r)
{
	*error_r = NULL;
	if (set->has_star && msg_count == 0) {
		imap_seqset_clear(out_r);
		*error_r = "No messages in mailbox for '*'";
		return IMAP_SEQSET_OUT_OF_RANGE;
	}
	seqset_resolve(set, msg_count, out_r);
	if (out_r->count > 0 && out_r->ranges[out_r->count - 1].hi > msg_count) {
		imap_seqset_clear(out_r);
		*error_r = "Invalid messageset: sequence number beyond the last message";
		return IMAP_SEQSET_OUT_OF_RANGE;
	}
	return IMAP_SEQSET_OK;
}

void imap_seqset_resolve_uid(const struct imap_seqset *set, uint32_t star_uid,
			     struct imap_seqset *out_r)
{
	seqset_resolve(set, star_uid, out_r);
}

/* First range index whose hi >= n (count if none). */
static size_t range_lower_bound(const struct imap_seqset *set, uint32_t n)
{
	size_t lo = 0, hi = set->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (set->ranges[mid].hi < n)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void imap_seqset_add_range(struct imap_seqset *set, uint32_t lo, uint32_t hi)
{
	if (lo > hi) {
		uint32_t t = lo;

		lo = hi;
		hi = t;
	}
	if (lo == 0)
		panic("imap_seqset_add_range: 0 is not a message number");
	/* Fast path: appending in ascending order, as builders usually do. */
	if (set->count == 0 || set->ranges[set->count - 1].hi < lo) {
		if (set->count > 0 && (uint64_t)set->ranges[set->count - 1].hi + 1 == lo)
			set->ranges[set->count - 1].hi = hi;
		else
			seqset_push(set, lo, hi);
		return;
	}
	/* General case: ranges from first to last (inclusive) touch lo..hi. */
	size_t first = range_lower_bound(set, lo > 1 ? lo - 1 : lo);
	size_t last = first;

	while (last < set->count && (uint64_t)set->ranges[last].lo <= (uint64_t)hi + 1)
		last++;
	if (first == last) {
		seqset_reserve(set, set->count + 1);
		memmove(set->ranges + first + 1, set->ranges + first,
			(set->count - first) * sizeof(*set->ranges));
		set->ranges[first].lo = lo;
		set->ranges[first].hi = hi;
		set->count++;
		return;
	}
	if (set->ranges[first].lo < lo)
		lo = set->ranges[first].lo;
	if (set->ranges[last - 1].hi > hi)
		hi = set->ranges[last - 1].hi;
	set->ranges[first].lo = lo;
	set->ranges[first].hi = hi;
	memmove(set->ranges + first + 1, set->ranges + last,
		(set->count - last) * sizeof(*set->ranges));
	set->count -= last - first - 1;
}

void imap_seqset_add(struct imap_seqset *set, uint32_t n)
{
	imap_seqset_add_range(set, n, n);
}

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n)
{
	size_t i = range_lower_bound(set, n);

	return i < set->count && set->ranges[i].lo <= n;
}

uint64_t imap_seqset_count(const struct imap_seqset *set)
{
	uint64_t total = 0;

	for (size_t i = 0; i < set->count; i++)
		total += (uint64_t)set->ranges[i].hi - set->ranges[i].lo + 1;
	return total;
}

void imap_seqset_intersect(const struct imap_seqset *a, const struct imap_seqset *b,
			   struct imap_seqset *out_r)
{
	struct imap_seqset tmp;
	size_t i = 0, j = 0;

	imap_seqset_init(&tmp);
	while (i < a->count && j < b->count) {
		uint32_t lo = a->ranges[i].lo > b->ranges[j].lo ? a->ranges[i].lo : b->ranges[j].lo;
		uint32_t hi = a->ranges[i].hi < b->ranges[j].hi ? a->ranges[i].hi : b->ranges[j].hi;

		if (lo <= hi)
			seqset_push(&tmp, lo, hi);
		if (a->ranges[i].hi < b->ranges[j].hi)
			i++;
		else
			j++;
	}
	imap_seqset_clear(out_r);
	*out_r = tmp;
}

static bool write_number(struct buf *out, uint32_t n)
{
	if (n == IMAP_SEQ_STAR)
		return buf_append_c(out, '*');
	return buf_printf(out, "%u", n);
}

bool imap_seqset_write(struct buf *out, const struct imap_seqset *set)
{
	if (set->saved || set->count == 0)
		return false;
	for (size_t i = 0; i < set->count; i++) {
		const struct imap_seq_range *r = &set->ranges[i];

		if (i > 0 && !buf_append_c(out, ','))
			return false;
		if (r->lo == IMAP_SEQ_STAR && r->hi == IMAP_SEQ_STAR) {
			if (!buf_append_c(out, '*'))
				return false;
			continue;
		}
		if (!write_number(out, r->lo))
			return false;
		if (r->hi != r->lo && (!buf_append_c(out, ':') || !write_number(out, r->hi)))
			return false;
	}
	return true;
}

void imap_seqset_iter_init(struct imap_seqset_iter *iter, const struct imap_seqset *set)
{
	iter->set = set;
	iter->idx = 0;
	iter->next = set->count > 0 ? set->ranges[0].lo : 0;
}

bool imap_seqset_iter_next(struct imap_seqset_iter *iter, uint32_t *n_r)
{
	const struct imap_seqset *set = iter->set;

	while (iter->idx < set->count) {
		if (iter->next <= set->ranges[iter->idx].hi) {
			*n_r = (uint32_t)iter->next++;
			return true;
		}
		if (++iter->idx < set->count)
			iter->next = set->ranges[iter->idx].lo;
	}
	return false;
}

void imap_seqset_uid_iter_init(struct imap_seqset_uid_iter *iter, const struct imap_seqset *set,
			       const uint32_t *uids, size_t count)
{
	iter->set = set;
	iter->uids = uids;
	iter->count = count;
	iter->range = 0;
	iter->pos = 0;
}

/* First index >= from whose UID is >= uid. */
static size_t uid_lower_bound(const uint32_t *uids, size_t from, size_t count, uint32_t uid)
{
	size_t lo = from, hi = count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool imap_seqset_uid_iter_next(struct imap_seqset_uid_iter *iter, size_t *index_r)
{
	const struct imap_seqset *set = iter->set;

	while (iter->range < set->count && iter->pos < iter->count) {
		const struct imap_seq_range *r = &set->ranges[iter->range];

		if (iter->uids[iter->pos] < r->lo)
			iter->pos = uid_lower_bound(iter->uids, iter->pos, iter->count, r->lo);
		if (iter->pos < iter->count && iter->uids[iter->pos] <= r->hi) {
			*index_r = iter->pos++;
			return true;
		}
		iter->range++;
	}
	return false;
}
