/*
 * Sieve tokenizer (RFC 5228 section 8.1): identifiers, tags, numbers with
 * K/M/G quantifiers, quoted and multi-line strings, comments. Runs in
 * roost-lda and roostadm on untrusted script text; it never reads past the
 * end of the data and reports the line and column of every error.
 */
#include <stdio.h>
#include <string.h>

#include "sieve-lexer.h"

void sieve_errors_add(struct sieve_error_list *errs, const char *script, unsigned int line,
		      unsigned int col, bool warning, const char *fmt, va_list ap)
{
	char msg[1024];

	if (errs == NULL)
		return;
	if (!warning && errs->errors >= SIEVE_MAX_ERRORS)
		return;
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	if (line > 0) {
		(void)buf_printf(&errs->text, "%s:%u:%u: %s: %s\n", script, line, col,
				 warning ? "warning" : "error", msg);
	} else {
		(void)buf_printf(&errs->text, "%s: %s: %s\n", script, warning ? "warning" : "error",
				 msg);
	}
	if (warning)
		errs->warnings++;
	else
		errs->errors++;
}

void sieve_error_list_init(struct sieve_error_list *errs)
{
	buf_init(&errs->text, 256 * 1024);
	errs->errors = 0;
	errs->warnings = 0;
}

void sieve_error_list_free(struct sieve_error_list *errs)
{
	buf_free(&errs->text);
	errs->errors = 0;
	errs->warnings = 0;
}

static void ATTR_PRINTF(4, 5)
	lex_error(struct sieve_lexer *lx, unsigned int line, unsigned int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sieve_errors_add(lx->errs, lx->name, line, col, false, fmt, ap);
	va_end(ap);
	lx->failed = true;
}

void sieve_lexer_init(struct sieve_lexer *lx, struct pool *pool, const char *name, const char *data,
		      size_t size, struct sieve_error_list *errs)
{
	memset(lx, 0, sizeof(*lx));
	lx->p = data;
	lx->end = data + size;
	lx->line = 1;
	lx->col = 1;
	lx->pool = pool;
	lx->name = name;
	lx->errs = errs;
	buf_init(&lx->tmp, size + 16);
}

void sieve_lexer_deinit(struct sieve_lexer *lx)
{
	buf_free(&lx->tmp);
}

/* Consumes one byte, keeping line and column (columns count characters). */
static void lex_advance(struct sieve_lexer *lx)
{
	unsigned char c = (unsigned char)*lx->p;

	lx->p++;
	if (c == '\n') {
		lx->line++;
		lx->col = 1;
	} else if ((c & 0xc0) != 0x80) {
		lx->col++;
	}
}

static int lex_peek(const struct sieve_lexer *lx, size_t off)
{
	if ((size_t)(lx->end - lx->p) <= off)
		return -1;
	return (unsigned char)lx->p[off];
}

static bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Skips whitespace and comments; false after an unterminated comment. */
static bool lex_skip_space(struct sieve_lexer *lx)
{
	for (;;) {
		int c = lex_peek(lx, 0);

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			lex_advance(lx);
		} else if (c == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lex_advance(lx);
		} else if (c == '/' && lex_peek(lx, 1) == '*') {
			unsigned int line = lx->line, col = lx->col;

			lex_advance(lx);
			lex_advance(lx);
			for (;;) {
				if (lx->p >= lx->end) {
					lex_error(lx, line, col,
						  "end of file before end of bracket comment "
						  "('/* ... */') started here");
					return false;
				}
				if (*lx->p == '*' && lex_peek(lx, 1) == '/') {
					lex_advance(lx);
					lex_advance(lx);
					break;
				}
				lex_advance(lx);
			}
		} else {
			return true;
		}
	}
}

static bool lex_finish_string(struct sieve_lexer *lx, struct sieve_token *tok)
{
	char *s = p_strndup(lx->pool, buf_data(&lx->tmp), buf_len(&lx->tmp));

	if (s == NULL) {
		lex_error(lx, tok->line, tok->col, "script is too large (out of memory)");
		return false;
	}
	tok->str.s = s;
	tok->str.len = buf_len(&lx->tmp);
	return true;
}

/* Appends a line break; bare LF and CR become CRLF as RFC 5228 requires. */
static void lex_append_newline(struct sieve_lexer *lx)
{
	(void)buf_append(&lx->tmp, "\r\n", 2);
}

