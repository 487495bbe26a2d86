/*
 * Unit tests for roost-imap's FETCH attribute parser, section content
 * builder and writer (imap/fetch-parse.c, imap/fetch-body.c) and the STORE
 * and APPEND flag parser (imap/flags-parse.c): RFC 3501/9051/3516 grammar
 * accepted and refused exactly, canonical response names, and section
 * bytes identical whatever the chunking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/fetch.h"
#include "imap/flags.h"
#include "imap-parser.h"
#include "pool.h"
#include "storage/mailbox-flags.h"
#include "storage/message-part.h"

/* Parses "a FETCH 1 <text>" and returns the arguments after the set. */
static const struct imap_arg *parse_cmd(struct imap_parser **parser, const char *text,
					size_t *argc_r)
{
	struct imap_parser_limits limits;
	struct imap_parse_event ev;
	char line[4096];
	size_t consumed = 0;
	enum imap_parse_result r;

	imap_parser_limits_default(&limits);
	*parser = imap_parser_create(&limits);
	snprintf(line, sizeof(line), "a FETCH 1 %s\r\n", text);
	r = imap_parser_parse(*parser, line, strlen(line), &consumed, &ev);
	if (r != IMAP_PARSE_COMMAND) {
		/* The command parser itself refused it. */
		assert_int_equal(r, IMAP_PARSE_ERROR);
		return NULL;
	}
	*argc_r = ev.cmd->argc - 1;
	return ev.cmd->args + 1;
}

static bool try_parse(const char *text, struct fetch_request *req, const char **error_r)
{
	struct imap_parser *parser;
	size_t argc;
	const struct imap_arg *args = parse_cmd(&parser, text, &argc);
	bool ok;

	if (args == NULL) {
		imap_parser_destroy(&parser);
		memset(req, 0, sizeof(*req));
		*error_r = "command parser";
		return false;
	}
	ok = fetch_request_parse(req, args, argc, error_r);

	imap_parser_destroy(&parser);
	return ok;
}

static void test_parse_items(void **state)
{
	struct fetch_request req;
	const char *error;

	(void)state;
	assert_true(try_parse("FAST", &req, &error));
	assert_int_equal(req.items,
			 FETCH_ITEM_FLAGS | FETCH_ITEM_INTERNALDATE | FETCH_ITEM_RFC822_SIZE);
	fetch_request_free(&req);
	assert_true(try_parse("all", &req, &error));
	assert_int_equal(req.items, FETCH_ITEM_FLAGS | FETCH_ITEM_INTERNALDATE |
					    FETCH_ITEM_RFC822_SIZE | FETCH_ITEM_ENVELOPE);
	fetch_request_free(&req);
	assert_true(try_parse("FULL", &req, &error));
	assert_true((req.items & FETCH_ITEM_BODY) != 0);
	fetch_request_free(&req);
	assert_true(try_parse("(UID FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE MODSEQ body "
			      "internaldate)",
			      &req, &error));
	assert_int_equal(req.items, FETCH_ITEM_UID | FETCH_ITEM_FLAGS | FETCH_ITEM_RFC822_SIZE |
					    FETCH_ITEM_ENVELOPE | FETCH_ITEM_BODYSTRUCTURE |
					    FETCH_ITEM_MODSEQ | FETCH_ITEM_BODY |
					    FETCH_ITEM_INTERNALDATE);
	assert_int_equal(req.section_count, 0);
	assert_false(req.sets_seen);
	fetch_request_free(&req);
	/* RFC822 sets \Seen, RFC822.HEADER does not. */
	assert_true(try_parse("(RFC822.HEADER)", &req, &error));
	assert_false(req.sets_seen);
	assert_string_equal(req.sections[0].name, "RFC822.HEADER");
	assert_int_equal(req.sections[0].text, FETCH_TEXT_HEADER);
	fetch_request_free(&req);
	assert_true(try_parse("(RFC822 RFC822.TEXT)", &req, &error));
	assert_true(req.sets_seen);
	assert_int_equal(req.section_count, 2);
	fetch_request_free(&req);
	assert_true(try_parse("(FLAGS) (CHANGEDSINCE 12345 VANISHED)", &req, &error));
	assert_true(req.changedsince_set && req.vanished);
	assert_true(req.changedsince == 12345);
	fetch_request_free(&req);
}

