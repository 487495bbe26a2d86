/*
 * IMAP BODY and BODYSTRUCTURE (RFC 3501 7.4.2, RFC 9051 7.5.2) from a
 * parsed MIME tree. Runs in roost-imap and wherever the index caches the
 * structure; every string from the message goes through imap-quote.
 */
#ifndef ROOST_IMAP_BODYSTRUCTURE_H
#define ROOST_IMAP_BODYSTRUCTURE_H

#include <stdbool.h>

struct buf;
struct message_part;

/*
 * Appends the body structure of part (usually the root) to out: with
 * extension data (MD5, disposition, language, location; parameters of
 * multiparts) for BODYSTRUCTURE when extended, without for BODY. Sizes are
 * CRLF sizes. Text parts without a charset get ("charset" "us-ascii"); a
 * multipart without children and a message/rfc822 that could not be parsed
 * get an empty text/plain body, since IMAP syntax cannot express either.
 * flags are enum imap_quote_flags. Returns false with *error_r set when
 * out's maximum was reached or an encapsulated header hit a limit.
 */
bool imap_bodystructure_write(struct buf *out, const struct message_part *part, bool extended,
			      unsigned int flags, const char **error_r);

#endif
