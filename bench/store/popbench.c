/*
 * popbench: one POP3 session that downloads a whole mailbox, as a client
 * that keeps mail on the server does: USER/PASS, STAT, UIDL, RETR of every
 * message one after the other (no pipelining), QUIT. Times each phase,
 * checks every answer (octet counts, dot-stuffing, the terminating line),
 * and keeps a CRC-32 of each message's bytes so two servers' answers can be
 * compared. While the session runs it samples the server's mail process
 * (found as the newest child of the server's master with the given name):
 * peak RSS (VmHWM) and CPU; after the process has exited, the master's
 * cutime+cstime delta gives that process's exact CPU time (nothing else
 * exits during a session with persistent login processes).
 *
 * usage: popbench --port P --user U --pass PW [--master-pid-file F --proc NAME]
 *                 [--uidl-out FILE] [--crc-out FILE]
 * Build: gcc -O2 -Wall -pthread -o popbench popbench.c -lz
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define RBUF (1024 * 1024)

static int sock;
static char rbuf[RBUF];
static size_t rpos, rlen;
static long hz;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "popbench: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(1);
}

static int fill(void)
{
	ssize_t n;

	if (rpos == rlen)
		rpos = rlen = 0;
	do {
		n = read(sock, rbuf + rlen, RBUF - rlen);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		die("read: %s", strerror(errno));
	rlen += (size_t)n;
	return n > 0;
}

/* One CRLF line (without the CRLF) into out. */
static void read_line(char *out, size_t size)
{
	size_t n = 0;

	for (;;) {
		char *nl;

		if (rpos == rlen && !fill())
			die("%s", "connection closed while reading a line");
		nl = memchr(rbuf + rpos, '\n', rlen - rpos);
		size_t take = nl != NULL ? (size_t)(nl - (rbuf + rpos)) + 1 : rlen - rpos;
		size_t copy = take < size - 1 - n ? take : size - 1 - n;

		memcpy(out + n, rbuf + rpos, copy);
		n += copy;
		rpos += take;
		if (nl != NULL)
			break;
	}
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		n--;
	out[n] = '\0';
}

static void send_cmd(const char *cmd)
{
	size_t len = strlen(cmd), done = 0;

	while (done < len) {
		ssize_t n = write(sock, cmd + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write: %s", strerror(errno));
		done += (size_t)n;
	}
}

static void ok_line(const char *what, char *line, size_t size)
{
	read_line(line, size);
	if (strncmp(line, "+OK", 3) != 0) {
		fprintf(stderr, "popbench: %s: %s\n", what, line);
		exit(1);
	}
}

/*
 * A multi-line answer after its +OK line: undoes dot-stuffing and returns
 * the bytes and their CRC-32 (the CRLF before the final "." belongs to the
 * last line and is counted, as the octet count in "+OK n octets" does).
 */
static uint64_t read_multiline(uLong *crc_r, FILE *copy)
{
	enum { LS, LS_DOT, LS_DOT_CR, MID } st = LS;
	uLong crc = crc32(0L, Z_NULL, 0);
	uint64_t bytes = 0;

	for (;;) {
		if (rpos == rlen && !fill())
			die("%s", "connection closed inside a multi-line answer");
		while (rpos < rlen) {
			char *p = rbuf + rpos, *end = rbuf + rlen;

			switch (st) {
			case MID: {
				char *nl = memchr(p, '\n', (size_t)(end - p));
				size_t n = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);

				crc = crc32(crc, (const Bytef *)p, (uInt)n);
				if (copy != NULL)
					fwrite(p, 1, n, copy);
				bytes += n;
				rpos += n;
				if (nl != NULL)
					st = LS;
				break;
			}
			case LS:
				if (*p == '.') {
					st = LS_DOT;
					rpos++;
				} else {
					st = MID;
				}
				break;
			case LS_DOT:
				if (*p == '\r') {
					st = LS_DOT_CR;
					rpos++;
				} else {
					st = MID; /* a stuffed dot: drop it, keep the rest */
				}
				break;
			case LS_DOT_CR:
				if (*p == '\n') {
					rpos++;
					*crc_r = crc;
					return bytes;
				}
				/* "." CR without LF: keep the CR as content. */
				crc = crc32(crc, (const Bytef *)"\r", 1);
				bytes++;
				st = MID;
				break;
			}
		}
	}
}

