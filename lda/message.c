/*
 * The message roost-lda delivers: read once from the MTA into one buffer
 * (with room in front for the trace fields, so the stored message is one
 * contiguous block without a second copy), the mbox "From " line dropped,
 * and the few header facts the log line and the envelope need. Runs inside
 * roost-lda's sandbox; every byte is from the internet and untrusted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lda.h"
#include "../storage/message-address.h"
#include "../storage/message-header.h"
#include "../storage/message-util.h"
#include "pool.h"
#include "../storage/rfc2047.h"
#include "xalloc.h"

/* Longest header facts kept for the log (Dovecot cuts at similar sizes). */
#define LDA_MSGID_LOG_MAX   200
#define LDA_SUBJECT_LOG_MAX 80
#define LDA_FROM_LOG_MAX    80
/* Header scanning limits: the log needs only a few early fields. */
#define LDA_HEADER_POOL_MAX (1024 * 1024)

static ssize_t read_some(int fd, void *p, size_t len)
{
	ssize_t n;

	do {
		n = read(fd, p, len);
	} while (n < 0 && errno == EINTR);
	return n;
}

/* Reads and throws away the rest of the input (after a too large message). */
static void drain(int fd)
{
	static uint8_t scratch[LDA_READ_CHUNK];

	while (read_some(fd, scratch, sizeof(scratch)) > 0)
		;
}

/* The sender of an mbox "From sender date" line, as a new string, or NULL. */
static char *from_line_sender(const uint8_t *p, size_t len)
{
	size_t end = 5;

	while (end < len && p[end] != ' ' && p[end] != '\t' && p[end] != '\r')
		end++;
	if (end == 5 || end - 5 > LDA_ADDRESS_MAX)
		return NULL;
	for (size_t i = 5; i < end; i++) {
		if (p[i] < 0x21 || p[i] == 0x7f)
			return NULL;
	}
	{
		char *s = i_malloc(end - 5 + 1);

		memcpy(s, p + 5, end - 5);
		s[end - 5] = '\0';
		return s;
	}
}

/* Sets data/size/crlf once the input sits at buf_ + start, len bytes. */
static void message_setup(struct lda_message *msg, size_t start, size_t len)
{
	const uint8_t *p = msg->buf_ + start, *lf;

	if (len >= 5 && memcmp(p, "From ", 5) == 0) {
		lf = memchr(p, '\n', len);
		msg->from_line_sender = from_line_sender(p, lf != NULL ? (size_t)(lf - p) : len);
		start += lf != NULL ? (size_t)(lf - p) + 1 : len;
		len -= lf != NULL ? (size_t)(lf - p) + 1 : len;
		p = msg->buf_ + start;
	}
	msg->data = p;
	msg->size = len;
	msg->input_offset = 0;
	lf = memchr(p, '\n', len);
	msg->crlf = lf != NULL && lf > p && lf[-1] == '\r';
}

