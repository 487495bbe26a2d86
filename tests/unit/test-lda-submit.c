/*
 * Unit tests for roost-lda's submission helper (lda/submit.c,
 * lda/submit-frame.c): the framing each side decodes (lengths, versions,
 * trailing bytes, addresses that could become options), and the helper's
 * loop with a real program as sendmail_path and a scripted SMTP server,
 * checking line ends, dot-stuffing, argv and how failures are reported.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../lda/submit.h"

static void test_address_valid(void **state)
{
	char longer[LDA_SUBMIT_ADDRESS_MAX + 2];

	(void)state;
	assert_true(lda_submit_address_valid("jdoe@example.com", false));
	assert_true(lda_submit_address_valid("jdoe+lists@example.com", false));
	assert_true(lda_submit_address_valid("user@[192.0.2.1]", false));
	assert_true(lda_submit_address_valid("", true));
	assert_false(lda_submit_address_valid("", false));
	/* What would be a sendmail option or change an SMTP command. */
	assert_false(lda_submit_address_valid("-oQ/tmp@example.com", false));
	assert_false(lda_submit_address_valid("a b@example.com", false));
	assert_false(lda_submit_address_valid("<a@example.com>", false));
	assert_false(lda_submit_address_valid("a@example.com\r\nRCPT TO:<x@y>", false));
	assert_false(lda_submit_address_valid("a@example.com>", false));
	assert_false(lda_submit_address_valid("\"a\"@example.com", false));
	/* Not one addr-spec. */
	assert_false(lda_submit_address_valid("jdoe", false));
	assert_false(lda_submit_address_valid("@example.com", false));
	assert_false(lda_submit_address_valid("jdoe@", false));
	assert_false(lda_submit_address_valid("a@b@example.com", false));
	assert_false(lda_submit_address_valid("a,b@example.com", false));
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	longer[10] = '@';
	assert_false(lda_submit_address_valid(longer, false));
}

static void test_request_roundtrip(void **state)
{
	struct buf frame = BUF_INIT(4096);
	struct lda_submit_request req;
	const uint8_t *payload;
	const char *error;
	uint8_t type;
	size_t len, need;

	(void)state;
	assert_true(lda_submit_encode_request(&frame, "", "other@example.com", "Subject: x\n\nb\n",
					      14));
	/* Every prefix is incomplete, never an error. */
	for (size_t i = 0; i < buf_len(&frame); i++) {
		assert_int_equal(lda_submit_frame_parse(buf_data(&frame), i, 1024, &type, &payload,
							&len, &need, &error),
				 LDA_SUBMIT_FRAME_MORE);
		assert_true(need > i);
		assert_true(need <= buf_len(&frame));
	}
	assert_int_equal(lda_submit_frame_parse(buf_data(&frame), buf_len(&frame), 1024, &type,
						&payload, &len, &need, &error),
			 LDA_SUBMIT_FRAME_OK);
	assert_int_equal(type, LDA_SUBMIT_REQUEST);
	assert_int_equal(need, buf_len(&frame));
	assert_true(lda_submit_decode_request(payload, len, &req, &error));
	assert_string_equal(req.mail_from, "");
	assert_string_equal(req.rcpt_to, "other@example.com");
	assert_int_equal(req.size, 14);
	assert_memory_equal(req.data, "Subject: x\n\nb\n", 14);
	/* Trailing or missing bytes in the payload. */
	assert_false(lda_submit_decode_request(payload, len - 1, &req, &error));
	{
		uint8_t more[4096];

		memcpy(more, payload, len);
		more[len] = 'x';
		assert_false(lda_submit_decode_request(more, len + 1, &req, &error));
		assert_string_equal(error, "request: trailing bytes");
	}
	/* Over the receiver's limit. */
	assert_int_equal(lda_submit_frame_parse(buf_data(&frame), buf_len(&frame), len - 1, &type,
						&payload, &len, &need, &error),
			 LDA_SUBMIT_FRAME_ERROR);
	buf_free(&frame);
	/* The encoder refuses what the decoder would refuse. */
	frame = (struct buf)BUF_INIT(4096);
	assert_false(lda_submit_encode_request(&frame, "a@b.example", "-oi@example.com", "", 0));
	assert_false(lda_submit_encode_request(&frame, "<a@b.example>", "c@d.example", "", 0));
	buf_free(&frame);
}

