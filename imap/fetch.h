/*
 * FETCH for roost-imap (RFC 3501 6.4.5, RFC 9051 6.4.5, RFC 3516 BINARY,
 * RFC 7162 MODSEQ/CHANGEDSINCE/VANISHED): the parsed form of a client's
 * fetch attributes, the ids of the values FETCH keeps in the mailbox cache,
 * and the engine that writes FETCH responses (also used by SELECT QRESYNC).
 * The attribute text comes from an authenticated but untrusted client; every
 * count and length in it is bounded here.
 */
#ifndef ROOST_IMAP_FETCH_H
#define ROOST_IMAP_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "imap-parser.h"
#include "imap-seqset.h"

/* Limits on one FETCH command. */
#define FETCH_MAX_SECTIONS	 128  /* BODY[...] / BINARY[...] items */
#define FETCH_MAX_HEADER_FIELDS	 1024 /* names in one HEADER.FIELDS list */
#define FETCH_MAX_FIELD_NAME	 256  /* bytes of one header field name */
#define FETCH_MAX_PART_DEPTH	 64   /* numbers in one section part ("1.2.3") */
#define FETCH_MAX_SECTION_TEXT	 (64 * 1024)
#define FETCH_REQUEST_POOL_LIMIT (1024 * 1024)

/*
 * Values FETCH keeps in the mailbox cache (mailbox_cache_lookup/add). The
 * ids are part of the cache file format: never renumber one, only add.
 * ENVELOPE, BODY and BODYSTRUCTURE are stored exactly as sent without
 * UTF8=ACCEPT. FETCH_CACHE_HEADERS holds the fields of fetch_cache_headers[]
 * found in the message header, in message order, as records of one byte
 * (index into that table), a 32-bit little-endian length and the field's
 * lines with CRLF line ends.
 */
enum fetch_cache_field {
	FETCH_CACHE_ENVELOPE = 0x0101,
	FETCH_CACHE_BODY = 0x0102,
	FETCH_CACHE_BODYSTRUCTURE = 0x0103,
	FETCH_CACHE_HEADERS = 0x0104,
	FETCH_CACHE_BINARY_SIZE = 0x0105, /* unused so far; reserved */
	FETCH_CACHE_PREVIEW = 0x0106,	  /* the PREVIEW text, UTF-8 */
};

/* The header fields kept in FETCH_CACHE_HEADERS (what mail clients list in
   BODY.PEEK[HEADER.FIELDS (...)] for their message lists). */
extern const char *const fetch_cache_headers[];
extern const unsigned int fetch_cache_headers_count;
/* Index of name (case-insensitive) in fetch_cache_headers, or -1. */
int fetch_cache_header_index(const char *name, size_t len);

/* Message data items that need no section. */
enum fetch_item {
	FETCH_ITEM_FLAGS = 0x001,
	FETCH_ITEM_INTERNALDATE = 0x002,
	FETCH_ITEM_RFC822_SIZE = 0x004,
	FETCH_ITEM_UID = 0x008,
	FETCH_ITEM_ENVELOPE = 0x010,
	FETCH_ITEM_BODY = 0x020,
	FETCH_ITEM_BODYSTRUCTURE = 0x040,
	FETCH_ITEM_MODSEQ = 0x080,
	FETCH_ITEM_PREVIEW = 0x100, /* RFC 8970 */
};

/* PREVIEW text: at most this many characters, from at most this many
   bytes of the chosen part's body. */
#define FETCH_PREVIEW_CHARS	200
#define FETCH_PREVIEW_INPUT_MAX (16 * 1024)

enum fetch_section_text {
	FETCH_TEXT_NONE,	      /* BODY[] or BODY[1.2]: the part's content */
	FETCH_TEXT_HEADER,	      /* [HEADER], [1.HEADER] */
	FETCH_TEXT_HEADER_FIELDS,     /* [HEADER.FIELDS (...)] */
	FETCH_TEXT_HEADER_FIELDS_NOT, /* [HEADER.FIELDS.NOT (...)] */
	FETCH_TEXT_TEXT,	      /* [TEXT], [1.TEXT] */
	FETCH_TEXT_MIME,	      /* [1.MIME] */
};

