/*
 * libFuzzer harness for roost-lda's handling of untrusted input
 * (lda/message.c, lda/options.c, deliver_log_format in lda/deliver.c): the
 * first line is an envelope sender as -f would carry it, the second a
 * recipient, the rest the message. Checks that the trace fields land in
 * front of the untouched input, that header facts hold no control
 * characters, and that the log line stays bounded.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lda/lda.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)              \
	do {                     \
		if (!(cond))     \
			abort(); \
	} while (0)

/* Takes one line off the front of the input as a C string. */
static char *take_line(const uint8_t **data, size_t *size)
{
	const uint8_t *lf = memchr(*data, '\n', *size);
	size_t len = lf != NULL ? (size_t)(lf - *data) : *size;
	char *line = malloc(len + 1);

	memcpy(line, *data, len);
	line[len] = '\0';
	*data += lf != NULL ? len + 1 : len;
	*size -= lf != NULL ? len + 1 : len;
	return line;
}

static void check_text(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		CHECK((unsigned char)*s >= 0x20 && *s != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char sender[LDA_ADDRESS_MAX + 1], rcpt[LDA_ADDRESS_MAX + 1];
	char *line1 = take_line(&data, &size), *line2 = take_line(&data, &size);
	bool have_sender = lda_address_parse(line1, true, true, sender);
	bool have_rcpt = lda_address_parse(line2, false, true, rcpt);
	struct lda_message msg;
	struct lda_delivery d;
	struct buf out = BUF_INIT(4096);
	size_t input_size;

	if (have_sender) {
		CHECK(strlen(sender) <= LDA_ADDRESS_MAX);
		check_text(sender);
	}
	if (have_rcpt) {
		CHECK(strlen(rcpt) > 0 && strlen(rcpt) <= LDA_ADDRESS_MAX);
		check_text(rcpt);
	}
	lda_message_from_memory(data, size, &msg);
	input_size = msg.size;
	CHECK(input_size <= size);
	/* Whatever the mbox From_ line left is the tail of the input. */
	CHECK(memcmp(msg.data, data + (size - input_size), input_size) == 0);
	lda_message_add_trace(&msg, have_sender ? sender : NULL,
			      have_rcpt ? rcpt : "r@example.com");
	CHECK(msg.size == msg.input_offset + input_size);
	CHECK(msg.input_offset <= LDA_TRACE_HEADROOM);
	CHECK(memcmp(msg.data + msg.input_offset, data + (size - input_size), input_size) == 0);
	lda_message_parse_header(&msg, "X-Original-To");
	check_text(msg.message_id);
	check_text(msg.subject);
	check_text(msg.from);
	check_text(msg.orig_rcpt_header);
	check_text(msg.from_line_sender);

	memset(&d, 0, sizeof(d));
	d.msg = &msg;
	d.mail_from = have_sender ? sender : "";
	d.rcpt_to = have_rcpt ? rcpt : "r@example.com";
	lda_log_format(&out, "msgid=%m %{msgid} s=%s f=%f e=%e p=%p w=%w t=%{to_envelope} %% %$ %",
		       &d, "saved mail to INBOX");
	CHECK(buf_len(&out) <= 4096);
	buf_free(&out);
	lda_message_free(&msg);
	free(line1);
	free(line2);
	return 0;
}
