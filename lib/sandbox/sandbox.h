/*
 * The only code in roost that changes privileges: uid/gid/groups, chroot,
 * capabilities, NO_NEW_PRIVS, rlimits, Landlock and seccomp. Each process
 * describes its confinement once, declaratively (a const profile next to its
 * main.c), and enters it with one call before reading untrusted input.
 */
#ifndef ROOST_SANDBOX_H
#define ROOST_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

enum sandbox_fs_access {
	SANDBOX_FS_READ = 0x01,	 /* read files, list directories */
	SANDBOX_FS_WRITE = 0x02, /* create, write, rename, remove files and directories */
};

struct sandbox_path {
	const char *path;
	unsigned int access; /* enum sandbox_fs_access bits */
};

/* A system call allowed only when argument arg_index equals value. */
struct sandbox_arg_rule {
	const char *syscall;
	unsigned int arg_index;
	uint64_t value;
};

struct sandbox_profile {
	const char *name;
	/* System calls allowed besides sandbox_base_syscalls; NULL-terminated. */
	const char *const *syscalls;
	const struct sandbox_arg_rule *arg_rules; /* terminated by a NULL syscall */
	/* Landlock: deny all filesystem access except the identity's paths. */
	bool landlock_fs;
	/* Landlock (ABI 4+): deny TCP bind and connect. */
	bool landlock_net;
	/* Landlock (ABI 6+): no abstract UNIX sockets or signals out of the domain. */
	bool landlock_scope;
};

/* What master decided for this particular process. */
struct sandbox_identity {
	bool change_user; /* false when master is not root (development) */
	uid_t uid;
	gid_t gid;
	const gid_t *groups; /* supplementary groups */
	size_t group_count;
	const char *chroot_dir;		  /* NULL = none */
	uint64_t vsz_limit;		  /* RLIMIT_AS in bytes, 0 = unlimited */
	uint64_t nofile_limit;		  /* RLIMIT_NOFILE, 0 = unchanged */
	const struct sandbox_path *paths; /* Landlock exceptions */
	size_t path_count;
};

/* System calls every sandboxed roost process needs (event loop, memory, IPC). */
extern const char *const sandbox_base_syscalls[];

/*
 * Applies the profile: rlimits, chroot, groups/gid/uid, empty capability
 * sets and bounding set, NO_NEW_PRIVS, non-dumpable, Landlock, seccomp, in
 * that order. Any failure is fatal: a process never runs half-confined.
 * Kernels without Landlock are logged once and tolerated.
 */
void sandbox_enter(const struct sandbox_profile *profile, const struct sandbox_identity *id);

/*
 * The two halves of sandbox_enter(), for processes that learn their
 * filesystem paths later (a pre-started mail process drops to the mail uid
 * at once, and confines itself to a user's home when it gets a session).
 * sandbox_confine() must follow before any untrusted input is read.
 */
void sandbox_drop_privileges(const struct sandbox_profile *profile,
			     const struct sandbox_identity *id);
void sandbox_confine(const struct sandbox_profile *profile, const struct sandbox_identity *id);

/*
 * master's own seccomp filter: a deny-list of system calls it never needs
 * (module loading, ptrace, mount, kexec, ...) answered with EPERM. Inherited
 * by every child, which then adds its own allow-list. As root, master also
 * narrows its bounding set to the capabilities a child uses before its own
 * privilege drop (set[ug]id, setpcap, sys_chroot, sys_resource, dac_*), so
 * that children inherit fewer to drop. Fatal on failure.
 */
void sandbox_master_restrict(void);

/* Writes the profile (syscalls, Landlock flags) in SECURITY.md's words. */
void sandbox_profile_describe(const struct sandbox_profile *profile, struct buf *out);

/* The Landlock ABI version of the running kernel, 0 when unavailable. */
int sandbox_landlock_abi(void);

#endif
