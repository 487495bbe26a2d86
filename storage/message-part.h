/*
 * MIME structure of a message held in memory: a tree of parts with header
 * and body offsets, physical and IMAP (CRLF) sizes, line counts and the
 * parsed Content-* fields, for FETCH BODYSTRUCTURE/BODY[n], SEARCH and Sieve.
 * Runs in roost-imap, roost-pop3 and roost-lda on mail from the internet:
 * depth, part count and boundary length are capped, and the malformed
 * structures found in real mail are read the way other servers read them.
 */
#ifndef ROOST_MESSAGE_PART_H
#define ROOST_MESSAGE_PART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "message-content.h"
#include "message-header.h"

struct pool;

/* Deepest nesting of multiparts and encapsulated messages that is parsed. */
#define MESSAGE_PARSE_MAX_DEPTH_DEFAULT 64U
/* Most parts in one message (every node of the tree counts). */
#define MESSAGE_PARSE_MAX_PARTS_DEFAULT 20000U
/* Longest multipart boundary accepted (RFC 2046 allows 70). */
#define MESSAGE_PARSE_MAX_BOUNDARY_DEFAULT 200U

struct message_parse_limits {
	unsigned int max_depth;
	unsigned int max_parts;
	size_t max_boundary;
	struct message_header_limits header;
};

extern const struct message_parse_limits message_parse_default_limits;

enum message_part_flags {
	/* multipart/\* with a usable boundary: children are its body parts. */
	MESSAGE_PART_FLAG_MULTIPART = 0x01,
	/* message/rfc822 or message/global: the one child is the
	   encapsulated message. */
	MESSAGE_PART_FLAG_MESSAGE = 0x02,
	/* text/\*: IMAP reports a line count. */
	MESSAGE_PART_FLAG_TEXT = 0x04,
	/* The part had no (valid) Content-Type and got the default. */
	MESSAGE_PART_FLAG_DEFAULT_TYPE = 0x08,
	/* The header ended at the end of the part, without a blank line. */
	MESSAGE_PART_FLAG_NO_BLANK_LINE = 0x10,
	/* A limit stopped parsing inside this part: its children (if any) do
	   not cover all of its body. */
	MESSAGE_PART_FLAG_LIMITED = 0x20,
	/* The multipart's closing boundary was missing. */
	MESSAGE_PART_FLAG_NO_CLOSE = 0x40,
};

enum message_cte {
	MESSAGE_CTE_7BIT = 0, /* also when Content-Transfer-Encoding is absent */
	MESSAGE_CTE_8BIT,
	MESSAGE_CTE_BINARY,
	MESSAGE_CTE_QP,
	MESSAGE_CTE_BASE64,
	/* Anything else (x-uuencode, garbage): not decodable. */
	MESSAGE_CTE_UNKNOWN,
};

/*
 * One node. Offsets are from the start of the message. "size" is physical
 * bytes; "vsize" counts each bare LF as CRLF, which is what IMAP reports.
 * A body inside a multipart excludes the line end before the next boundary
 * (RFC 2046 5.1.1). All strings are NUL-terminated pool copies in their
 * original case, NULL when the header field is absent.
 */
struct message_part {
	struct message_part *parent;
	struct message_part *children;
	struct message_part *next;
	unsigned int children_count;
	unsigned int flags;
	/* The whole message this tree was parsed from (not owned). */
	const uint8_t *msg;

	size_t header_offset;
	size_t header_size;
	size_t header_vsize;
	size_t body_offset;
	size_t body_size;
	size_t body_vsize;
	/* LFs in the body: the "size in text lines" of BODYSTRUCTURE. */
	size_t body_lines;

	/* Content-Type, or the default (text/plain; charset=us-ascii, or
	   message/rfc822 inside multipart/digest). */
	const char *type;
	const char *subtype;
	struct message_param *params;
	unsigned int params_count;
	/* The boundary parameter of a multipart. */
	const char *boundary;

	const char *content_id;
	const char *description;
	/* Content-Transfer-Encoding as written (NULL if absent), and parsed. */
	const char *encoding;
	enum message_cte cte;
	const char *md5;
	const char *location;
	/* Content-Disposition value and parameters. */
	const char *disposition;
	struct message_param *disp_params;
	unsigned int disp_params_count;
	/* Content-Language tags. */
	const char **languages;
	unsigned int languages_count;
};

enum message_parse_result {
	/* The pool ran out: there is no tree. */
	MESSAGE_PARSE_ERROR = -1,
	MESSAGE_PARSE_OK = 0,
	/* A limit was hit: the tree is usable and covers the whole message,
	   but parts marked MESSAGE_PART_FLAG_LIMITED were not split further. */
	MESSAGE_PARSE_LIMITED = 1,
};

/*
 * Parses the MIME structure of len bytes at data, which must stay mapped
 * while the tree is used; the tree lives in pool. limits may be NULL.
 * *root_r is set unless ERROR; *error_r says what went wrong for ERROR and
 * LIMITED (NULL for OK).
 */
enum message_parse_result message_parse(struct pool *pool, const uint8_t *data, size_t len,
					const struct message_parse_limits *limits,
					struct message_part **root_r, const char **error_r);

/* Case-insensitive checks of a part's type and subtype. */
bool message_part_is_type(const struct message_part *part, const char *type, const char *subtype);

/*
 * Finds the part an IMAP section number ("1", "4.2.2.1"; RFC 3501 6.4.5)
 * refers to, NULL when there is none. For a non-multipart message or
 * encapsulated message, part "1" is that message's own body part.
 */
const struct message_part *message_part_find_section(const struct message_part *root,
						     const char *section);

/* Number of nodes in the tree rooted at part. */
unsigned int message_part_count(const struct message_part *part);

/* Depth-first pre-order successor of part within the tree, or NULL. */
const struct message_part *message_part_next(const struct message_part *part);
/* The same, but NULL instead of leaving the subtree rooted at top. */
const struct message_part *message_part_next_within(const struct message_part *part,
						    const struct message_part *top);

#endif
