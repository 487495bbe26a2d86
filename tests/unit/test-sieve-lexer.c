/*
 * Unit tests for the Sieve tokenizer (lda/sieve/sieve-lexer.c): every token
 * kind of RFC 5228 section 8.1, escapes, multi-line strings with
 * dot-stuffing, comments, number quantifiers and errors with line and
 * column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../lda/sieve/sieve-lexer.h"

struct lexed {
	struct pool *pool;
	struct sieve_error_list errs;
	struct sieve_lexer lx;
};

static void lex_start(struct lexed *l, const char *text)
{
	l->pool = pool_create(1024 * 1024);
	sieve_error_list_init(&l->errs);
	sieve_lexer_init(&l->lx, l->pool, "t", text, strlen(text), &l->errs);
}

static void lex_end(struct lexed *l)
{
	sieve_lexer_deinit(&l->lx);
	sieve_error_list_free(&l->errs);
	pool_destroy(&l->pool);
}

static enum sieve_tok_type next_type(struct lexed *l, struct sieve_token *tok)
{
	sieve_lexer_next(&l->lx, tok);
	return tok->type;
}

static void test_tokens(void **state)
{
	struct lexed l;
	struct sieve_token t;

	(void)state;
	lex_start(&l, "if header :is [\"a\", \"b\"] 10 { keep; } (x)");
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_IDENT);
	assert_string_equal(t.ident, "if");
	assert_int_equal(t.line, 1);
	assert_int_equal(t.col, 1);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_IDENT);
	assert_string_equal(t.ident, "header");
	assert_int_equal(t.col, 4);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_TAG);
	assert_string_equal(t.ident, "is");
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_LBRACKET);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_STRING);
	assert_string_equal(t.str.s, "a");
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_COMMA);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_STRING);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_RBRACKET);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_NUMBER);
	assert_int_equal(t.number, 10);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_LBRACE);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_IDENT);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_SEMICOLON);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_RBRACE);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_LPAREN);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_IDENT);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_RPAREN);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_EOF);
	assert_int_equal(l.errs.errors, 0);
	lex_end(&l);
}

static void test_numbers(void **state)
{
	struct lexed l;
	struct sieve_token t;

	(void)state;
	/* RFC 5228 2.4.1: K, M and G multiply by 2^10, 2^20 and 2^30. */
	lex_start(&l, "1K 2m 3G 18446744073709551615 18446744073709551616");
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_NUMBER);
	assert_int_equal(t.number, 1024);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_NUMBER);
	assert_int_equal(t.number, 2 * 1024 * 1024);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_NUMBER);
	assert_true(t.number == 3ULL * 1024 * 1024 * 1024);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_NUMBER);
	assert_true(t.number == UINT64_MAX);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_ERROR);
	assert_int_equal(l.errs.errors, 1);
	assert_non_null(strstr(buf_cstr(&l.errs.text), "t:1:"));
	assert_non_null(strstr(buf_cstr(&l.errs.text), "exceeds integer limits"));
	lex_end(&l);
}

static void test_quoted_strings(void **state)
{
	struct lexed l;
	struct sieve_token t;

	(void)state;
	/* RFC 5228 2.4.2: \" and \\ escape; other escapes drop the backslash. */
	lex_start(&l, "\"a\\\"b\\\\c\\d\" \"line1\nline2\"");
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_STRING);
	assert_string_equal(t.str.s, "a\"b\\cd");
	assert_int_equal(t.str.len, 6);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_STRING);
	/* A bare LF inside a string is stored as CRLF. */
	assert_string_equal(t.str.s, "line1\r\nline2");
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_EOF);
	lex_end(&l);
}

static void test_multiline(void **state)
{
	struct lexed l;
	struct sieve_token t;

	(void)state;
	/* RFC 5228 2.4.2: a leading ".." stands for ".", "." alone ends. */
	lex_start(&l, "text: # comment\r\nfirst\r\n..dotted\r\n.\r\n;");
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_MLSTRING);
	assert_string_equal(t.str.s, "first\r\n.dotted\r\n");
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_SEMICOLON);
	assert_int_equal(t.line, 5);
	lex_end(&l);

	lex_start(&l, "text:\nunterminated\n");
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_ERROR);
	assert_non_null(strstr(buf_cstr(&l.errs.text), "t:1:1: error: end of file"));
	lex_end(&l);

	lex_start(&l, "text: junk\nx\n.\n");
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_ERROR);
	assert_int_equal(l.errs.errors, 1);
	lex_end(&l);
}

static void test_comments(void **state)
{
	struct lexed l;
	struct sieve_token t;

	(void)state;
	lex_start(&l, "# hash\n/* bracket\n comment */ keep /* x */;\n# at end");
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_IDENT);
	assert_string_equal(t.ident, "keep");
	assert_int_equal(t.line, 3);
	assert_int_equal(t.col, 13);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_SEMICOLON);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_EOF);
	lex_end(&l);

	lex_start(&l, "keep;\n  /* not closed");
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_IDENT);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_SEMICOLON);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_ERROR);
	assert_non_null(strstr(buf_cstr(&l.errs.text), "t:2:3: error: end of file before end of "
						       "bracket comment"));
	/* After an error the lexer stays at the error. */
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_ERROR);
	lex_end(&l);
}

static void test_errors(void **state)
{
	struct lexed l;
	struct sieve_token t;

	(void)state;
	lex_start(&l, "keep\n  @");
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_IDENT);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_ERROR);
	assert_string_equal(buf_cstr(&l.errs.text), "t:2:3: error: unexpected character '@'\n");
	lex_end(&l);

	lex_start(&l, "\"never closed");
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_ERROR);
	lex_end(&l);

	lex_start(&l, ": x");
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_ERROR);
	lex_end(&l);

	/* A number directly followed by letters is two tokens (RFC 5228 8.1);
	   the parser decides whether that makes sense. */
	lex_start(&l, "12Kabc");
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_NUMBER);
	assert_int_equal(t.number, 12 * 1024);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_IDENT);
	assert_string_equal(t.ident, "abc");
	lex_end(&l);
}

static void test_columns_utf8(void **state)
{
	struct lexed l;
	struct sieve_token t;

	(void)state;
	/* Columns count characters, not bytes. */
	lex_start(&l, "\"\xc3\xa9\xc3\xa9\" x");
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_STRING);
	assert_int_equal(t.str.len, 4);
	assert_int_equal(next_type(&l, &t), SIEVE_TOK_IDENT);
	assert_int_equal(t.col, 6);
	lex_end(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens),	       cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_quoted_strings), cmocka_unit_test(test_multiline),
		cmocka_unit_test(test_comments),       cmocka_unit_test(test_errors),
		cmocka_unit_test(test_columns_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
