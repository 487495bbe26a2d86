/*
 * Unit tests for lib/imap-parser.c: RFC 3501/9051 command examples byte for
 * byte, literals of every kind (sync, LITERAL+, LITERAL-, literal8, streamed),
 * hostile input (unbalanced parentheses, huge literal sizes, NULs, 8-bit,
 * bare CR, LF-only lines), resynchronisation after every kind of error, and
 * the response writer. Every input is also fed one byte at a time and must
 * give the same events as when fed whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap-parser.h"

enum lit_policy {
	LIT_ACCEPT,	/* buffer every literal */
	LIT_STREAM,	/* stream every literal */
	LIT_STREAM_BIG, /* stream literals over 16 bytes */
	LIT_REJECT,	/* reject every literal */
};

/*
 * Feeds input in chunks of `chunk` bytes (0 = all at once) and returns a
 * trace of the events, one per line. Streamed data is collected and shown
 * once, so that the trace does not depend on chunking.
 */
static char *run(const char *input, size_t len, size_t chunk, enum lit_policy policy,
		 const struct imap_parser_limits *limits)
{
	struct imap_parser_limits deflimits;
	struct imap_parser *p;
	struct buf trace = BUF_INIT(1 << 24);
	struct buf data = BUF_INIT(1 << 24);
	size_t off = 0, window = 0;

	if (limits == NULL) {
		imap_parser_limits_default(&deflimits);
		limits = &deflimits;
	}
	p = imap_parser_create(limits);
	for (;;) {
		struct imap_parse_event ev;
		size_t consumed;
		enum imap_parse_result r;

		if (window == 0) {
			window = chunk == 0 ? len - off : chunk;
			if (window > len - off)
				window = len - off;
		}
		r = imap_parser_parse(p, input + off, window, &consumed, &ev);
		assert_true(consumed <= window);
		off += consumed;
		window -= consumed;
		switch (r) {
		case IMAP_PARSE_MORE:
			assert_int_equal(window, 0);
			if (off == len)
				goto done;
			break;
		case IMAP_PARSE_COMMAND:
			buf_printf(&trace, "CMD %s %s", ev.cmd->tag, ev.cmd->name);
			if (ev.cmd->argc > 0) {
				buf_append_c(&trace, ' ');
				assert_true(imap_args_write(&trace, ev.cmd->args, ev.cmd->argc, 0));
			}
			buf_append_c(&trace, '\n');
			break;
		case IMAP_PARSE_LITERAL:
			buf_printf(&trace, "LIT %llu%s%s%s\n", (unsigned long long)ev.literal.size,
				   ev.literal.sync ? " sync" : "",
				   ev.literal.binary ? " binary" : "",
				   ev.literal.over_limit ? " over" : "");
			if (policy == LIT_REJECT)
				imap_parser_literal_reject(p);
			else if (policy == LIT_STREAM ||
				 (policy == LIT_STREAM_BIG && ev.literal.size > 16))
				imap_parser_literal_stream(p);
			else if (!imap_parser_literal_accept(p))
				buf_append_str(&trace, "REFUSED\n");
			break;
		case IMAP_PARSE_LITERAL_DATA:
			buf_append(&data, ev.data, ev.data_len);
			if (ev.data_last) {
				buf_append_str(&trace, "DATA ");
				buf_append(&trace, buf_data(&data), buf_len(&data));
				buf_append_c(&trace, '\n');
				buf_reset(&data);
			}
			break;
		case IMAP_PARSE_ERROR:
			buf_printf(&trace, "ERR %s %s: %s%s\n", imap_parse_error_name(ev.error),
				   ev.error_tag != NULL ? ev.error_tag : "*", ev.error_msg,
				   ev.error_fatal ? " (fatal)" : "");
			if (ev.error_fatal)
				goto done;
			break;
		case IMAP_PARSE_LINE:
			fail();
		}
	}
done:
	if (!imap_parser_is_idle(p))
		buf_append_str(&trace, "PARTIAL\n");
	imap_parser_destroy(&p);
	assert_null(p);
	buf_free(&data);
	char *s = strndup(buf_cstr(&trace), buf_len(&trace));
	buf_free(&trace);
	return s;
}

/* Checks the trace whole, byte by byte and in 7-byte chunks. */
static void check_lim(const char *input, size_t len, enum lit_policy policy,
		      const struct imap_parser_limits *limits, const char *expected)
{
	static const size_t chunks[] = {0, 1, 7};

	for (size_t i = 0; i < N_ELEMENTS(chunks); i++) {
		char *got = run(input, len, chunks[i], policy, limits);

		if (strcmp(got, expected) != 0)
			print_error("chunk %zu:\n--- got\n%s--- expected\n%s", chunks[i], got,
				    expected);
		assert_string_equal(got, expected);
		free(got);
	}
}

