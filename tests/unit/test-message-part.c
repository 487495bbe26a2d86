/*
 * Unit tests for storage/message-part.c: MIME trees of real shapes
 * (multipart/alternative with attachments and an encapsulated message),
 * CRLF sizes of LF-only messages, nested and prefix boundaries, the
 * malformed structures of real mail, limits, and IMAP section lookup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "buf.h"
#include "pool.h"
#include "../../storage/message-part.h"

static struct pool *pool;

static int setup(void **state)
{
	(void)state;
	pool = pool_create(16 << 20);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pool_destroy(&pool);
	return 0;
}

/* Offsets, sizes and child ranges must nest inside the message. */
static void check_tree(const struct message_part *part, size_t len)
{
	const struct message_part *c, *prev = NULL;
	unsigned int n = 0;

	assert_int_equal(part->header_offset + part->header_size, part->body_offset);
	assert_true(part->body_offset + part->body_size <= len);
	assert_true(part->header_vsize >= part->header_size);
	assert_true(part->body_vsize >= part->body_size);
	assert_true(part->body_lines <= part->body_size);
	for (c = part->children; c != NULL; c = c->next) {
		assert_ptr_equal(c->parent, part);
		assert_true(c->header_offset >= part->body_offset);
		assert_true(c->body_offset + c->body_size <= part->body_offset + part->body_size);
		if (prev != NULL)
			assert_true(c->header_offset >= prev->body_offset + prev->body_size);
		check_tree(c, len);
		prev = c;
		n++;
	}
	assert_int_equal(n, part->children_count);
}

static struct message_part *parse(const char *msg, enum message_parse_result expected)
{
	struct message_part *root;
	const char *error;

	assert_int_equal(
		message_parse(pool, (const uint8_t *)msg, strlen(msg), NULL, &root, &error),
		expected);
	assert_non_null(root);
	check_tree(root, strlen(msg));
	return root;
}

static size_t offset_of(const char *msg, const char *needle)
{
	const char *p = strstr(msg, needle);

	assert_non_null(p);
	return (size_t)(p - msg);
}

static char *lf_only(const char *s)
{
	char *r = malloc(strlen(s) + 1), *w = r;

	assert_non_null(r);
	for (; *s != '\0'; s++) {
		if (!(s[0] == '\r' && s[1] == '\n'))
			*w++ = *s;
	}
	*w = '\0';
	return r;
}

static const char mixed_msg[] = "From: Alice <alice@example.com>\r\n"
				"Subject: report\r\n"
				"MIME-Version: 1.0\r\n"
				"Content-Type: multipart/mixed; boundary=\"==outer==\"\r\n"
				"\r\n"
				"This is a multi-part message in MIME format.\r\n"
				"--==outer==\r\n"
				"Content-Type: multipart/alternative; boundary=\"==outer\"\r\n"
				"\r\n"
				"--==outer\r\n"
				"Content-Type: text/plain; charset=utf-8\r\n"
				"Content-Transfer-Encoding: quoted-printable\r\n"
				"\r\n"
				"caf=C3=A9\r\n"
				"second line\r\n"
				"--==outer\r\n"
				"Content-Type: text/html; charset=utf-8\r\n"
				"\r\n"
				"<p>caf\xc3\xa9</p>\r\n"
				"--==outer--\r\n"
				"\r\n"
				"--==outer==\r\n"
				"Content-Type: application/pdf; name=\"report.pdf\"\r\n"
				"Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
				"Content-Transfer-Encoding: base64\r\n"
				"\r\n"
				"JVBERi0xLjQK\r\n"
				"--==outer==\r\n"
				"Content-Type: message/rfc822\r\n"
				"\r\n"
				"From: bob@example.com\r\n"
				"Subject: forwarded\r\n"
				"\r\n"
				"inner body\r\n"
				"--==outer==--\r\n"
				"epilogue\r\n";

