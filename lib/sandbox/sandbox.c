/*
 * sandbox_enter() and master's deny-list (see sandbox.h). Runs in every
 * roost process at start-up, as root when master is root. Each step is
 * checked; a process that cannot confine itself exits instead of serving.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"
#include "seccomp-bpf.h"

const char *const sandbox_base_syscalls[] = {
	"read",
	"write",
	"readv",
	"writev",
	"close",
	"exit",
	"exit_group",
	"brk",
	"munmap",
	"mremap",
	"madvise",
	"rt_sigreturn",
	"rt_sigprocmask",
	"epoll_wait",
	"epoll_pwait",
	"epoll_ctl",
	"clock_gettime",
	"gettimeofday",
	"time",
	"getpid",
	"gettid",
	"fstat",
	"newfstatat",
	"lseek",
	"fcntl",
	"recvmsg",
	"sendmsg",
	"recvfrom",
	"sendto",
	"getrandom",
	"restart_syscall",
	"futex",
	NULL,
};

/*
 * Landlock definitions newer than Debian 12's kernel headers; the values
 * are the kernel ABI and do not change.
 */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#define ROOST_LANDLOCK_ACCESS_FS_IOCTL_DEV    (1ULL << 15)
#define ROOST_LANDLOCK_ACCESS_NET_BIND_TCP    (1ULL << 0)
#define ROOST_LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#define ROOST_LANDLOCK_SCOPE_ABSTRACT_UNIX    (1ULL << 0)
#define ROOST_LANDLOCK_SCOPE_SIGNAL	      (1ULL << 1)

struct roost_landlock_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

int sandbox_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

static uint64_t landlock_fs_all(int abi)
{
	uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0..12 */

	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		all |= ROOST_LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return all;
}

static uint64_t landlock_fs_rights(unsigned int access, int abi, bool is_dir)
{
	uint64_t r = 0;

	if ((access & SANDBOX_FS_READ) != 0)
		r |= LANDLOCK_ACCESS_FS_READ_FILE | (is_dir ? LANDLOCK_ACCESS_FS_READ_DIR : 0);
	if ((access & SANDBOX_FS_WRITE) != 0) {
		r |= LANDLOCK_ACCESS_FS_WRITE_FILE;
		if (abi >= 3)
			r |= LANDLOCK_ACCESS_FS_TRUNCATE;
		if (is_dir) {
			r |= LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
			     LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG;
			if (abi >= 2)
				r |= LANDLOCK_ACCESS_FS_REFER;
		}
	}
	return r;
}

static void landlock_apply(const struct sandbox_profile *p, const struct sandbox_identity *id)
{
	struct roost_landlock_ruleset_attr attr = {0};
	size_t attr_size = sizeof(uint64_t);
	int abi = sandbox_landlock_abi();
	int ruleset;

	if (!p->landlock_fs && !p->landlock_net && !p->landlock_scope)
		return;
	if (abi == 0) {
		log_warning("Landlock is not available in this kernel (%s): %s continues with "
			    "seccomp%s only",
			    errno == EOPNOTSUPP ? "disabled at boot" : "not built in", p->name,
			    id->chroot_dir != NULL ? " and chroot" : "");
		return;
	}
	if (p->landlock_fs)
		attr.handled_access_fs = landlock_fs_all(abi);
	if (abi >= 4) {
		attr_size = 2 * sizeof(uint64_t);
		if (p->landlock_net)
			attr.handled_access_net = ROOST_LANDLOCK_ACCESS_NET_BIND_TCP |
						  ROOST_LANDLOCK_ACCESS_NET_CONNECT_TCP;
	}
	if (abi >= 6) {
		attr_size = sizeof(attr);
		if (p->landlock_scope)
			attr.scoped =
				ROOST_LANDLOCK_SCOPE_ABSTRACT_UNIX | ROOST_LANDLOCK_SCOPE_SIGNAL;
	}
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_size, 0);
	if (ruleset < 0)
		fatal("%s: landlock_create_ruleset() failed: %m", p->name);

	for (size_t i = 0; p->landlock_fs && i < id->path_count; i++) {
		struct landlock_path_beneath_attr rule;
		struct stat st;
		int fd = open(id->paths[i].path, O_PATH | O_CLOEXEC);

		if (fd < 0) {
			if (errno == ENOENT)
				continue; /* nothing to allow below a missing path */
			fatal("%s: Landlock: open(%s) failed: %m", p->name, id->paths[i].path);
		}
		if (fstat(fd, &st) < 0)
			fatal("%s: Landlock: fstat(%s) failed: %m", p->name, id->paths[i].path);
		rule.parent_fd = fd;
		rule.allowed_access =
			landlock_fs_rights(id->paths[i].access, abi, S_ISDIR(st.st_mode)) &
			attr.handled_access_fs;
		if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) <
		    0)
			fatal("%s: landlock_add_rule(%s) failed: %m", p->name, id->paths[i].path);
		close(fd);
	}
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0)
		fatal("%s: landlock_restrict_self() failed: %m", p->name);
	close(ruleset);
}