/* A string literal and its length, NULs included. */
#define S(lit) lit, sizeof(lit) - 1

static void check(const char *input, const char *expected)
{
	check_lim(input, strlen(input), LIT_ACCEPT, NULL, expected);
}

static void test_rfc_examples(void **state)
{
	(void)state;
	/* RFC 3501 6.2.3 / RFC 9051 6.2.3 */
	check("a001 LOGIN SMITH SESAME\r\n", "CMD a001 LOGIN SMITH SESAME\n");
	/* RFC 3501 4.3 / 7.5: synchronizing literals */
	check("A001 LOGIN {11}\r\nFRED FOOBAR {7}\r\nfat man\r\n",
	      "LIT 11 sync\nLIT 7 sync\nCMD A001 LOGIN \"FRED FOOBAR\" \"fat man\"\n");
	/* RFC 3501 6.4.5 FETCH examples */
	check("A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n",
	      "CMD A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\n");
	check("a FETCH 1 BODY.PEEK[HEADER.FIELDS (A B)]<0.100>\r\n",
	      "CMD a FETCH 1 BODY.PEEK[HEADER.FIELDS (A B)]<0.100>\n");
	check("a fetch 1:* (uid body[1.2.mime] binary.peek[3]<0.1024> binary.size[1])\r\n",
	      "CMD a FETCH 1:* (uid body[1.2.mime] binary.peek[3]<0.1024> binary.size[1])\n");
	/* RFC 3501 6.3.8 LIST */
	check("A101 LIST \"\" \"\"\r\nA102 LIST #news.comp.mail.misc \"\"\r\n"
	      "A202 LIST ~/Mail/ %\r\nA1 LIST \"\" *\r\n",
	      "CMD A101 LIST \"\" \"\"\nCMD A102 LIST #news.comp.mail.misc \"\"\n"
	      "CMD A202 LIST ~/Mail/ %\nCMD A1 LIST \"\" *\n");
	/* RFC 3501 6.4.6 STORE, 6.4.8 UID */
	check("A003 STORE 2:4 +FLAGS (\\Deleted)\r\nA999 UID FETCH 4827313:4828442 FLAGS\r\n",
	      "CMD A003 STORE 2:4 +FLAGS (\\Deleted)\n"
	      "CMD A999 UID FETCH 4827313:4828442 FLAGS\n");
	/* RFC 3501 6.4.4 SEARCH with a literal charset argument */
	check("A284 SEARCH CHARSET UTF-8 TEXT {6}\r\nXXXXXX\r\n",
	      "LIT 6 sync\nCMD A284 SEARCH CHARSET UTF-8 TEXT \"XXXXXX\"\n");
	/* RFC 9051 6.3.4 ENABLE, 6.3.12 STATUS */
	check("t1 ENABLE IMAP4rev2\r\nA042 STATUS blurdybloop (UIDNEXT MESSAGES)\r\n",
	      "CMD t1 ENABLE IMAP4rev2\nCMD A042 STATUS blurdybloop (UIDNEXT MESSAGES)\n");
}

static const char rfc_message[] = "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n"
				  "From: Fred Foobar <foobar@Blurdybloop.COM>\r\n"
				  "Subject: afternoon meeting\r\n"
				  "To: mooch@owatagu.siam.edu\r\n"
				  "Message-Id: <B27397-0100000@Blurdybloop.COM>\r\n"
				  "MIME-Version: 1.0\r\n"
				  "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
				  "\r\n"
				  "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n";