static void check_mixed(const char *msg, const struct message_part *root, bool crlf)
{
	const struct message_part *alt, *text, *html, *pdf, *rfc, *inner;

	assert_true((root->flags & MESSAGE_PART_FLAG_MULTIPART) != 0);
	assert_string_equal(root->boundary, "==outer==");
	assert_int_equal(root->children_count, 3);
	assert_int_equal(root->body_offset, offset_of(msg, "This is"));
	assert_int_equal(root->body_size, strlen(msg) - root->body_offset);

	alt = root->children;
	assert_string_equal(alt->subtype, "alternative");
	assert_int_equal(alt->children_count, 2);
	text = alt->children;
	html = text->next;
	assert_true(message_part_is_type(text, "TEXT", "Plain"));
	assert_int_equal(text->cte, MESSAGE_CTE_QP);
	assert_int_equal(text->body_offset, offset_of(msg, "caf=C3"));
	/* The line end before the delimiter belongs to the delimiter. */
	assert_int_equal(text->body_size, strlen("caf=C3=A9\r\nsecond line") - (crlf ? 0 : 1));
	assert_int_equal(text->body_vsize, strlen("caf=C3=A9\r\nsecond line"));
	assert_int_equal(text->body_lines, 1);
	assert_int_equal(html->body_vsize, strlen("<p>caf\xc3\xa9</p>"));
	assert_int_equal(html->body_lines, 0);
	/* The epilogue (one empty line) is part of the alternative's body. */
	assert_int_equal(alt->body_offset + alt->body_size,
			 offset_of(msg, "--==outer--") + strlen("--==outer--") + (crlf ? 2 : 1));

	pdf = alt->next;
	assert_string_equal(pdf->type, "application");
	assert_int_equal(pdf->cte, MESSAGE_CTE_BASE64);
	assert_string_equal(pdf->disposition, "attachment");
	assert_string_equal(message_param_get(pdf->disp_params, pdf->disp_params_count, "filename"),
			    "report.pdf");
	assert_int_equal(pdf->body_vsize, 12);

	rfc = pdf->next;
	assert_null(rfc->next);
	assert_true((rfc->flags & MESSAGE_PART_FLAG_MESSAGE) != 0);
	assert_int_equal(rfc->children_count, 1);
	inner = rfc->children;
	assert_int_equal(inner->header_offset, offset_of(msg, "From: bob"));
	assert_int_equal(rfc->body_offset, inner->header_offset);
	assert_int_equal(rfc->body_vsize,
			 strlen("From: bob@example.com\r\nSubject: forwarded\r\n\r\ninner body"));
	assert_int_equal(rfc->body_lines, 3);
	assert_int_equal(inner->header_vsize,
			 strlen("From: bob@example.com\r\nSubject: forwarded\r\n\r\n"));
	assert_int_equal(inner->body_vsize, strlen("inner body"));
	assert_true((inner->flags & MESSAGE_PART_FLAG_DEFAULT_TYPE) != 0);
	assert_true((inner->flags & MESSAGE_PART_FLAG_TEXT) != 0);
}

static void test_mixed_crlf_and_lf(void **state)
{
	char *lf = lf_only(mixed_msg);
	const struct message_part *a, *b, *pa, *pb;
	size_t nlines = 0;

	(void)state;
	a = parse(mixed_msg, MESSAGE_PARSE_OK);
	check_mixed(mixed_msg, a, true);
	b = parse(lf, MESSAGE_PARSE_OK);
	check_mixed(lf, b, false);
	/* Every CRLF size of the LF-only copy equals the CRLF original's. */
	for (pa = a, pb = b; pa != NULL; pa = message_part_next(pa), pb = message_part_next(pb)) {
		assert_non_null(pb);
		assert_int_equal(pa->header_size, pa->header_vsize);
		assert_int_equal(pa->body_size, pa->body_vsize);
		assert_int_equal(pa->header_vsize, pb->header_vsize);
		assert_int_equal(pa->body_vsize, pb->body_vsize);
		assert_int_equal(pa->body_lines, pb->body_lines);
		nlines++;
	}
	assert_null(pb);
	assert_int_equal(nlines, 7);
	assert_int_equal(message_part_count(a), 7);
	assert_int_equal(message_part_count(a->children), 3);
	assert_int_equal(a->header_vsize + a->body_vsize, strlen(mixed_msg));
	assert_int_equal(b->header_vsize + b->body_vsize, strlen(mixed_msg));
	free(lf);
}

