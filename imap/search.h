/*
 * Searching and ordering in roost-imap: the SEARCH program (RFC 3501 6.4.4,
 * RFC 9051 6.4.4, RFC 7162 MODSEQ, RFC 5032 WITHIN), its matcher over one
 * message at a time, the case folding shared with SORT and THREAD, and the
 * header fields this area keeps in the mailbox cache. Runs in roost-imap on
 * arguments from an authenticated but untrusted client and on untrusted
 * messages; nothing here depends on the session, so the fuzz harnesses can
 * drive it against messages held in memory.
 */
#ifndef ROOST_IMAP_SEARCH_H
#define ROOST_IMAP_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "imap-parser.h"
#include "imap-seqset.h"

struct pool;
struct message_part;
struct search_mail;

/* Defaults of imap_search_max_depth and imap_search_max_keys. */
#define SEARCH_DEFAULT_MAX_DEPTH 32
#define SEARCH_DEFAULT_MAX_KEYS	 1000

/* The charsets SEARCH, SORT and THREAD accept, as BADCHARSET lists them. */
#define SEARCH_CHARSETS "UTF-8 US-ASCII"

/*
 * Cache field ids of this area (0x0200-0x02ff; the FETCH helper uses other
 * ranges). HEADERS holds the standard fields below for every message that
 * was searched, sorted or threaded; a HEADER search on any other field name
 * caches that field under NAMED_FIRST + a hash of the name, with the name
 * inside the value so a collision only costs a re-read.
 */
#define SEARCH_CACHE_FIELD_HEADERS 0x0200
/* Where the header blocks and text parts of a message are (search-body.c),
   so BODY and TEXT need no MIME parsing and read only up to the last text. */
#define SEARCH_CACHE_FIELD_LAYOUT      0x0201
#define SEARCH_CACHE_FIELD_NAMED_FIRST 0x0280
#define SEARCH_CACHE_FIELD_NAMED_COUNT 127
/* Header blobs larger than this are not cached (searched from the file). */
#define SEARCH_CACHE_BLOB_MAX (256U * 1024)

/* ---- case folding (search-fold.c) ---- */

/*
 * Appends the folded form of len bytes of UTF-8 text to out: every character
 * mapped to its titlecase form and canonically decomposed (RFC 5051
 * i;unicode-casemap, Basic Multilingual Plane; ASCII letters become upper
 * case). Invalid UTF-8 becomes U+FFFD. Folded strings compare with memcmp()
 * in i;ascii-casemap order for ASCII, and a folded needle occurs in a folded
 * haystack exactly when the texts match case-insensitively. False when out's
 * maximum was reached.
 */
bool search_fold(const uint8_t *in, size_t len, struct buf *out);

/*
 * Incremental substring search of several folded needles over folded text
 * fed in pieces of any size: text is folded here as it arrives and only the
 * tail a match could still start in is kept, so memory stays bounded for
 * any text size.
 */
struct search_finder {
	const uint8_t *const *needles;
	const size_t *needle_lens;
	size_t count;
	/* found[i]: needle i occurred; remaining counts those not found yet. */
	bool *found;
	size_t remaining;
	size_t max_len;
	struct buf window;
	/* Bytes of an incomplete UTF-8 sequence at the end of the last piece. */
	uint8_t partial[4];
	size_t partial_len;
};

/* Starts a finder over count needles; found (count entries) is cleared. */
void search_finder_init(struct search_finder *finder, const uint8_t *const *needles,
			const size_t *needle_lens, bool *found, size_t count);
/* Feeds raw UTF-8 text; returns false once every needle was found. */
bool search_finder_feed(struct search_finder *finder, const uint8_t *text, size_t len);
/* Ends a segment: text fed later cannot form a match with earlier text. */
void search_finder_break(struct search_finder *finder);
void search_finder_deinit(struct search_finder *finder);

/* ---- header fields (search-headers.c) ---- */

/* The header fields kept in the HEADERS cache field. */
enum search_hdr {
	SEARCH_HDR_FROM,
	SEARCH_HDR_TO,
	SEARCH_HDR_CC,
	SEARCH_HDR_BCC,
	SEARCH_HDR_SUBJECT,
	SEARCH_HDR_DATE,
	SEARCH_HDR_MESSAGE_ID,
	SEARCH_HDR_IN_REPLY_TO,
	SEARCH_HDR_REFERENCES,
	SEARCH_HDR_REPLY_TO,
	SEARCH_HDR_SENDER,
	SEARCH_HDR_COUNT,
};
/* The id of the values in a blob built for one named field. */
#define SEARCH_HDR_NAMED 0xff