static void test_append(void **state)
{
	char input[1024], expected[1024];
	int n;

	(void)state;
	assert_int_equal(strlen(rfc_message), 310);
	/* RFC 3501 6.3.11, buffered: the message comes back as a literal. */
	n = snprintf(input, sizeof(input), "A003 APPEND saved-messages (\\Seen) {310}\r\n%s\r\n",
		     rfc_message);
	snprintf(expected, sizeof(expected),
		 "LIT 310 sync\nCMD A003 APPEND saved-messages (\\Seen) {310}\r\n%s\n",
		 rfc_message);
	check_lim(input, (size_t)n, LIT_ACCEPT, NULL, expected);
	/* Streamed: the contents come as data events, the tree has no copy. */
	snprintf(expected, sizeof(expected),
		 "LIT 310 sync\nDATA %s\nCMD A003 APPEND saved-messages (\\Seen) {310}\n",
		 rfc_message);
	check_lim(input, (size_t)n, LIT_STREAM, NULL, expected);
	/* MULTIAPPEND with LITERAL+ and a date; an empty streamed literal. */
	check_lim(S("a APPEND box {3+}\r\nabc (\\Seen) \"7-Feb-1994 21:52:25 -0800\" {0+}\r\n\r\n"),
		  LIT_STREAM, NULL,
		  "LIT 3\nDATA abc\nLIT 0\nDATA \n"
		  "CMD a APPEND box {3} (\\Seen) \"7-Feb-1994 21:52:25 -0800\" {0}\n");
	/* Binary APPEND (RFC 3516): literal8 may hold NULs. */
	check_lim(S("a APPEND box ~{3}\r\nf\0o\r\n"), LIT_ACCEPT, NULL,
		  "LIT 3 sync binary\nCMD a APPEND box ~{3}\r\nf\0o\n");
	check_lim(S("a APPEND box ~{3+}\r\nxyz\r\n"), LIT_ACCEPT, NULL,
		  "LIT 3 binary\nCMD a APPEND box ~{3}\r\nxyz\n");
}

static void test_literal_info(void **state)
{
	struct imap_parser_limits limits;
	struct imap_parser *p;
	struct imap_parse_event ev;
	const char *in = "A1 APPEND INBOX (\\Seen \\Draft) {5}\r\nhello\r\n";
	size_t consumed, off = 0;

	(void)state;
	imap_parser_limits_default(&limits);
	limits.max_literal_size = 4;
	p = imap_parser_create(&limits);
	assert_int_equal(imap_parser_parse(p, in, strlen(in), &consumed, &ev), IMAP_PARSE_LITERAL);
	off += consumed;
	assert_int_equal(off, strlen("A1 APPEND INBOX (\\Seen \\Draft) {5}\r\n"));
	assert_string_equal(ev.literal.tag, "A1");
	assert_string_equal(ev.literal.name, "APPEND");
	assert_true(ev.literal.sync);
	assert_true(ev.literal.over_limit);
	assert_int_equal(ev.literal.depth, 0);
	assert_int_equal(ev.literal.index, 2);
	assert_int_equal(ev.literal.top_argc, 2);
	assert_true(imap_arg_atom_equals(&ev.literal.top_args[0], "inbox"));
	assert_non_null(ev.literal.prev);
	assert_int_equal(ev.literal.prev->type, IMAP_ARG_LIST);
	assert_int_equal(ev.literal.prev->len, 2);
	/* Too big to buffer, but the caller may stream it. */
	imap_parser_literal_stream(p);
	assert_int_equal(imap_parser_parse(p, in + off, 2, &consumed, &ev),
			 IMAP_PARSE_LITERAL_DATA);
	assert_int_equal(ev.data_len, 2);
	assert_false(ev.data_last);
	assert_ptr_equal(ev.data, in + off); /* zero copy */
	off += consumed;
	assert_int_equal(imap_parser_parse(p, in + off, strlen(in) - off, &consumed, &ev),
			 IMAP_PARSE_LITERAL_DATA);
	assert_int_equal(ev.data_len, 3);
	assert_true(ev.data_last);
	off += consumed;
	assert_int_equal(imap_parser_parse(p, in + off, strlen(in) - off, &consumed, &ev),
			 IMAP_PARSE_COMMAND);
	off += consumed;
	assert_int_equal(off, strlen(in));
	assert_int_equal(ev.cmd->argc, 3);
	assert_int_equal(ev.cmd->args[2].type, IMAP_ARG_LITERAL);
	assert_true((ev.cmd->args[2].flags & IMAP_ARG_FLAG_STREAMED) != 0);
	assert_null(ev.cmd->args[2].str);
	assert_int_equal(ev.cmd->args[2].len, 5);
	assert_true(imap_parser_is_idle(p));
	imap_parser_destroy(&p);

	/* Inside a list: CATENATE-style nesting is visible to the caller. */
	p = imap_parser_create(&limits);
	in = "B APPEND box CATENATE (TEXT {2+}\r\nhi)\r\n";
	assert_int_equal(imap_parser_parse(p, in, strlen(in), &consumed, &ev), IMAP_PARSE_LITERAL);
	assert_int_equal(ev.literal.depth, 1);
	assert_int_equal(ev.literal.index, 1);
	assert_true(imap_arg_atom_equals(ev.literal.prev, "TEXT"));
	assert_int_equal(ev.literal.top_argc, 2);
	assert_false(ev.literal.sync);
	assert_true(imap_parser_literal_accept(p));
	off = consumed;
	assert_int_equal(imap_parser_parse(p, in + off, strlen(in) - off, &consumed, &ev),
			 IMAP_PARSE_COMMAND);
	imap_parser_destroy(&p);
}