static void test_sections(void **state)
{
	const struct message_part *root = parse(mixed_msg, MESSAGE_PARSE_OK), *p;

	(void)state;
	p = message_part_find_section(root, "1");
	assert_ptr_equal(p, root->children);
	assert_ptr_equal(message_part_find_section(root, "1.2"), root->children->children->next);
	p = message_part_find_section(root, "3");
	assert_true((p->flags & MESSAGE_PART_FLAG_MESSAGE) != 0);
	/* A non-multipart encapsulated message: its part 1 is itself. */
	assert_ptr_equal(message_part_find_section(root, "3.1"), p->children);
	assert_null(message_part_find_section(root, "3.2"));
	assert_null(message_part_find_section(root, "1.2.1"));
	assert_null(message_part_find_section(root, "4"));
	assert_null(message_part_find_section(root, "0"));
	assert_null(message_part_find_section(root, ""));
	assert_null(message_part_find_section(root, "1."));
	assert_null(message_part_find_section(root, "1..2"));
	assert_null(message_part_find_section(root, "99999999999"));
	/* A single-part message has only part 1, the message itself. */
	p = parse("Subject: x\n\nbody\n", MESSAGE_PARSE_OK);
	assert_ptr_equal(message_part_find_section(p, "1"), p);
	assert_null(message_part_find_section(p, "2"));
	assert_null(message_part_find_section(p, "1.1"));
}

static void test_prefix_boundaries(void **state)
{
	/* The child's boundary extends the parent's. */
	static const char msg[] = "Content-Type: multipart/mixed; boundary=outer\n\n"
				  "--outer\n"
				  "Content-Type: multipart/alternative; boundary=outer-inner\n\n"
				  "--outer-inner\n\nA\n"
				  "--outer-inner\n\nB\n"
				  "--outer-inner--\n"
				  "--outer\n\nC\n"
				  "--outer--\n";
	const struct message_part *root = parse(msg, MESSAGE_PARSE_OK);

	(void)state;
	assert_int_equal(root->children_count, 2);
	assert_int_equal(root->children->children_count, 2);
	assert_int_equal(root->children->children->body_size, 1);
	assert_int_equal(root->children->next->body_offset, offset_of(msg, "C\n"));
}

static void test_missing_close(void **state)
{
	/* The inner multipart is never closed; the outer boundary ends it. */
	static const char msg[] = "Content-Type: multipart/mixed; boundary=a\n\n"
				  "--a\n"
				  "Content-Type: multipart/mixed; boundary=b\n\n"
				  "--b\n\ninner\n"
				  "--a\n\nouter2\n";
	const struct message_part *root = parse(msg, MESSAGE_PARSE_OK), *inner;

	(void)state;
	assert_int_equal(root->children_count, 2);
	assert_true((root->flags & MESSAGE_PART_FLAG_NO_CLOSE) != 0);
	inner = root->children;
	assert_true((inner->flags & MESSAGE_PART_FLAG_NO_CLOSE) != 0);
	assert_int_equal(inner->children_count, 1);
	assert_int_equal(inner->children->body_size, 5);
	assert_int_equal(inner->body_offset + inner->body_size, offset_of(msg, "\n--a\n\nouter2"));
	assert_int_equal(root->children->next->body_size, strlen("outer2\n"));
}

