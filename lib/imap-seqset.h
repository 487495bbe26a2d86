/*
 * IMAP sequence sets (RFC 9051 sequence-set, RFC 5182 "$"): parsing into
 * range lists, resolving "*" against a mailbox, and the set operations the
 * IMAP commands need (membership, iteration, intersection with a UID list).
 * Used by roost-imap on arguments straight from the client: parsing is strict
 * to the grammar and bounded by a range count.
 *
 * A set is "normalized" when its ranges are sorted, non-overlapping and
 * non-adjacent, with lo <= hi; every function that builds a set produces a
 * normalized one, except imap_seqset_parse() when the text used "*" (which
 * cannot be placed before the mailbox is known): such a set holds the ranges
 * as written, "*" stored as IMAP_SEQ_STAR, until it is resolved.
 */
#ifndef ROOST_IMAP_SEQSET_H
#define ROOST_IMAP_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Default for the max_ranges argument of imap_seqset_parse(). */
#define IMAP_SEQSET_DEFAULT_MAX_RANGES 16384
/* "*" in a parsed set (0 is not a valid number, so it cannot clash). */
#define IMAP_SEQ_STAR 0

struct imap_seq_range {
	uint32_t lo;
	uint32_t hi;
};

struct imap_seqset {
	struct imap_seq_range *ranges;
	size_t count;
	size_t alloc;
	bool has_star; /* parsed with "*": not normalized until resolved */
	bool saved;    /* "$": the caller substitutes its saved SEARCH result */
};

enum imap_seqset_error {
	IMAP_SEQSET_OK,
	IMAP_SEQSET_SYNTAX,	  /* not a sequence-set */
	IMAP_SEQSET_TOO_MANY,	  /* more ranges than max_ranges */
	IMAP_SEQSET_OUT_OF_RANGE, /* a message number beyond the mailbox */
};

/* An empty, normalized set. A zeroed struct is the same. */
void imap_seqset_init(struct imap_seqset *set);
/* Frees the ranges; the set is empty and reusable afterwards. */
void imap_seqset_clear(struct imap_seqset *set);
/* Replaces dst's contents with a copy of src. */
void imap_seqset_copy(struct imap_seqset *dst, const struct imap_seqset *src);

/*
 * Parses str (len bytes, no NUL needed) into *set_r (previous contents are
 * freed). Returns IMAP_SEQSET_OK, or an error with *error_r set to a fixed
 * English text for the BAD response. Zero, leading zeros, numbers >= 2^32,
 * empty elements and "$" combined with anything are syntax errors; "7:3"
 * means "3:7". More than max_ranges elements is IMAP_SEQSET_TOO_MANY.
 */
enum imap_seqset_error imap_seqset_parse(const char *str, size_t len, size_t max_ranges,
					 struct imap_seqset *set_r, const char **error_r);

/*
 * Resolves a parsed set against message sequence numbers 1..msg_count into
 * the normalized *out_r. As RFC 9051 requires, a number above msg_count (or
 * "*" in an empty mailbox) is an error, IMAP_SEQSET_OUT_OF_RANGE. The set
 * must not be "$" (panics: the caller substitutes it first).
 */
enum imap_seqset_error imap_seqset_resolve_seq(const struct imap_seqset *set, uint32_t msg_count,
					       struct imap_seqset *out_r, const char **error_r);
/*
 * Resolves a parsed UID set: "*" becomes star_uid, which is the highest UID
 * in the mailbox or, when it is empty, its UIDNEXT (RFC 9051). UIDs that do
 * not exist are not an error; intersect with the UID list to drop them.
 */
void imap_seqset_resolve_uid(const struct imap_seqset *set, uint32_t star_uid,
			     struct imap_seqset *out_r);

/* Adds lo..hi (either order; both nonzero) to a normalized set. */
void imap_seqset_add_range(struct imap_seqset *set, uint32_t lo, uint32_t hi);
void imap_seqset_add(struct imap_seqset *set, uint32_t n);
/* Normalized sets only: membership by binary search, and size. */
bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n);
uint64_t imap_seqset_count(const struct imap_seqset *set);
/* *out_r = a AND b, for normalized a and b. */
void imap_seqset_intersect(const struct imap_seqset *a, const struct imap_seqset *b,
			   struct imap_seqset *out_r);
/*
 * Writes the set in sequence-set syntax ("1:3,5,9:*"); "$" and the empty
 * set have no such syntax and give false. False also when out is full.
 */
bool imap_seqset_write(struct buf *out, const struct imap_seqset *set);

/* Walks every number of a normalized set in ascending order. */
struct imap_seqset_iter {
	const struct imap_seqset *set;
	size_t idx;
	uint64_t next;
};
void imap_seqset_iter_init(struct imap_seqset_iter *iter, const struct imap_seqset *set);
bool imap_seqset_iter_next(struct imap_seqset_iter *iter, uint32_t *n_r);

/*
 * Walks the indexes i (0-based; the sequence number is i + 1) of a sorted
 * UID array whose uids[i] is in a normalized set, in ascending order, in
 * O(ranges * log(count) + matches): the core of every UID command.
 */
struct imap_seqset_uid_iter {
	const struct imap_seqset *set;
	const uint32_t *uids;
	size_t count;
	size_t range;
	size_t pos;
};
void imap_seqset_uid_iter_init(struct imap_seqset_uid_iter *iter, const struct imap_seqset *set,
			       const uint32_t *uids, size_t count);
bool imap_seqset_uid_iter_next(struct imap_seqset_uid_iter *iter, size_t *index_r);

#endif