static void test_strings(void **state)
{
	struct imap_parser_limits limits;
	struct imap_parser *p;
	struct imap_parse_event ev;
	const char *s;
	size_t len, consumed;
	const char *in =
		"x login \"fred \\\"x\\\" \\\\ y\" NIL nil \"NIL\" \"\" \"caf\xc3\xa9\"\r\n";

	(void)state;
	imap_parser_limits_default(&limits);
	p = imap_parser_create(&limits);
	assert_int_equal(imap_parser_parse(p, in, strlen(in), &consumed, &ev), IMAP_PARSE_COMMAND);
	assert_string_equal(ev.cmd->name, "LOGIN");
	assert_int_equal(ev.cmd->argc, 6);
	assert_true(imap_arg_get_string(&ev.cmd->args[0], &s, &len));
	assert_string_equal(s, "fred \"x\" \\ y");
	assert_int_equal(len, 12);
	assert_int_equal(ev.cmd->args[1].type, IMAP_ARG_NIL);
	assert_int_equal(ev.cmd->args[2].type, IMAP_ARG_NIL);
	assert_true(imap_arg_get_nstring(&ev.cmd->args[1], &s, &len));
	assert_null(s);
	assert_true(imap_arg_get_astring(&ev.cmd->args[1], &s, &len));
	assert_string_equal(s, "NIL");
	assert_false(imap_arg_get_string(&ev.cmd->args[1], &s, &len));
	assert_int_equal(ev.cmd->args[3].type, IMAP_ARG_STRING);
	assert_true(imap_arg_get_nstring(&ev.cmd->args[3], &s, &len));
	assert_string_equal(s, "NIL");
	assert_true(imap_arg_get_string(&ev.cmd->args[4], &s, &len));
	assert_int_equal(len, 0);
	assert_int_equal(ev.cmd->args[4].flags & IMAP_ARG_FLAG_8BIT, 0);
	assert_true((ev.cmd->args[5].flags & IMAP_ARG_FLAG_8BIT) != 0);
	assert_false(imap_arg_get_list(&ev.cmd->args[5], NULL, NULL));
	assert_true(imap_parser_is_idle(p));
	imap_parser_destroy(&p);
}

static void test_line_ends(void **state)
{
	(void)state;
	/* LF-only lines, empty lines and trailing spaces are accepted. */
	check("a NOOP\nb NOOP\r\n\r\n\nc CAPABILITY \r\n",
	      "CMD a NOOP\nCMD b NOOP\nCMD c CAPABILITY\n");
	check("a LOGIN {3}\nabc x\n", "LIT 3 sync\nCMD a LOGIN \"abc\" x\n");
	/* A bare CR is a syntax error; the next command still parses. */
	check("a NOOP\rb NOOP\r\nc NOOP\r\n", "ERR syntax error a: CR without LF\nCMD c NOOP\n");
	check("a\r\n", "ERR syntax error a: Missing command name\n");
	check("a \r\nb NOOP\n", "ERR syntax error a: Missing command name\nCMD b NOOP\n");
	check(" NOOP\r\n* NOOP\r\n+ NOOP\r\nb NOOP\r\n",
	      "ERR syntax error *: Invalid tag\nERR syntax error *: Invalid tag\n"
	      "ERR syntax error *: Invalid tag\nCMD b NOOP\n");
	check("a NOOP", "PARTIAL\n");
}

