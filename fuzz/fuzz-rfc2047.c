/*
 * libFuzzer harness for storage/rfc2047.c (and the charset converters it
 * drives): decodes arbitrary header text and checks the output is valid
 * UTF-8 and that a small output limit is honoured.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "../storage/charset.h"
#include "../storage/rfc2047.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT(size * 16 + 64), small = BUF_INIT(16);
	unsigned int flags;

	if (!rfc2047_decode(data, size, &out, &flags))
		abort(); /* the output buffer is far larger than any expansion */
	if (!charset_utf8_is_valid(buf_data(&out), buf_len(&out)))
		abort();
	(void)rfc2047_decode(data, size, &small, NULL);
	if (buf_len(&small) > 16)
		abort();
	buf_free(&out);
	buf_free(&small);
	return 0;
}
