/*
 * Unit tests for storage/message-header.c: field iteration with folding,
 * LF-only and CRLF line ends, malformed lines, NUL and 8-bit bytes, missing
 * blank line, limits, and the get-all helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "pool.h"
#include "../../storage/message-header.h"

#define MSG(s) (const uint8_t *)(s), sizeof(s) - 1

static void assert_mem(const uint8_t *p, size_t n, const char *expected)
{
	assert_int_equal(n, strlen(expected));
	assert_memory_equal(p, expected, n);
}

static void test_basic_crlf(void **state)
{
	static const char msg[] = "From: Terry Gray <gray@cac.washington.edu>\r\n"
				  "Subject: IMAP4rev1 WG mtg\r\n"
				  " summary and minutes\r\n"
				  "\r\n"
				  "body\r\n";
	struct message_header_iter iter;
	struct message_header_field f;

	(void)state;
	message_header_iter_init(&iter, MSG(msg), NULL);
	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_FIELD);
	assert_mem(f.name, f.name_len, "From");
	assert_mem(f.value, f.value_len, "Terry Gray <gray@cac.washington.edu>");
	assert_int_equal(f.offset, 0);
	assert_int_equal(f.size, 44);
	assert_int_equal(f.vsize, 44);
	assert_false(f.malformed);

	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_FIELD);
	assert_true(message_header_name_is(&f, "SUBJECT"));
	assert_mem(f.raw_value, f.raw_value_len, " IMAP4rev1 WG mtg\r\n summary and minutes");
	assert_mem(f.value, f.value_len, "IMAP4rev1 WG mtg summary and minutes");
	assert_int_equal(f.offset, 44);
	assert_int_equal(f.lines, 2);

	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_END);
	assert_true(iter.have_blank_line);
	assert_int_equal(iter.body_offset, sizeof(msg) - 1 - 6);
	assert_int_equal(iter.header_size, iter.body_offset);
	assert_int_equal(iter.header_vsize, iter.body_offset);
	assert_int_equal(iter.header_lines, 4);
	/* It keeps saying END. */
	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_END);
	message_header_iter_deinit(&iter);
}

static void test_lf_only_vsize(void **state)
{
	static const char msg[] = "A: 1\nB: two\n\tlines\n\nbody\n";
	struct message_header_iter iter;
	struct message_header_field f;
	size_t hsize, hvsize, body;

	(void)state;
	message_header_iter_init(&iter, MSG(msg), NULL);
	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_FIELD);
	assert_int_equal(f.size, 5);
	assert_int_equal(f.vsize, 6);
	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_FIELD);
	assert_mem(f.value, f.value_len, "two\tlines");
	assert_int_equal(f.size, 14);
	assert_int_equal(f.vsize, 16);
	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_END);
	assert_int_equal(iter.header_size, 20);
	assert_int_equal(iter.header_vsize, 24);
	assert_int_equal(iter.body_offset, 20);
	message_header_iter_deinit(&iter);

	message_header_find_end(MSG(msg), &hsize, &hvsize, &body);
	assert_int_equal(hsize, 20);
	assert_int_equal(hvsize, 24);
	assert_int_equal(body, 20);
}

static void test_malformed(void **state)
{
	static const char msg[] = " leading continuation\n"
				  "no colon here\n"
				  "Bad Name: x\n"
				  "X-Nul: a\0b\n"
				  "Subject : obsolete space\n"
				  "X-8bit: caf\xc3\xa9\n"
				  ": empty name\n"
				  "\n";
	struct message_header_iter iter;
	struct message_header_field f;

	(void)state;
	message_header_iter_init(&iter, MSG(msg), NULL);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_FIELD);
		assert_true(f.malformed);
		assert_int_equal(f.name_len, 0);
	}
	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_FIELD);
	assert_false(f.malformed);
	assert_int_equal(f.value_len, 3);
	assert_memory_equal(f.value, "a\0b", 3);
	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_FIELD);
	assert_mem(f.name, f.name_len, "Subject");
	assert_mem(f.value, f.value_len, "obsolete space");
	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_FIELD);
	assert_mem(f.value, f.value_len, "caf\xc3\xa9");
	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_FIELD);
	assert_true(f.malformed);
	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_END);
	assert_int_equal(iter.malformed_count, 4);
	assert_int_equal(iter.field_count, 7);
	message_header_iter_deinit(&iter);
}

