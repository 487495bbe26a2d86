/*
 * Incremental IMAP command parser and response writer (see imap-parser.h).
 * Runs in roost-login and roost-imap on bytes straight from the client: every
 * byte goes through one state machine that checks the caller's limits before
 * it stores anything, and every failure leaves the parser able to find the
 * start of the next command.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap-parser.h"
#include "log.h"
#include "pool.h"
#include "xalloc.h"

/* Largest literal size RFC 9051 allows (number64). */
#define LITERAL_SIZE_MAX ((uint64_t)INT64_MAX)

enum pstate {
	ST_LINE_START,	 /* before the tag (empty lines are skipped here) */
	ST_TAG,		 /* inside the tag */
	ST_NAME_START,	 /* after "tag SP" */
	ST_NAME,	 /* inside the command name */
	ST_ARG_START,	 /* expecting an argument, ")" or the end of the line */
	ST_AFTER_ARG,	 /* after an argument: SP, ")" or the end of the line */
	ST_ATOM,	 /* inside an atom */
	ST_ATOM_BRACKET, /* inside the [...] of a FETCH attribute atom */
	ST_QUOTED,	 /* inside a quoted string */
	ST_QUOTED_ESC,	 /* after a backslash in a quoted string */
	ST_TILDE,	 /* "~" at an argument start: literal8 or atom */
	ST_LIT_SIZE,	 /* after "{": digits */
	ST_LIT_PLUS,	 /* after "{N+": expecting "}" */
	ST_LIT_CLOSE,	 /* after "}": expecting CRLF */
	ST_LIT_CR,	 /* after "}" CR: expecting LF */
	ST_LIT_WAIT,	 /* literal reported; waiting for the caller's answer */
	ST_LIT_DATA,	 /* copying a buffered literal */
	ST_LIT_STREAM,	 /* handing a streamed literal to the caller */
	ST_EOL_CR,	 /* CR at the end of the line: expecting LF */
	ST_SKIP,	 /* resynchronising after an error or a rejection */
	ST_LINE,	 /* imap_parser_read_line(): inside the line */
	ST_FATAL,	 /* the stream cannot be resynchronised */
};

/* The resynchronisation scanner: looks for the line end and literals. */
enum skip_state {
	SK_NORMAL,
	SK_BRACE,   /* after "{" and maybe digits */
	SK_PLUS,    /* after "{N+" */
	SK_CLOSE,   /* after "{N}" or "{N+}" */
	SK_CR,	    /* after "{N}" CR */
	SK_LITERAL, /* skipping sk_left bytes of literal contents */
};

/* How far an error reaches into the input that follows. */
enum skip_mode {
	SKIP_LINE,    /* skip from the current byte to the end of the line */
	SKIP_NONE,    /* the line already ended: the next byte starts a command */
	SKIP_LITERAL, /* skip the announced literal's contents, then the line */
};

struct frame {
	struct imap_arg *items;
	size_t count;
	size_t alloc;
};

struct imap_parser {
	struct imap_parser_limits limits;
	enum pstate state;
	bool reset_pending;
	bool line_mode; /* reading a raw line, not a command */

	/* The command being parsed. */
	struct pool *pool;
	struct buf tok;
	size_t line_len;
	unsigned int nargs;
	char *tag;
	char *name;
	struct frame *frames;
	unsigned int frames_alloc;
	unsigned int depth;
	uint32_t tok_flags;
	struct imap_command cmd;

	/* The literal being announced or read. */
	uint64_t lit_size;
	bool lit_overflow;
	bool lit_nonsync;
	bool lit_binary;
	bool lit_digits;
	uint64_t lit_left;
	char *lit_buf;
	size_t lit_pos;

	/* A failure waiting to be reported. */
	bool err_pending;
	enum imap_parse_error err;
	const char *err_msg;
	bool err_fatal;

	/* Resynchronisation. */
	enum skip_state sk;
	uint64_t sk_num;
	bool sk_digits;
	bool sk_overflow;
	bool sk_nonsync;
	uint64_t sk_left;
};

/* Character classes. */
#define CC_ATOM	   0x01u /* ATOM-CHAR of RFC 9051 */
#define CC_ARG	   0x02u /* what our argument atoms accept (astring, flags, wildcards) */
#define CC_TAG	   0x04u /* tag: ASTRING-CHAR except "+" */
#define CC_BRACKET 0x08u /* inside a FETCH attribute's [...] */
#define CC_QUOTED  0x10u /* plain byte of a quoted string (not " \ CR LF NUL) */

static uint8_t char_class[256];
static bool char_class_ready;

static void char_class_init(void)
{
	if (char_class_ready)
		return;
	for (unsigned int c = 0; c < 256; c++) {
		uint8_t cc = 0;

		if (c >= 0x21 && c <= 0x7e) {
			cc |= CC_ATOM | CC_ARG | CC_TAG | CC_BRACKET;
			if (strchr("(){%*\"\\]", (int)c) != NULL)
				cc &= (uint8_t)~CC_ATOM;
			if (strchr("(){\"", (int)c) != NULL)
				cc &= (uint8_t)~CC_ARG;
			if (strchr("(){%*\"\\+", (int)c) != NULL)
				cc &= (uint8_t)~CC_TAG;
			if (c == '[' || c == ']')
				cc &= (uint8_t)~CC_BRACKET;
		}
		if (c == ' ')
			cc |= CC_BRACKET;
		if (c != 0 && c != '\r' && c != '\n' && c != '"' && c != '\\')
			cc |= CC_QUOTED;
		char_class[c] = cc;
	}
	char_class_ready = true;
}

void imap_parser_limits_default(struct imap_parser_limits *limits_r)
{
	memset(limits_r, 0, sizeof(*limits_r));
	limits_r->max_line_length = IMAP_PARSER_DEFAULT_MAX_LINE_LENGTH;
	limits_r->max_literal_size = IMAP_PARSER_DEFAULT_MAX_LITERAL_SIZE;
	limits_r->max_depth = IMAP_PARSER_DEFAULT_MAX_DEPTH;
	limits_r->max_args = IMAP_PARSER_DEFAULT_MAX_ARGS;
	limits_r->max_command_size = IMAP_PARSER_DEFAULT_MAX_COMMAND_SIZE;
	limits_r->literal_minus = false;
}