#ifdef ROOST_SANDBOX_DEBUG
/*
 * Debug filter for sanitizer builds: a forbidden call traps instead of
 * killing, the handler names it in the log and the call fails with ENOSYS.
 * Sanitizer runtimes make calls a release filter forbids; this way they are
 * seen instead of hidden, and the release filter is proven with the
 * release build.
 */
static char *trap_names[512];

static void sigsys_debug_handler(int signo, siginfo_t *si, void *uctx)
{
	ucontext_t *uc = uctx;
	int nr = si->si_syscall;
	char line[256];
	size_t len = 0;
	const char *name = nr >= 0 && nr < 512 && trap_names[nr] != NULL ? trap_names[nr] : "?";
	const char *parts[] = {"\001Esandbox: trapped forbidden system call ", name,
			       " (debug filter; the release filter kills the process)\n"};

	(void)signo;
	for (size_t i = 0; i < N_ELEMENTS(parts); i++) {
		for (const char *s = parts[i]; *s != '\0' && len < sizeof(line) - 1; s++)
			line[len++] = *s;
	}
	(void)!write(STDERR_FILENO, line, len);
#if defined(__x86_64__)
	uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
#else
	(void)uc;
#endif
}

static void sandbox_debug_prepare(void)
{
	struct sigaction sa = {0};

	for (int i = 0; i < 512; i++) {
		if (trap_names[i] == NULL)
			trap_names[i] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, i);
	}
	sa.sa_sigaction = sigsys_debug_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		fatal("sigaction(SIGSYS) failed: %m");
}
#define SECCOMP_DEFAULT_ACTION SECCOMP_RET_TRAP
#else
#define SECCOMP_DEFAULT_ACTION SECCOMP_RET_KILL_PROCESS
#endif

static void seccomp_apply(const struct sandbox_profile *p)
{
	struct sock_filter insns[SANDBOX_BPF_MAX_INSNS];
	size_t count = sandbox_bpf_build(p, (uint32_t)getpid(), SECCOMP_DEFAULT_ACTION, insns,
					 N_ELEMENTS(insns));

#ifdef ROOST_SANDBOX_DEBUG
	sandbox_debug_prepare();
#endif
	if (sandbox_bpf_load(insns, count) < 0)
		fatal("%s: loading the seccomp filter failed: %m", p->name);
}

static void set_rlimit(const char *profile, int resource, const char *name, uint64_t value)
{
	struct rlimit rl = {.rlim_cur = value, .rlim_max = value};

	if (setrlimit(resource, &rl) < 0)
		fatal("%s: setrlimit(%s, %llu) failed: %m", profile, name,
		      (unsigned long long)value);
}

/*
 * Empties the bounding set. Reading a capability is a bit test, dropping
 * one replaces the process's credentials, so only the capabilities still
 * present are dropped: master has already narrowed its own bounding set to
 * child_start_caps, which leaves a handful here instead of all 41. The
 * loop ends where the kernel stops knowing capability numbers.
 */