static void expect_section(const char *text, const char *name, const char *part,
			   enum fetch_section_text stext, bool peek, bool partial, uint64_t off,
			   uint64_t size)
{
	struct pool *pool = pool_create(1024 * 1024);
	struct fetch_section s;
	const char *error;

	assert_true(fetch_section_parse(pool, text, strlen(text), &s, &error));
	assert_string_equal(s.name, name);
	assert_string_equal(s.part, part);
	assert_int_equal(s.text, stext);
	assert_int_equal(s.peek, peek);
	assert_int_equal(s.partial, partial);
	assert_true(s.partial_offset == off && s.partial_size == size);
	pool_destroy(&pool);
}

static void test_parse_sections(void **state)
{
	(void)state;
	expect_section("BODY[]", "BODY[]", "", FETCH_TEXT_NONE, false, false, 0, 0);
	expect_section("body.peek[]<0.100>", "BODY[]", "", FETCH_TEXT_NONE, true, true, 0, 100);
	expect_section("BODY[1.2.3]", "BODY[1.2.3]", "1.2.3", FETCH_TEXT_NONE, false, false, 0, 0);
	expect_section("BODY[header]", "BODY[HEADER]", "", FETCH_TEXT_HEADER, false, false, 0, 0);
	expect_section("BODY[2.text]<5.10>", "BODY[2.TEXT]", "2", FETCH_TEXT_TEXT, false, true, 5,
		       10);
	expect_section("BODY.PEEK[1.MIME]", "BODY[1.MIME]", "1", FETCH_TEXT_MIME, true, false, 0,
		       0);
	expect_section("BODY[HEADER.FIELDS (From to \"X-Y\")]", "BODY[HEADER.FIELDS (FROM TO X-Y)]",
		       "", FETCH_TEXT_HEADER_FIELDS, false, false, 0, 0);
	expect_section("BODY.PEEK[1.2.HEADER.FIELDS.NOT (subject)]",
		       "BODY[1.2.HEADER.FIELDS.NOT (SUBJECT)]", "1.2", FETCH_TEXT_HEADER_FIELDS_NOT,
		       true, false, 0, 0);
	expect_section("BINARY[1]", "BINARY[1]", "1", FETCH_TEXT_NONE, false, false, 0, 0);
	expect_section("BINARY.PEEK[]<9223372036854775807.1>", "BINARY[]", "", FETCH_TEXT_NONE,
		       true, true, 9223372036854775807ULL, 1);
	expect_section("BINARY.SIZE[4.2]", "BINARY.SIZE[4.2]", "4.2", FETCH_TEXT_NONE, true, false,
		       0, 0);
	expect_section("BODY[4294967295]", "BODY[4294967295]", "4294967295", FETCH_TEXT_NONE, false,
		       false, 0, 0);
}

static void test_parse_errors(void **state)
{
	static const char *const bad[] = {
		"()",
		"(ALL)",
		"(FLAGS FAST)",
		"NOSUCH",
		"BODY.PEEK",
		"BINARY",
		"BODY[MIME]",
		"BODY[1.]",
		"BODY[1.0]",
		"BODY[0]",
		"BODY[01]",
		"BODY[4294967296]",
		"BODY[HEADER.FIELDS]",
		"BODY[HEADER.FIELDS ()]",
		"BODY[HEADER.FIELDS(A)]",
		"BODY[HEADER.FIELDS (A  B)]",
		"BODY[HEADER.FIELDS (A:B)]",
		"BODY[HEADER.FIELDS (\"\")]",
		"BODY[HEADER.FIELDS (\"A)]",
		"BODY[TEXTX]",
		"BODY[HEADER]x",
		"BODY[]<0.0>",
		"BODY[]<1>",
		"BODY[]<1.2",
		"BODY[]<9223372036854775808.1>",
		"BODY[]<-1.2>",
		"BINARY[1.HEADER]",
		"BINARY[TEXT]",
		"BINARY.SIZE[1]<0.5>",
		"BINARY.SIZE",
		"\"FLAGS\"",
		"(FLAGS) (CHANGEDSINCE)",
		"(FLAGS) (CHANGEDSINCE x)",
		"(FLAGS) (CHANGEDSINCE 01)",
		"(FLAGS) (VANISHED)",
		"(FLAGS) (CHANGEDSINCE 1 CHANGEDSINCE 2)",
		"(FLAGS) (FOO)",
		"(FLAGS) ()",
		"FLAGS FLAGS FLAGS",
	};
	struct fetch_request req;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *error = NULL;

		if (try_parse(bad[i], &req, &error)) {
			fail_msg("accepted: %s", bad[i]);
		}
		assert_non_null(error);
		assert_null(req.pool);
	}
}

