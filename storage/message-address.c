/*
 * Address list parser (see message-address.h): a tokenizer for RFC 5322
 * lexical tokens (atoms, quoted strings, domain literals, comments,
 * specials) and a forgiving parser on top. Runs in the sandboxed mail
 * processes on untrusted header values; comments are scanned iteratively,
 * so nesting depth costs nothing, and every scan stops at the value's end.
 */
#include <string.h>

#include "buf.h"
#include "pool.h"
#include "message-util.h"
#include "message-address.h"

enum tok_type {
	TOK_END,
	TOK_ATOM,
	TOK_QUOTED,   /* p/len: contents without the quotes, escapes kept */
	TOK_DLITERAL, /* p/len: "[...]" including the brackets */
	TOK_SPECIAL,  /* c: one of < > @ , ; : */
};

struct tok {
	enum tok_type type;
	const uint8_t *p;
	size_t len;
	uint8_t c;
	/* Whitespace or a comment came before the token. */
	bool space_before;
};

struct addr_parser {
	struct pool *pool;
	const uint8_t *in;
	size_t len;
	size_t pos;
	struct tok tok;
	/* The last comment seen in the current element, for a missing name. */
	const uint8_t *comment;
	size_t comment_len;
	bool bad_lexing;

	struct buf phrase;
	struct buf local;
	struct buf domain;
	struct buf route;

	struct message_address *head, *tail;
	unsigned int count, max;
	const char *error;
};

static bool is_special(uint8_t c)
{
	return c == '<' || c == '>' || c == '@' || c == ',' || c == ';' || c == ':';
}

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skips a comment starting at in[pos] == '('; returns the offset after it. */
static size_t skip_comment(struct addr_parser *ap, size_t pos)
{
	size_t depth = 0, start = pos + 1;

	while (pos < ap->len) {
		uint8_t c = ap->in[pos];

		if (c == '\\') {
			pos += 2;
			continue;
		}
		if (c == '(') {
			depth++;
		} else if (c == ')') {
			if (--depth == 0) {
				ap->comment = ap->in + start;
				ap->comment_len = pos - start;
				return pos + 1;
			}
		}
		pos++;
	}
	/* Unterminated: the rest of the value was comment. */
	ap->bad_lexing = true;
	ap->comment = ap->in + start;
	ap->comment_len = ap->len > start ? ap->len - start : 0;
	return ap->len;
}

/* Offset after a quoted string or domain literal body ending in `close`. */
static size_t skip_delimited(struct addr_parser *ap, size_t pos, uint8_t close, size_t *end_r)
{
	while (pos < ap->len) {
		if (ap->in[pos] == '\\') {
			pos += 2;
			continue;
		}
		if (ap->in[pos] == close) {
			*end_r = pos;
			return pos + 1;
		}
		pos++;
	}
	ap->bad_lexing = true;
	*end_r = ap->len;
	return ap->len;
}

static void lex_next(struct addr_parser *ap)
{
	struct tok *t = &ap->tok;
	size_t pos = ap->pos, end;
	uint8_t c;

	memset(t, 0, sizeof(*t));
	for (;;) {
		while (pos < ap->len && is_space(ap->in[pos])) {
			pos++;
			t->space_before = true;
		}
		if (pos < ap->len && ap->in[pos] == '(') {
			pos = skip_comment(ap, pos);
			t->space_before = true;
			continue;
		}
		break;
	}
	if (pos >= ap->len) {
		ap->pos = ap->len;
		t->type = TOK_END;
		return;
	}
	c = ap->in[pos];
	if (c == '"') {
		t->type = TOK_QUOTED;
		t->p = ap->in + pos + 1;
		ap->pos = skip_delimited(ap, pos + 1, '"', &end);
		t->len = (size_t)(ap->in + end - t->p);
		return;
	}
	if (c == '[') {
		t->type = TOK_DLITERAL;
		t->p = ap->in + pos;
		ap->pos = skip_delimited(ap, pos + 1, ']', &end);
		t->len = ap->pos - pos;
		return;
	}
	if (is_special(c)) {
		t->type = TOK_SPECIAL;
		t->c = c;
		t->p = ap->in + pos;
		t->len = 1;
		ap->pos = pos + 1;
		return;
	}
	t->type = TOK_ATOM;
	t->p = ap->in + pos;
	while (pos < ap->len) {
		c = ap->in[pos];
		if (is_space(c) || is_special(c) || c == '"' || c == '(' || c == '[')
			break;
		pos++;
	}
	t->len = (size_t)(ap->in + pos - t->p);
	ap->pos = pos;
}

static bool tok_is(const struct addr_parser *ap, uint8_t c)
{
	return ap->tok.type == TOK_SPECIAL && ap->tok.c == c;
}

/* Whether the token is an atom starting with a dot (obsolete "a . b"). */
static bool tok_starts_dot(const struct tok *t)
{
	return t->type == TOK_ATOM && t->len > 0 && t->p[0] == '.';
}

static bool buf_ends_dot(const struct buf *b)
{
	return buf_len(b) > 0 && buf_data(b)[buf_len(b) - 1] == '.';
}

