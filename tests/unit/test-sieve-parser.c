/*
 * Unit tests for the Sieve parser and validator (lda/sieve/sieve-parser.c,
 * sieve-validate.c): the syntax tree of RFC 5228's example script, every
 * error collected with line and column, require rules, extension switches,
 * tagged arguments and the nesting and size limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../lda/sieve/sieve-private.h"

/* RFC 5228 section 9, the example filter. */
static const char rfc5228_example[] =
	"#\r\n"
	"# Example Sieve Filter\r\n"
	"# Declare any optional features or extension used by the script\r\n"
	"#\r\n"
	"require [\"fileinto\"];\r\n"
	"\r\n"
	"#\r\n"
	"# Handle messages from known mailing lists\r\n"
	"# Move messages from IETF filter discussion list to filter mailbox\r\n"
	"#\r\n"
	"if header :is \"Sender\" \"owner-ietf-mta-filters@imc.org\"\r\n"
	"        {\r\n"
	"        fileinto \"filter\";  # move to \"filter\" mailbox\r\n"
	"        }\r\n"
	"#\r\n"
	"# Keep all messages to or from people in my company\r\n"
	"#\r\n"
	"elsif address :DOMAIN :is [\"From\", \"To\"] \"example.com\"\r\n"
	"        {\r\n"
	"        keep;               # keep in \"In\" mailbox\r\n"
	"        }\r\n"
	"\r\n"
	"#\r\n"
	"# Try and catch unsolicited email.  If a message is not to me,\r\n"
	"# or it contains a subject known to be spam, file it away.\r\n"
	"#\r\n"
	"elsif anyof (NOT address :all :contains\r\n"
	"               [\"To\", \"Cc\", \"Bcc\"] \"me@example.com\",\r\n"
	"             header :matches \"subject\"\r\n"
	"               [\"*make*money*fast*\", \"*university*dipl*mas*\"])\r\n"
	"        {\r\n"
	"        fileinto \"spam\";   # move to \"spam\" mailbox\r\n"
	"        }\r\n"
	"else\r\n"
	"        {\r\n"
	"        # Move all other (non-company) mail to \"personal\"\r\n"
	"        # mailbox.\r\n"
	"        fileinto \"personal\";\r\n"
	"        }\r\n";

struct compiled {
	struct sieve_settings *set;
	struct sieve_error_list errs;
	struct sieve_script *script;
};

static struct sieve_script *compile(struct compiled *c, const char *text)
{
	c->set = sieve_settings_create();
	sieve_error_list_init(&c->errs);
	c->script = sieve_compile(c->set, "s", text, strlen(text), &c->errs);
	return c->script;
}

static void compiled_free(struct compiled *c)
{
	sieve_script_free(&c->script);
	sieve_error_list_free(&c->errs);
	sieve_settings_free(&c->set);
}

static void test_rfc5228_example(void **state)
{
	struct compiled c;
	struct sieve_ast_node *node;

	(void)state;
	assert_non_null(compile(&c, rfc5228_example));
	assert_int_equal(c.errs.errors, 0);
	assert_int_equal(c.script->cmds_count, 5);
	assert_string_equal(c.script->cmds[0]->name, "require");
	node = c.script->cmds[1];
	assert_string_equal(node->name, "if");
	assert_int_equal(node->line, 11);
	assert_int_equal(node->tests_count, 1);
	assert_string_equal(node->tests[0]->name, "header");
	assert_int_equal(node->tests[0]->args_count, 3);
	assert_int_equal(node->block_count, 1);
	node = c.script->cmds[3];
	assert_string_equal(node->name, "elsif");
	assert_string_equal(node->tests[0]->name, "anyof");
	assert_true(node->tests[0]->test_list);
	assert_int_equal(node->tests[0]->tests_count, 2);
	assert_string_equal(node->tests[0]->tests[0]->name, "NOT");
	assert_string_equal(c.script->cmds[4]->name, "else");
	assert_true(c.script->required[SIEVE_EXT_FILEINTO]);
	compiled_free(&c);
}

