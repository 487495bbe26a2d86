/*
 * Unit tests for storage/message-decode.c: base64 and quoted-printable per
 * RFC 2045 (with the leniency real mail needs), CRLF canonical form,
 * streaming in arbitrary pieces, unknown encodings (RFC 3516 UNKNOWN-CTE),
 * decoded UTF-8 text, and the text part walk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "pool.h"
#include "../../storage/message-decode.h"

static struct pool *pool;

static int setup(void **state)
{
	(void)state;
	pool = pool_create(16 << 20);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pool_destroy(&pool);
	return 0;
}

/* Decodes in one piece and in pieces of every size up to 7; all equal. */
static bool decode(enum message_cte cte, const char *in, size_t len, struct buf *out)
{
	struct message_decoder dec;
	bool repaired;

	message_decoder_init(&dec, cte);
	assert_true(message_decoder_feed(&dec, (const uint8_t *)in, len, out));
	assert_true(message_decoder_finish(&dec, out));
	repaired = dec.repaired;
	for (size_t step = 1; step <= 7; step++) {
		struct buf b = BUF_INIT(1 << 20);

		message_decoder_init(&dec, cte);
		for (size_t i = 0; i < len; i += step) {
			size_t n = len - i < step ? len - i : step;

			assert_true(message_decoder_feed(&dec, (const uint8_t *)in + i, n, &b));
		}
		assert_true(message_decoder_finish(&dec, &b));
		assert_int_equal(buf_len(&b), buf_len(out));
		assert_memory_equal(buf_data(&b), buf_data(out), buf_len(out));
		assert_int_equal(dec.repaired, repaired);
		buf_free(&b);
	}
	return repaired;
}

static void check(enum message_cte cte, const char *in, const char *expected, bool expect_repaired)
{
	struct buf out = BUF_INIT(1 << 20);
	bool repaired = decode(cte, in, strlen(in), &out);

	assert_int_equal(buf_len(&out), strlen(expected));
	assert_memory_equal(buf_data(&out), expected, strlen(expected));
	assert_int_equal(repaired, expect_repaired);
	buf_free(&out);
}

static void test_base64(void **state)
{
	(void)state;
	check(MESSAGE_CTE_BASE64, "SGVsbG8sIHdvcmxkIQ==", "Hello, world!", false);
	check(MESSAGE_CTE_BASE64, "SGVs\r\nbG8s\r\nIHdv\r\ncmxk\r\nIQ==\r\n", "Hello, world!",
	      false);
	check(MESSAGE_CTE_BASE64, "SGVsbG8", "Hello", false);
	check(MESSAGE_CTE_BASE64, "", "", false);
	/* RFC 2045 6.8: characters outside the alphabet are ignored. */
	check(MESSAGE_CTE_BASE64, "SGV*sb!G8=", "Hello", true);
	/* Two encodings glued together. */
	check(MESSAGE_CTE_BASE64, "SGk=\r\nSGk=\r\n", "HiHi", false);
	/* A lone sextet cannot form a byte. */
	check(MESSAGE_CTE_BASE64, "SGkhS", "Hi!", true);
}

static void test_quoted_printable(void **state)
{
	(void)state;
	check(MESSAGE_CTE_QP, "caf=C3=A9 = 1=3D1", "caf\xc3\xa9 = 1=1", true);
	check(MESSAGE_CTE_QP, "caf=c3=a9", "caf\xc3\xa9", false);
	/* Soft line breaks, with white space after the '=' too. */
	check(MESSAGE_CTE_QP, "Now's the time =\r\nfor all folk to come=  \r\n to the aid",
	      "Now's the time for all folk to come to the aid", false);
	check(MESSAGE_CTE_QP, "soft=\nbreak", "softbreak", false);
	/* Trailing white space is dropped; line ends become CRLF. */
	check(MESSAGE_CTE_QP, "line one  \t\nline two \r\nlast   ", "line one\r\nline two\r\nlast",
	      false);
	check(MESSAGE_CTE_QP, "a=20\nb", "a \r\nb", false);
	/* Invalid escapes stay as they were. */
	check(MESSAGE_CTE_QP, "=ZZ=4=", "=ZZ=4", true);
	check(MESSAGE_CTE_QP, "x=\r", "x=\r", true);
	check(MESSAGE_CTE_QP, "8bit \xe9 and a bare \r in it", "8bit \xe9 and a bare \r in it",
	      false);
}

static void test_identity_encodings(void **state)
{
	(void)state;
	check(MESSAGE_CTE_7BIT, "a\nb\r\nc\n", "a\r\nb\r\nc\r\n", false);
	check(MESSAGE_CTE_8BIT, "\xe9\n\r\n\n", "\xe9\r\n\r\n\r\n", false);
	check(MESSAGE_CTE_BINARY, "a\nb\0c", "a\nb", false);
}

