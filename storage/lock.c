/*
 * flock()-based locks with a timeout (see lock.h). Runs in the mail processes
 * as the mail user. Waiting is a poll with short sleeps rather than a
 * blocking call interrupted by a signal: library code must not touch the
 * process's signal handling, and the locks it guards are held briefly.
 * The sleeps stay short and vary: with fifty sessions waiting for one
 * mailbox, waiters whose sleeps had grown long kept missing the moments the
 * lock was free and waited seconds (bench/imap/mixed.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "xalloc.h"

struct lock_file {
	int fd;
	char *path;
};

/* Longest sleep between two tries, in microseconds. */
#define LOCK_MAX_SLEEP_US 2000

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int lock_file_acquire(const char *path, enum lock_mode mode, unsigned int timeout_ms,
		      struct lock_file **lock_r, struct mailbox_error *err)
{
	int op = mode == LOCK_MODE_EXCLUSIVE ? LOCK_EX : LOCK_SH;
	long long deadline = now_ms() + timeout_ms;
	unsigned int sleep_us = 100;
	unsigned int seed = (unsigned int)getpid() ^ (unsigned int)now_ms();
	struct stat st;
	int fd;

	*lock_r = NULL;
	/* Read-only: flock() needs no more, and closing a descriptor open for
	   writing would wake every IDLE watching the directory (IN_CLOSE_WRITE). */
	fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	if (fd < 0) {
		mailbox_error_errno(err, errno, "open(%s) failed", path);
		return -1;
	}
	/* A FIFO or device planted under the lock file's name must not block
	   or confuse us; only a regular file is a lock file. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		mailbox_error_set(err, MAILBOX_ERROR_TEMP, "%s: lock file is not a regular file",
				  path);
		return -1;
	}
	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			mailbox_error_errno(err, errno, "flock(%s) failed", path);
			close(fd);
			return -1;
		}
		if (now_ms() >= deadline) {
			close(fd);
			mailbox_error_set(err, MAILBOX_ERROR_LOCK_TIMEOUT,
					  "Timeout while waiting for lock (%s, %u ms)", path,
					  timeout_ms);
			return 0;
		}
		/* Between half and all of sleep_us, so that waiters spread out. */
		usleep(sleep_us / 2 + (unsigned int)rand_r(&seed) % (sleep_us / 2 + 1));
		if (sleep_us < LOCK_MAX_SLEEP_US)
			sleep_us *= 2;
	}
	*lock_r = i_calloc(1, sizeof(**lock_r));
	(*lock_r)->fd = fd;
	(*lock_r)->path = i_strdup(path);
	return 1;
}

void lock_file_release(struct lock_file **lock)
{
	if (*lock == NULL)
		return;
	/* close() drops the flock; no explicit LOCK_UN needed. */
	close((*lock)->fd);
	free((*lock)->path);
	I_FREE(*lock);
}

const char *lock_file_path(const struct lock_file *lock)
{
	return lock->path;
}
