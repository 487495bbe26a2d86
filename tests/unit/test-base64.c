/*
 * Unit tests for lib/base64.c: the RFC 4648 section 10 vectors both ways,
 * and every way a hostile peer can misspell base64 is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"

static const struct {
	const char *plain, *enc;
} rfc4648[] = {
	{"", ""},
	{"f", "Zg=="},
	{"fo", "Zm8="},
	{"foo", "Zm9v"},
	{"foob", "Zm9vYg=="},
	{"fooba", "Zm9vYmE="},
	{"foobar", "Zm9vYmFy"},
};

static void test_rfc4648_vectors(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < N_ELEMENTS(rfc4648); i++) {
		struct buf b = BUF_INIT(64);

		assert_true(base64_encode(&b, rfc4648[i].plain, strlen(rfc4648[i].plain)));
		assert_string_equal(buf_cstr(&b), rfc4648[i].enc);
		assert_int_equal(base64_encoded_len(strlen(rfc4648[i].plain)),
				 strlen(rfc4648[i].enc));
		buf_reset(&b);
		assert_int_equal(base64_decode(&b, rfc4648[i].enc, strlen(rfc4648[i].enc)),
				 BASE64_OK);
		assert_int_equal(buf_len(&b), strlen(rfc4648[i].plain));
		assert_memory_equal(buf_data(&b), rfc4648[i].plain, buf_len(&b));
		buf_free(&b);
	}
}

static enum base64_error dec(const char *s)
{
	struct buf b = BUF_INIT(64);
	enum base64_error err = base64_decode(&b, s, strlen(s));

	if (err != BASE64_OK)
		assert_int_equal(buf_len(&b), 0);
	buf_free(&b);
	return err;
}

static void test_reject_garbage(void **state)
{
	(void)state;
	assert_int_equal(dec("Zm9"), BASE64_ERR_PADDING);
	assert_int_equal(dec("Zg="), BASE64_ERR_PADDING);
	assert_int_equal(dec("Zg"), BASE64_ERR_PADDING);
	assert_int_equal(dec("Zm9v\r\n"), BASE64_ERR_PADDING);
	assert_int_equal(dec("Zm 9"), BASE64_ERR_CHAR);
	assert_int_equal(dec("Zm9v Zm9v"), BASE64_ERR_PADDING);
	assert_int_equal(dec("Zm-v"), BASE64_ERR_CHAR); /* base64url is not accepted */
	assert_int_equal(dec("Zm_v"), BASE64_ERR_CHAR);
	assert_int_equal(dec("Zg==Zm9v"), BASE64_ERR_PADDING);
	assert_int_equal(dec("Z==="), BASE64_ERR_PADDING);
	assert_int_equal(dec("===="), BASE64_ERR_PADDING);
	assert_int_equal(dec("Zm=v"), BASE64_ERR_PADDING);
	/* "Zh==" decodes to 'f' too but with non-zero pad bits. */
	assert_int_equal(dec("Zh=="), BASE64_ERR_NONCANONICAL);
	assert_int_equal(dec("Zm9="), BASE64_ERR_NONCANONICAL);
	assert_int_equal(dec("Zm8="), BASE64_OK);

	struct buf b = BUF_INIT(64);
	const char nul[] = {'Z', 'g', '\0', '='};

	assert_int_equal(base64_decode(&b, nul, sizeof(nul)), BASE64_ERR_CHAR);
	buf_free(&b);
}

static void test_limits(void **state)
{
	struct buf b = BUF_INIT(5);
	uint8_t small[3];
	size_t n;

	(void)state;
	/* 6 bytes do not fit in 5; 5 bytes exactly do. */
	assert_int_equal(base64_decode(&b, "Zm9vYmFy", 8), BASE64_ERR_TOO_LONG);
	assert_int_equal(buf_len(&b), 0);
	assert_int_equal(base64_decode(&b, "Zm9vYmE=", 8), BASE64_OK);
	assert_int_equal(buf_len(&b), 5);
	buf_free(&b);

	assert_int_equal(base64_decode_to(small, sizeof(small), "Zm9v", 4, &n), BASE64_OK);
	assert_int_equal(n, 3);
	assert_memory_equal(small, "foo", 3);
	assert_int_equal(base64_decode_to(small, sizeof(small), "Zm9vYg==", 8, &n),
			 BASE64_ERR_TOO_LONG);
	assert_int_equal(n, 0);

	struct buf e = BUF_INIT(7);

	assert_false(base64_encode(&e, "foobar", 6)); /* needs 8 */
	assert_int_equal(buf_len(&e), 0);
	buf_free(&e);
	assert_string_equal(base64_strerror(BASE64_ERR_CHAR), "invalid base64 character");
}

static void test_binary_roundtrip(void **state)
{
	uint8_t all[256];
	struct buf enc = BUF_INIT(1024), back = BUF_INIT(256);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(all); i++)
		all[i] = (uint8_t)i;
	for (i = 0; i <= sizeof(all); i++) {
		buf_reset(&enc);
		buf_reset(&back);
		assert_true(base64_encode(&enc, all, i));
		assert_int_equal(base64_decode(&back, buf_data(&enc), buf_len(&enc)), BASE64_OK);
		assert_int_equal(buf_len(&back), i);
		if (i > 0)
			assert_memory_equal(buf_data(&back), all, i);
	}
	buf_free(&enc);
	buf_free(&back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_vectors),
		cmocka_unit_test(test_reject_garbage),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_binary_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