static void test_parse_limits(void **state)
{
	char text[8192];
	size_t n = 0;
	struct fetch_request req;
	const char *error;

	(void)state;
	/* 128 sections are fine, 129 are not. */
	n += (size_t)snprintf(text + n, sizeof(text) - n, "(");
	for (int i = 0; i < FETCH_MAX_SECTIONS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "BODY[%d] ", i + 1);
	snprintf(text + n - 1, sizeof(text) - n + 1, ")");
	assert_true(try_parse(text, &req, &error));
	assert_int_equal(req.section_count, FETCH_MAX_SECTIONS);
	fetch_request_free(&req);
	snprintf(text + n - 1, sizeof(text) - n + 1, " BODY[1])");
	assert_false(try_parse(text, &req, &error));
	assert_string_equal(error, "Too many FETCH sections");
	/* Part numbers nested 65 deep. */
	n = (size_t)snprintf(text, sizeof(text), "BODY[1");
	for (int i = 0; i < FETCH_MAX_PART_DEPTH; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, ".1");
	snprintf(text + n, sizeof(text) - n, "]");
	assert_false(try_parse(text, &req, &error));
	assert_string_equal(error, "Section part numbers nested too deeply");
}

static void test_cacheable(void **state)
{
	struct pool *pool = pool_create(1024 * 1024);
	struct fetch_section s;
	const char *error;
	const char *t1 = "BODY.PEEK[HEADER.FIELDS (From Subject Date)]";
	const char *t2 = "BODY.PEEK[HEADER.FIELDS (From X-Unusual)]";
	const char *t3 = "BODY.PEEK[1.HEADER.FIELDS (From)]";

	(void)state;
	assert_true(fetch_section_parse(pool, t1, strlen(t1), &s, &error));
	assert_true(s.cacheable);
	assert_true(s.cached_mask == ((1ULL << fetch_cache_header_index("FROM", 4)) |
				      (1ULL << fetch_cache_header_index("subject", 7)) |
				      (1ULL << fetch_cache_header_index("Date", 4))));
	assert_true(fetch_section_parse(pool, t2, strlen(t2), &s, &error));
	assert_false(s.cacheable);
	assert_true(fetch_section_parse(pool, t3, strlen(t3), &s, &error));
	assert_false(s.cacheable);
	assert_true(fetch_cache_headers_count <= 64);
	pool_destroy(&pool);
}

/* ---- content ---- */

static const char msg_lf[] = "From: a@example.com\n"
			     "Subject: Hello\n"
			     " folded\n"
			     "X-Other: 1\n"
			     "MIME-Version: 1.0\n"
			     "Content-Type: multipart/mixed; boundary=\"b\"\n"
			     "\n"
			     "--b\n"
			     "Content-Type: text/plain\n"
			     "Content-Transfer-Encoding: quoted-printable\n"
			     "\n"
			     "caf=C3=A9 =\n"
			     "line\n"
			     "--b\n"
			     "Content-Type: message/rfc822\n"
			     "\n"
			     "Subject: inner\r\n"
			     "From: x@y\r\n"
			     "\r\n"
			     "inner body\r\n"
			     "--b\n"
			     "Content-Type: application/octet-stream\n"
			     "Content-Transfer-Encoding: base64\n"
			     "\n"
			     "AAEC/w==\n"
			     "--b--\n";

struct built {
	struct pool *pool;
	struct message_part *root;
	struct fetch_content content;
	struct fetch_section section;
	enum fetch_content_result result;
};

static void build(struct built *b, const char *text)
{
	const char *error;

	b->pool = pool_create(4 * 1024 * 1024);
	assert_int_equal(message_parse(b->pool, (const uint8_t *)msg_lf, strlen(msg_lf), NULL,
				       &b->root, &error),
			 MESSAGE_PARSE_OK);
	assert_true(fetch_section_parse(b->pool, text, strlen(text), &b->section, &error));
	fetch_content_init(&b->content);
	b->result = fetch_content_build(&b->content, &b->section, (const uint8_t *)msg_lf,
					strlen(msg_lf),
					fetch_section_needs_parse(&b->section) ? b->root : NULL);
}

