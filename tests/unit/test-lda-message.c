/*
 * Unit tests for roost-lda's message handling (lda/message.c) and its log
 * line (deliver_log_format in lda/deliver.c): where Return-Path and
 * Delivered-To go in LF and CRLF messages, what is left alone when Postfix
 * already wrote them, the mbox "From " line, the header facts, reading from
 * pipes and files with the size limit.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../lda/lda.h"

/* The message after add_trace equals expected, byte for byte. */
static void assert_trace(const char *input, const char *mail_from, const char *rcpt_to,
			 const char *expected)
{
	struct lda_message msg;

	lda_message_from_memory(input, strlen(input), &msg);
	lda_message_add_trace(&msg, mail_from, rcpt_to);
	assert_int_equal(msg.size, strlen(expected));
	assert_memory_equal(msg.data, expected, msg.size);
	/* The input's own bytes follow unchanged. */
	assert_int_equal(msg.size - msg.input_offset, strlen(input));
	assert_memory_equal(msg.data + msg.input_offset, input, strlen(input));
	lda_message_free(&msg);
}

static void test_trace_lf(void **state)
{
	(void)state;
	assert_trace("From: a@example.org\nSubject: hi\n\nbody\n", "a@example.org",
		     "jdoe@example.com",
		     "Return-Path: <a@example.org>\nDelivered-To: jdoe@example.com\n"
		     "From: a@example.org\nSubject: hi\n\nbody\n");
}

static void test_trace_crlf(void **state)
{
	(void)state;
	assert_trace("From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n", "a@example.org",
		     "jdoe+lists@example.com",
		     "Return-Path: <a@example.org>\r\nDelivered-To: jdoe+lists@example.com\r\n"
		     "From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n");
}

static void test_trace_null_and_missing_sender(void **state)
{
	(void)state;
	/* The null path (bounces) is written as <>. */
	assert_trace("Subject: bounce\n\n", "", "jdoe@example.com",
		     "Return-Path: <>\nDelivered-To: jdoe@example.com\nSubject: bounce\n\n");
	/* No -f and no From line: no Return-Path at all. */
	assert_trace("Subject: x\n\n", NULL, "jdoe@example.com",
		     "Delivered-To: jdoe@example.com\nSubject: x\n\n");
	/* No recipient either: the message is untouched. */
	assert_trace("Subject: x\n\n", NULL, NULL, "Subject: x\n\n");
}

static void test_trace_refuses_line_breaks(void **state)
{
	(void)state;
	/* An address that would forge a header field is never written. */
	assert_trace("Subject: x\n\n", "a@b.c\nX-Evil: 1", "j@example.com\r\nBcc: x",
		     "Subject: x\n\n");
	assert_trace("Subject: x\n\n", "a@b.c", "j@example.com\tx",
		     "Return-Path: <a@b.c>\nSubject: x\n\n");
}

static void test_trace_postfix_already_added(void **state)
{
	/* What Postfix's pipe with flags=DORqhu writes in front. */
	const char *postfix = "Return-Path: <a@example.org>\n"
			      "X-Original-To: jdoe+lists@example.com\n"
			      "Delivered-To: jdoe+lists@example.com\n"
			      "Received: from mx by example.com\n"
			      "Subject: hi\n\nbody\n";

	(void)state;
	assert_trace(postfix, "a@example.org", "jdoe+lists@example.com", postfix);
	/* Same address in another case and in brackets: still the same. */
	assert_trace("Delivered-To: <JDoe+Lists@Example.COM>\nSubject: hi\n\n", NULL,
		     "jdoe+lists@example.com",
		     "Delivered-To: <JDoe+Lists@Example.COM>\nSubject: hi\n\n");
	/* Delivered-To for someone else (an earlier hop): ours goes on top. */
	assert_trace("Return-Path: <a@example.org>\nDelivered-To: list@example.net\n\nb\n",
		     "a@example.org", "jdoe@example.com",
		     "Delivered-To: jdoe@example.com\n"
		     "Return-Path: <a@example.org>\nDelivered-To: list@example.net\n\nb\n");
}

static void test_trace_deep_fields_do_not_count(void **state)
{
	(void)state;
	/* A Return-Path below Received: was written by someone else before the
	   last hop; the envelope's goes on top. */
	assert_trace("Received: from x\nReturn-Path: <forged@example.net>\n"
		     "Delivered-To: jdoe@example.com\n\nbody\n",
		     "real@example.org", "jdoe@example.com",
		     "Return-Path: <real@example.org>\nDelivered-To: jdoe@example.com\n"
		     "Received: from x\nReturn-Path: <forged@example.net>\n"
		     "Delivered-To: jdoe@example.com\n\nbody\n");
}

