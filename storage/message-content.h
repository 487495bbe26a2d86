/*
 * Parsing of MIME structured header values: Content-Type and
 * Content-Disposition with their parameters (RFC 2045, RFC 2183), RFC 2231
 * parameter continuations and charsets, and Content-Language lists. Runs in
 * the sandboxed mail processes on untrusted header values; never fails on
 * bad syntax, only reports it.
 */
#ifndef ROOST_MESSAGE_CONTENT_H
#define ROOST_MESSAGE_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pool;

/* Most parameters kept from one header; more is a limit hit. */
#define MESSAGE_PARAMS_MAX_DEFAULT 128U
/* Highest RFC 2231 continuation index recognised ("name*999"). */
#define MESSAGE_PARAM_MAX_SECTION 999U
/* Most Content-Language tags kept. */
#define MESSAGE_LANGUAGES_MAX 64U

/*
 * A parameter as IMAP BODYSTRUCTURE shows it: original name case, value
 * with quoting removed. RFC 2231 continuations are already joined into one
 * parameter: "name*" holding "charset'language'percent-encoded" when any
 * section was extended, plain "name" otherwise.
 */
struct message_param {
	const char *name;
	const char *value;
};

/* A parsed Content-Type or Content-Disposition value. */
struct message_content {
	/* Content-Type: type and subtype; Content-Disposition: the
	   disposition in type, subtype NULL. Original case. */
	const char *type;
	const char *subtype;
	struct message_param *params;
	unsigned int params_count;
	/* The value was not a valid "type/subtype" (or a disposition token);
	   RFC 2045 5.2 says to treat such a Content-Type as absent. */
	bool invalid;
	/* More than MESSAGE_PARAMS_MAX_DEFAULT parameters: the rest dropped. */
	bool params_limited;
};

/*
 * Parses an unfolded Content-Type (with_subtype) or Content-Disposition
 * value into pool memory. Returns false only when the pool ran out.
 */
bool message_content_parse(struct pool *pool, const uint8_t *value, size_t len, bool with_subtype,
			   struct message_content *content_r);

/* The raw value of the first parameter called name (case-insensitive). */
const char *message_param_get(const struct message_param *params, unsigned int count,
			      const char *name);

/*
 * The value of parameter name decoded to UTF-8, for search, Sieve and file
 * names: an RFC 2231 "name*" form wins over plain "name" and has its
 * percent-encoding and charset decoded; a plain value containing RFC 2047
 * encoded words (common in the wild, though not allowed) is decoded too.
 * NULL when absent or when the pool ran out.
 */
const char *message_param_get_utf8(struct pool *pool, const struct message_param *params,
				   unsigned int count, const char *name);

/*
 * Splits an unfolded Content-Language value (RFC 3282: comma-separated
 * tags, comments allowed) into pool strings. Returns the number of tags
 * (0 when none: *langs_r is NULL) or -1 when the pool ran out.
 */
int message_content_languages(struct pool *pool, const uint8_t *value, size_t len,
			      const char ***langs_r);

#endif
