/*
 * The system calls the mail store needs (Maildir work: create, rename,
 * link, unlink, fsync, scan, lock, watch). Every process that opens a
 * user's storage (roost-imap, roost-pop3, roost-lda) lists them in its
 * sandbox profile; Landlock confines them to the user's directories.
 * sysinfo is glibc's: qsort() asks for the amount of memory (sysconf
 * _SC_PHYS_PAGES) the first time it sorts more than 1 KiB, e.g. a list of
 * more than 64 mailboxes. fadvise64 starts reading message files ahead
 * when a sync must count their lines (maildir-sync.c, read_sizes).
 */
#ifndef ROOST_STORAGE_SYSCALLS_H
#define ROOST_STORAGE_SYSCALLS_H

#define MAIL_STORAGE_SYSCALLS                                                                      \
	"openat", "open", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat", \
		"renameat2", "link", "linkat", "fsync", "fdatasync", "getdents64", "ftruncate",    \
		"flock", "utimensat", "statx", "stat", "lstat", "access", "faccessat",             \
		"faccessat2", "readlink", "readlinkat", "fchmod", "fstatfs", "pread64",            \
		"pwrite64", "chdir", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",     \
		"sched_yield", "clock_nanosleep", "nanosleep", "sysinfo", "fadvise64",             \
		"fadvise64_64", "arm_fadvise64_64"

#endif