struct imap_parser *imap_parser_create(const struct imap_parser_limits *limits)
{
	struct imap_parser *p = i_calloc(1, sizeof(*p));

	char_class_init();
	p->limits = *limits;
	if (p->limits.max_line_length < 16)
		p->limits.max_line_length = 16;
	buf_init(&p->tok, p->limits.max_line_length + 1);
	p->state = ST_LINE_START;
	return p;
}

/* Overwrites every string of a (possibly partial) argument array. */
static void args_wipe(struct imap_arg *args, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		struct imap_arg *a = &args[i];

		if (a->type == IMAP_ARG_LIST) {
			if (a->list != NULL)
				args_wipe((struct imap_arg *)a->list, a->len);
		} else if (a->str != NULL && a->type != IMAP_ARG_NIL) {
			explicit_bzero((char *)a->str, a->len);
		}
	}
}

/*
 * Drops the current command. Its strings are wiped first: in roost-login
 * they are passwords (LOGIN's arguments), and the memory goes back to the
 * allocator rather than to the kernel. The arena's first block and the token
 * buffer are kept for the next pipelined command; parser_release() frees
 * them once the client has nothing more queued.
 */
static void command_reset(struct imap_parser *p)
{
	for (unsigned int i = 0; i <= p->depth && p->frames != NULL; i++) {
		if (p->frames[i].items != NULL)
			args_wipe(p->frames[i].items, p->frames[i].count);
		p->frames[i].items = NULL;
		p->frames[i].count = 0;
		p->frames[i].alloc = 0;
	}
	if (p->lit_buf != NULL)
		explicit_bzero(p->lit_buf, p->lit_pos);
	p->lit_buf = NULL;
	p->lit_pos = 0;
	if (p->pool != NULL)
		pool_clear(p->pool);
	if (buf_len(&p->tok) > 0)
		explicit_bzero(buf_data_mut(&p->tok), buf_len(&p->tok));
	buf_reset(&p->tok);
	p->line_len = 0;
	p->nargs = 0;
	p->tag = NULL;
	p->name = NULL;
	p->depth = 0;
	p->tok_flags = 0;
	p->err_pending = false;
	p->err = IMAP_PARSE_ERR_NONE;
	p->err_msg = NULL;
	p->reset_pending = false;
	memset(&p->cmd, 0, sizeof(p->cmd));
}

/* An idle connection keeps no per-command memory. */
static void parser_release(struct imap_parser *p)
{
	pool_destroy(&p->pool);
	buf_free_secret(&p->tok);
}

void imap_parser_destroy(struct imap_parser **parser)
{
	struct imap_parser *p = *parser;

	if (p == NULL)
		return;
	command_reset(p);
	parser_release(p);
	free(p->frames);
	free(p);
	*parser = NULL;
}

static struct pool *parser_pool(struct imap_parser *p)
{
	if (p->pool == NULL)
		p->pool = pool_create(p->limits.max_command_size);
	return p->pool;
}

/* Records a failure; the main loop reports it before touching more input. */
static void parser_fail(struct imap_parser *p, enum imap_parse_error err, const char *msg,
			enum skip_mode mode, uint64_t literal_size)
{
	p->err_pending = true;
	p->err = err;
	p->err_msg = msg;
	p->err_fatal = false;
	p->sk = SK_NORMAL;
	switch (mode) {
	case SKIP_LINE:
		p->state = ST_SKIP;
		break;
	case SKIP_NONE:
		p->state = ST_LINE_START;
		break;
	case SKIP_LITERAL:
		p->state = ST_SKIP;
		p->sk = SK_LITERAL;
		p->sk_left = literal_size;
		break;
	}
}

static void parser_fail_fatal(struct imap_parser *p, enum imap_parse_error err, const char *msg)
{
	parser_fail(p, err, msg, SKIP_NONE, 0);
	p->err_fatal = true;
	p->state = ST_FATAL;
}

static enum imap_parse_result report_error(struct imap_parser *p, struct imap_parse_event *ev)
{
	ev->error = p->err;
	ev->error_msg = p->err_msg;
	ev->error_tag = p->tag;
	ev->error_fatal = p->err_fatal;
	p->err_pending = false;
	p->reset_pending = true;
	return IMAP_PARSE_ERROR;
}

static struct frame *cur_frame(struct imap_parser *p)
{
	return &p->frames[p->depth];
}

/* Counts one more argument; false (with the error recorded) past max_args. */
static bool count_arg(struct imap_parser *p)
{
	if (p->nargs >= p->limits.max_args) {
		parser_fail(p, IMAP_PARSE_ERR_TOO_MANY_ARGS, "Too many arguments in command",
			    SKIP_LINE, 0);
		return false;
	}
	p->nargs++;
	return true;
}

static void fail_memory(struct imap_parser *p, enum skip_mode mode, uint64_t left)
{
	parser_fail(p, IMAP_PARSE_ERR_TOO_LARGE, "Command too large", mode, left);
}

/* Appends an argument to the innermost open list; NULL when out of memory. */
static struct imap_arg *frame_add(struct imap_parser *p)
{
	struct frame *f = cur_frame(p);

	if (f->count == f->alloc) {
		size_t n = f->alloc == 0 ? 4 : f->alloc * 2;
		struct imap_arg *items;

		items = p_realloc(parser_pool(p), f->items, f->alloc * sizeof(*items),
				  n * sizeof(*items));
		if (items == NULL)
			return NULL;
		f->items = items;
		f->alloc = n;
	}
	return &f->items[f->count++];
}

/* Stores the token buffer as a string argument of the given type. */
static bool add_token_arg(struct imap_parser *p, enum imap_arg_type type)
{
	size_t len = buf_len(&p->tok);
	char *s = p_strndup(parser_pool(p), buf_data(&p->tok), len);
	struct imap_arg *a;

	if (s == NULL || (a = frame_add(p)) == NULL)
		return false;
	a->type = type;
	a->flags = p->tok_flags;
	a->str = s;
	a->len = len;
	if (type == IMAP_ARG_ATOM && len == 3 && strncasecmp(s, "NIL", 3) == 0)
		a->type = IMAP_ARG_NIL;
	buf_reset(&p->tok);
	p->tok_flags = 0;
	return true;
}

