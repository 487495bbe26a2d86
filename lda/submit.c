/*
 * roost-lda's submission helper process: forked before roost-lda confines
 * itself, it reads prepared messages from the sandboxed delivery over a
 * socketpair and hands each to sendmail_path (argv only, never a shell)
 * or to an SMTP server (submission_host), then answers with the outcome.
 * It trusts nothing in a request: frames and addresses are checked again
 * here, and the message bytes are passed on unparsed (only line ends are
 * normalised and, for SMTP, leading dots doubled).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lda-sandbox.h"
#include "log.h"
#include "submit.h"
#include "xalloc.h"

/* Output is written in chunks of this size (after line-end changes). */
#define SUBMIT_CHUNK (64 * 1024)
/* The helper's exit code when sendmail could not be executed. */
#define SUBMIT_EXEC_FAILED 127

struct lda_submit {
	int fd;
	pid_t pid;
};

static long long now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ms_left(long long deadline)
{
	long long left = deadline - now_ms();

	return left < 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

/* Writes all of data, waiting with poll() for a non-blocking fd. */
static bool write_all(int fd, const void *data, size_t size, long long deadline)
{
	const uint8_t *p = data;

	while (size > 0) {
		ssize_t n = write(fd, p, size);

		if (n > 0) {
			p += n;
			size -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = {.fd = fd, .events = POLLOUT};

			if (deadline == 0)
				continue;
			if (poll(&pfd, 1, ms_left(deadline)) <= 0) {
				errno = ETIMEDOUT;
				return false;
			}
			continue;
		}
		return false;
	}
	return true;
}

/*
 * Line ends as the transport wants them: LF for sendmail (a CR before LF
 * is dropped), CRLF for SMTP with a leading '.' doubled (RFC 5321 section
 * 4.5.2). bol says whether the next byte starts a line; prev_cr whether
 * the previous byte was a CR (held back for sendmail).
 */
struct line_coder {
	bool smtp;
	bool bol;
	bool prev_cr;
};

/* Codes len bytes into dst, which has room for 2 * len + 1 bytes. */
static size_t code_lines(struct line_coder *lc, const uint8_t *src, size_t len, uint8_t *dst)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = src[i];

		if (!lc->smtp) {
			if (lc->prev_cr && c != '\n')
				dst[o++] = '\r';
			if (c != '\r')
				dst[o++] = c;
		} else {
			if (c == '\n' && !lc->prev_cr)
				dst[o++] = '\r';
			if (c == '.' && lc->bol)
				dst[o++] = '.';
			dst[o++] = c;
		}
		lc->prev_cr = c == '\r';
		lc->bol = c == '\n';
	}
	return o;
}

/* What ends the message: its last line terminated (at most 2 bytes). */
static size_t code_end(struct line_coder *lc, uint8_t *dst)
{
	size_t o = 0;

	if (lc->smtp) {
		if (lc->prev_cr)
			dst[o++] = '\n';
		else if (!lc->bol) {
			dst[o++] = '\r';
			dst[o++] = '\n';
		}
	} else if (lc->prev_cr || !lc->bol) {
		dst[o++] = '\n';
	}
	lc->prev_cr = false;
	lc->bol = true;
	return o;
}

/* Writes the message through the line coder, ending with a line end. */
static bool write_message(int fd, bool smtp, const uint8_t *data, size_t size, long long deadline)
{
	struct line_coder lc = {.smtp = smtp, .bol = true};
	uint8_t *out = i_malloc(2 * SUBMIT_CHUNK + 4);
	bool ok = true;
	size_t o;

	for (size_t pos = 0; ok && pos < size;) {
		size_t n = size - pos > SUBMIT_CHUNK ? SUBMIT_CHUNK : size - pos;

		o = code_lines(&lc, data + pos, n, out);
		ok = write_all(fd, out, o, deadline);
		pos += n;
	}
	o = code_end(&lc, out);
	if (ok && o > 0)
		ok = write_all(fd, out, o, deadline);
	free(out);
	return ok;
}

/*
 * sendmail
 */

