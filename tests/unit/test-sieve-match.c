/*
 * Unit tests for Sieve matching (lda/sieve/sieve-match.c): the comparators
 * of RFC 4790, :matches wildcards with their match values (RFC 5229), the
 * relational ordering of RFC 5231 and regex captures; and that a pattern
 * with many stars on a long value stays fast.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../lda/sieve/sieve-private.h"

static struct sieve_str S(const char *s) {
	struct sieve_str r = {s, strlen(s)};

	return r;
}

static int
match(enum sieve_mt mt, enum sieve_cmp cmp, const char *value, const char *key,
      struct sieve_matchvals *mv)
{
	struct pool *pool = pool_create(1024 * 1024);
	struct sieve_match m;
	struct sieve_str k = S(key), v = S(value);
	const char *error;
	int ret;

	memset(&m, 0, sizeof(m));
	m.mt = mt;
	m.cmp = cmp;
	m.keys.count = 1;
	ret = sieve_match_one(pool, &m, 0, &k, &v, mv, &error);
	pool_destroy(&pool);
	return ret;
}

static void test_is_contains(void **state)
{
	(void)state;
	assert_int_equal(match(SIEVE_MT_IS, SIEVE_CMP_CASEMAP, "Hello", "hELLO", NULL), 1);
	assert_int_equal(match(SIEVE_MT_IS, SIEVE_CMP_OCTET, "Hello", "hELLO", NULL), 0);
	assert_int_equal(match(SIEVE_MT_IS, SIEVE_CMP_OCTET, "Hello", "Hello", NULL), 1);
	assert_int_equal(match(SIEVE_MT_CONTAINS, SIEVE_CMP_CASEMAP, "Hello World", "O w", NULL),
			 1);
	assert_int_equal(match(SIEVE_MT_CONTAINS, SIEVE_CMP_OCTET, "Hello World", "O w", NULL), 0);
	assert_int_equal(match(SIEVE_MT_CONTAINS, SIEVE_CMP_OCTET, "abc", "", NULL), 1);
	assert_int_equal(match(SIEVE_MT_CONTAINS, SIEVE_CMP_CASEMAP, "ab", "abc", NULL), 0);
}

static void test_numeric(void **state)
{
	(void)state;
	/* RFC 4790 9.1: leading digits compare as numbers; none is infinity. */
	assert_int_equal(match(SIEVE_MT_IS, SIEVE_CMP_NUMERIC, "007", "7", NULL), 1);
	assert_int_equal(match(SIEVE_MT_IS, SIEVE_CMP_NUMERIC, "12abc", "12", NULL), 1);
	assert_int_equal(match(SIEVE_MT_IS, SIEVE_CMP_NUMERIC, "abc", "xyz", NULL), 1);
	assert_int_equal(match(SIEVE_MT_IS, SIEVE_CMP_NUMERIC, "abc", "1", NULL), 0);
	assert_true(sieve_cmp_order(SIEVE_CMP_NUMERIC, &(struct sieve_str){"100", 3},
				    &(struct sieve_str){"99", 2}) > 0);
	assert_true(sieve_cmp_order(SIEVE_CMP_NUMERIC, &(struct sieve_str){"x", 1},
				    &(struct sieve_str){"99999999999999999999999", 23}) > 0);
	assert_true(sieve_cmp_order(SIEVE_CMP_CASEMAP, &(struct sieve_str){"abc", 3},
				    &(struct sieve_str){"ABD", 3}) < 0);
	assert_true(sieve_cmp_order(SIEVE_CMP_OCTET, &(struct sieve_str){"a", 1},
				    &(struct sieve_str){"B", 1}) > 0);
	assert_true(sieve_rel_holds(SIEVE_REL_GE, 0));
	assert_false(sieve_rel_holds(SIEVE_REL_NE, 0));
}

