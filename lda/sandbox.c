/*
 * roost-lda's confinement: once the user is known and the store is set up,
 * it may touch that user's mail and nothing else. Landlock limits the
 * filesystem to the user's home and mail directories; seccomp allows the
 * Maildir work (create, write, fsync, rename, lock, wait for a lock) and
 * reading the message, but no new processes, sockets or privileges.
 */
#include "lda-sandbox.h"
#include "storage/storage-syscalls.h"

static const char *const lda_syscalls[] = {
	/* Maildir work, with the same list as the mail processes: one store. */
	MAIL_STORAGE_SYSCALLS,
	NULL,
};

const struct sandbox_profile lda_sandbox = {
	.name = "lda",
	.syscalls = lda_syscalls,
	.landlock_fs = true,
	.landlock_net = true,
	.landlock_scope = true,
};

size_t lda_sandbox_paths(const struct mail_location *loc, const char *home, bool mountinfo,
			 struct sandbox_path paths[LDA_SANDBOX_PATHS_MAX])
{
	const char *dirs[] = {home, loc->root, loc->inbox, loc->index_dir, loc->control_dir};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (dirs[i] == NULL || dirs[i][0] == '\0')
			continue;
		paths[n].path = dirs[i];
		paths[n].access = SANDBOX_FS_READ | SANDBOX_FS_WRITE;
		n++;
	}
	if (mountinfo) {
		paths[n].path = "/proc/self/mountinfo";
		paths[n].access = SANDBOX_FS_READ;
		n++;
	}
	return n;
}