/* Keeps the first non-empty line of the program's output as the reason. */
struct capture {
	char *text;
	size_t size, len;
	bool done;
};

static void capture_add(struct capture *c, const char *data, size_t n)
{
	for (size_t i = 0; i < n && !c->done; i++) {
		if (data[i] == '\n' || data[i] == '\r') {
			c->done = c->len > 0;
			continue;
		}
		if (c->len + 1 < c->size) {
			c->text[c->len++] = data[i];
			c->text[c->len] = '\0';
		}
	}
}

/* Splits sendmail_path into argv (words point into words). */
static bool split_words(char *words, char **argv, unsigned int *argc_r)
{
	unsigned int argc = 0;

	for (char *p = words; *p != '\0';) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (argc == LDA_SUBMIT_ARGV_MAX)
			return false;
		argv[argc++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
	}
	*argc_r = argc;
	return argc > 0;
}

ATTR_NORETURN static void exec_sendmail(char **argv, int in_fd, int out_fd)
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};

	if (dup2(in_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
	    dup2(out_fd, STDERR_FILENO) < 0)
		_exit(SUBMIT_EXEC_FAILED);
	(void)signal(SIGPIPE, SIG_DFL);
	if (strchr(argv[0], '/') != NULL)
		execve(argv[0], argv, envp);
	else
		execvpe(argv[0], argv, envp);
	dprintf(STDERR_FILENO, "execv(%s) failed: %s\n", argv[0], strerror(errno));
	_exit(SUBMIT_EXEC_FAILED);
}

/*
 * Feeds the message to the program's stdin while reading its output (so
 * neither side can block the other) until it exits or the deadline
 * passes. Returns whether it exited, with its status.
 */
static bool feed_sendmail(pid_t pid, int in_fd, int out_fd, const struct lda_submit_request *req,
			  long long deadline, struct capture *cap, int *status_r)
{
	struct line_coder lc = {.smtp = false, .bol = true};
	uint8_t *chunk = i_malloc(2 * SUBMIT_CHUNK + 4);
	size_t pos = 0, chunk_len = 0, chunk_off = 0;
	bool exited = false, ended = false;

	(void)fcntl(in_fd, F_SETFL, O_NONBLOCK);
	(void)fcntl(out_fd, F_SETFL, O_NONBLOCK);
	while (!exited && now_ms() < deadline) {
		struct pollfd pfd[2];
		nfds_t n = 0;
		int in_idx = -1, out_idx = -1;

		if (in_fd >= 0 && chunk_off == chunk_len) {
			chunk_off = 0;
			chunk_len = 0;
			while (chunk_len == 0 && (pos < req->size || !ended)) {
				size_t take = req->size - pos > SUBMIT_CHUNK ? SUBMIT_CHUNK
									     : req->size - pos;

				if (pos < req->size) {
					chunk_len = code_lines(&lc, req->data + pos, take, chunk);
					pos += take;
				} else {
					chunk_len = code_end(&lc, chunk);
					ended = true;
				}
			}
			if (chunk_len == 0) {
				/* All of it went in: sendmail sees the end. */
				close(in_fd);
				in_fd = -1;
			}
		}
		if (in_fd >= 0 && chunk_off < chunk_len) {
			in_idx = (int)n;
			pfd[n].fd = in_fd;
			pfd[n++].events = POLLOUT;
		}
		if (out_fd >= 0) {
			out_idx = (int)n;
			pfd[n].fd = out_fd;
			pfd[n++].events = POLLIN;
		}
		if (n > 0) {
			if (poll(pfd, n, in_fd >= 0 ? ms_left(deadline) : 20) < 0 && errno != EINTR)
				break;
		} else {
			struct timespec ts = {0, 20 * 1000000};

			(void)nanosleep(&ts, NULL);
		}
		if (in_idx >= 0 && pfd[in_idx].revents != 0) {
			ssize_t w = write(in_fd, chunk + chunk_off, chunk_len - chunk_off);

			if (w > 0) {
				chunk_off += (size_t)w;
			} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
				/* It stopped reading: its exit status says why. */
				close(in_fd);
				in_fd = -1;
			}
		}
		if (out_idx >= 0 && pfd[out_idx].revents != 0) {
			char rd[512];
			ssize_t r = read(out_fd, rd, sizeof(rd));

			if (r > 0) {
				capture_add(cap, rd, (size_t)r);
			} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
				close(out_fd);
				out_fd = -1;
			}
		}
		if (in_fd < 0 && waitpid(pid, status_r, WNOHANG) == pid)
			exited = true;
	}
	if (in_fd >= 0)
		close(in_fd);
	if (out_fd >= 0)
		close(out_fd);
	free(chunk);
	return exited;
}