/* A hand-made frame: header fields and payload as given. */
static size_t make_frame(uint8_t *out, uint8_t version, uint8_t type, uint16_t flags,
			 const void *payload, uint32_t len)
{
	out[0] = version;
	out[1] = type;
	out[2] = (uint8_t)flags;
	out[3] = (uint8_t)(flags >> 8);
	for (int i = 0; i < 4; i++)
		out[4 + i] = (uint8_t)(len >> (8 * i));
	memcpy(out + 8, payload, len);
	return 8 + len;
}

static void test_frame_errors(void **state)
{
	uint8_t f[64];
	const uint8_t *payload;
	const char *error;
	uint8_t type;
	size_t len, need, n;

	(void)state;
	n = make_frame(f, 2, LDA_SUBMIT_RESULT, 0, "\0\0\0", 3);
	assert_int_equal(lda_submit_frame_parse(f, n, 64, &type, &payload, &len, &need, &error),
			 LDA_SUBMIT_FRAME_ERROR);
	assert_string_equal(error, "unsupported frame version");
	n = make_frame(f, 1, LDA_SUBMIT_RESULT, 1, "\0\0\0", 3);
	assert_int_equal(lda_submit_frame_parse(f, n, 64, &type, &payload, &len, &need, &error),
			 LDA_SUBMIT_FRAME_ERROR);
	n = make_frame(f, 1, 9, 0, "\0\0\0", 3);
	assert_int_equal(lda_submit_frame_parse(f, n, 64, &type, &payload, &len, &need, &error),
			 LDA_SUBMIT_FRAME_ERROR);
	assert_string_equal(error, "unknown frame type");
	/* A length that claims more than the limit is refused at the header. */
	n = make_frame(f, 1, LDA_SUBMIT_REQUEST, 0, "", 0);
	f[7] = 0xff;
	assert_int_equal(
		lda_submit_frame_parse(f, 8, 1 << 20, &type, &payload, &len, &need, &error),
		LDA_SUBMIT_FRAME_ERROR);
	/* Request fields running past the payload. */
	{
		static const uint8_t bad_from[] = {0x05, 0x00, 'a', '@', 'b'};
		static const uint8_t nul_in_rcpt[] = {0x00, 0x00, 0x03, 0x00, 'a', 0,
						      'b',  0,	  0,	0,    0};
		struct lda_submit_request req;

		assert_false(lda_submit_decode_request(bad_from, sizeof(bad_from), &req, &error));
		assert_false(
			lda_submit_decode_request(nul_in_rcpt, sizeof(nul_in_rcpt), &req, &error));
	}
}

static void test_reply_roundtrip(void **state)
{
	struct buf frame = BUF_INIT(1024);
	struct lda_submit_reply reply;
	const uint8_t *payload;
	const char *error;
	uint8_t type;
	size_t len, need;

	(void)state;
	assert_true(lda_submit_encode_reply(&frame, LDA_SUBMIT_TEMPFAIL,
					    "451 4.3.0 try later\r\nspoofed: line"));
	assert_int_equal(lda_submit_frame_parse(buf_data(&frame), buf_len(&frame), 1024, &type,
						&payload, &len, &need, &error),
			 LDA_SUBMIT_FRAME_OK);
	assert_int_equal(type, LDA_SUBMIT_RESULT);
	assert_true(lda_submit_decode_reply(payload, len, &reply, &error));
	assert_int_equal(reply.status, LDA_SUBMIT_TEMPFAIL);
	/* Line breaks from the server never reach the log as line breaks. */
	assert_string_equal(reply.text, "451 4.3.0 try later  spoofed: line");
	buf_free(&frame);
	{
		static const uint8_t bad_status[] = {7, 0, 0};
		static const uint8_t ctl[] = {0, 2, 0, 'a', '\n'};

		assert_false(
			lda_submit_decode_reply(bad_status, sizeof(bad_status), &reply, &error));
		assert_false(lda_submit_decode_reply(ctl, sizeof(ctl), &reply, &error));
	}
}

/*
 * The helper's loop, run in a child on one end of a socketpair
 */

static char tmpdir[] = "/tmp/roost-submit-XXXXXX";

struct helper {
	int fd;
	pid_t pid;
};

