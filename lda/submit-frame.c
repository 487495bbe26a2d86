/*
 * The framing between roost-lda and its submission helper: encoding and
 * the one decoder each side uses for what the other sent. Runs in both
 * processes; the helper treats every frame as hostile (the sandboxed side
 * parsed internet mail), so each length is checked against what is left
 * and nothing may be left over.
 */
#include <string.h>

#include "submit.h"

bool lda_submit_address_valid(const char *addr, bool allow_empty)
{
	size_t len = strlen(addr), at = 0, ats = 0;

	if (len == 0)
		return allow_empty;
	if (len > LDA_SUBMIT_ADDRESS_MAX || addr[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)addr[i];

		if (c <= 0x20 || c == 0x7f || strchr("<>\"\\(),;:[]", c) != NULL) {
			/* A domain literal keeps its brackets and colons. */
			if (!((c == '[' || c == ']' || c == ':') && ats == 1))
				return false;
		}
		if (c == '@') {
			ats++;
			at = i;
		}
	}
	return ats == 1 && at > 0 && at + 1 < len;
}

enum lda_submit_frame_result lda_submit_frame_parse(const uint8_t *data, size_t size,
						    size_t max_payload, uint8_t *type_r,
						    const uint8_t **payload_r,
						    size_t *payload_len_r, size_t *need_r,
						    const char **error_r)
{
	struct cursor c;
	uint8_t version, type;
	uint16_t flags;
	uint32_t len;

	*need_r = LDA_SUBMIT_HEADER_SIZE;
	if (size < LDA_SUBMIT_HEADER_SIZE)
		return LDA_SUBMIT_FRAME_MORE;
	cursor_init(&c, data, size);
	(void)cursor_get_u8(&c, &version);
	(void)cursor_get_u8(&c, &type);
	(void)cursor_get_u16(&c, &flags);
	(void)cursor_get_u32(&c, &len);
	if (version != LDA_SUBMIT_VERSION) {
		*error_r = "unsupported frame version";
		return LDA_SUBMIT_FRAME_ERROR;
	}
	if (flags != 0) {
		*error_r = "unknown frame flags";
		return LDA_SUBMIT_FRAME_ERROR;
	}
	if (type != LDA_SUBMIT_REQUEST && type != LDA_SUBMIT_RESULT) {
		*error_r = "unknown frame type";
		return LDA_SUBMIT_FRAME_ERROR;
	}
	if (len > max_payload) {
		*error_r = "frame larger than the limit";
		return LDA_SUBMIT_FRAME_ERROR;
	}
	*need_r = LDA_SUBMIT_HEADER_SIZE + (size_t)len;
	if (size < *need_r)
		return LDA_SUBMIT_FRAME_MORE;
	*type_r = type;
	*payload_r = data + LDA_SUBMIT_HEADER_SIZE;
	*payload_len_r = len;
	return LDA_SUBMIT_FRAME_OK;
}

static bool put_header(struct buf *out, uint8_t type, size_t payload_len)
{
	if (payload_len > UINT32_MAX)
		return false;
	return buf_put_u8(out, LDA_SUBMIT_VERSION) && buf_put_u8(out, type) &&
	       buf_put_u16(out, 0) && buf_put_u32(out, (uint32_t)payload_len);
}

bool lda_submit_encode_request(struct buf *out, const char *mail_from, const char *rcpt_to,
			       const void *data, size_t size)
{
	size_t from_len = strlen(mail_from), rcpt_len = strlen(rcpt_to), total;

	if (!lda_submit_address_valid(mail_from, true) || !lda_submit_address_valid(rcpt_to, false))
		return false;
	if (size > UINT32_MAX || !size_add(2 + from_len + 2 + rcpt_len + 4, size, &total))
		return false;
	return put_header(out, LDA_SUBMIT_REQUEST, total) && buf_put_u16(out, (uint16_t)from_len) &&
	       buf_append(out, mail_from, from_len) && buf_put_u16(out, (uint16_t)rcpt_len) &&
	       buf_append(out, rcpt_to, rcpt_len) && buf_put_u32(out, (uint32_t)size) &&
	       buf_append(out, data, size);
}

bool lda_submit_encode_reply(struct buf *out, enum lda_submit_status status, const char *text)
{
	char clean[LDA_SUBMIT_TEXT_MAX + 1];
	size_t len;

	(void)str_copy(clean, sizeof(clean), text != NULL ? text : "");
	len = strlen(clean);
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)clean[i] < 0x20 || clean[i] == 0x7f)
			clean[i] = ' ';
	}
	return put_header(out, LDA_SUBMIT_RESULT, 1 + 2 + len) &&
	       buf_put_u8(out, (uint8_t)status) && buf_put_u16(out, (uint16_t)len) &&
	       buf_append(out, clean, len);
}

/* Takes a u16-length string into out (NUL-terminated, no NUL inside). */
static bool get_string(struct cursor *c, char *out, size_t out_size)
{
	const uint8_t *p;
	uint16_t len;

	if (!cursor_get_u16(c, &len) || (size_t)len >= out_size || !cursor_get_bytes(c, len, &p) ||
	    memchr(p, '\0', len) != NULL)
		return false;
	memcpy(out, p, len);
	out[len] = '\0';
	return true;
}

bool lda_submit_decode_request(const uint8_t *payload, size_t len, struct lda_submit_request *req_r,
			       const char **error_r)
{
	struct cursor c;
	uint32_t size;

	cursor_init(&c, payload, len);
	if (!get_string(&c, req_r->mail_from, sizeof(req_r->mail_from)) ||
	    !get_string(&c, req_r->rcpt_to, sizeof(req_r->rcpt_to))) {
		*error_r = "request: bad address field";
		return false;
	}
	if (!cursor_get_u32(&c, &size) || !cursor_get_bytes(&c, size, &req_r->data)) {
		*error_r = "request: message length runs past the frame";
		return false;
	}
	if (cursor_left(&c) != 0) {
		*error_r = "request: trailing bytes";
		return false;
	}
	if (!lda_submit_address_valid(req_r->mail_from, true) ||
	    !lda_submit_address_valid(req_r->rcpt_to, false)) {
		*error_r = "request: invalid address";
		return false;
	}
	req_r->size = size;
	return true;
}

bool lda_submit_decode_reply(const uint8_t *payload, size_t len, struct lda_submit_reply *reply_r,
			     const char **error_r)
{
	struct cursor c;
	uint8_t status;

	cursor_init(&c, payload, len);
	if (!cursor_get_u8(&c, &status) || status > LDA_SUBMIT_FAILED) {
		*error_r = "reply: unknown status";
		return false;
	}
	if (!get_string(&c, reply_r->text, sizeof(reply_r->text))) {
		*error_r = "reply: bad text field";
		return false;
	}
	if (cursor_left(&c) != 0) {
		*error_r = "reply: trailing bytes";
		return false;
	}
	for (const char *p = reply_r->text; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			*error_r = "reply: control characters in the text";
			return false;
		}
	}
	reply_r->status = (enum lda_submit_status)status;
	return true;
}