static enum lda_submit_status run_sendmail(const struct lda_submit_settings *set,
					   const struct lda_submit_request *req, char *text,
					   size_t text_size)
{
	char words[1024], null_sender[] = "<>", dash_i[] = "-i", dash_f[] = "-f", dashes[] = "--";
	char from[LDA_SUBMIT_ADDRESS_MAX + 1], rcpt[LDA_SUBMIT_ADDRESS_MAX + 1];
	char *argv[LDA_SUBMIT_ARGV_MAX + 6], why[LDA_SUBMIT_TEXT_MAX + 1] = "";
	struct capture cap = {.text = why, .size = sizeof(why)};
	unsigned int argc;
	int in[2], out[2], status = 0;
	pid_t pid;

	if (!str_copy(words, sizeof(words), set->sendmail_path) ||
	    !split_words(words, argv, &argc)) {
		(void)str_copy(text, text_size, "sendmail_path is empty or too long");
		return LDA_SUBMIT_FAILED;
	}
	(void)str_copy(from, sizeof(from), req->mail_from);
	(void)str_copy(rcpt, sizeof(rcpt), req->rcpt_to);
	argv[argc++] = dash_i;
	argv[argc++] = dash_f;
	argv[argc++] = from[0] != '\0' ? from : null_sender;
	argv[argc++] = dashes;
	argv[argc++] = rcpt;
	argv[argc] = NULL;

	if (pipe2(in, O_CLOEXEC) < 0) {
		(void)str_format(text, text_size, "pipe() failed: %s", strerror(errno));
		return LDA_SUBMIT_TEMPFAIL;
	}
	if (pipe2(out, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		(void)str_format(text, text_size, "cannot run %s: %s", argv[0], strerror(errno));
		close(in[0]);
		close(in[1]);
		return LDA_SUBMIT_TEMPFAIL;
	}
	if (pid == 0)
		exec_sendmail(argv, in[0], out[1]);
	close(in[0]);
	close(out[1]);
	if (!feed_sendmail(pid, in[1], out[0], req, now_ms() + (long long)set->timeout_secs * 1000,
			   &cap, &status)) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
		(void)str_format(text, text_size, "%s timed out after %u seconds", argv[0],
				 set->timeout_secs);
		return LDA_SUBMIT_TEMPFAIL;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		(void)str_copy(text, text_size, "");
		return LDA_SUBMIT_OK;
	}
	if (WIFEXITED(status))
		(void)str_format(text, text_size, "%s exited with status %d%s%s", argv[0],
				 WEXITSTATUS(status), why[0] != '\0' ? ": " : "", why);
	else
		(void)str_format(text, text_size, "%s was killed by signal %d%s%s", argv[0],
				 WTERMSIG(status), why[0] != '\0' ? ": " : "", why);
	/* EX_TEMPFAIL (and a signal) mean "later", as for any MTA tool. */
	if (WIFEXITED(status) && WEXITSTATUS(status) != 75)
		return LDA_SUBMIT_FAILED;
	return LDA_SUBMIT_TEMPFAIL;
}

/*
 * SMTP (RFC 5321) to submission_host
 */

struct smtp {
	int fd;
	long long deadline;
	unsigned int timeout_secs;
	uint8_t in[LDA_SUBMIT_SMTP_LINE_MAX + 1];
	size_t in_len;
	bool eightbit; /* the server offered 8BITMIME */
};

