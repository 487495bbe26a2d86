/*
 * The filtering step of a delivery, where the Sieve engine (lda/sieve) will
 * decide what happens to the message. Runs inside roost-lda's sandbox with
 * the message read and the envelope known; scripts and message are
 * untrusted, and whatever they decide goes through lda_deliver_store().
 */
#include "lda.h"

void lda_filter_run(struct lda_delivery *d)
{
	/*
	 * Sieve plugs in here: compile the sieve_before, personal and
	 * sieve_after scripts, run them on d->msg with d's envelope
	 * (mail_from, rcpt_to, orig_rcpt_to, d->user->detail for
	 * subaddress), then perform the result: each fileinto with
	 * lda_deliver_store(d, mailbox, flags, keywords, create, ...), keep
	 * and the implicit keep with lda_deliver_keep(d, flags, keywords), and redirect,
	 * reject and vacation through the submission helper that main.c
	 * forks before the sandbox. A script error keeps the message.
	 */
	(void)lda_deliver_keep(d, 0, NULL);
}
