/*
 * Tokenizer for Sieve scripts (RFC 5228 section 8.1), used by the parser in
 * roost-lda and roostadm. The script text is untrusted: every token is
 * bounded by the script size and strings are copied into the script's pool.
 */
#ifndef ROOST_SIEVE_LEXER_H
#define ROOST_SIEVE_LEXER_H

#include "sieve-private.h"

enum sieve_tok_type {
	SIEVE_TOK_EOF,
	SIEVE_TOK_ERROR,
	SIEVE_TOK_IDENT,
	SIEVE_TOK_TAG,
	SIEVE_TOK_NUMBER,
	SIEVE_TOK_STRING,
	SIEVE_TOK_MLSTRING, /* text: ... . */
	SIEVE_TOK_LBRACKET,
	SIEVE_TOK_RBRACKET,
	SIEVE_TOK_LPAREN,
	SIEVE_TOK_RPAREN,
	SIEVE_TOK_LBRACE,
	SIEVE_TOK_RBRACE,
	SIEVE_TOK_COMMA,
	SIEVE_TOK_SEMICOLON,
};

struct sieve_token {
	enum sieve_tok_type type;
	unsigned int line, col;
	/* IDENT and TAG (without ':'): points into the pool. */
	const char *ident;
	uint64_t number;
	struct sieve_str str;
};

struct sieve_lexer {
	const char *p, *end;
	unsigned int line, col;
	struct pool *pool;
	const char *name;
	struct sieve_error_list *errs;
	struct buf tmp; /* string being decoded */
	bool failed;
};

/* Sets up a lexer over data; errors are reported to errs (may be NULL). */
void sieve_lexer_init(struct sieve_lexer *lx, struct pool *pool, const char *name, const char *data,
		      size_t size, struct sieve_error_list *errs);
void sieve_lexer_deinit(struct sieve_lexer *lx);
/*
 * Reads the next token. On a lexical error the token type is
 * SIEVE_TOK_ERROR (the error was reported) and the lexer stays at EOF.
 */
void sieve_lexer_next(struct sieve_lexer *lx, struct sieve_token *tok);
/* Name of a token type for messages ("identifier", "':'"...). */
const char *sieve_token_name(enum sieve_tok_type type);

#endif