bool lda_submit_resolve(const char *host, struct lda_submit_target *t, const char **error_r)
{
	char name[256], port[16] = "25";
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
	struct addrinfo *res, *ai;
	const char *colon;
	int ret;

	memset(t, 0, sizeof(*t));
	if (host[0] == '[') {
		const char *end = strchr(host, ']');

		if (end == NULL ||
		    !str_copy_n(name, sizeof(name), host + 1, (size_t)(end - host - 1))) {
			*error_r = "submission_host: bad [address]";
			return false;
		}
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL) {
			*error_r = "submission_host: junk after ]";
			return false;
		}
	} else {
		colon = strrchr(host, ':');
		if (colon != NULL && strchr(host, ':') != colon)
			colon = NULL; /* a bare IPv6 address */
		if (!str_copy_n(name, sizeof(name), host,
				colon != NULL ? (size_t)(colon - host) : strlen(host))) {
			*error_r = "submission_host: host name is too long";
			return false;
		}
	}
	if (colon != NULL) {
		char *end;
		unsigned long p = strtoul(colon + 1, &end, 10);

		if (colon[1] == '\0' || *end != '\0' || p == 0 || p > 65535) {
			*error_r = "submission_host: bad port";
			return false;
		}
		(void)str_format(port, sizeof(port), "%lu", p);
	}
	if (name[0] == '\0') {
		*error_r = "submission_host: empty host name";
		return false;
	}
	ret = getaddrinfo(name, port, &hints, &res);
	if (ret != 0) {
		*error_r = gai_strerror(ret);
		return false;
	}
	for (ai = res; ai != NULL && t->count < LDA_SUBMIT_ADDRS_MAX; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(t->addrs[0]))
			continue;
		memcpy(&t->addrs[t->count], ai->ai_addr, ai->ai_addrlen);
		t->addr_lens[t->count++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	if (t->count == 0) {
		*error_r = "submission_host: no usable address";
		return false;
	}
	return true;
}

static int smtp_connect(const struct lda_submit_target *t, long long deadline, char *text,
			size_t text_size)
{
	for (unsigned int i = 0; i < t->count; i++) {
		const struct sockaddr *sa = (const struct sockaddr *)&t->addrs[i];
		int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		struct pollfd pfd;
		socklen_t len = sizeof(int);
		int err = 0;

		if (fd < 0) {
			(void)str_format(text, text_size, "socket() failed: %s", strerror(errno));
			continue;
		}
		if (connect(fd, sa, t->addr_lens[i]) < 0 && errno != EINPROGRESS) {
			err = errno;
		} else {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, ms_left(deadline)) <= 0)
				err = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
				err = errno;
		}
		if (err == 0)
			return fd;
		(void)str_format(text, text_size, "connect(submission_host) failed: %s",
				 strerror(err));
		close(fd);
	}
	return -1;
}

/*
 * Reads one reply (all its lines) and returns its code, or -1 on a
 * timeout, a closed connection or a malformed or overlong reply. text
 * gets the last line.
 */
static int smtp_reply(struct smtp *s, char *text, size_t text_size, bool *eightbit_r)
{
	for (unsigned int lines = 0; lines < LDA_SUBMIT_SMTP_LINES_MAX;) {
		uint8_t *lf = memchr(s->in, '\n', s->in_len);
		struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
		ssize_t n;

		if (lf != NULL) {
			size_t consumed = (size_t)(lf - s->in) + 1, len = consumed - 1;
			char line[LDA_SUBMIT_SMTP_LINE_MAX + 1];
			int code;

			memcpy(line, s->in, len);
			line[len] = '\0';
			if (len > 0 && line[len - 1] == '\r')
				line[--len] = '\0';
			memmove(s->in, s->in + consumed, s->in_len - consumed);
			s->in_len -= consumed;
			lines++;
			if (len < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
			    line[1] > '9' || line[2] < '0' || line[2] > '9' ||
			    (len > 3 && line[3] != ' ' && line[3] != '-')) {
				(void)str_copy(text, text_size, "malformed SMTP reply");
				return -1;
			}
			code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
			if (eightbit_r != NULL && len >= 12 &&
			    strncasecmp(line + 4, "8BITMIME", 8) == 0)
				*eightbit_r = true;
			(void)str_copy(text, text_size, line);
			if (len == 3 || line[3] == ' ')
				return code;
			continue;
		}
		if (s->in_len >= LDA_SUBMIT_SMTP_LINE_MAX) {
			(void)str_copy(text, text_size, "SMTP reply line too long");
			return -1;
		}
		if (poll(&pfd, 1, ms_left(s->deadline)) <= 0) {
			(void)str_copy(text, text_size, "SMTP server timed out");
			return -1;
		}
		n = read(s->fd, s->in + s->in_len, LDA_SUBMIT_SMTP_LINE_MAX - s->in_len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			(void)str_copy(text, text_size, "SMTP server closed the connection");
			return -1;
		}
		s->in_len += (size_t)n;
	}
	(void)str_copy(text, text_size, "SMTP reply has too many lines");
	return -1;
}

