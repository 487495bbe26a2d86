/*
 * Sieve parser: turns the token stream into the syntax tree of RFC 5228
 * section 8.2 (commands, arguments, tests, blocks) in the script's pool.
 * Runs in roost-lda and roostadm on untrusted scripts; nesting is bounded
 * by SIEVE_MAX_NESTING and after a syntax error it resynchronises at the
 * next ';' or '}' so that later errors are reported too.
 */
#include <string.h>

#include "sieve-lexer.h"

struct parser {
	struct sieve_lexer lx;
	struct sieve_token tok; /* current token */
	struct sieve_script *script;
	struct sieve_error_list *errs;
	bool failed;
	bool oom;
};

static void ATTR_PRINTF(4, 5)
	parse_error(struct parser *ps, unsigned int line, unsigned int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sieve_errors_add(ps->errs, ps->script->name, line, col, false, fmt, ap);
	va_end(ap);
	ps->failed = true;
}

static void next(struct parser *ps)
{
	sieve_lexer_next(&ps->lx, &ps->tok);
	if (ps->tok.type == SIEVE_TOK_ERROR)
		ps->failed = true;
}

bool sieve_parray_grow(struct pool *pool, void **arr, unsigned int *alloc, unsigned int need,
		       size_t elem)
{
	unsigned int n;
	void *p;

	if (need <= *alloc)
		return true;
	n = *alloc < 4 ? 4 : *alloc;
	while (n < need) {
		if (n > UINT32_MAX / 2)
			return false;
		n *= 2;
	}
	if (*arr == NULL)
		p = p_malloc_array(pool, n, elem);
	else
		p = p_realloc(pool, *arr, (size_t)*alloc * elem, (size_t)n * elem);
	if (p == NULL)
		return false;
	*arr = p;
	*alloc = n;
	return true;
}

static bool out_of_memory(struct parser *ps)
{
	if (!ps->oom) {
		parse_error(ps, ps->tok.line, ps->tok.col, "script is too complex (out of memory)");
		ps->oom = true;
	}
	return false;
}

/* Skips to a point where parsing can resume: after ';' or before '}'. */
static void resync(struct parser *ps)
{
	unsigned int depth = 0;

	for (;;) {
		switch (ps->tok.type) {
		case SIEVE_TOK_EOF:
		case SIEVE_TOK_ERROR:
			return;
		case SIEVE_TOK_LBRACE:
		case SIEVE_TOK_LBRACKET:
		case SIEVE_TOK_LPAREN:
			depth++;
			break;
		case SIEVE_TOK_RBRACKET:
		case SIEVE_TOK_RPAREN:
			if (depth > 0)
				depth--;
			break;
		case SIEVE_TOK_RBRACE:
			if (depth == 0)
				return;
			depth--;
			if (depth == 0) {
				next(ps);
				return;
			}
			break;
		case SIEVE_TOK_SEMICOLON:
			if (depth == 0) {
				next(ps);
				return;
			}
			break;
		default:
			break;
		}
		next(ps);
	}
}

static bool parse_string_list(struct parser *ps, struct sieve_ast_arg *arg)
{
	unsigned int alloc = 0, lalloc = 0, calloc_ = 0;

	arg->type = SIEVE_ARG_STRLIST;
	next(ps); /* '[' */
	for (;;) {
		if (ps->tok.type != SIEVE_TOK_STRING && ps->tok.type != SIEVE_TOK_MLSTRING) {
			if (ps->tok.type != SIEVE_TOK_ERROR) {
				parse_error(ps, ps->tok.line, ps->tok.col,
					    "expecting string after '[' or ',' in string list, "
					    "but found %s",
					    sieve_token_name(ps->tok.type));
			}
			return false;
		}
		if (!sieve_parray_grow(ps->script->pool, (void **)&arg->strs, &alloc,
				       arg->count + 1, sizeof(*arg->strs)) ||
		    !sieve_parray_grow(ps->script->pool, (void **)&arg->str_lines, &lalloc,
				       arg->count + 1, sizeof(*arg->str_lines)) ||
		    !sieve_parray_grow(ps->script->pool, (void **)&arg->str_cols, &calloc_,
				       arg->count + 1, sizeof(*arg->str_cols)))
			return out_of_memory(ps);
		arg->strs[arg->count] = ps->tok.str;
		arg->str_lines[arg->count] = ps->tok.line;
		arg->str_cols[arg->count] = ps->tok.col;
		arg->count++;
		next(ps);
		if (ps->tok.type == SIEVE_TOK_COMMA) {
			next(ps);
			continue;
		}
		if (ps->tok.type == SIEVE_TOK_RBRACKET) {
			next(ps);
			return true;
		}
		if (ps->tok.type != SIEVE_TOK_ERROR) {
			parse_error(ps, ps->tok.line, ps->tok.col,
				    "expecting ',' or end of string list ']', but found %s",
				    sieve_token_name(ps->tok.type));
		}
		return false;
	}
}