static bool frames_push(struct imap_parser *p)
{
	if (p->depth >= p->limits.max_depth)
		return false;
	if (p->depth + 1 >= p->frames_alloc) {
		unsigned int n = p->frames_alloc == 0 ? 4 : p->frames_alloc * 2;

		p->frames = i_realloc_array(p->frames, n, sizeof(*p->frames));
		memset(p->frames + p->frames_alloc, 0, (n - p->frames_alloc) * sizeof(*p->frames));
		p->frames_alloc = n;
	}
	p->depth++;
	memset(cur_frame(p), 0, sizeof(struct frame));
	return true;
}

/* Makes sure frames[0] exists (the command's own argument list). */
static void frames_init(struct imap_parser *p)
{
	if (p->frames_alloc == 0) {
		p->frames_alloc = 4;
		p->frames = i_calloc(p->frames_alloc, sizeof(*p->frames));
	}
}

static bool is_fetch_att_prefix(const struct buf *tok)
{
	static const char *const names[] = {"BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK",
					    "BINARY.SIZE"};
	size_t len = buf_len(tok);

	for (size_t i = 0; i < N_ELEMENTS(names); i++) {
		if (strlen(names[i]) == len &&
		    strncasecmp((const char *)buf_data(tok), names[i], len) == 0)
			return true;
	}
	return false;
}

/* The command is complete: publish it. */
static enum imap_parse_result finish_command(struct imap_parser *p, struct imap_parse_event *ev)
{
	p->cmd.tag = p->tag;
	p->cmd.name = p->name;
	p->cmd.argc = p->frames[0].count;
	p->cmd.args = p->frames[0].items;
	ev->cmd = &p->cmd;
	p->state = ST_LINE_START;
	p->reset_pending = true;
	return IMAP_PARSE_COMMAND;
}

/*
 * The line ended (LF consumed). Returns COMMAND when a command is complete,
 * MORE otherwise (an empty line, or an error was recorded).
 */
static enum imap_parse_result end_of_line(struct imap_parser *p, struct imap_parse_event *ev)
{
	if (p->tag == NULL) {
		/* An empty line: ignored, as clients send them after literals. */
		p->line_len = 0;
		p->state = ST_LINE_START;
		return IMAP_PARSE_MORE;
	}
	if (p->name == NULL) {
		parser_fail(p, IMAP_PARSE_ERR_SYNTAX, "Missing command name", SKIP_NONE, 0);
		return IMAP_PARSE_MORE;
	}
	if (p->depth > 0) {
		parser_fail(p, IMAP_PARSE_ERR_SYNTAX, "Missing ')'", SKIP_NONE, 0);
		return IMAP_PARSE_MORE;
	}
	return finish_command(p, ev);
}

/* The literal announcement's line ended: check it and report it. */
static enum imap_parse_result literal_announced(struct imap_parser *p, struct imap_parse_event *ev)
{
	struct imap_literal_info *li = &ev->literal;
	struct frame *f;

	if (p->lit_overflow || p->lit_size > LITERAL_SIZE_MAX) {
		/* A client waiting for "+" sends nothing; otherwise we are lost. */
		if (p->lit_nonsync)
			parser_fail_fatal(p, IMAP_PARSE_ERR_LITERAL_TOO_LARGE,
					  "Literal size too large");
		else
			parser_fail(p, IMAP_PARSE_ERR_LITERAL_TOO_LARGE, "Literal size too large",
				    SKIP_NONE, 0);
		return IMAP_PARSE_MORE;
	}
	if (p->lit_nonsync && p->limits.literal_minus && p->lit_size > IMAP_LITERAL_MINUS_MAX) {
		parser_fail(p, IMAP_PARSE_ERR_LITERAL_TOO_LARGE,
			    "Non-synchronizing literal larger than 4096 bytes", SKIP_LITERAL,
			    p->lit_size);
		return IMAP_PARSE_MORE;
	}
	f = cur_frame(p);
	li->size = p->lit_size;
	li->sync = !p->lit_nonsync;
	li->binary = p->lit_binary;
	li->over_limit = p->lit_size > p->limits.max_literal_size;
	li->tag = p->tag;
	li->name = p->name;
	li->depth = p->depth;
	li->index = f->count;
	li->prev = f->count > 0 ? &f->items[f->count - 1] : NULL;
	li->top_args = p->frames[0].items;
	li->top_argc = p->frames[0].count - (p->depth > 0 ? 1 : 0);
	p->state = ST_LIT_WAIT;
	return IMAP_PARSE_LITERAL;
}

/* Adds the finished literal (buffered or streamed) as an argument. */
static bool add_literal_arg(struct imap_parser *p, bool streamed)
{
	struct imap_arg *a = frame_add(p);

	if (a == NULL)
		return false;
	a->type = IMAP_ARG_LITERAL;
	a->flags = (p->lit_binary ? IMAP_ARG_FLAG_LITERAL8 : 0) |
		   (p->lit_nonsync ? IMAP_ARG_FLAG_NONSYNC : 0) |
		   (streamed ? IMAP_ARG_FLAG_STREAMED : 0);
	a->len = (size_t)p->lit_size;
	a->str = streamed ? NULL : p->lit_buf;
	p->lit_buf = NULL;
	p->lit_pos = 0;
	return true;
}

bool imap_parser_literal_accept(struct imap_parser *p)
{
	enum skip_mode mode = p->lit_nonsync ? SKIP_LITERAL : SKIP_NONE;

	if (p->state != ST_LIT_WAIT)
		panic("imap_parser_literal_accept() without a literal");
	if (p->lit_size > p->limits.max_literal_size) {
		parser_fail(p, IMAP_PARSE_ERR_LITERAL_TOO_LARGE, "Literal too large", mode,
			    p->lit_size);
		return false;
	}
	p->lit_buf = p_malloc(parser_pool(p), (size_t)p->lit_size + 1);
	if (p->lit_buf == NULL) {
		fail_memory(p, mode, p->lit_size);
		return false;
	}
	p->lit_pos = 0;
	p->lit_left = p->lit_size;
	p->state = ST_LIT_DATA;
	return true;
}