/* The standard field called name (any case), or -1. */
int search_hdr_lookup(const char *name, size_t len);

/*
 * Builds the blob of the standard fields (named == NULL) or of the field
 * called named (lower case) from the header block at the start of msg: a
 * version byte, for a named blob the name, then each value (unfolded, as
 * written, in header order) with its id and length. False when out's
 * maximum was reached.
 */
bool search_hdr_build(const uint8_t *msg, size_t len, const char *named, struct buf *out);
/* Whether a blob (from the cache: untrusted) was built for named (NULL: standard). */
bool search_hdr_blob_is(const uint8_t *blob, size_t len, const char *named);

/* Walks the values of one id in a blob; stops at anything malformed. */
struct search_hdr_iter {
	struct cursor c;
	uint8_t id;
};
void search_hdr_iter_init(struct search_hdr_iter *iter, const uint8_t *blob, size_t len,
			  uint8_t id);
bool search_hdr_iter_next(struct search_hdr_iter *iter, const uint8_t **value_r, size_t *len_r);
/* The first value of id, false if none. */
bool search_hdr_first(const uint8_t *blob, size_t len, uint8_t id, const uint8_t **value_r,
		      size_t *len_r);

/*
 * The sent date of a Date: value (RFC 5322 with the obsolete forms): false
 * when it cannot be read. *tz_r is the zone in minutes east of UTC.
 */
bool search_hdr_date(const uint8_t *value, size_t len, time_t *time_r, int *tz_r);

/* ---- the text BODY and TEXT look at (search-body.c) ---- */

/* A header block or a text part of a message, as BODY and TEXT see it. */
struct search_segment {
	bool text;   /* a text part's body (else a header block) */
	uint8_t cte; /* enum message_cte */
	/* The charset of a text part that is not plain UTF-8 (US-ASCII,
	   UTF-8 or none), else NULL. */
	const char *charset;
	size_t offset;
	size_t size;
};

/* Scratch space reused from message to message. */
struct search_body {
	struct pool *pool; /* the current message's MIME tree and layout */
	const uint8_t *msg;
	size_t len;
	struct search_segment *segments;
	size_t count;
	struct buf decoded;
	struct buf header;
	struct buf layout;
};

void search_body_init(struct search_body *sb);
void search_body_deinit(struct search_body *sb);
/*
 * Finds the header blocks and text parts of the message: from the cached
 * layout when there is one (then only the bytes up to the last of them are
 * read), else by parsing the MIME structure, and caching the layout found.
 * False when the message could not be read (mail->failed).
 */
bool search_body_load(struct search_body *sb, struct search_mail *mail);
/*
 * Feeds a header block (data..len) to the finder as "Name: value" lines
 * with RFC 2047 words decoded, as one segment. False once every needle was
 * found.
 */
bool search_body_feed_header(struct search_body *sb, const uint8_t *data, size_t len,
			     struct search_finder *finder);
/* Feeds every header block of the loaded message: its own, each MIME
   part's, each encapsulated message's (what TEXT adds to BODY). */
bool search_body_feed_headers(struct search_body *sb, struct search_finder *finder);
/*
 * Feeds the text of every text part of the loaded message (transfer- and
 * charset-decoded when it is not plain UTF-8 already), each as its own
 * segment: what BODY looks at. Other parts and multipart preambles are not
 * text. False once every needle was found.
 */
bool search_body_feed_texts(struct search_body *sb, struct search_finder *finder);

/* ---- one message, as the matcher, SORT and THREAD see it (search-mail.c) ---- */

/*
 * Where a message's data comes from: the mailbox (cmd-search.c) or memory
 * (the fuzz harness, unit tests). Pointers returned stay valid until the
 * next call of the same source. cache_lookup and cache_add may be NULL.
 */
