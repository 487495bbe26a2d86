/*
 * libFuzzer harness for the framing between roost-lda and its submission
 * helper (lda/submit-frame.c): the input is a byte stream as the helper
 * would read it from the socketpair. Every frame the parser accepts is
 * decoded as a request or a reply; whatever decodes must encode back to
 * the same bytes, its addresses must be safe on a sendmail command line
 * and its reply text free of control characters.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lda/submit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)              \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

static void check_address(const char *a, bool allow_empty)
{
	CHECK(lda_submit_address_valid(a, allow_empty));
	CHECK(a[0] != '-');
	CHECK(allow_empty || a[0] != '\0');
	for (const char *p = a; *p != '\0'; p++)
		CHECK((unsigned char)*p > 0x20 && *p != 0x7f && *p != '<' && *p != '>');
}

static void check_frame(uint8_t type, const uint8_t *frame, size_t frame_len,
			const uint8_t *payload, size_t len)
{
	struct buf again = BUF_INIT(frame_len + 16);
	const char *error;

	if (type == LDA_SUBMIT_REQUEST) {
		struct lda_submit_request req;

		if (lda_submit_decode_request(payload, len, &req, &error)) {
			check_address(req.mail_from, true);
			check_address(req.rcpt_to, false);
			CHECK(req.data >= payload && req.data + req.size == payload + len);
			CHECK(lda_submit_encode_request(&again, req.mail_from, req.rcpt_to,
							req.data, req.size));
			CHECK(buf_len(&again) == frame_len &&
			      memcmp(buf_data(&again), frame, frame_len) == 0);
		}
	} else {
		struct lda_submit_reply reply;

		CHECK(type == LDA_SUBMIT_RESULT);
		if (lda_submit_decode_reply(payload, len, &reply, &error)) {
			for (const char *p = reply.text; *p != '\0'; p++)
				CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
			CHECK(lda_submit_encode_reply(&again, reply.status, reply.text));
			CHECK(buf_len(&again) == frame_len &&
			      memcmp(buf_data(&again), frame, frame_len) == 0);
		}
	}
	buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The first byte picks the receiver's limit, as both sides use one. */
	size_t max, pos = 1;

	if (size < 1)
		return 0;
	max = (size_t)data[0] * 64;
	while (pos < size) {
		const uint8_t *payload;
		const char *error;
		size_t len, need;
		uint8_t type;
		enum lda_submit_frame_result r = lda_submit_frame_parse(
			data + pos, size - pos, max, &type, &payload, &len, &need, &error);

		if (r != LDA_SUBMIT_FRAME_OK) {
			CHECK(r == LDA_SUBMIT_FRAME_ERROR || need > size - pos);
			break;
		}
		CHECK(need == LDA_SUBMIT_HEADER_SIZE + len && len <= max);
		check_frame(type, data + pos, need, payload, len);
		pos += need;
	}
	/* Whatever the address checks accept is safe to put on a command line. */
	{
		char addr[LDA_SUBMIT_ADDRESS_MAX + 2];
		size_t n = size - 1 > sizeof(addr) - 1 ? sizeof(addr) - 1 : size - 1;

		memcpy(addr, data + 1, n);
		addr[n] = '\0';
		if (lda_submit_address_valid(addr, true))
			check_address(addr, true);
	}
	return 0;
}