static void unbuild(struct built *b)
{
	fetch_content_free(&b->content);
	pool_destroy(&b->pool);
}

/* The whole content, written in steps of step bytes. */
static void content_bytes(const struct fetch_content *c, uint64_t start, uint64_t count,
			  size_t step, struct buf *out)
{
	struct fetch_writer w;

	fetch_writer_init(&w, c, start, count);
	while (fetch_writer_write(&w, out, step))
		;
	fetch_writer_deinit(&w);
}

static void expect_content(const char *section, const char *expected, size_t expected_len)
{
	struct built b;
	struct buf out = BUF_INIT(1024 * 1024);

	build(&b, section);
	assert_int_equal(b.result, FETCH_CONTENT_OK);
	assert_int_equal(b.content.size, expected_len);
	for (size_t step = 1; step < 40; step += 7) {
		buf_reset(&out);
		content_bytes(&b.content, 0, UINT64_MAX, step, &out);
		assert_int_equal(buf_len(&out), expected_len);
		assert_memory_equal(buf_data(&out), expected, expected_len);
		/* Every partial range is the same slice of it. */
		for (uint64_t off = 0; off <= expected_len + 2; off += 5) {
			buf_reset(&out);
			content_bytes(&b.content, off, 7, step, &out);
			if (off >= expected_len)
				assert_int_equal(buf_len(&out), 0);
			else
				assert_memory_equal(buf_data(&out), expected + off, buf_len(&out));
		}
	}
	buf_free(&out);
	unbuild(&b);
}

#define EXPECT(section, str) expect_content(section, str, sizeof(str) - 1)

static void test_content(void **state)
{
	(void)state;
	EXPECT("BODY[HEADER]", "From: a@example.com\r\nSubject: Hello\r\n folded\r\nX-Other: 1\r\n"
			       "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
			       "boundary=\"b\"\r\n\r\n");
	EXPECT("BODY[HEADER.FIELDS (SUBJECT FROM)]",
	       "From: a@example.com\r\nSubject: Hello\r\n folded\r\n\r\n");
	EXPECT("BODY[HEADER.FIELDS.NOT (SUBJECT FROM content-type)]",
	       "X-Other: 1\r\nMIME-Version: 1.0\r\n\r\n");
	EXPECT("BODY[1]", "caf=C3=A9 =\r\nline");
	EXPECT("BODY[1.MIME]", "Content-Type: text/plain\r\n"
			       "Content-Transfer-Encoding: quoted-printable\r\n\r\n");
	EXPECT("BINARY[1]", "caf\xc3\xa9 line");
	EXPECT("BODY[2]", "Subject: inner\r\nFrom: x@y\r\n\r\ninner body");
	EXPECT("BODY[2.HEADER]", "Subject: inner\r\nFrom: x@y\r\n\r\n");
	EXPECT("BODY[2.TEXT]", "inner body");
	EXPECT("BODY[2.HEADER.FIELDS (FROM)]", "From: x@y\r\n\r\n");
	EXPECT("BODY[2.1]", "inner body");
	EXPECT("BINARY[3]", "\x00\x01\x02\xff");
	EXPECT("BODY[1.HEADER]", "");
	EXPECT("BODY[9]", "");
	EXPECT("BODY[3.4]", "");
}

static void test_binary_message(void **state)
{
	struct built b;
	struct buf out = BUF_INIT(1024 * 1024);
	const char *p;

	(void)state;
	build(&b, "BINARY[]");
	assert_int_equal(b.result, FETCH_CONTENT_OK);
	assert_true(fetch_content_is_binary(&b.content));
	content_bytes(&b.content, 0, UINT64_MAX, 1000, &out);
	assert_int_equal(buf_len(&out), b.content.size);
	/* Each encoded part: its own encoding line dropped, "binary" last. */
	p = memmem(buf_data(&out), buf_len(&out),
		   "Content-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n\r\n"
		   "caf\xc3\xa9 line\r\n--b\r\n",
		   sizeof("Content-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n\r\n"
			  "caf\xc3\xa9 line\r\n--b\r\n") -
			   1);
	assert_non_null(p);
	p = memmem(
		buf_data(&out), buf_len(&out),
		"Content-Transfer-Encoding: binary\r\n\r\n\x00\x01\x02\xff\r\n--b--\r\n",
		sizeof("Content-Transfer-Encoding: binary\r\n\r\n\x00\x01\x02\xff\r\n--b--\r\n") -
			1);
	assert_non_null(p);
	assert_null(memmem(buf_data(&out), buf_len(&out), "base64", 6));
	buf_free(&out);
	unbuild(&b);
	build(&b, "BINARY[2]");
	assert_false(fetch_content_is_binary(&b.content));
	unbuild(&b);
}