enum lda_read_result lda_message_read(int fd, uint64_t max_size, struct lda_message *msg_r,
				      uint64_t *input_size_r, const char **error_r)
{
	static char errbuf[256];
	struct stat st;
	size_t len = 0, alloc;

	memset(msg_r, 0, sizeof(*msg_r));
	*input_size_r = 0;
	/* A regular file tells its size: one allocation, no regrowth. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uint64_t)st.st_size <= max_size)
		alloc = LDA_TRACE_HEADROOM + (size_t)st.st_size + 1;
	else
		alloc = LDA_TRACE_HEADROOM + LDA_READ_CHUNK;
	msg_r->buf_ = i_malloc(alloc);
	for (;;) {
		ssize_t n;

		if (LDA_TRACE_HEADROOM + len == alloc) {
			if (len > max_size) {
				*input_size_r = len;
				drain(fd);
				return LDA_READ_TOO_LARGE;
			}
			alloc = LDA_TRACE_HEADROOM + len * 2;
			if ((uint64_t)len * 2 > max_size + 1)
				alloc = LDA_TRACE_HEADROOM + (size_t)max_size + 1;
			msg_r->buf_ = i_realloc(msg_r->buf_, alloc);
		}
		n = read_some(fd, msg_r->buf_ + LDA_TRACE_HEADROOM + len,
			      alloc - LDA_TRACE_HEADROOM - len);
		if (n < 0) {
			(void)str_format(errbuf, sizeof(errbuf), "read(%s) failed: %s",
					 fd == 0 ? "stdin" : "message file", strerror(errno));
			*error_r = errbuf;
			return LDA_READ_ERROR;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max_size) {
			*input_size_r = len;
			drain(fd);
			return LDA_READ_TOO_LARGE;
		}
	}
	msg_r->buf_alloc_ = alloc;
	*input_size_r = len;
	message_setup(msg_r, LDA_TRACE_HEADROOM, len);
	return LDA_READ_OK;
}

void lda_message_from_memory(const void *data, size_t size, struct lda_message *msg_r)
{
	memset(msg_r, 0, sizeof(*msg_r));
	msg_r->buf_alloc_ = LDA_TRACE_HEADROOM + size + 1;
	msg_r->buf_ = i_malloc(msg_r->buf_alloc_);
	if (size > 0)
		memcpy(msg_r->buf_ + LDA_TRACE_HEADROOM, data, size);
	message_setup(msg_r, LDA_TRACE_HEADROOM, size);
}

/* A copy of value for the log: control characters replaced, at most max
   bytes (cut on a UTF-8 boundary, "..." appended when cut). */
static char *log_copy(const uint8_t *value, size_t len, size_t max)
{
	struct buf out = BUF_INIT(max + 4);
	char *ret;
	size_t n = len;

	if (n > max) {
		n = max;
		while (n > 0 && (value[n] & 0xC0) == 0x80)
			n--;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t c = value[i];

		(void)buf_append_c(&out, c < 0x20 || c == 0x7f ? '?' : c);
	}
	if (n < len)
		(void)buf_append_str(&out, "...");
	ret = i_strdup(buf_cstr(&out));
	buf_free(&out);
	return ret;
}

/* The first mailbox address of an address-list value, "local@domain". */
static char *first_address(struct pool *pool, const uint8_t *value, size_t len)
{
	const char *error;
	struct message_address *addr = message_address_parse(pool, value, len, 64, NULL, &error);
	struct buf out = BUF_INIT(LDA_ADDRESS_MAX);
	char *ret = NULL;

	for (; addr != NULL; addr = addr->next) {
		if (addr->type != MESSAGE_ADDRESS_MAILBOX || addr->mailbox == NULL ||
		    addr->mailbox[0] == '\0')
			continue;
		if (buf_append_str(&out, addr->mailbox) &&
		    (addr->domain == NULL ||
		     (buf_append_c(&out, '@') && buf_append_str(&out, addr->domain))))
			ret = log_copy(buf_data(&out), buf_len(&out), LDA_ADDRESS_MAX);
		break;
	}
	buf_free(&out);
	return ret;
}

void lda_message_parse_header(struct lda_message *msg, const char *orig_rcpt_header)
{
	struct pool *pool = pool_create(LDA_HEADER_POOL_MAX);
	struct message_header_iter iter;
	struct message_header_field f;
	bool want_orig = orig_rcpt_header != NULL && orig_rcpt_header[0] != '\0';

	message_header_iter_init(&iter, msg->data + msg->input_offset,
				 msg->size - msg->input_offset, NULL);
	while (message_header_iter_next(&iter, &f) == MESSAGE_HEADER_RESULT_FIELD) {
		if (f.malformed)
			continue;
		if (msg->message_id == NULL && message_header_name_is(&f, "Message-ID")) {
			msg->message_id = log_copy(f.value, f.value_len, LDA_MSGID_LOG_MAX);
		} else if (msg->subject == NULL && message_header_name_is(&f, "Subject")) {
			struct buf decoded = BUF_INIT(4 * LDA_SUBJECT_LOG_MAX);

			(void)rfc2047_decode(f.value, f.value_len, &decoded, NULL);
			msg->subject = log_copy(buf_data(&decoded), buf_len(&decoded),
						LDA_SUBJECT_LOG_MAX);
			buf_free(&decoded);
		} else if (msg->from == NULL && message_header_name_is(&f, "From")) {
			msg->from = first_address(pool, f.value, f.value_len);
		} else if (want_orig && msg->orig_rcpt_header == NULL &&
			   message_header_name_is(&f, orig_rcpt_header)) {
			msg->orig_rcpt_header = first_address(pool, f.value, f.value_len);
		}
	}
	message_header_iter_deinit(&iter);
	pool_destroy(&pool);
}

/* Whether value (a Delivered-To value) names addr, ignoring <> and case. */
static bool same_address(const uint8_t *value, size_t len, const char *addr)
{
	if (len >= 2 && value[0] == '<' && value[len - 1] == '>') {
		value++;
		len -= 2;
	}
	return len == strlen(addr) && message_mem_caseeq(value, addr, len);
}

/* Whether an address may go into a header line as it is. */
static bool header_safe(const char *addr)
{
	if (addr == NULL || strlen(addr) > LDA_ADDRESS_MAX)
		return false;
	for (; *addr != '\0'; addr++) {
		if ((unsigned char)*addr < 0x20 || *addr == 0x7f)
			return false;
	}
	return true;
}

void lda_message_add_trace(struct lda_message *msg, const char *mail_from, const char *rcpt_to)
{
	struct message_header_iter iter;
	struct message_header_field f;
	bool add_return_path = header_safe(mail_from), add_delivered_to = header_safe(rcpt_to);
	struct buf prefix = BUF_INIT(LDA_TRACE_HEADROOM);
	const char *eol = msg->crlf ? "\r\n" : "\n";
	size_t head = (size_t)(msg->data - msg->buf_);

	/* Postfix's pipe flags R, D and O put these at the very top. */
	message_header_iter_init(&iter, msg->data, msg->size, NULL);
	while (message_header_iter_next(&iter, &f) == MESSAGE_HEADER_RESULT_FIELD) {
		if (message_header_name_is(&f, "Return-Path"))
			add_return_path = false;
		else if (message_header_name_is(&f, "Delivered-To")) {
			if (add_delivered_to && same_address(f.value, f.value_len, rcpt_to))
				add_delivered_to = false;
		} else if (!message_header_name_is(&f, "X-Original-To"))
			break;
	}
	message_header_iter_deinit(&iter);

	if (add_return_path)
		(void)buf_printf(&prefix, "Return-Path: <%s>%s", mail_from, eol);
	if (add_delivered_to)
		(void)buf_printf(&prefix, "Delivered-To: %s%s", rcpt_to, eol);
	/* Addresses are at most LDA_ADDRESS_MAX: the prefix always fits. */
	if (buf_len(&prefix) > 0 && buf_len(&prefix) <= head) {
		uint8_t *start = msg->buf_ + head - buf_len(&prefix);

		memcpy(start, buf_data(&prefix), buf_len(&prefix));
		msg->data = start;
		msg->size += buf_len(&prefix);
		msg->input_offset = buf_len(&prefix);
	}
	buf_free(&prefix);
}

void lda_message_free(struct lda_message *msg)
{
	I_FREE(msg->buf_);
	I_FREE(msg->from_line_sender);
	I_FREE(msg->message_id);
	I_FREE(msg->subject);
	I_FREE(msg->from);
	I_FREE(msg->orig_rcpt_header);
	msg->data = NULL;
	msg->size = 0;
}