void imap_parser_literal_stream(struct imap_parser *p)
{
	if (p->state != ST_LIT_WAIT)
		panic("imap_parser_literal_stream() without a literal");
	p->lit_left = p->lit_size;
	p->state = ST_LIT_STREAM;
}

void imap_parser_literal_reject(struct imap_parser *p)
{
	if (p->state != ST_LIT_WAIT)
		panic("imap_parser_literal_reject() without a literal");
	p->sk = SK_NORMAL;
	if (p->lit_nonsync) {
		p->state = ST_SKIP;
		p->sk = SK_LITERAL;
		p->sk_left = p->lit_size;
	} else {
		p->state = ST_LINE_START;
	}
	p->reset_pending = true;
}

/*
 * Skips input until the end of the current line, honouring the literals the
 * client announced on it. Returns true when the line ended.
 */
static bool skip_input(struct imap_parser *p, const uint8_t *d, size_t size, size_t *pos)
{
	while (*pos < size || (p->sk == SK_LITERAL && p->sk_left == 0)) {
		if (p->sk == SK_LITERAL) {
			size_t n = size - *pos;

			if (n > p->sk_left)
				n = (size_t)p->sk_left;
			*pos += n;
			p->sk_left -= n;
			if (p->sk_left > 0)
				return false;
			p->sk = SK_NORMAL;
			continue;
		}
		if (p->line_mode || p->sk == SK_NORMAL) {
			/* Fast path: jump to the next interesting byte. */
			const uint8_t *nl = memchr(d + *pos, '\n', size - *pos);
			size_t end = nl == NULL ? size : (size_t)(nl - d);
			const uint8_t *br = p->line_mode ? NULL : memchr(d + *pos, '{', end - *pos);

			if (br != NULL) {
				*pos = (size_t)(br - d) + 1;
				p->sk = SK_BRACE;
				p->sk_num = 0;
				p->sk_digits = false;
				p->sk_overflow = false;
				p->sk_nonsync = false;
				continue;
			}
			*pos = end;
			if (nl == NULL)
				return false;
			(*pos)++;
			return true;
		}
		uint8_t c = d[(*pos)++];

		if (c == '\n' && p->sk != SK_CLOSE && p->sk != SK_CR)
			return true;
		switch (p->sk) {
		case SK_BRACE:
			if (c >= '0' && c <= '9') {
				if (p->sk_num > (LITERAL_SIZE_MAX - (uint64_t)(c - '0')) / 10)
					p->sk_overflow = true;
				else
					p->sk_num = p->sk_num * 10 + (uint64_t)(c - '0');
				p->sk_digits = true;
			} else if (c == '+' && p->sk_digits) {
				p->sk = SK_PLUS;
			} else if (c == '}' && p->sk_digits) {
				p->sk = SK_CLOSE;
			} else {
				p->sk = SK_NORMAL;
				(*pos)--;
			}
			break;
		case SK_PLUS:
			if (c == '}') {
				p->sk_nonsync = true;
				p->sk = SK_CLOSE;
			} else {
				p->sk = SK_NORMAL;
				(*pos)--;
			}
			break;
		case SK_CLOSE:
		case SK_CR:
			if (c == '\r' && p->sk == SK_CLOSE) {
				p->sk = SK_CR;
				break;
			}
			if (c != '\n') {
				p->sk = SK_NORMAL;
				(*pos)--;
				break;
			}
			/* A literal ends the line: sync ones are never sent. */
			if (!p->sk_nonsync)
				return true;
			if (p->sk_overflow) {
				parser_fail_fatal(p, IMAP_PARSE_ERR_LITERAL_TOO_LARGE,
						  "Literal size too large");
				return false;
			}
			p->sk = SK_LITERAL;
			p->sk_left = p->sk_num;
			break;
		case SK_NORMAL:
		case SK_LITERAL:
			break;
		}
	}
	return false;
}

/* Length of the run of bytes of class cc at d[pos..], capped by the line. */
static size_t class_run(const struct imap_parser *p, const uint8_t *d, size_t size, size_t pos,
			uint8_t cc)
{
	size_t room = p->limits.max_line_length - p->line_len;
	size_t end = size - pos < room ? size : pos + room;
	size_t i = pos;

	while (i < end && (char_class[d[i]] & cc) != 0)
		i++;
	return i - pos;
}

static bool tok_append(struct imap_parser *p, const uint8_t *data, size_t n)
{
	/* The token cannot outgrow the line, which is checked before this. */
	if (!buf_append(&p->tok, data, n))
		panic("imap parser token buffer overflow");
	return true;
}

/* Result of handling one byte in a token state. */
enum step {
	STEP_CONSUME,	/* the byte was used */
	STEP_REPROCESS, /* state changed; look at the same byte again */
	STEP_STOP,	/* an error was recorded; the byte stays for the skipper */
};

/* Ends the line at a CR or LF outside tokens. */
static enum step line_break(struct imap_parser *p, uint8_t c)
{
	if (c == '\r') {
		p->state = ST_EOL_CR;
		return STEP_CONSUME;
	}
	return STEP_REPROCESS; /* LF: the main loop ends the line */
}

static enum step step_byte(struct imap_parser *p, uint8_t c)
{
	uint8_t cc = char_class[c];

