/*
 * Body decoding of MIME parts: Content-Transfer-Encoding (base64,
 * quoted-printable, 7bit/8bit/binary) for FETCH BINARY (RFC 3516), and
 * "decoded text" in UTF-8 for SEARCH BODY/TEXT and Sieve's body test. Runs in
 * roost-imap and roost-lda on untrusted bodies: decoding is lenient where
 * RFC 2045 allows it, reports what it had to repair, and never writes past
 * the output buffer's maximum.
 */
#ifndef ROOST_MESSAGE_DECODE_H
#define ROOST_MESSAGE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "message-part.h"

enum message_decode_result {
	MESSAGE_DECODE_OK = 0,
	/* Decoded, but the input was malformed (bad base64 characters, a
	   stray '=' in quoted-printable) and was read leniently. */
	MESSAGE_DECODE_REPAIRED,
	/* The Content-Transfer-Encoding is not one we know: BINARY must answer
	   [UNKNOWN-CTE] (RFC 3516). */
	MESSAGE_DECODE_UNKNOWN_ENCODING,
	/* The output buffer's maximum was reached; the output is cut short. */
	MESSAGE_DECODE_LIMIT,
};

/*
 * A streaming transfer decoder. Feed the body in pieces of any size; the
 * result is the same as decoding it in one go. quoted-printable hard line
 * breaks and 7bit/8bit line ends come out as CRLF (the canonical form of
 * RFC 2045); binary and base64 bytes come out untouched.
 */
struct message_decoder {
	enum message_cte cte;
	bool repaired;
	/* 7bit/8bit: the previous piece ended with a CR. */
	bool last_cr;
	/* base64: bits not yet forming a byte. */
	uint32_t acc;
	unsigned int bits;
	/* quoted-printable: bytes held back until the next piece decides
	   their meaning (an '=' or white space at the end of a piece). */
	struct buf carry;
};

/* Starts decoding; MESSAGE_CTE_UNKNOWN copies the bytes like binary. */
void message_decoder_init(struct message_decoder *dec, enum message_cte cte);
/* Decodes len more bytes into out; false when out's maximum was reached. */
bool message_decoder_feed(struct message_decoder *dec, const uint8_t *in, size_t len,
			  struct buf *out);
/* Flushes what was held back and frees the decoder's storage; false when
   out's maximum was reached. */
bool message_decoder_finish(struct message_decoder *dec, struct buf *out);

/*
 * Appends the transfer-decoded body of a part to out. Returns
 * UNKNOWN_ENCODING without writing anything for an unknown encoding.
 */
enum message_decode_result message_decode_body(const struct message_part *part, struct buf *out);

/*
 * Appends the part's body as UTF-8 text: transfer-decoded, then converted
 * from its charset (us-ascii when absent). Whatever cannot be decoded is
 * still made searchable: an unknown encoding is taken as 8bit and an unknown
 * charset as UTF-8, both with U+FFFD for invalid bytes; *charset_unknown_r
 * (may be NULL) tells the second case apart. Returns UNKNOWN_ENCODING or
 * REPAIRED in the cases above, LIMIT when out is full.
 */
enum message_decode_result message_decode_text(const struct message_part *part, struct buf *out,
					       bool *charset_unknown_r);

/* The part's charset parameter (plain or RFC 2231 form), or NULL. */
const char *message_part_charset(const struct message_part *part, char *buf, size_t size);

/* Called for each text part; return false to stop the walk. */
typedef bool message_part_callback_t(const struct message_part *part, void *context);

/*
 * Calls cb for every text/\* part that has no children, in document order,
 * including those inside encapsulated messages. Returns how many were
 * visited.
 */
unsigned int message_text_parts_walk(const struct message_part *root, message_part_callback_t *cb,
				     void *context);

#endif