static void drop_bounding_set(const char *profile)
{
	for (int c = 0;; c++) {
		int present = prctl(PR_CAPBSET_READ, c, 0, 0, 0);

		if (present < 0 && errno == EINVAL && c > CAP_SETPCAP)
			break;
		if (present < 0)
			fatal("%s: reading capability %d of the bounding set failed: %m", profile,
			      c);
		if (present > 0 && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			fatal("%s: dropping capability %d from the bounding set failed: %m",
			      profile, c);
	}
}

/* Empties the effective, permitted, inheritable and ambient sets, and checks. */
static void clear_capabilities(const char *profile)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0)
		fatal("%s: clearing capabilities failed: %m", profile);
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	hdr.pid = 0;
	if (syscall(SYS_capget, &hdr, data) < 0)
		fatal("%s: capget() failed: %m", profile);
	for (size_t i = 0; i < N_ELEMENTS(data); i++) {
		if (data[i].effective != 0 || data[i].permitted != 0 || data[i].inheritable != 0)
			fatal("%s: capabilities remain after clearing them", profile);
	}
}

static void change_identity(const struct sandbox_profile *p, const struct sandbox_identity *id)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;

	if (setgroups(id->group_count, id->groups) < 0)
		fatal("%s: setgroups() failed: %m", p->name);
	if (setresgid(id->gid, id->gid, id->gid) < 0)
		fatal("%s: setresgid(%u) failed: %m", p->name, (unsigned int)id->gid);
	drop_bounding_set(p->name);
	if (setresuid(id->uid, id->uid, id->uid) < 0)
		fatal("%s: setresuid(%u) failed: %m", p->name, (unsigned int)id->uid);
	if (getresuid(&ruid, &euid, &suid) < 0 || ruid != id->uid || euid != id->uid ||
	    suid != id->uid || getresgid(&rgid, &egid, &sgid) < 0 || rgid != id->gid ||
	    egid != id->gid || sgid != id->gid)
		fatal("%s: uid/gid change did not take effect", p->name);
	/* Paranoia, as OpenSSH: getting root back must be impossible now. */
	if (id->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		fatal("%s: could regain root after dropping privileges", p->name);
}