enum fetch_section_kind {
	FETCH_KIND_BODY,	/* BODY[...] (also RFC822, RFC822.HEADER, RFC822.TEXT) */
	FETCH_KIND_BINARY,	/* BINARY[...] */
	FETCH_KIND_BINARY_SIZE, /* BINARY.SIZE[...] */
};

/* One BODY[section]<partial>-like item. Strings live in the request's pool. */
struct fetch_section {
	enum fetch_section_kind kind;
	bool peek; /* .PEEK, or RFC822.HEADER: never sets \Seen */
	/* "1.2.3", or "" for the whole message. */
	const char *part;
	enum fetch_section_text text;
	/* HEADER.FIELDS[.NOT] names, upper-cased. cacheable: a top-level
	   HEADER.FIELDS whose names are all in fetch_cache_headers, so the
	   cache can answer it; cached_mask has their bits (bit i = entry i). */
	const char **fields;
	size_t field_count;
	bool cacheable;
	uint64_t cached_mask;
	bool partial;
	uint64_t partial_offset;
	uint64_t partial_size;
	/* The item's name in the response, without the "<origin>":
	   "BODY[1.HEADER.FIELDS (FROM TO)]", "BINARY[2]", "RFC822.TEXT". */
	const char *name;
	/* Counts as a header fetch in the logout line (hdr_count). */
	bool header_only;
};

struct fetch_request {
	struct pool *pool;
	unsigned int items; /* enum fetch_item */
	/* Section items in the order the client listed them. Responses list
	   the other items first, in a fixed order, then these. */
	struct fetch_section *sections;
	size_t section_count;
	/* Any section without .PEEK (sets \Seen). */
	bool sets_seen;
	/* CHANGEDSINCE modifier (RFC 7162 3.1.4) and VANISHED (3.2.6). */
	bool changedsince_set;
	uint64_t changedsince;
	bool vanished;
};

/*
 * Parses FETCH's arguments after the sequence set: a macro (ALL, FAST,
 * FULL), one attribute or a list of them, then an optional list of
 * modifiers (CHANGEDSINCE n, VANISHED). On success req owns a pool (free
 * with fetch_request_free). False with *error_r (a fixed English text for a
 * BAD reply) on any syntax error or limit; req is then already freed.
 */
bool fetch_request_parse(struct fetch_request *req, const struct imap_arg *args, size_t argc,
			 const char **error_r);
void fetch_request_free(struct fetch_request *req);

/*
 * Parses the text of one section attribute as lib/imap-parser hands it over
 * ("BODY.PEEK[1.HEADER.FIELDS (A B)]<0.100>") into *section_r. Strings go
 * into pool. False with *error_r on a syntax error or limit.
 */
bool fetch_section_parse(struct pool *pool, const char *text, size_t len,
			 struct fetch_section *section_r, const char **error_r);

/* ---- fetch-body.c: the bytes of a section, from a message in memory ---- */

struct message_part;
struct message_decoder;

/*
 * A section's content as a list of slices of the message, each copied as is
 * or with bare LFs turned into CRLF, or transfer-decoded (BINARY), or bytes
 * built in memory. Built over a message that stays mapped while the content
 * is written, so a large body is never copied whole.
 */
enum fetch_slice_mode {
	FETCH_SLICE_CRLF,   /* message bytes; a bare LF becomes CRLF */
	FETCH_SLICE_DECODE, /* message bytes, transfer-decoded (cte) */
	FETCH_SLICE_MEM,    /* bytes of content->mem from offset mem_off */
};

struct fetch_slice {
	enum fetch_slice_mode mode;
	int cte; /* enum message_cte for DECODE */
	const uint8_t *data;
	size_t len;
	size_t mem_off;
	uint64_t out_size; /* bytes this slice produces */
};

struct fetch_content {
	struct fetch_slice *slices;
	size_t count;
	size_t alloc;
	/* Bytes built in memory (selected header fields, rewritten header
	   lines) for MEM slices. */
	struct buf mem;
	uint64_t size; /* total bytes produced */
};

