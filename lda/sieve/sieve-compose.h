/*
 * Builds the messages a Sieve result sends: redirected copies (with the
 * loop marker), vacation replies (RFC 5230 section 5 and RFC 3834) and
 * reject bounces (an MDN, RFC 5429 section 2.2). Runs in roost-lda inside
 * its sandbox; the output is handed to the sending helper, which only
 * submits it. Values from the message and script are encoded or sanitised
 * so they cannot add header lines.
 */
#ifndef ROOST_SIEVE_COMPOSE_H
#define ROOST_SIEVE_COMPOSE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "sieve.h"

/* The SMTP envelope of an outgoing message; "" is the null path <>. */
struct sieve_outgoing {
	const char *mail_from;
	const char *rcpt_to;
};

/*
 * A redirect (RFC 5228 section 4.2): X-Sieve-Redirected-From with the
 * recipient is prepended to msg (the message as it would be stored, i.e.
 * after sieve_result_apply_edits()), the envelope sender follows
 * sieve_redirect_envelope_from. Strings in *env_r live as long as result.
 */
bool sieve_compose_redirect(struct sieve_result *result, const struct sieve_action *action,
			    const void *msg, size_t msg_size, struct buf *out,
			    struct sieve_outgoing *env_r);

/*
 * A vacation reply for an action sieve_result_decide() did not skip:
 * Auto-Submitted: auto-replied, In-Reply-To/References, Subject and From as
 * decided, sent from <> unless sieve_vacation_send_from_recipient.
 */
bool sieve_compose_vacation(struct sieve_result *result, const struct sieve_action *action,
			    const char *hostname, struct buf *out, struct sieve_outgoing *env_r);

/*
 * A reject bounce: a multipart/report MDN with the reason, the disposition
 * and the original header, sent from <> to the envelope sender.
 */
bool sieve_compose_reject(struct sieve_result *result, const struct sieve_action *action,
			  const void *msg, size_t msg_size, const char *hostname, struct buf *out,
			  struct sieve_outgoing *env_r);
/*
 * The same with the Subject and the human-readable text given (the LDA's
 * rejection_subject and rejection_reason, already expanded; NULL for the
 * defaults above). Both are sanitised: CR and LF in the subject become
 * spaces, lone LFs in the text become CRLF.
 */
bool sieve_compose_reject_text(struct sieve_result *result, const struct sieve_action *action,
			       const void *msg, size_t msg_size, const char *hostname,
			       const char *subject, const char *text, struct buf *out,
			       struct sieve_outgoing *env_r);

/*
 * Appends a header field "Name: value" with value RFC 2047-encoded when it
 * is not plain ASCII, folded below 78 columns and with CR/LF removed.
 */
bool sieve_compose_header(struct buf *out, const char *name, const char *value);

#endif
