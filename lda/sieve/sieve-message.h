/*
 * A message in memory as the Sieve interpreter sees it, implemented on
 * roost's message parser. Used by roost-lda and the sieve test tool; the
 * bytes are untrusted and never modified.
 */
#ifndef ROOST_SIEVE_MESSAGE_H
#define ROOST_SIEVE_MESSAGE_H

#include <stddef.h>

#include "sieve.h"

struct sieve_message;

/* The message operations; pass a struct sieve_message as their context. */
extern const struct sieve_message_ops sieve_message_ops;

/*
 * Wraps size bytes of a whole message (header and body). The data is not
 * copied and must stay valid until sieve_message_free().
 */
struct sieve_message *sieve_message_create(const void *data, size_t size);
void sieve_message_free(struct sieve_message **msg);
/* The first mailbox address of a header ("local@domain"), or NULL. */
const char *sieve_message_first_address(struct sieve_message *msg, const char *header);
/* The first unfolded value of a header, or NULL. */
const char *sieve_message_header(struct sieve_message *msg, const char *header);

#endif