static void test_wrong_case_and_whitespace(void **state)
{
	static const char msg[] = "Content-Type: multipart/mixed; BOUNDARY=\"AbC\"\n\n"
				  "--abc  \n\nfirst\n"
				  "--ABC\n\nsecond\n"
				  "--aBc--\n";
	const struct message_part *root = parse(msg, MESSAGE_PARSE_OK);

	(void)state;
	assert_int_equal(root->children_count, 2);
	assert_int_equal(root->children->body_size, 5);
	assert_int_equal(root->children->next->body_size, 6);
	assert_true((root->flags & MESSAGE_PART_FLAG_NO_CLOSE) == 0);
}

static void test_defaults(void **state)
{
	const struct message_part *p;

	(void)state;
	p = parse("Subject: no content type\n\nhi\n", MESSAGE_PARSE_OK);
	assert_string_equal(p->type, "text");
	assert_string_equal(p->subtype, "plain");
	assert_int_equal(p->flags, MESSAGE_PART_FLAG_DEFAULT_TYPE | MESSAGE_PART_FLAG_TEXT);
	assert_int_equal(p->body_lines, 1);

	/* A multipart without boundary is text/plain, like other servers. */
	p = parse("Content-Type: multipart/mixed\n\n--x\n\nhi\n", MESSAGE_PARSE_OK);
	assert_string_equal(p->type, "text");
	assert_null(p->children);
	assert_true((p->flags & MESSAGE_PART_FLAG_TEXT) != 0);
	p = parse("Content-Type: multipart/mixed; boundary=\"\"\n\n--\n\nhi\n", MESSAGE_PARSE_OK);
	assert_string_equal(p->type, "text");
	/* A boundary given the RFC 2231 way still works. */
	p = parse("Content-Type: multipart/signed; boundary*=us-ascii''Ee%51\n\n--EeQ\n\nx\n"
		  "--EeQ--\n",
		  MESSAGE_PARSE_OK);
	assert_int_equal(p->children_count, 1);
	/* Invalid Content-Type: RFC 2045 5.2 default. */
	p = parse("Content-Type: text\n\nhi\n", MESSAGE_PARSE_OK);
	assert_string_equal(p->subtype, "plain");
	assert_true((p->flags & MESSAGE_PART_FLAG_DEFAULT_TYPE) != 0);
	/* The first Content-Type wins. */
	p = parse("Content-Type: image/png\nContent-Type: text/plain\n\nx", MESSAGE_PARSE_OK);
	assert_string_equal(p->type, "image");

	/* Digest members default to message/rfc822. */
	p = parse("Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: a\n\nA\n"
		  "--d\nContent-Type: text/plain\n\nB\n--d--\n",
		  MESSAGE_PARSE_OK);
	assert_true((p->children->flags & MESSAGE_PART_FLAG_MESSAGE) != 0);
	assert_int_equal(p->children->children_count, 1);
	assert_true((p->children->next->flags & MESSAGE_PART_FLAG_TEXT) != 0);

	/* message/global is an encapsulated message too (RFC 9051). */
	p = parse("Content-Type: message/global\n\nSubject: x\n\ny\n", MESSAGE_PARSE_OK);
	assert_int_equal(p->children_count, 1);
	/* An encoded message/rfc822 cannot be split. */
	p = parse(
		"Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDog\n",
		MESSAGE_PARSE_OK);
	assert_null(p->children);
	assert_int_equal(p->cte, MESSAGE_CTE_BASE64);
	p = parse("Content-Transfer-Encoding: x-uuencode\n\nbegin\n", MESSAGE_PARSE_OK);
	assert_int_equal(p->cte, MESSAGE_CTE_UNKNOWN);
	assert_string_equal(p->encoding, "x-uuencode");
}

