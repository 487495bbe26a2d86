/*
 * Unit tests for lib/imap-seqset.c: the RFC 3501/9051 sequence-set grammar
 * (examples from the RFC text, "*" and "$" handling, reversed ranges, zero
 * and overflow), resolution against sequence numbers and UIDs, and the set
 * operations checked against a plain bitmap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "imap-seqset.h"

/* Parses and writes back; returns the written text in a static buffer. */
static const char *roundtrip(const char *text, size_t max_ranges)
{
	static char out[4096];
	struct imap_seqset set;
	struct buf b = BUF_INIT(sizeof(out) - 1);
	const char *error;

	imap_seqset_init(&set);
	if (imap_seqset_parse(text, strlen(text), max_ranges, &set, &error) != IMAP_SEQSET_OK) {
		assert_non_null(error);
		str_copy(out, sizeof(out), "ERROR");
		return out;
	}
	if (set.saved)
		str_copy(out, sizeof(out), "$");
	else if (!imap_seqset_write(&b, &set))
		str_copy(out, sizeof(out), "WRITE-FAILED");
	else
		str_copy(out, sizeof(out), buf_cstr(&b));
	buf_free(&b);
	imap_seqset_clear(&set);
	return out;
}

static const char *resolve_seq(const char *text, uint32_t count)
{
	static char out[4096];
	struct imap_seqset set, res;
	struct buf b = BUF_INIT(sizeof(out) - 1);
	const char *error;

	imap_seqset_init(&set);
	imap_seqset_init(&res);
	assert_int_equal(imap_seqset_parse(text, strlen(text), 100, &set, &error), IMAP_SEQSET_OK);
	if (imap_seqset_resolve_seq(&set, count, &res, &error) != IMAP_SEQSET_OK) {
		assert_non_null(error);
		str_copy(out, sizeof(out), "OUT-OF-RANGE");
	} else {
		/* Written out number by number, like the RFC's example. */
		struct imap_seqset_iter it;
		uint32_t n;

		imap_seqset_iter_init(&it, &res);
		while (imap_seqset_iter_next(&it, &n))
			buf_printf(&b, "%s%u", buf_len(&b) > 0 ? "," : "", n);
		str_copy(out, sizeof(out), buf_cstr(&b));
	}
	buf_free(&b);
	imap_seqset_clear(&set);
	imap_seqset_clear(&res);
	return out;
}

static void test_grammar(void **state)
{
	(void)state;
	assert_string_equal(roundtrip("1", 10), "1");
	assert_string_equal(roundtrip("1:*", 10), "1:*");
	assert_string_equal(roundtrip("*", 10), "*");
	assert_string_equal(roundtrip("*:4", 10), "4:*");
	assert_string_equal(roundtrip("3,5:7,10:*", 10), "3,5:7,10:*");
	/* Reversed ranges mean the same numbers (RFC 9051 seq-range). */
	assert_string_equal(roundtrip("7:3", 10), "3:7");
	/* Normalized: sorted and merged, adjacent ranges joined. */
	assert_string_equal(roundtrip("5,1:3,4,10,9,20:30,25", 10), "1:5,9:10,20:30");
	assert_string_equal(roundtrip("4294967295", 10), "4294967295");
	assert_string_equal(roundtrip("1:4294967295,7", 10), "1:4294967295");
	assert_string_equal(roundtrip("$", 10), "$");
	/* Invalid: zero, leading zeros, overflow, empty elements, spaces, "$" mixed. */
	static const char *const bad[] = {
		"",   "0",  "01",   "0:5",  "5:0",   "4294967296", "99999999999999999999",
		"1,", ",1", "1,,2", "1::2", "1:2:3", " 1",	   "1 ",
		"1:", ":1", "$,1",  "1,$",  "$$",    "**",	   "*1",
		"-1", "+1", "1.5",  "a",    "1:a",   "1,2\n",
	};
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		if (strcmp(roundtrip(bad[i], 10), "ERROR") != 0)
			print_error("accepted: \"%s\"\n", bad[i]);
		assert_string_equal(roundtrip(bad[i], 10), "ERROR");
	}
	/* The text has a length: an embedded NUL is just a bad character. */
	struct imap_seqset set;
	const char *error;

	imap_seqset_init(&set);
	assert_int_equal(imap_seqset_parse("1\0", 2, 10, &set, &error), IMAP_SEQSET_SYNTAX);
	assert_int_equal(imap_seqset_parse("12", 1, 10, &set, &error), IMAP_SEQSET_OK);
	assert_int_equal(set.ranges[0].lo, 1);
	imap_seqset_clear(&set);
}