static bool lex_quoted(struct sieve_lexer *lx, struct sieve_token *tok)
{
	buf_reset(&lx->tmp);
	lex_advance(lx); /* opening quote */
	for (;;) {
		int c = lex_peek(lx, 0);

		if (c < 0) {
			lex_error(lx, tok->line, tok->col,
				  "end of file before end of quoted string started here");
			return false;
		}
		if (c == '"') {
			lex_advance(lx);
			break;
		}
		if (c == '\\') {
			lex_advance(lx);
			c = lex_peek(lx, 0);
			if (c < 0)
				continue;
			/* Unknown escapes mean the character itself. */
			if (c == '\r' || c == '\n') {
				/* An escaped line break is still a line break. */
			} else {
				(void)buf_append_c(&lx->tmp, (uint8_t)c);
				lex_advance(lx);
				continue;
			}
		}
		if (c == '\r') {
			lex_advance(lx);
			if (lex_peek(lx, 0) == '\n')
				lex_advance(lx);
			lex_append_newline(lx);
			continue;
		}
		if (c == '\n') {
			lex_advance(lx);
			lex_append_newline(lx);
			continue;
		}
		(void)buf_append_c(&lx->tmp, (uint8_t)c);
		lex_advance(lx);
	}
	tok->type = SIEVE_TOK_STRING;
	return lex_finish_string(lx, tok);
}

/* Reads one line of a text: block into tmp, without the line break. */
static bool lex_ml_line(struct sieve_lexer *lx, const char **start_r, size_t *len_r, bool *eol_r)
{
	const char *start = lx->p;

	while (lx->p < lx->end && *lx->p != '\n' && *lx->p != '\r')
		lex_advance(lx);
	*start_r = start;
	*len_r = (size_t)(lx->p - start);
	*eol_r = false;
	if (lx->p < lx->end) {
		if (*lx->p == '\r') {
			lex_advance(lx);
			if (lx->p < lx->end && *lx->p == '\n')
				lex_advance(lx);
		} else {
			lex_advance(lx);
		}
		*eol_r = true;
	}
	return true;
}

static bool lex_multiline(struct sieve_lexer *lx, struct sieve_token *tok)
{
	/* "text:" already consumed; optional whitespace then comment or EOL. */
	while (lex_peek(lx, 0) == ' ' || lex_peek(lx, 0) == '\t')
		lex_advance(lx);
	if (lex_peek(lx, 0) == '#') {
		while (lx->p < lx->end && *lx->p != '\n' && *lx->p != '\r')
			lex_advance(lx);
	}
	if (lex_peek(lx, 0) == '\r')
		lex_advance(lx);
	if (lex_peek(lx, 0) != '\n') {
		if (lx->p >= lx->end) {
			lex_error(lx, tok->line, tok->col,
				  "end of file before end of multi-line string");
		} else {
			lex_error(lx, lx->line, lx->col,
				  "invalid character '%c' after 'text:' in multi-line string",
				  *lx->p);
		}
		return false;
	}
	lex_advance(lx);
	buf_reset(&lx->tmp);
	for (;;) {
		const char *line;
		size_t len;
		bool eol;

		if (lx->p >= lx->end) {
			lex_error(lx, tok->line, tok->col,
				  "end of file before end of multi-line string");
			return false;
		}
		(void)lex_ml_line(lx, &line, &len, &eol);
		if (len == 1 && line[0] == '.') {
			if (!eol) {
				/* "." at the very end of the file still ends it. */
			}
			break;
		}
		if (len > 0 && line[0] == '.') {
			/* Dot-stuffing: a leading ".." stands for ".". */
			line++;
			len--;
		}
		(void)buf_append(&lx->tmp, line, len);
		if (!eol) {
			lex_error(lx, tok->line, tok->col,
				  "end of file before end of multi-line string");
			return false;
		}
		lex_append_newline(lx);
	}
	tok->type = SIEVE_TOK_MLSTRING;
	return lex_finish_string(lx, tok);
}

static bool lex_number(struct sieve_lexer *lx, struct sieve_token *tok)
{
	uint64_t v = 0;
	bool overflow = false;
	int c;

	while (is_digit(c = lex_peek(lx, 0))) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(c - '0'), &v))
			overflow = true;
		lex_advance(lx);
	}
	c = lex_peek(lx, 0);
	if (c == 'K' || c == 'k' || c == 'M' || c == 'm' || c == 'G' || c == 'g') {
		unsigned int shift = (c == 'K' || c == 'k') ? 10 : (c == 'M' || c == 'm') ? 20 : 30;

		if (v > (UINT64_MAX >> shift))
			overflow = true;
		v <<= shift;
		lex_advance(lx);
	}
	if (overflow) {
		lex_error(lx, tok->line, tok->col, "number exceeds integer limits (max %llu)",
			  (unsigned long long)UINT64_MAX);
		return false;
	}
	tok->type = SIEVE_TOK_NUMBER;
	tok->number = v;
	return true;
}