	switch (p->state) {
	case ST_LINE_START:
		if (c == '\r' || c == '\n')
			return line_break(p, c);
		if ((cc & CC_TAG) == 0) {
			parser_fail(p, IMAP_PARSE_ERR_SYNTAX, "Invalid tag", SKIP_LINE, 0);
			return STEP_STOP;
		}
		frames_init(p);
		p->state = ST_TAG;
		return STEP_REPROCESS;
	case ST_TAG:
		if ((cc & CC_TAG) != 0) {
			tok_append(p, &c, 1);
			return STEP_CONSUME;
		}
		if (c != ' ' && c != '\r' && c != '\n') {
			parser_fail(p, IMAP_PARSE_ERR_SYNTAX, "Invalid tag", SKIP_LINE, 0);
			return STEP_STOP;
		}
		p->tag = p_strndup(parser_pool(p), buf_data(&p->tok), buf_len(&p->tok));
		buf_reset(&p->tok);
		if (p->tag == NULL) {
			fail_memory(p, SKIP_LINE, 0);
			return STEP_STOP;
		}
		if (c != ' ') {
			parser_fail(p, IMAP_PARSE_ERR_SYNTAX, "Missing command name", SKIP_LINE, 0);
			return STEP_STOP;
		}
		p->state = ST_NAME_START;
		return STEP_CONSUME;
	case ST_NAME_START:
		if ((cc & CC_ATOM) == 0) {
			parser_fail(p, IMAP_PARSE_ERR_SYNTAX,
				    c == '\r' || c == '\n' ? "Missing command name"
							   : "Invalid command name",
				    SKIP_LINE, 0);
			return STEP_STOP;
		}
		p->state = ST_NAME;
		return STEP_REPROCESS;
	case ST_NAME:
		if ((cc & CC_ATOM) != 0) {
			uint8_t u = c >= 'a' && c <= 'z' ? (uint8_t)(c - 'a' + 'A') : c;

			tok_append(p, &u, 1);
			return STEP_CONSUME;
		}
		if (c != ' ' && c != '\r' && c != '\n') {
			parser_fail(p, IMAP_PARSE_ERR_SYNTAX, "Invalid command name", SKIP_LINE, 0);
			return STEP_STOP;
		}
		p->name = p_strndup(parser_pool(p), buf_data(&p->tok), buf_len(&p->tok));
		buf_reset(&p->tok);
		if (p->name == NULL) {
			fail_memory(p, SKIP_LINE, 0);
			return STEP_STOP;
		}
		if (c == ' ') {
			p->state = ST_ARG_START;
			return STEP_CONSUME;
		}
		return line_break(p, c);
	case ST_AFTER_ARG:
		if (c != ' ' && c != ')' && c != '\r' && c != '\n') {
			parser_fail(p, IMAP_PARSE_ERR_SYNTAX, "Missing space after argument",
				    SKIP_LINE, 0);
			return STEP_STOP;
		}
		p->state = ST_ARG_START;
		return STEP_REPROCESS;
	case ST_ARG_START:
		switch (c) {
		case ' ':
			/* Extra spaces are tolerated, as other servers do. */
			return STEP_CONSUME;
		case '\r':
		case '\n':
			return line_break(p, c);
		case '(': {
			struct imap_arg *a;

			if (!count_arg(p))
				return STEP_STOP;
			if ((a = frame_add(p)) == NULL) {
				fail_memory(p, SKIP_LINE, 0);
				return STEP_STOP;
			}
			a->type = IMAP_ARG_LIST;
			if (!frames_push(p)) {
				parser_fail(p, IMAP_PARSE_ERR_NESTING_TOO_DEEP,
					    "Too deeply nested parentheses", SKIP_LINE, 0);
				return STEP_STOP;
			}
			return STEP_CONSUME;
		}
		case ')': {
			struct frame *f = cur_frame(p);
			struct frame *parent;

			if (p->depth == 0) {
				parser_fail(p, IMAP_PARSE_ERR_SYNTAX, "Unexpected ')'", SKIP_LINE,
					    0);
				return STEP_STOP;
			}
			parent = &p->frames[p->depth - 1];
			parent->items[parent->count - 1].list = f->items;
			parent->items[parent->count - 1].len = f->count;
			memset(f, 0, sizeof(*f));
			p->depth--;
			p->state = ST_AFTER_ARG;
			return STEP_CONSUME;
		}
		case '"':
			if (!count_arg(p))
				return STEP_STOP;
			p->tok_flags = 0;
			p->state = ST_QUOTED;
			return STEP_CONSUME;
		case '{':
			if (!count_arg(p))
				return STEP_STOP;
			p->lit_binary = false;
			p->state = ST_LIT_SIZE;
			p->lit_size = 0;
			p->lit_overflow = false;
			p->lit_digits = false;
			p->lit_nonsync = false;
			return STEP_CONSUME;
		case '~':
			if (!count_arg(p))
				return STEP_STOP;
			p->state = ST_TILDE;
			return STEP_CONSUME;
		default:
			if ((cc & CC_ARG) == 0) {
				parser_fail(p, IMAP_PARSE_ERR_SYNTAX,
					    "Invalid character in argument", SKIP_LINE, 0);
				return STEP_STOP;
			}
			if (!count_arg(p))
				return STEP_STOP;
			p->tok_flags = 0;
			p->state = ST_ATOM;
			return STEP_REPROCESS;
		}
	case ST_TILDE:
		if (c == '{') {
			p->lit_binary = true;
			p->state = ST_LIT_SIZE;
			p->lit_size = 0;
			p->lit_overflow = false;
			p->lit_digits = false;
			p->lit_nonsync = false;
			return STEP_CONSUME;
		}
		tok_append(p, (const uint8_t *)"~", 1);
		p->tok_flags = 0;
		p->state = ST_ATOM;
		return STEP_REPROCESS;
	case ST_ATOM:
		if ((cc & CC_ARG) != 0) {
			if (c == '[' && is_fetch_att_prefix(&p->tok))
				p->state = ST_ATOM_BRACKET;
			tok_append(p, &c, 1);
			return STEP_CONSUME;
		}
		if (c != ' ' && c != ')' && c != '\r' && c != '\n') {
			parser_fail(p, IMAP_PARSE_ERR_SYNTAX, "Invalid character in atom",
				    SKIP_LINE, 0);
			return STEP_STOP;
		}
		if (!add_token_arg(p, IMAP_ARG_ATOM)) {
			fail_memory(p, SKIP_LINE, 0);
			return STEP_STOP;
		}
		p->state = ST_AFTER_ARG;
		return STEP_REPROCESS;
	case ST_ATOM_BRACKET:
		if (c == ']') {
			p->state = ST_ATOM;
		} else if ((cc & CC_BRACKET) == 0) {
			parser_fail(p, IMAP_PARSE_ERR_SYNTAX,
				    c == '\r' || c == '\n' ? "Missing ']' in FETCH attribute"
							   : "Invalid character in FETCH attribute",
				    SKIP_LINE, 0);
			return STEP_STOP;
		}
		tok_append(p, &c, 1);
		return STEP_CONSUME;
	case ST_QUOTED:
		if ((cc & CC_QUOTED) != 0) {
			if (c >= 0x80)
				p->tok_flags |= IMAP_ARG_FLAG_8BIT;
			tok_append(p, &c, 1);
			return STEP_CONSUME;
		}
		if (c == '\\') {
			p->state = ST_QUOTED_ESC;
			return STEP_CONSUME;
		}
		if (c == '"') {
			if (!add_token_arg(p, IMAP_ARG_STRING)) {
				fail_memory(p, SKIP_LINE, 0);
				return STEP_STOP;
			}
			p->state = ST_AFTER_ARG;
			return STEP_CONSUME;
		}
		parser_fail(p, IMAP_PARSE_ERR_SYNTAX,
			    c == 0 ? "NUL in quoted string" : "Missing '\"' (unterminated string)",
			    SKIP_LINE, 0);
		return STEP_STOP;
	case ST_QUOTED_ESC:
		if (c != '"' && c != '\\') {
			parser_fail(p, IMAP_PARSE_ERR_SYNTAX, "Invalid escape in quoted string",
				    SKIP_LINE, 0);
			return STEP_STOP;
		}
		tok_append(p, &c, 1);
		p->state = ST_QUOTED;
		return STEP_CONSUME;
	case ST_LIT_SIZE:
		if (c >= '0' && c <= '9') {
			if (p->lit_size > (LITERAL_SIZE_MAX - (uint64_t)(c - '0')) / 10)
				p->lit_overflow = true;
			else
				p->lit_size = p->lit_size * 10 + (uint64_t)(c - '0');
			p->lit_digits = true;
			return STEP_CONSUME;
		}
		if (p->lit_digits && (c == '+' || c == '}')) {
			p->lit_nonsync = c == '+';
			p->state = c == '+' ? ST_LIT_PLUS : ST_LIT_CLOSE;
			return STEP_CONSUME;
		}
		parser_fail(p, IMAP_PARSE_ERR_SYNTAX, "Invalid literal size", SKIP_LINE, 0);
		return STEP_STOP;
	case ST_LIT_PLUS:
		if (c != '}') {
			parser_fail(p, IMAP_PARSE_ERR_SYNTAX, "Invalid literal size", SKIP_LINE, 0);
			return STEP_STOP;
		}
		p->state = ST_LIT_CLOSE;
		return STEP_CONSUME;
	case ST_LIT_CLOSE:
		if (c == '\r') {
			p->state = ST_LIT_CR;
			return STEP_CONSUME;
		}
		if (c == '\n')
			return STEP_REPROCESS;
		parser_fail(p, IMAP_PARSE_ERR_SYNTAX, "Missing CRLF after literal size", SKIP_LINE,
			    0);
		return STEP_STOP;
	case ST_LIT_CR:
	case ST_EOL_CR:
		if (c == '\n')
			return STEP_REPROCESS;
		parser_fail(p, IMAP_PARSE_ERR_SYNTAX, "CR without LF", SKIP_LINE, 0);
		return STEP_STOP;
	default:
		panic("imap parser: byte in state %d", (int)p->state);
	}
}

