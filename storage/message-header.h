/*
 * RFC 5322 header block iteration over a message held in memory: field
 * names, raw and unfolded values, offsets and IMAP-style (CRLF) sizes. Runs
 * in roost-imap, roost-pop3 and roost-lda on mail from the internet, so it
 * trusts nothing in the bytes: malformed lines are counted, not fatal, and
 * every length is bounded by the limits below.
 */
#ifndef ROOST_MESSAGE_HEADER_H
#define ROOST_MESSAGE_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;

/* Most fields one header block may hold. */
#define MESSAGE_HEADER_MAX_FIELDS_DEFAULT 10000U
/* Longest physical header line, without its line end (RFC 5322 says 998). */
#define MESSAGE_HEADER_MAX_LINE_DEFAULT (64U * 1024)
/* Largest field including all its continuation lines. */
#define MESSAGE_HEADER_MAX_FIELD_DEFAULT (256U * 1024)

struct message_header_limits {
	unsigned int max_fields;
	size_t max_line;
	size_t max_field;
};

/* The defaults above, for callers that want to change one of them. */
extern const struct message_header_limits message_header_default_limits;

/*
 * One field. Pointers point into the message, except value, which points
 * into the iterator when the field was folded: it stays valid only until the
 * next call to message_header_iter_next(). None of them is NUL-terminated
 * and all may contain NUL and 8-bit bytes.
 */
struct message_header_field {
	/* Name without trailing whitespace; empty for a malformed line. */
	const uint8_t *name;
	size_t name_len;
	/* Everything after the colon up to the field's last line end. */
	const uint8_t *raw_value;
	size_t raw_value_len;
	/* raw_value with folding line ends removed and outer whitespace trimmed. */
	const uint8_t *value;
	size_t value_len;
	/* Offset of the field's first byte in the iterated memory. */
	size_t offset;
	/* Physical bytes including the last line end, and the same counting
	   each bare LF as CRLF (what IMAP reports). */
	size_t size;
	size_t vsize;
	unsigned int lines;
	/* A line without a colon, with an invalid name, or a continuation line
	   with no field before it. It is counted and returned, never fatal. */
	bool malformed;
};

enum message_header_result {
	/* A limit was hit: iter->error says which; iter->pos is the offset of
	   the line that hit it, so a caller can treat the rest as body. */
	MESSAGE_HEADER_RESULT_LIMIT = -1,
	/* The header block ended (blank line or end of data). */
	MESSAGE_HEADER_RESULT_END = 0,
	/* *field_r was filled. */
	MESSAGE_HEADER_RESULT_FIELD = 1,
};

/* The iterator; read the fields, do not write them. */
struct message_header_iter {
	const uint8_t *data;
	size_t len;
	size_t pos;
	struct message_header_limits limits;
	unsigned int field_count;
	unsigned int malformed_count;
	/* Valid once next() returned END: the whole header block including the
	   blank line, and where the body starts. */
	size_t header_size;
	size_t header_vsize;
	unsigned int header_lines;
	size_t body_offset;
	/* False when the data ended before a blank line was seen. */
	bool have_blank_line;
	bool done;
	const char *error;
	/* Unfolding storage, owned by the iterator. */
	uint8_t *unfold_;
	size_t unfold_alloc_;
};

/*
 * Starts iterating the header block at the start of data (len bytes, which
 * must stay mapped while iterating). limits may be NULL for the defaults.
 */
void message_header_iter_init(struct message_header_iter *iter, const uint8_t *data, size_t len,
			      const struct message_header_limits *limits);
/*
 * Returns the next field in *field_r (FIELD), END after the last one, or
 * LIMIT with iter->error set. After END or LIMIT it keeps returning the same.
 */
enum message_header_result message_header_iter_next(struct message_header_iter *iter,
						    struct message_header_field *field_r);
/* Frees the unfolding storage; the iterator may not be used afterwards. */
void message_header_iter_deinit(struct message_header_iter *iter);

/* Case-insensitive comparison of a field's name with a NUL-terminated name. */
bool message_header_name_is(const struct message_header_field *field, const char *name);

/*
 * Finds the header block's end without keeping the fields. *body_offset_r is
 * where the body starts (len when there is no blank line). Never fails: limits
 * do not apply because nothing is copied.
 */
void message_header_find_end(const uint8_t *data, size_t len, size_t *header_size_r,
			     size_t *header_vsize_r, size_t *body_offset_r);

/* One value returned by message_header_get_all(). */
struct message_header_value {
	/* Unfolded value, NUL-terminated; NUL bytes in the header are kept and
	   counted in len. */
	const char *value;
	size_t len;
};

/*
 * Collects the unfolded values of every field called name (case-insensitive)
 * in the header block at the start of data, in order, into pool memory.
 * Returns the number found (0 if none, *values_r is then NULL), or -1 with
 * *error_r set when a header limit was hit or the pool ran out.
 */
int message_header_get_all(struct pool *pool, const uint8_t *data, size_t len, const char *name,
			   struct message_header_value **values_r, const char **error_r);

/*
 * The first value of field name, unfolded and NUL-terminated in pool memory
 * (NUL bytes in it become U+FFFD); NULL when there is none, or when the
 * header is unusable (a limit was hit before the field, or the pool ran out).
 */
const char *message_header_get_first(struct pool *pool, const uint8_t *data, size_t len,
				     const char *name);

#endif
