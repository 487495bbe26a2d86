/*
 * The one IMAP command parser: an incremental, bounded reader of client
 * commands (RFC 3501, RFC 9051, LITERAL+/LITERAL- of RFC 7888, literal8 of
 * RFC 3516), plus a small writer that always produces valid response syntax.
 * Runs in roost-login before authentication and in roost-imap after it; it
 * trusts nothing in the bytes it is fed, only the limits its caller set.
 *
 * Model. The caller reads whatever the socket has and feeds it with
 * imap_parser_parse(), which consumes bytes until it has something to say
 * (an event) or needs more input. Parsed strings are copied once into a
 * per-command arena owned by the parser; large literals can instead be
 * handed to the caller as zero-copy chunks that point into the fed bytes.
 *
 * FETCH attributes. An atom that starts with BODY, BODY.PEEK, BINARY,
 * BINARY.PEEK or BINARY.SIZE and continues with "[" keeps everything up to
 * the matching "]" (spaces, parentheses, quotes) and the following atom
 * characters (the "<0.100>" partial), so BODY[HEADER.FIELDS (A B)]<0.100>
 * arrives as one IMAP_ARG_ATOM holding exactly that text. The IMAP layer
 * parses the section and partial from the raw text. A literal inside the
 * brackets is a syntax error. Any other "[" or "]" is an ordinary atom
 * character (ASTRING-CHAR allows "]"; mailbox names may contain both).
 *
 * Line length. max_line_length counts every byte of one command except the
 * contents of its literals, including the CRLF and literal announcements.
 * A bare LF is accepted as a line end (clients send it, Dovecot accepts it);
 * a CR not followed by LF is a syntax error. Empty lines are ignored.
 */
#ifndef ROOST_IMAP_PARSER_H
#define ROOST_IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Defaults for struct imap_parser_limits (imap_parser_limits_default()). */
#define IMAP_PARSER_DEFAULT_MAX_LINE_LENGTH  (64 * 1024)
#define IMAP_PARSER_DEFAULT_MAX_LITERAL_SIZE (64 * 1024)
#define IMAP_PARSER_DEFAULT_MAX_DEPTH	     32
#define IMAP_PARSER_DEFAULT_MAX_ARGS	     8192
#define IMAP_PARSER_DEFAULT_MAX_COMMAND_SIZE (1024 * 1024)
/* RFC 7888: under LITERAL- a non-synchronizing literal may not be larger. */
#define IMAP_LITERAL_MINUS_MAX 4096

struct imap_parser_limits {
	/* Bytes of one command outside literal contents (imap_max_line_length; >= 16). */
	size_t max_line_length;
	/* Largest literal that may be buffered whole (streamed ones are exempt). */
	uint64_t max_literal_size;
	/* Deepest nesting of parenthesized lists. */
	unsigned int max_depth;
	/* Most arguments in one command, counting list items at every depth. */
	unsigned int max_args;
	/* Memory one parsed command may use (strings, buffered literals, tree). */
	size_t max_command_size;
	/*
	 * LITERAL- (RFC 7888): refuse {N+} with N > 4096 (answer BAD [TOOBIG]);
	 * the parser then skips the N bytes the client sends anyway. LITERAL-
	 * is a capability, not a syntax: "{N-}" is a syntax error either way.
	 */
	bool literal_minus;
};

enum imap_arg_type {
	IMAP_ARG_ATOM,	  /* str/len: the atom text (see FETCH attributes above) */
	IMAP_ARG_NIL,	  /* the atom NIL in any case; str is "NIL" */
	IMAP_ARG_STRING,  /* quoted string, unescaped */
	IMAP_ARG_LITERAL, /* {N}, {N+}, ~{N}, ~{N+}; see the flags */
	IMAP_ARG_LIST,	  /* parenthesized list: list/len */
};

/* The quoted string held bytes >= 0x80 (only valid with UTF8=ACCEPT). */
#define IMAP_ARG_FLAG_8BIT 0x01u
/* Literal announced as ~{N}: binary contents, may hold NULs. */
#define IMAP_ARG_FLAG_LITERAL8 0x02u
/* Literal announced with "+" (non-synchronizing). */
#define IMAP_ARG_FLAG_NONSYNC 0x04u
/* Literal contents went to the caller as IMAP_PARSE_LITERAL_DATA; str is NULL. */
#define IMAP_ARG_FLAG_STREAMED 0x08u