/* Appends a quoted string's or comment's body with its backslashes removed. */
static void append_unescaped(struct buf *b, const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const uint8_t *bs = memchr(p + i, '\\', n - i);
		size_t run = bs == NULL ? n - i : (size_t)(bs - (p + i));

		(void)buf_append(b, p + i, run);
		i += run;
		if (i < n) {
			/* Skip the backslash, keep what it quotes. */
			if (i + 1 < n)
				(void)buf_append_c(b, p[i + 1]);
			i += 2;
		}
	}
}

static char *pool_str(struct addr_parser *ap, const struct buf *b)
{
	char *s = message_p_strndup(ap->pool, buf_data(b), buf_len(b));

	if (s == NULL && ap->error == NULL)
		ap->error = "Out of memory for addresses (pool limit)";
	return s;
}

static struct message_address *addr_new(struct addr_parser *ap)
{
	struct message_address *addr;

	if (ap->error != NULL)
		return NULL;
	if (ap->count >= ap->max) {
		ap->error = "Too many addresses in one header";
		return NULL;
	}
	addr = p_malloc(ap->pool, sizeof(*addr));
	if (addr == NULL) {
		ap->error = "Out of memory for addresses (pool limit)";
		return NULL;
	}
	if (ap->tail == NULL)
		ap->head = addr;
	else
		ap->tail->next = addr;
	ap->tail = addr;
	ap->count++;
	return addr;
}

/*
 * Reads a dot-separated run of atoms, domain literals and quoted strings
 * into b. Parts separated only by whitespace (no dot on either side) are a
 * syntax error: reading stops there and *bad_r is set.
 */
static void read_dotted(struct addr_parser *ap, struct buf *b, bool allow_quoted, bool *bad_r)
{
	bool first = true;

	while (ap->tok.type == TOK_ATOM || ap->tok.type == TOK_DLITERAL ||
	       (allow_quoted && ap->tok.type == TOK_QUOTED)) {
		if (!first && ap->tok.space_before && !buf_ends_dot(b) &&
		    !tok_starts_dot(&ap->tok)) {
			*bad_r = true;
			return;
		}
		if (ap->tok.type == TOK_QUOTED)
			append_unescaped(b, ap->tok.p, ap->tok.len);
		else
			(void)buf_append(b, ap->tok.p, ap->tok.len);
		first = false;
		lex_next(ap);
	}
}

/* Reads an obsolete route "@a,@b:" after '<'; the colon is consumed. */
static void read_route(struct addr_parser *ap, bool *bad_r)
{
	buf_reset(&ap->route);
	while (tok_is(ap, '@') || tok_is(ap, ',')) {
		if (tok_is(ap, ',')) {
			lex_next(ap);
			continue;
		}
		if (buf_len(&ap->route) > 0)
			(void)buf_append_c(&ap->route, ',');
		(void)buf_append_c(&ap->route, '@');
		lex_next(ap);
		read_dotted(ap, &ap->route, false, bad_r);
	}
	if (tok_is(ap, ':'))
		lex_next(ap);
	else
		*bad_r = true;
}

/* Skips to the end of the element (',' ';' or the end); true if it had junk. */
static bool skip_to_element_end(struct addr_parser *ap)
{
	bool junk = false;

	while (ap->tok.type != TOK_END && !tok_is(ap, ',') && !tok_is(ap, ';')) {
		junk = true;
		lex_next(ap);
	}
	return junk;
}

static void set_name(struct addr_parser *ap, struct message_address *addr, bool have_phrase)
{
	if (have_phrase && buf_len(&ap->phrase) > 0) {
		addr->name = pool_str(ap, &ap->phrase);
	} else if (ap->comment != NULL && ap->comment_len > 0) {
		struct buf tmp = BUF_INIT(ap->comment_len + 1);

		append_unescaped(&tmp, ap->comment, ap->comment_len);
		addr->name = pool_str(ap, &tmp);
		buf_free(&tmp);
	}
}

static void parse_angle_addr(struct addr_parser *ap, struct message_address *addr, bool phrase)
{
	bool bad = false, have_at = false;

	lex_next(ap); /* '<' */
	if (tok_is(ap, '@')) {
		read_route(ap, &bad);
		if (buf_len(&ap->route) > 0)
			addr->route = pool_str(ap, &ap->route);
	}
	read_dotted(ap, &ap->local, true, &bad);
	if (tok_is(ap, '@')) {
		have_at = true;
		lex_next(ap);
		read_dotted(ap, &ap->domain, false, &bad);
	}
	if (tok_is(ap, '>'))
		lex_next(ap);
	else
		bad = true;
	if (skip_to_element_end(ap))
		bad = true;
	if (buf_len(&ap->local) > 0 || have_at)
		addr->mailbox = buf_len(&ap->local) > 0 ? pool_str(ap, &ap->local) : NULL;
	if (buf_len(&ap->domain) > 0)
		addr->domain = pool_str(ap, &ap->domain);
	if (addr->mailbox == NULL || addr->domain == NULL)
		bad = true;
	set_name(ap, addr, phrase);
	addr->invalid = bad;
}

