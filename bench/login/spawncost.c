/*
 * Floor of "one fresh process per session" on this machine: forks and
 * execs a program N times (waiting for each) and prints the CPU time per
 * spawn, split into parent (fork) and child (exec, dynamic linking, the
 * program, exit), and the wall time. Not part of roost; a measuring tool
 * for bench/login/README.md.
 *
 * build: gcc -O2 -o spawncost spawncost.c
 * usage: spawncost N PROGRAM [ARGS...]   (the program's stdout goes to /dev/null)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double tv(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	struct rusage s0, s1, c0, c1;
	struct timespec w0, w1;
	int n;

	if (argc < 3) {
		fprintf(stderr, "usage: spawncost N PROGRAM [ARGS...]\n");
		return 2;
	}
	n = atoi(argv[1]);
	getrusage(RUSAGE_SELF, &s0);
	getrusage(RUSAGE_CHILDREN, &c0);
	clock_gettime(CLOCK_MONOTONIC, &w0);
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);

			dup2(fd, 1);
			execv(argv[2], argv + 2);
			_exit(127);
		}
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "child failed (status %d)\n", status);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &w1);
	getrusage(RUSAGE_SELF, &s1);
	getrusage(RUSAGE_CHILDREN, &c1);
	double parent = tv(s1.ru_utime) - tv(s0.ru_utime) + tv(s1.ru_stime) - tv(s0.ru_stime);
	double child_u = tv(c1.ru_utime) - tv(c0.ru_utime);
	double child_s = tv(c1.ru_stime) - tv(c0.ru_stime);
	double wall = (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9;

	printf("%s: %d spawns: per spawn parent %.0f us, child %.0f us (user %.0f, sys %.0f), "
	       "wall %.0f us\n",
	       argv[2], n, 1e6 * parent / n, 1e6 * (child_u + child_s) / n, 1e6 * child_u / n,
	       1e6 * child_s / n, 1e6 * wall / n);
	return 0;
}
