/*
 * ldabench: delivers a list of messages through an LDA the way Postfix's
 * pipe(8) does: one process per message, the message on its stdin (a pipe),
 * the LDA's argv fixed (-d USER -f SENDER ...), running as the mail user.
 * Prints one line per delivery (size, exit code, wall time, user and system
 * CPU and peak RSS from wait4's rusage, which spans every exec of the
 * process, so dovecot-lda's doveconf re-exec is counted) and a summary.
 *
 * usage: ldabench --list FILE --uid UID --gid GID [--concurrency N]
 *                 [--raw FILE] [--errlog FILE] -- LDA ARGS...
 * Build: gcc -O2 -Wall -static -o ldabench ldabench.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct result {
	size_t size;
	int status;
	double wall_ms, utime_ms, stime_ms;
	long maxrss_kib;
};

/* Static, so that the spawner stays small: see deliver(). */
static char copybuf[65536];

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double tv_ms(struct timeval tv)
{
	return tv.tv_sec * 1e3 + tv.tv_usec / 1e3;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static long self_status_kib(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':')
			v = strtol(line + klen + 1, NULL, 10);
	}
	if (f != NULL)
		fclose(f);
	return v;
}

/*
 * One delivery: fork, become the mail user, exec the LDA, feed its stdin
 * from the message file. wait4's ru_maxrss is the peak over the process's
 * whole life, which starts as our forked copy: the kernel carries the
 * pre-exec peak across execve. So the spawner is a small static program
 * that never holds a message in memory, and the child resets its peak
 * (clear_refs 5) before exec; the LDA's own peak is always above what is
 * left (reported as the spawner's RSS).
 */
static struct result deliver(const char *path, uid_t uid, gid_t gid, char **argv, int errfd)
{
	struct result r = {0};
	struct rusage ru;
	struct stat st;
	int p[2], status, fd;
	double t0;
	pid_t pid;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		die(path);
	r.size = (size_t)st.st_size;
	t0 = now_ms();
	if (pipe2(p, O_CLOEXEC) < 0)
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char *envp[] = {"PATH=/usr/bin:/bin", NULL};
		int c = open("/proc/self/clear_refs", O_WRONLY);

		if (c >= 0) {
			(void)write(c, "5", 1);
			close(c);
		}
		dup2(p[0], 0);
		dup2(errfd, 1);
		dup2(errfd, 2);
		if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
			_exit(126);
		if (chdir("/") < 0)
			_exit(126);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(p[0]);
	for (;;) {
		ssize_t n = read(fd, copybuf, sizeof(copybuf)), done = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		while (done < n) {
			ssize_t w = write(p[1], copybuf + done, (size_t)(n - done));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				goto stopped; /* the LDA stopped reading: its exit code says why */
			done += w;
		}
	}
stopped:
	close(fd);
	close(p[1]);
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR)
			die("wait4");
	}
	r.wall_ms = now_ms() - t0;
	r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r.utime_ms = tv_ms(ru.ru_utime);
	r.stime_ms = tv_ms(ru.ru_stime);
	r.maxrss_kib = ru.ru_maxrss;
	return r;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)n);

	return v[i >= n ? n - 1 : i];
}