/* Copies buffered literal contents; checks CHAR8 (no NUL) unless literal8. */
static void literal_copy(struct imap_parser *p, const uint8_t *d, size_t size, size_t *pos)
{
	size_t n = size - *pos;

	if (n > p->lit_left)
		n = (size_t)p->lit_left;
	if (!p->lit_binary) {
		const uint8_t *nul = memchr(d + *pos, 0, n);

		if (nul != NULL) {
			size_t k = (size_t)(nul - (d + *pos)) + 1;

			*pos += k;
			p->lit_left -= k;
			parser_fail(p, IMAP_PARSE_ERR_SYNTAX, "NUL in literal", SKIP_LITERAL,
				    p->lit_left);
			return;
		}
	}
	memcpy(p->lit_buf + p->lit_pos, d + *pos, n);
	p->lit_pos += n;
	*pos += n;
	p->lit_left -= n;
}

static enum imap_parse_result parse_run(struct imap_parser *p, const uint8_t *d, size_t size,
					size_t *pos, struct imap_parse_event *ev)
{
	for (;;) {
		enum imap_parse_result r;

		if (p->err_pending)
			return report_error(p, ev);
		switch (p->state) {
		case ST_FATAL:
			parser_fail_fatal(p, IMAP_PARSE_ERR_LITERAL_TOO_LARGE,
					  "Literal size too large");
			return report_error(p, ev);
		case ST_LIT_WAIT:
			panic("imap parser: literal was not answered");
		case ST_SKIP:
			if (!skip_input(p, d, size, pos)) {
				if (p->err_pending)
					continue;
				return IMAP_PARSE_MORE;
			}
			p->state = ST_LINE_START;
			p->line_mode = false;
			p->line_len = 0;
			continue;
		case ST_LIT_DATA:
			if (p->lit_left > 0) {
				if (*pos == size)
					return IMAP_PARSE_MORE;
				literal_copy(p, d, size, pos);
				continue;
			}
			if (!add_literal_arg(p, false)) {
				fail_memory(p, SKIP_LINE, 0);
				continue;
			}
			p->state = ST_AFTER_ARG;
			continue;
		case ST_LIT_STREAM: {
			size_t n = size - *pos;

			if (n > p->lit_left)
				n = (size_t)p->lit_left;
			if (n == 0 && p->lit_left > 0)
				return IMAP_PARSE_MORE;
			ev->data = d + *pos;
			ev->data_len = n;
			*pos += n;
			p->lit_left -= n;
			ev->data_last = p->lit_left == 0;
			if (ev->data_last) {
				if (add_literal_arg(p, true))
					p->state = ST_AFTER_ARG;
				else
					fail_memory(p, SKIP_LINE, 0);
			}
			return IMAP_PARSE_LITERAL_DATA;
		}
		default:
			break;
		}

		if (*pos == size)
			return IMAP_PARSE_MORE;

		/* Fast paths over runs of ordinary token bytes. */
		if (p->state == ST_ATOM || p->state == ST_QUOTED || p->state == ST_TAG ||
		    p->state == ST_NAME || p->state == ST_ATOM_BRACKET) {
			uint8_t cc = p->state == ST_ATOM     ? CC_ARG
				     : p->state == ST_QUOTED ? CC_QUOTED
				     : p->state == ST_TAG    ? CC_TAG
				     : p->state == ST_NAME   ? CC_ATOM
							     : CC_BRACKET;
			size_t n = class_run(p, d, size, *pos, cc);

			if (p->state == ST_ATOM) {
				const uint8_t *br = memchr(d + *pos, '[', n);

				/* Let "[" go through step_byte() for FETCH attributes. */
				if (br != NULL)
					n = (size_t)(br - (d + *pos));
			} else if (p->state == ST_QUOTED) {
				for (size_t i = 0; i < n; i++) {
					if (d[*pos + i] >= 0x80) {
						p->tok_flags |= IMAP_ARG_FLAG_8BIT;
						break;
					}
				}
			}
			if (n > 0) {
				size_t start = buf_len(&p->tok);

				tok_append(p, d + *pos, n);
				if (p->state == ST_NAME) {
					uint8_t *t = buf_data_mut(&p->tok) + start;

					for (size_t i = 0; i < n; i++) {
						if (t[i] >= 'a' && t[i] <= 'z')
							t[i] = (uint8_t)(t[i] - 'a' + 'A');
					}
				}
				*pos += n;
				p->line_len += n;
				continue;
			}
		}

		uint8_t c = d[*pos];

		if (p->line_len >= p->limits.max_line_length) {
			parser_fail(p, IMAP_PARSE_ERR_LINE_TOO_LONG, "Command line too long",
				    SKIP_LINE, 0);
			continue;
		}
		if (c == '\n' &&
		    (p->state == ST_LINE_START || p->state == ST_NAME || p->state == ST_ARG_START ||
		     p->state == ST_EOL_CR || p->state == ST_LIT_CLOSE || p->state == ST_LIT_CR)) {
			/* A line end in a state where it may come. */
			bool literal = p->state == ST_LIT_CLOSE || p->state == ST_LIT_CR;

			if (p->state == ST_NAME && step_byte(p, c) == STEP_STOP)
				continue;
			(*pos)++;
			p->line_len++;
			r = literal ? literal_announced(p, ev) : end_of_line(p, ev);
			if (r != IMAP_PARSE_MORE)
				return r;
			continue;
		}
		switch (step_byte(p, c)) {
		case STEP_CONSUME:
			(*pos)++;
			p->line_len++;
			break;
		case STEP_REPROCESS:
		case STEP_STOP:
			break;
		}
	}
}

