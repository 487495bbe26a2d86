/*
 * libFuzzer harness for the Sieve tokenizer (lda/sieve/sieve-lexer.c):
 * tokenizes arbitrary script text to the end, checking that every token
 * lies within the input's lines and that an error stops the lexer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lda/sieve/sieve-lexer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pool *pool = pool_create(16 << 20);
	struct sieve_error_list errs;
	struct sieve_lexer lx;
	struct sieve_token tok;
	unsigned int lines = 1, guard = 0;
	size_t i;

	for (i = 0; i < size; i++) {
		if (data[i] == '\n')
			lines++;
	}
	sieve_error_list_init(&errs);
	sieve_lexer_init(&lx, pool, "fuzz", (const char *)data, size, &errs);
	do {
		sieve_lexer_next(&lx, &tok);
		if (tok.line > lines ||
		    (tok.type != SIEVE_TOK_EOF && tok.type != SIEVE_TOK_ERROR && tok.line == 0))
			abort();
		if ((tok.type == SIEVE_TOK_STRING || tok.type == SIEVE_TOK_MLSTRING) &&
		    (tok.str.s == NULL || tok.str.s[tok.str.len] != '\0'))
			abort();
		if (++guard > size + 2)
			abort();
	} while (tok.type != SIEVE_TOK_EOF && tok.type != SIEVE_TOK_ERROR);
	if (tok.type == SIEVE_TOK_ERROR) {
		/* An error is reported once and the lexer stays stopped. */
		if (errs.errors == 0)
			abort();
		sieve_lexer_next(&lx, &tok);
		if (tok.type != SIEVE_TOK_ERROR)
			abort();
	}
	sieve_lexer_deinit(&lx);
	sieve_error_list_free(&errs);
	pool_destroy(&pool);
	return 0;
}