enum fetch_content_result {
	FETCH_CONTENT_OK,
	FETCH_CONTENT_UNKNOWN_CTE, /* BINARY of a part we cannot decode */
	FETCH_CONTENT_LIMIT,	   /* the built bytes would be too large */
};

void fetch_content_init(struct fetch_content *content);
/* Empties content for reuse (keeps nothing the next build could see). */
void fetch_content_reset(struct fetch_content *content);
void fetch_content_free(struct fetch_content *content);

/*
 * Whether a BINARY content must go out as a literal8 (~{n}): it was
 * decoded from base64, quoted-printable or binary, or holds a NUL.
 */
bool fetch_content_is_binary(const struct fetch_content *content);

/* Whether section can be answered without parsing the MIME structure. */
bool fetch_section_needs_parse(const struct fetch_section *section);

/*
 * Fills content with what section selects from the message msg (len
 * bytes; root is its parsed MIME tree, or may be NULL when
 * fetch_section_needs_parse() says so). A section naming a part that does
 * not exist, or HEADER/TEXT of a part that is not a message, gives empty
 * content, as other servers answer. Partial ranges are the writer's job.
 */
enum fetch_content_result fetch_content_build(struct fetch_content *content,
					      const struct fetch_section *section,
					      const uint8_t *msg, size_t len,
					      const struct message_part *root);

/*
 * The PREVIEW (RFC 8970) of a parsed message into out: the first text/plain
 * part (else the first text/html one, tags dropped), decoded to UTF-8, its
 * white space collapsed, cut to FETCH_PREVIEW_CHARS characters. Empty when
 * the message has no decodable text. False when out's maximum was hit.
 */
bool fetch_preview_build(const struct message_part *root, struct buf *out);

/*
 * Fills content with the cached header fields of mask (a HEADER.FIELDS
 * section with cacheable set) from a FETCH_CACHE_HEADERS value; false if
 * the value is malformed.
 */
bool fetch_content_from_cache_headers(struct fetch_content *content, const uint8_t *value,
				      size_t len, uint64_t mask);

/*
 * Writes a content in pieces: output bytes [start, start + count) (clipped
 * to the content's size), resumable across event-loop rounds. Decoding
 * state is kept between calls, so streaming stays linear.
 */
struct fetch_writer {
	const struct fetch_content *content;
	uint64_t skip; /* output bytes still to drop */
	uint64_t left; /* output bytes still to emit */
	size_t slice;  /* current slice */
	size_t in_pos; /* input consumed in it */
	bool prev_cr;  /* CRLF slices: the last input byte was a CR */
	bool dec_active;
	struct message_decoder *dec;
	struct buf pending; /* produced, not yet emitted */
	size_t pending_pos;
};

void fetch_writer_init(struct fetch_writer *w, const struct fetch_content *content, uint64_t start,
		       uint64_t count);
/* Appends up to max more bytes to out; false once everything was written. */
bool fetch_writer_write(struct fetch_writer *w, struct buf *out, size_t max);
void fetch_writer_deinit(struct fetch_writer *w);

/*
 * The header fields named (HEADER.FIELDS) or not named (.NOT) from the
 * header block at hdr (len bytes, the header only or the whole message),
 * in message order, with CRLF line ends and the terminating blank line,
 * appended to out. False when a header limit or out's maximum was hit.
 */
bool fetch_header_fields(const uint8_t *hdr, size_t len, const char *const *fields,
			 size_t field_count, bool not, struct buf *out);

/*
 * Builds the FETCH_CACHE_HEADERS value for a header block (see above);
 * false when a header limit or out's maximum was hit.
 */
bool fetch_cache_headers_build(const uint8_t *hdr, size_t len, struct buf *out);
/*
 * Selects from a FETCH_CACHE_HEADERS value the fields whose table bits are
 * in mask, in message order, with the terminating blank line, into out.
 * False when the value is malformed (the caller reads the message instead).
 */
bool fetch_cache_headers_select(const uint8_t *value, size_t len, uint64_t mask, struct buf *out);

#endif
