/*
 * libFuzzer harness for the MIME half of storage/: parses arbitrary bytes
 * as a message (with default and with tiny limits), checks that every part
 * lies inside the message and nests inside its parent, writes ENVELOPE,
 * BODY and BODYSTRUCTURE and checks they are well-formed IMAP, looks up
 * sections, and decodes every body both as transfer-decoded bytes and as
 * UTF-8 text.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pool.h"
#include "../storage/charset.h"
#include "../storage/imap-bodystructure.h"
#include "../storage/imap-envelope.h"
#include "../storage/message-decode.h"
#include "../storage/message-part.h"
#include "fuzz-imap-syntax.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)              \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

static void check_part(const struct message_part *part, const uint8_t *data, size_t size)
{
	const struct message_part *prev = NULL;
	unsigned int n = 0;

	CHECK(part->msg == data);
	CHECK(part->header_offset + part->header_size == part->body_offset);
	CHECK(part->body_offset <= size && part->body_size <= size - part->body_offset);
	CHECK(part->header_vsize >= part->header_size && part->body_vsize >= part->body_size);
	CHECK(part->body_vsize - part->body_size <= part->body_lines);
	CHECK(part->type != NULL && part->subtype != NULL);
	for (const struct message_part *c = part->children; c != NULL; c = c->next) {
		CHECK(c->parent == part);
		CHECK(c->header_offset >= part->body_offset);
		CHECK(c->body_offset + c->body_size <= part->body_offset + part->body_size);
		if (prev != NULL)
			CHECK(c->header_offset >= prev->body_offset + prev->body_size);
		check_part(c, data, size);
		prev = c;
		n++;
	}
	CHECK(n == part->children_count);
	if ((part->flags & MESSAGE_PART_FLAG_MESSAGE) != 0 && part->children != NULL)
		CHECK(part->children->header_offset == part->body_offset);
}

static void write_and_check(const struct message_part *root)
{
	struct buf out = BUF_INIT(64 << 20);
	const char *error;

	CHECK(imap_envelope_write_header(&out, root->msg + root->header_offset, root->header_size,
					 0, &error) ||
	      error != NULL);
	CHECK(fuzz_imap_syntax_ok(buf_data(&out), buf_len(&out)));
	for (int extended = 0; extended < 2; extended++) {
		buf_reset(&out);
		if (imap_bodystructure_write(&out, root, extended != 0, 0, &error))
			CHECK(fuzz_imap_syntax_ok(buf_data(&out), buf_len(&out)));
		else
			CHECK(error != NULL);
	}
	buf_free(&out);
}

static void decode_all(const struct message_part *root)
{
	struct buf out = BUF_INIT(4 << 20);

	for (const struct message_part *p = root; p != NULL; p = message_part_next(p)) {
		enum message_decode_result ret;

		if (p->children != NULL)
			continue;
		buf_reset(&out);
		ret = message_decode_body(p, &out);
		CHECK(ret != MESSAGE_DECODE_UNKNOWN_ENCODING || p->cte == MESSAGE_CTE_UNKNOWN);
		/* Decoding never grows a body beyond twice its size (CRLF). */
		CHECK(buf_len(&out) <= 2 * p->body_size);
		buf_reset(&out);
		ret = message_decode_text(p, &out, NULL);
		if (ret != MESSAGE_DECODE_LIMIT)
			CHECK(charset_utf8_is_valid(buf_data(&out), buf_len(&out)));
	}
	buf_free(&out);
}

static void sections(const struct message_part *root)
{
	static const char *const names[] = {"1", "2", "1.1", "1.2", "2.1", "1.1.1", "3.2.1"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct message_part *p = message_part_find_section(root, names[i]);

		if (p != NULL)
			CHECK(p->msg == root->msg);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct message_parse_limits tiny = message_parse_default_limits;
	struct pool *pool = pool_create(64 << 20);
	struct message_part *root;
	const char *error;
	enum message_parse_result ret;

	/* iconv would make the fuzzer slow and is covered by fuzz-rfc2047. */
	charset_set_iconv_enabled(false);
	ret = message_parse(pool, data, size, NULL, &root, &error);
	CHECK(ret != MESSAGE_PARSE_ERROR);
	CHECK(root->header_offset == 0);
	CHECK(root->body_offset + root->body_size == size);
	check_part(root, data, size);
	CHECK(root->header_vsize + root->body_vsize >= size);
	write_and_check(root);
	decode_all(root);
	sections(root);

	pool_clear(pool);
	tiny.max_depth = 2;
	tiny.max_parts = 4;
	tiny.max_boundary = 8;
	tiny.header.max_fields = 5;
	tiny.header.max_line = 40;
	tiny.header.max_field = 80;
	ret = message_parse(pool, data, size, &tiny, &root, &error);
	CHECK(ret != MESSAGE_PARSE_ERROR);
	CHECK(root->body_offset + root->body_size == size);
	check_part(root, data, size);
	write_and_check(root);
	decode_all(root);

	/* A pool too small must fail cleanly. */
	pool_destroy(&pool);
	pool = pool_create(512);
	ret = message_parse(pool, data, size, NULL, &root, &error);
	CHECK(ret != MESSAGE_PARSE_ERROR || (root == NULL && error != NULL));
	pool_destroy(&pool);
	return 0;
}