static void test_no_blank_line(void **state)
{
	static const char msg[] = "Subject: x\r\nTo: y";
	struct message_header_iter iter;
	struct message_header_field f;

	(void)state;
	message_header_iter_init(&iter, MSG(msg), NULL);
	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_FIELD);
	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_FIELD);
	assert_mem(f.value, f.value_len, "y");
	assert_int_equal(f.size, 5);
	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_END);
	assert_false(iter.have_blank_line);
	assert_int_equal(iter.body_offset, sizeof(msg) - 1);
	message_header_iter_deinit(&iter);

	/* An empty message: an empty header, an empty body. */
	message_header_iter_init(&iter, (const uint8_t *)"", 0, NULL);
	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_END);
	assert_int_equal(iter.body_offset, 0);
	message_header_iter_deinit(&iter);
}

static void test_limits(void **state)
{
	struct message_header_limits limits = message_header_default_limits;
	struct message_header_iter iter;
	struct message_header_field f;
	struct buf b = BUF_INIT(1 << 20);

	(void)state;
	limits.max_fields = 2;
	message_header_iter_init(&iter, MSG("A: 1\nB: 2\nC: 3\n\n"), &limits);
	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_FIELD);
	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_FIELD);
	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_LIMIT);
	assert_non_null(iter.error);
	assert_int_equal(iter.pos, 10);
	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_LIMIT);
	message_header_iter_deinit(&iter);

	/* An overlong line. */
	limits = message_header_default_limits;
	limits.max_line = 100;
	assert_true(buf_append_str(&b, "Subject: "));
	for (int i = 0; i < 200; i++)
		assert_true(buf_append_c(&b, 'x'));
	assert_true(buf_append_str(&b, "\n\n"));
	message_header_iter_init(&iter, buf_data(&b), buf_len(&b), &limits);
	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_LIMIT);
	assert_string_equal(iter.error, "Header line too long");
	message_header_iter_deinit(&iter);

	/* A field folded into too many lines. */
	limits.max_line = 100;
	limits.max_field = 300;
	buf_reset(&b);
	assert_true(buf_append_str(&b, "Subject: x"));
	for (int i = 0; i < 100; i++)
		assert_true(buf_append_str(&b, "\n folded"));
	assert_true(buf_append_str(&b, "\n\n"));
	message_header_iter_init(&iter, buf_data(&b), buf_len(&b), &limits);
	assert_int_equal(message_header_iter_next(&iter, &f), MESSAGE_HEADER_RESULT_LIMIT);
	assert_string_equal(iter.error, "Header field too large");
	message_header_iter_deinit(&iter);
	buf_free(&b);
}

static void test_get_all(void **state)
{
	static const char msg[] = "Received: from a\r\n\tby b\r\n"
				  "X: 1\r\n"
				  "received: from c\r\n"
				  "\r\n"
				  "Received: in body\r\n";
	struct pool *pool = pool_create(65536);
	struct message_header_value *values;
	const char *error = NULL;

	(void)state;
	assert_int_equal(message_header_get_all(pool, MSG(msg), "RECEIVED", &values, &error), 2);
	assert_string_equal(values[0].value, "from a\tby b");
	assert_int_equal(values[0].len, 11);
	assert_string_equal(values[1].value, "from c");
	assert_int_equal(message_header_get_all(pool, MSG(msg), "Y", &values, &error), 0);
	assert_null(values);
	assert_string_equal(message_header_get_first(pool, MSG(msg), "x"), "1");
	assert_null(message_header_get_first(pool, MSG(msg), "missing"));
	pool_destroy(&pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_crlf), cmocka_unit_test(test_lf_only_vsize),
		cmocka_unit_test(test_malformed),  cmocka_unit_test(test_no_blank_line),
		cmocka_unit_test(test_limits),	   cmocka_unit_test(test_get_all),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
