/*
 * Unit tests for SORT and THREAD of roost-imap (imap/sort*.c, thread.c):
 * RFC 5256 base subject extraction, Message-ID normalization, the sort
 * criteria, and both threading algorithms on messages held in memory,
 * including deep and looping reference chains.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "imap/sort.h"
#include "xalloc.h"

static void check_base(const char *subject, const char *want, bool want_reply)
{
	struct buf out = BUF_INIT(4096), folded = BUF_INIT(4096);
	bool reply = !want_reply;

	assert_true(sort_base_subject((const uint8_t *)subject, strlen(subject), &out, &reply));
	assert_true(search_fold((const uint8_t *)want, strlen(want), &folded));
	if (buf_len(&out) != buf_len(&folded) ||
	    memcmp(buf_data(&out), buf_data(&folded), buf_len(&out)) != 0)
		fail_msg("base subject of \"%s\": \"%s\", want \"%s\"", subject, buf_cstr(&out),
			 buf_cstr(&folded));
	if (reply != want_reply)
		fail_msg("base subject of \"%s\": reply %d", subject, reply);
	buf_free(&out);
	buf_free(&folded);
}

static void test_base_subject(void **state)
{
	(void)state;
	check_base("hello", "hello", false);
	check_base("Re: hello", "hello", true);
	check_base("RE: Re[2]: FWD: hello", "hello", true);
	check_base("Re:hello", "hello", true);
	check_base("re  : hello", "hello", true);
	check_base("Fw: x", "x", true);
	check_base("Ref: x", "Ref: x", false);
	check_base("Re [x]: y", "y", true);
	check_base("[a]Re: x", "x", true);
	check_base("[list] Re: hello", "hello", true);
	check_base("[list] hello", "hello", false);
	check_base("[list]", "[list]", false);
	check_base("[a] [b]", "[b]", false);
	check_base("[a] [b] c", "c", false);
	check_base("hello (fwd)", "hello", true);
	check_base("hello (FWD) (fwd)  ", "hello", true);
	check_base("hello(fwd)", "hello", true);
	check_base("[fwd: hello]", "hello", true);
	check_base("[Fwd: Re: [list] hello (fwd)]", "hello", true);
	check_base("Re: [fwd: hello]", "hello", true);
	check_base("[fwd: [fwd: x]]", "x", true);
	check_base("[fwd: ]", "", true);
	check_base("Re: ", "", true);
	check_base("", "", false);
	check_base("   ", "", false);
	check_base("\tRe:\r\n  hello   world ", "hello world", true);
	check_base("=?utf-8?q?Re=3A_caf=C3=A9?=", "caf\xc3\xa9", true);
	check_base("=?ISO-8859-1?Q?Re:_Gr=FC=DFe?=",
		   "Gr\xc3\xbc\xc3\x9f"
		   "e",
		   true);
	check_base("Hello World", "HELLO WORLD", false);
	/* Only the prefix and suffix rules apply, never the middle. */
	check_base("a Re: b", "a Re: b", false);
	check_base("[x", "[x", false);
	check_base("x]", "x]", false);
}

static void check_ids(const char *value, const char *want)
{
	struct buf out = BUF_INIT(4096);
	size_t n = thread_msgids_parse((const uint8_t *)value, strlen(value), 100, &out);
	char joined[512] = "";

	for (size_t i = 0, off = 0; i < n; i++) {
		const char *id = (const char *)buf_data(&out) + off;

		(void)str_append(joined, sizeof(joined), i == 0 ? "" : " ");
		(void)str_append(joined, sizeof(joined), id);
		off += strlen(id) + 1;
	}
	if (strcmp(joined, want) != 0)
		fail_msg("ids of \"%s\": \"%s\", want \"%s\"", value, joined, want);
	buf_free(&out);
}