static void test_bad_syntax(void **state)
{
	(void)state;
	check("a LIST (foo\r\nb NOOP\r\n", "ERR syntax error a: Missing ')'\nCMD b NOOP\n");
	check("a X foo)\r\nb NOOP\r\n", "ERR syntax error a: Unexpected ')'\nCMD b NOOP\n");
	check("a X ((a) (b (c)))) d\r\nb NOOP\r\n",
	      "ERR syntax error a: Unexpected ')'\nCMD b NOOP\n");
	check("a X \"abc\r\nb NOOP\r\n",
	      "ERR syntax error a: Missing '\"' (unterminated string)\nCMD b NOOP\n");
	check("a X \"a\\b\"\r\nb NOOP\r\n",
	      "ERR syntax error a: Invalid escape in quoted string\nCMD b NOOP\n");
	check("a X \"a\"b\r\n", "ERR syntax error a: Missing space after argument\n");
	check("a X a\"b\r\n", "ERR syntax error a: Invalid character in atom\n");
	check("a X a{3}\r\n", "ERR syntax error a: Invalid character in atom\n");
	check("a X {3-}\r\nb NOOP\r\n", "ERR syntax error a: Invalid literal size\nCMD b NOOP\n");
	check("a X {}\r\n", "ERR syntax error a: Invalid literal size\n");
	check("a X {3}x\r\n", "ERR syntax error a: Missing CRLF after literal size\n");
	check("a X BODY[HEADER\r\nb NOOP\r\n",
	      "ERR syntax error a: Missing ']' in FETCH attribute\nCMD b NOOP\n");
	check("a X BODY[\x01]\r\n", "ERR syntax error a: Invalid character in FETCH attribute\n");
	check("a N\x80OOP\r\n", "ERR syntax error a: Invalid command name\n");
	check("a% NOOP\r\n", "ERR syntax error *: Invalid tag\n");
	/* Not FETCH attributes: "[" is an ordinary atom character. */
	check("a SELECT foo[bar x]\r\n", "CMD a SELECT foo[bar x]\n");
	/* 8-bit is allowed in quoted strings (UTF8=ACCEPT), never in atoms. */
	check("a SELECT caf\xc3\xa9\r\nb SELECT \"caf\xc3\xa9\"\r\n",
	      "ERR syntax error a: Invalid character in atom\nCMD b SELECT \"caf\xc3\xa9\"\n");
	/* Tolerated: several spaces between arguments. */
	check("a X  a   (b  c) \r\n", "CMD a X a (b c)\n");
}

static void test_nul(void **state)
{
	(void)state;
	check_lim(S("a LOGIN \"fo\0o\" x\r\nb NOOP\r\n"), LIT_ACCEPT, NULL,
		  "ERR syntax error a: NUL in quoted string\nCMD b NOOP\n");
	check_lim(S("a LOGIN {3}\r\nf\0o x\r\nb NOOP\r\n"), LIT_ACCEPT, NULL,
		  "LIT 3 sync\nERR syntax error a: NUL in literal\nCMD b NOOP\n");
	check_lim(S("a\0 NOOP\r\nb NOOP\r\n"), LIT_ACCEPT, NULL,
		  "ERR syntax error *: Invalid tag\nCMD b NOOP\n");
	check_lim(S("a X \0\r\nb NOOP\r\n"), LIT_ACCEPT, NULL,
		  "ERR syntax error a: Invalid character in argument\nCMD b NOOP\n");
}

static void test_huge_literals(void **state)
{
	struct imap_parser_limits limits;
	static char input[16384];

	(void)state;
	/* A sync literal that is too large: the client sends nothing more. */
	check("a LOGIN {999999999999}\r\nb NOOP\r\n",
	      "LIT 999999999999 sync over\nREFUSED\n"
	      "ERR literal too large a: Literal too large\nCMD b NOOP\n");
	check("a LOGIN {99999999999999999999}\r\nb NOOP\r\n",
	      "ERR literal too large a: Literal size too large\nCMD b NOOP\n");
	check("a LOGIN {9223372036854775808}\r\nb NOOP\r\n",
	      "ERR literal too large a: Literal size too large\nCMD b NOOP\n");
	/* A non-sync one whose size we cannot even represent: no way back. */
	check("a LOGIN {99999999999999999999+}\r\nxx\r\nb NOOP\r\n",
	      "ERR literal too large a: Literal size too large (fatal)\nPARTIAL\n");
	/* Non-sync and too large to buffer: its contents are skipped. */
	imap_parser_limits_default(&limits);
	limits.max_literal_size = 4;
	check_lim(S("a LOGIN {5+}\r\nhello x\r\nb NOOP\r\n"), LIT_ACCEPT, &limits,
		  "LIT 5 over\nREFUSED\nERR literal too large a: Literal too large\nCMD b NOOP\n");
	/* Leading zeros are digits like any other. */
	check("a LOGIN {003}\r\nabc x\r\n", "LIT 3 sync\nCMD a LOGIN \"abc\" x\n");

	/* LITERAL-: {N+} over 4096 is refused, the contents skipped. */
	imap_parser_limits_default(&limits);
	limits.literal_minus = true;
	limits.max_literal_size = 10000;
	int n = snprintf(input, sizeof(input), "a APPEND x {5000+}\r\n");
	memset(input + n, '{', 5000);
	n += 5000;
	n += snprintf(input + n, sizeof(input) - (size_t)n, "\r\nb NOOP\r\nc X {4096+}\r\n");
	memset(input + n, 'z', 4096);
	n += 4096;
	n += snprintf(input + n, sizeof(input) - (size_t)n, "\r\n");
	char expected[4400];
	int e = snprintf(expected, sizeof(expected),
			 "ERR literal too large a: Non-synchronizing literal larger than 4096 "
			 "bytes\nCMD b NOOP\nLIT 4096\nDATA ");
	memset(expected + e, 'z', 4096);
	e += 4096;
	snprintf(expected + e, sizeof(expected) - (size_t)e, "\nCMD c X {4096}\n");
	check_lim(input, (size_t)n, LIT_STREAM_BIG, &limits, expected);
}