int main(int argc, char **argv)
{
	const char *list = NULL, *raw = NULL, *errlog = "/dev/null";
	int conc = 1, i;
	long uid = -1, gid = -1;
	char **paths = NULL;
	size_t count = 0, alloc = 0;
	char line[4096];
	FILE *f;
	struct result *res;
	long spawner_rss;
	double t0, wall;
	int errfd;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else if (strcmp(argv[i], "--list") == 0 && i + 1 < argc)
			list = argv[++i];
		else if (strcmp(argv[i], "--uid") == 0 && i + 1 < argc)
			uid = atol(argv[++i]);
		else if (strcmp(argv[i], "--gid") == 0 && i + 1 < argc)
			gid = atol(argv[++i]);
		else if (strcmp(argv[i], "--concurrency") == 0 && i + 1 < argc)
			conc = atoi(argv[++i]);
		else if (strcmp(argv[i], "--raw") == 0 && i + 1 < argc)
			raw = argv[++i];
		else if (strcmp(argv[i], "--errlog") == 0 && i + 1 < argc)
			errlog = argv[++i];
		else {
			fprintf(stderr, "unknown argument %s\n", argv[i]);
			return 2;
		}
	}
	if (list == NULL || uid < 0 || gid < 0 || i >= argc || conc < 1) {
		fprintf(stderr, "usage: ldabench --list FILE --uid UID --gid GID [--concurrency N] "
				"[--raw FILE] [--errlog FILE] -- LDA ARGS...\n");
		return 2;
	}
	f = fopen(list, "r");
	if (f == NULL)
		die(list);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if (count == alloc) {
			alloc = alloc ? alloc * 2 : 256;
			paths = realloc(paths, alloc * sizeof(*paths));
		}
		paths[count++] = strdup(line);
	}
	fclose(f);
	errfd = open(errlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (errfd < 0)
		die(errlog);
	signal(SIGPIPE, SIG_IGN);
	/* Results come back through a shared anonymous file, one slot each. */
	{
		FILE *tmp = tmpfile();

		if (tmp == NULL || ftruncate(fileno(tmp), (off_t)(count * sizeof(*res))) < 0)
			die("tmpfile");
		res = mmap(NULL, count * sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED,
			   fileno(tmp), 0);
		if (res == MAP_FAILED)
			die("mmap");
	}
	spawner_rss = self_status_kib("VmRSS");
	t0 = now_ms();
	for (int w = 0; w < conc; w++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			for (size_t k = (size_t)w; k < count; k += (size_t)conc)
				res[k] = deliver(paths[k], (uid_t)uid, (gid_t)gid, argv + i, errfd);
			_exit(0);
		}
	}
	for (int w = 0; w < conc; w++)
		wait(NULL);
	wall = (now_ms() - t0) / 1e3;

	{
		double *wl = calloc(count, sizeof(double)), *cpu = calloc(count, sizeof(double)),
		       *rss = calloc(count, sizeof(double));
		double sum_cpu = 0, sum_u = 0, sum_s = 0, max_rss = 0;
		size_t ok = 0, bytes = 0;
		FILE *out = raw != NULL ? fopen(raw, "w") : NULL;

		if (out != NULL)
			fprintf(out, "# index size status wall_ms utime_ms stime_ms maxrss_kib\n");
		for (size_t k = 0; k < count; k++) {
			const struct result *r = &res[k];

			if (out != NULL)
				fprintf(out, "%zu %zu %d %.3f %.3f %.3f %ld\n", k, r->size,
					r->status, r->wall_ms, r->utime_ms, r->stime_ms,
					r->maxrss_kib);
			ok += r->status == 0;
			bytes += r->size;
			wl[k] = r->wall_ms;
			cpu[k] = r->utime_ms + r->stime_ms;
			rss[k] = (double)r->maxrss_kib;
			sum_cpu += cpu[k];
			sum_u += r->utime_ms;
			sum_s += r->stime_ms;
			if (rss[k] > max_rss)
				max_rss = rss[k];
		}
		if (out != NULL)
			fclose(out);
		qsort(wl, count, sizeof(double), cmp_double);
		qsort(cpu, count, sizeof(double), cmp_double);
		qsort(rss, count, sizeof(double), cmp_double);
		printf("RESULT deliveries=%zu ok=%zu failed=%zu concurrency=%d wall_s=%.3f "
		       "rate=%.1f "
		       "mb_s=%.2f cpu_ms_mean=%.3f utime_ms_mean=%.3f stime_ms_mean=%.3f "
		       "cpu_ms_p50=%.3f wall_ms_p50=%.2f wall_ms_p99=%.2f maxrss_kib_p50=%.0f "
		       "maxrss_kib_p99=%.0f maxrss_kib_max=%.0f maxrss_kib_min=%.0f "
		       "spawner_rss_kib=%ld\n",
		       count, ok, count - ok, conc, wall, (double)count / wall,
		       (double)bytes / wall / 1048576.0, sum_cpu / (double)count,
		       sum_u / (double)count, sum_s / (double)count, pct(cpu, count, 0.5),
		       pct(wl, count, 0.5), pct(wl, count, 0.99), pct(rss, count, 0.5),
		       pct(rss, count, 0.99), max_rss, rss[0], spawner_rss);
		{
			struct rusage self, kids;
			double drv;

			/* Workers and LDAs are all reaped below us: the driver's own
			   share is everything minus what the LDAs used. */
			getrusage(RUSAGE_SELF, &self);
			getrusage(RUSAGE_CHILDREN, &kids);
			drv = tv_ms(self.ru_utime) + tv_ms(self.ru_stime) + tv_ms(kids.ru_utime) +
			      tv_ms(kids.ru_stime) - sum_cpu;
			printf("DRIVER cpu_s=%.3f (fork, pipe writes, waits; not the LDAs)\n",
			       drv / 1e3);
		}
	}
	return 0;
}