static void test_msgids(void **state)
{
	(void)state;
	/* The example of RFC 5256: both forms are the same Message ID. */
	check_ids("<\"01KF8JCEOCBS0045PS\"@xxx.yyy.com>", "01KF8JCEOCBS0045PS@xxx.yyy.com");
	check_ids("<01KF8JCEOCBS0045PS@xxx.yyy.com>", "01KF8JCEOCBS0045PS@xxx.yyy.com");
	check_ids("<a@b> <c@d>\t(comment <x@y>)\r\n <e.f@g>", "a@b c@d e.f@g");
	check_ids("garbage <no-at-sign> <a@b", "");
	check_ids("<a@b> junk <c@d>", "a@b c@d");
	check_ids("<\"a\\\"b\"@c>", "a\"b@c");
	check_ids("< a @ b >", "a@b");
	check_ids("", "");
}

/* ---- messages in memory ---- */

struct mem_msg {
	char *data;
	int64_t date;
	uint64_t size;
};

static struct mem_msg *msgs;
static size_t msgs_count;

static bool mem_internal_date(void *ctx, uint32_t seq, int64_t *date_r)
{
	(void)ctx;
	*date_r = msgs[seq - 1].date;
	return true;
}

static bool mem_read(void *ctx, uint32_t seq, const uint8_t **data_r, size_t *len_r)
{
	(void)ctx;
	*data_r = (const uint8_t *)msgs[seq - 1].data;
	*len_r = strlen(msgs[seq - 1].data);
	return true;
}

static void mem_set(void *ctx, struct search_mail *mail, uint32_t seq)
{
	(void)ctx;
	search_mail_reset(mail, seq);
	mail->uid = seq * 10;
	mail->size = msgs[seq - 1].size;
}

static void mem_add(const char *data, int64_t date)
{
	msgs = i_realloc(msgs, (msgs_count + 1) * sizeof(*msgs));
	msgs[msgs_count].data = i_strdup(data);
	msgs[msgs_count].date = date;
	msgs[msgs_count].size = strlen(data);
	msgs_count++;
}

static void mem_clear(void)
{
	for (size_t i = 0; i < msgs_count; i++)
		free(msgs[i].data);
	free(msgs);
	msgs = NULL;
	msgs_count = 0;
}

static void thread_msg(unsigned int n, const char *subject, unsigned int minute, const char *extra)
{
	char data[1024];

	(void)str_format(data, sizeof(data),
			 "Message-ID: <%u@x>\r\nSubject: %s\r\n"
			 "Date: Wed, 1 Jan 2020 10:%02u:00 +0000\r\n%s\r\nbody\r\n",
			 n, subject, minute, extra);
	mem_add(data, 0);
}

static const char *run_thread(enum thread_algorithm alg, bool uids)
{
	static char result[4096];
	struct search_source src;
	struct search_mail mail;
	struct buf out = BUF_INIT(1024 * 1024);
	uint32_t *seqs = i_malloc((msgs_count + 1) * sizeof(*seqs));
	uint32_t *uid_list = i_malloc((msgs_count + 1) * sizeof(*uid_list));

	memset(&src, 0, sizeof(src));
	src.internal_date = mem_internal_date;
	src.read = mem_read;
	search_mail_init(&mail, &src);
	for (size_t i = 0; i < msgs_count; i++) {
		seqs[i] = (uint32_t)i + 1;
		uid_list[i] = seqs[i] * 10;
	}
	thread_messages(alg, &mail, mem_set, NULL, seqs, uids ? uid_list : NULL, msgs_count, &out);
	(void)str_copy_n(result, sizeof(result), buf_cstr(&out), buf_len(&out));
	search_mail_deinit(&mail);
	buf_free(&out);
	free(seqs);
	free(uid_list);
	return result;
}

