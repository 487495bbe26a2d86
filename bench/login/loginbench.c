/*
 * Login-rate load generator for the login benchmark: C concurrent client
 * threads each loop connect, greeting, LOGIN (or USER/PASS), LOGOUT (QUIT),
 * wait for the server to close, for S seconds; optional implicit TLS.
 * Runs on the benchmark machine as a plain client and trusts nothing the
 * server sends beyond the answers it checks. Same method and output as
 * ../shared/bench/loginbench.py, but cheap enough on the client side that
 * the server, not the client, is what gets measured.
 *
 * build: gcc -O2 -pthread -o loginbench loginbench.c -lssl -lcrypto
 * usage: loginbench [--host 127.0.0.1] [--port 10143] [--clients 20] [--secs 20]
 *                   [--users 200] [--password pass] [--proto imap|pop3] [--tls]
 *                   [--sessions N]   (stop after N sessions: for profiling)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_LAT (4 * 1024 * 1024)

static const char *opt_host = "127.0.0.1";
static int opt_port = 10143;
static int opt_clients = 20;
static double opt_secs = 20;
static int opt_users = 200;
static const char *opt_password = "pass";
static bool opt_pop3;
static bool opt_tls;
static unsigned int opt_sessions; /* 0 = no limit, run for --secs */

static SSL_CTX *ssl_ctx;
static atomic_uint user_counter;
static atomic_uint done_count;
static atomic_uint fail_count;
static atomic_uint lat_count;
static float *lat_ms;
static double deadline;

struct conn {
	int fd;
	SSL *ssl;
	char buf[8192];
	size_t start, end;
};

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int conn_read(struct conn *c, char *dst, size_t len)
{
	if (c->ssl != NULL) {
		int n = SSL_read(c->ssl, dst, (int)len);

		if (n <= 0) {
			int err = SSL_get_error(c->ssl, n);

			return err == SSL_ERROR_ZERO_RETURN ? 0 : -1;
		}
		return n;
	}
	for (;;) {
		ssize_t n = read(c->fd, dst, len);

		if (n < 0 && errno == EINTR)
			continue;
		return (int)n;
	}
}