static void test_all_errors_reported(void **state)
{
	struct compiled c;
	const char *text;

	(void)state;
	assert_null(compile(&c, "require \"fileinto\";\n"
				"frobnicate;\n"
				"if header :bogus \"a\" \"b\" { keep; }\n"
				"fileinto;\n"
				"if true { redirect \"not an address\"; }\n"));
	text = buf_cstr(&c.errs.text);
	assert_int_equal(c.errs.errors, 4);
	assert_non_null(strstr(text, "s:2:1: error: unknown command 'frobnicate'"));
	assert_non_null(strstr(text, "s:3:11: error: unknown tagged argument ':bogus' for the "
				     "header test"));
	assert_non_null(strstr(text, "s:4:1: error: the fileinto command requires 1 positional "
				     "argument(s), but 0 were found"));
	assert_non_null(strstr(text, "s:5:20: error: specified redirect address 'not an "
				     "address' is invalid"));
	compiled_free(&c);
}

static void test_syntax_error_resync(void **state)
{
	struct compiled c;
	const char *text;

	(void)state;
	/* After a syntax error parsing goes on at the next ';' or '}'. */
	assert_null(compile(&c, "keep ]\ndiscard;\nstop )\nkeep;\n"));
	text = buf_cstr(&c.errs.text);
	assert_int_equal(c.errs.errors, 2);
	assert_non_null(strstr(text, "s:1:6: error: expected end of command ';'"));
	assert_non_null(strstr(text, "s:3:6: error: expected end of command ';'"));
	compiled_free(&c);
}

static void test_errors_sorted_after_syntax_error(void **state)
{
	struct compiled c;
	const char *text;

	(void)state;
	/* A syntax error does not hide the other errors; they come by line. */
	assert_null(compile(&c, "frob;\nkeep ];\nfileinto \"x\";\n"));
	text = buf_cstr(&c.errs.text);
	assert_int_equal(c.errs.errors, 3);
	assert_true(strstr(text, "s:1:1:") < strstr(text, "s:2:6:"));
	assert_true(strstr(text, "s:2:6:") < strstr(text, "s:3:1:"));
	compiled_free(&c);
}

static void test_stray_brace(void **state)
{
	struct compiled c;

	(void)state;
	/* Regression (fuzzing): parsing resumed after a stray '}' must keep
	   the commands already read. */
	assert_null(compile(&c, "keep; }\nkeep;\nif true { stop; }\n}\ndiscard;\n"));
	assert_int_equal(c.errs.errors, 2);
	assert_non_null(strstr(buf_cstr(&c.errs.text), "s:1:7: error: unexpected '}'"));
	assert_non_null(strstr(buf_cstr(&c.errs.text), "s:4:1: error: unexpected '}'"));
	compiled_free(&c);
}

static void test_require_rules(void **state)
{
	struct compiled c;

	(void)state;
	assert_null(compile(&c, "keep;\nrequire \"fileinto\";\n"));
	assert_non_null(strstr(buf_cstr(&c.errs.text),
			       "s:2:1: error: require commands can only be placed at top level"));
	compiled_free(&c);

	assert_null(compile(&c, "require [\"fileinto\", \"x-nope\"];\n"));
	assert_non_null(strstr(buf_cstr(&c.errs.text),
			       "s:1:22: error: require command: unknown Sieve capability "
			       "`x-nope'"));
	compiled_free(&c);

	/* Using an extension without requiring it gives a hint. */
	assert_null(compile(&c, "fileinto \"A\";\n"));
	assert_non_null(strstr(buf_cstr(&c.errs.text), "maybe you need to require the "
						       "\"fileinto\" extension"));
	compiled_free(&c);

	/* vacation-seconds implies vacation (RFC 6131 section 2). */
	c.set = sieve_settings_create();
	assert_true(sieve_settings_set_extensions(c.set, "+vacation-seconds", &(const char *){""}));
	sieve_error_list_init(&c.errs);
	c.script =
		sieve_compile(c.set, "s", "require \"vacation-seconds\";\nvacation \"x\";\n",
			      strlen("require \"vacation-seconds\";\nvacation \"x\";\n"), &c.errs);
	assert_non_null(c.script);
	compiled_free(&c);
}

