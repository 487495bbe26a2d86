/*
 * What one session's process would cost if it were forked (not exec'd) from
 * an initialised per-service parent: each iteration forks, and the child
 * confines itself the way roost-imap does at session start (Landlock on one
 * directory, a seccomp filter) and exits. The filter is compiled once, in
 * the parent, with libseccomp and exported as raw BPF, so the child only
 * loads it. A measuring tool for bench/login/README.md, not part of roost.
 *
 * build: gcc -O2 -o zygotecost zygotecost.c -lseccomp
 * usage: zygotecost N DIR [--no-sandbox] [--libseccomp]
 *   --no-sandbox  the child exits at once (fork + exit floor)
 *   --libseccomp  the child compiles and loads the filter itself (as roost does today)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Roughly roost-imap's allow-list: the common base plus file work. */
static const char *const allowed[] = {
	"read",
	"write",
	"readv",
	"writev",
	"close",
	"exit",
	"exit_group",
	"brk",
	"mmap",
	"munmap",
	"mremap",
	"mprotect",
	"madvise",
	"rt_sigreturn",
	"rt_sigprocmask",
	"rt_sigaction",
	"epoll_wait",
	"epoll_pwait",
	"epoll_ctl",
	"epoll_create1",
	"sendmsg",
	"recvmsg",
	"sendto",
	"recvfrom",
	"fstat",
	"newfstatat",
	"lseek",
	"getpid",
	"gettid",
	"clock_gettime",
	"getrandom",
	"futex",
	"fcntl",
	"timerfd_create",
	"timerfd_settime",
	"signalfd4",
	"openat",
	"mkdirat",
	"unlinkat",
	"renameat",
	"renameat2",
	"linkat",
	"fsync",
	"fdatasync",
	"getdents64",
	"ftruncate",
	"flock",
	"utimensat",
	"statx",
	"faccessat2",
	"faccessat",
	"readlinkat",
	"fchmod",
	"fstatfs",
	"pread64",
	"pwrite64",
	"chdir",
	"inotify_init1",
	"inotify_add_watch",
	"inotify_rm_watch",
	"sched_yield",
	NULL,
};

static scmp_filter_ctx build_filter(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);

	for (int i = 0; allowed[i] != NULL; i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		if (nr != __NR_SCMP_ERROR)
			seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	return ctx;
}

static void landlock(const char *dir)
{
	struct landlock_ruleset_attr attr = {
		.handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
				     LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR |
				     LANDLOCK_ACCESS_FS_REMOVE_DIR |
				     LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_REG |
				     LANDLOCK_ACCESS_FS_MAKE_DIR,
	};
	struct landlock_path_beneath_attr pb = {.allowed_access = attr.handled_access_fs};
	int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);

	if (rs < 0)
		_exit(3);
	pb.parent_fd = open(dir, O_PATH | O_CLOEXEC);
	if (pb.parent_fd < 0 ||
	    syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb, 0) < 0)
		_exit(4);
	close(pb.parent_fd);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_landlock_restrict_self, rs, 0) < 0)
		_exit(5);
	close(rs);
}

static double tv(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	int n, no_sandbox = 0, own_libseccomp = 0;
	struct sock_fprog prog = {0};
	struct rusage s0, s1, c0, c1;
	struct timespec w0, w1;

	if (argc < 3) {
		fprintf(stderr, "usage: zygotecost N DIR [--no-sandbox] [--libseccomp]\n");
		return 2;
	}
	n = atoi(argv[1]);
	for (int i = 3; i < argc; i++) {
		no_sandbox |= strcmp(argv[i], "--no-sandbox") == 0;
		own_libseccomp |= strcmp(argv[i], "--libseccomp") == 0;
	}
	if (!own_libseccomp) {
		/* Compile once; export the BPF program to a memory file and read it back. */
		scmp_filter_ctx ctx = build_filter();
		int fd = memfd_create("bpf", 0);
		off_t len;

		if (seccomp_export_bpf(ctx, fd) < 0)
			return 1;
		len = lseek(fd, 0, SEEK_END);
		prog.len = (unsigned short)(len / (off_t)sizeof(struct sock_filter));
		prog.filter = malloc((size_t)len);
		if (pread(fd, prog.filter, (size_t)len, 0) != len)
			return 1;
		close(fd);
		seccomp_release(ctx);
	}
	/* Give the parent a heap of the size an initialised roost-imap has. */
	char *heap = malloc(200 * 1024);
	memset(heap, 1, 200 * 1024);

	getrusage(RUSAGE_SELF, &s0);
	getrusage(RUSAGE_CHILDREN, &c0);
	clock_gettime(CLOCK_MONOTONIC, &w0);
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			if (!no_sandbox) {
				landlock(argv[2]);
				if (own_libseccomp) {
					scmp_filter_ctx ctx = build_filter();

					if (seccomp_load(ctx) < 0)
						_exit(6);
				} else if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) <
					   0) {
					_exit(6);
				}
			}
			/* Touch some heap, as a session would. */
			memset(heap, 2, 64 * 1024);
			_exit(0);
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
	double child = tv(c1.ru_utime) - tv(c0.ru_utime) + tv(c1.ru_stime) - tv(c0.ru_stime);
	double wall = (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9;

	printf("fork%s: %d: per process parent %.0f us, child %.0f us, wall %.0f us\n",
	       no_sandbox	? " + exit"
	       : own_libseccomp ? " + landlock + libseccomp compile+load + exit"
				: " + landlock + precompiled seccomp + exit",
	       n, 1e6 * parent / n, 1e6 * child / n, 1e6 * wall / n);
	return 0;
}
