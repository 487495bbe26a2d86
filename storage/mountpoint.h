/*
 * Registered mountpoints: a state file listing one absolute path per line
 * (kept in state_dir by `roostadm mount add PATH`), and the check that a
 * mail root under a registered mountpoint is refused while that mountpoint
 * is not mounted, so nothing is ever created on the bare directory. Runs in
 * roostadm (edits) and the mail processes (checks); the state file is the
 * administrator's but is still parsed with limits.
 */
#ifndef ROOST_MOUNTPOINT_H
#define ROOST_MOUNTPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include "mailbox-error.h"

#define MOUNTPOINT_STATE_FILE "mounts"
#define MOUNTPOINT_FILE_MAX   (256 * 1024)
#define MOUNTPOINT_PATH_MAX   1024
#define MOUNTPOINT_COUNT_MAX  4096

struct mountpoint_list {
	char **paths;
	size_t count;
};

enum mountpoint_state {
	MOUNTPOINT_STATE_UNREGISTERED, /* not under any registered mountpoint */
	MOUNTPOINT_STATE_MOUNTED,
	MOUNTPOINT_STATE_NOT_MOUNTED,
};

/*
 * Reads state_file into list (a missing file is an empty list). Blank lines
 * and lines starting with '#' are skipped; other lines must be absolute
 * paths without "." or ".." components, else MAILBOX_ERROR_PARAMS naming
 * the line.
 */
bool mountpoint_list_read(const char *state_file, struct mountpoint_list *list,
			  struct mailbox_error *err);
/* Parses state file contents (for tests and fuzzing). */
bool mountpoint_list_parse(const char *data, size_t len, struct mountpoint_list *list,
			   struct mailbox_error *err);
void mountpoint_list_free(struct mountpoint_list *list);

/* Adds / removes path in state_file atomically (temporary file, fsync,
   rename). Adding a present path or removing an absent one is
   MAILBOX_ERROR_EXISTS / MAILBOX_ERROR_NOT_FOUND. Trailing '/' is dropped. */
bool mountpoint_add(const char *state_file, const char *path, struct mailbox_error *err);
bool mountpoint_remove(const char *state_file, const char *path, struct mailbox_error *err);

/* Whether something is mounted at path: its st_dev differs from its
   parent's, or /proc/self/mountinfo lists it (bind mounts). A path that
   does not exist is not mounted. */
bool mountpoint_is_mounted(const char *path);

/*
 * Finds the longest registered mountpoint that path is under (or equal
 * to) and says whether it is mounted; *mount_r (may be NULL) points at it.
 */
enum mountpoint_state mountpoint_check(const struct mountpoint_list *list, const char *path,
				       const char **mount_r);

#endif