static void test_extension_settings(void **state)
{
	struct sieve_settings *set = sieve_settings_create();
	struct sieve_error_list errs;
	struct sieve_script *s;
	const char *text = "require \"editheader\";\naddheader \"X-A\" \"b\";\n";
	const char *error;

	(void)state;
	/* editheader is off by default, as in Pigeonhole. */
	sieve_error_list_init(&errs);
	assert_null(sieve_compile(set, "s", text, strlen(text), &errs));
	sieve_error_list_free(&errs);
	assert_true(sieve_settings_set_extensions(set, "+editheader -vacation", &error));
	assert_true(set->extensions[SIEVE_EXT_EDITHEADER]);
	assert_false(set->extensions[SIEVE_EXT_VACATION]);
	assert_true(set->extensions[SIEVE_EXT_FILEINTO]);
	sieve_error_list_init(&errs);
	s = sieve_compile(set, "s", text, strlen(text), &errs);
	assert_non_null(s);
	sieve_script_free(&s);
	sieve_error_list_free(&errs);
	/* A list without +/- replaces the set. */
	assert_true(sieve_settings_set_extensions(set, "fileinto envelope", &error));
	assert_true(set->extensions[SIEVE_EXT_FILEINTO]);
	assert_false(set->extensions[SIEVE_EXT_BODY]);
	assert_false(sieve_settings_set_extensions(set, "+nonsense", &error));
	assert_non_null(strstr(error, "nonsense"));
	assert_int_equal(sieve_settings_set(set, "plugin/sieve_max_actions", "7", &error), 1);
	assert_int_equal(set->max_actions, 7);
	assert_int_equal(sieve_settings_set(set, "sieve_max_script_size", "1k", &error), 1);
	assert_int_equal(set->max_script_size, 1024);
	assert_int_equal(sieve_settings_set(set, "sieve_vacation_min_period", "1h", &error), 1);
	assert_int_equal(set->vacation_min_period, 3600);
	assert_int_equal(sieve_settings_set(set, "sieve_max_actions", "many", &error), -1);
	assert_int_equal(sieve_settings_set(set, "mail_location", "x", &error), 0);
	sieve_settings_free(&set);
	assert_null(set);
}

static void test_limits(void **state)
{
	struct compiled c;
	struct buf b;
	unsigned int i;

	(void)state;
	buf_init(&b, 64 * 1024);
	for (i = 0; i < SIEVE_MAX_NESTING + 1; i++)
		(void)buf_append_str(&b, "if true {\n");
	(void)buf_append_str(&b, "keep;\n");
	for (i = 0; i < SIEVE_MAX_NESTING + 1; i++)
		(void)buf_append_str(&b, "}\n");
	assert_null(compile(&c, buf_cstr(&b)));
	assert_non_null(strstr(buf_cstr(&c.errs.text), "s:33:9: error: cannot nest command "
						       "blocks deeper than 32 levels"));
	compiled_free(&c);
	buf_reset(&b);
	(void)buf_append_str(&b, "if ");
	for (i = 0; i < SIEVE_MAX_NESTING + 2; i++)
		(void)buf_append_str(&b, "not ");
	(void)buf_append_str(&b, "true { keep; }\n");
	assert_null(compile(&c, buf_cstr(&b)));
	assert_non_null(strstr(buf_cstr(&c.errs.text), "cannot nest tests deeper"));
	compiled_free(&c);
	buf_free(&b);

	c.set = sieve_settings_create();
	c.set->max_script_size = 10;
	sieve_error_list_init(&c.errs);
	c.script = sieve_compile(c.set, "s", "keep; keep; keep;", 17, &c.errs);
	assert_null(c.script);
	assert_non_null(strstr(buf_cstr(&c.errs.text), "script is too large (max 10 bytes)"));
	compiled_free(&c);
}