void sandbox_drop_privileges(const struct sandbox_profile *p, const struct sandbox_identity *id)
{
	/* Files the C library would otherwise open lazily, after the chroot. */
	tzset();

	set_rlimit(p->name, RLIMIT_CORE, "RLIMIT_CORE", 0);
	if (id->nofile_limit != 0)
		set_rlimit(p->name, RLIMIT_NOFILE, "RLIMIT_NOFILE", id->nofile_limit);
#if defined(__SANITIZE_ADDRESS__)
		/* AddressSanitizer reserves terabytes of address space: no RLIMIT_AS. */
#else
	if (id->vsz_limit != 0)
		set_rlimit(p->name, RLIMIT_AS, "RLIMIT_AS", id->vsz_limit);
#endif
	if (id->chroot_dir != NULL) {
		if (chroot(id->chroot_dir) < 0)
			fatal("%s: chroot(%s) failed: %m", p->name, id->chroot_dir);
		if (chdir("/") < 0)
			fatal("%s: chdir(/) in chroot failed: %m", p->name);
	}
	if (id->change_user) {
		change_identity(p, id);
		clear_capabilities(p->name);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fatal("%s: prctl(PR_SET_NO_NEW_PRIVS) failed: %m", p->name);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fatal("%s: prctl(PR_SET_DUMPABLE) failed: %m", p->name);
}

void sandbox_confine(const struct sandbox_profile *p, const struct sandbox_identity *id)
{
	log_syslog_keep_connection();
	landlock_apply(p, id);
	seccomp_apply(p);
}

void sandbox_enter(const struct sandbox_profile *p, const struct sandbox_identity *id)
{
	sandbox_drop_privileges(p, id);
	sandbox_confine(p, id);
}

/*
 * What a child that master starts as root uses before it has dropped to its
 * own uid: changing identity (setgid, setuid), chroot, rlimits above the
 * inherited hard limit, emptying its bounding set (setpcap), and reaching
 * its chroot directory whatever the modes on the way (dac_*). Everything
 * else leaves master's bounding set at start: master itself keeps all of
 * its capabilities (the bounding set only limits what an execve() can
 * grant), and each child has fewer to drop.
 */
static const int child_start_caps[] = {
	CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_SETGID,	 CAP_SETUID,
	CAP_SETPCAP,	  CAP_SYS_CHROOT,      CAP_SYS_RESOURCE,
};

static void master_narrow_bounding_set(void)
{
	for (int c = 0;; c++) {
		int present = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
		bool keep = false;

		if (present < 0 && errno == EINVAL && c > CAP_SETPCAP)
			break;
		if (present < 0)
			fatal("master: reading capability %d of the bounding set failed: %m", c);
		for (size_t i = 0; i < N_ELEMENTS(child_start_caps); i++)
			keep = keep || child_start_caps[i] == c;
		if (present > 0 && !keep && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			fatal("master: dropping capability %d from the bounding set failed: %m", c);
	}
}

void sandbox_master_restrict(void)
{
	static const char *const denied[] = {
		"ptrace",
		"process_vm_readv",
		"process_vm_writev",
		"kexec_load",
		"kexec_file_load",
		"init_module",
		"finit_module",
		"delete_module",
		"mount",
		"umount2",
		"pivot_root",
		"swapon",
		"swapoff",
		"reboot",
		"acct",
		"bpf",
		"perf_event_open",
		"add_key",
		"request_key",
		"keyctl",
		"userfaultfd",
		"open_by_handle_at",
		"name_to_handle_at",
		"iopl",
		"ioperm",
		"settimeofday",
		"clock_settime",
		"adjtimex",
		"sethostname",
		"setdomainname",
		"syslog",
		"lookup_dcookie",
		"quotactl",
		"nfsservctl",
		"vhangup",
		"unshare",
		"setns",
		"fsopen",
		"fsmount",
		"move_mount",
		"open_tree",
		NULL,
	};
	scmp_filter_ctx ctx;

	if (geteuid() == 0)
		master_narrow_bounding_set();
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (ctx == NULL)
		fatal("master: seccomp_init() failed");
	/*
	 * As root the filter needs no NO_NEW_PRIVS (SECURITY.md: master has
	 * none), so that a child's NO_NEW_PRIVS says it has entered its own
	 * sandbox. Without root the kernel insists on it.
	 */
	if (geteuid() == 0 && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0)
		fatal("master: seccomp_attr_set(NNP) failed");
	for (size_t i = 0; denied[i] != NULL; i++) {
		int nr = seccomp_syscall_resolve_name(denied[i]);

		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0) < 0)
			fatal("master: seccomp_rule_add(%s) failed", denied[i]);
	}
	if (seccomp_load(ctx) < 0)
		fatal("master: seccomp_load() failed");
	seccomp_release(ctx);
}

void sandbox_profile_describe(const struct sandbox_profile *p, struct buf *out)
{
	(void)buf_printf(out, "profile: %s\nbase:", p->name);
	for (size_t i = 0; sandbox_base_syscalls[i] != NULL; i++)
		(void)buf_printf(out, " %s", sandbox_base_syscalls[i]);
	(void)buf_append_str(out, "\nsyscalls:");
	for (size_t i = 0; p->syscalls != NULL && p->syscalls[i] != NULL; i++)
		(void)buf_printf(out, " %s", p->syscalls[i]);
	for (size_t i = 0; p->arg_rules != NULL && p->arg_rules[i].syscall != NULL; i++)
		(void)buf_printf(out, " %s(arg%u=%llu)", p->arg_rules[i].syscall,
				 p->arg_rules[i].arg_index,
				 (unsigned long long)p->arg_rules[i].value);
	(void)buf_printf(out, "\nlandlock: fs=%s net=%s scope=%s\n",
			 p->landlock_fs ? "deny" : "off", p->landlock_net ? "deny" : "off",
			 p->landlock_scope ? "on" : "off");
}
