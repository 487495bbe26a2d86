/*
 * libFuzzer harness for lib/base64.c, the decoder login and auth run on
 * every AUTHENTICATE line: anything it accepts must re-encode to exactly
 * the same text (one spelling per value), and it must never overrun a
 * buffer that is exactly big enough.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf dec = BUF_INIT(size), enc = BUF_INIT(2 * size + 8);
	enum base64_error err = base64_decode(&dec, data, size);

	if (err == BASE64_OK) {
		if (buf_len(&dec) > base64_decoded_max(size))
			abort();
		if (!base64_encode(&enc, buf_data(&dec), buf_len(&dec)))
			abort();
		if (buf_len(&enc) != size || memcmp(buf_data(&enc), data, size) != 0)
			abort();
		/* The same into a fixed array of exactly the decoded size. */
		uint8_t *exact = malloc(buf_len(&dec) + 1);
		size_t n;

		if (base64_decode_to(exact, buf_len(&dec), data, size, &n) != BASE64_OK ||
		    n != buf_len(&dec) || memcmp(exact, buf_data(&dec), n) != 0)
			abort();
		if (n > 0 && base64_decode_to(exact, n - 1, data, size, &n) != BASE64_ERR_TOO_LONG)
			abort();
		free(exact);
	} else if (buf_len(&dec) != 0) {
		abort();
	}
	/* Encoding arbitrary bytes always decodes back. */
	buf_reset(&enc);
	buf_reset(&dec);
	if (!base64_encode(&enc, data, size) ||
	    base64_decode(&dec, buf_data(&enc), buf_len(&enc)) != BASE64_OK ||
	    buf_len(&dec) != size || (size > 0 && memcmp(buf_data(&dec), data, size) != 0))
		abort();
	buf_free(&dec);
	buf_free(&enc);
	return 0;
}