/* Sends a command and reads the reply; returns its code or -1. */
static int smtp_command(struct smtp *s, const char *cmd, char *text, size_t text_size,
			bool *eightbit_r)
{
	s->deadline = now_ms() + (long long)s->timeout_secs * 1000;
	if (!write_all(s->fd, cmd, strlen(cmd), s->deadline)) {
		(void)str_format(text, text_size, "SMTP write failed: %s", strerror(errno));
		return -1;
	}
	return smtp_reply(s, text, text_size, eightbit_r);
}

/* Maps a reply code: 2xx/3xx as expected, 4xx (and I/O) later, 5xx never. */
static enum lda_submit_status smtp_status(int code)
{
	return code >= 500 ? LDA_SUBMIT_FAILED : LDA_SUBMIT_TEMPFAIL;
}

static enum lda_submit_status run_smtp(const struct lda_submit_settings *set,
				       const struct lda_submit_target *t,
				       const struct lda_submit_request *req, char *text,
				       size_t text_size)
{
	struct smtp *s = i_calloc(1, sizeof(*s));
	char cmd[LDA_SUBMIT_ADDRESS_MAX + 64], reply[LDA_SUBMIT_TEXT_MAX + 1];
	enum lda_submit_status ret = LDA_SUBMIT_TEMPFAIL;
	bool eightbit = false, has8 = false;
	int code;

	s->timeout_secs = set->timeout_secs;
	s->deadline = now_ms() + (long long)set->timeout_secs * 1000;
	s->fd = smtp_connect(t, s->deadline, text, text_size);
	if (s->fd < 0) {
		free(s);
		return LDA_SUBMIT_TEMPFAIL;
	}
	code = smtp_reply(s, reply, sizeof(reply), NULL);
	if (code != 220)
		goto fail;
	(void)str_format(cmd, sizeof(cmd), "EHLO %s\r\n", set->helo_name);
	code = smtp_command(s, cmd, reply, sizeof(reply), &eightbit);
	if (code >= 500 && code < 600) {
		(void)str_format(cmd, sizeof(cmd), "HELO %s\r\n", set->helo_name);
		code = smtp_command(s, cmd, reply, sizeof(reply), NULL);
	}
	if (code != 250)
		goto fail;
	for (size_t i = 0; i < req->size && !has8; i++)
		has8 = req->data[i] >= 0x80;
	(void)str_format(cmd, sizeof(cmd), "MAIL FROM:<%s>%s\r\n", req->mail_from,
			 has8 && eightbit ? " BODY=8BITMIME" : "");
	if ((code = smtp_command(s, cmd, reply, sizeof(reply), NULL)) != 250)
		goto fail;
	(void)str_format(cmd, sizeof(cmd), "RCPT TO:<%s>\r\n", req->rcpt_to);
	code = smtp_command(s, cmd, reply, sizeof(reply), NULL);
	if (code != 250 && code != 251)
		goto fail;
	if ((code = smtp_command(s, "DATA\r\n", reply, sizeof(reply), NULL)) != 354)
		goto fail;
	s->deadline = now_ms() + (long long)set->timeout_secs * 1000 * 4;
	if (!write_message(s->fd, true, req->data, req->size, s->deadline) ||
	    !write_all(s->fd, ".\r\n", 3, s->deadline)) {
		(void)str_format(text, text_size, "SMTP write failed: %s", strerror(errno));
		goto out;
	}
	s->deadline = now_ms() + (long long)set->timeout_secs * 1000 * 4;
	if ((code = smtp_reply(s, reply, sizeof(reply), NULL)) != 250)
		goto fail;
	ret = LDA_SUBMIT_OK;
	(void)str_copy(text, text_size, reply);
	(void)smtp_command(s, "QUIT\r\n", reply, sizeof(reply), NULL);
	goto out;
fail:
	ret = code < 0 ? LDA_SUBMIT_TEMPFAIL : smtp_status(code);
	(void)str_format(text, text_size, "%s", reply);
	if (code >= 0)
		(void)smtp_command(s, "QUIT\r\n", reply, sizeof(reply), NULL);
out:
	close(s->fd);
	free(s);
	return ret;
}