static void test_too_many(void **state)
{
	struct imap_seqset set;
	const char *error;

	(void)state;
	imap_seqset_init(&set);
	assert_int_equal(imap_seqset_parse("1,3,5", 5, 3, &set, &error), IMAP_SEQSET_OK);
	assert_int_equal(imap_seqset_parse("1,3,5,7", 7, 3, &set, &error), IMAP_SEQSET_TOO_MANY);
	assert_string_equal(error, "Too many sequence ranges");
	assert_int_equal(set.count, 0);
	/* The limit is on elements as written, before merging. */
	assert_int_equal(imap_seqset_parse("1,2,3,4", 7, 3, &set, &error), IMAP_SEQSET_TOO_MANY);
	imap_seqset_clear(&set);
}

static void test_resolve(void **state)
{
	struct imap_seqset set, res;
	const char *error;

	(void)state;
	/* RFC 3501 / RFC 9051 section 9, seq-number example. */
	assert_string_equal(resolve_seq("2,4:7,9,12:*", 15), "2,4,5,6,7,9,12,13,14,15");
	assert_string_equal(resolve_seq("1:*", 3), "1,2,3");
	assert_string_equal(resolve_seq("*", 3), "3");
	assert_string_equal(resolve_seq("*:2", 3), "2,3");
	/* "*" in an empty mailbox and numbers past the end are errors. */
	assert_string_equal(resolve_seq("1:*", 0), "OUT-OF-RANGE");
	assert_string_equal(resolve_seq("4", 3), "OUT-OF-RANGE");
	assert_string_equal(resolve_seq("5:*", 3), "OUT-OF-RANGE");
	assert_string_equal(resolve_seq("1", 0), "OUT-OF-RANGE");

	/* RFC 9051: a UID range 3291:* includes the last UID even if lower. */
	imap_seqset_init(&set);
	imap_seqset_init(&res);
	assert_int_equal(imap_seqset_parse("3291:*", 6, 10, &set, &error), IMAP_SEQSET_OK);
	imap_seqset_resolve_uid(&set, 1200, &res);
	assert_int_equal(res.count, 1);
	assert_int_equal(res.ranges[0].lo, 1200);
	assert_int_equal(res.ranges[0].hi, 3291);
	/* Empty mailbox: "*" is UIDNEXT, so 1:* asks for 1..UIDNEXT. */
	imap_seqset_resolve_uid(&set, 1, &res);
	assert_int_equal(res.ranges[0].lo, 1);
	assert_int_equal(res.ranges[0].hi, 3291);
	assert_int_equal(imap_seqset_parse("*,5,1:2", 7, 10, &set, &error), IMAP_SEQSET_OK);
	imap_seqset_resolve_uid(&set, 4294967295u, &res);
	struct buf b = BUF_INIT(100);
	assert_true(imap_seqset_write(&b, &res));
	assert_string_equal(buf_cstr(&b), "1:2,5,4294967295");
	buf_free(&b);
	imap_seqset_clear(&set);
	imap_seqset_clear(&res);
}