static void test_trace_mbox_from_line(void **state)
{
	const char *in = "From sender@example.org Thu Jan  1 00:00:00 2024\n"
			 "Subject: mbox\n\nbody\n";
	struct lda_message msg;

	(void)state;
	lda_message_from_memory(in, strlen(in), &msg);
	assert_string_equal(msg.from_line_sender, "sender@example.org");
	assert_int_equal(msg.size, strlen("Subject: mbox\n\nbody\n"));
	lda_message_add_trace(&msg, msg.from_line_sender, "jdoe@example.com");
	assert_int_equal(msg.size, strlen("Return-Path: <sender@example.org>\n"
					  "Delivered-To: jdoe@example.com\n"
					  "Subject: mbox\n\nbody\n"));
	assert_memory_equal(msg.data,
			    "Return-Path: <sender@example.org>\nDelivered-To: jdoe@example.com\n"
			    "Subject: mbox\n\nbody\n",
			    msg.size);
	lda_message_free(&msg);

	/* A "From " line that is all there is. */
	lda_message_from_memory("From x", 6, &msg);
	assert_string_equal(msg.from_line_sender, "x");
	assert_int_equal(msg.size, 0);
	lda_message_free(&msg);
}

static void test_trace_empty_and_headerless(void **state)
{
	(void)state;
	assert_trace("", "a@b.c", "j@example.com",
		     "Return-Path: <a@b.c>\nDelivered-To: j@example.com\n");
	assert_trace("\nbody only\n", "a@b.c", "j@example.com",
		     "Return-Path: <a@b.c>\nDelivered-To: j@example.com\n\nbody only\n");
}

static void test_header_facts(void **state)
{
	const char *in = "Message-ID: <id1@example.org>\n"
			 "Subject: =?UTF-8?Q?h=C3=A9llo?= world\n"
			 "From: \"Alice A.\" <alice@example.org>, bob@example.org\n"
			 "X-Original-To: Orig <orig@example.com>\n"
			 "Message-ID: <second@example.org>\n"
			 "\nbody\n";
	struct lda_message msg;

	(void)state;
	lda_message_from_memory(in, strlen(in), &msg);
	lda_message_add_trace(&msg, "s@example.org", "jdoe@example.com");
	lda_message_parse_header(&msg, "X-Original-To");
	assert_string_equal(msg.message_id, "<id1@example.org>");
	assert_string_equal(msg.subject, "h\xc3\xa9llo world");
	assert_string_equal(msg.from, "alice@example.org");
	assert_string_equal(msg.orig_rcpt_header, "orig@example.com");
	lda_message_free(&msg);

	/* Absent facts stay NULL; control characters never reach the log. */
	in = "Subject: a\x01"
	     "b\x7f"
	     "c\n\n";
	lda_message_from_memory(in, strlen(in), &msg);
	lda_message_parse_header(&msg, NULL);
	assert_null(msg.message_id);
	assert_null(msg.from);
	assert_null(msg.orig_rcpt_header);
	assert_string_equal(msg.subject, "a?b?c");
	lda_message_free(&msg);
}

static void test_header_long_subject(void **state)
{
	char in[400];
	struct lda_message msg;

	(void)state;
	memcpy(in, "Subject: ", 9);
	memset(in + 9, 'x', 200);
	memcpy(in + 209, "\n\n", 3);
	lda_message_from_memory(in, strlen(in), &msg);
	lda_message_parse_header(&msg, "");
	assert_int_equal(strlen(msg.subject), 80 + 3);
	assert_string_equal(msg.subject + 80, "...");
	lda_message_free(&msg);
}

/* Feeds data into a pipe from a child process and reads it back. */
static enum lda_read_result read_from_pipe(const char *data, size_t len, uint64_t max,
					   struct lda_message *msg, uint64_t *size_r)
{
	int fds[2];
	pid_t pid;
	const char *error;
	enum lda_read_result ret;
	int status;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		for (size_t done = 0; done < len;) {
			ssize_t n =
				write(fds[1], data + done, len - done > 1000 ? 1000 : len - done);

			if (n <= 0)
				_exit(1);
			done += (size_t)n;
		}
		_exit(0);
	}
	close(fds[1]);
	ret = lda_message_read(fds[0], max, msg, size_r, &error);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	/* The writer was never left blocked: everything was read. */
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return ret;
}