/*
 * One argument. Strings are NUL-terminated copies owned by the parser
 * (literal8 and streamed sizes aside, len is authoritative: literal8
 * contents may hold NULs). Lists have len items in list[].
 */
struct imap_arg {
	enum imap_arg_type type;
	uint32_t flags;
	size_t len;
	const char *str;
	const struct imap_arg *list;
};

/* A complete command. Valid until the next call into the parser. */
struct imap_command {
	const char *tag;
	const char *name; /* upper-cased command name ("UID", "FETCH", ...) */
	size_t argc;
	const struct imap_arg *args;
};

/* What the parser tells the caller: the return value of imap_parser_parse(). */
enum imap_parse_result {
	/* Every byte fed was consumed; feed more when the socket has some. */
	IMAP_PARSE_MORE,
	/* ev.cmd is a complete command. */
	IMAP_PARSE_COMMAND,
	/*
	 * A literal was announced (ev.literal). Before parsing further the
	 * caller must call imap_parser_literal_accept(), _stream() or
	 * _reject(). For a synchronizing literal (ev.literal.sync) that it
	 * accepts or streams, it then sends a continuation ("+ OK\r\n").
	 */
	IMAP_PARSE_LITERAL,
	/*
	 * Contents of a streamed literal: ev.data/ev.data_len point into the
	 * bytes the caller fed (no copy); ev.data_last marks the final chunk
	 * (a zero-size literal gives one empty final chunk).
	 */
	IMAP_PARSE_LITERAL_DATA,
	/*
	 * The current command failed (ev.error, ev.error_msg, ev.error_tag).
	 * The caller answers "TAG BAD msg" (or "* BAD msg" without a tag); the
	 * parser then skips the rest of the command by itself, including the
	 * contents of non-synchronizing literals the client will still send.
	 * When ev.error_fatal is set it cannot find the next command and the
	 * caller must close the connection after answering.
	 */
	IMAP_PARSE_ERROR,
	/* From imap_parser_read_line() only: ev.data/ev.data_len is the line. */
	IMAP_PARSE_LINE,
};

enum imap_parse_error {
	IMAP_PARSE_ERR_NONE,
	IMAP_PARSE_ERR_SYNTAX,		  /* BAD: malformed command */
	IMAP_PARSE_ERR_LINE_TOO_LONG,	  /* max_line_length exceeded */
	IMAP_PARSE_ERR_LITERAL_TOO_LARGE, /* over max_literal_size, 2^63-1 or LITERAL- */
	IMAP_PARSE_ERR_NESTING_TOO_DEEP,  /* max_depth exceeded */
	IMAP_PARSE_ERR_TOO_MANY_ARGS,	  /* max_args exceeded */
	IMAP_PARSE_ERR_TOO_LARGE,	  /* max_command_size exceeded */
};

struct imap_literal_info {
	uint64_t size;
	bool sync;			 /* {N}: the client waits for a continuation */
	bool binary;			 /* ~{N} literal8 */
	bool over_limit;		 /* size > max_literal_size: cannot be buffered */
	const char *tag;		 /* the command so far ... */
	const char *name;		 /* ... (upper-cased) */
	unsigned int depth;		 /* list nesting of the literal (0 = top level) */
	size_t index;			 /* its position in that list (or the command) */
	const struct imap_arg *prev;	 /* the argument before it in that list, or NULL */
	const struct imap_arg *top_args; /* completed top-level arguments before it */
	size_t top_argc;
};

/* Filled by imap_parser_parse(); pointers are valid until the next call. */
struct imap_parse_event {
	const struct imap_command *cmd;
	struct imap_literal_info literal;
	const uint8_t *data;
	size_t data_len;
	bool data_last;
	enum imap_parse_error error;
	const char *error_msg; /* fixed text, never client bytes */
	const char *error_tag; /* NULL when the tag itself was unusable */
	bool error_fatal;
};

struct imap_parser;

/* Fills *limits_r with the defaults above. */
void imap_parser_limits_default(struct imap_parser_limits *limits_r);

/* Creates a parser for one connection; limits are copied. */
struct imap_parser *imap_parser_create(const struct imap_parser_limits *limits);
/* Frees the parser and everything it handed out; sets *parser to NULL. */
void imap_parser_destroy(struct imap_parser **parser);

/*
 * Feeds size bytes and runs until an event or until the bytes are used up.
 * *consumed_r tells how many bytes were used; the caller keeps the rest and
 * feeds them again on the next call (events can be pending with size 0, so
 * call again after every event, even with no new input). At most one event
 * is reported per call. Never fails hard: every problem is an event.
 */