static void test_limits(void **state)
{
	struct imap_parser_limits limits;
	char input[512];

	(void)state;
	imap_parser_limits_default(&limits);
	limits.max_line_length = 64;
	memset(input, 'x', sizeof(input));
	memcpy(input, "a X ", 4);
	memcpy(input + 200, "\r\nb NOOP\r\n", 10);
	check_lim(input, 210, LIT_ACCEPT, &limits,
		  "ERR line too long a: Command line too long\nCMD b NOOP\n");
	/* A tag longer than the line: no usable tag. */
	memset(input, 'x', 200);
	check_lim(input, 210, LIT_ACCEPT, &limits,
		  "ERR line too long *: Command line too long\nCMD b NOOP\n");
	/* Exactly at the limit is fine: 64 bytes including CRLF. */
	memset(input, 'y', 64);
	memcpy(input, "a X ", 4);
	memcpy(input + 62, "\r\n", 2);
	check_lim(input, 64, LIT_ACCEPT, &limits,
		  "CMD a X yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\n");
	/* The skipped rest of a long line may announce a LITERAL+ literal. */
	memset(input, 'x', 100);
	memcpy(input, "a X ", 4);
	memcpy(input + 100, " {5+}\r\nb NOO\r\nc NOOP\r\n", 22);
	check_lim(input, 122, LIT_ACCEPT, &limits,
		  "ERR line too long a: Command line too long\nCMD c NOOP\n");
	/* Literal contents do not count against the line length. */
	memset(input, 'q', 300);
	memcpy(input, "a X {290}\r\n", 11);
	memcpy(input + 11 + 290, " z\r\n", 4);
	limits.max_literal_size = 1000;
	char *got = run(input, 305, 0, LIT_ACCEPT, &limits);
	if (strstr(got, "CMD a X \"qqq") == NULL)
		print_error("%s", got);
	assert_non_null(strstr(got, "CMD a X \"qqq"));
	free(got);

	imap_parser_limits_default(&limits);
	limits.max_depth = 3;
	check_lim(S("a X (((x)))\r\nb X ((((x))))\r\nc NOOP\r\n"), LIT_ACCEPT, &limits,
		  "CMD a X (((x)))\nERR nesting too deep b: Too deeply nested parentheses\n"
		  "CMD c NOOP\n");
	limits.max_args = 5;
	check_lim(S("a X 1 2 (3 4)\r\nb X 1 2 3 4 5 6\r\nc X (1 (2 3 4 5))\r\nd NOOP\r\n"),
		  LIT_ACCEPT, &limits,
		  "CMD a X 1 2 (3 4)\nERR too many arguments b: Too many arguments in command\n"
		  "ERR too many arguments c: Too many arguments in command\nCMD d NOOP\n");
	/* A literal announcement counts as an argument before it is read. */
	check_lim(S("a X 1 2 3 4 5 {3+}\r\nabc\r\nd NOOP\r\n"), LIT_ACCEPT, &limits,
		  "ERR too many arguments a: Too many arguments in command\nCMD d NOOP\n");
	/* Command memory: several buffered literals add up. */
	imap_parser_limits_default(&limits);
	limits.max_command_size = 8192;
	limits.max_literal_size = 6000;
	static char big[3 * 6100];
	int n = snprintf(big, sizeof(big), "a X {5000+}\r\n");
	memset(big + n, 'a', 5000);
	n += 5000;
	n += snprintf(big + n, sizeof(big) - (size_t)n, " {5000+}\r\n");
	memset(big + n, 'b', 5000);
	n += 5000;
	n += snprintf(big + n, sizeof(big) - (size_t)n, "\r\nb NOOP\r\n");
	check_lim(big, (size_t)n, LIT_ACCEPT, &limits,
		  "LIT 5000\nLIT 5000\nREFUSED\nERR command too large a: Command too large\n"
		  "CMD b NOOP\n");
}

