/*
 * imapbench: times IMAP commands against one server (roost or Dovecot) for
 * bench/imap/run.sh. It logs in, runs each command given on the command
 * line, reads the whole answer (literals included) and prints one line per
 * command: seconds, untagged responses, bytes. A bench tool, run by hand
 * against local test servers; it trusts nothing it reads beyond its buffer.
 *
 * usage: imapbench HOST PORT USER PASS STEP...
 *   STEP is an IMAP command without tag ("SELECT INBOX"), or
 *   "@append N FILE BOX": N APPENDs of FILE into BOX, one at a time, each
 *   with a synchronizing literal (wait for "+", send, wait for OK), as mail
 *   clients do.
 * Build: cc -O2 -o imapbench imapbench.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int fd;
static char *rbuf;
static size_t rlen, rpos;
#define RBUF_SIZE (4 * 1024 * 1024)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "imapbench: %s\n", what);
	exit(1);
}

static void fill(void)
{
	ssize_t n;

	if (rpos > 0) {
		memmove(rbuf, rbuf + rpos, rlen - rpos);
		rlen -= rpos;
		rpos = 0;
	}
	if (rlen == RBUF_SIZE)
		die("line too long");
	n = read(fd, rbuf + rlen, RBUF_SIZE - rlen);
	if (n <= 0)
		die(n == 0 ? "server closed the connection" : "read failed");
	rlen += (size_t)n;
}

/* Next line (without CRLF) into line/len; literal contents are skipped
   and counted in *skipped. */
static const char *next_line(size_t *len_r, unsigned long long *bytes)
{
	for (;;) {
		char *nl = memchr(rbuf + rpos, '\n', rlen - rpos);

		if (nl != NULL) {
			const char *line = rbuf + rpos;
			size_t len = (size_t)(nl - line);

			rpos += len + 1;
			*bytes += len + 1;
			if (len > 0 && line[len - 1] == '\r')
				len--;
			*len_r = len;
			return line;
		}
		fill();
	}
}

static void skip_bytes(unsigned long long n, unsigned long long *bytes)
{
	while (n > 0) {
		size_t avail = rlen - rpos, take;

		if (avail == 0) {
			fill();
			continue;
		}
		take = avail < n ? avail : (size_t)n;
		rpos += take;
		n -= take;
		*bytes += take;
	}
}

/* Literal size announced at the end of a line, or -1. */
static long long literal_at_end(const char *line, size_t len)
{
	size_t i;

	if (len < 3 || line[len - 1] != '}')
		return -1;
	i = len - 1;
	while (i > 0 && line[i - 1] >= '0' && line[i - 1] <= '9')
		i--;
	if (i == 0 || line[i - 1] != '{' || i == len - 1)
		return -1;
	return strtoll(line + i, NULL, 10);
}

static void send_all(const void *p, size_t len)
{
	const char *c = p;

	while (len > 0) {
		ssize_t n = write(fd, c, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write failed");
		c += n;
		len -= (size_t)n;
	}
}

/* Reads up to the tagged line of tag; returns untagged count. */
static unsigned long wait_tagged(const char *tag, unsigned long long *bytes, int *ok)
{
	size_t tlen = strlen(tag);
	unsigned long untagged = 0;

	for (;;) {
		size_t len;
		const char *line = next_line(&len, bytes);
		long long lit;

		while ((lit = literal_at_end(line, len)) >= 0) {
			skip_bytes((unsigned long long)lit, bytes);
			line = next_line(&len, bytes);
		}
		if (len > tlen && memcmp(line, tag, tlen) == 0 && line[tlen] == ' ') {
			*ok = len >= tlen + 3 && memcmp(line + tlen + 1, "OK", 2) == 0;
			if (!*ok)
				fprintf(stderr, "imapbench: %.*s\n", (int)len, line);
			return untagged;
		}
		if (len > 0 && line[0] == '*')
			untagged++;
	}
}

static int tagn;

static void run_command(const char *cmd)
{
	char tag[32], *line;
	unsigned long long bytes = 0;
	unsigned long untagged;
	double t0;
	int ok;

	snprintf(tag, sizeof(tag), "b%d", ++tagn);
	if (asprintf(&line, "%s %s\r\n", tag, cmd) < 0)
		die("out of memory");
	t0 = now();
	send_all(line, strlen(line));
	untagged = wait_tagged(tag, &bytes, &ok);
	printf("%.4f\t%lu\t%llu\t%s%s\n", now() - t0, untagged, bytes, ok ? "" : "FAILED ", cmd);
	free(line);
}

static void run_append(unsigned long n, const char *file, const char *box)
{
	FILE *f = fopen(file, "rb");
	char *msg, tag[32], head[512];
	long size;
	unsigned long long bytes = 0;
	unsigned long failed = 0;
	double t0;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0)
		die("cannot read the message file");
	rewind(f);
	msg = malloc((size_t)size + 2);
	if (msg == NULL || fread(msg, 1, (size_t)size, f) != (size_t)size)
		die("cannot read the message file");
	fclose(f);
	memcpy(msg + size, "\r\n", 2);
	t0 = now();
	for (unsigned long i = 0; i < n; i++) {
		size_t len;
		const char *line;
		int ok;

		snprintf(tag, sizeof(tag), "a%lu", i);
		snprintf(head, sizeof(head), "%s APPEND %s {%ld}\r\n", tag, box, size);
		send_all(head, strlen(head));
		line = next_line(&len, &bytes);
		if (len == 0 || line[0] != '+')
			die("no continuation for APPEND");
		send_all(msg, (size_t)size + 2);
		(void)wait_tagged(tag, &bytes, &ok);
		if (!ok)
			failed++;
	}
	printf("%.4f\t%lu\t%llu\t%sAPPEND x%lu (%ld bytes each)\n", now() - t0, failed, bytes,
	       failed > 0 ? "FAILED " : "", n, size);
	free(msg);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin;
	char login[512];
	int one = 1;

	if (argc < 5)
		die("usage: imapbench HOST PORT USER PASS STEP...");
	rbuf = malloc(RBUF_SIZE);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(argv[2]));
	if (rbuf == NULL || inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1)
		die("bad address");
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("connect failed");
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	{
		size_t len;
		unsigned long long bytes = 0;

		(void)next_line(&len, &bytes); /* greeting */
	}
	snprintf(login, sizeof(login), "LOGIN \"%s\" \"%s\"", argv[3], argv[4]);
	run_command(login);
	for (int i = 5; i < argc; i++) {
		if (strncmp(argv[i], "@append ", 8) == 0) {
			unsigned long n;
			char file[1024], box[256];

			if (sscanf(argv[i] + 8, "%lu %1023s %255s", &n, file, box) != 3)
				die("usage: @append N FILE BOX");
			run_append(n, file, box);
		} else {
			run_command(argv[i]);
		}
	}
	run_command("LOGOUT");
	return 0;
}
