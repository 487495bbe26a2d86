/*
 * libFuzzer harness for storage/mutf7.c: whatever decodes must encode back
 * to the same bytes (only canonical names are accepted), and whatever
 * encodes must decode back to the same UTF-8.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "../storage/charset.h"
#include "../storage/mutf7.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct buf a = BUF_INIT(size * 6 + 16), b = BUF_INIT(size * 6 + 16);

	if (mutf7_to_utf8(in, size, &a) == MUTF7_OK) {
		if (!charset_utf8_is_valid(buf_data(&a), buf_len(&a)) ||
		    mutf7_from_utf8(buf_cstr(&a), buf_len(&a), &b) != MUTF7_OK ||
		    buf_len(&b) != size || memcmp(buf_data(&b), data, size) != 0)
			abort();
	}
	buf_reset(&a);
	buf_reset(&b);
	if (mutf7_from_utf8(in, size, &a) == MUTF7_OK) {
		if (mutf7_to_utf8(buf_cstr(&a), buf_len(&a), &b) != MUTF7_OK ||
		    buf_len(&b) != size || memcmp(buf_data(&b), data, size) != 0)
			abort();
	} else if (charset_utf8_is_valid(data, size) && memchr(data, 0, size) == NULL) {
		abort(); /* valid UTF-8 without NUL must always encode */
	}
	buf_free(&a);
	buf_free(&b);
	return 0;
}