static bool conn_write(struct conn *c, const char *data, size_t len)
{
	if (c->ssl != NULL)
		return SSL_write(c->ssl, data, (int)len) == (int)len;
	while (len > 0) {
		ssize_t n = write(c->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		data += n;
		len -= (size_t)n;
	}
	return true;
}

/* One line into line (NUL-terminated, CRLF kept); false on EOF or error. */
static bool conn_readline(struct conn *c, char *line, size_t size)
{
	for (;;) {
		char *nl = memchr(c->buf + c->start, '\n', c->end - c->start);

		if (nl != NULL) {
			size_t n = (size_t)(nl - (c->buf + c->start)) + 1;

			if (n >= size)
				n = size - 1;
			memcpy(line, c->buf + c->start, n);
			line[n] = '\0';
			c->start += (size_t)(nl - (c->buf + c->start)) + 1;
			return true;
		}
		if (c->start > 0) {
			memmove(c->buf, c->buf + c->start, c->end - c->start);
			c->end -= c->start;
			c->start = 0;
		}
		if (c->end == sizeof(c->buf))
			return false;
		int n = conn_read(c, c->buf + c->end, sizeof(c->buf) - c->end);
		if (n <= 0)
			return false;
		c->end += (size_t)n;
	}
}

static bool read_tagged(struct conn *c, const char *tag, char *line, size_t size)
{
	size_t tl = strlen(tag);

	for (;;) {
		if (!conn_readline(c, line, size))
			return false;
		if (strncmp(line, tag, tl) == 0 && line[tl] == ' ')
			return strncmp(line + tl + 1, "OK", 2) == 0;
	}
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static __thread const char *session_error;

static bool one_session(void)
{
	struct sockaddr_in sin;
	struct conn c;
	char line[1024], cmd[256];
	unsigned int n = atomic_fetch_add(&user_counter, 1) % (unsigned int)opt_users + 1;
	bool ok = false;
	struct timeval tv = {.tv_sec = 15};
	int one = 1;

	memset(&c, 0, sizeof(c));
	line[0] = '\0';
	session_error = NULL;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)opt_port);
	inet_pton(AF_INET, opt_host, &sin.sin_addr);
	c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c.fd < 0) {
		session_error = "socket";
		return false;
	}
	(void)setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c.fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		session_error = "connect";
		goto out;
	}
	if (opt_tls) {
		c.ssl = SSL_new(ssl_ctx);
		SSL_set_fd(c.ssl, c.fd);
		if (SSL_connect(c.ssl) != 1) {
			session_error = "TLS handshake";
			goto out;
		}
	}
	if (!conn_readline(&c, line, sizeof(line))) {
		session_error = "no greeting";
		goto out;
	}
	if (!opt_pop3) {
		if (!starts(line, "* OK")) {
			session_error = "bad greeting";
			goto out;
		}
		snprintf(cmd, sizeof(cmd), "a LOGIN user%u %s\r\n", n, opt_password);
		if (!conn_write(&c, cmd, strlen(cmd)) ||
		    !read_tagged(&c, "a", line, sizeof(line))) {
			session_error = "LOGIN";
			goto out;
		}
		if (!conn_write(&c, "b LOGOUT\r\n", 10) ||
		    !read_tagged(&c, "b", line, sizeof(line))) {
			session_error = "LOGOUT";
			goto out;
		}
	} else {
		if (!starts(line, "+OK")) {
			session_error = "bad greeting";
			goto out;
		}
		snprintf(cmd, sizeof(cmd), "USER user%u\r\n", n);
		if (!conn_write(&c, cmd, strlen(cmd)) || !conn_readline(&c, line, sizeof(line)) ||
		    !starts(line, "+OK")) {
			session_error = "USER";
			goto out;
		}
		snprintf(cmd, sizeof(cmd), "PASS %s\r\n", opt_password);
		if (!conn_write(&c, cmd, strlen(cmd)) || !conn_readline(&c, line, sizeof(line)) ||
		    !starts(line, "+OK")) {
			session_error = "PASS";
			goto out;
		}
		if (!conn_write(&c, "QUIT\r\n", 6) || !conn_readline(&c, line, sizeof(line)) ||
		    !starts(line, "+OK")) {
			session_error = "QUIT";
			goto out;
		}
	}
	/* Wait for the server to close the connection. */
	while (conn_read(&c, c.buf, sizeof(c.buf)) > 0)
		;
	ok = true;
out:
	if (!ok && session_error != NULL && atomic_load(&fail_count) < 5)
		fprintf(stderr, "failure: %s (user%u): %s%s", session_error, n,
			line[0] != '\0' ? line : "(no line)", line[0] != '\0' ? "" : "\n");
	if (c.ssl != NULL) {
		if (ok)
			(void)SSL_shutdown(c.ssl);
		SSL_free(c.ssl);
	}
	close(c.fd);
	return ok;
}

static void *worker(void *arg)
{
	(void)arg;
	while (now_secs() < deadline) {
		double t = now_secs();

		if (opt_sessions > 0 && atomic_fetch_add(&user_counter, 0) >= opt_sessions)
			break;

		if (one_session()) {
			unsigned int i = atomic_fetch_add(&lat_count, 1);

			atomic_fetch_add(&done_count, 1);
			if (i < MAX_LAT)
				lat_ms[i] = (float)((now_secs() - t) * 1000.0);
		} else {
			atomic_fetch_add(&fail_count, 1);
			usleep(1000);
		}
	}
	return NULL;
}

static void cpu_stat(unsigned long long *total, unsigned long long *idle)
{
	FILE *f = fopen("/proc/stat", "r");
	unsigned long long v[10] = {0};

	*total = *idle = 0;
	if (f == NULL)
		return;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		   &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) >= 4) {
		for (int i = 0; i < 8; i++)
			*total += v[i];
		*idle = v[3] + v[4];
	}
	fclose(f);
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