/*
 * The helper's loop
 */

static bool read_exact(int fd, uint8_t *p, size_t n, bool *eof_r)
{
	size_t got = 0;

	*eof_r = false;
	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*eof_r = r == 0 && got == 0;
			return false;
		}
		got += (size_t)r;
	}
	return true;
}

/*
 * Reads one whole frame into frame (bounded by max_payload). Returns 1,
 * 0 at EOF between frames, -1 on an error (*error_r).
 */
static int read_frame(int fd, struct buf *frame, size_t max_payload, uint8_t *type_r,
		      const uint8_t **payload_r, size_t *len_r, const char **error_r)
{
	uint8_t *p;
	size_t need;
	bool eof;

	buf_reset(frame);
	p = buf_reserve(frame, LDA_SUBMIT_HEADER_SIZE);
	if (p == NULL) {
		*error_r = "out of memory";
		return -1;
	}
	if (!read_exact(fd, p, LDA_SUBMIT_HEADER_SIZE, &eof)) {
		*error_r = "connection closed inside a frame";
		return eof ? 0 : -1;
	}
	buf_commit(frame, LDA_SUBMIT_HEADER_SIZE);
	switch (lda_submit_frame_parse(buf_data(frame), buf_len(frame), max_payload, type_r,
				       payload_r, len_r, &need, error_r)) {
	case LDA_SUBMIT_FRAME_ERROR:
		return -1;
	case LDA_SUBMIT_FRAME_OK:
		return 1;
	case LDA_SUBMIT_FRAME_MORE:
		break;
	}
	p = buf_reserve(frame, need - LDA_SUBMIT_HEADER_SIZE);
	if (p == NULL) {
		*error_r = "frame does not fit in memory";
		return -1;
	}
	if (!read_exact(fd, p, need - LDA_SUBMIT_HEADER_SIZE, &eof)) {
		*error_r = "connection closed inside a frame";
		return -1;
	}
	buf_commit(frame, need - LDA_SUBMIT_HEADER_SIZE);
	if (lda_submit_frame_parse(buf_data(frame), buf_len(frame), max_payload, type_r, payload_r,
				   len_r, &need, error_r) != LDA_SUBMIT_FRAME_OK)
		return -1;
	return 1;
}

static size_t max_request_payload(const struct lda_submit_settings *set)
{
	size_t max;

	if (!size_add(set->max_message_size, LDA_SUBMIT_HEADROOM, &max))
		max = SIZE_MAX - LDA_SUBMIT_HEADER_SIZE;
	return max > UINT32_MAX ? UINT32_MAX : max;
}