static void test_matches_values(void **state)
{
	struct sieve_matchvals mv;

	(void)state;
	/* RFC 5229 section 3.2's example: the first star is minimal. */
	memset(&mv, 0, sizeof(mv));
	assert_int_equal(match(SIEVE_MT_MATCHES, SIEVE_CMP_CASEMAP,
			       "[acme-users] [fwd] version 1.0 is out", "[*] *", &mv),
			 1);
	assert_int_equal(mv.count, 3);
	assert_int_equal(mv.v[1].len, strlen("acme-users"));
	assert_memory_equal(mv.v[1].s, "acme-users", mv.v[1].len);
	assert_memory_equal(mv.v[2].s, "[fwd] version 1.0 is out", mv.v[2].len);
	memset(&mv, 0, sizeof(mv));
	assert_int_equal(match(SIEVE_MT_MATCHES, SIEVE_CMP_CASEMAP, "Hello world", "*l*o*", &mv),
			 1);
	assert_int_equal(mv.count, 4);
	assert_memory_equal(mv.v[1].s, "He", 2);
	assert_memory_equal(mv.v[2].s, "l", 1);
	assert_memory_equal(mv.v[3].s, " world", 6);
	memset(&mv, 0, sizeof(mv));
	assert_int_equal(match(SIEVE_MT_MATCHES, SIEVE_CMP_OCTET, "a.b.c", "?.*", &mv), 1);
	assert_int_equal(mv.count, 3);
	assert_memory_equal(mv.v[1].s, "a", 1);
	assert_memory_equal(mv.v[2].s, "b.c", 3);
	/* Escaped wildcards are literal. */
	assert_int_equal(match(SIEVE_MT_MATCHES, SIEVE_CMP_OCTET, "a*b", "a\\*b", NULL), 1);
	assert_int_equal(match(SIEVE_MT_MATCHES, SIEVE_CMP_OCTET, "axb", "a\\*b", NULL), 0);
	assert_int_equal(match(SIEVE_MT_MATCHES, SIEVE_CMP_OCTET, "a?", "a\\?", NULL), 1);
	assert_int_equal(match(SIEVE_MT_MATCHES, SIEVE_CMP_OCTET, "ab", "a\\?", NULL), 0);
	assert_int_equal(match(SIEVE_MT_MATCHES, SIEVE_CMP_OCTET, "", "*", NULL), 1);
	assert_int_equal(match(SIEVE_MT_MATCHES, SIEVE_CMP_OCTET, "", "?", NULL), 0);
	assert_int_equal(match(SIEVE_MT_MATCHES, SIEVE_CMP_OCTET, "abc", "abc*", NULL), 1);
	assert_int_equal(match(SIEVE_MT_MATCHES, SIEVE_CMP_OCTET, "abc", "*abc", NULL), 1);
	assert_int_equal(match(SIEVE_MT_MATCHES, SIEVE_CMP_OCTET, "abcabc", "*bc*bc", NULL), 1);
	assert_int_equal(match(SIEVE_MT_MATCHES, SIEVE_CMP_OCTET, "abc", "a*c*b", NULL), 0);
	assert_int_equal(match(SIEVE_MT_MATCHES, SIEVE_CMP_CASEMAP, "ABC", "a?c", NULL), 1);
}

static void test_matches_no_backtracking(void **state)
{
	struct buf value, key;
	struct timespec a, b;
	unsigned int i;
	double secs;

	(void)state;
	buf_init(&value, 1024 * 1024);
	buf_init(&key, 4096);
	for (i = 0; i < 200000; i++)
		(void)buf_append_c(&value, 'a');
	for (i = 0; i < 500; i++)
		(void)buf_append_str(&key, "*a");
	(void)buf_append_str(&key, "*b");
	(void)clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(
		match(SIEVE_MT_MATCHES, SIEVE_CMP_CASEMAP, buf_cstr(&value), buf_cstr(&key), NULL),
		0);
	(void)clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	assert_true(secs < 2.0);
	buf_free(&value);
	buf_free(&key);
}