static void test_control_and_tags(void **state)
{
	struct compiled c;

	(void)state;
	assert_null(compile(&c, "else { keep; }\n"));
	assert_non_null(strstr(buf_cstr(&c.errs.text), "the else command must follow an if"));
	compiled_free(&c);

	assert_null(compile(&c, "if size :over 1 :under 5 { keep; }\n"));
	assert_non_null(strstr(buf_cstr(&c.errs.text), "exactly one of the ':under' or ':over'"));
	compiled_free(&c);

	assert_null(compile(&c, "if header :is :contains \"a\" \"b\" { keep; }\n"));
	assert_non_null(strstr(buf_cstr(&c.errs.text), "multiple match type arguments"));
	compiled_free(&c);

	assert_null(compile(&c, "require \"comparator-i;ascii-numeric\";\n"
				"if header :comparator \"i;ascii-numeric\" :contains \"a\" \"1\" "
				"{ keep; }\n"));
	assert_non_null(strstr(buf_cstr(&c.errs.text), "does not support sub-string matching"));
	compiled_free(&c);

	assert_null(compile(&c, "if header \"subject\" :is \"x\" { keep; }\n"));
	assert_non_null(strstr(buf_cstr(&c.errs.text), "must come before its positional"));
	compiled_free(&c);

	assert_null(compile(&c, "keep { stop; }\n"));
	assert_non_null(strstr(buf_cstr(&c.errs.text), "does not accept a command block"));
	compiled_free(&c);

	assert_null(compile(&c, "if true;\n"));
	assert_non_null(strstr(buf_cstr(&c.errs.text), "requires a command block"));
	compiled_free(&c);

	/* Identifiers and tags are case-insensitive (RFC 5228 2.5). */
	assert_non_null(compile(&c, "IF HeAdEr :CONTAINS \"Subject\" \"x\" { KEEP; }\n"));
	compiled_free(&c);
}

static void test_strings_compiled(void **state)
{
	struct compiled c;
	const struct sieve_tstr *t;

	(void)state;
	/* encoded-character (RFC 5228 2.4.2.4) is decoded at compile time. */
	assert_non_null(compile(&c, "require [\"encoded-character\", \"fileinto\"];\n"
				    "fileinto \"${hex:41 42}${unicode:263a}\";\n"));
	t = c.script->cmds[1]->data;
	assert_true(sieve_tstr_is_const(t));
	assert_string_equal(t->lit.s, "AB\xe2\x98\xba");
	compiled_free(&c);

	/* Variables become template parts (RFC 5229 section 3). */
	assert_non_null(compile(&c, "require [\"variables\", \"fileinto\"];\n"
				    "set \"x\" \"1\";\nfileinto \"a${x}b${1}c${not valid}\";\n"));
	t = c.script->cmds[2]->data;
	assert_int_equal(t->parts_count, 5);
	assert_int_equal(t->parts[1].type, SIEVE_TPART_LOCAL);
	assert_int_equal(t->parts[3].type, SIEVE_TPART_MATCH);
	assert_int_equal(t->parts[3].index, 1);
	assert_string_equal(t->parts[4].lit.s, "c${not valid}");
	compiled_free(&c);

	/* Without the variables extension "${x}" is plain text. */
	assert_non_null(compile(&c, "require \"fileinto\";\nfileinto \"${x}\";\n"));
	t = c.script->cmds[1]->data;
	assert_true(sieve_tstr_is_const(t));
	compiled_free(&c);

	assert_null(compile(&c, "require \"variables\";\nset \"a\" \"${foo.bar}\";\n"));
	assert_non_null(strstr(buf_cstr(&c.errs.text), "unknown namespace 'foo'"));
	compiled_free(&c);

	assert_null(compile(&c, "require \"regex\";\nif header :regex \"s\" \"(\" { keep; }\n"));
	assert_non_null(strstr(buf_cstr(&c.errs.text), "invalid regular expression"));
	compiled_free(&c);
}

static void test_ihave_guard(void **state)
{
	struct compiled c;

	(void)state;
	/* RFC 5463: a block behind an unsupported capability is not checked. */
	assert_non_null(compile(&c, "require \"ihave\";\n"
				    "if ihave \"x-unknown\" { frob \"x\"; } else { keep; }\n"));
	compiled_free(&c);
	/* A supported one becomes usable without require. */
	assert_non_null(compile(&c, "require \"ihave\";\n"
				    "if ihave \"fileinto\" { fileinto \"x\"; }\n"));
	compiled_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5228_example),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_syntax_error_resync),
		cmocka_unit_test(test_errors_sorted_after_syntax_error),
		cmocka_unit_test(test_stray_brace),
		cmocka_unit_test(test_require_rules),
		cmocka_unit_test(test_extension_settings),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_control_and_tags),
		cmocka_unit_test(test_strings_compiled),
		cmocka_unit_test(test_ihave_guard),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