int lda_submit_serve(int fd, const struct lda_submit_settings *set,
		     const struct lda_submit_target *target)
{
	struct buf frame, reply = BUF_INIT(LDA_SUBMIT_HEADER_SIZE + LDA_SUBMIT_TEXT_MAX + 8);
	size_t max = max_request_payload(set);
	int ret = 0;

	buf_init(&frame, max + LDA_SUBMIT_HEADER_SIZE);
	for (;;) {
		struct lda_submit_request req;
		char text[LDA_SUBMIT_TEXT_MAX + 1];
		enum lda_submit_status status;
		const uint8_t *payload;
		const char *error;
		uint8_t type;
		size_t len;
		int r = read_frame(fd, &frame, max, &type, &payload, &len, &error);

		if (r == 0)
			break;
		if (r < 0 || type != LDA_SUBMIT_REQUEST ||
		    !lda_submit_decode_request(payload, len, &req, &error)) {
			log_error("submit: %s from roost-lda: giving up",
				  r < 0 || type == LDA_SUBMIT_REQUEST ? error : "unexpected frame");
			ret = 1;
			break;
		}
		if (target->count > 0)
			status = run_smtp(set, target, &req, text, sizeof(text));
		else
			status = run_sendmail(set, &req, text, sizeof(text));
		if (status != LDA_SUBMIT_OK)
			log_debug("submit: sending to <%s> failed: %s", req.rcpt_to, text);
		buf_reset(&reply);
		if (!lda_submit_encode_reply(&reply, status, text) ||
		    !write_all(fd, buf_data(&reply), buf_len(&reply), 0)) {
			ret = 1;
			break;
		}
	}
	buf_free(&frame);
	buf_free(&reply);
	return ret;
}

/* Closes every descriptor but keep[] (sorted here). */
static void close_other_fds(int *keep, int count)
{
	int lo = 0;

	for (int i = 1; i < count; i++) {
		for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
			int t = keep[j];

			keep[j] = keep[j - 1];
			keep[j - 1] = t;
		}
	}
	for (int i = 0; i < count; i++) {
		if (keep[i] > lo)
			(void)close_range((unsigned int)lo, (unsigned int)keep[i] - 1, 0);
		lo = keep[i] + 1;
	}
	(void)close_range((unsigned int)lo, ~0U, 0);
}

ATTR_NORETURN static void helper_main(int fd, const struct lda_submit_settings *set,
				      const struct lda_submit_target *target,
				      const struct sandbox_identity *id)
{
	int keep[8], n = 0, null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	/* Nothing of the delivery's: not its input, not the MTA's stdout. */
	if (null_fd >= 0) {
		(void)dup2(null_fd, STDIN_FILENO);
		(void)dup2(null_fd, STDOUT_FILENO);
	}
	keep[n++] = STDIN_FILENO;
	keep[n++] = STDOUT_FILENO;
	keep[n++] = STDERR_FILENO;
	keep[n++] = fd;
	n += log_get_fds(keep + n, (int)N_ELEMENTS(keep) - n);
	close_other_fds(keep, n);
	if (target->count > 0) {
		/* SMTP needs no exec and no files: confine fully. */
		struct sandbox_identity hid = *id;

		hid.change_user = false;
		hid.paths = NULL;
		hid.path_count = 0;
		sandbox_drop_privileges(&lda_submit_sandbox, &hid);
		sandbox_confine(&lda_submit_sandbox, &hid);
	}
	_exit(lda_submit_serve(fd, set, target));
}

struct lda_submit *lda_submit_start(const struct lda_submit_settings *set,
				    const struct sandbox_identity *id, const char **error_r)
{
	static struct lda_submit_settings hset;
	static struct lda_submit_target target;
	struct lda_submit *s;
	int fds[2];
	pid_t pid;

	memset(&target, 0, sizeof(target));
	if (set->submission_host != NULL && set->submission_host[0] != '\0' &&
	    !lda_submit_resolve(set->submission_host, &target, error_r))
		return NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) {
		*error_r = strerror(errno);
		return NULL;
	}
	hset = *set;
	if (hset.timeout_secs == 0)
		hset.timeout_secs = LDA_SUBMIT_DEFAULT_TIMEOUT;
	pid = fork();
	if (pid < 0) {
		*error_r = strerror(errno);
		close(fds[0]);
		close(fds[1]);
		return NULL;
	}
	if (pid == 0) {
		close(fds[0]);
		helper_main(fds[1], &hset, &target, id);
	}
	close(fds[1]);
	s = i_calloc(1, sizeof(*s));
	s->fd = fds[0];
	s->pid = pid;
	return s;
}

