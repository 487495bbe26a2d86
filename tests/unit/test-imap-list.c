/*
 * Unit tests for lib/list-pattern.c (LIST wildcards, RFC 3501 6.3.8) and
 * imap/compress-deflate.c (the COMPRESS=DEFLATE filter, RFC 4978): real
 * patterns and names, and raw deflate streams checked against zlib.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "buf.h"
#include "imap/compress-deflate.h"
#include "list-pattern.h"

static bool match(const char *pattern, const char *name)
{
	struct list_pattern *p = list_pattern_compile(pattern, strlen(pattern), '/');
	bool ret = list_pattern_match(p, name, strlen(name));

	list_pattern_free(&p);
	assert_null(p);
	return ret;
}

static void test_wildcards(void **state)
{
	(void)state;
	assert_true(match("*", "INBOX"));
	assert_true(match("*", "a/b/c"));
	assert_true(match("%", "Archive"));
	assert_false(match("%", "a/b"));
	assert_true(match("%/%", "a/b"));
	assert_false(match("%/%", "a/b/c"));
	assert_true(match("a/*", "a/b/c"));
	assert_false(match("a/*", "a"));
	assert_true(match("a*", "a"));
	assert_true(match("a%c", "abbc"));
	assert_false(match("a%c", "ab/c"));
	assert_true(match("a*c", "ab/c"));
	assert_true(match("", ""));
	assert_false(match("", "a"));
	assert_true(match("Fruit/%", "Fruit/Banana"));
	assert_false(match("Fruit/%", "Fruit"));
	assert_true(match("%*%", "x/y"));
	assert_true(match("**%%**", "x/y/z"));
	/* Literal text is exact, and case matters outside INBOX. */
	assert_false(match("archive", "Archive"));
	assert_false(match("Arch", "Archive"));
	assert_true(match("Arch%", "Archive"));
}

static void test_inbox_case(void **state)
{
	(void)state;
	assert_true(match("inbox", "INBOX"));
	assert_true(match("InBoX/%", "INBOX/Sub"));
	assert_true(match("i*", "INBOX"));
	assert_false(match("inbox/sub", "INBOX/Sub"));
	assert_false(match("inboxes", "INBOXES"));
	assert_true(match("INBOXES", "INBOXES"));
}

static void test_combine(void **state)
{
	struct buf out = BUF_INIT(LIST_PATTERN_MAX);
	char big[LIST_PATTERN_MAX];

	(void)state;
	assert_true(list_pattern_combine("Work/", 5, "%", 1, '/', &out));
	assert_string_equal(buf_cstr(&out), "Work/%");
	buf_reset(&out);
	assert_true(list_pattern_combine("Work/", 5, "/x", 2, '/', &out));
	assert_string_equal(buf_cstr(&out), "Work/x");
	buf_reset(&out);
	assert_true(list_pattern_combine("", 0, "*", 1, '/', &out));
	assert_string_equal(buf_cstr(&out), "*");
	buf_reset(&out);
	memset(big, 'a', sizeof(big));
	assert_false(list_pattern_combine(big, sizeof(big), "*", 1, '/', &out));
	assert_int_equal(buf_len(&out), 0);
	buf_free(&out);
}

static void test_no_backtracking_blowup(void **state)
{
	char pattern[2048], name[256];
	struct list_pattern *p;

	(void)state;
	/* "a*a*a*...b" against "aaaa...": exponential for a backtracker. */
	for (size_t i = 0; i + 2 < sizeof(pattern); i += 2) {
		pattern[i] = 'a';
		pattern[i + 1] = i % 4 == 0 ? '*' : '%';
	}
	pattern[sizeof(pattern) - 2] = 'b';
	pattern[sizeof(pattern) - 1] = '\0';
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	p = list_pattern_compile(pattern, strlen(pattern), '/');
	for (int i = 0; i < 100; i++)
		assert_false(list_pattern_match(p, name, strlen(name)));
	list_pattern_free(&p);
}

/* Runs bytes through a deflate filter's encoder and inflates them with
   zlib, as a client would. */
static void test_deflate_roundtrip(void **state)
{
	const char *error = NULL;
	struct connection_filter *f = compress_deflate_create(6, &error);
	struct buf wire = BUF_INIT(1024 * 1024);
	uint8_t plain[200000], back[200000 + 16];
	z_stream z;

	(void)state;
	assert_non_null(f);
	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)("* LIST () \"/\" INBOX\r\n"[i % 22] + (i / 5000));
	/* In chunks as the connection gives them, flushed at the end. */
	for (size_t off = 0; off < sizeof(plain); off += 65536) {
		size_t n = sizeof(plain) - off < 65536 ? sizeof(plain) - off : 65536;

		assert_true(f->encode(f, plain + off, n, off + n == sizeof(plain), &wire, &error));
	}
	assert_true(buf_len(&wire) < sizeof(plain) / 4);
	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, -15), Z_OK);
	z.next_in = buf_data_mut(&wire);
	z.avail_in = (uInt)buf_len(&wire);
	z.next_out = back;
	z.avail_out = sizeof(back);
	/* A sync flush makes everything decodable without ending the stream. */
	assert_int_equal(inflate(&z, Z_SYNC_FLUSH), Z_OK);
	assert_int_equal(sizeof(back) - z.avail_out, sizeof(plain));
	assert_memory_equal(back, plain, sizeof(plain));
	(void)inflateEnd(&z);

	/* The decoder: a zlib raw stream, fed one byte at a time, into a
	   small output area. */
	struct buf comp = BUF_INIT(1024 * 1024), got = BUF_INIT(sizeof(plain));
	z_stream d;

	memset(&d, 0, sizeof(d));
	assert_int_equal(deflateInit2(&d, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	d.next_in = plain;
	d.avail_in = sizeof(plain);
	d.next_out = buf_reserve(&comp, 300000);
	d.avail_out = 300000;
	assert_int_equal(deflate(&d, Z_SYNC_FLUSH), Z_OK);
	buf_commit(&comp, 300000 - d.avail_out);
	(void)deflateEnd(&d);
	for (size_t off = 0; off < buf_len(&comp) || buf_len(&got) < sizeof(plain);) {
		uint8_t out[100];
		size_t consumed, produced;
		bool pending;

		assert_true(f->decode(f, buf_data(&comp) + off, off < buf_len(&comp) ? 1 : 0,
				      &consumed, out, sizeof(out), &produced, &pending, &error));
		assert_true(buf_append(&got, out, produced));
		off += consumed;
		if (off >= buf_len(&comp) && !pending && produced == 0)
			break;
	}
	assert_int_equal(buf_len(&got), sizeof(plain));
	assert_memory_equal(buf_data(&got), plain, sizeof(plain));
	buf_free(&comp);
	buf_free(&got);
	buf_free(&wire);
	f->destroy(f);
}

static void test_deflate_garbage(void **state)
{
	const char *error = NULL;
	struct connection_filter *f = compress_deflate_create(6, &error);
	static const uint8_t junk[] = "\xff\xfe this is not deflate at all";
	uint8_t out[256];
	size_t consumed, produced;
	bool pending;

	(void)state;
	assert_false(f->decode(f, junk, sizeof(junk), &consumed, out, sizeof(out), &produced,
			       &pending, &error));
	assert_string_equal(error, "Invalid compressed input");
	f->destroy(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wildcards),
		cmocka_unit_test(test_inbox_case),
		cmocka_unit_test(test_combine),
		cmocka_unit_test(test_no_backtracking_blowup),
		cmocka_unit_test(test_deflate_roundtrip),
		cmocka_unit_test(test_deflate_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