static void test_odd_shapes(void **state)
{
	const struct message_part *p;

	(void)state;
	/* Empty message, header only, no blank line. */
	p = parse("", MESSAGE_PARSE_OK);
	assert_int_equal(p->body_size, 0);
	p = parse("Subject: x", MESSAGE_PARSE_OK);
	assert_true((p->flags & MESSAGE_PART_FLAG_NO_BLANK_LINE) != 0);
	assert_int_equal(p->header_size, 10);
	/* Empty parts, and a part whose header runs into the boundary. */
	p = parse("Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\n\n--b\nX-A: 1\n--b--\n",
		  MESSAGE_PARSE_OK);
	assert_int_equal(p->children_count, 3);
	assert_int_equal(p->children->header_size, 0);
	assert_int_equal(p->children->body_size, 0);
	/* The only LF before the third delimiter belongs to it. */
	assert_int_equal(p->children->next->header_size, 0);
	assert_int_equal(p->children->next->next->header_size, 6);
	assert_true((p->children->next->next->flags & MESSAGE_PART_FLAG_NO_BLANK_LINE) != 0);
	/* No boundary line at all, and boundary lines in the epilogue. */
	p = parse("Content-Type: multipart/mixed; boundary=b\n\nnothing\n", MESSAGE_PARSE_OK);
	assert_int_equal(p->children_count, 0);
	p = parse("Content-Type: multipart/mixed; boundary=b\n\n--b\n\nx\n--b--\n--b\n\ny\n",
		  MESSAGE_PARSE_OK);
	assert_int_equal(p->children_count, 1);
	/* NUL and 8-bit bytes do not disturb anything. */
	p = parse("Content-Type: text/plain\n\n\xff\xfe", MESSAGE_PARSE_OK);
	assert_int_equal(p->body_size, 2);
}