static void test_thread_references(void **state)
{
	(void)state;
	thread_msg(1, "hello", 0, "");
	thread_msg(2, "thread root", 1, "");
	thread_msg(3, "Re: thread root", 2, "In-Reply-To: <2@x>\r\n");
	thread_msg(4, "Re: thread root", 3, "References: <2@x> <3@x>\r\n");
	thread_msg(5, "Re: thread root", 4, "References: <2@x> <3@x> <4@x>\r\n");
	thread_msg(6, "Re: thread root", 5, "References: <2@x> <3@x>\r\n");
	thread_msg(7, "Re: thread root", 6, "References: <3@x> <6@x>\r\n");
	thread_msg(8, "Re: thread root", 7, "References: <6@x> <7@x>\r\n");
	thread_msg(9, "orphan one", 8, "References: <lost@x>\r\n");
	thread_msg(10, "orphan two", 9, "References: <lost@x>\r\n");
	thread_msg(11, "Re: hello", 10, "");
	assert_string_equal(run_thread(THREAD_REFERENCES, false),
			    "(1 11)(2 3 (4 5)(6 7 8))((9)(10))");
	assert_string_equal(run_thread(THREAD_REFERENCES, true),
			    "(10 110)(20 30 (40 50)(60 70 80))((90)(100))");
	assert_string_equal(run_thread(THREAD_ORDEREDSUBJECT, false),
			    "(1 11)(2 (3)(4)(5)(6)(7)(8))(9)(10)");
	mem_clear();

	/* A message that arrived earlier but was sent later sorts later. */
	thread_msg(1, "b", 5, "");
	thread_msg(2, "a", 1, "");
	thread_msg(3, "Re: a", 3, "References: <2@x>\r\n");
	thread_msg(4, "Re: a", 2, "References: <2@x>\r\n");
	assert_string_equal(run_thread(THREAD_REFERENCES, false), "(2 (4)(3))(1)");
	assert_string_equal(run_thread(THREAD_ORDEREDSUBJECT, false), "(2 (4)(3))(1)");
	mem_clear();

	/* REFS: no gathering by subject; threads ordered by their newest
	   message (the answer Dovecot gives). */
	thread_msg(1, "a", 10, "");
	thread_msg(2, "b", 1, "");
	thread_msg(3, "Re: a", 30, "References: <1@x>\r\n");
	thread_msg(4, "c", 20, "");
	thread_msg(5, "Re: b", 5, "References: <2@x>\r\n");
	thread_msg(6, "a", 15, "");
	thread_msg(7, "x", 8, "References: <lost@x>\r\n");
	thread_msg(8, "y", 9, "References: <lost@x>\r\n");
	assert_string_equal(run_thread(THREAD_REFS, false), "(2 5)((7)(8))(6)(4)(1 3)");
	assert_string_equal(run_thread(THREAD_REFERENCES, false), "(2 5)((7)(8))((1 3)(6))(4)");
	mem_clear();

	/* References that loop, a message listing itself, an empty set. */
	thread_msg(1, "x", 1, "References: <2@x> <1@x>\r\n");
	thread_msg(2, "y", 2, "References: <1@x> <2@x>\r\n");
	thread_msg(3, "z", 3, "References: <3@x>\r\n");
	assert_string_equal(run_thread(THREAD_REFERENCES, false), "(1)(2)(3)");
	mem_clear();
	assert_string_equal(run_thread(THREAD_REFERENCES, false), "");
}

static void test_thread_deep(void **state)
{
	char extra[128];
	size_t len;
	const char *out;

	(void)state;
	/* A reply chain and a comb as deep as the mailbox: no recursion. */
	for (unsigned int i = 1; i <= 20000; i++) {
		(void)str_format(extra, sizeof(extra), "In-Reply-To: <%u@x>\r\n",
				 i > 2 ? (i % 2 == 0 ? i - 2 : i - 1) : 1);
		thread_msg(i, "deep", i % 60, i == 1 ? "" : extra);
	}
	out = run_thread(THREAD_REFERENCES, false);
	len = strlen(out);
	assert_true(len > 0);
	assert_true(strncmp(out, "(1 ", 3) == 0);
	mem_clear();
}