/* utime+stime (ticks) and ppid of a process, from /proc/PID/stat. */
static int proc_stat(int pid, long *ppid, unsigned long long *own, unsigned long long *kids,
		     unsigned long long *start, char *comm, size_t comm_size)
{
	char path[64], buf[1024], *p, *q;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strchr(buf, '(');
	q = strrchr(buf, ')');
	if (p == NULL || q == NULL)
		return -1;
	if (comm != NULL) {
		size_t len =
			(size_t)(q - p - 1) < comm_size - 1 ? (size_t)(q - p - 1) : comm_size - 1;

		memcpy(comm, p + 1, len);
		comm[len] = '\0';
	}
	{
		unsigned long long v[25];
		int i = 0;
		char *s = q + 2, *e;

		/* fields from state (3) on; we need ppid(4) utime(14) stime(15)
		   cutime(16) cstime(17) starttime(22) */
		while (i < 25 && *s != '\0') {
			if (i == 0) {
				v[i++] = 0; /* state */
				s += 2;
				continue;
			}
			v[i++] = strtoull(s, &e, 10);
			s = e + (*e != '\0');
		}
		if (i < 20)
			return -1;
		if (ppid != NULL)
			*ppid = (long)v[1];
		if (own != NULL)
			*own = v[11] + v[12];
		if (kids != NULL)
			*kids = v[13] + v[14];
		if (start != NULL)
			*start = v[19];
	}
	return 0;
}

static long status_kib(int pid, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* The newest child of master named name, or 0. */
static int find_child(int master, const char *name)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	unsigned long long best_start = 0;
	int best = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char comm[64];
		long ppid;
		unsigned long long start;
		int pid;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = atoi(e->d_name);
		if (proc_stat(pid, &ppid, NULL, NULL, &start, comm, sizeof(comm)) < 0)
			continue;
		if (ppid == master && strcmp(comm, name) == 0 && start >= best_start) {
			best = pid;
			best_start = start;
		}
	}
	closedir(d);
	return best;
}

/* The mail process, sampled every 5 ms until it is gone. */
static int mon_pid;
static atomic_int mon_stop;
static atomic_long mon_hwm, mon_rss_max;
static atomic_ullong mon_cpu;

static void *monitor(void *arg)
{
	(void)arg;
	while (!atomic_load(&mon_stop)) {
		unsigned long long own;
		long hwm = status_kib(mon_pid, "VmHWM"), rss = status_kib(mon_pid, "VmRSS");

		if (hwm < 0 || proc_stat(mon_pid, NULL, &own, NULL, NULL, NULL, 0) < 0)
			break;
		if (hwm > atomic_load(&mon_hwm))
			atomic_store(&mon_hwm, hwm);
		if (rss > atomic_load(&mon_rss_max))
			atomic_store(&mon_rss_max, rss);
		atomic_store(&mon_cpu, own);
		usleep(5000);
	}
	return NULL;
}

static double ru_s(const struct rusage *r)
{
	return (double)r->ru_utime.tv_sec + (double)r->ru_utime.tv_usec / 1e6 +
	       (double)r->ru_stime.tv_sec + (double)r->ru_stime.tv_usec / 1e6;
}