static struct helper helper_start(const struct lda_submit_settings *set,
				  const struct lda_submit_target *target)
{
	struct helper h;
	int fds[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
	h.pid = fork();
	assert_true(h.pid >= 0);
	if (h.pid == 0) {
		close(fds[0]);
		_exit(lda_submit_serve(fds[1], set, target));
	}
	close(fds[1]);
	h.fd = fds[0];
	return h;
}

/* Sends one request and reads the reply, as lda_submit_send() does. */
static struct lda_submit_reply helper_send(struct helper *h, const char *from, const char *rcpt,
					   const char *msg)
{
	struct buf frame = BUF_INIT(1 << 20);
	struct lda_submit_reply reply;
	uint8_t in[1024];
	const uint8_t *payload;
	const char *error;
	size_t got = 0, len, need;
	uint8_t type;

	assert_true(lda_submit_encode_request(&frame, from, rcpt, msg, strlen(msg)));
	assert_int_equal(write(h->fd, buf_data(&frame), buf_len(&frame)), (ssize_t)buf_len(&frame));
	buf_free(&frame);
	for (;;) {
		enum lda_submit_frame_result r =
			lda_submit_frame_parse(in, got, 600, &type, &payload, &len, &need, &error);
		ssize_t n;

		assert_int_not_equal(r, LDA_SUBMIT_FRAME_ERROR);
		if (r == LDA_SUBMIT_FRAME_OK)
			break;
		n = read(h->fd, in + got, need - got);
		assert_true(n > 0);
		got += (size_t)n;
	}
	assert_true(lda_submit_decode_reply(payload, len, &reply, &error));
	return reply;
}

static int helper_stop(struct helper *h)
{
	int status;

	close(h->fd);
	assert_int_equal(waitpid(h->pid, &status, 0), h->pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = calloc(1, 65536);

	assert_non_null(f);
	assert_non_null(text);
	assert_true(fread(text, 1, 65535, f) < 65535);
	fclose(f);
	return text;
}

/* A sendmail stand-in: its argv and stdin go to files, it exits with CODE. */
static void write_fake_sendmail(const char *path, int code, const char *errtext)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f,
		"#!/bin/sh\nprintf '%%s\\n' \"$@\" > %s/args\ncat > %s/stdin\n"
		"%s%s%s\nexit %d\n",
		tmpdir, tmpdir, errtext != NULL ? "echo '" : "", errtext != NULL ? errtext : "",
		errtext != NULL ? "' >&2" : "", code);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

static void test_serve_sendmail(void **state)
{
	char prog[256], path[1024], args[512];
	struct lda_submit_settings set = {.timeout_secs = 10, .max_message_size = 1 << 20};
	struct lda_submit_target target = {.count = 0};
	struct lda_submit_reply reply;
	struct helper h;
	char *text;

	(void)state;
	(void)snprintf(prog, sizeof(prog), "%s/sendmail", tmpdir);
	(void)snprintf(args, sizeof(args), "%s -oi -oem", prog);
	set.sendmail_path = args;
	write_fake_sendmail(prog, 0, NULL);
	h = helper_start(&set, &target);
	/* CRLF becomes LF, a missing final line end is added, lone CR stays. */
	reply = helper_send(&h, "sender@example.org", "other@example.com",
			    "Subject: x\r\n\r\n.line\r\nmid\rdle\r\nlast");
	assert_int_equal(reply.status, LDA_SUBMIT_OK);
	(void)snprintf(path, sizeof(path), "%s/stdin", tmpdir);
	text = read_text(path);
	assert_string_equal(text, "Subject: x\n\n.line\nmid\rdle\nlast\n");
	free(text);
	(void)snprintf(path, sizeof(path), "%s/args", tmpdir);
	text = read_text(path);
	/* Configured words first, then -i -f SENDER -- RECIPIENT. */
	assert_string_equal(text, "-oi\n-oem\n-i\n-f\nsender@example.org\n--\nother@example.com\n");
	free(text);
	/* The null sender is written <>. */
	reply = helper_send(&h, "", "sender@example.org", "Subject: y\n\nz\n");
	assert_int_equal(reply.status, LDA_SUBMIT_OK);
	text = read_text(path);
	assert_string_equal(text, "-oi\n-oem\n-i\n-f\n<>\n--\nsender@example.org\n");
	free(text);
	assert_int_equal(helper_stop(&h), 0);

	/* EX_TEMPFAIL is temporary, other codes are final; the first line of
	   the output is the reason. */
	write_fake_sendmail(prog, 75, "queue is full");
	h = helper_start(&set, &target);
	reply = helper_send(&h, "a@example.org", "b@example.org", "x\n");
	assert_int_equal(reply.status, LDA_SUBMIT_TEMPFAIL);
	assert_non_null(strstr(reply.text, "exited with status 75: queue is full"));
	write_fake_sendmail(prog, 67, "no such user");
	reply = helper_send(&h, "a@example.org", "b@example.org", "x\n");
	assert_int_equal(reply.status, LDA_SUBMIT_FAILED);
	assert_non_null(strstr(reply.text, "status 67: no such user"));
	assert_int_equal(helper_stop(&h), 0);

	/* A program that is not there. */
	set.sendmail_path = "/nonexistent/sendmail";
	h = helper_start(&set, &target);
	reply = helper_send(&h, "a@example.org", "b@example.org", "x\n");
	assert_int_equal(reply.status, LDA_SUBMIT_FAILED);
	assert_non_null(strstr(reply.text, "No such file"));
	assert_int_equal(helper_stop(&h), 0);
}

static void test_serve_rejects_garbage(void **state)
{
	struct lda_submit_settings set = {
		.sendmail_path = "/bin/true", .timeout_secs = 5, .max_message_size = 1024};
	struct lda_submit_target target = {.count = 0};
	struct helper h;
	uint8_t f[64];
	size_t n;

	(void)state;
	/* A reply frame where a request belongs ends the helper. */
	h = helper_start(&set, &target);
	n = make_frame(f, 1, LDA_SUBMIT_RESULT, 0, "\0\0\0", 3);
	assert_int_equal(write(h.fd, f, n), (ssize_t)n);
	assert_int_equal(helper_stop(&h), 1);
	/* So does a request over the size limit, before it is read. */
	h = helper_start(&set, &target);
	n = make_frame(f, 1, LDA_SUBMIT_REQUEST, 0, "", 0);
	f[6] = 0x10; /* 1 MB */
	assert_int_equal(write(h.fd, f, 8), 8);
	assert_int_equal(helper_stop(&h), 1);
	/* And an invalid address inside a well-formed frame. */
	h = helper_start(&set, &target);
	{
		static const uint8_t bad[] = {0, 0, 4, 0, '-', 'o', '@', 'x', 0, 0, 0, 0};

		n = make_frame(f, 1, LDA_SUBMIT_REQUEST, 0, bad, sizeof(bad));
	}
	assert_int_equal(write(h.fd, f, n), (ssize_t)n);
	assert_int_equal(helper_stop(&h), 1);
	/* A clean EOF is a clean exit. */
	h = helper_start(&set, &target);
	assert_int_equal(helper_stop(&h), 0);
}

/*
 * A scripted SMTP server: answers each command from replies[] and writes
 * everything it read to tmpdir/smtp.
 */
static pid_t smtp_server(int *port_r, const char *const *replies)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	pid_t pid;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	*port_r = ntohs(sin.sin_port);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char path[1024], in[65536];
		int fd = accept(lfd, NULL, NULL);
		size_t got = 0;
		bool data = false;
		FILE *log;

		(void)snprintf(path, sizeof(path), "%s/smtp", tmpdir);
		log = fopen(path, "w");
		if (fd < 0 || log == NULL)
			_exit(1);
		if (write(fd, replies[0], strlen(replies[0])) < 0)
			_exit(1);
		replies++;
		while (*replies != NULL) {
			ssize_t n = read(fd, in + got, sizeof(in) - got - 1);
			char *lf;

			if (n <= 0)
				break;
			got += (size_t)n;
			in[got] = '\0';
			while ((lf = strstr(in, data ? "\r\n.\r\n" : "\r\n")) != NULL) {
				size_t take = (size_t)(lf - in) + (data ? 5 : 2);

				fwrite(in, 1, take, log);
				data = !data && strncmp(in, "DATA", 4) == 0 &&
				       strncmp(*replies, "354", 3) == 0;
				memmove(in, in + take, got - take);
				got -= take;
				in[got] = '\0';
				if (write(fd, *replies, strlen(*replies)) < 0)
					_exit(1);
				replies++;
				if (*replies == NULL)
					break;
			}
		}
		fclose(log);
		_exit(0);
	}
	close(lfd);
	return pid;
}

