/*
 * Where a user's Sieve scripts come from, as Pigeonhole finds them from its
 * settings (sieve, sieve_default, sieve_before/after, sieve_global), and the
 * user's sieve log file. Used by roost-lda (before and inside its sandbox:
 * it only reads the configured paths) and by roostadm; paths come from the
 * administrator's configuration, script contents from users.
 */
#ifndef ROOST_SIEVE_FILES_H
#define ROOST_SIEVE_FILES_H

#include <stdbool.h>

#include "pool.h"
#include "sieve.h"

/* Pigeonhole rotates the user log when it grows past this. */
#define SIEVE_USER_LOG_MAX_SIZE (10 * 1024)

/* The scripts to run for one delivery, in order. */
struct sieve_script_files {
	const char *paths[SIEVE_MAX_SEQUENCE];
	unsigned int count;
	/* Index of the user's script (or the default script), -1 when none. */
	int user_index;
	bool user_is_default;
	/* Where :personal and :global includes are looked up (NULL: none). */
	const char *personal_dir;
	const char *global_dir;
	/* The user's log file (<user script>.log, or sieve_user_log). */
	const char *user_log;
};

/*
 * Resolves the settings for a user with home directory home (may be NULL
 * when the user has none; "~/" paths are then unusable). sieve_before and
 * sieve_after entries may be files or directories (every *.sieve file in
 * byte order); the user's script is the active script of the "sieve"
 * location, and sieve_default is used when that does not exist. Strings
 * are allocated from pool. Returns 0, or -1 with *error_r when a configured
 * location cannot be read (a missing user script is not an error).
 */
int sieve_script_files_resolve(const struct sieve_settings *set, const char *home,
			       struct pool *pool, struct sieve_script_files *out,
			       const char **error_r);

/*
 * Appends the error lines text to the user's log at path, starting the
 * log with a timestamp line when it is new, and moving a log larger than
 * SIEVE_USER_LOG_MAX_SIZE to PATH.0 first, as Pigeonhole does. Returns
 * false with *error_r when the file cannot be written.
 */
bool sieve_user_log_append(const char *path, const char *text, const char **error_r);

#endif