static struct sieve_ast_node *parse_test(struct parser *ps, unsigned int depth);

/* Parses arguments and an optional test or test list into node. */
static bool parse_arguments(struct parser *ps, struct sieve_ast_node *node, unsigned int depth)
{
	unsigned int alloc = 0;

	for (;;) {
		struct sieve_ast_arg *arg;

		switch (ps->tok.type) {
		case SIEVE_TOK_NUMBER:
		case SIEVE_TOK_TAG:
		case SIEVE_TOK_STRING:
		case SIEVE_TOK_MLSTRING:
		case SIEVE_TOK_LBRACKET:
			break;
		default:
			goto tests;
		}
		if (!sieve_parray_grow(ps->script->pool, (void **)&node->args, &alloc,
				       node->args_count + 1, sizeof(*node->args)))
			return out_of_memory(ps);
		arg = &node->args[node->args_count++];
		memset(arg, 0, sizeof(*arg));
		arg->line = ps->tok.line;
		arg->col = ps->tok.col;
		switch (ps->tok.type) {
		case SIEVE_TOK_NUMBER:
			arg->type = SIEVE_ARG_NUMBER;
			arg->number = ps->tok.number;
			next(ps);
			break;
		case SIEVE_TOK_TAG:
			arg->type = SIEVE_ARG_TAG;
			arg->tag = ps->tok.ident;
			next(ps);
			break;
		case SIEVE_TOK_STRING:
		case SIEVE_TOK_MLSTRING:
			arg->type = SIEVE_ARG_STRING;
			arg->strs = p_malloc(ps->script->pool, sizeof(*arg->strs));
			arg->str_lines = p_malloc(ps->script->pool, sizeof(*arg->str_lines));
			arg->str_cols = p_malloc(ps->script->pool, sizeof(*arg->str_cols));
			if (arg->strs == NULL || arg->str_lines == NULL || arg->str_cols == NULL)
				return out_of_memory(ps);
			arg->strs[0] = ps->tok.str;
			arg->str_lines[0] = ps->tok.line;
			arg->str_cols[0] = ps->tok.col;
			arg->count = 1;
			next(ps);
			break;
		default:
			if (!parse_string_list(ps, arg))
				return false;
			break;
		}
	}
tests:
	if (ps->tok.type == SIEVE_TOK_IDENT) {
		struct sieve_ast_node *t = parse_test(ps, depth + 1);

		if (t == NULL)
			return false;
		node->tests = p_malloc(ps->script->pool, sizeof(*node->tests));
		if (node->tests == NULL)
			return out_of_memory(ps);
		node->tests[0] = t;
		node->tests_count = 1;
	} else if (ps->tok.type == SIEVE_TOK_LPAREN) {
		unsigned int talloc = 0;

		node->test_list = true;
		next(ps);
		for (;;) {
			struct sieve_ast_node *t;

			if (ps->tok.type != SIEVE_TOK_IDENT) {
				if (ps->tok.type != SIEVE_TOK_ERROR) {
					parse_error(ps, ps->tok.line, ps->tok.col,
						    "expecting test identifier after '(' or ',' "
						    "in test list, but found %s",
						    sieve_token_name(ps->tok.type));
				}
				return false;
			}
			t = parse_test(ps, depth + 1);
			if (t == NULL)
				return false;
			if (!sieve_parray_grow(ps->script->pool, (void **)&node->tests, &talloc,
					       node->tests_count + 1, sizeof(*node->tests)))
				return out_of_memory(ps);
			node->tests[node->tests_count++] = t;
			if (ps->tok.type == SIEVE_TOK_COMMA) {
				next(ps);
				continue;
			}
			if (ps->tok.type == SIEVE_TOK_RPAREN) {
				next(ps);
				break;
			}
			if (ps->tok.type != SIEVE_TOK_ERROR) {
				parse_error(ps, ps->tok.line, ps->tok.col,
					    "expecting ',' or end of test list ')', but found %s",
					    sieve_token_name(ps->tok.type));
			}
			return false;
		}
	}
	return true;
}

static struct sieve_ast_node *new_node(struct parser *ps)
{
	struct sieve_ast_node *node = p_malloc(ps->script->pool, sizeof(*node));

	if (node == NULL) {
		(void)out_of_memory(ps);
		return NULL;
	}
	node->name = ps->tok.ident;
	node->line = ps->tok.line;
	node->col = ps->tok.col;
	return node;
}

