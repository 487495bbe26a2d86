/*
 * RFC 5322 address-list and mailbox-list parsing (display names, quoted
 * strings, comments, groups, obsolete routes) into the shape IMAP ENVELOPE
 * and Sieve address tests need. Runs in the sandboxed mail processes on
 * untrusted header values: it never fails on bad syntax, it repairs and
 * marks what it could not read.
 */
#ifndef ROOST_MESSAGE_ADDRESS_H
#define ROOST_MESSAGE_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;

/* Most addresses (including group markers) kept from one header value. */
#define MESSAGE_ADDRESS_MAX_DEFAULT 10000U

enum message_address_type {
	MESSAGE_ADDRESS_MAILBOX = 0,
	/* mailbox holds the group's display name; other fields are NULL. */
	MESSAGE_ADDRESS_GROUP_START,
	/* Every string field is NULL. */
	MESSAGE_ADDRESS_GROUP_END,
};

/*
 * One element of a list, in the form of RFC 3501 section 7.4.2 (RFC 9051
 * 7.5.2): a group is a start marker, its members and an end marker. Strings
 * are NUL-terminated pool copies with quoting removed; encoded words stay
 * encoded. For a mailbox, mailbox or domain is NULL only when the header
 * lacked it (invalid is then set).
 */
struct message_address {
	struct message_address *next;
	enum message_address_type type;
	/* Display name (phrase), or a trailing comment when there is no phrase. */
	const char *name;
	/* Obsolete source route without the final colon ("@a,@b"), or NULL. */
	const char *route;
	/* Local part, or the group name of a group start marker. */
	const char *mailbox;
	const char *domain;
	/* Syntax had to be repaired to produce this element. */
	bool invalid;
};

/*
 * Parses len bytes of an unfolded header value. Empty list elements (",,",
 * a lone comment) are skipped; an unterminated group gets its end marker.
 * Returns the list (NULL for an empty value). *count_r (may be NULL) receives
 * the number of elements. Returns NULL with *error_r set only when the pool
 * ran out or more than max_addresses (0 = default) elements were found; a
 * NULL *error_r means the list was simply empty.
 */
struct message_address *message_address_parse(struct pool *pool, const uint8_t *value, size_t len,
					      unsigned int max_addresses, unsigned int *count_r,
					      const char **error_r);

#endif