static void test_unknown_cte(void **state)
{
	static const char msg[] = "Content-Transfer-Encoding: x-uuencode\n\nbegin\n";
	struct pool *pool = pool_create(1024 * 1024);
	struct message_part *root;
	struct fetch_section s;
	struct fetch_content c;
	const char *error;

	(void)state;
	assert_int_equal(
		message_parse(pool, (const uint8_t *)msg, strlen(msg), NULL, &root, &error),
		MESSAGE_PARSE_OK);
	fetch_content_init(&c);
	assert_true(fetch_section_parse(pool, "BINARY[1]", 9, &s, &error));
	assert_int_equal(fetch_content_build(&c, &s, (const uint8_t *)msg, strlen(msg), root),
			 FETCH_CONTENT_UNKNOWN_CTE);
	assert_true(fetch_section_parse(pool, "BINARY[]", 8, &s, &error));
	assert_int_equal(fetch_content_build(&c, &s, (const uint8_t *)msg, strlen(msg), root),
			 FETCH_CONTENT_UNKNOWN_CTE);
	assert_true(fetch_section_parse(pool, "BODY[1]", 7, &s, &error));
	assert_int_equal(fetch_content_build(&c, &s, (const uint8_t *)msg, strlen(msg), root),
			 FETCH_CONTENT_OK);
	fetch_content_free(&c);
	pool_destroy(&pool);
}

static void test_cache_headers(void **state)
{
	static const char hdr[] = "Received: x\nFrom: a@example.com\nSubject: one\n two\n"
				  "X-Private: no\nsubject: again\nTo: b@example.com\n\nbody\n";
	struct buf value = BUF_INIT(65536), direct = BUF_INIT(65536);
	const char *fields[] = {"SUBJECT", "TO"};
	struct fetch_content c;
	uint64_t mask = (1ULL << fetch_cache_header_index("SUBJECT", 7)) |
			(1ULL << fetch_cache_header_index("TO", 2));

	(void)state;
	assert_true(fetch_cache_headers_build((const uint8_t *)hdr, strlen(hdr), &value));
	assert_true(
		fetch_header_fields((const uint8_t *)hdr, strlen(hdr), fields, 2, false, &direct));
	assert_string_equal(buf_cstr(&direct),
			    "Subject: one\r\n two\r\nsubject: again\r\nTo: b@example.com\r\n\r\n");
	fetch_content_init(&c);
	assert_true(fetch_content_from_cache_headers(&c, buf_data(&value), buf_len(&value), mask));
	assert_int_equal(c.size, buf_len(&direct));
	buf_reset(&direct);
	content_bytes(&c, 0, UINT64_MAX, 3, &direct);
	assert_string_equal(buf_cstr(&direct),
			    "Subject: one\r\n two\r\nsubject: again\r\nTo: b@example.com\r\n\r\n");
	/* A damaged value is refused, not read past its end. */
	assert_false(
		fetch_content_from_cache_headers(&c, buf_data(&value), buf_len(&value) - 1, mask));
	fetch_content_free(&c);
	buf_free(&value);
	buf_free(&direct);
}

static void expect_preview(const char *msg, const char *expected)
{
	struct pool *pool = pool_create(1024 * 1024);
	struct message_part *root;
	struct buf out = BUF_INIT(4096);
	const char *error;

	assert_int_not_equal(
		message_parse(pool, (const uint8_t *)msg, strlen(msg), NULL, &root, &error),
		MESSAGE_PARSE_ERROR);
	assert_true(fetch_preview_build(root, &out));
	assert_string_equal(buf_cstr(&out), expected);
	buf_free(&out);
	pool_destroy(&pool);
}