static int cmp_ulong(const void *a, const void *b)
{
	uLong x = *(const uLong *)a, y = *(const uLong *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *user = NULL, *pass = NULL, *pidfile = NULL, *proc = NULL, *uidl_out = NULL,
		   *crc_out = NULL;
	int port = 0, master = 0;
	char line[8192], cmd[600];
	struct sockaddr_in sin = {.sin_family = AF_INET};
	unsigned long count = 0, total = 0;
	double t0, t_login, t_stat, t_uidl, t_retr, t_quit, t_close;
	unsigned long long m_kids0 = 0, m_kids1 = 0;
	pthread_t th;
	uLong *crcs, all;
	uint64_t bytes = 0;
	unsigned long mismatch = 0, uidl_lines = 0;
	struct rusage ru;
	int one = 1;

	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			die("missing value for %s", argv[i]);
		if (strcmp(argv[i], "--port") == 0)
			port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--user") == 0)
			user = argv[++i];
		else if (strcmp(argv[i], "--pass") == 0)
			pass = argv[++i];
		else if (strcmp(argv[i], "--master-pid-file") == 0)
			pidfile = argv[++i];
		else if (strcmp(argv[i], "--proc") == 0)
			proc = argv[++i];
		else if (strcmp(argv[i], "--uidl-out") == 0)
			uidl_out = argv[++i];
		else if (strcmp(argv[i], "--crc-out") == 0)
			crc_out = argv[++i];
		else
			die("unknown argument %s", argv[i]);
	}
	if (port == 0 || user == NULL || pass == NULL)
		die("%s", "usage: popbench --port P --user U --pass PW [--master-pid-file F --proc "
			  "NAME]");
	hz = sysconf(_SC_CLK_TCK);
	if (pidfile != NULL) {
		FILE *f = fopen(pidfile, "r");

		if (f == NULL || fscanf(f, "%d", &master) != 1)
			die("cannot read %s", pidfile);
		fclose(f);
		proc_stat(master, NULL, NULL, &m_kids0, NULL, NULL, 0);
	}

	t0 = now();
	sock = socket(AF_INET, SOCK_STREAM, 0);
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(sock, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("connect: %s", strerror(errno));
	setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ok_line("greeting", line, sizeof(line));
	snprintf(cmd, sizeof(cmd), "USER %s\r\n", user);
	send_cmd(cmd);
	ok_line("USER", line, sizeof(line));
	snprintf(cmd, sizeof(cmd), "PASS %s\r\n", pass);
	send_cmd(cmd);
	ok_line("PASS", line, sizeof(line));
	t_login = now();

	if (master != 0 && proc != NULL) {
		for (int tries = 0; tries < 200 && mon_pid == 0; tries++) {
			mon_pid = find_child(master, proc);
			if (mon_pid == 0)
				usleep(5000);
		}
		if (mon_pid == 0)
			die("no %s process found under the master", proc);
		pthread_create(&th, NULL, monitor, NULL);
	}

	send_cmd("STAT\r\n");
	ok_line("STAT", line, sizeof(line));
	if (sscanf(line, "+OK %lu %lu", &count, &total) != 2)
		die("bad STAT answer: %s", line);
	t_stat = now();

	send_cmd("UIDL\r\n");
	ok_line("UIDL", line, sizeof(line));
	{
		FILE *u = uidl_out != NULL ? fopen(uidl_out, "w") : NULL;
		uLong ucrc;
		uint64_t ub = read_multiline(&ucrc, u);

		if (u != NULL)
			fclose(u);
		(void)ub;
	}
	t_uidl = now();
	if (uidl_out != NULL) {
		FILE *u = fopen(uidl_out, "r");

		while (u != NULL && fgets(line, sizeof(line), u) != NULL)
			uidl_lines++;
		if (u != NULL)
			fclose(u);
	}

	crcs = calloc(count + 1, sizeof(*crcs));
	for (unsigned long i = 1; i <= count; i++) {
		unsigned long octets = 0;
		uint64_t got;

		snprintf(cmd, sizeof(cmd), "RETR %lu\r\n", i);
		send_cmd(cmd);
		ok_line("RETR", line, sizeof(line));
		sscanf(line, "+OK %lu", &octets);
		got = read_multiline(&crcs[i - 1], NULL);
		if (got != octets)
			mismatch++;
		bytes += got;
	}
	t_retr = now();
	long hwm_before_quit = mon_pid != 0 ? status_kib(mon_pid, "VmHWM") : -1;

	send_cmd("QUIT\r\n");
	ok_line("QUIT", line, sizeof(line));
	t_quit = now();
	while (fill())
		;
	t_close = now();
	close(sock);

	if (mon_pid != 0) {
		/* Wait for the mail process to be gone and reaped. */
		for (int tries = 0; tries < 6000; tries++) {
			char path[64];

			snprintf(path, sizeof(path), "/proc/%d", mon_pid);
			if (access(path, F_OK) < 0)
				break;
			usleep(5000);
		}
		atomic_store(&mon_stop, 1);
		pthread_join(th, NULL);
		proc_stat(master, NULL, NULL, &m_kids1, NULL, NULL, 0);
	}
	getrusage(RUSAGE_SELF, &ru);

	qsort(crcs, count, sizeof(*crcs), cmp_ulong);
	all = crc32(0L, (const Bytef *)crcs, (uInt)(count * sizeof(*crcs)));
	if (crc_out != NULL) {
		FILE *c = fopen(crc_out, "w");

		for (unsigned long i = 0; c != NULL && i < count; i++)
			fprintf(c, "%08lx\n", (unsigned long)crcs[i]);
		if (c != NULL)
			fclose(c);
	}
	printf("RESULT msgs=%lu stat_octets=%lu bytes=%llu octet_mismatches=%lu uidl_lines=%lu "
	       "content_crc=%08lx login_s=%.4f stat_s=%.4f uidl_s=%.4f retr_s=%.4f quit_s=%.4f "
	       "close_s=%.4f session_s=%.4f client_cpu_s=%.3f",
	       count, total, (unsigned long long)bytes, mismatch, uidl_lines, (unsigned long)all,
	       t_login - t0, t_stat - t_login, t_uidl - t_stat, t_retr - t_uidl, t_quit - t_retr,
	       t_close - t_quit, t_close - t0, ru_s(&ru));
	if (mon_pid != 0)
		printf(" proc_pid=%d proc_cpu_s=%.3f proc_cpu_sampled_s=%.3f proc_hwm_kib=%ld "
		       "proc_hwm_before_quit_kib=%ld",
		       mon_pid, (double)(m_kids1 - m_kids0) / (double)hz,
		       (double)atomic_load(&mon_cpu) / (double)hz, atomic_load(&mon_hwm),
		       hwm_before_quit);
	printf("\n");
	return mismatch != 0;
}