static void test_streaming_random(void **state)
{
	static const char alphabet[] = "=AZaz09 \t\r\n+/-xX3D";
	unsigned int seed = 12345;

	(void)state;
	/* Every split gives the same output as one piece (checked in decode). */
	for (int round = 0; round < 300; round++) {
		char in[64];
		size_t len = (size_t)(seed % 60);
		struct buf out = BUF_INIT(1 << 20);

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245 + 12345;
			in[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		seed = seed * 1103515245 + 12345;
		(void)decode(MESSAGE_CTE_QP, in, len, &out);
		buf_reset(&out);
		(void)decode(MESSAGE_CTE_BASE64, in, len, &out);
		buf_reset(&out);
		(void)decode(MESSAGE_CTE_7BIT, in, len, &out);
		buf_free(&out);
	}
}

static struct message_part *parse(const char *msg)
{
	struct message_part *root;
	const char *error;

	assert_int_equal(
		message_parse(pool, (const uint8_t *)msg, strlen(msg), NULL, &root, &error),
		MESSAGE_PARSE_OK);
	return root;
}

static void test_decode_body(void **state)
{
	struct buf out = BUF_INIT(1 << 20), small = BUF_INIT(3);
	struct message_part *p;

	(void)state;
	p = parse("Content-Transfer-Encoding: base64\n\nSGVsbG8=\n");
	assert_int_equal(message_decode_body(p, &out), MESSAGE_DECODE_OK);
	assert_string_equal(buf_cstr(&out), "Hello");
	assert_int_equal(message_decode_body(p, &small), MESSAGE_DECODE_LIMIT);
	assert_true(buf_len(&small) <= 3);
	buf_reset(&out);
	p = parse("Content-Transfer-Encoding: x-uuencode\n\nbegin 644 x\n");
	assert_int_equal(message_decode_body(p, &out), MESSAGE_DECODE_UNKNOWN_ENCODING);
	assert_int_equal(buf_len(&out), 0);
	buf_free(&out);
	buf_free(&small);
}

static void test_decode_text(void **state)
{
	struct buf out = BUF_INIT(1 << 20);
	struct message_part *p;
	bool unknown;

	(void)state;
	p = parse("Content-Type: text/plain; charset=iso-8859-1\n"
		  "Content-Transfer-Encoding: quoted-printable\n\nR=E9union =\n\xe0 9h\n");
	assert_int_equal(message_decode_text(p, &out, &unknown), MESSAGE_DECODE_OK);
	assert_string_equal(buf_cstr(&out), "R\xc3\xa9union \xc3\xa0 9h\r\n");
	assert_false(unknown);

	buf_reset(&out);
	p = parse("Content-Type: text/plain; charset*=us-ascii''koi8-r\n"
		  "Content-Transfer-Encoding: base64\n\n0NLJ18XU\n");
	assert_int_equal(message_decode_text(p, &out, &unknown), MESSAGE_DECODE_OK);
	assert_string_equal(buf_cstr(&out), "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");

	buf_reset(&out);
	p = parse("Content-Type: text/plain; charset=x-martian\n\nplain \xff text");
	assert_int_equal(message_decode_text(p, &out, &unknown), MESSAGE_DECODE_REPAIRED);
	assert_true(unknown);
	assert_string_equal(buf_cstr(&out), "plain \xef\xbf\xbd text");

	buf_reset(&out);
	p = parse("Content-Transfer-Encoding: x-unknown\n\nstill searchable\n");
	assert_int_equal(message_decode_text(p, &out, NULL), MESSAGE_DECODE_UNKNOWN_ENCODING);
	assert_string_equal(buf_cstr(&out), "still searchable\r\n");
	buf_free(&out);
}

struct walk_ctx {
	struct buf text;
	unsigned int stop_after;
};

static bool walk_cb(const struct message_part *part, void *context)
{
	struct walk_ctx *ctx = context;

	assert_int_equal(message_decode_text(part, &ctx->text, NULL), MESSAGE_DECODE_OK);
	assert_true(buf_append_str(&ctx->text, "|"));
	return --ctx->stop_after > 0;
}

static void test_walk(void **state)
{
	struct message_part *root =
		parse("Content-Type: multipart/mixed; boundary=b\n\n"
		      "--b\nContent-Type: multipart/alternative; boundary=a\n\n"
		      "--a\n\nplain\n--a\nContent-Type: text/html\n\n<b>html</b>\n"
		      "--a--\n"
		      "--b\nContent-Type: image/png\n\nPNG\n"
		      "--b\nContent-Type: message/rfc822\n\nSubject: in\n\ninner\n"
		      "--b--\n");
	struct walk_ctx ctx = {BUF_INIT(4096), 100};

	(void)state;
	assert_int_equal(message_text_parts_walk(root, walk_cb, &ctx), 3);
	assert_string_equal(buf_cstr(&ctx.text), "plain|<b>html</b>|inner|");
	buf_reset(&ctx.text);
	ctx.stop_after = 1;
	assert_int_equal(message_text_parts_walk(root, walk_cb, &ctx), 1);
	buf_reset(&ctx.text);
	/* A subtree walk stays inside the subtree. */
	ctx.stop_after = 100;
	assert_int_equal(message_text_parts_walk(root->children, walk_cb, &ctx), 2);
	assert_string_equal(buf_cstr(&ctx.text), "plain|<b>html</b>|");
	buf_free(&ctx.text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_quoted_printable),
		cmocka_unit_test(test_identity_encodings),
		cmocka_unit_test(test_streaming_random),
		cmocka_unit_test(test_decode_body),
		cmocka_unit_test(test_decode_text),
		cmocka_unit_test(test_walk),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
