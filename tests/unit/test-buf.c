/*
 * Unit tests for lib/buf.c: bounded buffers never grow past their maximum,
 * cursors never read past their end, string helpers always terminate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void test_append_limit(void **state)
{
	struct buf b = BUF_INIT(8);

	(void)state;
	assert_true(buf_append_str(&b, "abcd"));
	assert_true(buf_append_str(&b, "efgh"));
	assert_int_equal(buf_len(&b), 8);
	assert_false(buf_append_c(&b, 'x'));
	assert_int_equal(buf_len(&b), 8);
	assert_string_equal(buf_cstr(&b), "abcdefgh");
	assert_false(buf_printf(&b, "%d", 1));
	buf_consume(&b, 3);
	assert_string_equal(buf_cstr(&b), "defgh");
	assert_true(buf_printf(&b, "%d", 123));
	assert_string_equal(buf_cstr(&b), "defgh123");
	buf_truncate(&b, 2);
	assert_string_equal(buf_cstr(&b), "de");
	buf_free(&b);
	assert_int_equal(buf_len(&b), 0);
	assert_string_equal(buf_cstr(&b), "");
}

static void test_reserve_commit(void **state)
{
	struct buf b = BUF_INIT(16);
	uint8_t *p;

	(void)state;
	assert_null(buf_reserve(&b, 17));
	p = buf_reserve(&b, 4);
	assert_non_null(p);
	memcpy(p, "wxyz", 4);
	buf_commit(&b, 4);
	assert_string_equal(buf_cstr(&b), "wxyz");
	buf_free(&b);
}

static void test_cursor(void **state)
{
	struct buf b = BUF_INIT(64);
	struct cursor c;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	const uint8_t *p;

	(void)state;
	assert_true(buf_put_u8(&b, 0xab));
	assert_true(buf_put_u16(&b, 0x1234));
	assert_true(buf_put_u32(&b, 0xdeadbeef));
	assert_true(buf_put_u64(&b, 0x0102030405060708ULL));
	cursor_init(&c, buf_data(&b), buf_len(&b));
	assert_true(cursor_get_u8(&c, &u8));
	assert_int_equal(u8, 0xab);
	assert_true(cursor_get_u16(&c, &u16));
	assert_int_equal(u16, 0x1234);
	assert_true(cursor_get_u32(&c, &u32));
	assert_int_equal(u32, 0xdeadbeef);
	assert_false(cursor_get_bytes(&c, 9, &p));
	assert_int_equal(cursor_left(&c), 8);
	assert_true(cursor_get_u64(&c, &u64));
	assert_true(u64 == 0x0102030405060708ULL);
	assert_false(cursor_get_u8(&c, &u8));
	buf_free(&b);
}

static void test_str_helpers(void **state)
{
	char small[5];

	(void)state;
	assert_true(str_copy(small, sizeof(small), "abcd"));
	assert_false(str_copy(small, sizeof(small), "abcdef"));
	assert_string_equal(small, "abcd");
	assert_true(str_copy(small, sizeof(small), "ab"));
	assert_true(str_append(small, sizeof(small), "cd"));
	assert_false(str_append(small, sizeof(small), "e"));
	assert_string_equal(small, "abcd");
	assert_false(str_format(small, sizeof(small), "%d", 123456));
	assert_string_equal(small, "1234");
	assert_true(str_copy_n(small, sizeof(small), "xyzzy", 2));
	assert_string_equal(small, "xy");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_limit),
		cmocka_unit_test(test_reserve_commit),
		cmocka_unit_test(test_cursor),
		cmocka_unit_test(test_str_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