static void sort_case(const char *criteria, const char *want)
{
	struct sort_criterion crit[SORT_MAX_CRITERIA];
	struct search_source src;
	struct search_mail mail;
	const struct imap_arg *list;
	size_t count, ncrit;
	uint32_t seqs[16];
	char line[256], got[128] = "";
	struct imap_parser_limits limits;
	struct imap_parser *parser;
	struct imap_parse_event ev;
	size_t consumed;
	const char *error;

	imap_parser_limits_default(&limits);
	parser = imap_parser_create(&limits);
	(void)str_format(line, sizeof(line), "a SORT %s UTF-8 ALL\r\n", criteria);
	assert_int_equal(imap_parser_parse(parser, line, strlen(line), &consumed, &ev),
			 IMAP_PARSE_COMMAND);
	assert_true(imap_arg_get_list(&ev.cmd->args[0], &list, &count));
	ncrit = sort_criteria_parse(list, count, crit, &error);
	assert_true(ncrit > 0);
	memset(&src, 0, sizeof(src));
	src.internal_date = mem_internal_date;
	src.read = mem_read;
	search_mail_init(&mail, &src);
	for (size_t i = 0; i < msgs_count; i++)
		seqs[i] = (uint32_t)i + 1;
	sort_messages(crit, ncrit, &mail, mem_set, NULL, seqs, msgs_count);
	for (size_t i = 0; i < msgs_count; i++)
		(void)str_format(got + strlen(got), sizeof(got) - strlen(got), "%s%u",
				 i == 0 ? "" : " ", seqs[i]);
	if (strcmp(got, want) != 0)
		fail_msg("SORT %s: %s, want %s", criteria, got, want);
	search_mail_deinit(&mail);
	imap_parser_destroy(&parser);
}

static void test_sort(void **state)
{
	(void)state;
	mem_add("From: Zed <aaa@x>\r\nTo: b@x\r\nSubject: Re: apple\r\n"
		"Date: Mon, 3 Feb 2020 10:00:00 +0000\r\n\r\n1\r\n",
		1580860800);
	mem_add("From: Anna <zzz@x>\r\nCc: c@x\r\nSubject: banana\r\n"
		"Date: Sat, 1 Feb 2020 10:00:00 +0000\r\n\r\n22222\r\n",
		1580774400);
	mem_add("From: =?UTF-8?Q?=C3=89mile?= <mmm@x>\r\nSubject: apple\r\n"
		"Date: Sun, 2 Feb 2020 10:00:00 +0000\r\n\r\n333\r\n",
		1580688000);
	mem_add("From: mmm@x\r\nSubject: Cherry\r\nDate: nonsense\r\n\r\n4444444\r\n", 1580515200);
	sort_case("(ARRIVAL)", "4 3 2 1");
	sort_case("(REVERSE ARRIVAL)", "1 2 3 4");
	sort_case("(DATE)", "4 2 3 1");
	sort_case("(SUBJECT)", "1 3 2 4");
	sort_case("(SUBJECT DATE)", "3 1 2 4");
	sort_case("(REVERSE SUBJECT)", "4 2 1 3");
	sort_case("(FROM)", "1 3 4 2");
	sort_case("(DISPLAYFROM)", "2 3 4 1");
	sort_case("(CC)", "1 3 4 2");
	sort_case("(TO)", "2 3 4 1");
	sort_case("(SIZE)", "4 1 2 3");
	sort_case("(REVERSE SIZE ARRIVAL)", "3 2 1 4");
	mem_clear();
}

static void test_sort_criteria_errors(void **state)
{
	static const char *const bad[] = {
		"()",	   "(REVERSE)", "(DATE REVERSE)", "(BOGUS)", "(REVERSE REVERSE DATE)",
		"((DATE))"};
	struct sort_criterion crit[SORT_MAX_CRITERIA];
	struct imap_parser_limits limits;
	struct imap_parser *parser;
	struct imap_parse_event ev;
	const struct imap_arg *list;
	size_t consumed, count;
	const char *error;
	char line[128];

	(void)state;
	imap_parser_limits_default(&limits);
	parser = imap_parser_create(&limits);
	for (size_t i = 0; i < N_ELEMENTS(bad); i++) {
		(void)str_format(line, sizeof(line), "a SORT %s UTF-8 ALL\r\n", bad[i]);
		assert_int_equal(imap_parser_parse(parser, line, strlen(line), &consumed, &ev),
				 IMAP_PARSE_COMMAND);
		assert_true(imap_arg_get_list(&ev.cmd->args[0], &list, &count));
		if (sort_criteria_parse(list, count, crit, &error) != 0)
			fail_msg("%s accepted", bad[i]);
	}
	imap_parser_destroy(&parser);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_subject),
		cmocka_unit_test(test_msgids),
		cmocka_unit_test(test_thread_references),
		cmocka_unit_test(test_thread_deep),
		cmocka_unit_test(test_sort),
		cmocka_unit_test(test_sort_criteria_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