enum imap_parse_result imap_parser_parse(struct imap_parser *parser, const void *data, size_t size,
					 size_t *consumed_r, struct imap_parse_event *ev_r);

/*
 * Answers to IMAP_PARSE_LITERAL. accept: the contents are buffered into the
 * argument; returns false (and the next parse call reports
 * IMAP_PARSE_ERR_LITERAL_TOO_LARGE) when the literal is over_limit, in which
 * case the caller must not send a continuation. stream: the contents come as
 * IMAP_PARSE_LITERAL_DATA events, whatever their size (the caller enforces
 * its own limit, e.g. APPENDLIMIT). reject: the caller has already answered
 * the command with a tagged NO/BAD; the parser drops the command (and skips
 * the literal's contents if it was non-synchronizing).
 */
bool imap_parser_literal_accept(struct imap_parser *parser);
void imap_parser_literal_stream(struct imap_parser *parser);
void imap_parser_literal_reject(struct imap_parser *parser);

/*
 * Reads one raw text line instead of a command (AUTHENTICATE responses,
 * IDLE's DONE). Only valid between commands. Returns IMAP_PARSE_LINE with
 * the line (CRLF or LF removed, NUL-terminated, may contain NULs), MORE, or
 * ERROR (LINE_TOO_LONG; the rest of that line is then skipped).
 */
enum imap_parse_result imap_parser_read_line(struct imap_parser *parser, const void *data,
					     size_t size, size_t *consumed_r,
					     struct imap_parse_event *ev_r);

/* True between commands (no partial command buffered). */
bool imap_parser_is_idle(const struct imap_parser *parser);

/* Short English name of an error category, e.g. "line too long". */
const char *imap_parse_error_name(enum imap_parse_error error);

/*
 * Argument accessors: each returns false when the argument has another
 * type. "string" is quoted or buffered literal; "astring" adds atoms (NIL
 * counts as the atom "NIL"); "nstring" is string or NIL (then *str_r is NULL).
 */
/* Atoms include NIL here (it is an atom lexically). */
bool imap_arg_get_atom(const struct imap_arg *arg, const char **str_r);
bool imap_arg_get_string(const struct imap_arg *arg, const char **str_r, size_t *len_r);
bool imap_arg_get_astring(const struct imap_arg *arg, const char **str_r, size_t *len_r);
bool imap_arg_get_nstring(const struct imap_arg *arg, const char **str_r, size_t *len_r);
bool imap_arg_get_list(const struct imap_arg *arg, const struct imap_arg **list_r, size_t *count_r);
/* True when arg is an atom equal to name, ignoring ASCII case. */
bool imap_arg_atom_equals(const struct imap_arg *arg, const char *name);

/*
 * Writer. Every function appends valid IMAP syntax to out and returns false
 * when out's maximum was hit (out may then hold a partial token: the caller
 * drops the response). IMAP_WRITE_UTF8 allows 8-bit bytes in quoted strings
 * (after ENABLE UTF8=ACCEPT); without it they force a literal.
 */
#define IMAP_WRITE_UTF8 0x01u
/* A plain atom when safe (never for "NIL" or ""), else quoted, else literal. */
bool imap_write_astring(struct buf *out, const void *data, size_t len, unsigned int flags);
/* Quoted when it may be, else a literal; NULs become 0x80 (CHAR8 has no NUL). */
bool imap_write_string(struct buf *out, const void *data, size_t len, unsigned int flags);
/* NIL when data is NULL, else as imap_write_string(). */
bool imap_write_nstring(struct buf *out, const void *data, size_t len, unsigned int flags);
/* "{N}\r\n" (or "~{N}\r\n" when binary) for contents the caller streams next. */
bool imap_write_literal_header(struct buf *out, uint64_t size, bool binary);
/*
 * Writes arguments back in canonical IMAP syntax, separated by spaces:
 * atoms as they came, strings quoted or as literals, literal8 as ~{N},
 * lists in parentheses. A streamed literal (no contents) is written as
 * "{N}" with no data, which is for logs only. Parsing the output again
 * gives the same arguments.
 */
bool imap_args_write(struct buf *out, const struct imap_arg *args, size_t count,
		     unsigned int flags);
/*
 * Human-readable resp-text: CR, LF, NUL and other controls become spaces so
 * that client-supplied text can never end a response line early.
 */
bool imap_write_text(struct buf *out, const void *data, size_t len);

#endif