enum imap_parse_result imap_parser_parse(struct imap_parser *p, const void *data, size_t size,
					 size_t *consumed_r, struct imap_parse_event *ev_r)
{
	size_t pos = 0;
	enum imap_parse_result r;

	memset(ev_r, 0, sizeof(*ev_r));
	if (p->state == ST_LINE)
		panic("imap_parser_parse() while reading a line");
	if (p->reset_pending)
		command_reset(p);
	r = parse_run(p, data, size, &pos, ev_r);
	*consumed_r = pos;
	if (r == IMAP_PARSE_MORE && p->state == ST_LINE_START && p->line_len == 0)
		parser_release(p);
	return r;
}

enum imap_parse_result imap_parser_read_line(struct imap_parser *p, const void *data, size_t size,
					     size_t *consumed_r, struct imap_parse_event *ev_r)
{
	const uint8_t *d = data;
	size_t pos = 0;

	memset(ev_r, 0, sizeof(*ev_r));
	*consumed_r = 0;
	if (p->reset_pending)
		command_reset(p);
	if (p->state == ST_FATAL)
		parser_fail_fatal(p, IMAP_PARSE_ERR_LITERAL_TOO_LARGE, "Literal size too large");
	if (p->err_pending)
		return report_error(p, ev_r);
	if (p->state == ST_SKIP) {
		/* The end of a failed command or line comes first. */
		if (!skip_input(p, d, size, &pos)) {
			*consumed_r = pos;
			return p->err_pending ? report_error(p, ev_r) : IMAP_PARSE_MORE;
		}
		p->state = ST_LINE_START;
		p->line_mode = false;
		p->line_len = 0;
	}
	if (p->state == ST_LINE_START && p->line_len == 0) {
		p->state = ST_LINE;
		p->line_mode = true;
	}
	if (p->state != ST_LINE)
		panic("imap_parser_read_line() in the middle of a command");

	const uint8_t *nl = memchr(d + pos, '\n', size - pos);
	size_t n = nl == NULL ? size - pos : (size_t)(nl - (d + pos));

	if (n > p->limits.max_line_length - buf_len(&p->tok)) {
		/* The skipper consumes the line (line_mode: no literals). */
		*consumed_r = pos;
		parser_fail(p, IMAP_PARSE_ERR_LINE_TOO_LONG, "Line too long", SKIP_LINE, 0);
		return report_error(p, ev_r);
	}
	tok_append(p, d + pos, n);
	pos += n;
	if (nl == NULL) {
		*consumed_r = pos;
		return IMAP_PARSE_MORE;
	}
	pos++;
	*consumed_r = pos;
	if (buf_len(&p->tok) > 0 && buf_data(&p->tok)[buf_len(&p->tok) - 1] == '\r')
		buf_truncate(&p->tok, buf_len(&p->tok) - 1);
	ev_r->data = buf_data(&p->tok);
	ev_r->data_len = buf_len(&p->tok);
	ev_r->data_last = true;
	p->state = ST_LINE_START;
	p->line_mode = false;
	p->reset_pending = true;
	return IMAP_PARSE_LINE;
}

bool imap_parser_is_idle(const struct imap_parser *p)
{
	return (p->state == ST_LINE_START && p->line_len == 0 && !p->err_pending) ||
	       (p->reset_pending && p->state == ST_LINE_START);
}

const char *imap_parse_error_name(enum imap_parse_error error)
{
	switch (error) {
	case IMAP_PARSE_ERR_NONE:
		return "no error";
	case IMAP_PARSE_ERR_SYNTAX:
		return "syntax error";
	case IMAP_PARSE_ERR_LINE_TOO_LONG:
		return "line too long";
	case IMAP_PARSE_ERR_LITERAL_TOO_LARGE:
		return "literal too large";
	case IMAP_PARSE_ERR_NESTING_TOO_DEEP:
		return "nesting too deep";
	case IMAP_PARSE_ERR_TOO_MANY_ARGS:
		return "too many arguments";
	case IMAP_PARSE_ERR_TOO_LARGE:
		return "command too large";
	}
	return "unknown error";
}