static void test_serve_smtp(void **state)
{
	static const char *const ok[] = {
		"220 mx.example ESMTP\r\n",
		"250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
		"250 2.1.0 Ok\r\n",
		"250 2.1.5 Ok\r\n",
		"354 End data with <CR><LF>.<CR><LF>\r\n",
		"250 2.0.0 Ok: queued as ABC\r\n",
		"221 2.0.0 Bye\r\n",
		NULL,
	};
	static const char *const refused[] = {
		"220 mx.example ESMTP\r\n",
		"250 mx.example\r\n",
		"250 2.1.0 Ok\r\n",
		"550 5.1.1 <nobody@example.com>: Recipient unknown\r\n",
		"221 Bye\r\n",
		NULL,
	};
	static const char *const busy[] = {"421 4.3.2 Service not available\r\n", NULL};
	struct lda_submit_settings set = {
		.helo_name = "mail.example.com", .timeout_secs = 10, .max_message_size = 1 << 20};
	struct lda_submit_target target;
	struct lda_submit_reply reply;
	struct helper h;
	char host[64], path[1024], *text;
	const char *error;
	int port, status;
	pid_t server;

	(void)state;
	(void)snprintf(path, sizeof(path), "%s/smtp", tmpdir);
	server = smtp_server(&port, ok);
	(void)snprintf(host, sizeof(host), "127.0.0.1:%d", port);
	assert_true(lda_submit_resolve(host, &target, &error));
	h = helper_start(&set, &target);
	/* LF becomes CRLF and a leading dot is doubled (RFC 5321 4.5.2). */
	reply = helper_send(&h, "", "sender@example.org", "Subject: caf\xc3\xa9\n\n.\n..x\nend");
	assert_int_equal(reply.status, LDA_SUBMIT_OK);
	assert_string_equal(reply.text, "250 2.0.0 Ok: queued as ABC");
	assert_int_equal(helper_stop(&h), 0);
	assert_int_equal(waitpid(server, &status, 0), server);
	text = read_text(path);
	assert_string_equal(text, "EHLO mail.example.com\r\n"
				  "MAIL FROM:<> BODY=8BITMIME\r\n"
				  "RCPT TO:<sender@example.org>\r\n"
				  "DATA\r\n"
				  "Subject: caf\xc3\xa9\r\n\r\n..\r\n...x\r\nend\r\n.\r\n"
				  "QUIT\r\n");
	free(text);

	/* 5xx is final, with the server's words. */
	server = smtp_server(&port, refused);
	(void)snprintf(host, sizeof(host), "[127.0.0.1]:%d", port);
	assert_true(lda_submit_resolve(host, &target, &error));
	h = helper_start(&set, &target);
	reply = helper_send(&h, "a@example.org", "nobody@example.com", "x\n");
	assert_int_equal(reply.status, LDA_SUBMIT_FAILED);
	assert_string_equal(reply.text, "550 5.1.1 <nobody@example.com>: Recipient unknown");
	assert_int_equal(helper_stop(&h), 0);
	assert_int_equal(waitpid(server, &status, 0), server);

	/* 4xx and a closed port are temporary. */
	server = smtp_server(&port, busy);
	(void)snprintf(host, sizeof(host), "127.0.0.1:%d", port);
	assert_true(lda_submit_resolve(host, &target, &error));
	h = helper_start(&set, &target);
	reply = helper_send(&h, "a@example.org", "b@example.com", "x\n");
	assert_int_equal(reply.status, LDA_SUBMIT_TEMPFAIL);
	assert_int_equal(waitpid(server, &status, 0), server);
	reply = helper_send(&h, "a@example.org", "b@example.com", "x\n");
	assert_int_equal(reply.status, LDA_SUBMIT_TEMPFAIL);
	assert_non_null(strstr(reply.text, "connect(submission_host) failed"));
	assert_int_equal(helper_stop(&h), 0);
}