static bool lex_ident(struct sieve_lexer *lx, struct sieve_token *tok, bool tag)
{
	const char *start = lx->p;
	char *id;

	while (is_alpha(lex_peek(lx, 0)) || is_digit(lex_peek(lx, 0)))
		lex_advance(lx);
	if (!tag && lx->p - start == 4 && strncasecmp(start, "text", 4) == 0 &&
	    lex_peek(lx, 0) == ':') {
		lex_advance(lx);
		return lex_multiline(lx, tok);
	}
	id = p_strndup(lx->pool, start, (size_t)(lx->p - start));
	if (id == NULL) {
		lex_error(lx, tok->line, tok->col, "script is too large (out of memory)");
		return false;
	}
	tok->type = tag ? SIEVE_TOK_TAG : SIEVE_TOK_IDENT;
	tok->ident = id;
	return true;
}

void sieve_lexer_next(struct sieve_lexer *lx, struct sieve_token *tok)
{
	int c;
	bool ok = true;

	memset(tok, 0, sizeof(*tok));
	if (lx->failed || !lex_skip_space(lx)) {
		lx->failed = true;
		lx->p = lx->end;
		tok->type = SIEVE_TOK_ERROR;
		return;
	}
	tok->line = lx->line;
	tok->col = lx->col;
	c = lex_peek(lx, 0);
	switch (c) {
	case -1:
		tok->type = SIEVE_TOK_EOF;
		return;
	case '[':
		tok->type = SIEVE_TOK_LBRACKET;
		break;
	case ']':
		tok->type = SIEVE_TOK_RBRACKET;
		break;
	case '(':
		tok->type = SIEVE_TOK_LPAREN;
		break;
	case ')':
		tok->type = SIEVE_TOK_RPAREN;
		break;
	case '{':
		tok->type = SIEVE_TOK_LBRACE;
		break;
	case '}':
		tok->type = SIEVE_TOK_RBRACE;
		break;
	case ',':
		tok->type = SIEVE_TOK_COMMA;
		break;
	case ';':
		tok->type = SIEVE_TOK_SEMICOLON;
		break;
	case '"':
		ok = lex_quoted(lx, tok);
		goto done;
	case ':':
		lex_advance(lx);
		if (!is_alpha(lex_peek(lx, 0))) {
			lex_error(lx, tok->line, tok->col,
				  "missing identifier after ':' of tagged argument");
			ok = false;
			goto done;
		}
		ok = lex_ident(lx, tok, true);
		goto done;
	default:
		if (is_digit(c)) {
			ok = lex_number(lx, tok);
		} else if (is_alpha(c)) {
			ok = lex_ident(lx, tok, false);
		} else if (c >= 0x20 && c < 0x7f) {
			lex_error(lx, tok->line, tok->col, "unexpected character '%c'", c);
			ok = false;
		} else {
			lex_error(lx, tok->line, tok->col, "unexpected character 0x%02x", c);
			ok = false;
		}
		goto done;
	}
	lex_advance(lx);
done:
	if (!ok) {
		lx->failed = true;
		lx->p = lx->end;
		tok->type = SIEVE_TOK_ERROR;
	}
}

const char *sieve_token_name(enum sieve_tok_type type)
{
	switch (type) {
	case SIEVE_TOK_EOF:
		return "end of file";
	case SIEVE_TOK_ERROR:
		return "invalid token";
	case SIEVE_TOK_IDENT:
		return "identifier";
	case SIEVE_TOK_TAG:
		return "tag";
	case SIEVE_TOK_NUMBER:
		return "number";
	case SIEVE_TOK_STRING:
		return "string";
	case SIEVE_TOK_MLSTRING:
		return "multi-line string";
	case SIEVE_TOK_LBRACKET:
		return "'['";
	case SIEVE_TOK_RBRACKET:
		return "']'";
	case SIEVE_TOK_LPAREN:
		return "'('";
	case SIEVE_TOK_RPAREN:
		return "')'";
	case SIEVE_TOK_LBRACE:
		return "'{'";
	case SIEVE_TOK_RBRACE:
		return "'}'";
	case SIEVE_TOK_COMMA:
		return "','";
	case SIEVE_TOK_SEMICOLON:
		return "';'";
	}
	return "token";
}