bool imap_arg_get_atom(const struct imap_arg *arg, const char **str_r)
{
	if (arg->type != IMAP_ARG_ATOM && arg->type != IMAP_ARG_NIL)
		return false;
	*str_r = arg->str;
	return true;
}

bool imap_arg_get_string(const struct imap_arg *arg, const char **str_r, size_t *len_r)
{
	if (arg->type != IMAP_ARG_STRING &&
	    (arg->type != IMAP_ARG_LITERAL || (arg->flags & IMAP_ARG_FLAG_STREAMED) != 0))
		return false;
	*str_r = arg->str;
	*len_r = arg->len;
	return true;
}

bool imap_arg_get_astring(const struct imap_arg *arg, const char **str_r, size_t *len_r)
{
	if (arg->type == IMAP_ARG_ATOM || arg->type == IMAP_ARG_NIL) {
		*str_r = arg->str;
		*len_r = arg->len;
		return true;
	}
	return imap_arg_get_string(arg, str_r, len_r);
}

bool imap_arg_get_nstring(const struct imap_arg *arg, const char **str_r, size_t *len_r)
{
	if (arg->type == IMAP_ARG_NIL) {
		*str_r = NULL;
		*len_r = 0;
		return true;
	}
	return imap_arg_get_string(arg, str_r, len_r);
}

bool imap_arg_get_list(const struct imap_arg *arg, const struct imap_arg **list_r, size_t *count_r)
{
	if (arg->type != IMAP_ARG_LIST)
		return false;
	*list_r = arg->list;
	*count_r = arg->len;
	return true;
}

bool imap_arg_atom_equals(const struct imap_arg *arg, const char *name)
{
	size_t n = strlen(name);

	return (arg->type == IMAP_ARG_ATOM || arg->type == IMAP_ARG_NIL) && arg->len == n &&
	       strncasecmp(arg->str, name, n) == 0;
}

/* Writer. */

/* Atoms we emit: a conservative subset so that every client reads them. */
static bool is_safe_atom_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_' || c == '/' || c == '+' || c == '&' || c == ',' ||
	       c == ':' || c == '=' || c == '@' || c == '!' || c == '#' || c == '$' || c == '\'' ||
	       c == '^' || c == '|' || c == '~' || c == '`';
}

/* Quoted strings longer than this go out as literals (cheaper to read). */
#define QUOTED_MAX 1024

static bool can_quote(const uint8_t *s, size_t len, unsigned int flags)
{
	if (len > QUOTED_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == 0 || s[i] == '\r' || s[i] == '\n')
			return false;
		if (s[i] >= 0x80 && (flags & IMAP_WRITE_UTF8) == 0)
			return false;
	}
	return true;
}

static bool write_quoted(struct buf *out, const uint8_t *s, size_t len)
{
	if (!buf_append_c(out, '"'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if ((s[i] == '"' || s[i] == '\\') && !buf_append_c(out, '\\'))
			return false;
		if (!buf_append_c(out, s[i]))
			return false;
	}
	return buf_append_c(out, '"');
}

bool imap_write_literal_header(struct buf *out, uint64_t size, bool binary)
{
	return buf_printf(out, "%s{%llu}\r\n", binary ? "~" : "", (unsigned long long)size);
}

static bool write_literal(struct buf *out, const uint8_t *s, size_t len)
{
	uint8_t *dst;

	if (!imap_write_literal_header(out, len, false))
		return false;
	dst = buf_reserve(out, len);
	if (dst == NULL)
		return false;
	for (size_t i = 0; i < len; i++)
		dst[i] = s[i] == 0 ? 0x80 : s[i];
	buf_commit(out, len);
	return true;
}

bool imap_write_string(struct buf *out, const void *data, size_t len, unsigned int flags)
{
	if (can_quote(data, len, flags))
		return write_quoted(out, data, len);
	return write_literal(out, data, len);
}

bool imap_write_nstring(struct buf *out, const void *data, size_t len, unsigned int flags)
{
	if (data == NULL)
		return buf_append_str(out, "NIL");
	return imap_write_string(out, data, len, flags);
}

bool imap_write_astring(struct buf *out, const void *data, size_t len, unsigned int flags)
{
	const uint8_t *s = data;
	bool atom = len > 0 && len <= QUOTED_MAX && !(len == 3 && strncasecmp(data, "NIL", 3) == 0);

	for (size_t i = 0; atom && i < len; i++)
		atom = is_safe_atom_char(s[i]);
	if (atom)
		return buf_append(out, data, len);
	return imap_write_string(out, data, len, flags);
}

bool imap_write_text(struct buf *out, const void *data, size_t len)
{
	const uint8_t *s = data;
	uint8_t *dst = buf_reserve(out, len);

	if (dst == NULL)
		return false;
	for (size_t i = 0; i < len; i++)
		dst[i] = s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	buf_commit(out, len);
	return true;
}

bool imap_args_write(struct buf *out, const struct imap_arg *args, size_t count, unsigned int flags)
{
	for (size_t i = 0; i < count; i++) {
		const struct imap_arg *a = &args[i];
		bool ok = true;

		if (i > 0 && !buf_append_c(out, ' '))
			return false;
		switch (a->type) {
		case IMAP_ARG_ATOM:
		case IMAP_ARG_NIL:
			ok = buf_append(out, a->str, a->len);
			break;
		case IMAP_ARG_STRING:
			ok = imap_write_string(out, a->str, a->len, flags | IMAP_WRITE_UTF8);
			break;
		case IMAP_ARG_LITERAL:
			if ((a->flags & IMAP_ARG_FLAG_STREAMED) != 0) {
				ok = buf_printf(out, "{%zu}", a->len);
			} else if ((a->flags & IMAP_ARG_FLAG_LITERAL8) != 0) {
				ok = imap_write_literal_header(out, a->len, true) &&
				     buf_append(out, a->str, a->len);
			} else {
				ok = imap_write_string(out, a->str, a->len, flags);
			}
			break;
		case IMAP_ARG_LIST:
			ok = buf_append_c(out, '(') &&
			     imap_args_write(out, a->list, a->len, flags) && buf_append_c(out, ')');
			break;
		}
		if (!ok)
			return false;
	}
	return true;
}