static void test_reject(void **state)
{
	(void)state;
	/* Rejected sync literal: the client sends no data, the next line is new. */
	check_lim(S("a APPEND box {10}\r\nb NOOP\r\n"), LIT_REJECT, NULL,
		  "LIT 10 sync\nCMD b NOOP\n");
	/* Rejected non-sync literal: its contents and the line's rest are skipped. */
	check_lim(S("a APPEND box {5+}\r\nhello {3+}\r\n)\r\n\r\nb NOOP\r\n"), LIT_REJECT, NULL,
		  "LIT 5\nCMD b NOOP\n");
	/* An error after a streamed literal: the caller learns it after the data. */
	check_lim(S("a APPEND box {3+}\r\nabc)\r\nb NOOP\r\n"), LIT_STREAM, NULL,
		  "LIT 3\nDATA abc\nERR syntax error a: Unexpected ')'\nCMD b NOOP\n");
}

static void test_read_line(void **state)
{
	struct imap_parser_limits limits;
	struct imap_parser *p;
	struct imap_parse_event ev;
	const char *in = "a AUTHENTICATE PLAIN\r\nAGZyZWQAc2VjcmV0\r\nb NOOP\r\n";
	size_t off = 0, consumed;

	(void)state;
	imap_parser_limits_default(&limits);
	limits.max_line_length = 32;
	p = imap_parser_create(&limits);
	assert_int_equal(imap_parser_parse(p, in, strlen(in), &consumed, &ev), IMAP_PARSE_COMMAND);
	off += consumed;
	/* The line arrives in two pieces. */
	assert_int_equal(imap_parser_read_line(p, in + off, 5, &consumed, &ev), IMAP_PARSE_MORE);
	assert_int_equal(consumed, 5);
	off += consumed;
	assert_int_equal(imap_parser_read_line(p, in + off, strlen(in) - off, &consumed, &ev),
			 IMAP_PARSE_LINE);
	off += consumed;
	assert_int_equal(ev.data_len, 16);
	assert_memory_equal(ev.data, "AGZyZWQAc2VjcmV0", 16);
	assert_true(imap_parser_is_idle(p));
	assert_int_equal(imap_parser_parse(p, in + off, strlen(in) - off, &consumed, &ev),
			 IMAP_PARSE_COMMAND);
	assert_string_equal(ev.cmd->tag, "b");
	off += consumed;
	assert_int_equal(off, strlen(in));

	/* A line over the limit, then a command: the parser finds it. */
	in = "0123456789012345678901234567890123456789\nDONE\n";
	assert_int_equal(imap_parser_read_line(p, in, strlen(in), &consumed, &ev),
			 IMAP_PARSE_ERROR);
	assert_int_equal(ev.error, IMAP_PARSE_ERR_LINE_TOO_LONG);
	off = consumed;
	assert_int_equal(imap_parser_read_line(p, in + off, strlen(in) - off, &consumed, &ev),
			 IMAP_PARSE_LINE);
	assert_string_equal((const char *)ev.data, "DONE");

	/* A parser that lost the stream says so to both readers, every time. */
	in = "c X {99999999999999999999+}\r\n";
	assert_int_equal(imap_parser_parse(p, in, strlen(in), &consumed, &ev), IMAP_PARSE_ERROR);
	assert_true(ev.error_fatal);
	assert_int_equal(imap_parser_read_line(p, "x\n", 2, &consumed, &ev), IMAP_PARSE_ERROR);
	assert_true(ev.error_fatal);
	assert_int_equal(consumed, 0);
	assert_int_equal(imap_parser_parse(p, "x\n", 2, &consumed, &ev), IMAP_PARSE_ERROR);
	assert_true(ev.error_fatal);
	assert_false(imap_parser_is_idle(p));
	imap_parser_destroy(&p);
}