/* Reads and decodes the helper's answer to one request. */
static bool read_reply(int fd, struct lda_submit_reply *reply_r, const char **error_r)
{
	uint8_t frame[LDA_SUBMIT_HEADER_SIZE + LDA_SUBMIT_TEXT_MAX + 3], type;
	enum lda_submit_frame_result r;
	const uint8_t *payload;
	size_t len, need;
	bool eof;

	if (!read_exact(fd, frame, LDA_SUBMIT_HEADER_SIZE, &eof)) {
		*error_r = "closed the connection";
		return false;
	}
	r = lda_submit_frame_parse(frame, LDA_SUBMIT_HEADER_SIZE,
				   sizeof(frame) - LDA_SUBMIT_HEADER_SIZE, &type, &payload, &len,
				   &need, error_r);
	if (r == LDA_SUBMIT_FRAME_MORE) {
		if (!read_exact(fd, frame + LDA_SUBMIT_HEADER_SIZE, need - LDA_SUBMIT_HEADER_SIZE,
				&eof)) {
			*error_r = "closed the connection inside a reply";
			return false;
		}
		r = lda_submit_frame_parse(frame, need, sizeof(frame) - LDA_SUBMIT_HEADER_SIZE,
					   &type, &payload, &len, &need, error_r);
	}
	if (r != LDA_SUBMIT_FRAME_OK)
		return false;
	if (type != LDA_SUBMIT_RESULT) {
		*error_r = "answered with a request";
		return false;
	}
	return lda_submit_decode_reply(payload, len, reply_r, error_r);
}

void lda_submit_send(struct lda_submit *s, const char *mail_from, const char *rcpt_to,
		     const void *data, size_t size, struct lda_submit_reply *reply_r)
{
	struct buf frame;
	const char *error = "helper is not running";

	memset(reply_r, 0, sizeof(*reply_r));
	reply_r->status = LDA_SUBMIT_TEMPFAIL;
	if (s == NULL || s->fd < 0) {
		(void)str_copy(reply_r->text, sizeof(reply_r->text), error);
		return;
	}
	/* The header is written first so the message is not copied. */
	buf_init(&frame, LDA_SUBMIT_HEADER_SIZE + 2 * LDA_SUBMIT_ADDRESS_MAX + 16);
	if (!lda_submit_encode_request(&frame, mail_from, rcpt_to, "", 0)) {
		buf_free(&frame);
		reply_r->status = LDA_SUBMIT_FAILED;
		(void)str_copy(reply_r->text, sizeof(reply_r->text), "invalid address");
		return;
	}
	{
		/* Patch the lengths for the real message size. */
		uint8_t *p = buf_data_mut(&frame);
		size_t payload_len = buf_len(&frame) - LDA_SUBMIT_HEADER_SIZE + size;

		if (payload_len > UINT32_MAX || size > UINT32_MAX) {
			buf_free(&frame);
			reply_r->status = LDA_SUBMIT_FAILED;
			(void)str_copy(reply_r->text, sizeof(reply_r->text), "message too large");
			return;
		}
		for (int i = 0; i < 4; i++) {
			p[4 + i] = (uint8_t)(payload_len >> (8 * i));
			p[buf_len(&frame) - 4 + i] = (uint8_t)(size >> (8 * i));
		}
	}
	if (!write_all(s->fd, buf_data(&frame), buf_len(&frame), 0) ||
	    !write_all(s->fd, data, size, 0)) {
		buf_free(&frame);
		(void)str_format(reply_r->text, sizeof(reply_r->text),
				 "submission helper is gone: %s", strerror(errno));
		return;
	}
	buf_free(&frame);
	if (!read_reply(s->fd, reply_r, &error)) {
		memset(reply_r, 0, sizeof(*reply_r));
		reply_r->status = LDA_SUBMIT_TEMPFAIL;
		(void)str_format(reply_r->text, sizeof(reply_r->text), "submission helper: %s",
				 error);
		close(s->fd);
		s->fd = -1;
	}
}

void lda_submit_finish(struct lda_submit **_s)
{
	struct lda_submit *s = *_s;

	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	*_s = NULL;
}
