/*
 * Advisory locks with timeouts for the mail store: flock() on a dedicated
 * lock file, so a lock vanishes with the process that held it (kill -9
 * included) and never outlives a crash as a dotlock would. Used by roost-imap,
 * roost-pop3 and roost-lda running as the mail user; the lock file's contents
 * are never read.
 */
#ifndef ROOST_LOCK_H
#define ROOST_LOCK_H

#include <stdbool.h>

#include "mailbox-error.h"

enum lock_mode {
	LOCK_MODE_SHARED,
	LOCK_MODE_EXCLUSIVE,
};

struct lock_file;

/*
 * Opens (creating it 0600 if needed) the lock file at path and locks it,
 * waiting at most timeout_ms milliseconds (0 = try once). Returns 1 with
 * *lock_r set on success, 0 on timeout (err: MAILBOX_ERROR_LOCK_TIMEOUT,
 * "Timeout while waiting for lock" plus the path), -1 on another error.
 * Locks taken twice by the same process through two calls are separate
 * (flock semantics): they conflict with each other.
 */
int lock_file_acquire(const char *path, enum lock_mode mode, unsigned int timeout_ms,
		      struct lock_file **lock_r, struct mailbox_error *err);
/* Unlocks, closes and frees; *lock becomes NULL. NULL is accepted. */
void lock_file_release(struct lock_file **lock);
/* The path given to lock_file_acquire (owned by the lock). */
const char *lock_file_path(const struct lock_file *lock);

#endif