static void test_regex(void **state)
{
	struct sieve_matchvals mv;

	(void)state;
	memset(&mv, 0, sizeof(mv));
	assert_int_equal(match(SIEVE_MT_REGEX, SIEVE_CMP_CASEMAP, "Bob <BOB@example.org>",
			       "^(.*) <(.*)@(.*)>$", &mv),
			 1);
	assert_int_equal(mv.count, 4);
	assert_memory_equal(mv.v[2].s, "BOB", 3);
	assert_int_equal(match(SIEVE_MT_REGEX, SIEVE_CMP_OCTET, "Hello", "^h", NULL), 0);
	assert_int_equal(match(SIEVE_MT_REGEX, SIEVE_CMP_CASEMAP, "Hello", "^h", NULL), 1);
	assert_int_equal(match(SIEVE_MT_REGEX, SIEVE_CMP_CASEMAP, "x", "(", NULL), -1);
}

static void test_regex_complexity(void **state)
{
	(void)state;
	/* Ordinary expressions pass. */
	assert_false(sieve_regex_too_complex("^(.*) <(.*)@(.*)>$"));
	assert_false(sieve_regex_too_complex("^\\[ticket-[0-9]+\\]"));
	assert_false(sieve_regex_too_complex("[[:alnum:]]+, score=(-?[[:digit:]]+\\.[[:digit:]])"));
	assert_false(sieve_regex_too_complex("x{1,100}"));
	assert_false(sieve_regex_too_complex("[]{}+*]+"));
	/* What makes glibc's regcomp() take gigabytes does not. */
	assert_true(sieve_regex_too_complex("x{1,32767}"));
	assert_true(sieve_regex_too_complex("(a{1,1000}){1,1000}"));
	assert_true(sieve_regex_too_complex("h++++++++++++++++++++"));
	assert_true(sieve_regex_too_complex("((((((((((((((((a)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+"));
	/* Few nodes but many loops: quadratic epsilon closures (found by fuzzing). */
	assert_true(sieve_regex_too_complex("^H0.*++++++++++++"));
	assert_true(sieve_regex_too_complex("(.*.*.*.*.*.*.*.*.*.*)+{1,1000}"));
	assert_true(sieve_regex_too_complex("(x?){1,9999}"));
	assert_true(sieve_regex_too_complex("((.*)?)+((.*)?)+((.*)?)+((.*)?)+((.*)?)+((.*)?)+"));
	assert_true(sieve_regex_too_complex("(a|b?)+(a|b?)+(a|b?)+(a|b?)+(a|b?)+(a|b?)+(a|b?)+"
					    "(a|b?)+(a|b?)+(a|b?)+(a|b?)+(a|b?)+(a|b?)+(a|b?)+"
					    "(a|b?)+(a|b?)+(a|b?)+"));
	assert_false(sieve_regex_too_complex(".*+++"));
	assert_false(sieve_regex_too_complex("^(.*)?(foo|bar)?(.*)$"));
	assert_false(sieve_regex_too_complex("(a+b?)+(a+b?)+(a+b?)+(a+b?)+(a+b?)+(a+b?)+(a+b?)+"
					     "(a+b?)+(a+b?)+(a+b?)+(a+b?)+(a+b?)+(a+b?)+(a+b?)+"
					     "(a+b?)+(a+b?)+(a+b?)+"));
	assert_false(sieve_regex_too_complex("[a-z0-9._-]{1,64}@[a-z0-9.-]{1,255}"));
	assert_int_equal(match(SIEVE_MT_REGEX, SIEVE_CMP_OCTET, "x", "x{1,32767}", NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_contains),
		cmocka_unit_test(test_numeric),
		cmocka_unit_test(test_matches_values),
		cmocka_unit_test(test_matches_no_backtracking),
		cmocka_unit_test(test_regex),
		cmocka_unit_test(test_regex_complexity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