static void test_writer(void **state)
{
	struct buf b = BUF_INIT(4096);
	char big[2000];

	(void)state;
	assert_true(imap_write_astring(&b, "INBOX", 5, 0));
	buf_append_c(&b, ' ');
	assert_true(imap_write_astring(&b, "Sent Items", 10, 0));
	buf_append_c(&b, ' ');
	assert_true(imap_write_astring(&b, "NIL", 3, 0));
	buf_append_c(&b, ' ');
	assert_true(imap_write_astring(&b, "", 0, 0));
	buf_append_c(&b, ' ');
	assert_true(imap_write_astring(&b, "a\"b\\c", 5, 0));
	buf_append_c(&b, ' ');
	assert_true(imap_write_astring(&b, "&ZeVnLIqe-", 10, 0));
	buf_append_c(&b, ' ');
	assert_true(imap_write_astring(&b, "x*", 2, 0));
	assert_string_equal(buf_cstr(&b),
			    "INBOX \"Sent Items\" \"NIL\" \"\" \"a\\\"b\\\\c\" &ZeVnLIqe- \"x*\"");
	buf_reset(&b);
	assert_true(imap_write_string(&b, "caf\xc3\xa9", 5, 0));
	buf_append_c(&b, ' ');
	assert_true(imap_write_string(&b, "caf\xc3\xa9", 5, IMAP_WRITE_UTF8));
	buf_append_c(&b, ' ');
	assert_true(imap_write_string(&b, "a\r\nb", 4, IMAP_WRITE_UTF8));
	buf_append_c(&b, ' ');
	assert_true(imap_write_nstring(&b, NULL, 0, 0));
	buf_append_c(&b, ' ');
	assert_true(imap_write_nstring(&b, "x\0y", 3, 0));
	assert_memory_equal(buf_data(&b),
			    "{5}\r\ncaf\xc3\xa9 \"caf\xc3\xa9\" {4}\r\na\r\nb NIL {3}\r\nx\x80y",
			    buf_len(&b));
	buf_reset(&b);
	memset(big, 'a', sizeof(big));
	assert_true(imap_write_string(&b, big, sizeof(big), 0));
	assert_memory_equal(buf_data(&b), "{2000}\r\naaa", 11);
	buf_reset(&b);
	assert_true(imap_write_literal_header(&b, 12345678901ULL, true));
	assert_string_equal(buf_cstr(&b), "~{12345678901}\r\n");
	buf_reset(&b);
	assert_true(imap_write_text(&b, "bad\r\n* OK x\0\x7f", 13));
	assert_memory_equal(buf_data(&b), "bad  * OK x  ", 13);
	buf_free(&b);

	/* The writer's output is refused when it would not fit. */
	struct buf small = BUF_INIT(4);

	assert_false(imap_write_string(&small, "abcdef", 6, 0));
	buf_free(&small);
}

/* Parsing what imap_args_write() produced gives the same arguments. */
static void test_round_trip(void **state)
{
	static const char in[] =
		"a X (\"q\\\"\" {2}\r\n\r\n ~{2}\r\n\0\1 NIL atom BODY[1 (A B)]<0.5> ())\r\n";
	size_t inlen = sizeof(in) - 1;
	char *first, *second;
	struct buf again = BUF_INIT(4096);

	(void)state;
	first = run(in, inlen, 0, LIT_ACCEPT, NULL);
	/* Rebuild a command from the first parse and run it again. */
	struct imap_parser_limits limits;
	struct imap_parser *p;
	struct imap_parse_event ev;
	size_t consumed, off = 0;

	imap_parser_limits_default(&limits);
	p = imap_parser_create(&limits);
	for (;;) {
		enum imap_parse_result r =
			imap_parser_parse(p, in + off, inlen - off, &consumed, &ev);

		off += consumed;
		if (r == IMAP_PARSE_LITERAL) {
			assert_true(imap_parser_literal_accept(p));
			continue;
		}
		assert_int_equal(r, IMAP_PARSE_COMMAND);
		break;
	}
	buf_append_str(&again, "a X ");
	assert_true(imap_args_write(&again, ev.cmd->args, ev.cmd->argc, 0));
	buf_append_str(&again, "\r\n");
	imap_parser_destroy(&p);
	second = run((const char *)buf_data(&again), buf_len(&again), 0, LIT_ACCEPT, NULL);
	assert_non_null(strstr(first, "CMD a X "));
	assert_string_equal(strstr(first, "CMD"), strstr(second, "CMD"));
	free(first);
	free(second);
	buf_free(&again);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_examples), cmocka_unit_test(test_append),
		cmocka_unit_test(test_literal_info), cmocka_unit_test(test_strings),
		cmocka_unit_test(test_line_ends),    cmocka_unit_test(test_bad_syntax),
		cmocka_unit_test(test_nul),	     cmocka_unit_test(test_huge_literals),
		cmocka_unit_test(test_limits),	     cmocka_unit_test(test_reject),
		cmocka_unit_test(test_read_line),    cmocka_unit_test(test_writer),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