static double rusage_secs(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
	       (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

static void usage(void)
{
	fprintf(stderr, "usage: loginbench [--host H] [--port P] [--clients C] [--secs S] "
			"[--users U] [--password PW] [--proto imap|pop3] [--tls] [--sessions N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	pthread_t *threads;
	struct rusage ru0, ru1;
	unsigned long long t0, i0, t1, i1;
	double start, el;
	unsigned int nlat;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--tls") == 0) {
			opt_tls = true;
			continue;
		}
		if (v == NULL)
			usage();
		i++;
		if (strcmp(a, "--host") == 0)
			opt_host = v;
		else if (strcmp(a, "--port") == 0)
			opt_port = atoi(v);
		else if (strcmp(a, "--clients") == 0)
			opt_clients = atoi(v);
		else if (strcmp(a, "--secs") == 0)
			opt_secs = atof(v);
		else if (strcmp(a, "--users") == 0)
			opt_users = atoi(v);
		else if (strcmp(a, "--password") == 0)
			opt_password = v;
		else if (strcmp(a, "--sessions") == 0)
			opt_sessions = (unsigned int)atoi(v);
		else if (strcmp(a, "--proto") == 0)
			opt_pop3 = strcmp(v, "pop3") == 0;
		else
			usage();
	}
	if (opt_clients < 1 || opt_users < 1 || opt_secs <= 0)
		usage();
	if (opt_tls) {
		/* Full handshakes, as the Python client does: no session resumption. */
		ssl_ctx = SSL_CTX_new(TLS_client_method());
		SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, NULL);
		SSL_CTX_set_session_cache_mode(ssl_ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_TICKET);
	}
	lat_ms = calloc(MAX_LAT, sizeof(*lat_ms));
	threads = calloc((size_t)opt_clients, sizeof(*threads));
	if (lat_ms == NULL || threads == NULL)
		return 1;

	getrusage(RUSAGE_SELF, &ru0);
	cpu_stat(&t0, &i0);
	start = now_secs();
	deadline = start + opt_secs;
	for (int i = 0; i < opt_clients; i++)
		pthread_create(&threads[i], NULL, worker, NULL);
	for (int i = 0; i < opt_clients; i++)
		pthread_join(threads[i], NULL);
	el = now_secs() - start;
	getrusage(RUSAGE_SELF, &ru1);
	cpu_stat(&t1, &i1);

	nlat = atomic_load(&lat_count);
	if (nlat > MAX_LAT)
		nlat = MAX_LAT;
	qsort(lat_ms, nlat, sizeof(*lat_ms), cmp_float);
#define PCT(p) \
	(nlat ? lat_ms[(unsigned int)((p)*nlat) < nlat ? (unsigned int)((p)*nlat) : nlat - 1] : 0.0)
	double ccpu = rusage_secs(&ru1) - rusage_secs(&ru0);
	unsigned long long tot = t1 - t0, idle = i1 - i0;

	printf("proto=%s tls=%s select=False clients=%d secs=%.1f\n", opt_pop3 ? "pop3" : "imap",
	       opt_tls ? "True" : "False", opt_clients, el);
	printf("sessions=%u failures=%u rate=%.1f logins/s\n", atomic_load(&done_count),
	       atomic_load(&fail_count), atomic_load(&done_count) / el);
	printf("latency ms: p50=%.2f p90=%.2f p99=%.2f max=%.2f\n", PCT(0.5), PCT(0.9), PCT(0.99),
	       PCT(1.0));
	printf("client CPU=%.1fs (%.0f%% of one core); machine CPU busy=%.0f%% of %ld cores\n",
	       ccpu, 100 * ccpu / el, tot ? 100.0 * (double)(tot - idle) / (double)tot : 0.0,
	       sysconf(_SC_NPROCESSORS_ONLN));
	return 0;
}