static void test_read_pipe_and_limit(void **state)
{
	size_t len = 300 * 1024;
	char *big = malloc(len);
	struct lda_message msg;
	uint64_t size;

	(void)state;
	for (size_t i = 0; i < len; i++)
		big[i] = i % 64 == 63 ? '\n' : (char)('a' + i % 26);
	memcpy(big, "Subject: big\n\n", 14);
	assert_int_equal(read_from_pipe(big, len, len, &msg, &size), LDA_READ_OK);
	assert_int_equal(size, len);
	assert_int_equal(msg.size, len);
	assert_memory_equal(msg.data, big, len);
	lda_message_add_trace(&msg, "a@b.c", "d@e.f");
	assert_memory_equal(msg.data + msg.input_offset, big, len);
	lda_message_free(&msg);

	/* One byte over the limit: refused, and the writer still finished. */
	assert_int_equal(read_from_pipe(big, len, len - 1, &msg, &size), LDA_READ_TOO_LARGE);
	lda_message_free(&msg);
	assert_int_equal(read_from_pipe(big, 10, 9, &msg, &size), LDA_READ_TOO_LARGE);
	lda_message_free(&msg);
	assert_int_equal(read_from_pipe("", 0, 9, &msg, &size), LDA_READ_OK);
	assert_int_equal(msg.size, 0);
	lda_message_free(&msg);
	free(big);
}

static void test_read_file(void **state)
{
	char path[] = "/tmp/test-lda-message-XXXXXX";
	const char *text = "From x@y.z  Mon Jan  1 00:00:00 2024\r\nSubject: f\r\n\r\nbody\r\n";
	int fd = mkstemp(path);
	struct lda_message msg;
	const char *error;
	uint64_t size;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(lda_message_read(fd, 1000, &msg, &size, &error), LDA_READ_OK);
	assert_int_equal(size, strlen(text));
	assert_string_equal(msg.from_line_sender, "x@y.z");
	assert_true(msg.crlf);
	lda_message_add_trace(&msg, "x@y.z", "r@example.com");
	assert_memory_equal(msg.data,
			    "Return-Path: <x@y.z>\r\nDelivered-To: r@example.com\r\n"
			    "Subject: f\r\n\r\nbody\r\n",
			    msg.size);
	lda_message_free(&msg);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(lda_message_read(fd, 10, &msg, &size, &error), LDA_READ_TOO_LARGE);
	lda_message_free(&msg);
	close(fd);
	unlink(path);
}

static void test_log_format(void **state)
{
	const char *in = "Message-ID: <m1@example.org>\r\nSubject: Hi\r\n"
			 "From: Al <al@example.org>\r\n\r\nline\r\n";
	struct lda_message msg;
	struct lda_delivery d;
	struct buf out = BUF_INIT(1024);

	(void)state;
	memset(&d, 0, sizeof(d));
	lda_message_from_memory(in, strlen(in), &msg);
	lda_message_parse_header(&msg, NULL);
	d.msg = &msg;
	d.mail_from = "al@example.org";
	d.rcpt_to = "jdoe@example.com";

	/* Dovecot's default deliver_log_format. */
	lda_log_format(&out, "msgid=%m: %$", &d, "saved mail to INBOX");
	assert_string_equal(buf_cstr(&out), "msgid=<m1@example.org>: saved mail to INBOX");
	buf_reset(&out);
	lda_log_format(&out, "%{msgid} from=%f subject=%s envelope=%e to=%{to_envelope} 100%%", &d,
		       "x");
	assert_string_equal(buf_cstr(&out), "<m1@example.org> from=al@example.org subject=Hi "
					    "envelope=al@example.org to=jdoe@example.com 100%");
	buf_reset(&out);
	/* Sizes as stored: CRLF becomes LF (p); the virtual size counts CRLF (w). */
	lda_log_format(&out, "%p/%w %{size}/%{vsize}", &d, "x");
	assert_int_equal(strlen(in), 78);
	assert_string_equal(buf_cstr(&out), "73/78 73/78");
	buf_reset(&out);
	/* Unknown variables vanish; a lone '%' at the end is dropped. */
	lda_log_format(&out, "a%qb%{nope}c%", &d, "x");
	assert_string_equal(buf_cstr(&out), "abc");
	lda_message_free(&msg);

	/* No Message-ID: Dovecot logs "unspecified". */
	buf_reset(&out);
	lda_message_from_memory("\n", 1, &msg);
	lda_message_parse_header(&msg, NULL);
	lda_log_format(&out, "msgid=%m: %$", &d, "saved mail to Spam");
	assert_string_equal(buf_cstr(&out), "msgid=unspecified: saved mail to Spam");
	lda_message_free(&msg);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trace_lf),
		cmocka_unit_test(test_trace_crlf),
		cmocka_unit_test(test_trace_null_and_missing_sender),
		cmocka_unit_test(test_trace_refuses_line_breaks),
		cmocka_unit_test(test_trace_postfix_already_added),
		cmocka_unit_test(test_trace_deep_fields_do_not_count),
		cmocka_unit_test(test_trace_mbox_from_line),
		cmocka_unit_test(test_trace_empty_and_headerless),
		cmocka_unit_test(test_header_facts),
		cmocka_unit_test(test_header_long_subject),
		cmocka_unit_test(test_read_pipe_and_limit),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_log_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