static struct sieve_ast_node *parse_test(struct parser *ps, unsigned int depth)
{
	struct sieve_ast_node *node;

	if (depth > SIEVE_MAX_NESTING) {
		parse_error(ps, ps->tok.line, ps->tok.col,
			    "cannot nest tests deeper than %u levels", SIEVE_MAX_NESTING);
		return NULL;
	}
	node = new_node(ps);
	if (node == NULL)
		return NULL;
	node->is_test = true;
	next(ps);
	if (!parse_arguments(ps, node, depth))
		return NULL;
	return node;
}

static bool parse_commands(struct parser *ps, struct sieve_ast_node ***cmds_r,
			   unsigned int *count_r, unsigned int depth);

static struct sieve_ast_node *parse_command(struct parser *ps, unsigned int depth)
{
	struct sieve_ast_node *node = new_node(ps);

	if (node == NULL)
		return NULL;
	next(ps);
	if (!parse_arguments(ps, node, 0))
		return NULL;
	if (ps->tok.type == SIEVE_TOK_SEMICOLON) {
		next(ps);
		return node;
	}
	if (ps->tok.type == SIEVE_TOK_LBRACE) {
		unsigned int line = ps->tok.line, col = ps->tok.col;

		if (depth + 1 > SIEVE_MAX_NESTING) {
			parse_error(ps, line, col,
				    "cannot nest command blocks deeper than %u levels",
				    SIEVE_MAX_NESTING);
			return NULL;
		}
		next(ps);
		node->has_block = true;
		if (!parse_commands(ps, &node->block, &node->block_count, depth + 1))
			return NULL;
		if (ps->tok.type != SIEVE_TOK_RBRACE) {
			if (ps->tok.type == SIEVE_TOK_EOF) {
				parse_error(ps, line, col,
					    "end of file before end of command block '{' "
					    "started here");
			} else if (ps->tok.type != SIEVE_TOK_ERROR) {
				parse_error(ps, ps->tok.line, ps->tok.col,
					    "expected end of command block '}', but found %s",
					    sieve_token_name(ps->tok.type));
			}
			return NULL;
		}
		next(ps);
		return node;
	}
	if (ps->tok.type != SIEVE_TOK_ERROR) {
		parse_error(ps, ps->tok.line, ps->tok.col,
			    "expected end of command ';' or the beginning of a compound block "
			    "'{', but found %s",
			    sieve_token_name(ps->tok.type));
	}
	return NULL;
}

static bool parse_commands(struct parser *ps, struct sieve_ast_node ***cmds_r,
			   unsigned int *count_r, unsigned int depth)
{
	/* Called again on the same list after a stray '}': the array holds at
	   least *count_r entries, which a regrowth must keep. */
	unsigned int alloc = *count_r;

	for (;;) {
		struct sieve_ast_node *cmd;

		if (ps->tok.type == SIEVE_TOK_EOF || ps->tok.type == SIEVE_TOK_RBRACE)
			return true;
		if (ps->tok.type == SIEVE_TOK_ERROR || ps->oom)
			return false;
		if (ps->errs != NULL && ps->errs->errors >= SIEVE_MAX_ERRORS)
			return false;
		if (ps->tok.type != SIEVE_TOK_IDENT) {
			parse_error(ps, ps->tok.line, ps->tok.col,
				    "expected identifier (command), but found %s",
				    sieve_token_name(ps->tok.type));
			next(ps);
			resync(ps);
			continue;
		}
		cmd = parse_command(ps, depth);
		if (cmd == NULL) {
			if (ps->oom || ps->tok.type == SIEVE_TOK_ERROR)
				return false;
			resync(ps);
			continue;
		}
		if (!sieve_parray_grow(ps->script->pool, (void **)cmds_r, &alloc, *count_r + 1,
				       sizeof(**cmds_r)))
			return out_of_memory(ps);
		(*cmds_r)[(*count_r)++] = cmd;
	}
}

bool sieve_parse(struct sieve_script *script, const char *data, size_t size,
		 struct sieve_error_list *errs)
{
	struct parser ps;

	memset(&ps, 0, sizeof(ps));
	ps.script = script;
	ps.errs = errs;
	sieve_lexer_init(&ps.lx, script->pool, script->name, data, size, errs);
	next(&ps);
	for (;;) {
		(void)parse_commands(&ps, &script->cmds, &script->cmds_count, 0);
		if (ps.tok.type == SIEVE_TOK_RBRACE && !ps.oom) {
			parse_error(&ps, ps.tok.line, ps.tok.col,
				    "unexpected '}' without matching '{'");
			next(&ps);
			continue;
		}
		break;
	}
	sieve_lexer_deinit(&ps.lx);
	return !ps.failed && !ps.lx.failed;
}