struct search_source {
	bool (*internal_date)(void *ctx, uint32_t seq, int64_t *date_r);
	bool (*read)(void *ctx, uint32_t seq, const uint8_t **data_r, size_t *len_r);
	/* Optional: at least the first min_len bytes (or the whole message
	   when it is shorter); *complete_r says the whole message was read. */
	bool (*read_prefix)(void *ctx, uint32_t seq, size_t min_len, const uint8_t **data_r,
			    size_t *len_r, bool *complete_r);
	bool (*cache_lookup)(void *ctx, uint32_t seq, uint16_t field, const uint8_t **data_r,
			     size_t *len_r);
	void (*cache_add)(void *ctx, uint32_t seq, uint16_t field, const void *data, size_t len);
	void *ctx;
};

/*
 * The message being looked at. The caller fills seq..modseq; the rest is
 * loaded on demand through the source and reused for the next message
 * (search_mail_set resets it).
 */
struct search_mail {
	const struct search_source *src;
	uint32_t seq;
	uint32_t uid;
	uint32_t flags; /* MAIL_* with MAIL_RECENT */
	uint32_t keywords;
	uint64_t size; /* RFC822.SIZE */
	uint64_t modseq;

	/* Set when the message could not be read (expunged meanwhile, I/O
	   error): it then matches nothing. */
	bool failed;

	/* Loaded state (private); serial changes with every reset. */
	uint64_t serial;
	bool have_date, have_std, have_msg;
	/* have_msg: msg holds the whole message, or only a prefix of it. */
	bool msg_complete;
	int64_t internal_date;
	const uint8_t *msg;
	size_t msg_len;
	struct buf std;
	struct buf named;
	char named_name[128];
};

void search_mail_init(struct search_mail *mail, const struct search_source *src);
/* Starts on another message; the record fields are then set by the caller. */
void search_mail_reset(struct search_mail *mail, uint32_t seq);
void search_mail_deinit(struct search_mail *mail);

bool search_mail_internal_date(struct search_mail *mail, int64_t *date_r);
/* The whole message. */
bool search_mail_message(struct search_mail *mail, const uint8_t **data_r, size_t *len_r);
/* At least the first min_len bytes of the message (all of it when it is
   shorter); *len_r may be less than min_len only at the message's end. */
bool search_mail_message_prefix(struct search_mail *mail, size_t min_len, const uint8_t **data_r,
				size_t *len_r);
/* The standard header blob (cached). */
bool search_mail_std_headers(struct search_mail *mail, const uint8_t **blob_r, size_t *len_r);
/*
 * A blob with the values of the field lname (lower case): the standard one
 * when it is a standard field (ids as enum search_hdr), else a named blob
 * (id SEARCH_HDR_NAMED). *id_r says which id to iterate.
 */
bool search_mail_header(struct search_mail *mail, const char *lname, const uint8_t **blob_r,
			size_t *len_r, uint8_t *id_r);

/* ---- the SEARCH program (search-parse.c) ---- */

enum search_key_type {
	SEARCH_KEY_ALL,
	SEARCH_KEY_NONE, /* matches nothing (an unknown KEYWORD) */
	SEARCH_KEY_AND,
	SEARCH_KEY_OR,
	SEARCH_KEY_NOT,
	SEARCH_KEY_SEQSET, /* message numbers (set may be "$") */
	SEARCH_KEY_UIDSET, /* UIDs (set may be "$") */
	SEARCH_KEY_FLAG,   /* u.flag set (MAIL_* or MAIL_RECENT) */
	SEARCH_KEY_KEYWORD,
	SEARCH_KEY_LARGER,
	SEARCH_KEY_SMALLER,
	SEARCH_KEY_BEFORE, /* internal date, by day */
	SEARCH_KEY_ON,
	SEARCH_KEY_SINCE,
	SEARCH_KEY_SENTBEFORE, /* Date: header, by day in its own zone */
	SEARCH_KEY_SENTON,
	SEARCH_KEY_SENTSINCE,
	SEARCH_KEY_OLDER, /* internal date at or before u.number (seconds) */
	SEARCH_KEY_YOUNGER,
	SEARCH_KEY_MODSEQ,
	SEARCH_KEY_HEADER, /* FROM TO CC BCC SUBJECT HEADER */
	SEARCH_KEY_BODY,
	SEARCH_KEY_TEXT,
};

struct search_key {
	enum search_key_type type;
	/* AND/OR: children (two or more for OR); NOT: one child. */
	struct search_key *children;
	struct search_key *next;
	union {
		uint32_t flag;
		unsigned int keyword; /* index in the mailbox */
		uint64_t number;      /* sizes, seconds, modseq */
		int64_t day;	      /* days since the epoch */
		struct imap_seqset set;
	} u;
	/* HEADER: the lower-case field name; for every text key the folded
	   string looked for. */
	const char *header;
	const uint8_t *needle;
	size_t needle_len;
	/* Index of a BODY/TEXT key among the program's body keys. */
	unsigned int body_index;
	/* SEQSET/UIDSET keys are chained here so their sets are freed even
	   when parsing failed halfway. */
	struct search_key *next_set;
};