/*
 * One list element: a mailbox, a group start, or nothing (",,"). The first
 * words are ambiguous (phrase or local part) until the token after them.
 */
static void parse_element(struct addr_parser *ap, bool *in_group)
{
	struct message_address *addr;
	unsigned int words = 0;
	bool bad = false, local_bad = false, had_space = false;

	buf_reset(&ap->phrase);
	buf_reset(&ap->local);
	buf_reset(&ap->domain);
	ap->comment = NULL;
	ap->comment_len = 0;

	while (ap->tok.type == TOK_ATOM || ap->tok.type == TOK_QUOTED ||
	       ap->tok.type == TOK_DLITERAL) {
		bool dotted;

		if (words > 0 && ap->tok.space_before)
			(void)buf_append_c(&ap->phrase, ' ');
		if (ap->tok.type == TOK_QUOTED)
			append_unescaped(&ap->phrase, ap->tok.p, ap->tok.len);
		else
			(void)buf_append(&ap->phrase, ap->tok.p, ap->tok.len);
		/* The same words read as a local part: no spaces, dots join. */
		dotted = buf_len(&ap->local) == 0 || buf_ends_dot(&ap->local) ||
			 tok_starts_dot(&ap->tok);
		if (words > 0 && ap->tok.space_before && !dotted)
			local_bad = true;
		if (ap->tok.type == TOK_QUOTED)
			append_unescaped(&ap->local, ap->tok.p, ap->tok.len);
		else
			(void)buf_append(&ap->local, ap->tok.p, ap->tok.len);
		had_space |= words > 0 && ap->tok.space_before;
		words++;
		lex_next(ap);
	}

	if (tok_is(ap, ':')) {
		lex_next(ap);
		if (*in_group) {
			/* Groups do not nest; read on as members of the outer one. */
			return;
		}
		addr = addr_new(ap);
		if (addr == NULL)
			return;
		addr->type = MESSAGE_ADDRESS_GROUP_START;
		addr->mailbox = pool_str(ap, &ap->phrase);
		addr->invalid = words == 0;
		*in_group = true;
		return;
	}
	if (tok_is(ap, '<')) {
		addr = addr_new(ap);
		if (addr == NULL)
			return;
		buf_reset(&ap->local);
		parse_angle_addr(ap, addr, words > 0);
		return;
	}
	if (tok_is(ap, '@')) {
		addr = addr_new(ap);
		if (addr == NULL)
			return;
		lex_next(ap);
		read_dotted(ap, &ap->domain, false, &bad);
		if (skip_to_element_end(ap))
			bad = true;
		if (words > 0)
			addr->mailbox = pool_str(ap, &ap->local);
		if (buf_len(&ap->domain) > 0)
			addr->domain = pool_str(ap, &ap->domain);
		set_name(ap, addr, false);
		addr->invalid = bad || local_bad || words == 0 || addr->domain == NULL;
		return;
	}
	if (words == 0) {
		/* Nothing but comments or a stray special: an empty element. */
		if (ap->tok.type != TOK_END && !tok_is(ap, ',') && !tok_is(ap, ';'))
			(void)skip_to_element_end(ap);
		return;
	}
	/* Bare words without '@': keep them as a mailbox without a domain. */
	addr = addr_new(ap);
	if (addr == NULL)
		return;
	(void)skip_to_element_end(ap);
	addr->mailbox = pool_str(ap, had_space ? &ap->phrase : &ap->local);
	set_name(ap, addr, false);
	addr->invalid = true;
}

static void add_group_end(struct addr_parser *ap)
{
	struct message_address *addr = addr_new(ap);

	if (addr != NULL)
		addr->type = MESSAGE_ADDRESS_GROUP_END;
}

struct message_address *message_address_parse(struct pool *pool, const uint8_t *value, size_t len,
					      unsigned int max_addresses, unsigned int *count_r,
					      const char **error_r)
{
	struct addr_parser ap;
	bool in_group = false;
	size_t bmax = len * 2 + 16;

	memset(&ap, 0, sizeof(ap));
	ap.pool = pool;
	ap.in = value;
	ap.len = len;
	ap.max = max_addresses == 0 ? MESSAGE_ADDRESS_MAX_DEFAULT : max_addresses;
	buf_init(&ap.phrase, bmax);
	buf_init(&ap.local, bmax);
	buf_init(&ap.domain, bmax);
	buf_init(&ap.route, bmax);

	lex_next(&ap);
	while (ap.tok.type != TOK_END && ap.error == NULL) {
		if (tok_is(&ap, ',')) {
			lex_next(&ap);
			continue;
		}
		if (tok_is(&ap, ';')) {
			lex_next(&ap);
			if (in_group) {
				add_group_end(&ap);
				in_group = false;
			}
			continue;
		}
		parse_element(&ap, &in_group);
	}
	if (in_group && ap.error == NULL)
		add_group_end(&ap);

	buf_free(&ap.phrase);
	buf_free(&ap.local);
	buf_free(&ap.domain);
	buf_free(&ap.route);
	if (count_r != NULL)
		*count_r = ap.error == NULL ? ap.count : 0;
	*error_r = ap.error;
	return ap.error == NULL ? ap.head : NULL;
}