static void test_preview(void **state)
{
	char long_msg[2048];
	char expected[512];

	(void)state;
	expect_preview("Subject: x\n\n  Hello\n\n\tworld  \n", "Hello world");
	expect_preview("Content-Type: multipart/alternative; boundary=b\n\n--b\n"
		       "Content-Type: text/html\n\n<p>Rich &amp; <b>bold</b></p>\n--b\n"
		       "Content-Type: text/plain\n\nPlain wins\n--b--\n",
		       "Plain wins");
	expect_preview("Content-Type: text/html\n\n<html><body><p>Only&nbsp;html</p>"
		       "<p>here &lt;3</p></body></html>\n",
		       "Only html here <3");
	expect_preview("Content-Type: image/png\n\nxxxx\n", "");
	expect_preview("Content-Transfer-Encoding: x-uuencode\n\nbegin\n", "");
	/* Cut at 200 characters, whole UTF-8 sequences only. */
	const char *head = "Subject: x\nContent-Type: text/plain; charset=utf-8\n\n";
	size_t n = strlen(head);

	memcpy(long_msg, head, n);
	for (int i = 0; i < 300; i++)
		memcpy(long_msg + n + (size_t)i * 2, "\xc3\xa9", 2);
	long_msg[n + 600] = '\0';
	for (int i = 0; i < FETCH_PREVIEW_CHARS; i++)
		memcpy(expected + i * 2, "\xc3\xa9", 2);
	expected[2 * FETCH_PREVIEW_CHARS] = '\0';
	expect_preview(long_msg, expected);
}

/* ---- STORE and APPEND flags ---- */

/* Keyword names point into the parser's arguments: it lives until the next call. */
static struct imap_parser *store_parser;

static bool try_store(const char *text, struct imap_store_args *r, const char **error_r)
{
	size_t argc;
	const struct imap_arg *args;

	imap_parser_destroy(&store_parser);
	args = parse_cmd(&store_parser, text, &argc);
	if (args == NULL) {
		*error_r = "command parser";
		return false;
	}
	return imap_store_args_parse(args, argc, r, error_r);
}

static void test_store_args(void **state)
{
	static const char *const bad[] = {
		"FLAGS",
		"XFLAGS (a)",
		"+FLAGS (\\Recent)",
		"+FLAGS (\\Bogus)",
		"FLAGS (a\"b)",
		"FLAGS (\"quoted\")",
		"FLAGS ((nested))",
		"(UNCHANGEDSINCE) FLAGS ()",
		"(UNCHANGEDSINCE 1 2) FLAGS ()",
		"(FOO 1) FLAGS ()",
		"(UNCHANGEDSINCE 9223372036854775808) FLAGS ()",
		"+FLAGS.LOUD (a)",
		"FLAGS (a) (b)",
	};
	struct imap_store_args r;
	const char *error;

	(void)state;
	assert_true(try_store("+FLAGS.SILENT (\\Seen \\deleted $Label1 $label1 Junk)", &r, &error));
	assert_int_equal(r.op, IMAP_STORE_ADD);
	assert_true(r.silent);
	assert_int_equal(r.flags.flags, MAIL_SEEN | MAIL_DELETED);
	assert_int_equal(r.flags.keyword_count, 2);
	assert_string_equal(r.flags.keywords[0], "$Label1");
	assert_string_equal(r.flags.keywords[1], "Junk");
	assert_true(try_store("-flags \\Answered \\Flagged", &r, &error));
	assert_int_equal(r.op, IMAP_STORE_REMOVE);
	assert_int_equal(r.flags.flags, MAIL_ANSWERED | MAIL_FLAGGED);
	assert_true(try_store("(UNCHANGEDSINCE 320162338) FLAGS ()", &r, &error));
	assert_true(r.unchangedsince_set && r.unchangedsince == 320162338);
	assert_int_equal(r.op, IMAP_STORE_REPLACE);
	assert_int_equal(r.flags.flags, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error = NULL;
		if (try_store(bad[i], &r, &error))
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(error);
	}
	imap_parser_destroy(&store_parser);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_items),    cmocka_unit_test(test_parse_sections),
		cmocka_unit_test(test_parse_errors),   cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_cacheable),      cmocka_unit_test(test_content),
		cmocka_unit_test(test_binary_message), cmocka_unit_test(test_unknown_cte),
		cmocka_unit_test(test_cache_headers),  cmocka_unit_test(test_store_args),
		cmocka_unit_test(test_preview),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
