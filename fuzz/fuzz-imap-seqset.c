/*
 * libFuzzer harness for the IMAP sequence-set parser and its operations.
 * The first four bytes are the mailbox size used for resolution; the rest
 * is the set text. Checks: a parsed set writes back to text that parses to
 * the same set, resolution gives a normalized set inside the mailbox, and
 * the UID iterator agrees with membership tests.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap-seqset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_normalized(const struct imap_seqset *set)
{
	for (size_t i = 0; i < set->count; i++) {
		if (set->ranges[i].lo == 0 || set->ranges[i].lo > set->ranges[i].hi)
			abort();
		if (i > 0 && (uint64_t)set->ranges[i - 1].hi + 1 >= set->ranges[i].lo)
			abort();
	}
}

static bool same(const struct imap_seqset *a, const struct imap_seqset *b)
{
	return a->count == b->count && a->saved == b->saved && a->has_star == b->has_star &&
	       (a->count == 0 || memcmp(a->ranges, b->ranges, a->count * sizeof(*a->ranges)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_seqset set, again, res;
	const char *error;
	uint32_t msgs;

	if (size < 4)
		return 0;
	memcpy(&msgs, data, 4);
	msgs %= 5000;
	data += 4;
	size -= 4;

	imap_seqset_init(&set);
	imap_seqset_init(&again);
	imap_seqset_init(&res);
	if (imap_seqset_parse((const char *)data, size, 256, &set, &error) != IMAP_SEQSET_OK) {
		if (error == NULL || set.count != 0)
			abort();
		imap_seqset_clear(&set);
		return 0;
	}
	if (set.saved) {
		if (size != 1 || set.count != 0)
			abort();
		imap_seqset_clear(&set);
		return 0;
	}
	if (!set.has_star)
		check_normalized(&set);

	struct buf text = BUF_INIT(1024 * 1024);

	if (!imap_seqset_write(&text, &set))
		abort();
	if (imap_seqset_parse(buf_cstr(&text), buf_len(&text), 256, &again, &error) !=
		    IMAP_SEQSET_OK ||
	    !same(&set, &again))
		abort();
	buf_free(&text);

	if (imap_seqset_resolve_seq(&set, msgs, &res, &error) == IMAP_SEQSET_OK) {
		check_normalized(&res);
		if (res.count > 0 && res.ranges[res.count - 1].hi > msgs)
			abort();
	} else if (error == NULL) {
		abort();
	}

	/* UIDs: every third number up to 3 * msgs, "*" = the last one. */
	uint32_t *uids = malloc(((size_t)msgs + 1) * sizeof(*uids));
	struct imap_seqset_uid_iter it;
	size_t idx, expect = 0;

	for (uint32_t i = 0; i < msgs; i++)
		uids[i] = 3 * i + 1;
	imap_seqset_resolve_uid(&set, msgs > 0 ? uids[msgs - 1] : 1, &res);
	check_normalized(&res);
	imap_seqset_uid_iter_init(&it, &res, uids, msgs);
	for (uint32_t i = 0; i < msgs; i++) {
		if (!imap_seqset_contains(&res, uids[i]))
			continue;
		if (!imap_seqset_uid_iter_next(&it, &idx) || idx != i)
			abort();
		expect++;
	}
	if (imap_seqset_uid_iter_next(&it, &idx))
		abort();
	(void)expect;
	free(uids);

	/* Intersection with itself is itself. */
	imap_seqset_intersect(&res, &res, &again);
	if (!same(&res, &again))
		abort();
	imap_seqset_clear(&set);
	imap_seqset_clear(&again);
	imap_seqset_clear(&res);
	return 0;
}