static void test_limits(void **state)
{
	struct message_parse_limits limits = message_parse_default_limits;
	struct message_part *root;
	const char *error;
	char msg[4096];
	size_t n = 0;

	(void)state;
	/* Nesting deeper than allowed: the deepest multipart stays opaque. */
	for (int i = 0; i < 6; i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n,
				      "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i,
				      i);
	n += (size_t)snprintf(msg + n, sizeof(msg) - n, "\nleaf\n");
	limits.max_depth = 3;
	assert_int_equal(message_parse(pool, (const uint8_t *)msg, n, &limits, &root, &error),
			 MESSAGE_PARSE_LIMITED);
	assert_string_equal(error, "MIME parts nested too deeply");
	check_tree(root, n);
	assert_int_equal(message_part_count(root), 4);
	assert_int_equal(message_parse(pool, (const uint8_t *)msg, n, NULL, &root, &error),
			 MESSAGE_PARSE_OK);
	assert_int_equal(message_part_count(root), 7);

	/* Too many parts: later ones are left inside the parent's body. */
	limits = message_parse_default_limits;
	limits.max_parts = 3;
	n = (size_t)snprintf(msg, sizeof(msg),
			     "Content-Type: multipart/mixed; boundary=b\n\n"
			     "--b\n\n1\n--b\n\n2\n--b\n\n3\n--b\n\n4\n--b--\n");
	assert_int_equal(message_parse(pool, (const uint8_t *)msg, n, &limits, &root, &error),
			 MESSAGE_PARSE_LIMITED);
	assert_string_equal(error, "Too many MIME parts");
	assert_int_equal(root->children_count, 2);
	assert_true((root->flags & MESSAGE_PART_FLAG_LIMITED) != 0);
	check_tree(root, n);

	/* A boundary longer than allowed. */
	limits = message_parse_default_limits;
	limits.max_boundary = 10;
	n = (size_t)snprintf(msg, sizeof(msg),
			     "Content-Type: multipart/mixed; boundary=0123456789ab"
			     "\n\n--0123456789ab\n\nx\n");
	assert_int_equal(message_parse(pool, (const uint8_t *)msg, n, &limits, &root, &error),
			 MESSAGE_PARSE_LIMITED);
	assert_null(root->children);

	/* A header limit: the rest of the part is body. */
	limits = message_parse_default_limits;
	limits.header.max_fields = 2;
	n = (size_t)snprintf(msg, sizeof(msg), "A: 1\nB: 2\nC: 3\n\nbody\n");
	assert_int_equal(message_parse(pool, (const uint8_t *)msg, n, &limits, &root, &error),
			 MESSAGE_PARSE_LIMITED);
	assert_int_equal(root->body_offset, 10);

	/* A pool too small is an error, not a crash. */
	struct pool *tiny = pool_create(600);

	assert_int_equal(message_parse(tiny, (const uint8_t *)mixed_msg, strlen(mixed_msg), NULL,
				       &root, &error),
			 MESSAGE_PARSE_ERROR);
	assert_null(root);
	assert_non_null(error);
	pool_destroy(&tiny);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parses b and returns the seconds it took; the tree must be sane. */
static double timed_parse(const struct buf *b, struct message_part **root_r)
{
	const char *error;
	double start = now();

	assert_int_equal(message_parse(pool, buf_data(b), buf_len(b), NULL, root_r, &error),
			 MESSAGE_PARSE_OK);
	start = now() - start;
	check_tree(*root_r, buf_len(b));
	return start;
}

static void test_large(void **state)
{
	struct buf b = BUF_INIT(64 << 20);
	struct message_part *root;
	double secs;

	(void)state;
	/* A 20 MB attachment. Each parse takes milliseconds; the bound is loose
	   so loaded machines and sanitizer builds pass, while quadratic
	   behaviour would take minutes. */
	assert_true(buf_append_str(&b, "Content-Type: multipart/mixed; boundary=\"XYZ\"\n\n"
				       "--XYZ\n\nhello\n--XYZ\n"
				       "Content-Transfer-Encoding: base64\n\n"));
	while (buf_len(&b) < (20 << 20))
		assert_true(buf_append_str(
			&b,
			"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5\n"));
	assert_true(buf_append_str(&b, "--XYZ--\n"));
	secs = timed_parse(&b, &root);
	assert_true(secs < 10.0);
	assert_int_equal(root->children_count, 2);
	assert_int_equal(root->children->next->body_lines, root->children->next->body_size / 69);

	/* 10,000 parts. */
	buf_reset(&b);
	pool_clear(pool);
	assert_true(buf_append_str(&b, "Content-Type: multipart/mixed; boundary=\"XYZ\"\n\n"));
	for (int i = 0; i < 10000; i++)
		assert_true(buf_printf(
			&b, "--XYZ\nContent-Type: text/plain; name=\"p%d\"\n\npart %d\n", i, i));
	assert_true(buf_append_str(&b, "--XYZ--\n"));
	secs = timed_parse(&b, &root);
	assert_true(secs < 10.0);
	assert_int_equal(root->children_count, 10000);
	assert_string_equal(message_part_find_section(root, "10000")->params[0].value, "p9999");

	/* Deep nesting over a body of lines that all start with "--": each
	   line is compared with every boundary, but only once. */
	buf_reset(&b);
	pool_clear(pool);
	assert_true(buf_append_str(&b, "Content-Type: multipart/mixed; boundary=b0\n\n"));
	for (int i = 1; i < 60; i++)
		assert_true(buf_printf(&b, "--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n",
				       i - 1, i));
	assert_true(buf_append_str(&b, "--b59\n\n"));
	while (buf_len(&b) < (8 << 20))
		assert_true(buf_append_str(&b, "--bX\n--b\n"));
	secs = timed_parse(&b, &root);
	assert_true(secs < 10.0);
	assert_int_equal(message_part_count(root), 61);
	buf_free(&b);
	pool_clear(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mixed_crlf_and_lf),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_prefix_boundaries),
		cmocka_unit_test(test_missing_close),
		cmocka_unit_test(test_wrong_case_and_whitespace),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_odd_shapes),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_large),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
