/*
 * IMAP ENVELOPE (RFC 3501 7.4.2, RFC 9051 7.5.2) from a message header:
 * parsing the ten fields and writing them in exact IMAP syntax. Runs in
 * roost-imap (FETCH, and BODYSTRUCTURE of message/rfc822 parts) and wherever
 * the index caches envelopes; the header is untrusted.
 */
#ifndef ROOST_IMAP_ENVELOPE_H
#define ROOST_IMAP_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct pool;
struct message_address;

/*
 * The fields as IMAP sends them. Strings are unfolded header values (NULL
 * when the field is absent, "" when it is empty); encoded words stay
 * encoded, as RFC 3501 requires. When a string field occurs more than once
 * the first wins; address fields of the same name are concatenated.
 */
struct imap_envelope {
	const char *date;
	const char *subject;
	struct message_address *from;
	/* Sender and Reply-To are From when absent or empty (RFC 3501). */
	struct message_address *sender;
	struct message_address *reply_to;
	struct message_address *to;
	struct message_address *cc;
	struct message_address *bcc;
	const char *in_reply_to;
	const char *message_id;
};

/*
 * Parses the header block at the start of hdr (len bytes; it may be the
 * whole message) into pool memory. Returns false with *error_r set when a
 * header or address limit was hit or the pool ran out.
 */
bool imap_envelope_parse(struct pool *pool, const uint8_t *hdr, size_t len,
			 struct imap_envelope **env_r, const char **error_r);

/*
 * Appends "(date subject from sender reply-to to cc bcc in-reply-to
 * message-id)" to out. A mailbox without local part or domain is written
 * with "MISSING_MAILBOX" / "MISSING_DOMAIN", because a NIL host means a
 * group marker. flags are enum imap_quote_flags. Returns false when out's
 * maximum was reached.
 */
bool imap_envelope_write(struct buf *out, const struct imap_envelope *env, unsigned int flags);

/* The ENVELOPE of an absent message: ten NILs. */
bool imap_envelope_write_empty(struct buf *out);

/*
 * Parses and writes in one step with a private pool. Returns false with
 * *error_r set on a limit or when out's maximum was reached.
 */
bool imap_envelope_write_header(struct buf *out, const uint8_t *hdr, size_t len, unsigned int flags,
				const char **error_r);

#endif