static void test_uid_iter(void **state)
{
	static const uint32_t uids[] = {1, 5, 7, 100, 200, 3000, 3001, 4294967295u};
	struct imap_seqset set;
	struct imap_seqset_uid_iter it;
	const char *error;
	size_t idx, got[16], n = 0;

	(void)state;
	imap_seqset_init(&set);
	assert_int_equal(
		imap_seqset_parse("2:6,100,150:2999,3001:4294967295", 32, 10, &set, &error),
		IMAP_SEQSET_OK);
	imap_seqset_uid_iter_init(&it, &set, uids, N_ELEMENTS(uids));
	while (imap_seqset_uid_iter_next(&it, &idx))
		got[n++] = idx;
	assert_int_equal(n, 5);
	assert_int_equal(got[0], 1); /* uid 5 */
	assert_int_equal(got[1], 3); /* uid 100 */
	assert_int_equal(got[2], 4); /* uid 200 */
	assert_int_equal(got[3], 6); /* uid 3001 */
	assert_int_equal(got[4], 7); /* uid 4294967295 */
	imap_seqset_uid_iter_init(&it, &set, uids, 0);
	assert_false(imap_seqset_uid_iter_next(&it, &idx));
	imap_seqset_clear(&set);
}

/* Set operations against a bitmap over 1..N. */
#define N 300

static void check_against(const struct imap_seqset *set, const bool *bits)
{
	uint64_t count = 0;

	for (size_t i = 1; i < set->count; i++)
		assert_true((uint64_t)set->ranges[i - 1].hi + 1 < set->ranges[i].lo);
	for (uint32_t n = 1; n <= N; n++) {
		assert_int_equal(imap_seqset_contains(set, n), bits[n]);
		count += bits[n];
	}
	assert_int_equal(imap_seqset_count(set), count);
}

static void test_operations(void **state)
{
	uint32_t rnd = 12345;

	(void)state;
	for (int round = 0; round < 200; round++) {
		struct imap_seqset a, b, c;
		bool abits[N + 1] = {false}, bbits[N + 1] = {false}, cbits[N + 1];

		imap_seqset_init(&a);
		imap_seqset_init(&b);
		imap_seqset_init(&c);
		for (int k = 0; k < 20; k++) {
			rnd = rnd * 1103515245u + 12345u;
			uint32_t lo = 1 + (rnd >> 8) % N;
			rnd = rnd * 1103515245u + 12345u;
			uint32_t hi = 1 + (rnd >> 8) % N;
			bool *bits = k % 2 == 0 ? abits : bbits;

			/* Small ranges mostly, some big ones. */
			if (k % 5 != 0)
				hi = lo + (hi % 4) > N ? N : lo + (hi % 4);
			imap_seqset_add_range(k % 2 == 0 ? &a : &b, lo, hi);
			for (uint32_t n = lo < hi ? lo : hi; n <= (lo < hi ? hi : lo); n++)
				bits[n] = true;
		}
		check_against(&a, abits);
		check_against(&b, bbits);
		imap_seqset_intersect(&a, &b, &c);
		for (uint32_t n = 0; n <= N; n++)
			cbits[n] = abits[n] && bbits[n];
		check_against(&c, cbits);

		/* Writing and parsing again gives the same set. */
		struct buf text = BUF_INIT(8192);
		struct imap_seqset d;
		const char *error;

		imap_seqset_init(&d);
		assert_true(imap_seqset_write(&text, &a));
		assert_int_equal(
			imap_seqset_parse(buf_cstr(&text), buf_len(&text), 1000, &d, &error),
			IMAP_SEQSET_OK);
		check_against(&d, abits);

		/* Iteration visits exactly the members, in order. */
		struct imap_seqset_iter it;
		uint32_t n, prev = 0;
		uint64_t seen = 0;

		imap_seqset_iter_init(&it, &a);
		while (imap_seqset_iter_next(&it, &n)) {
			assert_true(n > prev && abits[n]);
			prev = n;
			seen++;
		}
		assert_int_equal(seen, imap_seqset_count(&a));
		imap_seqset_copy(&c, &a);
		check_against(&c, abits);
		buf_free(&text);
		imap_seqset_clear(&a);
		imap_seqset_clear(&b);
		imap_seqset_clear(&c);
		imap_seqset_clear(&d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grammar),	   cmocka_unit_test(test_too_many),
		cmocka_unit_test(test_resolve),	   cmocka_unit_test(test_uid_iter),
		cmocka_unit_test(test_operations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
