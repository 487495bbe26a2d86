/*
 * libFuzzer harness for storage/message-header.c: iterates the header
 * block of arbitrary bytes and checks that every reported offset, size and
 * value stays inside the input, with small limits so they are hit too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "../storage/message-header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)              \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

static void iterate(const uint8_t *data, size_t size, const struct message_header_limits *limits)
{
	struct message_header_iter iter;
	struct message_header_field f;
	enum message_header_result ret;
	size_t pos = 0, hsize, hvsize, body;

	message_header_iter_init(&iter, data, size, limits);
	while ((ret = message_header_iter_next(&iter, &f)) == MESSAGE_HEADER_RESULT_FIELD) {
		CHECK(f.offset == pos);
		CHECK(f.offset + f.size <= size);
		CHECK(f.vsize >= f.size && f.vsize <= 2 * f.size);
		CHECK(f.lines >= 1);
		CHECK(f.name == data + f.offset);
		CHECK(f.raw_value >= data &&
		      f.raw_value + f.raw_value_len <= data + f.offset + f.size);
		CHECK(f.value_len <= f.raw_value_len);
		CHECK(f.malformed == (f.name_len == 0));
		if (f.value_len > 0)
			CHECK(f.value[0] != ' ' && f.value[f.value_len - 1] != '\t');
		pos += f.size;
	}
	if (ret == MESSAGE_HEADER_RESULT_END) {
		CHECK(iter.body_offset <= size);
		CHECK(iter.header_size == iter.body_offset);
		CHECK(iter.header_vsize >= iter.header_size);
		message_header_find_end(data, size, &hsize, &hvsize, &body);
		CHECK(body == iter.body_offset);
		CHECK(hvsize == iter.header_vsize);
	} else {
		CHECK(iter.error != NULL && iter.pos <= size);
	}
	/* The iterator stays finished. */
	CHECK(message_header_iter_next(&iter, &f) == ret);
	message_header_iter_deinit(&iter);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct message_header_limits small = {8, 64, 256};
	struct pool *pool = pool_create(1 << 20);
	struct message_header_value *values;
	const char *error;

	iterate(data, size, NULL);
	iterate(data, size, &small);
	if (message_header_get_all(pool, data, size, "received", &values, &error) < 0)
		CHECK(error != NULL);
	(void)message_header_get_first(pool, data, size, "subject");
	pool_destroy(&pool);
	return 0;
}