struct search_program {
	struct search_key *root; /* an AND of the top-level keys */
	/* MODSEQ was used: the response carries the highest modseq. */
	bool modseq;
	/* "$" was used (RFC 5182). */
	bool uses_saved;
	unsigned int key_count;
	/* The BODY and TEXT keys in body_index order. */
	struct search_key **body_keys;
	/* Every SEQSET/UIDSET key (search_program_free frees their sets). */
	struct search_key *sets;
	unsigned int body_key_count;
};

struct search_parse_params {
	unsigned int max_depth; /* 0 = default */
	unsigned int max_keys;	/* 0 = default */
	/* SEARCH: the program may start with CHARSET name. */
	bool charset_prefix;
	/* UTF8=ACCEPT is enabled: CHARSET is a BAD (RFC 6855 3). */
	bool utf8_accept;
	/* Keyword index of name, or -1 (may be NULL: no keywords). */
	int (*keyword_lookup)(void *ctx, const char *name);
	void *ctx;
	/* "now" for OLDER and YOUNGER. */
	time_t now;
};

enum search_parse_result {
	SEARCH_PARSE_OK,
	SEARCH_PARSE_BAD,	 /* tagged BAD error */
	SEARCH_PARSE_BADCHARSET, /* tagged NO [BADCHARSET (UTF-8 US-ASCII)] error */
	SEARCH_PARSE_LIMIT,	 /* tagged BAD [LIMIT] error: too complex */
};

/*
 * Parses argc arguments as a search program into pool memory. *error_r is a
 * fixed English text (never client bytes) for the response. The keys of
 * the program are reordered so that cheap ones are tried first.
 */
enum search_parse_result search_program_parse(struct pool *pool, const struct imap_arg *args,
					      size_t argc, const struct search_parse_params *params,
					      struct search_program *prog_r, const char **error_r);

/* Whether SORT/THREAD may use this charset; false means BADCHARSET. */
bool search_charset_is_supported(const char *name);

/* Result options of SEARCH RETURN (RFC 4731, RFC 5182) and ESORT. */
enum search_return {
	SEARCH_RETURN_MIN = 0x01,
	SEARCH_RETURN_MAX = 0x02,
	SEARCH_RETURN_ALL = 0x04,
	SEARCH_RETURN_COUNT = 0x08,
	SEARCH_RETURN_SAVE = 0x10,
};
/* Parses the list after RETURN; an empty list means ALL. */
bool search_return_parse(const struct imap_arg *list, size_t count, unsigned int *opts_r,
			 const char **error_r);

/* ---- matching (search-match.c) ---- */

/*
 * State for matching a program against many messages: scratch buffers and
 * the message parser's pool, reused from message to message.
 */
struct search_matcher;

struct search_matcher *search_matcher_create(const struct search_program *prog);
void search_matcher_destroy(struct search_matcher **matcher);
/*
 * Whether the message matches. Sequence sets must have been resolved with
 * search_program_resolve_sets() first. A message that cannot be read sets
 * mail->failed and does not match.
 */
bool search_matcher_match(struct search_matcher *matcher, struct search_mail *mail);

/*
 * Resolves every sequence set of the program: resolve(ctx, key) turns
 * key->u.set into the normalized set of sequence numbers or UIDs it stands
 * for, in place. False (with *error_r) stops at the first failure.
 */
bool search_program_resolve_sets(struct search_program *prog,
				 bool (*resolve)(void *ctx, struct search_key *key,
						 const char **error_r),
				 void *ctx, const char **error_r);
/* Frees the sets the program's keys hold (the keys are pool memory). */
void search_program_free(struct search_program *prog);

/* Appends n in decimal (responses list thousands of numbers: no printf). */
static inline bool search_append_uint(struct buf *out, uint32_t n)
{
	char digits[10];
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n != 0);
	return buf_append(out, digits + i, sizeof(digits) - i);
}

/* Days since the epoch of a time in the server's local zone. */
int64_t search_local_day(int64_t t);

#endif
