/*
 * Unit tests for lib/pop3-cmd.c: keywords, arguments, the whole rest of
 * the line for PASS, and refusals of malformed lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pop3-cmd.h"

static bool parse(const char *line, struct pop3_cmd *cmd)
{
	return pop3_cmd_parse(line, strlen(line), cmd);
}

static void test_commands(void **state)
{
	struct pop3_cmd cmd;

	(void)state;
	assert_true(parse("capa\r", &cmd));
	assert_string_equal(cmd.name, "CAPA");
	assert_int_equal(cmd.argc, 0);
	assert_string_equal(cmd.rest, "");
	assert_true(parse("USER jdoe@example.com", &cmd));
	assert_string_equal(cmd.name, "USER");
	assert_int_equal(cmd.argc, 1);
	assert_string_equal(cmd.args[0], "jdoe@example.com");
	assert_true(parse("PASS two words  and spaces", &cmd));
	assert_string_equal(cmd.rest, "two words  and spaces");
	assert_true(parse("TOP 1 10", &cmd));
	assert_int_equal(cmd.argc, 2);
	assert_string_equal(cmd.args[1], "10");
	assert_true(parse("AUTH PLAIN AGpkb2UAc2VjcmV0", &cmd));
	assert_string_equal(cmd.args[1], "AGpkb2UAc2VjcmV0");
}

static void test_refusals(void **state)
{
	struct pop3_cmd cmd;
	char huge[POP3_LINE_MAX + 10];

	(void)state;
	assert_false(parse("", &cmd));
	assert_false(parse("\r", &cmd));
	assert_false(parse(" USER x", &cmd));
	assert_false(parse("US\001ER x", &cmd));
	assert_false(parse("1USER", &cmd));
	assert_true(parse("LIST 1  2", &cmd) && cmd.args_bad && cmd.argc == 0);
	assert_true(parse("LIST 1 ", &cmd) && cmd.args_bad);
	assert_true(parse("A B C D E F", &cmd) && cmd.args_bad);
	assert_false(pop3_cmd_parse("US\0R", 4, &cmd));
	memset(huge, 'A', sizeof(huge));
	assert_false(pop3_cmd_parse(huge, sizeof(huge), &cmd));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
