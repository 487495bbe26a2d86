/*
 * roost-imap's confinement: one user's mail, nothing else. Landlock limits
 * the filesystem to the user's home and mail directories (added at session
 * start); seccomp allows file work but no new processes or network.
 */
#include "imap-sandbox.h"

static const char *const imap_syscalls[] = {
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

const struct sandbox_profile imap_sandbox = {
	.name = "imap",
	.syscalls = imap_syscalls,
	.landlock_fs = true,
	.landlock_net = true,
	.landlock_scope = true,
};