static void test_resolve(void **state)
{
	struct lda_submit_target t;
	const char *error;

	(void)state;
	assert_true(lda_submit_resolve("127.0.0.1", &t, &error));
	assert_int_equal(t.count, 1);
	assert_int_equal(ntohs(((struct sockaddr_in *)&t.addrs[0])->sin_port), 25);
	assert_true(lda_submit_resolve("127.0.0.1:587", &t, &error));
	assert_int_equal(ntohs(((struct sockaddr_in *)&t.addrs[0])->sin_port), 587);
	assert_false(lda_submit_resolve("127.0.0.1:0", &t, &error));
	assert_false(lda_submit_resolve("127.0.0.1:70000", &t, &error));
	assert_false(lda_submit_resolve("127.0.0.1:x", &t, &error));
	assert_false(lda_submit_resolve("[127.0.0.1", &t, &error));
	assert_false(lda_submit_resolve(":25", &t, &error));
}

static int setup(void **state)
{
	(void)state;
	(void)signal(SIGPIPE, SIG_IGN);
	return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[256];

	(void)state;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address_valid),  cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test(test_frame_errors),   cmocka_unit_test(test_reply_roundtrip),
		cmocka_unit_test(test_serve_sendmail), cmocka_unit_test(test_serve_rejects_garbage),
		cmocka_unit_test(test_serve_smtp),     cmocka_unit_test(test_resolve),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
